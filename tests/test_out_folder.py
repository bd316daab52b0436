"""The command line's output folder: one run at a time, no stale files, a manifest that tells."""

from __future__ import annotations

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

from .conftest import write_csv


def _freqbayes(*argv: str) -> list[str]:
    return [sys.executable, "-m", "freqbayes.cli", *argv, "--no-progress"]


def _reaped_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _consistent(out):
    """Every fit a manifest lists was made from that manifest's data; no fit is unlisted."""
    listed = set()
    for path in out.glob("manifest-*.json"):
        record = json.loads(path.read_text())
        for entry in record["methods"].values():
            if entry.get("file"):
                listed.add(entry["file"])
                tree = xr.open_datatree(out / entry["file"], engine="h5netcdf")
                assert tree.attrs["data_sha256"] == record["data"]["sha256"], entry["file"]
                assert tree.attrs["run_started"] == record["started"], entry["file"]
    assert {p.name for p in out.glob("*.nc")} == listed


def test_a_second_run_into_a_folder_in_use_stops_with_one_line(tmp_path, raw_csv, capsys):
    """Two runs into one --out at once: one stops at once (exit 2, one line); SIGKILL frees it."""
    out = tmp_path / "o"
    # two long runs (many draws) started together: the first to claim the folder holds it
    # far longer than the other takes to arrive; the holder is killed once the other ended
    runs = [
        subprocess.Popen(
            _freqbayes(
                "run", "linear", "--method", "nuts", "--draws", "100000", *data, "--out", str(out)
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for data in ([], ["--data", str(raw_csv)])
    ]
    try:
        deadline = time.time() + 180
        while all(run.poll() is None for run in runs) and time.time() < deadline:
            time.sleep(0.05)
        ended = [run for run in runs if run.poll() is not None]
        assert len(ended) == 1, "both runs went on writing one folder"
        second, first = ended[0], next(run for run in runs if run is not ended[0])
        while not (out / "manifest-linear.json").exists() and time.time() < deadline:
            time.sleep(0.05)  # the holder records what it makes before it is killed
    finally:
        for run in runs:
            if run.poll() is None:
                run.send_signal(signal.SIGKILL)
            run.wait(timeout=60)
    assert second.returncode == cli.EXIT_USAGE, second.stderr.read()
    assert second.stderr.read() == (
        f"freqbayes: error: --out {out}: another freqbayes run (pid {first.pid}) is writing "
        "there; wait for it to end or choose another --out\n"
    )
    assert first.returncode == -signal.SIGKILL
    holder = json.loads((out / "manifest-linear.json").read_text())
    assert holder["status"] == "running"
    assert (holder["data"]["source"] == str(raw_csv)) == (first is runs[1])  # the holder's data
    assert not list(out.glob("*.nc"))
    # the kill released the lock: the next run goes ahead and records the killed one's end
    capsys.readouterr()
    assert cli.main(["run", "gaussian", "--method", "mle", "--out", str(out)]) == cli.EXIT_OK
    killed = json.loads((out / "manifest-linear.json").read_text())
    assert killed["status"] == "interrupted" and "killed" in killed["note"]
    assert json.loads((out / "manifest-gaussian.json").read_text())["status"] == "finished"
    _consistent(out)
    assert sorted(p.name for p in out.iterdir()) == [
        "gaussian-mle.nc",
        "manifest-gaussian.json",
        "manifest-linear.json",
    ]


def test_temporary_files_of_killed_runs_are_removed_by_the_next_run(tmp_path, capsys):
    out = tmp_path / "o"
    out.mkdir()
    dead = _reaped_pid()
    stale = [
        f".linear-nuts.nc.{dead}.k3x_9qaz.tmp.nc",
        f".manifest-linear.json.{dead}.a1b2c3d4.tmp.json",
    ]
    live = ".gaussian-map.nc.1.a1b2c3d4.tmp.nc"  # pid 1 never ends: a live writer's
    others = ["notes.tmp.nc", ".hidden", "linear-nuts.nc.tmp.nc"]  # not freqbayes temporaries
    for name in [*stale, live, *others]:
        (out / name).write_bytes(b"half a netCDF")
    assert cli.main(["run", "gaussian", "--method", "mle", "--out", str(out)]) == cli.EXIT_OK
    err = capsys.readouterr().err
    assert "removed 2 temporary file(s) left by a killed run" in err
    left = {p.name for p in out.iterdir()}
    assert not left & set(stale)
    assert {live, *others} <= left


def test_a_temporary_file_is_named_with_its_writer(tmp_path):
    from freqbayes._io import atomic_path

    with atomic_path(tmp_path / "fit.nc") as tmp:
        name = os.path.basename(tmp)
        assert name.startswith(f".fit.nc.{os.getpid()}.") and name.endswith(".tmp.nc")


def test_the_manifest_says_failed_when_no_fit_was_made(tmp_path, capsys):
    x = np.linspace(-2, 2, 20)
    csv = write_csv(tmp_path / "sep.csv", (x > 0).astype(int), x)
    out = tmp_path / "o"
    argv = ["run", "logistic", "--data", str(csv), "--out", str(out), "--method"]
    assert cli.main([*argv, "mle"]) == cli.EXIT_FAILED
    record = json.loads((out / "manifest-logistic.json").read_text())
    assert record["status"] == "failed", record
    assert record["methods"]["mle"]["status"] == "no estimate"
    # a named "no estimate" beside a fit: the run did what it could
    assert cli.main([*argv, "mle,map"]) == cli.EXIT_OK
    assert json.loads((out / "manifest-logistic.json").read_text())["status"] == "finished"


def test_the_manifest_says_partly_failed_and_lists_fits_as_they_are_saved(
    tmp_path, monkeypatch, capsys
):
    from freqbayes import inference

    out = tmp_path / "o"
    real = inference.fit

    def map_fails(spec, method, data, **kwargs):
        if method == "map":
            # by now the fit of the first method is saved and listed on disk
            record = json.loads((out / "manifest-gaussian.json").read_text())
            assert record["status"] == "running"
            assert record["methods"] == {"mle": {"status": "ok", "file": "gaussian-mle.nc"}}
            raise RuntimeError("no convergence")
        return real(spec, method, data, **kwargs)

    monkeypatch.setattr(inference, "fit", map_fails)
    assert cli.main(["run", "gaussian", "--method", "mle,map", "--out", str(out)]) == 1
    record = json.loads((out / "manifest-gaussian.json").read_text())
    assert record["status"] == "partly failed", record
    assert record["methods"]["map"] == {"status": "failed", "reason": "no convergence"}
    assert record["methods"]["mle"] == {"status": "ok", "file": "gaussian-mle.nc"}


def test_the_showcase_folder_is_claimed_with_its_subfolders(tmp_path, capsys):
    from freqbayes.manifest import claim_out

    dead = _reaped_pid()
    (tmp_path / "figures" / "deeper").mkdir(parents=True)
    stale = tmp_path / "figures" / f".coverage.png.{dead}.abcdefgh.tmp.png"
    deeper = tmp_path / "figures" / "deeper" / f".coverage.png.{dead}.abcdefgh.tmp.png"
    for path in (stale, deeper):
        path.write_bytes(b"half a png")
    with claim_out(tmp_path, depth=1):
        assert not stale.exists() and deeper.exists()  # `run all` writes one level down
        with pytest.raises(ValueError, match=rf"another freqbayes run \(pid {os.getpid()}\)"):
            with claim_out(tmp_path):
                pass
    assert "figures/.coverage.png" in capsys.readouterr().err
    assert not (tmp_path / ".freqbayes.lock").exists()
    with claim_out(tmp_path):  # released: taken again
        pass


def test_a_file_system_without_locks_is_said_and_not_fatal(tmp_path, monkeypatch, capsys):
    import errno

    from freqbayes import _io
    from freqbayes.manifest import claim_out

    def no_locks(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(_io.fcntl, "flock", no_locks)
    running = {"model": "linear", "status": "running", "methods": {}}
    (tmp_path / "manifest-linear.json").write_text(json.dumps(running))
    with claim_out(tmp_path):
        pass
    assert "cannot be locked" in capsys.readouterr().err
    assert json.loads((tmp_path / "manifest-linear.json").read_text()) == running  # may be live
    assert not (tmp_path / ".freqbayes.lock").exists()


def test_run_all_claims_its_folder_and_clears_its_subfolders(tmp_path, monkeypatch, capsys):
    import pandas as pd

    from freqbayes import showcase

    stale = tmp_path / "figures" / f".coverage.png.{_reaped_pid()}.abcdefgh.tmp.png"
    stale.parent.mkdir()
    stale.write_bytes(b"half a png")

    def job(out, **kwargs):  # the showcase's job, without its stages
        assert (out / ".freqbayes.lock").read_text().strip() == str(os.getpid())
        assert not stale.exists()
        return [], pd.DataFrame({"stage": ["total"], "seconds": [0.0], "outputs": [0]})

    monkeypatch.setattr(showcase, "run", job)
    assert cli.main(["run", "all", "--out", str(tmp_path), "--no-progress"]) == cli.EXIT_OK
    assert "figures/.coverage.png" in capsys.readouterr().err
    assert not (tmp_path / ".freqbayes.lock").exists()
