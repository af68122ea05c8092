import pytest
from django.core.cache import cache
from django.db import transaction

from accounts import outbox
from accounts.models import OutboxMessage
from config.celery import PONG_KEY


def test_a_rolled_back_transaction_publishes_nothing(db, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(LookupError),
        transaction.atomic(),
    ):
        outbox.enqueue(task="diagnostics.ping", kwargs={"token": "rolled-back"})
        raise LookupError("the change failed")

    assert callbacks == []
    assert OutboxMessage.objects.count() == 0
    assert cache.get(PONG_KEY.format(token="rolled-back")) is None


def test_committed_work_is_published_and_cleared(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        outbox.enqueue(task="diagnostics.ping", kwargs={"token": "committed"})

    assert cache.get(PONG_KEY.format(token="committed")) is not None
    assert OutboxMessage.objects.count() == 0


def test_waiting_work_with_the_same_key_is_enqueued_once(db):
    outbox.enqueue(task="diagnostics.ping", kwargs={"token": "a"}, dedupe_key="k")
    outbox.enqueue(task="diagnostics.ping", kwargs={"token": "b"}, dedupe_key="k")

    assert OutboxMessage.objects.count() == 1


def test_work_the_broker_refused_waits_for_the_relay(db, monkeypatch):
    outbox.enqueue(task="diagnostics.ping", kwargs={"token": "later"})
    message = OutboxMessage.objects.get()

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    from config.celery import ping

    monkeypatch.setattr(ping, "apply_async", broker_down)
    assert outbox.publish(message.pk) is False
    assert OutboxMessage.objects.get().attempts == 1

    monkeypatch.undo()
    assert outbox.relay_pending() == 1
    assert OutboxMessage.objects.count() == 0
    assert cache.get(PONG_KEY.format(token="later")) is not None
