"""Objectives of the non-probabilistic learners (Deep Learning §5.7.2, §5.8.2, §5.9).

Pure JAX functions of one set of parameters; the fitting loops are in
:mod:`freqbayes.inference`.
"""

from __future__ import annotations

import jax.numpy as jnp


def squared_distances(X: jnp.ndarray, C: jnp.ndarray) -> jnp.ndarray:
    """Squared Euclidean distances ‖x_i − c_j‖², shape (n, k), clipped at 0.

    Uses ‖x‖² − 2 x·c + ‖c‖², one matrix product.
    """
    d2 = jnp.sum(X * X, axis=1)[:, None] - 2.0 * (X @ C.T) + jnp.sum(C * C, axis=1)[None, :]
    return jnp.maximum(d2, 0.0)


def kmeans_inertia(X: jnp.ndarray, centroids: jnp.ndarray) -> jnp.ndarray:
    """k-means objective: Σ_i min_j ‖x_i − c_j‖² (the within-cluster sum of squares)."""
    return jnp.sum(jnp.min(squared_distances(X, centroids), axis=1))
