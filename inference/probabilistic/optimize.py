"""Point estimates by optimisation: MAP and MLE (Deep Learning §5.5 and §5.6.1).

The MAP maximises log p(y | θ) + log p(θ) (eq. 5.79); the MLE is the same optimisation with
the prior removed. Both maximise the density of the *constrained* parameters
(σ itself, not log σ), optimised with L-BFGS over the scaled unconstrained
coordinates of :mod:`freqbayes.inference.probabilistic.problem`, starting from the
intercept-only
fit, so that with flat priors the MAP equals the MLE exactly and, e.g., the
Gaussian MLE of σ² is the biased 1/n variance.

Convergence is judged by the Newton decrement in those coordinates
(:func:`freqbayes.inference.optim.polish`), a criterion that does not depend on the
units of the data or on the start; a fit that does not meet it raises
:class:`~freqbayes.inference.optim.ConvergenceError`. On more than
:data:`CERTIFICATE_ROWS` rows MAP and MLE start from a sample of them (:mod:`.sample_start`)
and the decrement's Hessian is that sample's times n/c
(:func:`~freqbayes.inference.probabilistic.row_sample.sampled_hessian`); the exact one only
where that does not certify (:func:`.sample_start.refine`). Estimates that do not exist
(separation, σ̂ = 0, rank-deficient designs) raise a named
:class:`~freqbayes.models.probabilistic.existence.EstimateError` before any optimisation.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jax.flatten_util import ravel_pytree

from freqbayes.inference.optim import (
    MAX_NEWTON_DIM,
    ConvergenceError,
    OptimInfo,
    default_gtol,
    minimize,
    newton_tol,
    on_device,
    polish,
)
from freqbayes.inference.precision import jit
from freqbayes.inference.probabilistic.method import Draws, Method, as_point, boolean, positive_int
from freqbayes.inference.probabilistic.problem import Problem, Target, Whitening, float_dtype
from freqbayes.inference.probabilistic.row_sample import sampled_hessian
from freqbayes.inference.probabilistic.sample_start import negative_objective, refine, sample_start
from freqbayes.models.pieces import BATCH_ROWS
from freqbayes.models.probabilistic.existence import EstimateError

OBJECTIVES = ("likelihood", "posterior", "unconstrained-posterior")


#: Rows whose Hessian (times n/c) certifies a point estimate on more rows than this
#: (:func:`~freqbayes.inference.probabilistic.row_sample.sampled_hessian`): the streamed fit's
#: sample size. A logistic regression at 10⁶ × 100 float32: the exact certifying Hessian
#: took 0.41–0.50 s of the 1.0 s optimisation, at 10⁷ about 5 s of 11 (README).
CERTIFICATE_ROWS = BATCH_ROWS


@functools.partial(jit, static_argnames=("target", "objective", "max_iter", "sample"))
def _optimise(
    target: Target,
    kwargs: Mapping[str, Any],
    s: Any,
    u0: dict[str, jnp.ndarray],
    gtol: float,
    objective: str,
    max_iter: int,
    sample: int = 0,
) -> tuple[dict[str, jnp.ndarray], dict[str, jnp.ndarray], OptimInfo]:
    """Optimise over the scaled unconstrained coordinates u; return u, θ(u) and the info.

    ``likelihood`` maximises log p(y | θ) (MLE), ``posterior`` log p(θ, y) (MAP), both
    as densities of the constrained θ; ``unconstrained-posterior`` is the potential of
    u (the Jacobian included): the mode the Laplace approximation expands around.
    L-BFGS, then Newton's certificate (:func:`polish`) with the exact Hessian, or with
    the Hessian of ``sample`` rows times n/c where that is positive (its steps are then
    quasi-Newton steps, and :func:`.sample_start.refine` redoes an unmet certificate exactly).
    """
    negative_at = negative_objective(target, objective, s)
    negative = target.objective(negative_at, kwargs)
    u, info = minimize(negative, u0, gtol=gtol, max_iter=max_iter)
    flat, unravel = ravel_pytree(u0)
    if flat.size <= MAX_NEWTON_DIM:

        def hessian(v):
            fun = lambda w, k: negative_at(unravel(w), k)  # noqa: E731
            if sample:
                return sampled_hessian(fun, v, kwargs, target.rows, sample)
            return target.hessian(fun, v, kwargs)

        u, info = polish(negative, u, info, hessian=hessian)
    return u, target.constrain(kwargs, s, u), info


def certificate_rows(problem: Problem) -> int:
    """Rows whose Hessian certifies ``problem``'s point estimate: 0 for all of them.

    :data:`CERTIFICATE_ROWS` where the rows are padded, on one device and more than that
    (:func:`~freqbayes.inference.probabilistic.row_sample.sampled_hessian`), for at most
    :data:`MAX_NEWTON_DIM` parameters (no Hessian beyond) and no group-level terms: a
    group's effects are informed by its own rows only, of which a sample of c may hold
    none (a singular Hessian) or one weighted n/c (a curvature n/c times too large).
    """
    target = problem.target
    dim = sum(int(np.prod(v.shape)) for v in problem.latent_shapes().values())
    if "group_index" in target.rows or dim > MAX_NEWTON_DIM:
        return 0
    return CERTIFICATE_ROWS if target.rows and problem.size > CERTIFICATE_ROWS else 0


#: What each objective estimates, for the existence checks.
_KIND = {"likelihood": "likelihood", "posterior": "mode", "unconstrained-posterior": "mode"}


def point_estimate(
    problem: Problem,
    objective: str = "posterior",
    *,
    max_iter: int = 1000,
    allow_unconverged: bool = False,
    gtol: float | None = None,
) -> tuple[dict[str, jnp.ndarray], dict[str, jnp.ndarray], OptimInfo]:
    """Maximise ``objective`` (see :data:`OBJECTIVES`) from u = 0, the intercept-only fit.

    Returns the optimum in the scaled coordinates u, the parameters θ in the user's
    units, and how the optimiser ended.

    Raises
    ------
    EstimateError
        If the estimate does not exist on these data (e.g. :class:`SeparationError`
        for a logistic MLE, a degenerate σ̂ = 0); checked before optimising.
    ConvergenceError
        If the gradient criterion was not met (unless ``allow_unconverged``).
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}; got {objective!r}")
    problem.check(_KIND[objective])
    u0 = problem.zeros()
    gtol = default_gtol(float_dtype(), problem.n) if gtol is None else gtol
    target, kwargs, s = problem.target, problem.kwargs, problem.scaling
    sample = certificate_rows(problem)
    info = None
    if sample and objective != "unconstrained-posterior":  # see sample_start
        start, first = sample_start(target, kwargs, s, u0, gtol, objective, max_iter, sample)
        u, params, info = refine(target, kwargs, s, start, first, objective, sample)
        info = info._replace(start_rows=sample) if bool(info.converged) else None
    if info is None:
        u, params, info = _optimise(target, kwargs, s, u0, gtol, objective, max_iter, sample)
        if sample and not bool(info.converged):
            u, params, info = refine(target, kwargs, s, u, info, objective, 0)  # exact
            sample = 0
    computed = not np.isnan(float(info.newton_decrement))  # NaN: no Hessian (too many)
    info = info._replace(hessian_rows=(sample or problem.n) if computed else 0)
    finite = all(np.isfinite(np.asarray(v)).all() for v in params.values())
    if not finite:
        raise ConvergenceError(
            f"{problem.model.name}: the optimiser diverged to non-finite values "
            f"after {int(info.iterations)} iterations"
        )
    if not bool(info.converged) and not allow_unconverged:
        lam = float(info.newton_decrement)
        where = (
            f"the Newton decrement is {lam:.3g} (tolerance {newton_tol(float_dtype()):.0e})"
            if np.isfinite(lam)
            else "the Hessian there is not positive definite"
            if not np.isnan(lam)
            else f"‖∇‖ = {float(info.grad_norm):.3g} (tolerance {gtol:.3g})"
        )
        raise ConvergenceError(
            f"{problem.model.name}: the {objective} optimisation did not converge: after "
            f"{int(info.iterations)} L-BFGS iterations {where}, so the point is not an "
            "optimum. Pass allow_unconverged=True to keep it anyway."
        )
    return u, params, info


def optim_settings(info: OptimInfo, max_iter: int, gtol: float) -> dict[str, Any]:
    """What an optimisation-based fit records about its optimiser."""
    return {
        "optimizer": "optax.lbfgs",
        "max_iter": max_iter,
        "iterations": int(info.iterations),
        "objective": float(info.value),
        "grad_norm": float(info.grad_norm),
        "gtol": float(gtol),
        "newton_decrement": float(info.newton_decrement),
        "newton_hessian_rows": int(info.hessian_rows),
        "start_rows": int(info.start_rows),
        "converged": bool(info.converged),
    }


@functools.partial(jit, static_argnames=("target",))
def _hessian(target: Target, kwargs: Any, z: Any) -> jnp.ndarray:
    """The Hessian of −log p(z, y) (Jacobian included) in the flattened z."""
    flat, unravel = ravel_pytree(dict(z))
    return target.hessian(lambda f, kw: target.potential(kw, None, unravel(f)), flat, kwargs)


def whiten(problem: Problem) -> Problem:
    """A program without roles in coordinates whitened at its mode (else ``problem`` unchanged).

    The registered models are fitted in coordinates scaled by the data
    (:mod:`~freqbayes.models.probabilistic.scaling`); a user's program has no roles,
    and on raw data its posterior can be stretched along a ridge (a slope and an
    intercept with x near 100 correlate at −0.999), where NUTS started at NumPyro's
    default u ∈ [−2, 2] overflows and never mixes. Here u = 0 is the mode of the
    density of the unconstrained parameters and u ~ N(0, I) its Laplace approximation.
    If the mode cannot be found or the Hessian there is not positive definite, the
    program's own coordinates are kept.
    """
    if problem.model.roles is not None or problem.scaling is not None:
        return problem
    try:
        z, _, _ = point_estimate(problem, "unconstrained-posterior")
    except (ConvergenceError, EstimateError):
        return problem
    H = np.asarray(_hessian(problem.target, problem.kwargs, z), dtype=float)
    flat = np.asarray(ravel_pytree(dict(z))[0], dtype=float)
    try:
        chol = np.linalg.cholesky(np.linalg.inv(0.5 * (H + H.T)))
    except np.linalg.LinAlgError:
        return problem
    if not np.all(np.isfinite(chol)):
        return problem
    s = Whitening(on_device(flat), on_device(chol))
    return dataclasses.replace(problem, scaling=s)


class OptimSettings(NamedTuple):
    """An optimisation's settings: L-BFGS iterations, and whether to keep an unconverged one."""

    max_iter: int = 1000
    allow_unconverged: bool = False


#: The declared checks of :class:`OptimSettings`.
OPTIM_CONSTRAINTS = {"max_iter": positive_int, "allow_unconverged": boolean}


class Optimum(NamedTuple):
    """An estimate found under a method's settings (:func:`optimum`).

    Attributes
    ----------
    u, params : dict
        The optimum in the fitting coordinates and in the user's units.
    gtol : float
        The gradient tolerance used.
    record : dict
        What a fit records of the optimiser (:func:`optim_settings`).
    """

    u: dict[str, jnp.ndarray]
    params: dict[str, jnp.ndarray]
    gtol: float
    record: dict[str, Any]


def optimum(problem: Problem, objective: str, settings: Any) -> Optimum:
    """:func:`point_estimate` under settings with ``max_iter`` and ``allow_unconverged``."""
    gtol = default_gtol(float_dtype(), problem.n)
    u, params, info = point_estimate(
        problem,
        objective,
        max_iter=settings.max_iter,
        allow_unconverged=settings.allow_unconverged,
        gtol=gtol,
    )
    return Optimum(u, params, gtol, optim_settings(info, settings.max_iter, gtol))


def run_optimum(objective: str, problem: Problem, key: None, settings: OptimSettings) -> Draws:
    """The kernel of MLE (``objective="likelihood"``) and MAP (``"posterior"``): one point."""
    found = optimum(problem, objective, settings)
    jax.block_until_ready(found.params)
    return Draws(as_point(found.params), found.record)


def map_estimate(model: Any, data: Any, **kwargs: Any) -> xr.DataTree:
    """MAP estimate as a one-chain, one-draw DataTree (§5.6.1).

    Parameters
    ----------
    model : Model or str
        The model or its registered name.
    data : Dataset
        The data.
    **kwargs
        ``seed``, ``priors`` (overrides of the default priors), ``max_iter``,
        ``allow_unconverged`` (keep a fit whose gradient criterion was not met
        instead of raising :class:`ConvergenceError`), ``pointwise`` (see
        :func:`~freqbayes.inference.probabilistic.datatree.build_datatree`).

    Raises
    ------
    EstimateError
        If the MAP does not exist (e.g. flat priors on separated data, σ → 0).
    ConvergenceError
        If the optimiser did not converge.
    """
    return MAP.fit(model, data, **kwargs)


def mle(model: Any, data: Any, **kwargs: Any) -> xr.DataTree:
    """Maximum-likelihood estimate (the MAP with the prior removed, §5.5) as a DataTree.

    Parameters are as for :func:`map_estimate`. Raises :class:`SeparationError`
    when a logistic MLE does not exist, :class:`NotIdentifiedError` when the MLE
    is not unique (rank-deficient design) and :class:`DegenerateError` when it is
    degenerate (σ̂ = 0).
    """
    return MLE.fit(model, data, **kwargs)


MLE = Method(
    "mle",
    functools.partial(run_optimum, "likelihood"),
    OptimSettings,
    kind="point",
    about="maximum-likelihood estimate: L-BFGS then Newton on log p(y | θ) (§5.5)",
    constraints=OPTIM_CONSTRAINTS,
    check=None,
    keys=0,
    uses_prior=False,
)
MAP = Method(
    "map",
    functools.partial(run_optimum, "posterior"),
    OptimSettings,
    kind="point",
    about="maximum a posteriori: L-BFGS then Newton on log p(θ, y) (§5.6.1)",
    constraints=OPTIM_CONSTRAINTS,
    check=None,
    keys=0,
)
