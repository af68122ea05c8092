"""Webhooks to brands (Standard Webhooks): signed, verified with the library, delivered at
least once and in order per customer, retried with backoff, bounded, and never carrying a
personal value."""

import json
from datetime import timedelta

import httpx
import pytest
from django.db import connection, transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from accounts import webhook_dispatch, webhooks
from accounts.models import DeliveryState, WebhookDelivery, WebhookEndpoint
from accounts.webhook_dispatch import webhooks_dispatch
from accounts.webhooks import webhook_emit
from tests.bridge import Receiver


def _emit(brand, ref="nw-1", event_type="consent.changed", **data):
    with transaction.atomic():
        return webhook_emit(
            brand_id=brand.brand.pk,
            customer_ref=ref,
            event_type=event_type,
            data=data or {"purpose": "personalization", "allowed": False},
        )


def _due_now():
    WebhookDelivery.objects.filter(state=DeliveryState.PENDING).update(
        next_attempt_at=timezone.now()
    )


def test_each_delivery_verifies_with_the_standardwebhooks_library(northwind, receiver):
    _, secret = northwind.endpoint(receiver.url)
    event_id = _emit(northwind)

    result = webhooks_dispatch()

    assert result.delivered == 1
    request = receiver.requests[0]
    event = Webhook(secret).verify(request["body"], request["headers"])
    assert event["type"] == "consent.changed"
    assert event["data"] == {
        "customer_ref": "nw-1",
        "purpose": "personalization",
        "allowed": False,
    }
    assert request["headers"]["webhook-id"] == event_id
    assert request["headers"]["content-type"] == "application/json"


def test_a_delivery_signed_with_another_secret_does_not_verify(northwind, receiver):
    from standardwebhooks.webhooks import WebhookVerificationError

    northwind.endpoint(receiver.url)
    _emit(northwind)
    webhooks_dispatch()

    request = receiver.requests[0]
    with pytest.raises(WebhookVerificationError):
        Webhook(webhooks.webhook_secret_new()).verify(request["body"], request["headers"])


def test_a_failing_receiver_gets_the_event_again_with_the_same_id_until_it_recovers(northwind):
    receiver = Receiver(answers=[500, 503])
    try:
        _, secret = northwind.endpoint(receiver.url)
        event_id = _emit(northwind)

        for _ in range(3):
            webhooks_dispatch()
            _due_now()

        delivery = WebhookDelivery.objects.get()
        assert delivery.state == DeliveryState.DELIVERED
        assert delivery.attempts == 3
        assert delivery.last_status_code == 204
        assert delivery.payload == ""  # the body goes once delivered
        assert [r["headers"]["webhook-id"] for r in receiver.requests] == [event_id] * 3
        for request in receiver.requests:
            Webhook(secret).verify(request["body"], request["headers"])
    finally:
        receiver.stop()


def test_retries_back_off_exponentially(northwind, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    receiver = Receiver(answers=[500, 500])
    try:
        northwind.endpoint(receiver.url)
        _emit(northwind)
        delays = []
        for _ in range(2):
            before = timezone.now()
            webhooks_dispatch()
            delivery = WebhookDelivery.objects.get()
            delays.append((delivery.next_attempt_at - before).total_seconds())
            _due_now()
    finally:
        receiver.stop()

    assert 29 <= delays[0] <= 31 and 59 <= delays[1] <= 61
    assert webhook_dispatch.retry_delay(30) == webhook_dispatch.MAX_DELAY


def test_after_about_a_day_it_gives_up_marks_it_failed_and_drops_the_body(northwind):
    receiver = Receiver(answers=[500])
    try:
        northwind.endpoint(receiver.url)
        _emit(northwind)
        WebhookDelivery.objects.update(created_at=timezone.now() - timedelta(hours=26))

        result = webhooks_dispatch()
    finally:
        receiver.stop()

    delivery = WebhookDelivery.objects.get()
    assert result.failed == 1
    assert delivery.state == DeliveryState.FAILED
    assert delivery.payload == ""
    assert delivery.last_error == "HTTP 500" and delivery.failed_at is not None


def test_deliveries_go_out_in_order_per_customer_while_others_are_not_held_up(northwind):
    receiver = Receiver()
    try:
        northwind.endpoint(receiver.url)
        first = _emit(northwind, "nw-a", purpose="contact", allowed=False)
        second = _emit(northwind, "nw-a", purpose="contact", allowed=True)
        other = _emit(northwind, "nw-b", purpose="contact", allowed=False)
        third = _emit(northwind, "nw-a", purpose="personalization", allowed=False)
        # nw-a's first delivery fails once (by id: the queues are posted side by side).
        receiver.answers_for[first] = [500]

        webhooks_dispatch()
        after_failure = [r["headers"]["webhook-id"] for r in receiver.requests]
        _due_now()
        webhooks_dispatch()
    finally:
        receiver.stop()

    # nw-a's first failed, so its later events waited; nw-b's went at once.
    assert sorted(after_failure) == sorted([first, other])
    ids = [r["headers"]["webhook-id"] for r in receiver.requests]
    assert [i for i in ids if i != other] == [first, first, second, third]
    assert WebhookDelivery.objects.filter(state=DeliveryState.DELIVERED).count() == 4


def test_a_hanging_receiver_costs_one_round_of_bounded_timeouts_per_run(northwind, monkeypatch):
    monkeypatch.setattr(webhook_dispatch, "TIMEOUT", httpx.Timeout(0.3))
    receiver = Receiver(answers=[2.0] * 20)
    try:
        northwind.endpoint(receiver.url)
        for n in range(20):
            _emit(northwind, f"nw-{n}")

        result = webhooks_dispatch()
    finally:
        receiver.stop()

    # At most one request per pool thread was waited for; the rest wait for the next run.
    assert 1 <= len(receiver.requests) <= webhook_dispatch.DELIVERY_THREADS
    assert result.delivered == 0
    assert result.retrying == len(receiver.requests)
    assert result.retrying + result.released == 20
    tried = WebhookDelivery.objects.exclude(last_error="")
    assert set(tried.values_list("last_error", flat=True)) == {"timed out"}
    assert WebhookDelivery.objects.filter(state=DeliveryState.PENDING).count() == 20


def test_redirects_are_never_followed(northwind):
    receiver = Receiver(answers=[302])
    try:
        northwind.endpoint(receiver.url)
        _emit(northwind)
        webhooks_dispatch()
    finally:
        receiver.stop()

    delivery = WebhookDelivery.objects.get()
    assert len(receiver.requests) == 1
    assert delivery.state == DeliveryState.PENDING
    assert (delivery.last_status_code, delivery.last_error) == (302, "redirect not followed")


def test_private_addresses_are_refused_unless_allowed(northwind, receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    northwind.endpoint(receiver.url)
    _emit(northwind)

    webhooks_dispatch()

    assert receiver.requests == []
    assert "private network" in WebhookDelivery.objects.get().last_error


def test_only_subscribed_active_endpoints_of_the_brand_get_an_event(northwind, harbor):
    wants, _ = northwind.endpoint("https://a.example/h", event_types=["consent.changed"])
    northwind.endpoint("https://b.example/h", event_types=["customer.erased"])
    disabled, _ = northwind.endpoint("https://c.example/h")
    webhooks.webhook_endpoint_disable(endpoint=disabled)
    harbor.endpoint("https://d.example/h")

    _emit(northwind)

    assert list(WebhookDelivery.objects.values_list("endpoint", flat=True)) == [wants.pk]


def test_a_rolled_back_change_announces_nothing(northwind):
    northwind.endpoint("https://a.example/h")

    with pytest.raises(RuntimeError), transaction.atomic():
        webhook_emit(
            brand_id=northwind.brand.pk,
            customer_ref="nw-1",
            event_type="consent.changed",
            data={},
        )
        raise RuntimeError

    assert not WebhookDelivery.objects.exists()


def test_a_crashed_dispatchers_claim_is_taken_again_after_its_lease(northwind, receiver):
    northwind.endpoint(receiver.url)
    _emit(northwind)
    WebhookDelivery.objects.update(
        state=DeliveryState.SENDING, claim="dead", lease_until=timezone.now() - timedelta(1)
    )

    assert webhooks_dispatch().delivered == 1
    assert len(receiver.requests) == 1


def test_the_signing_secret_is_encrypted_at_rest(northwind):
    endpoint, secret = northwind.endpoint("https://a.example/h")

    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM accounts_webhookendpoint WHERE id = %s", [endpoint.pk])
        stored = cursor.fetchone()[0]

    assert secret.startswith("whsec_")
    assert secret not in stored and secret[6:] not in stored
    assert WebhookEndpoint.objects.get().secret == secret


# --- the endpoints API ----------------------------------------------------------------------


def test_a_brand_registers_an_endpoint_and_sees_the_secret_only_once(client, northwind):
    created = client.post(
        "/api/v1/webhooks/endpoints",
        {"url": "https://brand.example/candor", "event_types": ["customer.erased"]},
        content_type="application/json",
        **northwind.auth,
    )
    listed = client.get("/api/v1/webhooks/endpoints", **northwind.auth)

    assert created.status_code == 201
    assert created.json()["secret"].startswith("whsec_")
    assert created.json()["event_types"] == ["customer.erased"]
    assert listed.status_code == 200
    assert [e["url"] for e in listed.json()] == ["https://brand.example/candor"]
    assert "secret" not in listed.json()[0]


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://brand.example/x"},
        {"url": "https://user:pw@brand.example/x"},
        {"url": "not a url"},
        {"url": "https://brand.example/x", "event_types": ["order.shipped"]},
        {"url": "https://brand.example/\x00x"},
        {"url": "https://brand.example/x", "description": "nul \x00 byte"},
    ],
)
def test_bad_endpoints_are_refused_with_422_and_nothing_stored(client, northwind, body):
    response = client.post(
        "/api/v1/webhooks/endpoints", body, content_type="application/json", **northwind.auth
    )

    assert response.status_code == 422
    assert "error" in response.json()
    assert not WebhookEndpoint.objects.exists()


def test_another_brands_endpoint_cannot_be_disabled(client, northwind, harbor):
    theirs, _ = harbor.endpoint("https://harbor.example/h")

    response = client.delete(f"/api/v1/webhooks/endpoints/{theirs.pk}", **northwind.auth)

    assert response.status_code == 404
    assert WebhookEndpoint.objects.get(pk=theirs.pk).disabled_at is None
    assert client.get("/api/v1/webhooks/endpoints").status_code == 401


def test_disabling_an_endpoint_gives_up_what_was_waiting(client, northwind):
    endpoint, _ = northwind.endpoint("https://a.example/h")
    _emit(northwind)

    response = client.delete(f"/api/v1/webhooks/endpoints/{endpoint.pk}", **northwind.auth)

    assert response.status_code == 200 and response.json()["disabled_at"]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.payload) == (DeliveryState.FAILED, "")


# --- admin ------------------------------------------------------------------------------------


def test_staff_register_an_endpoint_in_admin_and_see_the_secret_once(staff_client, northwind):
    response = staff_client.post(
        "/admin/accounts/webhookendpoint/add/",
        {
            "brand": northwind.brand.pk,
            "url": "https://brand.example/hooks",
            "description": "ops",
            "event_types": ["consent.changed", "customer.erased"],
        },
    )

    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 200
    assert endpoint.secret in response.content.decode()
    assert endpoint.event_types == ["consent.changed", "customer.erased"]
    changelist = staff_client.get("/admin/accounts/webhookendpoint/").content.decode()
    assert endpoint.secret not in changelist


def test_the_delivery_log_shows_outcomes_but_never_a_body(staff_client, northwind):
    northwind.endpoint("https://a.example/h")
    _emit(northwind, purpose="personalization", allowed=False)
    delivery = WebhookDelivery.objects.get()

    changelist = staff_client.get("/admin/accounts/webhookdelivery/?state=pending")
    page = staff_client.get(f"/admin/accounts/webhookdelivery/{delivery.pk}/change/")

    assert delivery.event_id in changelist.content.decode()
    assert page.status_code == 200
    assert json.loads(delivery.payload)["data"]["purpose"] == "personalization"
    assert "personalization" not in page.content.decode()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_send_each_event_once_and_in_order(northwind):
    import threading

    from django.db import connections

    receiver = Receiver()
    try:
        northwind.endpoint(receiver.url)
        emitted: dict[str, list[str]] = {f"nw-{c}": [] for c in range(10)}
        for _round in range(6):
            for ref, ids in emitted.items():
                ids.append(_emit(northwind, ref))

        def run():
            try:
                webhooks_dispatch()
            finally:
                connections.close_all()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        webhooks_dispatch()  # what one run left behind the other's claims
    finally:
        receiver.stop()

    received = [
        (json.loads(r["body"])["data"]["customer_ref"], r["headers"]["webhook-id"])
        for r in receiver.requests
    ]
    all_sent = sorted(i for ids in emitted.values() for i in ids)
    assert sorted(event_id for _, event_id in received) == all_sent  # each exactly once
    for ref, sent in emitted.items():
        assert [event_id for r, event_id in received if r == ref] == sent
