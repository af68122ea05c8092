"""Pure recommendation core: sparse signals, EASE, ALS, fold-in, explanations, evaluation.

No Django and no ORM: plain numpy / scipy.sparse / implicit in and out, so every function
here can be tested and benchmarked on its own. Nothing in this package ever builds a dense
users x items array: user data stays in CSR matrices and results are computed in chunks of
users with bounded memory.

Modules: :mod:`.signals` (what a signal means to the model), :mod:`.ease` and :mod:`.als`
(the two models), :mod:`.rank` (choice by catalogue size, chunked top-N with explanations,
fold-in), :mod:`.explain`, :mod:`.evaluate` (splits, metrics, bootstrap), :mod:`.tune`
(per-brand regularisation on a validation cut of the training period) and
:mod:`.crossbrand`.
"""
