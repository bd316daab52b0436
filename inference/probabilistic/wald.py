"""Wald intervals: the estimate ± 1.96 standard errors from the observed information.

The MLE is approximately normal around the true θ with covariance the inverse
Fisher information; the observed information H (the Hessian of the negative
log-likelihood at θ̂, by ``jax.hessian``, in the user's units) estimates it, so
θ̂ ± 1.96 √(H⁻¹)ⱼⱼ covers θⱼ in about 95% of repeated samples when n is large. For
the regression models the sandwich H⁻¹ (Σᵢ gᵢgᵢᵀ) H⁻¹ (gᵢ the score of row i)
gives the robust variant, right even when the noise model is not. The draws of the
returned DataTree are N(θ̂, H⁻¹): the approximate sampling distribution of θ̂
centred at the estimate, not a posterior.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from freqbayes.inference.optim import ConvergenceError, default_gtol
from freqbayes.inference.probabilistic import frequentist as F
from freqbayes.inference.probabilistic.datatree import draws_to_datatree
from freqbayes.inference.probabilistic.method import Method
from freqbayes.inference.probabilistic.optimize import optim_settings, point_estimate
from freqbayes.inference.probabilistic.problem import (
    Problem,
    check_positive_ints,
    check_seed,
    float_dtype,
    prepare,
    stopwatch,
)
from freqbayes.models.dataset import Dataset
from freqbayes.models.probabilistic.model import Model


def wald_covariances(
    problem: Problem, params: Mapping[str, Any], estimator: str = "mle"
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """θ̂ flattened, H⁻¹, the sandwich covariance and the scores (n × d) at ``params``.

    H is checked positive definite.

    Raises
    ------
    ConvergenceError
        If the observed information is not positive definite (θ̂ is not a strict
        maximum, so there is no Wald interval).
    """
    include_prior = F.check_estimator(estimator) == "posterior"
    flat, H, scores = F.information(problem.target, problem.kwargs, dict(params), include_prior)
    cov, robust = F.covariances(H, scores)
    smallest = float(jnp.linalg.eigvalsh(H)[0])
    if not (np.isfinite(smallest) and smallest > 0 and bool(jnp.all(jnp.isfinite(cov)))):
        raise ConvergenceError(
            f"{problem.model.name}: Wald: the observed information at the {estimator.upper()} "
            f"is not positive definite (smallest eigenvalue {smallest:.3g}), so there are "
            "no standard errors"
        )
    return np.asarray(flat), np.asarray(cov), np.asarray(robust), np.asarray(scores)


def wald(
    model: Model | str,
    data: Dataset,
    *,
    seed: int = 0,
    priors: Mapping[str, Any] | None = None,
    estimator: str = "mle",
    num_chains: int = 4,
    num_samples: int = 1000,
    max_iter: int = 1000,
    allow_unconverged: bool = False,
    pointwise: str | int = "auto",
    progress: bool | None = None,
) -> xr.DataTree:
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
    progress : bool, optional
        Unused; accepted for a uniform signature.

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
    seed = check_seed(seed)
    objective = F.check_estimator(estimator)
    problem = prepare(model, data, priors)
    check_positive_ints(num_chains=num_chains, num_samples=num_samples, max_iter=max_iter)
    key_draw, key_pred = jax.random.split(jax.random.key(seed))
    gtol = default_gtol(float_dtype(), problem.n)
    with stopwatch() as elapsed:
        _, params, info = point_estimate(
            problem, objective, max_iter=max_iter, allow_unconverged=allow_unconverged, gtol=gtol
        )
        flat, cov, robust, _ = wald_covariances(problem, params, estimator)
        unravel = F.unravel_like(params)
        L = np.linalg.cholesky(cov)
        eps = np.asarray(jax.random.normal(key_draw, (num_chains * num_samples, flat.size)))
        draws = jax.vmap(unravel)(jnp.asarray(flat + eps @ L.T, dtype=float_dtype()))
    intervals = {"wald": F.wald_bounds(flat, cov, unravel)}
    about = {"wald": "θ̂ ± 1.96 √diag(H⁻¹), H the observed information"}
    if problem.model.uses_X:
        intervals["sandwich"] = F.wald_bounds(flat, robust, unravel)
        about["sandwich"] = "θ̂ ± 1.96 √diag(H⁻¹ Σᵢ gᵢgᵢᵀ H⁻¹) (robust, HC0)"
    settings = {
        "estimator": estimator,
        "num_chains": num_chains,
        "num_samples": num_samples,
        **optim_settings(info, max_iter, gtol),
    }
    tree = draws_to_datatree(
        problem,
        draws,
        chains=num_chains,
        draws=num_samples,
        key=key_pred,
        method="wald",
        seed=seed,
        settings=settings,
        wall_time=elapsed[0],
        pointwise=pointwise,
    )
    estimate = {k: np.asarray(v) for k, v in params.items()}
    groups = F.interval_groups(problem, estimate, intervals, about=about)
    return F.attach(tree, groups, F.sampling_note(estimator, "Wald: N(θ̂, H⁻¹)"))


WALD = Method(
    "wald",
    wald,
    about="Wald 95% intervals: MLE ± 1.96 se from the observed information (and sandwich)",
    quick={"num_chains": 2, "num_samples": 200},
)
