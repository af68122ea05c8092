"""The block-wise top-N is exact: it equals a full stable sort, ties to the lower item; so
is ALS's norm-bounded top-N, which scores only the items that can make a list, up to the
order of items whose float32 scores agree to rounding."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from recommendations.ml import als, crossbrand, rank, signals


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
        expected = _reference(scores, known, excluded, n)
        for row_bound in (False, True):
            got, values = rank.top_n(
                scores.copy(), sparse.csr_matrix(known), excluded, n, row_bound=row_bound
            )
            assert np.array_equal(got, expected), (trial, row_bound)
            assert np.all((values > 0) == (got >= 0))


def test_top_n_with_labels_ranks_columns_as_those_items() -> None:
    """Columns given in another order (``labels``): picks are the labels, ties go to the
    lower label, exactly as ranking the columns put back in item order."""
    rng = np.random.default_rng(1)
    for trial in range(100):
        rows, items, n = int(rng.integers(1, 20)), int(rng.integers(1, 300)), 10
        scores = np.round(rng.standard_normal((rows, items)), 1).astype(np.float32)
        known = rng.random((rows, items)) < 0.1
        labels = rng.permutation(items)
        expected = _reference(scores, known, np.zeros(items, dtype=bool), n)
        shuffled = np.empty_like(scores)
        shuffled[:, np.argsort(labels)] = scores  # column j of shuffled is item labels[j]
        got, _ = rank.top_n(
            shuffled,
            sparse.csr_matrix(known[:, labels]),
            None,
            n,
            labels=labels,
            row_bound=bool(trial % 2),
        )
        assert np.array_equal(got, expected), trial


def test_top_n_never_returns_a_known_or_non_positive_item() -> None:
    scores = np.array([[0.5, -1.0, 0.0, 2.0, 1.0]], dtype=np.float32)
    known = sparse.csr_matrix(np.array([[False, False, False, True, False]]))
    items, values = rank.top_n(scores, known, None, 4)
    assert items.tolist() == [[4, 0, -1, -1]]
    assert values.tolist() == [[1.0, 0.5, 0.0, 0.0]]


def _als(users: np.ndarray, items: np.ndarray) -> als.Model:
    return als.Model(users.astype(np.float32), items.astype(np.float32), als.DEFAULT)


def _dense(model: als.Model, known: np.ndarray, excluded: np.ndarray | None, n: int):
    scores = als.scores(model.user_factors, model.item_factors)
    return rank.top_n(scores, sparse.csr_matrix(known), excluded, n)


def _same_up_to_rounding(dense: np.ndarray, got: np.ndarray, expected: np.ndarray) -> None:
    """The picks of a norm-bounded top-N against a dense block's: the same list, except
    that two items whose scores agree to float32 rounding may come in the other order
    (scoring a few items is a different BLAS call from scoring all of them, and on some
    CPUs the same dot product then differs in its last bit: exact ties, such as two
    items with identical factors, split either way). Every position must hold an item
    scored as the dense list's item there; short lists end at the same place."""
    dense = np.asarray(dense, dtype=np.float64)
    assert np.array_equal(got == -1, expected == -1)
    rows, cols = np.nonzero(got != expected)
    assert np.allclose(
        dense[rows, got[rows, cols]], dense[rows, expected[rows, cols]], rtol=1e-6, atol=1e-7
    ), list(zip(rows.tolist(), cols.tolist(), strict=True))
    for row in got:
        picks = row[row >= 0]
        assert len(set(picks.tolist())) == len(picks)


def test_als_top_n_equals_scoring_every_item(monkeypatch) -> None:
    """Skewed item norms (as popularity makes them), users that need the first pass only,
    users whose bound reaches further, short lists, zero vectors, duplicated items (ties),
    known and excluded items: the picks are the dense block's (up to the order of items
    whose scores agree to float32 rounding), values equal."""
    monkeypatch.setattr(rank, "FIRST_PASS", 40)
    monkeypatch.setattr(rank, "FURTHER_GROUP", 3)
    monkeypatch.setattr(rank, "NARROW", 120)  # wider prefixes take the block path
    lengths: list[int] = []
    prefix = rank._prefix_top_n

    def spied(index, users, known, excluded, n, length):
        lengths.append(length)
        return prefix(index, users, known, excluded, n, length)

    monkeypatch.setattr(rank, "_prefix_top_n", spied)
    skewed = []
    rng = np.random.default_rng(2)
    for trial in range(80):
        n_users, n_items, f = int(rng.integers(1, 40)), int(rng.integers(41, 400)), 8
        items = rng.standard_normal((n_items, f)) * (1.0 / np.arange(1, n_items + 1))[
            rng.permutation(n_items), None
        ] ** float(rng.uniform(0, 1.5))
        items[rng.random(n_items) < 0.05] = 0.0  # items nobody's signal reached
        copies = rng.integers(0, n_items, 5)
        items[rng.integers(0, n_items, 5)] = items[copies]  # exact ties
        users = rng.standard_normal((n_users, f))
        users[rng.random(n_users) < 0.1] = 0.0
        if trial % 3 == 0:
            users = -np.abs(users)  # mostly negative scores: short lists
        model = _als(users, items)
        skewed.append(rank._by_norm(model).skewed)
        known = rng.random((n_users, n_items)) < 0.2
        excluded = rng.random(n_items) < 0.05 if trial % 2 else None
        n = int(rng.integers(1, 15))
        expected, expected_values = _dense(model, known, excluded, n)
        got, values = rank.als_top_n(
            model, model.user_factors, sparse.csr_matrix(known), excluded, n
        )
        dense = als.scores(model.user_factors, model.item_factors)
        _same_up_to_rounding(dense, got, expected)
        assert np.allclose(values, expected_values, rtol=1e-5, atol=1e-7), trial
    # Both kinds of catalogue, and users settled by the first pass, by a longer prefix (on
    # either top-N path) and by the whole catalogue, all came up.
    assert 0 < sum(skewed) < len(skewed)
    assert {"first", "prefix", "wide prefix"} <= {
        "first" if x == 40 else "wide prefix" if x > 120 else "prefix" for x in lengths
    }


def test_als_top_n_on_a_trained_model_scores_far_fewer_items() -> None:
    """On a real fit of power-law data the first pass settles nearly everyone: same lists,
    and fewer scoring products than users x items."""
    data = signals.interactions(*_power_law(), (600, 3000))
    model = als.fit(data.positive, als.Params(factors=16, iterations=4, reg=5.0))
    known = data.known
    expected, _ = _dense(model, known.toarray(), None, 10)
    calls: list[int] = []
    scores = als.scores

    def counted(u: np.ndarray, y: np.ndarray) -> np.ndarray:
        calls.append(u.shape[0] * y.shape[0])
        return scores(u, y)

    als.scores = counted
    try:
        got, _ = rank.als_top_n(model, model.user_factors, known, None, 10)
    finally:
        als.scores = scores
    _same_up_to_rounding(scores(model.user_factors, model.item_factors), got, expected)
    assert sum(calls) < 0.6 * 600 * 3000


def _power_law() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    p = 1.0 / np.arange(1, 3001)
    users = rng.integers(0, 600, 15_000)
    items = rng.permutation(3000)[rng.choice(3000, 15_000, p=p / p.sum())]
    return users, items, rng.integers(4, 6, 15_000).astype(np.float64)


def test_rank_mixes_foreign_rows_and_norm_bounded_rows_exactly() -> None:
    """Rows with another brand's signals add ``F @ C`` (the norm bound does not hold for
    them: they are scored on every item), the others take the bounded path; each row gets
    what scoring every item for it gives."""
    rng = np.random.default_rng(4)
    n_users, n_items, n_cats = 50, 2000, 6
    model = _als(rng.standard_normal((n_users, 8)), rng.standard_normal((n_items, 8)) * 0.1)
    positive = sparse.csr_matrix((rng.random((n_users, n_items)) < 0.01).astype(np.float32))
    foreign_rows = sparse.csr_matrix(
        np.where(rng.random((n_users, n_cats)) < 0.15, 1.0, 0.0).astype(np.float32)
    )
    weights = (rng.random((n_cats, n_items)) * 0.5).astype(np.float32)
    foreign = crossbrand.Foreign(foreign_rows, crossbrand.CategoryModel(weights))
    (got,) = rank.rank(
        model, positive, positive, user_factors=model.user_factors, foreign=foreign, k=0
    )
    dense = als.scores(model.user_factors, model.item_factors) + foreign_rows @ weights
    expected, _ = rank.top_n(np.asarray(dense, dtype=np.float32), positive, None, 10)
    assert 0 < (np.diff(foreign_rows.indptr) > 0).sum() < n_users
    _same_up_to_rounding(dense, got.items, expected)
