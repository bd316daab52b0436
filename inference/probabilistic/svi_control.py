"""Minibatch SVI on data in memory with first-order Taylor control variates (issue 27).

Plain minibatch SVI (:func:`~.svi._subsampled_model`, eq. 5.98's estimate scaled by
n/m′) has a gradient whose noise grows like √(n/m′) while the posterior shrinks like
1/√n: at 10⁷ × 100 rows, m′ = 1,000, its averaged guide was 5.3 posterior sds from the
full-data Laplace approximation (README, "Tables larger than memory"). Here each step's
log-likelihood is instead

    log p̂(y | u) = L₀ + g₀ᵀd + (n/m′) Σ_{i∈B} (ℓ_i(u) − ℓ_i(u₀) − ∇ℓ_i(u₀)ᵀd),  d = u − u₀,

with L₀ and g₀ the full data's log-likelihood and gradient at u₀ near the mode, and B
m′ of the n rows drawn with replacement: unbiased for every u (the sum over all rows of
the bracket is the log-likelihood minus L₀ + g₀ᵀd), and its noise is that of the rows'
remainders, of second order in d. In the coordinates whitened by the posterior, the
gradient's noise per coordinate is then about √(p/m′) times the distance from u₀ in
posterior sds for a model of p parameters, whatever n (the rows' Hessians about their
mean), against √(n/m′) without the control variates. A second-order expansion (the
streamed fit's, :mod:`.svi_stream`) would need the full data's Hessian, n·p² products
per pass where a gradient takes n·p (at 10⁷ × 100 about 5 s, estimated from 10⁶: the
MAP no longer computes it there, :mod:`.sample_start`).

The fit:

1. **A sample of c = min(n, 131,072) rows** (drawn by the seed) gives the start and an
   approximate Hessian: Newton's method on its log-likelihood times n/c (plus the
   prior) from u = 0, and (n/c) × its Hessian there (:func:`~.stream_mode.sample_mode`).
2. **u₀ by a quasi-Newton iteration on the full data** (:func:`~.stream_mode.streamed_mode`
   with :func:`full_terms`): each step one pass for the full data's value and gradient
   (by blocks of rows where that pays), the step solved with the approximate Hessian,
   stopped by the same decrement rule as the streamed fit's. The sample Hessian's relative
   error is of the order of √(p/c) for p parameters, and so is the rate at which the
   distance to the mode shrinks (at 10⁷ × 100: by 0.04 and 0.06 a step, √(101/131,072) =
   0.028).
3. **Minibatch SVI** on the estimate above (:func:`~.svi_stream.streamed_fit`, order 1),
   started at the approximate Laplace approximation and fitted in coordinates whitened by
   it, as the streamed fit is.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from freqbayes.inference.precision import jit
from freqbayes.inference.probabilistic.method import Draws
from freqbayes.inference.probabilistic.problem import Problem, Target, hashable_shapes
from freqbayes.inference.probabilistic.rows import ROW_MASK
from freqbayes.inference.probabilistic.stream_mode import (
    negative_log_likelihood,
    sample_mode,
    streamed_mode,
)
from freqbayes.inference.probabilistic.svi import SVIOptions, flat_zeros, subsample_of
from freqbayes.inference.probabilistic.svi_stream import (
    check_newton,
    fit_taylor,
    judged_taylor,
    taylor_arguments,
)
from freqbayes.models.pieces import BATCH_ROWS

#: Rows of the sample that gives the start and the approximate Hessian (at most): the
#: streamed fit's sample size (:data:`~freqbayes.models.pieces.BATCH_ROWS`).
SAMPLE_ROWS = BATCH_ROWS


@functools.partial(jit, static_argnames=("target", "shapes"))
def full_terms(
    target: Target, shapes: Any, kwargs: Any, s: Any, u: jnp.ndarray
) -> tuple[jnp.ndarray, jnp.ndarray]:
    """(Σ ℓ_i, ∇ Σ ℓ_i) at u over every real row of ``kwargs``: one pass over the rows."""
    unravel = flat_zeros(shapes)[1]
    fun = negative_log_likelihood(target, s, unravel)
    value, grad = jax.value_and_grad(target.objective(fun, kwargs))(u)
    return -value, -grad


def _sample(problem: Problem, rows: tuple[str, ...], key: jax.Array) -> dict[str, Any]:
    """The program's arguments with the row arguments cut to c = min(n, SAMPLE_ROWS) rows.

    Drawn uniformly without replacement by ``key``, in the rows' order (NumPy's generator:
    O(c) for c ≪ n, where ``jax.random.choice`` would permute all n). All n rows, padding
    included, when c = n.
    """
    n = problem.n
    if n <= SAMPLE_ROWS:
        return problem.kwargs
    seed = int(jax.random.randint(key, (), 0, np.iinfo(np.int32).max))
    index = jnp.asarray(np.sort(np.random.default_rng(seed).choice(n, SAMPLE_ROWS, False)))
    kwargs = {**problem.kwargs, **{k: problem.kwargs[k][index] for k in rows}}
    if ROW_MASK in kwargs:
        kwargs[ROW_MASK] = jnp.ones(SAMPLE_ROWS, bool)
    return kwargs


def run_taylor_svi(problem: Problem, key: jax.Array, settings: SVIOptions) -> Draws:
    """The kernel of minibatch SVI in memory with ``control_variates="taylor"``.

    For rows in one place (the caller, :func:`~.svi_method.run_in_memory`, fits rows
    sharded over devices or processes with the plain estimate). Raises
    :class:`ConvergenceError` when Newton's method on the sample or the quasi-Newton
    iteration on all rows does not reach the mode (unless ``allow_unconverged``).
    """
    subsample = subsample_of(problem, settings.batch_size)
    assert subsample is not None and not problem.sharded  # the caller's tests
    target, s, n = problem.target, problem.scaling, problem.n
    shapes = hashable_shapes(problem.latent_shapes())
    key_sample, key_fit = jax.random.split(key)
    sample = _sample(problem, subsample.rows, key_sample)
    held = min(n, SAMPLE_ROWS)

    what = "SVI with control variates"
    u_s, (_, _, hess), start = sample_mode(problem, sample, n, held, what)
    check_newton(problem, f"{what}: Newton's method on a sample of {held} rows", start, settings)

    def on_all_rows(points: list[jnp.ndarray]) -> list[tuple[Any, Any, Any]]:
        """The full data's value and gradient, with the sample's Hessian at its mode."""
        out = []
        for u in points:
            value, grad = full_terms(target, shapes, problem.kwargs, s, u)
            out.append((np.float64(value), np.asarray(grad, np.float64), hess))
        return out

    u0, terms, found = streamed_mode(problem, u_s, on_all_rows, what, try_zero=False)
    check_newton(problem, f"{what}: the quasi-Newton iteration", found, settings)
    kwargs = {**problem.kwargs, **taylor_arguments(u0, terms, n, n)}  # draws from real rows
    draws = settings.num_chains * settings.num_samples
    fitted = fit_taylor(
        problem, key_fit, settings, kwargs, subsample.size, subsample.rows, 1, draws
    )
    record = {
        "rows_per_step": subsample.size,
        "hessian_rows": held,
        "sample_newton_passes": start["newton_passes"],
        "sample_newton_converged": start["newton_converged"],
        **found,
    }
    found_both = found["newton_converged"] and start["newton_converged"]
    return judged_taylor(problem, settings, fitted, {**record, "newton_converged": found_both}, 1)
