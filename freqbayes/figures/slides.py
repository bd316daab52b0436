"""Figures for the seminar's slides (``freqbayes slides``): projector-sized, one point each.

The slide style: a figure is made at the size it takes on a 16:9 slide of
13.333 × 7.5 in (:data:`FIGURE_SIZE`), so its font sizes are the sizes on the slide,
and no text is below :data:`MIN_SLIDE_PT` (18 pt) there. Each figure makes one point
(one panel, or small multiples of the same thing), legends sit outside the axes
(``fig.legend(loc="outside ...")`` under the constrained layout) so that they never
cover data, and a cluster keeps its colour in every panel (:data:`CLUSTER_COLOURS`,
indexed by the cluster's number). The report's figures (:mod:`freqbayes.figures`)
stay as they are; these are their slide versions, drawn from the same lessons.
Every text goes through :func:`freqbayes.i18n._`; Japanese is drawn in IPAex Gothic
(:func:`freqbayes.figures._style.language_style`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from freqbayes import lessons as L
from freqbayes.figures._style import BAYES, FREQ, TRUTH, styled_by
from freqbayes.i18n import _

#: A slide (inches, 16:9) and the box its figure fills (beside the bullets).
SLIDE_SIZE = (13.333, 7.5)
FIGURE_SIZE = (8.6, 5.9)
#: Smallest font size (points) of any text of a slide figure, at its size on the slide.
MIN_SLIDE_PT = 18
#: Colours of clusters 0, 1, 2, …: the same cluster, the same colour, in every panel.
CLUSTER_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2")
#: Colours of the two classes y = 0 and y = 1 (as in the report's figures).
CLASS_COLOURS = ("#377eb8", "#e41a1c")

SLIDE_STYLE = {
    "figure.dpi": 100,
    "font.size": MIN_SLIDE_PT,
    "axes.titlesize": 20,
    "axes.labelsize": 20,
    "xtick.labelsize": MIN_SLIDE_PT,
    "ytick.labelsize": MIN_SLIDE_PT,
    "legend.fontsize": MIN_SLIDE_PT,
    "legend.title_fontsize": MIN_SLIDE_PT,
    "figure.titlesize": 20,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 3,
    "lines.markersize": 9,
}


#: Run a figure function under :data:`SLIDE_STYLE` and the language's font (DejaVu Sans
#: first in Japanese: IPAex Gothic's Latin and Greek letters are full width and it has no
#: combining marks, so x̄ and θ̂ lost their bars and hats; :func:`language_style`).
slide_styled = styled_by(SLIDE_STYLE)


_TARGET: ContextVar[Any] = ContextVar("slide_figure_target", default=None)


@contextmanager
def drawn_into(target: Any) -> Iterator[None]:
    """Draw the slide figures made in the block into ``target`` (a page's SubFigure).

    A PDF page is one figure holding the title, the bullets and a subfigure of
    :data:`FIGURE_SIZE` into which the slide's figure is drawn, as vectors.
    """
    token = _TARGET.set(target)
    try:
        yield
    finally:
        _TARGET.reset(token)


def _figure(ncols: int = 1, nrows: int = 1, **kw: Any) -> tuple[Any, Any]:
    """A new figure of :data:`FIGURE_SIZE` and its axes, or axes in :func:`drawn_into`'s target."""
    target = _TARGET.get()
    if target is not None:
        return target, target.subplots(nrows, ncols, **kw)
    return plt.subplots(nrows, ncols, figsize=FIGURE_SIZE, layout="constrained", **kw)


def _legend(fig: Figure, ncols: int = 2, where: str = "upper") -> None:
    """One legend for the figure, outside the axes (above or below): never over data."""
    fig.legend(loc=f"outside {where} center", ncols=ncols, frameon=False)


def _classes(ax: Any, X: np.ndarray, y: np.ndarray, s: float = 60) -> None:
    for label, colour in enumerate(CLASS_COLOURS):
        ax.scatter(*X[y == label].T, s=s, color=colour, label=f"y = {label}", zorder=3)


def _line(ax: Any, w: np.ndarray, b: float, X: np.ndarray, **kw: Any) -> None:
    """The line b + wᵀx = 0 in the plane, across the data's x₁ range."""
    xs = np.array([X[:, 0].min() - 0.5, X[:, 0].max() + 0.5])
    ax.plot(xs, -(b + w[0] * xs) / w[1], **kw)


def _normal_pdf(grid: np.ndarray, mean: float, sd: float) -> np.ndarray:
    return np.exp(-0.5 * ((grid - mean) / sd) ** 2) / (sd * np.sqrt(2 * np.pi))


@slide_styled
def cross_entropy(d: L.Divergences) -> Figure:
    """The cross-entropy of p̂_data and p_model against μ: lowest at x̄, the MLE (eq. 5.61)."""
    fig, ax = _figure()
    ax.plot(d.mu, d.cross_entropy, color=FREQ, label=_("cross-entropy H(p̂_data, p_model)"))
    ax.axvline(d.xbar, color=TRUTH, ls=":", label=_("x̄ (the MLE)"))
    ax.set(xlabel="μ", ylabel="−(1/m) Σ log p_model(xᵢ; μ)")
    _legend(fig)
    return fig


@slide_styled
def prior_likelihood_posterior(
    grid: np.ndarray, curves: Mapping[str, tuple[float, float]], colours: Sequence[str]
) -> Figure:
    """Gaussian densities of one coefficient: prior, likelihood (normalised), posterior."""
    fig, ax = _figure()
    for (label, (mean, sd)), colour in zip(curves.items(), colours, strict=True):
        ax.plot(grid, _normal_pdf(grid, mean, sd), color=colour, label=label)
    ax.set(xlabel="θ", ylabel=_("density"))
    ax.set_ylim(bottom=0)
    _legend(fig, ncols=3)
    return fig


@slide_styled
def gaussian_noise(
    x: np.ndarray, y: np.ndarray, b: float, w: float, sigma: float, xlabel: str
) -> Figure:
    """Data, the line θᵀx and the density N(y; θᵀx, σ²) drawn sideways at three x (eq. 5.80)."""
    fig, ax = _figure()
    ax.scatter(x, y, s=14, color="#999999", label=_("data"))
    grid = np.linspace(x.min(), x.max(), 100)
    ax.plot(grid, b + w * grid, color=FREQ, label="θᵀx")
    width = 0.12 * (x.max() - x.min())
    for i, x0 in enumerate(np.quantile(x, [0.15, 0.5, 0.85])):
        ys = b + w * x0 + np.linspace(-3, 3, 200) * sigma
        dens = _normal_pdf(ys, b + w * x0, sigma)
        ax.plot(
            x0 + width * dens / dens.max(),
            ys,
            color=BAYES,
            lw=2.5,
            label="N(y; θᵀx, σ²)" if i == 0 else None,
        )
        ax.plot([x0, x0], [ys[0], ys[-1]], color=BAYES, lw=1, ls=":")
    ax.set(xlabel=xlabel, ylabel="y")
    _legend(fig, ncols=3)
    return fig


@slide_styled
def binary_line(why: L.WhySigmoid, sigmoid: bool) -> Figure:
    """Labels y ∈ {0, 1} against x with the least-squares line, or the logistic sigmoid."""
    fig, ax = _figure()
    jitter = 0.03 * np.random.default_rng(0).standard_normal(len(why.y))
    ax.scatter(why.x, why.y + jitter, s=30, color="#777777", label=_("data y ∈ {0, 1}"))
    grid = np.linspace(why.x.min(), why.x.max(), 400)
    ax.axhspan(0, 1, color="#eeeeee", zorder=0)
    if sigmoid:
        b, w = why.sigmoid
        ax.plot(grid, 1 / (1 + np.exp(-(b + w * grid))), color=BAYES, label="σ(θᵀx)")
        ax.set_ylabel("p(y = 1 | x)")
    else:
        b, w = why.line
        line = b + w * grid
        ax.plot(grid, line, color=FREQ, label=_("least squares θᵀx"))
        out = (line < 0) | (line > 1)
        ax.plot(
            grid[out & (line > 1)],
            line[out & (line > 1)],
            color="black",
            lw=5,
            ls=":",
            label=_("outside [0, 1]"),
        )
        ax.plot(grid[out & (line < 0)], line[out & (line < 0)], color="black", lw=5, ls=":")
        ax.set_ylabel("y")
    ax.set_xlabel("x")
    _legend(fig, ncols=3)
    return fig


@slide_styled
def separating_lines(X: np.ndarray, y: np.ndarray, lines: np.ndarray) -> Figure:
    """Separable classes and several lines b + wᵀx = 0 that all separate them."""
    fig, ax = _figure()
    _classes(ax, X, y)
    for j, (b, w1, w2) in enumerate(lines):
        _line(
            ax,
            np.array([w1, w2]),
            b,
            X,
            color="#555555",
            lw=2,
            label=_("lines that separate the classes") if j == 0 else None,
        )
    ax.set(xlabel="x₁", ylabel="x₂", ylim=(X[:, 1].min() - 0.5, X[:, 1].max() + 0.5))
    _legend(fig, ncols=3)
    return fig


@slide_styled
def margin(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, sv: np.ndarray) -> Figure:
    """The separating hyperplane, the two supporting hyperplanes, the support vectors."""
    fig, ax = _figure()
    _classes(ax, X, y)
    _line(ax, w, b, X, color="black", label=_("separating hyperplane"))
    _line(ax, w, b - 1, X, color="black", ls="--", lw=2, label=_("supporting hyperplanes"))
    _line(ax, w, b + 1, X, color="black", ls="--", lw=2)
    ax.scatter(
        *sv.T,
        s=400,
        facecolors="none",
        edgecolors="black",
        linewidths=2,
        label=_("support vectors"),
    )
    ax.set(xlabel="x₁", ylabel="x₂", ylim=(X[:, 1].min() - 0.5, X[:, 1].max() + 0.5))
    _legend(fig, ncols=3)
    return fig


@slide_styled
def functional_margins(values: np.ndarray, support: np.ndarray) -> Figure:
    """Every point's y(w₀ + wᵀx), sorted: none below 1, the support vectors at exactly 1."""
    fig, ax = _figure()
    order = np.argsort(values)
    rank = np.arange(len(values)) + 1
    ax.bar(rank, values[order], color=np.where(support[order], FREQ, "#bbbbbb"), width=0.8)
    ax.axhline(1.0, color="black", ls="--", lw=2, label="y(w₀ + wᵀx) = 1")
    ax.bar([], [], color=FREQ, label=_("support vectors"))
    ax.set(xlabel=_("points, sorted"), ylabel="y(w₀ + wᵀx)", ylim=(0, None))
    _legend(fig, ncols=2)
    return fig


@slide_styled
def lifted(X: np.ndarray, y: np.ndarray, level: float) -> Figure:
    """Concentric circles mapped by φ(x) = (x₁, x₂, ‖x‖²): the plane ‖x‖² = c separates them."""
    fig, ax = _figure()
    _classes(ax, np.column_stack([X[:, 0], (X**2).sum(axis=1)]), y, s=30)
    ax.axhline(level, color="black", ls="--", label=_("a plane in the feature space"))
    ax.set(xlabel="x₁", ylabel="‖x‖² = x₁² + x₂²")
    _legend(fig, ncols=3)
    return fig


@slide_styled
def observed_fitted(observed: np.ndarray, fitted: np.ndarray, label: str) -> Figure:
    """Observed against fitted values of a linear model (on the diagonal: a perfect fit)."""
    fig, ax = _figure()
    ax.scatter(fitted, observed, s=40, color=FREQ, label=_("measurements"))
    lim = [min(fitted.min(), observed.min()), max(fitted.max(), observed.max())]
    ax.plot(lim, lim, color=TRUTH, ls=":", label=_("observed = fitted"))
    ax.set(xlabel=_("fitted {y}").format(y=label), ylabel=_("observed {y}").format(y=label))
    _legend(fig, ncols=2)
    return fig


@slide_styled
def series(
    x: np.ndarray | pd.Series,
    curves: Mapping[str, np.ndarray],
    xlabel: str,
    ylabel: str,
    logx: bool = False,
    logy: bool = False,
    colours: Sequence[str] | None = None,
) -> Figure:
    """Lines against one x (log axes where asked): times, costs, ratios, shares."""
    fig, ax = _figure()
    colours = colours or CLUSTER_COLOURS
    for (label, values), colour in zip(curves.items(), colours, strict=False):
        ax.plot(x, values, "o-", color=colour, label=label)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if np.issubdtype(np.asarray(x).dtype, np.integer):  # degrees, steps, d: no 2.5
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    _legend(fig, ncols=min(3, len(curves)))
    return fig


@slide_styled
def lloyd_four(
    fr: L.LloydFrames, panels: Sequence[tuple[int, int | None]], titles: Sequence[str]
) -> Figure:
    """k-means in panels of (centroids row, labels row or None): cluster j in colour j in all."""
    fig, axes = _figure(2, 2, sharex=True, sharey=True)
    for ax, (c_row, l_row), title in zip(axes.ravel(), panels, titles, strict=True):
        if l_row is None:
            colours = np.full(len(fr.X), "#bbbbbb")
        else:
            colours = np.array(CLUSTER_COLOURS)[fr.labels[l_row]]
        ax.scatter(*fr.X.T, s=6, c=colours)
        for j, c in enumerate(fr.centroids[c_row]):
            ax.scatter(*c, marker="X", s=300, color=CLUSTER_COLOURS[j], edgecolors="black")
        ax.set_title(title)
        ax.set(xticks=[], yticks=[])
    return fig


@slide_styled
def d2_seeding(X: np.ndarray, first: np.ndarray, prob: np.ndarray) -> Figure:
    """k-means++: the next centre's probability ∝ D², the squared distance to the nearest centre."""
    fig, ax = _figure()
    order = np.argsort(prob)
    dots = ax.scatter(*X[order].T, c=prob[order], s=18, cmap="viridis")
    ax.scatter(*first, marker="X", s=400, color="black", label=_("first centre"))
    bar = fig.colorbar(dots, ax=ax, label=_("probability of the next centre"))
    bar.solids.set_rasterized(False)  # Matplotlib rasterises long colorbars: keep it vector
    ax.set(xticks=[], yticks=[])
    _legend(fig, ncols=1)
    return fig


@slide_styled
def knn_vote(cv: L.CellsAndVote) -> Figure:
    """k-NN with k = 3: the query's three nearest points vote."""
    fig, ax = _figure()
    _classes(ax, cv.X, cv.y)
    for i in cv.neighbours:
        ax.plot(*np.column_stack([cv.query, cv.X[i]]), color="black", lw=2)
    ax.scatter(
        *cv.X[cv.neighbours].T,
        s=400,
        facecolors="none",
        edgecolors="black",
        linewidths=2,
        label=_("the k nearest"),
    )
    ax.scatter(
        *cv.query,
        marker="*",
        s=700,
        color=CLASS_COLOURS[cv.vote],
        edgecolors="black",
        label=_("query, labelled by the vote"),
    )
    ax.set(xlabel="x₁", ylabel="x₂")
    _legend(fig, ncols=2)
    return fig
