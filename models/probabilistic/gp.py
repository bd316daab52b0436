"""A Gaussian-process classifier (Rasmussen & Williams 2006, ch. 3): the kernel SVM's twin.

    f ~ GP(0, s² k),   k(x, x′) = exp(−γ‖x − x′‖²),   p(y = 1 | f(x)) = σ(f(x)),

the latent function with the SVM's RBF kernel (§5.7.2) and the logistic link of
eq. 5.81. On the n training points f = s L z with z ~ N(0, I) and L Lᵀ = K + εI
(non-centred: NUTS then samples z, whose posterior is close to N(0, I) where the
data say little, instead of f, whose prior correlations are as strong as the kernel).
The kernel's γ and the scale s are fixed, as the SVM's γ is; :func:`gp_data`
computes L once (float64) so that no gradient step factorises K again.

The registered model ``gpc`` (:data:`MODEL`, ``freqbayes run gpc
--method laplace,nuts``) is :func:`program`, the kernel given as its prior on f
(``GaussianProcess(gamma, scale)``; ``--prior f=gp:0.5,2``; γ by default the SVM's
"scale", 1/(d Var X), and s = 1), its default data 100 two-moons points. It factorises
K in the program (JAX's float: :data:`JITTER` is raised to 10⁻⁴ in float32, where
10⁻⁶ leaves K numerically singular). Its ``laplace`` is its own: the Newton iteration of
R&W's Algorithm 3.1 (:func:`freqbayes.inference.probabilistic.gp.laplace_fit`, named in
the model's ``kernels``); predictions at new points are not the program's (they need
the conditional GP f* | f): see :class:`freqbayes.GaussianProcessClassifier`.
:func:`gp_classifier` with :func:`gp_data` is the same program fitted as a user's
program would be: ``inference.fit(gp_classifier, "nuts", data=gp_data(X, y, gamma=γ,
scale=s))``. The Laplace approximation of the latent posterior (R&W Algorithm 3.1) and
the predictive probability at new points (Algorithm 3.2; for NUTS draws, the conditional
GP f* | f) are :mod:`freqbayes.inference.probabilistic.gp`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist

from freqbayes.models.checks import as_finite_array, check_binary, check_positive
from freqbayes.models.dataset import Dataset
from freqbayes.models.learners.kernels import resolve_gamma
from freqbayes.models.probabilistic import priors as P
from freqbayes.models.probabilistic.logistic import BernoulliLogits
from freqbayes.models.probabilistic.model import Model

OBSERVED = "y"

#: The jitter in float32 (see the module's docstring).
JITTER_FLOAT32 = 1e-4

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


def program(X: jnp.ndarray, y: jnp.ndarray | None = None, *, f_prior: P.GaussianProcess) -> None:
    """NumPyro program of the GP classifier with its kernel as the prior on f (non-centred).

    f = s L z, z ~ N(0, I), L Lᵀ = k(X, X) + εI; y_i ~ Bernoulli(σ(f_i)). The latent
    values f at the training points are kept as the deterministic site ``f``.

    Parameters
    ----------
    X : array (n, d)
        Training inputs.
    y : array (n,) of {0, 1}, optional
        Labels; None to simulate.
    f_prior : GaussianProcess
        γ (filled in) and s of the prior GP(0, s² k).
    """
    sq = jnp.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    jitter = JITTER if X.dtype == jnp.float64 else JITTER_FLOAT32
    K = jnp.exp(-f_prior.gamma * sq) + jitter * jnp.eye(X.shape[0], dtype=X.dtype)
    chol = jax.scipy.linalg.cholesky(K, lower=True)
    with numpyro.plate("obs", X.shape[0]):
        z = numpyro.sample("z", dist.Normal(0.0, 1.0))
        f = numpyro.deterministic("f", f_prior.scale * (chol @ z))
        numpyro.sample(OBSERVED, BernoulliLogits(logits=f), obs=y)


def moons() -> Dataset:
    """100 points of scikit-learn's two moons (noise 0.2, seed 0): the default data."""
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=100, noise=0.2, random_state=0)
    return Dataset("moons", y.astype(float), X, ("x1", "x2"), {"source": "make_moons(100, 0.2)"})


@dataclass(frozen=True)
class GPModel(Model):
    """The GP classifier as a registered :class:`Model`: γ of its prior filled from the data."""

    def default_priors(
        self, args: Mapping[str, np.ndarray], intercept: bool = True
    ) -> dict[str, Any]:
        """GP(0, k) with the SVM's γ = 1/(d Var X) and s = 1."""
        return {"f_prior": P.GaussianProcess(resolve_gamma("scale", np.asarray(args["X"])), 1.0)}

    def resolve_priors(
        self, overrides: Mapping[str, Any] | None, args: Mapping[str, np.ndarray]
    ) -> dict[str, Any]:
        """The defaults updated with ``overrides``; a γ left None is the SVM's "scale"."""
        out = super().resolve_priors(overrides, args)
        if out["f_prior"].gamma is None:
            gamma = resolve_gamma("scale", np.asarray(args["X"]))
            out["f_prior"] = out["f_prior"]._replace(gamma=gamma)
        return out


MODEL = GPModel(
    "gpc",
    program,
    OBSERVED,
    outcome=check_binary,
    prior_types={"f_prior": (P.GaussianProcess,)},
    dims={"z": ("obs",), "f": ("obs",)},
    default_data=moons,
    about="p(y = 1 | x) = σ(f(x)), f ~ GP(0, s² exp(−γ‖x − x′‖²)) (the RBF SVM's twin, "
    "§5.7.2): Laplace by Rasmussen & Williams' Algorithm 3.1, or NUTS.",
    methods=("laplace", "nuts"),
    kernels={"laplace": "freqbayes.inference.probabilistic.gp:laplace_fit"},
    no_prediction="f at new points needs the GP's conditional f* | f, which this model's "
    "program does not draw; use GaussianProcessClassifier.predict_proba",
)
