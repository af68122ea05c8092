"""Consents a brand collected itself: consent history with where and which wording, and
the stricter choice against what the customer set in Candor."""

import json

from accounts.models import ConsentEvent, CustomerBrand, PurposeConsent, WebhookDelivery
from accounts.webhooks import webhook_endpoint_create
from ledger.models import PartnerAttribute
from tests.factories import BrandFactory
from tests.record import LATER, WHEN, full_record, push
from tests.record.test_record import summaries
from transparency import services
from transparency.models import DeletionReceipt
from transparency.selectors import purpose_granted


def test_brand_collected_consent_is_history_with_channel_and_wording(client, shopper, key):
    services.purpose_set_granted(customer=shopper, purpose="contact", granted=False)
    item = full_record(
        consents=[
            {
                "purpose": "contact",
                "allowed": True,
                "collected_at": WHEN,
                "channel": "newsletter form",
                "wording_version": "2026-04",
            }
        ]
    )

    push(client, key, item)

    brand_row = ConsentEvent.objects.get(customer=shopper, collected_at__isnull=False)
    assert (brand_row.channel, brand_row.wording_version, brand_row.granted) == (
        "newsletter form",
        "2026-04",
        True,
    )
    # Stricter wins: the customer switched it off here, so it stays off.
    assert PurposeConsent.objects.get(customer=shopper, purpose="contact").granted is False
    history = summaries(shopper, "consent_history")
    assert (
        "Contacting you: given at Northwind's newsletter form on 12 May 2026 (wording 2026-04)"
        in history
    )
    assert "Contacting you switched off via dashboard" in history
    push(client, key, item)  # re-delivered: stored once
    assert ConsentEvent.objects.filter(customer=shopper, collected_at__isnull=False).count() == 1


def test_a_brand_collected_refusal_switches_a_purpose_off_and_tells_other_brands(
    client, shopper, key
):
    harbor = BrandFactory(slug="harbor", name="Harbor")
    CustomerBrand.objects.create(customer=shopper, brand=harbor, external_ref="hb-1")
    webhook_endpoint_create(brand=harbor, url="https://hb.example/hooks", event_types=[])
    refusal = {
        "purpose": "personalization",
        "allowed": False,
        "collected_at": WHEN,
        "channel": "checkout",
        "wording_version": "v3",
    }

    push(client, key, full_record(consents=[refusal]))

    assert PurposeConsent.objects.get(customer=shopper, purpose="personalization").granted is False
    (told,) = [json.loads(d.payload) for d in WebhookDelivery.objects.all()]
    assert told["type"] == "consent.changed"
    assert (told["data"]["customer_ref"], told["data"]["allowed"]) == ("hb-1", False)


def test_an_older_refusal_does_not_undo_a_later_consent_the_brand_collected(client, shopper, key):
    def consent(allowed, when):
        return {
            "purpose": "contact",
            "allowed": allowed,
            "collected_at": when,
            "channel": "checkout",
            "wording_version": "v3",
        }

    push(client, key, full_record(consents=[consent(True, LATER)]))
    assert purpose_granted(customer=shopper, purpose="contact") is True

    push(client, key, full_record(consents=[consent(False, WHEN)]))  # older, sent late

    assert purpose_granted(customer=shopper, purpose="contact") is True
    assert ConsentEvent.objects.filter(customer=shopper, collected_at__isnull=False).count() == 2


def test_third_party_data_the_customer_switched_off_here_is_dropped_even_if_the_brand_asked(
    client, shopper, key
):
    services.purpose_set_granted(customer=shopper, purpose="third_party", granted=True)
    services.purpose_set_granted(customer=shopper, purpose="third_party", granted=False)

    response = push(client, key, full_record())  # its consent says "allowed" at checkout

    assert response.json()["third_party_dropped"] == 1
    assert not PartnerAttribute.objects.exists()
    assert PurposeConsent.objects.get(customer=shopper, purpose="third_party").granted is False


def test_brand_collected_consents_are_in_the_hash_chain_with_channel_and_wording(
    client, shopper, key
):
    from accounts.consent_history import consent_event_digest
    from transparency.standards.chain import chain_verify

    services.purpose_set_granted(customer=shopper, purpose="contact", granted=False)
    push(client, key, full_record())
    assert chain_verify(customer_id=shopper.pk).ok

    row = ConsentEvent.objects.get(customer=shopper, collected_at__isnull=False)
    assert consent_event_digest(row) == row.hash
    row.wording_version = "v9"  # the wording and where are covered by the hash
    assert consent_event_digest(row) != row.hash


def test_a_third_party_refusal_the_brand_sends_deletes_the_partner_data_it_held(
    client, shopper, key, northwind
):
    """The brand's own record withdrawing third-party enrichment removes what was held only
    under it, with a receipt and `data.deleted`, as the customer's own switch does."""
    webhook_endpoint_create(brand=northwind, url="https://nw.example/hooks", event_types=[])
    push(client, key, full_record())
    assert PartnerAttribute.objects.filter(customer=shopper).count() == 1
    refusal = {
        "purpose": "third_party",
        "allowed": False,
        "collected_at": LATER,
        "channel": "preference centre",
        "wording_version": "v3",
    }

    response = push(client, key, full_record(consents=[refusal], third_party=[]))

    assert response.status_code == 200, response.content
    assert purpose_granted(customer=shopper, purpose="third_party") is False
    assert not PartnerAttribute.objects.filter(customer=shopper).exists()
    receipt = DeletionReceipt.objects.get(customer=shopper)
    assert receipt.kinds == {"partner_attribute": 1}
    told = [json.loads(d.payload) for d in WebhookDelivery.objects.order_by("pk")]
    deleted = [t for t in told if t["type"] == "data.deleted"]
    assert [d["data"]["kinds"] for d in deleted] == [
        {
            "partner_attribute": {
                "count": 1,
                "external_ids": ["Acme Data Co/household income band"],
                "external_ids_complete": True,
            }
        }
    ]
    # The same refusal again changes nothing and deletes nothing more.
    push(client, key, full_record(consents=[refusal], third_party=[]))
    assert DeletionReceipt.objects.filter(customer=shopper).count() == 1


def test_a_batch_of_third_party_refusals_costs_no_query_per_customer(client, key):
    """Refusals from customers who hold no partner data look that up once per kind, not
    once per customer."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    refusal = {
        "purpose": "third_party",
        "allowed": False,
        "collected_at": LATER,
        "channel": "preference centre",
        "wording_version": "v3",
    }

    def statements(label: str, size: int) -> int:
        items = [full_record(f"{label}-{n}", third_party=[]) for n in range(size)]
        for n, item in enumerate(items):
            item["record"]["addresses"][0]["external_id"] = f"{label}-addr-{n}"
        push(client, key, *items)  # the customers exist, third-party enrichment allowed
        for item in items:
            item["consents"] = [refusal]
        with CaptureQueriesContext(connection) as queries:
            assert push(client, key, *items).status_code == 200
        return len(queries)

    assert statements("a", 3) == statements("b", 30)
