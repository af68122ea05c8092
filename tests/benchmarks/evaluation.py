"""Evaluation helpers only the benchmarks (and their tests) use; the product never calls them.

* Surprise SVD / KNNBaseline with k-fold evaluation and vectorised scoring: the
  rating-prediction figures (Q1) and the scoring speed check (P2), ``bench_ml.py``.
* More offline splits than training's validation cut, and paired bootstrap intervals
  (``bench_quality.py``). The split, metrics and lists training tunes with stay in
  :mod:`recommendations.ml.evaluate`.

vectorised scoring: the rating-prediction figures (Q1) and the scoring speed check (P2).

Ids: Surprise stores raw ids as given, and :func:`build_trainset` turns every raw id into a
``str``. So ``trainset.to_inner_uid(42)`` raises even when ``"42"`` is known. Always look up
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from surprise import SVD, AlgoBase, Dataset, KNNBaseline, Reader, Trainset, accuracy

from recommendations.ml.evaluate import Holdout, PerUser, metrics
from recommendations.ml.signals import DEFAULT_SCALE, RatingScale, pair_codes

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
    pairs, _ = pair_codes(user_arr, item_arr)
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
    order = np.lexsort((part, np.negative(part_values)), axis=1)
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


# --------------------------------------------------------------------------------------------
# Offline splits and intervals
# --------------------------------------------------------------------------------------------


def per_user_random(users: npt.ArrayLike, *, fraction: float = 0.2, seed: int = 0) -> np.ndarray:
    """``round(fraction * rows)`` random rows of each user (at least one row stays in
    training)."""
    codes = np.asarray(users)
    shuffled = np.random.default_rng(seed).permutation(len(codes))
    order = shuffled[np.argsort(codes[shuffled], kind="stable")]  # by user, random inside
    return _first_per_user(codes, order, lambda count: np.round(count * fraction))


def leave_last(users: npt.ArrayLike, stamps: npt.ArrayLike, *, n: int = 5) -> np.ndarray:
    """Each user's newest ``n`` rows (ties: the later row), leaving at least one in training."""
    codes = np.asarray(users)
    order = np.lexsort((-np.arange(len(codes)), -np.asarray(stamps, np.float64), codes))
    return _first_per_user(codes, order, lambda count: np.full_like(count, n))


def _first_per_user(
    codes: np.ndarray, order: np.ndarray, how_many: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Mark the first ``how_many(count)`` rows of each user in ``order`` (grouped by user)."""
    grouped = codes[order]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
    counts = np.diff(np.r_[starts, len(order)])
    quota = np.minimum(how_many(counts).astype(np.int64), counts - 1)
    rank = np.arange(len(order)) - np.repeat(starts, counts)
    test = np.zeros(len(codes), dtype=bool)
    test[order[rank < np.repeat(quota, counts)]] = True
    return test


class Interval(NamedTuple):
    mean: float
    low: float
    high: float

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


def paired_bootstrap(
    a: npt.ArrayLike, b: npt.ArrayLike, *, n_boot: int = 2000, level: float = 0.95, seed: int = 0
) -> Interval:
    """Mean of ``a - b`` over the same users and its percentile bootstrap interval
    (users resampled with replacement, the pairing kept)."""
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    if len(diff) == 0:
        return Interval(0.0, 0.0, 0.0)
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    for start in range(0, n_boot, 256):  # 256 resamples at a time bounds the index array
        stop = min(start + 256, n_boot)
        means[start:stop] = diff[rng.integers(0, len(diff), (stop - start, len(diff)))].mean(1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return Interval(float(diff.mean()), float(low), float(high))


def score(lists: np.ndarray, split: Holdout) -> PerUser:
    """:func:`metrics` of ``lists`` against the split's relevant items."""
    return metrics(
        lists, split.relevant, int((np.diff(split.train.known.tocsc().indptr) > 0).sum())
    )
