"""Partial pooling: the shrinkage plot of the groups' levels (:mod:`freqbayes.lessons.pooling`)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from freqbayes import lessons as L
from freqbayes.figures._style import BAYES, FREQ, TRUTH, styled
from freqbayes.i18n import _


@styled
def shrinkage(p: L.Pooling) -> Figure:
    """The shrinkage plot: no-pooling MLE → posterior mean per group; each estimate's error.

    Left: against the group's size, complete pooling as a line, REML's BLUPs beside and
    the simulation's truth. Right: each estimate's root mean squared error.
    """
    fig, (a, b) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [2.3, 1]})
    # spread groups of the same size a little, so that their arrows do not overlap
    x = p.sizes * np.exp(0.12 * (np.arange(len(p.sizes)) % 3 - 1))
    for xi, start, end in zip(x, p.no_pooling, p.partial_mean, strict=True):
        a.annotate(
            "", (xi, end), (xi, start), arrowprops={"arrowstyle": "->", "color": "0.55", "lw": 0.9}
        )
    a.plot(x, p.no_pooling, "o", color=FREQ, ms=6, label=_("no pooling: each group's own MLE"))
    a.plot(x, p.partial_mean, "o", color=BAYES, ms=6, label=_("partial pooling: posterior mean"))
    a.plot(x * 1.06, p.blup, "x", color="black", ms=6, label=_("REML mixed model: BLUP"))
    a.plot(x, p.truth, "_", color=TRUTH, ms=11, mew=1.5, label=_("truth (simulation)"))
    a.axhline(
        p.complete_pooling, color=FREQ, ls="--", lw=1.2, label=_("complete pooling: one level")
    )
    a.set(
        xscale="log",
        xlabel=_("observations in the group"),
        ylabel=_("group level (intercept)"),
        title=_("Small groups are pulled toward the common level"),
    )
    ticks = [t for t in (1, 2, 5, 10, 20, 50, 100, 200, 500) if t <= 1.3 * p.sizes.max()]
    a.set_xticks(ticks, [str(t) for t in ticks])
    a.minorticks_off()
    a.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, frameon=False)
    errors = p.errors()
    names = {
        "no_pooling": _("no pooling"),
        "complete_pooling": _("complete pooling"),
        "partial_pooling": _("partial pooling"),
        "reml_blup": _("REML BLUP"),
    }
    colours = [FREQ, FREQ, BAYES, "black"]
    bars = b.barh(list(names.values())[::-1], list(errors.values())[::-1], color=colours[::-1])
    for bar, value in zip(bars, list(errors.values())[::-1], strict=True):
        b.text(value, bar.get_y() + bar.get_height() / 2, f" {value:.3f}", va="center")
    b.set(
        xlabel=_("root mean squared error against the truth"),
        title=_("Error of each estimate over the groups"),
        xlim=(0, 1.25 * max(errors.values())),
    )
    fig.tight_layout()
    return fig
