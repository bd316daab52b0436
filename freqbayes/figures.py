"""Figures of the contrasts: each function takes a lesson's numbers and returns a Figure.

Point estimates are drawn as points or lines, posteriors as bands or densities;
every interval says its probability and kind (ETI: equal-tailed interval). The
numbers come from :mod:`freqbayes.lessons`; nothing is computed twice here.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import matplotlib
import matplotlib.ticker

if "ipykernel" not in sys.modules:  # files only, no windows; notebooks keep their inline backend
    matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure

from freqbayes import lessons as L

#: Colours: frequentist (point estimates) warm, Bayesian (posteriors) cool.
FREQ, BAYES, TRUTH = "#d95f02", "#1b9e77", "#444444"
METHOD_COLOURS = {
    "mle": "#d95f02",
    "map": "#e7298a",
    "laplace": "#7570b3",
    "svi": "#66a61e",
    "svi-fullrank": "#a6761d",
    "nuts": "#1b9e77",
}

plt.rcParams.update(
    {
        "figure.dpi": 100,
        "savefig.bbox": "tight",
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)


def gaussian_concentration(c: L.Concentration) -> Figure:
    """μ and σ as n grows: MLE against the posterior mean and its 95% ETI."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    a.fill_between(
        c.n, c.mu_lo, c.mu_hi, color=BAYES, alpha=0.25, label="95% credible interval (ETI)"
    )
    a.plot(c.n, c.mu_mean, "-", color=BAYES, label="posterior mean")
    a.plot(c.n, c.mu_mle, "o", color=FREQ, ms=4, label="MLE  x̄")
    a.axhline(c.true_mu, color=TRUTH, ls=":", label=f"true μ = {c.true_mu:g}")
    a.set(
        xscale="log",
        xlabel="n (observations)",
        ylabel="μ",
        title="μ: the posterior concentrates on the MLE",
    )
    a.legend(fontsize=8)
    b.plot(c.n, c.sigma_mean, "-", color=BAYES, label="posterior mean of σ")
    b.plot(c.n, c.sigma_map, "--", color=BAYES, alpha=0.7, label="posterior mode (MAP)")
    b.plot(c.n, c.sigma_mle, "o", color=FREQ, ms=4, label="MLE  √(biased variance)")
    b.axhline(c.true_sigma, color=TRUTH, ls=":", label=f"true σ = {c.true_sigma:g}")
    b.set(
        xscale="log",
        xlabel="n (observations)",
        ylabel="σ",
        title="σ: prior matters at small n, not at large n",
    )
    b.legend(fontsize=8)
    fig.tight_layout()
    return fig


def variance_bias(b: L.Bias) -> Figure:
    """Simulated E[σ̂²_MLE]/σ² with 95% Monte-Carlo error bars against (n − 1)/n."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    grid = np.geomspace(b.n.min(), b.n.max(), 200)
    ax.plot(grid, (grid - 1) / grid, color=TRUTH, label="formula (n − 1)/n")
    ax.errorbar(
        b.n,
        b.ratio,
        yerr=1.96 * b.se,
        fmt="o",
        color=FREQ,
        ms=4,
        capsize=3,
        label=f"simulation ({b.reps:,} data sets per n, ±1.96 se)",
    )
    ax.axhline(1.0, color="grey", lw=0.8, ls=":")
    ax.set(
        xscale="log",
        xlabel="n",
        ylabel="E[σ̂²_MLE] / σ²",
        title="The variance MLE is biased by (n − 1)/n (eq. 5.5)",
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def interval_coverage(table: pd.DataFrame) -> Figure:
    """Coverage (±1.96 MC se) and mean width of each interval at each n."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.2))
    names = list(dict.fromkeys(table["interval"]))
    ns = sorted(table["n"].unique())
    width = 0.8 / len(names)
    colours = [FREQ, BAYES, "#7570b3", "#e7298a"]
    for i, name in enumerate(names):
        rows = table[table["interval"] == name].set_index("n").loc[ns]
        x = np.arange(len(ns)) + (i - (len(names) - 1) / 2) * width
        a.bar(
            x,
            rows["coverage"],
            width,
            yerr=1.96 * rows["mc_se"],
            color=colours[i % 4],
            label=name,
            capsize=2,
        )
        b.bar(x, rows["mean_width"], width, color=colours[i % 4])
    a.axhline(0.95, color=TRUTH, ls=":", lw=1)
    a.set(
        xticks=range(len(ns)),
        xticklabels=[f"n = {n}" for n in ns],
        ylabel="coverage of μ",
        ylim=(0, 1.05),
        title="How often does the interval contain μ?",
    )
    b.set(
        xticks=range(len(ns)),
        xticklabels=[f"n = {n}" for n in ns],
        ylabel="mean width",
        title="How wide is it?",
    )
    handles, labels = a.get_legend_handles_labels()
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8, frameon=False)
    return fig


def ridge_path(p: L.RidgePath) -> Figure:
    """Ridge path against λ with MAP points at λ = σ²/τ², and the posterior ±2 sd band."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    cmap = plt.get_cmap("tab10")
    for j, name in enumerate(p.features):
        a.plot(p.lam, p.ridge[:, j], color=cmap(j % 10), lw=1.2, label=name)
        a.plot(p.map_lam, p.map[:, j], "o", color=cmap(j % 10), ms=5, mec="black", mew=0.5)
    a.set(
        xscale="log",
        xlabel="weight decay λ",
        ylabel="weight θ_j",
        title="Ridge path (lines) and MAP found by L-BFGS (dots)",
    )
    top = np.argsort(-np.abs(p.ridge[0]))[:3]
    for j in top:
        a_ = p.ridge[:, j]
        b.fill_between(
            p.lam,
            a_ - 1.96 * p.post_sd[:, j],
            a_ + 1.96 * p.post_sd[:, j],
            color=cmap(j % 10),
            alpha=0.2,
        )
        b.plot(p.lam, a_, color=cmap(j % 10), label=f"{p.features[j]}: posterior mean, 95% ETI")
    secondary = a.secondary_xaxis(
        "top",
        functions=(
            lambda lam: p.sigma / np.sqrt(np.maximum(lam, 1e-12)),
            lambda tau: p.sigma**2 / np.maximum(tau, 1e-12) ** 2,
        ),
    )
    secondary.set_xlabel("prior scale τ = σ/√λ")
    b.set(
        xscale="log",
        xlabel="weight decay λ = σ²/τ²",
        title="The posterior around the same curve (σ known)",
    )
    a.legend(fontsize=7, ncol=2)
    b.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _band_panel(
    ax: Any, grid: np.ndarray, bands: tuple[np.ndarray, ...], colour: str, labels: tuple[str, ...]
) -> None:
    """A line (``bands[0]``) inside an inner and an outer band: (line, lo, hi, outer lo, hi)."""
    line, lo, hi, outer_lo, outer_hi = bands
    ax.fill_between(grid, outer_lo, outer_hi, color=colour, alpha=0.12, label=labels[2])
    ax.fill_between(grid, lo, hi, color=colour, alpha=0.35, label=labels[1])
    ax.plot(grid, line, color=colour, label=labels[0])
    ax.legend(fontsize=8, loc="upper left")


def regression_bands(bands: L.Bands, x: np.ndarray, y: np.ndarray, feature: str) -> Figure:
    """OLS confidence and prediction bands beside posterior and posterior-predictive bands."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    for ax in (a, b):
        ax.plot(x, y, ".", color="grey", alpha=0.5, ms=4)
    _band_panel(
        a,
        bands.grid,
        (bands.ols, bands.ci_lo, bands.ci_hi, bands.pi_lo, bands.pi_hi),
        FREQ,
        ("OLS = conditional MLE", "95% confidence band for the mean", "95% prediction interval"),
    )
    _band_panel(
        b,
        bands.grid,
        (bands.post_mean, bands.cred_lo, bands.cred_hi, bands.pred_lo, bands.pred_hi),
        BAYES,
        (
            "posterior mean (NUTS)",
            "95% credible band for the mean (ETI)",
            "95% posterior-predictive ETI",
        ),
    )
    a.set(
        xlabel=f"{feature} (standardised)",
        ylabel="disease progression (standardised)",
        title="Frequentist: OLS",
    )
    b.set(xlabel=f"{feature} (standardised)", title="Bayesian: posterior (eq. 5.80)")
    fig.tight_layout()
    return fig


def gravitation(tree: xr.DataTree, truth: Mapping[str, Any]) -> Figure:
    """Posterior densities of the exponents and of log G, with the true values."""
    post = tree["posterior"]
    beta = np.asarray(post["beta"]).reshape(-1, post["beta"].shape[-1])
    panels = [
        (beta[:, 0], "exponent of m₁", 1.0),
        (beta[:, 1], "exponent of m₂", 1.0),
        (beta[:, 2], "exponent of r", -2.0),
    ]
    panels.append(
        (np.asarray(post["intercept"]).reshape(-1), "log G", float(truth["true_intercept"]))
    )
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.2))
    for ax, (draws, label, true) in zip(axes, panels, strict=True):
        ax.hist(draws, bins=40, color=BAYES, alpha=0.7, density=True)
        lo, hi = np.quantile(draws, [0.025, 0.975])
        ax.axvspan(lo, hi, color=BAYES, alpha=0.1, label="95% ETI")
        ax.axvline(true, color=TRUTH, ls=":", label="true value")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(4))
        ax.set(title=label, yticks=[])
        ax.tick_params(axis="x", labelsize=8)
    axes[0].legend(fontsize=7, loc="upper left", bbox_to_anchor=(0.0, -0.15), ncol=2, frameon=False)
    fig.suptitle(
        "log F = log G + a·log m₁ + b·log m₂ + c·log r: posterior (NUTS) of the exponents", y=1.03
    )
    fig.tight_layout()
    return fig


def _forest_rows(ax: Any, table: pd.DataFrame, params: list[str]) -> None:
    """Draw every method's estimate (and 95% ETI when it has one) for ``params`` on ``ax``."""
    methods = list(dict.fromkeys(table["method"]))
    step = 0.8 / len(methods)
    for i, method in enumerate(methods):
        rows = table[table["method"] == method].set_index("parameter").loc[params]
        y = np.arange(len(params))[::-1] + (len(methods) / 2 - i - 0.5) * step
        colour = METHOD_COLOURS.get(method, "black")
        has_ci = rows["eti95_lo"].notna().to_numpy()
        ax.hlines(y[has_ci], rows["eti95_lo"][has_ci], rows["eti95_hi"][has_ci], color=colour, lw=2)
        point = not has_ci.any()
        label = f"{method} (point estimate)" if point else f"{method}: mean, 95% ETI"
        ax.plot(rows["estimate"], y, "D" if point else "o", color=colour, ms=5, label=label)
    ax.set(yticks=np.arange(len(params))[::-1], yticklabels=params)


def forest(table: pd.DataFrame, title: str, xlabel: str, shared: bool = True) -> Figure:
    """Forest plot of :func:`freqbayes.lessons.summary_table`.

    Posteriors are drawn as mean and 95% ETI, point estimates as diamonds.
    ``shared=False`` gives each parameter its own axis (for different scales).
    """
    params = list(dict.fromkeys(table["parameter"]))
    n_methods = table["method"].nunique()
    if shared:
        fig, ax = plt.subplots(figsize=(8.5, 1.0 + 0.14 * len(params) * n_methods))
        _forest_rows(ax, table, params)
        ax.axvline(0, color="grey", lw=0.6)
        ax.set(xlabel=xlabel, title=title)
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    else:
        fig, axes = plt.subplots(
            len(params), 1, figsize=(8.5, 0.5 + 0.16 * len(params) * n_methods)
        )
        for ax, param in zip(np.atleast_1d(axes), params, strict=True):
            _forest_rows(ax, table, [param])
        np.atleast_1d(axes)[0].set_title(title)
        np.atleast_1d(axes)[-1].set_xlabel(xlabel)
        np.atleast_1d(axes)[0].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.0))
    fig.tight_layout()
    return fig


def divergence(d: L.Divergence) -> Figure:
    """‖w‖ against gradient-descent iterations on separable data: MLE diverges, MAP does not."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    it = d.iterations[1:]  # from the first step (log axis)
    a.plot(it, d.mle_norm[1:], color=FREQ, label="MLE (no penalty): ‖w‖ never stops growing")
    a.plot(
        it,
        d.map_norm[1:],
        color=BAYES,
        label=f"MAP, N(0, 1) prior (weight decay α = {d.alpha:.3g})",
    )
    a.set(
        xscale="log",
        xlabel="gradient-descent iteration t",
        ylabel="‖w‖",
        title="Separable data: the MLE does not exist",
    )
    a.legend(fontsize=8)
    b.plot(it, d.mle_loss[1:], color=FREQ, label="mean log loss (→ 0)")
    b.plot(it, d.map_loss[1:], color=BAYES, label="MAP cost (loss + weight decay)")
    b.set(
        xscale="log",
        yscale="log",
        xlabel="iteration t",
        ylabel="cost J",
        title="The loss keeps falling as ‖w‖ → ∞",
    )
    b.legend(fontsize=8)
    fig.text(
        0.5, -0.04, "freqbayes.inference.mle says: " + d.warning, ha="center", fontsize=8, wrap=True
    )
    fig.tight_layout()
    return fig


def _boundary(ax: Any, w: np.ndarray, b: float, xlim: tuple[float, float], **kw: Any) -> None:
    """Draw the line w·x + b = 0 (w in 2-D) across ``xlim``."""
    xs = np.array(xlim)
    ax.plot(xs, -(b + w[0] * xs) / w[1], **kw)


def svm_vs_logistic(
    X: np.ndarray, y: np.ndarray, svm: Any, tree: xr.DataTree, seed: int = 0
) -> Figure:
    """Maximum-margin boundary with margins and support vectors beside posterior boundaries."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.6), sharex=True, sharey=True)
    xlim = (X[:, 0].min() - 0.5, X[:, 0].max() + 0.5)
    for ax in (a, b):
        ax.scatter(*X[y == 0].T, c="#377eb8", s=18, label="y = 0")
        ax.scatter(*X[y == 1].T, c="#e41a1c", s=18, label="y = 1")
    w = (svm.dual_coef_ @ svm.support_vectors_)[0]
    b0 = float(svm.intercept_[0])
    _boundary(a, w, b0, xlim, color="black", label="maximum-margin boundary")
    for off in (-1, 1):
        _boundary(a, w, b0 - off, xlim, color="black", ls="--", lw=0.8)
    a.scatter(
        *svm.support_vectors_.T,
        s=110,
        facecolors="none",
        edgecolors="black",
        label=f"{len(svm.support_)} support vectors",
    )
    a.set(
        title=f"SVM: margin 2/‖w‖ = {2 / np.linalg.norm(w):.2f} (§5.7.2)",
        xlim=xlim,
        ylim=(X[:, 1].min() - 0.5, X[:, 1].max() + 0.5),
    )
    post = tree["posterior"]
    beta = np.asarray(post["beta"]).reshape(-1, 2)
    icpt = np.asarray(post["intercept"]).reshape(-1)
    pick = np.random.default_rng(seed).choice(len(icpt), size=min(150, len(icpt)), replace=False)
    for j in pick:
        _boundary(b, beta[j], icpt[j], xlim, color=BAYES, alpha=0.08, lw=1)
    _boundary(
        b, beta.mean(axis=0), icpt.mean(), xlim, color=BAYES, lw=2, label="posterior-mean boundary"
    )
    b.plot([], [], color=BAYES, alpha=0.4, label="150 posterior draws of σ(θᵀx) = ½")
    b.set(title="Bayesian logistic regression: a band of boundaries (NUTS)")
    a.legend(fontsize=7, loc="lower right")
    b.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def kernel_trick(k: L.KernelTrick) -> Figure:
    """Decision regions of linear SVM, RBF SVM and the linear SVM on φ(x), on circles and moons."""
    names = list(k.data)
    clfs = list(dict.fromkeys(k.accuracy["classifier"]))
    fig, axes = plt.subplots(len(names), len(clfs), figsize=(4 * len(clfs), 3.6 * len(names)))
    for r, name in enumerate(names):
        Xtr, _, Xte, yte = k.data[name]
        lo, hi = Xtr.min(axis=0) - 0.3, Xtr.max(axis=0) + 0.3
        gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
        grid = np.column_stack([gx.ravel(), gy.ravel()])
        for c, clf_name in enumerate(clfs):
            ax = axes[r, c]
            clf, phi = k.models[(name, clf_name)]
            z = clf.decision_function(phi(grid)).reshape(gx.shape)
            ax.contourf(
                gx, gy, z > 0, levels=[-0.5, 0.5, 1.5], colors=["#c6dbef", "#fcbba1"], alpha=0.8
            )
            ax.contour(gx, gy, z, levels=[0], colors="black", linewidths=1)
            ax.scatter(*Xte.T, c=np.where(yte == 1, "#e41a1c", "#377eb8"), s=10)
            acc = k.accuracy[(k.accuracy["data"] == name) & (k.accuracy["classifier"] == clf_name)][
                "test_accuracy"
            ].item()
            ax.set(title=f"{name}: {clf_name}\ntest accuracy {acc:.1%}", xticks=[], yticks=[])
    fig.tight_layout()
    return fig


def feature_map(k: L.KernelTrick) -> Figure:
    """Circles lifted by φ(x) = (x₁, x₂, ‖x‖²): a plane separates them in 3-D."""
    Xtr, ytr, _, _ = k.data["circles"]
    Z = L.radial_feature_map(Xtr)
    clf, _ = k.models[("circles", "linear SVM on φ(x) = (x, ‖x‖²)")]
    fig = plt.figure(figsize=(11, 4.4))
    a = fig.add_subplot(1, 2, 1)
    a.scatter(*Xtr.T, c=np.where(ytr == 1, "#e41a1c", "#377eb8"), s=10)
    a.set(title="circles in x-space: no line separates them", aspect="equal")
    b = fig.add_subplot(1, 2, 2, projection="3d")
    b.scatter(Z[:, 0], Z[:, 1], Z[:, 2], c=np.where(ytr == 1, "#e41a1c", "#377eb8"), s=8)
    w, c0 = clf.coef_[0], float(clf.intercept_[0])
    gx, gy = np.meshgrid(np.linspace(-1.2, 1.2, 10), np.linspace(-1.2, 1.2, 10))
    b.plot_surface(gx, gy, -(c0 + w[0] * gx + w[1] * gy) / w[2], alpha=0.3, color="grey")
    b.set(xlabel="x₁", ylabel="x₂", zlabel="‖x‖²", title="φ(x) = (x₁, x₂, ‖x‖²): a plane does")
    fig.tight_layout()
    return fig


def _lloyd_axes(
    ax: Any, fr: L.LloydFrames, i: int, title: str, labels_from: int | None = None
) -> None:
    """Points coloured by the assignment of state ``labels_from`` (default i), centroids of i."""
    cmap = plt.get_cmap("tab10")
    labels = fr.labels[i if labels_from is None else labels_from]
    ax.scatter(*fr.X.T, c=[cmap(j % 10) for j in labels], s=6, alpha=0.6)
    ax.scatter(*fr.centroids[i].T, c="black", marker="X", s=90, edgecolors="white")
    ax.set(title=title, xticks=[], yticks=[])


def lloyd_steps(
    frames: Mapping[str, L.LloydFrames], steps: tuple[int, ...] = (0, 1, 2, 4)
) -> Figure:
    """Lloyd's iteration drawn step by step for each initialisation (one row each)."""
    fig, axes = plt.subplots(
        len(frames), len(steps), figsize=(3.3 * len(steps), 3.3 * len(frames)), squeeze=False
    )
    for r, (name, fr) in enumerate(frames.items()):
        for c, i in enumerate(steps):
            label = "seeding + assignment" if i == 0 else f"after update {i}"
            _lloyd_axes(axes[r, c], fr, i, f"{name}: {label}\ninertia {fr.inertia[i]:.0f}")
    fig.tight_layout()
    return fig


def lloyd_animation(fr: L.LloydFrames, name: str) -> FuncAnimation:
    """Seeding (one centroid per frame, in the order chosen), then assign/update frames.

    During seeding the points are shaded by D(x)², the squared distance to the
    nearest centroid chosen so far: k-means++ draws the next centroid ∝ D(x)².
    """
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    k = len(fr.seeding)
    total = k + 2 * (len(fr.centroids) - 1) + 1

    def draw(t: int) -> list[Any]:
        ax.clear()
        if t < k:
            chosen = fr.seeding[: t + 1]
            d2 = ((fr.X[:, None, :] - chosen[None, :, :]) ** 2).sum(axis=-1).min(axis=1)
            ax.scatter(*fr.X.T, c=d2, cmap="Greys", s=6, vmin=0, vmax=np.quantile(d2, 0.99))
            ax.scatter(*chosen.T, c="black", marker="X", s=90, edgecolors="white")
            title = f"{name} seeding: centroid {t + 1} of {k}\n(shade: D(x)², squared distance)"
            ax.set(title=title, xticks=[], yticks=[])
        else:
            s = t - k
            c, lab = (s + 1) // 2, s // 2  # an update moves the centroids before reassigning
            if s % 2 == 0:
                title = f"step {lab}: assign to the nearest centroid\ninertia {fr.inertia[lab]:.0f}"
            else:
                title = f"step {c}: move each centroid\nto the mean of its points"
            _lloyd_axes(ax, fr, c, f"{name}, {title}", labels_from=lab)
        return []

    anim = FuncAnimation(fig, draw, frames=total, interval=700)
    plt.close(fig)
    return anim


def initialisation(inertia: Mapping[str, np.ndarray]) -> Figure:
    """Distribution of the final inertia over many seeds, per initialisation."""
    fig, ax = plt.subplots(figsize=(7, 4))
    lo = min(v.min() for v in inertia.values())
    hi = max(v.max() for v in inertia.values())
    bins = np.linspace(lo, hi, 40)
    colours = {"k-means++": BAYES, "random": FREQ}
    for name, v in inertia.items():
        ax.hist(
            v,
            bins=bins,
            alpha=0.6,
            color=colours.get(name),
            label=f"{name}: mean {v.mean():.0f}, best {v.min():.0f}",
        )
    ax.set(
        xlabel="final inertia (lower is better)",
        ylabel=f"restarts (of {len(next(iter(inertia.values())))})",
        title="k-means++ seeding reaches good optima far more often",
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def sgd_curves(c: L.SGDCurves) -> Figure:
    """J − J* against epochs and wall time per minibatch size; iterates around the MLE."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    cmap = plt.get_cmap("viridis")
    for i, m in enumerate(c.batch_sizes):
        label = f"m′ = {m}" + (" (full batch)" if m == max(c.batch_sizes) else "")
        colour = cmap(i / max(1, len(c.batch_sizes) - 1))
        gap = np.maximum(c.loss[m] - c.optimum, 1e-7)
        axes[0].plot(c.epochs, gap, "-o", ms=3, color=colour, label=label)
        axes[1].plot(1e3 * c.seconds[m], gap, "-o", ms=3, color=colour, label=label)
    axes[0].set(
        yscale="log",
        xlabel="epoch",
        ylabel="J(θ) − J(θ_MLE)",
        title="Against epochs: many small steps beat few exact ones",
    )
    axes[1].set(
        yscale="log",
        xlabel="wall time (ms; compiled beforehand)",
        title="Against wall time",
    )
    axes[0].legend(fontsize=8)
    it = c.iterates
    axes[2].scatter(
        it[:, 0],
        it[:, 1],
        s=8,
        color=FREQ,
        alpha=0.6,
        label="SGD iterates (m′ = 10, constant ε), one per epoch",
    )
    axes[2].plot(c.mle[0], c.mle[1], "k*", ms=14, label="MLE")
    axes[2].set(xlabel="w₁", ylabel="w₂", title="Constant-step SGD hovers around the MLE")
    axes[2].legend(fontsize=8, loc="upper left", bbox_to_anchor=(0.0, -0.15), frameon=False)
    fig.tight_layout()
    return fig


def sgld_vs_nuts(trees: Mapping[str, xr.DataTree]) -> Figure:
    """ArviZ density plot of the SGLD and NUTS posteriors on the same model."""
    import arviz_plots as azp

    pc = azp.plot_dist(
        dict(trees),
        var_names=["intercept", "beta"],
        backend="matplotlib",
        ci_kind="eti",
        ci_prob=0.95,
    )
    pc.add_legend("model")
    fig = pc.viz.ds["figure"].item()
    fig.set_size_inches(13, 3.4)
    fig.suptitle("Posterior densities with 95% ETI: SGLD (SGD + noise) against NUTS", y=1.12)
    return fig


def calibration(results: Mapping[tuple[str, str], Any], level: float = 0.99) -> Figure:
    """Rank histograms of simulation-based calibration: one panel per model and method.

    Each parameter's ranks in ten bins (steps); the grey band holds ``level`` of the bin
    counts of a calibrated method (binomial). Inside: trust; a ∪ shape: posteriors too
    narrow; ∩: too wide; a slope: biased.
    """
    from scipy import stats

    models = list(dict.fromkeys(m for m, _ in results))
    methods = list(dict.fromkeys(k for _, k in results))
    fig, axes = plt.subplots(
        len(models),
        len(methods),
        figsize=(max(6.0, 2.6 * len(methods)), 0.8 + 2.4 * len(models)),
        squeeze=False,
    )
    bins = 10
    for i, model in enumerate(models):
        for j, method in enumerate(methods):
            ax = axes[i, j]
            res = results.get((model, method))
            if res is None:
                ax.axis("off")
                ax.text(
                    0.5,
                    0.5,
                    "n/a (no features\nto subsample)",
                    ha="center",
                    va="center",
                    fontsize=8,
                    transform=ax.transAxes,
                )
                continue
            n = len(res.ranks)
            lo, hi = stats.binom(n, 1 / bins).ppf([(1 - level) / 2, (1 + level) / 2])
            ax.axhspan(lo, hi, color="#bbbbbb", alpha=0.5, lw=0)
            ax.axhline(n / bins, color="#888888", lw=0.8)
            for name in res.ranks:
                counts = np.bincount(res.ranks[name] * bins // (res.draws + 1), minlength=bins)
                ax.step(
                    np.arange(bins + 1), np.r_[counts, counts[-1]], where="post", lw=1.2, label=name
                )
            worst = res.min_pvalue
            verdict = "calibrated" if worst >= 1e-3 else "MISCALIBRATED"
            ax.set_title(
                f"{model} · {method}\n{verdict} (min p = {worst:.1e})",
                fontsize=8,
                color="black" if worst >= 1e-3 else "#b2182b",
            )
            ax.set(xticks=[0, 5, 10], xticklabels=["0", "S/2", "S"], yticks=[])
            ax.tick_params(labelsize=7)
            if j == 0:
                ax.set_ylabel("data sets per bin", fontsize=7)
            if j == len(methods) - 1 or (model, methods[j + 1]) not in results:
                ax.legend(fontsize=6, loc="upper right", frameon=False)
    fig.suptitle(
        f"Simulation-based calibration: rank of the true value among the posterior draws "
        f"(grey: {level:.0%} band of a calibrated method)",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def curse(table: pd.DataFrame) -> Figure:
    """Farthest/nearest distance ratio and k-NN accuracy against the dimension."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    a.fill_between(
        table["d"],
        table["ratio_q10"],
        table["ratio_q90"],
        color=FREQ,
        alpha=0.2,
        label="10–90% of queries",
    )
    a.plot(table["d"], table["median_ratio"], "-o", color=FREQ, ms=4, label="median over queries")
    a.axhline(1, color="grey", ls=":")
    a.set(
        xscale="log",
        yscale="log",
        xlabel="dimension d",
        ylabel="farthest / nearest distance",
        title="Distances concentrate: everything is equally far",
    )
    a.legend(fontsize=8)
    b.plot(table["d"], table["knn_accuracy"], "-o", color=BAYES, ms=4)
    b.axhline(0.5, color="grey", ls=":", label="chance")
    b.set(
        xscale="log",
        ylim=(0.4, 1.02),
        xlabel="dimension d",
        ylabel="test accuracy",
        title="5-NN with n fixed: accuracy falls to chance (§5.11)",
    )
    b.legend(fontsize=8)
    fig.tight_layout()
    return fig
