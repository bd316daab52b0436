"""One forest plot: ``freqbayes plot --kind forest`` and the reports draw the report's own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from freqbayes import figures as F
from freqbayes import saved
from freqbayes.figures.forest import one_axis

from .test_untrusted import FITS


def test_the_command_lines_forest_is_the_reports(tmp_path, monkeypatch):
    """Not ArviZ's ``plot_forest``: :func:`freqbayes.figures.forest` of the fits' summary
    table, every fit a method of it (its intervals, point estimates and marks as in the
    showcase)."""
    import arviz_plots

    drawn = []
    original = F.forest
    monkeypatch.setattr(F, "forest", lambda t, *a, **k: (drawn.append(t), original(t, *a, **k))[1])
    monkeypatch.setattr(arviz_plots, "plot_forest", lambda *a, **k: pytest.fail("ArviZ's forest"))
    (path,) = saved.plot(FITS, "forest", tmp_path)
    assert path.name == "forest.png" and path.stat().st_size > 10_000
    (table,) = drawn
    assert list(dict.fromkeys(table["method"])) == list(FITS)
    assert table.loc[table["method"] == "ok", "warning"].eq("").all()
    assert table.loc[table["method"] != "ok", "warning"].str.len().gt(0).all()


def _table(estimates: dict[str, float], half_widths: dict[str, float]) -> pd.DataFrame:
    rows = [
        {"parameter": p, "method": "m", "estimate": e, "lo95": e - half_widths[p],
         "hi95": e + half_widths[p], "interval": "eti"}
        for p, e in estimates.items()
    ]  # fmt: skip
    return pd.DataFrame(rows)


def test_parameters_share_an_axis_only_on_one_scale():
    standardised = _table({"b1": 0.3, "b2": -0.5, "b0": 0.0}, {"b1": 0.1, "b2": 0.4, "b0": 0.07})
    assert one_axis(standardised)
    raw = _table({"intercept": 1000.0, "slope": 20.0}, {"intercept": 60.0, "slope": 2.0})
    assert not one_axis(raw)
    points = _table({"a": 1.0, "b": 500.0}, {"a": np.nan, "b": np.nan})
    assert one_axis(points)  # nothing to squash
