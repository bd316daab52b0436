"""Confidence against credible intervals: how often each covers the true μ (§5.6).

:func:`interval_coverage` averages over μ drawn from a prior; :func:`two_guarantees`
fixes μ, the frequentist's guarantee, beside the average, the Bayesian's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from freqbayes.i18n import N_
from freqbayes.labels import CREDIBLE_INTERVAL
from freqbayes.lessons.gaussian import WEAK_NIG
from freqbayes.models.probabilistic import gaussian

#: The prior the coverage simulation draws (μ, σ²) from: μ | σ² ~ N(0, σ²), σ² ~ IG(3, 2).
TRUE_NIG = gaussian.NIG(loc=0.0, kappa=1.0, alpha=3.0, beta=2.0)


#: Intervals compared for coverage: name -> NIG prior (None: the frequentist t-interval).
COVERAGE_PRIORS: dict[str, gaussian.NIG | None] = {
    N_("95% t confidence interval"): None,
    N_("95% credible ETI, true (conjugate) prior"): TRUE_NIG,
    N_("95% credible ETI, weakly-informative prior"): WEAK_NIG,
    N_("95% credible ETI, misspecified prior (μ₀ = 3, κ₀ = 5)"): gaussian.NIG(3.0, 5.0, 3.0, 2.0),
}


def _nig_interval(x: np.ndarray, prior: gaussian.NIG, prob: float) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed credible interval of μ under the NIG posterior, for every row of ``x``."""
    n = x.shape[1]
    xbar = x.mean(axis=1)
    ss = ((x - xbar[:, None]) ** 2).sum(axis=1)
    kappa = prior.kappa + n
    loc = (prior.kappa * prior.loc + n * xbar) / kappa
    alpha = prior.alpha + n / 2
    beta = prior.beta + 0.5 * ss + prior.kappa * n * (xbar - prior.loc) ** 2 / (2 * kappa)
    half = stats.t.ppf(0.5 + prob / 2, 2 * alpha) * np.sqrt(beta / (alpha * kappa))
    return loc - half, loc + half


def _t_interval(x: np.ndarray, prob: float) -> tuple[np.ndarray, np.ndarray]:
    """The t confidence interval x̄ ± t_{n−1} s/√n for every row of ``x``."""
    n = x.shape[1]
    xbar, s = x.mean(axis=1), x.std(axis=1, ddof=1)
    half = stats.t.ppf(0.5 + prob / 2, n - 1) * s / np.sqrt(n)
    return xbar - half, xbar + half


def interval_coverage(
    seed: int = 0,
    ns: Sequence[int] = (5, 20, 100),
    reps: int = 4000,
    prob: float = 0.95,
    true_prior: gaussian.NIG = TRUE_NIG,
    priors: Mapping[str, gaussian.NIG | None] | None = None,
) -> pd.DataFrame:
    """Frequentist coverage of confidence and credible intervals for μ.

    Every replication draws (μ, σ²) from ``true_prior``, then n observations, then
    each interval; coverage is the fraction of intervals that contain the μ drawn.
    The t-interval covers ``prob`` for every μ; the credible interval under the prior
    the parameters were truly drawn from covers ``prob`` on average over that prior.

    Returns a long table: interval, n, coverage, its Monte-Carlo se, mean width.
    """
    priors = COVERAGE_PRIORS if priors is None else priors
    rng = np.random.default_rng(seed)
    rows = []
    for n in ns:
        var = stats.invgamma(true_prior.alpha, scale=true_prior.beta).rvs(reps, random_state=rng)
        mu = rng.normal(true_prior.loc, np.sqrt(var / true_prior.kappa))
        x = mu[:, None] + np.sqrt(var)[:, None] * rng.standard_normal((reps, n))
        for name, prior in priors.items():
            lo, hi = _t_interval(x, prob) if prior is None else _nig_interval(x, prior, prob)
            hit = (lo <= mu) & (mu <= hi)
            p = hit.mean()
            rows.append(
                {
                    "interval": name,
                    "n": int(n),
                    "coverage": float(p),
                    "mc_se": float(np.sqrt(p * (1 - p) / reps)),
                    "mean_width": float(np.mean(hi - lo)),
                }
            )
    return pd.DataFrame(rows)


#: The true means held fixed in turn by :func:`two_guarantees`.
FIXED_MUS = tuple(float(m) for m in np.linspace(-6.0, 6.0, 41))


class TwoGuarantees(NamedTuple):
    """Coverage at a fixed μ and averaged over μ (σ known), simulated and exact.

    Attributes
    ----------
    fixed : DataFrame
        One row per (interval, μ): simulated coverage, its Monte-Carlo se, the
        exact coverage.
    averaged : DataFrame
        One row per (interval, distribution of μ): coverage averaged over μ drawn
        from that distribution (simulated, se, exact by quadrature).
    """

    fixed: pd.DataFrame
    averaged: pd.DataFrame


def _exact_fixed(
    mu: np.ndarray, n: int, sigma: float, loc: float, scale: float | None
) -> np.ndarray:
    """P(interval ∋ μ) at a fixed μ: 0.95 for the z-interval; the credible one in closed form.

    Under the prior N(loc, scale²) the posterior mean is w x̄ + (1 − w) loc with
    w = scale²/(scale² + σ²/n) and sd s = √w σ/√n; x̄ ~ N(μ, σ²/n), so the interval
    covers μ when |w(x̄ − μ) + (1 − w)(loc − μ)| ≤ z s.
    """
    z = stats.norm.ppf(0.975)
    if scale is None:
        return np.full_like(mu, 0.95, dtype=float)
    w = scale**2 / (scale**2 + sigma**2 / n)
    s = np.sqrt(w) * sigma / np.sqrt(n)
    shift = (1 - w) * (loc - mu)
    spread = w * sigma / np.sqrt(n)
    return stats.norm.cdf((z * s - shift) / spread) - stats.norm.cdf((-z * s - shift) / spread)


def two_guarantees(
    seed: int = 0,
    mus: Sequence[float] | np.ndarray = FIXED_MUS,
    n: int = 10,
    sigma: float = 1.0,
    prior: tuple[float, float] = (0.0, 1.0),
    reps: int = 4000,
    truths: Mapping[str, tuple[float, float]] | None = None,
) -> TwoGuarantees:
    """Which guarantee each 95% interval for a Gaussian mean gives (σ known, n observations).

    The z confidence interval x̄ ± 1.96 σ/√n covers μ with probability 0.95 for
    *every fixed* μ. The credible interval under the prior N(prior) covers 95% only
    *on average over μ drawn from that prior*: more than 95% where μ is near the
    prior's centre, less where the prior is wrong. Every μ in ``mus`` is fixed in
    turn and ``reps`` data sets are drawn; ``truths`` names distributions N(m, s²)
    of μ to average over (default: the prior itself and one centred elsewhere).
    """
    rng = np.random.default_rng(seed)
    loc, scale = prior
    intervals = {
        N_("95% confidence interval (z)"): None,
        CREDIBLE_INTERVAL.format(loc=f"{loc:g}", scale=f"{scale:g}"): scale,
    }
    truths = {N_("μ ~ the prior"): prior, "μ ~ N(3, 1)": (3.0, 1.0)} if truths is None else truths
    z = stats.norm.ppf(0.975)
    w = scale**2 / (scale**2 + sigma**2 / n)

    def covers(mu: np.ndarray, xbar: np.ndarray, s: float | None) -> np.ndarray:
        if s is None:
            return np.abs(xbar - mu) <= z * sigma / np.sqrt(n)
        return np.abs(w * xbar + (1 - w) * loc - mu) <= z * np.sqrt(w) * sigma / np.sqrt(n)

    mus = np.asarray(mus, dtype=float)
    rows = []
    xbar = mus[:, None] + sigma / np.sqrt(n) * rng.standard_normal((len(mus), reps))
    for name, s in intervals.items():
        p = covers(mus[:, None], xbar, s).mean(axis=1)
        exact = _exact_fixed(mus, n, sigma, loc, s)
        for m, pi, e in zip(mus, p, exact, strict=True):
            se = np.sqrt(pi * (1 - pi) / reps)
            rows.append({"interval": name, "mu": m, "coverage": pi, "mc_se": se, "exact": e})
    averaged = []
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    for truth, (m, sd) in truths.items():
        mu = rng.normal(m, sd, reps * 10)
        xb = mu + sigma / np.sqrt(n) * rng.standard_normal(mu.shape)
        for name, s in intervals.items():
            p = covers(mu, xb, s).mean()
            exact = float(weights @ _exact_fixed(m + sd * nodes, n, sigma, loc, s) / weights.sum())
            se = float(np.sqrt(p * (1 - p) / mu.size))
            averaged.append(
                {
                    "interval": name,
                    "mu_drawn_from": truth,
                    "coverage": p,
                    "mc_se": se,
                    "exact": exact,
                }
            )
    return TwoGuarantees(pd.DataFrame(rows), pd.DataFrame(averaged))


#: The logistic truth of :func:`frequentist_coverage`: intercept −1, slope 2 on x ~ N(0, 1).
LOGISTIC_TRUTH = {"intercept": -1.0, "beta": (2.0,)}


def frequentist_coverage(
    seed: int = 0,
    ns: Sequence[int] = (15, 25, 50, 100),
    reps: int = 1000,
    methods: Sequence[str] = ("wald", "profile", "bootstrap"),
    num_replicates: int = 200,
    mapper: Any = None,
) -> pd.DataFrame:
    """Coverage of the Wald, sandwich, profile, percentile and BCa intervals of a logistic slope.

    The truth is fixed (:data:`LOGISTIC_TRUTH`); for each n the features x ~ N(0, 1)
    are drawn once and held fixed, and ``reps`` outcome vectors are drawn from the
    model. Data sets on which the MLE does not exist (separation) are left out and
    counted (``separated``), and so are those on which an interval was not found
    (a bootstrap with more than 10% of its resamples separated): ``used`` is the
    number of data sets behind each coverage. Returns one row per (n, interval,
    parameter): coverage, its Monte-Carlo se, ``separated``, ``used``, ``reps``.
    ``mapper``: where the data sets are worked on, in pieces
    (:func:`~freqbayes.inference.probabilistic.repeated.simulated_intervals`; e.g.
    ``freqbayes.scheduler.mapper`` of a Dask cluster): the same table.
    """
    from freqbayes.inference import prepare
    from freqbayes.inference.probabilistic import repeated
    from freqbayes.models.dataset import Dataset

    rows = []
    for n in ns:
        rng = np.random.default_rng([seed, n])
        X = rng.normal(0.0, 1.0, (n, 1))
        y = (rng.random(n) < 0.5).astype(float)  # only its shape matters
        problem = prepare("logistic", Dataset(f"x~N(0,1), n={n}", y, X, ("x",)))
        truth = {k: np.asarray(v, dtype=float) for k, v in LOGISTIC_TRUTH.items()}
        result = repeated.simulated_intervals(
            problem,
            truth,
            reps,
            seed=seed,
            methods=methods,
            num_replicates=num_replicates,
            mapper=mapper,
        )
        names = sorted(truth)  # the flattened order; each parameter is a scalar here
        for kind, (p, se) in repeated.coverage(result).items():
            found = ~np.isnan(result[kind][0]) & ~np.isnan(result[kind][1])
            for j, name in enumerate(names):
                rows.append(
                    {
                        "n": int(n),
                        "interval": kind,
                        "parameter": name,
                        "coverage": float(p[j]),
                        "mc_se": float(se[j]),
                        "separated": int((~result["exists"]).sum()),
                        "used": int(found[:, j].sum()),
                        "reps": int(reps),
                    }
                )
    return pd.DataFrame(rows)
