"""Model and regularisation chosen on a validation cut of the training data only.

The test rows of an offline split are never looked at: the split's own rule is applied
again to its training rows, the candidates are fitted on the older/remaining part and
ranked by NDCG@10 on the cut. At training time (:func:`tune_brand`) the cut is the newest
20% of the brand's signals and the cost is bounded: a fixed grid (one Gram for every EASE
value), at most ``max_users`` validation users, EASE only where the catalogue allows it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from . import als, ease, evaluate, rank, signals

EASE_GRID: tuple[float, ...] = (25.0, 50.0, 100.0, 200.0, 400.0, 800.0)
ALS_GRID: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0)


class Choice(NamedTuple):
    algorithm: rank.Algorithm
    reg: float
    #: validation NDCG@10 of every candidate: {"ease": {reg: ndcg}, "als": {...}}
    table: dict[str, dict[float, float]]
    validation_users: int


def _ndcg(model: rank.Model, split: evaluate.Holdout) -> float:
    lists = evaluate.model_lists(model, split, depth=10)
    return float(evaluate.metrics(lists, split.relevant, split.train.known.shape[1]).ndcg.mean())


def _sample(split: evaluate.Holdout, max_users: int, seed: int) -> evaluate.Holdout:
    if len(split.users) <= max_users:
        return split
    keep = np.sort(np.random.default_rng(seed).choice(len(split.users), max_users, False))
    return split._replace(
        users=split.users[keep],
        relevant=split.relevant[keep],
        train_counts=split.train_counts[keep],
    )


def choose(
    split: evaluate.Holdout,
    *,
    algorithms: Sequence[rank.Algorithm] = ("ease", "als"),
    ease_grid: Sequence[float] = EASE_GRID,
    als_grid: Sequence[float] = ALS_GRID,
    als_params: als.Params = als.DEFAULT,
) -> Choice:
    """Best (algorithm, reg) by NDCG@10 on ``split`` (a *validation* holdout); ties go to
    the first algorithm named and the smaller reg."""
    table: dict[str, dict[float, float]] = {}
    positive = split.train.positive
    if "ease" in algorithms:
        shared = ease.gram(positive)
        table["ease"] = {
            reg: _ndcg(rank.EaseModel(ease.from_gram(shared, reg), reg), split) for reg in ease_grid
        }
        del shared
    if "als" in algorithms:
        table["als"] = {
            reg: _ndcg(als.fit(positive, dataclasses.replace(als_params, reg=reg)), split)
            for reg in als_grid
        }
    candidates = [
        (ndcg, -a, -reg, name, reg)
        for a, (name, row) in enumerate(table.items())
        for reg, ndcg in row.items()
    ]
    _, _, _, name, reg = max(candidates)
    return Choice(name, reg, table, len(split.users))  # type: ignore[arg-type]


def tune_brand(
    user_codes: npt.ArrayLike,
    item_codes: npt.ArrayLike,
    ratings: npt.ArrayLike,
    stamps: npt.ArrayLike,
    shape: tuple[int, int],
    *,
    threshold: int = rank.EASE_MAX_ITEMS,
    max_users: int = 2000,
    weighting: signals.Weighting = "graded",
    seed: int = 0,
) -> Choice:
    """Training-time choice for one brand: validate on its newest 20% of signals."""
    cut = evaluate.global_time(stamps, fraction=0.2)
    split = evaluate.holdout(user_codes, item_codes, ratings, cut, shape, weighting=weighting)
    split = _sample(split, max_users, seed)
    algorithms: tuple[rank.Algorithm, ...] = (
        ("ease", "als") if rank.choose(shape[1], threshold=threshold) == "ease" else ("als",)
    )
    return choose(split, algorithms=algorithms)
