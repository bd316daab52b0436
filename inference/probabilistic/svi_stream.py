"""Minibatch SVI on a table read chunk by chunk, with Taylor control variates (issue 27).

A Parquet table read for streaming (:func:`.shares.read_streamed`: one pass for the
column summaries, keeping a uniform sample of c rows) is never held whole. The fit:

1. **A start**: Newton's method on the sample's log-likelihood times n/c, plus the prior
   (:func:`~.stream_mode.sample_mode`), about √(n/c) posterior sds from the table's mode.
2. **The full-data mode by Newton's method** (:func:`~.stream_mode.streamed_mode`), one
   pass over the table per step: each pass sums the log-likelihood's value, gradient
   and Hessian over every row, a chunk at a time (:func:`~.stream_mode.taylor_terms`;
   the Hessian by blocks of rows, as the Laplace approximation's). Its last point u₀
   and its sums L₀, g₀ and H₀ are kept.
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
import numpyro
import numpyro.distributions as dist
from jax.flatten_util import ravel_pytree
from numpyro.distributions import constraints

from freqbayes.inference.optim import ConvergenceError
from freqbayes.inference.precision import jit
from freqbayes.inference.probabilistic.method import Draws
from freqbayes.inference.probabilistic.problem import (
    Problem,
    Target,
    hashable_shapes,
)
from freqbayes.inference.probabilistic.rows import ROW_MASK
from freqbayes.inference.probabilistic.shares import chunks
from freqbayes.inference.probabilistic.stream_mode import (
    proxy_terms,
    sample_mode,
    streamed_mode,
)
from freqbayes.inference.probabilistic.svi import (
    SVIOptions,
    SVISettings,
    _engine,
    fit_guide,
    flat_zeros,
    judged,
    minibatch_terms,
)

#: The Taylor model's own keyword arguments (traced): u₀, L₀, g₀, H₀ and n.
REF, TOTAL, GRAD, HESS, ROWS = "_taylor_u0", "_taylor_l0", "_taylor_g0", "_taylor_h0", "_taylor_n"
#: The whitening u = a + L z of the guide's coordinates z (traced; :func:`streamed_fit`).
SHIFT, MIX = "_white_a", "_white_l"
#: The rows the minibatches are drawn from (traced): the first ``HELD`` of the row arguments.
HELD = "_taylor_held"
TAYLOR_ARGUMENTS = (REF, TOTAL, GRAD, HESS, ROWS, SHIFT, MIX, HELD)


def _program_data(kwargs: Any) -> dict[str, Any]:
    """The program's own arguments: ``kwargs`` without the row mask and the Taylor model's."""
    return {k: v for k, v in kwargs.items() if k not in (ROW_MASK, *TAYLOR_ARGUMENTS)}


def _taylor_model(
    *,
    target: Target,
    unravel: Any,
    size: int,
    kwargs: Any,
    s: Any,
    batch: int,
    rows: tuple[str, ...],
    order: int = 2,
) -> None:
    """The scaled model with the log-likelihood of the module's docstring (step 3).

    Its site ``u`` holds the whitened z; u = a + L z (a constant Jacobian, left out). The
    minibatch is drawn from the first ``kwargs[HELD]`` rows (the sample's, all real; or
    the real rows of data in memory, before their padding). ``order`` 1: the expansion
    and the q_i stop at the gradient (:mod:`.svi_control`; H₀ then only whitens).
    """
    z = numpyro.sample("u", dist.ImproperUniform(constraints.real, (), (size,)))
    u = kwargs[SHIFT] + kwargs[MIX] @ z
    data = _program_data(kwargs)
    drawn = jax.random.randint(numpyro.prng_key(), (batch,), 0, kwargs[HELD])
    prior, rest = _remainders(target, unravel, data, rows, drawn, s, u, kwargs[REF], order)
    d = u - kwargs[REF]
    whole = kwargs[TOTAL] + kwargs[GRAD] @ d
    if order == 2:
        whole = whole + 0.5 * d @ kwargs[HESS] @ d
    numpyro.factor("log_likelihood", whole + kwargs[ROWS] / batch * jnp.sum(rest))
    numpyro.factor("log_prior", -prior)


def _remainders(
    target: Target,
    unravel: Any,
    data: Any,
    rows: tuple[str, ...],
    drawn: jnp.ndarray,
    s: Any,
    u: jnp.ndarray,
    u0: jnp.ndarray,
    order: int = 2,
) -> tuple[jnp.ndarray, jnp.ndarray]:
    """(−log p(u), ℓ_i(u) − q_i(u) for i in ``drawn``): the prior, and the rows' remainders.

    q_i is ℓ_i's expansion of ``order`` (1 or 2) at u₀, by forward-mode derivatives along
    d = u − u₀, for the drawn rows only.
    """
    d = u - u0

    def terms(v: jnp.ndarray) -> jnp.ndarray:
        return minibatch_terms(target, data, rows, drawn, s, unravel(v))[1]

    def slope(v: jnp.ndarray) -> jnp.ndarray:
        return jax.jvp(terms, (v,), (d,))[1]

    at_u0, first = jax.jvp(terms, (u0,), (d,))
    prior, here = minibatch_terms(target, data, rows, drawn, s, unravel(u))
    if order == 1:
        return prior, here - (at_u0 + first)
    second = jax.jvp(slope, (u0,), (d,))[1]
    return prior, here - (at_u0 + first + 0.5 * second)


@functools.partial(jit, static_argnames=("target", "shapes", "rows"))
def remainder_sd(
    target: Target, shapes: Any, kwargs: Any, s: Any, u: jnp.ndarray, rows: tuple[str, ...]
) -> tuple[jnp.ndarray, jnp.ndarray]:
    """How large the remainder is over draws ``u`` (k × dim), and how well the sample knows it.

    Returns two sds over the draws, in log-density units:

    - of R(u) = (n/c) Σ_{i in sample} (ℓ_i(u) − q_i(u)), the remainder's estimate from
      every row of the sample: how far the log-likelihood is from its quadratic
      expansion over the posterior (0: the posterior is the proxy's);
    - of E(u) = (n/c) (Σ_{i∈A} − Σ_{i∉A}) (ℓ_i(u) − q_i(u)), A a random half of the
      sample's rows: half the difference of two independent half-sample estimates, so
      of the order of R's sampling error. An error term of sd e over the
      posterior moves a mean by at most about e posterior sds (its correlation with the
      parameter, times e), so a small E means the sample is large enough.

    In float32 each row's remainder, a difference of terms of order 1, carries rounding
    of about 3·10⁻⁸, independent from draw to draw: E has a floor (by arithmetic) of about
    3·10⁻⁸ n/√c (0.001 at n = 10⁷ and c = 131,072, where 0.003 was measured), which
    would reach the tolerance near n = 5·10⁸: fit such tables in float64
    (``JAX_ENABLE_X64=1``).
    """
    unravel = flat_zeros(shapes)[1]
    data = _program_data(kwargs)
    held = data[rows[0]].shape[0]
    # halves at random (a fixed key): neighbours in the table's order, alike in a sorted
    # table, would hide the sample's error
    order = jax.random.permutation(jax.random.key(0), held)
    sign = jnp.where(order < held // 2, 1.0, -1.0).astype(u.dtype)

    def one(v: jnp.ndarray) -> jnp.ndarray:
        terms = _remainders(target, unravel, data, rows, jnp.arange(held), s, v, kwargs[REF])[1]
        return jnp.stack([terms.sum(), sign @ terms])

    both = jax.lax.map(one, u) * kwargs[ROWS] / held
    return jnp.std(both[:, 0]), jnp.std(both[:, 1])


@functools.partial(jit, static_argnames=("target", "shapes", "settings", "batch", "rows", "order"))
def streamed_fit(
    target: Target,
    shapes: Any,
    kwargs: Any,
    s: Any,
    key: jax.Array,
    settings: SVISettings,
    batch: int,
    rows: tuple[str, ...],
    order: int = 2,
) -> tuple[dict[str, jnp.ndarray], jnp.ndarray, jnp.ndarray]:
    """Step 3: :func:`~.svi.fit_guide` on the Taylor model, started at the proxy's Laplace.

    The start: one Newton step from u₀ on −log p(u) − (L₀ + g₀ᵀd + ½dᵀH₀d), the prior's
    derivatives at u₀ by automatic differentiation, its Hessian's inverse the covariance
    Σ = L Lᵀ (L = C⁻ᵀ for H = C Cᵀ). The guide is fitted in the coordinates z whitened
    by it, u = a + L z (a: the Newton step's point), started at z ~ N(0, I): Adam's steps
    are then a fraction of a posterior sd at any n. In u (the scaled coordinates) a step
    of 10⁻³, the end of the default schedule, is about 3 posterior sds at 10⁷ rows, and
    the guide's mean jittered about 0.1 sd from the mode even after the average. A
    ``mean-field`` guide thus factorises over z, as for programs fitted in whitened
    coordinates (:func:`~.optimize.whiten`). Returns draws of u, as :func:`~.svi.svi_fit`
    does. ``order``: the Taylor model's (:func:`_taylor_model`); with 1, H₀ is an
    approximation that only starts the guide and whitens its coordinates.
    """
    model = functools.partial(_taylor_model, batch=batch, rows=rows, order=order)
    engine = _engine(target, shapes, settings, model)
    data = _program_data(kwargs)
    u0 = kwargs[REF]
    _, grad, H = proxy_terms(
        target, engine[2], data, rows, s, u0, kwargs[TOTAL], kwargs[GRAD], kwargs[HESS]
    )
    loc = u0 - jnp.linalg.solve(H, grad)
    eye = jnp.eye(loc.shape[0], dtype=loc.dtype)
    # a square root of H⁻¹ without inverting H: H = C Cᵀ, so H⁻¹ = C⁻ᵀ C⁻¹ and M = C⁻ᵀ
    chol = jax.scipy.linalg.solve_triangular(jnp.linalg.cholesky(H), eye, lower=True).T
    white = {**kwargs, SHIFT: loc, MIX: chol}
    z, losses, stat = fit_guide(engine, (jnp.zeros_like(loc), eye), white, s, key, settings)
    flat, unravel = jax.vmap(lambda d: ravel_pytree(d)[0])(z), engine[2]
    return jax.vmap(unravel)(loc + flat @ chol.T), losses, stat


#: Draws of the fitted guide over which :func:`remainder_sd` is taken.
REMAINDER_DRAWS = 200

#: The largest sampling error of the remainder (:func:`remainder_sd`'s second sd, in
#: log-density units) kept when the table has more than one chunk: about the most, in
#: posterior sds, that the sample's error could move a mean. Measured: 0.003-0.008 for
#: 3,000 rows and a sample of 512 (sorted or shuffled); 0.15 and 0.61 for 60 rows, far
#: from Gaussian, and samples of 30 and 20 (halves of alternate rows then; means 0.08
#: and 0.04 sd from in-memory SVI's).
REMAINDER_ERROR = 0.1


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
    if settings.control_variates != "taylor":
        raise ValueError(
            f"control_variates={settings.control_variates!r}: a table read in chunks "
            "(stream) is fitted with Taylor control variates only"
        )
    share = problem.data.share
    assert share is not None
    shapes = hashable_shapes(problem.latent_shapes())
    target = problem.target
    what = "SVI on a table read in chunks"
    # the sample's mode, unchecked: the first pass also tries u = 0 and goes on from the better
    u0, _, start = sample_mode(problem, problem.kwargs, share.n, share.size, what)
    u0, terms, found = streamed_mode(problem, u0)
    check_newton(problem, f"{what}: Newton's method", found, settings)
    batch = min(int(settings.batch_size), share.size)
    rows = problem.target.rows  # the row arguments (a streamed problem is on one device)
    kwargs = {**problem.kwargs, **taylor_arguments(u0, terms, share.n, share.size)}
    # at least REMAINDER_DRAWS draws for the guard, whatever the draws kept
    draws = max(settings.num_chains * settings.num_samples, REMAINDER_DRAWS)
    u, losses, z = fit_taylor(problem, key, settings, kwargs, batch, rows, 2, draws)
    flat = jax.vmap(lambda d: ravel_pytree(d)[0])(u)[:REMAINDER_DRAWS]
    u = {k: v[: settings.num_chains * settings.num_samples] for k, v in u.items()}
    spread, error = (
        float(a) for a in remainder_sd(target, shapes, kwargs, problem.scaling, flat, rows)
    )
    pieces = len(chunks(share.n, share.size))
    if pieces > 1 and error > REMAINDER_ERROR and not settings.allow_unconverged:
        raise ConvergenceError(
            f"{problem.model.name}: SVI on a table read in chunks: the log-likelihood's "
            f"remainder beyond its quadratic expansion is estimated from a sample of "
            f"{share.size} of the {share.n} rows, and the sample's error varies by about "
            f"{error:.2g} over the posterior (tolerance {REMAINDER_ERROR:g}; the remainder "
            f"itself, {spread:.2g}): a larger sample (--chunk-rows, chunk_rows), the table "
            "read whole (without stream), or allow_unconverged=True"
        )
    record = {
        "sample_newton_passes": start["newton_passes"],
        "sample_newton_converged": start["newton_converged"],
        "rows_per_step": batch,
        "rows_held": share.size,
        "chunks": pieces,
        "taylor_remainder_sd": spread,
        "taylor_remainder_error": error,
        **found,
    }
    return judged_taylor(problem, settings, (u, losses, z), record, 2)


def taylor_arguments(u0: jnp.ndarray, terms: Any, n: int, held: int) -> dict[str, Any]:
    """The Taylor model's arguments: u₀, its (L₀, g₀, H₀), n rows, minibatches from ``held``."""
    total, grad, hess = terms
    return {
        REF: u0,
        TOTAL: total,
        GRAD: grad,
        HESS: hess,
        ROWS: jnp.asarray(float(n), u0.dtype),
        HELD: jnp.asarray(held, jnp.int32),
    }


def check_newton(problem: Problem, what: str, found: dict[str, Any], settings: SVIOptions) -> None:
    """Raise :class:`ConvergenceError` (one line) when ``what`` did not find the mode.

    Unless ``allow_unconverged``; ``found`` is :func:`~.stream_mode.streamed_mode`'s record.
    """
    if found["newton_converged"] or settings.allow_unconverged:
        return
    raise ConvergenceError(
        f"{problem.model.name}: {what} did not find the mode in {found['newton_passes']} "
        f"passes (decrement {found['newton_decrement']:.3g}, tolerance "
        f"{found['newton_tolerance']:.3g}, at most {found['newton_max_passes']} passes); "
        "pass allow_unconverged=True to keep the fit"
    )


def fit_taylor(
    problem: Problem,
    key: jax.Array,
    settings: SVIOptions,
    kwargs: Any,
    batch: int,
    rows: tuple[str, ...],
    order: int,
    draws: int,
) -> tuple[dict[str, jnp.ndarray], jnp.ndarray, jnp.ndarray]:
    """:func:`streamed_fit` of ``problem`` with ``settings``' guide and steps, ``draws`` draws."""
    static = SVISettings(settings.guide, settings.num_steps, float(settings.step_size), draws)
    shapes = hashable_shapes(problem.latent_shapes())
    args = (problem.target, shapes, kwargs, problem.scaling, key, static)
    return streamed_fit(*args, batch=batch, rows=rows, order=order)


def judged_taylor(
    problem: Problem, settings: SVIOptions, fitted: Any, record: dict[str, Any], order: int
) -> Draws:
    """:func:`~.svi.judged` of a Taylor fit: converged only if its Newton iteration was too."""
    record = {**record, "taylor_order": order}
    draws = judged(problem, settings, *fitted, record)
    draws.record["converged"] = bool(draws.record["converged"] and record["newton_converged"])
    return draws
