"""Repeated sampling: the frequentist intervals on many data sets simulated from one fixed θ.

This is the frequentist guarantee made concrete: fix the true θ, draw R data sets
from p(y | θ) (the features X held fixed), compute each interval on each data set,
and count how often it contains θ. The methods' own kernels are used
(:func:`~freqbayes.inference.probabilistic.optimize._optimise`,
:func:`~freqbayes.inference.probabilistic.frequentist.information`,
:func:`~freqbayes.inference.probabilistic.profile.profile_bounds`,
:func:`~freqbayes.inference.probabilistic.bootstrap.refit`), vectorised over the R
data sets, so a coverage study is a few compiled programs, not R × B Python calls.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from freqbayes.inference.optim import default_gtol
from freqbayes.inference.precision import jit
from freqbayes.inference.probabilistic import bootstrap as B
from freqbayes.inference.probabilistic import frequentist as F
from freqbayes.inference.probabilistic import profile as P
from freqbayes.inference.probabilistic.datatree import simulate
from freqbayes.inference.probabilistic.optimize import _optimise
from freqbayes.inference.probabilistic.problem import Problem, Target, float_dtype
from freqbayes.inference.probabilistic.rows import trim
from freqbayes.models.probabilistic.existence import EstimateError

#: L-BFGS iterations at most per bootstrap refit in a coverage study.
REFIT_MAX_ITER = 100

#: The interval kinds :func:`simulated_intervals` computes, by method.
KINDS = {
    "wald": ("wald", "sandwich"),
    "profile": ("profile",),
    "bootstrap": ("percentile", "bca"),
}


@functools.partial(jit, static_argnames=("target", "static"))
def _simulate_many(
    target: Target, static: Any, params: Any, keys: jax.Array, inputs: Any
) -> jnp.ndarray:
    return jax.vmap(lambda k: simulate(target.program, target.observed, static, params, k, inputs))(
        keys
    )


@functools.partial(jit, static_argnames=("target",))
def _wald_many(
    target: Target, kwargs: Any, s: Any, zeros: Any, ys: jnp.ndarray, gtol: float
) -> tuple[jnp.ndarray, ...]:
    """MLE, u, and the two Wald standard errors on every data set (rows of ys)."""

    def one(y: jnp.ndarray) -> tuple[jnp.ndarray, ...]:
        kw = {**kwargs, target.observed: y}
        u, params, info = _optimise(target, kw, s, zeros, gtol, "likelihood", 1000)
        flat, H, scores = F.information(target, kw, params, False)
        cov, robust = F.covariances(H, scores)
        return flat, u, jnp.sqrt(jnp.diag(cov)), jnp.sqrt(jnp.diag(robust)), info.converged

    return jax.vmap(one)(ys)


@functools.partial(jit, static_argnames=("target",))
def _profile_many(
    target: Target, kwargs: Any, s: Any, ys: jnp.ndarray, u: Any, gtol: float, rtol: float
) -> tuple[jnp.ndarray, ...]:
    """Profile end points (θ) on every data set, from its MLE u."""

    def one(y: jnp.ndarray, uh: Any) -> tuple[jnp.ndarray, ...]:
        kw = {**kwargs, target.observed: y}
        t, found, inner, _ = P.profile_bounds(target, kw, s, uh, False, gtol, rtol)
        lo, hi = P._to_params(target, kw, s, uh, t)
        return lo, hi, jnp.all(found & inner)

    return jax.vmap(one)(ys, u)


#: Data sets per piece of a coverage study (:func:`simulated_intervals`): a piece is a few
#: compiled programs vectorised over its sets, and the unit a cluster is handed.
CHUNK = 100

#: A ``map``-like executor: ``mapper(function, items)`` gives ``function(item)`` for each
#: item, in order (the builtin :func:`map`, or a cluster's, e.g. ``freqbayes.scheduler``).
Mapper = Callable[[Callable[[Any], Any], Iterable[Any]], Iterable[Any]]


def simulated_intervals(
    problem: Problem,
    truth: Mapping[str, Any],
    reps: int,
    seed: int = 0,
    methods: Sequence[str] = ("wald", "profile", "bootstrap"),
    num_replicates: int = 500,
    *,
    mapper: Mapper | None = None,
    chunk: int = CHUNK,
) -> dict[str, Any]:
    """95% intervals of every kind in ``methods`` on ``reps`` data sets drawn from ``truth``.

    Parameters
    ----------
    problem : Problem
        The model and the data whose features (and size) the simulated sets keep.
    truth : mapping
        The true parameters (every latent site), in the user's units.
    reps : int
        R, the number of simulated data sets.
    seed : int
        Seed of the simulation and of the bootstraps.
    methods : sequence of str
        Any of "wald", "profile", "bootstrap".
    num_replicates : int
        B of each bootstrap.
    mapper : callable, optional
        Where the pieces are worked on: ``mapper(function, pieces)`` (a :data:`Mapper`,
        e.g. a Dask cluster's, ``freqbayes.scheduler``), the results joined in order;
        ``None``: here, one after another. All R data sets and their bootstrap keys are
        drawn here first and the pieces are the same either way, so a cluster gives the
        same intervals, bit for bit (a vectorised fit's last bits depend on how many sets
        it holds, so the pieces do not depend on the executor).
    chunk : int
        Data sets per piece (the last is padded to the same size, so one shape is
        compiled).

    Returns
    -------
    dict
        ``truth`` (flat, d), ``exists`` (R,): whether the MLE exists on each set
        (the model's exact check), ``estimate`` (R × d), and per interval kind
        (``wald``, ``sandwich``, ``profile``, ``percentile``, ``bca``) a pair of
        (R × d) arrays ``(lower, upper)``; NaN where an interval was not found.
    """
    unknown = [m for m in methods if m not in KINDS]
    if unknown:
        raise ValueError(f"methods: unknown {unknown}; known: {', '.join(KINDS)}")
    if chunk < 1 or reps < 1:
        raise ValueError(f"reps and chunk must be >= 1; got {reps}, {chunk}")
    obs = problem.model.observed
    truth = {k: jnp.asarray(v, float_dtype()) for k, v in truth.items()}
    key_sim, key_boot = jax.random.split(jax.random.key(seed))
    ys = _simulate_many(
        problem.target,
        problem.static_inputs,
        truth,
        jax.random.split(key_sim, reps),
        problem.inputs,
    ).astype(problem.args[obs].dtype)
    ys, boot = np.asarray(ys), np.asarray(jax.random.key_data(jax.random.split(key_boot, reps)))
    truth_flat = np.asarray(ravel_pytree(truth)[0])
    job = functools.partial(
        _intervals, problem, truth_flat, methods=tuple(methods), num_replicates=num_replicates
    )
    size = min(chunk, reps)
    pieces = []
    for i in range(0, reps, size):
        # the last piece padded with copies of its last set: every piece one compiled shape
        take = np.minimum(np.arange(i, i + size), reps - 1)
        pieces.append((ys[take], boot[take]))
    parts = list((map if mapper is None else mapper)(job, pieces))
    out: dict[str, Any] = {"truth": truth_flat}
    for name, first in parts[0].items():
        if name == "truth":
            continue
        if isinstance(first, tuple):
            out[name] = tuple(np.concatenate([p[name][j] for p in parts])[:reps] for j in range(2))
        else:
            out[name] = np.concatenate([p[name] for p in parts])[:reps]
    return out


def _intervals(
    problem: Problem,
    truth_flat: np.ndarray,
    piece: tuple[np.ndarray, np.ndarray],
    methods: Sequence[str],
    num_replicates: int,
) -> dict[str, Any]:
    """:func:`simulated_intervals` on one piece: its outcome vectors and bootstrap keys."""
    target, kwargs, s = problem.target, problem.kwargs, problem.scaling
    obs = problem.model.observed
    ys = jnp.asarray(piece[0])
    boot_keys = jax.random.wrap_key_data(jnp.asarray(piece[1]))
    reps = ys.shape[0]
    gtol = default_gtol(float_dtype(), problem.n)
    flat, u, se, robust_se, ok = _wald_many(target, kwargs, s, problem.zeros(), ys, gtol)
    flat, se = np.asarray(flat), np.asarray(se)
    # the exact existence check (a linear program for separation) only where the fit looks off
    suspect = ~np.asarray(ok) | ~np.isfinite(se).all(axis=1)
    suspect |= (np.abs(flat - truth_flat) > B.SUSPECT_SE * np.nan_to_num(se, nan=np.inf)).any(
        axis=1
    )
    exists = np.ones(reps, bool)
    if problem.model.check is not None:
        for i in np.flatnonzero(suspect):
            try:
                problem.model.check(
                    "likelihood",
                    {**problem.all_rows("the coverage study"), obs: trim(ys[i], problem.real_rows)},
                    problem.priors,
                )
            except EstimateError:
                exists[i] = False
    ok = np.asarray(ok) & exists
    nan = np.where(ok[:, None], 1.0, np.nan)
    out: dict[str, Any] = {
        "truth": truth_flat,
        "exists": exists,
        "estimate": flat * nan,
    }
    if "wald" in methods:
        for kind, e in (("wald", se), ("sandwich", robust_se)):
            e = np.asarray(e)
            out[kind] = ((flat - F.Z95 * e) * nan, (flat + F.Z95 * e) * nan)
    if "profile" in methods:
        rtol = 1e-3 if jnp.finfo(float_dtype()).bits <= 32 else 1e-8
        lo, hi, good = _profile_many(target, kwargs, s, ys, u, gtol, rtol)
        good = np.asarray(good)[:, None]
        out["profile"] = tuple(np.where(good, np.asarray(b), np.nan) * nan for b in (lo, hi))
    if "bootstrap" in methods:
        out.update(_bootstrap_many(problem, ys, u, boot_keys, num_replicates, gtol, flat, nan))
    return out


@functools.partial(jit, static_argnames=("target", "static", "num_replicates", "batch"))
def _refit_many(
    target: Target,
    kwargs: Any,
    s: Any,
    static: Any,
    ys: jnp.ndarray,
    u: Any,
    keys: jax.Array,
    gtol: float,
    num_replicates: int,
    batch: int,
) -> tuple[jnp.ndarray, ...]:
    """Bootstrap estimates (R × B × d), their flags and the influences (R × n × d)."""

    def one(y: jnp.ndarray, uh: Any, k: jax.Array) -> tuple[jnp.ndarray, ...]:
        kw = {**kwargs, target.observed: y}
        params = target.constrain(kw, s, uh)
        split = jax.random.split(k, num_replicates)
        # from θ̂ a refit takes tens of iterations; one that needs more than
        # REFIT_MAX_ITER is (near-)separated and left out, and must not hold up the others
        _, theta, ok, _ = B.refit(
            target, kw, s, static, uh, params, split, gtol, False, False, batch, REFIT_MAX_ITER
        )
        _, H, scores = F.information(target, kw, params, False)
        cov, _ = F.covariances(H, scores)
        return jax.vmap(lambda t: ravel_pytree(dict(t))[0])(theta), ok, scores @ cov

    return jax.vmap(one)(ys, u, keys)


def _bootstrap_many(
    problem: Problem,
    ys: jnp.ndarray,
    u: Any,
    keys: jax.Array,
    num_replicates: int,
    gtol: float,
    flat: np.ndarray,
    nan: np.ndarray,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Percentile and BCa intervals of a nonparametric bootstrap on every simulated set.

    ``keys``: one bootstrap key per set (rows of ``ys``).
    """
    target, kwargs, s = problem.target, problem.kwargs, problem.scaling
    reps = ys.shape[0]
    batch = int(max(1, min(num_replicates, B.CHUNK_BUDGET // max(1, problem.size * reps * 4))))

    thetas, oks, infl = _refit_many(
        target, kwargs, s, problem.static_inputs, ys, u, keys,
        gtol, num_replicates, batch,
    )  # fmt: skip
    thetas, oks, infl = np.asarray(thetas), np.asarray(oks), np.asarray(infl)
    d = flat.shape[1]
    pct = np.full((2, reps, d), np.nan)
    bca = np.full((2, reps, d), np.nan)
    for i in range(reps):
        r = thetas[i][oks[i]]
        if len(r) < (1 - B.MAX_FAILED) * num_replicates or np.isnan(nan[i, 0]):
            continue
        pct[:, i] = B.percentile_bounds(r)
        bca[:, i] = B.bca_bounds(r, flat[i], trim(infl[i], problem.real_rows))
    return {"percentile": (pct[0], pct[1]), "bca": (bca[0], bca[1])}


def coverage(result: Mapping[str, Any]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per interval kind: the fraction of data sets whose interval covers each θⱼ, and its se.

    Data sets where the MLE does not exist or the interval was not found are left
    out (their number is ``(~result["exists"]).sum()`` and the NaN rows).
    """
    theta = result["truth"]
    out = {}
    for kind in (k for ks in KINDS.values() for k in ks):
        if kind not in result:
            continue
        lo, hi = result[kind]
        valid = ~np.isnan(lo) & ~np.isnan(hi)
        hit = (lo <= theta) & (theta <= hi) & valid
        m = valid.sum(axis=0)
        p = hit.sum(axis=0) / np.maximum(m, 1)
        out[kind] = (p, np.sqrt(p * (1 - p) / np.maximum(m, 1)))
    return out
