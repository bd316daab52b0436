"""The DataTree of a fit: posterior, prior, pointwise groups (bounded), data and attrs.

Every method returns an ArviZ :class:`xarray.DataTree` with the same groups
(``posterior``, ``posterior_predictive``, ``log_likelihood``, ``prior``,
``prior_predictive``, ``observed_data``, ``constant_data``) and dims, whose root
attrs name the model, method, dataset, seed, settings, the priors, the scaling of
the data and the wall time of the fit. The pointwise groups (predictive and
log-likelihood, draws × n values each) are bounded: by default at most
:data:`POINTWISE_BUDGET` values per group, the draws thinned evenly to fit, and
computed in blocks so that memory stays bounded too.

The posterior holds the program's ``numpyro.deterministic`` sites too, and the observed
variable takes the user's name, a formula's target column
(:mod:`freqbayes.inference.probabilistic.sites`); its values keep their event dims (one
``Multinomial`` observation: a log-likelihood of shape (chain, draw)).

A point estimate is a posterior with one chain and one draw. Its pointwise
log-likelihood at θ̂ is stored as ``log_likelihood_at_estimate``, not as
``log_likelihood``: PSIS-LOO (``az.loo``, ``az.compare``) needs draws from a
posterior, and ArviZ then says the log-likelihood is missing instead of failing
inside its importance sampling. The prior groups hold :data:`PRIOR_DRAWS` draws
from the program (fewer when n is large), and are absent when a prior is improper
(flat), which the attr ``prior_draws`` says.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from arviz_base import from_dict  # not the arviz umbrella: it imports matplotlib
from numpyro.distributions import ImproperUniform
from numpyro.handlers import seed as seed_handler
from numpyro.handlers import substitute, trace
from numpyro.infer.util import log_likelihood

from freqbayes.inference.precision import jit
from freqbayes.inference.probabilistic.problem import Problem, _placeholder, float_dtype
from freqbayes.inference.probabilistic.rows import trim
from freqbayes.inference.probabilistic.sharding import to_host
from freqbayes.inference.probabilistic.sites import (
    OBSERVED_GROUPS,
    blocks,
    deterministic_draws,
    observed_name,
)
from freqbayes.models.probabilistic.priors import describe

#: Largest number of values stored per pointwise group (draws × observations) by default.
POINTWISE_BUDGET = 20_000_000


#: What to store of the pointwise groups: every draw, a bounded number (auto), or none.
POINTWISE_CHOICES = ("auto", "all", "none")

#: Draws from the prior and the prior predictive stored with every fit (at most).
PRIOR_DRAWS = 500

#: Draws × rows of the prior predictive computed at once (fewer draws on more rows).
PRIOR_BATCH_VALUES = 1 << 20

#: Folded into a fit's predictive key for its prior draws (the posterior predictive's stay).
PRIOR_KEY = 1 << 20


def simulate(
    program: Callable[..., None],
    observed: str,
    static: tuple[tuple[str, int], ...],
    params: Mapping[str, jnp.ndarray],
    key: jax.Array,
    inputs: Mapping[str, Any],
) -> jnp.ndarray:
    """One draw of the observed site from the program at ``params`` (new data from θ)."""
    model = substitute(seed_handler(program, key), data=params)
    return trace(model).get_trace(**inputs, **dict(static))[observed]["value"]


@functools.partial(jit, static_argnames=("program", "observed", "static"))
def simulate_many(
    program: Callable[..., None],
    observed: str,
    static: tuple[tuple[str, int], ...],
    params: Mapping[str, jnp.ndarray],
    key: jax.Array,
    inputs: Mapping[str, Any],
) -> jnp.ndarray:
    """One draw of the observed site per draw of ``params`` (leading axis: draws)."""
    keys = jax.random.split(key, next(iter(params.values())).shape[0])
    return jax.vmap(lambda p, k: simulate(program, observed, static, p, k, inputs))(params, keys)


@functools.partial(jit, static_argnames=("program", "observed", "static"))
def _pointwise_block(
    program: Callable[..., None],
    observed: str,
    static: tuple[tuple[str, int], ...],
    params: Mapping[str, jnp.ndarray],
    key: jax.Array,
    kwargs: Mapping[str, Any],
    inputs: Mapping[str, Any],
) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Posterior-predictive draws and pointwise log-likelihood for a block of draws."""
    pp = simulate_many(program, observed, static, params, key, inputs)
    ll = log_likelihood(program, params, **kwargs)[observed]
    return pp, ll


@functools.partial(jit, static_argnames=("program", "static", "draws", "batch"))
def _prior_block(
    program: Callable[..., None],
    static: tuple[tuple[str, int], ...],
    key: jax.Array,
    inputs: Mapping[str, Any],
    draws: int,
    batch: int,
) -> dict[str, jnp.ndarray]:
    """``draws`` runs of the program without its observed values: every sample site's value.

    The draws run ``batch`` at a time (all at once where ``batch`` ≥ ``draws``): each
    run's temporaries (logits, uniforms, random bits) are rows long, so at 10⁶ rows four
    draws at once held about 80 MiB more than the draws themselves.
    """

    def one(k: jax.Array) -> dict[str, jnp.ndarray]:
        tr = trace(seed_handler(program, k)).get_trace(**inputs, **dict(static))
        return {
            name: site["value"]
            for name, site in tr.items()
            if site["type"] in ("sample", "deterministic")
        }

    keys = jax.random.split(key, draws)
    if batch >= draws:
        return jax.vmap(one)(keys)
    return jax.lax.map(one, keys, batch_size=batch)


def _is_improper(fn: Any) -> bool:
    while not isinstance(fn, ImproperUniform) and hasattr(fn, "base_dist"):
        fn = fn.base_dist
    return isinstance(fn, ImproperUniform)


def _improper(problem: Problem) -> list[str]:
    """The latent sites whose prior cannot be sampled (flat priors), found without compiling."""
    found: list[str] = []

    def run(kwargs: Mapping[str, Any]) -> int:
        model = substitute(seed_handler(problem.program, 0), substitute_fn=_placeholder)
        tr = trace(model).get_trace(**kwargs, **dict(problem.static_inputs))
        found.extend(
            name
            for name, site in tr.items()
            if site["type"] == "sample" and not site["is_observed"] and _is_improper(site["fn"])
        )
        return 0

    jax.eval_shape(run, dict(problem.inputs))
    return found


def prior_groups(
    problem: Problem, key: jax.Array, draws: int = PRIOR_DRAWS
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, Any]]:
    """``prior`` and ``prior_predictive`` (one chain), or none when a prior is improper."""
    flat = _improper(problem)
    if flat:
        return {}, {"prior_draws": f"none: improper (flat) prior on {', '.join(flat)}"}
    size = max(1, problem.size)
    draws = max(1, min(draws, POINTWISE_BUDGET // 4 // size))
    batch = max(1, PRIOR_BATCH_VALUES // size)
    out = _prior_block(problem.program, problem.static_inputs, key, problem.inputs, draws, batch)
    obs = problem.model.observed
    values = {k: to_host(v)[None] for k, v in out.items()}
    groups = {
        "prior": {k: v for k, v in values.items() if k != obs},
        "prior_predictive": {obs: trim(values[obs], problem.real_rows, axis=2)},
    }
    return groups, {"prior_draws": draws}


def _keep_draws(chains: int, draws: int, n: int, pointwise: str | int) -> np.ndarray | None:
    """Indices of the draws (per chain) whose pointwise values are stored; None: none."""
    if pointwise == "none":
        return None
    if pointwise == "all":
        return np.arange(draws)
    if pointwise == "auto":
        cap = max(1, POINTWISE_BUDGET // max(1, chains * n))
    elif isinstance(pointwise, int | np.integer) and not isinstance(pointwise, bool):
        if pointwise < 1:
            raise ValueError(f"pointwise must be >= 1 draws per chain; got {pointwise}")
        cap = int(pointwise)
    else:
        raise ValueError(
            f"pointwise must be one of {', '.join(POINTWISE_CHOICES)} or a number of draws; "
            f"got {pointwise!r}"
        )
    if cap >= draws:
        return np.arange(draws)
    return np.unique(np.linspace(0, draws - 1, cap).round().astype(int))


def pointwise_groups(
    problem: Problem,
    posterior: Mapping[str, np.ndarray],
    key: jax.Array,
    pointwise: str | int = "auto",
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, Any]]:
    """Posterior-predictive draws and pointwise log-likelihood, bounded in size and memory.

    ``posterior`` has (chain, draw, ...) arrays. Returns the groups and attrs saying
    which draws they hold.
    """
    chains, draws = next(iter(posterior.values())).shape[:2]
    keep = _keep_draws(chains, draws, problem.n, pointwise)
    if keep is None:
        return {}, {"pointwise_draws": "none"}
    flat = {
        k: np.asarray(v)[:, keep].reshape(chains * len(keep), *v.shape[2:])
        for k, v in posterior.items()
    }
    total = chains * len(keep)
    block = max(1, min(total, POINTWISE_BUDGET // 4 // max(1, problem.size)))
    obs = problem.model.observed
    pps, lls = [], []
    for i, part in enumerate(blocks(flat, block)):
        pp, ll = _pointwise_block(
            problem.program,
            obs,
            problem.static_inputs,
            part,
            jax.random.fold_in(key, i),
            problem.kwargs,
            problem.inputs,
        )
        pps.append(to_host(pp))  # gathered from every process when rows are sharded
        lls.append(to_host(ll))
    # per draw: the observed site's shape (batch and event dims: (n,), (n, d), or (k,) for a
    # single Multinomial observation) and its log-likelihood's (the batch dims: (n,) or ())
    pp, ll = np.concatenate(pps)[:total], np.concatenate(lls)[:total]
    pp, ll = trim(pp, problem.real_rows, axis=1), trim(ll, problem.real_rows, axis=1)
    groups = {
        "posterior_predictive": {obs: pp.reshape(chains, len(keep), *pp.shape[1:])},
        "log_likelihood": {obs: ll.reshape(chains, len(keep), *ll.shape[1:])},
    }
    desc = "all" if len(keep) == draws else f"{len(keep)} of {draws} per chain, evenly spaced"
    return groups, {"pointwise_draws": desc}


def _json(value: Any) -> str:
    return json.dumps(value, default=repr, sort_keys=True)


def _attr(value: Any) -> Any:
    """A value netCDF attrs can hold (tuples become arrays)."""
    return np.asarray(value, dtype=float) if isinstance(value, tuple) else value


def fit_attrs(
    problem: Problem, method: str, seed: int, settings: Mapping[str, Any], wall_time: float
) -> dict[str, Any]:
    """The attrs every fit records: model, method, dataset, seed, settings, scaling, wall time."""
    attrs: dict[str, Any] = {
        "model": problem.model.name,
        "method": method,
        "dataset": problem.data.name,
        "seed": int(seed),
        "settings": _json(dict(settings)),
        "priors": _json({k: repr(v) for k, v in problem.priors.items()}),
        "priors_described": _json(
            {k.removesuffix("_prior"): describe(v) for k, v in problem.priors.items()}
        ),
        "wall_time_s": float(wall_time),
        "float_dtype": str(float_dtype()),
        "n_obs": int(np.prod(problem.observation_shape())),  # 1 for one Multinomial draw
    }
    if problem.scaling is not None:
        attrs.update({f"fit_{k}": v for k, v in problem.scaling.as_attrs().items()})
    for key, value in problem.data.attrs.items():
        attrs[f"data_{key}"] = _attr(value)
    return attrs


def build_datatree(
    problem: Problem,
    posterior: Mapping[str, np.ndarray],
    *,
    key: jax.Array,
    method: str,
    seed: int,
    settings: Mapping[str, Any],
    wall_time: float,
    sample_stats: Mapping[str, np.ndarray] | None = None,
    pointwise: str | int = "auto",
    prior_draws: int = PRIOR_DRAWS,
    independent: bool = False,
    uses_prior: bool = True,
) -> xr.DataTree:
    """The DataTree of a fit from its posterior draws, (chain, draw, ...) arrays in user units.

    ``prior_draws`` (0: none; also none with ``pointwise="none"``) bounds the draws of
    the prior groups; there are none when the estimate does not use the prior
    (``uses_prior``, declared by the method: an MLE, its Wald, profile, bootstrap).
    ``independent``: the draws are independent (Laplace, SVI, Wald), not Markov chains,
    so that r̂ and ESS say nothing about them (attr ``independent_draws``, read by
    :func:`freqbayes.inference.diagnostics.draw_diagnostics`).
    """
    obs = problem.model.observed
    posterior = problem.model.canonical_draws(posterior)  # one labelling of equivalent modes
    groups, attrs = pointwise_groups(problem, posterior, key, pointwise)
    if not problem.streamed:  # a streamed table's rows are not in one place
        posterior = {**posterior, **deterministic_draws(problem, posterior, POINTWISE_BUDGET)}
    chains, draws = next(iter(posterior.values())).shape[:2]
    if chains * draws == 1 and "log_likelihood" in groups:
        groups["log_likelihood_at_estimate"] = groups.pop("log_likelihood")
    if pointwise == "none":
        prior_draws = 0
    if not uses_prior:
        prior, prior_attrs = {}, {"prior_draws": "none: this estimate does not use the prior"}
    elif prior_draws == 0:
        prior, prior_attrs = {}, {"prior_draws": 0}
    else:
        prior, prior_attrs = prior_groups(problem, jax.random.fold_in(key, PRIOR_KEY), prior_draws)
    constant = {k: np.asarray(v) for k, v in problem.arrays.items() if k != obs}
    if problem.data.share is not None:  # each process held only its rows (.shares)
        constant = {}
    observed = {}
    if not problem.streamed:  # a streamed table's rows are never in one place
        observed = {obs: trim(to_host(problem.args[obs]), problem.real_rows)}
    groups = {
        "posterior": {k: np.asarray(v) for k, v in posterior.items()},
        **groups,
        **prior,
        **({"observed_data": observed} if observed else {}),
        **({"constant_data": constant} if constant else {}),
    }
    attrs.update(prior_attrs)
    if sample_stats:
        groups["sample_stats"] = dict(sample_stats)
    dims, coords = problem.labels()
    taken = {*posterior, *constant, *dims, *coords, *(d for v in dims.values() for d in v)}
    name = observed_name(problem, taken - {obs})
    if name != obs:
        for group in OBSERVED_GROUPS:
            if group in groups:
                groups[group] = {name if k == obs else k: v for k, v in groups[group].items()}
        dims[name] = dims.pop(obs)
    tree = from_dict(groups, dims=dims, coords=coords)
    tree.attrs.update(fit_attrs(problem, method, seed, {**settings, **attrs}, wall_time))
    tree.attrs["independent_draws"] = int(independent)
    tree.attrs["observed_variable"] = name  # for predict: a streamed fit has no observed_data
    return tree
