"""Signals from another brand of the group, at category level, when the customer allows it.

A brand's model knows its own items only, so another brand's signals enter through
categories: a small ridge model learns, from this brand's own customers, how a positive
signal in a category predicts each item here (``category x item`` weights ``C``). A
customer's foreign signals become a (users x categories) row ``F`` and add ``F @ C`` to their
scores; each foreign category's part ``F_uc C_cj`` is its contribution, cited like an own
signal ("because you bought X at Brand A").

Consent is applied where the rows are built (:func:`foreign_rows`): a customer who has not
allowed sharing across the group's brands gets an empty row, so nothing of theirs crosses,
whatever the caller passes. Mapping the other brand's category names onto this brand's
category codes (``-1``: no such category here) and the consent lookup are the caller's.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from scipy import sparse

from . import signals

#: Ridge penalty of the category model (categories are few: it stays tiny and cheap).
CATEGORY_REG = 10.0


class CategoryModel(NamedTuple):
    weights: np.ndarray  # (categories, items) float32


class Foreign(NamedTuple):
    """What ranking needs: the rows (aligned with the ranked users) and the model."""

    rows: sparse.csr_matrix  # (users, categories), from :func:`foreign_rows`
    model: CategoryModel


def item_categories(categories: npt.ArrayLike, n_categories: int) -> sparse.csr_matrix:
    """(items, categories) 0/1 membership from each item's category code (-1: none)."""
    codes = np.asarray(categories, dtype=np.int64)
    items = np.flatnonzero(codes >= 0)
    return signals.coo_to_csr(items, codes[items], np.ones(len(items)), (len(codes), n_categories))


def fit_category_model(
    positive: sparse.csr_matrix, membership: sparse.csr_matrix, *, reg: float = CATEGORY_REG
) -> CategoryModel:
    """Ridge regression of each user's items on their own category profile:
    ``C = (P'P + reg I)^-1 P'X`` with ``P = X M`` (this brand's signals only)."""
    x = sparse.csr_matrix(positive, dtype=np.float64)
    profile = (x @ membership).tocsc()
    gram = (profile.T @ profile).toarray() + reg * np.eye(membership.shape[1])
    weights = np.linalg.solve(gram, (profile.T @ x).toarray())
    return CategoryModel(weights.astype(np.float32))


def foreign_rows(
    user_codes: npt.ArrayLike,
    category_codes: npt.ArrayLike,
    weights: npt.ArrayLike,
    allowed: np.ndarray,
    shape: tuple[int, int],
) -> sparse.csr_matrix:
    """(users, categories) foreign evidence: the summed positive weights of each user's
    signals at the other brand per category, only for users with ``allowed[user]`` and
    categories known here (code >= 0)."""
    users = np.asarray(user_codes, dtype=np.int64)
    cats = np.asarray(category_codes, dtype=np.int64)
    values = np.asarray(weights, dtype=np.float32)
    keep = (cats >= 0) & (values > 0) & np.asarray(allowed, dtype=bool)[users]
    summed = sparse.coo_matrix((values[keep], (users[keep], cats[keep])), shape=shape)
    return sparse.csr_matrix(summed, dtype=np.float32)


def scores(rows: sparse.csr_matrix, model: CategoryModel) -> np.ndarray:
    """``F @ C`` for a chunk of users: what their foreign signals add to each item."""
    return np.asarray(sparse.csr_matrix(rows) @ model.weights, dtype=np.float32)


def explain(
    rows: sparse.csr_matrix, model: CategoryModel, picks: np.ndarray, *, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Foreign categories (rows, N, k) behind each pick and their contributions
    ``F_uc C[c, pick]`` (> 0 only, largest first; ``-1`` / ``0`` when none)."""
    dense = sparse.csr_matrix(rows).toarray()  # (users, categories): categories are few
    targets = np.maximum(picks, 0)
    values = dense[:, None, :] * model.weights.T[targets]  # (rows, N, categories)
    values[(picks < 0) | ~np.isfinite(values).all(axis=2)] = -np.inf
    order = np.argsort(-values, axis=2, kind="stable")[:, :, :k]
    best = np.take_along_axis(values, order, axis=2)
    found = best > 0
    return np.where(found, order, -1), np.where(found, best, 0.0)
