"""Every choice reaches the brand (D9): toggles, deletions and erasure become webhook
events naming only the brand's own references, kinds and ids; the brand confirms
deletions with its server key, and the receipt shows it, per brand."""

import json
from datetime import timedelta
from uuid import uuid4

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import CustomerBrand, WebhookDelivery
from accounts.webhook_dispatch import webhooks_dispatch
from ledger.models import Event, Order
from tests.factories import (
    AddressFactory,
    ContactPreferenceFactory,
    PaymentMethodFactory,
    PersonalFactFactory,
)
from transparency import bridge, connect, registry, services
from transparency.models import ErasureNotice, ReceiptScope


@pytest.fixture(autouse=True)
def _no_derived_work(monkeypatch):
    """Recompute and retrain requests are not what these tests look at."""
    for module in (services, connect):
        for name in ("customer_recompute_request", "brand_retrain_request"):
            monkeypatch.setattr(module.rec_services, name, lambda **kw: None)


@pytest.fixture
def connected(alice, northwind):
    """alice, connected to Northwind's record "nw-alice" (2 orders, 3 events)."""
    northwind.shell("nw-alice", orders=2, events=3)
    return connect.customer_connect(customer=alice, brand=northwind.brand, ref="nw-alice").customer


def _events(event_type=None) -> list[dict]:
    rows = WebhookDelivery.objects.order_by("pk")
    if event_type:
        rows = rows.filter(event_type=event_type)
    return [json.loads(d.payload) for d in rows]


def test_switching_a_purpose_off_tells_every_connected_brand(connected, northwind, harbor):
    CustomerBrand.objects.create(customer=connected, brand=harbor.brand, external_ref="hb-9")
    northwind.endpoint("https://nw.example/h")
    harbor.endpoint("https://hb.example/h")

    services.purpose_set_granted(customer=connected, purpose="personalization", granted=False)

    events = _events("consent.changed")
    assert sorted(e["data"]["customer_ref"] for e in events) == ["hb-9", "nw-alice"]
    assert all(e["data"]["purpose"] == "personalization" for e in events)
    assert all(e["data"]["allowed"] is False and e["data"]["at"] for e in events)


def test_switching_a_kind_off_names_the_kind(connected, northwind):
    northwind.endpoint("https://nw.example/h")

    services.kind_set_in_use(customer=connected, kind_name="event", in_use=False)

    (event,) = _events("data.use_changed")
    assert event["data"] == {
        "customer_ref": "nw-alice",
        "kind": "event",
        "external_id": None,
        "in_use": False,
        "at": event["data"]["at"],
    }


def test_switching_a_point_off_names_the_brands_own_id_for_it(connected, northwind):
    northwind.endpoint("https://nw.example/h")
    event = Event.objects.get(customer=connected, external_id="nw-alice-event-1")

    services.datapoint_set_in_use(customer=connected, kind_name="event", pk=event.pk, in_use=False)

    (told,) = _events("data.use_changed")
    assert (told["data"]["kind"], told["data"]["external_id"]) == ("event", "nw-alice-event-1")
    assert told["data"]["in_use"] is False


def test_deleting_a_point_sends_its_kind_count_and_external_id(connected, northwind):
    northwind.endpoint("https://nw.example/h")
    order = Order.objects.get(customer=connected, external_id="nw-alice-order-0")

    receipt = services.data_delete(
        customer=connected, scope=ReceiptScope.POINT, kind_name="order", pk=order.pk
    )

    (event,) = _events("data.deleted")
    notice = ErasureNotice.objects.get(receipt=receipt)
    assert event["data"]["erasure_id"] == str(notice.public_id)
    assert event["data"]["scope"] == "point"
    assert event["data"]["kinds"] == {
        "order": {
            "count": 1,
            "external_ids": ["nw-alice-order-0"],
            "external_ids_complete": True,
        }
    }


def test_deleting_everything_a_brand_holds_ends_the_connection_and_tells_it(
    connected, northwind, harbor
):
    CustomerBrand.objects.create(customer=connected, brand=harbor.brand, external_ref="hb-9")
    northwind.endpoint("https://nw.example/h")

    services.data_delete(customer=connected, scope=ReceiptScope.BRAND, brand_id=northwind.brand.pk)

    assert not CustomerBrand.objects.filter(customer=connected, brand=northwind.brand).exists()
    assert CustomerBrand.objects.filter(customer=connected, brand=harbor.brand).exists()
    (event,) = _events("data.deleted")
    assert event["data"]["customer_ref"] == "nw-alice"
    assert event["data"]["scope"] == "brand"
    kinds = event["data"]["kinds"]
    assert kinds["order"]["count"] == 2 and kinds["event"]["count"] == 3
    assert sorted(kinds["event"]["external_ids"]) == [f"nw-alice-event-{i}" for i in range(3)]
    assert kinds["brand_link"] == {"count": 1}


def test_erasing_the_account_tells_each_brand_with_an_id_to_confirm(connected, northwind, harbor):
    CustomerBrand.objects.create(customer=connected, brand=harbor.brand, external_ref="hb-9")
    northwind.endpoint("https://nw.example/h")
    harbor.endpoint("https://hb.example/h")

    receipt = services.account_erase(customer=connected)

    events = _events("customer.erased")
    assert sorted(e["data"]["customer_ref"] for e in events) == ["hb-9", "nw-alice"]
    notices = {str(n.public_id) for n in ErasureNotice.objects.filter(receipt=receipt)}
    assert {e["data"]["erasure_id"] for e in events} == notices


def test_no_payload_carries_a_personal_value(alice, northwind, receiver):
    """Seed distinctive values, make every kind of choice, scan every body sent."""
    northwind.endpoint(receiver.url)
    northwind.shell("nw-7781", orders=2, events=3)
    joined = connect.customer_connect(customer=alice, brand=northwind.brand, ref="nw-7781")
    connected = joined.customer
    secrets = {
        "legal": "Zebulon Quartermaine",
        "phone": "+44 7700 900417",
        "street": "17 Wisteria Crescent",
        "city": "Llanfairpwllgwyngyll",
        "search": "orthopaedic-insoles-xq",
        "username": connected.user.username,
        "card": "tok_visa_distinctive_991",
    }
    brand = northwind.brand
    PersonalFactFactory(customer=connected, brand=brand, field="legal_name", value=secrets["legal"])
    PersonalFactFactory(customer=connected, brand=brand, field="phone", value=secrets["phone"])
    AddressFactory(customer=connected, brand=brand, line1=secrets["street"], city=secrets["city"])
    PaymentMethodFactory(customer=connected, brand=brand, processor_token=secrets["card"])
    ContactPreferenceFactory(customer=connected, brand=brand)
    Event.objects.filter(customer=connected).update(query=secrets["search"])
    event = Event.objects.filter(customer=connected).first()

    services.purpose_set_granted(customer=connected, purpose="contact", granted=False)
    services.kind_set_in_use(customer=connected, kind_name="address", in_use=False)
    services.datapoint_set_in_use(customer=connected, kind_name="event", pk=event.pk, in_use=False)
    services.data_delete(
        customer=connected, scope=ReceiptScope.POINT, kind_name="event", pk=event.pk
    )
    services.data_delete(customer=connected, scope=ReceiptScope.KIND, kind_name="personal_fact")
    services.data_delete(customer=connected, scope=ReceiptScope.BRAND, brand_id=brand.pk)
    CustomerBrand.objects.create(customer=connected, brand=brand, external_ref="nw-7781")
    services.account_erase(customer=connected)
    webhooks_dispatch()

    bodies = [r["body"].decode() for r in receiver.requests]
    types = {json.loads(b)["type"] for b in bodies}
    assert types == {
        "customer.connected",
        "consent.changed",
        "data.use_changed",
        "data.deleted",
        "customer.erased",
    }
    leaks = [(name, b) for b in bodies for name, value in secrets.items() if value in b]
    assert leaks == []


# --- the brand's confirmation --------------------------------------------------------------


def _erase(connected, northwind):
    northwind.endpoint("https://nw.example/h")
    receipt = services.account_erase(customer=connected)
    return receipt, ErasureNotice.objects.get(receipt=receipt)


def _notices(page: str) -> str:
    """The receipt's "What each brand was told" list."""
    start = page.index('<ul class="receipt-notices">')
    return page[start : page.index("</ul>", start)]


def _confirm(client, brand, notice_id):
    return client.post(f"/api/v1/erasures/{notice_id}/confirm", **brand.auth)


def test_the_brand_confirms_an_erasure_with_its_server_key(client, connected, northwind):
    receipt, notice = _erase(connected, northwind)

    first = _confirm(client, northwind, notice.public_id)
    again = _confirm(client, northwind, notice.public_id)

    assert first.status_code == 200
    assert first.json()["id"] == str(notice.public_id)
    assert again.json()["confirmed_at"] == first.json()["confirmed_at"]  # idempotent
    notice.refresh_from_db()
    assert notice.confirmed_at is not None


def test_another_brands_key_cannot_confirm_it(client, connected, northwind, harbor):
    _, notice = _erase(connected, northwind)

    assert _confirm(client, harbor, notice.public_id).status_code == 404
    assert _confirm(client, harbor, uuid4()).status_code == 404
    assert client.post(f"/api/v1/erasures/{notice.public_id}/confirm").status_code == 401
    notice.refresh_from_db()
    assert notice.confirmed_at is None


def test_the_receipt_shows_requested_delivered_and_confirmed_per_brand(
    client, connected, northwind, receiver
):
    northwind.endpoint(receiver.url)
    receipt = services.account_erase(customer=connected)
    notice = ErasureNotice.objects.get(receipt=receipt)
    url = f"/receipts/{receipt.public_id}/"

    waiting = client.get(url).content.decode()
    webhooks_dispatch()
    _confirm(client, northwind, notice.public_id)
    done = client.get(url).content.decode()

    assert "deletion requested at" in waiting and "not delivered yet" in waiting
    assert "waiting for the brand's confirmation since" in waiting
    assert "delivered at" in _notices(done) and "confirmed by the brand at" in _notices(done)
    # Nobody is signed in: the receipt names no brand.
    assert "Northwind" not in _notices(done) and "Brand 1" in _notices(done)


def test_the_owner_sees_the_brand_named_on_a_deletion_receipt(client, connected, northwind):
    northwind.endpoint("https://nw.example/h")
    order = Order.objects.filter(customer=connected).first()
    receipt = services.data_delete(
        customer=connected, scope=ReceiptScope.POINT, kind_name="order", pk=order.pk
    )
    url = f"/receipts/{receipt.public_id}/"

    anonymous = client.get(url).content.decode()
    client.force_login(connected.user)
    owner = client.get(url).content.decode()

    assert "Northwind Outfitters" in _notices(owner)
    assert "Northwind" not in _notices(anonymous)


def test_staff_find_deletions_a_brand_has_not_confirmed_past_the_threshold(
    staff_client, connected, northwind, settings
):
    settings.ERASURE_CONFIRMATION_DAYS = 7
    _, late = _erase(connected, northwind)
    ErasureNotice.objects.filter(pk=late.pk).update(requested_at=timezone.now() - timedelta(days=8))

    page = staff_client.get("/admin/transparency/erasurenotice/?confirmation=late")

    assert page.status_code == 200
    assert str(late.public_id) in page.content.decode()
    bridge.erasure_confirm(brand=northwind.brand, public_id=late.public_id)
    page = staff_client.get("/admin/transparency/erasurenotice/?confirmation=late")
    assert str(late.public_id) not in page.content.decode()


def test_notices_and_deliveries_hold_no_customer_link(connected, northwind):
    _erase(connected, northwind)

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM transparency_erasurenotice")
        columns = [c[0] for c in cursor.description]
    assert "customer_id" not in columns


def test_a_retention_sweep_tells_each_brand_whose_rows_went(connected, northwind, harbor):
    """Retention is not the customer's choice, but the brand still hears what went and by
    which cut-off, so its own copies can go by the same rule; a brand that lost nothing hears
    nothing."""
    CustomerBrand.objects.create(customer=connected, brand=harbor.brand, external_ref="hb-9")
    northwind.endpoint("https://nw.example/h")
    harbor.endpoint("https://hb.example/h")
    field = registry.get("event").created_field
    now = timezone.now()
    Event.objects.filter(customer=connected).update(**{field: now - timedelta(days=400)})

    services.retention_sweep(now=now)

    (event,) = _events("data.deleted")
    assert event["data"]["customer_ref"] == "nw-alice"
    assert event["data"]["scope"] == "retention"
    days = registry.get("event").retention_for(northwind.brand.sensitivity)
    assert event["data"]["kinds"] == {
        "event": {"count": 3, "older_than": bridge.iso(now - timedelta(days=days))}
    }
    notice = ErasureNotice.objects.get(public_id=event["data"]["erasure_id"])
    assert notice.receipt.scope == ReceiptScope.RETENTION


def _sweep_queries(northwind, harbor, n: int) -> tuple[int, int]:
    """Statements of a retention sweep that removes events of ``n`` brand records (each
    known to Northwind and Harbor), and the data.deleted deliveries it queued."""
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    refs = [f"sweep-{n}-{i}" for i in range(n)]
    for ref in refs:
        shell = northwind.shell(ref, orders=0, events=2)
        CustomerBrand.objects.create(customer=shell, brand=harbor.brand, external_ref=f"h-{ref}")
    field = registry.get("event").created_field
    now = timezone.now()
    Event.objects.filter(external_id__startswith="sweep-").update(
        **{field: now - timedelta(days=400)}
    )
    before = WebhookDelivery.objects.filter(event_type="data.deleted").count()
    with CaptureQueriesContext(db) as captured:
        services.retention_sweep(now=now)
    told = WebhookDelivery.objects.filter(event_type="data.deleted").count() - before
    return len(captured.captured_queries), told


def test_a_retention_sweep_tells_brands_in_statements_that_do_not_grow_with_customers(
    northwind, harbor
):
    """A sweep can remove the rows of a million customers: the notices and deliveries it
    queues are written in bulk, not one round of statements per customer and brand."""
    northwind.endpoint("https://nw.example/h")
    harbor.endpoint("https://hb.example/h")
    few, told_few = _sweep_queries(northwind, harbor, 2)
    many, told_many = _sweep_queries(northwind, harbor, 12)
    assert (told_few, told_many) == (2, 12)  # Harbor lost nothing of its own: not told
    assert ErasureNotice.objects.count() == 14
    assert many == few
