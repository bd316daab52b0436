"""A Gaussian mixture (Deep Learning §3.9.6, §5.8.2's probabilistic twin of k-means).

    x_i ~ Σ_k w_k N(μ_k, σ_k² I),   w ~ Dirichlet(1),   μ_k ~ N(x̄, (2.5 s)²),
    σ_k ~ HalfNormal(2.5 s̄),

with the assignments z_i marginalised (NumPyro's ``MixtureSameFamily`` sums over them
with a ``logsumexp``), so NUTS and the optimisers see a smooth density. The priors
follow the data's units (x̄ and s per column, s̄ their mean), as the registered
models' defaults do (:mod:`~freqbayes.models.probabilistic.scaling`).

Fitted as a user's program would be: ``inference.fit(gaussian_mixture, "nuts",
data=mixture_data(X, k))``. The components are exchangeable, so the posterior has k!
identical modes (label switching); :func:`relabel` orders each draw's components by
their first coordinate, which identifies them when the clusters are apart along it.
The maximum-likelihood fit by EM, and its σ² → 0 limit (Lloyd's k-means), are
:mod:`freqbayes.inference.learners.mixture`.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist

from freqbayes.models.checks import as_finite_array

#: Prior scales are this many times the data's (rstanarm's rule, as the other models).
AUTOSCALE = 2.5


def gaussian_mixture(
    X: jnp.ndarray | None = None,
    *,
    n: int,
    k: int,
    centre: jnp.ndarray,
    spread: jnp.ndarray,
) -> None:
    """NumPyro program of a k-component spherical Gaussian mixture of n points in d dims.

    Parameters
    ----------
    X : array (n, d), optional
        The points; None to simulate.
    n, k : int
        Number of points and of components (static).
    centre, spread : array (d,)
        Column means and sds of the data: the priors' location and scales.
    """
    weights = numpyro.sample("weights", dist.Dirichlet(jnp.ones(k)))
    with numpyro.plate("component", k):
        mu = numpyro.sample("mu", dist.Normal(centre, AUTOSCALE * spread).to_event(1))
        sigma = numpyro.sample("sigma", dist.HalfNormal(AUTOSCALE * jnp.mean(spread)))
    components = dist.Normal(mu, sigma[:, None]).to_event(1)
    with numpyro.plate("point", n):
        numpyro.sample(
            "X", dist.MixtureSameFamily(dist.Categorical(probs=weights), components), obs=X
        )


def mixture_data(X: Any, k: int) -> dict[str, Any]:
    """The program's data for points X (n, d) and k components (checked: finite, k ≤ n)."""
    X = as_finite_array(X, "X", 2)
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= len(X):
        raise ValueError(f"k must be an integer in [1, n = {len(X)}]; got {k!r}")
    spread = X.std(axis=0)
    return {
        "X": X,
        "n": len(X),
        "k": int(k),
        "centre": X.mean(axis=0),
        "spread": np.where(spread > 0, spread, 1.0),
    }


def relabel(posterior: Any) -> Any:
    """Each draw's components ordered by the first coordinate of μ (label switching).

    ``posterior`` is the fit's posterior (an xarray Dataset or DataTree node with
    ``mu`` (chain, draw, component, d), ``sigma`` and ``weights``); returns the same with
    every draw's components permuted so that μ_{k,1} increases.
    """
    import xarray as xr

    post = posterior.to_dataset() if hasattr(posterior, "to_dataset") else posterior
    order = np.argsort(post["mu"].values[..., 0], axis=-1)  # (chain, draw, k)

    def take(values: np.ndarray) -> np.ndarray:
        idx = order.reshape(order.shape + (1,) * (values.ndim - 3))
        return np.take_along_axis(values, idx, axis=2)

    out = {name: (post[name].dims, take(post[name].values)) for name in ("mu", "sigma", "weights")}
    return post.assign(**{k: xr.Variable(*v) for k, v in out.items()})
