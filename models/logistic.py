"""Logistic regression p(y = 1 | x) = σ(θᵀx + b) (Deep Learning §5.7.1).

The likelihood is computed from logits, so |θᵀx| of 50 or more neither
overflows nor gives log(0). With flat priors the MAP is the MLE, which does not
exist when the classes are completely separated: :func:`separates` detects it.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist

from freqbayes.models import priors as P
from freqbayes.models.linear import linear_predictor

SITES = ("intercept", "beta")
OBSERVED = "y"


def program(
    X: jnp.ndarray,
    y: jnp.ndarray | None = None,
    *,
    beta_prior: P.LocationPrior = P.Normal(1.0),
    intercept_prior: P.LocationPrior | None = P.Normal(5.0),
) -> None:
    """NumPyro program y_i ~ Bernoulli(σ(b + θᵀx_i)) with priors as arguments.

    Parameters
    ----------
    X : array (n, d)
        Features.
    y : array (n,) of {0, 1}, optional
        Labels; ``None`` to simulate.
    beta_prior : Normal or Flat
        Prior on each weight; ``Normal(τ)`` makes the MAP L2-penalised logistic
        regression with C = τ² in scikit-learn's convention.
    intercept_prior : Normal, Flat or None
        Prior on the intercept; ``None`` removes it.
    """
    eta = linear_predictor(X, beta_prior, intercept_prior)
    with numpyro.plate("obs", X.shape[0]):
        numpyro.sample(OBSERVED, dist.Bernoulli(logits=eta), obs=y)


def log_likelihood(X: jnp.ndarray, y: jnp.ndarray, beta: jnp.ndarray, intercept=0.0) -> jnp.ndarray:
    """Σ_i [y_i η_i − log(1 + e^{η_i})], computed stably from the logits η = Xθ + b."""
    eta = X @ beta + intercept
    return jnp.sum(y * eta - jnp.logaddexp(0.0, eta))


def separates(X: np.ndarray, y: np.ndarray, beta: np.ndarray, intercept: float = 0.0) -> bool:
    """True if the hyperplane (θ, b) classifies every example strictly correctly.

    Then the classes are completely separated: scaling (θ, b) up drives the
    likelihood to its supremum 1, which is never attained, so no MLE exists.
    """
    margin = (2 * np.asarray(y) - 1) * (np.asarray(X) @ np.asarray(beta) + intercept)
    return bool(np.all(margin > 0))
