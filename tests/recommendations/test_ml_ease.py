"""The sparse EASE path against the current dense one, chunking, and EASE fold-in."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from recommendations.ml import ease, rank, signals
from tests.recommendations.ml_data import dense_ease, dense_top_n, shop


def _all(model, data, **options):
    chunks = list(rank.rank(model, data.positive, data.known, **options))
    return np.vstack([c.items for c in chunks]), np.vstack([c.scores for c in chunks])


def test_sparse_ease_weights_equal_the_dense_fit() -> None:
    data = shop().interactions()
    dense = dense_ease(data.positive.toarray(), reg=50.0)
    assert np.allclose(ease.fit(data.positive, 50.0), dense, atol=1e-6)


def test_sparse_path_gives_the_dense_paths_top_10() -> None:
    data = shop().interactions()
    weights = dense_ease(data.positive.toarray(), reg=50.0)
    scores = data.positive.toarray() @ weights
    expected = dense_top_n(scores, data.known.toarray().astype(bool), 10)
    model = rank.fit(data.positive, algorithm="ease", ease_reg=50.0)
    items, _ = _all(model, data, k=0)
    personal = items >= 0
    assert personal.mean() > 0.9
    assert np.array_equal(items[personal], expected[personal])


def test_small_chunks_give_the_same_results_as_one_chunk() -> None:
    data = shop().interactions()
    model = rank.fit(data.positive, algorithm="ease", ease_reg=50.0)
    one, one_scores = _all(model, data, chunk=10_000)
    many, many_scores = _all(model, data, chunk=7)
    assert np.array_equal(one, many)
    assert np.array_equal(one_scores, many_scores)


def test_fold_in_gives_exactly_the_training_list() -> None:
    data = shop().interactions()
    model = rank.fit(data.positive, algorithm="ease", ease_reg=50.0)
    items, scores = _all(model, data)
    for user in (0, 17, 99):
        one = rank.fold_in(model, data.positive[user], data.known[user])
        assert np.array_equal(one.items[0], items[user])
        assert np.array_equal(one.scores[0], scores[user])


def test_fold_in_after_a_new_signal_equals_a_retrain_with_the_weights_fixed() -> None:
    data = shop()
    user, new_item = 5, int(np.flatnonzero(data.group_of_item == data.group_of_item[0])[-1])
    before = data.interactions()
    model = rank.fit(before.positive, algorithm="ease", ease_reg=50.0)
    after = signals.interactions(
        np.r_[data.users, user], np.r_[data.items, new_item], np.r_[data.ratings, 5.0], data.shape
    )
    folded = rank.fold_in(model, after.positive[user], after.known[user])
    retrained, _ = _all(model, after)
    assert new_item not in folded.items[0]
    assert np.array_equal(folded.items[0], retrained[user])
    assert not np.array_equal(folded.items[0], _all(model, before)[0][user])


def test_nothing_dense_of_users_by_items_is_needed_for_scoring() -> None:
    data = shop(n_users=300).interactions()
    model = rank.fit(data.positive, algorithm="ease", ease_reg=50.0)
    chunks = list(rank.rank(model, data.positive, data.known, chunk=64))
    assert max(len(c.rows) for c in chunks) == 64
    assert sparse.issparse(data.positive) and sparse.issparse(data.known)
