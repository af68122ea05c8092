"""ALS: chosen above the measured threshold, exact explanations, fold-in."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from recommendations.ml import als, rank, signals
from tests.recommendations.ml_data import shop

PARAMS = als.Params(factors=16, reg=1.0, alpha=1.0, iterations=15)


def _rank_all(model, data):
    chunks = rank.rank(model, data.positive, data.known, user_factors=model.user_factors, k=3)
    return [c for c in chunks]


def test_the_catalogue_size_chooses_ease_up_to_the_threshold_and_als_above() -> None:
    assert rank.choose(rank.EASE_MAX_ITEMS) == "ease"
    assert rank.choose(rank.EASE_MAX_ITEMS + 1) == "als"
    users = np.repeat(np.arange(50), 4)
    items = np.random.default_rng(0).integers(0, rank.EASE_MAX_ITEMS + 10, len(users))
    wide = signals.interactions(
        users, items, np.full(len(users), 5.0), (50, rank.EASE_MAX_ITEMS + 10)
    )
    assert isinstance(rank.fit(wide.positive, als_params=PARAMS), als.Model)
    narrow = shop().interactions()
    assert isinstance(rank.fit(narrow.positive), rank.EaseModel)


def test_contributions_equal_implicits_explain_and_add_up_to_the_score() -> None:
    data = shop().interactions()
    weighted = sparse.csr_matrix(data.positive)
    weighted.data = np.where(np.arange(weighted.nnz) % 3 == 0, 2.0, 1.0).astype(np.float32)
    params = als.Params(factors=16, reg=1.0, alpha=3.0, iterations=15)
    model = als.fit(weighted, params)
    ranked = next(rank.rank(model, weighted, data.known, user_factors=model.user_factors, k=200))
    solver = als._solver(params, model.item_factors)
    solver.user_factors = model.user_factors
    for user in (0, 33, 101):
        pick = int(ranked.items[user, 0])
        total, top, _ = solver.explain(user, weighted, pick, N=3)
        assert np.isclose(ranked.scores[user, 0], total, rtol=1e-4)
        assert [int(i) for i, _ in top] == ranked.cited[user, 0, :3].tolist()
        assert np.allclose([c for _, c in top], ranked.contributions[user, 0, :3], rtol=1e-4)
        positive_parts = ranked.contributions[user, 0][ranked.contributions[user, 0] > 0]
        assert positive_parts.sum() >= ranked.scores[user, 0] - 1e-5


def test_fold_in_gives_the_training_list() -> None:
    data = shop().interactions()
    model = als.fit(data.positive, PARAMS)
    trained = np.vstack([c.items for c in _rank_all(model, data)])
    for user in (0, 17, 99):
        folded = rank.fold_in(model, data.positive[user], data.known[user])
        assert np.array_equal(folded.items[0], trained[user])


def test_fold_in_after_a_new_signal_matches_a_full_retrain_within_tolerance() -> None:
    data = shop(n_users=400)
    user = 5
    group = data.group_of_item == data.group_of_item[data.items[data.users == user][0]]
    unseen = np.setdiff1d(np.flatnonzero(group), data.items[data.users == user])
    after_rows = (np.r_[data.users, user, user], np.r_[data.items, unseen[:2]])
    before = data.interactions()
    after = signals.interactions(*after_rows, np.r_[data.ratings, 5.0, 5.0], data.shape)
    model = als.fit(before.positive, PARAMS)
    folded = rank.fold_in(model, after.positive[user], after.known[user]).items[0]
    retrained = als.fit(after.positive, PARAMS)
    full = next(
        rank.rank(
            retrained,
            after.positive[user],
            after.known[user],
            user_factors=retrained.user_factors[user : user + 1],
        )
    ).items[0]
    assert not set(unseen[:2]) & set(folded.tolist())
    assert len(set(folded.tolist()) & set(full.tolist())) >= 8


def test_a_warm_start_from_the_previous_items_ranks_as_well_as_a_fit_from_scratch() -> None:
    """A retrain on nearly the same signals starts from the previous model's item factors
    (training.rank._warm_start) and runs ``warm_iterations`` steps instead of a full fit:
    its picks land in each customer's own taste as often as a full fit's, and mostly agree
    with them."""
    data = shop(n_users=300, n_items=200, seed=3)
    full = data.interactions()
    drop = np.random.default_rng(1).random(full.positive.nnz) < 0.05  # 5% newer signals
    before = sparse.csr_matrix(full.positive)
    before.data = np.where(drop, 0.0, before.data).astype(np.float32)
    before.eliminate_zeros()
    params = als.Params(factors=16, reg=1.0, alpha=1.0, iterations=8, warm_iterations=3)
    previous = als.fit(before, params)
    start, known = als.aligned(np.arange(200), previous.item_factors, np.arange(200))
    assert known == 1.0 and np.array_equal(start, previous.item_factors)

    warm = als.fit(full.positive, params, start=start)
    cold = als.fit(full.positive, params)

    group = data.group_of_item
    liked = data.ratings >= 4
    own = np.array(
        [
            np.bincount(group[data.items[liked & (data.users == u)]], minlength=4).argmax()
            for u in range(300)
        ]
    )

    def own_taste(model) -> tuple[float, np.ndarray]:
        (ranked,) = rank.rank(
            model, full.positive, full.known, user_factors=model.user_factors, chunk=300, k=0
        )
        picks = ranked.items
        return float((group[picks] == own[:, None]).mean()), picks

    warm_share, warm_lists = own_taste(warm)
    cold_share, cold_lists = own_taste(cold)
    agree = np.mean(
        [len(set(a) & set(b)) / 10 for a, b in zip(warm_lists, cold_lists, strict=True)]
    )
    assert warm_share >= cold_share - 0.02, (warm_share, cold_share)
    assert agree >= 0.6, agree


def test_a_fit_gives_the_same_numbers_on_one_thread_or_several() -> None:
    """Each user's and each item's solve is its own, so ``implicit``'s threads only share
    them out: a run that searched its reg fits on every core (training.rank._tuned_fit)
    and gets the very factors a one-thread fit gives, from random factors or a start."""
    data = shop(n_users=300, n_items=200, seed=4).interactions()
    one = als.Params(factors=16, reg=1.0, iterations=4, num_threads=1)
    several = als.Params(factors=16, reg=1.0, iterations=4, num_threads=4)
    with als.one_blas_thread():
        a, b = als.fit(data.positive, one), als.fit(data.positive, several)
        assert np.array_equal(a.item_factors, b.item_factors)
        assert np.array_equal(a.user_factors, b.user_factors)
        start = a.item_factors * 0.9
        c, d = (
            als.fit(data.positive, one, start=start),
            als.fit(data.positive, several, start=start),
        )
    assert np.array_equal(c.item_factors, d.item_factors)
    assert np.array_equal(c.user_factors, d.user_factors)
    assert np.array_equal(start, a.item_factors * 0.9)  # the start is the caller's, unchanged
