"""The forest plot of every method's estimates (§5.5–5.6.1), marking fits not to be trusted.

Posteriors are drawn as mean and 95% ETI, frequentist fits as the estimate and its
95% confidence interval, point estimates as diamonds; a fit that
:func:`freqbayes.inference.diagnostics.warnings` flags is hatched grey with its reason, never
drawn as an interval (issue 23).
"""

from __future__ import annotations

import textwrap
from typing import Any

import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from freqbayes.figures._style import (
    KIND_NAMES,
    UNTRUSTED,
    UNTRUSTED_HATCH,
    method_colour,
    styled,
)
from freqbayes.i18n import _, get_language


def _forest_rows(ax: Any, table: pd.DataFrame, params: list[str]) -> list[Any]:
    """Draw every method's estimate (and 95% interval when it has one) for ``params`` on ``ax``.

    A method whose ``warning`` column is non-empty (:func:`~.diagnostics.warnings`)
    is not drawn as an interval: its interval is a grey hatched box and its point an
    open grey marker, and its legend entry says why. A method with nothing finite to
    draw (NaN draws) gets only that legend entry. Returns the legend handles.
    """
    from matplotlib.patches import Patch

    methods = list(dict.fromkeys(table["method"]))
    step = 0.8 / len(methods)
    handles = []
    for i, method in enumerate(methods):
        rows = table[table["method"] == method].set_index("parameter").loc[params]
        y = np.arange(len(params))[::-1] + (len(methods) / 2 - i - 0.5) * step
        colour = method_colour(method)
        has_ci = rows["lo95"].notna().to_numpy()
        kind = str(rows["interval"].iloc[0])
        point = not has_ci.any()
        why = str(rows["warning"].iloc[0]) if "warning" in rows else ""
        why = "" if why == "nan" else why
        label = (
            _("{method} (point estimate)").format(method=method)
            if point
            else _("{method}: mean, 95% credible (ETI)").format(method=method)
            if kind == "eti"
            else _("{method}: estimate, 95% {kind} confidence interval").format(
                method=method, kind=_(KIND_NAMES.get(kind, kind))
            )
        )
        marker = "D" if point else "o" if kind == "eti" else "s"
        if why:
            drawn = np.isfinite(rows["estimate"].to_numpy(float)).any()
            said = (
                _("{method}: NOT TRUSTED, hatched ({why})")
                if drawn
                else _("{method}: NOT TRUSTED, not drawn ({why})")
            )
            width = 28 if get_language() == "ja" else 48  # a CJK character is two Latin wide
            label = textwrap.fill(
                said.format(method=method, why=why), width, subsequent_indent="  "
            )
            ax.barh(
                y[has_ci],
                (rows["hi95"] - rows["lo95"])[has_ci],
                left=rows["lo95"][has_ci],
                height=0.8 * step,
                facecolor="white",
                edgecolor=UNTRUSTED,
                hatch=UNTRUSTED_HATCH,
                lw=0.8,
                gid=f"untrusted-{method}",
            )
            ax.plot(rows["estimate"], y, marker, mfc="white", mec=UNTRUSTED, ms=5)
            handles.append(
                Patch(facecolor="white", edgecolor=UNTRUSTED, hatch=UNTRUSTED_HATCH, label=label)
            )
            continue
        ax.hlines(y[has_ci], rows["lo95"][has_ci], rows["hi95"][has_ci], color=colour, lw=2)
        (line,) = ax.plot(rows["estimate"], y, marker, color=colour, ms=5, label=label)
        handles.append(line)
    ax.set(yticks=np.arange(len(params))[::-1], yticklabels=params)
    return handles


#: Parameters share one axis while their narrowest interval is at least 1/SHARED_SPAN of it.
SHARED_SPAN = 20.0


def one_axis(table: pd.DataFrame) -> bool:
    """Whether :func:`forest` should draw every parameter on one shared axis.

    Yes while each parameter's widest 95% interval spans at least 1/:data:`SHARED_SPAN`
    of the whole axis (standardised coefficients); no when the scales differ (raw units:
    an intercept of 1000 beside slopes of 20, or μ beside σ), which then get an axis each.
    """
    lo = table[["lo95", "estimate"]].min(axis=1).min()
    hi = table[["hi95", "estimate"]].max(axis=1).max()
    width = (table["hi95"] - table["lo95"]).groupby(table["parameter"]).max().dropna()
    span = hi - lo
    return bool(width.empty or not span > 0 or width.min() * SHARED_SPAN >= span)


@styled
def forest(table: pd.DataFrame, title: str, xlabel: str, shared: bool = True) -> Figure:
    """Forest plot of :func:`freqbayes.lessons.summary_table`.

    Posteriors are drawn as mean and 95% ETI (circles), frequentist fits as the
    estimate and its 95% confidence interval (squares), point estimates as diamonds.
    A method with a non-empty ``warning`` column is drawn grey and hatched, its reason
    in the legend, never as an interval.
    ``shared=False`` gives each parameter its own axis (for different scales).
    """
    params = list(dict.fromkeys(table["parameter"]))
    n_methods = table["method"].nunique()
    if shared:
        fig, ax = plt.subplots(figsize=(10, max(3.0, 1.0 + 0.09 * len(params) * n_methods)))
        handles = _forest_rows(ax, table, params)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(6))
        ax.axvline(0, color="grey", lw=0.6)
        ax.set(xlabel=xlabel, title=title)
        ax.legend(handles=handles, fontsize=10, loc="center left", bbox_to_anchor=(1.01, 0.5))
    else:
        fig, axes = plt.subplots(
            len(params), 1, figsize=(10, max(3.0, 0.7 + 0.2 * len(params) * n_methods))
        )
        handles = [
            _forest_rows(ax, table, [p]) for ax, p in zip(np.atleast_1d(axes), params, strict=True)
        ]
        np.atleast_1d(axes)[0].set_title(title)
        np.atleast_1d(axes)[-1].set_xlabel(xlabel)
        np.atleast_1d(axes)[0].legend(
            handles=handles[0], fontsize=10, loc="upper left", bbox_to_anchor=(1.01, 1.0)
        )
    for ax in np.atleast_1d(fig.axes):
        ax.tick_params(labelsize=10)
    fig.tight_layout()
    return fig
