"""Writes behind "My data": use toggles ("keep but don't use") and export records.

Deletion with receipts is in `erasure`, the retention sweep in `retention`; their names
stay importable from here.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.audit import Actor, audit_record
from accounts.consent_history import consent_event_record
from accounts.locks import customer_lock
from accounts.models import Brand, ConsentEvent, Customer, KindSetting, PurposeConsent
from recommendations import services as rec_services
from recommendations.switches import MODEL_KINDS

from . import bridge, registry, retrains, selectors
from .erasure import (  # noqa: F401  importable from here
    NotDeletable,
    NothingToDelete,
    _delete_rows,
    _model_kinds,
    _run_plan,
    account_erase,
    data_delete,
    deletion_order,
    deletion_plan,
)
from .models import DataRequest, DataRequestKind, DataRequestState, ReceiptScope
from .registry import AuditAction, Purpose
from .retention import RETENTION_TASK, retention_sweep  # noqa: F401  importable from here

DASHBOARD = "dashboard"


# --- use toggles ("keep but don't use") -----------------------------------------------------


def _record_choice(
    *,
    customer: Customer,
    actor: Actor,
    granted: bool,
    channel: str,
    purpose: str = "",
    data_kind: str = "",
    object_ref: str = "",
) -> ConsentEvent:
    choice = consent_event_record(
        customer_id=customer.pk,
        purpose=purpose,
        data_kind=data_kind,
        object_ref=object_ref,
        granted=granted,
        channel=channel,
        actor_label=actor.label,
    )
    audit_record(
        actor=actor,
        customer=customer,
        data_kind=data_kind or "consent",
        action=AuditAction.USE_ON if granted else AuditAction.USE_OFF,
        object_ref=object_ref or purpose,
        reason=f"switched {'on' if granted else 'off'} via {channel}",
    )
    # Off means off in the widget too: its cached answers go now, results are recomputed.
    rec_services.customer_cache_forget(customer_id=customer.pk)
    rec_services.customer_recompute_request(customer_id=customer.pk)
    return choice


@transaction.atomic
def datapoint_set_in_use(
    *,
    customer: Customer,
    kind_name: str,
    pk: int,
    in_use: bool,
    actor: Actor | None = None,
    channel: str = DASHBOARD,
) -> bool:
    """Switch one data point on or off. Returns False when nothing changed.

    Raises KeyError for an unknown kind and DoesNotExist for a point that is not theirs.
    """
    kind = registry.get(kind_name)
    if not selectors.kind_has_point_toggle(kind):
        raise KeyError(kind_name)
    customer_lock(customer.pk)  # erased meanwhile: CustomerGone, nothing written
    rows = kind.rows_for(customer).filter(pk=pk)
    current = rows.values_list("in_use", flat=True).first()
    if current is None:
        raise kind.get_model().DoesNotExist
    if current == in_use:
        return False
    rows.update(in_use=in_use)
    choice = _record_choice(
        customer=customer,
        actor=actor or Actor.customer(customer),
        granted=in_use,
        channel=channel,
        data_kind=kind.name,
        object_ref=str(pk),
    )
    if not in_use:  # the model that read it is retrained without it
        brands = retrains.model_brands(customer=customer, kind_names=[kind.name], pk=pk)
        retrains.retrain_without(brand_ids=brands, reason="data point off", choice=choice)
    bridge.point_use_changed(customer=customer, kind=kind, pk=pk, in_use=in_use)
    return True


@transaction.atomic
def kind_set_in_use(
    *,
    customer: Customer,
    kind_name: str,
    in_use: bool,
    actor: Actor | None = None,
    channel: str = DASHBOARD,
) -> bool:
    kind = registry.get(kind_name)
    if not selectors.kind_is_switchable(kind):
        raise KeyError(kind_name)
    customer_lock(customer.pk)  # erased meanwhile: CustomerGone, nothing written
    setting = KindSetting.objects.select_for_update().filter(customer=customer, data_kind=kind.name)
    row = setting.first()
    if (row.in_use if row else True) == in_use:
        return False
    if row is None:
        KindSetting.objects.create(customer=customer, data_kind=kind.name, in_use=in_use)
    else:
        setting.update(in_use=in_use, updated_at=timezone.now())
    choice = _record_choice(
        customer=customer,
        actor=actor or Actor.customer(customer),
        granted=in_use,
        channel=channel,
        data_kind=kind.name,
    )
    if not in_use:
        brands = retrains.model_brands(customer=customer, kind_names=[kind.name])
        retrains.retrain_without(brand_ids=brands, reason=f"{kind.name} off", choice=choice)
    bridge.kind_use_changed(customer=customer, kind_name=kind.name, in_use=in_use)
    return True


@transaction.atomic
def purpose_set_granted(
    *,
    customer: Customer,
    purpose: str,
    granted: bool,
    actor: Actor | None = None,
    channel: str = DASHBOARD,
) -> bool:
    if purpose not in {p.value for p in registry.OWN_SWITCH_PURPOSES}:
        raise KeyError(purpose)
    customer_lock(customer.pk)  # erased meanwhile: CustomerGone, nothing written
    if selectors.purpose_granted(customer=customer, purpose=purpose) == granted:
        return False
    PurposeConsent.objects.update_or_create(
        customer=customer, purpose=purpose, defaults={"granted": granted}
    )
    choice = _record_choice(
        customer=customer,
        actor=actor or Actor.customer(customer),
        granted=granted,
        channel=channel,
        purpose=purpose,
    )
    if not granted and purpose == Purpose.PERSONALIZATION:
        brands = retrains.model_brands(customer=customer, kind_names=MODEL_KINDS)
        retrains.retrain_without(brand_ids=brands, reason="personalization off", choice=choice)
    bridge.consent_changed(customer=customer, purpose=purpose, granted=granted)
    if not granted:
        _delete_held_only_under(customer=customer, purpose=purpose, actor=actor)
    return True


def on_consent_withdrawn(sender, *, customer_ids, purpose: str, brand_id: int, **kwargs) -> None:
    """A brand's record withdrew a consent (accounts.signals.consent_withdrawn): delete what
    was held only under it, as when the customer switches it off, the brand as actor. One
    query per such kind finds who holds any, so a batch of refusals from customers holding
    nothing costs no query per customer."""
    holders: set[int] = set()
    for kind in _kinds_held_only_under(purpose):
        holders.update(
            kind.get_model()
            ._default_manager.filter(**{f"{kind.owner}__in": customer_ids})
            .values_list(kind.owner, flat=True)
        )
    if not holders:
        return
    actor = Actor.brand(Brand.objects.get(pk=brand_id))
    for customer in Customer.objects.filter(pk__in=holders).order_by("pk"):
        _delete_held_only_under(customer=customer, purpose=purpose, actor=actor)


def _kinds_held_only_under(purpose: str) -> list[registry.DataKind]:
    """Kinds obtained only for `purpose` from a third party (partner data under
    "Third-party enrichment"): with that consent withdrawn they have no basis left."""
    return [
        kind
        for kind in registry.all_kinds()
        if kind.source == registry.Source.THIRD_PARTY and set(kind.purposes) == {purpose}
    ]


def _delete_held_only_under(*, customer: Customer, purpose: str, actor: Actor | None) -> None:
    """Consent withdrawn: data obtained only for that purpose has no basis left, so it
    goes, with a receipt and `data.deleted` to its brands, as if the customer had deleted
    it."""
    for kind in _kinds_held_only_under(purpose):
        if not kind.rows_for(customer).exists():
            continue
        data_delete(customer=customer, scope=ReceiptScope.KIND, kind_name=kind.name, actor=actor)


# --- export -------------------------------------------------------------------------------


@transaction.atomic
def export_record(*, customer: Customer, fmt: str, actor: Actor | None = None) -> DataRequest:
    """Log an export in the access log and as a fulfilled data request."""
    customer_lock(customer.pk)
    now = timezone.now()
    request = DataRequest.objects.create(
        customer=customer,
        kind=DataRequestKind.EXPORT,
        state=DataRequestState.DONE,
        received_at=now,
        completed_at=now,
    )
    audit_record(
        actor=actor or Actor.customer(customer),
        customer=customer,
        data_kind="all",
        action=AuditAction.EXPORT,
        object_ref=f"request {request.pk}",
        reason=f"export as {fmt}",
    )
    return request
