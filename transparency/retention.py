"""The retention sweep: every row past its retention goes, with one receipt per customer.

How long a kind is kept is declared with it (`retention_days`, `retention` per brand
sensitivity profile); this deletes through the same bulk engine as the customer's own
deletions (transparency.erasure).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import models, transaction
from django.db.models import Count
from django.utils import timezone

from accounts.audit import Actor, AuditEntry, audit_record_many
from accounts.locks import customers_lock
from accounts.models import Brand, CustomerBrand, Sensitivity
from recommendations import services as rec_services

from . import bridge, registry
from .erasure import _delete_rows, _model_kinds, _shapes_models
from .models import DeletionReceipt, ReceiptScope
from .registry import AuditAction
from .relations import relations_to_delete

RETENTION_TASK = "transparency.retention_sweep"


def _sweepable(kind) -> bool:
    """Kinds with a collection time and a retention; a kind whose rows hang off another
    kind's rows (order lines) goes with its parent instead."""
    if not kind.created_field or kind.kept_as_proof:
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
    receipt per affected customer. Returns the number of rows deleted.

    Longer than 50 lines: the per-brand and per-kind cut-offs, the deletions and the
    receipts share one loop over the kinds; split, each part would re-walk the kinds.
    """
    now = now or timezone.now()
    per_customer: dict[int, dict[str, int]] = defaultdict(dict)
    # {customer: {brand: {kind: rows}}}: what each connected brand is told went.
    told: dict[int, dict[int, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
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
                if kind.brand_field and kind.owner:
                    _count_per_brand(told, kind, qs)
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
        audit_record_many(
            actor=Actor.system(RETENTION_TASK),
            entries=(
                AuditEntry(
                    customer_id=receipt.customer_id,
                    data_kind=",".join(sorted(receipt.kinds)),
                    action=AuditAction.DELETE,
                    object_ref=str(receipt.public_id),
                    reason="retention period ended",
                )
                for receipt in receipts
            ),
        )
        _tell_brands(receipts, told, now)
        for customer_id in per_customer:
            rec_services.customer_recompute_request(customer_id=customer_id)
        for brand_id in sorted(brands):
            rec_services.brand_retrain_request(
                brand_id=brand_id, reason="retention sweep", withdrawn=True
            )
    return total


def _count_per_brand(told: dict, kind, qs) -> None:
    """Add `qs`'s rows, per customer and brand, to what the brands will be told."""
    rows = qs.order_by().values_list(kind.owner, kind.brand_field).annotate(n=Count("pk"))
    for customer_id, brand_id, n in rows:
        if customer_id is not None and brand_id is not None:
            kinds = told[customer_id][brand_id]
            kinds[kind.name] = kinds.get(kind.name, 0) + n


def _tell_brands(receipts: list[DeletionReceipt], told: dict, now: datetime) -> None:
    """`data.deleted` (scope "retention") to each connected brand whose rows went, with the
    count per kind and the cut-off the brand's profile set, so the brand can let its own
    copies go by the same rule (no external ids: a sweep can remove millions of rows)."""
    customer_ids = [r.customer_id for r in receipts if told.get(r.customer_id)]
    if not customer_ids:
        return
    links: dict[int, dict[int, str]] = defaultdict(dict)
    for customer_id, brand_id, ref in CustomerBrand.objects.filter(
        customer_id__in=customer_ids
    ).values_list("customer_id", "brand_id", "external_ref"):
        links[customer_id][brand_id] = ref
    brand_ids = {b for c in customer_ids for b in told[c]}
    sensitivity = dict(Brand.objects.filter(pk__in=brand_ids).values_list("pk", "sensitivity"))
    deletions = []
    for receipt in receipts:
        customer_id = receipt.customer_id or 0  # set: the receipt was just written for them
        summary = bridge.DeletionSummary(links=links.get(customer_id, {}))
        for brand_id, kinds in told.get(customer_id, {}).items():
            if brand_id not in summary.links:
                continue
            for name, n in kinds.items():
                entry: dict = {"count": n}
                days = registry.get(name).retention_for(sensitivity[brand_id])
                if days is not None:
                    entry["older_than"] = bridge.iso(now - timedelta(days=days))
                summary.kinds[brand_id][name] = entry
        if summary.kinds:
            deletions.append((receipt, summary))
    bridge.data_deleted_many(deletions, scope=ReceiptScope.RETENTION)


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
    for rel in relations_to_delete(kind.get_model()):
        child_name = model_kinds.get(rel.model)
        if child_name is None or rel.on_delete is not models.CASCADE:
            continue
        child = registry.get(child_name)
        if not child.owner:
            continue
        related = rel.model._default_manager.filter(**{f"{rel.field}__in": qs.values("pk")})
        groups.append((child_name, child.owner, related))
    for name, owner, rows in groups:
        for customer_id, n in rows.order_by().values_list(owner).annotate(n=Count("pk")):
            if customer_id is not None:
                yield name, customer_id, n


def _expired(kind, now: datetime):
    """Querysets of expired rows: one per brand sensitivity, one for rows with no brand."""
    manager = kind.get_model()._default_manager
    if kind.brand_field:
        for sensitivity in Sensitivity.values:
            days = kind.retention_for(sensitivity)
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
