"""Rows sharded over two devices, and over two processes, give the one-device fit.

A logistic regression on 2,000 rows (5 features, float32): MAP to 1e-5 relative, NUTS
posterior means within :data:`K` Monte Carlo standard errors (the sums over the shards
round differently, and NUTS's trajectories part on the last digits). The two-device side
runs in a subprocess (JAX takes its devices once); the two processes are started by the
command line's ``--processes 2`` on 127.0.0.1. Small settings keep the file cheap.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from freqbayes import launch
from freqbayes.cli import main
from freqbayes.inference.probabilistic import rows, sharding
from freqbayes.models.registry import get_model

#: Agreement of NUTS means within K MCSE of the difference.
K = 4
#: MAP agreement (relative) between sharded and unsharded sums.
RTOL = 1e-5
N, D = 2000, 5
FORMULA = "y ~ " + " + ".join(f"x{i}" for i in range(D))
NUTS = {"num_chains": 2, "num_warmup": 200, "num_samples": 200}
#: Seconds the subprocesses of this file may take, each.
LIMIT = 240


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A logistic regression's table as CSV: n = 2000, d = 5, float32 features."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, D)).astype(np.float32)
    w = rng.normal(size=D) * 0.5
    y = rng.uniform(size=N) < 1 / (1 + np.exp(-(X @ w + 0.3)))
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(D)]).assign(y=y.astype(int))
    path = tmp_path_factory.mktemp("sharded") / "small.csv"
    frame.to_csv(path, index=False)
    # the same table as Parquet in row groups of 300 rows: the processes read it in shares
    frame.to_parquet(path.with_suffix(".parquet"), index=False, row_group_size=300)
    return path


_ONE_PROCESS = """
import json, os, sys
import arviz as az
from freqbayes import inference
from freqbayes.inference.probabilistic.problem import prepare
from freqbayes.models.registry import get_model
from freqbayes.models.tables import as_dataset

import jax
from freqbayes.inference.probabilistic import rows

path, formula, nuts = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
data = as_dataset(path, get_model("logistic"), formula)
traced = []  # each device's rows by blocks (rows._sharded_sum), when traced: which term
by_blocks = rows._sharded_sum
rows._sharded_sum = lambda term, *a: traced.append(term.__name__) or by_blocks(term, *a)
out = {}
for mode in ("off", "on", "blocks"):
    jax.clear_caches()  # the blocks' setting is read when a program is traced
    os.environ["FREQBAYES_SHARD_ROWS"] = "off" if mode == "off" else "on"
    os.environ["FREQBAYES_GRADIENT_BLOCKS"] = "on" if mode == "blocks" else "off"
    rows.GRADIENT_BLOCK_ROWS = 100  # blocks of 100 of each device's rows
    rows.GRADIENT_BLOCK_ELEMENTS = 600
    traced.clear()
    one = dict(pointwise="none", prior_draws=0, seed=0)
    fit = inference.fit("logistic", "map", data, **one)
    draws = inference.fit("logistic", "nuts", data, **one, **nuts)
    s = az.summary(draws, round_to="none", kind="all")
    out[mode] = {
        "sharded": prepare("logistic", data).sharded,
        "map": {k: v.values.ravel().tolist() for k, v in fit.posterior.items()},
        "mean": s["mean"].tolist(), "mcse": s["mcse_mean"].tolist(),
        "chain_method": json.loads(draws.attrs["settings"])["chain_method"],
    }
    svi = inference.fit("logistic", "svi", data, **one, batch_size=200, num_steps=300,
                        num_samples=50, allow_unconverged=True)
    record = json.loads(svi.attrs["settings"])
    out[mode]["svi"] = [record.get("control_variates_used"), record.get("taylor_order")]
    out[mode]["shard_blocks"] = sorted(set(traced))
    lap = inference.fit("logistic", "laplace", data, **one, num_samples=400)
    out[mode]["laplace_sd"] = [float(v.std()) for v in lap.posterior.values()]
print(json.dumps(out))
"""


def _environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FREQBAYES_SHARD")}
    return {**env, "JAX_PLATFORMS": "cpu", **extra}


@pytest.fixture(scope="module")
def one_process(table: Path) -> dict:
    """Unsharded ("off") and rows over two forced CPU devices ("on"), in one subprocess."""
    env = _environment(XLA_FLAGS="--xla_force_host_platform_device_count=2")
    args = [sys.executable, "-c", _ONE_PROCESS, str(table), FORMULA, json.dumps(NUTS)]
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=LIMIT)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def two_processes(table: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """``freqbayes run logistic --method map,nuts --processes 2``: its folder and temp folder.

    From the Parquet copy of the table: each process reads only its own rows
    (inference/probabilistic/shares.py; the rows of each: tests/test_shares.py).
    """
    where = tmp_path_factory.mktemp("two")
    temp = where / "tmp"
    temp.mkdir()
    parquet = str(table.with_suffix(".parquet"))
    command = [sys.executable, "-m", "freqbayes.cli", "run", "logistic", "--data", parquet,
               "--formula", FORMULA, "--method", "map,nuts", "--chains", "2", "--warmup", "200",
               "--draws", "200", "--pointwise", "none", "--processes", "2",
               "--out", str(where / "out")]  # fmt: skip
    out = subprocess.run(
        command, env=_environment(TMPDIR=str(temp)), capture_output=True, text=True, timeout=LIMIT
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return {"out": where / "out", "temp": temp, "stdout": out.stdout}


def _summary(path: Path) -> dict:
    import arviz as az

    tree = xr.open_datatree(path, engine="h5netcdf")
    s = az.summary(tree, round_to="none", kind="all")
    return {"mean": s["mean"].tolist(), "mcse": s["mcse_mean"].tolist()}


def _within_mcse(a: dict, b: dict) -> np.ndarray:
    """|mean_a − mean_b| in MCSE of the difference, per parameter."""
    diff = np.abs(np.subtract(a["mean"], b["mean"]))
    return diff / np.hypot(a["mcse"], b["mcse"])


def _relative(a: dict, b: dict) -> float:
    return max(
        float(np.max(np.abs(np.subtract(a[k], b[k])) / np.maximum(np.abs(a[k]), 1e-3))) for k in a
    )


def test_rows_over_two_devices_give_the_one_device_map_and_nuts(one_process: dict) -> None:
    off, on = one_process["off"], one_process["on"]
    # minibatch SVI: control variates on one device; the plain estimate on sharded rows
    assert off["svi"] == [None, 1] and on["svi"] == ["none: the rows are sharded", None]
    assert not off["sharded"] and on["sharded"]  # FREQBAYES_SHARD_ROWS=on did shard them
    assert on["chain_method"] == "lax.map"  # chains not split over the rows' devices
    assert off["chain_method"] == "lax.map on each of 2 devices"
    assert _relative(off["map"], on["map"]) < RTOL
    assert np.all(_within_mcse(off, on) < K)
    # Laplace's covariance is the inverse Hessian: the same draws' sds on sharded rows
    np.testing.assert_allclose(on["laplace_sd"], off["laplace_sd"], rtol=1e-4)


def test_each_devices_rows_by_blocks_give_the_one_device_map_and_nuts(one_process: dict):
    """FREQBAYES_GRADIENT_BLOCKS=on with the rows over two devices: each device sums the
    blocks of its own rows (``shard_map``), the sums added over the devices; the MAP's
    Hessians (its certificate) go by blocks of each device's rows whatever the setting."""
    off, on, blocks = one_process["off"], one_process["on"], one_process["blocks"]
    assert blocks["sharded"] and "_value_and_grad" in blocks["shard_blocks"]
    assert "_value_and_grad" not in on["shard_blocks"] and len(on["shard_blocks"]) == 1
    assert off["shard_blocks"] == []
    assert _relative(off["map"], blocks["map"]) < RTOL
    assert np.all(_within_mcse(off, blocks) < K)
    np.testing.assert_allclose(blocks["laplace_sd"], off["laplace_sd"], rtol=1e-4)


def test_two_processes_give_the_one_process_fit_and_only_process_0_writes(
    one_process: dict, two_processes: dict
) -> None:
    out = two_processes["out"]
    assert sorted(p.name for p in out.iterdir()) == [
        "logistic-map.nc",
        "logistic-nuts.nc",
        "manifest-logistic.json",
    ]
    assert list(two_processes["temp"].iterdir()) == []  # process 1's folder was removed
    assert "[Gloo]" not in two_processes["stdout"]
    tree = xr.open_datatree(out / "logistic-map.nc", engine="h5netcdf")
    fit = {k: v.values.ravel().tolist() for k, v in tree.posterior.items()}
    # the whole table's rows, though no process held them all (no constant_data: the
    # features were never in one place)
    assert tree.attrs["n_obs"] == N and tree.observed_data["y"].shape == (N,)
    assert "constant_data" not in tree.children
    manifest = json.loads((out / "manifest-logistic.json").read_text())
    assert manifest["data"]["n"] == N
    reference = one_process["off"]
    assert _relative(reference["map"], fit) < RTOL
    assert np.all(_within_mcse(reference, _summary(out / "logistic-nuts.nc")) < K)


def test_an_unreachable_coordinator_is_one_line_and_quick(table: Path, tmp_path: Path) -> None:
    env = _environment(
        FREQBAYES_COORDINATOR=f"127.0.0.1:{launch.free_port()}",
        FREQBAYES_NUM_PROCESSES="2",
        FREQBAYES_PROCESS_ID="1",
        FREQBAYES_INIT_TIMEOUT="1",
    )
    command = [sys.executable, "-m", "freqbayes.cli", "run", "logistic", "--data", str(table),
               "--formula", FORMULA, "--method", "map", "--out", str(tmp_path / "out")]  # fmt: skip
    start = time.perf_counter()
    out = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert time.perf_counter() - start < 30
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "could not be reached within 1 s" in lines[0], out.stderr
    assert not list((tmp_path / "out").glob("*"))


def test_processes_refused_with_all_and_the_flag_is_stripped(capsys) -> None:
    assert main(["run", "all", "--processes", "2"]) == 2
    assert "--processes applies to one model" in capsys.readouterr().err
    argv = ["run", "logistic", "--processes", "2", "--method", "map", "--processes=3"]
    assert launch.without_processes(argv) == ["run", "logistic", "--method", "map"]


def test_padding_reaches_a_multiple_of_the_devices_with_the_mask(monkeypatch) -> None:
    model = get_model("logistic")
    arrays = {"X": np.ones((1001, 2)), "y": np.ones(1001)}
    monkeypatch.setenv("FREQBAYES_SHAPE_BUCKETS", "off")  # padded all the same when sharded
    out = rows.padded_arguments(model, arrays, 3)
    assert out["X"].shape[0] == 1002 and out[rows.ROW_MASK].sum() == 1001
    assert rows.ROW_MASK not in rows.padded_arguments(model, arrays)
    monkeypatch.setenv(sharding.VARIABLE, "sometimes")
    with pytest.raises(ValueError, match="FREQBAYES_SHARD_ROWS must be auto, on or off"):
        sharding.setting()


DYING = """
import os, signal, sys, time
from pathlib import Path
out = Path(sys.argv[1])
if os.environ["FREQBAYES_PROCESS_ID"] == "1":
    time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGKILL)  # dies without a word, as the OOM killer kills
out.mkdir(exist_ok=True)
# process 0 was writing a fit when stopped (freqbayes._io.atomic_path's temporary name)
(out / f".fit.nc.{os.getpid()}.abcd1234.tmp.nc").write_text("half")
time.sleep(60)
"""


def test_a_process_that_dies_stops_the_others_in_one_line(tmp_path, monkeypatch, capsys) -> None:
    """Issue 27's check: the others stopped, nothing half-written, one line naming it."""
    monkeypatch.setattr(launch, "child_command", lambda argv: [sys.executable, "-c", *argv])
    monkeypatch.setattr(launch, "GRACE", 2.0)
    out = tmp_path / "out"
    start = time.monotonic()
    status = launch.launch([DYING, str(out)], 2, out)
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1 and time.monotonic() - start < 30
    assert err == [
        "freqbayes: error: process 1 of 2 stopped (status -9): killed by SIGKILL; "
        "the others were stopped"
    ], err
    assert not [p.name for p in out.rglob("*tmp*")], "a half-written file was left"


_BLOCKED_PROCESS = """
import sys
from freqbayes.inference.probabilistic import rows
from freqbayes.cli import main

rows.GRADIENT_BLOCK_ROWS = 100  # blocks of 100 of each process's rows
rows.GRADIENT_BLOCK_ELEMENTS = 600
traced = []
by_blocks = rows._sharded_sum
rows._sharded_sum = lambda term, *a: traced.append(term.__name__) or by_blocks(term, *a)
code = main(sys.argv[1:])
print("blocks traced:", " ".join(sorted(set(traced))))
sys.exit(code)
"""


def test_two_processes_by_blocks_of_their_own_rows_give_the_one_process_map(
    one_process: dict, table: Path, tmp_path: Path
) -> None:
    """Each process's rows by blocks (``shard_map``), the sums added over the processes
    (gloo): the two processes started by hand, as on two machines (launch.py)."""
    parquet = str(table.with_suffix(".parquet"))
    argv = ["run", "logistic", "--data", parquet, "--formula", FORMULA, "--method", "map",
            "--pointwise", "none", "--out", str(tmp_path / "out")]  # fmt: skip
    env = _environment(FREQBAYES_GRADIENT_BLOCKS="on", FREQBAYES_NUM_PROCESSES="2")
    env[launch.COORDINATOR] = f"127.0.0.1:{launch.free_port()}"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _BLOCKED_PROCESS, *argv],
            env={**env, launch.PROCESS_ID: str(i)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    outs = [child.communicate(timeout=LIMIT) for child in children]
    for child, (stdout, stderr) in zip(children, outs, strict=True):
        assert child.returncode == 0, stderr[-3000:]
        traced = stdout.rsplit("blocks traced:", 1)[1].split()
        assert "_value_and_grad" in traced  # each process took its gradients by blocks
    tree = xr.open_datatree(tmp_path / "out" / "logistic-map.nc", engine="h5netcdf")
    fit = {k: v.values.ravel().tolist() for k, v in tree.posterior.items()}
    assert _relative(one_process["off"]["map"], fit) < RTOL
