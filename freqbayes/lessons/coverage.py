"""Confidence against credible intervals: how often each covers the true μ (§5.6)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from freqbayes.lessons.gaussian import WEAK_NIG
from freqbayes.models.probabilistic import gaussian

#: The prior the coverage simulation draws (μ, σ²) from: μ | σ² ~ N(0, σ²), σ² ~ IG(3, 2).
TRUE_NIG = gaussian.NIG(loc=0.0, kappa=1.0, alpha=3.0, beta=2.0)


#: Intervals compared for coverage: name -> NIG prior (None: the frequentist t-interval).
COVERAGE_PRIORS: dict[str, gaussian.NIG | None] = {
    "95% t confidence interval": None,
    "95% credible ETI, true (conjugate) prior": TRUE_NIG,
    "95% credible ETI, weakly-informative prior": WEAK_NIG,
    "95% credible ETI, misspecified prior (μ₀ = 3, κ₀ = 5)": gaussian.NIG(3.0, 5.0, 3.0, 2.0),
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
