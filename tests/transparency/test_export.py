"""Export: everything My data shows, nothing foreign, no secrets, behind re-authentication (C3)."""

import json

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from tests.factories import BrandFactory, ProductFactory
from tests.transparency.test_erasure import TOTP_SECRET, seed_every_kind
from transparency import registry, selectors
from transparency.models import DataRequest


@pytest.fixture
def seeded(alice, bob):
    brand = BrandFactory(slug="acme", name="Acme")
    product = ProductFactory(brand=brand)
    for customer in (alice, bob):
        seed_every_kind(customer, brand, product)
    return brand


def reauthenticated(client, url, password):
    response = client.get(url)
    if response.status_code == 200:  # still within the reauthentication window
        return response
    assert response.url.startswith(reverse("account_reauthenticate"))
    response = client.post(response.url, {"password": password})
    assert response.url == url
    return client.get(url)


def body(response) -> str:
    return b"".join(response.streaming_content).decode()


def dashboard_ids(customer) -> dict[str, set[int]]:
    """Every item id the My data pages show, page by page."""
    shown = {}
    for kind in registry.all_kinds():
        ids, number = set(), 1
        while True:
            page, items = selectors.kind_items(customer=customer, kind=kind, page=number)
            ids |= {item.pk for item in items}
            if not page.has_next():
                break
            number += 1
        shown[kind.name] = ids
    return shown


def test_export_needs_recent_reauthentication(alice_client, alice):
    for name in ("dashboard:data_export_json", "dashboard:data_export_html"):
        response = alice_client.get(reverse(name))

        assert response.status_code == 302
        assert response.url.startswith(reverse("account_reauthenticate"))
    assert not DataRequest.objects.exists()
    assert not AuditEvent.objects.filter(action="export").exists()


def test_the_json_export_covers_everything_shown_and_nothing_foreign(
    alice_client, alice, bob, seeded, password
):
    expected = dashboard_ids(alice)
    # Taken before the export adds its own access-log row and request.
    response = reauthenticated(alice_client, reverse("dashboard:data_export_json"), password)
    assert response["Content-Disposition"].startswith("attachment;")
    document = json.loads(body(response))

    exported = {k["kind"]: {item["id"] for item in k["items"]} for k in document["kinds"]}
    for name, ids in expected.items():
        assert ids <= exported[name], name
    foreign = dashboard_ids(bob)
    for name, ids in exported.items():
        assert not ids & foreign[name], name
    event_kind = next(k for k in document["kinds"] if k["kind"] == "event")
    assert event_kind["source"] == "observed"
    assert event_kind["purposes"] == [
        {
            "key": "personalization",
            "label": "Personalized recommendations",
            "legal_basis": "consent",
        }
    ]
    item = event_kind["items"][0]
    assert item["brand"] == "Acme" and item["collected_at"] and item["retention_days"] == 365
    assert item["delete_after"]


def test_no_secret_leaves_in_either_export(alice_client, alice, seeded, password):
    secrets = [alice.user.password, TOTP_SECRET.format("ALICE"), "tok_secret_alice"]
    secrets.append("sessionkeyalice")

    for name in ("dashboard:data_export_json", "dashboard:data_export_html"):
        text = body(reauthenticated(alice_client, reverse(name), password))
        assert "Legal Name Of alice" in text  # her own data is there
        assert "Legal Name Of bob" not in text
        for secret in secrets:
            assert secret not in text, (name, secret)


def test_each_export_is_logged_and_recorded_as_a_request(alice_client, alice, password):
    body(reauthenticated(alice_client, reverse("dashboard:data_export_html"), password))

    assert AuditEvent.objects.filter(customer=alice, action="export").count() == 1
    request = DataRequest.objects.get(customer=alice)
    assert (request.kind, request.state) == ("export", "done")
    assert request.deadline.month != request.received_at.month


def test_the_html_export_escapes_content(alice_client, alice, password):
    from ledger.models import Event

    brand = BrandFactory()
    Event.objects.create(
        customer=alice,
        brand=brand,
        kind="search",
        query="<script>x</script>",
        occurred_at="2026-01-01T00:00:00Z",
    )

    text = body(reauthenticated(alice_client, reverse("dashboard:data_export_html"), password))

    assert "<script>x</script>" not in text
    assert "&lt;script&gt;x&lt;/script&gt;" in text
