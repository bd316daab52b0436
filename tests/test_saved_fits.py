"""Saved fits from the command line: summary, compare, plot, predict, and the run options."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from freqbayes import saved
from freqbayes.cli import main


def _cli(*args: str, cwd) -> subprocess.CompletedProcess:
    """The installed command in a fresh process (stderr is not a terminal: no bars)."""
    return subprocess.run(
        [sys.executable, "-m", "freqbayes.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _in_process(*args: str, cwd, capsys, monkeypatch) -> tuple[int, str, str]:
    """``freqbayes ARGS`` run by :func:`main` in this process, in ``cwd``: (code, stdout,
    stderr). For what does not need a new process (a fresh one costs seconds of imports);
    an exception would fail the test rather than print a traceback."""
    monkeypatch.chdir(cwd)
    capsys.readouterr()
    code = main(list(args))
    seen = capsys.readouterr()
    return code, seen.out, seen.err


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """Raw units and a categorical: scores in the thousands, IQ near 100."""
    folder = tmp_path_factory.mktemp("saved")
    rng = np.random.default_rng(0)
    n = 200
    school = rng.choice(["north", "south", "west"], n)
    iq = rng.normal(100.0, 15.0, n)
    shift = np.select([school == "south", school == "west"], [300.0, -200.0], 0.0)
    score = 1000.0 + shift + 20.0 * iq + rng.normal(0.0, 50.0, n)
    pd.DataFrame({"score": score, "iq": iq, "school": school}).to_csv(
        folder / "scores.csv", index=False
    )
    return folder


@pytest.fixture(scope="module")
def fits(table):
    done = _cli(
        "run", "linear", "--data", "scores.csv", "--formula", "score ~ iq + C(school)",
        "--method", "nuts,laplace,map", "--chains", "2", "--draws", "500", "--warmup", "500",
        "--target-accept", "0.9", "--prior", "sigma=halfcauchy:100", "--out", "fits",
        cwd=table,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return table / "fits"


def test_run_options_reach_the_fit(fits):
    tree = saved.read_fit(fits / "linear-nuts.nc")
    settings = saved.settings(tree)
    assert (settings["num_chains"], settings["num_samples"]) == (2, 500)
    assert (settings["num_warmup"], settings["target_accept_prob"]) == (500, 0.9)
    assert "HalfCauchy(scale=100.0)" in tree.attrs["priors"]
    assert tree["prior"]["sigma"].shape == (1, 500)
    names = list(tree.posterior["beta"].coords["feature"].values)
    assert names == ["iq", "C(school)[T.south]", "C(school)[T.west]"]
    np.testing.assert_allclose(tree.posterior["beta"].mean(("chain", "draw")), [20, 300, -200],
                               rtol=0.1)  # fmt: skip


def test_summary_prints_diagnostics(fits, table, capsys, monkeypatch):
    code, out, err = _in_process(
        "summary", "fits/linear-nuts.nc", "fits/linear-map.nc",
        cwd=table, capsys=capsys, monkeypatch=monkeypatch,
    )  # fmt: skip
    assert code == 0, err
    for word in ("ess_bulk", "ess_tail", "r_hat", "mcse", "divergences", "max-tree-depth",
                 "acceptance rate", "== linear-map", "estimate"):  # fmt: skip
        assert word in out, word


def test_compare_ranks_posteriors_and_refuses_points(fits, table, capsys, monkeypatch):
    here = {"cwd": table, "capsys": capsys, "monkeypatch": monkeypatch}
    code, out, err = _in_process("compare", "fits/linear-nuts.nc", "fits/linear-laplace.nc", **here)
    assert code == 0, err
    assert "elpd_diff" in out and "linear-laplace" in out
    code, out, err = _in_process("compare", "fits/linear-nuts.nc", "fits/linear-map.nc", **here)
    assert code == 2
    assert err.count("\n") == 1 and "is a point estimate" in err


#: Runs the command line in a fresh interpreter, then prints its exit status and which of
#: JAX and NumPyro it really imported. ``import arviz_base`` leaves lazy placeholders named
#: ``jax`` and ``numpyro`` in ``sys.modules`` that load nothing until touched, so a module
#: that every real import loads at once stands for each.
LOADED = (
    "import json, sys\n"
    "from freqbayes.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "real = {'jax': 'jax._src', 'numpyro': 'numpyro.primitives', 'pandas': 'pandas.core',\n"
    "        'scipy.stats': 'scipy.stats'}\n"
    "loaded = sorted(k for k, v in real.items() if v in sys.modules)\n"
    "print(json.dumps({'code': code, 'loaded': loaded}))\n"
)


def loaded_by(*argv: str, cwd) -> list[str]:
    """Which of JAX, NumPyro, pandas and scipy.stats ``freqbayes ARGV`` imports (it must
    succeed)."""
    done = subprocess.run(
        [sys.executable, "-c", LOADED, *argv], cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["code"] == 0, done.stderr[-2000:]
    return result["loaded"]


@pytest.mark.parametrize(
    "argv",
    [
        ("compare", "fits/linear-nuts.nc", "fits/linear-laplace.nc"),
        ("plot", "fits/linear-nuts.nc", "--kind", "trace", "--out", "plots"),
        ("report", "fits/linear-nuts.nc", "fits/linear-map.nc", "--out", "report", "--lang", "ja"),
    ],
    ids=["compare", "plot", "report"],
)
def test_commands_on_saved_fits_import_neither_jax_nor_numpyro(fits, table, argv):
    """ArviZ computes on the stored arrays: nothing to compile, so no JAX to load.

    ``report`` draws the forest plot and every other kind a fit has, and in Japanese
    translates the names the lessons keep in English (:mod:`freqbayes.labels`);
    ``summary`` is checked below (nothing of SciPy's stats either).
    """
    loaded = loaded_by(*argv, cwd=table)
    assert not {"jax", "numpyro"} & set(loaded), loaded


def test_summary_of_fits_saved_by_run_needs_no_arviz_stats(fits, table):
    """The posterior's numbers stored by ``run`` are read, not computed: no SciPy's stats
    (with arviz_stats about 0.7 s of the 1.4 s the command took)."""
    argv = ("summary", "fits/linear-nuts.nc", "fits/linear-laplace.nc", "fits/linear-map.nc")
    assert loaded_by(*argv, cwd=table) == ["pandas"]


def test_stored_summary_numbers_are_those_computed_afresh(fits):
    """Bit for bit, and only while the draws are the ones they were computed from."""
    from freqbayes.summaries import STORED, summary

    tree = saved.read_fit(fits / "linear-nuts.nc")
    assert STORED in tree.attrs
    stored = summary(tree)
    fresh = tree.copy()
    del fresh.attrs[STORED]
    pd.testing.assert_frame_equal(stored, summary(fresh), check_exact=True)
    assert stored.attrs == summary(fresh).attrs
    tree["posterior/sigma"] = tree["posterior/sigma"] * 2.0  # the draws changed since
    changed = summary(tree)
    assert changed.loc["sigma", "mean"] == pytest.approx(2.0 * stored.loc["sigma", "mean"])
    assert changed.loc["beta[iq]", "mean"] == stored.loc["beta[iq]", "mean"]


def test_compare_is_arviz_compare_of_the_fits(fits):
    """PSIS-LOO computed once per fit and handed to ``az.compare``: its own table exactly."""
    import arviz_stats as az

    trees = {m: saved.read_fit(fits / f"linear-{m}.nc") for m in ("nuts", "laplace")}
    table, _lines = saved.compare(trees)
    pd.testing.assert_frame_equal(table, az.compare(trees, round_to="none"), check_exact=True)


@pytest.mark.parametrize("kind", ["trace", "rank", "pair", "ppc", "prior-posterior", "energy"])
def test_every_plot_kind_writes_a_figure(fits, tmp_path, kind):
    from matplotlib.image import imread

    trees = {"nuts": saved.read_fit(fits / "linear-nuts.nc")}
    (path,) = saved.plot(trees, kind, tmp_path)
    image = imread(path)
    assert image.shape[0] > 200 and image.std() > 0.01  # drawn, not blank


def test_forest_puts_fits_side_by_side(fits, tmp_path):
    trees = {m: saved.read_fit(fits / f"linear-{m}.nc") for m in ("nuts", "laplace", "map")}
    (path,) = saved.plot(trees, "forest", tmp_path)
    assert path.name == "forest.png" and path.stat().st_size > 10_000


def test_plot_errors_are_one_line(fits, table, capsys, monkeypatch):
    for args, message in [
        (("fits/linear-map.nc", "--kind", "trace"), "point estimate"),
        (("fits/linear-laplace.nc", "--kind", "energy"), "no sample_stats"),
        (("fits/linear-nuts.nc", "--kind", "violin"), "unknown 'violin'"),
        (("fits/manifest-linear.json",), "not a netCDF fit"),
    ]:
        code, _out, err = _in_process(
            "plot", *args, "--out", "plots", cwd=table, capsys=capsys, monkeypatch=monkeypatch
        )
        assert code == 2 and message in err, (args, err)
        assert "Traceback" not in err and err.count("\n") == 1


def test_predict_on_the_fitted_rows_matches_the_in_sample_predictive(fits, table):
    """Laplace draws are independent: each row's predictive mean agrees within 4.5 se."""
    from freqbayes.inference import predict

    tree = saved.read_fit(fits / "linear-laplace.nc")
    frame = pd.read_csv(table / "scores.csv")
    pred = predict(tree, frame, seed=1).posterior_predictive["score"]
    ref = tree.posterior_predictive["score"]
    n = ref.sizes["chain"] * ref.sizes["draw"]
    z = (pred.mean(("chain", "draw")) - ref.mean(("chain", "draw"))) / (
        ref.std(("chain", "draw")) * np.sqrt(2.0 / n)
    )
    assert float(np.abs(z).max()) < 4.5
    np.testing.assert_allclose(pred.std(("chain", "draw")), ref.std(("chain", "draw")), rtol=0.1)


def test_a_formula_naming_a_missing_column_is_one_line(table):
    done = _cli("run", "linear", "--data", "scores.csv", "--formula", "score ~ iq + height",
                "--method", "map", "--out", "bad", cwd=table)  # fmt: skip
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "formula:" in done.stderr and "height" in done.stderr
    assert not (table / "bad").exists() or not list((table / "bad").glob("*.nc"))


def test_predict_command_codes_new_rows_by_the_formula(fits, table, capsys, monkeypatch):
    here = {"cwd": table, "capsys": capsys, "monkeypatch": monkeypatch}
    pd.DataFrame({"iq": [100.0, 120.0], "school": ["south", "west"]}).to_csv(
        table / "new.csv", index=False
    )
    code, out, err = _in_process("predict", "fits/linear-laplace.nc", "--data", "new.csv", **here)
    assert code == 0, err
    rows = pd.read_csv(pd.io.common.StringIO(out))
    np.testing.assert_allclose(rows["mean"], [3300.0, 3200.0], rtol=0.01)
    assert (rows["sd"] > 40).all() and (rows["sd"] < 70).all()  # σ = 50 plus the fit's spread
    code, _out, err = _in_process(
        "predict", "fits/linear-laplace.nc", "--data", "new.csv", "--out", "p.nc", **here
    )
    assert code == 0, err
    back = xr.open_datatree(table / "p.nc", engine="h5netcdf")
    assert back["posterior_predictive"]["score"].shape[-1] == 2
    pd.DataFrame({"iq": [100.0], "school": ["east"]}).to_csv(table / "bad.csv", index=False)
    code, _out, err = _in_process("predict", "fits/linear-laplace.nc", "--data", "bad.csv", **here)
    assert code == 2 and "{'east'}" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "map", "--warmup", "5"], "--warmup applies to none of the methods map"),
        (["--method", "map", "--control-variates", "none"], "--control-variates applies to none"),
        (["--method", "svi", "--control-variates", "yes"], "invalid choice: 'yes'"),
        (["--method", "nuts", "--draws", "-3"], "must be a positive integer"),
        (["--method", "nuts", "--target-accept", "1.5"], "must be a number in (0, 1)"),
        (["--method", "map", "--prior", "beta=weibull:1"], "unknown family 'weibull'"),
        (["--method", "map", "--prior", "beta=normal:0"], "normal takes 2 number(s)"),
        (["--method", "map", "--prior", "tau=normal:0,1"], "has no prior 'tau_prior'"),
        (["--method", "map", "--prior", "sigma=normal:0,1"], "must be one of HalfNormal"),
        (["--method", "map", "--formula", "y ~ age"], "applies to a table"),
    ],
)
def test_bad_run_options_are_one_clear_line(args, message, capsys, tmp_path):
    try:
        code = main(["run", "linear", *args, "--out", str(tmp_path)])
    except SystemExit as stop:  # argparse's own type errors
        code = stop.code
    assert code == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.glob("*.nc"))
