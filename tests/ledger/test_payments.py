import logging
import re
from datetime import date

import pytest
from django.db import connection
from django.urls import reverse

from ledger.models import PaymentMethod
from ledger.payments import CardError, LocalTestGateway, luhn_valid

CARDS = ["4242 4242 4242 4242", "5555555555554444"]
DIGIT_RUN = re.compile(r"\d{13,}")


def luhn_runs(text: str) -> list[str]:
    """Every 13-19 digit Luhn-valid run inside `text`, ignoring spaces and dashes."""
    found = []
    for run in DIGIT_RUN.findall(re.sub(r"[ \-]", "", text)):
        for size in range(13, min(19, len(run)) + 1):
            for start in range(len(run) - size + 1):
                if luhn_valid(run[start : start + size]):
                    found.append(run[start : start + size])
    return found


def dump_text_columns() -> str:
    """Every text/varchar value of every table, read with raw SQL."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            description = connection.introspection.get_table_description(cursor, table)
            columns = [
                col.name
                for col in description
                if connection.introspection.get_field_type(col.type_code, col)
                in {"CharField", "TextField", "SlugField", "EmailField", "URLField"}
                or "char" in str(col.type_code).lower()
                or "text" in str(col.type_code).lower()
            ]
            if not columns:
                continue
            quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
            cursor.execute(f"SELECT {quoted} FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                chunks.extend(str(v) for v in row if v is not None)
    return "\n".join(chunks)


def test_the_scanner_finds_a_card_number_when_there_is_one():
    assert "4242424242424242" in luhn_runs("paid with 4242-4242-4242-4242 today")
    assert luhn_runs("order 1234 on 2026-01-01") == []


def test_no_card_number_is_stored_or_logged_after_the_payment_flows(alice_client, alice, caplog):
    caplog.set_level(logging.DEBUG)
    url = reverse("dashboard:ledger_card_add")
    for number in CARDS:
        alice_client.post(
            url, {"number": number, "exp_month": "11", "exp_year": "2041", "cvc": "737"}
        )
    bad = alice_client.post(
        url, {"number": CARDS[0], "exp_month": "11", "exp_year": "2041", "cvc": "7"}
    )
    wrong = alice_client.post(
        url, {"number": "4242 4242 4242 4241", "exp_month": "1", "exp_year": "2041", "cvc": "737"}
    )
    saved_page = alice_client.get(reverse("dashboard:saved")).content.decode()

    assert PaymentMethod.objects.filter(customer=alice).count() == 2
    assert sorted(PaymentMethod.objects.values_list("last4", flat=True)) == ["4242", "4444"]
    assert bad.status_code == 200 and wrong.status_code == 200
    for page in (bad.content.decode(), wrong.content.decode(), saved_page):
        assert luhn_runs(page) == []
        assert "4242424242424241" not in re.sub(r"[ \-]", "", page)
    dump = dump_text_columns()
    assert luhn_runs(dump) == []
    assert luhn_runs(caplog.text) == []
    # The CVC as a value of its own, not three digits inside some random token or hash; a
    # failure shows each hit with its neighbourhood.
    cvc = re.compile(r"(?<![0-9A-Za-z_-])737(?![0-9A-Za-z_-])")
    assert [dump[max(0, m.start() - 40) : m.end() + 40] for m in cvc.finditer(dump)] == []


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("4242 4242 4242 4242", "visa"),
        ("5555-5555-5555-4444", "mastercard"),
        ("2223003122003222", "mastercard"),
        ("378282246310005", "amex"),
        ("6011111111111117", "discover"),
    ],
)
def test_the_local_gateway_tokenizes_a_valid_card(number, brand):
    cvc = "1234" if brand == "amex" else "123"

    card = LocalTestGateway().tokenize(number, 2, date.today().year + 1, cvc)

    assert card.brand == brand
    assert card.last4 == number.replace(" ", "").replace("-", "")[-4:]
    assert card.token.startswith("tok_")
    assert not any(ch.isdigit() for ch in card.token)
    assert card.token != LocalTestGateway().tokenize(number, 2, date.today().year + 1, cvc).token


@pytest.mark.parametrize(
    ("number", "month", "year", "cvc", "field"),
    [
        ("4242 4242 4242 4241", 1, 2040, "123", "number"),
        ("4242abcd42424242", 1, 2040, "123", "number"),
        ("424242424242", 1, 2040, "123", "number"),
        ("4242424242424242", 13, 2040, "123", "exp_month"),
        ("4242424242424242", 1, 2020, "123", "exp_year"),
        ("4242424242424242", 1, 2040, "12", "cvc"),
        ("378282246310005", 1, 2040, "123", "cvc"),
    ],
)
def test_the_local_gateway_refuses_a_bad_card_without_quoting_it(number, month, year, cvc, field):
    with pytest.raises(CardError) as caught:
        LocalTestGateway().tokenize(number, month, year, cvc)

    assert caught.value.field == field
    assert number not in str(caught.value)
    assert luhn_runs(str(caught.value)) == []
