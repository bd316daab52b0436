"""The numbers each demo page embeds (as JSON), computed by the lessons.

Pure geometry (k-means steps, the prior's closed form, the intervals of one data set)
is computed in the page; what needs the library is computed here: the k-means data
sets (:func:`~.data.blobs`), the regression data and its ridge references
(:mod:`freqbayes.models.probabilistic.linear`), the exact coverage
(:mod:`freqbayes.lessons.coverage`), the SGD paths (:func:`freqbayes.lessons.sgd.
sgd_paths`) and the neighbour distances (:func:`freqbayes.lessons.curse.
neighbour_distances`).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _r(a: Any, digits: int = 5) -> Any:
    """Plain JSON numbers, rounded (the page draws them; 5 significant digits are plenty)."""
    arr = np.asarray(a, dtype=float)
    return (
        [float(f"{v:.{digits}g}") for v in arr.ravel()] if arr.ndim else float(f"{arr:.{digits}g}")
    )


def _separated(seed: int, centers: int, gap: float) -> bool:
    """Whether :func:`~.data.blobs`' centres for ``seed`` are at least ``gap`` apart."""
    from sklearn.datasets import make_blobs

    _, _, c = make_blobs(
        1, centers=centers, center_box=(-8, 8), random_state=seed, return_centers=True
    )
    d = np.sqrt(((c[:, None] - c[None]) ** 2).sum(axis=-1))
    return bool(d[~np.eye(centers, dtype=bool)].min() >= gap)


def kmeans(seed: int = 0, sets: int = 6, gap: float = 4.0) -> dict[str, Any]:
    """``sets`` data sets of 150 points in 4, 3 or 5 Gaussian blobs (:func:`~.data.blobs`).

    Each set's seed is the first from ``seed`` on (after the previous set's) whose blob
    centres are at least ``gap`` apart (blobs of sd 0.7 that the eye can count).
    """
    from freqbayes.models.data import blobs

    data, s = [], seed
    for i in range(sets):
        centers = (4, 3, 5)[i % 3]
        while not _separated(s, centers, gap):
            s += 1
        data.append(blobs(s, n=150, centers=centers, std=0.7))
        s += 1
    boxes = []
    for X in data:  # a square view around each set, a margin of 1 on every side
        centre = (X.max(axis=0) + X.min(axis=0)) / 2
        half = float(np.ceil((X.max(axis=0) - X.min(axis=0)).max() / 2 + 1.0))
        boxes.append([_r(centre - half, 4), _r(centre + half, 4)])
    sets_ = [[_r(row, 4) for row in X] for X in data]
    return {"sets": sets_, "boxes": boxes, "k": 4, "seed": seed}


def prior(seed: int = 0, n: int = 20) -> dict[str, Any]:
    """One-feature linear data (y = 1 + 1.5x + ε), σ at its OLS estimate, ridge references.

    ``checks``: λ -> (ridge slope, posterior sd of the slope), from the library's closed
    forms, so that a test can compare the page's own arithmetic with them.
    """
    from freqbayes.models import data as D
    from freqbayes.models.probabilistic import linear
    from freqbayes.models.probabilistic import priors as P

    data = D.synthetic(
        "linear", {"beta": np.array([1.5]), "intercept": 1.0, "sigma": 1.0}, n, seed=seed
    )
    # the page gets 5 significant digits: the references are computed from those same numbers
    X, y = np.asarray(_r(data.X[:, 0]))[:, None], np.asarray(_r(data.y))
    fit = linear.ols(X, y)
    sigma = float(np.sqrt(fit.sigma2 * n / (n - 2)))
    checks = []
    for lam in (0.0, 1.0, 10.0, 100.0):
        beta = float(linear.ridge(X, y, lam).beta[0])
        sd = np.nan
        if lam > 0:
            tau = sigma / np.sqrt(lam)
            post = linear.posterior_known_sigma(X, y, sigma, P.Normal(0.0, tau), P.Flat())
            sd = float(post.sd[1])
        checks.append({"lam": lam, "map": beta, "sd": None if np.isnan(sd) else sd})
    return {"x": X[:, 0].tolist(), "y": y.tolist(), "sigma": sigma, "checks": checks}


def coverage(n: int = 10, sigma: float = 1.0, prior: tuple[float, float] = (0.0, 1.0)) -> dict:
    """The setting of :func:`freqbayes.lessons.coverage.two_guarantees` and its exact coverage.

    ``exact``: at each θ of ``thetas`` (the slider's stops), the probability that each
    interval covers that fixed θ (closed form).
    """
    from freqbayes.lessons.coverage import _exact_fixed

    thetas = np.round(np.arange(-4.0, 4.0001, 0.25), 2)
    loc, scale = prior
    return {
        "n": n,
        "sigma": sigma,
        "m0": loc,
        "s0": scale,
        "thetas": _r(thetas),
        "exact_ci": _r(_exact_fixed(thetas, n, sigma, loc, None), 3),
        "exact_cred": _r(_exact_fixed(thetas, n, sigma, loc, scale), 3),
        "theta0": 2.0,
    }


def sgd(seed: int = 0) -> dict[str, Any]:
    """Precomputed SGD paths for every (m′, ε) of :func:`freqbayes.lessons.sgd.sgd_paths`."""
    from freqbayes.lessons.sgd import sgd_paths

    keep = 300
    p = sgd_paths(seed, keep=keep)
    paths = {
        f"{m}|{eta:g}": {
            "touched": [int(t) for t in p.touched[m, eta]],
            "w": _r(p.path[m, eta][:, 0]),
            "b": _r(p.path[m, eta][:, 1]),
            "gap": _r(np.maximum(p.cost[m, eta] - p.optimum, 1e-6)),
        }
        for (m, eta) in p.path
    }
    return {
        "batch_sizes": p.batch_sizes,
        "rates": [float(f"{e:g}") for e in p.rates],
        "paths": paths,
        "mle": _r(p.mle),
        "grid_w": _r(p.grid_w),
        "grid_b": _r(p.grid_b),
        "grid_cost": [_r(row, 4) for row in p.grid_cost],
        "n": max(p.batch_sizes),
        "start": [float(p.path[next(iter(p.path))][0, 0]), float(p.path[next(iter(p.path))][0, 1])],
        "touched": int(p.touched[next(iter(p.path))][-1]),
        "keep": keep,
    }


def curse(seed: int = 0, n: int = 1000, queries: int = 200, bins: int = 40) -> dict[str, Any]:
    """Histograms of nearest and farthest neighbour distances for each d of ``DIMENSIONS``."""
    from freqbayes.lessons.curse import DIMENSIONS, neighbour_distances

    dist = neighbour_distances(seed, DIMENSIONS, n=n, queries=queries)
    hist = {}
    for d, (near, far) in dist.items():
        with np.errstate(divide="ignore"):  # d = 1: a float32 distance can be 0 (ratio ∞)
            ratio = far / near
        edges = np.linspace(0.0, 1.05 * far.max(), bins + 1)
        hist[str(d)] = {
            "edges": _r(edges),
            "nearest": np.histogram(near, edges)[0].tolist(),
            "farthest": np.histogram(far, edges)[0].tolist(),
            "median_nearest": _r(np.median(near), 4),
            "median_farthest": _r(np.median(far), 4),
            "median_ratio": _r(np.median(ratio), 4),
        }
    return {"dims": list(dist), "hist": hist, "n": n, "queries": queries}
