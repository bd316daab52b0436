"""The curse of dimensionality (§5.11): distances concentrate and k-NN loses its way.

Two tasks on uniform points: one where a single coordinate sets the label (the others
are irrelevant: a sparsity prior can find it) and one where every coordinate matters
(§5.11.1's setting: a prior that discards coordinates has nothing to discard).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from freqbayes.inference.learners import knn

DIMENSIONS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)

#: The two labellings of uniform points on [0, 1]^d: "first", x₁ > ½ (one relevant
#: coordinate, d − 1 irrelevant ones); "all", Σ_j (x_j − ½) > 0 (every coordinate
#: matters equally: the boundary is the hyperplane through the centre, normal 1/√d).
TASKS = ("first", "all")


def label(X: np.ndarray, task: str = "first") -> np.ndarray:
    """Labels of the rows of X (uniform on [0, 1]^d) under ``task`` (see :data:`TASKS`)."""
    if task == "first":
        return (X[:, 0] > 0.5).astype(np.int32)
    if task == "all":
        return (np.sum(X - 0.5, axis=1) > 0.0).astype(np.int32)
    raise ValueError(f"task must be one of {TASKS}; got {task!r}")


@functools.partial(jax.jit, static_argnames=("d", "n", "queries"))
def _nearest_farthest(
    key: jax.Array, d: int, n: int, queries: int
) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Distances from each of ``queries`` uniform points to its nearest and farthest of n."""
    from freqbayes.models.learners.objectives import squared_distances

    kx, kq = jax.random.split(key)
    X = jax.random.uniform(kx, (n, d))
    Q = jax.random.uniform(kq, (queries, d))
    dist = jnp.sqrt(jnp.maximum(squared_distances(Q, X), 0.0))
    return jnp.min(dist, axis=1), jnp.max(dist, axis=1)


def _distance_ratio(key: jax.Array, d: int, n: int, queries: int) -> jnp.ndarray:
    nearest, farthest = _nearest_farthest(key, d, n, queries)
    return farthest / nearest


def neighbour_distances(
    seed: int = 0, dims: Sequence[int] = DIMENSIONS, n: int = 1000, queries: int = 200
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """d -> (nearest, farthest): each query's distance to its nearest and farthest neighbour.

    The same points (keys) as :func:`curse_of_dimensionality`, whose ``median_ratio``
    is the median of farthest/nearest: uniform on [0, 1]^d, n points and ``queries``
    queries whatever d.
    """
    keys = jax.random.split(jax.random.key(seed), len(dims))
    out = {}
    for key, d in zip(keys, dims, strict=True):
        nearest, farthest = _nearest_farthest(key, int(d), n, queries)
        out[int(d)] = (np.asarray(nearest, dtype=float), np.asarray(farthest, dtype=float))
    return out


def curse_of_dimensionality(
    seed: int = 0,
    dims: Sequence[int] = DIMENSIONS,
    n: int = 1000,
    queries: int = 200,
    n_test: int = 500,
    k: int = 5,
) -> pd.DataFrame:
    """Farthest/nearest distance ratio and k-NN accuracy as the dimension grows (§5.11.1).

    Points are uniform on [0, 1]^d, n training points whatever d. Two labellings of
    the same points (:data:`TASKS`): x₁ > ½ (``knn_accuracy``: one relevant coordinate
    among d, the others noise) and Σ_j (x_j − ½) > 0 (``knn_accuracy_all``: every
    coordinate matters, as in §5.11.1's argument, where a function of d variables needs
    examples in exponentially many regions).
    """
    rows = []
    keys = jax.random.split(jax.random.key(seed), len(dims))
    rng = np.random.default_rng(seed)
    for key, d in zip(keys, dims, strict=True):
        ratio = np.asarray(_distance_ratio(key, int(d), n, queries), dtype=float)
        Xtr, Xte = rng.uniform(size=(n, d)), rng.uniform(size=(n_test, d))
        accuracy = {}
        for task, column in zip(TASKS, ("knn_accuracy", "knn_accuracy_all"), strict=True):
            ytr, yte = label(Xtr, task), label(Xte, task)
            pred = knn.classify(
                jnp.asarray(Xtr, jnp.float32),
                jnp.asarray(ytr),
                jnp.asarray(Xte, jnp.float32),
                k,
                2,
                knn.block_size(n, n_test),
            )
            accuracy[column] = float(np.mean(np.asarray(pred) == yte))
        rows.append(
            {
                "d": int(d),
                "median_ratio": float(np.median(ratio)),
                "ratio_q10": float(np.quantile(ratio, 0.1)),
                "ratio_q90": float(np.quantile(ratio, 0.9)),
                **accuracy,
            }
        )
    table = pd.DataFrame(rows)
    table.attrs.update(n=n, k=k, queries=queries, n_test=n_test)
    return table


class CellsAndVote(NamedTuple):
    """Figure 5.9's cells as d grows, and one 3-NN vote in the plane.

    Attributes
    ----------
    dims : ndarray (m,)
        Dimensions d.
    cells : ndarray (m,)
        10^d: the cells of a grid with 10 intervals per axis.
    occupied : ndarray (m,)
        Expected share of cells holding at least one of n uniform points,
        1 − (1 − 10^−d)^n.
    n : int
        Training points.
    X, y : ndarray
        2-D training points and labels in {0, 1} for the vote.
    query : ndarray (2,)
        The point to classify.
    neighbours : ndarray (k,)
        Indices of its k nearest training points.
    vote : int
        The majority label among them (the package's k-NN prediction, asserted).
    """

    dims: np.ndarray
    cells: np.ndarray
    occupied: np.ndarray
    n: int
    X: np.ndarray
    y: np.ndarray
    query: np.ndarray
    neighbours: np.ndarray
    vote: int


def cells_and_vote(seed: int = 0, n: int = 1000, k: int = 3, max_d: int = 8) -> CellsAndVote:
    """Why k-NN needs data that grow like 10^d (Figure 5.9), and how it votes (k = 3).

    With 10 intervals per axis a grid has 10^d cells; n points can fill at most n of
    them, so beyond d = log₁₀ n most cells are empty and a query's "neighbours" are far
    away. The vote: the k training points nearest to the query (Euclidean) each vote
    for their label; the majority wins.
    """
    dims = np.arange(1, max_d + 1)
    cells = 10.0**dims
    occupied = 1.0 - np.exp(n * np.log1p(-1.0 / cells))
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.0, 1.0, (30, 2))
    y = (X[:, 0] + 0.3 * rng.standard_normal(30) > 0.5).astype(np.int32)
    query = np.array([0.5, 0.5])
    order = np.argsort(((X - query) ** 2).sum(axis=1))[:k]
    vote = int(np.bincount(y[order], minlength=2).argmax())
    pred = knn.classify(
        jnp.asarray(X, jnp.float32), jnp.asarray(y), jnp.asarray(query[None], jnp.float32), k, 2,
        knn.block_size(len(X), 1),
    )  # fmt: skip
    if int(np.asarray(pred)[0]) != vote:
        raise AssertionError("the package's k-NN and the hand-counted vote disagree")
    return CellsAndVote(dims, cells, occupied, n, X, y, query, order, vote)


def _uniform_task(
    rng: np.random.Generator, n: int, d: int, task: str = "first"
) -> tuple[np.ndarray, np.ndarray]:
    """n points uniform on [0, 1]^d and their labels under ``task``."""
    X = rng.uniform(size=(n, d))
    return X, label(X, task)


def horseshoe_twin(
    seed: int = 0,
    dims: Sequence[int] = (2, 10, 100, 1000),
    fitted: Sequence[int] = (10, 1000),
    n: int = 200,
    n_test: int = 500,
    draws: int = 1000,
    target_accept: float = 0.95,
    task: str = "first",
) -> tuple[pd.DataFrame, dict[int, np.ndarray]]:
    """3-NN, L2 logistic regression and the horseshoe's posterior on the §5.11 task.

    For each d: n training and ``n_test`` held-out points uniform on [0, 1]^d, labelled
    by ``task`` (:data:`TASKS`: x₁ > ½, or Σ_j (x_j − ½) > 0 where every coordinate
    matters; the data for one d do not depend on the other dims). For each d of
    ``fitted`` (a NUTS compilation each, ≈ 4 s), the registered ``logistic`` model with
    the horseshoe as its prior choice (``priors={"beta_prior": Horseshoe(relevant=1)}``,
    :mod:`freqbayes.models.probabilistic.horseshoe`, p₀ = 1) by NUTS, 4 chains ×
    ``draws`` after as many warm-up steps, on one device (the same draws on any
    machine), without the pointwise and prior groups (not used here; each compiles one
    more program).

    Returns
    -------
    table : DataFrame
        Per d: held-out accuracy of 3-NN, of scikit-learn's ``LogisticRegression``
        (L2, C = 1) and, for d in ``fitted`` (else NaN), of the horseshoe (posterior
        mean of p > ½); the posterior median |β₁| (β per sd of its column, as all
        the medians here); for the task "first" the 99th percentile over the
        irrelevant j of the median |β_j|, for "all" the median over j of the median |β_j|; NUTS's
        largest r̂, smallest bulk ESS, divergences and target acceptance.
    weights : dict
        d -> posterior medians of β (d,).
    """
    import warnings

    from sklearn.linear_model import LogisticRegression

    from freqbayes.inference import fit
    from freqbayes.inference.diagnostics import diagnostics
    from freqbayes.models.dataset import Dataset
    from freqbayes.models.probabilistic.priors import Horseshoe

    rows, medians = [], {}
    for d in dims:
        rng = np.random.default_rng([seed, int(d)])  # the same data for d whatever dims holds
        Xtr, ytr = _uniform_task(rng, n, int(d), task)
        Xte, yte = _uniform_task(rng, n_test, int(d), task)
        knn_pred = knn.classify(jnp.asarray(Xtr, jnp.float32), jnp.asarray(ytr),
                                jnp.asarray(Xte, jnp.float32), 3, 2,
                                knn.block_size(n, n_test))  # fmt: skip
        ridge = LogisticRegression(C=1.0, max_iter=5000).fit(Xtr, ytr)
        row = {
            "d": int(d),
            "knn3_accuracy": float(np.mean(np.asarray(knn_pred) == yte)),
            "l2_logistic_accuracy": float(ridge.score(Xte, yte)),
        }
        rows.append(row)
        if d not in fitted:
            continue
        names = tuple(f"x{j + 1}" for j in range(int(d)))
        data = Dataset(f"uniform-{d}", np.asarray(ytr, float), Xtr, names)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # reported in the table instead
            tree = fit("logistic", "nuts", data, seed=seed,
                       priors={"beta_prior": Horseshoe(relevant=1.0)},
                       num_warmup=draws, num_samples=draws, target_accept_prob=target_accept,
                       devices=1, pointwise="none", progress=False)  # fmt: skip
        beta = tree.posterior["beta"].values.reshape(-1, int(d))
        intercept = tree.posterior["intercept"].values.reshape(-1)
        logits = intercept[None, :] + Xte @ beta.T
        p = np.mean(1.0 / (1.0 + np.exp(-logits)), axis=1)
        med = np.median(beta * Xtr.std(axis=0), axis=0)  # per sd of each column
        diagnosed = diagnostics(tree)
        if task == "first":  # how far the d − 1 irrelevant weights are shrunk
            spread = {"irrelevant_median_abs_beta_q99": float("nan")}
            if d > 1:
                spread["irrelevant_median_abs_beta_q99"] = float(np.quantile(np.abs(med[1:]), 0.99))
        else:  # every weight is relevant (and equal): how far they are shrunk as a whole
            spread = {"median_abs_beta_over_j": float(np.median(np.abs(med)))}
        row.update(
            horseshoe_accuracy=float(np.mean((p > 0.5) == yte)),
            median_abs_beta1=float(abs(med[0])),
            **spread,
            r_hat_max=diagnosed["r_hat_max"],
            ess_bulk_min=diagnosed["ess_bulk_min"],
            divergences=diagnosed["divergences"],
            target_accept=target_accept,
        )
        medians[int(d)] = med
    table = pd.DataFrame(rows)
    table.attrs.update(n=n, n_test=n_test, draws=draws, chains=4, task=task)
    return table, medians
