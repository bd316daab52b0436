"""Kernels and feature maps for the SVM (Deep Learning §5.7.2).

k(x, x′) = φ(x)ᵀφ(x′): the kernel trick replaces the inner product of feature
maps by a function of the inputs. Random Fourier features give an explicit
finite map whose inner product approximates the RBF kernel.
"""

from __future__ import annotations

import dataclasses
import functools
import numbers
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from freqbayes.models.learners.objectives import squared_distances

KERNELS = ("linear", "rbf", "poly")


@functools.partial(
    jax.tree_util.register_dataclass,
    data_fields=["gamma", "coef0"],
    meta_fields=["name", "degree", "fn"],
)
@dataclasses.dataclass(frozen=True)
class Kernel:
    """A kernel with its hyper-parameters: a pytree whose numbers are traced by ``jit``.

    ``gamma`` and ``coef0`` are leaves (a fit on new data, whose γ = "scale"
    differs, reuses the compiled solver); ``name``, ``degree`` and ``fn`` are static.

    Attributes
    ----------
    name : str
        "linear", "rbf", "poly", or "callable".
    gamma : float
        Scale of rbf (exp(−γ‖x − x′‖²)) and poly ((γ xᵀx′ + coef0)^degree).
    degree : int
        Polynomial degree.
    coef0 : float
        Polynomial offset.
    fn : callable or None
        A user kernel k(A, B) -> (len(A), len(B)) matrix, for ``name == "callable"``.
    """

    name: str
    gamma: float = 1.0
    degree: int = 3
    coef0: float = 0.0
    fn: Callable[[jnp.ndarray, jnp.ndarray], jnp.ndarray] | None = None


def gram(kernel: Kernel, A: jnp.ndarray, B: jnp.ndarray) -> jnp.ndarray:
    """Kernel matrix K_ij = k(a_i, b_j), shape (len(A), len(B))."""
    if kernel.name == "linear":
        return A @ B.T
    if kernel.name == "rbf":
        return jnp.exp(-kernel.gamma * squared_distances(A, B))
    if kernel.name == "poly":
        return (kernel.gamma * (A @ B.T) + kernel.coef0) ** kernel.degree
    return kernel.fn(A, B)


def resolve_gamma(gamma: Any, X: np.ndarray) -> float:
    """γ of an RBF kernel: "scale" = 1/(d Var X), "auto" = 1/d, or a number > 0 (LIBSVM's rules)."""
    if gamma == "scale":
        var = float(X.var())
        return 1.0 / (X.shape[1] * var) if var > 0 else 1.0
    if gamma == "auto":
        return 1.0 / X.shape[1]
    if (
        isinstance(gamma, str | bool)
        or not isinstance(gamma, numbers.Real)
        or not 0 < gamma < np.inf
    ):
        raise ValueError(f"gamma must be 'scale', 'auto' or a number > 0; got {gamma!r}")
    return float(gamma)


def diagonal(kernel: Kernel, X: jnp.ndarray) -> jnp.ndarray:
    """k(x_i, x_i) for every row."""
    if kernel.name == "rbf":
        return jnp.ones(X.shape[0], X.dtype)
    if kernel.name == "callable":
        return jax.vmap(lambda x: kernel.fn(x[None], x[None])[0, 0])(X)
    sq = jnp.sum(X * X, axis=1)
    return sq if kernel.name == "linear" else (kernel.gamma * sq + kernel.coef0) ** kernel.degree


class FourierFeatures(NamedTuple):
    """Random Fourier features z(x) = sqrt(2/D) cos(Wx + b) with E[z(x)ᵀz(x′)] = exp(−γ‖x − x′‖²).

    W has rows ~ N(0, 2γ I) and b ~ U(0, 2π) (Rahimi & Recht, 2007).
    """

    W: jnp.ndarray
    b: jnp.ndarray

    def __call__(self, X: jnp.ndarray) -> jnp.ndarray:
        """The feature map, shape (n, D)."""
        return jnp.sqrt(2.0 / self.W.shape[0]) * jnp.cos(X @ self.W.T + self.b[None, :])


def fourier_features(
    key: jax.Array, n_features: int, n_components: int, gamma: float
) -> FourierFeatures:
    """Draw a random Fourier feature map approximating the RBF kernel with ``gamma``."""
    kw, kb = jax.random.split(key)
    W = jnp.sqrt(2.0 * gamma) * jax.random.normal(kw, (n_components, n_features))
    b = jax.random.uniform(kb, (n_components,), maxval=2.0 * jnp.pi)
    return FourierFeatures(W, b)
