"""Platt scaling: an SVM's scores as probabilities, P(y = 1 | f) = 1 / (1 + exp(A f + B)).

The sigmoid is fitted to scores f that the SVM did not see in training (out-of-fold
scores from a cross-validation, as LIBSVM and scikit-learn's ``SVC(probability=True)``
do), by LIBSVM's Newton method with backtracking (Lin, Lin & Weng, 2007) on the
log-loss against Platt's smoothed targets (N₊ + 1)/(N₊ + 2) and 1/(N₋ + 2), which
keep A and B finite when the classes are separated.
"""

from __future__ import annotations

import numpy as np

#: LIBSVM's settings: Newton iterations, smallest step, Hessian ridge, gradient tolerance.
MAX_ITER, MIN_STEP, SIGMA, EPS = 100, 1e-10, 1e-12, 1e-5


def _loss(f: np.ndarray, t: np.ndarray, A: float, B: float) -> float:
    """Σ −t log p − (1 − t) log(1 − p) with p = 1/(1 + e^{Af+B}), computed stably."""
    z = f * A + B
    return float(
        np.sum(np.where(z >= 0, t * z + np.log1p(np.exp(-z)), (t - 1) * z + np.log1p(np.exp(z))))
    )


def probability(f: np.ndarray, A: float, B: float) -> np.ndarray:
    """P(y = 1 | f) = 1 / (1 + exp(A f + B)), without overflow."""
    z = np.asarray(f, dtype=np.float64) * A + B
    ez = np.exp(-np.abs(z))
    return np.where(z >= 0, ez / (1.0 + ez), 1.0 / (1.0 + ez))


def sigmoid_train(f: np.ndarray, positive: np.ndarray) -> tuple[float, float]:
    """Fit (A, B) to scores ``f`` with labels ``positive`` (bool); LIBSVM's ``sigmoid_train``."""
    f = np.asarray(f, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    n1 = float(positive.sum())
    n0 = float(positive.size) - n1
    t = np.where(positive, (n1 + 1.0) / (n1 + 2.0), 1.0 / (n0 + 2.0))
    A, B = 0.0, float(np.log((n0 + 1.0) / (n1 + 1.0)))
    value = _loss(f, t, A, B)
    for _ in range(MAX_ITER):
        p = probability(f, A, B)
        d2 = p * (1.0 - p)
        h11, h22, h21 = SIGMA + np.sum(f * f * d2), SIGMA + np.sum(d2), np.sum(f * d2)
        d1 = t - p
        g1, g2 = float(np.sum(f * d1)), float(np.sum(d1))
        if abs(g1) < EPS and abs(g2) < EPS:
            break
        det = h11 * h22 - h21 * h21
        dA, dB = -(h22 * g1 - h21 * g2) / det, -(-h21 * g1 + h11 * g2) / det
        slope = g1 * dA + g2 * dB
        step = 1.0
        while step >= MIN_STEP:
            newA, newB = A + step * dA, B + step * dB
            new = _loss(f, t, newA, newB)
            if new < value + 1e-4 * step * slope:
                A, B, value = newA, newB, new
                break
            step /= 2.0
        if step < MIN_STEP:  # no decrease along the Newton direction: as good as it gets
            break
    return float(A), float(B)
