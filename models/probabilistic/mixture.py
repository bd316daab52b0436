"""A Gaussian mixture (Deep Learning §3.9.6, §5.8.2's probabilistic twin of k-means).

    x_i ~ Σ_k w_k N(μ_k, σ_k² I),   w ~ Dirichlet(1),   μ_k ~ N(x̄, (2.5 s)²),
    σ_k ~ HalfNormal(2.5 s̄),

with the assignments z_i marginalised (NumPyro's ``MixtureSameFamily`` sums over them
with a ``logsumexp``), so NUTS and the optimisers see a smooth density. The priors
follow the data's units (x̄ and s per column, s̄ their mean), as the registered
models' defaults do (:mod:`~freqbayes.models.probabilistic.scaling`).

The registered model ``mixture`` (:data:`MODEL`, ``freqbayes run mixture --method
em,nuts``) is :func:`program` with its priors as arguments; the number of components
k is the length of the Dirichlet prior's concentration (``--prior
weights=dirichlet:1,1,1,1`` for k = 4; 3 by default). Its default data are the Iris
petals (length and width, cm, 150 flowers of three species). Its methods are the
maximum-likelihood fit by EM (``em``, :mod:`freqbayes.inference.probabilistic.em`) and
NUTS. :func:`gaussian_mixture` is the same program with k and the data's centre and
spread as arguments, fitted as a user's program would be: ``inference.fit(
gaussian_mixture, "nuts", data=mixture_data(X, k))``.

The components are exchangeable, so the posterior has k! identical modes (label
switching); :func:`relabel` orders each draw's components by their first coordinate,
which identifies them when the clusters are apart along it (EM's estimate is ordered
the same way). The σ² → 0 limit of EM is Lloyd's k-means.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist

from freqbayes.models.checks import as_finite_array
from freqbayes.models.dataset import Dataset
from freqbayes.models.probabilistic import priors as P
from freqbayes.models.probabilistic.model import Model
from freqbayes.models.probabilistic.scaling import RowSummary

OBSERVED = "X"

#: Components of the default prior (the Iris petals: three species).
DEFAULT_K = 3


def program(
    X: jnp.ndarray | None = None,
    *,
    n: int | None = None,
    weights_prior: P.Dirichlet,
    mu_prior: P.Normal,
    sigma_prior: P.HalfNormal | P.HalfCauchy,
) -> None:
    """NumPyro program of a spherical Gaussian mixture with its priors as arguments.

    Parameters
    ----------
    X : array (n, d), optional
        The points; None to simulate ``n`` of them.
    n : int, optional
        Number of points to simulate (static; only when X is None).
    weights_prior : Dirichlet
        Prior on the mixing weights w; its length is the number of components k.
    mu_prior : Normal
        Prior on each component's mean, per coordinate (d numbers, or one for all).
    sigma_prior : HalfNormal or HalfCauchy
        Prior on each component's sd σ_k.
    """
    k = len(weights_prior.concentration)
    loc = P.hyper(mu_prior.loc)
    d = X.shape[1] if X is not None else int(np.size(loc))
    n = X.shape[0] if X is not None else n
    weights = numpyro.sample("weights", dist.Dirichlet(P.hyper(weights_prior.concentration)))
    with numpyro.plate("component", k):
        mu = P.location("mu", mu_prior, (d,))
        sigma = P.noise_scale("sigma", sigma_prior)
    components = dist.Normal(mu, sigma[:, None]).to_event(1)
    with numpyro.plate("point", n):
        mixture = dist.MixtureSameFamily(dist.Categorical(probs=weights), components)
        numpyro.sample(OBSERVED, mixture, obs=X)


def default_priors(X: Any, k: int = DEFAULT_K) -> dict[str, P.Prior]:
    """Dirichlet(1, …, 1), μ_k ~ N(x̄, (2.5 s)²) per column, σ_k ~ HalfNormal(2.5 s̄).

    ``X`` is the points (n, d), or their :class:`~.scaling.RowSummary` (rows held by
    several processes).
    """
    if isinstance(X, RowSummary):
        centre, spread = X.mean, np.sqrt(X.m2 / max(X.n, 1))
    else:
        X = np.asarray(X, dtype=float)
        centre, spread = X.mean(axis=0), X.std(axis=0)
    spread = np.where(spread > 0, spread, 1.0)
    return {
        "weights_prior": P.Dirichlet((1.0,) * k),
        "mu_prior": P.Normal(
            tuple(float(v) for v in centre),
            tuple(float(v) for v in AUTOSCALE * spread),
        ),
        "sigma_prior": P.HalfNormal(float(AUTOSCALE * spread.mean())),
    }


def points(data: Dataset) -> np.ndarray:
    """The points of a dataset for the mixture: its X, else its y (n, d) or (n,) as (n, 1)."""
    values = data.X if data.X is not None else data.y
    a = np.asarray(values, dtype=float)
    return as_finite_array(a[:, None] if a.ndim == 1 else a, "points", 2)


def iris_petals() -> Dataset:
    """Petal length and width (cm) of the 150 Iris flowers (three species): the default data."""
    from sklearn.datasets import load_iris

    iris = load_iris()
    X = np.asarray(iris.data[:, 2:4], dtype=float)
    return Dataset(
        "iris-petals",
        X,
        feature_names=("petal_length", "petal_width"),
        attrs={"source": "sklearn.datasets.load_iris", "unit": "cm"},
    )


@dataclass(frozen=True)
class MixtureModel(Model):
    """The mixture as a registered :class:`Model`: points in, k from the Dirichlet prior."""

    def data_arguments(self, data: Dataset) -> dict[str, np.ndarray]:
        """The points (n, d) under the observed site's name (:func:`points`)."""
        X = points(data)
        if len(X) < 2:
            raise ValueError(f"data: a mixture needs at least 2 points; got {len(X)}")
        return {OBSERVED: X}

    def arguments(self, X: np.ndarray | None, y: np.ndarray) -> dict[str, np.ndarray]:
        """The points are ``X`` when given, else ``y``."""
        return self.data_arguments(Dataset("data", np.asarray(y), X))

    def default_priors(
        self, args: Mapping[str, np.ndarray], intercept: bool = True
    ) -> dict[str, Any]:
        """:func:`default_priors` of the points (k = :data:`DEFAULT_K`)."""
        return default_priors(args[OBSERVED])

    def resolve_priors(
        self, overrides: Mapping[str, Any] | None, args: Mapping[str, np.ndarray]
    ) -> dict[str, Any]:
        """The defaults updated with ``overrides``; μ's prior needs one number or d."""
        out = super().resolve_priors(overrides, args)
        d = np.shape(args[OBSERVED])[1]
        for field in ("loc", "scale"):
            value = getattr(out["mu_prior"], field)
            if isinstance(value, tuple) and len(value) != d:
                raise ValueError(f"priors['mu_prior'].{field} must have {d} entries; got {value}")
        k, n = len(out["weights_prior"].concentration), np.shape(args[OBSERVED])[0]
        if not 2 <= k <= n:
            raise ValueError(f"priors['weights_prior']: k = {k} components, need 2 ≤ k ≤ n = {n}")
        return out

    def canonical_draws(self, posterior: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Each draw's components ordered by the first coordinate of μ (:func:`order`)."""
        return order(posterior)

    def simulation_inputs(self, n: int) -> tuple[tuple[str, int], ...]:
        """Simulating n points needs n."""
        return (("n", n),)

    def coords(self, data: Dataset, n: int) -> tuple[dict[str, list[str]], dict[str, Any]]:
        """Points along ``obs`` × ``feature``; μ along ``component`` × ``feature``."""
        d = points(data).shape[1]
        names = list(data.feature_names) if len(data.feature_names) == d else None
        dims = {
            OBSERVED: ["obs", "feature"],
            "mu": ["component", "feature"],
            "sigma": ["component"],
            "weights": ["component"],
        }
        import pandas as pd

        coords = {"obs": pd.RangeIndex(n), "feature": names or [f"x{j + 1}" for j in range(d)]}
        return dims, coords


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
    """:func:`program` with k and the data's centre and spread as arguments (default priors).

    Parameters
    ----------
    X : array (n, d), optional
        The points; None to simulate.
    n, k : int
        Number of points and of components (static).
    centre, spread : array (d,)
        Column means and sds of the data: the priors' location and scales.
    """
    program(
        X,
        n=n,
        weights_prior=P.Dirichlet((1.0,) * k),
        mu_prior=P.Normal(centre, AUTOSCALE * spread),
        sigma_prior=P.HalfNormal(AUTOSCALE * jnp.mean(spread)),
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


def order(draws: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Draws (chain, draw, k, ...) of ``mu``, ``sigma``, ``weights`` ordered by μ_{k,1}.

    The components are exchangeable (same prior for each), so each ordering is an
    equally good labelling; this one identifies them when the clusters are apart
    along the first coordinate.
    """
    out = {k: np.asarray(v) for k, v in draws.items()}
    idx = np.argsort(out["mu"][..., 0], axis=-1, kind="stable")  # (chain, draw, k)
    for name in ("mu", "sigma", "weights"):
        values = out[name]
        out[name] = np.take_along_axis(values, idx.reshape(idx.shape + (1,) * (values.ndim - 3)), 2)
    return out


def relabel(posterior: Any) -> Any:
    """Each draw's components ordered by the first coordinate of μ (label switching).

    ``posterior`` is the fit's posterior (an xarray Dataset or DataTree node with
    ``mu`` (chain, draw, component, d), ``sigma`` and ``weights``); returns the same with
    every draw's components permuted so that μ_{k,1} increases (:func:`order`).
    """
    import xarray as xr

    post = posterior.to_dataset() if hasattr(posterior, "to_dataset") else posterior
    names = ("mu", "sigma", "weights")
    out = order({name: post[name].values for name in names})
    return post.assign(**{name: xr.Variable(post[name].dims, out[name]) for name in names})


MODEL = MixtureModel(
    "mixture",
    program,
    OBSERVED,
    uses_X=False,
    prior_types={
        "weights_prior": (P.Dirichlet,),
        "mu_prior": (P.Normal,),
        "sigma_prior": (P.HalfNormal, P.HalfCauchy),
    },
    default_data=iris_petals,
    about="x ~ Σ_k w_k N(μ_k, σ_k² I) (§3.9.6; k-means' twin, §5.8.2): the MLE by EM, the "
    "posterior by NUTS; components ordered by their first coordinate.",
    methods=("em", "nuts"),
    pads_rows=True,
)
