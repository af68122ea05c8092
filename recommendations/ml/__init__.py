"""Pure recommendation core: signals, the two models, ranking, explanations, profiles.

No Django and no ORM: plain numpy / scipy.sparse / implicit in and out, so every function
here can be tested and benchmarked on its own. Nothing in this package ever builds a dense
users x items array: user data stays in CSR matrices and results are computed in chunks of
users with bounded memory.

Modules: :mod:`.signals` (what a signal means to the model: kinds to 1-5 values, values to
sparse matrices), :mod:`.ease` and :mod:`.als` (the two models: EASE for catalogues up to
``rank.EASE_MAX_ITEMS`` items, ALS above), :mod:`.rank` (choice by catalogue size, chunked
top-N with explanations, fold-in), :mod:`.explain`, :mod:`.crossbrand` (another brand's
signals at category level), :mod:`.tune` with :mod:`.evaluate` (per-brand regularisation
on a validation cut of the training period), :mod:`.profile` (interests, best hours) and
:mod:`.persist` (data fingerprint, model arrays). Research-only evaluation (Surprise SVD,
more splits, bootstrap intervals) lives with the benchmarks, in
``tests/benchmarks/evaluation.py``.
"""
