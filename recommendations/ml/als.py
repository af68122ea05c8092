"""Implicit-feedback ALS (Hu, Koren, Volinsky 2008) through the ``implicit`` library.

The large-catalogue model: its cost grows with the number of signals times factors², not
with items², so it fits where EASE's items x items matrix does not. ``implicit`` asks for
one BLAS thread during its own multi-threaded solves (:func:`one_blas_thread`).

A user's factors are the exact least-squares answer given the item factors (``implicit``'s
``recalculate_user``: a Cholesky solve). Training recomputes every user that way after the
last iteration, so (1) an explanation's contributions add up exactly to the score ranked
on, and (2) folding a customer in later gives the very ranking training gave them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from implicit.cpu.als import AlternatingLeastSquares
from scipy import sparse
from threadpoolctl import ThreadpoolController


@dataclass(frozen=True)
class Params:
    """ALS hyper-parameters; the defaults were chosen on ML-100k validation cuts
    (``tests/benchmarks/bench_quality.py`` prints the search)."""

    factors: int = 64
    reg: float = 10.0
    alpha: float = 1.0
    iterations: int = 8
    #: Iterations of a warm start (:func:`fit` ``start``): from item factors fitted on
    #: nearly the same signals (the brand's previous model, or the tuning's fit on the
    #: validation cut), a few more steps reach where 8 from random factors do
    #: (``tests/benchmarks/bench_train_scale.py`` prints the lists' agreement).
    warm_iterations: int = 3
    seed: int = 0
    #: ``implicit``'s own threads (0: one per core). A worker trains one brand per task and
    #: shares its machine with other workers, so training asks for 1 (``services``).
    num_threads: int = 0


@dataclass(frozen=True, eq=False)
class Model:
    """Plain arrays (storable as ``.npz``) plus the parameters that scoring needs.
    Compared and hashed by identity, so per-model work can be cached (:func:`fold_in`)."""

    user_factors: np.ndarray
    item_factors: np.ndarray
    params: Params


DEFAULT = Params()


_controller: ThreadpoolController | None = None


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS single-threaded, as ``implicit`` asks (its own threads do the parallel work);
    the controller (a scan of the loaded libraries) is made once."""
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    with _controller.limit(limits=1, user_api="blas"):
        yield


@functools.lru_cache(maxsize=4)
def _fixed_items(model: Model) -> AlternatingLeastSquares:
    """A solver holding ``model``'s item factors (and, once asked, their ``Y'Y``)."""
    return _solver(model.params, model.item_factors)


def _solver(params: Params, item_factors: np.ndarray | None = None) -> AlternatingLeastSquares:
    with one_blas_thread():
        solver = AlternatingLeastSquares(
            factors=params.factors,
            regularization=params.reg,
            alpha=params.alpha,
            iterations=params.iterations,
            random_state=params.seed,
            num_threads=params.num_threads,
        )
    if item_factors is not None:
        solver.item_factors = item_factors
    return solver


def fit(
    positive: sparse.csr_matrix,
    params: Params = DEFAULT,
    start: np.ndarray | None = None,
) -> Model:
    """Fit on a (users, items) matrix of positive signal weights (confidence = alpha * w):
    :func:`fit_items`, then every user's exact factors given them."""
    x = sparse.csr_matrix(positive, dtype=np.float32)
    items = fit_items(x, params, start)
    return Model(_solve_users(_solver(params, items), x), items, params)


def fit_items(
    positive: sparse.csr_matrix,
    params: Params = DEFAULT,
    start: np.ndarray | None = None,
) -> np.ndarray:
    """The item factors of a fit (users' factors can be solved from them when needed, as
    :func:`fold_in` does: tuning ranks only its validation users).

    ``start``: item factors to start from instead of random ones (aligned with the
    matrix's columns, see :func:`aligned`): ``params.warm_iterations`` steps, each solving
    the users from the items first, as every iteration does."""
    x = sparse.csr_matrix(positive, dtype=np.float32)
    solver = _solver(params)
    if start is not None:
        # A copy: implicit updates its factors in place, the caller's start stays as given.
        solver.item_factors = np.array(start, dtype=np.float32, order="C", copy=True)
        solver.iterations = params.warm_iterations
    with one_blas_thread():
        solver.fit(x, show_progress=False)
    return np.ascontiguousarray(solver.item_factors, dtype=np.float32)


def aligned(old_ids: np.ndarray, old: np.ndarray, new_ids: np.ndarray, seed: int = 0):
    """Factors of ``new_ids`` taken from ``old`` (rows of ``old_ids``), and the share found;
    ids not found get small random factors, as ``implicit`` starts every one."""
    out = np.random.default_rng(seed).random((len(new_ids), old.shape[1]), dtype=np.float32)
    out *= 0.01
    if len(old_ids) == 0 or len(new_ids) == 0:
        return out, 0.0
    order = np.argsort(old_ids, kind="stable")
    at = np.minimum(np.searchsorted(old_ids[order], new_ids), len(old_ids) - 1)
    hit = old_ids[order[at]] == new_ids
    out[hit] = old[order[at[hit]]]
    return out, float(hit.mean())


def fold_in(model: Model, rows: sparse.csr_matrix) -> np.ndarray:
    """Exact factors of each row's user given the item factors (one solve per user, item
    factors unchanged): a customer's new or withdrawn signals count at once."""
    return _solve_users(_fixed_items(model), sparse.csr_matrix(rows, dtype=np.float32))


def _solve_users(solver: AlternatingLeastSquares, x: sparse.csr_matrix) -> np.ndarray:
    if x.shape[0] == 0:
        return np.zeros((0, solver.factors), dtype=np.float32)
    with one_blas_thread():
        factors = solver.recalculate_user(np.arange(x.shape[0]), x)
    return np.ascontiguousarray(factors, dtype=np.float32)


def scores(user_factors: np.ndarray, item_factors: np.ndarray) -> np.ndarray:
    """Dense (users, items) float32 block of dot products (call it on a chunk of users)."""
    return np.asarray(user_factors @ item_factors.T, dtype=np.float32)
