"""Stochastic variational inference (SVI): a Gaussian guide started at the Laplace approximation.

It works on the scaled unconstrained coordinates u
(:mod:`freqbayes.inference.probabilistic.problem`) and returns draws reshaped to
(chain, draw) with the sizes of the NUTS fit it is compared with. The mean-field
guide factorises over the *centred and scaled* coordinates, which removes most of
the intercept–slope correlation of raw data. (Minibatch fits with Taylor control
variates, :mod:`.svi_control` and :mod:`.svi_stream`, fit it in coordinates whitened by
an approximate Laplace approximation instead.)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import numpyro.optim
import optax
from jax.flatten_util import ravel_pytree
from numpyro.distributions import constraints
from numpyro.infer import SVI, Trace_ELBO
from numpyro.infer.autoguide import AutoMultivariateNormal, AutoNormal
from numpyro.infer.initialization import init_to_value

from freqbayes.inference.compilation import SizedJit
from freqbayes.inference.optim import ConvergenceError, default_gtol
from freqbayes.inference.probabilistic.laplace import laplace_start
from freqbayes.inference.probabilistic.method import (
    Draws,
    as_chains,
)
from freqbayes.inference.probabilistic.problem import (
    Problem,
    Target,
    constrained_draws,
    float_dtype,
    hashable_shapes,
)
from freqbayes.inference.probabilistic.rows import ROW_MASK

GUIDES = {"mean-field": AutoNormal, "full-rank": AutoMultivariateNormal}


def flat_zeros(shapes: Any) -> tuple[jnp.ndarray, Any]:
    """(u = 0 flat, unravel) for latent sites of ``shapes`` (:func:`.problem.hashable_shapes`)."""
    return ravel_pytree({k: jnp.zeros(v.shape, v.dtype) for k, v in shapes})


def _scaled_model(*, target: Target, unravel: Any, size: int, kwargs: Any, s: Any) -> None:
    """A NumPyro model on the flat scaled coordinates u: flat 'prior', the potential as a factor.

    Its density in u is the posterior's (up to a constant), so a guide on ``u`` approximates
    the posterior in the centred and scaled coordinates (potential: :meth:`Target.objective`).
    """
    u = numpyro.sample("u", dist.ImproperUniform(constraints.real, (), (size,)))
    with numpyro.handlers.block():  # the program's own sites stay inside the potential
        potential = target.objective(lambda v, kw: target.potential(kw, s, unravel(v)), kwargs)(u)
    numpyro.factor("log_density", -potential)


class Subsample(NamedTuple):
    """A minibatch of the rows: which data arguments have rows, n real rows, m′ drawn.

    Hashable (a static argument of the compiled fits): the plate's sizes are static.
    """

    rows: tuple[str, ...]
    n: int
    size: int


def subsample_of(problem: Problem, batch_size: int | None) -> Subsample | None:
    """The :class:`Subsample` of ``problem`` for a minibatch of ``batch_size`` rows.

    None when ``batch_size`` is None or covers every row (full data). Only the real rows
    are drawn: n counts them, and padded rows (:mod:`.rows`) come after them. A model
    whose row arguments are not declared (``Model.pads_rows`` false: a user's program,
    the GP classifier, whose latent has one value per row) is refused.
    """
    if batch_size is None or batch_size >= problem.n:
        return None
    if not getattr(problem.model, "pads_rows", False):  # its row arguments are not declared
        raise ValueError(
            f"batch_size: model {problem.model.name!r} does not declare which of its "
            "arguments have one row per observation (Model.pads_rows): fit it on all rows"
        )
    rows = tuple(k for k in problem.model.row_arguments if k in problem.args)
    return Subsample(rows, problem.n, int(batch_size))


#: The minibatch estimates of the log-likelihood (``control_variates``): n/m′ times the
#: minibatch's sum (:func:`_subsampled_model`), or with Taylor control variates
#: (:mod:`.svi_control` in memory, :mod:`.svi_stream` for a table read in chunks).
CONTROL_VARIATES = ("taylor", "none")

#: The name of the minibatch plate (HMCECS finds it by its ``subsample_size``).
ROWS_PLATE = "_rows"


def _draw_with_replacement(size: int, subsample_size: int, rng_key: Any = None) -> jnp.ndarray:
    """m′ row indices drawn uniformly from [0, size) with replacement: O(m′), not O(n)."""
    return jax.random.randint(rng_key, (subsample_size,), 0, size)


class _WithReplacement(numpyro.primitives.Messenger):
    """Draw the rows of :data:`ROWS_PLATE` with replacement.

    NumPyro's plate draws without replacement, on the CPU by a partial Fisher–Yates
    shuffle of all n indices (m′ sequential steps on an array of n per draw; elsewhere a
    permutation of n). With 10⁴ rows and m′ = 1,000, 5,000 SVI steps took 4.9 s that
    way and 0.2 s with replacement (compiled; 2026-12-05, this loaded 2-core machine).
    With replacement the scaled sum is as unbiased, and HMCECS draws its blocks with
    replacement too.
    """

    def process_message(self, msg: dict[str, Any]) -> None:
        if msg["type"] == "plate" and msg["name"] == ROWS_PLATE:
            msg["fn"] = _draw_with_replacement


def _subsampled_model(
    *, target: Target, unravel: Any, size: int, kwargs: Any, s: Any, subsample: Subsample
) -> None:
    """:func:`_scaled_model` with the likelihood on a minibatch of m′ of the n real rows.

    The rows are drawn by NumPyro's ``plate(..., subsample_size=m′)`` (with replacement:
    :class:`_WithReplacement`), which scales the
    log-likelihood factor inside it by n/m′, so that

        log p̂(u, y) = log p(u) + (n/m′) Σ_{i∈B} log p(y_i | u)

    is an unbiased estimate of log p(u, y), and its gradient of the full-data gradient:
    the minibatch estimate of eq. 5.98, summed over all n rows rather than averaged (the
    prior is counted once, as in SGLD). The plate draws indices in [0, n): never a padded
    row. HMCECS (:mod:`.hmcecs`) finds the same plate and replaces the scaled sum by its
    control-variate estimate.
    """
    u = numpyro.sample("u", dist.ImproperUniform(constraints.real, (), (size,)))
    data = {k: v for k, v in kwargs.items() if k != ROW_MASK}
    with _WithReplacement():
        plate = numpyro.plate(ROWS_PLATE, subsample.n, subsample_size=subsample.size)
    with plate as rows:
        prior, terms = minibatch_terms(target, data, subsample.rows, rows, s, unravel(u))
        numpyro.factor("log_likelihood", terms)
    numpyro.factor("log_prior", -prior)


def minibatch_terms(
    target: Target,
    data: Mapping[str, Any],
    row_arguments: tuple[str, ...],
    rows: jnp.ndarray,
    s: Any,
    theta: Any,
) -> tuple[jnp.ndarray, jnp.ndarray]:
    """The prior's potential and the log-likelihood of each of the m′ ``rows`` drawn, at θ.

    ``data`` are the program's arguments (without a row mask), of which ``row_arguments``
    have one row per observation: each of those is cut to ``rows``. Returns (−log p(θ),
    log p(y_i | θ) for i in ``rows``: shape (m′,)), computed with the program's own sites
    hidden, for a minibatch model to scale (:func:`_subsampled_model`,
    :mod:`.svi_stream`).
    """
    prior_only = target.prior_only()
    batch = {**data, **{k: data[k][rows] for k in row_arguments}}
    with numpyro.handlers.block():  # the program's own sites stay inside the factors
        prior = prior_only.potential(batch, s, theta)
        terms = target.pointwise_log_likelihood(batch, target.constrain(batch, s, theta))
    return prior, terms.reshape(rows.shape[0], -1).sum(-1)


class SVISettings(NamedTuple):
    """The static settings of an SVI fit (hashable: part of the compiled program's key)."""

    guide: str
    num_steps: int
    step_size: float
    num_draws: int
    subsample: Subsample | None = None


def _engine(
    target: Target, shapes: Any, settings: SVISettings, model: Callable[..., None] | None = None
) -> tuple[Any, Any, Any]:
    """The SVI engine on the flat u of a problem whose latent sites have ``shapes``.

    Its program is ``model`` (a model on u taking ``target``, ``unravel`` and ``size``
    like :func:`_scaled_model`) when given, else :func:`_subsampled_model` for a
    minibatch fit and :func:`_scaled_model` for a full-data one.
    """
    zeros, unravel = flat_zeros(shapes)
    if model is None and settings.subsample is not None:
        model = functools.partial(_subsampled_model, subsample=settings.subsample)
    model = _scaled_model if model is None else model
    program = functools.partial(model, target=target, unravel=unravel, size=zeros.shape[0])
    auto = GUIDES[settings.guide](
        program, init_loc_fn=init_to_value(values={"u": zeros}), init_scale=0.1
    )
    schedule = optax.exponential_decay(
        settings.step_size, transition_steps=settings.num_steps, decay_rate=0.1
    )
    optim = numpyro.optim.optax_to_numpyro(optax.adam(schedule))
    return SVI(program, auto, optim, Trace_ELBO()), auto, unravel


#: The guide's sd at the start of a minibatch fit (u = 0, the intercept-only fit): the
#: scaled coordinates make 1 a generous prior scale, and the ELBO shrinks it to 1/√n's order.
START_SCALE = 0.1

#: Share of the steps whose iterates are averaged (Polyak–Ruppert) into the fitted guide.
AVERAGE_TAIL = 0.2

#: Particles used to test whether the ELBO's gradient vanishes at the end of a fit.
GRADIENT_PARTICLES = 256

#: A fit is converged when no guide parameter's mean ELBO gradient is more than this many
#: standard errors from 0 (5: about one false alarm in 10⁴ fits of a few hundred parameters).
GRADIENT_Z = 5.0


def svi_fit(
    target: Target,
    shapes: Any,
    kwargs: Mapping[str, Any],
    s: Any,
    key: jax.Array,
    settings: SVISettings,
    gtol: float,
) -> tuple[dict[str, jnp.ndarray], jnp.ndarray, jnp.ndarray]:
    """Fit the guide by ``num_steps`` Adam steps and draw from it: a pure function.

    The guide starts at the Laplace approximation (:func:`laplace_start`): the
    full-rank guide at (mode, H⁻¹), the mean-field one at the mode with the
    conditional sds 1/√H_jj (the mean-field optimum when the posterior is Gaussian).

    Returns ``num_draws`` draws of u (a dict like the latent sites), the losses
    (−ELBO estimates, one per step) and the convergence statistic: the largest
    |mean| / standard error, over the guide's parameters, of the ELBO gradient at the
    final parameters estimated from :data:`GRADIENT_PARTICLES` independent particles.
    At the optimum every mean gradient is 0; an unfinished fit leaves some many
    standard errors away. (A flat loss curve says little here: the step size decays,
    so every run ends flat.) ``vmap`` it over data sets (the simulation-based
    calibration does).
    """
    engine = _engine(target, shapes, settings)
    if settings.subsample is None:
        loc, chol = laplace_start(target, shapes, kwargs, s, gtol)
    else:  # a full-data Laplace start would cost more than the minibatch fit saves
        loc = flat_zeros(shapes)[0]
        chol = START_SCALE * jnp.eye(loc.shape[0], dtype=loc.dtype)
    return fit_guide(engine, (loc, chol), kwargs, s, key, settings)


def fit_guide(
    engine: tuple[Any, Any, Any],
    start: tuple[jnp.ndarray, jnp.ndarray],
    kwargs: Mapping[str, Any],
    s: Any,
    key: jax.Array,
    settings: SVISettings,
) -> tuple[dict[str, jnp.ndarray], jnp.ndarray, jnp.ndarray]:
    """:func:`svi_fit` from ``engine`` (:func:`_engine`) and a Gaussian start (loc, Cholesky).

    The steps, the Polyak–Ruppert average, the convergence statistic and the draws.
    """
    engine, auto, unravel = engine
    loc, chol = start
    key_init, key_draw, key_check = jax.random.split(key, 3)
    if settings.guide == "full-rank":
        start = {"auto_loc": loc, "auto_scale_tril": chol}
    else:
        precision = jnp.linalg.inv(chol @ chol.T)
        start = {"u_auto_loc": loc, "u_auto_scale": 1.0 / jnp.sqrt(jnp.diag(precision))}
    state = engine.init(key_init, init_params=start, kwargs=kwargs, s=s)

    tail = max(1, int(settings.num_steps * AVERAGE_TAIL))
    first = settings.num_steps - tail  # the first step averaged

    def step(carry: tuple[Any, Any], i: jnp.ndarray) -> tuple[tuple[Any, Any], jnp.ndarray]:
        # one scan for every step, the average summed from step `first` on: the model is
        # traced once, not once per scan (tracing is seconds of a new process's fit)
        state, total = carry
        state, value = engine.update(state, kwargs=kwargs, s=s)
        free = engine.optim.get_params(state.optim_state)
        total = jax.tree.map(lambda t, f: jnp.where(i >= first, t + f, t), total, free)
        return (state, total), value

    zero = jax.tree.map(jnp.zeros_like, engine.optim.get_params(state.optim_state))
    steps = jnp.arange(settings.num_steps)
    (state, total), losses = jax.lax.scan(step, (state, zero), steps)
    # Polyak–Ruppert: the average of the last iterates, not the last (jittering) one
    free = jax.tree.map(lambda a: a / tail, total)

    def loss(p: Any, k: jax.Array) -> jnp.ndarray:
        return engine.loss.loss(k, engine.constrain_fn(p), engine.model, auto, kwargs=kwargs, s=s)

    keys = jax.random.split(key_check, GRADIENT_PARTICLES)
    grads = jax.vmap(lambda k: ravel_pytree(jax.grad(loss)(free, k))[0])(keys)
    se = jnp.std(grads, axis=0) / jnp.sqrt(GRADIENT_PARTICLES)
    z = jnp.max(jnp.abs(jnp.mean(grads, axis=0)) / jnp.maximum(se, 1e-30))
    params = engine.constrain_fn(free)
    draws = auto.sample_posterior(key_draw, params, sample_shape=(settings.num_draws,))
    return jax.vmap(unravel)(draws["u"]), losses, z


#: :func:`svi_fit` compiled quickly for small data (XLA's backend optimisation off up to
#: :data:`~freqbayes.inference.compilation.QUICK_COMPILE_ROWS` rows), optimised beyond. The
#: program (10,000 Adam steps, a Laplace start, 256 gradient particles) took 14.3 s to
#: compile and 0.4 s to run on the breast-cancer logistic regression (569 rows, padded to
#: 576); compiled quickly, 3.8 s and 1.4 s (2026-12-05, this 2-core machine, loaded).
_svi_fit = SizedJit(svi_fit, static_argnames=("target", "shapes", "settings"))


class SVIOptions(NamedTuple):
    """SVI's settings: the guide, the optimiser's steps and step size, the draws' shape."""

    guide: str = "mean-field"
    num_steps: int = 10_000
    step_size: float = 0.01
    num_chains: int = 4
    num_samples: int = 1000
    allow_unconverged: bool = False
    batch_size: int | None = None
    control_variates: str = "taylor"


def run_svi(problem: Problem, key: jax.Array, settings: SVIOptions) -> Draws:
    """The kernel: :func:`svi_fit` (one compiled call), its convergence judged, the draws."""
    guide, num_steps = settings.guide, settings.num_steps
    chains, num = settings.num_chains, settings.num_samples
    subsample = subsample_of(problem, settings.batch_size)
    static = SVISettings(guide, num_steps, float(settings.step_size), chains * num, subsample)
    shapes = hashable_shapes(problem.latent_shapes())
    gtol = default_gtol(float_dtype(), problem.n)
    args = (problem.target, shapes, problem.kwargs, problem.scaling, key, static, gtol)
    u, losses, z = _svi_fit.for_rows(problem.size)(*args)
    rows = problem.n if subsample is None else subsample.size
    return judged(problem, settings, u, losses, z, {"rows_per_step": rows})


def judged(
    problem: Problem,
    settings: SVIOptions,
    u: Any,
    losses: Any,
    z: Any,
    record: Mapping[str, Any],
) -> Draws:
    """The draws of a fit of :func:`fit_guide`, its convergence judged, and its record.

    Raises :class:`ConvergenceError` when the ELBO became non-finite, or when its gradient
    did not vanish and ``allow_unconverged`` is false.
    """
    guide, num_steps = settings.guide, settings.num_steps
    chains, num = settings.num_chains, settings.num_samples
    losses, z = np.asarray(losses), float(z)
    if not np.all(np.isfinite(losses[-max(1, num_steps // 10) :])):
        raise ConvergenceError(f"{problem.model.name}: SVI: the ELBO became non-finite")
    converged = bool(z <= GRADIENT_Z)
    if not converged and not settings.allow_unconverged:
        raise ConvergenceError(
            f"{problem.model.name}: SVI ({guide}) did not converge in {num_steps} steps: "
            f"the ELBO's gradient at the end is {z:.1f} standard errors from 0 for some "
            f"guide parameter (tolerance {GRADIENT_Z:g}). Use more steps (num_steps) or "
            "pass allow_unconverged=True."
        )
    record = {
        "final_elbo_loss": float(losses[-max(1, num_steps // 10) :].mean()),
        "converged": converged,
        "gradient_z": z,
        **record,
    }
    return Draws(as_chains(constrained_draws(problem, u), chains, num), record)
