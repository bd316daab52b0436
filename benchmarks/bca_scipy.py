"""BCa bounds: ours (infinitesimal jackknife) against scipy.stats.bootstrap on the same replicates.

scipy takes precomputed replicates (``bootstrap_result``, ``n_resamples=0``) but computes
the acceleration by jackknifing a statistic over the data. Given the influences as data
and θ̂ + mean as statistic, its acceleration is ours; this prints both times and the
largest difference of the bounds. Run: ``.venv/bin/python benchmarks/bca_scipy.py``.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np
from scipy import stats

from freqbayes.inference.probabilistic.bootstrap import bca_bounds


def scipy_bca(reps: np.ndarray, estimate: np.ndarray, influence: np.ndarray) -> tuple:
    """scipy's BCa bounds on our replicates (B × d), θ̂ (d,) and influences (n × d)."""
    n, d = influence.shape

    def statistic(u: np.ndarray, axis: int = -1) -> np.ndarray:
        m = np.mean(u, axis=axis)
        return estimate.reshape(d, *(1,) * (m.ndim - 1)) + m

    ci = stats.bootstrap(
        ((influence - influence.mean(axis=0)).T,),
        statistic,
        axis=-1,
        n_resamples=0,
        batch=max(1, int(2e7 // (n * d))),  # jackknife samples per batch: bounded memory
        bootstrap_result=SimpleNamespace(bootstrap_distribution=reps.T),
        method="BCa",
    ).confidence_interval
    return ci.low, ci.high


def main() -> None:
    rng = np.random.default_rng(0)
    print(f"{'n':>6s} {'d':>3s} {'ours ms':>8s} {'scipy ms':>9s} {'max |diff|':>10s}  (B = 2000)")
    for n, d in [(50, 1), (442, 11), (569, 31), (5000, 5)]:
        estimate = rng.normal(size=d)
        reps = estimate + rng.gamma(2.0, 1.0, (2000, d)) - 2.0
        influence = rng.gamma(2.0, 1.0, (n, d))
        start = time.perf_counter()
        ours = bca_bounds(reps, estimate, influence)
        t_ours = time.perf_counter() - start
        start = time.perf_counter()
        ref = scipy_bca(reps, estimate, influence)
        t_scipy = time.perf_counter() - start
        diff = max(np.max(np.abs(np.subtract(a, b))) for a, b in zip(ours, ref, strict=True))
        print(f"{n:6d} {d:3d} {t_ours * 1e3:8.1f} {t_scipy * 1e3:9.1f} {diff:10.1e}")


if __name__ == "__main__":
    main()
