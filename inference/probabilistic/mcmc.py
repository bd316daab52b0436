"""Full posteriors by NUTS (Hamiltonian Monte Carlo with the no-U-turn sampler).

The sampler is NumPyro's own (``numpyro.infer.hmc.hmc``: its NUTS transition and
its warm-up adaptation of the step size and the mass matrix), run on the potential
of the scaled coordinates u (:mod:`freqbayes.inference.probabilistic.problem`). The driver is one
jitted function: every chain's warm-up and sampling in a ``lax.map``, the data
and priors passed as arguments, so a second fit of the same model and data
shapes reuses the compiled program.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from numpyro.infer.hmc import hmc

from freqbayes.inference.devices import (
    CHAIN_METHODS,
    SPLIT,
    divisor_count,
    over_devices,
    vectorized_chains,
)
from freqbayes.inference.precision import jit
from freqbayes.inference.probabilistic.method import (
    Draws,
    Method,
    as_chains,
    boolean,
    in_open_interval,
    one_of,
    optional,
    positive_int,
)
from freqbayes.inference.probabilistic.optimize import whiten
from freqbayes.inference.probabilistic.problem import (
    Problem,
    Target,
    constrained_draws,
    initial_points,
)

MAX_TREE_DEPTH = 10


class NUTSSettings(NamedTuple):
    """The static settings of a NUTS run (hashable: part of the compiled program's key)."""

    num_warmup: int
    num_samples: int
    target_accept_prob: float
    dense_mass: bool
    max_tree_depth: int = MAX_TREE_DEPTH
    vectorized: bool = False

    @property
    def block(self) -> int:
        """Iterations per report (:data:`REPORTS_PER_CHAIN` a chain; a divisor if one is near)."""
        total = self.num_warmup + self.num_samples
        every = max(1, total // REPORTS_PER_CHAIN)
        return next((d for d in range(every, every // 2, -1) if total % d == 0), every)


#: Progress reports per chain when a bar is shown: one host callback per block of
#: iterations, not per iteration (which slowed sampling by a third).
REPORTS_PER_CHAIN = 20

_BAR: list[Any] = []  # the bar of the run in progress (host side only)
_BAR_LOCK = threading.Lock()


def _advance_bar(n: Any) -> None:
    with _BAR_LOCK:
        if _BAR:
            _BAR[-1].update(int(n))


@contextlib.contextmanager
def _progress_bar(total: int, enabled: bool) -> Iterator[None]:
    """A tqdm bar on stderr that the compiled run advances through host callbacks."""
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc="NUTS (chains × iterations)", disable=not enabled, file=sys.stderr)
    with _BAR_LOCK:
        _BAR.append(bar)
    try:
        yield
        with _BAR_LOCK:  # the iterations after the last full block
            bar.update(total - bar.n)
    finally:
        with _BAR_LOCK:
            _BAR.remove(bar)
        bar.close()


class ChainStats(NamedTuple):
    """Per-draw statistics of NUTS.

    Attributes
    ----------
    diverging : array bool
        The trajectory diverged (energy error above NumPyro's threshold).
    step_size : array
        Step size ε (adapted in warm-up, fixed after).
    num_steps : array int
        Leapfrog steps of the draw (2^depth − 1 for a full tree).
    accept_prob : array
        Mean acceptance probability of the trajectory.
    energy : array
        Hamiltonian at the draw.
    potential_energy : array
        −log density of u at the draw.
    """

    diverging: jnp.ndarray
    step_size: jnp.ndarray
    num_steps: jnp.ndarray
    accept_prob: jnp.ndarray
    energy: jnp.ndarray
    potential_energy: jnp.ndarray


def _potential_gen(target: Target) -> Callable[..., Callable[[Any], jnp.ndarray]]:
    """NumPyro's ``potential_fn_gen``: (kwargs, scaling) → U(u), via :meth:`Target.objective`."""

    def gen(kwargs: Mapping[str, Any], s: Any) -> Callable[[Any], jnp.ndarray]:
        return target.objective(lambda u, kw: target.potential(kw, s, u), kwargs)

    return gen


def chain_devices(num_chains: int, limit: int | None = None) -> int:
    """How many devices share the chains: the most (up to the local devices) dividing them.

    The command line makes one CPU device per core (``jax_num_cpu_devices``); a Python
    session has one unless the user configures more before JAX starts. ``limit``
    caps the number (1: every chain on the first device).
    """
    return divisor_count(num_chains, limit)


def _iterate(
    body: Callable[[Any], tuple[Any, Any]], state: Any, length: int, every: int, report: Any
) -> Any:
    """``length`` steps of ``body`` (state → (state, out)), reporting every ``every`` steps.

    A scan of blocks, and one of the rest if ``every`` does not divide ``length``: each scan
    is a copy of the kernel for XLA to compile (a scan per phase held up to four). After
    each block the host advances the bar if the traced ``report`` is true: one program
    with and without a bar, so the same draws (two programs rounded differently, and
    NUTS's chaotic trajectories parted). Returns the state and the steps' outputs.
    """
    blocks, rest = divmod(length, every)

    def tell(n: int) -> None:
        jax.lax.cond(report, lambda: jax.debug.callback(_advance_bar, n), lambda: None)

    def step(state: Any, _: None) -> tuple[Any, Any]:
        return body(state)

    def block(state: Any, _: None) -> tuple[Any, Any]:
        state, out = jax.lax.scan(step, state, None, length=every)
        tell(every)
        return state, out

    outs = []
    if blocks:
        state, out = jax.lax.scan(block, state, None, length=blocks)
        outs.append(jax.tree.map(lambda a: a.reshape(blocks * every, *a.shape[2:]), out))
    if rest:
        state, out = jax.lax.scan(step, state, None, length=rest)
        tell(rest)
        outs.append(out)
    return state, jax.tree.map(lambda *a: jnp.concatenate(a), *outs) if len(outs) > 1 else outs[0]


@functools.partial(jit, static_argnames=("target", "settings", "devices"))
def run_chains(
    target: Target,
    kwargs: Mapping[str, Any],
    s: Any,
    u0: Mapping[str, jnp.ndarray],
    keys: jax.Array,
    settings: NUTSSettings,
    devices: int = 1,
    report: Any = False,
) -> tuple[dict[str, jnp.ndarray], ChainStats]:
    """Warm up and sample one chain per key from the starts ``u0`` (leading axis: chains).

    Returns the draws of u, (chains, draws, ...), and their :class:`ChainStats`.
    A pure function of its arguments: ``vmap`` it over data sets (as the
    simulation-based calibration does). With ``devices`` > 1 the chains are split
    evenly over that many local devices (``shard_map``; each device runs its chains
    one after another in a ``lax.map``), still one compiled program. ``report``
    (traced: the same program either way) advances the progress bar of :func:`nuts`.
    With ``settings.vectorized`` the chains of a device run together in one ``vmap``
    (:func:`vectorized_chains`: the choice on GPUs) instead of one after another.
    """
    init_kernel, sample_kernel = hmc(potential_fn_gen=_potential_gen(target), algo="NUTS")
    model_args = (kwargs, s)

    def one_chain(start: tuple[Any, jax.Array]) -> tuple[Any, ChainStats]:
        u, key = start
        state = init_kernel(
            u,
            settings.num_warmup,
            target_accept_prob=settings.target_accept_prob,
            dense_mass=settings.dense_mass,
            max_tree_depth=settings.max_tree_depth,
            model_args=model_args,
            rng_key=key,
        )

        def step(state: Any) -> tuple[Any, tuple[Any, ChainStats]]:
            state = sample_kernel(state, model_args=model_args)
            stats = (state.diverging, state.adapt_state.step_size, state.num_steps)
            stats += (state.accept_prob, state.energy, state.potential_energy)
            return state, (state.z, ChainStats(*stats))

        # warm-up and sampling in one scan: NumPyro's kernel adapts while i < num_warmup
        warmup, total = settings.num_warmup, settings.num_warmup + settings.num_samples
        _, out = _iterate(step, state, total, settings.block, report)
        return jax.tree.map(lambda a: a[warmup:], out)

    def chains(u0: Mapping[str, jnp.ndarray], keys: jax.Array) -> Any:
        if settings.vectorized:
            return jax.vmap(one_chain)((dict(u0), keys))
        return jax.lax.map(one_chain, (dict(u0), keys))

    return over_devices(chains, devices, (SPLIT, SPLIT), SPLIT)(u0, keys)


def sample_stats(stats: ChainStats, max_tree_depth: int) -> dict[str, np.ndarray]:
    """ArviZ's sample_stats names (as ``az.from_numpyro`` gives them)."""
    n_steps = np.asarray(stats.num_steps)
    depth = np.log2(np.maximum(n_steps, 1)).astype(int) + 1
    return {
        "diverging": np.asarray(stats.diverging, dtype=bool),
        "step_size": np.asarray(stats.step_size),
        "n_steps": n_steps,
        "tree_depth": depth,
        "reached_max_tree_depth": depth >= max_tree_depth,
        "acceptance_rate": np.asarray(stats.accept_prob),
        "energy": np.asarray(stats.energy),
        "lp": -np.asarray(stats.potential_energy),
    }


class NUTSOptions(NamedTuple):
    """The settings of :func:`nuts` (see there); :class:`NUTSSettings` is the compiled part."""

    num_chains: int = 4
    num_warmup: int = 1000
    num_samples: int = 1000
    target_accept_prob: float = 0.8
    dense_mass: bool = False
    whitened: bool = True
    devices: int | None = None
    chain_method: str = "auto"
    progress: bool | None = None


def run_nuts(problem: Problem, key: tuple[jax.Array, jax.Array], settings: NUTSOptions) -> Draws:
    """The kernel: every chain's warm-up and draws in one compiled call, then constrained."""
    key_init, key_run = key
    chains, num = settings.num_chains, settings.num_samples
    show = sys.stderr.isatty() if settings.progress is None else bool(settings.progress)
    vectorized = vectorized_chains(settings.chain_method)
    target_accept, dense = float(settings.target_accept_prob), bool(settings.dense_mass)
    static = NUTSSettings(settings.num_warmup, num, target_accept, dense, vectorized=vectorized)
    # rows split over the devices: every chain needs every device (.sharding)
    devices = 1 if problem.sharded else chain_devices(chains, settings.devices)
    with _progress_bar(chains * (settings.num_warmup + num), show):
        u, stats = run_chains(
            problem.target,
            problem.kwargs,
            problem.scaling,
            initial_points(problem, key_init, chains),
            jax.random.split(key_run, chains),
            static,
            devices,
            show,
        )
        flat = {k: v.reshape(chains * num, *v.shape[2:]) for k, v in u.items()}
        params = constrained_draws(problem, flat)
    stats_np = sample_stats(stats, static.max_tree_depth)
    name = "vmap" if vectorized else "lax.map"
    record = {
        "chain_method": name if devices == 1 else f"{name} on each of {devices} devices",
        "divergences": int(stats_np["diverging"].sum()),
        "max_tree_depth_hits": int(stats_np["reached_max_tree_depth"].sum()),
    }
    return Draws(as_chains(params, chains, num), record, sample_stats=stats_np)


def nuts(model: Any, data: Any, **settings: Any) -> xr.DataTree:
    """Sample the posterior with NUTS; return a DataTree with every group ArviZ uses.

    Parameters
    ----------
    model : Model or str
        The model or its registered name.
    data : Dataset
        The data.
    seed : int
        Seed of the ``jax.random.key``; the same seed gives the same draws.
    priors : mapping, optional
        Overrides of the model's default priors.
    num_chains, num_warmup, num_samples : int
        Chains, warm-up iterations and kept draws per chain.
    target_accept_prob : float
        Step-size adaptation target.
    dense_mass : bool
        Adapt a dense mass matrix instead of a diagonal one.
    whitened : bool
        For a program without roles: sample in coordinates whitened at its mode
        (:func:`~freqbayes.inference.probabilistic.optimize.whiten`; the registered
        models are scaled by their data instead). Each step then multiplies by a dense
        p × p factor: with thousands of parameters that costs more than the gradient
        (a first version of the horseshoe at d = 1,000, 2,003 parameters: 111 s
        whitened against 21 s), and a
        hierarchical prior's mode is a funnel's neck. ``False`` keeps the program's
        own coordinates.
    devices : int, optional
        At most this many local devices share the chains (default: as many as divide
        the chains evenly; see :func:`chain_devices`). Same draws on any number for
        the registered models (the compiled density rounds alike whether split or
        not). A program XLA compiles differently when split can round differently,
        and NUTS's trajectories then part: measured for the Gaussian mixture of
        :mod:`~freqbayes.models.probabilistic.mixture` (other, equally valid draws
        on two devices). ``devices=1`` gives draws that do not depend on the machine.
        Not used when the rows are sharded over the devices
        (:mod:`~freqbayes.inference.probabilistic.sharding`): every chain needs them all.
    chain_method : {"auto", "sequential", "vectorized"}
        A device's chains one after another (``lax.map``) or in one ``vmap``; "auto"
        vectorises on GPUs and TPUs only (:func:`~freqbayes.inference.devices.vectorized_chains`).
    pointwise : "auto", "all", "none" or int
        What to store of the posterior predictive and the pointwise log-likelihood
        (see :func:`~freqbayes.inference.probabilistic.datatree.build_datatree`).
    prior_draws : int
        Draws in the ``prior`` and ``prior_predictive`` groups (0: none). Drawing them
        compiles one more program per model and data shape (2.1 s for the horseshoe
        of :mod:`~freqbayes.models.probabilistic.horseshoe` with inverse-gamma sites,
        whose draws are rejection samplers), which a fit that never looks at its prior can skip.
    progress : bool, optional
        A progress bar on stderr (None: when stderr is a terminal), advanced
        :data:`REPORTS_PER_CHAIN` times per chain from inside the one compiled run.
        The same compiled program with and without it, so the same draws.

    Returns
    -------
    xarray.DataTree
        Groups ``posterior``, ``sample_stats`` (divergences, step size, tree
        depth, acceptance rate, energy, lp), ``log_likelihood``,
        ``posterior_predictive`` and ``observed_data``.

    Raises
    ------
    EstimateError
        If the posterior is improper on these data (e.g. flat priors and separation).
    """
    return NUTS.fit(model, data, **settings)


NUTS = Method(
    "nuts",
    run_nuts,
    NUTSOptions,
    about="NUTS (NumPyro's kernel), 4 chains × (1000 warm-up + 1000 draws): the exact posterior",
    constraints={
        "num_chains": positive_int,
        "num_warmup": positive_int,
        "num_samples": positive_int,
        "target_accept_prob": in_open_interval(0.0, 1.0),
        "whitened": boolean,
        "devices": optional(positive_int),
        "chain_method": one_of(*CHAIN_METHODS),
    },
    quick={"num_chains": 2, "num_warmup": 200, "num_samples": 200},
    keys=2,
    diagnose=True,
    advice="run longer, raise target_accept_prob or reparameterise",
    setup=lambda problem, settings: whiten(problem) if settings.whitened else problem,
    calibration=lambda b: {
        "num_warmup": b.warmup,
        "num_samples": b.draws * b.thin,
        "prior_draws": 0,
    },
)
