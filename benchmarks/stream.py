"""Minibatch SVI on a table read chunk by chunk (``--stream``) against the in-memory fits.

Run: ``.venv/bin/python benchmarks/stream.py [--rows 1e7] [--file F.parquet]``. Writes the
synthetic logistic table of ``benchmarks/big_logistic.py`` (``rows`` × 100 float32
features, a 0/1 ``y``, row groups of 131,072 rows; 10⁷ rows: about 4 GB of Parquet) unless
``--file`` names one, then runs, each in a new process under ``/usr/bin/time``:

* ``freqbayes run logistic --method svi --stream --batch-size M``: the table read in
  chunks (:mod:`freqbayes.inference.probabilistic.svi_stream`);
* ``freqbayes run logistic --method laplace``: the table read whole, the full-data mode
  and Hessian (the reference);
* with ``--inmemory-svi``, on the table read whole: ``--method svi --batch-size M``
  (Taylor control variates, :mod:`freqbayes.inference.probabilistic.svi_control`), the
  same with ``--control-variates none`` (eq. 5.98's plain estimate), and ``--method
  map``, whose fit's seconds the in-memory SVI's are compared with (issue 27: within
  0.1 sd in ≤ 0.5× the MAP's time at 10⁷).

``--no-stream`` leaves out the streamed run.

It prints wall seconds, peak resident memory and its ratio to the table's size in
memory, the streamed fit's record (Newton passes, the Taylor remainder's sd), and the
largest |mean − Laplace mean| in Laplace sds over the 101 parameters, with the ratio of
the sds. Issue 27: the subsampling methods read a 10⁷ × 100 table with bounded memory.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from big_logistic import WIDTH, timed, write


def _draws(path: Path) -> np.ndarray:
    """Every parameter's draws, (draws, 101), from a saved fit."""
    import xarray as xr

    tree = xr.open_datatree(path)
    post = tree["posterior"]
    beta = np.asarray(post["beta"]).reshape(-1, WIDTH)
    return np.column_stack([np.asarray(post["intercept"]).reshape(-1), beta])


def run(path: Path, out: Path, method: str, extra: list[str]) -> tuple[float, float, dict]:
    """(wall s, peak MiB, the fit's settings) of one ``freqbayes run`` in a new process."""
    command = [sys.executable, "-m", "freqbayes.cli", "run", "logistic", "--method", method]
    command += ["--data", str(path), "--out", str(out), "--no-progress", *extra]
    wall, peak, _ = timed(command)
    import xarray as xr

    tree = xr.open_datatree(out / f"logistic-{method}.nc")
    return wall, peak, json.loads(tree.attrs["settings"]) | {"fit_s": tree.attrs["wall_time_s"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1e7", help="rows of the table (default 1e7)")
    parser.add_argument("--file", help="a Parquet file written by an earlier run")
    parser.add_argument("--batch", type=int, default=1000, help="m', rows per step")
    parser.add_argument("--inmemory-svi", action="store_true", help="also SVI on the whole table")
    parser.add_argument("--no-stream", action="store_true", help="leave out the streamed run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = Path(args.file) if args.file else tmp / "big.parquet"
        if not args.file:
            write(path, int(float(args.rows)))
        import pyarrow.parquet as pq

        rows = pq.ParquetFile(path).metadata.num_rows
        table = rows * (WIDTH + 1) * 4 / 2**20
        batch = ["--batch-size", str(args.batch)]
        fits, others = {}, {}
        if not args.no_stream:
            fits["svi --stream"] = run(path, tmp / "stream", "svi", ["--stream", *batch])
            others["svi --stream"] = _draws(tmp / "stream" / "logistic-svi.nc")
        fits["laplace"] = run(path, tmp / "laplace", "laplace", [])
        reference = _draws(tmp / "laplace" / "logistic-laplace.nc")
        if args.inmemory_svi:
            for name, cv in (("svi (whole table)", "taylor"), ("svi, plain (whole table)", "none")):
                out = tmp / cv
                fits[name] = run(path, out, "svi", [*batch, "--control-variates", cv])
                others[name] = _draws(out / "logistic-svi.nc")
            fits["map"] = run(path, tmp / "map", "map", [])
        print(f"{rows:,} x {WIDTH} float32 + y: {table:.0f} MiB in memory, "
              f"{path.stat().st_size / 2**20:.0f} MiB of Parquet")  # fmt: skip
        print(
            "| command | wall s | fit s | peak MiB | peak / table | max |Δmean| / sd | sd ratio |"
        )
        print("|---|---|---|---|---|---|---|")
        sd = reference.std(0)
        for name, (wall, peak, settings) in fits.items():
            away, sds = "–", "–"  # the reference, and the MAP (a point)
            if name in others:
                draws = others[name]
                away = f"{np.max(np.abs(draws.mean(0) - reference.mean(0)) / sd):.3f}"
                ratio = draws.std(0) / sd
                sds = f"{ratio.min():.2f}-{ratio.max():.2f}"
            print(f"| {name} | {wall:.1f} | {settings['fit_s']:.1f} | {peak:.0f} | "
                  f"{peak / table:.2f} | {away} | {sds} |")  # fmt: skip
        keep = ("newton_passes", "newton_path", "taylor_remainder_sd", "taylor_remainder_error")
        keep += ("chunks", "gradient_z")
        for name in ("svi --stream", "svi (whole table)"):
            if name in fits:
                print(f"{name}:", {k: fits[name][2].get(k) for k in keep if k in fits[name][2]})
        if "map" in fits:
            ratio = fits["svi (whole table)"][2]["fit_s"] / fits["map"][2]["fit_s"]
            print(f"in-memory svi's fit / map's fit: {ratio:.2f}")


if __name__ == "__main__":
    main()
