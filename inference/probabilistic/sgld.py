"""Stochastic-gradient Langevin dynamics: SGD plus Gaussian noise draws from the posterior.

SGLD (Welling & Teh, 2011) is the bridge from SGD (§5.9) to Bayesian inference
(§5.6). On the unconstrained parameters u, with U(u) = −log p(u | data),

    u ← u − (ε/2) ĝ + √ε ξ,   ξ ~ N(0, I),

where ĝ = −∇ log p(u) − (N/m′) Σ_{i∈B} ∇ log p(yᵢ | u) is an unbiased estimate of the
*full-data* gradient ∇U from a minibatch B of m′ rows. It is not eq. 5.98's
minibatch *mean* g = (1/m′) Σ ∇L: the log-likelihood is summed over all N rows
(scaled up by N/m′), because the posterior weighs all N observations against the
prior once; a mean would act as a prior N times too strong. Without
the noise this is SGD on the negative log-posterior, which converges to the MAP;
with it, the iterates are (for small ε) draws from the posterior.

The kernel is written in the style of BlackJAX: :class:`SGLDState`, :func:`init`,
:func:`build_kernel` returning ``kernel(key, state) -> (state, info)``. The
minibatch potential comes from the model's own NumPyro program: the prior term is
the program's potential with the observed site hidden, so nothing about the model
is written twice. Like every method it runs on the centred and scaled coordinates
of :mod:`freqbayes.inference.probabilistic.problem`, where one step size suits any units.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import xarray as xr

from freqbayes.inference.precision import jit
from freqbayes.inference.probabilistic.method import (
    Draws,
    Method,
    as_chains,
    optional,
    positive,
    positive_int,
)
from freqbayes.inference.probabilistic.problem import (
    Problem,
    Target,
    constrained_draws,
    initial_points,
)
from freqbayes.inference.probabilistic.rows import ROW_MASK

Position = dict[str, jnp.ndarray]


class SGLDState(NamedTuple):
    """State of SGLD.

    Attributes
    ----------
    position : dict of arrays
        Unconstrained parameters u.
    step : array () int
        Updates made so far.
    """

    position: Position
    step: jnp.ndarray


class SGLDInfo(NamedTuple):
    """What one SGLD update did.

    Attributes
    ----------
    grad_norm : array ()
        ‖ĝ‖ of the minibatch gradient estimate.
    """

    grad_norm: jnp.ndarray


def init(position: Position) -> SGLDState:
    """The state at ``position`` (unconstrained), no step made."""
    return SGLDState(position, jnp.zeros((), jnp.int32))


def build_kernel(
    grad_estimate: Callable[[jax.Array, Position], Position],
    step_size: float,
    tamed: bool = False,
) -> Callable[[jax.Array, SGLDState], tuple[SGLDState, SGLDInfo]]:
    """SGLD transition for a stochastic gradient ``grad_estimate(key, u)`` of U = −log p.

    Returns ``kernel(key, state) -> (state, info)``: u ← u − (ε/2) ĝ + √ε ξ.
    ``tamed``: the drift (ε/2) ĝ is divided by 1 + (ε/2)‖ĝ‖ (the tamed Langevin
    algorithm of Brosse, Durmus, Moulines & Sabanis, 2019), so that no step moves u by
    more than 1 + noise whatever the gradient; near the mode, where (ε/2)‖ĝ‖ ≪ 1, it
    is the plain update.
    """

    def kernel(key: jax.Array, state: SGLDState) -> tuple[SGLDState, SGLDInfo]:
        key_batch, key_noise = jax.random.split(key)
        grad = grad_estimate(key_batch, state.position)
        leaves, treedef = jax.tree.flatten(state.position)
        noise_keys = jax.tree.unflatten(treedef, list(jax.random.split(key_noise, len(leaves))))
        norm = jnp.sqrt(sum(jnp.sum(g**2) for g in jax.tree.leaves(grad)))
        drift = 0.5 * step_size / (1.0 + 0.5 * step_size * norm) if tamed else 0.5 * step_size
        position = jax.tree.map(
            lambda u, g, k: (
                u - drift * g + jnp.sqrt(step_size) * jax.random.normal(k, u.shape, u.dtype)
            ),
            state.position,
            grad,
            noise_keys,
        )
        return SGLDState(position, state.step + 1), SGLDInfo(norm)

    return kernel


def minibatch_potential(
    target: Target,
    args: Mapping[str, jnp.ndarray],
    priors: Mapping[str, Any],
    s: Any,
    batch_size: int,
) -> Callable[[jax.Array, Position], jnp.ndarray]:
    """Unbiased minibatch estimate of U(u) = −log p(u | data) (up to a constant).

    Û(u) = U₀(u) + (N/m′)(U_B(u) − U₀(u)), where U_B is the program's potential on
    a minibatch B of m′ rows drawn with replacement and U₀ the potential with the
    observed site hidden (the prior, with its Jacobian).
    """
    mask = args.get(ROW_MASK)  # padded rows (never drawn): n is the real rows' number
    n = next(iter(args.values())).shape[0] if mask is None else jnp.sum(mask)
    prior_only = target.prior_only()

    def estimate(key: jax.Array, u: Position) -> jnp.ndarray:
        rows = jax.random.randint(key, (batch_size,), 0, n)
        batch = {**{k: v[rows] for k, v in args.items()}, **priors}
        prior = prior_only.potential(batch, s, u)
        return prior + (n / batch_size) * (target.potential(batch, s, u) - prior)

    return estimate


@functools.partial(
    jit,
    static_argnames=("target", "batch_size", "num_warmup", "num_samples", "thin"),
)
def run_chains(
    keys: jax.Array,
    u0: Position,
    args: Mapping[str, jnp.ndarray],
    priors: Mapping[str, Any],
    s: Any,
    step_size: float,
    *,
    target: Target,
    batch_size: int,
    num_warmup: int,
    num_samples: int,
    thin: int,
) -> tuple[Position, jnp.ndarray]:
    """Run one chain per key from its start in ``u0`` (leading axis: chains; one ``vmap``).

    Warm-up uses the tamed drift (:func:`build_kernel`), the draws the plain update;
    keeps every ``thin``-th state after warm-up. Why tamed: a start drawn uniformly in
    [−2, 2] can sit where U is far steeper than at the mode (σ e² times too small, a
    residual sum of squares 50 times its posterior value), and there an explicit step
    of the size that suits the mode overshoots: on the diabetes regression one chain's
    log σ went −2.0 → 7.9 → −40 in two steps and every later draw was NaN (1 chain in 4
    at seed 0; 13 of 40 seeds had such a chain).
    """
    grad = jax.grad(minibatch_potential(target, args, priors, s, batch_size), argnums=1)
    warm_kernel = build_kernel(grad, step_size, tamed=True)
    kernel = build_kernel(grad, step_size)

    def one_chain(key: jax.Array, start: Position) -> tuple[Position, jnp.ndarray]:
        def warm(state: SGLDState, key: jax.Array) -> tuple[SGLDState, jnp.ndarray]:
            state, info = warm_kernel(key, state)
            return state, info.grad_norm

        def advance(state: SGLDState, key: jax.Array) -> tuple[SGLDState, jnp.ndarray]:
            state, info = kernel(key, state)
            return state, info.grad_norm

        key_warm, key_draw = jax.random.split(key)
        state, _ = jax.lax.scan(warm, init(start), jax.random.split(key_warm, num_warmup))

        def draw(state: SGLDState, key: jax.Array) -> tuple[SGLDState, tuple[Position, Any]]:
            state, norms = jax.lax.scan(advance, state, jax.random.split(key, thin))
            return state, (state.position, norms[-1])

        _, (positions, norms) = jax.lax.scan(draw, state, jax.random.split(key_draw, num_samples))
        return positions, norms

    return jax.vmap(one_chain)(keys, dict(u0))


class SGLDSettings(NamedTuple):
    """SGLD's settings: ε, the minibatch, and the chains' shape (see :func:`sgld`)."""

    step_size: float | None = None
    batch_size: int = 128
    num_chains: int = 4
    num_warmup: int = 2000
    num_samples: int = 1000
    thin: int = 25


def run_sgld(problem: Problem, key: tuple[jax.Array, jax.Array], settings: SGLDSettings) -> Draws:
    """The kernel: the chains from uniform starts (one compiled ``vmap``), constrained."""
    key_init, key_run = key
    chains, num = settings.num_chains, settings.num_samples
    step_size = 0.04 / problem.n if settings.step_size is None else settings.step_size
    positions, _ = run_chains(
        jax.random.split(key_run, chains),
        initial_points(problem, key_init, chains),
        problem.args,
        problem.priors,
        problem.scaling,
        step_size,
        target=problem.target,
        batch_size=settings.batch_size,
        num_warmup=settings.num_warmup,
        num_samples=num,
        thin=settings.thin,
    )
    flat_u = jax.tree.map(lambda a: a.reshape(chains * num, *a.shape[2:]), positions)
    flat = constrained_draws(problem, flat_u)
    return Draws(as_chains(flat, chains, num), {"step_size": float(step_size)})


def sgld(model: Any, data: Any, **settings: Any) -> xr.DataTree:
    """Sample the posterior of a model with data ``X`` by SGLD; return a DataTree like NUTS's.

    Parameters
    ----------
    model, data, seed, priors
        As for :func:`~freqbayes.inference.nuts`.
    step_size : float, optional
        ε. Default 0.04/N: in the scaled coordinates the log-likelihood's curvature
        grows like N whatever the data's units, and ε·curvature ≪ 1 keeps the bias
        small. The draws still come out too wide, by an amount that grows with ε and
        the minibatch noise (a few percent with σ known, about 20% for a regression
        with σ unknown, 2,000 rows, m′ = 128); the showcase and the calibration measure it.
    batch_size : int
        Minibatch size m′ (eq. 5.98).
    num_chains, num_warmup, num_samples, thin : int
        Chains (one ``vmap``), burn-in updates, kept draws per chain, updates per kept draw.
    """
    return SGLD.fit(model, data, **settings)


SGLD = Method(
    "sgld",
    run_sgld,
    SGLDSettings,
    about="stochastic-gradient Langevin dynamics: SGD plus noise on minibatches (§5.9)",
    constraints={
        "step_size": optional(positive),
        "batch_size": positive_int,
        "num_chains": positive_int,
        "num_warmup": positive_int,
        "num_samples": positive_int,
        "thin": positive_int,
    },
    needs_features=True,
    quick={"num_chains": 2, "num_warmup": 500, "num_samples": 200, "thin": 10},
    keys=2,
    calibration=lambda b: {
        "num_samples": b.draws,
        "num_warmup": b.sg_warmup,
        "thin": b.sg_thin,
        "batch_size": 16,
    },
)
