"""A first grid search, freqbayes against scikit-learn: compilation is what a user meets first.

Run: ``.venv/bin/python benchmarks/grid_search.py``. For each of five learners,
``GridSearchCV(make_pipeline(StandardScaler(), est), grid_of_4, cv=5)`` on breast cancer
(folds of 455/456 rows, the refit on 569), freqbayes' class then scikit-learn's (default
threads) in one process: seconds, the ratio, whether the best parameters are equal, the
largest difference of the mean CV scores over the grid, and the programs JAX compiled
(:func:`~freqbayes.inference.compilation.count_compilations`). Two new processes share
one empty persistent compilation cache (``FREQBAYES_COMPILATION_CACHE`` set to a new
temporary folder): the first compiles everything, the second reads the cache (a user's
second session). Prints a markdown table. Issue 26's targets: ≤ 3× scikit-learn in the
first process, ≤ 1.5× in the second.

``--child first|second``: one process's measurements as JSON lines (used by the above).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

#: learner → (grid, scikit-learn module); the grids of tests/test_compile_budgets.py
GRIDS = {
    "LinearSVC": ({"C": [0.01, 0.1, 1.0, 10.0]}, "svm"),
    "SVC": ({"C": [0.5, 2.0], "gamma": ["scale", 0.01]}, "svm"),
    "SGDClassifier": ({"alpha": [1e-5, 1e-4, 1e-3, 1e-2]}, "linear_model"),
    "KNeighborsClassifier": ({"n_neighbors": [3, 5, 7, 9]}, "neighbors"),
    "KMeans": ({"n_clusters": [2, 3, 4, 5]}, "cluster"),
}
SEEDED = ("SGDClassifier", "KMeans")


def search(cls: type, name: str, X, y) -> tuple[float, object]:
    """Seconds of one GridSearchCV fit (with its refit) and the fitted search."""
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    grid, _ = GRIDS[name]
    est = cls(random_state=0) if name in SEEDED else cls()
    step = type(est).__name__.lower()
    gs = GridSearchCV(
        make_pipeline(StandardScaler(), est),
        {f"{step}__{k}": v for k, v in grid.items()},
        cv=5,
    )
    start = time.perf_counter()
    gs.fit(X, None if name == "KMeans" else y)
    return time.perf_counter() - start, gs


def child() -> None:
    """Measure every learner in this process; one JSON line each."""
    import importlib

    import jax.numpy as jnp
    import numpy as np
    from sklearn.datasets import load_breast_cancer
    from sklearn.exceptions import ConvergenceWarning

    import freqbayes
    from freqbayes.inference.compilation import count_compilations

    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y = load_breast_cancer(return_X_y=True)
    jnp.zeros(1).block_until_ready()  # JAX's start-up, not the learners'
    for name, (_, module) in GRIDS.items():
        with count_compilations() as seen:
            ours_s, ours = search(getattr(freqbayes, name), name, X, y)
        theirs_cls = getattr(importlib.import_module(f"sklearn.{module}"), name)
        theirs_s, theirs = search(theirs_cls, name, X, y)
        a = ours.cv_results_["mean_test_score"]
        b = theirs.cv_results_["mean_test_score"]
        scale = float(np.max(np.abs(b))) if name == "KMeans" else 1.0
        row = {
            "learner": name,
            "ours_s": ours_s,
            "theirs_s": theirs_s,
            "same_best": ours.best_params_ == theirs.best_params_,
            "score_diff": float(np.max(np.abs(a - b)) / scale),
            "programs": seen.count,
            "cache_hits": seen.cache_hits,
        }
        print(json.dumps(row), flush=True)


def main() -> None:
    cache = tempfile.mkdtemp(prefix="freqbayes-grid-cache-")
    env = {k: v for k, v in os.environ.items() if k != "JAX_COMPILATION_CACHE_DIR"}
    env.update(JAX_PLATFORMS="cpu", FREQBAYES_COMPILATION_CACHE=cache)
    runs = {}
    for which in ("first", "second"):
        done = subprocess.run(
            [sys.executable, __file__, "--child", which],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        runs[which] = [
            json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")
        ]
    print(f"breast cancer, 5-fold GridSearchCV of 4 points + refit; {os.cpu_count()} CPU cores")
    print()
    print(
        "| learner | process | freqbayes s | scikit-learn s | ratio | best params equal | "
        "max |Δ CV score| | programs (from cache) |"
    )
    print("| --- | --- | ---: | ---: | ---: | --- | ---: | ---: |")
    for which, rows in runs.items():
        for r in rows:
            print(
                f"| {r['learner']} | {which} | {r['ours_s']:.2f} | {r['theirs_s']:.2f} | "
                f"{r['ours_s'] / r['theirs_s']:.1f}× | {'yes' if r['same_best'] else 'no'} | "
                f"{r['score_diff']:.2g} | {r['programs']} ({r['cache_hits']}) |"
            )
    print()
    print("KMeans: the score is −inertia; its difference is relative to scikit-learn's.")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child()
    else:
        main()
