"""NUTS on logistic regression: freqbayes (NumPyro) beside BlackJAX and PyMC.

One process, same model and potential. Two problems (``--problem``):

* ``breast-cancer`` (default): 569 rows, 31 parameters (30 standardised features +
  intercept, θ_j ~ N(0, 1), b ~ N(0, 5²)), 4 chains × (1000 warm-up + 1000 draws);
* ``synthetic``: 50,000 rows × 50 standard-normal features simulated from the model's
  own program (``data.logistic_problem``), 4 chains × (500 warm-up + 500 draws); PyMC
  is skipped there unless ``--pymc`` (about 7 ESS/s: minutes per run).

The process
has ``--devices`` CPU devices (default: one per core, as the command line sets up);
freqbayes runs twice, its chains one after another on one device, and split over
every device (its default); BlackJAX and PyMC run their chains one after another on
one device. For each engine:

* cold: wall time of the first run (tracing and compilation included);
* steady: the mean time of the following ``--repeats`` runs with other seeds
  (BlackJAX reuses its jitted functions; PyMC reuses its compiled model; this script
  turns JAX's compilation cache on in a temporary folder);
* min bulk ESS over the parameters (ArviZ), averaged over those runs (one seed's
  minimum over 31 parameters was 20% off the mean of 6 here: use several), and ESS
  per steady second.

Ratios are against BlackJAX. Run with ``make bench`` (installs BlackJAX, PyMC and
threadpoolctl), or ``python benchmarks/nuts_logistic.py [--problem P] [--repeats N]
[--no-pymc]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import arviz as az
import jax
import numpy as np

from freqbayes.inference import nuts, prepare
from freqbayes.inference.compilation import enable_persistent_cache
from freqbayes.models import data as D

CHAINS, WARMUP, DRAWS = 4, 1000, 1000
PROBLEMS = ("breast-cancer", "synthetic")


def min_bulk_ess(draws: dict[str, np.ndarray]) -> float:
    """Min bulk ESS over all scalar parameters; arrays are (chain, draw, ...)."""
    stats = az.summary(az.from_dict({"posterior": draws}), kind="diagnostics", round_to="none")
    return float(stats["ess_bulk"].min())


END_TO_END: dict[int, list[float]] = {}
#: The last run's draws of each engine, (chain, draw, ...) per parameter, in the user's units.
DRAWS_OF: dict[str, dict[str, np.ndarray]] = {}


def agreement(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    """Largest |mean_a − mean_b| / √(MCSE_a² + MCSE_b²) over the scalar parameters."""
    stats = [
        az.summary(az.from_dict({"posterior": d}), kind="all", round_to="none") for d in (a, b)
    ]
    diff = (stats[0]["mean"] - stats[1]["mean"]).abs()
    return float((diff / np.hypot(stats[0]["mcse_mean"], stats[1]["mcse_mean"])).max())


def run_numpyro(data: D.Dataset, seed: int, devices: int) -> tuple[float, float, int]:
    """Time the sampling (the fit's ``wall_time_s``); keep the whole nuts() call aside."""
    start = time.perf_counter()
    tree = nuts(
        "logistic",
        data,
        seed=seed,
        num_chains=CHAINS,
        num_warmup=WARMUP,
        num_samples=DRAWS,
        devices=devices,
        progress=False,
    )
    END_TO_END.setdefault(devices, []).append(time.perf_counter() - start)
    draws = {k: v.values for k, v in tree.posterior.data_vars.items()}
    DRAWS_OF[f"freqbayes, {devices} dev"] = draws
    return tree.attrs["wall_time_s"], min_bulk_ess(draws), int(tree.sample_stats["diverging"].sum())


def make_blackjax(data: D.Dataset):
    import blackjax
    from numpyro.infer.util import initialize_model

    problem = prepare("logistic", data)
    info = initialize_model(jax.random.key(0), problem.program, model_kwargs=problem.kwargs)
    potential = info.potential_fn
    z0 = info.param_info.z

    def logdensity(z):
        return -potential(z)

    @jax.jit
    def run_chain(key):
        k_warm, k_draw = jax.random.split(key)
        warmup = blackjax.window_adaptation(blackjax.nuts, logdensity)
        (state, params), _ = warmup.run(k_warm, z0, num_steps=WARMUP)
        kernel = blackjax.nuts(logdensity, **params)

        def step(state, key):
            state, info = kernel.step(key, state)
            return state, (state.position, info.is_divergent)

        _, (positions, divergent) = jax.lax.scan(step, state, jax.random.split(k_draw, DRAWS))
        return positions, divergent.sum()

    def run(seed: int) -> tuple[float, float, int]:
        start = time.perf_counter()
        chains = [run_chain(k) for k in jax.random.split(jax.random.key(seed), CHAINS)]
        jax.block_until_ready(chains)
        elapsed = time.perf_counter() - start
        draws = {k: np.stack([np.asarray(c[0][k]) for c in chains]) for k in z0}
        DRAWS_OF["blackjax"] = draws  # the program's own sites: the user's units here
        return elapsed, min_bulk_ess(draws), int(sum(int(c[1]) for c in chains))

    return run


def make_pymc(data: D.Dataset):
    import pymc as pm

    with pm.Model() as model:
        beta = pm.Normal("beta", 0.0, 1.0, shape=data.X.shape[1])
        intercept = pm.Normal("intercept", 0.0, 5.0)
        pm.Bernoulli("y", logit_p=pm.math.dot(data.X, beta) + intercept, observed=data.y)

    def run(seed: int) -> tuple[float, float, int]:
        start = time.perf_counter()
        with model:
            idata = pm.sample(
                draws=DRAWS,
                tune=WARMUP,
                chains=CHAINS,
                cores=1,
                random_seed=seed,
                nuts_sampler="pymc",
                progressbar=False,
                compute_convergence_checks=False,
            )
        elapsed = time.perf_counter() - start
        post = idata.posterior
        draws = {k: post[k].values for k in ("beta", "intercept")}
        return elapsed, min_bulk_ess(draws), int(idata.sample_stats["diverging"].sum())

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=4, help="steady-state runs per engine")
    parser.add_argument("--problem", choices=PROBLEMS, default="breast-cancer")
    parser.add_argument("--no-pymc", action="store_true", help="skip PyMC")
    parser.add_argument("--pymc", action="store_true", help="run PyMC on the synthetic problem")
    parser.add_argument("--devices", type=int, default=os.cpu_count() or 1, help="CPU devices")
    args = parser.parse_args()
    jax.config.update("jax_num_cpu_devices", args.devices)  # before JAX's first operation

    cache = tempfile.mkdtemp(prefix="freqbayes-bench-jax-")
    enable_persistent_cache(cache)

    global WARMUP, DRAWS
    if args.problem == "synthetic":
        data = D.logistic_problem(seed=0, n=50_000, d=50)
        WARMUP, DRAWS = 500, 500
        skip_pymc = args.no_pymc or not args.pymc
    else:
        data = D.breast_cancer()
        skip_pymc = args.no_pymc
    engines = {"freqbayes, 1 device": lambda seed: run_numpyro(data, seed, 1)}
    if args.devices > 1:
        engines[f"freqbayes, {args.devices} dev"] = lambda seed: run_numpyro(
            data, seed, args.devices
        )
    try:
        engines["blackjax"] = make_blackjax(data)
    except ImportError as err:
        print(f"blackjax not installed ({err}); run `make bench`")
    if not skip_pymc:
        try:
            engines["pymc (own NUTS)"] = make_pymc(data)
        except ImportError as err:
            print(f"pymc not installed ({err}); run `make bench`")

    print(
        f"NUTS, {args.problem} logistic regression (n = {data.n}, {data.X.shape[1] + 1} "
        "parameters), "
        f"{CHAINS} chains x ({WARMUP} warm-up + {DRAWS} draws), {args.devices} CPU devices"
    )
    rows = {}
    for name, run in engines.items():
        cold, ess, div = run(0)
        steady = [run(seed) for seed in range(1, args.repeats + 1)]
        time_s = float(np.mean([r[0] for r in steady]))
        ess_mean = float(np.mean([r[1] for r in steady]))
        rows[name] = (cold, time_s, ess_mean, ess_mean / time_s, div + sum(r[2] for r in steady))
        print(f"  {name}: done", flush=True)

    ref = rows["blackjax"] if "blackjax" in rows else rows["freqbayes, 1 device"]
    vs = "blackjax" if "blackjax" in rows else "freqbayes"
    cols = ("cold s", "steady s", "min ESS", "ESS/s", "div", f"ESS/s vs {vs}")
    header = f"{'engine':22}" + "".join(f" {c:>9}" for c in cols)
    print(header)
    print("-" * len(header))
    for name, (cold, steady, ess, ess_s, div) in rows.items():
        ratio = ess_s / ref[3]
        cells = (
            f"{cold:.2f}",
            f"{steady:.2f}",
            f"{ess:.0f}",
            f"{ess_s:.0f}",
            str(div),
            f"{ratio:.2f}x",
        )
        print(f"{name:22}" + "".join(f" {c:>9}" for c in cells))
    if "blackjax" in DRAWS_OF:
        z = agreement(DRAWS_OF["freqbayes, 1 dev"], DRAWS_OF["blackjax"])
        print(
            f"posterior means, freqbayes (1 device) against BlackJAX: largest difference "
            f"{z:.2f} combined MCSE ({'within' if z <= 4 else 'NOT within'} 4)"
        )
    for devices, times in END_TO_END.items():
        print(
            f"freqbayes nuts() on {devices} device(s) end to end (sampling + posterior "
            "predictive + log-likelihood + DataTree): "
            f"cold {times[0]:.2f} s, steady {np.mean(times[1:]):.2f} s (mean)"
        )


if __name__ == "__main__":
    main()
