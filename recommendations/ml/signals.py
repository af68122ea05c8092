"""What a signal tells the model: kinds to one 1-5 value per pair, then sparse matrices.

The one place signals are mapped. :func:`signals_to_ratings` turns raw interaction rows
(kind, value, age) into one value per (user, item) on a 1-5 scale; :func:`interactions`
turns those values into the two CSR matrices the models read.

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

Only *positive* evidence reaches the models: a value strictly above neutral. A neutral
3-star rating or a dismissal says nothing in favour of anything, so it never enters the
model and can therefore never be cited as a reason; it still marks the item as known
(never recommended back). The weight of a positive signal is 1 (``binary``, the default:
it ranked better on every ML-100k split, see ``tests/benchmarks/bench_quality.py``) or its
distance above neutral (``graded``: a 5-star rating or a purchase counts 2, a 4-star rating
1, a fresh view 0.5).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt
from scipy import sparse

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


def pair_codes(users: np.ndarray, items: np.ndarray) -> tuple[Triples, np.ndarray]:
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
    (so a caller can reduce its own per-row columns per pair without sorting again).

    Longer than 50 lines because it is one vectorised pass over shared per-row arrays
    (codes, weights, ages); split up, each part would take and return all of them.
    """
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

    pairs, codes = pair_codes(users, items)
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
# Values -> sparse matrices
# --------------------------------------------------------------------------------------------

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
