"""Figures of unsupervised learning, SGD and high dimension (§5.8–5.11), and of calibration."""

from __future__ import annotations

import base64
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import matplotlib.text
import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.figure import Figure

from freqbayes import lessons as L
from freqbayes.figures._style import BAYES, FREQ, label, styled
from freqbayes.i18n import N_, _, get_language, language


def _lloyd_axes(
    ax: Any, fr: L.LloydFrames, i: int, title: str, labels_from: int | None = None
) -> None:
    """Points coloured by the assignment of state ``labels_from`` (default i), centroids of i."""
    cmap = plt.get_cmap("tab10")
    labels = fr.labels[i if labels_from is None else labels_from]
    ax.scatter(*fr.X.T, c=[cmap(j % 10) for j in labels], s=6, alpha=0.6)
    ax.scatter(*fr.centroids[i].T, c="black", marker="X", s=90, edgecolors="white")
    ax.set(title=title, xticks=[], yticks=[])


@styled
def lloyd_steps(
    frames: Mapping[str, L.LloydFrames], steps: tuple[int, ...] = (0, 1, 2, 4)
) -> Figure:
    """Lloyd's iteration drawn step by step for each initialisation (one row each)."""
    fig, axes = plt.subplots(
        len(frames), len(steps), figsize=(3.3 * len(steps), 3.3 * len(frames)), squeeze=False
    )
    for r, (name, fr) in enumerate(frames.items()):
        for c, i in enumerate(steps):
            state = _("seeding + assignment") if i == 0 else _("after update {i}").format(i=i)
            title = _("{seeding}: {state}\ninertia {inertia:.0f}").format(
                seeding=label(name), state=state, inertia=fr.inertia[i]
            )
            _lloyd_axes(axes[r, c], fr, i, title)
    fig.tight_layout()
    return fig


@styled
def lloyd_animation(fr: L.LloydFrames, name: str) -> FuncAnimation:
    """Seeding (one centroid per frame, in the order chosen), then assign/update frames.

    During seeding the points are shaded by D(x)², the squared distance to the
    nearest centroid chosen so far: k-means++ draws the next centroid ∝ D(x)².
    """
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    k = len(fr.seeding)
    total = k + 2 * (len(fr.centroids) - 1) + 1
    lang = get_language()

    def draw(t: int) -> list[Any]:
        # frames are drawn when the animation is saved, after this function has returned:
        # in this call's language and style (else Japanese titles lose their font)
        with language(lang):
            return styled(frame)(t)

    def frame(t: int) -> list[Any]:
        ax.clear()
        if t < k:
            chosen = fr.seeding[: t + 1]
            d2 = ((fr.X[:, None, :] - chosen[None, :, :]) ** 2).sum(axis=-1).min(axis=1)
            ax.scatter(*fr.X.T, c=d2, cmap="Greys", s=6, vmin=0, vmax=np.quantile(d2, 0.99))
            ax.scatter(*chosen.T, c="black", marker="X", s=90, edgecolors="white")
            title = _(
                "{seeding} seeding: centroid {i} of {k}\n(shade: D(x)², squared distance)"
            ).format(seeding=label(name), i=t + 1, k=k)
            ax.set(title=title, xticks=[], yticks=[])
        else:
            s = t - k
            c, lab = (s + 1) // 2, s // 2  # an update moves the centroids before reassigning
            if s % 2 == 0:
                title = _("step {step}: assign to the nearest centroid\ninertia {inertia:.0f}")
                title = title.format(step=lab, inertia=fr.inertia[lab])
            else:
                title = _("step {step}: move each centroid\nto the mean of its points")
                title = title.format(step=c)
            _lloyd_axes(ax, fr, c, f"{label(name)}, {title}", labels_from=lab)
        return []

    anim = FuncAnimation(fig, draw, frames=total, interval=700)
    plt.close(fig)
    return anim


def animation_gif(anim: FuncAnimation, fps: float = 1.5, dpi: int = 72) -> str:
    """An animation as an HTML ``<img>`` of an animated GIF (base64, no script).

    Unlike ``to_jshtml`` (JavaScript, stripped by code hosts, about 1.3 MB for the
    Lloyd animation) it plays wherever HTML outputs show: Jupyter, nbconvert's HTML,
    notebook viewers of code hosts.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "animation.gif"
        anim.save(path, writer=PillowWriter(fps=fps), dpi=dpi)
        data = base64.b64encode(path.read_bytes()).decode()
    alt = _("animation ({fps:g} frames per second)").format(fps=fps)
    return f'<img src="data:image/gif;base64,{data}" alt="{alt}">'


@styled
def initialisation(inertia: Mapping[str, np.ndarray]) -> Figure:
    """Distribution of the final inertia over many seeds, per initialisation."""
    fig, ax = plt.subplots(figsize=(7, 4))
    lo = min(v.min() for v in inertia.values())
    hi = max(v.max() for v in inertia.values())
    bins = np.linspace(lo, hi, 40)
    colours = {"k-means++": BAYES, "random": FREQ, "k-means++ (plain D²)": "0.45"}
    names = {"k-means++": N_("k-means++ (greedy, what runs)")}
    for name, v in inertia.items():
        ax.hist(
            v,
            bins=bins,
            alpha=0.55,
            color=colours.get(name),
            label=_("{seeding}: mean {mean:.0f}, best {best:.0f}").format(
                seeding=label(names.get(name, name)), mean=v.mean(), best=v.min()
            ),
        )
    ax.set(
        xlabel=_("final inertia (lower is better)"),
        ylabel=_("restarts (of {n})").format(n=len(next(iter(inertia.values())))),
        title=_("D² seeding reaches good optima more often; the greedy variant most"),
    )
    ax.legend(fontsize=10)
    fig.tight_layout()
    return fig


@styled
def sgd_curves(c: L.SGDCurves) -> Figure:
    """J − J* against epochs and wall time per minibatch size; iterates around the MLE."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    cmap = plt.get_cmap("viridis")
    for i, m in enumerate(c.batch_sizes):
        name = _("m′ = {m} (full batch)") if m == max(c.batch_sizes) else "m′ = {m}"
        name = name.format(m=m)
        colour = cmap(i / max(1, len(c.batch_sizes) - 1))
        gap = np.maximum(c.loss[m] - c.optimum, 1e-7)
        axes[0].plot(c.epochs, gap, "-o", ms=3, color=colour, label=name)
        axes[1].plot(1e3 * c.seconds[m], gap, "-o", ms=3, color=colour, label=name)
    axes[0].set(
        yscale="log",
        xlabel=_("epoch"),
        ylabel="J(θ) − J(θ_MLE)",
        title=_("Against epochs: many small steps beat few exact ones"),
    )
    axes[1].set(
        yscale="log",
        xlabel=_("wall time (ms; compiled beforehand)"),
        title=_("Against wall time"),
    )
    axes[0].legend(fontsize=10)
    it = c.iterates
    axes[2].scatter(
        it[:, 0],
        it[:, 1],
        s=8,
        color=FREQ,
        alpha=0.6,
        label=_("SGD iterates (m′ = 10, constant ε), one per epoch"),
    )
    axes[2].plot(c.mle[0], c.mle[1], "k*", ms=14, label="MLE")
    axes[2].set(xlabel="w₁", ylabel="w₂", title=_("Constant-step SGD hovers around the MLE"))
    axes[2].legend(fontsize=10, loc="upper left", bbox_to_anchor=(0.0, -0.15), frameon=False)
    fig.tight_layout()
    return fig


@styled
def step_cost(table: pd.DataFrame) -> Figure:
    """Seconds per gradient step against the training-set size m, full batch and minibatch."""
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for (name, rows), colour in zip(
        table.groupby("gradient", sort=False), (FREQ, BAYES), strict=False
    ):
        ax.plot(rows["m"], 1e3 * rows["seconds_per_step"], "o-", color=colour, label=label(name))
    ax.set(
        xscale="log",
        yscale="log",
        xlabel=_("training-set size m"),
        ylabel=_("milliseconds per step (median)"),
        title=_("A minibatch step costs O(m′), flat in m; a full step O(m) (§5.9)"),
    )
    ax.legend()
    fig.tight_layout()
    return fig


@styled
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
    fig.suptitle(_("Posterior densities with 95% ETI: SGLD (SGD + noise) against NUTS"), y=1.12)
    # arviz-plots writes two words of its own: the legend's title and "mean" after a value
    for legend in fig.legends:
        legend.set_title(_("model"))
    mean = _("mean")
    for text in fig.findobj(matplotlib.text.Text):
        value, space, word = text.get_text().rpartition(" ")
        if word == "mean" and value:
            text.set_text(f"{value}{space}{mean}")
    return fig


def rank_histograms(
    ax: Any,
    res: Any,
    level: float,
    lw: float = 1.2,
    colours: Mapping[str, str] | None = None,
    bins: int = 10,
) -> None:
    """One method's SBC ranks on ``ax``: each parameter's in ``bins`` bins, and the band.

    The grey band holds ``level`` of the bin counts of a calibrated method (binomial);
    ``colours``: parameter → colour (default: Matplotlib's cycle).
    """
    from scipy import stats

    n = len(res.ranks)
    lo, hi = stats.binom(n, 1 / bins).ppf([(1 - level) / 2, (1 + level) / 2])
    ax.axhspan(lo, hi, color="#bbbbbb", alpha=0.5, lw=0)
    ax.axhline(n / bins, color="#888888", lw=0.8)
    for name in res.ranks:
        counts = np.bincount(res.ranks[name] * bins // (res.draws + 1), minlength=bins)
        colour = None if colours is None else colours[name]
        ax.step(np.arange(bins + 1), np.r_[counts, counts[-1]], where="post", lw=lw,
                color=colour, label=name)  # fmt: skip


@styled
def calibration(results: Mapping[tuple[str, str], Any], level: float = 0.99) -> Figure:
    """Rank histograms of simulation-based calibration: one panel per model and method.

    Each parameter's ranks in ten bins (steps); the grey band holds ``level`` of the bin
    counts of a calibrated method (binomial). Inside: trust; a ∪ shape: posteriors too
    narrow; ∩: too wide; a slope: biased.
    """
    models = list(dict.fromkeys(m for m, _k in results))
    methods = list(dict.fromkeys(k for _m, k in results))
    fig, axes = plt.subplots(
        len(models),
        len(methods),
        figsize=(max(6.0, 2.6 * len(methods)), 0.8 + 2.4 * len(models)),
        squeeze=False,
    )
    for i, model in enumerate(models):
        for j, method in enumerate(methods):
            ax = axes[i, j]
            res = results.get((model, method))
            if res is None:
                ax.axis("off")
                ax.text(
                    0.5,
                    0.5,
                    _("n/a (no features\nto subsample)"),
                    ha="center",
                    va="center",
                    fontsize=10,
                    transform=ax.transAxes,
                )
                continue
            rank_histograms(ax, res, level)
            worst = res.min_pvalue
            verdict = _("calibrated") if worst >= 1e-3 else _("MISCALIBRATED")
            ax.set_title(
                _("{model} · {method}\n{verdict} (min p = {p:.1e})").format(
                    model=model, method=method, verdict=verdict, p=worst
                ),
                fontsize=10,
                color="black" if worst >= 1e-3 else "#b2182b",
            )
            ax.set(xticks=[0, 5, 10], xticklabels=["0", "S/2", "S"], yticks=[])
            ax.tick_params(labelsize=10)
            if j == 0:
                ax.set_ylabel(_("data sets per bin"), fontsize=10)
            if j == len(methods) - 1 or (model, methods[j + 1]) not in results:
                ax.legend(fontsize=10, loc="upper right", frameon=False)
    fig.suptitle(
        _(
            "Simulation-based calibration: rank of the true value among the posterior draws "
            "(grey: {level:.0%} band of a calibrated method)"
        ).format(level=level),
        fontsize=10,
    )
    fig.tight_layout()
    return fig


@styled
def cells_and_vote(c: L.CellsAndVote) -> Figure:
    """A 3-NN vote in the plane beside the share of 10^d grid cells that n points can reach."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 5))
    colours = np.where(c.y == 1, "#e41a1c", "#377eb8")
    a.scatter(*c.X.T, c=colours, s=40)
    radius = float(np.sqrt(((c.X[c.neighbours[-1]] - c.query) ** 2).sum()))
    a.add_patch(plt.Circle(c.query, radius, fill=False, ls="--", color="grey"))
    for i in c.neighbours:
        a.plot(*np.c_[c.query, c.X[i]], color="grey", lw=1)
    votes = np.bincount(c.y[c.neighbours], minlength=2)
    a.scatter(*c.query, marker="*", s=300, c="#e41a1c" if c.vote == 1 else "#377eb8", ec="k")
    a.set(
        xlim=(0, 1),
        ylim=(0, 1),
        aspect="equal",
        xlabel="x₁",
        ylabel="x₂",
        title=_("{k}-NN: votes {red} red, {blue} blue → {winner} (★)").format(
            k=len(c.neighbours),
            red=votes[1],
            blue=votes[0],
            winner=_("red") if c.vote == 1 else _("blue"),
        ),
    )
    b.bar(c.dims, c.occupied, color=FREQ)
    for d, share in zip(c.dims, c.occupied, strict=True):
        b.text(d, min(share + 0.03, 1.0), f"{share:.0%}" if share >= 0.01 else "<1%",
               ha="center", fontsize=10)  # fmt: skip
    b.set(
        xlabel=_("dimension d (10 intervals per axis: 10^d cells)"),
        ylabel=_("share of cells holding a point (n = {n:,})").format(n=c.n),
        ylim=(0, 1.1),
        title=_("Figure 5.9: the cells outgrow any data set"),
    )
    fig.tight_layout()
    return fig


@styled
def curse(table: pd.DataFrame) -> Figure:
    """Farthest/nearest distance ratio and k-NN accuracy against the dimension."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    a.fill_between(
        table["d"],
        table["ratio_q10"],
        table["ratio_q90"],
        color=FREQ,
        alpha=0.2,
        label=_("10–90% of queries"),
    )
    a.plot(
        table["d"], table["median_ratio"], "-o", color=FREQ, ms=4, label=_("median over queries")
    )
    a.axhline(1, color="grey", ls=":")
    a.set(
        xscale="log",
        yscale="log",
        xlabel=_("dimension d"),
        ylabel=_("farthest / nearest distance"),
        title=_("Distances concentrate: everything is equally far"),
    )
    a.legend(fontsize=10)
    b.plot(table["d"], table["knn_accuracy"], "-o", color=BAYES, ms=4, label=_("label x₁ > ½"))
    if "knn_accuracy_all" in table:
        b.plot(table["d"], table["knn_accuracy_all"], "--s", color=FREQ, ms=4,
               label=_("label Σⱼ (xⱼ − ½) > 0"))  # fmt: skip
    # TRANSLATORS: the accuracy of guessing, 0.5 for two balanced classes
    b.axhline(0.5, color="grey", ls=":", label=_("chance"))
    b.set(
        xscale="log",
        ylim=(0.4, 1.02),
        xlabel=_("dimension d"),
        ylabel=_("test accuracy"),
        title=_("{k}-NN with n fixed: accuracy falls to chance (§5.11)").format(
            k=table.attrs.get("k", 5)
        ),
    )
    b.legend(fontsize=10)
    fig.tight_layout()
    return fig
