"""k-means beside its probabilistic twin, the Gaussian mixture (§5.8.2, issue 14).

k-means answers "which cluster?" with one label per point and a hard boundary; the
mixture's posterior answers "with what probability?", and its boundary is a band.
The two meet at EM with a shared variance σ² → 0 (:mod:`freqbayes.inference.probabilistic.em`).
How many clusters: k-means' inertia falls whatever k (the elbow is a judgement), the
mixture's PSIS-LOO expected log predictive density can say that more components
predict new points no better.
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

#: Three overlapping clusters in raw units (a width near 100, a height near 20).
CENTRES = np.array([[100.0, 20.0], [106.0, 27.0], [113.0, 20.0]])
SPREAD = np.array([2.2, 2.6])


class MixtureTwin(NamedTuple):
    """k-means and the mixture on the same points.

    Attributes
    ----------
    X : ndarray (n, 2)
    kmeans_labels : ndarray (n,)
    kmeans_centres : ndarray (k, 2)
        Clusters numbered by the first coordinate of their centre (as :func:`relabel`
        numbers the mixture's components).
    membership : ndarray (n, k)
        Posterior probability of each point belonging to each component (mean over
        the relabelled draws of the responsibilities).
    posterior_means : ndarray (draws, k, 2)
        Relabelled posterior draws of μ (a thinned sample for drawing).
    em_lloyd_agreement : float
        Share of points EM with σ² = 1e-6 (shared, fixed) labels as k-means does.
    em_log_likelihood : float
        Mean log-likelihood of the EM (maximum-likelihood) fit.
    choice : DataFrame
        Per k: k-means inertia, PSIS-LOO elpd and its se, p_loo, largest Pareto k,
        r̂ after relabelling.
    k : int
        The number of clusters the data were drawn with.
    """

    X: np.ndarray
    kmeans_labels: np.ndarray
    kmeans_centres: np.ndarray
    membership: np.ndarray
    posterior_means: np.ndarray
    em_lloyd_agreement: float
    em_log_likelihood: float
    choice: pd.DataFrame
    k: int


def mixture_points(seed: int = 0, n: int = 100) -> np.ndarray:
    """n points from each of the three :data:`CENTRES`."""
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(c, SPREAD, (n, 2)) for c in CENTRES])


def membership(X: np.ndarray, posterior: Any) -> np.ndarray:
    """P(z_i = k | data): the responsibilities at every draw, averaged (relabelled draws)."""
    from freqbayes.inference.learners.mixture import EMState, e_step

    mu = posterior["mu"].values.reshape(-1, *posterior["mu"].shape[2:])
    sigma = posterior["sigma"].values.reshape(-1, posterior["sigma"].shape[-1])
    weights = posterior["weights"].values.reshape(-1, posterior["weights"].shape[-1])
    Xj = jnp.asarray(X, jnp.result_type(float))

    def one(w: jnp.ndarray, m: jnp.ndarray, s: jnp.ndarray) -> jnp.ndarray:
        zero = jnp.zeros((), Xj.dtype)
        return e_step(Xj, EMState(w, m, s * s, zero, zero, jnp.zeros((), jnp.int32)))[0]

    cast = [jnp.asarray(a, Xj.dtype) for a in (weights, mu, sigma)]
    return np.asarray(jnp.mean(jax.lax.map(lambda a: one(*a), tuple(cast)), axis=0))


def mixture_twin(
    seed: int = 0, ks: tuple[int, ...] = (2, 3, 4, 5), draws: int = 500, n: int = 100
) -> MixtureTwin:
    """k-means, EM and NUTS on :func:`mixture_points`; the choice of k by inertia and LOO."""
    import arviz_stats as az

    from freqbayes import KMeans
    from freqbayes.inference import fit
    from freqbayes.inference.learners import mixture as M
    from freqbayes.models.probabilistic.mixture import gaussian_mixture, mixture_data, relabel

    X = mixture_points(seed, n)
    k = len(CENTRES)
    km = KMeans(k, n_init=10, random_state=seed).fit(X)
    Xj = jnp.asarray(X, jnp.result_type(float))
    start = jnp.asarray(km.cluster_centers_ + 1.0, Xj.dtype)  # near, not at, Lloyd's answer
    tiny = M.em(Xj, M.init(Xj, start, variances=jnp.full(k, 1e-6, Xj.dtype)), tol=1e-12,
                fixed_variance=1e-6, fixed_weights=True)  # fmt: skip
    agreement = float(np.mean(np.asarray(M.labels(Xj, tiny)) == km.labels_))
    mle = M.em(Xj, M.init(Xj, start), tol=1e-8, max_iter=500)
    rows, chosen = [], None
    for kk in ks:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # r̂ before relabelling
            # own coordinates: whitening's mode search starts where all components
            # coincide (a saddle) and falls back to them anyway, after compiling it
            tree = fit(gaussian_mixture, "nuts", mixture_data(X, kk), seed=seed,
                       num_warmup=draws, num_samples=draws, devices=1,
                       prior_draws=0, whitened=False, progress=False)  # fmt: skip
        post = relabel(tree.posterior)
        loo = az.loo(tree, pointwise=True)
        rows.append(
            {
                "k": kk,
                "kmeans_inertia": KMeans(kk, n_init=10, random_state=seed).fit(X).inertia_,
                "elpd_loo": float(loo.elpd),
                "elpd_se": float(loo.se),
                "p_loo": float(loo.p),
                "max_pareto_k": float(np.max(loo.pareto_k)),
                "r_hat_relabelled": float(az.rhat(post)["mu"].max()),
            }
        )
        if kk == k:
            chosen = post
    assert chosen is not None, "ks must include the true number of clusters"
    thin = chosen["mu"].values.reshape(-1, k, 2)
    order = np.argsort(km.cluster_centers_[:, 0])  # k-means' clusters named as relabel() does
    rank = np.empty(k, int)
    rank[order] = np.arange(k)
    return MixtureTwin(
        X,
        rank[km.labels_],
        km.cluster_centers_[order],
        membership(X, chosen),
        thin[:: max(1, len(thin) // 400)],
        agreement,
        float(mle.log_likelihood),
        pd.DataFrame(rows),
        k,
    )
