"""Model files of training runs (plain ``.npz``, never pickle) and this process's cache.

A run's artefact is written before the transaction that activates it and deleted when
superseded (an erased customer's data must not survive in an old model). A worker keeps
the one model it served last in memory, keyed by the file's identity.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from django.conf import settings

from ..ml import als, persist, rank
from .crossbrand import Categories

#: ``implicit``'s threads per training task: one task per brand per worker process, so
#: parallelism comes from workers (``celery -c N``), not from one task taking every core.
ALS_THREADS = 1


def als_params(reg: float) -> als.Params:
    return dataclasses.replace(als.DEFAULT, reg=reg, num_threads=ALS_THREADS)


@dataclasses.dataclass
class Artefact:
    """What serving a customer needs from a training: the model and its item order."""

    model: rank.Model
    item_ids: np.ndarray  # product id of each model column
    user_ids: np.ndarray  # whom it was trained on (an erasure check reads it)
    categories: Categories | None = None


def save(path: str | Path, artefact: Artefact) -> None:
    arrays: dict[str, np.ndarray] = {
        "item_ids": artefact.item_ids.astype(np.int64),
        "user_ids": artefact.user_ids.astype(np.int64),
        **persist.model_arrays(artefact.model),
    }
    if artefact.categories is not None:
        arrays |= artefact.categories.arrays()
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as bool


def load(path: str | Path) -> Artefact:
    with np.load(path, allow_pickle=False) as f:
        model = persist.model_from_arrays(f, als_params(als.DEFAULT.reg))
        categories = Categories.from_arrays(f)
        return Artefact(model, f["item_ids"], f["user_ids"], categories)


_model_cache: dict[str, Artefact] = {}


def artefact_dir(brand_id: int) -> Path:
    path = Path(settings.VAR_DIR) / "models" / str(brand_id)
    path.mkdir(parents=True, exist_ok=True)
    return path


def artefact_path(brand_id: int, run_id: int) -> Path:
    return artefact_dir(brand_id) / f"{run_id}.npz"


def discard(path: str) -> None:
    if path:
        Path(path).unlink(missing_ok=True)
        for key in [k for k in _model_cache if k.split("|")[0] == path]:
            _model_cache.pop(key, None)


def superseded_discard(brand_id: int, keep: str) -> None:
    """Delete every artefact of the brand but ``keep``, and forget the models they held."""
    for file in artefact_dir(brand_id).glob("*.npz"):
        if str(file) != keep:
            discard(str(file))
    for key in list(_model_cache):  # keys: "path|mtime|size"
        if key.split("|")[0] != keep and f"/models/{brand_id}/" in key:
            _model_cache.pop(key, None)


def model_load(path: str) -> Artefact | None:
    if not path or not Path(path).is_file():
        return None
    # Keyed by the file's identity too: a path can be reused by a later run (ids restart
    # when a database is rebuilt), and a stale model would rank with someone else's items.
    stat = Path(path).stat()
    key = f"{path}|{stat.st_mtime_ns}|{stat.st_size}"
    if key not in _model_cache:
        _model_cache.clear()  # one brand's model at a time is plenty for a worker
        _model_cache[key] = load(path)
    return _model_cache[key]
