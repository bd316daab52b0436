"""scikit-learn's plain SGD (one example per step) in JAX against scikit-learn's own.

Fits ``SGDClassifier`` with scikit-learn's defaults (hinge, "optimal", tol 1e-3,
max_iter 1000) on breast cancer (standardised, 569 × 30) and on a synthetic
10⁵ × 20 logistic problem, and ``SGDRegressor``'s defaults on a 10⁵ × 20 linear
problem: the first fit (compilation included), the median of later fits with
new seeds, epochs run and accuracy/R² for both libraries (scikit-learn with one
thread). Run: ``python benchmarks/sgd_plain.py``.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn import linear_model
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import freqbayes as F


def _problems() -> dict[str, tuple[str, np.ndarray, np.ndarray]]:
    X, y = load_breast_cancer(return_X_y=True)
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(100_000, 20))
    eta = Z @ rng.normal(size=20) * 0.5
    labels = (rng.random(100_000) < 1 / (1 + np.exp(-eta))).astype(int)
    target = Z @ rng.normal(size=20) + rng.normal(size=100_000)
    return {
        "breast cancer 569 x 30": ("SGDClassifier", StandardScaler().fit_transform(X), y),
        "logistic 1e5 x 20": ("SGDClassifier", Z, labels),
        "linear 1e5 x 20": ("SGDRegressor", Z, target),
    }


def _time(make, X, y, repeats: int = 3) -> tuple[float, float, int, float]:
    start = time.perf_counter()
    model = make(0).fit(X, y)
    first = time.perf_counter() - start
    later = []
    for seed in range(1, repeats + 1):
        start = time.perf_counter()
        model = make(seed).fit(X, y)
        later.append(time.perf_counter() - start)
    return first, float(np.median(later)), int(model.n_iter_), float(model.score(X, y))


def main() -> None:
    warnings.simplefilter("ignore")
    head = f"{'problem':24s} {'library':12s} {'first s':>8s} {'then s':>8s} {'epochs':>6s}"
    print(f"{head} {'ms/epoch':>8s} score")
    for name, (cls, X, y) in _problems().items():
        rows = {}
        for lib, module in (("freqbayes", F), ("scikit-learn", linear_model)):
            with threadpool_limits(1):
                rows[lib] = _time(
                    lambda seed, m=module, c=cls: getattr(m, c)(random_state=seed), X, y
                )
            first, then, epochs, score = rows[lib]
            per = 1e3 * then / epochs
            print(
                f"{name:24s} {lib:12s} {first:8.3f} {then:8.3f} {epochs:6d} {per:8.2f} {score:.4f}"
            )
        ours, theirs = rows["freqbayes"], rows["scikit-learn"]
        per_epoch = (ours[1] / ours[2]) / (theirs[1] / theirs[2])
        print(f"{'':24s} ratio: fit {ours[1] / theirs[1]:.1f}, per epoch {per_epoch:.1f}")


if __name__ == "__main__":
    main()
