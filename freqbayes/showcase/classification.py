"""Stages of the report on classification (§5.7): separation, the SVM, kernels.

Every number in the prose comes from the code that made it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from freqbayes.i18n import _
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
            _("Why a Gaussian cannot model y ∈ {{0, 1}}: the sigmoid (§5.7.1)").format(),
            _(
                "{n} labels y ∈ {{0, 1}} against one feature. Least squares, the MLE under "
                "y ~ N(b + wx, σ²), fits a line that leaves [0, 1] over {outside:.0%} of the "
                "range of x, so it is no probability, and its Gaussian noise puts mass on "
                "every real y although only 0 and 1 occur. Logistic regression keeps the "
                "linear function θᵀx and squashes it through σ(z) = 1/(1 + e⁻ᶻ): "
                "p(y = 1 | x) = σ(θᵀx) (eq. 5.81), a Bernoulli likelihood."
            ).format(n=len(why.y), outside=why.outside),
            [ctx.figure(F.why_sigmoid(why), "why-sigmoid")],
        ),
        Section(
            "separation",
            _("Separable data: the MLE diverges, the posterior stays proper"),
            _(
                "Two completely separated classes in 2-D ({n} points). Gradient descent on the "
                "mean log loss (SGD with the full batch) drives ‖w‖ up like log t without end: "
                "a steeper sigmoid always fits better, so there is no MLE, and freqbayes' "
                "mle() says so instead of returning a number. With a N(0, {tau:g}²) prior the "
                "same descent (now weight decay, α = {alpha:.3g}) converges to the MAP; under "
                "the default priors the posterior is a proper distribution (table: NUTS, 95% "
                "ETI, r̂, ESS)."
            ).format(n=sep.n, tau=tau, alpha=div.alpha),
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
            _("The SVM against logistic regression (§5.7.2)"),
            _(
                "The same separable data. Left: the maximum-margin boundary (solid), the lines "
                "w·x + b = ±1 (dashed, 2/‖w‖ apart) and the support vectors (circled, "
                "functional margin exactly 1): only they fix the boundary. Right: {draws} "
                "boundaries drawn from the logistic posterior (NUTS) and the posterior-mean "
                "boundary. The SVM is regularised empirical risk minimisation: one boundary, "
                "no statement of uncertainty; the posterior says which boundaries are "
                "plausible given the data."
            ).format(draws=POSTERIOR_BOUNDARIES),
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
            _("Bands of boundaries: bootstrap against posterior"),
            _(
                "Two overlapping classes (n = {n}), so the logistic MLE exists. Each "
                "frequentist band is {refits:,} refits on rows resampled with replacement: "
                "the sampling distribution of the boundary, for the MLE, the MAP and the "
                "linear SVM (C = 1, its max-margin boundary refitted); the Bayesian band is "
                "drawn from the posterior given these data (NUTS). With {n} points and weak "
                "priors the MLE, MAP and posterior bands nearly coincide; the SVM's boundary, "
                "fixed by its support vectors alone, varies more from resample to resample."
            ).format(n=bands.X.shape[0], refits=len(bands.lines["MLE (bootstrap)"][1])),
            [ctx.figure(F.boundary_bands(bands, seed=ctx.seed), "boundary-bands")],
        ),
        Section(
            "kernels",
            _("The kernel trick"),
            _(
                "Circles and moons, {held:.0%} held out. A linear SVM cannot separate "
                "concentric circles; the RBF kernel k(x, x′) = exp(−γ‖x − x′‖²) can, and so "
                "can a linear SVM on the explicit feature map φ(x) = (x₁, x₂, ‖x‖²), which "
                "lifts the inner circle below a plane (bottom figure)."
            ).format(held=held),
            [
                ctx.figure(F.kernel_trick(trick), "kernel-trick"),
                ctx.figure(F.feature_map(trick), "feature-map"),
            ],
            [ctx.table(trick.accuracy, "kernel-accuracy")],
        ),
        Section(
            "kernel-cost",
            _("What the kernel trick saves (§5.7.2)"),
            _(
                "The polynomial kernel (1 + xᵀx′)^p equals φ(x)ᵀφ(x′) for the map φ of every "
                "monomial of degree ≤ p (weighted): checked to {worst:.0e} relative. In "
                "d = {d} the map has C(d + p, p) features, {features:,} at p = {p}, and the "
                "{n} × {n} Gram matrix by the map took {explicit_ms:.3g} ms against "
                "{kernel_ms:.3g} ms by the kernel, whose cost does not depend on p. The RBF "
                "kernel exp(−γ‖x − x′‖²) is an inner product of infinitely many features: "
                "only the kernel can be evaluated. Wall times of this machine (under "
                "timings/)."
            ).format(
                worst=worst,
                d=cost.attrs["d"],
                features=int(cost["features"].iloc[-1]),
                p=int(cost["degree"].iloc[-1]),
                n=cost.attrs["n"],
                explicit_ms=1e3 * cost["explicit_seconds"].iloc[-1],
                kernel_ms=1e3 * cost["kernel_seconds"].iloc[-1],
            ),
            [ctx.figure(F.kernel_cost(cost), "kernel-cost")],
            ["timings/kernel-cost.csv"],
        ),
        Section(
            "kernel-cost-in-m",
            _("What the kernel trick costs in m (eqs. 5.82–5.84)"),
            _(
                "The kernel form f(x) = b + Σᵢ αᵢ k(x, x⁽ⁱ⁾) (eq. 5.83) with the Gaussian "
                "kernel (eq. 5.84; N(u − v; 0, σ²I) is exp(−γ‖u − v‖²) with γ = 1/(2σ²), up "
                "to its normalising constant, which only rescales C) moves the cost to the "
                "number of examples m. On noisy moons: training uses the m × m Gram matrix, "
                "{first_mib:.1f} MiB at m = {first_m:,} and {last_mib:.0f} MiB at "
                "m = {last_m:,} (four-fold per doubling); prediction sums over the support "
                "vectors only, O(n_SV · d) per new point, and n_SV grows with m ({first_sv} "
                "to {last_sv}). Predicting {queries:,} points took {first_ms:.3g} ms and "
                "{last_ms:.3g} ms; by {components} random Fourier features (Rahimi & Recht "
                "2007), {fourier_ms:.3g} ms at the same m, a cost that does not grow with m: "
                'SVC(approximation="fourier") fits the linear SVM on such features, without '
                "the Gram matrix. Wall times of this machine (under timings/)."
            ).format(
                first_mib=first["gram_mib"],
                first_m=int(first["m"]),
                last_mib=last["gram_mib"],
                last_m=int(last["m"]),
                first_sv=int(first["support_vectors"]),
                last_sv=int(last["support_vectors"]),
                queries=in_m.attrs["queries"],
                first_ms=1e3 * first["predict_seconds"],
                last_ms=1e3 * last["predict_seconds"],
                components=in_m.attrs["components"],
                fourier_ms=1e3 * last["fourier_predict_seconds"],
            ),
            [],
            [],
            ["timings/kernel-cost-in-m.csv"],
        ),
    ]


def gp(ctx: Context) -> list[Section]:
    """The RBF SVM beside the GP classifier with the same kernel (Laplace and NUTS)."""
    from freqbayes import figures as F
    from freqbayes import lessons as L
    from freqbayes.figures import slide_versions as SV

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
            _("The SVM beside a Gaussian-process classifier (§5.7.2)"),
            _(
                "The same training points and the same RBF kernel k(x, x′) = exp(−γ‖x − x′‖²), "
                "γ the SVM's. Left: the SVM's decision function f, its boundary f = 0 and "
                "margins |f| = 1, support vectors circled. Middle and right: a GP classifier, "
                "f ~ GP(0, s² k) and p(y = 1 | x) = σ(f(x)) (eq. 5.81), sampled by NUTS (4 "
                "chains × {draws} draws, non-centred: f = s L z); s is the value of 1, 2, 4, "
                "8, 16 with the largest Laplace evidence. The middle panel is the posterior "
                "mean of p, the right one the posterior sd of f. Where no training point is "
                "within two length-scales (dashed), the SVM's f tends to its intercept b: on "
                "the circles |f| = {circles_f:.2f} there on average, beyond the margin at "
                "{beyond:.0%} of those points — sure of the outer class where it has seen "
                "nothing (on the moons b is near 0: |f| = {moons_f:.2f}). The GP there falls "
                "back to its prior: p within {gp_p:.2f} of ½ on average and the sd of f near "
                "s. Held-out accuracy: SVM {svm_circles:.1%} and {svm_moons:.1%}, GP "
                "{gp_circles:.1%} and {gp_moons:.1%} (circles, moons). The Laplace "
                "approximation (R&W Algorithms 3.1–3.2, in float64) equals scikit-learn's "
                "GaussianProcessClassifier with the same fixed kernel within {sklearn:.1g} in "
                "p; it differs from NUTS by up to {nuts:.2f} (the Gaussian at the mode is not "
                "the posterior). NUTS diagnostics in the table."
            ).format(
                draws=draws,
                circles_f=c["far_svm_mean_abs_f"],
                beyond=c["far_svm_share_beyond_margin"],
                moons_f=m["far_svm_mean_abs_f"],
                gp_p=max(c["far_gp_mean_abs_p_minus_half"], m["far_gp_mean_abs_p_minus_half"]),
                svm_circles=c["svm_test_accuracy"],
                svm_moons=m["svm_test_accuracy"],
                gp_circles=c["gp_nuts_test_accuracy"],
                gp_moons=m["gp_nuts_test_accuracy"],
                sklearn=t["laplace_vs_sklearn_max_abs_dp"].max(),
                nuts=t["nuts_vs_laplace_max_abs_dp"].max(),
            ),
            [ctx.figure(F.svm_gp_twin(twin), "svm-gp-twin")],
            [ctx.table(twin.table, "svm-gp-twin")],
            [
                ctx.figure(fig, f"slides/svm-gp-{name}")
                for name, fig in SV.svm_gp_by_dataset(twin).items()
            ],
        ),
        Section(
            "gp-svm-objectives",
            _("One penalty, two losses: the GP's MAP and the SVM"),
            _(
                "On the training points f = Kα, and the RKHS norm of f is ‖f‖²_H = αᵀKα. The "
                "GP prior f ~ GP(0, s² k) makes −log p(f | y) = Σ log(1 + e^(−y_i f_i)) + "
                "½‖f‖²_H/s² (+ const.): its MAP, the Laplace mode, is kernel logistic "
                "regression with the RKHS penalty ½‖f‖²_H/s². The soft-margin SVM, divided by "
                "C, minimises Σ max(0, 1 − y_i f_i) + ½‖f‖²_H/C over f = Kα + b: the same "
                "penalty with s² = C, the hinge loss in place of the log loss, and a free "
                "intercept. Both fitted with s² = C = {C:g} and both objectives evaluated at "
                "both fits: the GP's mode has the lower J_log (circles {c_gp_log:.2f} against "
                "{c_svm_log:.2f}; moons {m_gp_log:.2f} against {m_svm_log:.2f}), the SVM the "
                "lower J_hinge (circles {c_svm_hinge:.2f} against {c_gp_hinge:.2f}; moons "
                "{m_svm_hinge:.2f} against {m_gp_hinge:.2f}): two losses, one regulariser. "
                "The figure above uses the evidence's s instead (circles s = {c_s:g}, moons "
                "s = {m_s:g})."
            ).format(
                C=o.attrs["C"],
                c_gp_log=oc.loc[gp_fit, "J_log"],
                c_svm_log=oc.loc["SVM", "J_log"],
                m_gp_log=om.loc[gp_fit, "J_log"],
                m_svm_log=om.loc["SVM", "J_log"],
                c_svm_hinge=oc.loc["SVM", "J_hinge"],
                c_gp_hinge=oc.loc[gp_fit, "J_hinge"],
                m_svm_hinge=om.loc["SVM", "J_hinge"],
                m_gp_hinge=om.loc[gp_fit, "J_hinge"],
                c_s=c["scale_s"],
                m_s=m["scale_s"],
            ),
            [],
            [ctx.table(o, "gp-svm-objectives")],
        ),
    ]
