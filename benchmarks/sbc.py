"""The full simulation-based calibration: every method with a posterior, every model.

    make sbc     # or: python benchmarks/sbc.py [--num N] [--out DIR]

For each model (its calibration set-up in ``freqbayes.inference.calibration.CASES``)
and each method, N data sets (default 1,000) are simulated from the prior and fitted
at the full sizes (S = 99 posterior draws per data set); the ranks of the true
parameters are tested for uniformity (χ², ten bins). A negative control, NUTS with
every posterior 20% too narrow, must fail. Writes ``sbc.csv`` (p-values), the rank
histograms ``sbc.png`` and ``sbc-ranks.csv`` under ``--out`` (default ``runs/sbc``)
and prints the verdicts.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import pandas as pd

from freqbayes import figures
from freqbayes._io import atomic_path
from freqbayes.inference.probabilistic import calibration as C


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num", type=int, default=1000, help="simulated data sets per method")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/sbc"))
    args = parser.parse_args()
    results = {}
    start = time.perf_counter()
    for model, methods in C.METHODS.items():
        for method in methods:
            r = C.calibrate(model, method, num=args.num, seed=args.seed, sizes=C.FULL)
            results[(model, method)] = r
            verdict = "ok " if r.min_pvalue >= 1e-3 else "BAD"
            print(
                f"{verdict} {model:9s} {method:13s} min p = {r.min_pvalue:.2e}  "
                f"converged {r.converged:.1%}  {r.seconds:6.1f} s  "
                + " ".join(f"{k} {v:.2g}" for k, v in r.pvalues.items()),
                flush=True,
            )
    control = C.shrunk(results[("linear", "nuts")], 0.8)
    print(
        f"negative control, linear NUTS with sds × 0.8: min p = {control.min_pvalue:.2e} "
        f"({'fails, as it must' if control.min_pvalue < 1e-3 else 'PASSES: the test has no power'})"
    )
    print(f"total {time.perf_counter() - start:.0f} s")
    args.out.mkdir(parents=True, exist_ok=True)
    table = pd.concat([r.table() for r in [*results.values(), control]], ignore_index=True)
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


if __name__ == "__main__":
    main()
