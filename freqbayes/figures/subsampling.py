"""When the data do not fit: subsampling methods beside full-data NUTS (issue 27).

The numbers come from :mod:`freqbayes.showcase.subsampling` (its table and timings).
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from freqbayes.figures._style import method_colour, styled
from freqbayes.i18n import _


@styled
def subsampling_tradeoff(
    table: pd.DataFrame, seconds: Mapping[str, float], n: int, batch: int
) -> Figure:
    """Each method's posterior means ± sd on NUTS's scale, and the seconds each fit took.

    Left: per coefficient, (mean − NUTS mean) / NUTS sd with bars of ± the sd in NUTS
    sds; right: the wall time of each fit.
    ``table`` has columns method, parameter, mean, sd, sd_from_nuts (the mean's distance
    from NUTS's in NUTS sds); the sd is drawn in NUTS sds too.
    """
    methods = list(dict.fromkeys(table["method"]))
    params = list(dict.fromkeys(table["parameter"]))
    labels = {
        "nuts": _("NUTS, all {n} rows").format(n=f"{n:,}"),
        "hmcecs": _("HMCECS, {m} rows per step").format(m=f"{batch:,}"),
        "svi": _("plain minibatch SVI, {m} rows per step").format(m=f"{batch:,}"),
        "svi-cv": _("SVI with control variates, {m} rows per step").format(m=f"{batch:,}"),
    }
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.6), gridspec_kw={"width_ratios": [2.2, 1]})
    ref_sd = table[table["method"] == "nuts"].set_index("parameter")["sd"]
    a.axvspan(-0.1, 0.1, color="0.9", zorder=0, label=_("within 0.1 sd of NUTS"))
    a.axvline(0.0, color="0.6", lw=0.8, zorder=0)
    offsets = np.linspace(-0.22, 0.22, len(methods))
    for k, method in enumerate(methods):
        rows = table[table["method"] == method].set_index("parameter").loc[params]
        y = np.arange(len(params)) + offsets[k]
        width = rows["sd"].to_numpy() / ref_sd.loc[params].to_numpy()
        a.errorbar(
            rows["sd_from_nuts"],
            y,
            xerr=width,
            fmt="o",
            color=method_colour(method),
            ms=5,
            capsize=3,
            label=labels.get(method, method),
        )
    a.set_yticks(np.arange(len(params)), params)
    a.invert_yaxis()
    a.set(
        xlabel=_("(posterior mean − NUTS mean) / NUTS sd, bars ± one sd"),
        title=_("Posterior means ± sd, on NUTS's scale"),
    )
    a.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    names = [labels.get(m, m) for m in methods]
    values = [seconds[m] for m in methods]
    bars = b.barh(names[::-1], values[::-1], color=[method_colour(m) for m in methods][::-1])
    for bar, value in zip(bars, values[::-1], strict=True):
        b.text(value, bar.get_y() + bar.get_height() / 2, f" {value:.1f} s", va="center")
    b.set(
        xlabel=_("seconds (compilation included)"),
        title=_("Time taken"),
        xlim=(0, 1.3 * max(values)),
    )
    fig.tight_layout()
    return fig
