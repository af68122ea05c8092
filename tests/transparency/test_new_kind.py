"""Adding a data kind is one declaration plus its model: once registered, the kind is shown on
My data, exported and erased with the account, with nothing else touched.

The test declares its own kind over an existing customer-linked model (partner data, whose
own declaration is set aside for the test so no row is counted twice), then puts the
registry back exactly as it was.
"""

import json

import pytest
from django.urls import reverse

from accounts.models import Customer
from ledger.models import PartnerAttribute
from tests.factories import BrandFactory, PartnerAttributeFactory
from tests.transparency.test_export import body, reauthenticated
from transparency import registry, services
from transparency.registry import DataKind, Purpose, Source, Summary


@pytest.fixture
def notes_kind():
    """A kind declared only here: "Notes from partners", over ledger.PartnerAttribute."""
    saved = dict(registry._KINDS)
    registry.unregister("partner_attribute")
    kind = DataKind(
        name="partner_note",
        label="Notes from partners",
        model="ledger.PartnerAttribute",
        owner="customer",
        source=Source.THIRD_PARTY,
        purposes=(Purpose.THIRD_PARTY,),
        description="A test-only kind.",
        summary=Summary(lambda o: f"Note {o.name} from {o.partner_name}"),
        brand_field="brand",
        created_field="created_at",
    )
    registry.register(kind)
    try:
        yield kind
    finally:
        registry._KINDS.clear()
        registry._KINDS.update(saved)


@pytest.fixture
def notes(alice, bob):
    brand = BrandFactory(slug="acme", name="Acme")
    mine = PartnerAttributeFactory(customer=alice, brand=brand, name="shoe size")
    theirs = PartnerAttributeFactory(customer=bob, brand=brand, name="hat size")
    return mine, theirs


def test_a_new_kind_is_shown_on_my_data(notes_kind, notes, alice_client):
    mine, theirs = notes

    overview = alice_client.get(reverse("dashboard:data")).content.decode()
    page = alice_client.get(reverse("dashboard:data_kind", args=["partner_note"]))

    assert "Notes from partners" in overview
    assert page.status_code == 200
    assert f"Note shoe size from {mine.partner_name}" in page.content.decode()
    assert "hat size" not in page.content.decode()


def test_a_new_kind_is_in_the_json_export(notes_kind, notes, alice_client, password):
    mine, theirs = notes

    response = reauthenticated(alice_client, reverse("dashboard:data_export_json"), password)
    document = json.loads(body(response))

    kind = next(k for k in document["kinds"] if k["kind"] == "partner_note")
    assert kind["label"] == "Notes from partners"
    assert [item["id"] for item in kind["items"]] == [mine.pk]
    assert kind["items"][0]["fields"]["name"] == "shoe size"


def test_a_new_kind_is_erased_with_the_account(notes_kind, notes, alice):
    mine, theirs = notes

    receipt = services.account_erase(customer=Customer.objects.get(pk=alice.pk))

    assert receipt.kinds["partner_note"] == 1
    assert not PartnerAttribute.objects.filter(pk=mine.pk).exists()
    assert PartnerAttribute.objects.filter(pk=theirs.pk).exists()
