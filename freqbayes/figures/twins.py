"""Each learner beside its probabilistic twin: k-means and the mixture, the SVM and the GP."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from freqbayes import lessons as L
from freqbayes.figures._style import BAYES, FREQ, TRUTH, label, styled
from freqbayes.i18n import _


@styled
def mixture_twin(twin: L.MixtureTwin) -> Figure:
    """Three panels: k-means' partition, the posterior membership, and the choice of k."""
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    cmap = plt.get_cmap("tab10")
    colours = np.array([cmap(j) for j in range(twin.k)])
    ax = axes[0]
    ax.scatter(*twin.X.T, c=colours[twin.kmeans_labels], s=9, alpha=0.7)
    ax.scatter(*twin.kmeans_centres.T, c="black", marker="X", s=110, edgecolors="white")
    ax.set(title=_("k-means: one label per point"), xlabel="x₁", ylabel="x₂")
    ax = axes[1]
    sure = twin.membership.max(axis=1)
    rgb = twin.membership @ colours[:, :3]  # a point's colour mixes its components'
    ax.scatter(*twin.X.T, c=np.clip(rgb, 0, 1), s=9 + 40 * (1 - sure), alpha=0.8)
    band = sure < 0.9
    unsure = _("P(most likely cluster) < 0.9: {count} points").format(count=band.sum())
    ax.scatter(*twin.X[band].T, facecolors="none", edgecolors="black", s=45, linewidths=0.6,
               label=unsure)  # fmt: skip
    for j in range(twin.k):
        ax.scatter(*twin.posterior_means[:, j].T, s=2, color=colours[j], alpha=0.15)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)
    ax.set(title=_("mixture posterior: membership probabilities, μ draws"), xlabel="x₁")
    ax = axes[2]
    c = twin.choice
    ax.errorbar(c["k"], c["elpd_loo"], yerr=c["elpd_se"], color=BAYES, marker="o", capsize=3,
                label=_("mixture: PSIS-LOO elpd ± se"))  # fmt: skip
    ax.set(xlabel="k", ylabel=_("elpd (higher predicts better)"), xticks=list(c["k"]),
           title=_("how many clusters (drawn with {k})").format(k=twin.k))  # fmt: skip
    twin_ax = ax.twinx()
    twin_ax.plot(c["k"], c["kmeans_inertia"], color=FREQ, marker="s", ls="--",
                 label=_("k-means inertia"))  # fmt: skip
    twin_ax.set_ylabel(_("inertia (always falls with k)"))
    lines = ax.get_legend_handles_labels()
    more = twin_ax.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper center",
              bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)  # fmt: skip
    fig.tight_layout()
    return fig


def svm_panel(ax: Any, twin: L.GPTwin, name: str, scale: float = 1.0) -> None:
    """The SVM on data set ``name``: regions of f, boundary f = 0, margins |f| = 1, support vectors.

    ``scale`` multiplies the markers' sizes and the lines' widths (slides: larger).
    """
    Xtr, ytr, _xte, _yte = twin.data[name]
    gx, gy = twin.grid[name]
    colours = np.where(ytr == 1, "#e41a1c", "#377eb8")
    f = twin.svm_decision[name]
    ax.contourf(gx, gy, f, levels=[-1e9, -1, 0, 1, 1e9],
                colors=["#9ecae1", "#deebf7", "#fee0d2", "#fc9272"])  # fmt: skip
    ax.contour(gx, gy, f, levels=[-1, 0, 1], colors="black",
               linewidths=[0.8 * scale, 1.4 * scale, 0.8 * scale],
               linestyles=["--", "-", "--"])  # fmt: skip
    sv = twin.support[name]
    ax.scatter(*Xtr.T, c=colours, s=8 * scale**2)
    ax.scatter(*Xtr[sv].T, facecolors="none", edgecolors="black", s=30 * scale**2,
               linewidths=0.6 * scale)  # fmt: skip


def gp_mean_panel(fig: Any, ax: Any, twin: L.GPTwin, name: str, scale: float = 1.0) -> None:
    """The GP classifier's posterior mean of p(y = 1 | x) on ``name``, its ½ contour, colour bar."""
    Xtr, ytr, _xte, _yte = twin.data[name]
    gx, gy = twin.grid[name]
    colours = np.where(ytr == 1, "#e41a1c", "#377eb8")
    im = ax.contourf(gx, gy, twin.gp_p[name], levels=np.linspace(0, 1, 11), cmap="RdBu_r")
    ax.contour(gx, gy, twin.gp_p[name], levels=[0.5], colors="black", linewidths=1.4 * scale)
    ax.scatter(*Xtr.T, c=colours, s=8 * scale**2, edgecolors="white", linewidths=0.3 * scale)
    fig.colorbar(im, ax=ax, label=_("posterior mean of p(y = 1 | x)"))


@styled
def svm_gp_twin(twin: L.GPTwin) -> Figure:
    """Per data set: the SVM's regions and margins, the GP's mean p, the GP's sd of f."""
    names = list(twin.data)
    fig, axes = plt.subplots(len(names), 3, figsize=(15, 4.6 * len(names)))
    table = twin.table.set_index("data")
    for r, name in enumerate(names):
        Xtr, ytr, _xte, _yte = twin.data[name]
        gx, gy = twin.grid[name]
        colours = np.where(ytr == 1, "#e41a1c", "#377eb8")
        row = table.loc[name]
        ax = axes[r, 0]
        svm_panel(ax, twin, name)
        title = _("{data}: RBF SVM, margins |f| = 1, support vectors circled\n"
                  "test accuracy {accuracy:.1%}")  # fmt: skip
        ax.set(title=title.format(data=label(name), accuracy=row["svm_test_accuracy"]),
               xticks=[], yticks=[])  # fmt: skip
        ax = axes[r, 1]
        gp_mean_panel(fig, ax, twin, name)
        title = _("GP classifier (NUTS), same γ, s = {s:g}\ntest accuracy {accuracy:.1%}")
        ax.set(title=title.format(s=row["scale_s"], accuracy=row["gp_nuts_test_accuracy"]),
               xticks=[], yticks=[])  # fmt: skip
        ax = axes[r, 2]
        im = ax.contourf(gx, gy, twin.gp_sd[name], levels=12, cmap="viridis")
        ax.contour(gx, gy, twin.far[name].astype(float), levels=[0.5], colors="white",
                   linestyles="--", linewidths=1.0)  # fmt: skip
        ax.scatter(*Xtr.T, c=colours, s=8, edgecolors="white", linewidths=0.3)
        fig.colorbar(im, ax=ax, label=_("posterior sd of the latent f(x)"))
        ax.set(title=_("GP uncertainty: sd of f; dashed: beyond two\nlength-scales of every "
               "training point"), xticks=[], yticks=[])  # fmt: skip
    fig.tight_layout()
    return fig


@styled
def horseshoe_twin(
    table: pd.DataFrame, medians: dict[int, np.ndarray], dense: pd.DataFrame | None = None
) -> Figure:
    """Held-out accuracy against d for 3-NN, L2 logistic and the horseshoe; shrunk weights.

    ``dense``: the same columns on the task where every coordinate sets the label
    (``lessons.horseshoe_twin(task="all")``), drawn in a middle panel.
    """
    panels = 3 if dense is not None else 2
    fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 4.4))
    tasks = [(axes[0], table, _("only x₁ sets the label"))]
    if dense is not None:
        tasks.append((axes[1], dense, _("every xⱼ sets the label")))
    for a, t, what in tasks:
        for col, name, colour, marker in (
            ("knn3_accuracy", "3-NN", FREQ, "s"),
            ("l2_logistic_accuracy", _("logistic, L2 (C = 1)"), "#7570b3", "^"),
            ("horseshoe_accuracy", _("logistic, horseshoe prior (NUTS)"), BAYES, "o"),
        ):
            rows = t.dropna(subset=[col])  # the horseshoe is fitted at some d only
            a.plot(rows["d"], rows[col], marker=marker, color=colour, label=name)
        a.axhline(0.5, color="grey", ls=":", label=_("chance"))
        title = _("{task}; n = {n} training points").format(task=what, n=t.attrs["n"])
        a.set(xscale="log", ylim=(0.4, 1.02), xlabel=_("dimension d"),
              ylabel=_("held-out accuracy"), title=title)  # fmt: skip
        a.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    b = axes[-1]
    d = max(medians)
    med = np.abs(medians[d])
    b.plot(np.arange(2, d + 1), med[1:], ".", color=BAYES, ms=3, label=_("irrelevant β_j"))
    relevant = _("β₁ (x₁ sets the label): {median:.3g}").format(median=med[0])
    b.plot([1], [med[0]], "o", color=TRUTH, ms=8, label=relevant)
    title = _("horseshoe at d = {d:,}: {shrunk} weights shrunk to ≈ 0").format(d=d, shrunk=d - 1)
    b.set(yscale="log", xscale="log", xlabel=_("feature j"),
          ylabel=_("posterior median |β_j|"), title=title)  # fmt: skip
    b.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    fig.tight_layout()
    return fig
