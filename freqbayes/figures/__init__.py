"""Figures of the contrasts: each function takes a lesson's numbers and returns a Figure.

Point estimates are drawn as points or lines, posteriors as bands or densities;
every interval says its probability and kind (ETI: equal-tailed interval). The
numbers come from :mod:`freqbayes.lessons`; nothing is computed twice here.
Importing this package changes no Matplotlib state (see :mod:`._style`).
"""

from __future__ import annotations

from freqbayes.figures._style import BAYES, FREQ, METHOD_COLOURS, TRUTH, method_colour, stamp
from freqbayes.figures.classification import (
    boundary_bands,
    divergence,
    feature_map,
    kernel_cost,
    kernel_trick,
    svm_vs_logistic,
    why_sigmoid,
)
from freqbayes.figures.estimation import (
    frequentist_coverage,
    gaussian_concentration,
    gravitation,
    interval_coverage,
    regression_bands,
    ridge_path,
    two_guarantees,
    variance_bias,
)
from freqbayes.figures.forest import forest
from freqbayes.figures.learning import (
    animation_gif,
    calibration,
    cells_and_vote,
    curse,
    initialisation,
    lloyd_animation,
    lloyd_steps,
    sgd_curves,
    sgld_vs_nuts,
    step_cost,
)
from freqbayes.figures.pooling import shrinkage
from freqbayes.figures.principles import mle_as_divergence, sequential_updating
from freqbayes.figures.twins import horseshoe_twin, mixture_twin, svm_gp_twin

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
    "svm_gp_twin",
    "svm_vs_logistic",
    "two_guarantees",
    "variance_bias",
    "why_sigmoid",
]
