"""Each process of a multi-process run reads only its own rows: host memory per process.

Run: ``.venv/bin/python benchmarks/shares.py [--rows 2e5] [--cols 50] [--processes 2]``.
Writes a logistic table (float32 features, 0/1 ``y``, row groups of 131,072 rows) to
Parquet in a temporary folder, then measures, each in a new Python process (so that one
does not inherit the other's allocations), what one process of a P-process run does on
the host before its rows go to its devices:

- ``whole`` (before issue 27's shares): read the whole table, its data arguments, the
  default priors and the scaling from all rows, the rows padded for P devices, and this
  process's slice of them;
- ``share`` (now, :mod:`freqbayes.inference.probabilistic.shares`): read its own rows
  (the row groups it needs), summarise them, the priors and scaling from the summaries
  (merged here from every process's summaries, as the collective does), its padded part;
- ``stream`` (the alternative not taken): its own rows as ``share``, but the summaries
  from one streaming pass over the whole table in this process (no collective).

The collective itself, ``shares.allgather`` of one 6 × 100 float64 summary between two
processes on 127.0.0.1 (gloo), took 4.2 ms per call here (2026-12-05, 20 calls).

Printed per process: the peak of NumPy's allocations (``tracemalloc``; pyarrow's memory
pool is not counted), the peak resident memory of the process (``ru_maxrss``, which also
holds the interpreter, NumPy, pyarrow and JAX's import) and the seconds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

GROUP = 131_072

CHILD = r"""
import json, resource, sys, time, tracemalloc
import numpy as np
from freqbayes.models.registry import get_model
path, way, index, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
model = get_model("logistic")
from freqbayes.inference.probabilistic import rows, shares
from freqbayes.models.tables import as_dataset
others = []  # every other process's summaries, as the allgather brings them (small)
if way == "share":
    others = [shares.read_share(path, model, index=i, count=count, devices=count).share.summaries
              for i in range(count) if i != index]
tracemalloc.start()
start = time.perf_counter()
if way == "whole":
    data = as_dataset(path, model)
    arrays = model.data_arguments(data)
    priors = model.resolve_priors(None, arrays)
    s = model.scaling(arrays, priors)
    padded = rows.padded_arguments(model, arrays, count)
    size = padded[rows.ROW_MASK].shape[0]
    begin, end = shares.process_rows(size, index, count)
    local = {k: np.ascontiguousarray(v[begin:end]) for k, v in padded.items()}
    del padded
else:
    data = shares.read_share(path, model, index=index, count=count, devices=count)
    if way == "stream":  # the alternative: every process streams the whole table for them
        from freqbayes.models import pieces
        from freqbayes.models.probabilistic.scaling import summarise
        features = [c for c in pieces.columns_of(path) if c != "y"]
        n = data.share.n
        others = [{}]
        for i in range(0, n, pieces.BATCH_ROWS):
            stop = min(n, i + pieces.BATCH_ROWS)
            others.append({"X": summarise(pieces.read_rows(path, features, i, stop)),
                           "y": summarise(pieces.read_rows(path, ["y"], i, stop)[:, 0])})
        data.share.summaries.clear()
    merged = shares.merge_summaries([data.share.summaries, *others])
    share = data.share.__class__(**{**data.share.__dict__, "summaries": merged})
    arrays = model.data_arguments(data)
    whole = shares.stand_ins(shares.real_rows(model, arrays, share), share)
    priors = model.resolve_priors(None, whole)
    s = model.scaling(whole, priors)
    local = shares.local_arguments(model, arrays, share)
seconds = time.perf_counter() - start
peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({"peak_mb": peak / 2**20, "seconds": seconds,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "rows": int(local["y"].shape[0]), "x_scale": np.asarray(s.x_scale).tolist()}))
"""


def write_table(path: Path, rows: int, cols: int) -> float:
    """A logistic table as Parquet; its size in memory (MiB: float32 X, int64 y)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, cols)).astype(np.float32)
    w = rng.normal(size=cols) / np.sqrt(cols)
    y = (rng.uniform(size=rows) < 1 / (1 + np.exp(-(X @ w)))).astype(np.int64)
    table = pa.table({**{f"x{j}": X[:, j] for j in range(cols)}, "y": y})
    pq.write_table(table, path, row_group_size=GROUP)
    return (X.nbytes + y.nbytes) / 2**20


def measure(path: Path, way: str, index: int, count: int) -> dict:
    """One process's host-side work (:data:`CHILD`) in a new Python process."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), way, str(index), str(count)],
        capture_output=True,
        text=True,
        check=True,
        env={"JAX_PLATFORMS": "cpu", "PATH": "/usr/bin:/bin"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Print the table: per process, whole against share."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=2e5)
    parser.add_argument("--cols", type=int, default=50)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "table.parquet"
        size = write_table(path, int(args.rows), args.cols)
        print(f"{int(args.rows):,} × {args.cols} float32 table: {size:.1f} MiB in memory; "
              f"{args.processes} processes")  # fmt: skip
        print(f"{'process':>7} {'way':>6} {'rows':>8} {'numpy peak MiB':>15} "
              f"{'RSS MiB':>8} {'seconds':>8}")  # fmt: skip
        scales = {}
        for index in range(args.processes):
            for way in ("whole", "share", "stream"):
                r = measure(path, way, index, args.processes)
                scales[way] = r["x_scale"]
                print(f"{index:>7} {way:>6} {r['rows']:>8} {r['peak_mb']:>15.1f} "
                      f"{r['rss_mb']:>8.0f} {r['seconds']:>8.2f}")  # fmt: skip
        for way in ("share", "stream"):
            gap = np.max(np.abs(np.subtract(scales["whole"], scales[way])) / scales["whole"])
            print(f"feature scales, {way} against whole: largest relative difference {gap:.1e}")


if __name__ == "__main__":
    main()
