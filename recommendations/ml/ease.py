"""EASE (Steck, "Embarrassingly Shallow Autoencoders", WWW 2019) from a sparse matrix.

Closed form: ``P = (X'X + reg I)^-1``, ``B = -P / diag(P)`` column-wise, ``diag(B) = 0``;
a user's score for item ``j`` is ``sum_i x_ui B_ij``. ``X'X`` is taken as a sparse product
(cost: the sum over users of their history length squared) and only then made dense: one
items x items float32 array, inverted in place through its Cholesky factor (LAPACK
``potrf`` + ``potri``), so the peak is ``4 * items**2`` bytes (1.6 GB at 20,000 items).
This is why a large catalogue goes to ALS instead (:mod:`.rank`).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.linalg import lapack

#: Columns processed at once when mirroring the triangle (bounds the temporary copy).
_MIRROR_BLOCK = 1024


def gram(positive: sparse.csr_matrix) -> np.ndarray:
    """``X'X`` as a dense Fortran-ordered float32 array (the input of :func:`from_gram`)."""
    x = sparse.csr_matrix(positive, dtype=np.float32)
    dense: np.ndarray = (x.T.tocsr() @ x).toarray(order="F")
    return dense


def from_gram(gram_matrix: np.ndarray, reg: float, *, overwrite: bool = False) -> np.ndarray:
    """EASE weights ``B`` (C-ordered float32) from ``X'X``; with ``overwrite`` the Gram's
    memory is reused for ``B`` (no second items x items array)."""
    if reg <= 0:
        raise ValueError("reg must be positive.")
    a = gram_matrix if overwrite else np.array(gram_matrix, dtype=np.float32, order="F")
    n_items = a.shape[0]
    if n_items == 0:
        return np.zeros((0, 0), dtype=np.float32)
    a.ravel(order="F")[:: n_items + 1] += reg
    a, info = lapack.spotrf(a, lower=0, clean=0, overwrite_a=1)
    if info == 0:
        a, info = lapack.spotri(a, lower=0, overwrite_c=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"EASE Gram matrix is not positive definite (info={info}).")
    _mirror_upper(a)
    # ``a`` is now P (symmetric), so its C-ordered transpose view is P too.
    weights: np.ndarray = a.T
    weights *= (-1.0 / np.diag(weights))[None, :]
    np.fill_diagonal(weights, 0.0)
    return weights


def _mirror_upper(a: np.ndarray) -> None:
    """Copy the upper triangle onto the lower one, in place, a block of columns at a time:
    each block only reads upper entries and only writes lower ones."""
    n = a.shape[0]
    for start in range(0, n, _MIRROR_BLOCK):
        stop = min(start + _MIRROR_BLOCK, n)
        a[stop:, start:stop] = a[start:stop, stop:].T
        block = a[start:stop, start:stop]
        block[...] = np.triu(block) + np.triu(block, 1).T


def fit(positive: sparse.csr_matrix, reg: float) -> np.ndarray:
    """EASE weights for a (users, items) matrix of positive signal weights."""
    return from_gram(gram(positive), reg, overwrite=True)


def scores(rows: sparse.csr_matrix, weights: np.ndarray) -> np.ndarray:
    """``X_rows @ B`` as a dense (len(rows), items) float32 block: only each row's own
    items are read, as an explanation cites them."""
    x = sparse.csr_matrix(rows, dtype=np.float32)
    return np.asarray(x @ weights, dtype=np.float32)
