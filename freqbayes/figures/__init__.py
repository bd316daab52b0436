"""Figures of the contrasts: each function takes a lesson's numbers and returns a Figure.

Point estimates are drawn as points or lines, posteriors as bands or densities;
every interval says its probability and kind (ETI: equal-tailed interval). The
numbers come from :mod:`freqbayes.lessons`; nothing is computed twice here.
Importing this package changes no Matplotlib state (see :mod:`._style`).
"""

from __future__ import annotations

import importlib
from typing import Any

from freqbayes.figures._style import BAYES, FREQ, METHOD_COLOURS, TRUTH, method_colour, stamp
from freqbayes.figures.forest import forest

#: The figures of the lessons, imported on first use: their modules import the lessons
#: (JAX), which the saved-fit commands, drawing with ``stamp`` and ``forest``, do without.
_LAZY = {
    "boundary_bands": "classification",
    "divergence": "classification",
    "feature_map": "classification",
    "kernel_cost": "classification",
    "kernel_trick": "classification",
    "svm_vs_logistic": "classification",
    "why_sigmoid": "classification",
    "frequentist_coverage": "estimation",
    "gaussian_concentration": "estimation",
    "gravitation": "estimation",
    "interval_coverage": "estimation",
    "regression_bands": "estimation",
    "ridge_path": "estimation",
    "two_guarantees": "estimation",
    "variance_bias": "estimation",
    "animation_gif": "learning",
    "calibration": "learning",
    "cells_and_vote": "learning",
    "curse": "learning",
    "initialisation": "learning",
    "lloyd_animation": "learning",
    "lloyd_steps": "learning",
    "sgd_curves": "learning",
    "sgld_vs_nuts": "learning",
    "step_cost": "learning",
    "shrinkage": "pooling",
    "subsampling_tradeoff": "subsampling",
    "mle_as_divergence": "principles",
    "sequential_updating": "principles",
    "horseshoe_twin": "twins",
    "mixture_twin": "twins",
    "svm_gp_twin": "twins",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BAYES",
    "FREQ",
    "METHOD_COLOURS",
    "TRUTH",
    "animation_gif",
    "boundary_bands",
    "calibration",
    "cells_and_vote",
    "curse",
    "divergence",
    "feature_map",
    "forest",
    "frequentist_coverage",
    "gaussian_concentration",
    "gravitation",
    "horseshoe_twin",
    "initialisation",
    "interval_coverage",
    "kernel_cost",
    "kernel_trick",
    "lloyd_animation",
    "lloyd_steps",
    "method_colour",
    "mixture_twin",
    "mle_as_divergence",
    "regression_bands",
    "ridge_path",
    "sequential_updating",
    "sgd_curves",
    "sgld_vs_nuts",
    "shrinkage",
    "stamp",
    "step_cost",
    "subsampling_tradeoff",
    "svm_gp_twin",
    "svm_vs_logistic",
    "two_guarantees",
    "variance_bias",
    "why_sigmoid",
]
