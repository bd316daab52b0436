"""Subsampling methods against the full-data ones on a tall logistic regression (issue 27).

For each ``--rows`` n (default 10⁵ and 10⁶), a synthetic logistic regression with five
raw-unit features (scales 1 to 10, off-centre), then in one process:

* ``nuts``: full-data NUTS, ``--chains`` × (``--warmup`` + ``--draws``): the reference;
* ``hmcecs``: NumPyro's HMCECS, m′ = ``--batch`` rows, Taylor control variates at the
  MAP (the MAP's full-data fit included in its time), the same chains and draws;
* ``map`` and ``laplace``: the full-data L-BFGS mode, and the Gaussian at it;
* ``svi-minibatch``: mean-field SVI, m′ = ``--batch`` rows per step, ``--steps`` steps,
  eq. 5.98's plain estimate (``control_variates="none"``);
* ``svi-cv``: the same with first-order Taylor control variates at the full-data mode
  (``control_variates="taylor"``, the default with ``batch_size``).

Each row: the wall time of the whole ``fit`` call (compilation included: one call per
method, as a user makes it), the min bulk ESS over the parameters and ESS/s (the Markov
chains), and the largest |mean − reference mean| over the parameters in reference sds:
NUTS's for the samplers, the Laplace approximation's for SVI (the issue's targets:
HMCECS ESS/s ≥ 5× NUTS at 10⁶ with means within 0.1 sd; minibatch SVI within 0.1 sd of
Laplace in ≤ 0.5× the MAP's time). The peak resident memory of the process is printed
at the end. ``python benchmarks/subsampling.py [--rows 100000 1000000] [--steps N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
import warnings

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import arviz as az
import numpy as np

from freqbayes.inference import fit
from freqbayes.models.dataset import Dataset
from freqbayes.showcase.subsampling import tall_logistic as showcase_data

SCALES = np.array([1.0, 10.0, 0.1, 3.0, 1.0])
CENTRES = np.array([0.0, 5.0, 0.0, -2.0, 1.0])
WEIGHTS = np.array([0.8, -0.05, 4.0, 0.2, -0.5])


def tall_logistic(n: int, seed: int = 0) -> Dataset:
    """The showcase's tall data with five features (:data:`SCALES`, :data:`CENTRES`)."""
    return showcase_data(n, seed, SCALES, CENTRES, WEIGHTS)


def flat(tree) -> dict[str, np.ndarray]:
    """Every scalar parameter's draws, (chain, draw)."""
    post = tree.posterior
    out = {"intercept": np.asarray(post["intercept"])}
    beta = np.asarray(post["beta"])
    out.update({f"beta[{j}]": beta[..., j] for j in range(beta.shape[-1])})
    return out


def min_ess(tree) -> float:
    stats = az.summary(az.from_dict({"posterior": flat(tree)}), kind="diagnostics", round_to="none")
    return float(stats["ess_bulk"].min())


def distance(tree, reference) -> float:
    """max over parameters of |mean − reference mean| / reference sd."""
    got, ref = flat(tree), flat(reference)
    return max(abs(got[k].mean() - ref[k].mean()) / ref[k].std() for k in ref)


def timed(data: Dataset, method: str, **settings):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        tree = fit("logistic", method, data, seed=0, pointwise="none", prior_draws=0, **settings)
    return tree, time.perf_counter() - start


def run(n: int, args: argparse.Namespace) -> list[dict]:
    data = tall_logistic(n)
    chains = {"num_chains": args.chains, "num_warmup": args.warmup, "num_samples": args.draws}
    rows = []
    nuts, t_nuts = timed(data, "nuts", **chains)
    hmcecs, t_ecs = timed(data, "hmcecs", batch_size=args.batch, **chains)
    _, t_map = timed(data, "map")
    laplace, t_lap = timed(data, "laplace", num_samples=5000)
    minibatch = {"batch_size": args.batch, "num_steps": args.steps, "allow_unconverged": True}
    svi, t_svi = timed(data, "svi", control_variates="none", **minibatch)
    cv, t_cv = timed(data, "svi", control_variates="taylor", **minibatch)
    for name, tree, seconds, ref in (
        ("nuts", nuts, t_nuts, nuts),
        ("hmcecs", hmcecs, t_ecs, nuts),
        ("map", None, t_map, None),
        ("laplace", laplace, t_lap, nuts),
        ("svi-minibatch", svi, t_svi, laplace),
        ("svi-cv", cv, t_cv, laplace),
    ):
        row = {"n": n, "method": name, "seconds": round(seconds, 2)}
        if name in ("nuts", "hmcecs"):
            ess = min_ess(tree)
            row.update(ess=round(ess), ess_per_s=round(ess / seconds, 1))
        if tree is not None and tree is not ref:
            row["sd_from_ref"] = round(distance(tree, ref), 3)
            row["ref"] = "laplace" if ref is laplace else "nuts"
        if name.startswith("svi"):
            settings = json.loads(tree.attrs["settings"])
            row.update(
                gradient_z=round(settings["gradient_z"], 1), vs_map=round(seconds / t_map, 2)
            )
        rows.append(row)
    nuts_rate = rows[0]["ess_per_s"]
    rows[1]["vs_nuts"] = round(rows[1]["ess_per_s"] / nuts_rate, 2)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--draws", type=int, default=500)
    args = parser.parse_args()
    import pandas as pd

    for n in args.rows:
        table = pd.DataFrame(run(n, args))
        print(table.to_string(index=False), flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of the process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
