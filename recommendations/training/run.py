"""Training one brand: claim the run, extract, fit and rank, write, activate, announce.

Flow of a retrain (:func:`train_brand`): claim the pending TrainingRun with a conditional
UPDATE (or create it already claimed) -> extract allowed ratings (:mod:`.extract`: numeric
columns, one query per table) -> one transaction: :func:`.rank.fit_and_rank` fits the model
the catalogue size picks (EASE up to ``ml.rank.EASE_MAX_ITEMS`` items, ALS above) with its
reg tuned for this brand on a validation cut of its own data, on a worker thread, while this
thread locks the customers concerned and deletes the brand's old results
(:mod:`.writer`); then every customer is ranked in chunks of users, with explanations
from their own points, each chunk streamed into the table while the next is ranked; the
artefact is saved, the active run flipped, one audit row written per customer touched ->
superseded artefacts are deleted (an erased customer's data must not survive) -> cache
invalidated -> ``signals.training_run_succeeded``. One task per brand
(``recommendations.train_brand``).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from .. import selectors, signals
from ..ml import als, persist
from ..models import TrainingRun
from . import artefacts, extract, rank, writer
from .artefacts import Artefact
from .data import TrainingData

log = logging.getLogger(__name__)

STALE_RUNNING = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
STALE_PENDING = timedelta(hours=1)
TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)
RETRAIN_LOCK_SPACE = 0x52455452  # "RETR": this module's advisory-lock namespace
TASK = "recommendations.train_brand"  # the actor of a retrain's audit rows


def brand_requests_lock(brand_id: int) -> None:
    """Serialise retrain requests and run claims of one brand until the transaction ends.

    A request either finds a run still waiting (which will read its data: the claim waits
    for the request's transaction) or one already claimed (and asks for a new run), never
    a run that claims in between and misses it. SQLite transactions are already serial
    (BEGIN IMMEDIATE, settings)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [RETRAIN_LOCK_SPACE, brand_id])


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
    brand_requests_lock(brand_id)
    now = timezone.now()
    claimable = TrainingRun.objects.filter(pk=run_id, state=TrainingRun.State.PENDING)
    changed = claimable.update(state=TrainingRun.State.RUNNING, started_at=now)
    if changed == 0:
        changed = TrainingRun.objects.filter(
            pk=run_id, state=TrainingRun.State.RUNNING, started_at__lt=now - STALE_RUNNING
        ).update(started_at=now)
    return changed == 1


def train_brand(
    *, brand_id: int, run_id: int | None = None, reason: str = "", **_old: Any
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
    path = str(artefacts.artefact_path(brand_id, run_id))
    try:
        _train(brand_id, run_id, path, started)
    except TRANSIENT:
        artefacts.discard(path)
        TrainingRun.objects.filter(pk=run_id).update(state=TrainingRun.State.PENDING)
        raise
    except BaseException as exc:
        artefacts.discard(path)
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


def _train(brand_id: int, run_id: int, path: str, started: float) -> None:
    """Extract, then in one transaction: clear the old results (while the model is fitted
    on another thread), save the artefact at ``path`` (when there is a model), write the
    new results as they are ranked, activate the run and audit."""
    data = extract.training_data(brand_id=brand_id)
    fingerprint = _fingerprint(data)
    previous, reuse = _previous_choices(brand_id, fingerprint, data.n_ratings)
    warm = _warm_source(brand_id, reuse)
    artefact = ""
    # BLAS on one thread (process-wide) for as long as the worker fits and scores chunks,
    # which goes on while they are written (see rank.fit_and_rank).
    with als.one_blas_thread(), transaction.atomic():
        cleared: list[writer.Cleared] = []

        def clear() -> None:
            cleared.append(writer.brand_results_clear(brand_id, run_id, data, task=TASK))

        result = rank.fit_and_rank(
            data,
            previous=previous,
            reuse=reuse,
            stream=True,
            meanwhile=clear,
            warm=warm.artefact if warm else None,
        )
        try:
            if not cleared:  # nothing to fit: nothing ran meanwhile
                clear()
            if result.artefact is not None:
                artefact = path
                artefacts.save(artefact, result.artefact)
            touched = writer.brand_results_fill(cleared[0], result)
        finally:
            result.close()  # the scoring worker, if the write stopped reading it
        if result.started:  # from this run's own validation fit, its lineage is itself
            result.metrics["warm_start"] = dict(result.started)
        if result.started.get("from") == "previous" and warm is not None:
            result.metrics["warm_start"] |= {
                "from_run": warm.run_id,
                "lineage_read_from": warm.lineage_read_from,
            }
        seconds = time.perf_counter() - started
        _activate(run_id, brand_id, fingerprint, data, result, artefact, seconds)
        # Those whose results changed and were not audited while clearing: new customers.
        writer.brand_results_audit(touched - cleared[0].audited, brand_id, TASK)
    # Committed (tasks call this outside any transaction): now the old artefacts and the
    # cached results they shaped can go.
    _after_commit(brand_id, touched, artefact)


@dataclasses.dataclass(frozen=True)
class WarmSource:
    """The brand's active model, as a starting point for this run's ALS fit."""

    artefact: Artefact
    run_id: int
    #: When the oldest model in its chain of warm starts read its data (ISO time): all
    #: the data anything this start carries was read from then on.
    lineage_read_from: str


def _warm_source(brand_id: int, reuse: tuple[str, float, dict] | None) -> WarmSource | None:
    """The brand's active model when this run reuses its algorithm and reg (a retrain on
    nearly the same signals), so ALS can start from its factors (``rank._tuned_fit``).

    Never a model that may have read data withdrawn since: a switch-off, deletion, erasure
    or retention sweep at or after the time its chain of warm starts first read its data
    (``TrainingRun.withdrawn_at``, set by ``services.brand_retrain_request``) means a fit
    from random factors. So a run that answers a withdrawal ("trained without it",
    transparency.retrains) starts from nothing that read it, and neither does any run
    after it. (The request and the claim take the brand's request lock: a withdrawal
    not committed when this run read its data is later than the run's ``started_at``,
    and the next run sees it.)"""
    if reuse is None or reuse[0] != "als":
        return None
    active = (
        TrainingRun.objects.filter(brand_id=brand_id, is_active=True, algorithm="als")
        .values_list("pk", "artefact_path", "reg", "started_at", "metrics")
        .first()
    )
    if active is None or active[2] != reuse[1]:
        return None
    run_id, path, _, started_at, metrics = active
    if started_at is None:  # never claimed: not a run that read anything
        return None
    lineage = (metrics or {}).get("warm_start", {}).get("lineage_read_from")
    read_from = datetime.fromisoformat(lineage) if lineage else started_at
    if TrainingRun.objects.filter(brand_id=brand_id, withdrawn_at__gte=read_from).exists():
        return None
    artefact = artefacts.model_load(path)
    if artefact is None:  # its file went: a fit from random factors
        return None
    return WarmSource(artefact, run_id, read_from.isoformat())


def _fingerprint(data: TrainingData) -> str:
    return persist.data_fingerprint(data.users, data.items, data.ratings) if data.n_ratings else ""


#: A brand's tuned reg is reused while its signals grew or shrank by less than this share
#: and the tuning is younger than RETUNE_AFTER: the best reg moves with the square root of
#: the data size (ml.tune), so +-10% data moves it by ~5%, well inside the grid's steps
#: (x1.41). Tuning costs about 1.3x a whole retrain on ML-100k, so most retrains (an
#: erasure, a switch-off, a quiet night) skip it; it runs on 10% more or less data, weekly,
#: and when the catalogue crosses the EASE/ALS threshold.
RETUNE_SHARE = 0.10
RETUNE_AFTER = timedelta(days=7)


def _previous_choices(
    brand_id: int, fingerprint: str, n_ratings: int
) -> tuple[dict[str, float], tuple[str, float, dict] | None]:
    """The regs tuned for this brand by earlier successful runs (newest per algorithm: the
    next search looks around them), and a choice to reuse without searching: a run on these
    very signals (so a rerun gives the same lists), or a recent tuning on nearly as many."""
    regs: dict[str, float] = {}
    reuse: tuple[str, float, dict] | None = None
    runs = TrainingRun.objects.filter(
        brand_id=brand_id, state=TrainingRun.State.SUCCEEDED, reg__isnull=False
    ).values_list("pk", "algorithm", "reg", "metrics", "data_fingerprint", "n_ratings")[:10]
    recent = timezone.now().timestamp() - RETUNE_AFTER.total_seconds()
    for pk, algorithm, reg, metrics, seen, size in runs:
        if reg is None:  # excluded by the query; tells the type checker
            continue
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


def _activate(
    run_id: int,
    brand_id: int,
    fingerprint: str,
    data: TrainingData,
    result: rank.Fitted,
    artefact: str,
    seconds: float,
) -> None:
    TrainingRun.objects.filter(brand_id=brand_id, is_active=True).exclude(pk=run_id).update(
        is_active=False
    )
    params: dict = {"reg": result.reg}
    if result.artefact is not None and result.algorithm == "als":
        p = artefacts.als_params(result.reg or 0.0)
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


def _after_commit(brand_id: int, customer_ids: set[int], keep: str) -> None:
    """Delete every superseded artefact of the brand and the cached results it shaped."""
    artefacts.superseded_discard(brand_id, keep)
    writer.results_cache_forget(brand_ids=[brand_id], customer_ids=customer_ids, anonymous=True)
    selectors.popular_cache_forget(brand_id=brand_id)
