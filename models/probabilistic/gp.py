"""A Gaussian-process classifier (Rasmussen & Williams 2006, ch. 3): the kernel SVM's twin.

    f ~ GP(0, s² k),   k(x, x′) = exp(−γ‖x − x′‖²),   p(y = 1 | f(x)) = σ(f(x)),

the latent function with the SVM's RBF kernel (§5.7.2) and the logistic link of
eq. 5.81. On the n training points f = s L z with z ~ N(0, I) and L Lᵀ = K + εI
(non-centred: NUTS then samples z, whose posterior is close to N(0, I) where the
data say little, instead of f, whose prior correlations are as strong as the kernel).
The kernel's γ and the scale s are fixed, as the SVM's γ is; :func:`gp_data`
computes L once (float64) so that no gradient step factorises K again.

Fitted as a user's program would be: ``inference.fit(gp_classifier, "nuts",
data=gp_data(X, y, gamma=γ, scale=s))``. The Laplace approximation of the latent
posterior (R&W Algorithm 3.1) and the predictive probability at new points
(Algorithm 3.2; for NUTS draws, the conditional GP f* | f) are
:mod:`freqbayes.inference.probabilistic.gp`.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist

from freqbayes.models.checks import as_finite_array, check_binary, check_positive

#: Added to the kernel's diagonal before the Cholesky factorisation (relative to s² = 1).
JITTER = 1e-6


def gp_classifier(
    X: jnp.ndarray, y: jnp.ndarray | None = None, *, chol: jnp.ndarray, scale: float
) -> None:
    """NumPyro program of the GP classifier on n training points (non-centred).

    Parameters
    ----------
    X : array (n, d)
        Training inputs (the kernel enters through ``chol``; kept as the fit's constant data).
    y : array (n,) of {0, 1}, optional
        Labels; None to simulate.
    chol : array (n, n)
        Lower Cholesky factor of the kernel matrix k(X, X) + εI (:func:`gp_data`).
    scale : float
        Prior sd s of the latent function at every point.
    """
    with numpyro.plate("point", X.shape[0]):
        z = numpyro.sample("z", dist.Normal(0.0, 1.0))
        numpyro.sample("y", dist.Bernoulli(logits=scale * (chol @ z)), obs=y)


def rbf(A: Any, B: Any, gamma: float) -> np.ndarray:
    """k(a_i, b_j) = exp(−γ‖a_i − b_j‖²) in float64 with NumPy.

    The SVM's kernel (``kernels.gram``, in JAX's default float) for the GP, whose fits
    and predictions need float64 (see :mod:`freqbayes.inference.probabilistic.gp`).
    """
    A, B = np.asarray(A, np.float64), np.asarray(B, np.float64)
    sq = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2.0 * A @ B.T
    return np.exp(-gamma * np.maximum(sq, 0.0))


def gp_data(X: Any, y: Any = None, *, gamma: float, scale: float = 1.0) -> dict[str, Any]:
    """The program's data: inputs X (n, d), labels y in {0, 1}, the kernel's γ and the scale s.

    The Cholesky factor of k(X, X) + εI (ε = :data:`JITTER`) is computed here, once,
    in float64.
    """
    X = as_finite_array(X, "X", 2)
    if len(X) == 0:
        raise ValueError("X has no rows: a GP classifier needs training points")
    gamma, scale = check_positive(gamma, "gamma"), check_positive(scale, "scale")
    out: dict[str, Any] = {
        "X": X,
        "chol": np.linalg.cholesky(rbf(X, X, gamma) + JITTER * np.eye(len(X))),
        "scale": scale,
    }
    if y is not None:
        y = check_binary(as_finite_array(y, "y", 1))
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
        out["y"] = y.astype(np.int32)
    return out
