"""Small synthetic shops for the pure core's tests: taste groups, so rankings are stable."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from recommendations.mlcore import signals


class Shop(NamedTuple):
    users: np.ndarray  # user code per signal
    items: np.ndarray  # item code per signal
    ratings: np.ndarray  # 1-5 value per signal
    stamps: np.ndarray
    shape: tuple[int, int]
    group_of_item: np.ndarray

    def interactions(self) -> signals.Interactions:
        return signals.interactions(self.users, self.items, self.ratings, self.shape)


def shop(
    n_users: int = 120, n_items: int = 160, groups: int = 4, per_user: int = 14, seed: int = 0
) -> Shop:
    """Each user mostly rates items of their own group 4-5 and a few others 1-3."""
    rng = np.random.default_rng(seed)
    group_of_user = rng.integers(0, groups, n_users)
    group_of_item = np.arange(n_items) % groups
    users, items, ratings = [], [], []
    for user in range(n_users):
        own = np.flatnonzero(group_of_item == group_of_user[user])
        other = np.flatnonzero(group_of_item != group_of_user[user])
        liked = rng.choice(own, per_user - 3, replace=False)
        disliked = rng.choice(other, 3, replace=False)
        users += [user] * per_user
        items += [*liked, *disliked]
        ratings += [*rng.integers(4, 6, len(liked)), *rng.integers(1, 4, 3)]
    stamps = rng.random(len(users)) * 1e6
    return Shop(
        np.array(users),
        np.array(items),
        np.array(ratings, dtype=np.float64),
        stamps,
        (n_users, n_items),
        group_of_item,
    )
