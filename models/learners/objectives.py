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


# ---- per-example losses of a linear model η = wᵀx + b (one example; vmap for a batch) ----


def linear_score(params: tuple[jnp.ndarray, jnp.ndarray], x: jnp.ndarray) -> jnp.ndarray:
    """η = wᵀx + b for one example; ``params = (w, b)``."""
    w, b = params
    return jnp.dot(w, x) + b


def squared_error(
    params: tuple[jnp.ndarray, jnp.ndarray], x: jnp.ndarray, y: jnp.ndarray
) -> jnp.ndarray:
    """½ (y − η)²: the negative Gaussian log-likelihood up to constants (§5.5.1)."""
    return 0.5 * (y - linear_score(params, x)) ** 2


def log_loss(
    params: tuple[jnp.ndarray, jnp.ndarray], x: jnp.ndarray, y: jnp.ndarray
) -> jnp.ndarray:
    """log(1 + e^{−y η}) for y ∈ {−1, +1}: the negative Bernoulli log-likelihood (§5.7.1)."""
    return jnp.logaddexp(0.0, -y * linear_score(params, x))


def hinge_loss(
    params: tuple[jnp.ndarray, jnp.ndarray], x: jnp.ndarray, y: jnp.ndarray
) -> jnp.ndarray:
    """max(0, 1 − y η) for y ∈ {−1, +1}: the SVM's loss (§5.7.2)."""
    return jnp.maximum(0.0, 1.0 - y * linear_score(params, x))


LOSSES = {"squared_error": squared_error, "log_loss": log_loss, "hinge": hinge_loss}


def l2_penalty(params: tuple[jnp.ndarray, jnp.ndarray], alpha: float | jnp.ndarray) -> jnp.ndarray:
    """Weight decay (α/2)‖w‖², or (1/2) Σ_j α_j w_j² for one α per weight.

    The intercept is not penalised (§5.2.2, §5.6.1).
    """
    w, _ = params
    return 0.5 * jnp.sum(alpha * w * w)
