"""Partial pooling: one estimate per group, one for all, and the hierarchical model between.

Grouped data with small groups (a radon-like simulation: log radon of houses in
counties, some with one or two houses) and three ways to estimate each county's level:

* **no pooling**: each county its own intercept, by maximum likelihood (least squares
  with a common floor slope): unbiased, but noisy where a county has few houses;
* **complete pooling**: one intercept for all (ordinary least squares of y on x):
  stable, but blind to real differences between counties;
* **partial pooling**: the hierarchical model ``y ~ floor + (1 | county)``, whose
  county effects b_j ~ N(0, τ²) are shrunk toward the common level by the factor
  n_j / (n_j + σ²/τ²), fitted by NUTS (:mod:`freqbayes.models.probabilistic.groups`).

Its frequentist twin is the linear mixed model fitted by REML, whose best linear
unbiased predictions (BLUPs) b̂_j = τ̂² Zᵀ V̂⁻¹ (y − Xβ̂) shrink the same way with τ, σ
fixed at their REML estimates (:func:`reml_intercepts`; the tests check it against
statsmodels' ``MixedLM``). Deep Learning §5.6 in one line: the prior, here learnt from
all the groups, is what pulls the noisy estimates toward each other.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import optimize

#: The simulation's truth: common level, floor slope, county sd τ, noise sd σ.
TRUTH = {"intercept": 1.5, "floor": -0.7, "county_sd": 0.35, "sigma": 0.75}

#: Houses per county in the simulation: many small groups and a few large ones.
GROUP_SIZES = (1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 4, 4, 5, 5, 6, 7, 8, 10, 12, 15, 20, 25, 30, 40)

#: The hierarchical model's formula (a group-level intercept per county).
FORMULA = "log_radon ~ floor + (1 | county)"


def radon_like(seed: int = 0) -> pd.DataFrame:
    """Log radon of houses in counties: y = a_county + β·floor + ε (see :data:`TRUTH`).

    Columns ``log_radon``, ``floor`` (0: basement, 1: ground floor), ``county``
    (text labels ``c01``, …) and ``county_level`` (the true a_county, for scoring).
    """
    rng = np.random.default_rng(seed)
    sizes = np.asarray(GROUP_SIZES)
    levels = TRUTH["intercept"] + TRUTH["county_sd"] * rng.normal(size=sizes.size)
    county = np.repeat(np.arange(sizes.size), sizes)
    floor = (rng.uniform(size=county.size) < 0.3).astype(float)
    noise = TRUTH["sigma"] * rng.normal(size=county.size)
    return pd.DataFrame(
        {
            "log_radon": levels[county] + TRUTH["floor"] * floor + noise,
            "floor": floor,
            "county": [f"c{j + 1:02d}" for j in county],
            "county_level": levels[county],
        }
    )


class Reml(NamedTuple):
    """REML fit of y = Xβ + b_group + ε, b ~ N(0, τ²), ε ~ N(0, σ²).

    Attributes
    ----------
    beta : ndarray (p,)
        Fixed effects (GLS at the REML variances).
    tau, sigma : float
        REML estimates of the group and noise sds.
    blups : ndarray (J,)
        Best linear unbiased predictions b̂_j of the group effects, in the order of ``levels``.
    levels : ndarray (J,)
        The groups, sorted.
    """

    beta: np.ndarray
    tau: float
    sigma: float
    blups: np.ndarray
    levels: np.ndarray


def reml_intercepts(X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> Reml:
    """REML for varying intercepts: ratio λ = τ²/σ² by a 1-D search, the rest in closed form.

    With H = I + λ ZZᵀ, the REML log-likelihood profiled over σ² is
    −½[(n − p) log σ̂² + log|H| + log|XᵀH⁻¹X|], σ̂² = rᵀH⁻¹r/(n − p), r = y − Xβ̂.
    """
    levels, index = np.unique(np.asarray(groups).astype(str), return_inverse=True)
    Z = np.eye(len(levels))[index]
    n, p = X.shape

    def parts(log_lam: float) -> tuple[float, np.ndarray, np.ndarray, float]:
        H = np.eye(n) + np.exp(log_lam) * Z @ Z.T
        Hi = np.linalg.inv(H)
        XtHiX = X.T @ Hi @ X
        beta = np.linalg.solve(XtHiX, X.T @ Hi @ y)
        r = y - X @ beta
        s2 = float(r @ Hi @ r) / (n - p)
        nll = 0.5 * ((n - p) * np.log(s2) + np.linalg.slogdet(H)[1] + np.linalg.slogdet(XtHiX)[1])
        return nll, beta, Hi @ r, s2

    best = optimize.minimize_scalar(lambda t: parts(t)[0], bounds=(-12.0, 8.0), method="bounded")
    _, beta, Hir, s2 = parts(best.x)
    lam = float(np.exp(best.x))
    return Reml(beta, float(np.sqrt(lam * s2)), float(np.sqrt(s2)), lam * Z.T @ Hir, levels)


class Pooling(NamedTuple):
    """Each group's level estimated three ways, beside the REML mixed model.

    Attributes
    ----------
    levels : ndarray (J,)
        The groups, sorted.
    sizes : ndarray (J,)
        Observations per group.
    truth : ndarray (J,)
        The simulation's group levels a_j.
    no_pooling : ndarray (J,)
        Each group's own intercept (MLE, common slope).
    complete_pooling : float
        One intercept for all (OLS).
    partial_mean, partial_sd : ndarray (J,)
        Posterior mean and sd of b + b_j (NUTS).
    blup : ndarray (J,)
        REML's β̂₀ + b̂_j.
    tau_posterior_mean, sigma_posterior_mean : float
        Posterior means of τ and σ (NUTS).
    reml : Reml
        The REML fit.
    fit : DataTree
        The hierarchical fit.
    """

    levels: np.ndarray
    sizes: np.ndarray
    truth: np.ndarray
    no_pooling: np.ndarray
    complete_pooling: float
    partial_mean: np.ndarray
    partial_sd: np.ndarray
    blup: np.ndarray
    tau_posterior_mean: float
    sigma_posterior_mean: float
    reml: Reml
    fit: object

    def table(self) -> pd.DataFrame:
        """One row per group: size, truth and the four estimates."""
        return pd.DataFrame(
            {
                "county": self.levels,
                "houses": self.sizes,
                "true_level": self.truth,
                "no_pooling": self.no_pooling,
                "complete_pooling": self.complete_pooling,
                "partial_pooling_mean": self.partial_mean,
                "partial_pooling_sd": self.partial_sd,
                "reml_blup": self.blup,
            }
        )

    def errors(self) -> dict[str, float]:
        """Root mean squared error of each estimate against the truth, over the groups."""
        rmse = {
            "no_pooling": self.no_pooling,
            "complete_pooling": np.full(self.truth.shape, self.complete_pooling),
            "partial_pooling": self.partial_mean,
            "reml_blup": self.blup,
        }
        return {k: float(np.sqrt(np.mean((v - self.truth) ** 2))) for k, v in rmse.items()}


def partial_pooling(
    frame: pd.DataFrame | None = None, seed: int = 0, **nuts_settings: object
) -> Pooling:
    """No, complete and partial pooling of the counties' levels, and REML's BLUPs beside them."""
    from freqbayes import inference

    frame = radon_like(seed) if frame is None else frame
    y = frame["log_radon"].to_numpy(dtype=float)
    floor = frame["floor"].to_numpy(dtype=float)
    levels, index, sizes = np.unique(
        frame["county"].astype(str), return_inverse=True, return_counts=True
    )
    Z = np.eye(len(levels))[index]
    own, *_ = np.linalg.lstsq(np.column_stack([Z, floor]), y, rcond=None)
    both = np.column_stack([np.ones_like(y), floor])
    pooled, *_ = np.linalg.lstsq(both, y, rcond=None)
    reml = reml_intercepts(both, y, frame["county"].to_numpy())
    fit = inference.fit("linear", "nuts", frame, formula=FORMULA, seed=seed, **nuts_settings)
    post = fit["posterior"]
    level = post["intercept"] + (post["group_sd"] * post["group_z"]).sel(group_term="Intercept")
    level = level.transpose("chain", "draw", "group")
    truth = frame.groupby("county")["county_level"].first().reindex(levels).to_numpy()
    return Pooling(
        levels=levels,
        sizes=sizes,
        truth=truth,
        no_pooling=own[: len(levels)],
        complete_pooling=float(pooled[0]),
        partial_mean=level.mean(("chain", "draw")).values,
        partial_sd=level.std(("chain", "draw")).values,
        blup=reml.beta[0] + reml.blups,
        tau_posterior_mean=float(post["group_sd"].mean()),
        sigma_posterior_mean=float(post["sigma"].mean()),
        reml=reml,
        fit=fit,
    )
