"""k-nearest neighbours (Deep Learning §5.7.3, §5.11): majority vote and neighbour mean.

Distances are computed for one block of queries at a time (``lax.map`` over
blocks), so memory stays at block × n_train whatever the number of queries.
Ties are broken deterministically: among equidistant neighbours the one with the
lower training index comes first, and among tied votes the smallest class wins
(as scikit-learn's brute-force search and its mode do).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from freqbayes.models.objectives import squared_distances

#: Largest number of query × training distances held at once.
MAX_BLOCK_ELEMENTS = 1 << 24


def block_size(n_train: int, n_query: int) -> int:
    """Queries per block so that a block of distances has at most MAX_BLOCK_ELEMENTS entries."""
    return max(1, min(n_query, MAX_BLOCK_ELEMENTS // max(n_train, 1)))


@functools.partial(jax.jit, static_argnames=("k", "block"))
def neighbours(
    X_train: jnp.ndarray, X_query: jnp.ndarray, k: int, block: int
) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Indices (m, k) of the k nearest training rows of each query, and their squared distances."""
    m = X_query.shape[0]
    pad = (-m) % block
    Q = jnp.pad(X_query, ((0, pad), (0, 0))).reshape(-1, block, X_query.shape[1])

    def one_block(q: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
        neg, idx = jax.lax.top_k(-squared_distances(q, X_train), k)
        return idx, -neg

    idx, d2 = jax.lax.map(one_block, Q)
    return idx.reshape(-1, k)[:m], d2.reshape(-1, k)[:m]


def vote(neighbour_labels: jnp.ndarray, n_classes: int) -> jnp.ndarray:
    """Majority vote over the last axis; ties go to the smallest class index."""
    counts = jax.nn.one_hot(neighbour_labels, n_classes, dtype=jnp.int32).sum(axis=-2)
    return jnp.argmax(counts, axis=-1)


@functools.partial(jax.jit, static_argnames=("k", "n_classes", "block"))
def classify(
    X_train: jnp.ndarray,
    y_train: jnp.ndarray,
    X_query: jnp.ndarray,
    k: int,
    n_classes: int,
    block: int,
) -> jnp.ndarray:
    """Class index (0..n_classes−1) of each query by majority vote of its k neighbours."""
    idx, _ = neighbours(X_train, X_query, k, block)
    return vote(y_train[idx], n_classes)


@functools.partial(jax.jit, static_argnames=("k", "block"))
def regress(
    X_train: jnp.ndarray, y_train: jnp.ndarray, X_query: jnp.ndarray, k: int, block: int
) -> jnp.ndarray:
    """Mean target of the k nearest neighbours of each query."""
    idx, _ = neighbours(X_train, X_query, k, block)
    return jnp.mean(y_train[idx], axis=-1)
