"""Fitting the Gaussian-process classifier: Laplace (R&W Algorithms 3.1–3.2) and NUTS draws.

The model is :mod:`freqbayes.models.probabilistic.gp`: f ~ GP(0, s² k) on the RBF
kernel, p(y = 1 | f) = σ(f). Newton's iteration finds the mode f̂ of p(f | X, y)
(:func:`init`/:func:`step`, looped by :func:`mode` in a ``while_loop``); the
Laplace approximation is N(f̂, (K⁻¹ + W)⁻¹) with W = diag(π(1 − π)). At new points
x* the latent f* is Gaussian with mean k*ᵀ(y − π̂) and variance
k(x*, x*) − vᵀv, v = L⁻¹ W^½ k* (Algorithm 3.2), and p(y* = 1) = E σ(f*)
(:func:`expected_sigmoid`). The same integral averages NUTS draws of the latent
(:func:`latent_from_draws`: f* | f is the GP's conditional). Under the same kernel
the NUTS and Laplace fits are two answers to one question. :func:`laplace_fit` is the
registered model ``gpc``'s ``laplace`` (named in its declaration's
``kernels``); the scikit-learn-style :class:`freqbayes.GaussianProcessClassifier`
(:mod:`freqbayes.inference.learners.gp`) is this algorithm too, and scikit-learn's
``GaussianProcessClassifier`` (fixed kernel) its peer.

Predictions are computed in float64 whatever JAX's default (under ``jax.enable_x64``):
the mean at a new point, k*ᵀ(y − π̂), is a sum of terms up to s² that cancel to a
number near 1, and K is ill-conditioned. In float32 the predicted p differed from the
float64 answer (scikit-learn's, equal to ours within 1e-10) by 5e-3 at s = 16 and 0.84
at s = 64 on the moons (measured). The fits are small (n × n), so float64 costs little.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import cho_solve, solve_triangular

from freqbayes.inference.optim import ConvergenceError
from freqbayes.inference.precision import jit
from freqbayes.inference.probabilistic.datatree import build_datatree
from freqbayes.inference.probabilistic.problem import (
    check_positive_ints,
    check_seed,
    float_dtype,
    prepare,
    stopwatch,
)
from freqbayes.models.dataset import Dataset
from freqbayes.models.probabilistic.gp import JITTER, JITTER_FLOAT32, rbf
from freqbayes.models.probabilistic.model import Model

#: Williams & Barber's (1998, app. A) σ(f) ≈ Σ c_i Φ(λ_i f) + ½ Σ c_i: the λ_i and c_i
#: (scikit-learn's). Its error in E σ(f*) is at most 4.3e-4 (measured against
#: adaptive quadrature over means −8…8 and variances 0.01…100).
LAMBDAS = np.array([0.41, 0.4, 0.37, 0.44, 0.39])
COEFS = np.array([-1854.8214151, 3516.89893646, 221.29346712, 128.12323805, -2010.49422654])


class LaplaceState(NamedTuple):
    """State of Newton's iteration for the mode of p(f | X, y) (R&W Algorithm 3.1).

    Attributes
    ----------
    f : array (n,)
        Latent values at the training points.
    log_marginal : array ()
        Laplace approximation of log p(y | X) (R&W eq. 3.32, Algorithm 3.1 line 10).
    previous : array ()
        The same one step earlier (−inf at the start).
    iteration : array () int32
        Newton steps made.
    """

    f: jnp.ndarray
    log_marginal: jnp.ndarray
    previous: jnp.ndarray
    iteration: jnp.ndarray


class LaplaceFit(NamedTuple):
    """The Laplace approximation at the mode, with what prediction needs (Algorithm 3.2).

    Attributes
    ----------
    f : array (n,)
        The mode f̂.
    residual : array (n,)
        y − σ(f̂), computed as (2y − 1) σ(−(2y − 1) f̂): no cancellation when σ(f̂) ≈ y.
    w_sqrt : array (n,)
        W^½, W = diag(π(1 − π)).
    chol : array (n, n)
        Lower Cholesky factor of B = I + W^½ K W^½.
    log_marginal : array ()
        Laplace approximation of log p(y | X) at the mode.
    iterations : array () int32
        Newton steps made.
    converged : array () bool
        Whether the last step raised log p(y | X) by less than ``tol``.
    """

    f: jnp.ndarray
    residual: jnp.ndarray
    w_sqrt: jnp.ndarray
    chol: jnp.ndarray
    log_marginal: jnp.ndarray
    iterations: jnp.ndarray
    converged: jnp.ndarray


def init(K: jnp.ndarray) -> LaplaceState:
    """Start at f = 0, the prior mean."""
    zero = jnp.zeros(K.shape[0], K.dtype)
    ninf = jnp.array(-jnp.inf, K.dtype)
    return LaplaceState(zero, ninf, ninf, jnp.zeros((), jnp.int32))


def _curvature(K: jnp.ndarray, y: jnp.ndarray, f: jnp.ndarray) -> tuple[jnp.ndarray, ...]:
    """y − π, W^½ and the Cholesky factor of B = I + W^½ K W^½ at f (lines 4–5).

    y − π and W = σ(f) σ(−f) are formed without 1 − σ(f), which float32 rounds to 0
    once f > 17 (and to a few digits long before).
    """
    sign = 2.0 * y - 1.0
    residual = sign * jax.nn.sigmoid(-sign * f)
    w_sqrt = jnp.sqrt(jax.nn.sigmoid(f) * jax.nn.sigmoid(-f))
    B = jnp.eye(K.shape[0], dtype=K.dtype) + w_sqrt[:, None] * K * w_sqrt[None, :]
    return residual, w_sqrt, jnp.linalg.cholesky(B)


def step(K: jnp.ndarray, y: jnp.ndarray, state: LaplaceState) -> LaplaceState:
    """One Newton step f ← (K⁻¹ + W)⁻¹(W f + ∇ log p(y | f)), in Algorithm 3.1's stable form."""
    residual, w_sqrt, L = _curvature(K, y, state.f)
    b = w_sqrt**2 * state.f + residual
    a = b - w_sqrt * cho_solve((L, True), w_sqrt * (K @ b))
    f = K @ a
    log_lik = -jnp.sum(jnp.logaddexp(0.0, -(2.0 * y - 1.0) * f))
    log_marginal = -0.5 * a @ f + log_lik - jnp.sum(jnp.log(jnp.diag(L)))
    return LaplaceState(f, log_marginal, state.log_marginal, state.iteration + 1)


@functools.partial(jit, static_argnames=("max_iter",))
def mode(K: jnp.ndarray, y: jnp.ndarray, tol: float = 1e-10, max_iter: int = 100) -> LaplaceFit:
    """Newton's iteration until log p(y | X) rises by less than ``tol`` (scikit-learn's rule).

    Parameters
    ----------
    K : array (n, n)
        Prior covariance of f at the training points (s² k(X, X)).
    y : array (n,)
        Labels in {0, 1}.
    """

    def going(s: LaplaceState) -> jnp.ndarray:
        rising = (s.iteration == 0) | (s.log_marginal - s.previous >= tol)
        return (s.iteration < max_iter) & rising

    s = jax.lax.while_loop(going, lambda s: step(K, y, s), init(K))
    residual, w_sqrt, L = _curvature(K, y, s.f)
    return LaplaceFit(s.f, residual, w_sqrt, L, s.log_marginal, s.iteration, ~going(s))


@jit
def latent_mean_and_variance(
    fit: LaplaceFit, K_cross: jnp.ndarray, k_diag: jnp.ndarray
) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Mean and variance of f* at new points under the Laplace approximation (Alg. 3.2, 4–6).

    ``K_cross`` is s² k(X, X*) (n, m), ``k_diag`` s² k(x*, x*) (m,).
    """
    mean = K_cross.T @ fit.residual
    v = solve_triangular(fit.chol, fit.w_sqrt[:, None] * K_cross, lower=True)
    return mean, jnp.maximum(k_diag - jnp.sum(v * v, axis=0), 0.0)


def expected_sigmoid(mean: Any, var: Any) -> np.ndarray:
    """E σ(f) for f ~ N(mean, var), elementwise: Williams & Barber's erf sum (Alg. 3.2, line 7).

    Computed in float64 with NumPy: the coefficients are large (3,517) and cancel;
    in float32 the sum lost up to 2.4e-4 (measured over means −8…8, variances ≤ 100).
    """
    from scipy.special import erf

    m = np.asarray(mean, np.float64)[..., None]
    v = np.maximum(np.asarray(var, np.float64)[..., None], 1e-300)
    z = LAMBDAS * m / np.sqrt(1.0 + 2.0 * v * LAMBDAS**2)
    return (COEFS * 0.5 * erf(z)).sum(-1) + 0.5 * COEFS.sum()


@jit
def _from_draws(
    z: jnp.ndarray, chol: jnp.ndarray, K_cross: jnp.ndarray, scale: jnp.ndarray
) -> tuple[jnp.ndarray, jnp.ndarray]:
    A = solve_triangular(chol, K_cross, lower=True)  # L⁻¹ k(X, X*), (n, m)
    return scale * (z @ A), scale**2 * jnp.maximum(1.0 - jnp.sum(A * A, axis=0), 0.0)


def latent_from_draws(
    z: Any, chol: Any, X: Any, X_new: Any, gamma: float, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """Each draw's f* | f at new points: mean (draws, m) and variance (m,), the same for all.

    With f = s L z and L Lᵀ = k(X, X) + εI: E[f* | f] = s k*ᵀ L⁻ᵀ z and
    Var[f* | f] = s² (k(x*, x*) − ‖L⁻¹ k*‖²). ``z`` holds the draws of the program's
    ``z`` site, shape (draws, n). Computed in float64 (see the module's docstring).
    """
    K_cross = rbf(X, X_new, gamma)
    with jax.enable_x64(True):
        z, chol, K_cross = (jnp.asarray(np.asarray(a, np.float64)) for a in (z, chol, K_cross))
        mean, var = _from_draws(z, chol, K_cross, jnp.asarray(scale, jnp.float64))
        return np.asarray(mean), np.asarray(var)


def laplace_fit(
    model: Model | str,
    data: Dataset,
    *,
    seed: int = 0,
    priors: Mapping[str, Any] | None = None,
    num_chains: int = 4,
    num_samples: int = 1000,
    max_iter: int = 100,
    tol: float = 1e-10,
    allow_unconverged: bool = False,
    pointwise: str | int = "auto",
    progress: bool | None = None,
) -> Any:
    """The GP classifier's Laplace approximation (R&W Algorithm 3.1) as draws in a DataTree.

    The mode f̂ of p(f | X, y) by :func:`mode` (float64), then draws from
    N(f̂, (K⁻¹ + W)⁻¹) written in the program's non-centred coordinates z (f = s L z):
    z ~ N(ẑ, P⁻¹) with ẑ = (sL)⁻¹ f̂ and P = I + (sL)ᵀ W (sL), which is ≥ I and so
    factorises stably. ``max_iter`` and ``tol`` are the Newton iteration's (as
    :class:`~freqbayes.GaussianProcessClassifier`'s ``max_iter_predict`` and ``tol``);
    the other arguments are the generic ``laplace``'s.
    """
    seed = check_seed(seed)
    check_positive_ints(num_chains=num_chains, num_samples=num_samples, max_iter=max_iter)
    if not tol > 0:
        raise ValueError(f"tol must be > 0; got {tol!r}")
    problem = prepare(model, data, priors)
    X = np.asarray(problem.arrays["X"], np.float64)
    y = np.asarray(problem.arrays[problem.model.observed], np.float64)
    gamma, scale = float(problem.priors["f_prior"].gamma), float(problem.priors["f_prior"].scale)
    key_draw, key_pred = jax.random.split(jax.random.key(seed))
    jitter = JITTER if float_dtype() == np.float64 else JITTER_FLOAT32
    with stopwatch() as elapsed, jax.enable_x64(True):
        k = rbf(X, X, gamma)
        fit = mode(jnp.asarray(scale**2 * k), jnp.asarray(y), tol, max_iter)
        A = scale * np.linalg.cholesky(k + jitter * np.eye(len(X)))  # f = A z
        z_hat = np.linalg.solve(A, np.asarray(fit.f))
        w = np.asarray(fit.w_sqrt) ** 2
        chol_p = np.linalg.cholesky(np.eye(len(X)) + A.T @ (w[:, None] * A))
        eps = np.asarray(jax.random.normal(key_draw, (num_chains * num_samples, len(X))))
        z = z_hat + np.linalg.solve(chol_p.T, eps.T).T  # covariance P⁻¹
    converged = bool(fit.converged)
    if not converged and not allow_unconverged:
        raise ConvergenceError(
            f"{problem.model.name}: Laplace: Newton's iteration (R&W Algorithm 3.1) did not "
            f"converge in {max_iter} steps; pass allow_unconverged=True to keep it anyway"
        )
    settings = {
        "num_chains": num_chains,
        "num_samples": num_samples,
        "algorithm": "Rasmussen & Williams (2006) Algorithm 3.1 (Newton's iteration)",
        "max_iter": max_iter,
        "tol": tol,
        "iterations": int(fit.iterations),
        "converged": converged,
        "log_marginal_likelihood": float(fit.log_marginal),
    }
    posterior = {"z": z.reshape(num_chains, num_samples, len(X)).astype(float_dtype())}
    return build_datatree(
        problem,
        posterior,
        key=key_pred,
        method="laplace",
        seed=seed,
        settings=settings,
        wall_time=elapsed[0],
        pointwise=pointwise,
        independent=True,
    )
