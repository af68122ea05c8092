"""The one way to write consent history: each row carries the hash of the one before it.

Every consent or use change (dashboard, widget, API, ingest defaults, connect, GPC) goes
through `consent_events_append`, so a customer's history is a hash chain: a row edited or
removed in the database no longer matches its hash, or leaves the next row pointing at a
hash nobody has (transparency.standards.chain verifies it). The hash covers what was chosen,
how and when, not the customer row id: connecting a brand's record moves rows between
customers (transparency.connect) and each side's chain stays intact.

Call it with the customer's lock held (accounts.locks), or for customers created in the
same transaction, so no two writers chain onto the same row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC

from django.db.models import Max
from django.utils import timezone

from .models import ConsentEvent

HASH_VERSION = 1


def consent_event_digest(event: ConsentEvent) -> str:
    body = {
        "v": HASH_VERSION,
        "prev": event.prev_hash,
        "purpose": event.purpose,
        "data_kind": event.data_kind,
        "object_ref": event.object_ref,
        "granted": bool(event.granted),
        "channel": event.channel,
        "actor": event.actor_label,
        "at": event.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
    }
    # A consent a brand collected (ledger.record_ingest): where and which wording are in the
    # chain too; rows without them hash as before.
    if event.collected_at is not None:
        body["collected_at"] = event.collected_at.astimezone(UTC).isoformat(timespec="microseconds")
    if event.wording_version:
        body["wording"] = event.wording_version
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def chain_heads(customer_ids: Iterable[int]) -> dict[int, str]:
    """The hash of each customer's latest history row (none: not in the dict)."""
    latest = (
        ConsentEvent.objects.filter(customer_id__in=set(customer_ids))
        .order_by()
        .values("customer_id")
        .annotate(last=Max("pk"))
        .values("last")
    )
    return dict(ConsentEvent.objects.filter(pk__in=latest).values_list("customer_id", "hash"))


def consent_events_append(
    *, events: list[ConsentEvent], new_customers: bool = False
) -> list[ConsentEvent]:
    """Chain and store `events` (unsaved rows, in the order they happened).

    new_customers: the customers were created in this transaction and have no history yet
    (ingest), so their chains start here without a lookup.
    """
    if not events:
        return []
    heads = {} if new_customers else chain_heads(e.customer_id for e in events)
    now = timezone.now()
    for event in events:
        event.created_at = event.created_at or now
        event.prev_hash = heads.get(event.customer_id, "")
        event.hash = consent_event_digest(event)
        heads[event.customer_id] = event.hash
    return ConsentEvent.objects.bulk_create(events)


def consent_event_record(
    *,
    customer_id: int,
    granted: bool,
    channel: str,
    purpose: str = "",
    data_kind: str = "",
    object_ref: str = "",
    actor_label: str = "",
) -> ConsentEvent:
    """One consent or use change, appended to the customer's chain."""
    event = ConsentEvent(
        customer_id=customer_id,
        purpose=purpose,
        data_kind=data_kind,
        object_ref=str(object_ref)[:80],
        granted=granted,
        channel=channel,
        actor_label=actor_label[:120],
    )
    return consent_events_append(events=[event])[0]
