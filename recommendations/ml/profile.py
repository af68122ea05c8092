"""What the signals say about a customer beyond items: their interests and best hour.

Stored next to the recommendations (InferredInterest, ContactHourInference).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .signals import DEFAULT_SCALE, RatingScale, dense_codes, pair_codes


def category_interests(
    users: npt.ArrayLike,
    categories: npt.ArrayLike,
    ratings: npt.ArrayLike,
    *,
    top: int = 3,
    rating_scale: RatingScale = DEFAULT_SCALE,
    category_names: Sequence[str] | np.ndarray | None = None,
) -> dict[Any, list[tuple[str, float]]]:
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
    pairs, pair_of = pair_codes(user_arr[keep], rank[codes[keep]])
    sums = np.bincount(pair_of, weights=weight[keep], minlength=len(pairs.users))
    user_values, user_codes = dense_codes(pairs.users)
    totals = np.bincount(user_codes, weights=sums)
    order = np.lexsort((pairs.items, -sums, user_codes))
    grouped = user_codes[order]
    order = order[np.arange(len(order)) - np.searchsorted(grouped, grouped) < top]
    result: dict[Any, list[tuple[str, float]]] = {}
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
) -> dict[Any, tuple[int, float]]:
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
