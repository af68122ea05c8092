"""The one way to write an audit row (zulip's RealmAuditLog pattern).

Call it inside the same transaction as the change it records.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from transparency.registry import AuditAction, audit_data_kind_valid

from .bulk import now_db, rows_insert
from .models import ActorKind, AuditEvent, Brand, Customer

# AuditEvent.data_kind's length: a long list of kinds is cut (after it was checked).
DATA_KIND_MAX = 60


def audit_check(*, data_kind: str, action: str) -> None:
    """Refuse an action or data kind the vocabulary does not declare (ValueError): the
    access log words every row, so a free string would read as "handled your data"."""
    if action not in AuditAction._value2member_map_:
        raise ValueError(f"unknown audit action {action!r} (transparency.registry.AuditAction)")
    if not audit_data_kind_valid(data_kind):
        raise ValueError(f"unknown audit data kind {data_kind!r} (not a registered kind)")


# Above this many rows, audit_record_many streams them (COPY on PostgreSQL) instead of
# building model instances.
FAST_PATH_ROWS = 500


@dataclass(frozen=True)
class Actor:
    kind: str
    user_id: int | None = None
    brand_id: int | None = None
    label: str = ""

    @classmethod
    def customer(cls, customer: Customer) -> "Actor":
        return cls(kind=ActorKind.CUSTOMER, user_id=customer.user_id, label="you")

    @classmethod
    def staff(cls, user) -> "Actor":
        return cls(kind=ActorKind.STAFF, user_id=user.pk, label=user.get_username())

    @classmethod
    def brand(cls, brand: Brand, via: str = "server key") -> "Actor":
        return cls(kind=ActorKind.BRAND, brand_id=brand.pk, label=f"{brand.name} ({via})")

    @classmethod
    def system(cls, task: str) -> "Actor":
        return cls(kind=ActorKind.SYSTEM, label=task)


def audit_record(
    *,
    actor: Actor,
    customer: Customer | None,
    data_kind: str,
    action: str,
    object_ref: str = "",
    reason: str = "",
) -> AuditEvent:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change.")
    audit_check(data_kind=data_kind, action=action)
    return AuditEvent.objects.create(
        customer=customer,
        actor_kind=actor.kind,
        actor_user_id=actor.user_id,
        actor_brand_id=actor.brand_id,
        actor_label=actor.label[:120],
        data_kind=data_kind[:DATA_KIND_MAX],
        action=str(action),
        object_ref=str(object_ref)[:80],
        reason=reason[:200],
    )


@dataclass(frozen=True)
class AuditEntry:
    """One audit row for :func:`audit_record_many` (the actor is shared by the batch)."""

    customer_id: int | None
    data_kind: str
    action: str
    object_ref: str = ""
    reason: str = ""


def audit_record_many(*, actor: Actor, entries: Iterable[AuditEntry]) -> int:
    """Write many audit rows by one actor in one statement; returns how many.

    Same rules as :func:`audit_record` (inside the change's transaction, same truncation).
    Large batches (training results for every customer of a brand) take the fast path: rows
    streamed straight to the table, no model instances.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record_many must run inside the transaction of the change.")
    entries = list(entries)
    for pair in {(e.data_kind, e.action) for e in entries}:
        audit_check(data_kind=pair[0], action=pair[1])
    if len(entries) > FAST_PATH_ROWS:
        now = now_db()
        label = actor.label[:120]
        rows_insert(
            AuditEvent,
            ["customer_id", "data_kind", "action", "object_ref", "reason"],
            (
                (
                    e.customer_id,
                    e.data_kind[:DATA_KIND_MAX],
                    str(e.action),
                    str(e.object_ref)[:80],
                    e.reason[:200],
                )
                for e in entries
            ),
            same={
                "actor_kind": actor.kind,
                "actor_user_id": actor.user_id,
                "actor_brand_id": actor.brand_id,
                "actor_label": label,
                "created_at": now,
            },
        )
        return len(entries)
    AuditEvent.objects.bulk_create(
        AuditEvent(
            customer_id=e.customer_id,
            actor_kind=actor.kind,
            actor_user_id=actor.user_id,
            actor_brand_id=actor.brand_id,
            actor_label=actor.label[:120],
            data_kind=e.data_kind[:DATA_KIND_MAX],
            action=str(e.action),
            object_ref=str(e.object_ref)[:80],
            reason=e.reason[:200],
        )
        for e in entries
    )
    return len(entries)
