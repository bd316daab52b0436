"""Logistic regression: the features of the showcase, and separation (§5.7.1)."""

from __future__ import annotations

from typing import NamedTuple

import jax
import numpy as np

from freqbayes.i18n import _
from freqbayes.inference.learners import sgd
from freqbayes.models import data as D

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
        warning = _("the MLE was found (the data are not separable)")
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


class WhySigmoid(NamedTuple):
    """Binary outcomes fitted by a straight line (Gaussian likelihood) and by a sigmoid.

    Attributes
    ----------
    x, y : ndarray (n,)
        One feature and labels in {0, 1}.
    line : tuple of float
        (intercept, slope) of least squares: the MLE under y ~ N(b + wx, σ²).
    sigmoid : tuple of float
        (intercept, slope) of the logistic MLE, p(y = 1 | x) = σ(b + wx) (eq. 5.81).
    outside : float
        Share of the data range of x where the line predicts outside [0, 1].
    """

    x: np.ndarray
    y: np.ndarray
    line: tuple[float, float]
    sigmoid: tuple[float, float]
    outside: float


def why_sigmoid(seed: int = 0, n: int = 100, slope: float = 2.0) -> WhySigmoid:
    """Why a Gaussian cannot model y ∈ {0, 1} and the logistic sigmoid appears (§5.7.1).

    x ~ U(−3, 3), y ~ Bernoulli(σ(slope·x)). The line of least squares (the Gaussian
    MLE) leaves [0, 1] at both ends of the data, so it is not a probability, and its
    Gaussian noise would put mass on every real y; squashing the same linear function
    θᵀx through σ(z) = 1/(1 + e⁻ᶻ) gives a probability for every x.
    """
    from freqbayes.inference import mle
    from freqbayes.models.dataset import Dataset

    rng = np.random.default_rng(seed)
    x = rng.uniform(-3.0, 3.0, n)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-slope * x))).astype(float)
    w, b = np.polyfit(x, y, 1)
    fit = mle("logistic", Dataset("why-sigmoid", y, x[:, None], ("x",)))["posterior"]
    grid = np.linspace(x.min(), x.max(), 1001)
    line = b + w * grid
    outside = float(np.mean((line < 0) | (line > 1)))
    return WhySigmoid(
        x,
        y,
        (float(b), float(w)),
        (float(fit["intercept"].item()), float(fit["beta"].item())),
        outside,
    )
