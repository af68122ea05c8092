"""Writes behind "My data": use toggles, deletion with receipts, export records, retention.

Deletion is driven by the registry and runs a constant number of bulk statements whatever
the data size: for each kind, the rows that depend on it are handled first with one
statement per relation (CASCADE -> delete, SET_NULL -> update), then the kind's own rows go
in one DELETE. Derived data (recommendations, caches, models) is purged or rebuilt through
the recommendations app's services, asked for through the outbox after commit.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.db.models import Count
from django.db.models.deletion import ProtectedError, get_candidate_relations_to_delete
from django.utils import timezone

from accounts import outbox
from accounts.append_only import history_rewrite
from accounts.audit import Actor, audit_record
from accounts.consent_history import consent_event_record
from accounts.keys import tombstone_digest
from accounts.locks import customer_lock, customers_lock
from accounts.models import (
    ActorKind,
    AuditEvent,
    ConsentEvent,
    Customer,
    CustomerBrand,
    ErasureTombstone,
    KindSetting,
    Purpose,
    PurposeConsent,
)
from accounts.services import account_sessions_end
from recommendations import services as rec_services
from recommendations.switches import MODEL_KINDS

from . import bridge, registry, retrains, selectors
from .models import DataRequest, DataRequestKind, DataRequestState, DeletionReceipt, ReceiptScope

log = logging.getLogger(__name__)
User = get_user_model()

DASHBOARD = "dashboard"
RETENTION_TASK = "transparency.retention_sweep"


class NothingToDelete(Exception):
    pass


class NotDeletable(Exception):
    pass


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
        action="use_on" if granted else "use_off",
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
    if purpose not in Purpose.values:
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


def _delete_held_only_under(*, customer: Customer, purpose: str, actor: Actor | None) -> None:
    """Consent withdrawn: data obtained only for that purpose (partner data, held under
    "Third-party enrichment") has no basis left, so it goes, with a receipt and
    `data.deleted` to its brands, as if the customer had deleted it."""
    for kind in registry.all_kinds():
        if kind.source != registry.Source.THIRD_PARTY or set(kind.purposes) != {purpose}:
            continue
        if not kind.rows_for(customer).exists():
            continue
        data_delete(customer=customer, scope=ReceiptScope.KIND, kind_name=kind.name, actor=actor)


# --- the bulk deletion engine ---------------------------------------------------------------


def _delete_rows(
    qs, *, counts: dict[str, int], model_kinds: dict, fallback: str, depth: int = 0
) -> None:
    """Delete `qs` and what depends on it, one statement per relation, no rows loaded."""
    if depth > 8:
        raise RecursionError(f"relations to {qs.model._meta.label} nest too deep")
    model = qs.model
    kind_name = model_kinds.get(model, fallback)
    ids = qs.values("pk")
    for rel in get_candidate_relations_to_delete(model._meta):
        field = rel.field
        on_delete = field.remote_field.on_delete
        related = rel.related_model._base_manager.filter(**{f"{field.name}__in": ids})
        if on_delete is models.CASCADE:
            _delete_rows(
                related,
                counts=counts,
                model_kinds=model_kinds,
                fallback=kind_name,
                depth=depth + 1,
            )
        elif on_delete is models.SET_NULL:
            related.update(**{field.name: None})
        elif on_delete is models.DO_NOTHING:
            continue
        elif related.exists():  # PROTECT, RESTRICT, SET_DEFAULT: refuse, never guess
            raise ProtectedError(f"{rel.related_model._meta.label} still refers to it", set())
    deleted = qs._raw_delete(qs.db)
    if deleted:
        counts[kind_name] = counts.get(kind_name, 0) + deleted


def _model_kinds() -> dict:
    return {kind.get_model(): kind.name for kind in registry.all_kinds()}


def _path_models(kind) -> set:
    """Models the owner lookup walks through (their rows must still exist to find ours)."""
    found, model = set(), kind.get_model()
    for part in filter(None, kind.owner.split("__")):
        model = model._meta.get_field(part).related_model
        found.add(model)
    return found


def deletion_order(kinds: Iterable) -> list:
    """Children before parents: a kind goes before any kind its rows point to or whose
    rows its owner lookup walks through (order lines before orders)."""
    kinds = list(kinds)
    by_model = {k.get_model(): k for k in kinds}
    after: dict[str, set[str]] = {k.name: set() for k in kinds}
    for kind in kinds:
        model = kind.get_model()
        targets = _path_models(kind) | {
            f.related_model for f in model._meta.concrete_fields if f.is_relation
        }
        for target in targets:
            parent = by_model.get(target)
            if parent is not None and parent.name != kind.name:
                after[parent.name].add(kind.name)  # parent waits for kind
    ordered, done = [], set()
    while len(ordered) < len(kinds):
        ready = [k for k in kinds if k.name not in done and after[k.name] <= done]
        if not ready:  # a cycle: take the rest as registered
            ready = [k for k in kinds if k.name not in done]
        for k in ready:
            ordered.append(k)
            done.add(k.name)
    return ordered


def _brands_touched(plan: list[tuple]) -> set[int]:
    brands: set[int] = set()
    for kind, qs in plan:
        if kind.brand_field and _shapes_models(kind):
            brands.update(
                b
                for b in qs.order_by().values_list(kind.brand_field, flat=True).distinct()
                if b is not None
            )
    return brands


def _shapes_models(kind) -> bool:
    return "personalization" in kind.purposes or kind.source == registry.Source.INFERRED


def _run_plan(plan: list[tuple]) -> dict[str, int]:
    model_kinds = _model_kinds()
    counts: dict[str, int] = {}
    ordered = deletion_order(kind for kind, _ in plan)
    querysets = {kind.name: qs for kind, qs in plan}
    for kind in ordered:
        _delete_rows(
            querysets[kind.name], counts=counts, model_kinds=model_kinds, fallback=kind.name
        )
    return counts


def _after_deletion(
    *, receipt: DeletionReceipt, customer_id: int, brands: set[int], scope: str
) -> None:
    """Purge derived data now; ask for the recompute and retrains (outbox, after commit)."""
    rec_services.customer_results_purge(customer_id=customer_id)
    if scope != ReceiptScope.ACCOUNT:
        rec_services.customer_recompute_request(customer_id=customer_id)
    # The run that reads the data after this marks the receipt (transparency.retrains).
    retrains.retrain_without(brand_ids=brands, reason=f"deletion ({scope})", receipt=receipt)


def deletion_plan(
    *,
    customer: Customer,
    scope: str,
    kind_name: str = "",
    pk: int | None = None,
    brand_id: int | None = None,
) -> list[tuple]:
    """[(kind, queryset)] a deletion would remove, validated against what may go alone."""
    if scope == ReceiptScope.POINT or scope == ReceiptScope.KIND:
        kind = registry.get(kind_name)
        if kind.name in selectors.NOT_DELETABLE_ALONE:
            raise NotDeletable(selectors.NOT_DELETABLE_ALONE[kind.name])
        qs = kind.rows_for(customer)
        if scope == ReceiptScope.POINT:
            qs = qs.filter(pk=pk)
            if not qs.exists():
                raise kind.get_model().DoesNotExist
        return [(kind, qs)]
    if scope == ReceiptScope.BRAND:
        return [
            (kind, kind.rows_for(customer).filter(**{kind.brand_field: brand_id}))
            for kind in registry.all_kinds()
            if kind.brand_field and kind.name not in selectors.NOT_DELETABLE_ALONE
        ]
    if scope == ReceiptScope.ACCOUNT:
        return [
            (kind, kind.rows_for(customer))
            for kind in registry.all_kinds()
            if kind.name not in selectors.KEPT_AS_PROOF
        ]
    raise ValueError(scope)


@transaction.atomic
def data_delete(
    *,
    customer: Customer,
    scope: str,
    kind_name: str = "",
    pk: int | None = None,
    brand_id: int | None = None,
    actor: Actor | None = None,
) -> DeletionReceipt:
    """Delete one point, a kind or a brand's data; leave a receipt. Not for the account."""
    if scope == ReceiptScope.ACCOUNT:
        raise ValueError("use account_erase")
    if not customers_lock([customer.pk]):
        raise NothingToDelete  # the account was erased meanwhile
    actor = actor or Actor.customer(customer)
    requested_at = timezone.now()
    plan = deletion_plan(
        customer=customer, scope=scope, kind_name=kind_name, pk=pk, brand_id=brand_id
    )
    brands = _brands_touched(plan)
    told = bridge.deletion_summary(customer=customer, plan=plan)
    counts = _run_plan(plan)
    if not counts:
        raise NothingToDelete
    receipt = DeletionReceipt.objects.create(
        customer=customer,
        scope=scope,
        kinds=counts,
        model_versions_after={str(b): None for b in sorted(brands)},
        requested_at=requested_at,
        completed_at=timezone.now(),
    )
    for name in sorted(counts):
        audit_record(
            actor=actor,
            customer=customer,
            data_kind=name,
            action="delete",
            object_ref=str(receipt.public_id),
            reason=f"{receipt.get_scope_display().lower()}: {counts[name]} item(s)",
        )
    bridge.data_deleted(receipt=receipt, summary=told, scope=scope)
    _after_deletion(receipt=receipt, customer_id=customer.pk, brands=brands, scope=scope)
    return receipt


@transaction.atomic
def account_erase(*, customer: Customer, actor: Actor | None = None) -> DeletionReceipt | None:
    """Erase the whole account: every registered kind, then the customer and the user.

    Tombstones stop late ingest from bringing the customer back; the receipt and the
    request record remain, detached, with kinds, counts and times only. The customer's
    lock (accounts.locks), taken first, makes every other writer for them wait and then
    drop its write. Returns None when the account is already gone (a second erasure at
    the same time, or a retry): the first one's receipt stands.
    """
    if not customers_lock([customer.pk], erasing=True):
        return None
    requested_at = timezone.now()
    customer_id, user_id = customer.pk, customer.user_id
    links = list(
        CustomerBrand.objects.filter(customer=customer).values_list("brand_id", "external_ref")
    )
    ErasureTombstone.objects.bulk_create(
        [ErasureTombstone(brand_id=b, ref_digest=tombstone_digest(b, ref)) for b, ref in links],
        ignore_conflicts=True,
    )
    plan = deletion_plan(customer=customer, scope=ReceiptScope.ACCOUNT)
    brands = _brands_touched(plan) | {b for b, _ in links}
    # Every session naming the account ends too: other devices, and logins left half-way;
    # so does work still waiting for them.
    account_sessions_end(user_id=user_id)
    outbox.discard_for_customer(customer_id=customer_id)
    # Customer and user go last, by id: every other kind is found through them.
    by_model = {k.get_model(): k for k, _ in plan}
    # The access log and consent history go too: the documented way past their
    # append-only triggers (accounts.append_only).
    with history_rewrite(reason="erasure"):
        counts = _run_plan([(k, qs) for k, qs in plan if k.get_model() not in (Customer, User)])
        model_kinds = _model_kinds()
        for model, pk in ((Customer, customer_id), (User, user_id)):
            kind = by_model.get(model)
            _delete_rows(
                model._base_manager.filter(pk=pk),
                counts=counts,
                model_kinds=model_kinds,
                fallback=kind.name if kind else model._meta.model_name,
            )
    receipt = DeletionReceipt.objects.create(
        customer=None,
        scope=ReceiptScope.ACCOUNT,
        kinds=counts,
        model_versions_after={str(b): None for b in sorted(brands)},
        requested_at=requested_at,
        completed_at=timezone.now(),
    )
    DataRequest.objects.create(
        customer=None,
        kind=DataRequestKind.ERASURE,
        state=DataRequestState.DONE,
        received_at=requested_at,
        completed_at=receipt.completed_at,
        receipt=receipt,
    )
    # The customer's own audit rows went with the account; this one names only the receipt.
    erased_by = actor or Actor(kind=ActorKind.CUSTOMER, label="the account holder")
    audit_record(
        actor=Actor(kind=erased_by.kind, label=erased_by.label),
        customer=None,
        data_kind="account",
        action="erase",
        object_ref=str(receipt.public_id),
        reason="whole-account erasure",
    )
    bridge.customer_erased(receipt=receipt, links=dict(links))
    _after_deletion(
        receipt=receipt, customer_id=customer_id, brands=brands, scope=ReceiptScope.ACCOUNT
    )
    return receipt


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
        action="export",
        object_ref=f"request {request.pk}",
        reason=f"export as {fmt}",
    )
    return request


# --- retention ----------------------------------------------------------------------------


def _sweepable(kind) -> bool:
    """Kinds with a collection time and a retention; a kind whose rows hang off another
    kind's rows (order lines) goes with its parent instead."""
    if not kind.created_field or kind.name in selectors.KEPT_AS_PROOF:
        return False
    model = kind.get_model()
    kind_models = {k.get_model() for k in registry.all_kinds()}
    return not any(
        f.is_relation
        and f.related_model in kind_models
        and f.related_model is not model
        and f.remote_field.on_delete is models.CASCADE
        and f.related_model._meta.label_lower not in {"accounts.customer", "auth.user"}
        for f in model._meta.concrete_fields
    )


def retention_sweep(*, now: datetime | None = None) -> int:
    """Delete every row past its retention (brand profile first, then the kind); one
    receipt per affected customer. Returns the number of rows deleted."""
    now = now or timezone.now()
    per_customer: dict[int, dict[str, int]] = defaultdict(dict)
    brands: set[int] = set()
    total = 0
    with transaction.atomic():
        # Customers first, in one sorted lock (accounts.locks), before any of their rows:
        # an erasure running meanwhile then waits for the sweep, or the sweep for it.
        locked = _customers_with_expired(now)
        alive = customers_lock(locked)
        model_kinds = _model_kinds()
        for kind in registry.all_kinds():
            if not _sweepable(kind):
                continue
            for qs in _expired(kind, now):
                for name, customer_id, n in _per_customer_counts(kind, qs, model_kinds):
                    bucket = per_customer[customer_id]
                    bucket[name] = bucket.get(name, 0) + n
                if kind.brand_field and _shapes_models(kind):
                    brands.update(
                        b
                        for b in qs.order_by().values_list(kind.brand_field, flat=True).distinct()
                        if b is not None
                    )
                counts: dict[str, int] = {}
                _delete_rows(qs, counts=counts, model_kinds=model_kinds, fallback=kind.name)
                total += sum(counts.values())
        # Rows that expired since the first look (a backdated ingest) have owners of their own.
        alive |= customers_lock(per_customer.keys() - locked)
        for customer_id in per_customer.keys() - alive:
            del per_customer[customer_id]  # erased meanwhile: their erasure has the receipt
        if not per_customer:
            return total
        receipts = DeletionReceipt.objects.bulk_create(
            [
                DeletionReceipt(
                    customer_id=customer_id,
                    scope=ReceiptScope.RETENTION,
                    kinds=kinds,
                    model_versions_after={},
                    requested_at=now,
                    completed_at=timezone.now(),
                )
                for customer_id, kinds in per_customer.items()
            ]
        )
        actor = Actor.system(RETENTION_TASK)
        AuditEvent.objects.bulk_create(
            [
                AuditEvent(
                    customer_id=receipt.customer_id,
                    actor_kind=actor.kind,
                    actor_label=actor.label,
                    data_kind=",".join(sorted(receipt.kinds))[:60],
                    action="delete",
                    object_ref=str(receipt.public_id),
                    reason="retention period ended",
                )
                for receipt in receipts
            ]
        )
        for customer_id in per_customer:
            rec_services.customer_recompute_request(customer_id=customer_id)
        for brand_id in sorted(brands):
            rec_services.brand_retrain_request(brand_id=brand_id, reason="retention sweep")
    return total


def _customers_with_expired(now: datetime) -> set[int]:
    ids: set[int] = set()
    for kind in registry.all_kinds():
        if _sweepable(kind):
            for qs in _expired(kind, now):
                ids.update(qs.order_by().values_list(kind.owner or "pk", flat=True).distinct())
    ids.discard(None)
    return ids


def _per_customer_counts(kind, qs, model_kinds: dict):
    """(kind name, customer id, rows) for `qs` and the rows of other kinds that go with it."""
    groups = [(kind.name, kind.owner or "pk", qs)]
    for rel in get_candidate_relations_to_delete(kind.get_model()._meta):
        child_name = model_kinds.get(rel.related_model)
        if child_name is None or rel.field.remote_field.on_delete is not models.CASCADE:
            continue
        child = registry.get(child_name)
        if not child.owner:
            continue
        related = rel.related_model._default_manager.filter(
            **{f"{rel.field.name}__in": qs.values("pk")}
        )
        groups.append((child_name, child.owner, related))
    for name, owner, rows in groups:
        for customer_id, n in rows.order_by().values_list(owner).annotate(n=Count("pk")):
            if customer_id is not None:
                yield name, customer_id, n


def _expired(kind, now: datetime):
    """Querysets of expired rows: one per brand sensitivity, one for rows with no brand."""
    from accounts.models import Sensitivity

    manager = kind.get_model()._default_manager
    if kind.brand_field:
        for sensitivity in Sensitivity.values:
            days = selectors.retention_for(kind, sensitivity)
            if days is not None:
                yield manager.filter(
                    **{
                        f"{kind.brand_field}__sensitivity": sensitivity,
                        f"{kind.created_field}__lt": now - timedelta(days=days),
                    }
                )
        if kind.retention_days is not None:
            yield manager.filter(
                **{
                    f"{kind.brand_field}__isnull": True,
                    f"{kind.created_field}__lt": now - timedelta(days=kind.retention_days),
                }
            )
    elif kind.retention_days is not None:
        yield manager.filter(
            **{f"{kind.created_field}__lt": now - timedelta(days=kind.retention_days)}
        )
