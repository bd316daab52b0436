"""The kernel SVM beside its probabilistic twin, the Gaussian-process classifier (§5.7.2).

Both use the RBF kernel k(x, x′) = exp(−γ‖x − x′‖²) with the same γ. The SVM
returns a decision function whose sign is the class and whose margin |f| ≥ 1 is
"sure"; far from every training point its f tends to its intercept b, so it keeps
answering with the confidence it has near the data. The GP classifier puts a
Gaussian-process prior on the latent f (:mod:`freqbayes.models.probabilistic.gp`)
and returns p(y = 1 | x) with an uncertainty: far from the data the posterior of f
falls back to its prior, N(0, s²), and p to ½.
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from freqbayes.i18n import N_

#: Prior sds s of the latent tried; the one with the largest Laplace evidence is used.
#: Beyond 16 the evidence is flat on circles and moons (circles: −16.8 at 16, −16.6 at
#: 32, −17.1 at 64; moons: −23.9, −24.3, −26.6), while NUTS needs longer chains there.
SCALES = (1.0, 2.0, 4.0, 8.0, 16.0)


class GPTwin(NamedTuple):
    """The RBF SVM and the GP classifier on circles and moons.

    Attributes
    ----------
    data : dict
        name -> (X_train, y_train, X_test, y_test).
    grid : dict
        name -> (gx, gy): the plotting grid (meshgrid arrays), wider than the data.
    svm_decision : dict
        name -> SVM decision values on the grid (gx.shape).
    support : dict
        name -> indices of the SVM's support vectors among the training points.
    gp_p : dict
        name -> NUTS posterior mean of p(y = 1 | x) on the grid.
    gp_sd : dict
        name -> NUTS posterior sd of the latent f(x) on the grid.
    far : dict
        name -> boolean grid mask: no training point within two length-scales
        (every k(x, x_i) < e⁻² ≈ 0.14).
    table : DataFrame
        Per data set: γ, s, test accuracy of each fit, parity numbers, NUTS diagnostics
        and the far-from-data contrast.
    objectives : DataFrame
        Per data set, :func:`rkhs_objectives` with C = 1 (the SVM's): the GP's MAP at
        s² = C and the SVM, each objective at each fit.
    """

    data: dict[str, tuple[np.ndarray, ...]]
    grid: dict[str, tuple[np.ndarray, np.ndarray]]
    svm_decision: dict[str, np.ndarray]
    support: dict[str, np.ndarray]
    gp_p: dict[str, np.ndarray]
    gp_sd: dict[str, np.ndarray]
    far: dict[str, np.ndarray]
    table: pd.DataFrame
    objectives: pd.DataFrame


def evidence_scale(X: np.ndarray, y: np.ndarray, gamma: float) -> tuple[float, pd.Series]:
    """The prior sd s among :data:`SCALES` with the largest Laplace evidence log p(y | X, s)."""
    from freqbayes.inference.learners.gp import GaussianProcessClassifier

    lml = pd.Series(
        {
            s: GaussianProcessClassifier(gamma, s).fit(X, y).log_marginal_likelihood_value_
            for s in SCALES
        }
    )
    return float(lml.idxmax()), lml


def posterior_probability(
    tree: Any, data: dict[str, Any], X_new: np.ndarray, gamma: float, most: int = 1000
) -> tuple[np.ndarray, np.ndarray]:
    """NUTS posterior mean of p(y* = 1) and sd of f* at the rows of ``X_new``.

    Each draw's f* | f is Gaussian (``latent_from_draws``); p averages E σ(f*) over
    the draws, the sd is the law of total variance. At most ``most`` draws, evenly
    thinned (a mean of p over 1,000 independent draws has a Monte-Carlo sd ≤ 0.5/√1000).
    """
    from freqbayes.inference.probabilistic.gp import expected_sigmoid, latent_from_draws

    z = tree.posterior["z"].values
    z = z.reshape(-1, z.shape[-1])
    z = z[:: -(-len(z) // most)]
    mean, var = latent_from_draws(z, data["chol"], data["X"], X_new, gamma, data["scale"])
    p = sum(expected_sigmoid(mean[i : i + 200], var).sum(0) for i in range(0, len(z), 200))
    return p / len(z), np.sqrt(mean.var(axis=0) + var)


def svm_gp_twin(seed: int = 0, draws: int = 1000, n: int = 400, points: int = 90) -> GPTwin:
    """Fit the RBF SVM, the GP classifier by Laplace and by NUTS (same γ), and compare.

    ``draws`` NUTS draws per chain (4 chains, on one device: the same draws on any
    machine; see ``nuts``'s ``devices``) after as many warm-up steps; ``points`` per
    side of the grid.
    """
    from sklearn.gaussian_process import GaussianProcessClassifier as SkGPC
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel

    from freqbayes import SVC
    from freqbayes.inference import fit
    from freqbayes.inference.diagnostics import diagnostics
    from freqbayes.inference.learners.gp import GaussianProcessClassifier
    from freqbayes.lessons.svm import circles_and_moons
    from freqbayes.models.probabilistic.gp import gp_classifier, gp_data, rbf

    data = circles_and_moons(seed, n)
    out: dict[str, dict[str, Any]] = {k: {} for k in ("grid", "svm", "sv", "p", "sd", "far")}
    rows, objectives = [], []
    for name, (Xtr, ytr, Xte, yte) in data.items():
        svm = SVC(kernel="rbf", C=1.0).fit(Xtr, ytr)
        objectives.append(rkhs_objectives(Xtr, ytr, svm._gamma, C=1.0).assign(data=name))
        gamma = svm._gamma
        scale, lml = evidence_scale(Xtr, ytr, gamma)
        lap = GaussianProcessClassifier(gamma, scale).fit(Xtr, ytr)
        reach = 2.0 / np.sqrt(2.0 * gamma)  # two length-scales
        lo, hi = Xtr.min(axis=0) - reach, Xtr.max(axis=0) + reach
        gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], points), np.linspace(lo[1], hi[1], points))
        grid = np.column_stack([gx.ravel(), gy.ravel()])
        gd = gp_data(Xtr, ytr, gamma=gamma, scale=scale)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # reported in the table instead
            tree = fit(gp_classifier, "nuts", gd, seed=seed, num_warmup=draws,
                       num_samples=draws, devices=1, pointwise="none",
                       progress=False)  # fmt: skip
        p_grid, sd_grid = posterior_probability(tree, gd, grid, gamma)
        p_test, _ = posterior_probability(tree, gd, Xte, gamma)
        sk = SkGPC(
            ConstantKernel(scale**2, "fixed") * RBF(1.0 / np.sqrt(2.0 * gamma), "fixed"),
            optimizer=None,
        ).fit(Xtr, ytr)
        p_lap = lap.predict_proba(grid)[:, 1]
        f_svm = svm.decision_function(grid)
        far = rbf(grid, Xtr, gamma).max(axis=1) < np.exp(-2.0)
        diagnosed = diagnostics(tree)
        rows.append(
            {
                "data": name,
                "gamma": gamma,
                "scale_s": scale,
                "laplace_log_evidence": float(lml[scale]),
                "svm_test_accuracy": float(np.mean(svm.predict(Xte) == yte)),
                "gp_nuts_test_accuracy": float(np.mean((p_test > 0.5) == yte)),
                "gp_laplace_test_accuracy": float(np.mean(lap.predict(Xte) == yte)),
                "laplace_vs_sklearn_max_abs_dp": float(
                    np.max(np.abs(p_lap - sk.predict_proba(grid)[:, 1]))
                ),
                "nuts_vs_laplace_max_abs_dp": float(np.max(np.abs(p_grid - p_lap))),
                "r_hat_max": diagnosed["r_hat_max"],
                "ess_bulk_min": diagnosed["ess_bulk_min"],
                "divergences": diagnosed["divergences"],
                "far_share_of_grid": float(far.mean()),
                "far_svm_share_beyond_margin": float(np.mean(np.abs(f_svm[far]) >= 1.0)),
                "far_svm_mean_abs_f": float(np.mean(np.abs(f_svm[far]))),
                "far_gp_mean_abs_p_minus_half": float(np.mean(np.abs(p_grid[far] - 0.5))),
                "far_gp_mean_sd_f": float(np.mean(sd_grid[far])),
            }
        )
        for key, value in (
            ("grid", (gx, gy)),
            ("svm", f_svm.reshape(gx.shape)),
            ("sv", np.asarray(svm.support_)),
            ("p", p_grid.reshape(gx.shape)),
            ("sd", sd_grid.reshape(gx.shape)),
            ("far", far.reshape(gx.shape)),
        ):
            out[key][name] = value
    table = pd.DataFrame(rows)
    table.attrs.update(draws=draws, chains=4, n=n)
    both = pd.concat(objectives, ignore_index=True)
    both = both[["data", *both.columns.drop("data")]]
    both.attrs.update(C=1.0)
    return GPTwin(
        data, out["grid"], out["svm"], out["sv"], out["p"], out["sd"], out["far"], table, both
    )


def rkhs_objectives(X: np.ndarray, y: np.ndarray, gamma: float, C: float = 1.0) -> pd.DataFrame:
    """The GP classifier's MAP and the SVM as one penalised problem with two losses (§5.7.2).

    With the kernel k(x, x′) = exp(−γ‖x − x′‖²), K = k(X, X) and f = Kα on the training
    points, the RKHS norm is ‖f‖²_H = αᵀKα. Under the prior f ~ GP(0, s² k) the negative
    log posterior of f is, up to a constant,

        J_log(f) = Σ_i log(1 + exp(−y_i f_i)) + ½ fᵀ(s²K)⁻¹f
                 = Σ_i log(1 + exp(−y_i f_i)) + ½ ‖f‖²_H / s²,

    so the MAP (the Laplace mode, R&W Algorithm 3.1) is kernel logistic regression
    with the RKHS penalty ½‖f‖²_H / s², and its α is s²(y − π̂) (the gradient of the
    log likelihood at the mode, R&W eq. 3.34). The soft-margin SVM minimises
    C Σ_i max(0, 1 − y_i f_i) + ½‖f‖²_H over f = Kα + b (its dual, with α_i y_i the
    ``dual_coef_``), that is, after dividing by C,

        J_hinge(f) = Σ_i max(0, 1 − y_i f_i) + ½ ‖f‖²_H / C:

    the same penalty with s² = C, the hinge loss in place of the log loss, and an
    unpenalised intercept b. Both fits are made here with s² = C, and both objectives
    are evaluated at both (labels y_i ∈ {−1, +1}).

    Returns
    -------
    DataFrame
        One row per fit ("GP MAP (Laplace mode)", "SVM"): its intercept, the two loss
        sums, ‖f‖²_H, the penalty ½‖f‖²_H / C and the objectives J_log and J_hinge.
    """
    from freqbayes import SVC
    from freqbayes.inference.learners.gp import GaussianProcessClassifier
    from freqbayes.models.probabilistic.gp import rbf

    K = rbf(X, X, gamma)
    sign = np.where(np.asarray(y) == 1, 1.0, -1.0)
    gpc = GaussianProcessClassifier(gamma, np.sqrt(C)).fit(X, y)
    svm = SVC(kernel="rbf", gamma=gamma, C=C).fit(X, y)
    alpha_svm = np.zeros(len(X))
    alpha_svm[svm.support_] = np.asarray(svm.dual_coef_, float)[0]
    fits = {
        N_("GP MAP (Laplace mode)"): (C * np.asarray(gpc._fit.residual), 0.0),
        "SVM": (alpha_svm, float(np.asarray(svm.intercept_).reshape(-1)[0])),
    }
    rows = []
    for name, (alpha, b) in fits.items():
        f = K @ alpha + b
        norm2 = float(alpha @ K @ alpha)
        log_loss = float(np.sum(np.logaddexp(0.0, -sign * f)))
        hinge = float(np.sum(np.maximum(0.0, 1.0 - sign * f)))
        rows.append(
            {
                "fit": name,
                "intercept_b": b,
                "log_loss_sum": log_loss,
                "hinge_loss_sum": hinge,
                "rkhs_norm2": norm2,
                "penalty": 0.5 * norm2 / C,
                "J_log": log_loss + 0.5 * norm2 / C,
                "J_hinge": hinge + 0.5 * norm2 / C,
            }
        )
    table = pd.DataFrame(rows)
    table.attrs.update(gamma=gamma, C=C, n=len(X))
    return table
