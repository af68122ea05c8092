"""Keep but don't use: per point, per kind and per purpose, recorded and acted on (E1)."""

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, ConsentEvent, KindSetting, OutboxMessage, PurposeConsent
from ledger.models import Event
from tests.factories import BrandFactory, EventFactory, ProductFactory
from transparency import services


@pytest.fixture
def hooks(rec_calls):
    return rec_calls


@pytest.fixture
def event(alice):
    brand = BrandFactory(slug="acme")
    return EventFactory(customer=alice, brand=brand, product=ProductFactory(brand=brand))


def test_switching_a_point_off_is_recorded_and_asks_for_a_recompute(
    alice_client, alice, event, hooks
):
    response = alice_client.post(
        reverse("dashboard:data_point_use", args=["event", event.pk]), {"in_use": "0"}
    )

    assert response.status_code == 302
    event.refresh_from_db()
    assert event.in_use is False
    history = ConsentEvent.objects.get(customer=alice, data_kind="event")
    assert (history.object_ref, history.granted, history.channel) == (
        str(event.pk),
        False,
        "dashboard",
    )
    assert AuditEvent.objects.filter(customer=alice, action="use_off", data_kind="event").exists()
    assert hooks == [
        ("customer_recompute_request", {"customer_id": alice.pk}),
        # The brand's model read it: retrained without it (transparency.retrains).
        (
            "brand_retrain_request",
            {"brand_id": event.brand_id, "reason": "data point off", "withdrawn": True},
        ),
    ]


def test_switching_off_takes_no_more_steps_than_switching_on(alice_client, alice, event, hooks):
    url = reverse("dashboard:data_point_use", args=["event", event.pk])

    off = alice_client.post(url, {"in_use": "0"}, HTTP_HX_REQUEST="true")
    assert b"Use again" in off.content
    on = alice_client.post(url, {"in_use": "1"}, HTTP_HX_REQUEST="true")
    assert b"Stop using" in on.content

    event.refresh_from_db()
    assert event.in_use is True
    assert ConsentEvent.objects.filter(customer=alice).count() == 2


def test_nothing_happens_when_nothing_changes(alice, event, hooks):
    assert not services.datapoint_set_in_use(
        customer=alice, kind_name="event", pk=event.pk, in_use=True
    )
    assert not ConsentEvent.objects.exists()
    assert hooks == []


def test_switching_a_kind_off_is_recorded_and_asks_for_a_recompute(alice_client, alice, hooks):
    response = alice_client.post(
        reverse("dashboard:data_kind_use", args=["event"]), {"in_use": "0", "next": "/me/data/"}
    )

    assert response.url == "/me/data/"
    assert KindSetting.objects.get(customer=alice, data_kind="event").in_use is False
    assert ConsentEvent.objects.filter(customer=alice, data_kind="event", granted=False).exists()
    assert hooks == [("customer_recompute_request", {"customer_id": alice.pk})]


def test_switching_a_purpose_off_is_recorded_and_asks_for_a_recompute(alice_client, alice, hooks):
    response = alice_client.post(
        reverse("dashboard:data_purpose", args=["personalization"]),
        {"granted": "0"},
        HTTP_HX_REQUEST="true",
    )

    assert b"Not allowed" in response.content
    assert PurposeConsent.objects.get(customer=alice, purpose="personalization").granted is False
    assert ConsentEvent.objects.filter(purpose="personalization", granted=False).count() == 1
    assert hooks == [("customer_recompute_request", {"customer_id": alice.pk})]


def test_a_recompute_request_goes_through_the_outbox(alice, event):
    services.datapoint_set_in_use(customer=alice, kind_name="event", pk=event.pk, in_use=False)

    message = OutboxMessage.objects.get(task_name="recommendations.recompute_customer")
    assert message.kwargs == {"customer_id": alice.pk}


def test_a_switched_off_event_is_not_in_the_next_training_set(alice, event):
    from recommendations.selectors import training_data

    services.datapoint_set_in_use(customer=alice, kind_name="event", pk=event.pk, in_use=False)

    data = training_data(brand_id=event.brand_id)
    cited = {p.pk for points in data.points.values() for p in points if p.kind == "event"}
    assert event.pk not in cited


def test_a_kind_switched_off_keeps_new_ingest_unused(alice, event):
    services.kind_set_in_use(customer=alice, kind_name="event", in_use=False)

    assert Event.objects.filter(customer=alice).count() == 1  # kept
    assert KindSetting.objects.get(customer=alice).in_use is False


def test_unknown_purposes_and_kinds_are_not_found(alice_client):
    assert alice_client.post(reverse("dashboard:data_purpose", args=["selling"])).status_code == 404
    assert alice_client.post(reverse("dashboard:data_kind_use", args=["nope"])).status_code == 404
    assert (
        alice_client.post(reverse("dashboard:data_kind_use", args=["account"])).status_code == 404
    )


def test_toggles_are_post_only(alice_client, event):
    url = reverse("dashboard:data_point_use", args=["event", event.pk])
    assert alice_client.get(url).status_code == 405
