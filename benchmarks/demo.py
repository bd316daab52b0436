"""`make demo` with an empty compilation cache: seconds, programs and compile time per stage.

Run: ``.venv/bin/python benchmarks/demo.py [--quick] [--workers N] [--buckets off]``.
Starts ``freqbayes run all`` in a new process with a fresh, empty JAX compilation cache
(a temporary ``FREQBAYES_COMPILATION_CACHE``, as on a user's first run) and a temporary
output folder, then prints the stage table the run wrote (``timings/stages.csv``):
seconds, XLA programs compiled (counted through JAX's monitoring events,
:func:`freqbayes.inference.compilation.count_compilations`) and the seconds they took,
and the whole process's wall time. ``--buckets off`` runs it with
``FREQBAYES_SHAPE_BUCKETS=off`` (every data size its own program: the compile count
before shape buckets). Issue 26's target: ≤ 3 min with an empty cache, the number of
programs halved.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

FREQBAYES = Path(sys.executable).with_name("freqbayes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the small run (run all --quick)")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: cores)")
    parser.add_argument("--buckets", choices=("on", "off"), default="on")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "showcase"
        env = {
            **os.environ,
            "JAX_PLATFORMS": "cpu",
            "FREQBAYES_COMPILATION_CACHE": str(Path(tmp) / "cache"),
            "FREQBAYES_SHAPE_BUCKETS": args.buckets,
        }
        argv = [str(FREQBAYES), "run", "all", "--out", str(out), "--no-progress"]
        argv += ["--quick"] if args.quick else []
        argv += [] if args.workers is None else ["--workers", str(args.workers)]
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"run all failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
        table = pd.read_csv(out / "timings" / "stages.csv")
    print(table.round(1).to_string(index=False))
    print(f"\nwhole process: {wall:.1f} s (buckets {args.buckets}, quick {args.quick})")


if __name__ == "__main__":
    main()
