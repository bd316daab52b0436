"""The curse of dimensionality (§5.11): distances concentrate and k-NN loses its way."""

from __future__ import annotations

import functools
from collections.abc import Sequence

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
