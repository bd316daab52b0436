"""The computations behind the contrasts of §5.5–5.11, one module per section of the chapter.

Each function returns plain numbers (NamedTuples of numpy arrays, pandas tables,
DataTrees) that :mod:`freqbayes.figures` draws, :mod:`freqbayes.showcase` puts in
the report, and the notebooks call. The fits go through :mod:`freqbayes.inference`;
the exact references come from :mod:`freqbayes.models`; the data generators are in
:mod:`freqbayes.models.data`. Same seed, same numbers. Every name is importable from here.

=====================  ==================================================
module                 what it computes
=====================  ==================================================
``gaussian``           the posterior concentrating on the MLE; the (n − 1)/n bias
``coverage``           coverage of confidence and credible intervals
``ridge``              MAP = weight decay: the ridge path and the MAP path
``regression``         OLS against posterior bands; the gravitation feature map, its misses
``logistic``           separation: gradient descent without and with weight decay
``svm``                the kernel trick and a feature map
``gp``                 the RBF SVM beside the GP classifier (Laplace, NUTS)
``kmeans``             Lloyd step by step; initialisation over many restarts
``mixture``            k-means beside the Gaussian mixture's posterior; k by LOO
``sgd``                minibatch SGD curves; SGLD against NUTS
``curse``              distance concentration and k-NN accuracy against d
``calibration``        simulation-based calibration of every method
``principles``         the MLE as least KL divergence / MSE; sequential updating
``pooling``            no, complete and partial pooling of small groups; REML's BLUPs
``exercises``          checkers of the notebooks' write-it-yourself exercises
=====================  ==================================================
"""

from __future__ import annotations

from freqbayes.lessons.calibration import calibration
from freqbayes.lessons.coverage import (
    COVERAGE_PRIORS,
    TRUE_NIG,
    TwoGuarantees,
    frequentist_coverage,
    interval_coverage,
    two_guarantees,
)
from freqbayes.lessons.curse import (
    DIMENSIONS,
    CellsAndVote,
    cells_and_vote,
    curse_of_dimensionality,
    horseshoe_twin,
    neighbour_distances,
)
from freqbayes.lessons.gaussian import (
    WEAK_NIG,
    Bias,
    Concentration,
    gaussian_concentration,
    variance_bias,
)
from freqbayes.lessons.gp import (
    GPTwin,
    evidence_scale,
    posterior_probability,
    rkhs_objectives,
    svm_gp_twin,
)
from freqbayes.lessons.kmeans import (
    SEEDINGS,
    LloydFrames,
    initialisation_inertia,
    initialisation_summary,
    lloyd_frames,
    seeding_inertia,
    stuck_seed,
)
from freqbayes.lessons.logistic import (
    CANCER_FEATURES,
    Divergence,
    WhySigmoid,
    mle_divergence,
    why_sigmoid,
)
from freqbayes.lessons.mixture import MixtureTwin, membership, mixture_points, mixture_twin
from freqbayes.lessons.pooling import Pooling, Reml, partial_pooling, radon_like, reml_intercepts
from freqbayes.lessons.principles import (
    Divergences,
    Updating,
    mle_as_divergence,
    sequential_updating,
)
from freqbayes.lessons.regression import (
    GRAVITATION_PRIORS,
    Bands,
    Misses,
    interval_misses,
    misses_verdict,
    regression_bands,
)
from freqbayes.lessons.ridge import RidgePath, map_ridge_path
from freqbayes.lessons.sgd import (
    SGDCurves,
    SGDPaths,
    sgd_curves,
    sgd_paths,
    sgld_vs_nuts,
    step_cost,
)
from freqbayes.lessons.svm import (
    BoundaryBands,
    KernelTrick,
    boundary_bands,
    circles_and_moons,
    kernel_cost,
    kernel_cost_in_m,
    kernel_trick,
    overlapping_data,
    polynomial_feature_map,
    radial_feature_map,
)
from freqbayes.models.data import (
    G_NEWTON,
    blobs,
    gravitation,
    logistic_problem,
    select_features,
    separable_data,
)
from freqbayes.summaries import summary_table

__all__ = [
    "CANCER_FEATURES",
    "COVERAGE_PRIORS",
    "DIMENSIONS",
    "GRAVITATION_PRIORS",
    "G_NEWTON",
    "SEEDINGS",
    "TRUE_NIG",
    "WEAK_NIG",
    "Bands",
    "Bias",
    "BoundaryBands",
    "CellsAndVote",
    "Concentration",
    "Divergence",
    "Divergences",
    "GPTwin",
    "KernelTrick",
    "LloydFrames",
    "Misses",
    "MixtureTwin",
    "Pooling",
    "Reml",
    "RidgePath",
    "SGDCurves",
    "SGDPaths",
    "TwoGuarantees",
    "Updating",
    "WhySigmoid",
    "blobs",
    "boundary_bands",
    "calibration",
    "cells_and_vote",
    "circles_and_moons",
    "curse_of_dimensionality",
    "evidence_scale",
    "frequentist_coverage",
    "gaussian_concentration",
    "gravitation",
    "horseshoe_twin",
    "initialisation_inertia",
    "initialisation_summary",
    "interval_coverage",
    "interval_misses",
    "kernel_cost",
    "kernel_cost_in_m",
    "kernel_trick",
    "lloyd_frames",
    "logistic_problem",
    "map_ridge_path",
    "membership",
    "misses_verdict",
    "mixture_points",
    "mixture_twin",
    "mle_as_divergence",
    "mle_divergence",
    "neighbour_distances",
    "overlapping_data",
    "partial_pooling",
    "polynomial_feature_map",
    "posterior_probability",
    "radial_feature_map",
    "radon_like",
    "regression_bands",
    "reml_intercepts",
    "rkhs_objectives",
    "seeding_inertia",
    "select_features",
    "separable_data",
    "sequential_updating",
    "sgd_curves",
    "sgd_paths",
    "sgld_vs_nuts",
    "step_cost",
    "stuck_seed",
    "summary_table",
    "svm_gp_twin",
    "two_guarantees",
    "variance_bias",
    "why_sigmoid",
]
