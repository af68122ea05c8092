"""The one way to ask for background work: record it, then publish after commit.

`enqueue` writes an OutboxMessage in the caller's transaction and publishes it with
`transaction.on_commit`, so a rolled-back transaction publishes nothing (F1) and a broker
outage loses nothing (F2): the row stays until `relay_pending` (a periodic task)
publishes it. Tasks must be idempotent: a message may be published more than once.

Publishing never hangs a request: the broker connection is bounded (settings: connect
timeout, one quick retry), the request path makes a single attempt, and after a failure
this process stops trying from requests for BROKER_BACKOFF_SECONDS (the relay keeps
trying on its own schedule), so a dead broker costs at most one short wait per process.
"""

import logging
import threading
import time

from celery import current_app
from django.db import IntegrityError, connection, transaction

from .models import OutboxMessage

log = logging.getLogger(__name__)

BROKER_BACKOFF_SECONDS = 10.0
# Used by the relay (not by requests): a few quick retries, bounded in total.
RELAY_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}

_breaker_lock = threading.Lock()
_broker_down_until = 0.0


def _broker_recently_down() -> bool:
    if current_app.conf.task_always_eager:
        return False  # no broker involved
    return time.monotonic() < _broker_down_until


def _mark_broker_down() -> None:
    global _broker_down_until
    with _breaker_lock:
        _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS


def _mark_broker_up() -> None:
    global _broker_down_until
    with _breaker_lock:
        _broker_down_until = 0.0


def enqueue(*, task: str, kwargs: dict, dedupe_key: str | None = None, countdown: int = 0) -> None:
    """Ask for `task(**kwargs)` after this transaction commits.

    With `dedupe_key`, a message still waiting under the same key absorbs this one
    (debounce: many changes, one recompute).
    """
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.create(
                task_name=task, kwargs=kwargs, dedupe_key=dedupe_key, countdown=countdown
            )
    except IntegrityError:
        return  # the same work is already waiting
    transaction.on_commit(lambda: publish(message.pk))


def _claim(queryset):
    """Lock the rows we publish so two relays (or a relay and a request) skip each other."""
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True)
    return queryset  # SQLite: one writer at a time anyway


def _send(message: OutboxMessage, *, from_relay: bool) -> None:
    task = current_app.tasks[message.task_name]
    options: dict = {"countdown": message.countdown or None}
    if from_relay:
        options.update(retry=True, retry_policy=RELAY_RETRY_POLICY)
    else:
        options.update(retry=False)
    task.apply_async(kwargs=message.kwargs, **options)


def publish(message_id: int, *, from_relay: bool = False) -> bool:
    """Publish one message and drop it; keep it for the relay if the broker does not take it.

    Returns True when the message is out of our hands (published, already gone, or being
    published by someone else right now).
    """
    if not from_relay and _broker_recently_down():
        return False  # the relay will publish it; do not make this request wait
    with transaction.atomic():
        message = _claim(OutboxMessage.objects.filter(pk=message_id)).first()
        if message is None:
            return True
        try:
            _send(message, from_relay=from_relay)
        except Exception as exc:  # broker down or slow: the relay will try again
            _mark_broker_down()
            OutboxMessage.objects.filter(pk=message_id).update(
                attempts=message.attempts + 1, last_error=f"{type(exc).__name__}"[:300]
            )
            log.warning(
                "outbox: %s #%s kept for the relay (%s)",
                message.task_name,
                message_id,
                type(exc).__name__,
            )
            return False
        message.delete()
    _mark_broker_up()
    return True


def relay_pending(*, limit: int = 500, batch: int = 100) -> int:
    """Publish what is still waiting, oldest first; returns how many went out.

    Stops at the first failure: the broker is down, and the next run will try again.
    """
    sent = 0
    last_id = 0
    while sent < limit:
        ids = list(
            OutboxMessage.objects.filter(pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", flat=True)[: min(batch, limit - sent)]
        )
        if not ids:
            break
        for pk in ids:
            last_id = pk
            if not publish(pk, from_relay=True):
                return sent
            sent += 1
    return sent


def discard_for_customer(*, customer_id: int) -> int:
    """Drop work still waiting that names this customer (erasure: nothing of theirs stays
    queued; a recompute for them would find nobody anyway). Returns how many went."""
    return OutboxMessage.objects.filter(kwargs__customer_id=customer_id).delete()[0]
