"""Wald intervals: the estimate ± 1.96 standard errors from the observed information.

The MLE is approximately normal around the true θ with covariance the inverse
Fisher information; the observed information H (the Hessian of the negative
log-likelihood at θ̂) estimates it, so θ̂ ± 1.96 √(H⁻¹)ⱼⱼ (Deep Learning eq. 5.47)
covers θⱼ in about 95% of repeated samples when n is large. H is taken by
``jax.hessian`` in the coordinates the fit ran in (centred and scaled data) and
carried to the user's units in float64 (:func:`scaled_information`), so that data in
units of 1e15 or 1e-15 get the same standard errors as OLS. For
the regression models the sandwich H⁻¹ (Σᵢ gᵢgᵢᵀ) H⁻¹ (gᵢ the score of row i)
gives the robust variant, right even when the noise model is not. The draws of the
returned DataTree are N(θ̂, H⁻¹): the approximate sampling distribution of θ̂
centred at the estimate, not a posterior.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jax.flatten_util import ravel_pytree

from freqbayes.inference.optim import ConvergenceError
from freqbayes.inference.precision import jit
from freqbayes.inference.probabilistic import frequentist as F
from freqbayes.inference.probabilistic.method import Draws, Method, as_chains, positive_int
from freqbayes.inference.probabilistic.optimize import OPTIM_CONSTRAINTS, optimum
from freqbayes.inference.probabilistic.problem import Problem, Target, float_dtype


@functools.partial(jit, static_argnames=("target", "include_prior"))
def scaled_information(
    target: Target,
    kwargs: Mapping[str, Any],
    s: Any,
    u_hat: Mapping[str, Any],
    include_prior: bool,
) -> tuple[jnp.ndarray, jnp.ndarray, jnp.ndarray, jnp.ndarray]:
    """θ̂ flattened, J = ∂θ/∂u, H̃ = Jᵀ H J and the scores S̃ = S J, in the fitting coordinates.

    u are the coordinates every method fits in (centred and scaled data, log σ;
    :mod:`~freqbayes.inference.probabilistic.problem`), where the information is of
    order n whatever the data's units; in the user's units its entries can span 40
    orders of magnitude (y ~ 1e15, x ~ 1e-15), beyond what an eigenvalue or a
    Cholesky factor resolves. H̃ is the Hessian in u of
    −log p(y | θ(u)) [− log p(θ(u))] − gᵀθ(u), g = ∇θ(−log p) at θ̂ held fixed: the
    second term removes Σₖ gₖ ∇²θₖ, so H̃ = Jᵀ H J exactly, also where θ(u) is not
    affine (σ = s_y e^u). The rows of S̃ are ∇u log p(yᵢ | θ(u)).
    """
    u_flat, unravel_u = ravel_pytree(dict(u_hat))

    def theta(v: jnp.ndarray) -> jnp.ndarray:
        return ravel_pytree(target.constrain(kwargs, s, unravel_u(v)))[0]

    theta_hat = theta(u_flat)
    unravel_theta = ravel_pytree(target.constrain(kwargs, s, unravel_u(u_flat)))[1]

    def negative(t: jnp.ndarray) -> jnp.ndarray:
        return -target.log_density_at(kwargs, unravel_theta(t), include_prior)

    g = jax.lax.stop_gradient(jax.grad(negative)(theta_hat))
    H = jax.hessian(lambda v: negative(theta(v)) - g @ theta(v))(u_flat)
    J = jax.jacfwd(theta)(u_flat)
    scores = jax.jacrev(lambda v: target.pointwise_log_likelihood(kwargs, unravel_theta(theta(v))))(
        u_flat
    )
    return theta_hat, J, 0.5 * (H + H.T), scores.reshape(-1, u_flat.shape[0])


def wald_covariances(
    problem: Problem,
    params: Mapping[str, Any],
    estimator: str = "mle",
    u_hat: Mapping[str, Any] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """θ̂ flattened, H⁻¹, the sandwich covariance and the influence rows (n × d), float64.

    H⁻¹ = J H̃⁻¹ Jᵀ and the sandwich J H̃⁻¹ (Σᵢ s̃ᵢs̃ᵢᵀ) H̃⁻¹ Jᵀ from
    :func:`scaled_information` at ``u_hat`` (the fitting coordinates of ``params``),
    multiplied out in float64 (the variance of a slope in units of 1e20 overflows
    float32). The influence rows gᵢᵀH⁻¹ = s̃ᵢᵀ H̃⁻¹ Jᵀ (gᵢ the score of row i in the
    user's units) give the bootstrap's acceleration. H̃ is checked positive
    definite. Without ``u_hat``, or for parameters whose constrained size differs
    from the unconstrained one (a simplex), H is taken in the user's units.

    Raises
    ------
    ConvergenceError
        If the observed information is not positive definite (θ̂ is not a strict
        maximum, so there is no Wald interval).
    """
    include_prior = F.check_estimator(estimator) == "posterior"
    args = (problem.target, problem.kwargs)
    J = None
    if u_hat is not None:
        flat, J, H, scores = scaled_information(*args, problem.scaling, dict(u_hat), include_prior)
        if J.shape[0] != J.shape[1]:
            J = None
    if J is None:
        flat, H, scores = F.information(*args, dict(params), include_prior)
    H = np.asarray(H, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    smallest = float(np.linalg.eigvalsh(H)[0]) if np.isfinite(H).all() else np.nan
    cov = robust = influence = np.full((0, 0), np.nan)
    if np.isfinite(smallest) and smallest > 0:
        L_inv = np.linalg.inv(np.linalg.cholesky(H))
        Jm = np.eye(H.shape[0]) if J is None else np.asarray(J, dtype=np.float64)
        A = Jm @ (L_inv.T @ L_inv)  # J H̃⁻¹ (H⁻¹ itself without J)
        cov = A @ Jm.T
        influence = scores[: problem.n] @ A.T  # padded rows (scores 0) left out
        robust = influence.T @ influence
    if not (np.isfinite(smallest) and smallest > 0 and np.isfinite(cov).all()):
        raise ConvergenceError(
            f"{problem.model.name}: Wald: the observed information at the {estimator.upper()} "
            f"is not positive definite (smallest eigenvalue {smallest:.3g}), so there are "
            "no standard errors"
        )
    return np.asarray(flat, dtype=np.float64), cov, robust, influence


class WaldSettings(NamedTuple):
    """Wald's settings: the estimator, the draws' shape and the estimate's optimiser."""

    estimator: str = "mle"
    num_chains: int = 4
    num_samples: int = 1000
    max_iter: int = 1000
    allow_unconverged: bool = False


def run_wald(problem: Problem, key: jax.Array, settings: WaldSettings) -> Draws:
    """The kernel: θ̂, H⁻¹ (and the sandwich), draws from N(θ̂, H⁻¹) and the intervals."""
    estimator = settings.estimator
    u_hat, params, _, record = optimum(problem, F.check_estimator(estimator), settings)
    flat, cov, robust, _ = wald_covariances(problem, params, estimator, u_hat)
    unravel = F.unravel_like(params)
    L = np.linalg.cholesky(cov)
    chains, num = settings.num_chains, settings.num_samples
    eps = np.asarray(jax.random.normal(key, (chains * num, flat.size)))
    draws = jax.vmap(unravel)(jnp.asarray(flat + eps @ L.T, dtype=float_dtype()))
    intervals = {"wald": F.wald_bounds(flat, cov, unravel)}
    about = {"wald": "θ̂ ± 1.96 √diag(H⁻¹), H the observed information"}
    se = {"wald": F.std_errors(cov, unravel)}
    if problem.model.uses_X:
        intervals["sandwich"] = F.wald_bounds(flat, robust, unravel)
        about["sandwich"] = "θ̂ ± 1.96 √diag(H⁻¹ Σᵢ gᵢgᵢᵀ H⁻¹) (robust, HC0)"
        se["sandwich"] = F.std_errors(robust, unravel)
    estimate = {k: np.asarray(v) for k, v in params.items()}
    groups = F.interval_groups(problem, estimate, intervals, about=about, std_errors=se)
    return Draws(
        as_chains(draws, chains, num),
        record,
        groups=groups,
        note=F.sampling_note(estimator, "Wald: N(θ̂, H⁻¹)"),
    )


def wald(model: Any, data: Any, **settings: Any) -> xr.DataTree:
    """Wald 95% intervals (model-based and, with features, sandwich) around the MLE or MAP.

    Parameters
    ----------
    model, data, seed, priors, pointwise
        As for :func:`~freqbayes.inference.nuts`.
    estimator : {"mle", "map"}
        The estimate whose sampling distribution is approximated (for the MAP the
        prior's curvature is part of H).
    num_chains, num_samples : int
        Shape (chain, draw) of the draws from N(θ̂, H⁻¹).
    max_iter, allow_unconverged
        As for :func:`~freqbayes.inference.mle`.

    Returns
    -------
    DataTree
        Draws from N(θ̂, H⁻¹) as ``posterior`` (a sampling distribution, said so in
        the attrs), θ̂ as ``estimate``, and ``confidence_interval`` with the
        ``wald`` interval (and ``sandwich`` for models with features).

    Raises
    ------
    EstimateError
        If the estimate does not exist on these data (e.g. separation).
    ConvergenceError
        If the optimiser did not converge or H is not positive definite.
    """
    return WALD.fit(model, data, **settings)


def check_estimator(name: str, value: Any) -> None:
    """The declared check of a frequentist method's ``estimator`` ("mle" or "map")."""
    F.check_estimator(value)


def estimate_uses_prior(settings: Any) -> bool:
    """A frequentist fit uses the prior only when it estimates the MAP."""
    return settings.estimator == "map"


WALD = Method(
    "wald",
    run_wald,
    WaldSettings,
    about="Wald 95% intervals: MLE ± 1.96 se from the observed information (and sandwich)",
    constraints={
        "estimator": check_estimator,
        "num_chains": positive_int,
        "num_samples": positive_int,
        **OPTIM_CONSTRAINTS,
    },
    quick={"num_chains": 2, "num_samples": 200},
    check=None,
    uses_prior=estimate_uses_prior,
    independent=True,
)
