"""Training results -> the database: replace a scope's result set, audit, drop caches.

One transaction replaces a brand's (or one customer's) rows with plain-SQL bulk inserts
(``accounts.bulk``: executemany on SQLite, COPY on PostgreSQL) and writes one
audit row per customer touched (``audit_record_many``, streamed above its fast-path size).
A customer's "keep but don't use" on an inferred row survives its recomputation.

The result tables carry no database foreign-key constraints (see ``models.ResultRow``): the
references are kept here. Every customer written for is locked and alive (the caller's
``customers_lock``), the brand and run rows are held until commit (``FOR KEY SHARE``: they
cannot be deleted under the write), and rows for products deleted since the data was read
are dropped, one query for the whole set.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Iterator

import numpy as np
from django.core.cache import cache
from django.db import IntegrityError, connection

from accounts.audit import Actor, AuditEntry, audit_record_many
from accounts.bulk import columns_insert, now_db, rows_insert
from accounts.locks import customers_lock
from accounts.models import Brand
from ledger.models import Product, Source

from .. import selectors
from ..models import ContactHourInference, InferredInterest, Recommendation, TrainingRun
from ..widget import memo as widget_memo
from .data import TrainingData
from .rank import Fitted, interests_and_hours
from .rows import Recs


@dataclasses.dataclass
class Cleared:
    """A scope whose old results are deleted in the open transaction, ready to be filled:
    what the fill needs to know of what was there and of who is still there."""

    scope: dict
    run_id: int
    alive: set[int] | None  # the customers locked and found (None: the caller locked)
    products: set[int]  # the products rows may point at
    off: dict[str, set[tuple]]  # the keys switched off before, per table
    before: set[int] = dataclasses.field(default_factory=set)  # customers who had a row
    audited: set[int] = dataclasses.field(default_factory=set)  # audited while clearing
    interests: list = dataclasses.field(default_factory=list)
    hours: list = dataclasses.field(default_factory=list)


def brand_results_clear(brand_id: int, run_id: int, data: TrainingData, *, task: str) -> Cleared:
    """Lock every customer the brand's new results may concern, delete the old ones and
    audit the customers whose results change whatever the model says (inside the caller's
    transaction; training runs this while the model is being fitted on another thread, see
    ``rank.fit_and_rank(meanwhile=...)``). The caller audits the rest once the fill says
    who they are: ``brand_results_fill(...) - cleared.audited``."""
    scope = {"brand_id": brand_id}
    before: set[int] = set()
    # Everyone with a row before: a customer whose only row goes (a contact hour, say) is
    # audited too. order_by(): DISTINCT on the id alone.
    for model in (Recommendation, InferredInterest, ContactHourInference):
        rows = model.objects.filter(**scope).order_by().values_list("customer_id", flat=True)
        before.update(rows.distinct())
    interests, hours = interests_and_hours(data)
    profiled = {r[0] for r in interests} | {r[0] for r in hours}
    may_get_rows = set(data.user_index[0].tolist())  # ranked or cold start: everyone in it
    # Before any row changes, the lock every writer for these customers takes
    # (accounts.locks): an erasure waits for this write, or this write for it, never both
    # (a deadlock); customers erased since their data was read get no rows.
    alive = customers_lock(before | may_get_rows | profiled)
    cleared = results_clear(scope, run_id, product_ids=None, alive=alive)
    cleared.before, cleared.interests, cleared.hours = before, interests, hours
    # Everyone who had a row (now deleted) or gets a profile row is touched whatever the
    # ranking gives: audited now, while the model is still fitting, with the audit rows'
    # deferred reference checks run here rather than at COMMIT (about 2 s at 50,000
    # customers, off the retrain's critical path).
    cleared.audited = (before | profiled) & alive
    brand_results_audit(cleared.audited, brand_id, task)
    if connection.vendor == "postgresql":
        connection.check_constraints()
    return cleared


def brand_results_fill(cleared: Cleared, result: Fitted) -> set[int]:
    """Write the new results into a cleared brand; returns the customers whose results
    changed. A streamed result (``fit_and_rank(stream=True)``) is ranked chunk by chunk as
    it is written: the database stores one chunk while the next is ranked."""
    written = results_fill(cleared, result.rows(), cleared.interests, cleared.hours)
    profiled = {r[0] for r in cleared.interests} | {r[0] for r in cleared.hours}
    alive = cleared.alive if cleared.alive is not None else written | profiled
    return (cleared.before | written | profiled) & alive


def _rows_held(model: type[Brand] | type[TrainingRun], pk: int) -> bool:
    """Hold one referenced row until commit so it cannot be deleted under the write (what a
    foreign-key check would lock); False when it is already gone."""
    table = connection.ops.quote_name(model._meta.db_table)
    lock = " FOR KEY SHARE" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {table} WHERE id = %s{lock}", [pk])  # noqa: S608
        return cursor.fetchone() is not None


def _products_alive(brand_id: int, product_ids: list[int] | None) -> set[int]:
    """The brand's products that still exist, held until commit (``FOR KEY SHARE`` in
    PostgreSQL: a deletion waits for this write, and the deletion's trigger then removes
    the rows written here, see models.ResultRow): among ``product_ids`` (a few, by key), or
    all of them (``None``). Rows for a product deleted since the data was read are not
    written."""
    ids = None if product_ids is None or len(set(product_ids)) > 500 else sorted(set(product_ids))
    if connection.vendor != "postgresql":  # SQLite: one writer at a time, nothing to hold
        products = Product.objects.filter(brand_id=brand_id)
        if ids is not None:
            products = products.filter(pk__in=ids)
        return set(products.values_list("pk", flat=True))
    table = connection.ops.quote_name(Product._meta.db_table)
    some = "" if ids is None else " AND id = ANY(%s)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {table} WHERE brand_id = %s{some} ORDER BY id FOR KEY SHARE",  # noqa: S608
            [brand_id] if ids is None else [brand_id, ids],
        )
        return {row[0] for row in cursor.fetchall()}


def _switched_off(
    model: type[Recommendation] | type[InferredInterest] | type[ContactHourInference],
    scope: dict,
    key: tuple[str, ...],
) -> set[tuple]:
    """A customer's "keep but don't use" on an inferred row survives its recomputation."""
    return {tuple(k) for k in model.objects.filter(in_use=False, **scope).values_list(*key)}


def results_write(
    scope: dict,
    recs: Recs | Iterable[Recs],
    interests: list,
    hours: list,
    *,
    run_id: int,
    alive: set[int] | None = None,
) -> set[int]:
    """Replace the scope's results (call inside a transaction, after locking the customers
    written for; ``alive``: the ones the lock found, rows for others are dropped). ``recs``:
    the rows, or chunks of them (consumed while the first table is being written). Returns
    the customers given recommendation rows."""
    if isinstance(recs, Recs):  # one customer's (or a few) rows: their products by key
        cleared = results_clear(scope, run_id, product_ids=recs.product_ids, alive=alive)
        recs = [recs]
    else:  # chunks still to be ranked: the brand's whole catalogue
        cleared = results_clear(scope, run_id, product_ids=None, alive=alive)
    return results_fill(cleared, recs, interests, hours)


def results_clear(
    scope: dict, run_id: int, *, product_ids: list[int] | None, alive: set[int] | None
) -> Cleared:
    """Hold what the new rows will point at, note the keys switched off, delete the old
    rows (``product_ids``: the products the new rows will name, None for any of the
    brand's)."""
    if not _rows_held(Brand, scope["brand_id"]) or not _rows_held(TrainingRun, run_id):
        raise IntegrityError("the brand or its training run was deleted during the write")
    products = _products_alive(scope["brand_id"], product_ids)
    off = {
        "recs": _switched_off(Recommendation, scope, ("customer_id", "product_id")),
        "interests": _switched_off(InferredInterest, scope, ("customer_id", "category")),
        "hours": _switched_off(ContactHourInference, scope, ("customer_id",)),
    }
    Recommendation.objects.filter(**scope).delete()
    InferredInterest.objects.filter(**scope).delete()
    ContactHourInference.objects.filter(**scope).delete()
    return Cleared(scope, run_id, alive, products, off)


def results_fill(cleared: Cleared, recs: Iterable[Recs], interests: list, hours: list) -> set[int]:
    """Insert the rows into a cleared scope; returns the customers given recommendation
    rows. Longer than 50 lines because it lists, column by column, the rows of the three
    result tables."""
    scope, alive, products = cleared.scope, cleared.alive, cleared.products
    off_recs, off_interests, off_hours = (cleared.off[k] for k in ("recs", "interests", "hours"))
    if alive is not None:
        interests = [r for r in interests if r[0] in alive]
        hours = [r for r in hours if r[0] in alive]
    brand_id = scope["brand_id"]
    now = now_db()
    same = {"brand_id": brand_id, "source": Source.INFERRED, "created_at": now, "updated_at": now}
    written: set[int] = set()
    held = np.fromiter(products, dtype=np.int64, count=len(products))
    found = None if alive is None else np.fromiter(alive, dtype=np.int64, count=len(alive))

    def rec_columns() -> Iterator[tuple[list, ...]]:
        for chunk in recs:
            # Rows of customers erased, or products deleted, since the data was read go.
            keep = np.isin(np.asarray(chunk.product_ids, dtype=np.int64), held)
            if found is not None:
                keep &= np.isin(np.asarray(chunk.customer_ids, dtype=np.int64), found)
            columns = [getattr(chunk, name) for name in Recs.FIELDS]
            if not keep.all():
                take = np.flatnonzero(keep).tolist()
                columns = [[column[i] for i in take] for column in columns]
            cids, pids, ranks, scores, popular, why = columns
            written.update(cids)
            if off_recs:  # the customers' "keep but don't use" carried over
                in_use = [(c, p) not in off_recs for c, p in zip(cids, pids, strict=True)]
            else:
                in_use = [True] * len(cids)
            yield cids, in_use, pids, ranks, scores, popular, why

    columns_insert(
        Recommendation,
        ["customer_id", "in_use", "product_id", "rank", "score", "is_popular", "explanation"],
        rec_columns(),
        same={**same, "training_run_id": cleared.run_id},
    )
    rows_insert(
        InferredInterest,
        ["customer_id", "in_use", "category", "weight"],
        ((cid, (cid, cat) not in off_interests, cat, w) for cid, cat, w in interests),
        same=same,
    )
    rows_insert(
        ContactHourInference,
        ["customer_id", "in_use", "hour", "confidence"],
        ((cid, (cid,) not in off_hours, h, c) for cid, h, c in hours),
        same=same,
    )
    return written


def brand_results_audit(customer_ids: set[int], brand_id: int, task: str) -> None:
    """One audit row per customer whose inferred data changed (same transaction; the
    customers are the ones the write locked and found, so all exist)."""
    audit_record_many(
        actor=dataclasses.replace(Actor.system(task), brand_id=brand_id),
        entries=(
            AuditEntry(
                customer_id=customer_id,
                data_kind="recommendation",
                action="recompute",
                reason="model retrained",
            )
            for customer_id in sorted(customer_ids)
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
