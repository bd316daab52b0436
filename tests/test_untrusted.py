"""Issue 23: a fit not to be trusted is marked wherever it is shown, by one rule.

The rule is :func:`freqbayes.inference.diagnostics.warnings` (non-finite draws, r̂ > 1.01, bulk ESS
below 100 per chain, divergences, ...); tables grey its rows, forest plots hatch it,
the report's prose names it with its reason. Fits are built by hand: an ok posterior
(independent draws), one whose chains disagree, one with a chain of NaN.
"""

from __future__ import annotations

import html

import matplotlib
import numpy as np
import pandas as pd
import xarray as xr

from freqbayes import figures as F
from freqbayes import saved
from freqbayes.figures._style import UNTRUSTED
from freqbayes.inference.diagnostics import caveat, warnings
from freqbayes.showcase.report import Section, html_table, render
from freqbayes.summaries import summary_table

matplotlib.use("Agg")


def _fit(kind: str, seed: int = 0) -> xr.DataTree:
    """A posterior of mu and beta[2] in 4 chains of 500 draws: 'ok', 'r_hat' or 'nan'."""
    rng = np.random.default_rng(seed)
    mu = rng.normal(1.0, 0.1, (4, 500))
    beta = rng.normal(0.0, 1.0, (4, 500, 2))
    if kind == "r_hat":
        mu[1] += 0.5  # one chain elsewhere: r̂ near 1.8
    if kind == "nan":
        mu[2], beta[2] = np.nan, np.nan
    post = xr.Dataset(
        {
            "mu": (("chain", "draw"), mu),
            "beta": (("chain", "draw", "feature"), beta),
        },
        coords={"chain": np.arange(4), "draw": np.arange(500), "feature": ["a", "b"]},
    )
    observed = xr.Dataset({"y": (("obs",), rng.normal(size=20))})
    tree = xr.DataTree.from_dict({"posterior": post, "observed_data": observed})
    tree.attrs.update(
        model="toy", method=f"toy-{kind}", dataset="toy", n_obs=20, seed=seed, wall_time_s=0.1
    )
    return tree


FITS = {"ok": _fit("ok"), "r_hat": _fit("r_hat"), "nan": _fit("nan")}


def test_warnings_name_a_chain_of_nan_and_disagreeing_chains():
    assert warnings(FITS["ok"]) == [] and caveat(FITS["ok"]) == ""
    (nan,) = warnings(FITS["nan"])
    assert nan.startswith("non-finite draws (NaN or inf) in 1 of 4 chains, chain 2 (500 of 500)")
    assert caveat(FITS["nan"]) == nan.split(": ")[0]
    assert any(line.startswith("r̂ up to 1.") for line in warnings(FITS["r_hat"]))


def test_the_reasons_are_in_the_readers_language():
    from freqbayes.i18n import language

    with language("ja"):
        (nan,) = warnings(FITS["nan"])
        short = caveat(FITS["nan"])
        disagree = caveat(FITS["r_hat"])
    assert (
        nan.startswith("4 本中 1 本の連鎖に非有限のドロー") and "連鎖 2（500 個中 500 個）" in nan
    )
    assert short == nan.split(": ")[0] and "推定に失敗した" not in short
    assert disagree.startswith("r̂ が最大 1.")


def test_independent_draws_are_not_judged_as_markov_chains():
    """Laplace, SVI and Wald draws are independent: r̂ and ESS say nothing of them (a small
    quick-run sample gave r̂ 1.013-1.034 by chance), while NaN still marks them."""
    for kind in ("r_hat", "nan"):
        tree = _fit(kind)
        tree.attrs["independent_draws"] = 1
        assert not any(line.startswith("r̂") for line in warnings(tree)), kind
    assert warnings(tree)[0].startswith("non-finite draws")


def _table() -> pd.DataFrame:
    table = summary_table(FITS)
    return table.assign(warning=table["method"].map({k: caveat(t) for k, t in FITS.items()}))


def test_the_forest_hatches_untrusted_fits_and_draws_the_ok_one():
    fig = F.forest(_table(), "toy", "value")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    ok, r_hat, nan = labels
    assert ok == "ok: mean, 95% credible (ETI)"
    assert r_hat.replace("\n", " ").startswith("r_hat: NOT TRUSTED, hatched (r̂ up to 1.")
    assert nan.replace("\n", " ").startswith("nan: NOT TRUSTED, not drawn (non-finite draws")
    hatched = {p.get_gid() for p in ax.patches if p.get_hatch()}
    assert hatched == {"untrusted-r_hat"}  # the NaN fit has nothing finite to hatch
    # solid intervals: only the ok fit's three (mu, beta[a], beta[b])
    solid = [c for c in ax.collections if len(c.get_segments())]
    assert sum(len(c.get_segments()) for c in solid) == 3
    np.testing.assert_allclose(
        solid[0].get_colors()[0], matplotlib.colors.to_rgba(F.method_colour("ok"))
    )
    matplotlib.pyplot.close(fig)


def test_tables_grey_untrusted_rows_and_the_page_names_them(tmp_path):
    table = _table()
    page = html_table(table)
    assert page.count("<tr class='flagged'>") == 6  # 3 parameters each of r_hat and nan
    assert page.count("<tr><td>") == 3
    table.to_csv(tmp_path / "t.csv", index=False)
    line = f"fits/nan.nc: {caveat(FITS['nan'])}"
    md, html = render(tmp_path, [Section("s", "S", "text", tables=["t.csv"], warnings=[line])],
                      title="t", intro="i")  # fmt: skip
    assert "<p class='warn'>⚠ <b>Not to be trusted:</b> fits/nan.nc: non-finite" in (
        html.read_text()
    )
    assert "> ⚠ **Not to be trusted:** fits/nan.nc" in md.read_text()


def test_the_saved_fit_report_marks_untrusted_fits_and_not_the_ok_one(tmp_path, monkeypatch):
    stamped = []
    original = F.stamp
    monkeypatch.setattr(
        F, "stamp", lambda fig, c: (stamped.append((dict(c), fig)), original(fig, c))
    )
    page = saved.report(FITS, tmp_path).read_text()
    sections = {k: page.split(f"<h2 id='{k}'>")[1].split("<h2")[0] for k in (*FITS, "side-by-side")}
    assert "class='warn'" not in sections["ok"] and "class='flagged'" not in sections["ok"]
    for name in ("r_hat", "nan"):
        assert "<p class='warn'>⚠ <b>Not to be trusted:</b>" in sections[name], name
        assert "<tr class='flagged'>" in sections[name] and "<tr><td>" not in sections[name], name
        assert html.escape(f"{name}: {caveat(FITS[name])}") in sections["side-by-side"]
    forest = [(c, fig) for c, fig in stamped if len(c) == 2]  # side by side: both named
    assert forest and set(forest[0][0]) == {"r_hat", "nan"}
    assert all("ok" not in c for c, _ in stamped)
    legend = forest[0][1].axes[0].get_legend()  # the report's forest: untrusted fits hatched
    labels = [t.get_text().replace("\n", " ") for t in legend.get_texts()]
    assert labels[0] == "ok: mean, 95% credible (ETI)"
    assert labels[1].startswith("r_hat: NOT TRUSTED, hatched (r̂ up to 1.")
    assert labels[2].startswith("nan: NOT TRUSTED, not drawn (non-finite")
    hatched = [h for h in legend.legend_handles if getattr(h, "get_hatch", lambda: None)()]
    grey = matplotlib.colors.to_hex(UNTRUSTED)
    assert [matplotlib.colors.to_hex(h.get_edgecolor()) for h in hatched] == [grey, grey]


def test_a_table_read_back_greys_only_the_rows_with_a_reason(tmp_path):
    """An all-empty warning column reads back as floats (NaN), which the number format
    shows as "–": every row of every trusted table was hatched in the report (seen on
    the full run of 2026-12-04, all 18 rows of gaussian-methods.csv)."""
    from freqbayes.showcase.report import _flagged, _read

    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "ok.csv").write_text("method,estimate,warning\nmle,1.5,\nmap,1.4,\n")
    (tmp_path / "tables" / "one.csv").write_text(
        "method,estimate,warning\nmle,1.5,\nnuts,1.4,r̂ 1.2\n"
    )
    assert not _flagged(_read(tmp_path, "tables/ok.csv")).any()
    assert _flagged(_read(tmp_path, "tables/one.csv")).tolist() == [False, True]
