"""Issue 27's accelerator problems on whatever devices JAX sees, the peers side by side.

Run: ``python benchmarks/gpu.py [--scale S] [--only WORD ...]``. Four problems, each at
``--scale`` times its issue size (1: the sizes measured on an NVIDIA H200 on 2026-12-04;
0.01 or so for a smoke run on a CPU):

* ``map``: logistic regression MAP on 10⁶ × 100 (float32, simulated), first and second
  call (the second compiled), against scikit-learn's ``LogisticRegression(solver="lbfgs")``
  on the same array; says whether the MAP converged (with JAX's default TF32 products
  it did not on the H200: :mod:`freqbayes.inference.precision`).
* ``nuts``: 50,000 × 50 logistic, 4 chains × (500 + 500): freqbayes's ``nuts()`` (its
  ``chain_method="auto"``: ``vmap`` on accelerators), NumPyro's own ``MCMC`` with
  ``chain_method="vectorized"``, and BlackJAX with the chains in ``vmap`` (if installed);
  min bulk ESS per second of the whole call.
* ``kmeans``: 2·10⁶ × 16, k = 32, 100 Lloyd iterations, one start, against scikit-learn.
* ``knn``: 10⁶ training rows × 16, 2·10⁴ queries, k = 5, against scikit-learn.

The table gives seconds, the ratio freqbayes / peer and the device. Each freqbayes case
runs twice: "first" includes compiling, "again" is the compiled program.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import arviz as az
import jax
import numpy as np
import pandas as pd

from freqbayes.inference import fit, nuts, prepare
from freqbayes.inference.learners.kmeans import KMeans
from freqbayes.inference.learners.knn import KNeighborsClassifier
from freqbayes.models import data as D
from freqbayes.models.dataset import Dataset

ROWS: list[dict[str, Any]] = []


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = jax.block_until_ready(fn())
    return time.perf_counter() - start, out


def record(problem: str, engine: str, seconds: float, peer: float | None, note: str = "") -> None:
    ratio = f"{seconds / peer:.2f}" if peer else ""
    ROWS.append({"problem": problem, "engine": engine, "seconds": round(seconds, 3)})
    ROWS[-1].update({"ratio to peer": ratio, "note": note})
    print(ROWS[-1], flush=True)


def min_ess(draws: dict[str, np.ndarray]) -> float:
    tree = az.from_dict({"posterior": draws})
    return float(az.summary(tree, kind="diagnostics", round_to="none")["ess_bulk"].min())


def logistic_array(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d), dtype=np.float32)
    beta = rng.normal(0, 1 / np.sqrt(d), d).astype(np.float32)
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ beta + 0.3)))).astype(np.float32)
    return X, y


def case_map(scale: float) -> None:
    from sklearn.linear_model import LogisticRegression

    n, d = max(1000, int(1e6 * scale)), 100
    X, y = logistic_array(n, d)
    names = tuple(f"x{j}" for j in range(d))
    data = Dataset("synthetic", y, X, names, {"source": "benchmarks/gpu.py"})
    peer, _ = timed(lambda: LogisticRegression(solver="lbfgs", max_iter=1000).fit(X, y))
    record(f"map {n}×{d}", "scikit-learn lbfgs", peer, None)
    for label in ("first", "again"):
        try:
            seconds, _ = timed(lambda: fit("logistic", "map", data).posterior["beta"].values)
            record(f"map {n}×{d}", f"freqbayes map, {label}", seconds, peer, "converged")
        except Exception as err:  # the ConvergenceError measured on the H200 without HIGHEST
            record(f"map {n}×{d}", f"freqbayes map, {label}", float("nan"), peer, repr(err)[:80])


def case_nuts(scale: float) -> None:
    n, d, warmup, draws = max(500, int(50_000 * scale)), 50, 500, 500
    data = D.logistic_problem(n=n, d=d)
    name = f"nuts {n}×{d}, 4×({warmup}+{draws})"
    settings = dict(num_chains=4, num_warmup=warmup, num_samples=draws, progress=False)
    for label in ("first", "again"):
        seconds, tree = timed(lambda: nuts("logistic", data, **settings))
        ess = min_ess({k: v.values for k, v in tree.posterior.data_vars.items()})
        record(name, f"freqbayes nuts ({label})", seconds, None, f"{ess / seconds:.0f} ESS/s")
    problem = prepare("logistic", data)
    from numpyro.infer import MCMC, NUTS

    mcmc = MCMC(
        NUTS(problem.program),
        num_warmup=warmup,
        num_samples=draws,
        num_chains=4,
        chain_method="vectorized",
        progress_bar=False,
    )
    for label in ("first", "again"):
        seconds, _ = timed(lambda: mcmc.run(jax.random.key(1), **problem.kwargs) or 0)
        samples = mcmc.get_samples(group_by_chain=True)
        ess = min_ess({k: np.asarray(v) for k, v in samples.items()})
        record(name, f"numpyro vectorized ({label})", seconds, None, f"{ess / seconds:.0f} ESS/s")
    try:
        import blackjax
    except ImportError:
        record(name, "blackjax vmap", float("nan"), None, "blackjax not installed")
        return
    from numpyro.infer.util import initialize_model

    info = initialize_model(jax.random.key(0), problem.program, model_kwargs=problem.kwargs)
    z0 = info.param_info.z

    def logdensity(z: Any) -> Any:
        return -info.potential_fn(z)

    @jax.jit
    def chains(keys: Any) -> Any:
        def one(key: Any) -> Any:
            k_warm, k_draw = jax.random.split(key)
            warm = blackjax.window_adaptation(blackjax.nuts, logdensity)
            (state, params), _ = warm.run(k_warm, z0, num_steps=warmup)
            kernel = blackjax.nuts(logdensity, **params)

            def step(state: Any, k: Any) -> Any:
                state, _ = kernel.step(k, state)
                return state, state.position

            return jax.lax.scan(step, state, jax.random.split(k_draw, draws))[1]

        return jax.vmap(one)(keys)

    for label in ("first", "again"):
        seconds, out = timed(lambda: chains(jax.random.split(jax.random.key(2), 4)))
        ess = min_ess({k: np.asarray(v) for k, v in out.items()})
        record(name, f"blackjax vmap ({label})", seconds, None, f"{ess / seconds:.0f} ESS/s")


def case_kmeans(scale: float) -> None:
    from sklearn.cluster import KMeans as Peer

    n = max(10_000, int(2e6 * scale))
    X = np.random.default_rng(0).standard_normal((n, 16), dtype=np.float32)
    kwargs = dict(n_clusters=32, n_init=1, max_iter=100, tol=0.0, random_state=0)
    peer, _ = timed(lambda: Peer(**kwargs).fit(X).inertia_)
    record(f"kmeans {n}×16, k=32", "scikit-learn", peer, None)
    for label in ("first", "again"):
        seconds, _ = timed(lambda: KMeans(**kwargs).fit(X).inertia_)
        record(f"kmeans {n}×16, k=32", f"freqbayes ({label})", seconds, peer)


def case_knn(scale: float) -> None:
    from sklearn.neighbors import KNeighborsClassifier as Peer

    n, q = max(10_000, int(1e6 * scale)), max(1000, int(2e4 * scale))
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 16), dtype=np.float32)
    y = (X[:, 0] > 0).astype(int)
    Q = rng.standard_normal((q, 16), dtype=np.float32)
    peer, _ = timed(lambda: Peer(5).fit(X, y).predict(Q))
    record(f"knn {n} rows, {q} queries", "scikit-learn", peer, None)
    for label in ("first", "again"):
        seconds, _ = timed(lambda: KNeighborsClassifier(5).fit(X, y).predict(Q))
        record(f"knn {n} rows, {q} queries", f"freqbayes ({label})", seconds, peer)


CASES = {"map": case_map, "nuts": case_nuts, "kmeans": case_kmeans, "knn": case_knn}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="times the issue's sizes")
    parser.add_argument("--only", nargs="*", default=[], help="cases to run (default: all)")
    args = parser.parse_args()
    device = jax.devices()[0]
    print(f"devices: {jax.devices()} ({device.device_kind}); JAX {jax.__version__}", flush=True)
    for name, case in CASES.items():
        if not args.only or name in args.only:
            case(args.scale)
    print(pd.DataFrame(ROWS).to_string(index=False))


if __name__ == "__main__":
    main()
