"""The full simulation-based calibration: every method with a posterior, every model.

    make sbc     # or: python benchmarks/sbc.py [--num N] [--out DIR] [--scheduler S]
    python benchmarks/sbc.py --power [--num 200 500 1000] [--reps 100]

For each model (its calibration set-up in ``freqbayes.inference.calibration.CASES``)
and each method, N data sets (default 1,000) are simulated from the prior and fitted
through the public ``inference.fit`` at the full sizes (L = 99 posterior draws per data
set); the ranks of the true parameters are tested for uniformity (χ² on ten bins and
arviz-stats' ECDF test). Two negative controls, NUTS's draws with every posterior 20%
too narrow and with every mean a quarter sd off, must fail. Writes ``sbc.csv``
(p-values), the rank histograms ``sbc.png`` and ``sbc-ranks.csv`` under ``--out``
(default ``runs/sbc``) and prints the verdicts. ``--scheduler local:N`` (N worker
processes here) or a Dask scheduler's address hands the data sets out in pieces
(``freqbayes.scheduler``): the same tables.

``--power`` runs no fit: for each N, ``--reps`` SBCs of the exact conjugate posterior
and of the two controls made from it (``calibration.power``), and prints how often
each is rejected (some parameter with p < 0.001) by each test, and the share of single
parameters rejected.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import pandas as pd

from freqbayes import figures, scheduler
from freqbayes._io import atomic_path
from freqbayes.inference.probabilistic import calibration as C


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--num", type=int, nargs="+", default=None, help="simulated data sets per SBC"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/sbc"))
    parser.add_argument("--power", action="store_true", help="the tests' power, no fits")
    parser.add_argument("--reps", type=int, default=100, help="repetitions of --power")
    parser.add_argument("--scheduler", default=None, help="a Dask cluster: local:N or an address")
    args = parser.parse_args()
    if args.power:
        power(args.num or [200, 500, 1000], args.reps, args.seed)
        return
    if args.num is not None and len(args.num) != 1:
        parser.error("--num: one number without --power")
    num = 1000 if args.num is None else args.num[0]
    start = time.perf_counter()
    with scheduler.connect(args.scheduler and scheduler.parse(args.scheduler)) as client:
        results = calibrate_all(num, args.seed, client and scheduler.mapper(client))
    print(f"total {time.perf_counter() - start:.0f} s")
    controls = [C.distorted(results[("linear", "nuts")], f, s) for f, s in C.CONTROLS[1:]]
    for control in controls:
        fails = control.min_pvalue < C.THRESHOLD
        print(
            f"negative control, linear {control.method}: min p = {control.min_pvalue:.2e} "
            f"({'fails, as it must' if fails else 'PASSES: the test has no power'})"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    table = pd.concat([r.table() for r in [*results.values(), *controls]], ignore_index=True)
    with atomic_path(args.out / "sbc.csv") as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")
    ranks = pd.concat(
        [r.ranks.assign(model=m, method=k) for (m, k), r in results.items()], ignore_index=True
    )
    with atomic_path(args.out / "sbc-ranks.csv") as tmp:
        ranks.to_csv(tmp, index=False)
    fig = figures.calibration(results)
    with atomic_path(args.out / "sbc.png") as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    print(f"written: {args.out}/sbc.csv, sbc-ranks.csv, sbc.png")


def calibrate_all(num: int, seed: int, mapper: Any) -> dict[tuple[str, str], C.Result]:
    """Every model and method at the full sizes; one verdict line each as it ends."""
    results = {}
    for model, methods in C.METHODS.items():
        for method in methods:
            r = C.calibrate(model, method, num=num, seed=seed, sizes=C.FULL, mapper=mapper)
            results[(model, method)] = r
            verdict = "ok " if r.min_pvalue >= C.THRESHOLD else "BAD"
            print(
                f"{verdict} {model:9s} {method:13s} min p = {r.min_pvalue:.2e}  "
                f"converged {r.converged:.1%}  {r.seconds:6.1f} s  "
                + " ".join(f"{k} {v:.2g}" for k, v in r.pvalues.items()),
                flush=True,
            )
    return results


def power(nums: list[int], reps: int, seed: int) -> None:
    """Print the rejection rates of the exact posterior and the two controls, per N."""
    for num in nums:
        start = time.perf_counter()
        rates = C.rejections(C.power(num=num, reps=reps, seed=seed))
        print(
            f"N = {num} data sets, L = 99 draws, {reps} repetitions "
            f"({time.perf_counter() - start:.0f} s): share rejected at p < {C.THRESHOLD:g}"
        )
        print(rates.to_string(float_format=lambda v: f"{v:.3f}"), flush=True)


if __name__ == "__main__":
    main()
