"""Bulk inserts (accounts.bulk): what goes in comes back out, value for value, on SQLite
(executemany) and PostgreSQL (COPY text formatted a column at a time) alike."""

from datetime import UTC, datetime

import pytest
from django.db import transaction

from accounts.bulk import columns_insert, copy_text, now_db, rows_insert
from ledger.models import Event, Source
from tests.factories import BrandFactory, CustomerFactory, ProductFactory

FIELDS = ["customer_id", "product_id", "in_use", "kind", "value", "external_id", "occurred_at"]
AWKWARD = [
    "",
    "plain",
    "tab\there",
    "new\nline",
    "carriage\rreturn",
    "back\\slash \\N",
    "\\",
    'quote " and json {"a": "\\u2605"}',
    "★ ünïcödé 𝄞",
    "ends with backslash\\",
]


@pytest.fixture
def setting(db):
    brand = BrandFactory()
    customer = CustomerFactory(user__password=None)
    product = ProductFactory(brand=brand)
    return brand, customer, product


def _rows(customer, product):
    """Every awkward text, with mixed value types in one column (float, None, int-valued)."""
    when = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    values = [4.5, None, 1e-300, 3.0, -0.0, 1.7976931348623157e308, None, 2.5, 0.1, 5.0]
    return [
        (customer.pk, product.pk if i % 2 else None, i % 3 != 0, "view", value, text, when)
        for i, (value, text) in enumerate(zip(values, AWKWARD, strict=True))
    ]


def _stored(brand) -> list[tuple]:
    return sorted(
        Event.objects.filter(brand=brand).values_list(*FIELDS, "source"),
        key=lambda r: r[5],
    )


def _expected(rows) -> list[tuple]:
    return sorted(((*r, Source.OBSERVED) for r in rows), key=lambda r: r[5])


@pytest.mark.django_db(transaction=True)
def test_rows_insert_stores_every_value_as_given(setting):
    brand, customer, product = setting
    rows = _rows(customer, product)
    now = now_db()
    same = {"brand_id": brand.pk, "source": Source.OBSERVED, "created_at": now, "updated_at": now}
    same["query"] = ""  # (encrypted when the ORM writes it; empty stays empty)
    with transaction.atomic():
        rows_insert(Event, FIELDS, iter(rows), same=same)
    assert _stored(brand) == _expected(rows)


@pytest.mark.django_db(transaction=True)
def test_columns_insert_stores_the_same_rows_given_as_columns(setting):
    brand, customer, product = setting
    rows = _rows(customer, product)
    now = now_db()
    same = {"brand_id": brand.pk, "source": Source.OBSERVED, "created_at": now, "updated_at": now}
    same["query"] = ""  # (encrypted when the ORM writes it; empty stays empty)
    chunks = [list(zip(*rows[:4], strict=True)), list(zip(*rows[4:], strict=True)), []]
    with transaction.atomic():
        columns_insert(Event, FIELDS, iter(chunks), same=same)
    assert _stored(brand) == _expected(rows)


def test_copy_text_escapes_what_the_format_needs_and_nothing_else():
    rows = [(1, True, 2.5, "a\tb\\c\nd\re", None), (2, False, -0.0, "★", None)]
    (block,) = copy_text(rows, ("k",))
    assert block.decode() == ("1\tt\t2.5\ta\\tb\\\\c\\nd\\re\t\\N\tk\n2\tf\t-0.0\t★\t\\N\tk\n")


def test_copy_text_keeps_percent_signs_and_big_or_odd_numbers_as_they_are():
    # Each block is formatted with one %-format string: a value or constant holding "%"
    # must come through untouched, and numbers keep their exact text.
    rows = [
        (2**63 - 1, 1e-300, "100% %s %d", float("inf")),
        (-(2**63), 0.1 + 0.2, "%%", float("nan")),
    ]
    (block,) = copy_text(rows, ("50% off", 3))
    assert block.decode() == (
        f"{2**63 - 1}\t1e-300\t100% %s %d\tinf\t50% off\t3\n"
        f"{-(2**63)}\t0.30000000000000004\t%%\tnan\t50% off\t3\n"
    )


def test_copy_text_refuses_a_nul_and_unequal_columns():
    with pytest.raises(ValueError, match="NUL"):
        list(copy_text([(1, "a\x00b")]))
    with pytest.raises(ValueError):
        list(copy_text([(1, "a"), (2,)]))
