"""Which model, and top-N with explanations for many users in bounded memory.

The model is chosen by catalogue size (:func:`choose`): EASE up to :data:`EASE_MAX_ITEMS`
items, ALS above. Ranking walks the users in chunks: one chunk's (users, items) float32
score block at a time, never the whole users x items matrix; ALS scores only the items a
user's norm bound admits (:func:`als_top_n`: the same lists up to float32 rounding, about
6x less work at 20,000 items with popularity skewed). A pick is *personal* only when its
score is above zero, which (all signals in the model being positive) means at least one
of the user's own positive signals raised it, and that signal is cited; slots left empty
are the caller's to fill with popular items, labelled as such.

Fold-in is the same call on one user's current rows: EASE scores are ``history x B``
(exactly what training computed when ``B`` is unchanged); ALS solves that user's factors
against the fixed item factors (:func:`.als.fold_in`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
from scipy import sparse

from . import als, crossbrand, ease, explain

#: Largest catalogue ranked with EASE. Measured (``tests/benchmarks/bench_scale.py``, 1M
#: events x 50k customers, seconds of fit + top-10 + explanations, ALS with its norm-bounded
#: top-N): EASE / ALS is 0.5x at 1,000 items, 1.0x at 5,000, 2.3x at 10,000 (CPU 0.3x, 0.6x,
#: 1.7x; 0.56 GB against 0.15), growing with items^3 beyond; ALS ranks within 0.01-0.02
#: NDCG@10 of EASE on ML-100k. So EASE up to the point where it stops being cheaper.
EASE_MAX_ITEMS = 5000
#: Default EASE L2 penalty when no per-brand value was tuned (:mod:`.tune`).
EASE_REG = 200.0
#: Columns per block in :func:`top_n`'s first pass.
BLOCK = 64
#: Users scored at once: bounds the (chunk, items) float32 block (20 MB at 20,000 items);
#: measured faster than 1024 users (the block stays in cache for top-N).
CHUNK = 256
#: Widest prefix :func:`als_top_n` ranks with ``top_n(row_bound=True)``: measured 1.4-13 ms
#: per 256 users at 512-8,192 large-norm items, against 27-37 ms by block maxima.
NARROW = 8192
#: ALS: items (largest factor norms) every user is scored on first, see :func:`als_top_n`.
FIRST_PASS = 1024
#: ALS: users scored again together on the items their bound admits (:func:`als_top_n`).
FURTHER_GROUP = 64
#: ALS: users whose bound admits more than this share of the items are scored on all.
WHOLE_SHARE = 0.5
#: Relative slack on the norm bound (float32 rounding of a dot product is ~1e-6).
SLACK = 1e-3

Algorithm = Literal["ease", "als"]


@dataclass(frozen=True, eq=False)
class EaseModel:
    weights: np.ndarray  # (items, items) float32
    reg: float


Model = EaseModel | als.Model
#: (rows, picks, k=) -> (cited items, contributions), see :mod:`.explain`.
Explainer = Callable[..., tuple[np.ndarray, np.ndarray]]


class Ranked(NamedTuple):
    """One chunk of results; row ``r`` belongs to user ``rows[r]`` of the ranked matrix."""

    rows: np.ndarray  # (c,)
    items: np.ndarray  # (c, n) item indices, best first, -1 = no personal pick
    scores: np.ndarray  # (c, n)
    cited: np.ndarray  # (c, n, k) own items behind each pick, -1 = none
    contributions: np.ndarray  # (c, n, k)
    foreign_cited: np.ndarray  # (c, n, k) foreign categories behind each pick, -1 = none
    foreign_contributions: np.ndarray  # (c, n, k)


def choose(n_items: int, *, threshold: int = EASE_MAX_ITEMS) -> Algorithm:
    """EASE while its items x items matrix is affordable, ALS above."""
    return "ease" if n_items <= threshold else "als"


def fit(
    positive: sparse.csr_matrix,
    *,
    algorithm: Algorithm | None = None,
    ease_reg: float = EASE_REG,
    als_params: als.Params = als.DEFAULT,
    als_start: np.ndarray | None = None,
) -> Model:
    """Fit the model ``algorithm`` names (default: :func:`choose` by catalogue size);
    ``als_start``: ALS item factors to start from (:func:`.als.fit`)."""
    if (algorithm or choose(positive.shape[1])) == "ease":
        return EaseModel(ease.fit(positive, ease_reg), ease_reg)
    return als.fit(positive, als_params, start=als_start)


def top_n(
    scores: np.ndarray,
    known: sparse.csr_matrix,
    excluded: np.ndarray | None,
    n: int,
    *,
    labels: np.ndarray | None = None,
    row_bound: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Best ``n`` items per row with a score above zero, not ``known`` to that row and not
    ``excluded`` (bool per item); best first, ties by lower item; padded with -1 / 0.
    ``scores`` is overwritten. ``labels``: the items of ``scores``' columns when they are
    not ``0..n_items-1`` in order (returned, and tie-broken on, instead of positions).

    Exact, in about two passes over the block: the maximum of every :data:`BLOCK` columns;
    the ``n``-th largest of those maxima is a lower bound of the row's ``n``-th best score
    (they are ``n`` distinct entries), so every pick lies in a block whose maximum reaches
    it. Only those few blocks are read again and sorted. ``row_bound``: take each row's
    ``n``-th best score itself as the bound (one partition of the row): faster where most
    blocks would reach the block maxima's bound, as in :func:`als_top_n`'s prefixes of
    large-norm items.
    """
    n_rows, n_items = scores.shape
    owner = np.repeat(np.arange(n_rows), np.diff(known.indptr))
    scores[owner, known.indices] = -np.inf
    if excluded is not None:
        scores[:, excluded] = -np.inf
    items = np.full((n_rows, n), -1, dtype=np.int64)
    values = np.zeros((n_rows, n), dtype=np.float64)
    if n <= 0 or n_rows == 0 or n_items == 0:
        return items, values
    positive = np.nextafter(np.float32(0), np.float32(1))  # picks need a score above zero
    if row_bound:
        kth = max(n_items - n, 0)
        bound = np.maximum(np.partition(scores, kth, axis=1)[:, kth : kth + 1], positive)
        rows, cols = np.nonzero(scores >= bound)
        found = scores[rows, cols]
    else:
        rows, cols, found = _candidates(scores, n, positive)
    if labels is not None:
        cols = labels[cols]
    order = np.lexsort((cols, -found, rows))
    rows, cols, found = rows[order], cols[order], found[order]
    slot = np.arange(len(rows)) - np.searchsorted(rows, rows)
    take = slot < n
    items[rows[take], slot[take]] = cols[take]
    values[rows[take], slot[take]] = found[take]
    return items, values


def _candidates(
    scores: np.ndarray, n: int, positive: np.floating
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, columns, scores) of every entry that may be among its row's ``n`` best,
    found through the maxima of :data:`BLOCK`-column blocks (see :func:`top_n`)."""
    n_rows, n_items = scores.shape
    starts = np.arange(0, n_items, BLOCK)
    maxima = np.maximum.reduceat(scores, starts, axis=1)
    if len(starts) > n:
        kth = len(starts) - n
        bound = np.partition(maxima, kth, axis=1)[:, kth : kth + 1]
    else:  # fewer blocks than picks: every entry above zero is a candidate
        bound = np.zeros((n_rows, 1), dtype=scores.dtype)
    bound = np.maximum(bound, positive)
    rows, blocks = np.nonzero(maxima >= bound)
    cols = starts[blocks][:, None] + np.arange(BLOCK)[None, :]
    inside = cols < n_items
    cols = np.where(inside, cols, 0)
    found = np.where(inside, scores[rows[:, None], cols], -np.inf)
    keep = found >= bound[rows]
    return np.broadcast_to(rows[:, None], cols.shape)[keep], cols[keep], found[keep]


class _ByNorm(NamedTuple):
    """An ALS model's items by factor norm, largest first (:func:`als_top_n`)."""

    order: np.ndarray  # item indices, largest norm first (ties: lower item first)
    position: np.ndarray  # each item's place in ``order``
    norms: np.ndarray  # the norms in that order (float64), descending
    factors: np.ndarray  # the item factors in that order, contiguous
    #: Whether the norms fall off enough for the bound to leave items out: not when the
    #: item past the first pass still has half the largest norm (norms alike: scoring every
    #: item at once is cheaper).
    skewed: bool


@functools.lru_cache(maxsize=4)
def _by_norm(model: als.Model) -> _ByNorm:
    y = model.item_factors
    norms = np.linalg.norm(y.astype(np.float64), axis=1)
    order = np.argsort(-norms, kind="stable")
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    ordered = norms[order]
    skewed = len(order) > FIRST_PASS and ordered[FIRST_PASS] < 0.5 * ordered[0]
    return _ByNorm(order, position, ordered, np.ascontiguousarray(y[order]), bool(skewed))


def _prefix_top_n(
    index: _ByNorm,
    users: np.ndarray,
    known: sparse.csr_matrix,
    excluded: np.ndarray | None,
    n: int,
    length: int,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`top_n` of ``users`` over the ``length`` largest-norm items only (``known``
    and ``excluded`` already in norm order)."""
    scores = als.scores(users, index.factors[:length])
    some = None if excluded is None else excluded[:length]
    labels = index.order[:length]
    return top_n(scores, known[:, :length], some, n, labels=labels, row_bound=length <= NARROW)


def als_top_n(
    model: als.Model,
    users: np.ndarray,
    known: sparse.csr_matrix,
    excluded: np.ndarray | None,
    n: int,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`top_n` of ``users @ item_factors.T``, scoring only the items that can make a
    user's list: the same picks and scores, except that items whose scores agree to
    float32 rounding may come in the other order (a few items are scored in a different
    BLAS call from the whole block, and on some CPUs the same dot product then differs in
    its last bit: two items with identical factors can split either way).

    A score is at most the product of the two norms (Cauchy-Schwarz), so once a user has
    ``n`` picks scoring at least ``theta`` (picks need a score above zero), an item whose
    norm is below ``theta / |u|`` cannot be among their best. Items are taken largest norm
    first: a first pass over :data:`FIRST_PASS` of them gives each user a ``theta``; users
    whose bound admits more items are scored again on all of those, in groups of similar
    reach. Popularity is skewed, so item norms are too (at 20,000 items a few hundred
    carry nearly all of it) and most users need the first pass only; users whose bound
    admits most items are scored on all of them in one block, so at worst (norms alike)
    this costs the first pass more than :func:`top_n` on the whole block. ``theta`` is
    lowered by :data:`SLACK`, far above float32 rounding in a dot product, so rounding
    leaves no admissible item out; ties go to the lower item, as in :func:`top_n`.
    """
    index = _by_norm(model)
    n_rows, n_items = users.shape[0], len(index.order)
    if n <= 0 or n_rows == 0 or not index.skewed:
        return top_n(als.scores(users, model.item_factors), known, excluded, n)
    by_norm = sparse.csr_matrix(
        (known.data, index.position[known.indices], known.indptr), shape=known.shape
    )
    excluded_by_norm = None if excluded is None else excluded[index.order]
    items, values = _prefix_top_n(index, users, by_norm, excluded_by_norm, n, FIRST_PASS)
    theta = np.where(items[:, -1] >= 0, values[:, -1], 0.0)
    user_norms = np.linalg.norm(users.astype(np.float64), axis=1)
    reach = np.divide(theta, user_norms, out=np.full(n_rows, np.inf), where=user_norms > 0)
    # Short of n picks (theta 0): every item, as any may still score above zero.
    needed = np.searchsorted(-index.norms, -reach * (1.0 - SLACK), side="right")
    # Users whose bound admits most of the catalogue (item norms hardly skewed) are scored
    # on all of it, as one block: cheaper than many prefixes.
    whole = np.flatnonzero(needed > WHOLE_SHARE * n_items)
    if len(whole):
        scores = als.scores(users[whole], model.item_factors)
        items[whole], values[whole] = top_n(scores, known[whole], excluded, n)
    further = np.flatnonzero((needed > FIRST_PASS) & (needed <= WHOLE_SHARE * n_items))
    further = further[np.argsort(needed[further], kind="stable")]
    for start in range(0, len(further), FURTHER_GROUP):
        group = further[start : start + FURTHER_GROUP]
        length = int(needed[group].max())
        items[group], values[group] = _prefix_top_n(
            index, users[group], by_norm[group], excluded_by_norm, n, length
        )
    return items, values


def _top(
    model: Model,
    rows: sparse.csr_matrix,
    factors: np.ndarray | None,
    known: sparse.csr_matrix,
    excluded: np.ndarray | None,
    foreign: crossbrand.Foreign | None,
    n: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``n`` picks and scores of a chunk of users (``foreign``: their foreign rows)."""
    if isinstance(model, EaseModel):
        scores = ease.scores(rows, model.weights)
        if foreign is not None:
            scores += crossbrand.scores(foreign.rows, foreign.model)
        return top_n(scores, known, excluded, n)
    users = als.fold_in(model, rows) if factors is None else factors
    mixed = np.zeros(rows.shape[0], dtype=bool)
    if foreign is not None:  # foreign scores break the norm bound: those rows are dense
        mixed = np.diff(foreign.rows.indptr) > 0
    if not mixed.any():
        return als_top_n(model, users, known, excluded, n)
    items = np.full((rows.shape[0], n), -1, dtype=np.int64)
    values = np.zeros((rows.shape[0], n), dtype=np.float64)
    plain, dense = np.flatnonzero(~mixed), np.flatnonzero(mixed)
    items[plain], values[plain] = als_top_n(model, users[plain], known[plain], excluded, n)
    assert foreign is not None
    scores = als.scores(users[dense], model.item_factors)
    scores += crossbrand.scores(foreign.rows[dense], foreign.model)
    items[dense], values[dense] = top_n(scores, known[dense], excluded, n)
    return items, values


@functools.lru_cache(maxsize=4)
def _explainer(model: Model) -> Explainer:
    """Per-model preparation (ALS: ``(Y'Y + reg I)^-1``), kept for the next fold-in."""
    if isinstance(model, EaseModel):
        return functools.partial(explain.ease, model.weights)
    return explain.AlternatingLeastSquares(model)


def _cited_first(ranked: Ranked) -> Ranked:
    """Drop (defensively) picks with nothing cited, keeping the others in order."""
    keep = (ranked.cited[:, :, 0] >= 0) | (ranked.foreign_cited[:, :, 0] >= 0)
    order = np.argsort(~keep, axis=1, kind="stable")
    keep = np.take_along_axis(keep, order, axis=1)

    def moved(values: np.ndarray, empty: float) -> np.ndarray:
        index = order if values.ndim == 2 else order[..., None]
        mask = keep if values.ndim == 2 else keep[..., None]
        return np.where(mask, np.take_along_axis(values, index, axis=1), empty)

    return Ranked(
        ranked.rows,
        moved(ranked.items, -1),
        moved(ranked.scores, 0.0),
        moved(ranked.cited, -1),
        moved(ranked.contributions, 0.0),
        moved(ranked.foreign_cited, -1),
        moved(ranked.foreign_contributions, 0.0),
    )


def rank(
    model: Model,
    positive: sparse.csr_matrix,
    known: sparse.csr_matrix,
    *,
    user_factors: np.ndarray | None = None,
    excluded: np.ndarray | None = None,
    foreign: crossbrand.Foreign | None = None,
    n: int = 10,
    k: int = 2,
    chunk: int = CHUNK,
) -> Iterator[Ranked]:
    """Top-``n`` personal picks and ``k`` cited signals each, for every row of ``positive``
    (``known``: the same rows' observed pairs), ``chunk`` rows at a time.

    ``user_factors`` (ALS only): the rows' factors from training; without them (fold-in)
    they are solved from ``positive``. ``foreign``: other brands' signals of the same
    rows, already limited to customers who allowed it (:mod:`.crossbrand`). ``k=0``
    skips explanations (evaluation).
    """
    positive = sparse.csr_matrix(positive, dtype=np.float32)
    known = sparse.csr_matrix(known)
    why = _explainer(model)
    for start in range(0, positive.shape[0], chunk):
        block = slice(start, min(start + chunk, positive.shape[0]))
        factors = None if user_factors is None else user_factors[block]
        theirs = None if foreign is None else foreign._replace(rows=foreign.rows[block])
        items, values = _top(model, positive[block], factors, known[block], excluded, theirs, n)
        cited, contributions = why(positive[block], items, k=k)
        if foreign is None:
            other = (np.full_like(cited, -1), np.zeros_like(contributions))
        else:
            other = crossbrand.explain(foreign.rows[block], foreign.model, items, k=k)
        ranked = Ranked(
            np.arange(block.start, block.stop), items, values, cited, contributions, *other
        )
        yield _cited_first(ranked) if k > 0 else ranked


def fold_in(
    model: Model,
    positive_row: sparse.csr_matrix,
    known_row: sparse.csr_matrix,
    *,
    excluded: np.ndarray | None = None,
    foreign: crossbrand.Foreign | None = None,
    n: int = 10,
    k: int = 2,
) -> Ranked:
    """One user's current list from their current signals (one CSR row each), model
    unchanged: seconds instead of a brand retrain. EASE: the same ``history x B`` training
    computed; ALS: the user's factors solved against the fixed item factors."""
    return next(rank(model, positive_row, known_row, excluded=excluded, foreign=foreign, n=n, k=k))
