"""What the scikit-learn-style classes share: input checks, keys, scaling, warnings.

Each class takes scikit-learn's parameter names where the meaning is the same,
checks its input up front, returns ``self`` from ``fit`` and keeps only numpy
arrays on the instance (learned attributes end in ``_``), so it pickles, clones
and works in pipelines and ``cross_val_score``. The work is done by module-level
jitted functions beside each class.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets

from freqbayes.inference.optim import float_dtype


def random_key(random_state: Any) -> jax.Array:
    """A ``jax.random.key`` from a scikit-learn ``random_state`` (None, int or RandomState)."""
    return jax.random.key(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def as_jax(X: np.ndarray) -> jnp.ndarray:
    """X in JAX's default float type (float32, or float64 under x64)."""
    return jnp.asarray(X, dtype=float_dtype())


def check_int(value: Any, name: str, low: int, high: float = np.inf, high_name: str = "") -> int:
    """Return ``value`` if it is an integer in [low, high], else raise naming ``name``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or not low <= value <= high
    ):
        top = f"{high_name} = {high}" if high_name else f"{high}"
        bound = f"in [{low}, {top}]" if np.isfinite(high) else f">= {low}"
        raise ValueError(f"{name} must be an integer {bound}; got {value!r}")
    return int(value)


def check_scale(a: np.ndarray, name: str) -> None:
    """Refuse values whose squares the float type in use cannot represent.

    Sums of squares (‖x‖², squared losses, distances) overflow to inf or underflow
    to 0 there, and the fit would silently return NaN or zero coefficients.
    """
    info = np.finfo(float_dtype())
    big = float(np.max(np.abs(a))) if np.size(a) else 0.0
    if big == 0.0:
        return
    width = a.shape[1] if np.ndim(a) == 2 else 1
    hint = (
        "rescale it (e.g. sklearn.preprocessing.StandardScaler) or run JAX in float64 "
        "(JAX_ENABLE_X64=1)"
    )
    if big * big * width > float(info.max) / 16:
        raise ValueError(
            f"{name} has values up to {big:.3g}: their squares overflow {info.dtype} "
            f"arithmetic; {hint}"
        )
    if big * big < float(info.tiny) * 1e6:
        raise ValueError(
            f"{name} has no value larger than {big:.3g}: their squares underflow {info.dtype} "
            f"arithmetic; {hint}"
        )


class Standardiser(NamedTuple):
    """Centre and scale of the columns of X: fitting runs on (X − mean)/scale.

    For a linear model with an unpenalised intercept this is an exact change of
    variables: w = w̃/scale and b = b̃ − wᵀmean, with the penalty (α/2)‖w‖² written
    as (α/2) Σ (w̃_j/scale_j)², so the optimum is the same, reached on a problem
    whose conditioning does not depend on the data's units.
    """

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def of(cls, X: np.ndarray, centre: bool = True) -> Standardiser:
        """The centre (0 if ``centre`` is False) and sd (1 for constant columns) of X."""
        sd = X.std(axis=0)
        mean = X.mean(axis=0) if centre else np.zeros(X.shape[1])
        return cls(mean, np.where(sd > 0, sd, 1.0))

    def transform(self, X: np.ndarray) -> np.ndarray:
        """(X − mean)/scale."""
        return (X - self.mean) / self.scale

    def weights(self, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Coefficients (…, d) and intercepts (…) of the scaled problem in the user's units."""
        w = np.asarray(w, dtype=np.float64) / self.scale
        return w, np.asarray(b, dtype=np.float64) - w @ self.mean


def warn_unconverged(estimator: Any, what: str, depth: int = 1) -> None:
    """Warn with scikit-learn's ``ConvergenceWarning``, pointing at the caller of ``fit``.

    ``depth`` counts the estimator's own frames between ``fit`` and this function.
    """
    warnings.warn(
        f"{type(estimator).__name__}: {what}; the estimate is not at its optimum "
        "(see converged_). Consider increasing max_iter.",
        ConvergenceWarning,
        stacklevel=2 + depth,
    )


def binary_targets(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """classes_ and the ±1 target columns: one for two classes, one per class (one-vs-rest)."""
    check_classification_targets(y)
    classes = np.unique(y)
    if len(classes) < 2:
        raise ValueError(f"y has only one class ({classes[0]!r}): need at least 2 classes")
    positive = classes[1:] if len(classes) == 2 else classes
    return classes, np.where(y[:, None] == positive[None, :], 1.0, -1.0)


def predict_from_scores(estimator: Any, X: Any) -> np.ndarray:
    """Sign of the score for two classes, else the class with the largest score."""
    scores = estimator.decision_function(X)  # checks that it is fitted
    classes = estimator.classes_
    if len(classes) == 2:
        return classes[(scores.ravel() > 0).astype(int)]
    return classes[np.argmax(scores, axis=1)]


def check_C(C: Any) -> float:
    if not (isinstance(C, numbers.Real) and 0 < C < np.inf):
        raise ValueError(f"C must be a finite number > 0; got {C!r}")
    return float(C)
