"""HMC with energy-conserving subsampling (HMCECS): NUTS on a minibatch likelihood estimate.

NumPyro's ``HMCECS`` (Dang, Quiroz, Kohn, Tran & Villani, 2019) runs NUTS on an
estimate of the log-likelihood from m′ of the n rows, and updates the rows in a Gibbs
step accepted by a pseudo-marginal Metropolis test. With the ``taylor_proxy`` control
variates the estimate is

    log p̂(y | u) = Σ_{i≤n} q_i(u) + (n/m′) Σ_{i∈B} [log p(y_i | u) − q_i(u)] − σ̂²/2,

where q_i is the second-order Taylor expansion of log p(y_i | u) at the MAP û (its sum
over all n rows is computed once, at û) and σ̂² the estimate's variance: near û the
differences are tiny, so a small minibatch gives a nearly exact likelihood, and each
leapfrog step costs m′ rows instead of n. The model is the minibatch program of SVI
(:func:`~freqbayes.inference.probabilistic.svi._subsampled_model`, the same
``plate(..., subsample_size=m′)`` over the real rows only) on the scaled coordinates u;
the MAP is found on the full data once (:func:`~.laplace.laplace_start`).

The draws are approximate (the estimate's bias is −σ̂²/2, small when the posterior is
concentrated near û): the showcase and the benchmark compare them with full-data NUTS.
It is made for tall data with few parameters. On the breast-cancer logistic regression
(569 rows, 31 parameters, m′ capped at n/2 = 284), ``freqbayes run logistic --method
hmcecs`` had 238 divergent transitions in 4 × 1,000 draws (2026-12-05): the quadratic
proxy is poor that far from û with so few rows, and the fit is flagged.
Driven like :mod:`.mcmc`'s NUTS: one jitted program, the chains one after another.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jax.flatten_util import ravel_pytree
from numpyro.infer import HMCECS, NUTS
from numpyro.infer.initialization import init_to_value

from freqbayes.inference.optim import default_gtol
from freqbayes.inference.precision import jit
from freqbayes.inference.probabilistic.laplace import laplace_start
from freqbayes.inference.probabilistic.mcmc import MAX_TREE_DEPTH, ChainStats, sample_stats
from freqbayes.inference.probabilistic.method import (
    Draws,
    Method,
    as_chains,
    in_open_interval,
    positive_int,
)
from freqbayes.inference.probabilistic.problem import (
    Problem,
    Target,
    constrained_draws,
    float_dtype,
    hashable_shapes,
)
from freqbayes.inference.probabilistic.svi import (
    Subsample,
    _subsampled_model,
    flat_zeros,
    subsample_of,
)

#: The full-data MAP and the Hessian there, compiled as one program (run eagerly, its
#: small operations were 160 programs of their own).
_laplace_start = jit(laplace_start, static_argnames=("target", "shapes"))


class HMCECSSettings(NamedTuple):
    """The static settings of an HMCECS run (hashable: part of the compiled program's key)."""

    subsample: Subsample
    num_blocks: int
    num_warmup: int
    num_samples: int
    target_accept_prob: float


@functools.partial(jit, static_argnames=("target", "shapes", "settings"))
def run_chains(
    target: Target,
    shapes: Any,
    kwargs: Mapping[str, Any],
    s: Any,
    mode: jnp.ndarray,
    keys: jax.Array,
    settings: HMCECSSettings,
) -> tuple[jnp.ndarray, ChainStats]:
    """Warm up and sample one chain per key from the MAP ``mode`` (flat u): one program.

    NumPyro's ``HMCECS`` kernel driven by ``init``/``sample`` in a ``lax.scan`` (the
    chains in a ``lax.map``), as :func:`~.mcmc.run_chains` drives NUTS: a second fit of
    the same shapes reuses the compiled program (``MCMC.run`` compiles on every call).
    Returns the draws of the flat u, (chains, draws, size), and their :class:`ChainStats`.
    """
    zeros, unravel = flat_zeros(shapes)
    program = functools.partial(
        _subsampled_model,
        target=target,
        unravel=unravel,
        size=zeros.shape[0],
        subsample=settings.subsample,
    )
    model_kwargs = {"kwargs": kwargs, "s": s}
    warmup, num = settings.num_warmup, settings.num_samples

    def one_chain(key: jax.Array) -> tuple[jnp.ndarray, ChainStats]:
        inner = NUTS(
            program,
            init_strategy=init_to_value(values={"u": mode}),
            target_accept_prob=settings.target_accept_prob,
            max_tree_depth=MAX_TREE_DEPTH,
        )
        proxy = HMCECS.taylor_proxy({"u": mode})
        kernel = HMCECS(inner, num_blocks=settings.num_blocks, proxy=proxy)
        state = kernel.init(key, warmup, {"u": mode}, (), model_kwargs)

        def advance(state: Any, _: None) -> tuple[Any, None]:
            return kernel.sample(state, (), model_kwargs), None

        state, _ = jax.lax.scan(advance, state, None, length=warmup)

        def draw(state: Any, _: None) -> tuple[Any, tuple[jnp.ndarray, ChainStats]]:
            state = kernel.sample(state, (), model_kwargs)
            h = state.hmc_state
            stats = ChainStats(
                h.diverging,
                h.adapt_state.step_size,
                h.num_steps,
                h.accept_prob,
                h.energy,
                h.potential_energy,
            )
            return state, (state.z["u"], stats)

        _, out = jax.lax.scan(draw, state, None, length=num)
        return out

    return jax.lax.map(one_chain, keys)


class HMCECSOptions(NamedTuple):
    """The settings of :func:`hmcecs` (see there)."""

    batch_size: int = 1000
    num_blocks: int = 10
    num_chains: int = 4
    num_warmup: int = 1000
    num_samples: int = 1000
    target_accept_prob: float = 0.8


def run_hmcecs(problem: Problem, key: jax.Array, settings: HMCECSOptions) -> Draws:
    """The kernel: the MAP on the full data, then NumPyro's HMCECS around it."""
    if problem.n < 2:
        raise ValueError(f"{problem.model.name}: hmcecs needs at least 2 rows; got {problem.n}")
    batch = min(settings.batch_size, problem.n // 2)  # at least a halving: a subsample
    subsample = subsample_of(problem, batch)
    assert subsample is not None
    shapes = hashable_shapes(problem.latent_shapes())
    gtol = default_gtol(float_dtype(), problem.n)
    mode, _ = _laplace_start(problem.target, shapes, problem.kwargs, problem.scaling, gtol)
    chains, num = settings.num_chains, settings.num_samples
    static = HMCECSSettings(
        subsample,
        settings.num_blocks,
        settings.num_warmup,
        num,
        float(settings.target_accept_prob),
    )
    args = (problem.target, shapes, problem.kwargs, problem.scaling, mode)
    u, stats = run_chains(*args, jax.random.split(key, chains), static)
    unravel = ravel_pytree({k: np.zeros(v.shape, v.dtype) for k, v in shapes})[1]
    flat = jax.vmap(unravel)(jnp.reshape(u, (chains * num, -1)))
    params = constrained_draws(problem, flat)
    stats_np = sample_stats(stats, MAX_TREE_DEPTH)
    record = {
        "rows_per_step": subsample.size,
        "divergences": int(stats_np["diverging"].sum()),
        "max_tree_depth_hits": int(stats_np["reached_max_tree_depth"].sum()),
    }
    return Draws(as_chains(params, chains, num), record, sample_stats=stats_np)


def hmcecs(model: Any, data: Any, **settings: Any) -> xr.DataTree:
    """Sample the posterior by HMC with energy-conserving subsampling (NumPyro's HMCECS).

    Parameters
    ----------
    model, data, seed, priors, pointwise, prior_draws
        As for :func:`~freqbayes.inference.nuts`.
    batch_size : int
        m′, the rows of each likelihood estimate (at most n/2: fewer rows than the data).
    num_blocks : int
        The minibatch is updated one block of m′/``num_blocks`` rows per iteration,
        which keeps the pseudo-marginal acceptance high (the block sampler of Tran et al.).
    num_chains, num_warmup, num_samples : int
        Chains (one after another), warm-up iterations and kept draws per chain.
    target_accept_prob : float
        NUTS's step-size adaptation target.

    Returns
    -------
    xarray.DataTree
        The groups of :func:`~freqbayes.inference.nuts`'s tree.
    """
    return HMCECS_METHOD.fit(model, data, **settings)


HMCECS_METHOD = Method(
    "hmcecs",
    run_hmcecs,
    HMCECSOptions,
    about="HMC with energy-conserving subsampling (NumPyro's HMCECS, Taylor control variates "
    "at the MAP): NUTS on minibatches",
    constraints={
        "batch_size": positive_int,
        "num_blocks": positive_int,
        "num_chains": positive_int,
        "num_warmup": positive_int,
        "num_samples": positive_int,
        "target_accept_prob": in_open_interval(0.0, 1.0),
    },
    needs_features=True,
    quick={"num_chains": 2, "num_warmup": 200, "num_samples": 200},
    diagnose=True,
    advice="run longer, use a larger batch_size or more num_blocks",
    in_all=False,
)
