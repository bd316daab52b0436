"""Slide versions of the report's crowded figures: one point each, at the slide's full size.

The report keeps its overview figures (:func:`freqbayes.figures.forest`,
:func:`~freqbayes.figures.calibration`, :func:`~freqbayes.figures.svm_gp_twin`); these
split them: the forest plot by parameter group, the calibration grid by method, the
SVM ↔ GP twin by data set. Each figure fills a 16:9 slide (:data:`SLIDE_SIZE`) in the
slide style of :mod:`freqbayes.figures.slides` (no text below 18 pt there, legends
outside the data) and is drawn by the report's own panel functions, so that a slide
and the report never disagree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from freqbayes import lessons as L
from freqbayes.figures._style import label
from freqbayes.figures.forest import _forest_rows
from freqbayes.figures.learning import rank_histograms
from freqbayes.figures.slides import CLUSTER_COLOURS, SLIDE_SIZE, slide_styled
from freqbayes.figures.twins import gp_mean_panel, svm_panel
from freqbayes.i18n import _

#: At most this many coefficients on one forest slide.
CHUNK = 6
#: Colours of the parameters in the calibration slides (the same name, the same colour).
PARAMETER_COLOURS = CLUSTER_COLOURS


def _slide(nrows: int = 1, ncols: int = 1, **kw: Any) -> tuple[Figure, Any]:
    """A figure of the whole slide (:data:`SLIDE_SIZE`, constrained layout) and its axes."""
    return plt.subplots(nrows, ncols, figsize=SLIDE_SIZE, layout="constrained", **kw)


def parameter_groups(params: Sequence[str], chunk: int = CHUNK) -> list[list[str]]:
    """A forest plot's parameters in slide groups: the scalars, then the coefficients by ``chunk``.

    A coefficient is an indexed name (``beta[age]``); the others (intercept, σ, μ) come
    first, in one group. Coefficients come in the fewest groups of at most ``chunk``,
    of sizes as equal as possible (10 → 5 + 5, not 6 + 4).
    """
    scalars = [p for p in params if "[" not in p]
    coefs = [p for p in params if "[" in p]
    groups = [scalars] if scalars else []
    if coefs:
        parts = math.ceil(len(coefs) / chunk)
        groups += [list(part) for part in np.array_split(np.array(coefs, dtype=object), parts)]
    return groups


def forest_slide_count(n_coefficients: int, scalars: bool = True) -> int:
    """How many slides :func:`forest_groups` draws (for a stage's declared output count)."""
    return int(scalars) + math.ceil(n_coefficients / CHUNK)


@slide_styled
def forest_groups(table: pd.DataFrame, title: str, xlabel: str) -> list[Figure]:
    """The forest plot (:func:`freqbayes.figures.forest`) as slides, one per parameter group.

    Groups of :func:`parameter_groups`. The scalars (intercept, σ, μ: different scales)
    get an axis each; a group of coefficients shares one axis with 0 marked. Every
    method's interval is drawn by the report's own rows, a fit not to be trusted
    hatched grey with its reason in the legend, which stands right of the data.
    """
    params = list(dict.fromkeys(table["parameter"]))
    groups = parameter_groups(params)
    n_scalar_groups = int("[" not in groups[0][0])
    figures = []
    for g, group in enumerate(groups):
        scalars = "[" not in group[0]
        if scalars:
            fig, axes = _slide(len(group), 1)
            axes = np.atleast_1d(axes)
            handles = [_forest_rows(ax, table, [p]) for ax, p in zip(axes, group, strict=True)]
            handles = handles[0]  # the same methods on every axis
            heading = _("{title}: {parameters}").format(title=title, parameters=", ".join(group))
        else:
            fig, ax = _slide()
            axes = np.array([ax])
            handles = _forest_rows(ax, table, group)
            ax.axvline(0, color="grey", lw=1)
            parts = len(groups) - n_scalar_groups
            heading = (
                _("{title}: coefficients, part {part} of {parts}")
                if parts > 1
                else _("{title}: coefficients")
            ).format(title=title, part=g + 1 - n_scalar_groups, parts=parts)
        for ax in axes:
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(5))
            for line in ax.lines:  # the report's markers and whiskers, made visible from afar
                line.set_markersize(8)
            for coll in ax.collections:
                coll.set_linewidth(3)
        axes[-1].set_xlabel(xlabel)
        fig.suptitle(heading)
        fig.legend(handles=handles, loc="outside right center", frameon=False)
        figures.append(fig)
    return figures


@slide_styled
def calibration_by_method(
    results: Mapping[tuple[str, str], Any], level: float = 0.99
) -> dict[str, Figure]:
    """The calibration grid (:func:`freqbayes.figures.calibration`) as one slide per method.

    A slide holds the method's rank histograms on every model it applies to, side by
    side, each titled with its verdict (red when rejected); a parameter keeps its colour
    on every slide, named in one legend below the panels. Returns method → figure.
    """
    methods = list(dict.fromkeys(k for _m, k in results))
    names = list(dict.fromkeys(p for res in results.values() for p in res.ranks))
    colours = {p: PARAMETER_COLOURS[i % len(PARAMETER_COLOURS)] for i, p in enumerate(names)}
    figures = {}
    for method in methods:
        models = [m for m, k in results if k == method]
        fig, axes = _slide(1, len(models), squeeze=False, sharey=True)
        for ax, model in zip(axes[0], models, strict=True):
            res = results[(model, method)]
            rank_histograms(ax, res, level, lw=3, colours=colours)
            worst = res.min_pvalue
            verdict = _("calibrated") if worst >= 1e-3 else _("MISCALIBRATED")
            ax.set_title(
                _("{model}\n{verdict}\nmin p = {p:.0e}").format(
                    model=model, verdict=verdict, p=worst
                ),
                color="black" if worst >= 1e-3 else "#b2182b",
            )
            ax.set(xticks=[0, 5, 10], xticklabels=["0", "S/2", "S"], yticks=[])
        axes[0, 0].set_ylabel(_("data sets per bin"))
        axes[0, 0].autoscale_view()  # over every panel (shared y), then from 0
        axes[0, 0].set_ylim(bottom=0)
        shown = [p for p in names if any(p in results[(m, method)].ranks for m in models)]
        handles = [Line2D([], [], color=colours[p], lw=3, label=p) for p in shown]
        fig.legend(handles=handles, loc="outside lower center", ncols=len(shown), frameon=False)
        fig.suptitle(
            _("{method}: rank of the true value among {draws} posterior draws").format(
                method=method, draws=next(results[(m, method)].draws for m in models)
            )
        )
        figures[method] = fig
    return figures


@slide_styled
def svm_gp_by_dataset(twin: L.GPTwin) -> dict[str, Figure]:
    """The SVM ↔ GP twin (:func:`freqbayes.figures.svm_gp_twin`) as one slide per data set.

    Left the RBF SVM (regions of f, margins |f| = 1, support vectors circled), right the
    GP classifier's posterior mean of p(y = 1 | x) with the same kernel, each titled with
    its test accuracy. The GP's sd panel stays in the report. Returns data set → figure.
    """
    table = twin.table.set_index("data")
    handles = [
        Line2D([], [], color="black", lw=3, label=_("boundary: f = 0, p = ½")),
        Line2D([], [], color="black", lw=2, ls="--", label=_("margins |f| = 1")),
        Line2D(
            [], [], ls="", marker="o", ms=14, mfc="none", mec="black", label=_("support vectors")
        ),
    ]
    figures = {}
    for name in twin.data:
        row = table.loc[name]
        fig, (left, right) = _slide(1, 2)
        svm_panel(left, twin, name, scale=2.5)
        left.set(title=_("RBF SVM: test accuracy {accuracy:.1%}").format(
            accuracy=row["svm_test_accuracy"]), xticks=[], yticks=[])  # fmt: skip
        gp_mean_panel(fig, right, twin, name, scale=2.5)
        right.set(title=_("GP classifier: test accuracy {accuracy:.1%}").format(
            accuracy=row["gp_nuts_test_accuracy"]), xticks=[], yticks=[])  # fmt: skip
        fig.suptitle(
            _("{data}: the same kernel, margins against probabilities").format(data=label(name))
        )
        fig.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False)
        figures[name] = fig
    return figures
