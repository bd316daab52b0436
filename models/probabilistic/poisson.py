"""Poisson regression y_i ~ Poisson(exp(b + θᵀx_i)): counts on a log link.

The MLE solves the GLM score equations Σ_i (y_i − μ_i) x_i = 0 (the
conditional MLE of §5.5.1 for counts); it does not exist when the counts are all
0 or when the rows with y = 0 are separated from the others
(:func:`freqbayes.models.probabilistic.glm.check`). Default priors follow the
features' units and centre the intercept at log ȳ (:mod:`~freqbayes.models.probabilistic.glm`).
"""

from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist

from freqbayes.models.checks import check_counts
from freqbayes.models.dataset import Dataset
from freqbayes.models.probabilistic import glm, groups
from freqbayes.models.probabilistic import priors as P
from freqbayes.models.probabilistic.linear import linear_predictor
from freqbayes.models.probabilistic.scaling import Roles

OBSERVED = "y"

#: Weights and intercept on the log scale; counts on a log link have no units, no σ.
ROLES = Roles(y=OBSERVED, noise=None, y_has_units=False)


def program(
    X: jnp.ndarray,
    y: jnp.ndarray | None = None,
    *,
    beta_prior: P.LocationPrior,
    intercept_prior: P.LocationPrior | None,
    group_sd_prior: P.HalfNormal | P.HalfCauchy | None = None,
    group_index: jnp.ndarray | None = None,
    group_design: jnp.ndarray | None = None,
    group_size: jnp.ndarray | None = None,
    group_new: jnp.ndarray | None = None,
) -> None:
    """NumPyro program y_i ~ Poisson(exp(η_i)), η = b + Xθ, with priors as arguments.

    Parameters
    ----------
    X : array (n, d)
        Features.
    y : array (n,) of counts, optional
        Counts; ``None`` to simulate.
    beta_prior : Normal or Flat
        Prior on each weight (log rate ratio per unit of the feature).
    intercept_prior : Normal, Flat or None
        Prior on the intercept (log rate at x = 0); ``None`` removes it.
    group_sd_prior, group_index, group_design, group_size, group_new : optional
        Group-level terms of a formula, ``(1 | g)`` or ``(x | g)``, on the link scale,
        and the prior of their sds (:mod:`freqbayes.models.probabilistic.groups`).
    """
    eta = linear_predictor(X, beta_prior, intercept_prior)
    eta = eta + groups.effects(group_sd_prior, group_index, group_design, group_size, group_new)
    with numpyro.plate("obs", X.shape[0]):
        numpyro.sample(OBSERVED, dist.Poisson(jnp.exp(eta)), obs=y)


def default_data() -> Dataset:
    """200 simulated counts, log rate 1 + 0.4 z_dose − 0.3 z_age (features in raw units)."""
    return glm.simulated(
        "simulated-counts", 200, 3, lambda rng, z: rng.poisson(np.exp(1.0 + z @ [0.4, -0.3]))
    )


MODEL = glm.GLM(
    "poisson",
    program,
    OBSERVED,
    outcome=check_counts,
    prior_types={
        "beta_prior": (P.Normal, P.Flat),
        "intercept_prior": (P.Normal, P.Flat),
        "group_sd_prior": groups.SD_PRIORS,
    },
    roles=ROLES,
    check=functools.partial(glm.check, family="Poisson"),
    dims={"beta": ("feature",)},
    default_data=default_data,
    about="counts y ~ Poisson(exp(b + θᵀx)) (log link): the MLE does not exist for "
    "all-zero counts or zeros separated from the rest (detected).",
    centre=glm.log_mean,
    pads_rows=True,
)
