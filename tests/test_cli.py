"""The command line: help without JAX, saved fits, errors, and no half-written files."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from freqbayes import cli

from .conftest import ROOT


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


def test_run_saves_netcdf_that_reads_back(tmp_path, capsys):
    assert cli.main(["run", "gaussian", "--method", "mle,map", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "== gaussian on iris-setosa (n = 50)" in out
    assert {p.name for p in tmp_path.iterdir()} == {"gaussian-mle.nc", "gaussian-map.nc"}
    tree = xr.open_datatree(tmp_path / "gaussian-mle.nc", engine="h5netcdf")
    assert tree.attrs["method"] == "mle"
    from freqbayes.data import iris_setosa
    from freqbayes.models import gaussian

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
    assert {p.name for p in out_dir.iterdir()} == {"logistic-map.nc"}


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
        def to_netcdf(self, path, engine=None):
            with open(path, "wb") as fh:
                fh.write(b"half a file")
            raise OSError("disk full")

    target = tmp_path / "fit.nc"
    with pytest.raises(OSError, match="disk full"):
        cli.write_atomic(Exploding(), target)
    assert list(tmp_path.iterdir()) == []


def test_numpyro_is_loaded_whole_when_arviz_is_imported_first():
    """arviz_base loads NumPyro lazily; a first import of numpyro.optim then ran it twice."""
    code = (
        "import arviz, sys\n"
        "assert type(sys.modules['numpyro']).__name__ == '_LazyModule'\n"
        "import freqbayes._numpyro\n"
        "import numpyro.optim, numpyro.infer.svi\n"
        "assert numpyro.infer.svi._NumPyroOptim is numpyro.optim._NumPyroOptim\n"
        "from freqbayes import data\n"
        "from freqbayes.inference import svi\n"
        "svi('gaussian', data.iris_setosa(), num_steps=10, num_chains=1, num_samples=5)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    # Both subpackages import the guard before anything that imports NumPyro.
    for init in ("models/__init__.py", "inference/__init__.py"):
        text = (ROOT / init).read_text()
        first = next(
            line
            for line in text.splitlines()
            if line.startswith(("import freqbayes", "from freqbayes"))
        )
        assert first.startswith("import freqbayes._numpyro"), (init, first)


def test_cli_name_lists_match_the_registries():
    """The CLI keeps its own name lists (so --help needs no JAX); they must not drift."""
    from freqbayes.inference import METHODS
    from freqbayes.models import MODELS

    assert cli.MODEL_NAMES == tuple(MODELS)
    assert cli.METHOD_NAMES == tuple(METHODS)
