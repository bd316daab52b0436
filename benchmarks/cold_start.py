"""Cold start of the command line, each command in a new process.

Run: ``.venv/bin/python benchmarks/cold_start.py [repeats] [--read]`` (``make bench``
runs it; ``--read`` only the second table).

Fits: for each command, ``repeats`` new processes with an empty JAX compilation cache
(a fresh ``XDG_CACHE_HOME``, as on a user's first run), then ``repeats`` with the cache
that the first of them filled (every later run). Prints the median wall time of the
whole process (interpreter start and exit included) and the number of programs JAX
lowered (each one an XLA compilation with an empty cache, a cache lookup with a warm
one; counted with ``JAX_LOG_COMPILES``). Issue 12's targets: ``run linear --method
map`` ≤ 6 s empty, ≤ 3.5 s warm, ≤ 15 compilations; ``run logistic --method nuts``
≤ 15 s empty, ≤ 7 s warm.

Commands that only read: ``--help``, ``list`` and the commands on saved fits (made once
by ``run linear --method nuts,laplace`` with 2 chains × 300 draws). For each, the median
over ``repeats`` new processes of the wall time and of the CPU time (user + system: less
disturbed by other work on a shared machine), the cumulative time ``python -X
importtime`` gives to the top-level imports (one more process), and whether JAX or
NumPyro was really imported. Issue 26's targets: ``summary FIT.nc`` ≤ 1.0 s, ``list``
and ``--help`` ≤ 0.5 s.
"""

from __future__ import annotations

import os
import re
import resource
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

#: The commands that only read (run in a folder holding the fits in ``fits/``).
READING = {
    "freqbayes --help": "--help",
    "freqbayes list": "list",
    "freqbayes summary FIT.nc": "summary fits/linear-nuts.nc",
    "freqbayes compare A.nc B.nc": "compare fits/linear-nuts.nc fits/linear-laplace.nc",
    "freqbayes plot FIT.nc --kind trace": "plot fits/linear-nuts.nc --kind trace --out plots",
}

#: Prints, at exit, which of JAX and NumPyro were really imported (``import arviz_base``
#: leaves lazy placeholders named ``jax`` and ``numpyro`` that import nothing untouched).
REALLY = (
    "import atexit, sys\n"
    "real = {'jax': 'jax._src', 'numpyro': 'numpyro.primitives'}\n"
    "atexit.register(lambda: print('LOADED', *[k for k, v in real.items() if v in sys.modules],"
    " file=sys.stderr))\n"
    "from freqbayes.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


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


def reading(argv: list[str], folder: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one new process running ``freqbayes ARGV``."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [str(FREQBAYES), *argv], cwd=folder, env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def imports(argv: list[str], folder: Path) -> tuple[float, str]:
    """Seconds ``-X importtime`` gives to top-level imports, and JAX/NumPyro really loaded."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", REALLY, *argv],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
    ).stderr
    total = 0
    for line in err.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if m and len(m.group(2)) == 1:  # a top-level import
            total += int(m.group(1))
    loaded = next((line.split()[1:] for line in err.splitlines() if line.startswith("LOADED")), [])
    return total / 1e6, ", ".join(loaded) or "-"


def reading_table(repeats: int, tmp: Path) -> None:
    """Median wall and CPU time, import time and heavy imports of the commands that read."""
    folder = tmp / "read"
    make = "run linear --method nuts,laplace --chains 2 --draws 300 --warmup 300".split()
    one_run(make, tmp / "cache-read", folder / "fits")
    header = f"{'command':36} {'wall s':>7} {'CPU s':>6} {'imports s':>9}  JAX/NumPyro imported"
    print(header)
    print("-" * len(header))
    for name, line in READING.items():
        argv = line.split()
        runs = [reading(argv, folder) for _ in range(repeats)]
        seconds, loaded = imports(argv, folder)
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        print(f"{name:36} {wall:7.2f} {cpu:6.2f} {seconds:9.2f}  {loaded}", flush=True)


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    repeats = int(args[0]) if args else 5
    print(f"new process each run; median of {repeats}; {os.cpu_count()} CPU cores")
    if "--read" in sys.argv:
        with tempfile.TemporaryDirectory(prefix="freqbayes-cold-") as tmp:
            reading_table(repeats, Path(tmp))
        return
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
        print()
        reading_table(repeats, Path(tmp))


if __name__ == "__main__":
    main()
