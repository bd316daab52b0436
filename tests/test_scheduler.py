"""Replicate studies on a Dask cluster (``freqbayes.scheduler``): same results, clear failures.

One local cluster of two worker processes is shared by the module (starting one takes
seconds); the test that kills a worker runs last (the cluster restarts it).
"""

from __future__ import annotations

import math
import os
import socket
import sys
import time
from pathlib import Path

import cloudpickle
import numpy as np
import pytest

from freqbayes import cli, scheduler
from freqbayes.inference import prepare
from freqbayes.inference.probabilistic import calibration as C
from freqbayes.inference.probabilistic import repeated
from freqbayes.models.dataset import Dataset
from freqbayes.showcase import job

# the functions below run in the workers: send them by value (tests/ is not importable there)
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def client():
    with scheduler.connect("local:2") as c:
        yield c


def _pid(_item: object) -> int:
    time.sleep(0.3)  # long enough that the scheduler gives both workers some
    return os.getpid()


def _slower_first(i: int) -> int:
    import time

    time.sleep(0.1 * (6 - i))  # the first pieces end last
    return i


def _float_width(_item: object) -> str:
    import jax.numpy as jnp

    return str(jnp.zeros(1).dtype)


def _nested(n: int) -> list[float]:
    return scheduler.worker_mapper(math.sqrt, [float(n * n)] * n)


def _die(_item: object) -> None:
    os._exit(9)


def test_scheduler_text_is_checked():
    assert scheduler.local_workers("local:3") == 3
    assert scheduler.local_workers("tcp://10.0.0.2:8786") is None
    for bad, says in (
        ("local:0", "local:N needs a whole number N >= 1"),
        ("local:two", "local:N needs"),
        ("tcp://a b:1", "neither local:N nor a scheduler address"),
    ):
        with pytest.raises(ValueError, match=says):
            scheduler.parse(bad)


def test_results_come_back_in_order_from_both_workers(client):
    assert scheduler.mapper(client)(_slower_first, range(6)) == list(range(6))
    pids = set(scheduler.mapper(client)(_pid, range(8)))
    assert os.getpid() not in pids and len(pids) == 2
    # the same cluster by its address, as a remote scheduler is reached
    with scheduler.connect(client.scheduler.address) as remote:
        assert scheduler.mapper(remote)(math.sqrt, [4.0, 9.0]) == [2.0, 3.0]


def test_workers_take_the_float_width_of_the_caller(client):
    """A remote worker does not inherit JAX_ENABLE_X64: each task takes the caller's."""
    import jax

    was = bool(jax.config.jax_enable_x64)
    try:
        for x64, width in ((True, "float64"), (False, "float32")):
            jax.config.update("jax_enable_x64", x64)
            assert scheduler.mapper(client)(_float_width, range(4)) == [width] * 4
    finally:
        jax.config.update("jax_enable_x64", was)


def test_a_task_hands_out_pieces_on_its_own_cluster(client):
    """What the showcase's SBC and coverage stages do inside their task (one thread per
    worker: the waiting task must leave its thread, or its pieces never start)."""
    assert scheduler.mapper(client)(_nested, [1, 2, 3]) == [[1.0], [2.0, 2.0], [3.0] * 3]
    assert scheduler.worker_mapper(math.sqrt, [4.0]) == [2.0]  # outside a task: here


def test_sbc_on_the_cluster_is_the_sbc_here(client):
    """Same seed, same ranks and draws, with the data sets handed out in pieces of two."""
    here = C.calibrate("gaussian", "laplace", num=4, seed=3, sizes=C.SMOKE, chunk=2)
    there = C.calibrate(
        "gaussian", "laplace", num=4, seed=3, sizes=C.SMOKE, chunk=2,
        mapper=scheduler.mapper(client),
    )  # fmt: skip
    assert here.ranks.equals(there.ranks)
    for name, draws in here.posterior.items():
        assert np.array_equal(draws, there.posterior[name]), name
    assert here.converged == there.converged


def test_coverage_study_on_the_cluster_is_the_study_here(client):
    """Same seed, same intervals bit for bit: the pieces (4, 4 and 2 padded to 4) are the
    same with or without the cluster, and a vectorised fit's last bits depend on them."""
    rng = np.random.default_rng(1)
    X = rng.normal(0, 1, (25, 1))
    problem = prepare("logistic", Dataset("sim", (rng.random(25) < 0.5).astype(float), X, ("x",)))
    truth = {"intercept": -1.0, "beta": np.array([2.0])}
    kwargs = {"seed": 4, "methods": ("wald",), "chunk": 4}
    here = repeated.simulated_intervals(problem, truth, 10, **kwargs)
    there = repeated.simulated_intervals(
        problem, truth, 10, **kwargs, mapper=scheduler.mapper(client)
    )
    assert set(here) == set(there) == {"truth", "exists", "estimate", "wald", "sandwich"}
    for kind, value in here.items():
        pairs = (
            zip(value, there[kind], strict=True)
            if isinstance(value, tuple)
            else [(value, there[kind])]
        )
        for a, b in pairs:
            assert a.shape[0] == (2 if kind == "truth" else 10)
            assert np.array_equal(a, b, equal_nan=True), kind


def test_a_scheduler_that_does_not_answer_is_one_line(tmp_path, capsys, monkeypatch):
    with socket.socket() as s:  # a free port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(scheduler, "TIMEOUT", 1.0)
    out = tmp_path / "o"
    argv = ["run", "all", "--quick", "--no-progress", "--out", str(out)]
    assert cli.main([*argv, "--scheduler", f"tcp://127.0.0.1:{port}"]) == cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert err == (
        f"freqbayes: error: --scheduler tcp://127.0.0.1:{port}: no Dask scheduler answered "
        "within 1 s\n"
    )
    assert not out.exists()


def test_a_worker_that_dies_is_one_line_and_nothing_half_written(
    client, tmp_path, capsys, monkeypatch
):
    with pytest.raises(scheduler.WorkerDied, match="a Dask worker died while running piece 0"):
        scheduler.mapper(client)(_die, [None])
    monkeypatch.setattr(job, "STAGES", [job.Stage("dies", _die, lambda ctx: 0)])
    out = tmp_path / "o"
    argv = ["run", "all", "--quick", "--no-progress", "--out", str(out)]
    assert cli.main([*argv, "--scheduler", client.scheduler.address]) == cli.EXIT_FAILED
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("freqbayes: error: WorkerDied: a Dask worker"), err
    left = [p.name for p in Path(out).rglob("*") if p.is_file()]
    assert "report.html" not in left and not [n for n in left if "tmp" in n], left
