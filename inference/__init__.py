"""How it is fitted, in two halves.

* :mod:`freqbayes.inference.probabilistic`: the NumPyro programs' fitting methods —
  MLE and MAP by optimisation, the Laplace approximation, SVI, NUTS, SGLD — and the
  simulation-based calibration of the methods; each fit is an ArviZ DataTree.
* :mod:`freqbayes.inference.learners`: the plain-JAX learners (k-means, SVMs, SGD,
  k-NN), each family's solver beside its scikit-learn-style class.
* :mod:`freqbayes.inference.optim`: numerics both use (L-BFGS, Newton polishing).

Importing this package imports nothing heavy. The probabilistic side's entry points
are available here too, loaded on first use: ``inference.fit``, ``inference.nuts``,
``inference.mle``, ``inference.map_estimate``, ``inference.laplace``,
``inference.svi``, ``inference.sgld``, ``inference.predict``, ``inference.prepare``,
``inference.METHODS``
and the errors ``EstimateError`` (``SeparationError``, ``NotIdentifiedError``,
``DegenerateError``) and ``ConvergenceError``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from freqbayes.inference.compilation import use_default_cache

use_default_cache()  # the persistent compilation cache for library users too (light: no JAX)

_P = "freqbayes.inference.probabilistic"
_LAZY = {
    "fit": _P,
    "parse_methods": _P,
    "METHODS": "freqbayes.inference.registry",
    "mle": f"{_P}.optimize",
    "map_estimate": f"{_P}.optimize",
    "point_estimate": f"{_P}.optimize",
    "laplace": f"{_P}.laplace",
    "svi": f"{_P}.svi_method",
    "nuts": f"{_P}.mcmc",
    "sgld": f"{_P}.sgld",
    "predict": f"{_P}.predict",
    "prepare": f"{_P}.problem",
    "Problem": f"{_P}.problem",
    "ConvergenceError": "freqbayes.inference.optim",
    "EstimateError": "freqbayes.models.probabilistic.existence",
    "SeparationError": "freqbayes.models.probabilistic.existence",
    "NotIdentifiedError": "freqbayes.models.probabilistic.existence",
    "DegenerateError": "freqbayes.models.probabilistic.existence",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'freqbayes.inference' has no attribute {name!r}")


__all__ = sorted(_LAZY)
