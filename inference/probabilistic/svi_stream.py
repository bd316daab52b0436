"""Minibatch SVI on a table read chunk by chunk, with Taylor control variates (issue 27).

A Parquet table read for streaming (:func:`.shares.read_streamed`: one pass for the
column summaries, keeping a uniform sample of c rows) is never held whole. The fit:

1. **A start**: the posterior mode on the sample's rows (:func:`~.laplace.laplace_start`),
   about √(n/c) posterior sds from the table's.
2. **The full-data mode by Newton's method** (:func:`streamed_mode`), one pass over the
   table per step: each pass sums the log-likelihood's value, gradient and Hessian over
   every row, a chunk at a time (:func:`taylor_terms`; the Hessian by blocks of rows, as
   the Laplace approximation's). Its last point u₀ and its sums L₀, g₀ and H₀ are kept.
3. **Minibatch SVI** (:func:`~.svi.fit_guide`) on the sample's rows, each step's
   log-likelihood estimated with Taylor control variates (as HMCECS's, NumPyro's
   ``taylor_proxy``): with d = u − u₀ and q_i(u) = ℓ_i(u₀) + ∇ℓ_i(u₀)ᵀd + ½ dᵀ∇²ℓ_i(u₀)d,

       log p̂(y | u) = L₀ + g₀ᵀd + ½ dᵀH₀d + (n/m′) Σ_{i∈B} (ℓ_i(u) − q_i(u)),

   B: m′ rows drawn uniformly with replacement from the sample (the scaling of eq.
   5.98). The first three terms are the whole table's second-order expansion, exact in
   every row; the minibatch sum estimates the rest, the expansion's remainder: given
   the sample, (n/c) times the sample's remainder, and over the sample's draw the
   table's (unbiased: every row is in the sample with probability c/n). The remainder
   is of third order in d, and d is of the order of the posterior sd (1/√n in the
   scaled coordinates), so it is small where n is large; the per-row q_i are computed
   for the drawn rows only (forward-mode derivatives), never stored for all n as
   NumPyro's proxy does. How much the remainder varies over the fitted posterior is
   measured (:func:`remainder_sd`), and a fit where it is large is refused.

The guide starts at the proxy's Laplace approximation (one Newton step from u₀) and is
fitted in coordinates whitened by it (:func:`streamed_fit`); the steps, the average and
the convergence test (on this objective) are those of :func:`~.svi.fit_guide`. Memory:
the sample, the chunk in use and the next one being read, and Arrow's buffers; not the
table.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from jax.flatten_util import ravel_pytree
from numpyro.distributions import constraints

from freqbayes.inference.optim import ConvergenceError, default_gtol
from freqbayes.inference.precision import jit
from freqbayes.inference.probabilistic.laplace import laplace_start
from freqbayes.inference.probabilistic.method import Draws
from freqbayes.inference.probabilistic.problem import (
    Problem,
    Target,
    as_jax,
    float_dtype,
    hashable_shapes,
)
from freqbayes.inference.probabilistic.rows import ROW_MASK
from freqbayes.inference.probabilistic.shares import chunks
from freqbayes.inference.probabilistic.svi import (
    SVIOptions,
    SVISettings,
    _engine,
    fit_guide,
    judged,
    minibatch_terms,
)
from freqbayes.models import tables

#: The Taylor model's own keyword arguments (traced): u₀, L₀, g₀, H₀ and n.
REF, TOTAL, GRAD, HESS, ROWS = "_taylor_u0", "_taylor_l0", "_taylor_g0", "_taylor_h0", "_taylor_n"
#: The whitening u = a + L z of the guide's coordinates z (traced; :func:`streamed_fit`).
SHIFT, MIX = "_white_a", "_white_l"
TAYLOR_ARGUMENTS = (REF, TOTAL, GRAD, HESS, ROWS, SHIFT, MIX)


def _taylor_model(
    *,
    target: Target,
    unravel: Any,
    size: int,
    kwargs: Any,
    s: Any,
    batch: int,
    rows: tuple[str, ...],
) -> None:
    """The scaled model with the log-likelihood of the module's docstring (step 3).

    Its site ``u`` holds the whitened z; u = a + L z (a constant Jacobian, left out).
    """
    z = numpyro.sample("u", dist.ImproperUniform(constraints.real, (), (size,)))
    u = kwargs[SHIFT] + kwargs[MIX] @ z
    data = {k: v for k, v in kwargs.items() if k not in (ROW_MASK, *TAYLOR_ARGUMENTS)}
    held = data[rows[0]].shape[0]  # the chunk's rows: all real (.shares.read_streamed)
    drawn = jax.random.randint(numpyro.prng_key(), (batch,), 0, held)
    prior, rest = _remainder(target, unravel, data, rows, drawn, s, u, kwargs[REF])
    d = u - kwargs[REF]
    whole = kwargs[TOTAL] + kwargs[GRAD] @ d + 0.5 * d @ kwargs[HESS] @ d
    numpyro.factor("log_likelihood", whole + kwargs[ROWS] / batch * rest)
    numpyro.factor("log_prior", -prior)


def _remainder(
    target: Target,
    unravel: Any,
    data: Any,
    rows: tuple[str, ...],
    drawn: jnp.ndarray,
    s: Any,
    u: jnp.ndarray,
    u0: jnp.ndarray,
) -> tuple[jnp.ndarray, jnp.ndarray]:
    """(−log p(u), Σ_{i∈drawn} ℓ_i(u) − q_i(u)): the prior, and the Taylor remainder of rows."""
    prior, here = minibatch_terms(target, data, rows, drawn, s, unravel(u))
    return prior, jnp.sum(here - _expansion(target, unravel, data, rows, drawn, s, u, u0))


def _expansion(
    target: Target,
    unravel: Any,
    data: Any,
    rows: tuple[str, ...],
    drawn: jnp.ndarray,
    s: Any,
    u: jnp.ndarray,
    u0: jnp.ndarray,
) -> jnp.ndarray:
    """q_i(u) for i in ``drawn``: ℓ_i's second-order expansion at u₀.

    By forward-mode derivatives along d = u − u₀, for the drawn rows only.
    """
    d = u - u0

    def terms(v: jnp.ndarray) -> jnp.ndarray:
        return minibatch_terms(target, data, rows, drawn, s, unravel(v))[1]

    def slope(v: jnp.ndarray) -> jnp.ndarray:
        return jax.jvp(terms, (v,), (d,))[1]

    at_u0, first = jax.jvp(terms, (u0,), (d,))
    return at_u0 + first + 0.5 * jax.jvp(slope, (u0,), (d,))[1]


@functools.partial(jit, static_argnames=("target", "shapes", "rows"))
def remainder_sd(
    target: Target, shapes: Any, kwargs: Any, s: Any, u: jnp.ndarray, rows: tuple[str, ...]
) -> tuple[jnp.ndarray, jnp.ndarray]:
    """How large the remainder is over draws ``u`` (k × dim), and how well the sample knows it.

    Returns two sds over the draws, in log-density units:

    - of R(u) = (n/c) Σ_{i in sample} (ℓ_i(u) − q_i(u)), the remainder's estimate from
      every row of the sample: how far the log-likelihood is from its quadratic
      expansion over the posterior (0: the posterior is the proxy's);
    - of E(u) = (n/c) (Σ_{even i} − Σ_{odd i}) (ℓ_i(u) − q_i(u)), the sample's rows in
      two alternate halves: half the difference of two independent half-sample
      estimates, so of the order of R's sampling error. An error term of sd e over the
      posterior moves a mean by at most about e posterior sds (its correlation with the
      parameter, times e), so a small E means the sample is large enough.
    """
    unravel = ravel_pytree({k: jnp.zeros(v.shape, v.dtype) for k, v in shapes})[1]
    data = {k: v for k, v in kwargs.items() if k not in (ROW_MASK, *TAYLOR_ARGUMENTS)}
    held = data[rows[0]].shape[0]
    sign = jnp.where(jnp.arange(held - held % 2) % 2 == 0, 1.0, -1.0)

    def one(v: jnp.ndarray) -> jnp.ndarray:
        every = jnp.arange(held)
        here = minibatch_terms(target, data, rows, every, s, unravel(v))[1]
        terms = here - _expansion(target, unravel, data, rows, every, s, v, kwargs[REF])
        return jnp.stack([terms.sum(), sign @ terms[: sign.shape[0]]])

    both = jax.lax.map(one, u) * kwargs[ROWS] / held
    return jnp.std(both[:, 0]), jnp.std(both[:, 1])


def _log_likelihood(target: Target, s: Any, unravel: Any) -> Any:
    """v ↦ −Σ_i log p(y_i | θ(v)) over the real rows (the row mask) of ``kw``."""

    def fun(v: jnp.ndarray, kw: Any) -> jnp.ndarray:
        return -target.log_density(kw, s, unravel(v), include_prior=False)

    return fun


@functools.partial(jit, static_argnames=("target", "shapes"))
def _chunk_terms(
    target: Target, shapes: Any, kwargs: Any, s: Any, u0: jnp.ndarray
) -> tuple[jnp.ndarray, jnp.ndarray, jnp.ndarray]:
    """(Σ ℓ_i, ∇, ∇²) at u₀ over one chunk's real rows (compiled once for a chunk's shape)."""
    unravel = ravel_pytree({k: jnp.zeros(v.shape, v.dtype) for k, v in shapes})[1]
    fun = _log_likelihood(target, s, unravel)
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


@functools.partial(jit, static_argnames=("target", "shapes", "settings", "batch", "rows"))
def streamed_fit(
    target: Target,
    shapes: Any,
    kwargs: Any,
    s: Any,
    key: jax.Array,
    settings: SVISettings,
    batch: int,
    rows: tuple[str, ...],
) -> tuple[dict[str, jnp.ndarray], jnp.ndarray, jnp.ndarray]:
    """Step 3: :func:`~.svi.fit_guide` on the Taylor model, started at the proxy's Laplace.

    The start: one Newton step from u₀ on −log p(u) − (L₀ + g₀ᵀd + ½dᵀH₀d), the prior's
    derivatives at u₀ by automatic differentiation, its Hessian's inverse the covariance
    Σ = L Lᵀ. The guide is fitted in the coordinates z whitened by it, u = a + L z (a:
    the Newton step's point), started at z ~ N(0, I): Adam's steps are then a fraction of
    a posterior sd at any n. In u (the scaled coordinates) a step of 10⁻³, the end of
    the default schedule, is about 3 posterior sds at 10⁷ rows, and the guide's mean
    jittered about 0.1 sd from the mode even after the average. A ``mean-field`` guide
    thus factorises over z, as for programs fitted in whitened coordinates
    (:func:`~.optimize.whiten`). Returns draws of u, as :func:`~.svi.svi_fit` does.
    """
    model = functools.partial(_taylor_model, batch=batch, rows=rows)
    engine = _engine(target, shapes, settings, model)
    data = {k: v for k, v in kwargs.items() if k not in (ROW_MASK, *TAYLOR_ARGUMENTS)}
    u0 = kwargs[REF]
    _, grad, H = _proxy(
        target, engine[2], data, rows, s, u0, kwargs[TOTAL], kwargs[GRAD], kwargs[HESS]
    )
    loc = u0 - jnp.linalg.solve(H, grad)
    chol = jnp.linalg.cholesky(jnp.linalg.inv(H))
    white = {**kwargs, SHIFT: loc, MIX: chol}
    eye = jnp.eye(loc.shape[0], dtype=loc.dtype)
    z, losses, stat = fit_guide(engine, (jnp.zeros_like(loc), eye), white, s, key, settings)
    flat, unravel = jax.vmap(lambda d: ravel_pytree(d)[0])(z), engine[2]
    return jax.vmap(unravel)(loc + flat @ chol.T), losses, stat


def _proxy(
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
) -> tuple[jnp.ndarray, jnp.ndarray, jnp.ndarray]:
    """The objective at u₀ (:func:`_proxy`), the Newton step and its decrement gᵀH⁻¹g."""
    unravel = ravel_pytree({k: jnp.zeros(v.shape, v.dtype) for k, v in shapes})[1]
    data = {k: v for k, v in kwargs.items() if k != ROW_MASK}
    value, grad, H = _proxy(target, unravel, data, rows, s, u0, *terms)
    step = -jnp.linalg.solve(H, grad)
    return value, step, -grad @ step


#: Draws of the fitted guide over which :func:`remainder_sd` is taken.
REMAINDER_DRAWS = 200

#: The largest sampling error of the remainder (:func:`remainder_sd`'s second sd, in
#: log-density units) kept when the table has more than one chunk: about the most, in
#: posterior sds, that the sample's error could move a mean. Measured: 0.004-0.006 for
#: 3,000 rows and a sample of 512 (sorted or shuffled); 0.15 and 0.61 for 60 rows, far
#: from Gaussian, and samples of 30 and 20 (means 0.08 and 0.04 sd from in-memory SVI's).
REMAINDER_ERROR = 0.1

#: Most passes of the streamed Newton iterations (each reads the table once).
MAX_PASSES = 30

#: The Newton decrement gᵀH⁻¹g below which the expansion point is close enough to the
#: mode: 0.01, about 0.1 posterior sd away (its square root, in the posterior's
#: Mahalanobis distance), where the Taylor remainder stays of third order; a shuffled
#: 3,000-row table's decrements went 3.4, 0.0023, 2·10⁻⁹ (two passes instead of three).
NEWTON_DECREMENT = 0.01


def streamed_mode(problem: Problem, u0: jnp.ndarray) -> tuple[jnp.ndarray, Any, dict[str, Any]]:
    """The full-data posterior mode by Newton's method, one pass over the table per step.

    The first pass evaluates u₀ and u = 0 (the intercept-only fit) and goes on from the
    better: a sample's mode can be far from the table's. Each pass gives the likelihood's
    value, gradient and Hessian over every row (:func:`taylor_terms`); the objective
    −log p(u) − L₀ is compared in float64. A step that raises it by more than 10⁻⁶ of its
    size (the float32 sums' noise) is halved (another pass): that test only saves passes
    on the first, long steps; whether the mode is found is decided by the Newton
    decrement alone. Stops when the decrement is below :data:`NEWTON_DECREMENT` (found),
    after :data:`MAX_PASSES` passes, or at a point where the objective or the decrement is
    not finite or the Hessian not positive definite (a negative decrement): not found.
    Returns the last point taken, its terms (L₀, g₀, H₀, in JAX's float type) and the
    record: passes, the decrements of the steps taken, ``newton_converged``.
    """
    shapes = hashable_shapes(problem.latent_shapes())
    rows = tuple(k for k in problem.model.row_arguments if k in problem.args)
    best: tuple[Any, ...] | None = None
    u, t, passes, found = u0, 1.0, 0, False
    decrements: list[float] = []  # of the steps taken, in order
    while passes < MAX_PASSES and not found:
        points = [u0, jnp.zeros_like(u0)] if best is None else [u]
        tried = []
        for point, raw in zip(points, taylor_terms(problem, points), strict=True):
            terms = tuple(jnp.asarray(a, u0.dtype) for a in raw)
            args = (problem.target, shapes, problem.kwargs, problem.scaling, point)
            prior, step, decrement = _newton(*args, (0.0, *terms[1:]), rows=rows)
            value = float(prior) - float(raw[0])  # float64: L₀ as summed
            if np.isfinite(value) and bool(np.all(np.isfinite(step))):
                tried.append((point, value, step, terms, float(decrement)))
        passes += 1
        here = min(tried, key=lambda found: found[1]) if tried else None
        if best is not None and (here is None or here[1] > best[1] + 1e-6 * abs(best[1])):
            t /= 2  # the step went too far: back along it
            u = best[0] + t * best[2]
            continue
        if here is None or not here[4] >= 0:  # nothing finite, or H not positive definite
            break
        best, t = here, 1.0
        decrements.append(best[4])
        found = best[4] < NEWTON_DECREMENT
        u = best[0] + best[2]
    if best is None:
        raise ConvergenceError(
            f"{problem.model.name}: SVI on a table read in chunks: the log-posterior is not "
            "finite at the start (the sample's mode, or u = 0)"
        )
    record = {"newton_passes": passes, "newton_decrement": best[4], "newton_path": decrements}
    return best[0], best[3], {**record, "newton_converged": found}


@functools.partial(jit, static_argnames=("target", "shapes"))
def _chunk_mode(target: Target, shapes: Any, kwargs: Any, s: Any, gtol: float) -> jnp.ndarray:
    """Step 1: the posterior mode on the sample's rows (u = 0 where it is not found)."""
    return laplace_start(target, shapes, kwargs, s, gtol)[0]


def run_streamed_svi(problem: Problem, key: jax.Array, settings: SVIOptions) -> Draws:
    """The kernel of minibatch SVI on a table read in chunks (``problem.streamed``).

    Raises ``ValueError`` (one line) without ``batch_size``: the rows are never held
    together, so there is no full-data gradient to take.
    """
    if settings.batch_size is None:
        raise ValueError(
            "batch_size: a table read in chunks (stream) is fitted on minibatches: set "
            "batch_size (e.g. 1000)"
        )
    share = problem.data.share
    assert share is not None
    shapes = hashable_shapes(problem.latent_shapes())
    target = problem.target
    gtol = default_gtol(float_dtype(), share.size)
    u0 = _chunk_mode(target, shapes, problem.kwargs, problem.scaling, gtol)
    u0, (total, grad, hess), found = streamed_mode(problem, u0)
    if not found["newton_converged"] and not settings.allow_unconverged:
        raise ConvergenceError(
            f"{problem.model.name}: SVI on a table read in chunks: Newton's method did not "
            f"find the mode in {found['newton_passes']} passes (decrement "
            f"{found['newton_decrement']:.3g}, tolerance {NEWTON_DECREMENT:g}, at most "
            f"{MAX_PASSES} passes); pass allow_unconverged=True to keep the fit"
        )
    taylor = {
        REF: u0,
        TOTAL: total,
        GRAD: grad,
        HESS: hess,
        ROWS: jnp.asarray(float(share.n), u0.dtype),
    }
    chains, num = settings.num_chains, settings.num_samples
    step = float(settings.step_size)
    static = SVISettings(settings.guide, settings.num_steps, step, chains * num)
    batch = min(int(settings.batch_size), share.size)
    rows = tuple(k for k in problem.model.row_arguments if k in problem.args)
    args = (target, shapes, {**problem.kwargs, **taylor}, problem.scaling, key, static)
    u, losses, z = streamed_fit(*args, batch=batch, rows=rows)
    flat = jax.vmap(lambda d: ravel_pytree(d)[0])(u)[:REMAINDER_DRAWS]
    spread, error = (
        float(a) for a in remainder_sd(target, shapes, args[2], problem.scaling, flat, rows)
    )
    pieces = len(chunks(share.n, share.size))
    if pieces > 1 and error > REMAINDER_ERROR and not settings.allow_unconverged:
        raise ConvergenceError(
            f"{problem.model.name}: SVI on a table read in chunks: the log-likelihood's "
            f"remainder beyond its quadratic expansion is estimated from a sample of "
            f"{share.size} of the {share.n} rows, and the sample's error varies by about "
            f"{error:.2g} over the posterior (tolerance {REMAINDER_ERROR:g}; the remainder "
            f"itself, {spread:.2g}): a larger sample (chunk_rows), the table read whole "
            "(without stream), or allow_unconverged=True"
        )
    record = {
        "rows_per_step": batch,
        "rows_held": share.size,
        "chunks": pieces,
        "control_variates": "taylor at the full-data mode",
        "taylor_remainder_sd": spread,
        "taylor_remainder_error": error,
        **found,
    }
    draws = judged(problem, settings, u, losses, z, record)
    draws.record["converged"] = bool(draws.record["converged"] and found["newton_converged"])
    return draws
