"""MAP with a Gaussian prior is weight decay: ridge and MAP paths on one curve (eq. 5.79)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from freqbayes.models import data as D
from freqbayes.models.probabilistic import linear
from freqbayes.models.probabilistic import priors as P


class RidgePath(NamedTuple):
    """The ridge path and the MAP path on one curve (λ = σ²/τ², §5.6.1).

    Attributes
    ----------
    lam : ndarray (L,)
        Weight-decay coefficients of the dense ridge path.
    ridge : ndarray (L, d)
        Ridge coefficients (closed form).
    post_sd : ndarray (L, d)
        Posterior sd of each weight (σ known, prior N(0, τ²)) at the same λ.
    tau : ndarray (T,)
        Prior scales at which the MAP was found by optimisation.
    map_lam : ndarray (T,)
        σ²/τ² for those scales.
    map : ndarray (T, d)
        MAP weights found by :func:`freqbayes.inference.map_estimate` (L-BFGS).
    sigma : float
        The noise sd used (known), from OLS.
    features : tuple of str
    """

    lam: np.ndarray
    ridge: np.ndarray
    post_sd: np.ndarray
    tau: np.ndarray
    map_lam: np.ndarray
    map: np.ndarray
    sigma: float
    features: tuple[str, ...]


def map_ridge_path(
    data: D.Dataset | None = None,
    lams: np.ndarray | None = None,
    taus: Sequence[float] = (0.02, 0.05, 0.1, 0.3, 1.0),
) -> RidgePath:
    """Ridge coefficients against λ and MAP coefficients against τ, with σ fixed at OLS's."""
    from freqbayes.inference import map_estimate

    data = D.diabetes() if data is None else data
    X, y = data.X, data.y
    n, d = X.shape
    fit = linear.ols(X, y)
    sigma = float(np.sqrt(fit.sigma2 * n / (n - d - 1)))
    lams = np.logspace(-1, 4, 60) if lams is None else np.asarray(lams, dtype=float)
    ridge = np.array([linear.ridge(X, y, lam).beta for lam in lams])
    sds = np.array(
        [
            linear.posterior_known_sigma(
                X, y, sigma, P.Normal(0.0, sigma / np.sqrt(lam)), P.Flat()
            ).sd[1:]
            for lam in lams
        ]
    )
    maps = []
    for tau in taus:
        priors = {
            "beta_prior": P.Normal(0.0, float(tau)),
            "intercept_prior": P.Flat(),
            "sigma_prior": P.Known(sigma),
        }
        tree = map_estimate("linear", data, priors=priors)
        maps.append(np.asarray(tree["posterior"]["beta"]).reshape(-1))
    taus_arr = np.asarray(taus, dtype=float)
    return RidgePath(
        lams,
        ridge,
        sds,
        taus_arr,
        sigma**2 / taus_arr**2,
        np.array(maps),
        sigma,
        data.feature_names,
    )
