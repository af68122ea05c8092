"""Least privilege for staff (quality B4): a support role sees customers' records with the
personal fields masked; revealing one needs a typed reason, is logged, and the customer
reads it, with the reason, in their access log.

Which fields are personal comes from the registry: in kinds of medium or high sensitivity,
every encrypted field and every free-text field (not a choice list, not the brand's own id).
Staff with `accounts.view_unmasked` (superusers, or a group given it on purpose) see them
as before; the support role (`manage.py support_role`) has view permissions only.
"""

from __future__ import annotations

from django.db import transaction

from accounts.admin_access import customer_of, personal_fields, sees_unmasked
from accounts.audit import Actor, audit_record
from accounts.locks import customers_lock

from .. import registry

# Which fields are masked, and who sees them unmasked, is decided with the admin classes
# that mask them (accounts.admin_access); revealing one is this module's.
__all__ = [
    "MASK",
    "MIN_REASON",
    "RevealRefused",
    "field_reveal",
    "personal_fields",
    "sees_unmasked",
]

MASK = "•••••"
MIN_REASON = 10


class RevealRefused(ValueError):
    pass


@transaction.atomic
def field_reveal(*, staff, kind: registry.DataKind, obj, field: str, reason: str) -> str:
    """The field's value, for a typed reason; the customer's access log gets the reason."""
    reason = " ".join(reason.split())
    if field not in personal_fields(kind):
        raise RevealRefused("That field is not masked.")
    if len(reason) < MIN_REASON:
        raise RevealRefused(f"Type the reason (at least {MIN_REASON} characters).")
    customer = customer_of(obj, kind)
    if customer is not None and not customers_lock([customer.pk]):
        raise RevealRefused("The account was erased.")
    label = kind.get_model()._meta.get_field(field).verbose_name
    audit_record(
        actor=Actor.staff(staff),
        customer=customer,
        data_kind=kind.name,
        action="reveal",
        object_ref=str(obj.pk),
        reason=f"{label}: {reason}"[:200],
    )
    return str(getattr(obj, field))
