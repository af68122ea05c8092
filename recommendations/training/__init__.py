"""Database -> data -> ranking -> writer -> artefacts: training a brand, serving a customer.

Modules: :mod:`.extract` (a brand's allowed signals, one query per table, as
:class:`.data.TrainingData`), :mod:`.rank` (fit, tune and rank with :mod:`recommendations.ml`;
fold-in for one customer), :mod:`.explanations` (the stored explanations' JSON text),
:mod:`.crossbrand` (another brand's signals, as the customer chooses), :mod:`.writer`
(results, audit rows, cache invalidation), :mod:`.artefacts` (model files, this process's
model cache) and :mod:`.run` (one brand's retrain, end to end: one task per brand).
Nothing is imported here, so that ``selectors`` can re-export the extraction without
loading the whole pipeline.
"""
