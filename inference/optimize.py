"""Point estimates by optimisation: MAP and MLE (Deep Learning §5.5 and §5.6.1).

The MAP maximises log p(θ) + log p(y | θ); the MLE is the same optimisation with
the prior removed. Both maximise the density of the *constrained* parameters
(σ itself, not log σ), optimised with L-BFGS over the scaled unconstrained
coordinates of :mod:`freqbayes.inference.common`, starting from the intercept-only
fit, so that with flat priors the MAP equals the MLE exactly and, e.g., the
Gaussian MLE of σ² is the biased 1/n variance.

Convergence is judged by the gradient in those coordinates, a criterion that does
not depend on the units of the data or on the start; a fit that does not meet it
raises :class:`ConvergenceError`. Estimates that do not exist (separation, σ̂ = 0,
rank-deficient designs) raise a named
:class:`~freqbayes.models.existence.EstimateError` before any optimisation.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
import xarray as xr
from jax.flatten_util import ravel_pytree

from freqbayes.data import Dataset
from freqbayes.inference.common import (
    Problem,
    Target,
    build_datatree,
    check_positive_ints,
    check_seed,
    float_dtype,
    prepare,
    stopwatch,
)
from freqbayes.models import Model
from freqbayes.models.existence import (  # noqa: F401  (re-exported)
    DegenerateError,
    EstimateError,
    NotIdentifiedError,
    SeparationError,
)


class ConvergenceError(RuntimeError):
    """An optimisation stopped before its convergence criterion was met."""


class OptimState(NamedTuple):
    """State of :func:`minimize`.

    Attributes
    ----------
    params : pytree
        Current parameters.
    opt_state : optax state
        L-BFGS memory, with the last value and gradient.
    stalled : array () bool
        Whether the last iteration left the parameters unchanged (the line search
        found no decrease: at a minimum to rounding precision, or stuck).
    """

    params: Any
    opt_state: Any
    stalled: jnp.ndarray


class OptimInfo(NamedTuple):
    """Outcome of :func:`minimize` (and of :func:`polish`).

    Attributes
    ----------
    iterations : array () int
        L-BFGS iterations made.
    value : array ()
        Final objective.
    grad_norm : array ()
        Final ‖∇f‖ (Euclidean).
    converged : array () bool
        Whether the convergence criterion holds at the end: ‖∇f‖ ≤ ``gtol``, or
        after :func:`polish` the Newton decrement criterion.
    newton_decrement : array ()
        √(∇fᵀ H⁻¹ ∇f) at the end, H the Hessian (NaN where not computed; inf where
        H is not positive definite): about how far the point is from the optimum
        in standard deviations of the Gaussian that f's curvature defines.
    """

    iterations: jnp.ndarray
    value: jnp.ndarray
    grad_norm: jnp.ndarray
    converged: jnp.ndarray
    newton_decrement: jnp.ndarray | float = float("nan")


#: Largest number of parameters for which a point estimate is polished by Newton steps.
MAX_NEWTON_DIM = 1000


def newton_tol(dtype: Any) -> float:
    """Converged when the Newton decrement is at most this (in standard deviations)."""
    return 1e-3 if jnp.finfo(dtype).bits <= 32 else 1e-7


def polish(
    fun: Callable[[Any], jnp.ndarray], x: Any, info: OptimInfo, *, steps: int = 3
) -> tuple[Any, OptimInfo]:
    """Finish a minimisation with Newton steps and certify it by the Newton decrement.

    Each step solves H δ = ∇f with the exact Hessian (by Cholesky); it is taken in
    full when the decrement λ ≤ ½ (inside the region of quadratic convergence, where
    f's own rounding noise must not veto it), else only if f does not increase. The
    decrement λ = √(∇fᵀH⁻¹∇f) is invariant to affine
    changes of coordinates (of units), and λ ≈ the distance to the optimum in
    standard deviations of the local Gaussian: converged when λ ≤ :func:`newton_tol`.
    A Hessian that is not positive definite gives λ = inf (not a strict minimum).
    """
    flat, unravel = ravel_pytree(x)
    f = lambda v: fun(unravel(v))  # noqa: E731
    tol = newton_tol(flat.dtype)

    def newton(v: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray, jnp.ndarray]:
        g = jax.grad(f)(v)
        H = jax.hessian(f)(v)
        L = jnp.linalg.cholesky(0.5 * (H + H.T))
        delta = jax.scipy.linalg.cho_solve((L, True), g)
        lam = jnp.sqrt(jnp.maximum(g @ delta, 0.0))
        ok = jnp.all(jnp.isfinite(delta))
        return jnp.where(ok, delta, 0.0), jnp.where(ok, lam, jnp.inf), g

    def step(v: jnp.ndarray, _: None) -> tuple[jnp.ndarray, None]:
        delta, lam, _ = newton(v)
        candidate = v - delta
        value = f(candidate)
        take = jnp.isfinite(value) & ((lam <= 0.5) | (value <= f(v)))
        return jnp.where(take, candidate, v), None

    flat, _ = jax.lax.scan(step, flat, None, length=steps)
    _, lam, g = newton(flat)
    value = f(flat)
    norm = jnp.sqrt(g @ g)
    return unravel(flat), OptimInfo(info.iterations, value, norm, lam <= tol, lam)


def default_gtol(dtype: Any, n: int = 1) -> float:
    """Gradient tolerance on a negative log density of n observations in scaled coordinates.

    There the Hessian is about n times the identity and the posterior sd about
    1/√n, so ‖∇f‖ ≤ tol·√n leaves the iterate within about ``tol`` posterior (or
    sampling) standard deviations of the optimum, whatever the units of the data:
    tol = 1e-3 in float32 (well above the rounding noise of a sum of n terms) and
    1e-8 in float64.
    """
    tol = 1e-3 if jnp.finfo(dtype).bits <= 32 else 1e-8
    return float(tol * np.sqrt(max(n, 1)))


def minimize(
    fun: Callable[[Any], jnp.ndarray], x0: Any, *, gtol: float, max_iter: int = 1000
) -> tuple[Any, OptimInfo]:
    """Minimise a smooth function with optax's L-BFGS (zoom line search) in one ``while_loop``.

    Stops when ‖∇f‖ ≤ ``gtol`` (converged), when an iteration leaves the parameters
    unchanged (stalled), or after ``max_iter`` iterations. The tolerance is absolute:
    choose it in the units of f (see :func:`default_gtol`), never relative to f at the
    start, which depends on the data's units and on how far the start is.
    """
    opt = optax.lbfgs()
    value_and_grad = optax.value_and_grad_from_state(fun)

    def step(state: OptimState) -> OptimState:
        value, grad = value_and_grad(state.params, state=state.opt_state)
        updates, opt_state = opt.update(
            grad, state.opt_state, state.params, value=value, grad=grad, value_fn=fun
        )
        params = optax.apply_updates(state.params, updates)
        moved = jax.tree.reduce(
            jnp.logical_or, jax.tree.map(lambda a, b: jnp.any(a != b), params, state.params)
        )
        return OptimState(params, opt_state, ~moved)

    def grad_norm(state: OptimState) -> jnp.ndarray:
        return optax.tree.norm(optax.tree.get(state.opt_state, "grad"))

    def keep_going(state: OptimState) -> jnp.ndarray:
        count = optax.tree.get(state.opt_state, "count")
        running = (count < max_iter) & (grad_norm(state) > gtol) & ~state.stalled
        return (count == 0) | running

    final = jax.lax.while_loop(keep_going, step, OptimState(x0, opt.init(x0), jnp.zeros((), bool)))
    # the stored gradient is that of the last evaluated point: recompute at the final one
    value, grad = jax.value_and_grad(fun)(final.params)
    norm = optax.tree.norm(grad)
    count = optax.tree.get(final.opt_state, "count")
    info = OptimInfo(count, value, norm, norm <= gtol, jnp.full((), jnp.nan, value.dtype))
    return final.params, info


OBJECTIVES = ("likelihood", "posterior", "unconstrained-posterior")


@functools.partial(jax.jit, static_argnames=("target", "objective", "max_iter"))
def _optimise(
    target: Target,
    kwargs: Mapping[str, Any],
    s: Any,
    u0: dict[str, jnp.ndarray],
    gtol: float,
    objective: str,
    max_iter: int,
) -> tuple[dict[str, jnp.ndarray], dict[str, jnp.ndarray], OptimInfo]:
    """Optimise over the scaled unconstrained coordinates u; return u, θ(u) and the info.

    ``likelihood`` maximises log p(y | θ) (MLE), ``posterior`` log p(θ, y) (MAP), both
    as densities of the constrained θ; ``unconstrained-posterior`` is the potential of
    u (the Jacobian included): the mode the Laplace approximation expands around.
    """
    if objective == "unconstrained-posterior":

        def negative(u):
            return target.potential(kwargs, s, u)

    else:

        def negative(u):
            return -target.log_density(kwargs, s, u, include_prior=objective == "posterior")

    u, info = minimize(negative, u0, gtol=gtol, max_iter=max_iter)
    if sum(v.size for v in jax.tree.leaves(u0)) <= MAX_NEWTON_DIM:
        u, info = polish(negative, u, info)
    return u, target.constrain(kwargs, s, u), info


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
    u, params, info = _optimise(
        problem.target, problem.kwargs, problem.scaling, u0, gtol, objective, max_iter
    )
    finite = all(bool(jnp.all(jnp.isfinite(v))) for v in params.values())
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
        "converged": bool(info.converged),
    }


def _fit(
    method: str,
    model: Model | str,
    data: Dataset,
    *,
    seed: int = 0,
    priors: Mapping[str, Any] | None = None,
    max_iter: int = 1000,
    allow_unconverged: bool = False,
    pointwise: str | int = "auto",
    progress: bool | None = None,
) -> xr.DataTree:
    seed = check_seed(seed)
    problem = prepare(model, data, priors)
    check_positive_ints(max_iter=max_iter)
    gtol = default_gtol(float_dtype(), problem.n)
    with stopwatch() as elapsed:
        _, params, info = point_estimate(
            problem,
            "posterior" if method == "map" else "likelihood",
            max_iter=max_iter,
            allow_unconverged=allow_unconverged,
            gtol=gtol,
        )
        jax.block_until_ready(params)
    posterior = {k: np.asarray(v)[None, None] for k, v in params.items()}
    return build_datatree(
        problem,
        posterior,
        key=jax.random.key(seed),
        method=method,
        seed=seed,
        settings=optim_settings(info, max_iter, gtol),
        wall_time=elapsed[0],
        pointwise=pointwise,
    )


def map_estimate(model: Model | str, data: Dataset, **kwargs: Any) -> xr.DataTree:
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
        :func:`~freqbayes.inference.common.build_datatree`).

    Raises
    ------
    EstimateError
        If the MAP does not exist (e.g. flat priors on separated data, σ → 0).
    ConvergenceError
        If the optimiser did not converge.
    """
    return _fit("map", model, data, **kwargs)


def mle(model: Model | str, data: Dataset, **kwargs: Any) -> xr.DataTree:
    """Maximum-likelihood estimate (the MAP with the prior removed, §5.5) as a DataTree.

    Parameters are as for :func:`map_estimate`. Raises :class:`SeparationError`
    when a logistic MLE does not exist, :class:`NotIdentifiedError` when the MLE
    is not unique (rank-deficient design) and :class:`DegenerateError` when it is
    degenerate (σ̂ = 0).
    """
    return _fit("mle", model, data, **kwargs)
