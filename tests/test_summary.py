"""One fit, one set of numbers: ``freqbayes.summary`` and how every number is printed.

``freqbayes run``, ``freqbayes summary`` and ``freqbayes.summary(tree)`` give the
same numbers for a fit (the printed ones are :func:`format_summary` of it); a Wald
fit's z and p are statsmodels'; every number is rounded by its own uncertainty; a
summary is computed in float64 whatever the draws' type.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import freqbayes
from freqbayes import cli, saved
from freqbayes.inference import fit
from freqbayes.models.dataset import Dataset
from freqbayes.rounding import HI, LO, format_number, format_summary, format_table
from freqbayes.summaries import summary_table


def printed_rows(text: str, method: str, width: int) -> dict[str, list[str]]:
    """The rows of the ``width``-column table printed under ``-- method:``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"-- {method}:"))
    rows = {}
    for line in lines[start + 2 :]:
        cells = line.split()
        if len(cells) != width + 1:
            break
        rows[cells[0]] = cells[1:]
    return rows


def test_run_summary_and_python_give_the_same_numbers(tmp_path, capsys):
    from freqbayes.models import data as D

    data = D.iris_setosa()
    out = tmp_path / "fits"
    settings = {"wald": {"num_chains": 2, "num_samples": 200}, "bootstrap": {"num_replicates": 100}}
    cli.run_model("gaussian", ["wald", "bootstrap"], data, 0, out, False, settings=settings)
    run_text = capsys.readouterr().out
    paths = [str(out / f"gaussian-{m}.nc") for m in ("wald", "bootstrap")]
    assert cli.main(["summary", *paths]) == 0
    summary_text = capsys.readouterr().out
    for method, path in zip(("wald", "bootstrap"), paths, strict=True):
        table = freqbayes.summary(saved.read_fit(path))
        expected = {k: list(v) for k, v in format_summary(table).iterrows()}
        width = len(table.columns)
        assert printed_rows(run_text, method, width) == expected, run_text
        assert printed_rows(summary_text, method, width) == expected, summary_text
        assert "r̂" not in run_text  # no r̂ of independent draws, no false warning
        # θ̂ and the fit's own interval, not the mean and ETI of its draws
        ci = saved.read_fit(path)["confidence_interval"]
        kind = "wald" if method == "wald" else "bca"
        assert table.attrs["interval"] == kind
        assert f"95% {'Wald' if kind == 'wald' else 'bootstrap BCa'} interval" in run_text
        lo = ci["mu"].sel(interval=kind, bound="lower")
        assert table.loc["mu", LO] == pytest.approx(float(lo), rel=1e-12)
    # the reports' long table holds the same numbers
    trees = {m: saved.read_fit(p) for m, p in zip(("wald", "bootstrap"), paths, strict=True)}
    long = summary_table(trees).set_index(["method", "parameter"])
    assert (
        long.loc[("bootstrap", "mu"), "lo95"] == freqbayes.summary(trees["bootstrap"]).loc["mu", LO]
    )
    assert np.isnan(long.loc[("bootstrap", "mu"), "eti95_lo"])  # the percentile interval: not shown


@pytest.mark.parametrize("model", ["linear", "logistic"])
def test_wald_z_and_p_are_statsmodels_x64(model):
    import statsmodels.api as sm

    rng = np.random.default_rng(3)
    n = 300
    X = np.column_stack([rng.normal(100, 15, n), rng.normal(50, 10, n)])
    if model == "linear":
        y = 2000 + 3 * X[:, 0] - 2 * X[:, 1] + rng.normal(0, 300, n)
    else:
        y = (
            rng.random(n) < 1 / (1 + np.exp(-(0.03 * (X[:, 0] - 100) - 0.05 * (X[:, 1] - 50))))
        ) * 1
    data = Dataset("raw", y.astype(float), X, ("a", "b"))
    tree = fit(model, data, "wald", seed=0, num_chains=1, num_samples=10)
    design = sm.add_constant(X)
    if model == "linear":  # the MLE's σ̂² = RSS/n, normal reference: "fixed scale" without t
        ols = sm.OLS(y, design).fit()
        ref = sm.OLS(y, design).fit(
            cov_type="fixed scale", cov_kwds={"scale": ols.ssr / n}, use_t=False
        )
    else:
        ref = sm.Logit(y, design).fit(disp=0)
    refs = {"wald": ref}
    if model == "linear":  # White's HC0 for the sandwich interval
        refs["sandwich"] = sm.OLS(y, design).fit(cov_type="HC0", use_t=False)
    for kind, ref in refs.items():
        got = freqbayes.summary(tree, interval=kind).loc[["intercept", "beta[a]", "beta[b]"]]
        ci = np.asarray(ref.conf_int())
        for column, expected in (
            ("coef", ref.params),
            ("std err", ref.bse),
            ("z", ref.tvalues),
            ("P>|z|", ref.pvalues),
            (LO, ci[:, 0]),
            (HI, ci[:, 1]),
        ):
            np.testing.assert_allclose(got[column], expected, rtol=1e-6, err_msg=(kind, column))
    if model == "linear":  # σ > 0: no test of σ = 0 (statsmodels shows none for its scale)
        row = freqbayes.summary(tree).loc["sigma"]
        assert np.isnan(row["z"]) and np.isnan(row["P>|z|"]) and row["std err"] > 0


@pytest.mark.parametrize(
    ("value", "uncertainty", "text"),
    [
        (0.48462, 0.00653, "0.485"),  # se/10 of a se 0.0653: the se to two figures
        (0.4836, 2 * 0.0021, "0.484"),  # 2 × MCSE
        (-2.05123, 0.002, "-2.051"),  # the gravitation exponent, not "-2"
        (-1.99987, 0.0004, "-1.9999"),
        (123456.0, 200.0, "123500"),
        (1.000123e30, 2e26, "1.0001e+30"),
        (-3.2e-12, 1e-15, "-3.200e-12"),
        (-0.0001, 0.01, "0.00"),
        (5.0, float("nan"), "5"),
        (0.348947, 0.0, "0.348947"),
        (float("inf"), 0.1, "inf"),
    ],
)
def test_numbers_are_rounded_by_their_uncertainty(value, uncertainty, text):
    assert format_number(value, uncertainty) == text


def test_report_tables_round_by_uncertainty():
    import pandas as pd

    df = pd.DataFrame(
        {
            "parameter": ["beta[r]", "beta[r]"],
            "method": ["nuts", "wald"],
            "estimate": [-2.0512, -2.0509],
            "sd": [0.0181, np.nan],
            "std_err": [np.nan, 0.0179],
            "mcse": [0.0004, np.nan],
            "lo95": [-2.0871, -2.0860],
            "hi95": [-2.0157, -2.0158],
            "mcse_lo95": [0.0011, np.nan],
            "mcse_hi95": [0.0009, np.nan],
        }
    )
    cells = format_table(df)
    assert list(cells["lo95"]) == ["-2.087", "-2.086"] and list(cells["hi95"]) == ["-2.016"] * 2
    assert list(cells["estimate"]) == ["-2.0512", "-2.051"]
    # a narrow interval: az.summary's 2 figures print it "-2, -2", four figures too
    narrow = df.iloc[:1].assign(lo95=-2.00031, hi95=-1.99962, mcse_lo95=1e-4, mcse_hi95=1e-4)
    cells = format_table(narrow)
    assert (cells["lo95"].iloc[0], cells["hi95"].iloc[0]) == ("-2.0003", "-1.9996")
    assert (f"{-2.00031:.4g}", f"{-1.99962:.4g}") == ("-2", "-2")


def test_summary_is_float64_for_draws_near_1e30():
    rng = np.random.default_rng(0)
    draws = (1e30 * (1 + 1e-3 * rng.standard_normal((4, 500)))).astype(np.float32)
    tree = xr.DataTree.from_dict(
        {"posterior": xr.Dataset({"mu": (("chain", "draw"), draws)})},
    )
    tree.attrs.update(method="nuts", wall_time_s=0.0)
    table = freqbayes.summary(tree)
    x = draws.astype(np.float64)
    assert table.loc["mu", "mean"] == pytest.approx(x.mean(), rel=1e-12)
    assert table.loc["mu", "sd"] == pytest.approx(x.std(ddof=1), rel=1e-9)
    assert 0 < table.loc["mu", "mcse"] < np.inf
    row = summary_table({"nuts": tree}).iloc[0]
    assert row["sd"] == pytest.approx(x.std(ddof=1), rel=1e-9) and np.isfinite(row["mcse"])
    assert format_summary(table).loc["mu", "sd"].startswith("1.0")


def posterior_tree(draws: np.ndarray, diverging: np.ndarray | None = None) -> xr.DataTree:
    """A fit of one parameter with the given (chain, draw) draws."""
    groups = {"posterior": xr.Dataset({"mu": (("chain", "draw"), draws)})}
    if diverging is not None:
        groups["sample_stats"] = xr.Dataset({"diverging": (("chain", "draw"), diverging)})
    tree = xr.DataTree.from_dict(groups)
    tree.attrs.update(method="nuts", wall_time_s=0.0)
    return tree


def test_unusable_draws_are_named():
    from freqbayes.inference.diagnostics import unusable

    rng = np.random.default_rng(1)
    good = rng.standard_normal((4, 400))
    assert unusable(posterior_tree(good, np.zeros((4, 400), bool))) == []
    apart = good + np.arange(4)[:, None]  # chains centred 1 sd apart: r̂ about 1.8
    assert any(w.startswith("r̂") for w in unusable(posterior_tree(apart)))
    diverging = rng.random((4, 400)) < 0.15
    assert unusable(posterior_tree(good, diverging)) == [
        f"{diverging.sum()} of 1600 transitions divergent (> 10%)"
    ]
    assert unusable(posterior_tree(good, rng.random((4, 400)) < 0.05)) == []
    broken = good.copy()
    broken[1] = np.nan  # one chain entirely NaN
    assert unusable(posterior_tree(broken))[0] == "400 non-finite draws"


def test_unusable_draws_exit_3_unless_allowed(tmp_path, capsys):
    # NUTS on data in units of 1e30 and 1e-30: the slope (1e60) overflows float32
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, 50)
    y = 1e30 * (2 + 0.5 * x + rng.normal(0, 1, 50))
    rows = "\n".join(f"{a * 1e-30!r},{b!r}" for a, b in zip(x.tolist(), y.tolist(), strict=True))
    (tmp_path / "big.csv").write_text("x,y\n" + rows + "\n")
    argv = ["run", "linear", "--data", str(tmp_path / "big.csv"), "--method", "nuts"]
    argv += ["--chains", "2", "--draws", "50", "--warmup", "50", "--out", str(tmp_path / "o")]
    assert cli.main(argv) == cli.EXIT_UNUSABLE == 3
    err = capsys.readouterr().err
    assert "linear/nuts: unusable draws: " in err and "RuntimeWarning" not in err
    manifest = (tmp_path / "o" / "manifest-linear.json").read_text()
    assert '"status": "unusable"' in manifest and (tmp_path / "o" / "linear-nuts.nc").exists()
    assert cli.main([*argv, "--allow-unconverged"]) == 0
