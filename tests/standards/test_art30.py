"""Records of processing (GDPR Art. 30), generated from the registry, for staff only."""

import csv
import io
import json

from django.urls import reverse

from accounts.models import WebhookEndpoint
from tests.factories import BrandFactory
from transparency import registry
from transparency.standards import art30


def test_every_registered_kind_is_in_the_records(db):
    doc = art30.records()

    covered = {k["kind"] for activity in doc["activities"] for k in activity["kinds"]}
    missing = {k.name for k in registry.all_kinds()} - covered
    assert not missing, f"kinds missing from the records of processing: {sorted(missing)}"
    rows = list(csv.DictReader(io.StringIO(art30.records_csv(doc))))
    assert {k.name for k in registry.all_kinds()} <= {r["kind"] for r in rows}


def test_each_purpose_is_an_activity_with_basis_recipients_retention_and_measures(db):
    brand = BrandFactory(name="Acme")
    WebhookEndpoint.objects.create(brand=brand, url="https://hooks.acme.example/candor", secret="s")

    doc = art30.records()

    by_purpose = {a["purpose"]: a for a in doc["activities"]}
    assert set(by_purpose) == set(registry.PURPOSES)
    assert by_purpose["service"]["legal_basis"] == "contract"
    assert "Acme" in by_purpose["cross_brand"]["recipients"]
    event = next(k for k in by_purpose["personalization"]["kinds"] if k["kind"] == "event")
    assert event["retention"] == {"retail": "Kept 1 year", "banking": "Kept 90 days"}
    assert {"brand": "Acme", "hosts": ["hooks.acme.example"]} in doc["recipients"]["webhooks"]
    assert any("ledger.Address.line1" in m for m in doc["security_measures"])


def test_staff_with_mfa_download_both_formats(staff_client):
    as_json = staff_client.get(reverse("art30_json"))
    as_csv = staff_client.get(reverse("art30_csv"))

    assert as_json.status_code == 200 and json.loads(as_json.content)["activities"]
    assert as_csv.status_code == 200 and as_csv["Content-Type"].startswith("text/csv")
    assert as_csv.content.decode().startswith("purpose,legal_basis,kind")


def test_customers_and_anonymous_visitors_cannot(alice_client, client):
    for url in (reverse("art30_json"), reverse("art30_csv")):
        assert alice_client.get(url).status_code == 302
    alice_client.logout()
    assert client.get(reverse("art30_json")).status_code == 302


def test_the_statement_links_them(client, db):
    page = client.get(reverse("transparency_statement")).content.decode()

    assert reverse("art30_csv") in page and reverse("art30_json") in page
