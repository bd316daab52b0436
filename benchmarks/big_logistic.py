"""Logistic regression on a table larger than is comfortable: freqbayes' MAP against scikit-learn.

Run: ``.venv/bin/python benchmarks/big_logistic.py [--rows 1e6] [--skip-inmemory]``
(``--rows 1e7`` writes 5.8 GB of Parquet; not run by default). Writes synthetic logistic data,
``rows`` × 100 float32 features and a 0/1 ``y``, to Parquet in a temporary folder (row
groups of 131,072 rows), then measures, on this machine, in one run:

(a) the fit alone on the in-memory float32 array: freqbayes' ``map`` (priors
    β ~ N(0, 2.5²) each, intercept N(0, 1000²), nearly flat but proper) against
    ``LogisticRegression(solver="lbfgs", C=2.5²)`` (the same penalty on β: its objective
    C·Σ loss + ½‖w‖² is the negative log-posterior times C; its intercept is not
    penalised), in one process, seconds and the largest difference of the coefficients;
(b) the whole command ``freqbayes run logistic --data FILE --method map`` (default priors)
    in a new process against a new Python process that reads the Parquet file with pandas
    and fits scikit-learn's model: wall seconds and peak resident memory
    (``/usr/bin/time -f "%e %M"``), with their ratios; and the table's size in memory.

Issue 27's targets: (a) ≤ 1.0×, (b) ≤ 2× scikit-learn's process, peak ≤ 2.5× the table.

``--passes``: each pass over the data that the command made before issue 27 (``old``)
against the present one (``new``) on the same table, in this process: seconds and the
peak of NumPy's allocations (``tracemalloc``; pyarrow's pool is not counted).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

WIDTH = 100
GROUP = 131_072
SCALE = 2.5

SKLEARN = """
import sys, time
import numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
frame = pd.read_parquet(sys.argv[1])
X = frame.drop(columns="y").to_numpy(); y = frame["y"].to_numpy()
start = time.perf_counter()
model = LogisticRegression(solver="lbfgs", C=float(sys.argv[2]), max_iter=1000).fit(X, y)
print(f"sklearn fit {time.perf_counter() - start:.2f} s", file=sys.stderr)
"""


def write(path: Path, rows: int, seed: int = 0) -> np.ndarray:
    """Synthetic logistic data to Parquet, a row group at a time; the true coefficients."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    beta = rng.normal(0.0, 0.3, WIDTH).astype(np.float32)
    names = [f"x{j + 1}" for j in range(WIDTH)]
    schema = pa.schema([(c, pa.float32()) for c in names] + [("y", pa.float32())])
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, rows, GROUP):
            m = min(GROUP, rows - start)
            X = rng.standard_normal((m, WIDTH), dtype=np.float32)
            p = 1.0 / (1.0 + np.exp(-(X @ beta + 0.3)))
            y = (rng.random(m) < p).astype(np.float32)
            columns = {c: X[:, j] for j, c in enumerate(names)} | {"y": y}
            writer.write_table(pa.table(columns, schema=schema), row_group_size=GROUP)
    return beta


def timed(command: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak resident MiB, stdout + stderr) of a command under ``/usr/bin/time``."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M", *command], capture_output=True, text=True, env=env
    )
    last = done.stderr.strip().splitlines()[-1]
    if done.returncode != 0:
        # e.g. "Command terminated by signal 9": the kernel's out-of-memory killer
        reason = next((x for x in done.stderr.splitlines() if "terminated" in x), "")
        raise RuntimeError(
            f"{command[:4]} failed ({reason}; wall s, peak KiB: {last}): {done.stderr[-2000:]}"
        )
    wall, kb = last.split()
    return float(wall), int(kb) / 1024, done.stdout + done.stderr


def in_memory(path: Path) -> None:
    """(a): both fits on the same in-memory float32 array, in this process; then minibatch
    SVI with control variates on it, against the MAP's time (issue 27)."""
    from sklearn.linear_model import LogisticRegression

    from freqbayes import inference
    from freqbayes.inference.compilation import configure_jax
    from freqbayes.models import pieces
    from freqbayes.models.probabilistic import priors as P

    configure_jax()
    names = [f"x{j + 1}" for j in range(WIDTH)]
    X = pieces.read_rows(path, names)
    y = pieces.read_rows(path, ["y"])[:, 0]
    priors = {"beta_prior": P.Normal(0.0, SCALE), "intercept_prior": P.Normal(0.0, 1e3)}
    times = []
    for _ in range(2):  # the first call compiles
        start = time.perf_counter()
        tree = inference.fit("logistic", "map", (X, y), priors=priors, pointwise="none")
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    sk = LogisticRegression(solver="lbfgs", C=SCALE**2, max_iter=1000).fit(X, y)
    t_sk = time.perf_counter() - start
    beta = tree.posterior["beta"].values.reshape(-1)
    diff = float(np.max(np.abs(beta - sk.coef_[0])))
    print(f"(a) in memory, {X.shape[0]:,} x {WIDTH} float32 ({X.nbytes / 1e6:.0f} MB)")
    print("| fit | seconds | ratio |")
    print("|---|---|---|")
    print(f"| freqbayes map, first call (compiles) | {times[0]:.2f} | {times[0] / t_sk:.2f} |")
    print(f"| freqbayes map, second call | {times[1]:.2f} | {times[1] / t_sk:.2f} |")
    print(f"| scikit-learn lbfgs | {t_sk:.2f} | 1 |")
    print(f"largest |Δβ| freqbayes − scikit-learn: {diff:.2e}")
    # issue 27: minibatch SVI with control variates in <= 0.5x the MAP's time
    cv = []
    for _ in range(2):
        start = time.perf_counter()
        inference.fit("logistic", "svi", (X, y), priors=priors, pointwise="none", batch_size=1000)
        cv.append(time.perf_counter() - start)
    print(f"svi, batch_size=1000, control variates: {cv[0]:.2f} s (first call), {cv[1]:.2f} s "
          f"(second): {cv[1] / times[1]:.2f}x the map's second call\n")  # fmt: skip


def whole_command(path: Path, out: Path) -> None:
    """(b): the command line and scikit-learn's process, each a new process."""
    fb = [sys.executable, "-m", "freqbayes.cli", "run", "logistic", "--method", "map"]
    fb += ["--data", str(path), "--out", str(out), "--no-progress"]
    t_fb, m_fb, said = timed(fb)
    print(f"freqbayes run: {t_fb:.1f} s, peak {m_fb:.0f} MiB", flush=True)
    try:
        t_sk, m_sk, err_sk = timed([sys.executable, "-c", SKLEARN, str(path), str(SCALE**2)])
    except RuntimeError as failed:  # at 10⁷ rows it ran out of memory here (23 GiB)
        print(f"scikit-learn's process: {str(failed)[:300]}")
        print(next((line for line in said.splitlines() if line.startswith("map:")), ""))
        return
    table = path.stat().st_size
    rows = int(float(ARGS.rows)) if ARGS.file is None else _rows(path)
    memory = rows * (WIDTH + 1) * 4 / 2**20
    print(f"(b) whole command, Parquet file {table / 2**20:.0f} MiB on disk, table in memory")
    print(f"{memory:.0f} MiB ({rows:,} x {WIDTH + 1} float32)")
    print("| process | wall s | peak MiB | wall ratio | peak / table |")
    print("|---|---|---|---|---|")
    print(f"| freqbayes run | {t_fb:.1f} | {m_fb:.0f} | {t_fb / t_sk:.2f} | {m_fb / memory:.2f} |")
    print(f"| scikit-learn | {t_sk:.1f} | {m_sk:.0f} | 1 | {m_sk / memory:.2f} |")
    print(next(line for line in err_sk.splitlines() if line.startswith("sklearn fit")))
    print(next((line for line in said.splitlines() if line.startswith("map:")), ""))


def passes(path: Path) -> None:
    """Before → after of each pass over the data, old and new code side by side."""
    import gc
    import hashlib
    import io
    import tracemalloc

    import pandas as pd

    from freqbayes.inference.buckets import bucket_size, pad_rows
    from freqbayes.models import pieces
    from freqbayes.models.data import fingerprint
    from freqbayes.models.dataset import Dataset
    from freqbayes.models.probabilistic import scaling

    names = [f"x{j + 1}" for j in range(WIDTH)]
    X = pieces.read_rows(path, names)
    y = pieces.read_rows(path, ["y"])[:, 0]
    Xd = X.astype(float)  # the old code held the features as float64 (as_finite_array)
    small = pd.DataFrame(X[:100_000], columns=names).assign(y=y[:100_000])

    def old_read() -> None:
        raw = path.read_bytes()
        hashlib.sha256(raw).hexdigest()
        frame = pd.read_parquet(io.BytesIO(raw))
        values = frame.to_numpy(dtype=float)
        np.delete(values, WIDTH, axis=1)

    def new_read() -> None:
        pieces.file_sha256(path)
        pieces.read_rows(path, names)
        pieces.read_rows(path, ["y"])

    def old_fingerprint() -> None:
        h = hashlib.sha256()
        for a in (Xd, y):
            arr = np.ascontiguousarray(a, dtype=np.float64)
            h.update(str(arr.shape).encode())
            h.update(arr.tobytes())

    def old_scaling() -> None:
        for _ in range(5):  # scaling_of ran five times per fit
            full = np.asarray(Xd, dtype=float)
            full.mean(axis=0)
            scaling.column_scale(full)

    def new_scaling() -> None:
        scaling.forget()
        for _ in range(5):
            scaling.blocked_column_stats(X)

    size = bucket_size(len(X))
    cases = [
        ("read + file hash (10⁶ rows)", old_read, new_read),
        (
            "frame hash (10⁵ rows)",
            lambda: hashlib.sha256(small.to_csv(index=False).encode()).hexdigest(),
            lambda: pieces.frame_sha256(small),
        ),
        ("fingerprint", old_fingerprint, lambda: fingerprint(Dataset("d", y, X))),
        ("column statistics ×5", old_scaling, new_scaling),
        (
            "pad rows",
            lambda: np.pad(Xd, [(0, size - len(X)), (0, 0)]),
            lambda: pad_rows(X, size),
        ),
    ]
    print("| pass | old s | new s | old peak MiB | new peak MiB |")
    print("|---|---|---|---|---|")
    for name, old, new in cases:
        row = []
        for fn in (old, new):
            gc.collect()
            tracemalloc.start()
            start = time.perf_counter()
            fn()
            row.append((time.perf_counter() - start, tracemalloc.get_traced_memory()[1] / 2**20))
            tracemalloc.stop()
        (t0, m0), (t1, m1) = row
        print(f"| {name} | {t0:.2f} | {t1:.2f} | {m0:.0f} | {m1:.0f} |")


def _rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        if ARGS.file is None:
            path = Path(tmp) / "big.parquet"
            start = time.perf_counter()
            write(path, int(float(ARGS.rows)))
            took = time.perf_counter() - start
            print(f"wrote {path.stat().st_size / 2**20:.0f} MiB in {took:.1f} s")
        else:  # a file this benchmark wrote before (write(): the same seed, the same data)
            path = Path(ARGS.file)
        if ARGS.passes:
            passes(path)
            return
        if not ARGS.skip_inmemory:
            in_memory(path)
        whole_command(path, Path(tmp) / "out")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1e6", help="rows of the table (default 1e6)")
    parser.add_argument("--skip-inmemory", action="store_true", help="only the whole command")
    parser.add_argument("--passes", action="store_true", help="each pass, old against new")
    parser.add_argument("--file", help="a Parquet file written by an earlier run (--rows ignored)")
    ARGS = parser.parse_args()
    main()
