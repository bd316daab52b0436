"""Minibatch SGD (§5.9) and its Bayesian twin, stochastic-gradient Langevin dynamics."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import xarray as xr

from freqbayes.inference.learners import sgd
from freqbayes.labels import FULL_BATCH, MINIBATCH
from freqbayes.models import data as D
from freqbayes.models.probabilistic import linear
from freqbayes.models.probabilistic import priors as P
from freqbayes.summaries import summary


class SGDCurves(NamedTuple):
    """Minibatch SGD, θ ← θ − εg (eq. 5.99), on a logistic problem for several m′ (§5.9).

    Attributes
    ----------
    batch_sizes : list of int
    epochs : ndarray (E + 1,)
    loss : dict m′ -> ndarray (E + 1,)
        Full cost J after each epoch.
    seconds : dict m′ -> ndarray (E + 1,)
        Wall time at each entry of ``loss`` (compiled before timing).
    optimum : float
        J at the MLE.
    mle : ndarray (d + 1,)
        (w, b) at the MLE.
    iterates : ndarray (t, d + 1)
        Constant-step SGD iterates (m′ = 10) after convergence, one per epoch.
    """

    batch_sizes: list[int]
    epochs: np.ndarray
    loss: dict[int, np.ndarray]
    seconds: dict[int, np.ndarray]
    optimum: float
    mle: np.ndarray
    iterates: np.ndarray


def sgd_curves(
    data: D.Dataset,
    batch_sizes: Sequence[int | None] = (1, 10, 128, 300, None),
    epochs: int = 30,
    burn: int = 50,
    keep: int = 200,
    seed: int = 0,
) -> SGDCurves:
    """J against epochs and wall time for each minibatch size (None: the full batch).

    With L = mean over rows of ‖(x, 1)‖² = mean ‖x‖² + 1 (the 1 is the intercept's
    column), the Hessian of the mean log loss, (1/n) Σ σ(1 − σ) (x, 1)(x, 1)ᵀ, has
    largest eigenvalue at most L/4 (σ(1 − σ) ≤ ¼), so gradient descent is stable for
    ε < 8/L. Minibatches use ε_t = (1/L) / (1 + t/steps per epoch) and the full batch
    the constant 4/L. The MLE is full-batch gradient descent run to convergence; the
    iterates are constant-step SGD (m′ = 10, ε = 0.5/L) after ``burn`` epochs.
    """
    Y = np.where(data.y == 1, 1.0, -1.0)[:, None]
    sizes = [data.n if m is None else int(m) for m in batch_sizes]
    kw: dict[str, Any] = {"loss": "log_loss", "alpha": 0.0, "tol": None, "progress": False}
    curvature = float(np.mean(np.sum(data.X**2, axis=1)) + 1)
    losses, seconds = {}, {}
    for m in sizes:
        full = m >= data.n
        # gradient descent takes the largest stable step 4/L; minibatches a quarter of it, decaying
        eta = (4.0 if full else 1.0) / curvature
        args = {"batch_size": m, "eta0": eta, "schedule": "constant" if full else "inverse"}
        sgd.fit(jax.random.key(seed), data.X, Y, max_epochs=1, **args, **kw)  # compile
        res = sgd.fit(jax.random.key(seed), data.X, Y, max_epochs=epochs, **args, **kw)
        losses[m], seconds[m] = res.losses[:, 0], res.seconds
    ref = sgd.fit(
        jax.random.key(seed),
        data.X,
        Y,
        max_epochs=2000,
        batch_size=data.n,
        eta0=4.0 / curvature,
        schedule="constant",
        **kw,
    )
    w, b = ref.params
    optimum = float(ref.losses[-1, 0])
    walk = sgd.fit(
        jax.random.key(seed + 1),
        data.X,
        Y,
        max_epochs=burn + keep,
        batch_size=10,
        eta0=0.5 / curvature,
        schedule="constant",
        **kw,
    )
    tw, tb = walk.trajectory
    iterates = np.column_stack([tw[burn + 1 :, 0, :], tb[burn + 1 :, 0]])
    return SGDCurves(
        sizes, np.arange(epochs + 1), losses, seconds, optimum, np.r_[w[0], b[0]], iterates
    )


def sgld_vs_nuts(
    seed: int = 0, n: int = 1000, quick: bool = False
) -> tuple[dict[str, xr.DataTree], pd.DataFrame]:
    """SGLD and NUTS on a conjugate linear model (σ known), beside the exact posterior.

    Returns the two DataTrees and a table of posterior mean and sd per parameter
    (exact, NUTS, SGLD).
    """
    from freqbayes.inference import nuts
    from freqbayes.inference.probabilistic.sgld import sgld

    data = D.synthetic(
        "linear",
        {"beta": np.array([1.0, -0.5, 0.25]), "intercept": 0.5, "sigma": 1.0},
        n,
        seed=seed,
    )
    priors = {
        "beta_prior": P.Normal(0.0, 1.0),
        "intercept_prior": P.Normal(0.0, 1.0),
        "sigma_prior": P.Known(1.0),
    }
    # quick: 4 × (500 + 500); at 300 + 300 NUTS's r̂ reached 1.013 (JAX 0.12.0.1)
    size = {"num_warmup": 500, "num_samples": 500} if quick else {}
    trees = {
        "NUTS": nuts("linear", data, seed=seed, priors=priors, progress=False, **size),
        "SGLD": sgld("linear", data, seed=seed, priors=priors, **size),
    }
    exact = linear.posterior_known_sigma(
        data.X, data.y, 1.0, P.Normal(0.0, 1.0), P.Normal(0.0, 1.0)
    )
    names = ["intercept", *(f"beta[{f}]" for f in data.feature_names)]
    table = pd.DataFrame({"parameter": names, "exact_mean": exact.mean, "exact_sd": exact.sd})
    for method, tree in trees.items():
        s = summary(tree, var_names=["intercept", "beta"])
        table[f"{method}_mean"] = s["mean"].to_numpy(float)
        table[f"{method}_sd"] = s["sd"].to_numpy(float)
        table[f"{method}_ess_bulk"] = s["ess_bulk"].to_numpy(float)
        table[f"{method}_r_hat"] = s["r_hat"].to_numpy(float)
    return trees, table


@functools.partial(jax.jit, static_argnames=("batch",))
def _sgd_step(
    params: Any, X: jnp.ndarray, y: jnp.ndarray, key: jax.Array, eta: float, batch: int | None
) -> Any:
    """One step θ ← θ − εg on the log loss: g on the full data, or on m′ rows drawn at random."""
    if batch is not None:
        rows = jax.random.randint(key, (batch,), 0, X.shape[0])
        X, y = X[rows], y[rows]
    g = sgd.minibatch_gradient("log_loss", params, X, y, jnp.ones(X.shape[0], X.dtype), 0.0)
    return jax.tree.map(lambda p, gp: p - eta * gp, params, g)


def step_cost(
    seed: int = 0,
    sizes: Sequence[int] = (1_000, 10_000, 100_000, 1_000_000),
    d: int = 10,
    batch: int = 128,
    repeats: int = 30,
) -> pd.DataFrame:
    """Wall time of one gradient step as the training set grows: full batch against m′ rows.

    The full-batch gradient touches all m examples, so its cost grows like O(m); the
    minibatch estimate g of eq. 5.98 touches m′ of them, O(m′), whatever m is (§5.9).
    Each step is compiled beforehand; the median of ``repeats`` timed steps is kept
    (a wall-clock measurement of this machine, not a reproducible number).
    """
    import time

    rng = np.random.default_rng(seed)
    rows = []
    for m in sizes:
        X = jnp.asarray(rng.standard_normal((m, d)), jnp.float32)
        y = jnp.asarray(np.where(rng.random(m) < 0.5, 1.0, -1.0), jnp.float32)
        params = (jnp.zeros(d, jnp.float32), jnp.zeros((), jnp.float32))
        key = jax.random.key(seed)
        for name, size in ((FULL_BATCH, None), (MINIBATCH.format(m=batch), batch)):
            jax.block_until_ready(_sgd_step(params, X, y, key, 0.1, size))  # compile
            times = []
            for _ in range(repeats):
                key, sub = jax.random.split(key)
                start = time.perf_counter()
                jax.block_until_ready(_sgd_step(params, X, y, sub, 0.1, size))
                times.append(time.perf_counter() - start)
            rows.append({"m": m, "gradient": name, "seconds_per_step": float(np.median(times))})
    return pd.DataFrame(rows)


class SGDPaths(NamedTuple):
    """Minibatch SGD paths in the plane of (w, b) for a grid of m′ and ε (§5.9).

    Attributes
    ----------
    batch_sizes : list of int
    rates : list of float
        Constant learning rates ε.
    touched : dict (m′, ε) -> ndarray (s,)
        Examples touched (steps × m′) at each kept point.
    path : dict (m′, ε) -> ndarray (s, 2)
        (w, b) at each kept point, the start first.
    cost : dict (m′, ε) -> ndarray (s,)
        Full cost J(θ) (eq. 5.96) at each kept point.
    mle : ndarray (2,)
        (w, b) minimising J (full-batch gradient descent run to convergence).
    optimum : float
        J at the MLE.
    grid_w, grid_b : ndarray (g,)
        Axes of ``grid_cost``.
    grid_cost : ndarray (g, g)
        J on the grid (rows: b, columns: w), for contours.
    """

    batch_sizes: list[int]
    rates: list[float]
    touched: dict[tuple[int, float], np.ndarray]
    path: dict[tuple[int, float], np.ndarray]
    cost: dict[tuple[int, float], np.ndarray]
    mle: np.ndarray
    optimum: float
    grid_w: np.ndarray
    grid_b: np.ndarray
    grid_cost: np.ndarray


@functools.partial(jax.jit, static_argnames=("batch", "steps"))
def _constant_step_path(
    X: jnp.ndarray, y: jnp.ndarray, key: jax.Array, eta: jnp.ndarray, start: Any, batch: int,
    steps: int,
) -> tuple[Any, jnp.ndarray]:  # fmt: skip
    """``steps`` steps θ ← θ − εg (eq. 5.99), g on m′ rows drawn at random (all rows: m′ = m).

    Returns the iterates (w, b) after each step and J(θ) there (eq. 5.96).
    """
    ones = jnp.ones(X.shape[0], X.dtype)

    def step(params: Any, k: jax.Array) -> tuple[Any, tuple[Any, jnp.ndarray]]:
        if batch < X.shape[0]:
            rows = jax.random.randint(k, (batch,), 0, X.shape[0])
            Xb, yb = X[rows], y[rows]
        else:
            Xb, yb = X, y
        g = sgd.minibatch_gradient("log_loss", params, Xb, yb, jnp.ones(batch, X.dtype), 0.0)
        params = jax.tree.map(lambda p, gp: p - eta * gp, params, g)
        return params, (params, sgd.cost("log_loss", params, X, y, ones, 0.0))

    _, (params, cost) = jax.lax.scan(step, start, jax.random.split(key, steps))
    return params, cost


def sgd_paths(
    seed: int = 0,
    n: int = 200,
    batch_sizes: Sequence[int] = (1, 10, 50, 200),
    rates: Sequence[float] = (0.05, 0.2, 0.5, 1.0, 2.0),
    epochs: int = 10,
    start: tuple[float, float] = (-3.0, 3.0),
    keep: int = 120,
    grid: int = 41,
) -> SGDPaths:
    """Constant-step SGD on a one-feature logistic regression, for every (m′, ε) pair.

    The data: :func:`freqbayes.models.data.logistic_problem` with d = 1 (w = 1, b = 0.3), n
    rows. Each path starts at ``start`` and touches ``epochs`` × n examples (steps =
    epochs · n / m′), the minibatch drawn with replacement at every step (as
    :func:`step_cost`); at most ``keep`` points per path are kept (evenly spaced in
    steps, the start and the end included). m′ = n is the full batch.
    """
    data = D.logistic_problem(seed, n=n, d=1)
    X = jnp.asarray(data.X, jnp.float32)
    Y = jnp.asarray(np.where(data.y == 1, 1.0, -1.0), jnp.float32)
    theta0 = (jnp.asarray([start[0]], jnp.float32), jnp.asarray(start[1], jnp.float32))
    curvature = float(np.mean(np.sum(data.X**2, axis=1)) + 1)
    key = jax.random.key(seed)
    (w, b), cost = _constant_step_path(X, Y, key, 4.0 / curvature, theta0, n, 3000)
    mle = np.array([float(w[-1, 0]), float(b[-1])])
    optimum = float(cost[-1])
    ones = jnp.ones(n, jnp.float32)
    j0 = float(sgd.cost("log_loss", theta0, X, Y, ones, 0.0))
    touched, path, costs = {}, {}, {}
    for m in batch_sizes:
        steps = epochs * n // int(m)
        for eta in rates:
            (w, b), cost = _constant_step_path(X, Y, key, jnp.float32(eta), theta0, int(m), steps)
            pts = np.column_stack([np.r_[start[0], w[:, 0]], np.r_[start[1], b]])
            j = np.r_[j0, np.asarray(cost, dtype=float)]
            idx = np.unique(np.linspace(0, steps, min(keep, steps + 1)).round().astype(int))
            touched[int(m), float(eta)] = idx * int(m)
            path[int(m), float(eta)] = pts[idx].astype(float)
            costs[int(m), float(eta)] = j[idx]
    lo = np.minimum(mle, np.asarray(start)) - 1.5
    hi = np.maximum(mle, np.asarray(start)) + 1.5
    gw, gb = np.linspace(lo[0], hi[0], grid), np.linspace(lo[1], hi[1], grid)
    WW, BB = np.meshgrid(gw, gb)
    margin = np.asarray(Y)[None, :] * (
        WW.reshape(-1, 1) * data.X[:, 0][None, :] + BB.reshape(-1, 1)
    )
    grid_cost = np.mean(np.logaddexp(0.0, -np.asarray(margin, dtype=float)), axis=1)
    return SGDPaths(
        [int(m) for m in batch_sizes], [float(e) for e in rates], touched, path, costs, mle,
        optimum, gw, gb, grid_cost.reshape(grid, grid),
    )  # fmt: skip
