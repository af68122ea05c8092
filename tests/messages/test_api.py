"""POST /api/v1/messages and GET /api/v1/customers/{ref}: all-or-nothing batches, a fixed
set of destinations, and a read of current details the customer sees in their access log."""

import json

import pytest

from accounts.models import AuditEvent, PurposeConsent
from ledger.models import Message
from tests.factories import AddressFactory, PaymentMethodFactory

from .conftest import message

URL = "/api/v1/messages"


def post(client, brand, items):
    return client.post(
        URL, json.dumps({"items": items}), content_type="application/json", **brand.auth
    )


def test_a_batch_is_stored_with_candors_decision(client, ada, northwind):
    response = post(client, northwind, [message()])

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["stored"] == 1
    assert body["items"][0]["state"] == "scheduled" and body["items"][0]["channel"] == "email"
    row = Message.objects.get()
    assert row.customer == ada and row.why_channel.startswith("By email")


def test_the_same_external_id_is_stored_once(client, ada, northwind):
    post(client, northwind, [message()])
    response = post(client, northwind, [message(subject="Changed")])

    assert response.json()["duplicates"] == 1
    assert Message.objects.get().subject == "Your address on file doesn't match"


@pytest.mark.parametrize(
    ("item", "field"),
    [
        (
            message(action={"label": "Go", "destination": "https://evil.example"}),
            "action.destination",
        ),
        (
            message(action={"label": "Go", "destination": "address", "url": "https://x"}),
            "action.url",
        ),
        (message(body="x" * 2001), "body"),
        (message(category="newsletter"), "category"),
        (message(subject="two\nlines"), "subject"),
        (message(customer_ref="nobody"), "customer_ref"),
        (
            message(action={"label": "See it", "destination": "order", "ref": "no-such"}),
            "action.ref",
        ),
    ],
)
def test_refused_items_are_422_naming_item_and_field_and_store_nothing(
    client, ada, northwind, item, field
):
    response = post(client, northwind, [message(external_id="ok"), {**item, "external_id": "bad"}])

    assert response.status_code == 422, response.content
    assert response.json()["index"] == 1
    assert response.json()["field"] == field
    assert not Message.objects.exists()


def test_without_the_server_key_nothing_is_accepted(client, ada):
    response = client.post(URL, json.dumps({"items": [message()]}), content_type="application/json")

    assert response.status_code == 401


def test_marketing_is_withheld_while_contacting_you_is_off(client, ada, northwind):
    PurposeConsent.objects.create(customer=ada, purpose="contact", granted=False)

    response = post(client, northwind, [message(category="marketing")])

    assert response.json()["items"][0]["state"] == "suppressed"
    assert Message.objects.get().why_channel == "Not sent: you switched off “Contacting you”."


def test_the_brand_reads_current_details_limited_to_allowed_purposes(client, ada, northwind):
    AddressFactory(customer=ada, line1="1 New Street", is_default=True)
    PaymentMethodFactory(customer=ada, last4="4242")
    PurposeConsent.objects.create(customer=ada, purpose="contact", granted=False)

    response = client.get("/api/v1/customers/nw-ada", **northwind.auth)

    assert response.status_code == 200
    body = response.json()
    assert body["addresses"][0]["line1"] == "1 New Street"
    assert body["payment_methods"][0]["last4"] == "4242"
    assert "contact_preference" not in body  # its only purpose, contact, is off
    assert body["personal_details"]["email"] == "ada@example.org"  # also for service
    read = AuditEvent.objects.get(customer=ada, action="read")
    assert read.actor_brand_id == northwind.brand.pk and "address" in read.data_kind


def test_a_kind_switched_off_is_not_shared(client, ada, northwind):
    from accounts.models import KindSetting

    AddressFactory(customer=ada)
    KindSetting.objects.create(customer=ada, data_kind="address", in_use=False)

    body = client.get("/api/v1/customers/nw-ada", **northwind.auth).json()

    assert "addresses" not in body and "address" not in body["kinds"]


def test_another_brands_customer_is_not_found(client, ada, northwind):
    from tests.bridge import Brand

    other = Brand(slug="harbor", name="Harbor")

    assert client.get("/api/v1/customers/nw-ada", **other.auth).status_code == 404
