"""freqbayes: the frequentist and the Bayesian way through Deep Learning §5.5–5.11.

``freqbayes.models`` says what is assumed (NumPyro programs and closed forms; the
learners' objectives), ``freqbayes.inference`` how it is fitted. Everything loads
lazily: ``freqbayes --help`` imports no JAX, and ``from freqbayes import KMeans``
imports neither NumPyro nor ArviZ nor Matplotlib.

``freqbayes.summary(tree)`` is the summary of any fit, with the numbers the command
line prints (:func:`freqbayes.summaries.summary`).

Extending: :func:`register_model` and :func:`register_method` add a model or a
method that the command line, the showcase and :func:`freqbayes.inference.fit`
then find (see ``CONTRIBUTING.md``).
"""

from __future__ import annotations

import importlib
import os
from typing import Any

__version__ = "0.1.0"

# Arrow's allocator (mimalloc) returns the pages it frees to the system at once rather
# than after its default 10 ms, which it checks only on its next allocation: reading a
# 10⁶ × 100 float32 Parquet table (385 MiB), the process then held 681 MiB instead of
# 937–965 MiB, and `freqbayes run logistic --method map` peaked at 1,044–1,048 MiB
# instead of 1,222–1,361 (2026-12-06, this 2-core machine). Read when pyarrow is first
# imported, so it is set here, before; a value of the user's own is kept.
os.environ.setdefault("MIMALLOC_PURGE_DELAY", "0")

_MODULES = {
    "models": "freqbayes.models",
    "inference": "freqbayes.inference",
    "data": "freqbayes.models.data",
}
_L = "freqbayes.inference.learners"
#: scikit-learn-style classes, under scikit-learn's own names
_CLASSES = {
    "KMeans": f"{_L}.kmeans",
    "KNeighborsClassifier": f"{_L}.knn",
    "KNeighborsRegressor": f"{_L}.knn",
    "LinearSVC": f"{_L}.linear_svm",
    "SGDClassifier": f"{_L}.sgd",
    "SGDRegressor": f"{_L}.sgd",
    "SVC": f"{_L}.svm",
    "GaussianProcessClassifier": "freqbayes.inference.learners.gp",
}
#: functions: ``freqbayes.summary(tree)``, the one summary of a fit, and the registries
_FUNCTIONS = {
    "summary": "freqbayes.summaries",
    "register_model": "freqbayes.models.registry",
    "register_method": "freqbayes.inference.registry",
}


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return importlib.import_module(_MODULES[name])
    if name in _CLASSES:
        return getattr(importlib.import_module(_CLASSES[name]), name)
    if name in _FUNCTIONS:
        return getattr(importlib.import_module(_FUNCTIONS[name]), name)
    raise AttributeError(f"module 'freqbayes' has no attribute {name!r}")


__all__ = [
    *_CLASSES,
    *_FUNCTIONS,
    "__version__",
    "data",
    "inference",
    "models",
]
