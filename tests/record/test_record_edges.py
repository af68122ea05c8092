"""Edge values in a brand's record answer 422 naming the item and field, and store nothing."""

from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps

from accounts.keys import server_key_create
from accounts.models import CustomerBrand
from tests.factories import BrandFactory
from tests.record import full_record, push
from transparency import registry


def _set(path: str, value):
    """A full record with one value at a dotted path replaced."""

    def make(item):
        target = item
        parts = path.split(".")
        for part in parts[:-1]:
            target = target[int(part)] if part.isdigit() else target[part]
        target[parts[-1]] = value
        return item

    return make


TOMORROW_PLUS = (datetime.now(UTC) + timedelta(days=2)).isoformat()
CASES = {
    "birthday before 1900": ("record.birthday.value", "1899-12-31"),
    "birthday in the future": ("record.birthday.value", "2999-01-01"),
    "birthday not a date": ("record.birthday.value", "29/02/1988"),
    "collected before 1970": ("record.email.collected_at", "1969-12-31T23:59:59+00:00"),
    "collected in the future": ("record.phone.collected_at", TOMORROW_PLUS),
    "collected without a timezone": ("record.legal_name.collected_at", "2026-05-12T09:30:00"),
    "name too long": ("record.legal_name.value", "x" * 201),
    "empty name": ("record.legal_name.value", "  "),
    "NUL in a name": ("record.legal_name.value", "Zeb\x00"),
    "email without a domain": ("record.email.value", "zeb@"),
    "phone with letters": ("record.phone.value", "+44 77OO 900417"),
    "phone too short": ("record.phone.value", "12345"),
    "unknown country": ("record.addresses.0.country", "XX"),
    "lowercase country": ("record.addresses.0.country", "gb"),
    "postcode too long": ("record.addresses.0.postal_code", "1" * 21),
    "NUL in a street": ("record.addresses.0.line1", "17\x00 Wisteria"),
    "unknown channel": ("record.contact_preferences.0.channel", "pigeon"),
    "unknown purpose": ("consents.0.purpose", "marketing"),
    "empty wording version": ("consents.0.wording_version", ""),
    "where too long": ("consents.0.channel", "c" * 31),
    "partner name too long": ("third_party.0.partner", "p" * 101),
    "unknown partner purpose": ("third_party.0.purpose", "resale"),
    "partner value too long": ("third_party.0.value", "v" * 1001),
    "obtained before 1970": ("third_party.0.obtained_at", "1900-01-01T00:00:00Z"),
    "unknown field": ("record.nickname", "Zeb"),
}


def _counts() -> dict[str, int]:
    models = {k.get_model() for k in registry.all_kinds()}
    return {m._meta.label: m._base_manager.count() for m in models} | {
        "webhooks": apps.get_model("accounts.WebhookDelivery").objects.count()
    }


@pytest.fixture
def key(db):
    return server_key_create(brand=BrandFactory(slug="northwind", name="Northwind"))[1]


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_an_edge_value_is_refused_naming_item_and_field_and_nothing_is_stored(client, key, case):
    path, value = CASES[case]
    good = full_record("nw-good")
    bad = _set(path, value)(full_record("nw-bad"))
    before = _counts()

    response = push(client, key, good, bad)

    assert response.status_code == 422, response.content
    answer = response.json()
    assert answer["index"] == 1
    assert answer["field"] == path, answer
    assert _counts() == before
    assert not CustomerBrand.objects.exists()
    assert value not in response.content.decode() or len(str(value)) < 3  # never echoed


def test_duplicate_address_ids_in_one_record_are_refused(client, key):
    item = full_record()
    item["record"]["addresses"].append(dict(item["record"]["addresses"][0]))

    response = push(client, key, item)

    assert response.status_code == 422
    assert (response.json()["index"], response.json()["field"]) == (0, "record.addresses")
    assert not CustomerBrand.objects.exists()


def test_the_edges_themselves_are_accepted(client, key):
    item = full_record()
    item["record"]["birthday"]["value"] = "1900-01-01"
    item["record"]["legal_name"]["value"] = "x" * 200
    item["record"]["email"]["collected_at"] = "1970-01-01T00:00:00+00:00"
    item["record"]["addresses"][0]["country"] = "AX"  # Åland: a code, not a state
    item["third_party"][0]["value"] = ""

    response = push(client, key, item)

    assert response.status_code == 200, response.content
