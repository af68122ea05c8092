"""The one way to write an audit row (zulip's RealmAuditLog pattern).

Call it inside the same transaction as the change it records.
"""

from dataclasses import dataclass

from django.db import transaction

from .models import ActorKind, AuditEvent, Brand, Customer


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
    return AuditEvent.objects.create(
        customer=customer,
        actor_kind=actor.kind,
        actor_user_id=actor.user_id,
        actor_brand_id=actor.brand_id,
        actor_label=actor.label[:120],
        data_kind=data_kind,
        action=action,
        object_ref=str(object_ref)[:80],
        reason=reason[:200],
    )
