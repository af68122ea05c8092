"""Why each pick: the user's own positive signals that added the most to its score.

Both models' scores are sums over the user's positive signals, so the explanation is the
model itself, not an approximation:

* EASE: ``score(j) = sum_i x_ui B_ij``; signal ``i`` contributes ``x_ui B_ij``.
* ALS (``implicit``'s ``explain``): ``score(j) = sum_i c_ui y_j' W_u y_i`` with
  ``W_u = (Y'C_uY + reg I)^-1``; signal ``i`` contributes ``c_ui y_j' W_u y_i``.

Only positive signals are in the model (:mod:`.signals`), and only contributions above zero
are cited, so a neutral or negative signal is never given as a reason. Users are handled in
blocks padded to their longest history, after sorting by history length (little padding),
so no users x items array is built.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
from scipy import sparse

from . import als

#: Upper bound on (users x history length) cells of one padded block.
_BLOCK_CELLS = 1 << 15
#: Upper bound on the users of one block (ALS solves one factors x factors system each).
_BLOCK_USERS = 256


def _blocks(rows: sparse.csr_matrix) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(row indices, own items (b, L) padded with -1, weights (b, L) padded with 0)."""
    lengths = np.diff(rows.indptr)
    order = np.argsort(lengths, kind="stable")
    ordered = np.maximum(lengths[order], 1)
    start = 0
    while start < len(order):
        stop = start + 1
        while (
            stop < len(order)
            and stop - start < _BLOCK_USERS
            and (stop + 1 - start) * ordered[stop] <= _BLOCK_CELLS
        ):
            stop += 1
        members = order[start:stop]
        own, weight = _padded(rows, members, int(ordered[stop - 1]))
        yield members, own, weight
        start = stop


def _padded(
    rows: sparse.csr_matrix, members: np.ndarray, width: int
) -> tuple[np.ndarray, np.ndarray]:
    counts = np.diff(rows.indptr)[members]
    slot = np.repeat(np.arange(len(members)), counts)
    column = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    source = np.repeat(rows.indptr[members], counts) + column
    own = np.full((len(members), width), -1, dtype=np.int64)
    weight = np.zeros((len(members), width), dtype=np.float32)
    own[slot, column] = rows.indices[source]
    weight[slot, column] = rows.data[source]
    return own, weight


def _top_k(values: np.ndarray, own: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Largest ``k`` positive values along the last axis of (b, N, L): their own items
    (ties: the lower item first, as rows are sorted) and values; ``-1`` / ``0`` when none."""
    order = np.argsort(-values, axis=2, kind="stable")[:, :, :k]
    best = np.take_along_axis(values, order, axis=2)
    items = np.take_along_axis(np.broadcast_to(own[:, None, :], values.shape), order, axis=2)
    found = best > 0
    return np.where(found, items, -1), np.where(found, best, 0.0)


def _explain(
    rows: sparse.csr_matrix,
    picks: np.ndarray,
    k: int,
    block_values: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    n_rows, n_picks = picks.shape
    items = np.full((n_rows, n_picks, k), -1, dtype=np.int64)
    contributions = np.zeros((n_rows, n_picks, k), dtype=np.float64)
    if n_rows == 0 or n_picks == 0 or k <= 0:
        return items, contributions
    for members, own, weight in _blocks(sparse.csr_matrix(rows)):
        targets = picks[members]
        values = block_values(own, weight, np.maximum(targets, 0), members).astype(np.float64)
        invalid = (own[:, None, :] < 0) | (targets[:, :, None] < 0)
        invalid |= own[:, None, :] == targets[:, :, None]
        values[invalid] = -np.inf
        cited, parts = _top_k(values, own, k)  # k or fewer (a history shorter than k)
        items[members, :, : cited.shape[2]] = cited
        contributions[members, :, : parts.shape[2]] = parts
    return items, contributions


def ease(
    weights: np.ndarray, rows: sparse.csr_matrix, picks: np.ndarray, *, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cited own items (rows, N, k) and their contributions ``x_ui B[i, pick]`` for the
    (rows, N) ``picks`` (``-1`` = no pick) of the users in ``rows``."""

    def values(
        own: np.ndarray, weight: np.ndarray, targets: np.ndarray, _: np.ndarray
    ) -> np.ndarray:
        return weights[np.maximum(own, 0)[:, None, :], targets[:, :, None]] * weight[:, None, :]

    return _explain(rows, picks, k, values)


class AlternatingLeastSquares:
    """ALS contributions (equal to ``implicit``'s ``explain``), prepared once per model.

    ``W_u`` differs between users only through their signals whose confidence is not 1
    (``implicit`` adds ``(c - 1) y y'`` for each); users whose signals all have confidence 1
    share ``(Y'Y + reg I)^-1``, so they need no solve of their own.
    """

    def __init__(self, model: als.Model) -> None:
        self.alpha = model.params.alpha
        self.y = model.item_factors.astype(np.float64)
        with als.one_blas_thread():  # small products: threads only contend
            self.base = self.y.T @ self.y + model.params.reg * np.eye(self.y.shape[1])
            self.shared = np.linalg.inv(self.base)

    def __call__(
        self, rows: sparse.csr_matrix, picks: np.ndarray, *, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """As :func:`ease`, for this model."""
        return _explain(rows, picks, k, self._values)

    def _values(
        self, own: np.ndarray, weight: np.ndarray, targets: np.ndarray, _: np.ndarray
    ) -> np.ndarray:
        confidence = self.alpha * weight.astype(np.float64)
        y_own = self.y[np.maximum(own, 0)]  # (b, L, f)
        extra = np.where(own >= 0, confidence - 1.0, 0.0)
        weighted = self.y[targets] @ self.shared  # (b, N, f): y_pick' W_u for shared W_u
        own_w = np.flatnonzero(np.any(extra != 0.0, axis=1))
        if len(own_w):
            y_w = y_own[own_w]
            a = self.base + np.matmul(y_w.transpose(0, 2, 1) * extra[own_w, None, :], y_w)
            solved = np.linalg.solve(a, self.y[targets[own_w]].transpose(0, 2, 1))
            weighted[own_w] = solved.transpose(0, 2, 1)
        return np.matmul(weighted, y_own.transpose(0, 2, 1)) * confidence[:, None, :]
