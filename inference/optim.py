"""Shared numerics: L-BFGS in one ``while_loop``, Newton polishing, convergence verdicts.

Used by both halves: the probabilistic side's MLE, MAP and Laplace mode
(:mod:`freqbayes.inference.probabilistic.optimize`) and the learners' linear SVM
primal (:mod:`freqbayes.inference.learners.svm`). Depends on JAX and optax only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from freqbayes.inference.dtypes import float_dtype as float_dtype  # re-exported
from freqbayes.inference.dtypes import on_device as on_device  # re-exported


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
        √(∇fᵀ H⁻¹ ∇f) at the end, H the Hessian or an approximation of it (see
        :func:`polish`; NaN where not computed; inf where H is not positive definite):
        about how far the point is from the optimum
        in standard deviations of the Gaussian that f's curvature defines.
    hessian_rows : int
        Rows whose Hessian gave the decrement (set by the caller; 0: not recorded).
    start_rows : int
        Rows of the sample whose optimum started the Newton steps (set by the caller;
        0: none, L-BFGS on every row).
    grad : pytree or None
        ∇f at the final point where :func:`minimize` has it (:func:`polish` starts from it
        instead of taking it again: one pass over the data's rows saved).
    """

    iterations: jnp.ndarray
    value: jnp.ndarray
    grad_norm: jnp.ndarray
    converged: jnp.ndarray
    newton_decrement: jnp.ndarray | float = float("nan")
    hessian_rows: int = 0
    start_rows: int = 0
    grad: Any = None


#: Largest number of parameters for which a point estimate is polished by Newton steps.
MAX_NEWTON_DIM = 1000


def newton_tol(dtype: Any) -> float:
    """Converged when the Newton decrement is at most this (in standard deviations)."""
    return 1e-3 if jnp.finfo(dtype).bits <= 32 else 1e-7


def polish(
    fun: Callable[[Any], jnp.ndarray],
    x: Any,
    info: OptimInfo,
    *,
    steps: int = 3,
    hessian: Callable[[jnp.ndarray], jnp.ndarray] | None = None,
) -> tuple[Any, OptimInfo]:
    """Certify a minimum by the Newton decrement; take Newton steps only while it is not met.

    At each point the decrement λ = √(∇fᵀH⁻¹∇f) is computed with the exact Hessian H (by
    Cholesky). λ is invariant to affine changes of coordinates (of units), and λ ≈ the
    distance to the optimum in standard deviations of the local Gaussian: converged when
    λ ≤ :func:`newton_tol`. The loop (a ``while_loop``) stops at the first point that
    meets it, so an L-BFGS point that already does costs one Hessian. Otherwise it takes
    the Newton step δ = H⁻¹∇f, in full when λ ≤ ½ (inside the region of quadratic
    convergence, where f's own rounding noise must not veto it), else only if f or λ does
    not increase; a point whose f or ∇f is not finite is never taken; at most ``steps``
    steps, and none more once a step is refused.

    The point returned is always the one whose λ is reported, computed there with its own
    gradient and the Hessian ``hessian`` gives there: with the exact Hessian the
    certificate is exact for the returned point, not a bound carried over from an earlier
    one. ``info.grad``, where given, must be ∇f at ``x`` (as :func:`minimize` returns it).
    A Hessian that is not positive definite gives
    λ = inf (not a strict minimum). ``hessian`` (the flattened parameters → H) replaces
    ``jax.hessian`` of f, e.g. one summed over blocks of rows
    (:func:`~freqbayes.inference.probabilistic.rows.blocked_hessian`), or an approximate
    one (:func:`~freqbayes.inference.probabilistic.row_sample.sampled_hessian`, a sample of the
    rows): λ is then computed with it, within its relative error, and the steps are
    quasi-Newton steps, each shrinking the distance to the optimum by about that error.
    """
    flat, unravel = ravel_pytree(x)
    f = lambda v: fun(unravel(v))  # noqa: E731
    hess = jax.hessian(f) if hessian is None else hessian
    tol = newton_tol(flat.dtype)

    if info.grad is None:  # f and ∇f at the start, where the caller has not got them
        value0, g0 = jax.value_and_grad(f)(flat)
    else:
        value0, g0 = jnp.asarray(info.value, flat.dtype), ravel_pytree(info.grad)[0]

    def newton(g: jnp.ndarray, v: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
        H = hess(v)
        L = jnp.linalg.cholesky(0.5 * (H + H.T))
        delta = jax.scipy.linalg.cho_solve((L, True), g)
        lam = jnp.sqrt(jnp.maximum(g @ delta, 0.0))
        ok = jnp.all(jnp.isfinite(delta))
        return jnp.where(ok, delta, 0.0), jnp.where(ok, lam, jnp.inf)

    State = tuple[jnp.ndarray, ...]  # k, point, step, λ, ∇f, moved, f

    def keep_going(state: State) -> jnp.ndarray:
        k, _, _, lam, _, moved, _ = state
        first = k < 0  # the start's certificate is still to be computed
        return first | ((k < steps) & moved & jnp.isfinite(lam) & (lam > tol))

    def step(state: State) -> State:
        # k = -1: no step, the start's own certificate; then Newton steps. The certificate
        # is traced once, inside the loop (each trace of the gradient and Hessian of a
        # model with many rows costs a new process tenths of a second). f and ∇f at the
        # current point are carried: a step costs one pass for both, at the candidate
        k, v, delta, lam, g, _, value = state
        candidate = v - delta  # v itself at k = -1

        def judged(c: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
            return jax.value_and_grad(f)(c)

        new_value, new_g = jax.lax.cond(k < 0, lambda c: (value, g), judged, candidate)
        new_delta, new_lam = newton(new_g, candidate)
        finite = jnp.isfinite(new_value) & jnp.all(jnp.isfinite(new_g))
        # taken in full inside the region of quadratic convergence (λ ≤ ½), where f's
        # rounding noise must not veto it; else if f or the decrement went down (f is a
        # sum of many float32 terms: a decrease of λ²/2 can be below its noise)
        better = (lam <= 0.5) | (new_value <= value) | (new_lam < lam)
        take = (k < 0) | (finite & better)
        new = jnp.where(take, candidate, v)
        value = jnp.where(take, new_value, value)
        g = jnp.where(take, new_g, g)
        delta = jnp.where(take, new_delta, delta)
        lam = jnp.where(take, new_lam, lam)
        return k + 1, new, delta, lam, g, take, value

    zero = jnp.zeros_like(flat)
    inf = jnp.full((), jnp.inf, flat.dtype)
    start = (-jnp.ones((), jnp.int32), flat, zero, inf, g0, jnp.ones((), bool), value0)
    _, flat, _, lam, g, _, value = jax.lax.while_loop(keep_going, step, start)
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
    nan = jnp.full((), jnp.nan, value.dtype)
    info = OptimInfo(count, value, norm, norm <= gtol, nan, grad=grad)
    return final.params, info
