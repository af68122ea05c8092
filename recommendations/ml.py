"""Pure machine-learning core of Candor's recommendations.

This module knows nothing about Django, the ORM or HTTP: it takes plain arrays in and gives
plain arrays (or Surprise objects) back, so that it can be unit-tested, benchmarked against
published numbers and reasoned about in isolation. Only numpy, scikit-surprise and scipy (a
dependency of scikit-surprise: BLAS/LAPACK for EASE, sparse products) are used.

Implicit signal scale
---------------------
Most of what a shop knows about a customer is implicit (they looked, they clicked, they
bought). Surprise's algorithms expect ratings, so every signal is mapped onto the same 1-5
scale. The neutral point is the middle of the scale (3.0): a signal above it is evidence of
interest, a signal below it is evidence of disinterest.

==================  ======  ================================================================
kind                weight  why
==================  ======  ================================================================
``rating``          as is   The customer told us explicitly; always beats implicit signals.
``purchase``        5.0     Money spent is the strongest implicit evidence of interest.
``add_to_cart``     4.5     Intent to buy, but carts are often abandoned.
``click``           4.0     Chose to open the item among alternatives.
``widget_click``    4.0     Same act as ``click``, just from the recommendation widget.
``view``            3.5     Weakest positive evidence: views are cheap and often accidental.
``not_interested``  1.0     The customer explicitly dismissed the item.
==================  ======  ================================================================

These differ from the first draft (click 3.0, widget_click 3.0, view 2.0, add_to_cart 4.0). In
that draft a view sat *below* the neutral point, which would have taught the model that
viewing an item is evidence of disliking it. It would also have made old views count *more*
than fresh ones once ages decay toward neutral. Every positive signal now sits above neutral.
They keep the same order, so one signal never outranks a stronger one.

Ageing: an implicit signal of age ``a`` days is pulled toward neutral with an exponential
half-life ``h``: ``neutral + (weight - neutral) * 0.5 ** (a / h)``. A year-old view therefore
says little, and an old dismissal stops suppressing an item for ever. Explicit ratings do not
decay, because the customer stated them and can edit them at any time.

Ranking model (what the product's top-N uses)
---------------------------------------------
EASE (:func:`fit_ease`, Steck 2019): a closed-form item-item model on implicit positives
(rating >= neutral). On the MovieLens-100k global time split (newest 20% = test, relevant =
rated >= 4, warm users) it is the only model tried that beats popularity on both
precision@10 and NDCG@10 (0.1245 / 0.1538 vs 0.1071 / 0.1331). SVD ranks below popularity
there (0.075 / 0.095) and so do its popularity blends, so SVD stays for rating prediction
(Q1) and for catalogues above :data:`EASE_MAX_ITEMS`. EASE's one knob, ``reg``, was picked
by :func:`choose_ease_reg` on a validation split cut from the training period only.
A score is ``sum_i B[i, j]`` over the customer's own positive items, so
:func:`explain_item_item` cites exactly what raised it.

Ids: Surprise stores raw ids as given, and :func:`build_trainset` turns every raw id into a
``str``. So ``trainset.to_inner_uid(42)`` raises even when ``"42"`` is known. Always look up
``str(raw_id)``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.linalg import blas, lapack
from surprise import SVD, AlgoBase, Dataset, KNNBaseline, Reader, Trainset, accuracy

RatingScale = tuple[float, float]
DEFAULT_SCALE: RatingScale = (1.0, 5.0)

#: Rating each implicit signal kind stands for (``None``: explicit, value used as given).
IMPLICIT_WEIGHTS: dict[str, float | None] = {
    "purchase": 5.0,
    "add_to_cart": 4.5,
    "rating": None,
    "click": 4.0,
    "widget_click": 4.0,
    "view": 3.5,
    "not_interested": 1.0,
}


class Triples(NamedTuple):
    """Parallel (user, item, rating) arrays: the one shape every function here exchanges."""

    users: np.ndarray
    items: np.ndarray
    ratings: np.ndarray


# --------------------------------------------------------------------------------------------
# Signals -> ratings
# --------------------------------------------------------------------------------------------


def dense_codes(values: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` (sorted distinct values, and each value's
    index among them), without sorting when the values are non-negative integers of a
    range not much larger than their count (database ids): a presence table is O(n)."""
    arr = np.asarray(values)
    if arr.dtype.kind in "iu" and arr.ndim == 1 and len(arr):
        low, high = int(arr.min()), int(arr.max())
        if low >= 0 and high < 8 * len(arr) + 65536:
            present = np.zeros(high + 1, dtype=bool)
            present[arr] = True
            code_of = np.cumsum(present, dtype=np.intp) - 1
            return np.flatnonzero(present).astype(arr.dtype), code_of[arr]
    distinct, codes = np.unique(arr, return_inverse=True)
    return distinct, codes.reshape(-1)


def _weights_for_kinds(kinds: np.ndarray, kind_names: Sequence[str] | None = None) -> np.ndarray:
    """Map kinds to weights (NaN = explicit); one dict lookup per *distinct* kind.

    ``kinds`` are kind strings, or (with ``kind_names``) integer codes into ``kind_names``,
    which skips sorting the strings of every row.
    """
    if kind_names is None:
        names, codes = np.unique(kinds, return_inverse=True)
    else:
        names, codes = np.asarray(list(kind_names), dtype=str), np.asarray(kinds, dtype=np.intp)
        if len(codes) and (codes.min() < 0 or codes.max() >= len(names)):
            raise ValueError("Kind codes must index kind_names.")
    unknown = sorted(str(k) for k in names if str(k) not in IMPLICIT_WEIGHTS)
    if unknown:
        raise ValueError(f"Unknown signal kind(s): {unknown}; known: {sorted(IMPLICIT_WEIGHTS)}")
    table = np.array(
        [np.nan if IMPLICIT_WEIGHTS[str(k)] is None else IMPLICIT_WEIGHTS[str(k)] for k in names],
        dtype=np.float64,
    )
    return table[codes.reshape(-1)]


def _pair_codes(users: np.ndarray, items: np.ndarray) -> tuple[Triples, np.ndarray]:
    """Dense code per (user, item) pair, so per-pair reductions become array ops.

    Returns the distinct pairs (ratings left empty) sorted by (user, item) and, for every
    input row, the index of its pair. Non-negative integer ids (the database's) are packed
    into one int64 key and sorted once; other ids are coded per column first.
    """
    if users.dtype.kind in "iu" and items.dtype.kind in "iu" and len(users):
        low = min(int(users.min()), int(items.min()))
        span = int(items.max()) + 1
        if low >= 0 and (int(users.max()) + 1) * span < 2**62:
            key = users.astype(np.int64) * span + items.astype(np.int64)
            pair_values, pair_codes = np.unique(key, return_inverse=True)
            pairs = Triples(
                (pair_values // span).astype(users.dtype),
                (pair_values % span).astype(items.dtype),
                np.empty(0),
            )
            return pairs, pair_codes.reshape(-1)
    user_values, user_codes = dense_codes(users)
    item_values, item_codes = dense_codes(items)
    n_items = len(item_values)
    pair = user_codes.astype(np.int64) * n_items + item_codes
    pair_values, pair_codes = np.unique(pair, return_inverse=True)
    pairs = Triples(
        user_values[pair_values // n_items], item_values[pair_values % n_items], np.empty(0)
    )
    return pairs, pair_codes.reshape(-1)


def signals_to_ratings(
    user_ids: npt.ArrayLike,
    item_ids: npt.ArrayLike,
    kinds: npt.ArrayLike,
    values: npt.ArrayLike,
    ages_days: npt.ArrayLike,
    *,
    half_life_days: float = 90.0,
    rating_scale: RatingScale = DEFAULT_SCALE,
    kind_names: Sequence[str] | None = None,
) -> Triples:
    """Collapse raw interaction rows into exactly one rating per (user, item).

    Rules, chosen so the model learns what the customer *currently* thinks:

    * An explicit ``rating`` always wins. If there are several, the newest wins, because the
      customer revised it. ``values`` is only read for ``rating`` rows (others may be NaN).
    * Implicit signals are weighted (see :data:`IMPLICIT_WEIGHTS`). They decay toward neutral
      with the given half-life, and the pair keeps the strongest positive signal (max).
    * A negative implicit signal (``not_interested``) overrides the positives when it is at
      least as recent as the newest positive one. A plain max would let an old view outvote
      a fresh dismissal. A purchase after a dismissal still wins.

    Everything is vectorised (``np.unique`` + ``ufunc.at``), so there is no Python loop over
    rows. The output is sorted by (user, item) and clipped to ``rating_scale``. ``kinds``
    may be integer codes into ``kind_names`` instead of strings.
    """
    triples, _ = signals_to_ratings_indexed(
        user_ids,
        item_ids,
        kinds,
        values,
        ages_days,
        half_life_days=half_life_days,
        rating_scale=rating_scale,
        kind_names=kind_names,
    )
    return triples


def signals_to_ratings_indexed(
    user_ids: npt.ArrayLike,
    item_ids: npt.ArrayLike,
    kinds: npt.ArrayLike,
    values: npt.ArrayLike,
    ages_days: npt.ArrayLike,
    *,
    half_life_days: float = 90.0,
    rating_scale: RatingScale = DEFAULT_SCALE,
    kind_names: Sequence[str] | None = None,
) -> tuple[Triples, np.ndarray]:
    """:func:`signals_to_ratings`, plus for every input row the index of its output pair
    (so a caller can reduce its own per-row columns per pair without sorting again)."""
    users = np.asarray(user_ids)
    items = np.asarray(item_ids)
    kind_arr = np.asarray(kinds) if kind_names is not None else np.asarray(kinds).astype(str)
    vals = np.asarray(values, dtype=np.float64)
    ages = np.clip(np.asarray(ages_days, dtype=np.float64), 0.0, None)
    lengths = {len(users), len(items), len(kind_arr), len(vals), len(ages)}
    if len(lengths) != 1:
        raise ValueError("All signal columns must have the same length.")
    if half_life_days <= 0:
        raise ValueError("half_life_days must be positive.")
    if len(users) == 0:
        return Triples(users[:0], items[:0], np.empty(0, dtype=np.float64)), np.empty(0, np.intp)

    low, high = rating_scale
    neutral = (low + high) / 2.0
    weights = _weights_for_kinds(kind_arr, kind_names)
    explicit = np.isnan(weights)
    if not np.all(np.isfinite(vals[explicit])):
        raise ValueError("Every explicit 'rating' row needs a finite value.")

    pairs, codes = _pair_codes(users, items)
    n_pairs = len(pairs.users)
    decayed = neutral + (weights - neutral) * np.power(0.5, ages / half_life_days)
    result = np.full(n_pairs, np.nan)

    positive = ~explicit & (weights >= neutral)
    negative = ~explicit & (weights < neutral)
    best_pos = np.full(n_pairs, -np.inf)
    np.maximum.at(best_pos, codes[positive], decayed[positive])
    newest_pos = np.full(n_pairs, np.inf)
    np.minimum.at(newest_pos, codes[positive], ages[positive])
    worst_neg = np.full(n_pairs, np.inf)
    np.minimum.at(worst_neg, codes[negative], decayed[negative])
    newest_neg = np.full(n_pairs, np.inf)
    np.minimum.at(newest_neg, codes[negative], ages[negative])

    has_pos = np.isfinite(best_pos)
    neg_wins = np.isfinite(worst_neg) & (newest_neg <= newest_pos)
    result[has_pos] = best_pos[has_pos]
    result[neg_wins] = worst_neg[neg_wins]

    # Explicit: newest rating per pair; on equal age the later row wins.
    rows = np.flatnonzero(explicit)
    newest = np.full(n_pairs, np.inf)
    np.minimum.at(newest, codes[rows], ages[rows])
    rows = rows[ages[rows] == newest[codes[rows]]]
    last = np.full(n_pairs, -1, dtype=np.intp)
    np.maximum.at(last, codes[rows], rows)
    rated = last >= 0
    result[rated] = vals[last[rated]]

    return Triples(pairs.users, pairs.items, np.clip(result, low, high)), codes


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------


def build_trainset(
    users: npt.ArrayLike,
    items: npt.ArrayLike,
    ratings: npt.ArrayLike,
    *,
    rating_scale: RatingScale = DEFAULT_SCALE,
) -> Trainset:
    """Build a Surprise ``Trainset`` straight from arrays, without pandas.

    This uses ``Dataset.construct_trainset``, the same routine ``load_from_df`` and the
    KFold splitter end up in. Inner ids are therefore given in row order, exactly as in
    Surprise. Raw ids become ``str``. Duplicate pairs are rejected because Surprise would
    silently count them twice.
    """
    user_arr = np.asarray(users).astype(str)
    item_arr = np.asarray(items).astype(str)
    rating_arr = np.asarray(ratings, dtype=np.float64)
    if not (len(user_arr) == len(item_arr) == len(rating_arr)):
        raise ValueError("users, items and ratings must have the same length.")
    if len(rating_arr) == 0:
        raise ValueError("Cannot train on zero ratings.")
    low, high = rating_scale
    if np.any((rating_arr < low) | (rating_arr > high)) or not np.all(np.isfinite(rating_arr)):
        raise ValueError(f"Ratings must be finite and within {rating_scale}.")
    pairs, _ = _pair_codes(user_arr, item_arr)
    if len(pairs.users) != len(user_arr):
        raise ValueError("Duplicate (user, item) pairs; aggregate with signals_to_ratings first.")
    raw = zip(user_arr.tolist(), item_arr.tolist(), rating_arr.tolist(), itertools.repeat(None))
    return Dataset(Reader(rating_scale=rating_scale)).construct_trainset(list(raw))


def fit_svd(
    trainset: Trainset,
    *,
    n_factors: int = 100,
    n_epochs: int = 20,
    lr_all: float = 0.005,
    reg_all: float = 0.02,
    random_state: int = 0,
) -> SVD:
    """Fit Funk SVD with Surprise's defaults; a fixed seed so retrains are reproducible."""
    algo = SVD(
        n_factors=n_factors,
        n_epochs=n_epochs,
        lr_all=lr_all,
        reg_all=reg_all,
        random_state=random_state,
    )
    return algo.fit(trainset)


def fit_knn_baseline(
    trainset: Trainset,
    *,
    k: int = 40,
    user_based: bool = False,
    random_state: int = 0,
) -> KNNBaseline:
    """Fit item-item KNNBaseline with pearson_baseline similarity (best of Surprise's k-NNs).

    Item-item is the default because its neighbours are products the customer knows, and
    those make honest explanations ("because you bought X"). ``random_state`` is accepted so
    it can be swapped for :func:`fit_svd`. ALS baselines are deterministic, so it is unused.
    """
    del random_state
    algo = KNNBaseline(
        k=k,
        sim_options={"name": "pearson_baseline", "user_based": user_based},
        bsl_options={"method": "als"},
        verbose=False,
    )
    return algo.fit(trainset)


# --------------------------------------------------------------------------------------------
# Scoring and top-N
# --------------------------------------------------------------------------------------------


def score_all_svd(
    algo: SVD, trainset: Trainset, inner_uids: npt.ArrayLike | None = None, *, clip: bool = True
) -> np.ndarray:
    """Score every (user, item) pair at once, equal to ``algo.predict(u, i).est``.

    Surprise computes ``mu + b_u + b_i + q_i . p_u`` (only ``q_i . p_u`` when
    ``biased=False``) and then clips the result to the rating scale in ``predict``. This does
    the same with one matrix product instead of a Python call per pair. Pass ``inner_uids``
    to score only some users; the full matrix costs ``n_users * n_items * 8`` bytes.
    ``clip=False`` matches ``predict(..., clip=False)``. It keeps the order among items that
    Surprise would all report as exactly 5.0, which is useful when only the ranking matters.
    """
    if np.shape(algo.pu)[0] != trainset.n_users or np.shape(algo.qi)[0] != trainset.n_items:
        raise ValueError("algo was fitted on a different trainset.")
    rows = slice(None) if inner_uids is None else np.asarray(inner_uids, dtype=np.intp)
    pu = np.asarray(algo.pu)[rows]
    qi = np.asarray(algo.qi)
    scores: np.ndarray
    if algo.biased:
        user_part = trainset.global_mean + np.asarray(algo.bu)[rows]
        scores = user_part[:, None] + np.asarray(algo.bi)[None, :]
        scores += pu @ qi.T
    else:
        scores = pu @ qi.T
    if clip:
        low, high = trainset.rating_scale
        np.clip(scores, low, high, out=scores)
    return scores


def known_items_mask(trainset: Trainset) -> np.ndarray:
    """Boolean (n_users, n_items) mask of pairs in the trainset: never recommend those again."""
    mask = np.zeros((trainset.n_users, trainset.n_items), dtype=bool)
    for uid, rated in trainset.ur.items():
        mask[uid, [iid for iid, _ in rated]] = True
    return mask


def top_n(scores: np.ndarray, known: np.ndarray | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Best ``n`` unknown items per row, best first, in O(items) per user.

    ``np.argpartition`` finds the n best items without sorting the whole row, and only those
    n are then sorted (by score desc, then item index asc, so the order is deterministic).
    ``known`` is a boolean mask (or anything with ``.toarray()``) of items to exclude. Rows
    with fewer than ``n`` eligible items are padded with index ``-1`` and value ``-inf``.
    float32 scores are ranked as float32 (no widening copy; the order is the same) and their
    values returned as float64, like every other input.
    """
    dtype = np.float32 if np.asarray(scores).dtype == np.float32 else np.float64
    masked = np.array(scores, dtype=dtype, ndmin=2)  # a copy: the caller's stays intact
    if known is not None:
        known_arr = known.toarray() if hasattr(known, "toarray") else np.asarray(known)
        np.putmask(masked, known_arr.astype(bool, copy=False), -np.inf)
    n_rows, n_items = masked.shape
    take = min(max(n, 0), n_items)
    indices = np.full((n_rows, max(n, 0)), -1, dtype=np.intp)
    values = np.full((n_rows, max(n, 0)), -np.inf)
    if take == 0:
        return indices, values
    part = np.argpartition(masked, n_items - take, axis=1)[:, n_items - take :]
    part_values = np.take_along_axis(masked, part, axis=1)
    order = np.lexsort((part, -part_values), axis=1)
    best = np.take_along_axis(part, order, axis=1)
    best_values = np.take_along_axis(part_values, order, axis=1)
    best[~np.isfinite(best_values)] = -1
    indices[:, :take] = best
    values[:, :take] = best_values
    return indices, values


def top_n_predict_loop(
    algo: AlgoBase, trainset: Trainset, n: int, inner_uids: Iterable[int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Slow reference top-N: one ``algo.predict`` per unknown pair, then a full stable sort.

    Only tests (as the oracle for :func:`top_n`) and the benchmark (as the speed baseline)
    use this. Output format is the same as :func:`top_n`.
    """
    uids = list(range(trainset.n_users) if inner_uids is None else inner_uids)
    raw_items = [trainset.to_raw_iid(i) for i in range(trainset.n_items)]
    indices = np.full((len(uids), n), -1, dtype=np.intp)
    values = np.full((len(uids), n), -np.inf)
    for row, uid in enumerate(uids):
        raw_user = trainset.to_raw_uid(uid)
        known = {i for i, _ in trainset.ur[uid]}
        candidates = [i for i in range(trainset.n_items) if i not in known]
        ests = np.array([algo.predict(raw_user, raw_items[i]).est for i in candidates])
        order = np.argsort(-ests, kind="stable")[:n]
        indices[row, : len(order)] = np.asarray(candidates, dtype=np.intp)[order]
        values[row, : len(order)] = ests[order]
    return indices, values


def popular_items(items: npt.ArrayLike, ratings: npt.ArrayLike, n: int | None = None) -> np.ndarray:
    """Popularity baseline: most interactions first, ties by mean rating, then by item id.

    A personalised model has to beat this; if it cannot, it only adds opacity.
    """
    values, codes = dense_codes(items)
    order = values[popular_codes(codes, ratings, len(values))]
    return order if n is None else order[:n]


def popular_codes(item_codes: npt.ArrayLike, ratings: npt.ArrayLike, n_items: int) -> np.ndarray:
    """:func:`popular_items` on dense item codes (``0 .. n_items - 1``, in id order): the
    codes, most popular first, for callers that already coded their items."""
    codes = np.asarray(item_codes, dtype=np.intp)
    counts = np.bincount(codes, minlength=n_items)
    sums = np.bincount(codes, weights=np.asarray(ratings, dtype=np.float64), minlength=n_items)
    means = np.divide(sums, counts, out=np.zeros(n_items), where=counts > 0)
    return np.lexsort((np.arange(n_items), -means, -counts))


# --------------------------------------------------------------------------------------------
# Implicit item-item ranking (EASE): the model the product ranks top-N with
# --------------------------------------------------------------------------------------------

#: L2 penalty of :func:`fit_ease`. Chosen by :func:`choose_ease_reg` on a validation split cut
#: from the *training* period of MovieLens 100k (never the test period); bench_pipeline
#: re-runs that choice and prints it next to this default.
EASE_REG = 200.0
#: Ratings at or above this (the neutral point of the 1-5 scale) count as positive evidence.
#: Dismissals and low ratings are not positive, but they still mark the item as known.
EASE_MIN_RATING = 3.0
#: EASE keeps an (items x items) matrix; above this catalogue size the product ranks with SVD.
EASE_MAX_ITEMS = 5000


def interaction_matrices(
    user_codes: npt.ArrayLike,
    item_codes: npt.ArrayLike,
    ratings: npt.ArrayLike,
    shape: tuple[int, int],
    *,
    min_rating: float = EASE_MIN_RATING,
) -> tuple[np.ndarray, np.ndarray]:
    """``(positive, known)`` for dense codes: ``positive`` is 1.0 where the rating is at least
    ``min_rating`` (float32, what EASE learns from), ``known`` marks every observed pair."""
    users = np.asarray(user_codes, dtype=np.intp)
    items = np.asarray(item_codes, dtype=np.intp)
    values = np.asarray(ratings, dtype=np.float64)
    positive = np.zeros(shape, dtype=np.float32)
    known = np.zeros(shape, dtype=bool)
    known[users, items] = True
    keep = values >= min_rating
    positive[users[keep], items[keep]] = 1.0
    return positive, known


def positive_csr(
    user_codes: npt.ArrayLike,
    item_codes: npt.ArrayLike,
    ratings: npt.ArrayLike,
    shape: tuple[int, int],
    *,
    min_rating: float = EASE_MIN_RATING,
) -> sparse.csr_array:
    """The ``positive`` matrix of :func:`interaction_matrices` as CSR (float32), built from
    the codes directly: each row lists the user's positive items in ascending order."""
    users = np.asarray(user_codes, dtype=np.intp)
    items = np.asarray(item_codes, dtype=np.intp)
    keep = np.asarray(ratings, dtype=np.float64) >= min_rating
    users, items = users[keep], items[keep]
    if np.any(users[1:] < users[:-1]) or np.any(
        (users[1:] == users[:-1]) & (items[1:] <= items[:-1])
    ):
        order = np.lexsort((items, users))
        users, items = users[order], items[order]
    indptr = np.zeros(shape[0] + 1, dtype=np.intp)
    np.cumsum(np.bincount(users, minlength=shape[0]), out=indptr[1:])
    matrix = sparse.csr_array((np.ones(len(items), dtype=np.float32), items, indptr), shape=shape)
    matrix.sum_duplicates()
    matrix.data[:] = 1.0  # a pair given twice is still one positive item
    return matrix


def fit_ease(positive: npt.ArrayLike, *, reg: float = EASE_REG) -> np.ndarray:
    """Item-item weights of EASE (Steck, "Embarrassingly Shallow Autoencoders", WWW 2019).

    Closed form: ``P = (X'X + reg I)^-1``, ``B = -P / diag(P)`` column-wise, ``diag(B) = 0``.
    A user's score for item ``j`` is ``sum_i x_ui B_ij``: only items they interacted with
    add to it, which is also an exact explanation (:func:`explain_item_item`).

    ``X'X + reg I`` is symmetric positive definite, so it is inverted through its Cholesky
    factor (LAPACK ``potrf`` + ``potri``: a third of the work of a general LU inverse) in
    float32: the Gram matrix holds counts (exact below 2**24) and ``reg`` bounds its
    condition number, so the weights agree with a float64 inverse to ~1e-6 and MovieLens
    100k's top-10 lists are identical. Returns float32 (the artefact is stored and scored in
    float32, so a recompute ranks exactly as the training run did).
    """
    if reg <= 0:
        raise ValueError("reg must be positive.")
    x = np.asarray(positive, dtype=np.float32)
    n_items = x.shape[1]
    if x.shape[0] == 0 or n_items == 0:
        return np.zeros((n_items, n_items), dtype=np.float32)
    # Upper triangle of X'X (from X' as laid out in memory: no copy of X) into a zeroed
    # matrix; syrk, potrf and potri only ever touch the upper triangle, so the strictly
    # lower one is still exactly zero at the end.
    upper = np.zeros((n_items, n_items), dtype=np.float32, order="F")
    upper = blas.ssyrk(1.0, x.T, trans=0, lower=0, c=upper, overwrite_c=1)
    upper.ravel(order="K")[:: n_items + 1] += reg
    upper, info = lapack.spotrf(upper, lower=0, clean=0, overwrite_a=1)
    if info == 0:
        upper, info = lapack.spotri(upper, lower=0, overwrite_c=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"EASE Gram matrix is not positive definite (info={info}).")
    # P = U + U' with the diagonal counted once (exact: adding zeros, halving), then
    # B = -P / diag(P) column-wise with a zero diagonal.
    weights = upper + upper.T
    weights.ravel(order="K")[:: n_items + 1] *= 0.5
    weights *= (-1.0 / np.diag(weights))[None, :]
    np.fill_diagonal(weights, 0.0)
    return np.ascontiguousarray(weights, dtype=np.float32)


def score_item_item(positive: npt.ArrayLike, weights: np.ndarray) -> np.ndarray:
    """Scores of every item for each row of ``positive`` (``X @ B``), as float32.

    ``X`` is 0/1 and sparse (a customer knows few items), so the product is taken as a
    sparse (CSR) times dense product: only each row's own items are read, as an
    explanation would cite them. ``positive`` may already be a scipy sparse matrix.
    """
    x = positive if sparse.issparse(positive) else sparse.csr_array(np.asarray(positive))
    w = np.asarray(weights, dtype=np.float32)
    return np.asarray(x.astype(np.float32) @ w, dtype=np.float32)


def explain_item_item(
    weights: np.ndarray, positive_items: npt.ArrayLike, targets: npt.ArrayLike, *, k: int = 3
) -> list[list[tuple[int, float]]]:
    """For each target, up to ``k`` of the user's own positive items that raised its score
    the most, with their exact contribution ``B[i, target]`` (> 0 only), largest first.

    The score is the sum of these contributions, so the explanation is the model itself,
    not an approximation. Only ``positive_items`` can be cited.
    """
    own = np.asarray(positive_items, dtype=np.intp)
    wanted = np.asarray(targets, dtype=np.intp)
    if len(own) == 0 or len(wanted) == 0:
        return [[] for _ in range(len(wanted))]
    contrib = np.asarray(weights[np.ix_(own, wanted)], dtype=np.float64).T  # targets x own
    contrib[wanted[:, None] == own[None, :]] = -np.inf
    order = np.argsort(-contrib, axis=1, kind="stable")[:, :k]
    picked = np.take_along_axis(contrib, order, axis=1)
    return [
        [(int(own[c]), float(v)) for c, v in zip(row_cols, row_vals, strict=True) if v > 0]
        for row_cols, row_vals in zip(order.tolist(), picked.tolist(), strict=True)
    ]


def explain_item_item_batch(
    weights: np.ndarray, positive: npt.ArrayLike, targets: npt.ArrayLike, *, k: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`explain_item_item` for many users at once, with no Python loop per user.

    ``positive`` is (n_users, n_items) 0/1 (dense or scipy sparse), ``targets`` (n_users, N)
    item indices (``-1`` = none, as :func:`top_n` pads). Returns ``(items, contributions)``,
    both (n_users, N, k): the user's own positive items with the largest contribution
    ``B[i, target] > 0``, largest first (ties: lower item index first), padded with ``-1`` /
    ``0.0``.

    Only the user's own (user, item) pairs are visited: a segmented max over the nonzeros,
    taken ``k`` times, instead of a users x targets x items block.
    """
    wanted = np.asarray(targets, dtype=np.intp)
    n_users, n_targets = wanted.shape
    items = np.full((n_users, n_targets, k), -1, dtype=np.intp)
    contributions = np.zeros((n_users, n_targets, k))
    if sparse.issparse(positive):  # row-major: grouped by user, items ascending
        rows = sparse.csr_array(positive)
        rows.sum_duplicates()
        owner = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))
        keep = rows.data > 0
        owner, own = owner[keep], rows.indices[keep].astype(np.intp)
    else:
        owner, own = np.nonzero(np.asarray(positive) > 0)
    if len(owner) == 0 or n_targets == 0 or k <= 0:
        return items, contributions
    their_targets = wanted[owner]  # (nnz, N)
    values = np.array(weights[own[:, None], np.where(their_targets >= 0, their_targets, 0)])
    values[(their_targets < 0) | (their_targets == own[:, None])] = -np.inf
    users, starts = np.unique(owner, return_index=True)
    segment = np.searchsorted(users, owner)
    position = np.arange(len(owner))[:, None]
    columns = np.arange(n_targets)[None, :]
    for step in range(k):
        best = np.maximum.reduceat(values, starts, axis=0)  # (users with positives, N)
        first = np.where(values == best[segment], position, len(owner))
        first = np.minimum.reduceat(first, starts, axis=0)
        found = np.isfinite(best) & (best > 0)
        chosen = np.minimum(first, len(owner) - 1)
        items[users[:, None], columns, step] = np.where(found, own[chosen], -1)
        contributions[users[:, None], columns, step] = np.where(found, best, 0.0)
        values[chosen, np.broadcast_to(columns, chosen.shape)] = -np.inf
    return items, contributions


class Holdout(NamedTuple):
    """A train/test split prepared for top-N evaluation (see :func:`holdout`)."""

    user_ids: np.ndarray  # raw user ids, row order of the matrices
    item_ids: np.ndarray  # raw item ids, column order
    user_codes: np.ndarray  # per training row
    item_codes: np.ndarray
    train: Triples
    positive: np.ndarray
    known: np.ndarray
    rows: np.ndarray  # matrix rows of the evaluated (warm, with >= 1 relevant) users
    relevant: dict[Hashable, set[Hashable]]


def holdout(
    train: Triples,
    test: Triples,
    *,
    threshold: float = 4.0,
    min_rating: float = EASE_MIN_RATING,
) -> Holdout:
    """Index a split: users evaluated are those in training with >= 1 test item rated at
    least ``threshold``; test items they already know in training cannot count as hits
    (they are never recommended), exactly as the product behaves."""
    user_ids, user_codes = np.unique(np.asarray(train.users), return_inverse=True)
    item_ids, item_codes = np.unique(np.asarray(train.items), return_inverse=True)
    user_codes, item_codes = user_codes.reshape(-1), item_codes.reshape(-1)
    positive, known = interaction_matrices(
        user_codes, item_codes, train.ratings, (len(user_ids), len(item_ids)), min_rating=min_rating
    )
    relevant = relevant_items(test.users, test.items, test.ratings, threshold=threshold)
    row_of = {u: r for r, u in enumerate(user_ids.tolist())}
    warm = {u: hits for u, hits in relevant.items() if u in row_of}
    rows = np.array([row_of[u] for u in warm], dtype=np.intp)
    return Holdout(user_ids, item_ids, user_codes, item_codes, train, positive, known, rows, warm)


def holdout_metrics(split: Holdout, scores: np.ndarray, *, k: int = 10) -> tuple[float, float]:
    """precision@k and NDCG@k of ``scores`` (one row per ``split.rows`` user, one column per
    training item), known items excluded."""
    best, _ = top_n(scores, split.known[split.rows], k)
    recs = {
        split.user_ids[row].item(): split.item_ids[picks[picks >= 0]].tolist()
        for row, picks in zip(split.rows.tolist(), best, strict=True)
    }
    return precision_at_k(recs, split.relevant, k), ndcg_at_k(recs, split.relevant, k)


def popularity_scores(split: Holdout) -> np.ndarray:
    """:func:`popular_items` as scores (higher = more popular) for the evaluated users."""
    order = popular_items(split.train.items, split.train.ratings)
    rank = np.empty(len(order))
    position = np.searchsorted(split.item_ids, order)
    rank[position] = np.arange(len(order))
    return np.tile(-rank, (len(split.rows), 1))


def ease_scores(split: Holdout, *, reg: float = EASE_REG) -> np.ndarray:
    """EASE fitted on the split's training part, scored for the evaluated users."""
    weights = fit_ease(split.positive, reg=reg)
    return score_item_item(split.positive[split.rows], weights)


def choose_ease_reg(
    train: Triples,
    stamps: npt.ArrayLike,
    *,
    grid: Sequence[float] = (30.0, 100.0, 200.0, 500.0, 1000.0, 3000.0),
    validation_fraction: float = 0.2,
    k: int = 10,
    min_rating: float = EASE_MIN_RATING,
) -> tuple[float, dict[float, tuple[float, float]]]:
    """Pick EASE's ``reg`` by NDCG@k on a validation split cut from ``train`` alone.

    ``train``/``stamps`` must be the training period only: the newest
    ``validation_fraction`` of it becomes the validation set, so the test period is never
    looked at. Returns the best ``reg`` (ties: the smaller) and every ``reg``'s
    (precision, NDCG) on validation.
    """
    fit_part, valid = time_split(*train, stamps, test_fraction=validation_fraction)
    split = holdout(fit_part, valid, min_rating=min_rating)
    table = {float(r): holdout_metrics(split, ease_scores(split, reg=r), k=k) for r in grid}
    best = max(table, key=lambda r: (table[r][1], -r))
    return best, table


# --------------------------------------------------------------------------------------------
# Explanations
# --------------------------------------------------------------------------------------------


def item_similarity_from_factors(qi: np.ndarray) -> np.ndarray:
    """Cosine similarity of SVD item factors, so SVD recommendations can be explained too.

    Items with an all-zero factor vector get similarity 0 to everything (instead of NaN).
    """
    factors = np.asarray(qi, dtype=np.float64)
    norms = np.linalg.norm(factors, axis=1)
    unit = np.divide(factors, norms[:, None], out=np.zeros_like(factors), where=norms[:, None] > 0)
    similarity: np.ndarray = np.clip(unit @ unit.T, -1.0, 1.0)
    return similarity


def explain(
    source: AlgoBase | np.ndarray,
    trainset: Trainset,
    inner_uid: int,
    inner_iid: int,
    *,
    k: int = 3,
    neighbourhood: int = 40,
    positive_only: bool = True,
) -> list[tuple[int, float]]:
    """Say which of the customer's own rated items pushed ``inner_iid``'s score up the most.

    Only items in ``trainset.ur[inner_uid]`` are considered, so an explanation can never cite
    something the customer did not interact with. The item itself is never cited. The
    neighbourhood is Surprise's: the ``neighbourhood`` most similar rated items (stable
    order), of which those with similarity > 0 count. Each one contributes
    ``sim(i, j) * (r_uj - baseline_uj) / sum(sim)``:

    * ``source`` is a fitted item-based ``KNNBaseline``: its ``sim``, ``k`` and
      ``b_uj = mu + b_u + b_j`` are used. Then the contributions (with
      ``positive_only=False``) sum exactly to ``estimate - baseline``.
    * ``source`` is an (n_items, n_items) similarity matrix (e.g. from
      :func:`item_similarity_from_factors`): the baseline is the global mean. With a
      user mean instead, a customer's single purchase would have no deviation and could
      never be cited.

    Returns up to ``k`` ``(inner_item_id, contribution)`` pairs, largest first. When
    ``positive_only`` is set, only items that raised the score are kept.
    """
    if not (0 <= inner_uid < trainset.n_users and 0 <= inner_iid < trainset.n_items):
        # Checked up front: ``trainset.ur`` is a defaultdict, so reading an unknown id would
        # silently add that user, and ``knows_user`` would then wrongly say True.
        raise ValueError("inner_uid / inner_iid out of range for this trainset.")
    rated = trainset.ur[inner_uid]
    rated_items = np.array([j for j, _ in rated], dtype=np.intp)
    rated_values = np.array([r for _, r in rated], dtype=np.float64)
    if isinstance(source, np.ndarray):
        sim_matrix = source
        baseline = np.full(len(rated_items), trainset.global_mean)
        size = neighbourhood
        min_k = 1
    else:
        if not hasattr(source, "sim"):
            raise TypeError(
                "explain() takes a KNN model or an item similarity matrix; for SVD pass "
                "item_similarity_from_factors(algo.qi)."
            )
        if source.sim_options.get("user_based", True):
            raise ValueError("explain() needs an item-item model (user_based=False).")
        sim_matrix = source.sim
        baseline = trainset.global_mean + source.bu[inner_uid] + source.bi[rated_items]
        size = source.k
        min_k = source.min_k
    if sim_matrix.shape != (trainset.n_items, trainset.n_items):
        raise ValueError("Similarity matrix must be (n_items, n_items) for this trainset.")
    sims = np.asarray(sim_matrix[inner_iid, rated_items], dtype=np.float64)
    sims[rated_items == inner_iid] = -np.inf  # never explain an item by itself
    nearest = np.argsort(-sims, kind="stable")[:size]
    nearest = nearest[sims[nearest] > 0]
    if len(nearest) < min_k:
        return []
    weight = sims[nearest]
    contributions = weight * (rated_values[nearest] - baseline[nearest]) / weight.sum()
    order = np.argsort(-contributions, kind="stable")
    chosen = [
        (int(rated_items[nearest[o]]), float(contributions[o]))
        for o in order
        if not positive_only or contributions[o] > 0
    ]
    return chosen[:k]


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------


def _kfold_indices(n: int, folds: int, random_state: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Reproduce ``surprise.model_selection.KFold(shuffle=True)``'s folds exactly."""
    if folds < 2 or folds > n:
        raise ValueError(f"folds must be in [2, {n}].")
    indices = np.arange(n)
    np.random.RandomState(random_state).shuffle(indices)
    splits = []
    stop = 0
    for fold in range(folds):
        start = stop
        stop += n // folds + (1 if fold < n % folds else 0)
        splits.append((np.concatenate([indices[:start], indices[stop:]]), indices[start:stop]))
    return splits


def cross_validate(
    algo_factory: Callable[[Trainset], AlgoBase],
    users: npt.ArrayLike,
    items: npt.ArrayLike,
    ratings: npt.ArrayLike,
    *,
    folds: int = 5,
    random_state: int = 0,
    rating_scale: RatingScale = DEFAULT_SCALE,
) -> dict[str, float]:
    """K-fold RMSE/MAE, fold for fold what ``surprise.model_selection.cross_validate`` does.

    The folds, the trainset order and hence the scores are the same as Surprise's for the
    same seed, so our numbers compare directly with Surprise's published benchmark.
    ``algo_factory`` gets a trainset and returns a fitted algorithm (e.g. :func:`fit_svd`).
    """
    user_arr = np.asarray(users).astype(str)
    item_arr = np.asarray(items).astype(str)
    rating_arr = np.asarray(ratings, dtype=np.float64)
    rmses, maes = [], []
    for train, test in _kfold_indices(len(rating_arr), folds, random_state):
        trainset = build_trainset(
            user_arr[train], item_arr[train], rating_arr[train], rating_scale=rating_scale
        )
        algo = algo_factory(trainset)
        test_columns = (user_arr[test].tolist(), item_arr[test].tolist(), rating_arr[test].tolist())
        testset = list(zip(*test_columns, strict=True))
        predictions = algo.test(testset)
        rmses.append(accuracy.rmse(predictions, verbose=False))
        maes.append(accuracy.mae(predictions, verbose=False))
    return {"rmse": float(np.mean(rmses)), "mae": float(np.mean(maes))}


def time_split(
    users: npt.ArrayLike,
    items: npt.ArrayLike,
    ratings: npt.ArrayLike,
    timestamps: npt.ArrayLike,
    *,
    test_fraction: float = 0.2,
) -> tuple[Triples, Triples]:
    """Global time cut: roughly the newest ``test_fraction`` of rows become the test set.

    Random folds let the model peek at the future. A global cut evaluates what deployment
    does: learn from the past, predict what comes next. Every row stamped at or after the
    cut time goes to test, so no training row is newer than a test row. Ties at the cut can
    make the test share slightly larger than requested.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError("test_fraction must be in (0, 1).")
    user_arr, item_arr = np.asarray(users), np.asarray(items)
    rating_arr = np.asarray(ratings, dtype=np.float64)
    stamps = np.asarray(timestamps, dtype=np.float64)
    n_test = max(1, int(round(len(stamps) * test_fraction)))
    cut = np.sort(stamps)[len(stamps) - n_test]
    test = stamps >= cut
    train = ~test
    return (
        Triples(user_arr[train], item_arr[train], rating_arr[train]),
        Triples(user_arr[test], item_arr[test], rating_arr[test]),
    )


def relevant_items(
    users: npt.ArrayLike, items: npt.ArrayLike, ratings: npt.ArrayLike, *, threshold: float = 4.0
) -> dict[Hashable, set[Hashable]]:
    """Test items each user rated at least ``threshold``: the "hits" for precision/NDCG."""
    keep = np.asarray(ratings, dtype=np.float64) >= threshold
    relevant: dict[Hashable, set[Hashable]] = {}
    for user, item in zip(
        np.asarray(users)[keep].tolist(), np.asarray(items)[keep].tolist(), strict=True
    ):
        relevant.setdefault(user, set()).add(item)
    return relevant


def precision_at_k(
    recommended: Mapping[Any, Sequence[Any]], relevant: Mapping[Any, set[Any]], k: int = 10
) -> float:
    """Mean over users with >=1 relevant item of (hits in the top k) / k.

    The denominator is always ``k``: a model that recommends fewer items is not rewarded for
    it. Users with nothing relevant are skipped, because every model scores 0 on them.
    """
    scores = [
        len(set(list(recommended.get(user, []))[:k]) & hits) / k
        for user, hits in relevant.items()
        if hits
    ]
    return float(np.mean(scores)) if scores else 0.0


def ndcg_at_k(
    recommended: Mapping[Any, Sequence[Any]], relevant: Mapping[Any, set[Any]], k: int = 10
) -> float:
    """Mean binary-relevance NDCG@k over users with >=1 relevant item.

    ``DCG = sum(1 / log2(rank + 1))`` over relevant items at 1-based ranks <= k. IDCG is the
    same for a perfect list of ``min(k, |relevant|)`` hits. Unlike precision, it rewards
    putting the hits first.
    """
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    scores = []
    for user, hits in relevant.items():
        if not hits:
            continue
        top = list(recommended.get(user, []))[:k]
        dcg = sum(discounts[rank] for rank, item in enumerate(top) if item in hits)
        scores.append(dcg / discounts[: min(k, len(hits))].sum())
    return float(np.mean(scores)) if scores else 0.0


def data_fingerprint(users: npt.ArrayLike, items: npt.ArrayLike, ratings: npt.ArrayLike) -> str:
    """SHA-256 of the sorted (user, item, rating) triples: same data means same hash.

    This lets a stored model record exactly which data it was trained on, and lets a
    retrain be skipped when nothing changed. Integer ids (the database's) are hashed as
    sorted little-endian int64/float64 columns. Other ids are hashed as ``str``, as the
    trainset sees them, JSON-encoded so separators inside ids cannot collide.
    """
    user_arr, item_arr = np.asarray(users), np.asarray(items)
    rating_arr = np.asarray(ratings, dtype=np.float64)
    if not (len(user_arr) == len(item_arr) == len(rating_arr)):
        raise ValueError("users, items and ratings must have the same length.")
    if user_arr.dtype.kind in "iu" and item_arr.dtype.kind in "iu":
        # Integer ids (what the database gives): hash the sorted binary columns, which is
        # ~50x faster than JSON; a different prefix keeps the two encodings apart.
        columns = np.stack([user_arr.astype(np.int64), item_arr.astype(np.int64)], axis=1)
        users_, items_ = columns[:, 0], columns[:, 1]
        ascending = (users_[1:] > users_[:-1]) | (
            (users_[1:] == users_[:-1]) & (items_[1:] > items_[:-1])
        )
        if not np.all(ascending):  # already sorted by distinct (user, item): nothing to sort
            order = np.lexsort((rating_arr, items_, users_))
            columns, rating_arr = columns[order], rating_arr[order]
        digest = hashlib.sha256(b"candor-ml-fingerprint-v1-int64\n")
        digest.update(np.ascontiguousarray(columns).astype("<i8").tobytes())
        digest.update(np.ascontiguousarray(rating_arr).astype("<f8").tobytes())
        return digest.hexdigest()
    user_arr, item_arr = user_arr.astype(str), item_arr.astype(str)
    order = np.lexsort((rating_arr, item_arr, user_arr))
    columns = [user_arr[order].tolist(), item_arr[order].tolist(), rating_arr[order].tolist()]
    digest = hashlib.sha256(b"candor-ml-fingerprint-v1\n")
    digest.update(json.dumps(columns, ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------
# Serving: one customer at a time, artefacts, batch explanations, interests, best hour
# --------------------------------------------------------------------------------------------


class FactorModel(NamedTuple):
    """What serving needs from a fitted SVD, as plain arrays (saved with :func:`save_model`).

    ``raw_uids`` / ``raw_iids`` are the trainset's raw ids in inner-id order, so row ``u`` of
    ``pu`` belongs to ``raw_uids[u]``.
    """

    global_mean: float
    bu: np.ndarray
    bi: np.ndarray
    pu: np.ndarray
    qi: np.ndarray
    raw_uids: np.ndarray
    raw_iids: np.ndarray
    rating_scale: RatingScale = DEFAULT_SCALE


def factor_model(algo: SVD, trainset: Trainset) -> FactorModel:
    """Copy the arrays of a fitted (biased) SVD out of Surprise."""
    return FactorModel(
        global_mean=float(trainset.global_mean),
        bu=np.asarray(algo.bu, dtype=np.float64),
        bi=np.asarray(algo.bi, dtype=np.float64),
        pu=np.asarray(algo.pu, dtype=np.float64),
        qi=np.asarray(algo.qi, dtype=np.float64),
        raw_uids=np.array([trainset.to_raw_uid(u) for u in range(trainset.n_users)], dtype=str),
        raw_iids=np.array([trainset.to_raw_iid(i) for i in range(trainset.n_items)], dtype=str),
        rating_scale=tuple(trainset.rating_scale),  # type: ignore[arg-type]
    )


def save_model(path: str, model: FactorModel) -> None:
    """Write the model as a plain ``.npz`` (numbers and unicode arrays: never pickle)."""
    with open(path, "wb") as handle:
        np.savez(
            handle,
            global_mean=np.array([model.global_mean]),
            bu=model.bu,
            bi=model.bi,
            pu=model.pu,
            qi=model.qi,
            raw_uids=model.raw_uids.astype(str),
            raw_iids=model.raw_iids.astype(str),
            rating_scale=np.array(model.rating_scale, dtype=np.float64),
        )


def load_model(path: str) -> FactorModel:
    with np.load(path, allow_pickle=False) as data:
        return FactorModel(
            global_mean=float(data["global_mean"][0]),
            bu=data["bu"],
            bi=data["bi"],
            pu=data["pu"],
            qi=data["qi"],
            raw_uids=data["raw_uids"],
            raw_iids=data["raw_iids"],
            rating_scale=tuple(float(x) for x in data["rating_scale"]),  # type: ignore[arg-type]
        )


def fold_in_user(
    model: FactorModel, inner_iids: npt.ArrayLike, ratings: npt.ArrayLike, *, reg: float = 0.1
) -> tuple[float, np.ndarray]:
    """A user's bias and factor vector from their current ratings, item factors held fixed.

    Ridge regression of ``r_j - mu - b_j`` on ``[1, q_j]``: the closed form of the step SGD
    takes for one user. It lets a recompute reflect a customer's new (or withdrawn) data at
    once, without retraining the whole brand; an empty history gives a zero user.
    """
    idx = np.asarray(inner_iids, dtype=np.intp)
    values = np.asarray(ratings, dtype=np.float64)
    n_factors = model.qi.shape[1]
    if len(idx) == 0:
        return 0.0, np.zeros(n_factors)
    design = np.hstack([np.ones((len(idx), 1)), model.qi[idx]])
    target = values - model.global_mean - model.bi[idx]
    gram = design.T @ design + reg * len(idx) * np.eye(n_factors + 1)
    solution = np.linalg.solve(gram, design.T @ target)
    return float(solution[0]), solution[1:]


def score_user(model: FactorModel, bu: float, pu: np.ndarray, *, clip: bool = True) -> np.ndarray:
    """Scores of every item for one (folded-in) user, like :func:`score_all_svd` for one row."""
    scores = model.global_mean + bu + model.bi + model.qi @ pu
    if clip:
        low, high = model.rating_scale
        np.clip(scores, low, high, out=scores)
    return scores


def unit_rows(factors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (all-zero rows stay zero): cosine similarity is a dot product."""
    arr = np.asarray(factors, dtype=np.float64)
    norms = np.linalg.norm(arr, axis=1)
    return np.divide(arr, norms[:, None], out=np.zeros_like(arr), where=norms[:, None] > 0)


def explain_many(
    similarity: np.ndarray,
    rated_items: npt.ArrayLike,
    rated_values: npt.ArrayLike,
    targets: npt.ArrayLike,
    *,
    baseline: float,
    k: int = 3,
    neighbourhood: int = 40,
) -> list[list[tuple[int, float]]]:
    """:func:`explain` with a similarity matrix, for several target items of one user at once.

    Same rule (the ``neighbourhood`` most similar rated items with similarity > 0, each
    contributing ``sim * (r - baseline) / sum(sim)``, positives only, largest first), one
    matrix operation instead of one call per target. The target itself is never cited.
    """
    rated = np.asarray(rated_items, dtype=np.intp)
    wanted = np.asarray(targets, dtype=np.intp)
    sims = np.array(similarity[np.ix_(wanted, rated)], dtype=np.float64)
    return _explain_rows(sims, rated, rated_values, wanted, baseline, k, neighbourhood)


def explain_many_from_factors(
    unit_factors: np.ndarray,
    rated_items: npt.ArrayLike,
    rated_values: npt.ArrayLike,
    targets: npt.ArrayLike,
    *,
    baseline: float,
    k: int = 3,
    neighbourhood: int = 40,
) -> list[list[tuple[int, float]]]:
    """:func:`explain_many` on SVD factor cosine similarity (``unit_factors`` from
    :func:`unit_rows`), computing only the (targets x rated) block instead of the
    (n_items x n_items) matrix."""
    rated = np.asarray(rated_items, dtype=np.intp)
    wanted = np.asarray(targets, dtype=np.intp)
    sims = np.clip(unit_factors[wanted] @ unit_factors[rated].T, -1.0, 1.0)
    return _explain_rows(sims, rated, rated_values, wanted, baseline, k, neighbourhood)


def _explain_rows(
    sims: np.ndarray,
    rated: np.ndarray,
    rated_values: npt.ArrayLike,
    wanted: np.ndarray,
    baseline: float,
    k: int,
    neighbourhood: int,
) -> list[list[tuple[int, float]]]:
    values = np.asarray(rated_values, dtype=np.float64)
    if len(rated) == 0 or len(wanted) == 0:
        return [[] for _ in range(len(wanted))]
    sims = np.array(sims, dtype=np.float64, ndmin=2)
    sims[wanted[:, None] == rated[None, :]] = -np.inf
    size = min(neighbourhood, len(rated))
    # Stable order among equal similarities, as explain() has (argsort kind="stable").
    order = np.argsort(-sims, axis=1, kind="stable")[:, :size]
    near_sims = np.take_along_axis(sims, order, axis=1)
    keep = near_sims > 0
    weights = np.where(keep, near_sims, 0.0)
    totals = weights.sum(axis=1, keepdims=True)
    deviations = values[order] - baseline
    contrib = np.divide(weights * deviations, totals, out=np.zeros_like(weights), where=totals > 0)
    contrib[~keep] = -np.inf
    result: list[list[tuple[int, float]]] = []
    ranked = np.argsort(-contrib, axis=1, kind="stable")[:, :k]
    for row in range(len(wanted)):
        picks = []
        for col in ranked[row]:
            value = contrib[row, col]
            if value > 0:
                picks.append((int(rated[order[row, col]]), float(value)))
        result.append(picks)
    return result


def category_interests(
    users: npt.ArrayLike,
    categories: npt.ArrayLike,
    ratings: npt.ArrayLike,
    *,
    top: int = 3,
    rating_scale: RatingScale = DEFAULT_SCALE,
    category_names: Sequence[str] | None = None,
) -> dict[Hashable, list[tuple[str, float]]]:
    """Each user's top categories: the share of their positive evidence (rating above
    neutral) per category. Weights of one user sum to at most 1; ties go to the category
    first in alphabetical order. ``categories`` are names, or (with ``category_names``)
    integer codes into ``category_names``; the empty name means "no category"."""
    user_arr = np.asarray(users)
    if category_names is None:
        names, codes = np.unique(np.asarray(categories).astype(str), return_inverse=True)
    else:
        names = np.asarray(list(category_names), dtype=str)
        codes = np.asarray(categories, dtype=np.intp)
    codes = codes.reshape(-1)
    # Categories ranked by name, so the integer ranks break ties alphabetically.
    alphabetical = np.argsort(names, kind="stable")
    rank = np.empty(len(names), dtype=np.intp)
    rank[alphabetical] = np.arange(len(names))
    neutral = sum(rating_scale) / 2.0
    weight = np.clip(np.asarray(ratings, dtype=np.float64) - neutral, 0.0, None)
    keep = (weight > 0) & (names != "")[codes] if len(codes) else np.zeros(0, dtype=bool)
    if not np.any(keep):
        return {}
    pairs, pair_codes = _pair_codes(user_arr[keep], rank[codes[keep]])
    sums = np.bincount(pair_codes, weights=weight[keep], minlength=len(pairs.users))
    user_values, user_codes = dense_codes(pairs.users)
    totals = np.bincount(user_codes, weights=sums)
    order = np.lexsort((pairs.items, -sums, user_codes))
    grouped = user_codes[order]
    order = order[np.arange(len(order)) - np.searchsorted(grouped, grouped) < top]
    result: dict[Hashable, list[tuple[str, float]]] = {}
    owners = user_values.tolist()
    ranked_names = names[alphabetical].tolist()
    for uc, category, share in zip(
        user_codes[order].tolist(),
        pairs.items[order].tolist(),
        (sums[order] / totals[user_codes[order]]).tolist(),
        strict=True,
    ):
        result.setdefault(owners[uc], []).append((ranked_names[category], share))
    return result


def best_hours(
    users: npt.ArrayLike, hours: npt.ArrayLike, *, min_events: int = 5
) -> dict[Hashable, tuple[int, float]]:
    """Hour of day each user is most active (their events' hours), with its share as the
    confidence; users with fewer than ``min_events`` events get nothing (honest: too little
    to say)."""
    user_arr = np.asarray(users)
    hour_arr = np.asarray(hours, dtype=np.int64)
    if len(user_arr) == 0:
        return {}
    user_values, codes = dense_codes(user_arr)
    cells = codes.astype(np.int64) * 24 + hour_arr % 24
    grid = np.bincount(cells, minlength=len(user_values) * 24).reshape(-1, 24)
    counts = grid.sum(axis=1)
    best = grid.argmax(axis=1)
    keep = np.flatnonzero(counts >= min_events)
    shares = grid[keep, best[keep]] / counts[keep]
    return {
        user: (hour, share)
        for user, hour, share in zip(
            user_values[keep].tolist(), best[keep].tolist(), shares.tolist(), strict=True
        )
    }


class ItemModel(NamedTuple):
    """What serving needs from a fitted EASE (saved with :func:`save_item_model`).

    ``weights`` is the (n_items, n_items) float32 matrix of :func:`fit_ease`; ``raw_iids``
    its item ids in column order. ``raw_uids`` lists whom it was trained on, so a check can
    prove an erased customer is gone from the artefact (the weights hold no per-user rows).
    """

    weights: np.ndarray
    raw_iids: np.ndarray
    raw_uids: np.ndarray
    min_rating: float = EASE_MIN_RATING


def save_item_model(path: str, model: ItemModel) -> None:
    """Write an :class:`ItemModel` as a plain ``.npz`` (never pickle)."""
    with open(path, "wb") as handle:
        np.savez(
            handle,
            weights=np.asarray(model.weights, dtype=np.float32),
            raw_iids=model.raw_iids.astype(str),
            raw_uids=model.raw_uids.astype(str),
            min_rating=np.array([model.min_rating]),
        )


def load_any_model(path: str) -> FactorModel | ItemModel:
    """Load whichever artefact ``path`` holds: EASE (:class:`ItemModel`) or SVD factors."""
    with np.load(path, allow_pickle=False) as data:
        if "weights" in data.files:
            return ItemModel(
                weights=data["weights"],
                raw_iids=data["raw_iids"],
                raw_uids=data["raw_uids"],
                min_rating=float(data["min_rating"][0]),
            )
    return load_model(path)
