"""What a trained model is stored as: a fingerprint of its data, and plain arrays.

Models are saved as ``.npz`` arrays (never pickle, so loading a file cannot run code); the
fingerprint lets a stored model record exactly which data it was trained on and a retrain
be skipped when nothing changed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from . import als, rank


def data_fingerprint(users: npt.ArrayLike, items: npt.ArrayLike, ratings: npt.ArrayLike) -> str:
    """SHA-256 of the sorted (user, item, rating) triples: same data means same hash.

    This lets a stored model record exactly which data it was trained on, and lets a
    retrain be skipped when nothing changed. Integer ids (the database's) are hashed as
    sorted little-endian int64/float64 columns. Other ids are hashed as ``str``, as the
    trainset sees them, JSON-encoded so separators inside ids cannot collide.
    """
    user_arr, item_arr = np.asarray(users), np.asarray(items)
    rating_arr = np.asarray(ratings, dtype=np.float64)
    if not (len(user_arr) == len(item_arr) == len(rating_arr)):
        raise ValueError("users, items and ratings must have the same length.")
    if user_arr.dtype.kind in "iu" and item_arr.dtype.kind in "iu":
        # Integer ids (what the database gives): hash the sorted binary columns, which is
        # ~50x faster than JSON; a different prefix keeps the two encodings apart.
        columns = np.stack([user_arr.astype(np.int64), item_arr.astype(np.int64)], axis=1)
        users_, items_ = columns[:, 0], columns[:, 1]
        ascending = (users_[1:] > users_[:-1]) | (
            (users_[1:] == users_[:-1]) & (items_[1:] > items_[:-1])
        )
        if not np.all(ascending):  # already sorted by distinct (user, item): nothing to sort
            order = np.lexsort((rating_arr, items_, users_))
            columns, rating_arr = columns[order], rating_arr[order]
        digest = hashlib.sha256(b"candor-ml-fingerprint-v1-int64\n")
        digest.update(np.ascontiguousarray(columns).astype("<i8").tobytes())
        digest.update(np.ascontiguousarray(rating_arr).astype("<f8").tobytes())
        return digest.hexdigest()
    user_arr, item_arr = user_arr.astype(str), item_arr.astype(str)
    order = np.lexsort((rating_arr, item_arr, user_arr))
    texts = [user_arr[order].tolist(), item_arr[order].tolist(), rating_arr[order].tolist()]
    digest = hashlib.sha256(b"candor-ml-fingerprint-v1\n")
    digest.update(json.dumps(texts, ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()


def model_arrays(model: rank.Model) -> dict[str, np.ndarray]:
    """The arrays that describe ``model`` (what :func:`model_from_arrays` reads back)."""
    if isinstance(model, rank.EaseModel):
        return {"algorithm": np.array("ease"), "weights": model.weights, "reg": np.array(model.reg)}
    p = model.params
    return {
        "algorithm": np.array("als"),
        "item_factors": model.item_factors,
        "params": np.array([p.factors, p.reg, p.alpha, p.iterations, p.seed], dtype=np.float64),
    }


def model_from_arrays(f: Mapping[str, np.ndarray], base: als.Params = als.DEFAULT) -> rank.Model:
    """The model stored by :func:`model_arrays`; ALS parameters not stored (threads) come
    from ``base``. ALS user factors are not stored: a customer is folded in when served."""
    if str(f["algorithm"]) == "ease":
        return rank.EaseModel(f["weights"], float(f["reg"]))
    factors, reg, alpha, iterations, seed = f["params"].tolist()
    params = dataclasses.replace(
        base, factors=int(factors), reg=reg, alpha=alpha, iterations=int(iterations), seed=int(seed)
    )
    items = f["item_factors"]
    return als.Model(np.zeros((0, items.shape[1]), np.float32), items, params)
