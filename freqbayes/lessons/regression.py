"""Bayesian linear regression against OLS: bands, misses, and a feature map (§5.6, §5.7.2)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import xarray as xr
from scipy import stats

from freqbayes.i18n import _
from freqbayes.models import data as D
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
        posterior-predictive band (ETI; the predictive of eq. 5.68), from NUTS draws.
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


def regression_bands(
    data: D.Dataset,
    tree: xr.DataTree,
    seed: int = 0,
    num: int = 100,
    grid: np.ndarray | None = None,
) -> Bands:
    """OLS confidence/prediction bands beside posterior and posterior-predictive bands.

    ``data`` has one feature; ``tree`` is a posterior fit of the linear model to it.
    ``grid``: the feature values at which to compute the bands (default ``num`` values
    spanning the data's range); pass one grid to compare fits to different data, since
    a band widens away from the centre of the data it was fitted to.
    """
    x, y = data.X[:, 0], data.y
    n = len(y)
    grid = np.linspace(x.min(), x.max(), num) if grid is None else np.asarray(grid, float)
    num = len(grid)
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


class Misses(NamedTuple):
    """Which intervals of a simulated linear regression miss the truth, and how surprising it is.

    The coefficients are (b, θ): the intercept first, then one per feature.

    Attributes
    ----------
    parameters : tuple of str
        ``"intercept"``, then ``"beta[<feature>]"``: the names of the report's tables.
    truth, estimate, se, z : ndarray (p,)
        True coefficients, OLS estimates, their standard errors √diag(s²(AᵀA)⁻¹) with
        s² = RSS/(n − p) (statsmodels' ``bse``), and z = (estimate − truth)/se.
    ols_lo, ols_hi : ndarray (p,)
        The OLS confidence intervals at ``level``, estimate ± t_{n−p} se.
    cred_lo, cred_hi : ndarray (p,)
        The equal-tailed credible intervals at ``level`` of the posterior draws.
    level : float
        Coverage of each interval.
    n : int
        Number of observations.
    p_any_independent : float
        1 − level^p: the probability that at least one of p independent intervals misses.
    p_any : float
        The same for the p OLS intervals as they are, correlated: one minus the
        probability that a multivariate t (n − p dof, the estimates' correlation
        matrix) falls in the box ±t_{n−p} (exact under the model).
    """

    parameters: tuple[str, ...]
    truth: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    z: np.ndarray
    ols_lo: np.ndarray
    ols_hi: np.ndarray
    cred_lo: np.ndarray
    cred_hi: np.ndarray
    level: float
    n: int
    p_any_independent: float
    p_any: float

    @property
    def credible_missed(self) -> np.ndarray:
        """True where the credible interval does not contain the true value."""
        return (self.truth < self.cred_lo) | (self.truth > self.cred_hi)

    @property
    def ols_missed(self) -> np.ndarray:
        """True where the OLS confidence interval does not contain the true value."""
        return (self.truth < self.ols_lo) | (self.truth > self.ols_hi)


def interval_misses(data: D.Dataset, tree: xr.DataTree, level: float = 0.95) -> Misses:
    """Credible and OLS confidence intervals of each coefficient against the true value.

    ``data`` is simulated with its truth in ``attrs["true_intercept"]`` and
    ``attrs["true_beta"]`` (as :func:`freqbayes.models.data.gravitation`); ``tree`` holds
    posterior draws of the linear model fitted to it. A ``level`` interval misses a
    fixed truth with probability 1 − ``level`` whatever that truth is, so among p
    coefficients a miss or two is expected; z says by how many standard errors.
    """
    X, y = data.X, data.y
    n, p = len(y), X.shape[1] + 1
    A = np.column_stack([np.ones(n), X])
    fit = linear.ols(X, y)
    estimate = np.r_[fit.intercept, fit.beta]
    cov = fit.sigma2 * n / (n - p) * np.linalg.inv(A.T @ A)
    se = np.sqrt(np.diag(cov))
    truth = np.r_[data.attrs["true_intercept"], np.asarray(data.attrs["true_beta"], float)]
    q = stats.t.ppf(0.5 + level / 2, n - p)
    box = stats.multivariate_t(shape=cov / np.outer(se, se), df=n - p)
    inside = box.cdf(np.full(p, q), lower_limit=-np.full(p, q), maxpts=10**6, random_state=0)
    post = tree["posterior"]
    draws = np.column_stack(
        [np.asarray(post["intercept"]).reshape(-1)]
        + [np.asarray(post["beta"]).reshape(-1, p - 1)[:, j] for j in range(p - 1)]
    )
    cred_lo, cred_hi = np.quantile(draws, [0.5 - level / 2, 0.5 + level / 2], axis=0)
    return Misses(
        ("intercept", *(f"beta[{f}]" for f in data.feature_names)),
        truth,
        estimate,
        se,
        (estimate - truth) / se,
        estimate - q * se,
        estimate + q * se,
        cred_lo,
        cred_hi,
        level,
        n,
        float(1 - level**p),
        float(1 - inside),
    )


def _num(x: float, spec: str = ".4f") -> str:
    """A number for prose, with a true minus sign."""
    return format(x, spec).replace("-", "−")


def misses_verdict(m: Misses) -> str:
    """The verdict on :func:`interval_misses` in words, every number computed.

    A credible interval that misses is compared with the OLS confidence interval of
    the same coefficient (with a weak prior and enough data they nearly coincide: the
    largest gap between their ends, in standard errors, is stated), and the miss is
    measured by the OLS z. The chance that at least one of the p intervals misses is
    1 − level^p if they were independent, beside its exact value for these correlated
    estimates (:attr:`Misses.p_any`).
    """
    k = len(m.parameters)
    pct = f"{100 * m.level:g}%"
    chance = _(
        "A {pct} interval misses 1 time in {times:.0f}; with {k} coefficients "
        "at least one of {k} such intervals misses with probability 1 − {level:g}^{k} = "
        "{independent:.0%} if they were independent ({exact:.0%} for these "
        "correlated estimates)."
    ).format(
        pct=pct,
        times=1 / (1 - m.level),
        k=k,
        level=m.level,
        independent=m.p_any_independent,
        exact=m.p_any,
    )
    if not m.credible_missed.any():
        return _(
            "Here every one of the {k} {pct} credible intervals contains its true value "
            "(the OLS estimates are at most |z| = {z:.2f} standard errors "
            "from the truth). {chance}"
        ).format(k=k, pct=pct, z=np.abs(m.z).max(), chance=chance)
    parts = []
    missed = np.flatnonzero(m.credible_missed)
    for j in missed:
        part = (
            _(
                "the credible interval of {name}, [{cred_lo}, {cred_hi}], misses its true "
                "value {truth}; the OLS confidence interval [{ols_lo}, {ols_hi}] misses too: "
                "the estimate {estimate} is z = {z} standard errors from the truth"
            )
            if m.ols_missed[j]
            else _(
                "the credible interval of {name}, [{cred_lo}, {cred_hi}], misses its true "
                "value {truth}; the OLS confidence interval [{ols_lo}, {ols_hi}] does not: "
                "the estimate {estimate} is z = {z} standard errors from the truth"
            )
        )
        parts.append(
            part.format(
                name=m.parameters[j],
                cred_lo=_num(m.cred_lo[j]),
                cred_hi=_num(m.cred_hi[j]),
                truth=_num(m.truth[j], "g"),
                ols_lo=_num(m.ols_lo[j]),
                ols_hi=_num(m.ols_hi[j]),
                estimate=_num(m.estimate[j]),
                z=_num(m.z[j], "+.2f"),
            )
        )
    gap_se = float(
        np.max(np.maximum(np.abs(m.cred_lo - m.ols_lo), np.abs(m.cred_hi - m.ols_hi)) / m.se)
    )
    same = _(
        "with n = {n} the credible intervals are the OLS confidence intervals to within "
        "{gap:.2f} standard errors at either end"
    ).format(n=m.n, gap=gap_se)
    # TRANSLATORS: joins the clauses on each missed coefficient into one sentence
    where = _("; ").join(parts)
    if m.ols_missed[missed].all():
        why = _(
            "Here {parts}. The prior is not the cause: {same}, and a confidence "
            "interval covers a fixed truth {pct} of the time, not always."
        ).format(parts=where, same=same, pct=pct)
    else:
        why = _(
            "Here {parts}. Where the OLS interval holds the truth, the prior or "
            "the Monte-Carlo error of the interval's ends decides ({same})."
        ).format(parts=where, same=same)
    if len(missed) == 1:
        return _("{why} {chance} One miss among {k} is what {pct} means, not a failure.").format(
            why=why, chance=chance, k=k, pct=pct
        )
    several = stats.binom.sf(len(missed) - 1, k, 1 - m.level)
    return _(
        "{why} {chance} {missed} or more misses among {k} independent intervals "
        "have probability {several:.1%}."
    ).format(why=why, chance=chance, missed=len(missed), k=k, several=several)
