"""The brand's whole record through the customers endpoint: facts, addresses, contact
preferences, consents and third-party data, each with its provenance, on My data and in
the export; the customer's corrections win; idempotent."""

import copy
import json

import pytest
from django.db import connection
from django.urls import reverse

from accounts.keys import server_key_create
from accounts.models import (
    AuditEvent,
    ConsentEvent,
    CustomerBrand,
    PurposeConsent,
    Sensitivity,
    WebhookDelivery,
)
from accounts.webhooks import webhook_endpoint_create
from ledger import services as ledger_services
from ledger.models import Address, ContactPreference, PartnerAttribute, PersonalFact
from tests.factories import BrandFactory
from tests.record import LATER, WHEN, full_record, push
from tests.transparency.test_export import body, reauthenticated
from transparency import services
from transparency.models import DeletionReceipt
from transparency.registry import get
from transparency.selectors import kind_items


def summaries(customer, kind: str) -> list[str]:
    return [i.summary for i in kind_items(customer=customer, kind=get(kind))[1]]


def test_every_field_round_trips_to_my_data_and_the_export_with_provenance(
    client, shopper, key, password
):
    response = push(client, key, full_record())
    assert response.status_code == 200, response.content
    assert response.json() == {
        "stored": 1,
        "duplicates": 0,
        "dropped": 0,
        "third_party_dropped": 0,
        "customer_values_kept": 0,
    }
    facts = {f.field: f for f in PersonalFact.objects.filter(customer=shopper)}
    assert {k: f.value for k, f in facts.items()} == {
        "legal_name": "Zebulon Quartermaine",
        "birthday": "1988-02-29",
        "email": "zeb.q@example.org",
        "phone": "+44 7700 900417",
    }
    assert {(f.set_by, f.set_at.isoformat()) for f in facts.values()} == {("brand", WHEN)}

    fact_lines = summaries(shopper, "personal_fact")
    assert "Contact email: zeb.q@example.org — set by Northwind on 12 May 2026" in fact_lines
    (address,) = summaries(shopper, "address")
    assert "17 Wisteria Crescent" in address and "set by Northwind on 12 May 2026" in address
    (contact,) = summaries(shopper, "contact_preference")
    assert contact.startswith("Contact by SMS (email no, sms yes)")
    (partner,) = summaries(shopper, "partner_attribute")
    assert partner == (
        "household income band: band-D-distinctive — from Acme Data Co via Northwind, "
        "obtained 12 May 2026 for personalized recommendations"
    )
    client.force_login(shopper.user)
    page = client.get(reverse("dashboard:data_kind", args=["partner_attribute"])).content.decode()
    assert "Acme Data Co" in page and "Received from a partner brand or third party" in page

    export = json.loads(
        body(reauthenticated(client, reverse("dashboard:data_export_json"), password))
    )
    kinds = {k["kind"]: k for k in export["kinds"]}
    exported_facts = {i["fields"]["field"]: i["fields"] for i in kinds["personal_fact"]["items"]}
    assert exported_facts["email"]["value"] == "zeb.q@example.org"
    assert exported_facts["email"]["set_by"] == "brand"
    assert exported_facts["email"]["set_at"] is not None
    (exported_address,) = kinds["address"]["items"]
    assert exported_address["fields"]["external_id"] == "addr-home"
    assert exported_address["fields"]["set_by"] == "brand"
    (exported_partner,) = kinds["partner_attribute"]["items"]
    assert exported_partner["fields"]["partner_name"] == "Acme Data Co"
    assert exported_partner["fields"]["value"] == "band-D-distinctive"
    assert kinds["partner_attribute"]["source"] == "third_party"
    assert exported_partner["retention_days"] == 365


def test_a_new_reference_gets_a_customer_with_the_record(client, key, northwind):
    response = push(client, key, full_record("nw-new"))
    assert response.json()["stored"] == 1
    customer = CustomerBrand.objects.get(brand=northwind, external_ref="nw-new").customer
    assert PersonalFact.objects.filter(customer=customer).count() == 4
    assert PartnerAttribute.objects.filter(customer=customer).count() == 1


@pytest.mark.postgres
def test_sensitive_values_are_ciphertext_in_raw_sql(client, shopper, key):
    push(client, key, full_record())
    ledger_services.personal_facts_update(
        customer=shopper,
        values={"phone": "+44 1632 960001"},
        actor=services.Actor.customer(shopper),
    )
    push(client, key, full_record())  # the brand's phone is kept beside the customer's
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT value, brand_sent_value FROM ledger_personalfact WHERE customer_id = %s",
            [shopper.pk],
        )
        facts = cursor.fetchall()
        cursor.execute(
            "SELECT recipient, line1, postal_code FROM ledger_address WHERE customer_id = %s",
            [shopper.pk],
        )
        addresses = cursor.fetchall()
        cursor.execute(
            "SELECT value FROM ledger_partnerattribute WHERE customer_id = %s", [shopper.pk]
        )
        partner = cursor.fetchall()
    raw = " ".join(str(v) for row in facts + addresses + partner for v in row if v)
    for plain in (
        "Zebulon",
        "zeb.q@",
        "1988-02-29",
        "7700 900417",
        "1632 960001",
        "Wisteria",
        "BA1 7QZ",
        "band-D",
    ):
        assert plain not in raw
    assert sum(1 for row in facts if row[1]) == 1  # the brand's phone, encrypted too
    assert all(v.startswith("gAAAA") for row in facts + addresses + partner for v in row if v)


def test_third_party_data_is_dropped_and_counted_while_the_purpose_is_off(client, shopper, key):
    item = full_record(consents=[])
    item["third_party"].append({**item["third_party"][0], "name": "car owner", "value": "yes"})

    response = push(client, key, item)

    assert response.status_code == 200
    assert response.json()["third_party_dropped"] == 2
    assert not PartnerAttribute.objects.exists()
    assert PersonalFact.objects.filter(customer=shopper).count() == 4  # the rest is kept


def test_a_banking_brands_third_party_enrichment_starts_off(client, db):
    bank = BrandFactory(slug="bank", name="Bank", sensitivity=Sensitivity.BANKING)
    bank_key = server_key_create(brand=bank)[1]

    response = push(client, bank_key, full_record("bk-1", consents=[]))

    assert response.json()["third_party_dropped"] == 1
    customer = CustomerBrand.objects.get(brand=bank).customer
    assert PurposeConsent.objects.get(customer=customer, purpose="third_party").granted is False
    # and its partner data, once allowed, is kept 90 days (the banking profile)
    services.purpose_set_granted(customer=customer, purpose="third_party", granted=True)
    push(client, bank_key, full_record("bk-1", consents=[]))
    (item,) = kind_items(customer=customer, kind=get("partner_attribute"))[1]
    assert (item.expires_at - item.collected_at).days == 90


def test_the_customers_correction_wins_and_the_brands_value_is_recorded(
    client, shopper, key, northwind
):
    webhook_endpoint_create(brand=northwind, url="https://nw.example/hooks", event_types=[])
    push(client, key, full_record())
    ledger_services.personal_facts_update(
        customer=shopper,
        values={"email": "zeb@own-domain.example"},
        actor=services.Actor.customer(shopper),
    )
    address = Address.objects.get(customer=shopper)
    ledger_services.address_update(
        address=address, actor=services.Actor.customer(shopper), line1="18 Wisteria Crescent"
    )
    ledger_services.contact_preference_set(
        customer=shopper,
        brand=northwind,
        channel="post",
        quiet_start=None,
        quiet_end=None,
        best_hour_override=None,
        actor=services.Actor.customer(shopper),
    )
    resent = full_record()
    resent["record"]["email"] = {"value": "zeb.q@example.org", "collected_at": LATER}

    response = push(client, key, resent)

    assert response.json()["customer_values_kept"] == 3
    email = PersonalFact.objects.get(customer=shopper, field="email")
    assert (email.value, email.set_by) == ("zeb@own-domain.example", "customer")
    assert (email.brand_sent_value, email.brand_sent_by) == ("zeb.q@example.org", northwind)
    assert Address.objects.get(pk=address.pk).line1 == "18 Wisteria Crescent"
    assert ContactPreference.objects.get(customer=shopper, brand=northwind).channel == "post"
    line = next(s for s in summaries(shopper, "personal_fact") if s.startswith("Contact email"))
    assert "set by you" in line
    assert "Northwind sent a different value (“zeb.q@example.org”) on 03 Jun 2026" in line
    told = [json.loads(d.payload)["data"] for d in WebhookDelivery.objects.order_by("pk")]
    updated = [d for d in told if d.get("kept") == "customer"]
    assert {(d["kind"], d.get("field"), d.get("external_id")) for d in updated} == {
        ("personal_fact", "email", None),
        ("address", None, "addr-home"),
        ("contact_preference", None, None),
    }
    assert all("zeb" not in json.dumps(d) for d in updated)  # never a value

    again = push(client, key, resent)  # the same push again: nothing new to record or tell
    assert again.json()["customer_values_kept"] == 0
    assert again.json()["duplicates"] == 1
    assert len([d for d in WebhookDelivery.objects.all() if "kept" in d.payload]) == 3


def test_a_later_brand_value_replaces_an_earlier_brand_value_but_not_the_reverse(
    client, shopper, key
):
    push(client, key, full_record())
    newer = full_record()
    newer["record"]["phone"] = {"value": "+44 7700 900999", "collected_at": LATER}
    push(client, key, newer)
    older = full_record()
    older["record"]["phone"] = {"value": "+44 7700 900111", "collected_at": WHEN}
    push(client, key, older)

    assert PersonalFact.objects.get(customer=shopper, field="phone").value == "+44 7700 900999"


def test_the_same_record_twice_is_stored_once(client, shopper, key):
    push(client, key, full_record())
    counts = {
        m.__name__: m.objects.count()
        for m in (PersonalFact, Address, ContactPreference, PartnerAttribute, ConsentEvent)
    }
    audit = AuditEvent.objects.count()

    response = push(client, key, full_record())

    assert response.json()["duplicates"] == 1 and response.json()["stored"] == 0
    assert counts == {
        m.__name__: m.objects.count()
        for m in (PersonalFact, Address, ContactPreference, PartnerAttribute, ConsentEvent)
    }
    assert AuditEvent.objects.count() == audit


def test_switching_partner_data_off_or_deleting_it_reaches_the_brand(
    client, shopper, key, northwind
):
    webhook_endpoint_create(brand=northwind, url="https://nw.example/hooks", event_types=[])
    push(client, key, full_record())
    row = PartnerAttribute.objects.get(customer=shopper)

    services.datapoint_set_in_use(
        customer=shopper, kind_name="partner_attribute", pk=row.pk, in_use=False
    )
    services.data_delete(customer=shopper, scope="point", kind_name="partner_attribute", pk=row.pk)

    told = [json.loads(d.payload) for d in WebhookDelivery.objects.order_by("pk")]
    use = next(t for t in told if t["type"] == "data.use_changed")
    assert use["data"]["external_id"] == "Acme Data Co/household income band"
    deleted = next(t for t in told if t["type"] == "data.deleted")
    assert deleted["data"]["kinds"]["partner_attribute"]["external_ids"] == [
        "Acme Data Co/household income band"
    ]


def test_an_address_id_of_another_customer_is_refused_and_nothing_is_stored(client, shopper, key):
    push(client, key, full_record())
    other = copy.deepcopy(full_record("nw-2"))

    response = push(client, key, other)

    assert response.status_code == 422
    assert (response.json()["index"], response.json()["field"]) == (
        0,
        "record.addresses.0.external_id",
    )
    assert not CustomerBrand.objects.filter(external_ref="nw-2").exists()


@pytest.mark.parametrize("size", [5, 50])
def test_a_batch_of_records_runs_a_constant_number_of_statements(
    client, key, size, django_assert_max_num_queries
):
    def batch(label):
        items = [full_record(f"{label}-{n}") for n in range(size)]
        for n, item in enumerate(items):
            item["record"]["addresses"][0]["external_id"] = f"{label}-addr-{n}"
        return items

    # New customers with full records, then the same again with later values (updates).
    with django_assert_max_num_queries(36):
        assert push(client, key, *batch("s")).json()["stored"] == size
    later = batch("s")
    for item in later:
        item["record"]["email"] = {"value": "new@example.org", "collected_at": LATER}
    with django_assert_max_num_queries(24):
        assert push(client, key, *later).json()["stored"] == size


def test_withdrawing_third_party_consent_deletes_the_partner_data_and_tells_the_brand(
    client, shopper, key, northwind
):
    webhook_endpoint_create(brand=northwind, url="https://nw.example/hooks", event_types=[])
    push(client, key, full_record())
    assert PartnerAttribute.objects.filter(customer=shopper).count() == 1

    changed = services.purpose_set_granted(customer=shopper, purpose="third_party", granted=False)

    assert changed is True
    assert not PartnerAttribute.objects.filter(customer=shopper).exists()
    receipt = DeletionReceipt.objects.get(customer=shopper)
    assert receipt.kinds == {"partner_attribute": 1}
    told = [json.loads(d.payload) for d in WebhookDelivery.objects.order_by("pk")]
    deleted = next(t for t in told if t["type"] == "data.deleted")
    assert deleted["data"]["kinds"]["partner_attribute"]["external_ids"] == [
        "Acme Data Co/household income band"
    ]
    # switching it off again, or off for another purpose, deletes nothing more
    assert (
        services.purpose_set_granted(customer=shopper, purpose="third_party", granted=False)
        is False
    )
    services.purpose_set_granted(customer=shopper, purpose="contact", granted=False)
    assert DeletionReceipt.objects.filter(customer=shopper).count() == 1
