"""k-means beside the Gaussian mixture's posterior: a hard boundary against a band (§5.8.2)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from freqbayes import lessons as L
from freqbayes.figures._style import BAYES, FREQ, styled


@styled
def mixture_twin(twin: L.MixtureTwin) -> Figure:
    """Three panels: k-means' partition, the posterior membership, and the choice of k."""
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    cmap = plt.get_cmap("tab10")
    colours = np.array([cmap(j) for j in range(twin.k)])
    ax = axes[0]
    ax.scatter(*twin.X.T, c=colours[twin.kmeans_labels], s=9, alpha=0.7)
    ax.scatter(*twin.kmeans_centres.T, c="black", marker="X", s=110, edgecolors="white")
    ax.set(title="k-means: one label per point", xlabel="x₁", ylabel="x₂")
    ax = axes[1]
    sure = twin.membership.max(axis=1)
    rgb = twin.membership @ colours[:, :3]  # a point's colour mixes its components'
    ax.scatter(*twin.X.T, c=np.clip(rgb, 0, 1), s=9 + 40 * (1 - sure), alpha=0.8)
    band = sure < 0.9
    ax.scatter(*twin.X[band].T, facecolors="none", edgecolors="black", s=45, linewidths=0.6,
               label=f"P(most likely cluster) < 0.9: {band.sum()} points")  # fmt: skip
    for j in range(twin.k):
        ax.scatter(*twin.posterior_means[:, j].T, s=2, color=colours[j], alpha=0.15)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)
    ax.set(title="mixture posterior: membership probabilities, μ draws", xlabel="x₁")
    ax = axes[2]
    c = twin.choice
    ax.errorbar(c["k"], c["elpd_loo"], yerr=c["elpd_se"], color=BAYES, marker="o", capsize=3,
                label="mixture: PSIS-LOO elpd ± se")  # fmt: skip
    ax.set(xlabel="k", ylabel="elpd (higher predicts better)", xticks=list(c["k"]),
           title=f"how many clusters (drawn with {twin.k})")  # fmt: skip
    twin_ax = ax.twinx()
    twin_ax.plot(c["k"], c["kmeans_inertia"], color=FREQ, marker="s", ls="--",
                 label="k-means inertia")  # fmt: skip
    twin_ax.set_ylabel("inertia (always falls with k)")
    lines = ax.get_legend_handles_labels()
    more = twin_ax.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper center",
              bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)  # fmt: skip
    fig.tight_layout()
    return fig
