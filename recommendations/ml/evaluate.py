"""Offline evaluation training tunes with: a time cut, per-user metrics, top-N lists.

:func:`global_time` marks the newest fraction of all rows as *test* rows (what deployment
faces: learn from the past, predict what comes next). A user is evaluated when they have
training rows and at least one *relevant* test row (value above neutral). Metrics are kept
per user: P@10, Recall@20 (hits / relevant items), NDCG@10 (binary gains) and, over all
lists, catalogue coverage (share of the training catalogue that appears in at least one
top-10). More splits and paired bootstrap intervals, used only by the benchmarks, are in
``tests/benchmarks/evaluation.py``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from scipy import sparse

from . import rank, signals

#: Top-N lists are scored at this depth (Recall@20 is the deepest metric).
DEPTH = 20


def global_time(stamps: npt.ArrayLike, *, fraction: float = 0.2) -> np.ndarray:
    """Rows stamped at or after the time that leaves ``fraction`` of rows newer."""
    times = np.asarray(stamps, dtype=np.float64)
    n_test = max(1, int(round(len(times) * fraction)))
    return times >= np.sort(times)[len(times) - n_test]


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
    # ALS users' factors solved from their training rows (what the fit gave them, exactly;
    # a model fitted for tuning has none of its own).
    chunks = rank.rank(model, positive, known, n=depth, k=0)
    lists = np.vstack([chunk.items for chunk in chunks] or [np.empty((0, depth), np.int64)])
    return fill_popular(lists, known, popularity_order(split.train.known))


def popularity_lists(split: Holdout, *, depth: int = DEPTH) -> np.ndarray:
    known = split.train.known[split.users]
    empty = np.full((len(split.users), depth), -1, dtype=np.int64)
    return fill_popular(empty, known, popularity_order(split.train.known))
