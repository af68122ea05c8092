from datetime import date, timedelta

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from ledger.models import PersonalFact
from tests.factories import BrandFactory, PersonalFactFactory

URL = reverse("dashboard:profile")


def _post(client, **values):
    data = {"legal_name": "", "birthday": "", "phone": "", "email": ""}
    data.update(values)
    return client.post(URL, data)


def _audits(customer, **filters):
    return AuditEvent.objects.filter(customer=customer, data_kind="personal_fact", **filters)


def test_it_sends_anonymous_visitors_to_login(client, db):
    for method in (client.get, client.post):
        response = method(URL)
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))


def test_it_shows_each_fact_with_its_source_brand_and_use(alice_client, alice):
    brand = BrandFactory(name="Northwind Bank")
    PersonalFactFactory(customer=alice, field="legal_name", value="Ada King")
    PersonalFactFactory(
        customer=alice,
        field="phone",
        value="+44 20 7946 0958",
        brand=brand,
        source="third_party",
        in_use=False,
    )

    page = alice_client.get(URL).content.decode()

    assert "Ada King" in page
    assert "Provided by you" in page
    assert "+44 20 7946 0958" in page
    assert "Northwind Bank" in page
    assert "Received from a partner brand or third party" in page
    assert "Kept, not used" in page
    assert "/static/css/ledger.css" in page


def test_it_shows_only_the_signed_in_customers_facts(alice_client, alice, bob):
    PersonalFactFactory(customer=bob, field="legal_name", value="Robert Secret")

    page = alice_client.get(URL).content.decode()

    assert "Robert Secret" not in page


def test_it_saves_given_details_as_provided_with_an_audit_row(alice_client, alice):
    response = _post(
        alice_client,
        legal_name="Ada Lovelace",
        birthday="1985-12-10",
        phone="+44 20 7946 0958",
        email="ada@example.com",
    )

    assert response.status_code == 302
    facts = {f.field: f for f in PersonalFact.objects.filter(customer=alice)}
    assert facts["legal_name"].value == "Ada Lovelace"
    assert facts["birthday"].value == "1985-12-10"
    assert facts["phone"].value == "+44 20 7946 0958"
    assert facts["email"].value == "ada@example.com"
    assert {f.source for f in facts.values()} == {"provided"}
    assert _audits(alice, action="create").count() == 4


def test_it_updates_a_changed_fact_and_takes_it_as_provided(alice_client, alice):
    brand = BrandFactory()
    PersonalFactFactory(
        customer=alice, field="legal_name", value="A. King", brand=brand, source="third_party"
    )

    _post(alice_client, legal_name="Ada King")

    fact = PersonalFact.objects.get(customer=alice, field="legal_name")
    assert (fact.value, fact.source, fact.brand) == ("Ada King", "provided", None)
    assert _audits(alice, action="update", object_ref="legal_name").count() == 1


def test_it_deletes_a_cleared_fact_with_an_audit_row(alice_client, alice):
    PersonalFactFactory(customer=alice, field="phone", value="+44 20 7946 0958")
    PersonalFactFactory(customer=alice, field="legal_name", value="Ada")

    _post(alice_client, legal_name="Ada")

    assert list(PersonalFact.objects.filter(customer=alice).values_list("field", flat=True)) == [
        "legal_name"
    ]
    assert _audits(alice, action="delete", object_ref="phone").count() == 1


def test_it_writes_nothing_when_nothing_changed(alice_client, alice):
    PersonalFactFactory(customer=alice, field="legal_name", value="Ada")
    before = AuditEvent.objects.count()

    response = _post(alice_client, legal_name="Ada")

    assert AuditEvent.objects.count() == before
    assert "Nothing changed" in alice_client.get(response.url).content.decode()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("birthday", (date.today() + timedelta(days=1)).isoformat(), "cannot be in the future"),
        ("birthday", "1815-13-40", "Enter a valid date"),
        ("phone", "call me maybe", "7 to 15 digits"),
        ("phone", "+44 (20) 7946", "7 to 15 digits"),
        ("phone", "12 34", "7 to 15 digits"),
        ("email", "not-an-email", "valid email"),
    ],
)
def test_it_rejects_bad_input_with_a_field_error_and_saves_nothing(
    alice_client, alice, field, value, message
):
    response = _post(alice_client, legal_name="Ada", **{field: value})

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not PersonalFact.objects.filter(customer=alice).exists()


def test_it_gives_a_staff_user_without_a_customer_record_a_clear_404(client, charlie):
    client.force_login(charlie)

    response = client.get(URL)

    assert response.status_code == 404
    assert b"No customer record" in response.content
