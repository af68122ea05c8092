"""What a signal tells the model, as sparse matrices.

Signals arrive as one value per (user, item) on the 1-5 scale of
``recommendations.ml.signals_to_ratings`` (explicit ratings as given, implicit signals
mapped and aged toward the neutral 3). The model learns only from *positive* evidence: a
value strictly above neutral. A neutral 3-star rating or a dismissal says nothing in favour
of anything, so it never enters the model and can therefore never be cited as a reason;
it still marks the item as known (never recommended back).

The weight of a positive signal is 1 (``binary``, the default: it ranked better on every
ML-100k split, see ``tests/benchmarks/bench_quality.py``) or its distance above neutral
(``graded``: a 5-star rating or a purchase counts 2, a 4-star rating 1, a fresh view 0.5).
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt
from scipy import sparse

NEUTRAL = 3.0
Weighting = Literal["binary", "graded"]


class Interactions(NamedTuple):
    """A brand's signals as two CSR matrices of the same (users, items) shape.

    ``positive``: float32 weight of each positive signal (what the models learn from and
    what explanations cite); ``known``: every observed pair, positive or not (excluded
    from recommendations).
    """

    positive: sparse.csr_matrix
    known: sparse.csr_matrix


def coo_to_csr(
    rows: npt.ArrayLike, cols: npt.ArrayLike, values: npt.ArrayLike, shape: tuple[int, int]
) -> sparse.csr_matrix:
    """CSR (float32) with sorted column indices; a pair given twice keeps its largest value."""
    r = np.asarray(rows, dtype=np.int64)
    c = np.asarray(cols, dtype=np.int64)
    v = np.asarray(values, dtype=np.float32)
    order = np.lexsort((-v, c, r))
    r, c, v = r[order], c[order], v[order]
    first = np.ones(len(r), dtype=bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    r, c, v = r[first], c[first], v[first]
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(r, minlength=shape[0]), out=indptr[1:])
    index_type = np.int32 if max(shape) < 2**31 and len(c) < 2**31 else np.int64
    return sparse.csr_matrix(
        (v, c.astype(index_type), indptr.astype(index_type)), shape=shape, copy=False
    )


def positive_weight(
    ratings: npt.ArrayLike, *, weighting: Weighting = "binary", neutral: float = NEUTRAL
) -> np.ndarray:
    """Model weight of each value: 0 for neutral or negative, else as in the module doc."""
    above = np.asarray(ratings, dtype=np.float64) - neutral
    if weighting == "binary":
        return (above > 0).astype(np.float32)
    return np.clip(above, 0.0, None).astype(np.float32)


def interactions(
    user_codes: npt.ArrayLike,
    item_codes: npt.ArrayLike,
    ratings: npt.ArrayLike,
    shape: tuple[int, int],
    *,
    weighting: Weighting = "binary",
    neutral: float = NEUTRAL,
) -> Interactions:
    """:class:`Interactions` from dense codes and 1-5 values (one per pair)."""
    users = np.asarray(user_codes, dtype=np.int64)
    items = np.asarray(item_codes, dtype=np.int64)
    weight = positive_weight(ratings, weighting=weighting, neutral=neutral)
    keep = weight > 0
    positive = coo_to_csr(users[keep], items[keep], weight[keep], shape)
    known = coo_to_csr(users, items, np.ones(len(users), dtype=np.float32), shape)
    return Interactions(positive, known)


def popularity(positive: sparse.csr_matrix) -> np.ndarray:
    """Items ordered by how many users have a positive signal on them (ties: lower index)."""
    counts = np.bincount(positive.indices, minlength=positive.shape[1])
    return np.lexsort((np.arange(len(counts)), -counts))
