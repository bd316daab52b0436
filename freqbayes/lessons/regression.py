"""Bayesian linear regression against OLS: bands, and a feature map (§5.6.1, §5.7.1)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import xarray as xr
from scipy import stats

from freqbayes import data as D
from freqbayes.models.probabilistic import linear
from freqbayes.models.probabilistic import priors as P


class Bands(NamedTuple):
    """Frequentist and Bayesian bands of a one-feature linear regression.

    Attributes
    ----------
    grid : ndarray (g,)
        Feature values.
    ols, ci_lo, ci_hi, pi_lo, pi_hi : ndarray (g,)
        OLS line, its 95% confidence band for the mean and 95% prediction band.
    post_mean, cred_lo, cred_hi, pred_lo, pred_hi : ndarray (g,)
        Posterior mean line, its 95% credible band (ETI) for the mean, and the 95%
        posterior-predictive band (ETI), from NUTS draws.
    """

    grid: np.ndarray
    ols: np.ndarray
    ci_lo: np.ndarray
    ci_hi: np.ndarray
    pi_lo: np.ndarray
    pi_hi: np.ndarray
    post_mean: np.ndarray
    cred_lo: np.ndarray
    cred_hi: np.ndarray
    pred_lo: np.ndarray
    pred_hi: np.ndarray


def regression_bands(data: D.Dataset, tree: xr.DataTree, seed: int = 0, num: int = 100) -> Bands:
    """OLS confidence/prediction bands beside posterior and posterior-predictive bands.

    ``data`` has one feature; ``tree`` is a posterior fit of the linear model to it.
    """
    x, y = data.X[:, 0], data.y
    n = len(y)
    grid = np.linspace(x.min(), x.max(), num)
    A = np.column_stack([np.ones(n), x])
    fit = linear.ols(data.X, y)
    s2 = fit.sigma2 * n / (n - 2)
    G = np.column_stack([np.ones(num), grid])
    lever = np.einsum("ij,jk,ik->i", G, np.linalg.inv(A.T @ A), G)
    t = stats.t.ppf(0.975, n - 2)
    line = fit.intercept + fit.beta[0] * grid
    post = tree["posterior"]
    b = np.asarray(post["intercept"]).reshape(-1)
    w = np.asarray(post["beta"]).reshape(-1)
    s = np.asarray(post["sigma"]).reshape(-1)
    mean = b[:, None] + w[:, None] * grid[None, :]
    noisy = mean + s[:, None] * np.random.default_rng(seed).standard_normal(mean.shape)
    return Bands(
        grid,
        line,
        line - t * np.sqrt(s2 * lever),
        line + t * np.sqrt(s2 * lever),
        line - t * np.sqrt(s2 * (1 + lever)),
        line + t * np.sqrt(s2 * (1 + lever)),
        mean.mean(axis=0),
        *np.quantile(mean, [0.025, 0.975], axis=0),
        *np.quantile(noisy, [0.025, 0.975], axis=0),
    )


#: Priors for the log-gravitation regression: log G is far from 0, so its prior is wide.
GRAVITATION_PRIORS = {
    "beta_prior": P.Normal(0.0, 5.0),
    "intercept_prior": P.Normal(0.0, 50.0),
    "sigma_prior": P.HalfNormal(1.0),
}
