"""Simulation-based calibration (SBC): which methods' posteriors can be trusted here.

Talts et al. (2018): draw parameters θ̃ from the prior and data y from the model
at θ̃, then fit the posterior given y. If the fitting method is exact, θ̃ is a
draw from that posterior, so the rank of θ̃ among L independent posterior draws is
uniform on {0, …, L}. Repeated over N simulated data sets, the ranks must be
uniform; a ∪ shape means posteriors that are too narrow, a ∩ shape too wide, a
slope a bias.

Every fit is the user's: the registered method through the public
:func:`freqbayes.inference.fit`, one data set after another, with the settings of
:class:`Sizes` (one chain; the kept draws thinned to L). A fit counts as converged
when :func:`freqbayes.inference.diagnostics.warnings` has nothing to say about it.

Two tests of uniformity per parameter, and the smaller p-value doubled (Bonferroni)
is the parameter's p; the method is rejected when a parameter's p < 10⁻³:

* the rank histogram's χ² on ten equal bins (what the report's figure draws);
* the ECDF test of arviz-stats (``uniformity_test``, method ``pot_c``): each order
  statistic of the PIT values against its Beta(i, N + 1 − i) law, the pointwise
  p-values joined by a truncated Cauchy combination (Tesso & Vehtari), the p-value
  form of the simultaneous ECDF bands of Säilynoja, Bürkner & Vehtari (2022). Its
  PIT values are the ranks randomised within their cells, (r + V)/(L + 1) with
  V ~ U(0, 1), which are exactly uniform under calibration.

How strong the check is: :func:`power` makes the exact posterior of a conjugate
(Normal-Inverse-Gamma) linear model, then two wrong ones from it (every sd × 0.8;
every mean + 0.25 sd), and counts how often each is rejected in 100 repetitions
(``benchmarks/sbc.py --power``; measured 2026-12-04, L = 99). At N = 500, the size the
tests and the report use, both are rejected 100 times in 100 and the exact posterior
never; a single parameter made wrong is caught 93% (sd) and 97% (mean) of the time,
against 87% and 85% for the χ² test alone. At N = 200 the wrong posteriors passed 22
and 8 times in 100 (χ² alone: 29 and 38).

Thinning: the draws of one NUTS chain on the linear case have lag-1 autocorrelations
of 0.02 to 0.09 (σ the largest; mean over 20 data sets), and correlated draws make
the rank of θ̃ non-uniform even for an exact sampler; at lag 3 they are at most 0.023
on average, so every third draw is kept (every fifth at full size), for two more
iterations per kept draw.

Longer than 400 lines: one idea (simulate, fit, rank, test, and the power of the
test), whose parts share the case definitions and are not used elsewhere.
"""

from __future__ import annotations

import functools
import time
import warnings
from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from arviz_stats.base import array_stats
from numpyro.handlers import seed as seed_handler
from numpyro.handlers import trace
from scipy import stats

from freqbayes.inference.diagnostics import warnings as fit_warnings
from freqbayes.inference.probabilistic import fit
from freqbayes.inference.probabilistic.method import Budget
from freqbayes.inference.probabilistic.repeated import Mapper
from freqbayes.inference.registry import METHODS as REGISTRY
from freqbayes.models.probabilistic import linear
from freqbayes.models.probabilistic import priors as P
from freqbayes.models.registry import get_model

BINS = 10

#: A method is rejected when one of its parameters has p below this.
THRESHOLD = 1e-3


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

#: The linear case with conjugate priors: the exact posterior of :func:`power`'s controls.
CONJUGATE = Case(
    "linear",
    {
        "beta_prior": P.ScaledNormal(0.0, 1.0),
        "intercept_prior": P.ScaledNormal(0.0, 1.0),
        "sigma_prior": P.InverseGamma(3.0, 2.0),
    },
    30,
    2,
)


def calibrated(model: str) -> tuple[str, ...]:
    """The registered methods that declare how SBC calls them and apply to ``model``."""
    spec = get_model(model)
    return tuple(
        name
        for name, method in REGISTRY.items()
        if method.calibration is not None and method.applies_to(spec)
    )


#: Methods with a posterior, per model: those declaring ``Method.calibration`` (SGLD needs
#: features to subsample).
METHODS = {model: calibrated(model) for model in CASES}

#: What every SBC fit passes to :func:`~freqbayes.inference.fit`: one chain, nothing stored
#: beyond the draws.
COMMON = {"num_chains": 1, "pointwise": "none", "progress": False}


class Sizes(NamedTuple):
    """How big each fit is: L, the draws ranked, and the budget each method reads.

    A registered method's settings come from its declaration
    (``Method.calibration(budget)``); ``settings`` adds or overrides some per method
    name; a method with neither draws L times (``num_samples``). A fit's draws must be
    a multiple of L: every ``draws / L``-th is kept (thinning).
    """

    draws: int
    settings: Mapping[str, Mapping[str, Any]] = {}
    budget: Budget | None = None

    def of(self, method: str) -> dict[str, Any]:
        """The keywords of one fit of ``method``."""
        declared = REGISTRY.get(method).calibration if method in REGISTRY else None
        own = {} if declared is None or self.budget is None else declared(self.budget)
        return {**COMMON, "num_samples": self.draws, **own, **self.settings.get(method, {})}


def _sizes(draws: int, warmup: int, thin: int, steps: int, sgld: tuple[int, int]) -> Sizes:
    return Sizes(draws, budget=Budget(draws, warmup, thin, steps, *sgld))


#: The full run's sizes (L = 99 draws per data set, NUTS thinned by 5), the report's and the
#: tests' (L = 99, NUTS thinned by 3) and a smoke test's (L = 19: ranks in bins of two).
FULL = _sizes(99, 500, 5, 5000, (2000, 25))
QUICK = _sizes(99, 300, 3, 2000, (1000, 10))
SMOKE = _sizes(19, 150, 3, 1000, (500, 5))


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
        of the true value among the L draws (0 … L).
    draws : int
        L.
    pvalues : dict
        Per parameter: twice the smaller of the χ² and ECDF p-values (at most 1).
    converged : float
        Share of the fits with no diagnostic warning (divergences, tree depth, an
        optimiser or SVI that did not converge).
    seconds : float
        Wall time of the fits (compilation included).
    truth, posterior : dict
        The true parameters (N, ...) and the posterior draws (N, L, ...), to recompute
        ranks (e.g. :func:`distorted`).
    chi2, ecdf : dict
        The two tests' p-values per parameter (:func:`uniformity`, :func:`ecdf_uniformity`).
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
    chi2: dict[str, float]
    ecdf: dict[str, float]

    @property
    def min_pvalue(self) -> float:
        """The smallest p-value over the parameters."""
        return min(self.pvalues.values())

    def table(self) -> pd.DataFrame:
        """One row per parameter: model, method, the three p-values, share converged."""
        return pd.DataFrame(
            {
                "model": self.model,
                "method": self.method,
                "parameter": list(self.pvalues),
                "pvalue": list(self.pvalues.values()),
                "chi2_pvalue": list(self.chi2.values()),
                "ecdf_pvalue": list(self.ecdf.values()),
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


def ecdf_uniformity(ranks: np.ndarray, draws: int, rng: np.random.Generator) -> float:
    """p-value of arviz-stats' ECDF test (``pot_c``) on the randomised PIT (r + V)/(L + 1)."""
    ranks = np.asarray(ranks)
    pit = (ranks + rng.uniform(size=ranks.shape)) / (draws + 1)
    return float(array_stats.uniformity_test(pit, method="pot_c")[0])


def pvalues_of(
    ranks: pd.DataFrame, draws: int, seed: int = 0
) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """Per column of ``ranks``: the combined p, the χ² p and the ECDF p (same seed, same p)."""
    rng = np.random.default_rng(seed)
    chi2 = {k: uniformity(ranks[k].to_numpy(), draws) for k in ranks}
    ecdf = {k: ecdf_uniformity(ranks[k].to_numpy(), draws, rng) for k in ranks}
    both = {k: min(1.0, 2.0 * min(chi2[k], ecdf[k])) for k in ranks}
    return both, chi2, ecdf


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
    both, chi2, ecdf = pvalues_of(ranks, draws)
    return Result(
        model, method, ranks, draws, both, converged, seconds, truth, posterior, chi2, ecdf
    )


def distorted(result: Result, factor: float = 1.0, shift: float = 0.0) -> Result:
    """A negative control: each data set's draws scaled about their mean, then moved.

    Every draw v becomes mean + ``factor`` (v − mean) + ``shift`` sd, with the mean and
    sd of its data set's draws. ``factor`` = 0.8 makes every posterior 20% too narrow,
    ``shift`` = 0.25 moves every mean by a quarter of a posterior sd; calibration must
    catch both.
    """
    return _result(
        result.model,
        f"{result.method} ({control_name(factor, shift)})",
        result.truth,
        _distort(result.posterior, factor, shift),
        result.draws,
        result.converged,
        result.seconds,
    )


def control_name(factor: float, shift: float) -> str:
    """How a control is named in tables: ``sd × 0.8``, ``mean + 0.25 sd``."""
    parts = [f"sd × {factor:g}"] if factor != 1.0 else []
    parts += [f"mean + {shift:g} sd"] if shift else []
    return ", ".join(parts) or "exact"


def _distort(
    posterior: Mapping[str, np.ndarray], factor: float, shift: float
) -> dict[str, np.ndarray]:
    out = {}
    for k, v in posterior.items():
        mean, sd = v.mean(1, keepdims=True), v.std(1, keepdims=True)
        out[k] = mean + factor * (v - mean) + shift * sd
    return out


def _datasets(sim: Simulated) -> list[Any]:
    """Each simulated data set in a form :func:`~freqbayes.inference.fit` takes."""
    y = np.asarray(sim.y, dtype=float)
    if "X" in sim.fixed:
        X = np.asarray(sim.fixed["X"], dtype=float)
        return [(X, yi) for yi in y]
    return list(y)


def _thinned(tree: Any, names: Any, draws: int) -> dict[str, np.ndarray]:
    """The posterior's draws of ``names``, chains joined, every (total / L)-th kept."""
    out = {}
    for name in names:
        v = np.asarray(tree["posterior"][name])
        v = v.reshape(-1, *v.shape[2:])
        if len(v) % draws:
            raise ValueError(f"sizes: {len(v)} draws is not a multiple of L = {draws}")
        step = len(v) // draws
        out[name] = v[step - 1 :: step]
    return out


#: Data sets per piece when an SBC is handed to an executor (:func:`calibrate`'s ``mapper``):
#: each fit is a Python call of about a second, so a task holds many.
CHUNK = 25


def _fit_piece(
    model: str,
    method: str,
    priors: Mapping[str, Any],
    settings: Mapping[str, Any],
    draws: int,
    names: list[str],
    piece: list[tuple[Any, int]],
) -> list[tuple[dict[str, np.ndarray], bool]]:
    """Fit each (data set, seed) of ``piece``: its thinned draws and whether it converged."""
    out = []
    for data, fit_seed in piece:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            tree = fit(model, method, data, seed=fit_seed, priors=priors, **settings)
        out.append((_thinned(tree, names, draws), not fit_warnings(tree)))
    return out


def calibrate(
    model: str,
    method: str,
    *,
    num: int = 500,
    seed: int = 0,
    sizes: Sizes = FULL,
    mapper: Mapper | None = None,
    chunk: int = CHUNK,
) -> Result:
    """SBC of ``method`` on ``model`` (its :data:`CASES` set-up) over ``num`` data sets.

    Each data set is fitted by ``freqbayes.inference.fit(model, method, ...)`` with
    ``sizes.of(method)``; its seed is drawn from ``seed``. ``mapper``: a ``map``-like
    executor (:data:`~freqbayes.inference.probabilistic.repeated.Mapper`, e.g. a Dask
    cluster's) handed pieces of ``chunk`` data sets, results in order; every fit depends
    only on its data set and seed, so the result is the same with or without one.
    """
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1; got {chunk}")
    case = CASES[model]
    sim = simulate(case, jax.random.key(seed), num, seed)
    seeds = np.random.default_rng([seed, 1]).integers(0, 2**31 - 1, num)
    work = list(zip(_datasets(sim), (int(s) for s in seeds), strict=True))
    job = functools.partial(
        _fit_piece, model, method, case.priors, sizes.of(method), sizes.draws, list(sim.truth)
    )
    pieces = [work[i : i + chunk] for i in range(0, num, chunk)]
    start = time.perf_counter()
    done = [one for part in (map if mapper is None else mapper)(job, pieces) for one in part]
    seconds = time.perf_counter() - start
    posterior = {k: np.stack([d[k] for d, _ in done]) for k in sim.truth}
    converged = float(np.mean([ok for _, ok in done]))
    return _result(model, method, sim.truth, posterior, sizes.draws, converged, seconds)


def exact_posterior(
    case: Case, sim: Simulated, draws: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """``draws`` independent draws from the exact posterior of each data set (N, L, ...).

    The linear model with Normal-Inverse-Gamma priors (:data:`CONJUGATE`):
    σ² ~ Inverse-Gamma(aₙ, bₙ), then (b, θ) | σ² ~ N(mₙ, σ² Vₙ)
    (:func:`~freqbayes.models.probabilistic.linear.posterior_nig`).
    """
    X = np.asarray(sim.fixed["X"], dtype=float)
    priors = case.priors
    out: dict[str, list[np.ndarray]] = {"intercept": [], "beta": [], "sigma": []}
    for y in np.asarray(sim.y, dtype=float):
        post = linear.posterior_nig(
            X, y, priors["beta_prior"], priors["intercept_prior"], priors["sigma_prior"]
        )
        var = post.b / rng.gamma(post.a, size=draws)
        z = rng.standard_normal((draws, len(post.mean))) @ np.linalg.cholesky(post.V).T
        coef = post.mean + np.sqrt(var)[:, None] * z
        out["intercept"].append(coef[:, 0])
        out["beta"].append(coef[:, 1:])
        out["sigma"].append(np.sqrt(var))
    return {k: np.stack(v) for k, v in out.items()}


#: The negative controls of :func:`power`: (sd factor, mean shift in sds).
CONTROLS = ((1.0, 0.0), (0.8, 0.0), (1.0, 0.25))


def power(num: int = 500, reps: int = 100, draws: int = 99, seed: int = 0) -> pd.DataFrame:
    """How often the tests reject the exact posterior and the :data:`CONTROLS`.

    ``reps`` repetitions of an SBC over ``num`` data sets of :data:`CONJUGATE`, each
    with its exact posterior (:func:`exact_posterior`) and the controls made from it
    (:func:`_distort`). One row per (control, repetition, parameter): the combined,
    χ² and ECDF p-values. :func:`rejections` summarises it.
    """
    sim = simulate(CONJUGATE, jax.random.key(seed), num * reps, seed)
    rng = np.random.default_rng([seed, 2])
    rows = []
    for rep in range(reps):
        part = slice(rep * num, (rep + 1) * num)
        one = Simulated({k: v[part] for k, v in sim.truth.items()}, sim.fixed, sim.y[part])
        exact = exact_posterior(CONJUGATE, one, draws, rng)
        for factor, shift in CONTROLS:
            ranks = ranks_of(one.truth, _distort(exact, factor, shift))
            both, chi2, ecdf = pvalues_of(ranks, draws, seed=int(rng.integers(2**31)))
            for k in ranks:
                rows.append((control_name(factor, shift), rep, k, both[k], chi2[k], ecdf[k]))
    return pd.DataFrame(rows, columns=["control", "rep", "parameter", "pvalue", "chi2", "ecdf"])


def rejections(table: pd.DataFrame, threshold: float = THRESHOLD) -> pd.DataFrame:
    """Share of repetitions rejected, per control and test.

    A repetition is rejected when some parameter has p < ``threshold``; the columns
    ``*_per_parameter`` give the share of single parameters rejected.
    """
    out = {}
    for test in ("pvalue", "chi2", "ecdf"):
        low = table[test] < threshold
        out[test] = low.groupby([table["control"], table["rep"]]).any().groupby("control").mean()
        out[f"{test}_per_parameter"] = low.groupby(table["control"]).mean()
    order = [control_name(f, s) for f, s in CONTROLS]
    return pd.DataFrame(out).loc[order]
