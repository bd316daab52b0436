"""Slide versions of the report's crowded figures: one figure per group, method, data set.

Small inputs (a toy forest table, fake SBC results, a fake SVM ↔ GP twin on an 8 × 8
grid): each version must fill a 16:9 slide, keep every text ≥ 18 pt there, draw one
figure per parameter group / method / data set, and in Japanese miss no glyph.
"""

from __future__ import annotations

import re
import warnings
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from freqbayes import lessons as L
from freqbayes.figures import slide_versions as SV
from freqbayes.figures._style import smallest_font
from freqbayes.figures.slides import MIN_SLIDE_PT, SLIDE_SIZE
from freqbayes.i18n import language

RNG = np.random.default_rng(0)
CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
COEFS = [f"beta[x{j}]" for j in range(8)]


def _forest_table() -> pd.DataFrame:
    """Three methods (one not trusted) on an intercept, σ and eight coefficients."""
    rows = [
        {
            "method": m,
            "parameter": p,
            "estimate": 0.1,
            "lo95": lo,
            "hi95": hi,
            "interval": kind,
            "warning": why,
        }
        for m, kind, lo, hi, why in (
            ("nuts", "eti", -1.0, 1.0, ""),
            ("wald", "wald", -1.0, 1.0, ""),
            ("sgld", "eti", -2.0, 2.0, "r̂ up to 1.8"),
        )
        for p in ("intercept", "sigma", *COEFS)
    ]
    return pd.DataFrame(rows)


def _calibration() -> dict:
    good = SimpleNamespace(
        ranks=pd.DataFrame({"mu": RNG.integers(0, 100, 50)}), draws=99, min_pvalue=0.5
    )
    bad = SimpleNamespace(
        ranks=pd.DataFrame({"mu": np.zeros(50, int), "sigma": RNG.integers(0, 100, 50)}),
        draws=99,
        min_pvalue=1e-9,
    )
    return {("gaussian", "nuts"): good, ("gaussian", "svi"): bad, ("linear", "nuts"): bad}


def _twin() -> L.GPTwin:
    gx, gy = np.meshgrid(np.linspace(-2, 2, 8), np.linspace(-2, 2, 8))
    names = ("circles", "moons")
    X = RNG.normal(size=(20, 2))
    data = {n: (X, (X.sum(axis=1) > 0).astype(int), None, None) for n in names}
    table = pd.DataFrame(
        {"data": names, "svm_test_accuracy": 0.9, "gp_nuts_test_accuracy": 0.85, "scale_s": 2.0}
    )
    return L.GPTwin(
        data,
        {n: (gx, gy) for n in names},
        {n: gx for n in names},
        {n: np.arange(3) for n in names},
        {n: (gx + 2) / 4 for n in names},
        {n: 1 + gy**2 for n in names},
        {n: gx > 1 for n in names},
        table,
        None,
    )


VERSIONS = {
    "forest_groups": lambda: SV.forest_groups(_forest_table(), "toy model", "value"),
    "calibration_by_method": lambda: list(SV.calibration_by_method(_calibration()).values()),
    "svm_gp_by_dataset": lambda: list(SV.svm_gp_by_dataset(_twin()).values()),
}


def test_parameter_groups_scalars_first_then_coefficients_by_at_most_six():
    groups = SV.parameter_groups(["intercept", *COEFS, "sigma"])
    assert groups == [["intercept", "sigma"], COEFS[:4], COEFS[4:]]
    assert SV.parameter_groups(["mu", "sigma"]) == [["mu", "sigma"]]
    assert [len(g) for g in SV.parameter_groups([f"b[{j}]" for j in range(13)])] == [5, 4, 4]
    assert SV.forest_slide_count(10) == 3 and SV.forest_slide_count(0) == 1


def _count_untrusted(fig: Figure) -> int:
    return sum(1 for a in fig.axes for p in a.patches if str(p.get_gid()).startswith("untrusted"))


def test_one_figure_per_group_method_and_data_set():
    forest = VERSIONS["forest_groups"]()
    # intercept and σ (an axis each), then the eight coefficients as 4 + 4
    assert [len(f.axes) for f in forest] == [2, 1, 1]
    assert [len(f.axes[0].get_yticks()) for f in forest[1:]] == [4, 4]
    # the fit not to be trusted is hatched, once per parameter, on every slide
    assert [_count_untrusted(f) for f in forest] == [2, 4, 4]
    methods = SV.calibration_by_method(_calibration())
    assert {k: len([a for a in f.axes if a.get_title()]) for k, f in methods.items()} == {
        "nuts": 2,  # gaussian, linear
        "svi": 1,
    }
    twins = SV.svm_gp_by_dataset(_twin())
    assert list(twins) == ["circles", "moons"]  # SVM, GP and its colour bar on each
    assert all(len(f.axes) == 3 for f in twins.values())
    plt.close("all")


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("name", sorted(VERSIONS))
def test_slide_size_fonts_and_glyphs(name, lang):
    with warnings.catch_warnings(), language(lang):
        warnings.filterwarnings("error", message="Glyph .* missing")
        figures = VERSIONS[name]()
        for fig in figures:
            assert tuple(fig.get_size_inches()) == pytest.approx(SLIDE_SIZE)
            assert SLIDE_SIZE[0] / SLIDE_SIZE[1] == pytest.approx(16 / 9, rel=1e-3)
            assert smallest_font(fig) >= MIN_SLIDE_PT, name
            texts = [t.get_text() for t in fig.findobj(Text) if t.get_visible()]
            assert bool(any(CJK.search(t) for t in texts)) == (lang == "ja"), texts
    plt.close("all")
