"""The full-data posterior mode of a table read chunk by chunk: Newton's method, a pass a step.

For :mod:`.svi_stream` (step 2 of its fit): each pass over the table (a chunk at a time,
:func:`taylor_terms`) sums the log-likelihood's value, gradient and Hessian over every
row, so that one Newton step costs one reading of the table and memory stays that of a
chunk. :func:`streamed_mode` iterates from a start (the sample's mode, or u = 0);
:func:`proxy_terms` gives the negative log posterior's derivatives from those sums and the
prior's, which the SVI's start also takes. In memory, :mod:`.svi_control` runs the same
iteration on a sample's terms (Newton) and on the full data's value and gradient with the
sample's Hessian (quasi-Newton).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from freqbayes.inference.optim import ConvergenceError
from freqbayes.inference.precision import jit
from freqbayes.inference.probabilistic.problem import Problem, Target, as_jax, hashable_shapes
from freqbayes.inference.probabilistic.rows import ROW_MASK
from freqbayes.inference.probabilistic.shares import chunks
from freqbayes.inference.probabilistic.svi import flat_zeros, minibatch_terms
from freqbayes.models import tables


def negative_log_likelihood(target: Target, s: Any, unravel: Any) -> Any:
    """v ↦ −Σ_i log p(y_i | θ(v)) over the real rows (the row mask) of ``kw``."""

    def fun(v: jnp.ndarray, kw: Any) -> jnp.ndarray:
        return -target.log_density(kw, s, unravel(v), include_prior=False)

    return fun


@functools.partial(jit, static_argnames=("target", "shapes"))
def _chunk_terms(
    target: Target, shapes: Any, kwargs: Any, s: Any, u0: jnp.ndarray
) -> tuple[jnp.ndarray, jnp.ndarray, jnp.ndarray]:
    """(Σ ℓ_i, ∇, ∇²) at u₀ over one chunk's real rows (compiled once for a chunk's shape)."""
    unravel = flat_zeros(shapes)[1]
    fun = negative_log_likelihood(target, s, unravel)
    value, grad = jax.value_and_grad(fun)(u0, kwargs)
    return -value, -grad, -target.hessian(fun, u0, kwargs)


def _chunk(problem: Problem, start: int, stop: int) -> dict[str, np.ndarray]:
    """The data arguments of rows start:stop as read, padded to the sample's shape, masked.

    NumPy arrays: read in a worker thread, they become JAX arrays in the caller's (JAX's
    configuration, ``enable_x64`` included, is per thread).
    """
    share, attrs = problem.data.share, problem.data.attrs
    assert share is not None
    model, size = problem.model, share.size
    data = tables.read_share(attrs["source"], model, attrs.get("formula"), start, stop, size, False)
    assert data is not None  # read_streamed read the same rows
    return {**model.data_arguments(data), ROW_MASK: np.arange(size) < stop - start}


def taylor_terms(problem: Problem, points: list[jnp.ndarray]) -> list[tuple[Any, Any, Any]]:
    """(L₀, g₀, H₀) at each of ``points``: the log-likelihood's value, gradient, Hessian.

    Summed over every row in one pass over the table, a chunk of the sample's shape at a
    time, in float64 on the host in the chunks' order (each chunk's terms are in JAX's
    float type). The next chunk is read in a thread while this one's terms are computed
    (Arrow's decoding and XLA's products both release the GIL), so two chunks are held
    besides the sample. A table of one chunk is its sample: nothing is read.
    """
    from concurrent.futures import ThreadPoolExecutor

    share = problem.data.share
    assert share is not None and share.stream
    shapes = hashable_shapes(problem.latent_shapes())
    ranges = chunks(share.n, share.size)
    totals: list[list[np.ndarray]] = [[] for _ in points]
    with ThreadPoolExecutor(1, thread_name_prefix="chunk") as pool:
        ahead = None if share.n == share.size else pool.submit(_chunk, problem, *ranges[0])
        for i in range(len(ranges)):
            if ahead is None:
                kwargs = problem.kwargs
            else:
                arrays = ahead.result()
                kwargs = {**{k: as_jax(v) for k, v in arrays.items()}, **problem.priors}
                if i + 1 < len(ranges):
                    ahead = pool.submit(_chunk, problem, *ranges[i + 1])
            for k, u in enumerate(points):
                terms = _chunk_terms(problem.target, shapes, kwargs, problem.scaling, u)
                parts = [np.asarray(a, dtype=np.float64) for a in terms]
                old = totals[k]
                totals[k] = parts if not old else [a + b for a, b in zip(old, parts, strict=True)]
    return [(total[0], total[1], total[2]) for total in totals]


def proxy_terms(
    target: Target,
    unravel: Any,
    data: Any,
    rows: tuple[str, ...],
    s: Any,
    u0: jnp.ndarray,
    total: jnp.ndarray,
    grad: jnp.ndarray,
    hess: jnp.ndarray,
) -> tuple[jnp.ndarray, jnp.ndarray, jnp.ndarray]:
    """−log p(u₀) − L₀, its gradient and Hessian: the negative log posterior at u₀.

    The likelihood's parts are the whole table's (:func:`taylor_terms`), the prior's by
    automatic differentiation (of the program with one row, its likelihood unused).
    """
    one = jnp.zeros((1,), jnp.int32)

    def prior(v: jnp.ndarray) -> jnp.ndarray:
        return minibatch_terms(target, data, rows, one, s, unravel(v))[0]

    H = jax.hessian(prior)(u0) - hess
    return prior(u0) - total, jax.grad(prior)(u0) - grad, 0.5 * (H + H.T)


@functools.partial(jit, static_argnames=("target", "shapes", "rows"))
def _newton(
    target: Target, shapes: Any, kwargs: Any, s: Any, u0: Any, terms: Any, rows: tuple[str, ...]
) -> tuple[jnp.ndarray, jnp.ndarray, jnp.ndarray, jnp.ndarray]:
    """The objective at u₀, the Newton step, its decrement gᵀH⁻¹g, whether H was shifted.

    The objective and its derivatives: :func:`proxy_terms`.

    Where H is not positive definite (away from the mode of a likelihood that is not
    log-concave: a linear regression with R² > ½ at u = 0, say) the step is a modified
    Newton step with H + 2|λ_min| I (whose smallest eigenvalue is |λ_min|), and its
    decrement then measures no distance to a mode: the caller goes on.
    """
    unravel = flat_zeros(shapes)[1]
    data = {k: v for k, v in kwargs.items() if k != ROW_MASK}
    value, grad, H = proxy_terms(target, unravel, data, rows, s, u0, *terms)
    w, V = jnp.linalg.eigh(H)
    tiny = jnp.finfo(H.dtype).eps * jnp.max(jnp.abs(w))
    shifted = w[0] <= tiny
    mu = jnp.where(shifted, 2.0 * jnp.abs(w[0]) + tiny, 0.0)
    damped = -V @ ((V.T @ grad) / (w + mu))
    step = jnp.where(shifted, damped, -jnp.linalg.solve(H, grad))
    return value, step, -grad @ step, shifted


#: Most passes of the streamed Newton iterations (each reads the table once).
MAX_PASSES = 30

#: The Newton decrement gᵀH⁻¹g per parameter below which the expansion point is close
#: enough to the mode: 0.05 × the parameters. gᵀH⁻¹g is the squared Mahalanobis distance
#: to the mode, so the point is then √0.05 ≈ 0.2 posterior sd from it on average over
#: the whitened directions (one direction may be up to √(0.05 × dim) sds off), where the
#: Taylor remainder stays of third order; the remainder's size and the sample's error in
#: it are measured after the fit (:func:`.svi_stream.remainder_sd`), and the guide starts
#: at the expansion's own mode, one more Newton step. At 10⁷ × 100 the decrements went
#: 7,094, 2.9, 4·10⁻⁶: two passes instead of three (2.9 < 0.05 × 101); with another
#: sample 9,934, 5.5, 10⁻⁵: three.
NEWTON_DECREMENT = 0.05


def newton_tolerance(dim: int) -> float:
    """The decrement below which Newton stops, for ``dim`` parameters."""
    return NEWTON_DECREMENT * max(1, dim)


def streamed_mode(
    problem: Problem,
    u0: jnp.ndarray,
    terms: Callable[[list[jnp.ndarray]], list[tuple[Any, Any, Any]]] | None = None,
    what: str = "SVI on a table read in chunks",
    try_zero: bool = True,
) -> tuple[jnp.ndarray, Any, dict[str, Any]]:
    """The full-data posterior mode by Newton's method, one pass over the table per step.

    The first pass evaluates u₀ and u = 0 (the intercept-only fit) and goes on from the
    better: a sample's mode can be far from the table's. Each pass gives the likelihood's
    value, gradient and Hessian over every row (:func:`taylor_terms`); the objective
    −log p(u) − L₀ is compared in float64. A step that raises it by more than 10⁻⁶ of its
    size (the float32 sums' noise) is halved (another pass): that test only saves passes
    on the first, long steps; whether the mode is found is decided by the Newton
    decrement alone. Stops when the decrement is below :func:`newton_tolerance` (found),
    after :data:`MAX_PASSES` passes, or at a point where the objective or the decrement is
    not finite: not found. Where the Hessian is not positive definite the step is a
    modified Newton step (:func:`_newton`) and the point is never taken for the mode.
    Returns the last point taken, its terms (L₀, g₀, H₀, in JAX's float type) and the
    record: passes, the decrements of the steps taken, ``newton_converged``.

    ``terms`` (points ↦ their (L₀, g₀, H₀), float64): :func:`taylor_terms` by default;
    in memory, the full data's value and gradient with a fixed approximate Hessian
    (:mod:`.svi_control`: a quasi-Newton iteration, still stopped by its decrement).
    ``what`` names the fit in the error raised; ``try_zero`` false: the first pass
    evaluates u₀ only (a start known to be good).
    """
    if terms is None:
        terms = functools.partial(taylor_terms, problem)
    shapes = hashable_shapes(problem.latent_shapes())
    rows = problem.target.rows  # the row arguments (a streamed problem is on one device)
    best: tuple[Any, ...] | None = None
    u, t, passes, found = u0, 1.0, 0, False
    decrements: list[float] = []  # of the steps taken, in order
    while passes < MAX_PASSES and not found:
        points = [u0, jnp.zeros_like(u0)] if best is None and try_zero else [u]
        tried = []
        for point, raw in zip(points, terms(points), strict=True):
            sums = tuple(jnp.asarray(a, u0.dtype) for a in raw)
            args = (problem.target, shapes, problem.kwargs, problem.scaling, point)
            prior, step, decrement, shifted = _newton(*args, (0.0, *sums[1:]), rows=rows)
            value = float(prior) - float(raw[0])  # float64: L₀ as summed
            if np.isfinite(value) and bool(np.all(np.isfinite(step))):
                tried.append((point, value, step, sums, float(decrement), bool(shifted)))
        passes += 1
        here = min(tried, key=lambda found: found[1]) if tried else None
        if best is not None and (here is None or here[1] > best[1] + 1e-6 * abs(best[1])):
            t /= 2  # the step went too far: back along it
            u = best[0] + t * best[2]
            continue
        if here is None or not here[4] >= 0:  # nothing finite
            break
        best, t = here, 1.0
        decrements.append(best[4])
        found = best[4] < newton_tolerance(u0.shape[0]) and not best[5]
        u = best[0] + best[2]
    if best is None:
        raise ConvergenceError(
            f"{problem.model.name}: {what}: the log-posterior is not finite at the start "
            "(the sample's mode, or u = 0)"
        )
    record = {"newton_passes": passes, "newton_decrement": best[4], "newton_path": decrements}
    record |= {"newton_converged": found, "newton_max_passes": MAX_PASSES}
    return best[0], best[3], {**record, "newton_tolerance": newton_tolerance(u0.shape[0])}


def sample_mode(
    problem: Problem, sample: Any, n: int, c: int, what: str
) -> tuple[jnp.ndarray, Any, dict[str, Any]]:
    """The start: Newton's method on a sample's log-likelihood times n/c, plus the prior.

    ``sample``: the program's arguments cut to c of the n rows (the streamed sample, or
    rows of data in memory, :mod:`.svi_control`). From u = 0, by :func:`streamed_mode`
    on the sample's terms (each a Hessian of c rows: cheaper here than tracing an L-BFGS
    program anew in each process, 3.7 s at 10⁶ × 100; where u = 0 is no convex point, as
    for a linear regression with R² > ½, the first steps are modified Newton steps).
    Returns the point, its terms ((n/c) × the sample's L, g and H: H the approximate
    Hessian of all n rows) and the record.
    """
    target, s = problem.target, problem.scaling
    shapes = hashable_shapes(problem.latent_shapes())

    def on_sample(points: list[jnp.ndarray]) -> list[tuple[Any, Any, Any]]:
        out = []
        for u in points:
            terms = _chunk_terms(target, shapes, sample, s, u)
            out.append(tuple(np.asarray(a, np.float64) * (n / c) for a in terms))
        return out

    zeros = flat_zeros(shapes)[0]
    return streamed_mode(problem, zeros, on_sample, what, try_zero=False)
