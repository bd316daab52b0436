"""Input checks that run up front and name the offending argument (NumPy only)."""

from __future__ import annotations

import numbers

import numpy as np


def all_finite(arr: np.ndarray) -> bool:
    """Whether every value of a float array is finite, from its least and greatest values.

    A NaN propagates into both, an infinity is one of them: two passes over the array and
    no boolean array of its size (``np.isfinite(arr).all()`` made one of 10⁹ bytes for a
    10⁷ × 100 table and took 4.8 s there; issue 27).
    """
    return bool(np.isfinite(arr.min(initial=0.0)) and np.isfinite(arr.max(initial=0.0)))


def as_finite_array(
    value: object, argname: str, ndim: int, keep_float32: bool = False
) -> np.ndarray:
    """Return ``value`` as a float64 ndarray of rank ``ndim``, or raise a clear error.

    ``keep_float32``: a float32 array is returned as it is (a large float32 table is not
    copied to float64; for data that go to JAX, whose default float is float32).

    Raises
    ------
    ValueError
        If ``value`` has the wrong rank, is empty, or holds NaN or inf.
    """
    try:
        arr = np.asarray(value)
        keep = keep_float32 and arr.dtype == np.float32
        arr = arr if keep else np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{argname} must be numeric: {err}") from None
    if arr.ndim != ndim:
        want = "a 1-d vector" if ndim == 1 else f"a {ndim}-d array"
        raise ValueError(f"{argname} must be {want}; got shape {arr.shape}")
    if arr.size == 0 or arr.shape[0] == 0:
        raise ValueError(f"{argname} is empty (shape {arr.shape})")
    if not all_finite(arr):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{argname} contains {bad} NaN or infinite value(s)")
    return arr


def check_positive(value: object, name: str) -> float:
    """A finite number > 0 (not a bool), as a float, or a one-line error naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < np.inf:
        raise ValueError(f"{name} must be a finite number > 0; got {value!r}")
    return float(value)


def check_X_y(
    X: object, y: object, yname: str = "y", keep_float32: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Check a design matrix ``X`` (n, d) and a target ``y`` (n,) of the same length.

    ``keep_float32``: a float32 ``X`` is not copied to float64 (:func:`as_finite_array`).
    """
    X = as_finite_array(X, "X", 2, keep_float32)
    y = as_finite_array(y, yname, 1)
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"X and {yname} have different numbers of rows: {X.shape[0]} != {y.shape[0]}"
        )
    return X, y


def check_binary(y: np.ndarray, argname: str = "y") -> np.ndarray:
    """Check that labels are in {0, 1} and return them as floats."""
    labels = np.unique(y)
    if not np.all(np.isin(labels, (0.0, 1.0))):
        bad = labels[~np.isin(labels, (0.0, 1.0))]
        shown = ", ".join(f"{v:.4g}" for v in bad[:5]) + (", …" if len(bad) > 5 else "")
        raise ValueError(
            f"{argname} must hold labels in {{0, 1}}; got {len(bad)} other value(s): {shown}"
        )
    return y


def check_counts(y: np.ndarray, argname: str = "y") -> np.ndarray:
    """Check that the values are counts: non-negative integers."""
    bad = y[(y < 0) | (y != np.round(y))]
    if bad.size:
        shown = ", ".join(f"{v:.4g}" for v in np.unique(bad)[:5])
        raise ValueError(
            f"{argname} must hold counts (integers >= 0); got {bad.size} other(s): {shown}"
        )
    return y
