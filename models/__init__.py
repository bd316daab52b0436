"""What is assumed, in two halves.

* :mod:`freqbayes.models.probabilistic`: NumPyro programs (prior + likelihood) with
  their priors, the roles of their parameters, the checks that an estimate exists
  and closed-form references (MLE, MAP, conjugate posteriors). Each model is a
  :class:`~freqbayes.models.probabilistic.model.Model` found through
  :data:`freqbayes.models.registry.MODELS`.
* :mod:`freqbayes.models.learners`: the objectives of the non-probabilistic learners
  (hinge, log and squared losses, k-means inertia) and the SVM's kernels.

Importing this package imports nothing heavy; the submodules load on first use
(``from freqbayes.models import priors`` works as a shortcut for
``freqbayes.models.probabilistic.priors``, and so do ``gaussian``, ``linear``,
``logistic``, ``scaling``, ``existence`` and ``Model``).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from freqbayes.inference.compilation import use_default_cache
from freqbayes.models.registry import MODELS, get_model, register_model

use_default_cache()  # the persistent compilation cache for library users too (light: no JAX)

_SHORTCUTS = {
    name: f"freqbayes.models.probabilistic.{name}"
    for name in ("priors", "scaling", "existence", "gaussian", "linear", "logistic", "model")
}


def __getattr__(name: str) -> Any:
    if name in _SHORTCUTS:
        return import_module(_SHORTCUTS[name])
    if name == "Model":
        return import_module(_SHORTCUTS["model"]).Model
    raise AttributeError(f"module 'freqbayes.models' has no attribute {name!r}")


__all__ = ["MODELS", "get_model", "register_model", *_SHORTCUTS, "Model"]
