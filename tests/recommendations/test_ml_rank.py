"""The block-wise top-N is exact: it equals a full stable sort, ties to the lower item."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from recommendations.ml import rank


def _reference(scores: np.ndarray, known: np.ndarray, excluded: np.ndarray, n: int):
    masked = np.where(known | excluded[None, :] | (scores <= 0), -np.inf, scores)
    order = np.argsort(-masked, axis=1, kind="stable")[:, :n]
    values = np.take_along_axis(masked, order, axis=1)
    expected = np.full((len(scores), n), -1)
    expected[:, : order.shape[1]] = np.where(np.isfinite(values), order, -1)
    return expected


def test_top_n_equals_a_full_sort_including_ties_and_short_rows() -> None:
    rng = np.random.default_rng(0)
    for trial in range(300):
        rows, items, n = (
            int(rng.integers(1, 30)),
            int(rng.integers(1, 700)),
            int(rng.integers(1, 25)),
        )
        scores = rng.standard_normal((rows, items)).astype(np.float32)
        if trial % 2:
            scores = np.round(scores, 1)  # many ties
        known = rng.random((rows, items)) < 0.1
        excluded = rng.random(items) < 0.05
        got, values = rank.top_n(scores.copy(), sparse.csr_matrix(known), excluded, n)
        expected = _reference(scores, known, excluded, n)
        assert np.array_equal(got, expected), trial
        assert np.all((values > 0) == (got >= 0))


def test_top_n_never_returns_a_known_or_non_positive_item() -> None:
    scores = np.array([[0.5, -1.0, 0.0, 2.0, 1.0]], dtype=np.float32)
    known = sparse.csr_matrix(np.array([[False, False, False, True, False]]))
    items, values = rank.top_n(scores, known, None, 4)
    assert items.tolist() == [[4, 0, -1, -1]]
    assert values.tolist() == [[1.0, 0.5, 0.0, 0.0]]
