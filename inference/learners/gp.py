"""Binary GP classification by the Laplace approximation, scikit-learn style: the SVM's twin.

:class:`GaussianProcessClassifier` is Rasmussen & Williams' Algorithms 3.1–3.2 of
:mod:`freqbayes.inference.probabilistic.gp` (the mode by Newton's iteration, the
predictive probability by Williams & Barber's erf sum) behind ``fit`` /
``predict_proba``, with the RBF kernel's γ and the prior sd s fixed (the registered
model ``gpc`` fits the same thing, and NUTS too). Fits and predictions are
float64 whatever JAX's default (see that module's docstring).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from freqbayes.inference.learners.base import (
    ClassifierMixin,
    Estimator,
    binary_targets,
    check_int,
    check_is_fitted,
    validate_data,
    warn_unconverged,
)
from freqbayes.inference.probabilistic.gp import expected_sigmoid, latent_mean_and_variance, mode
from freqbayes.models.checks import check_positive
from freqbayes.models.learners.kernels import resolve_gamma
from freqbayes.models.probabilistic.gp import rbf


class GaussianProcessClassifier(ClassifierMixin, Estimator):
    """Binary GP classification by the Laplace approximation, RBF kernel with fixed γ and scale.

    scikit-learn's ``GaussianProcessClassifier(ConstantKernel(scale**2) *
    RBF(1/sqrt(2 gamma)), optimizer=None)`` computes the same thing (its
    hyper-parameter search is left out: here γ is the SVM's, for the side-by-side).

    Parameters
    ----------
    gamma : {"scale", "auto"} or float
        k(x, x′) = exp(−γ‖x − x′‖²); "scale" and "auto" as the SVM's.
    scale : float
        Prior sd s of the latent function (the kernel is s² k).
    max_iter_predict : int
        Newton steps at most.
    tol : float
        Stop when log p(y | X) rises by less than this.

    Attributes
    ----------
    classes_ : ndarray (2,)
    X_train_ : ndarray (n, d)
    gamma_ : float
        The γ used.
    f_ : ndarray (n,)
        The posterior mode of the latent at the training points.
    log_marginal_likelihood_value_ : float
        Laplace approximation of log p(y | X) (R&W eq. 3.32).
    n_iter_ : int
    converged_ : bool
    """

    def __init__(
        self,
        gamma: str | float = "scale",
        scale: float = 1.0,
        *,
        max_iter_predict: int = 100,
        tol: float = 1e-10,
    ) -> None:
        self.gamma = gamma
        self.scale = scale
        self.max_iter_predict = max_iter_predict
        self.tol = tol

    def __sklearn_tags__(self) -> Any:
        """A binary classifier (scikit-learn's checks then skip the multi-class ones)."""
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def _kernel(self, A: np.ndarray, B: np.ndarray) -> jnp.ndarray:
        """s² k(A, B) in float64 (call under ``jax.enable_x64``; see the module's docstring)."""
        return jnp.asarray(self.scale**2 * rbf(A, B, self.gamma_))

    def fit(self, X: Any, y: Any) -> GaussianProcessClassifier:
        """Find the posterior mode of the latent at the training points (Algorithm 3.1)."""
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        self.classes_, Y = binary_targets(y)
        if len(self.classes_) != 2:
            raise ValueError(
                f"Only binary classification is supported; y has {len(self.classes_)} classes"
            )
        check_positive(self.scale, "scale")
        check_positive(self.tol, "tol")
        steps = check_int(self.max_iter_predict, "max_iter_predict", 1)
        self.gamma_ = resolve_gamma(self.gamma, X)
        self.X_train_ = X
        with jax.enable_x64(True):
            K = self._kernel(X, X)
            fit = mode(K, jnp.asarray(Y[:, 0] > 0, K.dtype), self.tol, steps)
            self._fit = jax.tree.map(np.asarray, fit)
        self.f_ = self._fit.f
        self.log_marginal_likelihood_value_ = float(fit.log_marginal)
        self.n_iter_ = int(fit.iterations)
        self.converged_ = bool(fit.converged)
        if not self.converged_:
            warn_unconverged(self, f"Newton's iteration ran {steps} steps")
        return self

    def latent_mean_and_variance(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of the latent f* at the rows of X (Algorithm 3.2, lines 4–6)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        with jax.enable_x64(True):
            K_cross = self._kernel(self.X_train_, X)
            diag = jnp.full(len(X), self.scale**2, K_cross.dtype)
            fit = jax.tree.map(jnp.asarray, self._fit)
            mean, var = latent_mean_and_variance(fit, K_cross, diag)
            return np.asarray(mean), np.asarray(var)

    def predict_proba(self, X: Any) -> np.ndarray:
        """P(class) per row: the latent's Gaussian pushed through σ (Algorithm 3.2, line 7)."""
        p = expected_sigmoid(*self.latent_mean_and_variance(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """The class with P > ½ (the sign of the latent mean)."""
        positive = self.predict_proba(X)[:, 1] > 0.5  # checks that it is fitted
        return self.classes_[positive.astype(int)]
