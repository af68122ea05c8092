"""A brand's extracted signals -> the pure core (:mod:`recommendations.ml`) -> result rows,
and back for one customer (fold-in). No writes here (:mod:`.writer` writes, :mod:`.run`
claims runs and orchestrates).

Training (:func:`fit_and_rank`): signals become two CSR matrices (positive evidence, every
known pair); the catalogue size picks the model (EASE up to ``rank.EASE_MAX_ITEMS`` items,
ALS above); its regularisation is tuned for this brand on the newest 20% of its signals
(``tune.tune_brand``: a validation cut of the training data, never anything else) and the
chosen value and validation figures go on the TrainingRun; every eligible customer is ranked
in chunks of users with their cited signals, so no users x items array is ever built.

Fold-in (:func:`rank_one`): one customer's current signals against the active model (EASE:
their history x B, exactly training's arithmetic; ALS: their factors solved against the
fixed item factors), so their list follows their data within seconds.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent import futures

import numpy as np
from django.conf import settings

from ..ml import als, profile, rank, signals, tune
from . import crossbrand
from .artefacts import Artefact, als_params
from .data import TrainingData
from .rows import Recs

TOP_N = 10
MIN_RATINGS = 3  # fewer than this: honest cold start (popular items, labelled as such)
EXPLAIN_ITEMS = 2  # own items cited per recommendation
POPULAR_KEEP = 50
#: Regularisation used when a brand is too small to tune (nobody left to validate on).
DEFAULT_REG = {"ease": rank.EASE_REG, "als": als.DEFAULT.reg}


@dataclasses.dataclass
class Fitted:
    """What one training produced, ready to be written."""

    artefact: Artefact | None = None
    algorithm: str = "ease"
    reg: float | None = None
    n_users: int = 0
    n_items: int = 0
    recommendations: Recs = dataclasses.field(default_factory=Recs)
    popular: list[int] = dataclasses.field(default_factory=list)
    metrics: dict = dataclasses.field(default_factory=dict)
    #: With ``fit_and_rank(stream=True)``: the rows as chunks, ranked while they are being
    #: written (``recommendations`` stays empty), and every customer who may get one.
    chunks: Iterator[Recs] | None = None
    customers: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    #: The worker scoring ``chunks`` ahead (stopped by :meth:`close`).
    scored: Ahead | None = None
    #: Where the ALS fit started: ``{}`` from random factors, else ``{"from": "previous"
    #: (the brand's active model) or "tuning" (this run's validation fit), "iterations"}``.
    started: dict = dataclasses.field(default_factory=dict)

    def close(self) -> None:
        """Stop scoring chunks nobody will read (a write that failed before reading)."""
        if self.scored is not None:
            self.scored.close()

    def rows(self) -> Iterator[Recs]:
        """Every result row, in chunks (ranked now when streamed)."""
        if self.chunks is not None:
            yield from self.chunks
        elif len(self.recommendations):
            yield self.recommendations


def _active(data: TrainingData) -> np.ndarray:
    return np.array([pid for pid, (_, _, on) in data.products.items() if on], dtype=np.int64)


def fit_and_rank(
    data: TrainingData,
    *,
    previous: dict[str, float] | None = None,
    reuse: tuple[str, float, dict] | None = None,
    stream: bool = False,
    meanwhile: Callable[[], object] | None = None,
    warm: Artefact | None = None,
) -> Fitted:
    """:func:`_fit_and_rank` with BLAS on one thread: on a machine shared with other workers
    OpenBLAS's spinning threads made EASE's Cholesky 25x slower (10 s instead of 0.4 s at
    1,682 items, load 6 on 2 cores); parallelism comes from workers, one task each.

    A worker thread tunes and fits the model, then scores customers a chunk at a time
    ahead of the reader (:class:`Ahead`; pure arithmetic that releases the GIL, every
    database read stays on this thread). ``stream``: ``Fitted.chunks`` turns each scored
    chunk into rows when the writer asks for it, so the database stores one chunk while
    the next is made (the writer's COPY runs in the database server's process); without
    it every row is made now.

    ``meanwhile``: run on this thread while the worker fits and starts scoring: training
    clears the brand's old results then (``writer.brand_results_clear``), the database's
    work overlapping the arithmetic. Not called when there is no model to fit.
    ``warm``: the brand's previous model, a starting point for ALS (:func:`_tuned_fit`).
    """
    with als.one_blas_thread():
        out = _fit_and_rank(data, previous=previous, reuse=reuse, meanwhile=meanwhile, warm=warm)
    if not stream and out.chunks is not None:
        out.recommendations, out.chunks = Recs.joined(out.chunks), None
    return out


def _fit_and_rank(
    data: TrainingData,
    *,
    previous: dict[str, float] | None = None,
    reuse: tuple[str, float, dict] | None = None,
    meanwhile: Callable[[], object] | None = None,
    warm: Artefact | None = None,
) -> Fitted:
    """Fit the brand's model and rank every customer (see the module doc).

    ``previous``: regs tuned by earlier runs (the search looks around them). ``reuse``:
    (algorithm, reg, validation) of an earlier tuning to keep (see services.RETUNE_SHARE):
    used as is when the catalogue still picks that algorithm, no search.

    Longer than 50 lines: the steps share the codes, the matrices and the eligibility
    arrays; it reads top to bottom as the pipeline it is.
    """
    out = Fitted()
    active = _active(data)
    if data.n_ratings == 0:
        out.popular = active[:POPULAR_KEEP].tolist()
        return out
    user_ids, user_codes = data.user_index
    item_ids, item_codes = data.item_index
    shape = (len(user_ids), len(item_ids))
    out.n_users, out.n_items = shape
    inter = signals.interactions(user_codes, item_codes, data.ratings, shape)
    inactive = ~np.isin(item_ids, active)
    order = signals.popularity(inter.known)
    # Distinct customers per item (`known` holds one entry per pair): too few and a
    # "popular" item would show someone's own activity to anyone with the widget key.
    crowd = np.bincount(inter.known.indices, minlength=shape[1]) >= settings.POPULAR_MIN_CUSTOMERS
    listed = ~inactive[order] & crowd[order]
    out.popular = item_ids[order[listed]][:POPULAR_KEEP].tolist()

    out.algorithm = algorithm = rank.choose(shape[1], threshold=rank.EASE_MAX_ITEMS)
    categories = crossbrand.categories(data, item_ids, inter.positive)
    # Personal results need MIN_RATINGS interactions and at least one positive one.
    eligible = np.flatnonzero(
        (np.diff(inter.known.indptr) >= MIN_RATINGS) & (np.diff(inter.positive.indptr) > 0)
    )
    # Other brands' signals are read with the rest of the data, before the worker starts
    # (every database read stays on this thread).
    foreign = crossbrand.foreign(data, categories, user_ids[eligible])
    fitted: futures.Future = futures.Future()

    def fit_then_score() -> Iterator[rank.Ranked]:
        try:
            found = _tuned_fit(data, algorithm, shape, inter, previous, reuse, warm)
        except BaseException as exc:
            fitted.set_exception(exc)
            raise
        fitted.set_result(found)
        artefact = Artefact(found[2], item_ids, user_ids, categories)
        yield from _scored(artefact, inter, eligible, inactive, foreign)

    # One worker fits, then scores customers chunk by chunk ahead of the writer, while
    # this thread runs ``meanwhile`` (the database clearing the old results).
    scored = Ahead(fit_then_score(), depth=AHEAD)
    try:
        if meanwhile is not None:
            meanwhile()
        data.explanations_prepare()  # still beside the fit, off the write's path
        out.reg, validation, model, out.started = fitted.result()
    except BaseException:
        scored.close()
        raise
    out.artefact = Artefact(model, item_ids, user_ids, categories)
    out.customers = user_ids
    out.metrics = {
        "popular": out.popular,
        "positive_signals": int(inter.positive.nnz),
        "cross_brand_customers": foreign.n_allowed if foreign else 0,
        "validation": validation,
    }
    out.scored = scored
    out.chunks = _ranked_chunks(out, data, inter, eligible, scored, foreign)
    return out


def _scored(
    artefact: Artefact,
    inter: signals.Interactions,
    rows: np.ndarray,
    inactive: np.ndarray,
    foreign: crossbrand.Foreign | None,
    *,
    factors: bool = True,
) -> Iterator[rank.Ranked]:
    """Top-N and cited items for ``rows`` of ``inter``, a chunk of users at a time (pure
    arithmetic). ``factors``: use the ALS user factors training solved (the same exact
    solve a fold-in does) instead of solving them again.

    BLAS's thread limit is process-wide, so it is not set here, on whatever thread scores:
    the caller holds it for as long as chunks are scored (``fit_and_rank``, ``rank_one``,
    and a streamed training's whole transaction, ``run._train``)."""
    model = artefact.model
    user_factors = None
    if factors and isinstance(model, als.Model):
        user_factors = model.user_factors[rows]
    yield from rank.rank(
        model,
        inter.positive[rows],
        inter.known[rows],
        user_factors=user_factors,
        excluded=inactive,
        foreign=foreign.core if foreign else None,
        n=TOP_N,
        k=EXPLAIN_ITEMS,
    )


def _ranked_chunks(
    out: Fitted,
    data: TrainingData,
    inter: signals.Interactions,
    eligible: np.ndarray,
    scored: Iterable[rank.Ranked],
    foreign: crossbrand.Foreign | None,
) -> Iterator[Recs]:
    """Personal rows a chunk of customers at a time, then cold-start rows for everyone
    without a personal pick (counted in ``out.metrics``)."""
    assert out.artefact is not None
    user_ids, item_ids = out.artefact.user_ids, out.artefact.item_ids
    customers = user_ids[eligible]
    ranked: set[int] = set()
    for chunk in scored:
        rows = _personal_rows(data, customers[chunk.rows], item_ids, chunk, foreign)
        ranked.update(rows.customer_ids)
        yield rows
    counts = np.diff(inter.known.indptr)
    cold = {
        int(user_ids[u]): set(item_ids[inter.known[u].indices].tolist())
        for u in range(len(user_ids))
        if int(user_ids[u]) not in ranked or counts[u] < MIN_RATINGS
    }
    out.metrics["cold_start_customers"] = len(cold)
    yield popular_rows(cold, out.popular)


def _tuned_fit(
    data: TrainingData,
    algorithm: rank.Algorithm,
    shape: tuple[int, int],
    inter: signals.Interactions,
    previous: dict[str, float] | None,
    reuse: tuple[str, float, dict] | None,
    warm: Artefact | None = None,
) -> tuple[float, dict, rank.Model, dict]:
    """The brand's reg (tuned, or reused), its validation figures, the model fitted with it
    and where the fit started (``{}``: random factors; else ``{"from", "iterations"}``).
    Pure arithmetic: no database, so it can run on another thread.

    An ALS fit starts from item factors when it has good ones, running a few iterations
    (``als.Params.warm_iterations``) instead of a whole fit: after a search, the chosen
    value's fit on the validation cut ("tuning": this run's own rows); on a retrain reusing
    the reg, ``warm``, the brand's previous model, given only when it read no data
    withdrawn since (``run._warm_source``).
    """
    reg, validation, tuned = _reg(data, algorithm, shape, previous=previous, reuse=reuse)
    params = als_params(reg)
    start, origin = None, ""
    if algorithm == "als" and tuned is not None and tuned.shape == (shape[1], params.factors):
        start, origin = tuned, "tuning"
    elif algorithm == "als" and warm is not None and reuse is not None and reuse[1] == reg:
        start, origin = _warm_start(warm, data, params), "previous"
    # A run that searched (its fits on every core, as tune's are) fits on every core too:
    # the same numbers (each user's and item's solve is its own), about 1.3 s sooner at
    # 1M events; the model keeps the task's params, which fold-ins use.
    threads = 0 if origin == "tuning" else params.num_threads
    model = rank.fit(
        inter.positive,
        algorithm=algorithm,
        ease_reg=reg,
        als_params=dataclasses.replace(params, num_threads=threads),
        als_start=start,
    )
    if isinstance(model, als.Model):
        model = als.Model(model.user_factors, model.item_factors, params)
    started = {} if start is None else {"from": origin, "iterations": params.warm_iterations}
    return reg, validation, model, started


#: Share of the customers and of the products the previous model must know for a warm
#: start; below it (a brand that changed a lot), the fit starts from random factors.
WARM_MIN_KNOWN = 0.8


def _warm_start(warm: Artefact, data: TrainingData, params: als.Params) -> np.ndarray | None:
    """The previous ALS model's item factors, aligned with this training's products, when
    it is the same kind of model and knows nearly all of them (and their customers: user
    factors are not stored, every iteration solves them from the items first)."""
    model = warm.model
    if not isinstance(model, als.Model) or model.item_factors.shape[1] != params.factors:
        return None
    items, known_items = als.aligned(warm.item_ids, model.item_factors, data.item_index[0])
    known_users = np.isin(data.user_index[0], warm.user_ids).mean() if len(warm.user_ids) else 0
    if min(known_users, known_items) < WARM_MIN_KNOWN:
        return None
    return items


def _reg(
    data: TrainingData,
    algorithm: rank.Algorithm,
    shape: tuple[int, int],
    *,
    previous: dict[str, float] | None,
    reuse: tuple[str, float, dict] | None,
) -> tuple[float, dict, np.ndarray | None]:
    """The brand's regularisation, its validation figures and (ALS, tuned now) the chosen
    value's item factors on the validation cut: an earlier tuning reused as is, or a search
    on the newest 20% of its signals (the default or previous reg when the brand is too
    small to tune)."""
    if reuse is not None and reuse[0] == algorithm:
        return reuse[1], reuse[2], None
    choice = tune.tune_brand(
        data.user_index[1],
        data.item_index[1],
        data.ratings,
        data.stamps,
        shape,
        previous=previous,
        algorithms=(algorithm,),
    )
    default = (previous or {}).get(algorithm, DEFAULT_REG[algorithm])
    if choice is None:
        return default, _validation(choice), None
    return choice.reg, _validation(choice), choice.item_factors


def _validation(choice: tune.Choice | None) -> dict:
    """Offline figures of the tuning, for staff (admin): NDCG@10 of every candidate reg
    against popularity on the same validation customers."""
    if choice is None:
        return {"tuned": False, "note": "too little data to validate on; default reg"}
    return {
        "tuned": True,
        "at": time.time(),
        "users": choice.validation_users,
        "ndcg_at_10": max(choice.table[choice.algorithm].values()),
        "popularity_ndcg_at_10": choice.popularity,
        "grid": {
            name: {f"{reg:g}": ndcg for reg, ndcg in row.items()}
            for name, row in choice.table.items()
        },
    }


def _rank_chunks(
    data: TrainingData,
    artefact: Artefact,
    inter: signals.Interactions,
    rows: np.ndarray,
    customers: np.ndarray,
    inactive: np.ndarray,
    foreign: crossbrand.Foreign | None,
) -> Iterator[Recs]:
    """Result rows for ``rows`` of ``inter`` (``customers``: their ids), their ALS factors
    solved from their signals (fold-in)."""
    for chunk in _scored(artefact, inter, rows, inactive, foreign, factors=False):
        yield _personal_rows(data, customers[chunk.rows], artefact.item_ids, chunk, foreign)


#: Scored chunks the worker may hold ready for the writer: a chunk's picks and cites are
#: about 200 KB, so the worker can bank a few seconds of scoring while the old results are
#: being cleared (about 25 MB at most).
AHEAD = 128


class Ahead:
    """``items`` produced on a worker thread started now, up to ``depth`` ahead of the
    reader.

    The model's fit and the scoring are numpy work that releases the GIL; the rows,
    explanations' text and COPY lines built from them are Python work that holds it. A
    large brand's retrain was bound by one thread doing both, with a core idle while the
    database stored rows faster than they came. The worker stops when the reader does
    (:meth:`close`, also on an error in the write); its own errors are raised to the
    reader."""

    _DONE = object()

    def __init__(self, items: Iterator, depth: int) -> None:
        self._ready: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._items = items
        self._worker = threading.Thread(target=self._produce, name="rank-ahead", daemon=True)
        self._worker.start()

    def _hand(self, item: object, error: BaseException | None = None) -> bool:
        """Queue ``item`` unless the reader has stopped (then False)."""
        while not self._stop.is_set():
            try:
                self._ready.put((item, error), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            for item in self._items:
                if not self._hand(item):
                    return
            self._hand(self._DONE)
        except BaseException as exc:  # handed to the reader, raised there
            self._hand(self._DONE, exc)

    def __iter__(self) -> Iterator:
        try:
            while True:
                item, error = self._ready.get()
                if item is self._DONE:
                    if error is not None:
                        raise error
                    return
                yield item
        finally:
            self.close()

    def close(self) -> None:
        """Stop the worker (after the item it is making) and wait for it."""
        self._stop.set()
        if self._worker is not threading.current_thread():
            self._worker.join()


def _personal_rows(data, customers, item_ids, chunk: rank.Ranked, foreign) -> Recs:
    """Result rows of one ranked chunk with explanations: ``chunk.cited`` are each
    customer's own items behind a pick (their allowed points are looked up in one batch and
    are always their own), ``chunk.foreign_cited`` categories from another brand."""
    valid = chunk.items >= 0  # -1: no personal pick in that slot
    owner, slot = np.nonzero(valid)  # row-major: by customer, then rank
    rec_customers = np.asarray(customers, dtype=np.int64)[owner]
    cites = chunk.cited[valid]  # (recs, EXPLAIN_ITEMS), largest contribution first
    rec_of, place = np.nonzero(cites >= 0)
    n = len(rec_customers)
    explanations = data.explanations(
        rec_of, rec_customers[rec_of], item_ids[cites[rec_of, place]], n
    )
    if foreign is not None:
        foreign.add_cites(explanations, rec_customers, chunk.foreign_cited[valid])
    return Recs(
        rec_customers.tolist(),
        item_ids[chunk.items[valid]].astype(np.int64).tolist(),
        (slot + 1).tolist(),
        np.asarray(chunk.scores, dtype=np.float64)[valid].tolist(),
        [False] * n,
        explanations,
    )


def popular_rows(known: dict[int, set[int]], popular: list[int]) -> Recs:
    """Cold start: the brand's popular items the customer has not interacted with."""
    rows = Recs()
    for cid, seen in sorted(known.items()):
        picks = [p for p in popular if p not in seen][:TOP_N]
        rows.extend(
            Recs(
                [cid] * len(picks),
                picks,
                range(1, len(picks) + 1),
                [0.0] * len(picks),
                [True] * len(picks),
                ["[]"] * len(picks),
            )
        )
    return rows


def rank_one(
    data: TrainingData, customer_id: int, artefact: Artefact | None, popular: list[int]
) -> Recs:
    """One customer's list from their current allowed signals, model unchanged (fold-in)."""
    with als.one_blas_thread():
        return _rank_one(data, customer_id, artefact, popular)


def _rank_one(
    data: TrainingData, customer_id: int, artefact: Artefact | None, popular: list[int]
) -> Recs:
    if not data.personalization.get(customer_id, False):
        return Recs()  # personalization is off: no personal results, not even cold-start rows
    known_products = {int(p) for p in data.items.tolist()}
    active = set(_active(data).tolist())
    cold = popular_rows({customer_id: known_products}, [p for p in popular if p in active])
    if artefact is None or data.n_ratings < MIN_RATINGS:
        return cold
    item_ids = artefact.item_ids
    column = {int(pid): i for i, pid in enumerate(item_ids.tolist())}
    inner = np.array([column.get(int(p), -1) for p in data.items.tolist()], dtype=np.int64)
    found = inner >= 0
    shape = (1, len(item_ids))
    inter = signals.interactions(
        np.zeros(int(found.sum()), dtype=np.int64), inner[found], data.ratings[found], shape
    )
    if inter.positive.nnz == 0:
        return cold  # nothing positive to go on: honest cold start
    # Known items outside the model are not in its columns; every model item the customer
    # knows, and every inactive product, is excluded.
    inactive = ~np.isin(item_ids, list(active))
    customers = np.array([customer_id], dtype=np.int64)
    foreign = crossbrand.foreign(data, artefact.categories, customers)
    recs = Recs.joined(
        _rank_chunks(data, artefact, inter, np.array([0]), customers, inactive, foreign)
    )
    return recs if len(recs) else cold


def interests_and_hours(data: TrainingData) -> tuple[list[tuple], list[tuple]]:
    """(customer, category, weight) and (customer, hour, confidence) rows."""
    item_values, codes = data.item_index
    names = [data.products.get(p, ("", ""))[1] for p in item_values.tolist()]
    # Categories coded per product (not per rating): no string per rating is built or sorted.
    category_names, category_of_item = np.unique(
        np.array(names or [""], dtype=str), return_inverse=True
    )
    interests = profile.category_interests(
        data.users,
        category_of_item.reshape(-1)[codes],
        data.ratings,
        category_names=category_names,
    )
    hours = profile.best_hours(data.hour_users, data.hours)
    interest_rows = [(int(cid), cat, w) for cid, cats in interests.items() for cat, w in cats]
    hour_rows = [(int(cid), h, c) for cid, (h, c) in hours.items()]
    return interest_rows, hour_rows
