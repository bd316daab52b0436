"""Negative-binomial (NB2) regression: over-dispersed counts on a log link.

y_i ~ NB(μ_i, α) with μ_i = exp(b + θᵀx_i) and Var y_i = μ_i + α μ_i² (Cameron &
Trivedi's NB2; statsmodels' ``NegativeBinomial(alpha)``): a Poisson whose rate is
multiplied by a Gamma variable of mean 1 and variance α. α → 0 is the Poisson; α is
estimated (prior ``alpha_prior``; ``Known(α)`` fixes it). When the counts are not
over-dispersed the likelihood rises towards α = 0 and the MLE of α sits on that
boundary, where an optimiser on log α would run off without an error: :func:`check`
refuses it up front by the sign of the score of α at 0,
∂ℓ/∂α|₀ = ½ Σ_i [(y_i − μ̂_i)² − y_i] at the Poisson MLE μ̂ (Cameron & Trivedi's
over-dispersion statistic): ≤ 0 means α̂ = 0, a Poisson.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist

from freqbayes.models.checks import check_counts
from freqbayes.models.dataset import Dataset
from freqbayes.models.probabilistic import existence, glm, groups
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
    group_sd_prior: P.HalfNormal | P.HalfCauchy | None = None,
    group_index: jnp.ndarray | None = None,
    group_design: jnp.ndarray | None = None,
    group_size: jnp.ndarray | None = None,
    group_new: jnp.ndarray | None = None,
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
    group_sd_prior, group_index, group_design, group_size, group_new : optional
        Group-level terms of a formula, ``(1 | g)`` or ``(x | g)``, on the link scale,
        and the prior of their sds (:mod:`freqbayes.models.probabilistic.groups`).
    """
    alpha = P.noise_scale("alpha", alpha_prior)
    eta = linear_predictor(X, beta_prior, intercept_prior)
    eta = eta + groups.effects(group_sd_prior, group_index, group_design, group_size, group_new)
    with numpyro.plate("obs", X.shape[0]):
        numpyro.sample(OBSERVED, dist.NegativeBinomial2(jnp.exp(eta), 1.0 / alpha), obs=y)


def default_data() -> Dataset:
    """200 simulated over-dispersed counts: log mean 1.5 + 0.4 z_dose − 0.3 z_age, α = 0.5."""

    def draw(rng: np.random.Generator, z: np.ndarray) -> np.ndarray:
        mu = np.exp(1.5 + z @ [0.4, -0.3])
        return rng.poisson(mu * rng.gamma(1 / 0.5, 0.5, size=len(mu)))

    return glm.simulated("simulated-overdispersed-counts", 200, 4, draw)


def poisson_means(X: np.ndarray, y: np.ndarray, intercept: bool) -> np.ndarray:
    """The Poisson MLE's fitted means μ̂ by Newton's method (float64, standardised design)."""
    sd = X.std(axis=0)
    A = X / np.where(sd > 0, sd, 1.0)
    if intercept:
        A = np.column_stack([np.ones(len(y)), A - A.mean(axis=0)])
    beta = np.zeros(A.shape[1])
    if intercept:
        beta[0] = np.log(max(float(np.mean(y)), 1e-300))
    for _ in range(100):
        mu = np.exp(A @ beta)
        step = np.linalg.solve(A.T @ (mu[:, None] * A), A.T @ (y - mu))
        beta += step
        if np.max(np.abs(step)) < 1e-12:
            break
    return np.exp(A @ beta)


def check(kind: str, args: dict[str, np.ndarray], priors: dict[str, P.Prior]) -> None:
    """As the Poisson's (:func:`~freqbayes.models.probabilistic.glm.check`), and α̂ = 0."""
    glm.check(kind, args, priors, family="negative-binomial")
    if kind != "likelihood" or isinstance(priors["alpha_prior"], P.Known):
        return
    y = np.asarray(args[OBSERVED], dtype=float)
    mu = poisson_means(np.asarray(args["X"], float), y, priors["intercept_prior"] is not None)
    score = 0.5 * float(np.sum((y - mu) ** 2 - y))
    if score <= 0:
        raise existence.DegenerateError(
            "the negative-binomial MLE of α is 0: the counts are not over-dispersed "
            f"(½ Σ [(y − μ̂)² − y] = {score:.4g} ≤ 0 at the Poisson fit), so the likelihood "
            "is largest at the Poisson. Use the model 'poisson', or a prior on α (MAP, posterior)."
        )


MODEL = glm.GLM(
    "negbinomial",
    program,
    OBSERVED,
    outcome=check_counts,
    prior_types={
        "group_sd_prior": groups.SD_PRIORS,
        "beta_prior": (P.Normal, P.Flat),
        "intercept_prior": (P.Normal, P.Flat),
        "alpha_prior": (P.HalfNormal, P.HalfCauchy, P.Gamma, P.Flat, P.Known),
    },
    roles=ROLES,
    check=check,
    dims={"beta": ("feature",)},
    default_data=default_data,
    about="over-dispersed counts y ~ NB2(exp(b + θᵀx), α), Var y = μ + αμ² (log link, "
    "α estimated); α → 0 is the Poisson.",
    centre=glm.log_mean,
    pads_rows=True,
)
