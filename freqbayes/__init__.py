"""freqbayes: the frequentist and the Bayesian way through Deep Learning §5.5–5.11.

``freqbayes.models`` says what is assumed (NumPyro programs and closed forms),
``freqbayes.inference`` how it is fitted. Submodules load lazily, so that
``freqbayes --help`` does not import JAX.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_MODULES = {
    "models": "freqbayes.models",
    "inference": "freqbayes.inference",
    "data": "freqbayes.data",
}
# scikit-learn-style classes, under scikit-learn's own names
_CLASSES = {
    name: "freqbayes.inference.estimators"
    for name in (
        "KMeans",
        "KNeighborsClassifier",
        "KNeighborsRegressor",
        "LinearSVC",
        "SGDClassifier",
        "SGDRegressor",
        "SVC",
    )
}


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return importlib.import_module(_MODULES[name])
    if name in _CLASSES:
        return getattr(importlib.import_module(_CLASSES[name]), name)
    raise AttributeError(f"module 'freqbayes' has no attribute {name!r}")


__all__ = [*_CLASSES, "__version__", "data", "inference", "models"]
