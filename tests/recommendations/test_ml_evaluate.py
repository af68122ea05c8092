"""Splits, metrics, the paired bootstrap and the validation-only tuning."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from recommendations.ml import als, evaluate, rank, tune
from tests.benchmarks import evaluation
from tests.benchmarks.bench_scale import synthetic
from tests.recommendations.ml_data import shop


def test_global_time_split_tests_the_newest_rows_only() -> None:
    stamps = np.random.default_rng(0).permutation(100).astype(float)
    test = evaluate.global_time(stamps, fraction=0.2)
    assert test.sum() == 20
    assert stamps[test].min() > stamps[~test].max()


def test_per_user_random_split_takes_a_fifth_of_every_user_and_leaves_training() -> None:
    users = np.repeat(np.arange(30), np.arange(1, 31))
    test = evaluation.per_user_random(users, fraction=0.2, seed=3)
    per_user = np.bincount(users[test], minlength=30)
    counts = np.bincount(users)
    assert np.array_equal(per_user, np.minimum(np.round(counts * 0.2), counts - 1))
    assert not np.array_equal(test, evaluation.per_user_random(users, fraction=0.2, seed=4))


def test_leave_last_tests_each_users_newest_rows() -> None:
    users = np.repeat(np.arange(4), 8)
    stamps = np.random.default_rng(1).random(32)
    test = evaluation.leave_last(users, stamps, n=5)
    for user in range(4):
        mine = users == user
        assert test[mine].sum() == 5
        assert stamps[mine & test].min() > stamps[mine & ~test].max()


def test_metrics_match_a_hand_count() -> None:
    relevant = sparse.csr_matrix(np.array([[1, 1, 0, 0, 1], [0, 0, 0, 1, 0]], dtype=np.float32))
    lists = np.array([[0, 3, 1, -1], [2, 1, -1, -1]])
    got = evaluate.metrics(lists, relevant, n_items=5)
    discounts = 1 / np.log2(np.arange(2, 12))
    assert np.allclose(got.precision, [0.2, 0.0])
    assert np.allclose(got.recall, [2 / 3, 0.0])
    assert np.allclose(got.ndcg, [(discounts[0] + discounts[2]) / discounts[:3].sum(), 0.0])
    assert got.coverage == 4 / 5


def test_bootstrap_interval_of_identical_results_is_zero() -> None:
    same = np.random.default_rng(0).random(200)
    assert evaluation.paired_bootstrap(same, same) == (0.0, 0.0, 0.0)


def test_bootstrap_interval_finds_a_real_gain_and_not_a_fake_one() -> None:
    rng = np.random.default_rng(0)
    base = rng.random(500)
    better = evaluation.paired_bootstrap(base + 0.05 + rng.normal(0, 0.1, 500), base)
    assert better.excludes_zero and better.low < 0.05 < better.high
    noise = evaluation.paired_bootstrap(base + rng.normal(0, 0.1, 500), base)
    assert not noise.excludes_zero


def test_bootstrap_interval_is_paired() -> None:
    """A constant gain over users who differ wildly: pairing makes the interval tight."""
    base = np.random.default_rng(0).random(100) * 10
    interval = evaluation.paired_bootstrap(base + 0.01, base)
    assert interval.excludes_zero
    assert np.isclose(interval.low, 0.01) and np.isclose(interval.high, 0.01)


def test_ease_beats_popularity_on_a_shop_with_tastes() -> None:
    data = shop(n_users=300)
    test = evaluation.per_user_random(data.users)
    split = evaluate.holdout(data.users, data.items, data.ratings, test, data.shape)
    model = rank.fit(split.train.positive, algorithm="ease", ease_reg=50.0)
    ours = evaluation.score(evaluate.model_lists(model, split), split)
    popular = evaluation.score(evaluate.popularity_lists(split), split)
    assert evaluation.paired_bootstrap(ours.ndcg, popular.ndcg).low > 0


def test_tuning_picks_the_best_validation_value_from_the_training_rows_only() -> None:
    data = shop(n_users=300)
    choice = tune.tune_brand(data.users, data.items, data.ratings, data.stamps, data.shape)
    best = max(
        ((ndcg, algo, reg) for algo, row in choice.table.items() for reg, ndcg in row.items())
    )
    assert (choice.algorithm, choice.reg) == (best[1], best[2])
    assert set(choice.table) == {"ease", "als"}
    # A small brand: every value fitted (the walk starts at tune.WALK_MIN_SIGNALS).
    assert all(len(row) == 5 for row in choice.table.values())


@pytest.mark.parametrize("peak", range(5))
def test_the_walk_finds_a_single_peak_without_scoring_the_whole_grid(peak: int) -> None:
    values = (4.0, 1.0, 16.0, 2.0, 8.0)  # any order: walked sorted
    ordered = sorted(values)
    asked: list[float] = []

    def score(value: float) -> float:
        asked.append(value)
        return -abs(ordered.index(value) - peak)

    scored = tune.walk(values, score)
    assert max(scored, key=scored.__getitem__) == ordered[peak]
    assert asked[:2] == [4.0, 8.0] and len(set(asked)) == len(asked)
    assert len(asked) == (3 if peak >= 2 else 4)
    # The chosen value's neighbours were scored: its choice is checked on both sides.
    assert {ordered[i] for i in (peak - 1, peak + 1) if 0 <= i < 5} <= set(scored)
    assert list(scored) == sorted(scored)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=9, unique=True), st.data())
def test_the_walk_chooses_what_the_whole_grid_chooses_when_the_scores_have_one_peak(
    heights: list[float], data: st.DataObject
) -> None:
    """Any single-peaked scores over a grid of 1-9 values (a rise to the highest, then a
    fall; either side may be empty): the walk's best is the whole grid's, found with fewer
    fits than the grid has values from four values up."""
    top, rest = max(heights), sorted(set(heights) - {max(heights)})
    sides = data.draw(st.lists(st.booleans(), min_size=len(rest), max_size=len(rest)))
    left = [h for h, go_left in zip(rest, sides, strict=True) if go_left]
    right = [h for h, go_left in zip(rest, sides, strict=True) if not go_left][::-1]
    grid = [float(2**i) for i in range(len(heights))]
    table = dict(zip(grid, [*left, top, *right], strict=True))
    asked: list[float] = []

    def score(value: float) -> float:
        asked.append(value)
        return table[value]

    scored = tune.walk(grid, score)
    assert max(scored, key=scored.__getitem__) == max(table, key=table.__getitem__)
    assert len(asked) == len(set(asked)) == len(scored)
    assert len(asked) < len(grid) or len(grid) <= 3


def test_the_walk_breaks_ties_toward_the_smaller_value_and_handles_short_grids() -> None:
    assert list(tune.walk((1.0, 2.0, 3.0, 4.0, 5.0), lambda v: 0.0)) == [1.0, 2.0, 3.0, 4.0]
    assert tune.walk((), lambda v: 1.0) == {}
    assert tune.walk((3.0,), lambda v: v) == {3.0: 3.0}
    assert tune.walk((3.0, 1.0), lambda v: v) == {1.0: 1.0, 3.0: 3.0}
    # A flat run toward the larger end does not pull the walk past an equal smaller value.
    assert list(tune.walk((1.0, 2.0, 3.0, 4.0, 5.0), lambda v: min(v, 3.0))) == [2.0, 3.0, 4.0]


def test_a_large_brands_walked_als_choice_is_the_whole_grids(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Above tune.WALK_MIN_SIGNALS walking the ALS grid picks the reg (and NDCG@10) that
    fitting every value picks, with fewer fits."""
    users, items, values = synthetic(60_000, 3_000, 2_000, seed=1)
    stamps = np.random.default_rng(2).random(len(users))
    args = (users, items, values, stamps, (3_000, 2_000))
    walked = tune.tune_brand(*args, algorithms=("als",))
    assert walked.table["als"] and min(walked.table["als"]) > 0
    monkeypatch.setattr(tune, "WALK_MIN_SIGNALS", 10**9)
    whole = tune.tune_brand(*args, algorithms=("als",))
    assert len(whole.table["als"]) == 5 and len(walked.table["als"]) < 5
    assert walked.reg == whole.reg
    assert walked.table["als"].items() <= whole.table["als"].items()
    assert np.array_equal(walked.item_factors, whole.item_factors)


def test_tuning_around_a_stored_value_costs_three_fits_and_skips_ease_above_the_limit() -> None:
    data = shop(n_users=300)
    choice = tune.tune_brand(
        data.users,
        data.items,
        data.ratings,
        data.stamps,
        data.shape,
        threshold=10,
        previous={"als": 2.0},
    )
    assert choice.algorithm == "als"
    assert list(choice.table) == ["als"]
    assert sorted(choice.table["als"]) == [1.42, 2.0, 2.82]
    assert rank.choose(data.shape[1], threshold=10) == "als"


def test_an_als_choice_carries_its_fit_for_the_fit_on_all_rows_to_start_from() -> None:
    """The chosen ALS value's item factors on the validation cut come with the choice (the
    training fit on all rows starts from them: training.rank._tuned_fit); EASE has none."""
    data = shop(n_users=300)
    args = (data.users, data.items, data.ratings, data.stamps, data.shape)
    als_choice = tune.tune_brand(*args, threshold=10)
    assert als_choice.algorithm == "als"
    assert als_choice.item_factors.shape == (data.shape[1], als.DEFAULT.factors)
    cut = evaluate.global_time(data.stamps, fraction=0.2)
    split = evaluate.holdout(data.users, data.items, data.ratings, cut, data.shape)
    again = als.fit(split.train.positive, dataclasses.replace(als.DEFAULT, reg=als_choice.reg))
    assert np.allclose(again.item_factors, als_choice.item_factors, atol=1e-5)
    ease_choice = tune.tune_brand(*args, algorithms=("ease",))
    assert ease_choice.algorithm == "ease" and ease_choice.item_factors is None


def test_tuning_scores_each_als_value_as_a_whole_fit_would() -> None:
    """Tuning fits only the item factors and solves just the validation users when it
    ranks them (tune._als_grid): the same NDCG@10 as a whole fit, which solves everyone."""
    data = shop(n_users=300)
    cut = evaluate.global_time(data.stamps, fraction=0.2)
    split = evaluate.holdout(data.users, data.items, data.ratings, cut, data.shape)
    regs = (1.0, 4.0)
    ndcg, items = tune._als_grid(split, regs, als.DEFAULT)
    for reg in regs:
        whole = als.fit(split.train.positive, dataclasses.replace(als.DEFAULT, reg=reg))
        assert np.array_equal(items[reg], whole.item_factors)
        assert ndcg[reg] == pytest.approx(tune._ndcg(whole, split), abs=1e-9)
