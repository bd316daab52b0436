"""Simulation-based calibration (SBC): which methods' posteriors can be trusted here.

Talts et al. (2018): draw parameters θ̃ from the prior and data y from the model
at θ̃, then fit the posterior given y. If the fitting method is exact, θ̃ is a
draw from that posterior, so the rank of θ̃ among S posterior draws is uniform on
{0, …, S}. Repeated over N simulated data sets, a histogram of the ranks must be
flat; a ∪ shape means posteriors that are too narrow, a ∩ shape too wide, a slope
a bias. The uniformity is tested with a χ² test on ten equal bins of ranks.

Everything here is batched over the N data sets: simulation as one ``vmap``, and
each method's fit with the same pure functions the user-facing methods call —
NUTS and Laplace in ``lax.map`` (a vmapped ``while_loop`` runs every lane to the
slowest one), SVI and SGLD in ``vmap``.

Longer than 400 lines: one idea (simulate, fit, rank, test), whose parts share the
case definitions and are not used elsewhere.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from numpyro.handlers import seed as seed_handler
from numpyro.handlers import trace
from scipy import stats

from freqbayes.inference.optim import default_gtol
from freqbayes.inference.probabilistic import laplace, mcmc, optimize, svi
from freqbayes.inference.probabilistic.problem import Target, hashable_shapes, latent_shapes
from freqbayes.inference.probabilistic.sgld import run_chains as sgld_chains
from freqbayes.models import get_model
from freqbayes.models.probabilistic import priors as P
from freqbayes.models.probabilistic.model import Model
from freqbayes.models.probabilistic.scaling import Scaling, outcome, scaling_of

BINS = 10


class Case(NamedTuple):
    """A simulation set-up: a model, fixed proper priors, a fixed design.

    Attributes
    ----------
    model : str
        Registered model name.
    priors : dict
        Proper priors the parameters are drawn from (and fitted with).
    n : int
        Observations per data set.
    d : int
        Features (0 for a model without X).
    """

    model: str
    priors: Mapping[str, Any]
    n: int
    d: int = 0


CASES: dict[str, Case] = {
    "gaussian": Case(
        "gaussian", {"mu_prior": P.Normal(0.0, 1.0), "sigma_prior": P.HalfNormal(1.0)}, 20
    ),
    "linear": Case(
        "linear",
        {
            "beta_prior": P.Normal(0.0, 1.0),
            "intercept_prior": P.Normal(0.0, 1.0),
            "sigma_prior": P.HalfNormal(1.0),
        },
        30,
        2,
    ),
    "logistic": Case(
        "logistic",
        {"beta_prior": P.Normal(0.0, 1.0), "intercept_prior": P.Normal(0.0, 1.0)},
        50,
        2,
    ),
}

#: Methods with a posterior, per model (SGLD needs features to subsample).
METHODS = {
    "gaussian": ("nuts", "laplace", "svi", "svi-fullrank"),
    "linear": ("nuts", "laplace", "svi", "svi-fullrank", "sgld"),
    "logistic": ("nuts", "laplace", "svi", "svi-fullrank", "sgld"),
}


#: Methods fitted one data set after another (``lax.map``) rather than in one ``vmap``: a
#: vmapped ``while_loop`` (NUTS's tree doubling, L-BFGS) runs every data set until the
#: slowest finishes; measured 4× (NUTS) and 2× (Laplace) slower than ``lax.map`` here,
#: while SVI and SGLD, fixed-length scans, run 1.5–2.5× faster vmapped.
SEQUENTIAL = frozenset({"nuts", "laplace"})


class Sizes(NamedTuple):
    """How big each fit is: posterior draws kept (S) and the methods' own sizes."""

    draws: int = 99
    nuts_warmup: int = 500
    nuts_thin: int = 10
    svi_steps: int = 5000
    sgld_warmup: int = 2000
    sgld_thin: int = 25


#: The full run's sizes (S = 99 draws per data set), the report's (S = 49) and a smoke
#: test's (S = 19: ranks in bins of two).
FULL = Sizes()
QUICK = Sizes(
    draws=49, nuts_warmup=300, nuts_thin=5, svi_steps=2000, sgld_warmup=1000, sgld_thin=10
)
SMOKE = Sizes(draws=19, nuts_warmup=150, nuts_thin=3, svi_steps=1000, sgld_warmup=500, sgld_thin=5)


class Simulated(NamedTuple):
    """N simulated data sets: true parameters and the program's data arguments."""

    truth: dict[str, np.ndarray]
    fixed: dict[str, jnp.ndarray]
    y: jnp.ndarray


def design(case: Case, seed: int) -> dict[str, np.ndarray]:
    """The fixed design: standard-normal features (none for a model without X)."""
    if not case.d:
        return {}
    return {"X": np.random.default_rng(seed).standard_normal((case.n, case.d))}


def simulate(case: Case, key: jax.Array, num: int, seed: int = 0) -> Simulated:
    """Draw ``num`` (θ̃, y) pairs from the prior and the model (one ``vmap``)."""
    spec = get_model(case.model)
    fixed = {k: jnp.asarray(v) for k, v in design(case, seed).items()}
    static = {} if spec.uses_X else {"n": case.n}

    def one(k: jax.Array) -> dict[str, jnp.ndarray]:
        tr = trace(seed_handler(spec.program, k)).get_trace(**fixed, **static, **case.priors)
        return {name: site["value"] for name, site in tr.items() if site["type"] == "sample"}

    draws = jax.vmap(one)(jax.random.split(key, num))
    y = draws.pop(spec.observed)
    return Simulated({k: np.asarray(v) for k, v in draws.items()}, fixed, y)


def _scalings(spec: Model, sim: Simulated) -> Scaling:
    """The scaling of each data set: the fixed design's, each outcome's own (vmapped)."""
    probe = {
        **{k: np.asarray(v) for k, v in sim.fixed.items()},
        spec.observed: np.asarray(sim.y[0]),
    }
    base = scaling_of(spec.roles, probe, centred=True)
    if spec.roles.y_has_units:
        y_mean, y_scale = jax.vmap(lambda y: outcome(y, True))(sim.y)
    else:
        y_mean = y_scale = None
    num = sim.y.shape[0]
    dtype = jnp.result_type(float)
    return Scaling(
        jnp.broadcast_to(jnp.asarray(base.x_mean, dtype), (num, *np.shape(base.x_mean))),
        jnp.broadcast_to(jnp.asarray(base.x_scale, dtype), (num, *np.shape(base.x_scale))),
        jnp.full((num,), base.y_mean, dtype) if y_mean is None else y_mean.astype(dtype),
        jnp.full((num,), base.y_scale, dtype) if y_scale is None else y_scale.astype(dtype),
    )


@functools.partial(jax.jit, static_argnames=("target", "method", "shapes", "sizes"))
def _fit_many(
    target: Target,
    method: str,
    shapes: Any,
    sizes: Sizes,
    batched: Mapping[str, Any],
    shared: Mapping[str, Any],
    s: Scaling,
    keys: jax.Array,
    gtol: float,
) -> tuple[dict[str, jnp.ndarray], jnp.ndarray]:
    """Posterior draws of u for every data set (one ``vmap``) and whether each fit converged."""
    zeros = {k: jnp.zeros(v.shape, v.dtype) for k, v in shapes}

    def one(data: Mapping[str, Any], scaling: Scaling, key: jax.Array):
        kwargs = {**shared, **data}
        if method == "nuts":
            settings = mcmc.NUTSSettings(
                sizes.nuts_warmup, sizes.draws * sizes.nuts_thin, 0.8, False
            )
            key_init, key_run = jax.random.split(key)
            u0 = {
                k: jax.random.uniform(key_init, (1, *v.shape), v.dtype, -2.0, 2.0)
                for k, v in zeros.items()
            }
            u, stats = mcmc.run_chains(target, kwargs, scaling, u0, key_run[None], settings)
            u = jax.tree.map(lambda a: a[0, :: sizes.nuts_thin], u)
            return u, ~jnp.any(stats.diverging)
        if method == "laplace":
            mode, _, info = optimize._optimise(
                target, kwargs, scaling, zeros, gtol, "unconstrained-posterior", 1000
            )
            u, smallest = laplace.laplace_draws(target, kwargs, scaling, mode, key, sizes.draws)
            return u, info.converged & (smallest > 0)
        if method.startswith("svi"):
            settings = svi.SVISettings(
                "full-rank" if method == "svi-fullrank" else "mean-field",
                sizes.svi_steps,
                0.01,
                sizes.draws,
            )
            u, _, z = svi.svi_fit(target, shapes, kwargs, scaling, key, settings, gtol)
            return u, z <= svi.GRADIENT_Z
        if method == "sgld":
            n = next(iter(data.values())).shape[0]
            key_init, key_run = jax.random.split(key)
            u0 = {
                k: jax.random.uniform(key_init, (1, *v.shape), v.dtype, -2.0, 2.0)
                for k, v in zeros.items()
            }
            args = {k: v for k, v in kwargs.items() if k in ("X", target.observed)}
            priors = {k: v for k, v in kwargs.items() if k not in args}
            u, _ = sgld_chains(
                key_run[None],
                u0,
                args,
                priors,
                scaling,
                0.04 / n,
                target=target,
                batch_size=min(16, n),
                num_warmup=sizes.sgld_warmup,
                num_samples=sizes.draws,
                thin=sizes.sgld_thin,
            )
            return jax.tree.map(lambda a: a[0], u), jnp.asarray(True)
        raise ValueError(f"method: no calibration for {method!r}")

    if method in SEQUENTIAL:
        return jax.lax.map(lambda a: one(*a), (dict(batched), s, keys))
    return jax.vmap(one)(dict(batched), s, keys)


@functools.partial(jax.jit, static_argnames=("target",))
def _constrain(target: Target, shared: Any, batched: Any, s: Scaling, u: Any) -> Any:
    def per_set(data: Any, scaling: Scaling, draws: Any) -> Any:
        kwargs = {**shared, **data}
        return jax.vmap(lambda one: target.constrain(kwargs, scaling, one))(draws)

    return jax.vmap(per_set)(dict(batched), s, u)


def _scalars(values: Mapping[str, np.ndarray], lead: int) -> dict[str, np.ndarray]:
    """Flatten each parameter to scalar labels (``beta[0]``, …) over the ``lead`` axes."""
    out = {}
    for name, v in sorted(values.items()):
        v = np.asarray(v)
        rest = v.shape[lead:]
        if not rest:
            out[name] = v
            continue
        flat = v.reshape(*v.shape[:lead], -1)
        for j in range(flat.shape[-1]):
            out[f"{name}[{j}]"] = flat[..., j]
    return out


class Result(NamedTuple):
    """SBC of one method on one model.

    Attributes
    ----------
    model, method : str
    ranks : DataFrame
        One column per scalar parameter, one row per simulated data set: the rank
        of the true value among the S draws (0 … S).
    draws : int
        S.
    pvalues : dict
        χ² p-value of uniformity per parameter.
    converged : float
        Share of the fits whose method-specific check passed (no divergence for
        NUTS, gradient criterion and positive-definite Hessian for Laplace,
        a vanishing ELBO gradient for SVI).
    seconds : float
        Wall time of the fits (compilation included).
    truth, posterior : dict
        The true parameters (N, ...) and the posterior draws (N, S, ...), to recompute
        ranks (e.g. :func:`shrunk`).
    """

    model: str
    method: str
    ranks: pd.DataFrame
    draws: int
    pvalues: dict[str, float]
    converged: float
    seconds: float
    truth: dict[str, np.ndarray]
    posterior: dict[str, np.ndarray]

    @property
    def min_pvalue(self) -> float:
        """The smallest p-value over the parameters."""
        return min(self.pvalues.values())

    def table(self) -> pd.DataFrame:
        """One row per parameter: model, method, p-value, share converged, seconds."""
        return pd.DataFrame(
            {
                "model": self.model,
                "method": self.method,
                "parameter": list(self.pvalues),
                "chi2_pvalue": list(self.pvalues.values()),
                "datasets": len(self.ranks),
                "draws": self.draws,
                "converged": self.converged,
            }
        )


def uniformity(ranks: np.ndarray, draws: int, bins: int = BINS) -> float:
    """χ² p-value of the hypothesis that ``ranks`` are uniform on {0, …, draws}."""
    if (draws + 1) % bins:
        raise ValueError(f"draws + 1 must be a multiple of bins: {draws} + 1, {bins}")
    counts = np.bincount(np.asarray(ranks) * bins // (draws + 1), minlength=bins)
    return float(stats.chisquare(counts).pvalue)


def ranks_of(truth: Mapping[str, np.ndarray], draws: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """Rank of each true scalar among its data set's draws (ties broken at random: none occur)."""
    t = _scalars(truth, 1)
    d = _scalars(draws, 2)
    return pd.DataFrame({k: np.sum(d[k] < t[k][:, None], axis=1) for k in t})


def _result(
    model: str,
    method: str,
    truth: dict[str, np.ndarray],
    posterior: dict[str, np.ndarray],
    draws: int,
    converged: float,
    seconds: float,
) -> Result:
    ranks = ranks_of(truth, posterior)
    pvalues = {k: uniformity(ranks[k].to_numpy(), draws) for k in ranks}
    return Result(model, method, ranks, draws, pvalues, converged, seconds, truth, posterior)


def shrunk(result: Result, factor: float) -> Result:
    """A negative control: every draw moved ``factor`` of the way to its posterior mean.

    ``factor`` = 0.8 makes every posterior 20% too narrow, which calibration must catch.
    """
    post = {
        k: v.mean(1, keepdims=True) + factor * (v - v.mean(1, keepdims=True))
        for k, v in result.posterior.items()
    }
    return _result(
        result.model,
        f"{result.method} (sd × {factor:g})",
        result.truth,
        post,
        result.draws,
        result.converged,
        result.seconds,
    )


def calibrate(
    model: str,
    method: str,
    *,
    num: int = 500,
    seed: int = 0,
    sizes: Sizes = FULL,
) -> Result:
    """SBC of ``method`` on ``model`` (its :data:`CASES` set-up) over ``num`` data sets."""
    case = CASES[model]
    spec = get_model(model)
    key_sim, key_fit = jax.random.split(jax.random.key(seed))
    sim = simulate(case, key_sim, num, seed)
    batched, shared = {spec.observed: sim.y}, {**sim.fixed, **case.priors}
    s = _scalings(spec, sim)
    target = Target(spec.program, spec.roles, spec.observed)
    probe = {**shared, spec.observed: sim.y[0]}
    shapes = hashable_shapes(latent_shapes(spec.program, probe))
    start = time.perf_counter()
    u, info = _fit_many(
        target,
        method,
        shapes,
        sizes,
        batched,
        shared,
        s,
        jax.random.split(key_fit, num),
        default_gtol(jnp.result_type(float), case.n),
    )
    draws = _constrain(target, shared, batched, s, u)
    draws = {k: np.asarray(v) for k, v in jax.block_until_ready(draws).items()}
    seconds = time.perf_counter() - start
    converged = float(np.mean(np.asarray(info)))
    return _result(model, method, sim.truth, draws, sizes.draws, converged, seconds)
