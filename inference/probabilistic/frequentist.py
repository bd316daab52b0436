"""What the frequentist methods share: the estimate, its information, its intervals.

In the frequentist view (Deep Learning §5.4, §5.6) θ is fixed and the estimate θ̂ is
random, a function of data that could have come out otherwise; its uncertainty is
its *sampling distribution*. :mod:`~freqbayes.inference.probabilistic.wald`,
:mod:`~freqbayes.inference.probabilistic.profile` and
:mod:`~freqbayes.inference.probabilistic.bootstrap` approximate it three ways. Each
returns the DataTree every fit returns, with two more groups:

* ``estimate``: θ̂ itself (the MLE, or the MAP with ``estimator="map"``);
* ``confidence_interval``: per parameter, an array with dims
  (``interval``, ``bound``, parameter dims...): the kinds of interval the method
  computes (e.g. ``wald`` and ``sandwich``) and their ``lower``/``upper`` bounds;
* ``std_error``: per parameter, the standard error of θ̂ that goes with each kind of
  interval (dims ``interval``, parameter dims...): √diag(H⁻¹) for Wald and profile,
  the sandwich's for ``sandwich``, the sd of the bootstrap estimates for the bootstrap;

and attrs saying plainly that the draws (if any) are a sampling distribution of an
estimator, not a posterior.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jax.flatten_util import ravel_pytree

from freqbayes.inference.precision import jit
from freqbayes.inference.probabilistic.problem import Problem, Target, zero_in_support

#: The standard normal's 0.975 quantile: a 95% two-sided interval is θ̂ ± Z95·se.
Z95 = 1.959963984540054

#: Point estimates whose sampling distribution the methods approximate, and what each maximises.
ESTIMATORS = {"mle": "likelihood", "map": "posterior"}

#: The χ²₁ 0.95 quantile (= Z95²): the likelihood-ratio cut of a 95% profile interval.
CHI2_1_95 = Z95**2


def check_estimator(estimator: str) -> str:
    """The objective of ``estimator`` ("mle" or "map"), or a clear ``ValueError``."""
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)}; got {estimator!r}")
    return ESTIMATORS[estimator]


def sampling_note(estimator: str, how: str) -> str:
    """The attr that says what a frequentist fit's draws and intervals are."""
    return (
        f"sampling distribution of the {estimator.upper()} ({how}): θ is fixed and the "
        "estimate is random; these are not posterior draws, and the intervals are "
        "confidence intervals (they cover the true θ in 95% of repeated samples), not "
        "credible intervals"
    )


@functools.partial(jit, static_argnames=("target", "include_prior"))
def information(
    target: Target, kwargs: Mapping[str, Any], params: Mapping[str, Any], include_prior: bool
) -> tuple[jnp.ndarray, jnp.ndarray, jnp.ndarray]:
    """θ̂ flattened, the observed information H and the per-observation scores at θ̂.

    H = −∇² log p(y | θ) [− ∇² log p(θ)] at θ̂, by ``jax.hessian``, in the user's units
    (σ itself, not log σ); the scores are the rows ∇ log p(yᵢ | θ̂) (n × d).
    """
    flat, unravel = ravel_pytree(dict(params))

    def negative(v: jnp.ndarray) -> jnp.ndarray:
        return -target.log_density_at(kwargs, unravel(v), include_prior)

    H = jax.hessian(negative)(flat)
    scores = jax.jacrev(lambda v: target.pointwise_log_likelihood(kwargs, unravel(v)))(flat)
    return flat, 0.5 * (H + H.T), scores.reshape(-1, flat.shape[0])


def covariances(H: jnp.ndarray, scores: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    """The model-based covariance H⁻¹ and the sandwich H⁻¹ (Σᵢ gᵢgᵢᵀ) H⁻¹ (White's HC0).

    The sandwich stays right when the model's variance is wrong (heteroscedastic
    noise, say); with a correct model both estimate the same matrix.
    """
    L = jnp.linalg.cholesky(H)
    cov = jax.scipy.linalg.cho_solve((L, True), jnp.eye(H.shape[0], dtype=H.dtype))
    meat = scores.T @ scores
    return cov, cov @ meat @ cov


def unravel_like(params: Mapping[str, Any]) -> Any:
    """The unravel function of ``params`` (flat vector → dict of arrays)."""
    return ravel_pytree({k: jnp.asarray(v) for k, v in params.items()})[1]


def interval_groups(
    problem: Problem,
    estimate: Mapping[str, Any],
    intervals: Mapping[str, tuple[Mapping[str, Any], Mapping[str, Any]]],
    *,
    level: float = 0.95,
    about: Mapping[str, str] | None = None,
    std_errors: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, xr.Dataset]:
    """The ``estimate``, ``confidence_interval`` and ``std_error`` groups of a frequentist fit.

    Parameters
    ----------
    problem : Problem
        The fitted problem (its dims and coords name the parameters' axes).
    estimate : mapping
        θ̂ per parameter (user's units).
    intervals : mapping
        Interval kind → (lower, upper), each a mapping parameter → array.
    level : float
        Coverage the intervals aim at.
    about : mapping, optional
        Interval kind → one line on how it is computed (stored in the group's attrs).
    std_errors : mapping, optional
        Interval kind → the standard errors (a mapping parameter → array) that go with
        it; a kind left out gets NaN (no ``std_error`` group when None).
    """
    dims, coords = problem.labels()
    kinds = list(intervals)
    est_vars, ci_vars, se_vars = {}, {}, {}
    for name, value in estimate.items():
        value = np.asarray(value)
        pdims = list(dims.get(name, []))[: value.ndim]
        pcoords = {d: coords[d] for d in pdims if d in coords}
        est_vars[name] = xr.DataArray(value, dims=pdims, coords=pcoords)
        stacked = np.stack(
            [
                np.stack([np.asarray(lo[name]), np.asarray(hi[name])])
                for lo, hi in intervals.values()
            ]
        )
        ci_vars[name] = xr.DataArray(
            stacked,
            dims=["interval", "bound", *pdims],
            coords={"interval": kinds, "bound": ["lower", "upper"], **pcoords},
        )
        if std_errors is not None:
            nan = np.full(value.shape, np.nan)
            se = [np.asarray(std_errors.get(k, {}).get(name, nan), dtype=float) for k in kinds]
            se_vars[name] = xr.DataArray(
                np.stack(se), dims=["interval", *pdims], coords={"interval": kinds, **pcoords}
            )
    for name, inside in zero_in_support(problem.program, problem.kwargs).items():
        if name in est_vars:  # read by the summary: no z and p where θ = 0 is impossible
            est_vars[name].attrs["zero_in_support"] = int(inside)
    ci = xr.Dataset(ci_vars)
    ci.attrs.update({"level": float(level), "kind": "confidence interval"})
    for kind, line in (about or {}).items():
        ci.attrs[f"about_{kind}"] = line
    groups = {"estimate": xr.Dataset(est_vars), "confidence_interval": ci}
    if std_errors is not None:
        groups["std_error"] = xr.Dataset(se_vars)
    return groups


def attach(tree: xr.DataTree, groups: Mapping[str, xr.Dataset], note: str) -> xr.DataTree:
    """Add the frequentist groups to a fit's DataTree and say what its draws are."""
    for name, ds in groups.items():
        tree[name] = xr.DataTree(dataset=ds)
    tree.attrs["distribution"] = note
    tree.attrs["inference"] = "frequentist"
    return tree


def std_errors(cov: np.ndarray, unravel: Any) -> dict[str, np.ndarray]:
    """√diag(cov) as a dict of parameters (float64)."""
    se = np.sqrt(np.diag(np.asarray(cov, dtype=np.float64)))
    return {k: np.asarray(v, dtype=np.float64) for k, v in unravel_np(unravel, se).items()}


def unravel_np(unravel: Any, flat: np.ndarray) -> dict[str, np.ndarray]:
    """``unravel`` applied to a float64 numpy vector without a cast to JAX's float type."""
    shapes = {k: np.shape(v) for k, v in unravel(jnp.zeros(len(flat))).items()}
    out, start = {}, 0
    for k, shape in shapes.items():
        size = int(np.prod(shape, dtype=int))
        out[k] = np.asarray(flat[start : start + size]).reshape(shape)
        start += size
    return out


def wald_bounds(
    flat: np.ndarray, cov: np.ndarray, unravel: Any, z: float = Z95
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """θ̂ ± z·√diag(cov), as two dicts of parameters."""
    se = np.sqrt(np.diag(np.asarray(cov)))
    lo = {k: np.asarray(v) for k, v in unravel(jnp.asarray(flat - z * se)).items()}
    hi = {k: np.asarray(v) for k, v in unravel(jnp.asarray(flat + z * se)).items()}
    return lo, hi
