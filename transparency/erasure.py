"""Deletion with receipts: one point, a kind, a brand's data, or the whole account.

Deletion is driven by the registry and runs a constant number of bulk statements whatever
the data size: for each kind, the rows that depend on it are handled first with one
statement per relation (CASCADE -> delete, SET_NULL -> update), then the kind's own rows go
in one DELETE. Derived data (recommendations, caches, models) is purged or rebuilt through
the recommendations app's services, asked for through the outbox after commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.db.models import QuerySet
from django.db.models.deletion import ProtectedError
from django.utils import timezone

from accounts import outbox
from accounts.append_only import history_rewrite
from accounts.audit import Actor, audit_record
from accounts.keys import tombstone_digest
from accounts.locks import customers_lock
from accounts.models import ActorKind, Customer, CustomerBrand, ErasureTombstone
from accounts.services import account_sessions_end
from recommendations import services as rec_services

from . import bridge, registry, retrains
from .models import DataRequest, DataRequestKind, DataRequestState, DeletionReceipt, ReceiptScope
from .registry import AuditAction, DataKind
from .relations import relations_to_delete

User = get_user_model()


class NothingToDelete(Exception):
    pass


class NotDeletable(Exception):
    pass


def _delete_rows(
    qs: QuerySet[Any], *, counts: dict[str, int], model_kinds: dict, fallback: str, depth: int = 0
) -> None:
    """Delete `qs` and what depends on it, one statement per relation, no rows loaded."""
    if depth > 8:
        raise RecursionError(f"relations to {qs.model._meta.label} nest too deep")
    model = qs.model
    kind_name = model_kinds.get(model, fallback)
    ids = qs.values("pk")
    for rel in relations_to_delete(model):
        related = rel.model._base_manager.filter(**{f"{rel.field}__in": ids})
        if rel.on_delete is models.CASCADE:
            _delete_rows(
                related,
                counts=counts,
                model_kinds=model_kinds,
                fallback=kind_name,
                depth=depth + 1,
            )
        elif rel.on_delete is models.SET_NULL:
            related.update(**{rel.field: None})
        elif rel.on_delete is models.DO_NOTHING:
            continue
        elif related.exists():  # PROTECT, RESTRICT, SET_DEFAULT: refuse, never guess
            raise ProtectedError(f"{rel.model._meta.label} still refers to it", set())
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
    ordered: list[DataKind] = []
    done: set[str] = set()
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
        if kind.not_deletable_alone:
            raise NotDeletable(kind.not_deletable_alone)
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
            if kind.brand_field and not kind.not_deletable_alone
        ]
    if scope == ReceiptScope.ACCOUNT:
        return [
            (kind, kind.rows_for(customer))
            for kind in registry.all_kinds()
            if not kind.kept_as_proof
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
            action=AuditAction.DELETE,
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

    Longer than 50 lines: one transaction in a fixed order (lock, plan, delete, receipt,
    tombstone, notices); kept in one place so the order that makes it race-safe reads top
    to bottom.
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
                fallback=kind.name if kind else str(model._meta.model_name),
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
        action=AuditAction.ERASE,
        object_ref=str(receipt.public_id),
        reason="whole-account erasure",
    )
    bridge.customer_erased(receipt=receipt, links=dict(links))
    _after_deletion(
        receipt=receipt, customer_id=customer_id, brands=brands, scope=ReceiptScope.ACCOUNT
    )
    return receipt
