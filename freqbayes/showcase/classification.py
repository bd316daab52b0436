"""Stages of the report on classification (§5.7): separation, the SVM, kernels.

Every number in the prose comes from the code that made it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from freqbayes.showcase.context import Context
from freqbayes.showcase.report import Section

#: Boundaries drawn from the logistic posterior beside the SVM.
POSTERIOR_BOUNDARIES = 150


def separation(ctx: Context) -> list[Section]:
    """Gradient descent on separable data without and with weight decay; the posterior."""
    from freqbayes import figures as F
    from freqbayes import inference
    from freqbayes import lessons as L
    from freqbayes.summaries import summary_table

    sep = L.separable_data(ctx.seed)
    div = L.mle_divergence(sep, steps=500 if ctx.quick else 5000)
    tau = 1.0 / np.sqrt(sep.n * div.alpha)
    tree = ctx.fit(
        inference.nuts("logistic", sep, seed=ctx.seed, progress=False, **ctx.settings("nuts")),
        "separable-nuts",
    )
    table = summary_table({"nuts": tree}).assign(warning=ctx.caveats["separable-nuts"])
    norms = pd.DataFrame(
        {"iteration": div.iterations, "mle_norm": div.mle_norm, "map_norm": div.map_norm}
    )
    why = L.why_sigmoid(ctx.seed)
    return [
        Section(
            "why-sigmoid",
            "Why a Gaussian cannot model y ∈ {0, 1}: the sigmoid (§5.7.1)",
            f"{len(why.y)} labels y ∈ {{0, 1}} against one feature. Least squares, the MLE "
            "under y ~ N(b + wx, σ²), fits a line that leaves [0, 1] over "
            f"{why.outside:.0%} of the range of x, so it is no probability, and its Gaussian "
            "noise puts mass on every real y although only 0 and 1 occur. Logistic regression "
            "keeps the linear function θᵀx and squashes it through σ(z) = 1/(1 + e⁻ᶻ): "
            "p(y = 1 | x) = σ(θᵀx) (eq. 5.81), a Bernoulli likelihood.",
            [ctx.figure(F.why_sigmoid(why), "why-sigmoid")],
        ),
        Section(
            "separation",
            "Separable data: the MLE diverges, the posterior stays proper",
            f"Two completely separated classes in 2-D ({sep.n} points). Gradient descent on the "
            "mean log loss (SGD with the full batch) drives ‖w‖ up like log t without end: a "
            "steeper sigmoid always fits better, so there is no MLE, and freqbayes' mle() says "
            f"so instead of returning a number. With a N(0, {tau:g}²) prior the same descent "
            f"(now weight decay, α = {div.alpha:.3g}) converges to the MAP; under the default "
            "priors the posterior is a proper distribution (table: NUTS, 95% ETI, r̂, ESS).",
            [ctx.figure(F.divergence(div), "separation-divergence")],
            [
                ctx.table(norms.iloc[:: max(1, len(norms) // 200)], "separation-norms"),
                ctx.table(table.drop(columns="seconds"), "separable-posterior"),
            ],
            warnings=ctx.warnings(["separable-nuts"]),
        ),
    ]


def svm(ctx: Context) -> list[Section]:
    """The maximum-margin boundary beside posterior boundaries; the kernel trick."""
    from freqbayes import SVC
    from freqbayes import figures as F
    from freqbayes import lessons as L

    sep = L.separable_data(ctx.seed)
    machine = SVC(kernel="linear", C=1000.0).fit(sep.X, sep.y)
    trick = L.kernel_trick(ctx.seed)
    held = trick.accuracy.attrs["test_share"]
    bands = L.boundary_bands(
        ctx.seed, replicates=100 if ctx.quick else 1000, draws=200 if ctx.quick else 500
    )
    cost = L.kernel_cost(ctx.seed, degrees=(1, 2, 3, 4) if ctx.quick else (1, 2, 3, 4, 5, 6))
    ctx.timing(cost, "kernel-cost")
    in_m = L.kernel_cost_in_m(
        ctx.seed, ms=(500, 1000, 2000) if ctx.quick else (500, 1000, 2000, 4000)
    )
    ctx.timing(in_m, "kernel-cost-in-m")
    first, last = in_m.iloc[0], in_m.iloc[-1]
    worst = float(cost["max_relative_difference"].max())
    return [
        Section(
            "svm",
            "The SVM against logistic regression (§5.7.2)",
            "The same separable data. Left: the maximum-margin boundary (solid), the lines "
            "w·x + b = ±1 (dashed, 2/‖w‖ apart) and the support vectors (circled, functional "
            "margin exactly 1): only they fix the "
            f"boundary. Right: {POSTERIOR_BOUNDARIES} boundaries drawn from the logistic "
            "posterior (NUTS) and the posterior-mean boundary. The SVM is regularised "
            "empirical risk minimisation: one boundary, no statement of uncertainty; the "
            "posterior says which boundaries are plausible given the data.",
            [
                ctx.figure(
                    F.svm_vs_logistic(
                        sep.X,
                        sep.y,
                        machine,
                        ctx.fits["separable-nuts"],
                        ctx.seed,
                        draws=POSTERIOR_BOUNDARIES,
                    ),
                    "svm-vs-logistic",
                    fits=["separable-nuts"],
                )
            ],
            warnings=ctx.warnings(["separable-nuts"]),
        ),
        Section(
            "boundary-bands",
            "Bands of boundaries: bootstrap against posterior",
            f"Two overlapping classes (n = {bands.X.shape[0]}), so the logistic MLE exists. "
            f"Each frequentist band is {len(bands.lines['MLE (bootstrap)'][1]):,} refits on "
            "rows resampled with replacement: the sampling distribution of the boundary, for "
            "the MLE, the MAP and the linear SVM (C = 1, its max-margin boundary refitted); "
            "the Bayesian band is drawn from the posterior given these data (NUTS). With 80 "
            "points and weak priors the MLE, MAP and posterior bands nearly coincide; the "
            "SVM's boundary, fixed by its support vectors alone, varies more from resample to "
            "resample.",
            [ctx.figure(F.boundary_bands(bands, seed=ctx.seed), "boundary-bands")],
        ),
        Section(
            "kernels",
            "The kernel trick",
            f"Circles and moons, {held:.0%} held out. A linear SVM cannot separate concentric "
            "circles; the RBF kernel k(x, x′) = exp(−γ‖x − x′‖²) can, and so can a linear SVM "
            "on the explicit feature map φ(x) = (x₁, x₂, ‖x‖²), which lifts the inner circle "
            "below a plane (bottom figure).",
            [
                ctx.figure(F.kernel_trick(trick), "kernel-trick"),
                ctx.figure(F.feature_map(trick), "feature-map"),
            ],
            [ctx.table(trick.accuracy, "kernel-accuracy")],
        ),
        Section(
            "kernel-cost",
            "What the kernel trick saves (§5.7.2)",
            f"The polynomial kernel (1 + xᵀx′)^p equals φ(x)ᵀφ(x′) for the map φ of every "
            f"monomial of degree ≤ p (weighted): checked to {worst:.0e} relative. In "
            f"d = {cost.attrs['d']} the map has C(d + p, p) features, "
            f"{int(cost['features'].iloc[-1]):,} at p = {int(cost['degree'].iloc[-1])}, and the "
            f"{cost.attrs['n']} × {cost.attrs['n']} Gram matrix by the map took "
            f"{1e3 * cost['explicit_seconds'].iloc[-1]:.3g} ms against "
            f"{1e3 * cost['kernel_seconds'].iloc[-1]:.3g} ms by the kernel, whose cost does not "
            "depend on p. The RBF kernel exp(−γ‖x − x′‖²) is an inner product of "
            "infinitely many features: only the kernel can be evaluated. Wall times of this "
            "machine (under timings/).",
            [ctx.figure(F.kernel_cost(cost), "kernel-cost")],
            ["timings/kernel-cost.csv"],
        ),
        Section(
            "kernel-cost-in-m",
            "What the kernel trick costs in m (eqs. 5.82–5.84)",
            "The kernel form f(x) = b + Σᵢ αᵢ k(x, x⁽ⁱ⁾) (eq. 5.83) with the Gaussian kernel "
            "(eq. 5.84; N(u − v; 0, σ²I) is exp(−γ‖u − v‖²) with γ = 1/(2σ²), up to its "
            "normalising constant, which only rescales C) moves the cost to the number of "
            "examples m. On noisy moons: training uses the m × m Gram matrix, "
            f"{first['gram_mib']:.1f} MiB at m = {int(first['m']):,} and "
            f"{last['gram_mib']:.0f} MiB at m = {int(last['m']):,} (four-fold per doubling); "
            "prediction sums over the support vectors only, O(n_SV · d) per new point, and "
            f"n_SV grows with m ({int(first['support_vectors'])} to "
            f"{int(last['support_vectors'])}). Predicting {in_m.attrs['queries']:,} points "
            f"took {1e3 * first['predict_seconds']:.3g} ms and "
            f"{1e3 * last['predict_seconds']:.3g} ms; by {in_m.attrs['components']} random "
            f"Fourier features (Rahimi & Recht 2007), {1e3 * last['fourier_predict_seconds']:.3g} "
            'ms at the same m, a cost that does not grow with m: SVC(approximation="fourier") '
            "fits the linear SVM on such features, without the Gram matrix. Wall times of "
            "this machine (under timings/).",
            [],
            [],
            ["timings/kernel-cost-in-m.csv"],
        ),
    ]


def gp(ctx: Context) -> list[Section]:
    """The RBF SVM beside the GP classifier with the same kernel (Laplace and NUTS)."""
    from freqbayes import figures as F
    from freqbayes import lessons as L

    draws = 1000  # quick too: the report's r̂ ≤ 1.01 is tested on these very fits
    twin = L.svm_gp_twin(ctx.seed, draws=draws)
    t = twin.table.set_index("data")
    c, m = t.loc["circles"], t.loc["moons"]
    o = twin.objectives
    oc, om = (o[o["data"] == d].set_index("fit") for d in ("circles", "moons"))
    gp_fit = "GP MAP (Laplace mode)"
    return [
        Section(
            "gp",
            "The SVM beside a Gaussian-process classifier (§5.7.2)",
            "The same training points and the same RBF kernel k(x, x′) = exp(−γ‖x − x′‖²), γ "
            "the SVM's. Left: the SVM's decision function f, its boundary f = 0 and margins "
            "|f| = 1, support vectors circled. Middle and right: a GP classifier, f ~ GP(0, "
            "s² k) and p(y = 1 | x) = σ(f(x)) (eq. 5.81), sampled by NUTS (4 chains × "
            f"{draws} draws, non-centred: f = s L z); s is the value of 1, 2, 4, 8, 16 with "
            "the largest Laplace evidence. The middle panel is the posterior mean of p, the "
            "right one the posterior sd of f. Where no training point is within two "
            "length-scales (dashed), the SVM's f tends to its intercept b: on the circles "
            f"|f| = {c['far_svm_mean_abs_f']:.2f} there on average, beyond the margin at "
            f"{c['far_svm_share_beyond_margin']:.0%} of those points — sure of the outer "
            f"class where it has seen nothing (on the moons b is near 0: |f| = "
            f"{m['far_svm_mean_abs_f']:.2f}). The GP there falls back to its prior: p within "
            f"{max(c['far_gp_mean_abs_p_minus_half'], m['far_gp_mean_abs_p_minus_half']):.2f} "
            f"of ½ on average and the sd of f near s. Held-out accuracy: SVM "
            f"{c['svm_test_accuracy']:.1%} and {m['svm_test_accuracy']:.1%}, GP "
            f"{c['gp_nuts_test_accuracy']:.1%} and {m['gp_nuts_test_accuracy']:.1%} (circles, "
            "moons). The Laplace approximation (R&W Algorithms 3.1–3.2, in float64) equals "
            "scikit-learn's GaussianProcessClassifier with the same fixed kernel within "
            f"{t['laplace_vs_sklearn_max_abs_dp'].max():.1g} in p; it differs from NUTS by up "
            f"to {t['nuts_vs_laplace_max_abs_dp'].max():.2f} (the Gaussian at the mode is not "
            "the posterior). NUTS diagnostics in the table.",
            [ctx.figure(F.svm_gp_twin(twin), "svm-gp-twin")],
            [ctx.table(twin.table, "svm-gp-twin")],
        ),
        Section(
            "gp-svm-objectives",
            "One penalty, two losses: the GP's MAP and the SVM",
            "On the training points f = Kα, and the RKHS norm of f is ‖f‖²_H = αᵀKα. The GP "
            "prior f ~ GP(0, s² k) makes −log p(f | y) = Σ log(1 + e^(−y_i f_i)) + ½‖f‖²_H/s² "
            "(+ const.): its MAP, the Laplace mode, is kernel logistic regression with the "
            "RKHS penalty ½‖f‖²_H/s². The soft-margin SVM, divided by C, minimises "
            "Σ max(0, 1 − y_i f_i) + ½‖f‖²_H/C over f = Kα + b: the same penalty with "
            f"s² = C, the hinge loss in place of the log loss, and a free intercept. Both "
            f"fitted with s² = C = {o.attrs['C']:g} and both objectives evaluated at both "
            f"fits: the GP's mode has the lower J_log (circles {oc.loc[gp_fit, 'J_log']:.2f} "
            f"against {oc.loc['SVM', 'J_log']:.2f}; moons {om.loc[gp_fit, 'J_log']:.2f} against "
            f"{om.loc['SVM', 'J_log']:.2f}), the SVM the lower J_hinge (circles "
            f"{oc.loc['SVM', 'J_hinge']:.2f} against {oc.loc[gp_fit, 'J_hinge']:.2f}; moons "
            f"{om.loc['SVM', 'J_hinge']:.2f} against {om.loc[gp_fit, 'J_hinge']:.2f}): two "
            "losses, one regulariser. The figure above uses the evidence's s instead "
            f"(circles s = {c['scale_s']:g}, moons s = {m['scale_s']:g}).",
            [],
            [ctx.table(o, "gp-svm-objectives")],
        ),
    ]
