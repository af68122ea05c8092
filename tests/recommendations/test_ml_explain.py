"""Every personal pick cites a positive signal of the customer; neutral or negative ones
never; other brands' signals cross only when the customer allows it."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from recommendations.ml import als, crossbrand, rank, signals
from tests.recommendations.ml_data import shop

MODELS = {
    "ease": lambda positive: rank.fit(positive, algorithm="ease", ease_reg=50.0),
    "als": lambda positive: als.fit(positive, als.Params(factors=16, reg=1.0)),
}


def _ranked(model, data, **options) -> rank.Ranked:
    factors = getattr(model, "user_factors", None)
    return next(rank.rank(model, data.positive, data.known, user_factors=factors, **options))


def _neutral_heavy_shop():
    """The shop plus, for every user, 3-star ratings on their group's most popular items:
    those pairs are strongly predictive, so a model that learnt from them would cite them."""
    data = shop()
    extra_users, extra_items = [], []
    for user in range(data.shape[0]):
        group = data.group_of_item == data.group_of_item[data.items[data.users == user][0]]
        seen = set(data.items[data.users == user].tolist())
        extra = [i for i in np.flatnonzero(group) if i not in seen][:3]
        extra_users += [user] * len(extra)
        extra_items += extra
    users = np.r_[data.users, extra_users]
    items = np.r_[data.items, extra_items]
    ratings = np.r_[data.ratings, np.full(len(extra_users), 3.0)]
    return users, items, ratings, data.shape


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_personal_pick_cites_a_positive_signal_of_that_customer(name: str) -> None:
    data = shop().interactions()
    ranked = _ranked(MODELS[name](data.positive), data, k=2)
    personal = ranked.items >= 0
    assert personal.sum() > 0.9 * personal.size
    cited = ranked.cited[:, :, 0]
    assert np.all(cited[personal] >= 0)
    assert np.all(ranked.contributions[:, :, 0][personal] > 0)
    users = np.nonzero(personal)[0]
    assert np.all(data.positive[users, cited[personal]].A1 > 0)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_neutral_and_negative_signals_are_never_cited_nor_recommended(name: str) -> None:
    users, items, ratings, shape = _neutral_heavy_shop()
    data = signals.interactions(users, items, ratings, shape)
    ranked = _ranked(MODELS[name](data.positive), data, k=3)
    not_positive = {(u, i) for u, i, r in zip(users, items, ratings, strict=True) if r <= 3}
    rows, slots, places = np.nonzero(ranked.cited >= 0)
    cited_pairs = set(zip(rows.tolist(), ranked.cited[rows, slots, places].tolist(), strict=True))
    assert len(cited_pairs) > 100
    assert not cited_pairs & not_positive
    picked = {(u, int(i)) for u, row in enumerate(ranked.items) for i in row if i >= 0}
    assert not picked & not_positive


def test_a_user_with_only_neutral_signals_gets_no_personal_pick() -> None:
    data = shop()
    users, items = np.r_[data.users, 0, 0], np.r_[data.items, 1, 2]
    ratings = np.r_[np.where(data.users == 0, 3.0, data.ratings), 3.0, 2.0]
    interactions = signals.interactions(users, items, ratings, data.shape)
    model = MODELS["ease"](interactions.positive)
    one = rank.fold_in(model, interactions.positive[0], interactions.known[0])
    assert np.all(one.items == -1)


def _foreign(data, allowed: np.ndarray):
    """User 0 bought three things in category 1 at another brand (the seeded signals)."""
    membership = crossbrand.item_categories(data.group_of_item, 4)
    model = crossbrand.fit_category_model(data.interactions().positive, membership)
    rows = crossbrand.foreign_rows([0] * 3, [1] * 3, [1.0] * 3, allowed, (data.shape[0], 4))
    return crossbrand.Foreign(rows, model)


def test_allowed_foreign_signals_raise_their_category_and_are_cited() -> None:
    data = shop()
    first = int(np.flatnonzero(data.users == 0)[0])  # user 0 is new here: one signal
    keep = (data.users != 0) | (np.arange(len(data.users)) == first)
    own = signals.interactions(data.users[keep], data.items[keep], data.ratings[keep], data.shape)
    model = MODELS["ease"](own.positive)
    allowed = np.zeros(data.shape[0], dtype=bool)
    allowed[0] = True
    plain = rank.fold_in(model, own.positive[0], own.known[0], n=20)
    crossed = rank.fold_in(
        model, own.positive[0], own.known[0], n=20, foreign=_foreign(data, allowed)
    )
    in_category = lambda ranked: int((data.group_of_item[ranked.items[0]] == 1).sum())  # noqa: E731
    assert in_category(crossed) > in_category(plain)
    assert np.any(crossed.foreign_cited[0, :, 0] == 1)


def test_without_consent_nothing_crosses() -> None:
    data = shop()
    own = data.interactions()
    model = MODELS["ease"](own.positive)
    foreign = _foreign(data, np.zeros(data.shape[0], dtype=bool))
    assert foreign.rows.nnz == 0
    plain = _ranked(model, own)
    crossed = next(rank.rank(model, own.positive, own.known, foreign=foreign))
    assert np.array_equal(plain.items, crossed.items)
    assert np.array_equal(plain.scores, crossed.scores)
    assert np.all(crossed.foreign_cited == -1)
    assert sparse.issparse(foreign.rows)
