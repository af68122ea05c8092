"""Training results -> the database: replace a scope's result set, audit, drop caches.

One transaction replaces a brand's (or one customer's) rows with plain-SQL bulk inserts
(``accounts.bulk.rows_insert``: executemany on SQLite, COPY on PostgreSQL) and writes one
audit row per customer touched (``audit_record_many``, streamed above its fast-path size).
A customer's "keep but don't use" on an inferred row survives its recomputation.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Collection, Iterator
from typing import Any

from django.core.cache import cache

from accounts.audit import Actor, AuditEntry, audit_record_many
from accounts.bulk import now_db, rows_insert
from accounts.locks import customers_lock
from accounts.models import Customer
from ledger.models import Source

from .. import selectors
from ..models import ContactHourInference, InferredInterest, Recommendation
from ..widget import memo as widget_memo
from .data import TrainingData
from .rank import Fitted, interests_and_hours
from .rows import Recs


def brand_results_replace(
    brand_id: int, run_id: int, data: TrainingData, result: Fitted
) -> set[int]:
    """Replace the brand's result set (inside the caller's transaction); returns the
    customers whose results changed (everyone with a row before or after)."""
    scope = {"brand_id": brand_id}
    before: set[int] = set()
    # Everyone with a row before: a customer whose only row goes (a contact hour, say) is
    # audited too. order_by(): DISTINCT on the id alone.
    for model in (Recommendation, InferredInterest, ContactHourInference):
        rows = model.objects.filter(**scope).order_by().values_list("customer_id", flat=True)
        before.update(rows.distinct())
    recs = result.recommendations
    interests, hours = interests_and_hours(data)
    everyone = before | set(recs.customer_ids) | {r[0] for r in interests} | {r[0] for r in hours}
    # Before any row changes, the lock every writer for these customers takes
    # (accounts.locks): an erasure waits for this write, or this write for it, never both
    # (a deadlock); customers erased since their data was read get no rows.
    alive = customers_lock(everyone)
    if alive != everyone:
        recs, interests, hours = _only_for(alive, recs, interests, hours)
    results_write(scope, recs, interests, hours, run_id=run_id)
    return alive


def _only_for(alive: set[int], recs: Recs, interests: list, hours: list) -> tuple[Recs, list, list]:
    keep = [i for i, customer_id in enumerate(recs.customer_ids) if customer_id in alive]
    recs = Recs(*([getattr(recs, name)[i] for i in keep] for name in Recs.FIELDS))
    return recs, [r for r in interests if r[0] in alive], [r for r in hours if r[0] in alive]


def _switched_off(
    model: type[Recommendation] | type[InferredInterest] | type[ContactHourInference],
    scope: dict,
    key: tuple[str, ...],
) -> set[tuple]:
    """A customer's "keep but don't use" on an inferred row survives its recomputation."""
    return {tuple(k) for k in model.objects.filter(in_use=False, **scope).values_list(*key)}


def results_write(scope: dict, recs: Recs, interests: list, hours: list, *, run_id: int) -> None:
    """Replace the scope's results (call inside a transaction). Longer
    than 50 lines because it lists, column by column, the rows of the three result tables.
    """
    off_recs = _switched_off(Recommendation, scope, ("customer_id", "product_id"))
    off_interests = _switched_off(InferredInterest, scope, ("customer_id", "category"))
    off_hours = _switched_off(ContactHourInference, scope, ("customer_id",))
    Recommendation.objects.filter(**scope).delete()
    InferredInterest.objects.filter(**scope).delete()
    ContactHourInference.objects.filter(**scope).delete()
    brand_id, now, n = scope["brand_id"], now_db(), len(recs)

    def same(value: Any) -> Iterator[Any]:
        return itertools.repeat(value, n)

    common = ["customer_id", "brand_id", "source", "in_use", "created_at", "updated_at"]
    in_use = (
        [pair not in off_recs for pair in zip(recs.customer_ids, recs.product_ids, strict=True)]
        if off_recs
        else same(True)
    )
    rows_insert(
        Recommendation,
        [*common, "product_id", "rank", "score", "is_popular", "explanation", "training_run_id"],
        list(
            zip(
                recs.customer_ids,
                same(brand_id),
                same(Source.INFERRED),
                in_use,
                same(now),
                same(now),
                recs.product_ids,
                recs.ranks,
                recs.scores,
                recs.popular,
                recs.explanations,
                same(run_id),
                strict=True,
            )
        ),
    )
    rows_insert(
        InferredInterest,
        [*common, "category", "weight"],
        [
            (cid, brand_id, Source.INFERRED, (cid, cat) not in off_interests, now, now, cat, w)
            for cid, cat, w in interests
        ],
    )
    rows_insert(
        ContactHourInference,
        [*common, "hour", "confidence"],
        [
            (cid, brand_id, Source.INFERRED, (cid,) not in off_hours, now, now, h, c)
            for cid, h, c in hours
        ],
    )


def brand_results_audit(customer_ids: set[int], brand_id: int, task: str) -> None:
    """One audit row per customer whose inferred data changed (same transaction)."""
    existing = sorted(Customer.objects.filter(pk__in=customer_ids).values_list("pk", flat=True))
    audit_record_many(
        actor=dataclasses.replace(Actor.system(task), brand_id=brand_id),
        entries=(
            AuditEntry(
                customer_id=customer_id,
                data_kind="recommendation",
                action="recompute",
                reason="model retrained",
            )
            for customer_id in existing
        ),
    )


def results_cache_forget(
    *, brand_ids: Collection[int], customer_ids: Collection[int], anonymous: bool = False
) -> None:
    """Drop cached widget results: in the shared cache, and in every serving process's
    memo (widget_memo), by customer, or the whole brand when everyone's results changed."""
    keys = [selectors.widget_cache_key(b, c) for b in brand_ids for c in customer_ids]
    if anonymous:
        keys += [selectors.widget_cache_key(b, None) for b in brand_ids]
    if keys:
        cache.delete_many(keys)
    if anonymous:
        widget_memo.publish(brand_ids=brand_ids)
    else:
        widget_memo.publish(customer_ids=customer_ids)
