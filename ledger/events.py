"""The one way interaction events are created, whoever sends them.

Ingest (the brand's feed), the widget (views, clicks, impressions), the customer's own
"not interested" and the demo loaders all call :func:`events_create`: one bulk insert and,
in the same transaction, one audit row per customer saying how many events arrived and from
where. Callers have already validated the rows and taken the customers' locks
(accounts.locks), so an erasure running at the same time is never undone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from django.db import transaction

from accounts.audit import Actor, AuditEntry, audit_record_many

from .models import Event


def events_create(
    *,
    events: Sequence[Event],
    actor: Actor,
    describe: Callable[[int], str],
    action: str = "create",
    ignore_conflicts: bool = False,
    batch_size: int | None = None,
) -> int:
    """Store `events` and audit them per customer; returns how many rows were sent.

    `describe(n)` words the audit reason for a customer's n events ("3 events from the
    brand's feed"). With one event the audit row names it (its id), so the access log can
    point at it. `ignore_conflicts` skips events already stored under the same (brand,
    external id), for feeds that may repeat themselves.
    """
    if not events:
        return 0
    with transaction.atomic(savepoint=False):  # joins the caller's transaction
        created = Event.objects.bulk_create(
            events, ignore_conflicts=ignore_conflicts, batch_size=batch_size
        )
        counts = Counter(e.customer_id for e in events)
        single = created[0].pk if len(created) == 1 else None
        audit_record_many(
            actor=actor,
            entries=(
                AuditEntry(
                    customer_id=customer_id,
                    data_kind="event",
                    action=action,
                    object_ref=str(single or ""),
                    reason=describe(n),
                )
                for customer_id, n in counts.items()
            ),
        )
    return len(events)
