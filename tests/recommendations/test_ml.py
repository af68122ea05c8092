"""Unit tests for the pure ML core (signals, profile, persist) and the benchmarks' Surprise
helpers (tests/benchmarks/evaluation.py): synthetic data only, no database, no Django."""

from __future__ import annotations

import numpy as np
import pytest
from surprise import SVD, Dataset, Reader
from surprise.model_selection import KFold
from surprise.model_selection import cross_validate as surprise_cross_validate

from recommendations.ml import persist, profile
from recommendations.ml import signals as ml_signals
from tests.benchmarks import evaluation

N_USERS, N_ITEMS = 30, 40


def _synthetic(seed: int = 0, density: float = 0.35, skew: float = 0.0) -> ml_signals.Triples:
    """Low-rank ratings on a random subset of pairs. ``skew`` pushes ratings toward 5."""
    rng = np.random.default_rng(seed)
    taste = rng.normal(size=(N_USERS, 3)) @ rng.normal(size=(3, N_ITEMS))
    rating = np.clip(np.rint(3.0 + skew + taste + rng.normal(scale=0.5, size=taste.shape)), 1, 5)
    observed = rng.random((N_USERS, N_ITEMS)) < density
    observed[:, 0] = True  # every user has at least one rating ...
    observed[0, :] = True  # ... and every item too, so inner ids cover the whole grid
    rows, cols = np.nonzero(observed)
    order = rng.permutation(len(rows))
    return ml_signals.Triples(
        np.array([f"u{r}" for r in rows[order]]),
        np.array([f"i{c}" for c in cols[order]]),
        rating[rows[order], cols[order]],
    )


@pytest.fixture(scope="module")
def data() -> ml_signals.Triples:
    return _synthetic()


@pytest.fixture(scope="module")
def trainset(data: ml_signals.Triples):
    return evaluation.build_trainset(*data)


@pytest.fixture(scope="module")
def svd(trainset) -> SVD:
    return evaluation.fit_svd(trainset, n_factors=8, n_epochs=30, lr_all=0.02)


@pytest.fixture(scope="module")
def knn(trainset):
    return evaluation.fit_knn_baseline(trainset, k=10)


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
    trainset = evaluation.build_trainset(*_synthetic(seed=1, skew=1.0))
    algo = SVD(n_factors=8, n_epochs=40, lr_all=0.02, biased=biased, random_state=0)
    algo.fit(trainset)
    scores = evaluation.score_all_svd(algo, trainset)
    expected = _predict_matrix(algo, trainset)
    assert scores.shape == (trainset.n_users, trainset.n_items)
    assert np.allclose(scores, expected, rtol=0, atol=1e-9)
    # The data is skewed high, so some estimates must have been clipped to the scale.
    assert np.any(expected == 5.0)
    assert scores.max() <= 5.0 and scores.min() >= 1.0
    raw = evaluation.score_all_svd(algo, trainset, clip=False)
    assert np.allclose(raw, _predict_matrix(algo, trainset, clip=False), rtol=0, atol=1e-9)
    assert raw.max() > 5.0


def test_score_all_svd_for_a_subset_of_users(svd, trainset) -> None:
    full = evaluation.score_all_svd(svd, trainset)
    assert np.array_equal(evaluation.score_all_svd(svd, trainset, inner_uids=[3, 0]), full[[3, 0]])
    other = evaluation.build_trainset(["x"], ["y"], [3.0])
    with pytest.raises(ValueError, match="different trainset"):
        evaluation.score_all_svd(svd, other)


def test_known_items_mask_matches_trainset(trainset) -> None:
    mask = evaluation.known_items_mask(trainset)
    assert mask.sum() == trainset.n_ratings
    for u, i, _ in trainset.all_ratings():
        assert mask[u, i]


def test_top_n_equals_predict_loop_tie_robust(svd, trainset) -> None:
    n = 5
    scores = evaluation.score_all_svd(svd, trainset)
    fast_idx, fast_val = evaluation.top_n(scores, evaluation.known_items_mask(trainset), n)
    slow_idx, slow_val = evaluation.top_n_predict_loop(svd, trainset, n)
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
    known = evaluation.known_items_mask(trainset)
    idx, _ = evaluation.top_n(evaluation.score_all_svd(svd, trainset), known, 10)
    for u in range(trainset.n_users):
        real = idx[u][idx[u] >= 0]  # -1 pads users with fewer than 10 unknown items
        assert len(real) == min(10, int((~known[u]).sum()))
        assert not known[u, real].any()
    assert (idx[trainset.to_inner_uid("u0")] == -1).all()  # u0 has rated every item


def test_top_n_hand_example_and_padding() -> None:
    scores = np.array([[0.9, 0.8, 0.1, 0.5], [0.2, 0.3, 0.4, 0.1]])
    known = np.array([[True, False, False, False], [True, True, True, False]])
    idx, val = evaluation.top_n(scores, known, 3)
    assert idx.tolist() == [[1, 3, 2], [3, -1, -1]]
    assert val[0].tolist() == [0.8, 0.5, 0.1]
    assert val[1, 0] == 0.1 and np.isneginf(val[1, 1:]).all()
    # The caller's score matrix is not modified by the masking.
    assert scores[0, 0] == 0.9
    idx_all, _ = evaluation.top_n(scores, None, 6)
    assert idx_all[0].tolist() == [0, 1, 3, 2, -1, -1]


def test_unknown_user_is_not_in_trainset(data) -> None:
    """An erased customer's rows are dropped before training, so the model forgets them."""
    keep = data.users != "u7"
    trainset = evaluation.build_trainset(data.users[keep], data.items[keep], data.ratings[keep])
    with pytest.raises(ValueError):
        trainset.to_inner_uid("u7")
    assert trainset.to_inner_uid("u8") >= 0


def test_build_trainset_validates_input() -> None:
    trainset = evaluation.build_trainset([1, 2], [10, 10], [4.0, 5.0])
    assert trainset.to_inner_uid("1") == 0  # raw ids become strings ...
    with pytest.raises(ValueError):
        trainset.to_inner_uid(1)  # ... so the int lookup fails
    with pytest.raises(ValueError, match="Duplicate"):
        evaluation.build_trainset([1, 1], [10, 10], [4.0, 5.0])
    with pytest.raises(ValueError, match="within"):
        evaluation.build_trainset([1], [10], [6.0])


# --------------------------------------------------------------------------- explanations


def test_fit_knn_baseline_is_item_item_pearson_baseline(knn, trainset) -> None:
    assert knn.sim.shape == (trainset.n_items, trainset.n_items)
    assert knn.sim_options == {"name": "pearson_baseline", "user_based": False}


# --------------------------------------------------------------------------- signals


def _signals(rows: list[tuple[str, str, str, float, float]], **kwargs) -> dict:
    users, items, kinds, values, ages = zip(*rows, strict=True)
    out = ml_signals.signals_to_ratings(users, items, kinds, values, ages, **kwargs)
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
    kinds = rng.choice(sorted(ml_signals.IMPLICIT_WEIGHTS), size=n)
    out = ml_signals.signals_to_ratings(
        rng.integers(0, 20, n),
        rng.integers(0, 30, n),
        kinds,
        np.where(kinds == "rating", rng.integers(1, 6, n), np.nan),
        rng.uniform(0, 400, n),
    )
    pairs = list(zip(out.users.tolist(), out.items.tolist(), strict=True))
    assert pairs == sorted(set(pairs))
    assert out.ratings.min() >= 1.0 and out.ratings.max() <= 5.0
    evaluation.build_trainset(*out)  # accepted as-is: no duplicate pairs


def test_signals_to_ratings_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="Unknown signal"):
        ml_signals.signals_to_ratings(["a"], ["x"], ["wishlist"], [np.nan], [0.0])
    with pytest.raises(ValueError, match="finite"):
        ml_signals.signals_to_ratings(["a"], ["x"], ["rating"], [np.nan], [0.0])


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
    ours = evaluation.cross_validate(
        lambda ts: evaluation.fit_svd(ts, n_factors=5, n_epochs=5), *data, folds=5, random_state=0
    )
    assert ours["rmse"] == pytest.approx(np.mean(theirs["test_rmse"]), abs=1e-12)
    assert ours["mae"] == pytest.approx(np.mean(theirs["test_mae"]), abs=1e-12)


def test_data_fingerprint_is_stable_order_independent_and_sensitive(data) -> None:
    first = persist.data_fingerprint(*data)
    perm = np.random.default_rng(9).permutation(len(data.users))
    assert persist.data_fingerprint(data.users[perm], data.items[perm], data.ratings[perm]) == first
    assert len(first) == 64 and first == persist.data_fingerprint(*data)
    changed = data.ratings.copy()
    changed[0] = 6.0 - changed[0] if changed[0] != 3.0 else 4.0
    assert persist.data_fingerprint(data.users, data.items, changed) != first
    assert persist.data_fingerprint(data.users[1:], data.items[1:], data.ratings[1:]) != first
    # Integer ids (the database's) hash as int64 whatever their dtype; other ids as str.
    small = (np.array([1], dtype=np.int32), np.array([2], dtype=np.int16), [3.0])
    assert persist.data_fingerprint([1], [2], [3]) == persist.data_fingerprint(*small)
    assert persist.data_fingerprint(["1"], ["2"], [3]) == persist.data_fingerprint(
        np.array(["1"]), ["2"], [3.0]
    )
    assert persist.data_fingerprint([1], [2], [3]) != persist.data_fingerprint([1], [2], [4])


# --------------------------------------------------------------------------- EASE (implicit)


def _two_tastes(seed: int = 0) -> np.ndarray:
    """0/1 interactions: users 0-9 like items 0-5, users 10-19 like items 6-11 (with gaps)."""
    rng = np.random.default_rng(seed)
    x = np.zeros((20, 12), dtype=np.float32)
    x[:10, :6] = rng.random((10, 6)) < 0.7
    x[10:, 6:] = rng.random((10, 6)) < 0.7
    return x


# --------------------------------------------------------------------------- fast paths


def test_dense_codes_equal_np_unique_for_ids_and_anything_else() -> None:
    rng = np.random.default_rng(7)
    for values in (
        rng.integers(0, 50, 300),  # small id range: presence table
        rng.integers(0, 2**40, 300),  # sparse ids: sorted
        np.array(["b", "a", "c", "a"]),
        rng.integers(-5, 5, 40),  # negatives: sorted
    ):
        distinct, codes = ml_signals.dense_codes(values)
        want_distinct, want_codes = np.unique(values, return_inverse=True)
        assert distinct.tolist() == want_distinct.tolist()
        assert codes.tolist() == want_codes.reshape(-1).tolist()


def test_signals_to_ratings_takes_kind_codes_and_gives_each_rows_pair() -> None:
    rng = np.random.default_rng(8)
    n = 3000
    names = sorted(ml_signals.IMPLICIT_WEIGHTS)
    codes = rng.integers(0, len(names), n)
    kinds = np.array(names)[codes]
    users, items = rng.integers(0, 40, n), rng.integers(0, 25, n)
    values = np.where(kinds == "rating", rng.integers(1, 6, n), np.nan)
    ages = rng.integers(0, 4, n).astype(float)  # many equal ages: ties between ratings
    by_name = ml_signals.signals_to_ratings(users, items, kinds, values, ages)
    by_code, pair_of_row = ml_signals.signals_to_ratings_indexed(
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
        ml_signals.signals_to_ratings([1], [2], [len(names)], [1.0], [0.0], kind_names=names)


def test_category_interests_by_name_or_by_code_agree_and_break_ties_alphabetically() -> None:
    users = np.array([1, 1, 1, 1, 2, 2, 2])
    names = np.array(["Shoes", "Bags", "", "Hats", "Bags", "Shoes", "Hats"])
    ratings = np.array([5.0, 5.0, 5.0, 4.0, 2.0, 4.0, 4.0])
    by_name = profile.category_interests(users, names, ratings, top=2)
    table, codes = np.array(["Shoes", "", "Hats", "Bags"]), np.array([0, 3, 1, 2, 3, 0, 2])
    by_code = profile.category_interests(users, codes, ratings, top=2, category_names=table)
    assert by_name == by_code
    # user 1: Bags and Shoes tie (2.0 each), Hats 1.0, "" is no category
    assert by_name[1] == [("Bags", 0.4), ("Shoes", 0.4)]
    assert by_name[2] == [("Hats", 0.5), ("Shoes", 0.5)]  # Bags is below neutral


def test_best_hours_counts_each_users_events() -> None:
    users = np.array([7, 7, 7, 7, 7, 7, 9, 9])
    hours = np.array([19, 19, 19, 8, 8, 43])  # 43 % 24 = 19
    got = profile.best_hours(users[:6], hours, min_events=5)
    assert got == {7: (19, 4 / 6)}
    assert profile.best_hours(users, np.array([1, 1, 1, 1, 1, 1, 2, 2]), min_events=2)[9] == (
        2,
        1.0,
    )
