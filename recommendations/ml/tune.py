"""Model and regularisation chosen on a validation cut of the training data only.

The test rows of an offline split are never looked at: the split's own rule is applied
again to its training rows, the candidates are fitted on the older/remaining part and
ranked by NDCG@10 on the cut. At training time (:func:`tune_brand`) the cut is the newest
20% of the brand's signals and the cost is bounded: a fixed grid (one Gram for every EASE
value; ALS walked from the grid's middle toward its best value, :func:`walk`), at most
``max_users`` validation users, EASE only where the catalogue allows it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from . import als, ease, evaluate, rank, signals

#: Where the best reg lay on ML-100k validation cuts (about 44,000 positive signals), and
#: how it moved with the data: a third of the customers moved it down by about sqrt(3)
#: (ALS 10 -> 7, EASE 400 -> 200), so a brand's grid is centred on
#: ``centre * sqrt(signals / 44,000)`` and the search corrects the rest.
CENTRE: dict[str, float] = {"ease": 300.0, "als": 10.0}
REFERENCE_SIGNALS = 44_000
#: Multiples of the centre tried: EASE is flat near its best, ALS has a sharp peak.
STEPS: dict[str, tuple[float, ...]] = {
    "ease": (0.25, 0.5, 1.0, 2.0, 4.0),
    "als": (0.5, 0.71, 1.0, 1.41, 2.0),
}
#: Around a reg already tuned for this brand (stored on its last training run).
LOCAL_STEPS = (0.71, 1.0, 1.41)
#: From this many positive signals on the validation cut the ALS grid is walked
#: (:func:`walk`) rather than fitted whole. On ML-100k's three cuts (about 35-44k) and on
#: synthetic brands of 250k-1M events the validation NDCG@10 rose to one peak and fell, and
#: the walk chose what the whole grid chose; on a 300-customer test shop (under 3k) noise
#: put a dip beside the best value. Below it the whole grid costs well under a second.
WALK_MIN_SIGNALS = 20_000


def grid(algorithm: str, n_signals: int, previous: float | None = None) -> tuple[float, ...]:
    """Regularisation values to try; three around ``previous`` when there is one."""
    if previous is not None:
        return tuple(round(previous * step, 3) for step in LOCAL_STEPS)
    centre = CENTRE[algorithm] * np.sqrt(max(n_signals, 1) / REFERENCE_SIGNALS)
    return tuple(round(float(centre * step), 3) for step in STEPS[algorithm])


class Choice(NamedTuple):
    algorithm: rank.Algorithm
    reg: float
    #: validation NDCG@10 of every candidate: {"ease": {reg: ndcg}, "als": {...}}
    table: dict[str, dict[float, float]]
    validation_users: int
    #: popularity's NDCG@10 on the same validation users (what the choice must beat)
    popularity: float = 0.0
    #: ALS: the chosen value's item factors on the validation cut's training rows, a
    #: starting point for the fit on all of them (the same run's data, nothing else)
    item_factors: np.ndarray | None = None


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
    ease_grid: Sequence[float] | None = None,
    als_grid: Sequence[float] | None = None,
    als_params: als.Params = als.DEFAULT,
) -> Choice:
    """Best (algorithm, reg) by NDCG@10 on ``split`` (a *validation* holdout); ties go to
    the first algorithm named and the smaller reg. Grids default to :func:`grid`."""
    table: dict[str, dict[float, float]] = {}
    positive = split.train.positive
    ease_grid = ease_grid or grid("ease", positive.nnz)
    als_grid = als_grid or grid("als", positive.nnz)
    if "ease" in algorithms:
        shared = ease.gram(positive)
        table["ease"] = {
            reg: _ndcg(rank.EaseModel(ease.from_gram(shared, reg), reg), split) for reg in ease_grid
        }
        del shared
    als_items: dict[float, np.ndarray] = {}
    if "als" in algorithms:
        walked = positive.nnz >= WALK_MIN_SIGNALS
        table["als"], als_items = _als_grid(split, als_grid, als_params, walked=walked)
    candidates = [
        (ndcg, -a, -reg, name, reg)
        for a, (name, row) in enumerate(table.items())
        for reg, ndcg in row.items()
    ]
    _, _, _, name, reg = max(candidates)
    lists = evaluate.popularity_lists(split, depth=10)
    baseline = evaluate.metrics(lists, split.relevant, positive.shape[1]).ndcg.mean()
    return Choice(
        name,  # type: ignore[arg-type]
        reg,
        table,
        len(split.users),
        float(baseline),
        als_items.get(reg) if name == "als" else None,
    )


def walk(values: Sequence[float], score: Callable[[float], float]) -> dict[float, float]:
    """``score`` of the best of ``values`` (sorted), found without scoring them all: a
    bisection on the slope. Each step scores the middle of the range still open and its
    upper neighbour: a rise moves the range above the middle, anything else (ties
    included, as ties go to the smaller value in :func:`choose`) to the middle and below.
    Where the score rises to one peak and falls, as validation NDCG@10 does across a reg
    grid, the best is the one the whole grid would choose, with both its neighbours scored:
    of a five-value grid, 3 scored when the peak is the middle value or above and 4 when it
    is below; of three values (around a stored reg), 2 when the top is best, else 3.
    (The walk it replaced scored the middle and both neighbours first, then stepped out:
    as many fits or one more, for the same choice.)"""
    ordered = sorted(values)
    scored: dict[float, float] = {}

    def at(index: int) -> float:
        if ordered[index] not in scored:
            scored[ordered[index]] = score(ordered[index])
        return scored[ordered[index]]

    low, high = 0, len(ordered) - 1
    if high == 0:
        at(0)
    while low < high:
        middle = (low + high) // 2
        here = at(middle)
        if at(middle + 1) > here:
            low = middle + 1
        else:
            high = middle
    return dict(sorted(scored.items()))


def _als_grid(
    split: evaluate.Holdout, regs: Sequence[float], params: als.Params, *, walked: bool = True
) -> tuple[dict[float, float], dict[float, np.ndarray]]:
    """Validation NDCG@10 of ALS at every reg, or at those :func:`walk` visits, each fitted
    from random factors, and each fit's item factors. (Fitting the grid as a path, each value
    starting from its neighbour's factors, halves the cost but flatters the values far
    from the start: 3 iterations from a better solution do not get all the way to a worse
    one, and on ML-100k the path chose a reg that did worse on the test rows. Fewer
    iterations per fit bias the choice the same way: with 3 to 5 instead of 8, the best
    validation value moved down the grid on every ML-100k split and scored lower on its
    test rows.)"""
    items: dict[float, np.ndarray] = {}
    no_users = np.zeros((0, params.factors), dtype=np.float32)

    def score(reg: float) -> float:
        value = dataclasses.replace(params, reg=reg)
        items[reg] = als.fit_items(split.train.positive, value)
        # Only the validation users are ranked: their factors are solved when ranked
        # (evaluate.model_lists), the same exact answer a whole fit gives them.
        return _ndcg(als.Model(no_users, items[reg], value), split)

    if walked:
        return walk(regs, score), items
    return {reg: score(reg) for reg in sorted(regs)}, items


def tune_brand(
    user_codes: npt.ArrayLike,
    item_codes: npt.ArrayLike,
    ratings: npt.ArrayLike,
    stamps: npt.ArrayLike,
    shape: tuple[int, int],
    *,
    threshold: int = rank.EASE_MAX_ITEMS,
    max_users: int = 2000,
    weighting: signals.Weighting = "binary",
    previous: dict[str, float] | None = None,
    algorithms: Sequence[rank.Algorithm] | None = None,
    seed: int = 0,
) -> Choice | None:
    """Training-time choice for one brand: validate on its newest 20% of signals.

    Cost: EASE one inverse per grid value (five, or three around the ``previous`` reg
    stored for this brand) from one Gram, and only where the catalogue allows it; ALS one
    fit per value :func:`walk` visits (three or four of five, two or three around a stored
    reg; every value below ``WALK_MIN_SIGNALS``).
    Validation ranked for at most ``max_users`` customers. ``algorithms``: the candidates
    (default: EASE and ALS where the catalogue allows EASE, else ALS). None when the cut
    leaves no one to validate on (a brand too small to tune: the caller keeps its default
    or previous reg).
    """
    cut = evaluate.global_time(stamps, fraction=0.2)
    split = evaluate.holdout(user_codes, item_codes, ratings, cut, shape, weighting=weighting)
    split = _sample(split, max_users, seed)
    if len(split.users) == 0 or split.train.positive.nnz == 0:
        return None
    candidates: Sequence[rank.Algorithm] = algorithms or (
        ("ease", "als") if rank.choose(shape[1], threshold=threshold) == "ease" else ("als",)
    )
    before = previous or {}
    n_signals = split.train.positive.nnz
    return choose(
        split,
        algorithms=candidates,
        ease_grid=grid("ease", n_signals, before.get("ease")),
        als_grid=grid("als", n_signals, before.get("als")),
    )
