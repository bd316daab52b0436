"""Figures of estimation (§5.5–5.7.1): the Gaussian, intervals, ridge, bands (forest: .forest)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from freqbayes import lessons as L
from freqbayes.figures._style import (
    BAYES,
    FREQ,
    KIND_NAMES,
    TRUTH,
    label,
    styled,
)
from freqbayes.i18n import _


@styled
def gaussian_concentration(c: L.Concentration) -> Figure:
    """μ and σ as n grows: MLE against the posterior mean and its 95% ETI."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    a.fill_between(
        c.n, c.mu_lo, c.mu_hi, color=BAYES, alpha=0.25, label=_("95% credible interval (ETI)")
    )
    a.plot(c.n, c.mu_mean, "-", color=BAYES, label=_("posterior mean"))
    a.plot(c.n, c.mu_mle, "o", color=FREQ, ms=4, label=_("MLE  x̄"))
    a.axhline(c.true_mu, color=TRUTH, ls=":", label=_("true μ = {mu:g}").format(mu=c.true_mu))
    a.set(
        xscale="log",
        xlabel=_("n (observations)"),
        ylabel="μ",
        title=_("μ: the posterior concentrates on the MLE"),
    )
    a.legend(fontsize=10)
    b.plot(c.n, c.sigma_mean, "-", color=BAYES, label=_("posterior mean of σ"))
    b.plot(c.n, c.sigma_map, "--", color=BAYES, alpha=0.7, label=_("posterior mode (MAP)"))
    b.plot(c.n, c.sigma_mle, "o", color=FREQ, ms=4, label=_("MLE  √(biased variance)"))
    b.axhline(
        c.true_sigma, color=TRUTH, ls=":", label=_("true σ = {sigma:g}").format(sigma=c.true_sigma)
    )
    b.set(
        xscale="log",
        xlabel=_("n (observations)"),
        ylabel="σ",
        title=_("σ: prior matters at small n, not at large n"),
    )
    b.legend(fontsize=10)
    fig.tight_layout()
    return fig


@styled
def variance_bias(b: L.Bias) -> Figure:
    """Simulated E[σ̂²_MLE]/σ² with 95% Monte-Carlo error bars against (n − 1)/n."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    grid = np.geomspace(b.n.min(), b.n.max(), 200)
    ax.plot(grid, (grid - 1) / grid, color=TRUTH, label=_("formula (n − 1)/n"))
    ax.errorbar(
        b.n,
        b.ratio,
        yerr=1.96 * b.se,
        fmt="o",
        color=FREQ,
        ms=4,
        capsize=3,
        label=_("simulation ({reps:,} data sets per n, ±1.96 se)").format(reps=b.reps),
    )
    ax.axhline(1.0, color="grey", lw=0.8, ls=":")
    ax.set(
        xscale="log",
        xlabel="n",
        ylabel="E[σ̂²_MLE] / σ²",
        title=_("The variance MLE is biased by (n − 1)/n (eqs. 5.36–5.39)"),
    )
    ax.legend(fontsize=10)
    fig.tight_layout()
    return fig


@styled
def two_guarantees(g: L.TwoGuarantees) -> Figure:
    """Coverage at every fixed μ (left) and averaged over μ drawn from a distribution (right)."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.6), gridspec_kw={"width_ratios": [1.6, 1]})
    names = list(dict.fromkeys(g.fixed["interval"]))
    colours = dict(zip(names, [FREQ, BAYES], strict=False))
    for name in names:
        rows = g.fixed[g.fixed["interval"] == name]
        a.plot(
            rows["mu"],
            rows["exact"],
            "-",
            color=colours[name],
            lw=1.5,
            label=_("{interval}: exact").format(interval=label(name)),
        )
        a.errorbar(
            rows["mu"],
            rows["coverage"],
            yerr=1.96 * rows["mc_se"],
            fmt="o",
            ms=3,
            color=colours[name],
            label=_("{interval}: simulated (±1.96 MC se)").format(interval=label(name)),
        )
    a.axhline(0.95, color=TRUTH, ls=":", lw=1)
    a.set(
        xlabel=_("the true μ, held fixed (σ = 1, n = 10)"),
        ylabel=_("coverage of μ"),
        ylim=(0, 1.05),
        title=_("Fixed μ: the confidence interval's guarantee"),
    )
    a.legend(fontsize=10, loc="lower center", framealpha=0.9)
    truths = list(dict.fromkeys(g.averaged["mu_drawn_from"]))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        rows = g.averaged[g.averaged["interval"] == name].set_index("mu_drawn_from").loc[truths]
        x = np.arange(len(truths)) + (i - (len(names) - 1) / 2) * width
        b.bar(x, rows["coverage"], width, yerr=1.96 * rows["mc_se"], color=colours[name], capsize=3)
        for xi, value in zip(x, rows["coverage"], strict=True):
            b.text(xi, value + 0.02, f"{value:.3f}", ha="center", fontsize=10)
    b.axhline(0.95, color=TRUTH, ls=":", lw=1)
    b.set(
        xticks=range(len(truths)),
        xticklabels=[label(t) for t in truths],
        ylim=(0, 1.1),
        ylabel=_("coverage, averaged over μ"),
        title=_("μ drawn at random: the credible interval's guarantee"),
    )
    for ax in (a, b):
        ax.tick_params(labelsize=10)
        ax.title.set_fontsize(12)
        ax.xaxis.label.set_fontsize(11)
        ax.yaxis.label.set_fontsize(11)
    fig.tight_layout()
    return fig


@styled
def frequentist_coverage(table: pd.DataFrame, parameter: str = "beta") -> Figure:
    """Coverage of each kind of confidence interval of one parameter against n."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    rows = table[table["parameter"] == parameter]
    kinds = list(dict.fromkeys(rows["interval"]))
    styles = {"wald": "o-", "sandwich": "o--", "profile": "s-", "percentile": "^--", "bca": "^-"}
    colours = {"wald": "#a63603", "sandwich": "#a63603", "profile": "#fd8d3c"}
    for kind in kinds:
        r = rows[rows["interval"] == kind].sort_values("n")
        ax.errorbar(
            r["n"],
            r["coverage"],
            yerr=1.96 * r["mc_se"],
            fmt=styles.get(kind, "o-"),
            color=colours.get(kind, "#b2182b"),
            capsize=3,
            label=_(KIND_NAMES.get(kind, kind)),
        )
    ax.axhline(0.95, color=TRUTH, ls=":", lw=1)
    ax.set(
        xscale="log",
        xlabel=_("n (observations), the truth held fixed"),
        ylabel=_("coverage of the slope β")
        if parameter == "beta"
        else _("coverage of {parameter}").format(parameter=parameter),
        title=_("Logistic regression: do 95% confidence intervals cover 95%?"),
    )
    ax.set_xticks(sorted(rows["n"].unique()), [str(n) for n in sorted(rows["n"].unique())])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.tick_params(labelsize=10)
    ax.legend(fontsize=10, title=_("interval (±1.96 MC se)"), title_fontsize=10)
    fig.tight_layout()
    return fig


@styled
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
            label=label(name),
            capsize=2,
        )
        b.bar(x, rows["mean_width"], width, color=colours[i % 4])
    a.axhline(0.95, color=TRUTH, ls=":", lw=1)
    a.set(
        xticks=range(len(ns)),
        xticklabels=[f"n = {n}" for n in ns],
        ylabel=_("coverage of μ"),
        ylim=(0, 1.05),
        title=_("How often does the interval contain μ?"),
    )
    b.set(
        xticks=range(len(ns)),
        xticklabels=[f"n = {n}" for n in ns],
        ylabel=_("mean width"),
        title=_("How wide is it?"),
    )
    handles, labels = a.get_legend_handles_labels()
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=10, frameon=False)
    return fig


@styled
def ridge_path(p: L.RidgePath) -> Figure:
    """Ridge path against λ with MAP points at λ = σ²/τ², and the posterior ±2 sd band."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    cmap = plt.get_cmap("tab10")
    for j, name in enumerate(p.features):
        a.plot(p.lam, p.ridge[:, j], color=cmap(j % 10), lw=1.2, label=name)
        a.plot(p.map_lam, p.map[:, j], "o", color=cmap(j % 10), ms=5, mec="black", mew=0.5)
    a.set(
        xscale="log",
        xlabel=_("weight decay λ"),
        ylabel=_("weight θ_j"),
        title=_("Ridge path (lines) and MAP found by L-BFGS (dots)"),
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
        b.plot(
            p.lam,
            a_,
            color=cmap(j % 10),
            label=_("{feature}: posterior mean, 95% ETI").format(feature=p.features[j]),
        )
    secondary = a.secondary_xaxis(
        "top",
        functions=(
            lambda lam: p.sigma / np.sqrt(np.maximum(lam, 1e-12)),
            lambda tau: p.sigma**2 / np.maximum(tau, 1e-12) ** 2,
        ),
    )
    secondary.set_xlabel(_("prior scale τ = σ/√λ"))
    b.set(
        xscale="log",
        xlabel=_("weight decay λ = σ²/τ²"),
        title=_("The posterior around the same curve (σ known)"),
    )
    a.legend(fontsize=10, ncol=2)
    b.legend(fontsize=10)
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
    ax.legend(fontsize=10, loc="upper left")


@styled
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
        (
            _("OLS = conditional MLE"),
            _("95% confidence band for the mean"),
            _("95% prediction interval"),
        ),
    )
    _band_panel(
        b,
        bands.grid,
        (bands.post_mean, bands.cred_lo, bands.cred_hi, bands.pred_lo, bands.pred_hi),
        BAYES,
        (
            _("posterior mean (NUTS)"),
            _("95% credible band for the mean (ETI)"),
            _("95% posterior-predictive ETI"),
        ),
    )
    a.set(
        xlabel=_("{feature} (standardised)").format(feature=feature),
        ylabel=_("disease progression (standardised)"),
        title=_("Frequentist: OLS"),
    )
    b.set(
        xlabel=_("{feature} (standardised)").format(feature=feature),
        title=_("Bayesian: posterior (§5.6)"),
    )
    fig.tight_layout()
    return fig


@styled
def gravitation(tree: xr.DataTree, truth: Mapping[str, Any]) -> Figure:
    """Posterior densities of the exponents and of log G, with the true values."""
    post = tree["posterior"]
    beta = np.asarray(post["beta"]).reshape(-1, post["beta"].shape[-1])
    panels = [
        (beta[:, 0], _("exponent of m₁"), 1.0),
        (beta[:, 1], _("exponent of m₂"), 1.0),
        (beta[:, 2], _("exponent of r"), -2.0),
    ]
    panels.append(
        (np.asarray(post["intercept"]).reshape(-1), "log G", float(truth["true_intercept"]))
    )
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.2))
    for ax, (draws, name, true) in zip(axes, panels, strict=True):
        ax.hist(draws, bins=40, color=BAYES, alpha=0.7, density=True)
        lo, hi = np.quantile(draws, [0.025, 0.975])
        ax.axvspan(lo, hi, color=BAYES, alpha=0.1, label=_("95% ETI"))
        ax.axvline(true, color=TRUTH, ls=":", label=_("true value"))
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(4))
        ax.set(title=name, yticks=[])
        ax.tick_params(axis="x", labelsize=10)
    axes[0].legend(
        fontsize=10, loc="upper left", bbox_to_anchor=(0.0, -0.15), ncol=2, frameon=False
    )
    fig.suptitle(
        _("log F = log G + a·log m₁ + b·log m₂ + c·log r: posterior (NUTS) of the exponents"),
        y=1.03,
    )
    fig.tight_layout()
    return fig
