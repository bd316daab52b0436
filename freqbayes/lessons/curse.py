"""The curse of dimensionality (§5.11): distances concentrate and k-NN loses its way."""

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


@functools.partial(jax.jit, static_argnames=("d", "n", "queries"))
def _distance_ratio(key: jax.Array, d: int, n: int, queries: int) -> jnp.ndarray:
    from freqbayes.models.learners.objectives import squared_distances

    kx, kq = jax.random.split(key)
    X = jax.random.uniform(kx, (n, d))
    Q = jax.random.uniform(kq, (queries, d))
    dist = jnp.sqrt(jnp.maximum(squared_distances(Q, X), 0.0))
    return jnp.max(dist, axis=1) / jnp.min(dist, axis=1)


def curse_of_dimensionality(
    seed: int = 0,
    dims: Sequence[int] = DIMENSIONS,
    n: int = 1000,
    queries: int = 200,
    n_test: int = 500,
    k: int = 5,
) -> pd.DataFrame:
    """Farthest/nearest distance ratio and k-NN accuracy as the dimension grows (§5.11).

    Points are uniform on [0, 1]^d. For the accuracy, the label is x₁ > ½: one
    relevant coordinate among d, with n training points whatever d.
    """
    rows = []
    keys = jax.random.split(jax.random.key(seed), len(dims))
    rng = np.random.default_rng(seed)
    for key, d in zip(keys, dims, strict=True):
        ratio = np.asarray(_distance_ratio(key, int(d), n, queries), dtype=float)
        Xtr, Xte = rng.uniform(size=(n, d)), rng.uniform(size=(n_test, d))
        ytr, yte = (Xtr[:, 0] > 0.5).astype(np.int32), (Xte[:, 0] > 0.5).astype(np.int32)
        pred = knn.classify(
            jnp.asarray(Xtr, jnp.float32),
            jnp.asarray(ytr),
            jnp.asarray(Xte, jnp.float32),
            k,
            2,
            knn.block_size(n, n_test),
        )
        rows.append(
            {
                "d": int(d),
                "median_ratio": float(np.median(ratio)),
                "ratio_q10": float(np.quantile(ratio, 0.1)),
                "ratio_q90": float(np.quantile(ratio, 0.9)),
                "knn_accuracy": float(np.mean(np.asarray(pred) == yte)),
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
