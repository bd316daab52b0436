"""Two principles behind the chapter, on numbers: MLE = least divergence, posterior = updating.

* §5.5: maximising the likelihood minimises the cross-entropy between the data's
  empirical distribution and the model, H(p̂_data, p_model) = D_KL(p̂_data ‖ p_model)
  + H(p̂_data); the entropy H(p̂_data) does not depend on θ, so the cross-entropy and
  the KL divergence have the same minimiser (eqs. 5.58–5.61). Under Gaussian noise the
  conditional log-likelihood is an affine function of the mean squared error, so the
  MLE is least squares (eqs. 5.64–5.66).
* §5.6: the posterior is prior × likelihood, renormalised (Bayes' rule, eq. 5.67);
  with data arriving one point at a time, each posterior is the prior for the next
  point, and the last one is the posterior of all the data at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np


class Divergences(NamedTuple):
    """Cross-entropy, KL and MSE along a grid of one parameter.

    Attributes
    ----------
    mu : ndarray (g,)
        Grid of the Gaussian mean μ (σ fixed).
    cross_entropy : ndarray (g,)
        −(1/m) Σ log p_model(xᵢ; μ, σ): the cross-entropy H(p̂_data, p_model) (eq. 5.61).
    xbar : float
        The MLE of μ.
    w : ndarray (h,)
        Grid of a regression slope.
    nll, mse : ndarray (h,)
        −log p(y | x; w) (eq. 5.65) and the mean squared error (eq. 5.66) along it.
    sigma : float
        The noise sd held fixed.
    """

    mu: np.ndarray
    cross_entropy: np.ndarray
    xbar: float
    w: np.ndarray
    nll: np.ndarray
    mse: np.ndarray
    sigma: float


def mle_as_divergence(seed: int = 0, m: int = 40, sigma: float = 1.0) -> Divergences:
    """The MLE minimises the cross-entropy (eqs. 5.58–5.61) and, with Gaussian noise, the MSE.

    x ~ N(2, σ²) for the mean; y = 1.5x + ε with ε ~ N(0, σ²) for the slope (no
    intercept). The negative log-likelihood of the regression is
    m log σ + (m/2) log 2π + m·MSE/(2σ²), an increasing affine function of the MSE
    (eq. 5.65), so both have the same minimiser.
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(2.0, sigma, m)
    mu = np.linspace(x.mean() - 2.0, x.mean() + 2.0, 401)
    ce = 0.5 * np.log(2 * np.pi * sigma**2) + ((x[None, :] - mu[:, None]) ** 2).mean(1) / (
        2 * sigma**2
    )
    u = rng.normal(0.0, 1.0, m)
    y = 1.5 * u + rng.normal(0.0, sigma, m)
    w = np.linspace(0.5, 2.5, 401)
    resid = y[None, :] - w[:, None] * u[None, :]
    mse = (resid**2).mean(1)
    nll = m * np.log(sigma) + 0.5 * m * np.log(2 * np.pi) + m * mse / (2 * sigma**2)
    return Divergences(mu, ce, float(x.mean()), w, nll, mse, sigma)


class Updating(NamedTuple):
    """The posterior of a Gaussian mean (σ known) after each of the first n points.

    Attributes
    ----------
    x : ndarray (n,)
        The data, in the order they arrive.
    mean, sd : ndarray (n + 1,)
        Posterior mean and sd after 0 (the prior), 1, …, n points, each computed from
        the previous posterior as the prior and one new point.
    batch_mean, batch_sd : float
        The posterior of all n points at once (the same, up to rounding).
    true_mu, sigma : float
        The value simulated from and the known noise sd.
    """

    x: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    batch_mean: float
    batch_sd: float
    true_mu: float
    sigma: float


def sequential_updating(
    seed: int = 0,
    n: int = 20,
    prior: tuple[float, float] = (0.0, 2.0),
    true_mu: float = 1.5,
    sigma: float = 1.0,
) -> Updating:
    """Prior × likelihood, one point at a time: yesterday's posterior is today's prior (eq. 5.67).

    With μ ~ N(m, s²) and x | μ ~ N(μ, σ²), one point gives the posterior precision
    1/s² + 1/σ² and mean (m/s² + x/σ²)/(1/s² + 1/σ²).
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(true_mu, sigma, n)
    m, s = prior
    means, sds = [m], [s]
    for xi in x:
        precision = 1 / s**2 + 1 / sigma**2
        m = (m / s**2 + xi / sigma**2) / precision
        s = float(np.sqrt(1 / precision))
        means.append(m)
        sds.append(s)
    precision = 1 / prior[1] ** 2 + n / sigma**2
    batch_mean = (prior[0] / prior[1] ** 2 + x.sum() / sigma**2) / precision
    return Updating(
        x, np.array(means), np.array(sds), float(batch_mean), float(np.sqrt(1 / precision)),
        true_mu, sigma,
    )  # fmt: skip


#: The numbers of points after which :func:`freqbayes.figures.sequential_updating` draws.
UPDATE_STEPS: Sequence[int] = (0, 1, 2, 5, 20)
