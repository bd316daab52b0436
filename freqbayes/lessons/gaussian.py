"""§5.5–5.6 on a Gaussian: the posterior concentrating on the MLE, and the (n − 1)/n bias."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from freqbayes.models.probabilistic import gaussian


class Concentration(NamedTuple):
    """MLE and NIG posterior of a Gaussian sample as it grows (§5.5–5.6).

    Attributes
    ----------
    n : ndarray (m,)
        Sample sizes (prefixes of one sample).
    mu_mle, sigma_mle : ndarray (m,)
        x̄ and the MLE of σ (square root of the biased variance).
    mu_mean, mu_lo, mu_hi : ndarray (m,)
        Posterior mean of μ and its 95% equal-tailed credible interval (Student-t).
    sigma_mean : ndarray (m,)
        Posterior mean of σ.
    mu_map, sigma_map : ndarray (m,)
        The posterior mode (MAP) in (μ, σ).
    true_mu, true_sigma : float
        The values the sample was simulated from.
    """

    n: np.ndarray
    mu_mle: np.ndarray
    sigma_mle: np.ndarray
    mu_mean: np.ndarray
    mu_lo: np.ndarray
    mu_hi: np.ndarray
    sigma_mean: np.ndarray
    mu_map: np.ndarray
    sigma_map: np.ndarray
    true_mu: float
    true_sigma: float


#: A weakly-informative conjugate prior: μ | σ² ~ N(0, 10² σ²), σ² ~ IG(2, 2).
WEAK_NIG = gaussian.NIG(loc=0.0, kappa=0.01, alpha=2.0, beta=2.0)


def gaussian_concentration(
    seed: int = 0,
    ns: Sequence[int] = (2, 3, 5, 10, 20, 50, 100, 200, 500, 1000),
    mu: float = 5.0,
    sigma: float = 2.0,
    prior: gaussian.NIG = WEAK_NIG,
) -> Concentration:
    """Posterior of (μ, σ) on ever longer prefixes of one simulated sample, beside the MLE."""
    x_all = np.random.default_rng(seed).normal(mu, sigma, max(ns))
    rows = []
    for n in ns:
        x = x_all[:n]
        m = gaussian.mle(x)
        post = gaussian.nig_posterior(x, prior)
        lo, hi = post.mu_marginal().ppf([0.025, 0.975])
        rows.append((n, m.mu, m.sigma, post.loc, lo, hi, post.sigma_mean_sd()[0], *post.mode()))
    cols = np.asarray(rows, dtype=float).T
    return Concentration(cols[0].astype(int), *cols[1:], true_mu=mu, true_sigma=sigma)


class Bias(NamedTuple):
    """E[σ̂²_MLE]/σ² by simulation against (n − 1)/n (§5.5).

    Attributes
    ----------
    n : ndarray (m,)
    ratio : ndarray (m,)
        Mean over replications of the biased variance divided by σ².
    se : ndarray (m,)
        Monte-Carlo standard error of ``ratio``.
    formula : ndarray (m,)
        (n − 1)/n.
    reps : int
        Data sets simulated per n (one ``vmap``).
    """

    n: np.ndarray
    ratio: np.ndarray
    se: np.ndarray
    formula: np.ndarray
    reps: int


@functools.partial(jax.jit, static_argnames=("n", "reps"))
def _variance_ratios(key: jax.Array, n: int, reps: int, sigma: float) -> jnp.ndarray:
    """Biased variance / σ² of ``reps`` samples of size n, one ``vmap`` over data sets."""

    def one(k: jax.Array) -> jnp.ndarray:
        x = sigma * jax.random.normal(k, (n,))
        return jnp.var(x) / sigma**2  # ddof = 0: the MLE

    return jax.vmap(one)(jax.random.split(key, reps))


def variance_bias(
    seed: int = 0, ns: Sequence[int] = (2, 3, 5, 10, 20, 50, 100), reps: int = 20_000
) -> Bias:
    """Simulate the bias of the variance MLE: E[σ̂²] = (n − 1)/n σ²."""
    keys = jax.random.split(jax.random.key(seed), len(ns))
    ratios = [
        np.asarray(_variance_ratios(k, int(n), reps, 2.0), dtype=float)
        for k, n in zip(keys, ns, strict=True)
    ]
    n = np.asarray(ns)
    return Bias(
        n,
        np.array([r.mean() for r in ratios]),
        np.array([r.std(ddof=1) / np.sqrt(reps) for r in ratios]),
        (n - 1) / n,
        reps,
    )
