"""Pure machine-learning core of Candor's recommendations.

This module knows nothing about Django, the ORM or HTTP: it takes plain arrays in and gives
plain arrays (or Surprise objects) back, so that it can be unit-tested, benchmarked against
published numbers and reasoned about in isolation. Only numpy, scipy and scikit-surprise
are used.

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
Not here: the product ranks with the sparse core in :mod:`recommendations.mlcore` (EASE up
to ``mlcore.rank.EASE_MAX_ITEMS`` items, implicit ALS above), wired in by
:mod:`recommendations.training`. What stays here is the signal scale above, interests and
best hours, the data fingerprint, and Surprise SVD / KNNBaseline with k-fold evaluation and
vectorised scoring: the rating-prediction figures (Q1) and the scoring speed check (P2).

Ids: Surprise stores raw ids as given, and :func:`build_trainset` turns every raw id into a
``str``. So ``trainset.to_inner_uid(42)`` raises even when ``"42"`` is known. Always look up
``str(raw_id)``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
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
# Interests and best hour (stored next to the recommendations)
# --------------------------------------------------------------------------------------------


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
