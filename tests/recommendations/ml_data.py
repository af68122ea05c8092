"""Small synthetic shops for the pure core's tests: taste groups, so rankings are stable."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from recommendations.ml import signals


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


def dense_ease(x: np.ndarray, reg: float) -> np.ndarray:
    """EASE as the paper writes it (Steck 2019, float64, dense): the reference the sparse
    path is checked against (what the product computed before the sparse core)."""
    gram = x.T.astype(np.float64) @ x + reg * np.eye(x.shape[1])
    p = np.linalg.inv(gram)
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    return b


def dense_top_n(scores: np.ndarray, known: np.ndarray, n: int) -> np.ndarray:
    """Best ``n`` unknown items per row (ties: lower item), by a full sort."""
    masked = np.where(known, -np.inf, scores)
    order = np.lexsort((np.broadcast_to(np.arange(scores.shape[1]), scores.shape), -masked))
    return order[:, :n]
