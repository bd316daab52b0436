"""Import time of the package's entry points, beside their peers, each in a fresh interpreter.

Run: ``.venv/bin/python benchmarks/imports.py [repeats]``. Prints the median wall time
of ``python -c STATEMENT`` over ``repeats`` runs (interpreter start included, so the
empty statement is the floor), the cumulative time ``python -X importtime`` gives
to the statement's top-level imports, and the heavy libraries it loaded. Issue 10's
target: ``from freqbayes import KMeans`` under 1.5 s, without NumPyro, ArviZ or
Matplotlib; issue 26's: the command line's listing and saved-fit readers without JAX
or NumPyro (``benchmarks/cold_start.py --read`` times the commands themselves).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time

STATEMENTS = {
    "(empty interpreter)": "pass",
    "import jax": "import jax",
    "from sklearn.cluster import KMeans (peer)": "from sklearn.cluster import KMeans",
    "from freqbayes import KMeans": "from freqbayes import KMeans",
    "from freqbayes import SVC, SGDClassifier, KNeighborsClassifier": (
        "from freqbayes import SVC, SGDClassifier, KNeighborsClassifier"
    ),
    "import freqbayes.cli (freqbayes --help)": "import freqbayes.cli",
    "freqbayes.listing.lines() (freqbayes list)": "from freqbayes.listing import lines; lines()",
    "import freqbayes.saved (reading a fit)": "import freqbayes.saved",
    "saved.plot's imports (freqbayes plot)": (
        "import freqbayes.saved, arviz_plots, freqbayes.figures.forest"
    ),
    "from freqbayes.inference import fit (NumPyro side)": (
        "from freqbayes.inference import fit; import freqbayes.inference.probabilistic.optimize"
    ),
}
HEAVY = (
    "jax",
    "numpyro",
    "optax",
    "sklearn",
    "arviz",
    "arviz_stats",
    "arviz_plots",
    "matplotlib",
    "scipy.stats",
    "xarray",
    "pandas",
)


def wall(statement: str, repeats: int) -> float:
    """Median wall time of a fresh interpreter running ``statement``."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], check=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def importtime(statement: str) -> tuple[float, list[str]]:
    """Seconds ``-X importtime`` attributes to top-level imports, and which heavy ones ran."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    ).stderr
    total, loaded = 0, set()
    for line in err.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if not m:
            continue
        cumulative, indent, name = int(m.group(1)), len(m.group(2)), m.group(3)
        if indent == 1:  # a top-level import of the statement (or of site)
            total += cumulative
        loaded.add(name)
    return total / 1e6, [h for h in HEAVY if h in loaded]


def main(repeats: int = 5) -> None:
    print(f"median of {repeats} fresh interpreters; Python {sys.version.split()[0]}")
    print(f"{'statement':62s} {'wall s':>7s} {'imports s':>9s}  heavy modules loaded")
    for label, statement in STATEMENTS.items():
        seconds = wall(statement, repeats)
        imports, heavy = importtime(statement)
        print(f"{label:62s} {seconds:7.2f} {imports:9.2f}  {', '.join(heavy) or '-'}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
