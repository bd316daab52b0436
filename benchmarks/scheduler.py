"""Replicate studies here and on a local Dask cluster: wall time and the same results.

    python benchmarks/scheduler.py [--workers 2] [--num 100] [--reps 400]

Two studies, each run in this process and then on ``local:N`` (``freqbayes.scheduler``,
N worker processes with one thread each, started once; its start is timed apart): the
SBC of NUTS on the linear case (``--num`` data sets, the tests' sizes, pieces of 25)
and a coverage study of the logistic Wald and profile intervals (``--reps`` data sets
of n = 50, pieces of 100). Each worker compiles its own programs once, as a new process
must (the persistent compilation cache is off here, as in the tests). Prints seconds,
the ratio (cluster / here) and whether the results are identical.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("FREQBAYES_COMPILATION_CACHE", "off")

import numpy as np

from freqbayes import scheduler
from freqbayes.inference import prepare
from freqbayes.inference.probabilistic import calibration as C
from freqbayes.inference.probabilistic import repeated
from freqbayes.models.dataset import Dataset


def _timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--num", type=int, default=100, help="SBC data sets")
    parser.add_argument("--reps", type=int, default=400, help="coverage data sets")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    X = rng.normal(0, 1, (50, 1))
    problem = prepare("logistic", Dataset("sim", (rng.random(50) < 0.5).astype(float), X, ("x",)))
    truth = {"intercept": -1.0, "beta": np.array([2.0])}
    sbc = {"num": args.num, "seed": 0, "sizes": C.QUICK}
    cover = {"seed": 1, "methods": ("wald", "profile")}

    here_sbc, t_sbc = _timed(C.calibrate, "linear", "nuts", **sbc)
    here_cov, t_cov = _timed(repeated.simulated_intervals, problem, truth, args.reps, **cover)
    start = time.perf_counter()
    with scheduler.connect(f"local:{args.workers}") as client:
        t_start = time.perf_counter() - start
        mapper = scheduler.mapper(client)
        there_sbc, c_sbc = _timed(C.calibrate, "linear", "nuts", **sbc, mapper=mapper)
        there_cov, c_cov = _timed(
            repeated.simulated_intervals, problem, truth, args.reps, **cover, mapper=mapper
        )
    same_sbc = here_sbc.ranks.equals(there_sbc.ranks)
    same_cov = all(
        np.array_equal(a, b, equal_nan=True)
        for k, v in here_cov.items()
        for a, b in (
            zip(v, there_cov[k], strict=True) if isinstance(v, tuple) else [(v, there_cov[k])]
        )
    )
    print(f"local:{args.workers} started in {t_start:.1f} s (os.cpu_count() = {os.cpu_count()})")
    print(f"{'study':34s} {'here s':>8s} {'cluster s':>10s} {'ratio':>6s}  identical")
    for name, a, b, same in (
        (f"SBC linear/nuts, {args.num} data sets", t_sbc, c_sbc, same_sbc),
        (f"coverage wald+profile, {args.reps} sets", t_cov, c_cov, same_cov),
    ):
        print(f"{name:34s} {a:8.1f} {b:10.1f} {b / a:6.2f}  {same}")


if __name__ == "__main__":
    main()
