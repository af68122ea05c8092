"""The one way to ask for background work: record it, then publish after commit.

`enqueue` writes an OutboxMessage in the caller's transaction and publishes it with
`transaction.on_commit`, so a rolled-back transaction publishes nothing (F1) and a broker
outage loses nothing (F2): the row stays until `relay_pending` (a periodic task)
publishes it. Tasks must be idempotent: a message may be published more than once.
"""

import logging

from celery import current_app
from django.db import IntegrityError, transaction

from .models import OutboxMessage

log = logging.getLogger(__name__)


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


def publish(message_id: int) -> bool:
    """Publish one message; keep it for the relay if the broker does not take it."""
    message = OutboxMessage.objects.filter(pk=message_id).first()
    if message is None:
        return True
    try:
        task = current_app.tasks[message.task_name]
        task.apply_async(kwargs=message.kwargs, countdown=message.countdown or None)
    except Exception as exc:  # broker down or slow: the relay will try again
        OutboxMessage.objects.filter(pk=message_id).update(
            attempts=message.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"[:300]
        )
        log.warning("outbox: %s kept for the relay (%s)", message.task_name, type(exc).__name__)
        return False
    OutboxMessage.objects.filter(pk=message_id).delete()
    return True


def relay_pending(*, limit: int = 500) -> int:
    """Publish what is still waiting; returns how many went out."""
    ids = list(OutboxMessage.objects.values_list("pk", flat=True)[:limit])
    return sum(publish(pk) for pk in ids)
