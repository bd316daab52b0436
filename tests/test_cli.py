"""The command line: help without JAX, saved fits, errors, and no half-written files."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import xarray as xr

from freqbayes import cli
from freqbayes._io import write_datatree

from .conftest import ROOT, write_csv


def test_help_does_not_import_jax():
    code = (
        "import sys\n"
        "from freqbayes.cli import main\n"
        "try:\n    main(['run', '--help'])\n"
        "except SystemExit:\n    pass\n"
        "assert 'jax' not in sys.modules, 'jax imported'\n"
        "assert 'numpyro' not in sys.modules, 'numpyro imported'\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "--method" in out.stdout


def test_list(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("gaussian", "linear", "logistic", "nuts", "laplace", "breast-cancer"):
        assert name in out


def test_list_imports_neither_jax_nor_numpyro_nor_pandas():
    """``freqbayes list`` answers from the light catalogue, checked against the registries
    in ``test_catalogue_matches_the_registries``."""
    from .test_saved_fits import loaded_by

    assert loaded_by("list", cwd=ROOT) == []


def test_listing_matches_the_registries():
    """The light table ``freqbayes list`` prints is what the declarations say, and
    each model lists the methods that apply to it (mixture: nuts, em)."""
    from freqbayes import listing

    assert listing.from_registries() == listing.BUILTIN, (
        "freqbayes/listing.py is stale: paste the output of `python -m freqbayes.listing`"
    )
    assert listing.current() is listing.BUILTIN
    assert listing.BUILTIN["models"]["mixture"][2] == "nuts em"


def test_list_reads_a_model_registered_at_run_time(capsys):
    from freqbayes import listing
    from freqbayes.models.registry import MODELS, register_model

    model = dataclasses.replace(MODELS.get("poisson"), name="poisson2", about="a copy")
    register_model(model)
    try:
        assert cli.main(["list"]) == 0
        out = capsys.readouterr().out
        assert "poisson2      a copy [default data: its own]" in out
        assert listing.current() is not listing.BUILTIN
    finally:
        MODELS.unregister("poisson2")
    assert listing.current() is listing.BUILTIN


def test_run_saves_netcdf_that_reads_back(tmp_path, capsys):
    assert cli.main(["run", "gaussian", "--method", "mle,map", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "== gaussian on iris-setosa (n = 50)" in out
    assert "priors: mu ~ N(" in out
    assert {p.name for p in tmp_path.iterdir()} == {
        "gaussian-mle.nc",
        "gaussian-map.nc",
        "manifest-gaussian.json",
    }
    tree = xr.open_datatree(tmp_path / "gaussian-mle.nc", engine="h5netcdf")
    assert tree.attrs["method"] == "mle"
    from freqbayes.models import gaussian
    from freqbayes.models.data import iris_setosa

    fit = gaussian.mle(iris_setosa().y)
    assert float(tree.posterior["mu"][0, 0]) == pytest.approx(fit.mu, rel=1e-5)
    # float32 optimisation here; the x64 tests check 1e-6
    assert float(tree.posterior["sigma"][0, 0]) ** 2 == pytest.approx(fit.var, rel=1e-3)


def test_run_on_csv_and_separation_is_reported(tmp_path, capsys):
    csv = tmp_path / "sep.csv"
    x = np.linspace(-2, 2, 20)
    rows = "\n".join(f"{v:.3f},{int(v > 0)}" for v in x)
    csv.write_text("x,y\n" + rows + "\n")
    out_dir = tmp_path / "out"
    code = cli.main(
        ["run", "logistic", "--method", "mle,map", "--data", str(csv), "--out", str(out_dir)]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert "logistic/mle: no estimate: logistic MLE does not exist" in captured.err
    assert {p.name for p in out_dir.iterdir()} == {"logistic-map.nc", "manifest-logistic.json"}
    manifest = json.loads((out_dir / "manifest-logistic.json").read_text())
    assert manifest["methods"]["mle"]["status"] == "no estimate"
    assert manifest["methods"]["map"] == {"status": "ok", "file": "logistic-map.nc"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "lasso"], "model: unknown model 'lasso'"),
        (["run", "gaussian", "--method", "gibbs"], "method: unknown ['gibbs']"),
        (["run", "linear", "--data", "mnist"], "data: unknown dataset 'mnist'"),
    ],
)
def test_errors_are_clear_and_write_nothing(tmp_path, capsys, argv, message):
    assert cli.main([*argv, "--out", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_bad_labels_in_csv_write_nothing(tmp_path, capsys):
    csv = tmp_path / "bad.csv"
    csv.write_text("x,y\n1,0\n2,3\n")
    assert cli.main(["run", "logistic", "--data", str(csv), "--out", str(tmp_path / "o")]) == 2
    assert "y must hold labels in {0, 1}" in capsys.readouterr().err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_failed_write_leaves_no_partial_file(tmp_path):
    class Exploding:
        subtree = ()

        def to_netcdf(self, path, engine=None, encoding=None):
            with open(path, "wb") as fh:
                fh.write(b"half a file")
            raise OSError("disk full")

    target = tmp_path / "fit.nc"
    with pytest.raises(OSError, match="disk full"):
        write_datatree(Exploding(), target)
    assert list(tmp_path.iterdir()) == []


def test_numpyro_is_loaded_whole_when_arviz_is_imported_first():
    """arviz_base loads NumPyro lazily; a first import of numpyro.optim then ran it twice."""
    code = (
        "import arviz, sys\n"
        "assert type(sys.modules['numpyro']).__name__ == '_LazyModule'\n"
        "import freqbayes.models._numpyro\n"
        "import numpyro.optim, numpyro.infer.svi\n"
        "assert numpyro.infer.svi._NumPyroOptim is numpyro.optim._NumPyroOptim\n"
        "from freqbayes import data\n"
        "from freqbayes.inference import svi\n"
        "svi('gaussian', data.iris_setosa(), num_steps=10, num_chains=1, num_samples=5)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    # Both probabilistic subpackages import the guard before anything that imports NumPyro.
    for init in ("models/probabilistic/__init__.py", "inference/probabilistic/__init__.py"):
        text = (ROOT / init).read_text()
        first = next(
            line
            for line in text.splitlines()
            if line.startswith(("import freqbayes", "from freqbayes"))
        )
        assert first.startswith("import freqbayes.models._numpyro"), (init, first)


def test_help_lists_the_registered_models_without_jax():
    """No hand-kept mirror: the names come from the registry, which imports nothing heavy."""
    from freqbayes.models.registry import MODELS

    code = (
        "import sys\n"
        "from freqbayes.cli import main\n"
        "try:\n    main(['run', '--help'])\n"
        "except SystemExit:\n    pass\n"
        "assert 'jax' not in sys.modules\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    for name in MODELS.names():
        assert name in out.stdout


# ------------------------------------------------------------------ the command line never lies


def test_raw_unit_csv_gives_the_ols_slope(raw_csv, tmp_path, capsys):
    assert (
        cli.main(
            [
                "run",
                "linear",
                "--method",
                "mle",
                "--data",
                str(raw_csv),
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    data = np.loadtxt(raw_csv, delimiter=",", skiprows=1)
    slope = np.polyfit(data[:, 1], data[:, 0], 1)[0]
    row = next(line for line in out.splitlines() if line.startswith("beta[x]"))
    assert float(row.split()[1]) == pytest.approx(slope, rel=1e-3)


def test_out_is_checked_before_any_fit(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    assert cli.main(["run", "gaussian", "--method", "mle", "--out", str(afile)]) == 2
    assert "--out: " in capsys.readouterr().err and afile.read_text() == "not a folder"
    # a folder nobody can create (root included): under /proc
    assert cli.main(["run", "gaussian", "--method", "mle", "--out", "/proc/freqbayes/out"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("freqbayes: error: --out: cannot write in /proc/freqbayes/out")
    assert err.count("\n") == 1


@pytest.mark.parametrize("seed", [str(2**64), "-1"])
def test_a_seed_out_of_range_is_one_line(tmp_path, capsys, seed):
    assert cli.main(["run", "gaussian", "--seed", seed, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "--seed must be an integer in [0, 2**63)" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_a_run_where_every_method_failed_exits_non_zero(tmp_path, capsys):
    x = np.linspace(-2, 2, 20)
    csv = write_csv(tmp_path / "sep.csv", (x > 0).astype(int), x)
    out = tmp_path / "o"
    assert (
        cli.main(["run", "logistic", "--method", "mle", "--data", str(csv), "--out", str(out)]) == 1
    )
    captured = capsys.readouterr()
    assert "fits saved" not in captured.out and "no fit was made; nothing saved" in captured.out
    assert [p.name for p in out.iterdir()] == ["manifest-logistic.json"]


def test_files_of_an_earlier_run_with_other_data_do_not_stay(tmp_path, raw_csv, capsys):
    out = tmp_path / "o"
    assert (
        cli.main(
            ["run", "linear", "--method", "mle,map", "--data", str(raw_csv), "--out", str(out)]
        )
        == 0
    )
    first = json.loads((out / "manifest-linear.json").read_text())
    other = write_csv(
        tmp_path / "other.csv", np.arange(30.0) * 2 + 1 + np.sin(np.arange(30.0)), np.arange(30.0)
    )
    assert (
        cli.main(["run", "linear", "--method", "mle", "--data", str(other), "--out", str(out)]) == 0
    )
    assert "removed the files of an earlier linear run" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["linear-mle.nc", "manifest-linear.json"]
    second = json.loads((out / "manifest-linear.json").read_text())
    assert second["data"]["sha256"] != first["data"]["sha256"]
    assert second["data"]["source"] == str(other) and list(second["methods"]) == ["mle"]
    tree = xr.open_datatree(out / "linear-mle.nc", engine="h5netcdf")
    assert tree.attrs["data_sha256"] == second["data"]["sha256"]
    assert tree.attrs["run_started"] == second["started"]


def test_sigterm_during_a_write_leaves_no_temporary_file(tmp_path, monkeypatch, capsys):
    """The handler turns SIGTERM into an exception: the atomic write removes its temporary file."""
    from freqbayes import _io

    real = _io.write_datatree

    def terminated_mid_write(tree, path):
        with _io.atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                fh.write(b"half a netCDF")
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler raises before this ends
        real(tree, path)

    monkeypatch.setattr(_io, "write_datatree", terminated_mid_write)
    out = tmp_path / "o"
    assert (
        cli.main(["run", "gaussian", "--method", "mle", "--out", str(out)]) == cli.EXIT_TERMINATED
    )
    assert "freqbayes: terminated" in capsys.readouterr().err
    left = sorted(p.name for p in out.iterdir())
    assert not [n for n in left if n.endswith(".nc") or ".tmp" in n], left
    manifest = json.loads((out / "manifest-gaussian.json").read_text())
    assert manifest["status"] == "interrupted"
    assert signal.getsignal(signal.SIGTERM) is not cli._on_sigterm  # restored
    assert not _io.STOP.is_set()


def test_sigterm_to_the_process_exits_143_and_leaves_no_temporary_file(tmp_path):
    out = tmp_path / "o"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "freqbayes.cli",
            "run",
            "linear",
            "--method",
            "nuts",
            "--out",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 60
    while not (out / "manifest-linear.json").exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # the manifest says "running": we are inside the fit
    assert proc.poll() is None, "the fit ended before the signal"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err[-2000:]
    assert err.strip().splitlines()[-1] == "freqbayes: terminated"
    assert not [p for p in out.rglob("*") if ".tmp" in p.name]
    assert json.loads((out / "manifest-linear.json").read_text())["status"] == "interrupted"


def test_summary_shows_diagnostics_and_warns(tmp_path, capsys):
    code = cli.main(["run", "gaussian", "--method", "nuts,svi", "--out", str(tmp_path / "o")])
    assert code == 0
    out = capsys.readouterr().out
    assert "r_hat" in out and "ess" in out
    assert "nuts: " in out and "divergences" in out and "max-tree-depth hits" in out
    assert "svi: " in out and "converged" in out


def test_diagnostic_warnings_name_the_problem():
    from freqbayes.inference import diagnostics, nuts
    from freqbayes.models import data as D

    tree = nuts("gaussian", D.iris_setosa(), num_warmup=5, num_samples=20, num_chains=2)
    warnings = diagnostics.warnings(tree)
    assert any("bulk ESS" in w for w in warnings), warnings


def test_pointwise_option(tmp_path):
    out = tmp_path / "o"
    assert (
        cli.main(["run", "gaussian", "--method", "nuts", "--pointwise", "none", "--out", str(out)])
        == 0
    )
    tree = xr.open_datatree(out / "gaussian-nuts.nc", engine="h5netcdf")
    assert "log_likelihood" not in tree.children and "posterior" in tree.children
    with pytest.raises(SystemExit) as exit_info:  # argparse: one "error:" line after the usage
        cli.main(["run", "gaussian", "--method", "nuts", "--pointwise", "zero", "--out", str(out)])
    assert exit_info.value.code == 2


def test_a_fit_of_a_big_data_file_does_not_store_its_inputs_again(tmp_path, raw_csv, monkeypatch):
    """Issue 27: beyond the pointwise bound (here lowered to 500 values: the 300 × 1 X
    of raw.csv stays, 300 × 2 does not) a fit written by ``freqbayes run`` leaves its
    inputs in the data file and says so; the fit is still written, both coefficients."""
    from freqbayes.inference.probabilistic import datatree
    from freqbayes.models import pieces

    monkeypatch.setattr(datatree, "POINTWISE_BUDGET", 500)
    frame = np.loadtxt(raw_csv, delimiter=",", skiprows=1)
    wide = tmp_path / "wide.csv"
    wide.write_text("y,x,x2\n" + "\n".join(f"{a:.6g},{b:.6g},{b * b / 100:.6g}" for a, b in frame))
    trees = {}
    for name, data in (("small", raw_csv), ("wide", wide)):
        out = tmp_path / name
        args = ["run", "linear", "--method", "map", "--data", str(data), "--out", str(out)]
        assert cli.main([*args, "--no-progress"]) == 0
        trees[name] = xr.open_datatree(out / "linear-map.nc", engine="h5netcdf")
    assert trees["small"]["constant_data"]["X"].shape == (300, 1)
    assert "inputs_not_stored" not in trees["small"].attrs
    assert "constant_data" not in trees["wide"].children
    said = trees["wide"].attrs["inputs_not_stored"]
    sha = pieces.file_sha256(wide)
    assert said == (
        f"constant_data (X 300 × 2) is not stored: more than 500 values, all in {wide} "
        f"(sha256 {sha})"
    )
    assert trees["wide"]["posterior"]["beta"].shape[-1] == 2


def test_run_drops_each_fits_programs_on_big_data_only(tmp_path, raw_csv, monkeypatch):
    """Issue 27: on data of at least ``RELEASE_FROM_BYTES`` the command has each fit drop
    its programs before the DataTree is built (the 10⁶ × 100 MAP command's peak
    990–1,000 → 944–946 MiB); on small data it keeps them for the next method."""
    from freqbayes import inference

    seen = []
    original = inference.fit

    def spy(*args, **kwargs):
        seen.append(kwargs.get("release_programs", False))
        return original(*args, **kwargs)

    monkeypatch.setattr(inference, "fit", spy)
    args = ["run", "linear", "--method", "mle,map", "--data", str(raw_csv), "--no-progress"]
    assert cli.main([*args, "--out", str(tmp_path / "small")]) == 0
    assert seen == [False, False]  # 300 rows: far below
    monkeypatch.setattr(cli, "RELEASE_FROM_BYTES", 300 * 8)  # y alone, in float64
    assert cli.main([*args, "--out", str(tmp_path / "big")]) == 0
    assert seen[2:] == [True, True]
    small = xr.open_datatree(tmp_path / "small" / "linear-map.nc", engine="h5netcdf")
    big = xr.open_datatree(tmp_path / "big" / "linear-map.nc", engine="h5netcdf")
    assert np.array_equal(small["posterior"]["beta"].values, big["posterior"]["beta"].values)
