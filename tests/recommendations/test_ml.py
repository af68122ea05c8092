"""Unit tests for the pure ML core: synthetic data only, no database, no Django."""

from __future__ import annotations

import numpy as np
import pytest
from surprise import SVD, Dataset, Reader
from surprise.model_selection import KFold
from surprise.model_selection import cross_validate as surprise_cross_validate

from recommendations import ml

N_USERS, N_ITEMS = 30, 40


def _synthetic(seed: int = 0, density: float = 0.35, skew: float = 0.0) -> ml.Triples:
    """Low-rank ratings on a random subset of pairs. ``skew`` pushes ratings toward 5."""
    rng = np.random.default_rng(seed)
    taste = rng.normal(size=(N_USERS, 3)) @ rng.normal(size=(3, N_ITEMS))
    rating = np.clip(np.rint(3.0 + skew + taste + rng.normal(scale=0.5, size=taste.shape)), 1, 5)
    observed = rng.random((N_USERS, N_ITEMS)) < density
    observed[:, 0] = True  # every user has at least one rating ...
    observed[0, :] = True  # ... and every item too, so inner ids cover the whole grid
    rows, cols = np.nonzero(observed)
    order = rng.permutation(len(rows))
    return ml.Triples(
        np.array([f"u{r}" for r in rows[order]]),
        np.array([f"i{c}" for c in cols[order]]),
        rating[rows[order], cols[order]],
    )


@pytest.fixture(scope="module")
def data() -> ml.Triples:
    return _synthetic()


@pytest.fixture(scope="module")
def trainset(data: ml.Triples):
    return ml.build_trainset(*data)


@pytest.fixture(scope="module")
def svd(trainset) -> SVD:
    return ml.fit_svd(trainset, n_factors=8, n_epochs=30, lr_all=0.02)


@pytest.fixture(scope="module")
def knn(trainset):
    return ml.fit_knn_baseline(trainset, k=10)


def _predict_matrix(algo, trainset, clip: bool = True) -> np.ndarray:
    return np.array(
        [
            [
                algo.predict(trainset.to_raw_uid(u), trainset.to_raw_iid(i), clip=clip).est
                for i in range(trainset.n_items)
            ]
            for u in range(trainset.n_users)
        ]
    )


# --------------------------------------------------------------------------- scoring / top-N


@pytest.mark.parametrize("biased", [True, False])
def test_score_all_svd_equals_predict_including_clipping(biased: bool) -> None:
    trainset = ml.build_trainset(*_synthetic(seed=1, skew=1.0))
    algo = SVD(n_factors=8, n_epochs=40, lr_all=0.02, biased=biased, random_state=0)
    algo.fit(trainset)
    scores = ml.score_all_svd(algo, trainset)
    expected = _predict_matrix(algo, trainset)
    assert scores.shape == (trainset.n_users, trainset.n_items)
    assert np.allclose(scores, expected, rtol=0, atol=1e-9)
    # The data is skewed high, so some estimates must have been clipped to the scale.
    assert np.any(expected == 5.0)
    assert scores.max() <= 5.0 and scores.min() >= 1.0
    raw = ml.score_all_svd(algo, trainset, clip=False)
    assert np.allclose(raw, _predict_matrix(algo, trainset, clip=False), rtol=0, atol=1e-9)
    assert raw.max() > 5.0


def test_score_all_svd_for_a_subset_of_users(svd, trainset) -> None:
    full = ml.score_all_svd(svd, trainset)
    assert np.array_equal(ml.score_all_svd(svd, trainset, inner_uids=[3, 0]), full[[3, 0]])
    other = ml.build_trainset(["x"], ["y"], [3.0])
    with pytest.raises(ValueError, match="different trainset"):
        ml.score_all_svd(svd, other)


def test_known_items_mask_matches_trainset(trainset) -> None:
    mask = ml.known_items_mask(trainset)
    assert mask.sum() == trainset.n_ratings
    for u, i, _ in trainset.all_ratings():
        assert mask[u, i]


def test_top_n_equals_predict_loop_tie_robust(svd, trainset) -> None:
    n = 5
    scores = ml.score_all_svd(svd, trainset)
    fast_idx, fast_val = ml.top_n(scores, ml.known_items_mask(trainset), n)
    slow_idx, slow_val = ml.top_n_predict_loop(svd, trainset, n)
    assert np.allclose(fast_val, slow_val, rtol=0, atol=1e-9)
    for u in range(trainset.n_users):
        cutoff = slow_val[u, -1]
        # Items strictly better than the n-th score are unambiguous and must agree exactly;
        # items tied with the n-th score may legitimately differ between the two methods.
        assert {i for i in fast_idx[u] if scores[u, i] > cutoff + 1e-9} == {
            i for i in slow_idx[u] if scores[u, i] > cutoff + 1e-9
        }
        assert all(scores[u, i] >= cutoff - 1e-9 for i in fast_idx[u])


def test_top_n_excludes_known_items(svd, trainset) -> None:
    known = ml.known_items_mask(trainset)
    idx, _ = ml.top_n(ml.score_all_svd(svd, trainset), known, 10)
    for u in range(trainset.n_users):
        real = idx[u][idx[u] >= 0]  # -1 pads users with fewer than 10 unknown items
        assert len(real) == min(10, int((~known[u]).sum()))
        assert not known[u, real].any()
    assert (idx[trainset.to_inner_uid("u0")] == -1).all()  # u0 has rated every item


def test_top_n_hand_example_and_padding() -> None:
    scores = np.array([[0.9, 0.8, 0.1, 0.5], [0.2, 0.3, 0.4, 0.1]])
    known = np.array([[True, False, False, False], [True, True, True, False]])
    idx, val = ml.top_n(scores, known, 3)
    assert idx.tolist() == [[1, 3, 2], [3, -1, -1]]
    assert val[0].tolist() == [0.8, 0.5, 0.1]
    assert val[1, 0] == 0.1 and np.isneginf(val[1, 1:]).all()
    # The caller's score matrix is not modified by the masking.
    assert scores[0, 0] == 0.9
    idx_all, _ = ml.top_n(scores, None, 6)
    assert idx_all[0].tolist() == [0, 1, 3, 2, -1, -1]


def test_unknown_user_is_not_in_trainset(data) -> None:
    """An erased customer's rows are dropped before training, so the model forgets them."""
    keep = data.users != "u7"
    trainset = ml.build_trainset(data.users[keep], data.items[keep], data.ratings[keep])
    with pytest.raises(ValueError):
        trainset.to_inner_uid("u7")
    assert trainset.to_inner_uid("u8") >= 0


def test_build_trainset_validates_input() -> None:
    trainset = ml.build_trainset([1, 2], [10, 10], [4.0, 5.0])
    assert trainset.to_inner_uid("1") == 0  # raw ids become strings ...
    with pytest.raises(ValueError):
        trainset.to_inner_uid(1)  # ... so the int lookup fails
    with pytest.raises(ValueError, match="Duplicate"):
        ml.build_trainset([1, 1], [10, 10], [4.0, 5.0])
    with pytest.raises(ValueError, match="within"):
        ml.build_trainset([1], [10], [6.0])


# --------------------------------------------------------------------------- explanations


def test_explain_cites_only_the_users_rated_items(knn, svd, trainset) -> None:
    similarity = ml.item_similarity_from_factors(svd.qi)
    known = ml.known_items_mask(trainset)
    cited = 0
    for u in range(trainset.n_users):
        for i in np.flatnonzero(~known[u])[:5]:
            for source in (knn, similarity):
                reasons = ml.explain(source, trainset, u, int(i), k=3)
                assert len(reasons) <= 3
                assert all(known[u, j] and j != i for j, _ in reasons)
                assert all(c > 0 for _, c in reasons)
                assert [c for _, c in reasons] == sorted((c for _, c in reasons), reverse=True)
                cited += len(reasons)
    assert cited > 0


def test_explain_skips_a_more_similar_unrated_item() -> None:
    # User "a" rated i0 (5) and i1 (1); i2 is unrated, i3 is the item to explain.
    trainset = ml.build_trainset(
        ["a", "a", "b", "b", "b"], ["i0", "i1", "i1", "i2", "i3"], [5.0, 1.0, 3.0, 4.0, 2.0]
    )
    iid = {f"i{n}": trainset.to_inner_iid(f"i{n}") for n in range(4)}
    sim = np.eye(4)
    sim[iid["i3"], iid["i2"]] = 0.99  # most similar, but the user never rated it
    sim[iid["i3"], iid["i0"]] = 0.5
    sim[iid["i3"], iid["i1"]] = 0.4
    uid = trainset.to_inner_uid("a")
    mean = 3.0  # (5 + 1 + 3 + 4 + 2) / 5
    both = ml.explain(sim, trainset, uid, iid["i3"], k=5, positive_only=False)
    assert [j for j, _ in both] == [iid["i0"], iid["i1"]]
    assert np.allclose([c for _, c in both], [0.5 * (5 - mean) / 0.9, 0.4 * (1 - mean) / 0.9])
    assert ml.explain(sim, trainset, uid, iid["i3"], k=5) == [both[0]]


def test_knn_explanation_contributions_sum_to_estimate(knn, trainset) -> None:
    known = ml.known_items_mask(trainset)
    for u in range(0, trainset.n_users, 3):
        for i in np.flatnonzero(~known[u])[:4]:
            reasons = ml.explain(knn, trainset, u, int(i), k=10_000, positive_only=False)
            baseline = trainset.global_mean + knn.bu[u] + knn.bi[i]
            estimate, details = knn.estimate(u, int(i))
            assert len(reasons) == details["actual_k"]
            assert np.isclose(sum(c for _, c in reasons), estimate - baseline, atol=1e-9)


def test_explain_rejects_unknown_ids_without_mutating_the_trainset(knn, trainset) -> None:
    with pytest.raises(ValueError, match="out of range"):
        ml.explain(knn, trainset, trainset.n_users, 0)
    assert not trainset.knows_user(trainset.n_users)  # ur is a defaultdict: must stay clean


def test_explain_refuses_user_based_knn(trainset) -> None:
    user_knn = ml.fit_knn_baseline(trainset, k=5, user_based=True)
    with pytest.raises(ValueError, match="item-item"):
        ml.explain(user_knn, trainset, 0, 1)


def test_explain_points_svd_callers_to_factor_similarity(svd, trainset) -> None:
    with pytest.raises(TypeError, match="item_similarity_from_factors"):
        ml.explain(svd, trainset, 0, 1)


def test_fit_knn_baseline_is_item_item_pearson_baseline(knn, trainset) -> None:
    assert knn.sim.shape == (trainset.n_items, trainset.n_items)
    assert knn.sim_options == {"name": "pearson_baseline", "user_based": False}


def test_item_similarity_from_factors_is_cosine() -> None:
    qi = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0], [-2.0, 0.0]])
    sim = ml.item_similarity_from_factors(qi)
    assert np.allclose(sim[0], [1.0, np.sqrt(0.5), 0.0, -1.0])
    assert np.allclose(sim, sim.T)
    assert sim[2, 2] == 0.0  # zero vector: no similarity rather than NaN


# --------------------------------------------------------------------------- signals


def _signals(rows: list[tuple[str, str, str, float, float]], **kwargs) -> dict:
    users, items, kinds, values, ages = zip(*rows, strict=True)
    out = ml.signals_to_ratings(users, items, kinds, values, ages, **kwargs)
    return {(u, i): r for u, i, r in zip(out.users, out.items, out.ratings, strict=True)}


def test_explicit_rating_beats_implicit_and_newest_explicit_wins() -> None:
    got = _signals(
        [
            ("a", "x", "purchase", np.nan, 0.0),
            ("a", "x", "rating", 2.0, 300.0),
            ("a", "y", "rating", 5.0, 10.0),
            ("a", "y", "rating", 1.0, 1.0),
            ("a", "y", "view", np.nan, 0.0),
        ]
    )
    assert got == {("a", "x"): 2.0, ("a", "y"): 1.0}


def test_implicit_signals_decay_toward_neutral() -> None:
    got = _signals(
        [
            ("a", "fresh", "view", np.nan, 0.0),
            ("a", "old", "view", np.nan, 90.0),
            ("a", "older", "purchase", np.nan, 180.0),
            ("a", "dismissed", "not_interested", np.nan, 90.0),
        ],
        half_life_days=90.0,
    )
    assert got[("a", "fresh")] == pytest.approx(3.5)
    assert got[("a", "old")] == pytest.approx(3.0 + 0.5 * 0.5)
    assert got[("a", "older")] == pytest.approx(3.0 + 2.0 * 0.25)
    assert got[("a", "dismissed")] == pytest.approx(3.0 - 2.0 * 0.5)


def test_one_rating_per_pair_with_max_and_recent_dismissal() -> None:
    got = _signals(
        [
            ("a", "x", "view", np.nan, 0.0),
            ("a", "x", "purchase", np.nan, 0.0),
            ("a", "x", "click", np.nan, 5.0),
            ("b", "x", "view", np.nan, 3.0),
            ("b", "x", "not_interested", np.nan, 1.0),  # dismissed after viewing
            ("c", "x", "not_interested", np.nan, 9.0),
            ("c", "x", "purchase", np.nan, 2.0),  # bought after dismissing
        ],
        half_life_days=1e9,  # no decay: isolate the aggregation rule
    )
    assert got == pytest.approx({("a", "x"): 5.0, ("b", "x"): 1.0, ("c", "x"): 5.0})


def test_signals_to_ratings_vectorised_output_is_unique_and_sorted() -> None:
    rng = np.random.default_rng(3)
    n = 5000
    kinds = rng.choice(sorted(ml.IMPLICIT_WEIGHTS), size=n)
    out = ml.signals_to_ratings(
        rng.integers(0, 20, n),
        rng.integers(0, 30, n),
        kinds,
        np.where(kinds == "rating", rng.integers(1, 6, n), np.nan),
        rng.uniform(0, 400, n),
    )
    pairs = list(zip(out.users.tolist(), out.items.tolist(), strict=True))
    assert pairs == sorted(set(pairs))
    assert out.ratings.min() >= 1.0 and out.ratings.max() <= 5.0
    ml.build_trainset(*out)  # accepted as-is: no duplicate pairs


def test_signals_to_ratings_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="Unknown signal"):
        ml.signals_to_ratings(["a"], ["x"], ["wishlist"], [np.nan], [0.0])
    with pytest.raises(ValueError, match="finite"):
        ml.signals_to_ratings(["a"], ["x"], ["rating"], [np.nan], [0.0])


# --------------------------------------------------------------------------- evaluation


def test_cross_validate_matches_surprise(data, tmp_path) -> None:
    path = tmp_path / "ratings.tsv"
    path.write_text(
        "".join(f"{u}\t{i}\t{r}\n" for u, i, r in zip(*data, strict=True)), encoding="utf-8"
    )
    dataset = Dataset.load_from_file(
        str(path), Reader(line_format="user item rating", sep="\t", rating_scale=(1, 5))
    )
    theirs = surprise_cross_validate(
        SVD(n_factors=5, n_epochs=5, random_state=0), dataset, cv=KFold(5, random_state=0)
    )
    ours = ml.cross_validate(
        lambda ts: ml.fit_svd(ts, n_factors=5, n_epochs=5), *data, folds=5, random_state=0
    )
    assert ours["rmse"] == pytest.approx(np.mean(theirs["test_rmse"]), abs=1e-12)
    assert ours["mae"] == pytest.approx(np.mean(theirs["test_mae"]), abs=1e-12)


def test_time_split_puts_newest_rows_in_test() -> None:
    rng = np.random.default_rng(5)
    stamps = rng.permutation(100).astype(float)
    users = np.array([f"u{s:.0f}" for s in stamps])
    train, test = ml.time_split(users, users, np.full(100, 3.0), stamps, test_fraction=0.2)
    assert sorted(test.users.tolist()) == sorted(f"u{s}" for s in range(80, 100))
    assert len(train.users) == 80


def test_time_split_keeps_ties_at_the_cut_together() -> None:
    stamps = np.array([1.0, 2.0, 3.0, 3.0, 3.0])
    train, test = ml.time_split(np.arange(5), np.arange(5), np.ones(5), stamps, test_fraction=0.2)
    assert train.users.tolist() == [0, 1] and test.users.tolist() == [2, 3, 4]


def test_precision_and_ndcg_against_hand_computed_values() -> None:
    recommended = {"a": [1, 2, 3, 4], "b": [5, 6, 7, 8], "c": [9]}
    relevant = {"a": {2, 4, 10}, "b": set(), "c": {9}, "d": {1}}
    # a: 2 hits of 4; b: nothing relevant, skipped; c: 1 hit of 4; d: no recommendations.
    assert ml.precision_at_k(recommended, relevant, k=4) == pytest.approx((0.5 + 0.25 + 0) / 3)
    ndcg_a = (1 / np.log2(3) + 1 / np.log2(5)) / (1 + 1 / np.log2(3) + 1 / np.log2(4))
    assert ml.ndcg_at_k(recommended, relevant, k=4) == pytest.approx((ndcg_a + 1.0 + 0) / 3)
    assert ml.ndcg_at_k({"a": [2, 4, 1, 3]}, {"a": {2, 4}}, k=4) == pytest.approx(1.0)
    # More relevant items than k: the ideal list holds only k hits, so a full list is perfect.
    assert ml.ndcg_at_k({"a": [1, 2]}, {"a": {1, 2, 3}}, k=2) == pytest.approx(1.0)
    assert ml.precision_at_k({"a": [2, 4]}, {"a": {2, 4}}, k=1) == pytest.approx(1.0)


def test_relevant_items_threshold() -> None:
    got = ml.relevant_items(["a", "a", "b"], ["x", "y", "x"], [4.0, 3.5, 5.0])
    assert got == {"a": {"x"}, "b": {"x"}}


def test_popular_items_ties_broken_by_mean_rating() -> None:
    items = ["a", "a", "b", "b", "c", "d", "d", "d"]
    ratings = [1.0, 1.0, 5.0, 5.0, 5.0, 2.0, 2.0, 2.0]
    assert ml.popular_items(items, ratings).tolist() == ["d", "b", "a", "c"]
    assert ml.popular_items(items, ratings, 2).tolist() == ["d", "b"]


def test_data_fingerprint_is_stable_order_independent_and_sensitive(data) -> None:
    first = ml.data_fingerprint(*data)
    perm = np.random.default_rng(9).permutation(len(data.users))
    assert ml.data_fingerprint(data.users[perm], data.items[perm], data.ratings[perm]) == first
    assert len(first) == 64 and first == ml.data_fingerprint(*data)
    changed = data.ratings.copy()
    changed[0] = 6.0 - changed[0] if changed[0] != 3.0 else 4.0
    assert ml.data_fingerprint(data.users, data.items, changed) != first
    assert ml.data_fingerprint(data.users[1:], data.items[1:], data.ratings[1:]) != first
    # Integer ids (the database's) hash as int64 whatever their dtype; other ids as str.
    small = (np.array([1], dtype=np.int32), np.array([2], dtype=np.int16), [3.0])
    assert ml.data_fingerprint([1], [2], [3]) == ml.data_fingerprint(*small)
    assert ml.data_fingerprint(["1"], ["2"], [3]) == ml.data_fingerprint(
        np.array(["1"]), ["2"], [3.0]
    )
    assert ml.data_fingerprint([1], [2], [3]) != ml.data_fingerprint([1], [2], [4])


# --------------------------------------------------------------------------- EASE (implicit)


def _two_tastes(seed: int = 0) -> np.ndarray:
    """0/1 interactions: users 0-9 like items 0-5, users 10-19 like items 6-11 (with gaps)."""
    rng = np.random.default_rng(seed)
    x = np.zeros((20, 12), dtype=np.float32)
    x[:10, :6] = rng.random((10, 6)) < 0.7
    x[10:, 6:] = rng.random((10, 6)) < 0.7
    return x


def test_fit_ease_matches_the_closed_form_and_has_a_zero_diagonal() -> None:
    x = _two_tastes()
    reg = 5.0
    weights = ml.fit_ease(x, reg=reg)
    inverse = np.linalg.inv(x.T.astype(float) @ x + reg * np.eye(12))
    expected = np.eye(12) - inverse / np.diag(inverse)[None, :]
    np.fill_diagonal(expected, 0.0)
    assert weights.dtype == np.float32
    assert np.allclose(weights, expected, atol=1e-5)
    assert np.all(np.diag(weights) == 0.0)
    with pytest.raises(ValueError):
        ml.fit_ease(x, reg=0.0)


def test_ease_ranks_a_users_own_taste_first() -> None:
    x = _two_tastes()
    scores = ml.score_item_item(x, ml.fit_ease(x, reg=2.0))
    best, _ = ml.top_n(scores, x > 0, 1)
    checked = 0
    for user in range(20):
        liked = set(range(6) if user < 10 else range(6, 12))
        if liked - set(np.flatnonzero(x[user]).tolist()):  # something of theirs left to find
            assert int(best[user][0]) in liked
            checked += 1
    assert checked >= 10


def test_interaction_matrices_keep_dismissals_known_but_not_positive() -> None:
    positive, known = ml.interaction_matrices([0, 0, 1], [0, 1, 1], [5.0, 1.0, 3.0], (2, 3))
    assert positive.tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    assert known.tolist() == [[True, True, False], [False, True, False]]


def test_explain_item_item_cites_only_own_items_and_sums_to_the_score() -> None:
    x = _two_tastes(1)
    weights = ml.fit_ease(x, reg=2.0)
    user = 3
    own = np.flatnonzero(x[user])
    targets = np.flatnonzero(x[user] == 0)
    whys = ml.explain_item_item(weights, own, targets, k=len(own))
    scores = ml.score_item_item(x[user][None, :], weights)[0]
    for target, why in zip(targets, whys, strict=True):
        assert {i for i, _ in why} <= set(own.tolist())
        assert [c for _, c in why] == sorted((c for _, c in why), reverse=True)
        positives = weights[own, target][weights[own, target] > 0].sum()
        assert np.isclose(sum(c for _, c in why), positives, atol=1e-6)
        assert sum(c for _, c in why) >= scores[target] - 1e-6  # negatives only lower it


def test_explain_item_item_batch_agrees_with_the_one_user_version() -> None:
    rng = np.random.default_rng(4)
    x = (rng.random((15, 25)) < 0.3).astype(np.float32)
    x[7] = 0.0  # a user with nothing positive: nothing to cite
    weights = ml.fit_ease(x, reg=3.0)
    best, _ = ml.top_n(ml.score_item_item(x, weights), x > 0, 5)
    best[2, 3:] = -1  # padding, as top_n gives when few items are eligible
    items, contributions = ml.explain_item_item_batch(weights, x, best, k=2)
    for user in range(15):
        picks = best[user][best[user] >= 0]
        want = ml.explain_item_item(weights, np.flatnonzero(x[user]), picks, k=2)
        for slot, why in enumerate(want):
            got = [
                (int(i), float(c))
                for i, c in zip(items[user, slot], contributions[user, slot], strict=True)
                if i >= 0
            ]
            assert [i for i, _ in got] == [i for i, _ in why]
            assert np.allclose([c for _, c in got], [c for _, c in why])
        assert np.all(items[user, len(picks) :] == -1)
    assert np.all(items[7] == -1)


def test_holdout_metrics_and_popularity_scores_on_a_hand_example() -> None:
    train = ml.Triples(
        np.array([1, 1, 2, 2, 3]), np.array([10, 20, 10, 30, 10]), np.array([5.0, 4, 5, 4, 2])
    )
    test = ml.Triples(np.array([1, 2, 9]), np.array([30, 20, 10]), np.array([5.0, 4, 5]))
    split = ml.holdout(train, test)
    assert split.relevant == {1: {30}, 2: {20}}  # user 9 is cold: not evaluated
    pop = ml.popularity_scores(split)  # 10 (3 ratings) > 20 (tie on count, 4.0) ... 30 (4.0)
    assert pop.shape == (2, 3) and np.argmax(pop[0]) == 0
    precision, ndcg = ml.holdout_metrics(split, pop, k=1)
    # user 1 knows 10, 20: best unknown is 30 (a hit); user 2 knows 10, 30: gets 20 (a hit)
    assert (precision, ndcg) == (1.0, 1.0)
    precision, _ = ml.holdout_metrics(split, -pop, k=1)
    assert precision == 1.0  # only one unknown item each, so any order hits


def test_choose_ease_reg_looks_only_at_the_training_period() -> None:
    rng = np.random.default_rng(5)
    users = np.repeat(np.arange(30), 8)
    items = np.concatenate([rng.choice(20, 8, replace=False) for _ in range(30)])
    ratings = rng.integers(3, 6, size=len(users)).astype(float)
    stamps = np.arange(len(users), dtype=float)
    best, table = ml.choose_ease_reg(
        ml.Triples(users, items, ratings), stamps, grid=(1.0, 10.0, 100.0)
    )
    assert best in table and set(table) == {1.0, 10.0, 100.0}
    assert all(0.0 <= p <= 1.0 and 0.0 <= n <= 1.0 for p, n in table.values())
    # The table is exactly EASE scored on the newest 20% of what it was given.
    fit_part, valid = ml.time_split(users, items, ratings, stamps, test_fraction=0.2)
    split = ml.holdout(fit_part, valid)
    for reg, metrics in table.items():
        assert metrics == ml.holdout_metrics(split, ml.ease_scores(split, reg=reg))
    assert table[best][1] == max(n for _, n in table.values())


# --------------------------------------------------------------------------- fast paths


def test_dense_codes_equal_np_unique_for_ids_and_anything_else() -> None:
    rng = np.random.default_rng(7)
    for values in (
        rng.integers(0, 50, 300),  # small id range: presence table
        rng.integers(0, 2**40, 300),  # sparse ids: sorted
        np.array(["b", "a", "c", "a"]),
        rng.integers(-5, 5, 40),  # negatives: sorted
    ):
        distinct, codes = ml.dense_codes(values)
        want_distinct, want_codes = np.unique(values, return_inverse=True)
        assert distinct.tolist() == want_distinct.tolist()
        assert codes.tolist() == want_codes.reshape(-1).tolist()


def test_signals_to_ratings_takes_kind_codes_and_gives_each_rows_pair() -> None:
    rng = np.random.default_rng(8)
    n = 3000
    names = sorted(ml.IMPLICIT_WEIGHTS)
    codes = rng.integers(0, len(names), n)
    kinds = np.array(names)[codes]
    users, items = rng.integers(0, 40, n), rng.integers(0, 25, n)
    values = np.where(kinds == "rating", rng.integers(1, 6, n), np.nan)
    ages = rng.integers(0, 4, n).astype(float)  # many equal ages: ties between ratings
    by_name = ml.signals_to_ratings(users, items, kinds, values, ages)
    by_code, pair_of_row = ml.signals_to_ratings_indexed(
        users, items, codes, values, ages, kind_names=names
    )
    for got, want in zip(by_code, by_name, strict=True):
        assert np.array_equal(got, want)
    assert np.array_equal(by_code.users[pair_of_row], users)
    assert np.array_equal(by_code.items[pair_of_row], items)
    # The reference rule, row by row: the newest rating wins, on equal age the later row.
    for pair in range(0, len(by_code.users), 7):
        rows = np.flatnonzero((pair_of_row == pair) & (kinds == "rating"))
        if len(rows):
            newest = rows[ages[rows] == ages[rows].min()].max()
            assert by_code.ratings[pair] == values[newest]
    with pytest.raises(ValueError, match="index kind_names"):
        ml.signals_to_ratings([1], [2], [len(names)], [1.0], [0.0], kind_names=names)


def test_popular_codes_rank_like_popular_items() -> None:
    rng = np.random.default_rng(9)
    items = rng.integers(0, 30, 400)
    ratings = rng.integers(1, 6, 400).astype(float)
    distinct, codes = np.unique(items, return_inverse=True)
    assert distinct[ml.popular_codes(codes, ratings, len(distinct))].tolist() == (
        ml.popular_items(items, ratings).tolist()
    )


def test_category_interests_by_name_or_by_code_agree_and_break_ties_alphabetically() -> None:
    users = np.array([1, 1, 1, 1, 2, 2, 2])
    names = np.array(["Shoes", "Bags", "", "Hats", "Bags", "Shoes", "Hats"])
    ratings = np.array([5.0, 5.0, 5.0, 4.0, 2.0, 4.0, 4.0])
    by_name = ml.category_interests(users, names, ratings, top=2)
    table, codes = np.array(["Shoes", "", "Hats", "Bags"]), np.array([0, 3, 1, 2, 3, 0, 2])
    by_code = ml.category_interests(users, codes, ratings, top=2, category_names=table)
    assert by_name == by_code
    # user 1: Bags and Shoes tie (2.0 each), Hats 1.0, "" is no category
    assert by_name[1] == [("Bags", 0.4), ("Shoes", 0.4)]
    assert by_name[2] == [("Hats", 0.5), ("Shoes", 0.5)]  # Bags is below neutral


def test_best_hours_counts_each_users_events() -> None:
    users = np.array([7, 7, 7, 7, 7, 7, 9, 9])
    hours = np.array([19, 19, 19, 8, 8, 43])  # 43 % 24 = 19
    got = ml.best_hours(users[:6], hours, min_events=5)
    assert got == {7: (19, 4 / 6)}
    assert ml.best_hours(users, np.array([1, 1, 1, 1, 1, 1, 2, 2]), min_events=2)[9] == (2, 1.0)


def test_sparse_scoring_and_explanations_equal_the_dense_ones() -> None:
    from scipy import sparse

    rng = np.random.default_rng(10)
    x = (rng.random((25, 30)) < 0.25).astype(np.float32)
    weights = ml.fit_ease(x, reg=4.0)
    dense_scores = np.asarray(x, dtype=np.float64) @ weights.astype(np.float64)
    scores = ml.score_item_item(sparse.csr_array(x), weights)
    assert scores.dtype == np.float32
    assert np.allclose(scores, dense_scores, atol=1e-5)
    best, values = ml.top_n(scores, x > 0, 4)
    assert values.dtype == np.float64
    assert np.array_equal(best, ml.top_n(scores.astype(np.float64), x > 0, 4)[0])
    for got, want in zip(
        ml.explain_item_item_batch(weights, sparse.csr_array(x), best, k=2),
        ml.explain_item_item_batch(weights, x, best, k=2),
        strict=True,
    ):
        assert np.array_equal(got, want)


def test_fit_ease_in_float32_ranks_like_a_float64_inverse() -> None:
    rng = np.random.default_rng(11)
    x = (rng.random((200, 120)) < 0.1).astype(np.float32)
    reg = 20.0
    inverse = np.linalg.inv(x.T.astype(np.float64) @ x + reg * np.eye(120))
    exact = -inverse / np.diag(inverse)[None, :]
    np.fill_diagonal(exact, 0.0)
    weights = ml.fit_ease(x, reg=reg)
    assert np.abs(weights - exact).max() < 1e-5 * np.abs(exact).max() + 1e-7
    # The top 10 is the exact model's, up to near-ties (which rounding may order either way).
    exact_scores = x.astype(np.float64) @ exact
    picked, _ = ml.top_n(ml.score_item_item(x, weights), x > 0, 10)
    _, exact_best = ml.top_n(exact_scores, x > 0, 10)
    for user in range(len(x)):
        assert np.all(exact_scores[user, picked[user]] >= exact_best[user, -1] - 1e-5)


def test_positive_csr_is_the_positive_matrix_in_any_row_order() -> None:
    rng = np.random.default_rng(12)
    users, items = rng.integers(0, 9, 60), rng.integers(0, 14, 60)
    ratings = rng.integers(1, 6, 60).astype(float)
    pairs, first = np.unique(users * 100 + items, return_index=True)  # one rating per pair
    users, items, ratings = users[first], items[first], ratings[first]
    positive, _ = ml.interaction_matrices(users, items, ratings, (9, 14))
    for order in (np.arange(len(users)), rng.permutation(len(users))):
        got = ml.positive_csr(users[order], items[order], ratings[order], (9, 14))
        assert got.has_sorted_indices and np.array_equal(got.toarray(), positive)
