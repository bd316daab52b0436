"""Negative-binomial (NB2) regression: over-dispersed counts on a log link.

y_i ~ NB(μ_i, α) with μ_i = exp(b + θᵀx_i) and Var y_i = μ_i + α μ_i² (Cameron &
Trivedi's NB2; statsmodels' ``NegativeBinomial(alpha)``): a Poisson whose rate is
multiplied by a Gamma variable of mean 1 and variance α. α → 0 is the Poisson; α is
estimated (prior ``alpha_prior``; ``Known(α)`` fixes it). When the counts are not
over-dispersed the likelihood rises towards α = 0 and the MLE of α sits on that
boundary (a warning-free ``log α → −∞`` for the optimiser): use ``poisson`` then.
"""

from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist

from freqbayes.models.checks import check_counts
from freqbayes.models.dataset import Dataset
from freqbayes.models.probabilistic import glm
from freqbayes.models.probabilistic import priors as P
from freqbayes.models.probabilistic.linear import linear_predictor
from freqbayes.models.probabilistic.scaling import Roles

OBSERVED = "y"

#: Log-scale weights and intercept; α (dimensionless) in the noise role: HalfNormal(2.5).
ROLES = Roles(y=OBSERVED, noise="alpha", y_has_units=False)


def program(
    X: jnp.ndarray,
    y: jnp.ndarray | None = None,
    *,
    beta_prior: P.LocationPrior,
    intercept_prior: P.LocationPrior | None,
    alpha_prior: P.ScalePrior,
) -> None:
    """NumPyro program y_i ~ NB2(exp(η_i), α), η = b + Xθ, with priors as arguments.

    Parameters
    ----------
    X : array (n, d)
        Features.
    y : array (n,) of counts, optional
        Counts; ``None`` to simulate.
    beta_prior, intercept_prior : Normal, Flat (or None for the intercept)
        Priors on the log-scale weights and intercept.
    alpha_prior : HalfNormal, HalfCauchy, Gamma, Flat or Known
        Prior on the dispersion α (Var y = μ + αμ²).
    """
    alpha = P.noise_scale("alpha", alpha_prior)
    eta = linear_predictor(X, beta_prior, intercept_prior)
    with numpyro.plate("obs", X.shape[0]):
        numpyro.sample(OBSERVED, dist.NegativeBinomial2(jnp.exp(eta), 1.0 / alpha), obs=y)


def default_data() -> Dataset:
    """200 simulated over-dispersed counts: log mean 1.5 + 0.4 z_dose − 0.3 z_age, α = 0.5."""

    def draw(rng: np.random.Generator, z: np.ndarray) -> np.ndarray:
        mu = np.exp(1.5 + z @ [0.4, -0.3])
        return rng.poisson(mu * rng.gamma(1 / 0.5, 0.5, size=len(mu)))

    return glm.simulated("simulated-overdispersed-counts", 200, 4, draw)


MODEL = glm.GLM(
    "negbinomial",
    program,
    OBSERVED,
    outcome=check_counts,
    prior_types={
        "beta_prior": (P.Normal, P.Flat),
        "intercept_prior": (P.Normal, P.Flat),
        "alpha_prior": (P.HalfNormal, P.HalfCauchy, P.Gamma, P.Flat, P.Known),
    },
    roles=ROLES,
    check=functools.partial(glm.check, family="negative-binomial"),
    dims={"beta": ("feature",)},
    default_data=default_data,
    about="over-dispersed counts y ~ NB2(exp(b + θᵀx), α), Var y = μ + αμ² (log link, "
    "α estimated); α → 0 is the Poisson.",
    centre=glm.log_mean,
)
