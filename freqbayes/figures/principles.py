"""Figures of two principles: the MLE as least divergence, the posterior as updating."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from freqbayes import lessons as L
from freqbayes.figures._style import BAYES, FREQ, TRUTH, styled
from freqbayes.i18n import _
from freqbayes.lessons.principles import UPDATE_STEPS


@styled
def mle_as_divergence(d: L.Divergences) -> Figure:
    """Cross-entropy against μ (minimum at x̄); NLL and MSE against a slope (same minimiser)."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.5))
    a.plot(d.mu, d.cross_entropy, color=FREQ, lw=2)
    a.axvline(
        d.xbar,
        color=TRUTH,
        ls=":",
        label=_("minimum at x̄ = {xbar:.3f} (the MLE)").format(xbar=d.xbar),
    )
    a.set(
        xlabel="μ",
        ylabel="−(1/m) Σ log p_model(xᵢ; μ)",
        title=_("Cross-entropy of p̂_data and p_model (eqs. 5.59–5.61)"),
    )
    a.legend(loc="upper center")
    best = d.w[np.argmin(d.mse)]
    b.plot(d.w, d.nll, color=FREQ, lw=2, label=_("−log p(y | x; w), σ known (eq. 5.65)"))
    b.set(
        xlabel=_("slope w"),
        ylabel=_("negative log-likelihood"),
        title=_("Gaussian noise: NLL ∝ MSE"),
    )
    twin = b.twinx()
    twin.plot(d.w, d.mse, color=BAYES, lw=2, ls="--", label=_("MSE (eq. 5.66)"))
    twin.set_ylabel(_("mean squared error"))
    twin.tick_params(labelsize=10)
    b.axvline(best, color=TRUTH, ls=":", label=_("both minimal at w = {w:.3f}").format(w=best))
    lines = b.get_legend_handles_labels()
    more = twin.get_legend_handles_labels()
    b.legend(lines[0] + more[0], lines[1] + more[1], loc="upper center")
    fig.tight_layout()
    return fig


@styled
def sequential_updating(u: L.Updating) -> Figure:
    """The posterior of μ after 0, 1, 2, 5, 20 points, each the prior of the next."""
    fig, ax = plt.subplots(figsize=(9, 4.8))
    grid = np.linspace(u.mean[0] - 3 * u.sd[0], u.mean[0] + 3 * u.sd[0], 800)
    shades = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, len(UPDATE_STEPS)))
    for k, colour in zip(UPDATE_STEPS, shades, strict=True):
        if k >= len(u.mean):
            continue
        m, s = u.mean[k], u.sd[k]
        density = np.exp(-0.5 * ((grid - m) / s) ** 2) / (s * np.sqrt(2 * np.pi))
        after = _("after 1 point") if k == 1 else _("after {k} points").format(k=k)
        name = _("prior") if k == 0 else after
        ax.plot(grid, density, color=colour, lw=2, label=f"{name}: N({m:.2f}, {s:.2f}²)")
    ax.plot(
        u.x[:5], np.zeros(min(5, len(u.x))), "|", color=FREQ, ms=18, mew=2, label=_("first points")
    )
    ax.axvline(u.true_mu, color=TRUTH, ls=":", label=_("true μ = {mu:g}").format(mu=u.true_mu))
    ax.set(
        xlabel="μ",
        ylabel=_("density"),
        title=_("Prior × likelihood, one point at a time: each posterior is the next prior"),
    )
    ax.legend(loc="upper left", framealpha=0.9)
    fig.tight_layout()
    return fig
