"""Robust regression: Student-t errors, y = b + θᵀx + σ ε with ε ~ t_ν, ν estimated.

Heavy tails bound the influence of an outlier (its score falls as 1/residual), so a
few wild points do not drag the fit as they drag least squares (eq. 5.80). ν → ∞ is
the Gaussian model (``linear``): on data without outliers the likelihood may keep
rising with ν and its MLE run off to infinity; the default prior ν ~ Gamma(2, 0.1)
(Juárez & Steel, 2010) keeps the MAP and the posterior finite, and ``Known(ν)``
fixes it. Default priors for θ, b and σ are those of ``linear`` (data's units).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist

from freqbayes.models.dataset import Dataset
from freqbayes.models.probabilistic import existence, glm, groups
from freqbayes.models.probabilistic import priors as P
from freqbayes.models.probabilistic.linear import ROLES, flat_columns, linear_predictor
from freqbayes.models.probabilistic.model import Model

OBSERVED = "y"

#: The default prior on ν (Juárez & Steel, 2010): mean 20, density 0 at ν = 0.
NU_PRIOR = P.Gamma(2.0, 0.1)


def program(
    X: jnp.ndarray,
    y: jnp.ndarray | None = None,
    *,
    beta_prior: P.LocationPrior,
    intercept_prior: P.LocationPrior | None,
    sigma_prior: P.ScalePrior,
    nu_prior: P.ScalePrior = NU_PRIOR,
    group_sd_prior: P.HalfNormal | P.HalfCauchy | None = None,
    group_index: jnp.ndarray | None = None,
    group_design: jnp.ndarray | None = None,
    group_size: jnp.ndarray | None = None,
    group_new: jnp.ndarray | None = None,
) -> None:
    """NumPyro program y_i ~ StudentT(ν, b + θᵀx_i, σ) with priors as arguments.

    Parameters
    ----------
    X : array (n, d)
        Features.
    y : array (n,), optional
        Targets; ``None`` to simulate.
    beta_prior, intercept_prior : Normal, ScaledNormal, Flat (or None for the intercept)
        Priors on the weights and the intercept, in the data's units.
    sigma_prior : HalfNormal, HalfCauchy, InverseGamma, Flat or Known
        Prior on the scale σ.
    nu_prior : Gamma, HalfNormal, HalfCauchy, Flat or Known
        Prior on the degrees of freedom ν.
    group_sd_prior, group_index, group_design, group_size, group_new : optional
        Group-level terms of a formula, ``(1 | g)`` or ``(x | g)``, on the link scale,
        and the prior of their sds (:mod:`freqbayes.models.probabilistic.groups`).
    """
    nu = P.noise_scale("nu", nu_prior)
    sigma = P.noise_scale("sigma", sigma_prior)
    eta = linear_predictor(X, beta_prior, intercept_prior, sigma)
    eta = eta + groups.effects(group_sd_prior, group_index, group_design, group_size, group_new)
    with numpyro.plate("obs", X.shape[0]):
        numpyro.sample(OBSERVED, dist.StudentT(nu, eta, sigma), obs=y)


def check(kind: str, args: dict[str, np.ndarray], priors: dict[str, P.Prior]) -> None:
    """The design's rank, and σ̂ = 0 for an exact fit (as for ``linear``).

    With group-level terms the MLE is refused (:func:`.groups.check_estimate`).
    """
    groups.check_estimate(kind, args)
    X = np.asarray(args["X"], dtype=float)
    existence.check_normal(
        kind,
        np.asarray(args[OBSERVED], dtype=float),
        X,
        intercept=priors["intercept_prior"] is not None,
        flat=flat_columns(X.shape[1], priors["beta_prior"], priors["intercept_prior"]),
        sigma=P.noise_kind(priors["sigma_prior"]),
    )


def default_data() -> Dataset:
    """120 simulated rows, y = 2000 + 300 z_dose − 120 z_age + 100 t₃, 6 rows shifted by +3000."""

    def draw(rng: np.random.Generator, z: np.ndarray) -> np.ndarray:
        y = 2000.0 + z @ [300.0, -120.0] + 100.0 * rng.standard_t(3.0, size=len(z))
        y[:6] += 3000.0
        return y

    return glm.simulated("simulated-outliers", 120, 5, draw)


MODEL = Model(
    "robust",
    program,
    OBSERVED,
    prior_types={
        "group_sd_prior": groups.SD_PRIORS,
        "beta_prior": P.LOCATION_PRIORS,
        "intercept_prior": P.LOCATION_PRIORS,
        "sigma_prior": P.SCALE_PRIORS,
        "nu_prior": (P.Gamma, P.HalfNormal, P.HalfCauchy, P.Flat, P.Known),
    },
    roles=ROLES,
    check=check,
    dims={"beta": ("feature",)},
    default_data=default_data,
    about="y = b + θᵀx + σε, ε ~ Student-t(ν), ν estimated: outliers pull the fit little; "
    "ν → ∞ is the linear model.",
    pads_rows=True,
)
