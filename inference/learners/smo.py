"""SMO for the kernel SVM's soft-margin dual (Deep Learning §5.7.2), with a bound per example.

With y ∈ {−1, +1} and Q_ij = y_i y_j k(x_i, x_j),

    min_α  ½ αᵀQα − Σ_i α_i   subject to  0 ≤ α_i ≤ C_i,  Σ_i y_i α_i = 0,

solved by sequential minimal optimisation with LIBSVM's second-order working-set
selection (Fan, Chen & Lin, 2005): each step picks the most violating pair
(i, j), solves the two-variable problem in closed form and updates the gradient
G = Qα − 1 with two kernel rows. It stops when the maximal KKT violation
m(α) − M(α) is below ``tol``. C_i = C × (sample weight) × (class weight), as in
LIBSVM; an example with C_i = 0 takes no part (the held-out rows of a
cross-validation fold, in :class:`~freqbayes.inference.learners.svm.SVC`'s Platt
scaling). The kernel matrix is computed once when it fits in
:data:`MAX_KERNEL_ELEMENTS` entries, otherwise two rows per step.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from freqbayes.inference.compilation import SizedJit
from freqbayes.inference.precision import jit
from freqbayes.models.learners.kernels import Kernel, diagonal, gram

TAU = 1e-12
#: Largest kernel matrix (entries) computed once; beyond it rows are computed per step.
MAX_KERNEL_ELEMENTS = 420_000_000


class SMOState(NamedTuple):
    """State of SMO.

    Attributes
    ----------
    alpha : array (n,)
        Dual variables, 0 ≤ α ≤ C.
    grad : array (n,)
        G = Qα − 1, the gradient of the dual objective.
    gap : array ()
        Maximal KKT violation m(α) − M(α) at the current α.
    i, j : array () int
        The working pair selected at the current α (updated next if gap > tol).
    Ki : array (n,)
        k(x_i, ·), the kernel row of i.
    iteration : array () int
        Pair updates made.
    """

    alpha: jnp.ndarray
    grad: jnp.ndarray
    gap: jnp.ndarray
    i: jnp.ndarray
    j: jnp.ndarray
    Ki: jnp.ndarray
    iteration: jnp.ndarray


class DualSolution(NamedTuple):
    """A solved dual: α, the intercept b, and how SMO ended."""

    alpha: jnp.ndarray
    intercept: jnp.ndarray
    gap: jnp.ndarray
    iterations: jnp.ndarray


def _select(
    y: jnp.ndarray, G: jnp.ndarray, alpha: jnp.ndarray, C: jnp.ndarray, Kdiag: jnp.ndarray, row
) -> tuple[jnp.ndarray, jnp.ndarray, jnp.ndarray, jnp.ndarray]:
    """Second-order working-set selection; returns i, j, the KKT gap and k(x_i, ·)."""
    up = jnp.where(y > 0, alpha < C, alpha > 0)
    low = jnp.where(y > 0, alpha > 0, alpha < C)
    minus_yG = -y * G
    vup = jnp.where(up, minus_yG, -jnp.inf)
    i = jnp.argmax(vup)
    g_max = vup[i]
    g_max2 = jnp.max(jnp.where(low, -minus_yG, -jnp.inf))
    Ki = row(i)
    grad_diff = g_max - minus_yG
    quad = Kdiag[i] + Kdiag - 2.0 * Ki
    quad = jnp.where(quad > 0, quad, TAU)
    obj = jnp.where(low & (grad_diff > 0), -(grad_diff**2) / quad, jnp.inf)
    return i, jnp.argmin(obj), g_max + g_max2, Ki


def _pair_update(
    ai: jnp.ndarray,
    aj: jnp.ndarray,
    Gi: jnp.ndarray,
    Gj: jnp.ndarray,
    same: jnp.ndarray,
    quad: jnp.ndarray,
    Ci: jnp.ndarray,
    Cj: jnp.ndarray,
) -> tuple[jnp.ndarray, jnp.ndarray]:
    """LIBSVM's closed-form solution of the two-variable subproblem, clipped to the boxes."""
    quad = jnp.where(quad > 0, quad, TAU)
    # y_i != y_j: α_i − α_j is conserved
    delta = (-Gi - Gj) / quad
    diff = ai - aj
    pi, pj = ai + delta, aj + delta
    pi, pj = (
        jnp.where(diff > 0, jnp.where(pj < 0, diff, pi), jnp.where(pi < 0, 0.0, pi)),
        jnp.where(diff > 0, jnp.where(pj < 0, 0.0, pj), jnp.where(pi < 0, -diff, pj)),
    )
    first = diff > Ci - Cj
    pi, pj = (
        jnp.where(first, jnp.where(pi > Ci, Ci, pi), jnp.where(pj > Cj, Cj + diff, pi)),
        jnp.where(first, jnp.where(pi > Ci, Ci - diff, pj), jnp.where(pj > Cj, Cj, pj)),
    )
    # y_i == y_j: α_i + α_j is conserved
    delta = (Gi - Gj) / quad
    total = ai + aj
    si, sj = ai - delta, aj + delta
    si, sj = (
        jnp.where(total > Ci, jnp.where(si > Ci, Ci, si), jnp.where(sj < 0, total, si)),
        jnp.where(total > Ci, jnp.where(si > Ci, total - Ci, sj), jnp.where(sj < 0, 0.0, sj)),
    )
    si, sj = (
        jnp.where(total > Cj, jnp.where(sj > Cj, total - Cj, si), jnp.where(si < 0, 0.0, si)),
        jnp.where(total > Cj, jnp.where(sj > Cj, Cj, sj), jnp.where(si < 0, total, sj)),
    )
    return jnp.where(same, si, pi), jnp.where(same, sj, pj)


def intercept(y: jnp.ndarray, G: jnp.ndarray, alpha: jnp.ndarray, C: jnp.ndarray) -> jnp.ndarray:
    """The intercept −ρ: mean of −y_i G_i over free vectors (0 < α_i < C_i), else mid-bounds."""
    yG = y * G
    taking_part = C > 0
    at_upper, at_lower = alpha >= C, alpha <= 0
    free = ~at_upper & ~at_lower
    ub_mask = taking_part & ((at_upper & (y < 0)) | (at_lower & (y > 0)))
    lb_mask = taking_part & ((at_upper & (y > 0)) | (at_lower & (y < 0)))
    ub = jnp.min(jnp.where(ub_mask, yG, jnp.inf))
    lb = jnp.max(jnp.where(lb_mask, yG, -jnp.inf))
    n_free = jnp.sum(free)
    rho = jnp.where(
        n_free > 0, jnp.sum(jnp.where(free, yG, 0.0)) / jnp.maximum(n_free, 1), (ub + lb) / 2
    )
    return -rho


@functools.partial(SizedJit, static_argnames=("max_iter", "precompute"))
def solve_dual(
    X: jnp.ndarray,
    y: jnp.ndarray,
    C: float | jnp.ndarray,
    tol: float = 1e-3,
    *,
    kernel: Kernel,
    max_iter: int = 10_000_000,
    precompute: bool = True,
) -> DualSolution:
    """Solve the soft-margin dual by SMO for labels y ∈ {−1, +1}.

    ``C`` is one bound for every example or one per example (0: left out). ``vmap``
    over y for one-vs-rest (and over C for folds); ``precompute`` holds the kernel matrix.
    """
    n = X.shape[0]
    C = jnp.broadcast_to(jnp.asarray(C, X.dtype), (n,))
    Kdiag = diagonal(kernel, X)
    if precompute:
        K = gram(kernel, X, X)

        def row(i: jnp.ndarray) -> jnp.ndarray:
            return K[i]
    else:

        def row(i: jnp.ndarray) -> jnp.ndarray:
            return gram(kernel, X[i][None], X)[0]

    def body(s: SMOState) -> SMOState:
        i, j, Ki = s.i, s.j, s.Ki
        Kj = row(j)
        same = y[i] == y[j]
        quad = Kdiag[i] + Kdiag[j] - 2.0 * Ki[j]
        ai, aj = _pair_update(s.alpha[i], s.alpha[j], s.grad[i], s.grad[j], same, quad, C[i], C[j])
        d_i, d_j = ai - s.alpha[i], aj - s.alpha[j]
        grad = s.grad + y * (y[i] * Ki * d_i + y[j] * Kj * d_j)
        alpha = s.alpha.at[i].set(ai).at[j].set(aj)
        # select the next pair at the new α: the loop tests the gap of the α it returns
        i, j, gap, Ki = _select(y, grad, alpha, C, Kdiag, row)
        return SMOState(alpha, grad, gap, i, j, Ki, s.iteration + 1)

    def keep_going(s: SMOState) -> jnp.ndarray:
        return (s.gap > tol) & (s.iteration < max_iter)

    alpha0, grad0 = jnp.zeros(n, X.dtype), -jnp.ones(n, X.dtype)
    i, j, gap, Ki = _select(y, grad0, alpha0, C, Kdiag, row)
    start = SMOState(alpha0, grad0, gap, i, j, Ki, jnp.zeros((), jnp.int32))
    s = jax.lax.while_loop(keep_going, body, start)
    return DualSolution(s.alpha, intercept(y, s.grad, s.alpha, C), s.gap, s.iteration)


@jit
def dual_decision(
    X_sv: jnp.ndarray, coef: jnp.ndarray, b: jnp.ndarray, X: jnp.ndarray, kernel: Kernel
) -> jnp.ndarray:
    """f(x) = Σ_i coef_i k(x_i, x) + b for support vectors x_i (coef_i = α_i y_i)."""
    return gram(kernel, X, X_sv) @ coef + b
