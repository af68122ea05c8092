"""/health/: database, broker and worker status, bare for strangers, detailed for ops."""

import time

import pytest
from django.core.cache import cache
from django.test import override_settings

from config.celery import app as celery_app
from config.health import WORKER_SEEN_KEY
from tests.production.broker import broker_at, closed_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def worker_seen_now():
    cache.set(WORKER_SEEN_KEY, time.time(), timeout=600)


def test_it_answers_a_bare_ok_when_everything_is_up(client, worker_seen_now):
    response = client.get("/health/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_it_shows_each_check_to_staff(client, charlie, worker_seen_now):
    client.force_login(charlie)

    body = client.get("/health/").json()

    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["broker"] == {"ok": True}
    assert body["checks"]["worker"]["ok"] is True


@override_settings(HEALTH_TOKEN="monitoring-token-0123456789")
def test_it_shows_each_check_to_the_monitoring_token_only(client, alice, worker_seen_now):
    assert (
        "checks" in client.get("/health/", HTTP_X_HEALTH_TOKEN="monitoring-token-0123456789").json()
    )
    assert "checks" not in client.get("/health/", HTTP_X_HEALTH_TOKEN="wrong").json()
    client.force_login(alice.user)
    assert "checks" not in client.get("/health/").json()


def test_it_reports_a_missing_worker_as_degraded(client, charlie):
    client.force_login(charlie)

    response = client.get("/health/")

    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["worker"]["ok"] is False


def test_it_reports_a_dead_broker_as_degraded_without_hanging(client, charlie, worker_seen_now):
    client.force_login(charlie)

    with broker_at(f"redis://127.0.0.1:{closed_port()}/6"):
        started = time.monotonic()
        response = client.get("/health/")
        elapsed = time.monotonic() - started

    assert elapsed < 2.0
    assert response.status_code == 200  # pages still work; work waits in the outbox
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["broker"]["ok"] is False
    assert response.json()["checks"]["database"] == {"ok": True}
    assert celery_app.conf.broker_url != f"redis://127.0.0.1:{closed_port()}/6"


def test_a_degraded_answer_says_what_it_is_waiting_for(client, monkeypatch):
    from config import health

    monkeypatch.setattr(health, "STARTED_AT", time.time() - 10)
    starting = client.get("/health/").json()
    monkeypatch.setattr(health, "STARTED_AT", time.time() - 600)
    stopped = client.get("/health/").json()

    assert starting["status"] == "degraded"
    assert starting["waiting_for"] == [
        "worker not seen yet: starting up (the first heartbeat comes within a minute)"
    ]
    assert stopped["waiting_for"] == [
        "worker not seen since this server started 10 minutes ago: is it running?"
    ]
    assert "checks" not in stopped  # strangers get words, not internals


def test_a_stale_worker_and_a_dead_broker_are_named_in_words(client):
    cache.set(WORKER_SEEN_KEY, time.time() - 900, timeout=600)

    with broker_at(f"redis://127.0.0.1:{closed_port()}/6"):
        body = client.get("/health/").json()

    assert body["waiting_for"] == [
        "broker not reachable: background work waits in the outbox",
        "worker last seen 15 minutes ago: is it still running?",
    ]
