"""Honest offline evaluation: three splits, per-user metrics, paired bootstrap intervals.

Splits return a boolean *test* mask over interaction rows:

* :func:`global_time`: the newest fraction of all rows (what deployment faces: learn from
  the past, predict what comes next; few users are left with test rows);
* :func:`per_user_random`: a random fraction of each user's rows (every user evaluated);
* :func:`leave_last`: each user's newest ``n`` rows.

A user is evaluated when they have training rows and at least one *relevant* test row
(value above neutral). Metrics are kept per user so two models can be compared on the same
users (:func:`paired_bootstrap`): P@10, Recall@20 (hits / relevant items), NDCG@10 (binary
gains) and, over all lists, catalogue coverage (share of the training catalogue that appears
in at least one top-10).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from scipy import sparse

from . import als, rank, signals

#: Top-N lists are scored at this depth (Recall@20 is the deepest metric).
DEPTH = 20


def global_time(stamps: npt.ArrayLike, *, fraction: float = 0.2) -> np.ndarray:
    """Rows stamped at or after the time that leaves ``fraction`` of rows newer."""
    times = np.asarray(stamps, dtype=np.float64)
    n_test = max(1, int(round(len(times) * fraction)))
    return times >= np.sort(times)[len(times) - n_test]


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


class Holdout(NamedTuple):
    """A split ready to score: training signals for every user, the evaluated users and
    their relevant test items (as CSR rows in the same order)."""

    train: signals.Interactions
    users: np.ndarray  # evaluated rows of ``train``
    relevant: sparse.csr_matrix  # (len(users), items)
    train_counts: np.ndarray  # training interactions of each evaluated user


def holdout(
    user_codes: npt.ArrayLike,
    item_codes: npt.ArrayLike,
    ratings: npt.ArrayLike,
    test: np.ndarray,
    shape: tuple[int, int],
    *,
    weighting: signals.Weighting = "binary",
    neutral: float = signals.NEUTRAL,
) -> Holdout:
    users = np.asarray(user_codes, dtype=np.int64)
    items = np.asarray(item_codes, dtype=np.int64)
    values = np.asarray(ratings, dtype=np.float64)
    train = signals.interactions(
        users[~test], items[~test], values[~test], shape, weighting=weighting, neutral=neutral
    )
    hit = test & (values > neutral)
    counts = np.diff(train.known.indptr)
    evaluated = np.unique(users[hit])
    evaluated = evaluated[counts[evaluated] > 0]
    row_of = np.full(shape[0], -1, dtype=np.int64)
    row_of[evaluated] = np.arange(len(evaluated))
    keep = hit & (row_of[users] >= 0)
    relevant = signals.coo_to_csr(
        row_of[users[keep]], items[keep], np.ones(keep.sum()), (len(evaluated), shape[1])
    )
    return Holdout(train, evaluated, relevant, counts[evaluated])


class PerUser(NamedTuple):
    precision: np.ndarray  # P@10
    recall: np.ndarray  # Recall@20
    ndcg: np.ndarray  # NDCG@10
    coverage: float


def metrics(lists: np.ndarray, relevant: sparse.csr_matrix, n_items: int) -> PerUser:
    """Per-user metrics of top lists (rows aligned with ``relevant``; -1 = empty slot)."""
    n_rows = lists.shape[0]
    depth = lists.shape[1]
    keys = np.where(lists >= 0, np.arange(n_rows)[:, None] * n_items + lists, -1)
    rel = relevant.tocoo()
    relevant_keys = rel.row.astype(np.int64) * n_items + rel.col
    hits = np.isin(keys, relevant_keys) & (lists >= 0)
    sizes = np.diff(relevant.indptr)
    discounts = 1.0 / np.log2(np.arange(2, 12))
    ideal = np.cumsum(discounts)[np.minimum(sizes, 10) - 1]
    top10 = lists[:, : min(10, depth)]
    covered = np.unique(top10[top10 >= 0])
    return PerUser(
        precision=hits[:, :10].sum(axis=1) / 10.0,
        recall=hits[:, :DEPTH].sum(axis=1) / sizes,
        ndcg=(hits[:, :10] * discounts[: min(10, depth)]).sum(axis=1) / ideal,
        coverage=len(covered) / n_items,
    )


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


def fill_popular(lists: np.ndarray, known: sparse.csr_matrix, order: np.ndarray) -> np.ndarray:
    """Fill empty slots (-1) with the most popular items the user does not know, as the
    product does for a short personal list."""
    filled = lists.copy()
    for row in np.flatnonzero((lists < 0).any(axis=1)):
        taken = set(lists[row][lists[row] >= 0].tolist())
        taken.update(known.indices[known.indptr[row] : known.indptr[row + 1]].tolist())
        extra = [int(i) for i in order[: len(taken) + lists.shape[1]] if int(i) not in taken]
        empty = np.flatnonzero(lists[row] < 0)
        filled[row, empty] = extra[: len(empty)] + [-1] * (len(empty) - len(extra[: len(empty)]))
    return filled


def popularity_order(known: sparse.csr_matrix) -> np.ndarray:
    """Items by number of training interactions, most first (ties: lower index)."""
    return signals.popularity(known)


def model_lists(model: rank.Model, split: Holdout, *, depth: int = DEPTH) -> np.ndarray:
    """Each evaluated user's top-``depth`` list from ``model`` (fitted on ``split.train``),
    short personal lists filled with popular items as the product fills them."""
    rows = split.users
    positive, known = split.train.positive[rows], split.train.known[rows]
    factors = model.user_factors[rows] if isinstance(model, als.Model) else None
    chunks = rank.rank(model, positive, known, user_factors=factors, n=depth, k=0)
    lists = np.vstack([chunk.items for chunk in chunks] or [np.empty((0, depth), np.int64)])
    return fill_popular(lists, known, popularity_order(split.train.known))


def popularity_lists(split: Holdout, *, depth: int = DEPTH) -> np.ndarray:
    known = split.train.known[split.users]
    empty = np.full((len(split.users), depth), -1, dtype=np.int64)
    return fill_popular(empty, known, popularity_order(split.train.known))


def score(lists: np.ndarray, split: Holdout) -> PerUser:
    """:func:`metrics` of ``lists`` against the split's relevant items."""
    return metrics(
        lists, split.relevant, int((np.diff(split.train.known.tocsc().indptr) > 0).sum())
    )
