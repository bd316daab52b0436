"""Cold start of the command line: a small fit in a new process, empty and warm compilation cache.

Run: ``.venv/bin/python benchmarks/cold_start.py [repeats]`` (``make bench`` runs it).
For each command, ``repeats`` new processes with an empty JAX compilation cache (a
fresh ``XDG_CACHE_HOME``, as on a user's first run), then ``repeats`` with the cache
that the first of them filled (every later run). Prints the median wall time of the
whole process (interpreter start and exit included) and the number of programs JAX
lowered (each one an XLA compilation with an empty cache, a cache lookup with a warm
one; counted with ``JAX_LOG_COMPILES``). Issue 12's targets: ``run linear --method
map`` ≤ 6 s empty, ≤ 3.5 s warm, ≤ 15 compilations; ``run logistic --method nuts``
≤ 15 s empty, ≤ 7 s warm.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = {
    "freqbayes run linear --method map": ["run", "linear", "--method", "map"],
    "freqbayes run logistic --method nuts": ["run", "logistic", "--method", "nuts"],
}
FREQBAYES = Path(sys.executable).with_name("freqbayes")


def one_run(argv: list[str], cache: Path, out: Path) -> tuple[float, int]:
    """Wall time of one new process and the number of programs it lowered."""
    env = {
        **os.environ,
        "JAX_PLATFORMS": "cpu",
        "XDG_CACHE_HOME": str(cache),
        "JAX_LOG_COMPILES": "1",
    }
    start = time.perf_counter()
    done = subprocess.run(
        [str(FREQBAYES), *argv, "--out", str(out), "--no-progress"],
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr[-2000:]}")
    lowered = sum(
        "Finished jaxpr to MLIR module conversion" in line for line in done.stderr.splitlines()
    )
    return elapsed, lowered


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print(f"new process each run; median of {repeats}; {os.cpu_count()} CPU cores")
    header = f"{'command':40} {'empty cache s':>14} {'warm cache s':>13} {'programs lowered':>17}"
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory(prefix="freqbayes-cold-") as tmp:
        for name, argv in COMMANDS.items():
            empty, warm, lowered = [], [], []
            for i in range(repeats):
                cache = Path(tmp) / f"cache-{name.split()[2]}-{i}"
                seconds, count = one_run(argv, cache, Path(tmp) / "out")
                empty.append(seconds)
                lowered.append(count)
            shared = Path(tmp) / f"cache-{name.split()[2]}-0"
            for _ in range(repeats):
                warm.append(one_run(argv, shared, Path(tmp) / "out")[0])
            print(
                f"{name:40} {statistics.median(empty):14.2f} {statistics.median(warm):13.2f} "
                f"{statistics.median(lowered):17.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
