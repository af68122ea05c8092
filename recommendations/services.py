"""Writes for recommendations: training, per-customer recompute, purge, feedback.

Flow of a retrain (`train_brand`): claim the pending TrainingRun with a conditional UPDATE
(or create it already claimed) → extract allowed ratings (selectors.training_data: numeric
columns, one query per table) → ``training.fit_and_rank``: sparse signals, the model the
catalogue size picks (EASE up to mlcore.rank.EASE_MAX_ITEMS items, ALS above) with its reg
tuned for this brand on a validation cut of its own data, top-N for every customer in
chunks of users, explanations from their own points (built as JSON text, looked up only for
the pairs cited) → artefact → one transaction replaces the brand's result set
(plain-SQL bulk inserts: executemany on SQLite, COPY on PostgreSQL), flips the active run
and writes one audit row per customer touched → superseded artefacts are deleted (an
erased customer's data must not survive) → cache invalidated. A customer's recompute
folds their current data into the active model, so a change to their data shows within
seconds, without a brand retrain.
"""

from __future__ import annotations

import itertools
import logging
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from accounts import outbox
from accounts.audit import Actor, audit_record
from accounts.locks import customers_lock
from accounts.models import AuditEvent, Brand, Customer
from ledger.models import Event, EventKind, Order, Product, Source

from . import ml, selectors, signals, training
from .models import ContactHourInference, InferredInterest, Recommendation, TrainingRun
from .training import Recs
from .widget import memo as widget_memo

log = logging.getLogger(__name__)

RECOMPUTE_DEBOUNCE_SECONDS = 3
# A burst of switch-offs and deletions (one person's, or many people's) waits this long for
# the rest of the burst, then costs one retrain.
RETRAIN_DEBOUNCE_SECONDS = getattr(settings, "RETRAIN_DEBOUNCE_SECONDS", 5)
STALE_RUNNING = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
STALE_PENDING = timedelta(hours=1)
TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)

_model_cache: dict[str, training.Artefact] = {}


# --------------------------------------------------------------------------------------------
# Requests (outbox: published only after commit, never lost when the broker is down)
# --------------------------------------------------------------------------------------------


def customer_recompute_request(*, customer_id: int) -> None:
    """Recompute this customer's results soon; many changes in a few seconds give one run."""
    outbox.enqueue(
        task="recommendations.recompute_customer",
        kwargs={"customer_id": customer_id},
        dedupe_key=f"recompute:{customer_id}",
        countdown=RECOMPUTE_DEBOUNCE_SECONDS,
    )


RETRAIN_LOCK_SPACE = 0x52455452  # "RETR": this module's advisory-lock namespace


def _brand_requests_lock(brand_id: int) -> None:
    """Serialise retrain requests and run claims of one brand until the transaction ends.

    A request either finds a run still waiting (which will read its data: the claim waits
    for the request's transaction) or one already claimed (and asks for a new run), never
    a run that claims in between and misses it. SQLite transactions are already serial
    (BEGIN IMMEDIATE, settings)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [RETRAIN_LOCK_SPACE, brand_id])


@transaction.atomic
def brand_retrain_request(*, brand_id: int, reason: str) -> bool:
    """Ask for a retrain soon; returns True when a new run was asked for.

    A run still waiting absorbs the request, so a burst of switch-offs and deletions costs
    one retrain. It starts RETRAIN_DEBOUNCE_SECONDS after the first request of the burst (a
    short countdown through the outbox, never a long broker ETA). What the run trained
    without is marked when it succeeds (signals.training_run_succeeded)."""
    _brand_requests_lock(brand_id)
    waiting = TrainingRun.objects.filter(
        brand_id=brand_id,
        state=TrainingRun.State.PENDING,
        created_at__gte=timezone.now() - STALE_PENDING,
    ).exists()
    if waiting:
        return False
    run = TrainingRun.objects.create(brand_id=brand_id, reason=reason[:60])
    outbox.enqueue(
        task="recommendations.train_brand",
        kwargs={"brand_id": brand_id, "run_id": run.pk},
        dedupe_key=f"train:{run.pk}",
        countdown=RETRAIN_DEBOUNCE_SECONDS,
    )
    return True


# --------------------------------------------------------------------------------------------
# Claiming a run
# --------------------------------------------------------------------------------------------


@transaction.atomic
def training_run_claim(*, run_id: int) -> bool:
    """Move a run to running; exactly one caller wins. A run left "running" by a killed
    worker (older than the hard time limit) may be claimed again.

    Claimed under the brand's request lock, its `started_at` taken after it: every request
    committed before that moment is in the data this run reads, every later one asked for
    a run of its own."""
    brand_id = TrainingRun.objects.filter(pk=run_id).values_list("brand_id", flat=True).first()
    if brand_id is None:
        return False
    _brand_requests_lock(brand_id)
    now = timezone.now()
    claimable = TrainingRun.objects.filter(pk=run_id, state=TrainingRun.State.PENDING)
    changed = claimable.update(state=TrainingRun.State.RUNNING, started_at=now)
    if changed == 0:
        changed = TrainingRun.objects.filter(
            pk=run_id, state=TrainingRun.State.RUNNING, started_at__lt=now - STALE_RUNNING
        ).update(started_at=now)
    return changed == 1


# --------------------------------------------------------------------------------------------
# Training a brand
# --------------------------------------------------------------------------------------------


def train_brand(
    *, brand_id: int, run_id: int | None = None, reason: str = "", **_old
) -> TrainingRun | None:
    """Retrain one brand; returns the run, or None when another worker has (had) it.

    (``**_old`` takes the ``receipt_id`` of messages queued before receipts were marked
    through signals.training_run_succeeded.)"""
    if run_id is None:  # a run of our own, created pending and claimed at once
        run_id = TrainingRun.objects.create(brand_id=brand_id, reason=reason[:60]).pk
        training_run_claim(run_id=run_id)
    elif not training_run_claim(run_id=run_id):
        log.info("training run %s already claimed; nothing to do", run_id)
        return None
    started = time.perf_counter()
    artefact = ""
    try:
        data = selectors.training_data(brand_id=brand_id)
        fingerprint = _fingerprint(data)
        previous, reuse = _previous_choices(brand_id, fingerprint, data.n_ratings)
        result = training.fit_and_rank(data, previous=previous, reuse=reuse)
        if result.artefact is not None:
            artefact = str(_artefact_path(brand_id, run_id))
            training.save(artefact, result.artefact)
        with transaction.atomic():
            touched = _replace_brand_results(brand_id, run_id, data, result)
            seconds = time.perf_counter() - started
            _activate(run_id, brand_id, fingerprint, data, result, artefact, seconds)
            _audit_bulk(touched, brand_id, "recommendations.train_brand")
        # Committed (tasks call this outside any transaction): now the old artefacts and the
        # cached results they shaped can go.
        _after_commit(brand_id, touched, artefact)
    except TRANSIENT:
        _discard(artefact)
        TrainingRun.objects.filter(pk=run_id).update(state=TrainingRun.State.PENDING)
        raise
    except BaseException as exc:
        _discard(artefact)
        TrainingRun.objects.filter(pk=run_id).update(
            state=TrainingRun.State.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
            duration_seconds=time.perf_counter() - started,
        )
        raise
    run = TrainingRun.objects.get(pk=run_id)
    # The layers above mark what this model was trained without (connected in their
    # AppConfig.ready; this layer never imports them).
    signals.training_run_succeeded.send(
        sender=TrainingRun,
        brand_id=brand_id,
        run_id=run.pk,
        data_read_from=run.started_at,
        finished_at=run.finished_at,
    )
    return run


def _interests_and_hours(data) -> tuple[list[tuple], list[tuple]]:
    """(customer, category, weight) and (customer, hour, confidence) rows."""
    item_values, codes = data.item_index
    names = [data.products.get(p, ("", ""))[1] for p in item_values.tolist()]
    # Categories coded per product (not per rating): no string per rating is built or sorted.
    category_names, category_of_item = np.unique(
        np.array(names or [""], dtype=str), return_inverse=True
    )
    interests = ml.category_interests(
        data.users,
        category_of_item.reshape(-1)[codes],
        data.ratings,
        category_names=category_names,
    )
    hours = ml.best_hours(data.hour_users, data.hours)
    interest_rows = [(int(cid), cat, w) for cid, cats in interests.items() for cat, w in cats]
    hour_rows = [(int(cid), h, c) for cid, (h, c) in hours.items()]
    return interest_rows, hour_rows


def _fingerprint(data) -> str:
    return ml.data_fingerprint(data.users, data.items, data.ratings) if data.n_ratings else ""


#: A brand's tuned reg is reused while its signals grew or shrank by less than this share
#: and the tuning is younger than RETUNE_AFTER: the best reg moves with the square root of
#: the data size (mlcore.tune), so +-10% data moves it by ~5%, well inside the grid's steps
#: (x1.41). Tuning costs about 1.3x a whole retrain on ML-100k, so most retrains (an
#: erasure, a switch-off, a quiet night) skip it; it runs on 10% more or less data, weekly,
#: and when the catalogue crosses the EASE/ALS threshold.
RETUNE_SHARE = 0.10
RETUNE_AFTER = timedelta(days=7)


def _previous_choices(brand_id: int, fingerprint: str, n_ratings: int):
    """The regs tuned for this brand by earlier successful runs (newest per algorithm: the
    next search looks around them), and a choice to reuse without searching: a run on these
    very signals (so a rerun gives the same lists), or a recent tuning on nearly as many."""
    regs: dict[str, float] = {}
    reuse = None
    runs = TrainingRun.objects.filter(
        brand_id=brand_id, state=TrainingRun.State.SUCCEEDED, reg__isnull=False
    ).values_list("pk", "algorithm", "reg", "metrics", "data_fingerprint", "n_ratings")[:10]
    recent = timezone.now().timestamp() - RETUNE_AFTER.total_seconds()
    for pk, algorithm, reg, metrics, seen, size in runs:
        validation = (metrics or {}).get("validation", {})
        if validation.get("tuned"):
            regs.setdefault(algorithm, reg)
        same = bool(fingerprint) and seen == fingerprint
        close = (
            validation.get("tuned")
            and validation.get("at", 0) >= recent
            and abs(n_ratings - size) <= RETUNE_SHARE * max(size, 1)
        )
        if reuse is None and (same or close):
            reuse = (
                algorithm,
                reg,
                {**validation, "reused_from_run": validation.get("reused_from_run", pk)},
            )
    return regs, reuse


def _replace_brand_results(brand_id: int, run_id: int, data, result: training.Fitted) -> set[int]:
    scope = {"brand_id": brand_id}
    before: set[int] = set()
    # Everyone with a row before: a customer whose only row goes (a contact hour, say) is
    # audited too. order_by(): DISTINCT on the id alone.
    for model in (Recommendation, InferredInterest, ContactHourInference):
        rows = model.objects.filter(**scope).order_by().values_list("customer_id", flat=True)
        before.update(rows.distinct())
    recs = result.recommendations
    interests, hours = _interests_and_hours(data)
    everyone = before | set(recs.customer_ids) | {r[0] for r in interests} | {r[0] for r in hours}
    # Before any row changes, the lock every writer for these customers takes
    # (accounts.locks): an erasure waits for this write, or this write for it, never both
    # (a deadlock); customers erased since their data was read get no rows.
    alive = customers_lock(everyone)
    if alive != everyone:
        recs, interests, hours = _only_for(alive, recs, interests, hours)
    _write(scope, recs, interests, hours, run_id=run_id)
    return alive


def _only_for(alive: set[int], recs: Recs, interests: list, hours: list):
    keep = [i for i, customer_id in enumerate(recs.customer_ids) if customer_id in alive]
    recs = Recs(*([getattr(recs, name)[i] for i in keep] for name in Recs.FIELDS))
    return recs, [r for r in interests if r[0] in alive], [r for r in hours if r[0] in alive]


def _switched_off(model, scope: dict, key: tuple[str, ...]) -> set[tuple]:
    """A customer's "keep but don't use" on an inferred row survives its recomputation."""
    return {tuple(k) for k in model.objects.filter(in_use=False, **scope).values_list(*key)}


def _insert(model, fields: list[str], rows: list[tuple]) -> None:
    """Insert ready-made rows with plain SQL: no model instance, no per-field preparation.

    SQLite runs ``executemany`` in C; PostgreSQL gets ``COPY ... FROM STDIN`` (one stream,
    rows formatted by psycopg in C, no SQL text per row to build or parse). Values must
    already be database-ready (see :func:`_now_db`); JSON columns take JSON text.
    """
    if not rows:
        return
    qn = connection.ops.quote_name
    columns = ", ".join(qn(model._meta.get_field(f).column) for f in fields)
    table = qn(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Names come from the model's meta (quoted); values travel in the COPY stream.
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        # Names come from the model's meta (quoted); every value is a bound parameter.
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608
        cursor.executemany(sql, rows)


def _write(scope: dict, recs: Recs, interests: list, hours: list, *, run_id: int) -> None:
    """Replace the scope's results (call inside a transaction)."""
    off_recs = _switched_off(Recommendation, scope, ("customer_id", "product_id"))
    off_interests = _switched_off(InferredInterest, scope, ("customer_id", "category"))
    off_hours = _switched_off(ContactHourInference, scope, ("customer_id",))
    Recommendation.objects.filter(**scope).delete()
    InferredInterest.objects.filter(**scope).delete()
    ContactHourInference.objects.filter(**scope).delete()
    brand_id, now, n = scope["brand_id"], _now_db(), len(recs)

    def same(value):
        return itertools.repeat(value, n)

    common = ["customer_id", "brand_id", "source", "in_use", "created_at", "updated_at"]
    in_use = (
        [pair not in off_recs for pair in zip(recs.customer_ids, recs.product_ids, strict=True)]
        if off_recs
        else same(True)
    )
    _insert(
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
    _insert(
        InferredInterest,
        [*common, "category", "weight"],
        [
            (cid, brand_id, Source.INFERRED, (cid, cat) not in off_interests, now, now, cat, w)
            for cid, cat, w in interests
        ],
    )
    _insert(
        ContactHourInference,
        [*common, "hour", "confidence"],
        [
            (cid, brand_id, Source.INFERRED, (cid,) not in off_hours, now, now, h, c)
            for cid, h, c in hours
        ],
    )


def _now_db():
    return connection.ops.adapt_datetimefield_value(timezone.now())


def _activate(
    run_id, brand_id, fingerprint, data, result: training.Fitted, artefact: str, seconds: float
) -> None:
    TrainingRun.objects.filter(brand_id=brand_id, is_active=True).exclude(pk=run_id).update(
        is_active=False
    )
    params: dict = {"reg": result.reg}
    if result.artefact is not None and result.algorithm == "als":
        p = training.als_params(result.reg or 0.0)
        params |= {"factors": p.factors, "alpha": p.alpha, "iterations": p.iterations}
    TrainingRun.objects.filter(pk=run_id).update(
        state=TrainingRun.State.SUCCEEDED,
        is_active=True,
        algorithm=result.algorithm,
        reg=result.reg,
        data_fingerprint=fingerprint,
        n_users=result.n_users,
        n_items=result.n_items,
        n_ratings=data.n_ratings,
        metrics={
            **result.metrics,
            "popular": result.popular,
            "params": params,
        },
        artefact_path=artefact,
        duration_seconds=seconds,
        finished_at=timezone.now(),
        error="",
    )


def _audit_bulk(customer_ids: set[int], brand_id: int, task: str) -> None:
    """One audit row per customer whose inferred data changed (bulk, same transaction)."""
    existing = sorted(Customer.objects.filter(pk__in=customer_ids).values_list("pk", flat=True))
    n = len(existing)

    def same(value):
        return itertools.repeat(value, n)

    _insert(
        AuditEvent,
        [
            "customer_id",
            "actor_kind",
            "actor_user_id",
            "actor_brand_id",
            "actor_label",
            "data_kind",
            "action",
            "object_ref",
            "reason",
            "created_at",
        ],  # fmt: skip
        list(
            zip(
                existing,
                same(Actor.system(task).kind),
                same(None),
                same(brand_id),
                same(task),
                same("recommendation"),
                same("recompute"),
                same(""),
                same("model retrained"),
                same(_now_db()),
                strict=True,
            )
        ),
    )


def _artefact_dir(brand_id: int) -> Path:
    path = Path(settings.VAR_DIR) / "models" / str(brand_id)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _artefact_path(brand_id: int, run_id: int) -> Path:
    return _artefact_dir(brand_id) / f"{run_id}.npz"


def _discard(path: str) -> None:
    if path:
        Path(path).unlink(missing_ok=True)
        for key in [k for k in _model_cache if k.split("|")[0] == path]:
            _model_cache.pop(key, None)


def _after_commit(brand_id: int, customer_ids: set[int], keep: str) -> None:
    """Delete every superseded artefact of the brand and the cached results it shaped."""
    for file in _artefact_dir(brand_id).glob("*.npz"):
        if str(file) != keep:
            _discard(str(file))
    for key in list(_model_cache):  # keys: "path|mtime|size"
        if key.split("|")[0] != keep and f"/models/{brand_id}/" in key:
            _model_cache.pop(key, None)
    _cache_forget(brand_ids=[brand_id], customer_ids=customer_ids, anonymous=True)
    selectors.popular_cache_forget(brand_id=brand_id)


def _cache_forget(*, brand_ids, customer_ids, anonymous: bool = False) -> None:
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


def customer_cache_forget(*, customer_id: int) -> None:
    """Drop the customer's cached results everywhere, now and again after commit (a
    concurrent read may refill a cache before this transaction commits). Called when
    their consent or a data point's use changes, so the widget reads fresh at once."""
    brand_ids = list(Brand.objects.values_list("pk", flat=True))
    _cache_forget(brand_ids=brand_ids, customer_ids=[customer_id])
    transaction.on_commit(lambda: _cache_forget(brand_ids=brand_ids, customer_ids=[customer_id]))


def nightly_retrain() -> int:
    """Ask for a retrain of every brand; returns how many were requested."""
    brand_ids = list(Brand.objects.values_list("pk", flat=True))
    for brand_id in brand_ids:
        brand_retrain_request(brand_id=brand_id, reason="nightly")
    return len(brand_ids)


# --------------------------------------------------------------------------------------------
# One customer
# --------------------------------------------------------------------------------------------


def _load_model(path: str) -> training.Artefact | None:
    if not path or not Path(path).is_file():
        return None
    # Keyed by the file's identity too: a path can be reused by a later run (ids restart
    # when a database is rebuilt), and a stale model would rank with someone else's items.
    stat = Path(path).stat()
    key = f"{path}|{stat.st_mtime_ns}|{stat.st_size}"
    if key not in _model_cache:
        _model_cache.clear()  # one brand's model at a time is plenty for a worker
        _model_cache[key] = training.load(path)
    return _model_cache[key]


def customer_recompute(*, customer_id: int) -> int:
    """Recompute one customer's results on every brand's active model; returns rows written.

    Their current allowed data is folded into the active model (training.rank_one: EASE
    scores are their history x B; ALS solves their factors against the fixed item factors),
    so new data counts and withdrawn data stops counting at once, without a brand retrain.
    Too little data, or no model yet: popular items, labelled as cold start. Purpose off: no
    personal results at all.
    """
    if not Customer.objects.filter(pk=customer_id).exists():
        return 0
    written = 0
    for run in TrainingRun.objects.filter(is_active=True).select_related("brand"):
        data = selectors.training_data(brand_id=run.brand_id, customer_id=customer_id)
        artefact = _load_model(run.artefact_path)
        recs = training.rank_one(data, customer_id, artefact, run.metrics.get("popular", []))
        interests, hours = _interests_and_hours(data)
        scope = {"brand_id": run.brand_id, "customer_id": customer_id}
        with transaction.atomic():
            if not customers_lock([customer_id]):
                return written  # erased meanwhile (accounts.locks): nothing to write for
            _write(scope, recs, interests, hours, run_id=run.pk)
            audit_record(
                actor=Actor.system("recommendations.recompute_customer"),
                customer=Customer(pk=customer_id),
                data_kind="recommendation",
                action="recompute",
                reason="your data or choices changed",
            )
        _cache_forget(brand_ids=[run.brand_id], customer_ids=[customer_id])
        written += len(recs) + len(interests) + len(hours)
    return written


@transaction.atomic
def customer_results_purge(*, customer_id: int) -> int:
    """Delete every stored result inferred for this customer and their cached copies."""
    deleted = 0
    for model in (Recommendation, InferredInterest, ContactHourInference):
        deleted += model.objects.filter(customer_id=customer_id).delete()[0]
    customer_cache_forget(customer_id=customer_id)
    return deleted


# --------------------------------------------------------------------------------------------
# Customer feedback from the page
# --------------------------------------------------------------------------------------------


@transaction.atomic
def not_interested_record(*, customer, product_id: int) -> None:
    """Record "not interested" as an event the model reads, hide the item now, recompute.

    Nothing is recorded for a customer erased while the request was on its way."""
    if not customers_lock([customer.pk]):
        return
    product = Product.objects.get(pk=product_id)
    event = Event.objects.create(
        customer=customer,
        brand=product.brand,
        source=Source.PROVIDED,
        kind=EventKind.NOT_INTERESTED,
        product=product,
        occurred_at=timezone.now(),
    )
    audit_record(
        actor=Actor.customer(customer),
        customer=customer,
        data_kind="event",
        action="create",
        object_ref=str(event.pk),
        reason="not interested",
    )
    Recommendation.objects.filter(customer=customer, product_id=product_id).delete()
    transaction.on_commit(
        lambda: _cache_forget(brand_ids=[product.brand_id], customer_ids=[customer.pk])
    )
    customer_recompute_request(customer_id=customer.pk)


# --------------------------------------------------------------------------------------------
# Demo / benchmark data: MovieLens 100k through the ledger
# --------------------------------------------------------------------------------------------


def movielens_load(*, directory: Path, brand_slug: str = "movielens-demo") -> dict[str, int]:
    """Load ML-100k (recbole's copy) as rating events of a demo brand, in bulk; idempotent.

    Each MovieLens user becomes a customer (no usable password) linked to the brand; each
    rating an Event(kind="rating") with its timestamp; one audit row per customer.
    """
    from datetime import UTC, datetime

    from django.contrib.auth import get_user_model

    from accounts.models import CustomerBrand
    from accounts.services import brand_upsert

    inter = np.loadtxt(directory / "ml-100k.inter", delimiter="\t", skiprows=1, dtype=str)
    items = [
        line.rstrip("\n").split("\t")
        for line in (directory / "ml-100k.item").read_text(encoding="latin-1").splitlines()[1:]
    ]
    User = get_user_model()
    with transaction.atomic():
        brand = brand_upsert(slug=brand_slug, name="MovieLens demo")
        Product.objects.bulk_create(
            [
                Product(
                    brand=brand,
                    external_id=row[0],
                    name=(row[1] or f"Movie {row[0]}")[:200],
                    category=(row[3].split(" ")[0] if len(row) > 3 else "")[:100],
                )
                for row in items
            ],
            ignore_conflicts=True,
            batch_size=2000,
        )
        products = dict(Product.objects.filter(brand=brand).values_list("external_id", "pk"))
        raw_users = sorted(set(inter[:, 0].tolist()), key=int)
        User.objects.bulk_create(
            [User(username=f"ml-{u}", password="!") for u in raw_users],  # unusable password
            ignore_conflicts=True,
            batch_size=2000,
        )
        users = dict(User.objects.filter(username__startswith="ml-").values_list("username", "pk"))
        Customer.objects.bulk_create(
            [Customer(user_id=users[f"ml-{u}"]) for u in raw_users],
            ignore_conflicts=True,
            batch_size=2000,
        )
        customers = dict(
            Customer.objects.filter(user_id__in=users.values()).values_list("user_id", "pk")
        )
        by_raw = {u: customers[users[f"ml-{u}"]] for u in raw_users}
        CustomerBrand.objects.bulk_create(
            [CustomerBrand(customer_id=c, brand=brand, external_ref=u) for u, c in by_raw.items()],
            ignore_conflicts=True,
            batch_size=2000,
        )
        before = Event.objects.filter(brand=brand).count()
        Event.objects.bulk_create(
            [
                Event(
                    customer_id=by_raw[u],
                    brand=brand,
                    source=Source.OBSERVED,
                    external_id=f"ml-{u}-{i}",
                    kind=EventKind.RATING,
                    product_id=products[i],
                    value=float(r),
                    occurred_at=datetime.fromtimestamp(float(t), tz=UTC),
                )
                for u, i, r, t in inter.tolist()
            ],
            ignore_conflicts=True,
            batch_size=5000,
        )
        added = Event.objects.filter(brand=brand).count() - before
        if added:
            AuditEvent.objects.bulk_create(
                [
                    AuditEvent(
                        customer_id=c,
                        actor_kind=Actor.system("load_movielens").kind,
                        actor_label="load_movielens",
                        actor_brand_id=brand.pk,
                        data_kind="event",
                        action="create",
                        reason="MovieLens demo ratings",
                    )
                    for c in by_raw.values()
                ],
                batch_size=2000,
            )
    return {"brand_id": brand.pk, "customers": len(by_raw), "events_added": added}


# Demo shoppers' tastes (catalog external ids) and the demo customer's own history.
DEMO_SHOPPERS = {
    "runner": ["trail-runner", "trail-socks", "water-bottle", "merino-tee", "daypack"],
    "hiker": ["hiking-boot", "trail-socks", "daypack", "headlamp", "rain-shell"],
    "camper": ["headlamp", "camp-mug", "down-vest", "flannel-shirt", "water-bottle"],
    "city": ["city-sneaker", "merino-tee", "flannel-shirt", "rain-shell"],
}
DEMO_HISTORY = [
    ("view", "trail-runner", 2),
    ("add_to_cart", "trail-socks", 2),
    ("view", "daypack", 5),
]
DEMO_ORDER = ("demo-order-1", "hiking-boot", 12)


def demo_seed(*, brand: Brand, customer: Customer) -> TrainingRun | None:
    """Idempotent demo history (a few anonymous demo shoppers, the demo customer's views,
    cart and one order) and a first training run, so the demo shows real recommendations."""
    from django.contrib.auth import get_user_model

    from ledger.models import OrderLine

    User = get_user_model()
    catalog = {
        ext: (pk, price)
        for ext, pk, price in Product.objects.filter(brand=brand).values_list(
            "external_id", "pk", "price"
        )
    }
    products = {ext: pk for ext, (pk, _) in catalog.items()}
    now = timezone.now()
    with transaction.atomic():
        for n, (_taste, skus) in enumerate(sorted(DEMO_SHOPPERS.items()) * 3):
            user, _ = User.objects.get_or_create(
                username=f"demo-shopper-{n}", defaults={"password": "!"}
            )
            shopper, _ = Customer.objects.get_or_create(user=user)
            for i, sku in enumerate(skus[: 3 + n % 3]):
                Event.objects.get_or_create(
                    brand=brand,
                    external_id=f"demo-{n}-{sku}",
                    defaults={
                        "customer": shopper,
                        "kind": "rating",
                        "value": 5.0 - (i % 2),
                        "product_id": products[sku],
                        "occurred_at": now - timedelta(days=i + n),
                        "source": Source.OBSERVED,
                    },
                )
        for kind, sku, days in DEMO_HISTORY:
            Event.objects.get_or_create(
                brand=brand,
                external_id=f"demo-customer-{kind}-{sku}",
                defaults={
                    "customer": customer,
                    "kind": kind,
                    "product_id": products[sku],
                    "occurred_at": (now - timedelta(days=days)).replace(hour=19),
                    "source": Source.OBSERVED,
                },
            )
        ext, sku, days = DEMO_ORDER
        product_id, price = catalog[sku]
        # An order the brand recorded, like every ingested one: observed, totalled.
        order, created = Order.objects.get_or_create(
            brand=brand,
            external_id=ext,
            defaults={
                "customer": customer,
                "placed_at": now - timedelta(days=days),
                "source": Source.OBSERVED,
                "total": price,
            },
        )
        if created:
            OrderLine.objects.create(order=order, product_id=product_id, unit_price=price)
            audit_record(
                actor=Actor.system("demo_data"),
                customer=customer,
                data_kind="event",
                action="create",
                reason="demo history",
            )
    if TrainingRun.objects.filter(brand=brand, is_active=True).exists():
        return None
    return train_brand(brand_id=brand.pk, reason="demo data")
