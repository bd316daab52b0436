"""Figures of classification (§5.7): separation, the SVM beside the logistic posterior, kernels."""

from __future__ import annotations

import textwrap
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from freqbayes import lessons as L
from freqbayes.figures._style import BAYES, FREQ, label, styled
from freqbayes.i18n import N_, _


@styled
def why_sigmoid(w: L.WhySigmoid) -> Figure:
    """Binary labels: the least-squares line leaves [0, 1]; the sigmoid of the same θᵀx does not."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.6), gridspec_kw={"width_ratios": [1.6, 1]})
    jitter = np.random.default_rng(0).uniform(-0.03, 0.03, len(w.y))
    a.scatter(
        w.x, w.y + jitter, s=14, color="#555555", label=_("data, y ∈ {{0, 1}} (jittered)").format()
    )
    grid = np.linspace(w.x.min(), w.x.max(), 400)
    b0, w0 = w.line
    a.plot(grid, b0 + w0 * grid, color=FREQ, lw=2, label=_("least squares (Gaussian MLE): b + wx"))
    c0, c1 = w.sigmoid
    a.plot(
        grid,
        1 / (1 + np.exp(-(c0 + c1 * grid))),
        color=BAYES,
        lw=2,
        label=_("logistic MLE: σ(b + wx) (eq. 5.81)"),
    )
    a.axhspan(1, 1.6, color="#d62728", alpha=0.08)
    a.axhspan(-0.6, 0, color="#d62728", alpha=0.08, label=_("not a probability"))
    a.set(
        ylim=(-0.6, 1.6),
        xlabel="x",
        ylabel=_("y, or the predicted p(y = 1 | x)"),
        title=_("A line leaves [0, 1] ({share:.0%} of the x range here)").format(share=w.outside),
    )
    a.legend(loc="upper left", framealpha=0.9)
    z = np.linspace(-6, 6, 400)
    b.plot(z, 1 / (1 + np.exp(-z)), color=BAYES, lw=2)
    b.axhline(0, color="grey", lw=0.6)
    b.axhline(1, color="grey", lw=0.6)
    b.set(
        xlabel=_("z = θᵀx (any real number)"),
        ylabel="σ(z) = 1/(1 + e⁻ᶻ)",
        title=_("The sigmoid squashes ℝ into (0, 1)"),
    )
    fig.tight_layout()
    return fig


@styled
def divergence(d: L.Divergence) -> Figure:
    """‖w‖ against gradient-descent iterations on separable data: MLE diverges, MAP does not."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    it = d.iterations[1:]  # from the first step (log axis)
    a.plot(it, d.mle_norm[1:], color=FREQ, label=_("MLE (no penalty): ‖w‖ never stops growing"))
    a.plot(
        it,
        d.map_norm[1:],
        color=BAYES,
        label=_("MAP, N(0, 1) prior (weight decay α = {alpha:.3g})").format(alpha=d.alpha),
    )
    a.set(
        xscale="log",
        xlabel=_("gradient-descent iteration t"),
        ylabel="‖w‖",
        title=_("Separable data: the MLE does not exist"),
    )
    a.legend(fontsize=10)
    b.plot(it, d.mle_loss[1:], color=FREQ, label=_("mean log loss (→ 0)"))
    b.plot(it, d.map_loss[1:], color=BAYES, label=_("MAP cost (loss + weight decay)"))
    b.set(
        xscale="log",
        yscale="log",
        xlabel=_("iteration t"),
        ylabel=_("cost J"),
        title=_("The loss keeps falling as ‖w‖ → ∞"),
    )
    b.legend(fontsize=10)
    fig.tight_layout(rect=(0, 0.16, 1, 1))
    said = _("freqbayes.inference.mle says: {warning}").format(warning=d.warning)
    said = textwrap.fill(said, width=130)
    fig.text(0.5, 0.01, said, ha="center", va="bottom", fontsize=10)
    return fig


def _boundary(ax: Any, w: np.ndarray, b: float, xlim: tuple[float, float], **kw: Any) -> None:
    """Draw the line w·x + b = 0 (w in 2-D) across ``xlim``."""
    xs = np.array(xlim)
    ax.plot(xs, -(b + w[0] * xs) / w[1], **kw)


@styled
def svm_vs_logistic(
    X: np.ndarray, y: np.ndarray, svm: Any, tree: xr.DataTree, seed: int = 0, draws: int = 150
) -> Figure:
    """Maximum-margin boundary with margins and support vectors beside posterior boundaries."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.6), sharex=True, sharey=True)
    xlim = (X[:, 0].min() - 0.5, X[:, 0].max() + 0.5)
    for ax in (a, b):
        ax.scatter(*X[y == 0].T, c="#377eb8", s=18, label="y = 0")
        ax.scatter(*X[y == 1].T, c="#e41a1c", s=18, label="y = 1")
    w = (svm.dual_coef_ @ svm.support_vectors_)[0]
    b0 = float(svm.intercept_[0])
    _boundary(a, w, b0, xlim, color="black", label=_("maximum-margin boundary"))
    for off in (-1, 1):
        _boundary(a, w, b0 - off, xlim, color="black", ls="--", lw=0.8)
    a.scatter(
        *svm.support_vectors_.T,
        s=110,
        facecolors="none",
        edgecolors="black",
        label=_("{count} support vectors").format(count=len(svm.support_)),
    )
    a.set(
        title=_("SVM: margin 2/‖w‖ = {margin:.2f} (§5.7.2)").format(margin=2 / np.linalg.norm(w)),
        xlim=xlim,
        ylim=(X[:, 1].min() - 0.5, X[:, 1].max() + 0.5),
    )
    post = tree["posterior"]
    beta = np.asarray(post["beta"]).reshape(-1, 2)
    icpt = np.asarray(post["intercept"]).reshape(-1)
    pick = np.random.default_rng(seed).choice(len(icpt), size=min(draws, len(icpt)), replace=False)
    for j in pick:
        _boundary(b, beta[j], icpt[j], xlim, color=BAYES, alpha=0.08, lw=1)
    mean_label = _("posterior-mean boundary")
    _boundary(b, beta.mean(axis=0), icpt.mean(), xlim, color=BAYES, lw=2, label=mean_label)
    drawn = _("{count} posterior draws of σ(θᵀx) = ½").format(count=len(pick))
    b.plot([], [], color=BAYES, alpha=0.4, label=drawn)
    b.set(title=_("Bayesian logistic regression: a band of boundaries (NUTS)"))
    a.legend(fontsize=10, loc="lower right")
    b.legend(fontsize=10, loc="lower right")
    fig.tight_layout()
    return fig


@styled
def boundary_bands(bands: L.BoundaryBands, draws: int = 100, seed: int = 0) -> Figure:
    """Bootstrap bands (MLE, MAP, SVM) beside the posterior band of logistic boundaries."""
    X, y = bands.X, bands.y
    panels = [
        (N_("Logistic MLE: bootstrap"), ["MLE (bootstrap)"]),
        (N_("Logistic MAP: bootstrap"), ["MAP (bootstrap)"]),
        (N_("Linear SVM (C = 1): bootstrap"), ["SVM (bootstrap)"]),
        (N_("Bayesian logistic: posterior"), ["posterior (NUTS)"]),
    ]
    colours = {
        "MLE (bootstrap)": FREQ,
        "MAP (bootstrap)": "#e7298a",
        "SVM (bootstrap)": "#444444",
        "posterior (NUTS)": BAYES,
    }
    fig, axes = plt.subplots(2, 2, figsize=(12, 10), sharex=True, sharey=True)
    xlim = (X[:, 0].min() - 0.3, X[:, 0].max() + 0.3)
    rng = np.random.default_rng(seed)
    for ax, (title, names) in zip(axes.ravel(), panels, strict=True):
        ax.scatter(*X[y == 0].T, c="#377eb8", s=16)
        ax.scatter(*X[y == 1].T, c="#e41a1c", s=16)
        for name in names:
            w, b = bands.lines[name]
            pick = rng.choice(len(b), size=min(draws, len(b)), replace=False)
            for j in pick:
                _boundary(ax, w[j], b[j], xlim, color=colours[name], alpha=0.1, lw=1)
            w0, b0 = bands.estimate[name]
            what = _("posterior mean") if "posterior" in name else _("fitted on the data")
            fitted = _("{name}: {what}").format(name=label(name), what=what)
            _boundary(ax, w0, b0, xlim, color=colours[name], lw=2.5, label=fitted)
            band = _("{count} of the band").format(count=len(pick))
            ax.plot([], [], color=colours[name], alpha=0.4, label=band)
        ax.set(title=_(title), xlim=xlim, ylim=(X[:, 1].min() - 0.3, X[:, 1].max() + 0.3))
        ax.title.set_fontsize(12)
        ax.tick_params(labelsize=10)
        ax.legend(fontsize=10, loc="lower right", framealpha=0.9)
    fig.suptitle(
        _(
            "Frequentist bands: sampling distributions (refits on resampled data)\n"
            "Bayesian band: the posterior given these data"
        ),
        fontsize=12,
    )
    fig.tight_layout()
    return fig


@styled
def kernel_cost(table: pd.DataFrame) -> Figure:
    """Feature count and Gram-matrix time against the polynomial degree: map against kernel."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.5))
    d, n = table.attrs.get("d", "d"), table.attrs.get("n", "n")
    a.plot(table["degree"], table["features"], "o-", color=FREQ)
    a.set(
        yscale="log",
        xlabel=_("polynomial degree p"),
        ylabel=_("features of the explicit map φ"),
        title=_("C(d + p, p) features (d = {d}); the RBF map has infinitely many").format(d=d),
    )
    b.plot(table["degree"], 1e3 * table["explicit_seconds"], "o-", color=FREQ, label="φ(x)ᵀφ(x′)")
    b.plot(table["degree"], 1e3 * table["kernel_seconds"], "o-", color=BAYES, label="(1 + xᵀx′)^p")
    b.set(
        yscale="log",
        xlabel=_("polynomial degree p"),
        ylabel=_("milliseconds (best of 3)"),
        title=_("The {n} × {n} Gram matrix, the same numbers both ways").format(n=n),
    )
    b.legend()
    for ax in (a, b):
        ax.set_xticks(table["degree"])
    fig.tight_layout()
    return fig


@styled
def kernel_trick(k: L.KernelTrick) -> Figure:
    """Decision regions of linear SVM, RBF SVM and the linear SVM on φ(x), on circles and moons."""
    names = list(k.data)
    clfs = list(dict.fromkeys(k.accuracy["classifier"]))
    fig, axes = plt.subplots(len(names), len(clfs), figsize=(4 * len(clfs), 3.6 * len(names)))
    for r, name in enumerate(names):
        Xtr, _ytr, Xte, yte = k.data[name]
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
            title = _("{data}: {classifier}\ntest accuracy {accuracy:.1%}").format(
                data=label(name), classifier=label(clf_name), accuracy=acc
            )
            ax.set(title=title, xticks=[], yticks=[])
    fig.tight_layout()
    return fig


@styled
def feature_map(k: L.KernelTrick) -> Figure:
    """Circles lifted by φ(x) = (x₁, x₂, ‖x‖²): a plane separates them in 3-D."""
    Xtr, ytr, _xte, _yte = k.data["circles"]
    Z = L.radial_feature_map(Xtr)
    clf, _phi = k.models[("circles", "linear SVM on φ(x) = (x, ‖x‖²)")]
    fig = plt.figure(figsize=(11, 4.4))
    a = fig.add_subplot(1, 2, 1)
    a.scatter(*Xtr.T, c=np.where(ytr == 1, "#e41a1c", "#377eb8"), s=10)
    a.set(title=_("circles in x-space: no line separates them"), aspect="equal")
    b = fig.add_subplot(1, 2, 2, projection="3d")
    b.scatter(Z[:, 0], Z[:, 1], Z[:, 2], c=np.where(ytr == 1, "#e41a1c", "#377eb8"), s=8)
    w, c0 = clf.coef_[0], float(clf.intercept_[0])
    gx, gy = np.meshgrid(np.linspace(-1.2, 1.2, 10), np.linspace(-1.2, 1.2, 10))
    b.plot_surface(gx, gy, -(c0 + w[0] * gx + w[1] * gy) / w[2], alpha=0.3, color="grey")
    b.set(xlabel="x₁", ylabel="x₂", zlabel="‖x‖²", title=_("φ(x) = (x₁, x₂, ‖x‖²): a plane does"))
    fig.tight_layout()
    return fig
