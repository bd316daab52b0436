"""Logistic regression: the features of the showcase, and separation (§5.7.1)."""

from __future__ import annotations

from typing import NamedTuple

import jax
import numpy as np

from freqbayes import data as D
from freqbayes.inference.learners import sgd

#: Five breast-cancer features on which the logistic MLE exists (no separation).
CANCER_FEATURES = (
    "mean radius",
    "mean texture",
    "mean smoothness",
    "mean symmetry",
    "worst concavity",
)


class Divergence(NamedTuple):
    """Gradient descent on the logistic loss of separable data: MLE vs MAP (weight decay).

    Attributes
    ----------
    iterations : ndarray (t,)
    mle_norm, map_norm : ndarray (t,)
        ‖w‖ after each full-batch step without and with weight decay.
    mle_loss, map_loss : ndarray (t,)
        The cost J after each step (mean log loss, plus (α/2)‖w‖² for the MAP).
    alpha : float
        Weight decay of the MAP run (= 1/(n τ²) for a N(0, τ²) prior).
    warning : str
        What :func:`freqbayes.inference.mle` says on this data.
    """

    iterations: np.ndarray
    mle_norm: np.ndarray
    map_norm: np.ndarray
    mle_loss: np.ndarray
    map_loss: np.ndarray
    alpha: float
    warning: str


def mle_divergence(
    data: D.Dataset, steps: int = 2000, tau: float = 1.0, eta: float = 1.0
) -> Divergence:
    """Full-batch gradient descent (SGD with m′ = n) on the logistic loss, with and without L2."""
    from freqbayes.inference import SeparationError, mle

    try:
        mle("logistic", data)
        warning = "the MLE was found (the data are not separable)"
    except SeparationError as err:
        warning = str(err)
    Y = np.where(data.y == 1, 1.0, -1.0)[:, None]
    alpha = 1.0 / (data.n * tau**2)
    runs = {}
    for name, a in (("mle", 0.0), ("map", alpha)):
        res = sgd.fit(
            jax.random.key(0),
            data.X,
            Y,
            loss="log_loss",
            alpha=a,
            batch_size=data.n,
            max_epochs=steps,
            eta0=eta,
            schedule="constant",
            tol=None,
            progress=False,
        )
        runs[name] = (np.linalg.norm(res.trajectory[0][:, 0, :], axis=1), res.losses[:, 0])
    return Divergence(
        np.arange(steps + 1),
        runs["mle"][0],
        runs["map"][0],
        runs["mle"][1],
        runs["map"][1],
        alpha,
        warning,
    )
