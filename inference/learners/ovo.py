"""One-vs-one multiclass SVM as LIBSVM's (scikit-learn's ``SVC``): pairs, layout, votes, coupling.

With k classes LIBSVM solves k(k−1)/2 binary duals, one per pair (i, j), i < j, in
the order (0, 1), (0, 2), …, (0, k−1), (1, 2), …; in pair (i, j) class i is +1 and
class j is −1, and only the two classes' examples take part (here: every other
example gets the bound C = 0, so all pairs are one ``vmap`` of the same SMO).
A point is predicted by voting, f_ij(x) > 0 a vote for i, else for j, ties going
to the lowest class index. Probabilities couple the pairwise Platt probabilities
r_ij by Wu, Lin & Weng (2004, method 2, LIBSVM's ``multiclass_probability``).
"""

from __future__ import annotations

import numpy as np


def pairs(k: int) -> np.ndarray:
    """The pairs (i, j), i < j, in LIBSVM's order, (k(k−1)/2, 2)."""
    return np.array([(i, j) for i in range(k) for j in range(i + 1, k)], dtype=int).reshape(-1, 2)


def pair_problems(index: np.ndarray, k: int, C: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """±1 targets (n, P) and bounds (P, n) of every pair: C_i for the pair's examples, else 0.

    ``index`` is each example's class index; class i of pair (i, j) is +1.
    """
    ij = pairs(k)
    Y = np.where(index[:, None] == ij[None, :, 0], 1.0, -1.0)
    member = (index[None, :] == ij[:, :1]) | (index[None, :] == ij[:, 1:])
    return Y, np.where(member, C[None, :], 0.0)


def libsvm_layout(
    coef: np.ndarray, index: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Support vectors and dual coefficients in LIBSVM's layout.

    Parameters
    ----------
    coef : array (P, n)
        α y of each pair's dual (0 outside the pair).
    index : array (n,)
        Each example's class index.
    k : int
        Number of classes.

    Returns
    -------
    support : (n_SV,) indices of the examples with α > 0 in any pair, class by class
    n_support : (k,) support vectors per class
    dual_coef : (k − 1, n_SV); a support vector of class c has its coefficient of
        pair (c, o) in row o − 1 if o > c, in row o if o < c
    pair_coef : (n_SV, P) the coefficients of each pair, for its decision function
    """
    used = np.any(coef != 0, axis=0)
    support = np.concatenate([np.flatnonzero(used & (index == c)) for c in range(k)])
    n_support = np.bincount(index[support], minlength=k).astype(np.int32)
    pair_coef = coef[:, support].T
    dual_coef = np.zeros((k - 1, len(support)))
    cls = index[support]
    for p, (i, j) in enumerate(pairs(k)):
        dual_coef[j - 1, cls == i] = pair_coef[cls == i, p]
        dual_coef[i, cls == j] = pair_coef[cls == j, p]
    return support, n_support, dual_coef, pair_coef


def vote(scores: np.ndarray, k: int) -> np.ndarray:
    """LIBSVM's prediction from the pairwise scores (n, P): most votes, ties to the lowest index."""
    ij = pairs(k)
    winner = np.where(scores > 0, ij[:, 0], ij[:, 1])
    votes = (winner[:, :, None] == np.arange(k)).sum(axis=1)
    return np.argmax(votes, axis=1)


#: LIBSVM clips the pairwise probabilities to [MIN_PROB, 1 − MIN_PROB].
MIN_PROB = 1e-7


def couple(r: np.ndarray, k: int) -> np.ndarray:
    """Class probabilities (n, k) from pairwise ones r_ij = P(i | i or j), (n, P).

    Wu, Lin & Weng (2004), method 2: min_p ½ pᵀQp subject to Σ p = 1, with
    Q_tt = Σ_{j≠t} r_jt² and Q_tj = −r_jt r_tj, by LIBSVM's fixed-point sweeps
    (at most max(100, k), stopping when max_t |(Qp)_t − pᵀQp| < 0.005/k).
    """
    n = r.shape[0]
    R = np.zeros((n, k, k))  # R[:, i, j] = r_ij
    r = np.clip(r, MIN_PROB, 1.0 - MIN_PROB)
    for p, (i, j) in enumerate(pairs(k)):
        R[:, i, j], R[:, j, i] = r[:, p], 1.0 - r[:, p]
    Q = -R.transpose(0, 2, 1) * R
    diag = np.sum(R**2, axis=1)  # Σ_j r_jt² (R[:, t, t] = 0)
    Q[:, np.arange(k), np.arange(k)] = diag
    p = np.full((n, k), 1.0 / k)
    active = np.ones(n, bool)
    for _ in range(max(100, k)):
        Qp = np.einsum("ntj,nj->nt", Q, p)
        pQp = np.sum(p * Qp, axis=1)
        active &= np.max(np.abs(Qp - pQp[:, None]), axis=1) >= 0.005 / k
        if not active.any():
            break
        for t in range(k):
            diff = np.where(active, (pQp - Qp[:, t]) / diag[:, t], 0.0)
            p[:, t] += diff
            pQp = (pQp + diff * (diff * diag[:, t] + 2.0 * Qp[:, t])) / (1.0 + diff) ** 2
            Qp = (Qp + diff[:, None] * Q[:, t, :]) / (1.0 + diff[:, None])
            p /= 1.0 + diff[:, None]
    return p
