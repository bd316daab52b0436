"""Support vector machines (Deep Learning §5.7.2): kernel dual by SMO, linear primal by L-BFGS.

Dual (kernels). With y ∈ {−1, +1} and Q_ij = y_i y_j k(x_i, x_j),

    min_α  ½ αᵀQα − Σ_i α_i   subject to  0 ≤ α_i ≤ C,  Σ_i y_i α_i = 0,

solved by sequential minimal optimisation with LIBSVM's second-order working-set
selection (Fan, Chen & Lin, 2005): each step picks the most violating pair
(i, j), solves the two-variable problem in closed form and updates the gradient
G = Qα − 1 with two kernel rows. It stops when the maximal KKT violation
m(α) − M(α) is below ``tol``. f(x) = Σ_i α_i y_i k(x_i, x) + b; the support
vectors are the examples with α_i > 0. The kernel matrix is computed once when
it fits in :data:`MAX_KERNEL_ELEMENTS` entries, otherwise two rows per step.

Primal (linear): min_w,b ½‖w‖² + C Σ_i max(0, 1 − y_i(wᵀx_i + b))², the
squared hinge that scikit-learn's LinearSVC minimises by default, smooth, so
L-BFGS (:func:`freqbayes.inference.optimize.minimize`) solves it.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from freqbayes.inference.optimize import OptimInfo, minimize
from freqbayes.models.kernels import Kernel, diagonal, gram

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
        Maximal KKT violation m(α) − M(α) at the last selection.
    iteration : array () int
        Pair updates made.
    """

    alpha: jnp.ndarray
    grad: jnp.ndarray
    gap: jnp.ndarray
    iteration: jnp.ndarray


class DualSolution(NamedTuple):
    """A solved dual: α, the intercept b, and how SMO ended."""

    alpha: jnp.ndarray
    intercept: jnp.ndarray
    gap: jnp.ndarray
    iterations: jnp.ndarray


def _select(
    y: jnp.ndarray, G: jnp.ndarray, alpha: jnp.ndarray, C: float, Kdiag: jnp.ndarray, row
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
    C: float,
) -> tuple[jnp.ndarray, jnp.ndarray]:
    """LIBSVM's closed-form solution of the two-variable subproblem, clipped to the box."""
    quad = jnp.where(quad > 0, quad, TAU)
    # y_i != y_j: α_i − α_j is conserved
    delta = (-Gi - Gj) / quad
    diff = ai - aj
    pi, pj = ai + delta, aj + delta
    pi, pj = (
        jnp.where(diff > 0, jnp.where(pj < 0, diff, pi), jnp.where(pi < 0, 0.0, pi)),
        jnp.where(diff > 0, jnp.where(pj < 0, 0.0, pj), jnp.where(pi < 0, -diff, pj)),
    )
    pi, pj = (
        jnp.where(diff > 0, jnp.where(pi > C, C, pi), jnp.where(pj > C, C + diff, pi)),
        jnp.where(diff > 0, jnp.where(pi > C, C - diff, pj), jnp.where(pj > C, C, pj)),
    )
    # y_i == y_j: α_i + α_j is conserved
    delta = (Gi - Gj) / quad
    total = ai + aj
    si, sj = ai - delta, aj + delta
    si, sj = (
        jnp.where(total > C, jnp.where(si > C, C, si), jnp.where(sj < 0, total, si)),
        jnp.where(total > C, jnp.where(si > C, total - C, sj), jnp.where(sj < 0, 0.0, sj)),
    )
    si, sj = (
        jnp.where(total > C, jnp.where(sj > C, total - C, si), jnp.where(si < 0, 0.0, si)),
        jnp.where(total > C, jnp.where(sj > C, C, sj), jnp.where(si < 0, total, sj)),
    )
    return jnp.where(same, si, pi), jnp.where(same, sj, pj)


def intercept(y: jnp.ndarray, G: jnp.ndarray, alpha: jnp.ndarray, C: float) -> jnp.ndarray:
    """The intercept −ρ: mean of −y_i G_i over free vectors (0 < α_i < C), else mid-bounds."""
    yG = y * G
    at_upper, at_lower = alpha >= C, alpha <= 0
    free = ~at_upper & ~at_lower
    ub_mask = (at_upper & (y < 0)) | (at_lower & (y > 0))
    lb_mask = (at_upper & (y > 0)) | (at_lower & (y < 0))
    ub = jnp.min(jnp.where(ub_mask, yG, jnp.inf))
    lb = jnp.max(jnp.where(lb_mask, yG, -jnp.inf))
    n_free = jnp.sum(free)
    rho = jnp.where(
        n_free > 0, jnp.sum(jnp.where(free, yG, 0.0)) / jnp.maximum(n_free, 1), (ub + lb) / 2
    )
    return -rho


@functools.partial(jax.jit, static_argnames=("kernel", "max_iter", "precompute"))
def solve_dual(
    X: jnp.ndarray,
    y: jnp.ndarray,
    C: float,
    tol: float = 1e-3,
    *,
    kernel: Kernel,
    max_iter: int = 10_000_000,
    precompute: bool = True,
) -> DualSolution:
    """Solve the soft-margin dual by SMO for labels y ∈ {−1, +1}.

    ``vmap`` over y for one-vs-rest; ``precompute`` holds the kernel matrix.
    """
    n = X.shape[0]
    Kdiag = diagonal(kernel, X)
    if precompute:
        K = gram(kernel, X, X)

        def row(i: jnp.ndarray) -> jnp.ndarray:
            return K[i]
    else:

        def row(i: jnp.ndarray) -> jnp.ndarray:
            return gram(kernel, X[i][None], X)[0]

    def body(s: SMOState) -> SMOState:
        i, j, gap, Ki = _select(y, s.grad, s.alpha, C, Kdiag, row)
        Kj = row(j)
        same = y[i] == y[j]
        ai, aj = _pair_update(
            s.alpha[i], s.alpha[j], s.grad[i], s.grad[j], same, Kdiag[i] + Kdiag[j] - 2.0 * Ki[j], C
        )
        d_i, d_j = ai - s.alpha[i], aj - s.alpha[j]
        grad = s.grad + y * (y[i] * Ki * d_i + y[j] * Kj * d_j)
        alpha = s.alpha.at[i].set(ai).at[j].set(aj)
        return SMOState(alpha, grad, gap, s.iteration + 1)

    def keep_going(s: SMOState) -> jnp.ndarray:
        return (s.gap > tol) & (s.iteration < max_iter)

    zeros = jnp.zeros(n, X.dtype)
    start = SMOState(
        zeros, -jnp.ones(n, X.dtype), jnp.asarray(jnp.inf, X.dtype), jnp.zeros((), jnp.int32)
    )
    s = jax.lax.while_loop(keep_going, body, start)
    # the last body() measured the gap before its update: report the gap at the final α
    _, _, gap, _ = _select(y, s.grad, s.alpha, C, Kdiag, row)
    return DualSolution(s.alpha, intercept(y, s.grad, s.alpha, C), gap, s.iteration)


@functools.partial(jax.jit, static_argnames=("kernel",))
def dual_decision(
    X_sv: jnp.ndarray, coef: jnp.ndarray, b: jnp.ndarray, X: jnp.ndarray, kernel: Kernel
) -> jnp.ndarray:
    """f(x) = Σ_i coef_i k(x_i, x) + b for support vectors x_i (coef_i = α_i y_i)."""
    return gram(kernel, X, X_sv) @ coef + b


def squared_hinge_objective(
    params: tuple[jnp.ndarray, jnp.ndarray],
    X: jnp.ndarray,
    y: jnp.ndarray,
    C: float,
    penalty: jnp.ndarray | float = 1.0,
) -> jnp.ndarray:
    """½ Σ_j p_j w_j² + C Σ_i max(0, 1 − y_i(wᵀx_i + b))² (the intercept unpenalised).

    ``penalty`` p is 1 for the plain SVM, 1/s_j² on features scaled by s_j.
    """
    w, b = params
    slack = jnp.maximum(0.0, 1.0 - y * (X @ w + b))
    return 0.5 * jnp.sum(penalty * w * w) + C * jnp.sum(slack * slack)


@functools.partial(jax.jit, static_argnames=("max_iter",))
def solve_primal(
    X: jnp.ndarray,
    y: jnp.ndarray,
    C: float,
    tol: float = 1e-4,
    penalty: jnp.ndarray | float = 1.0,
    max_iter: int = 1000,
) -> tuple[tuple[jnp.ndarray, jnp.ndarray], OptimInfo]:
    """Linear SVM with the squared hinge, by L-BFGS; ``vmap`` over y for one-vs-rest.

    Converged when ‖∇f(w)‖ ≤ tol ‖∇f(0)‖ (liblinear's criterion): the ratio does
    not depend on the units of X.
    """
    x0 = (jnp.zeros(X.shape[1], X.dtype), jnp.zeros((), X.dtype))

    def objective(p: tuple[jnp.ndarray, jnp.ndarray]) -> jnp.ndarray:
        return squared_hinge_objective(p, X, y, C, penalty)

    start = optax.tree.norm(jax.grad(objective)(x0))
    return minimize(objective, x0, gtol=tol * start, max_iter=max_iter)


class CDState(NamedTuple):
    """State of dual coordinate descent for the linear hinge-loss SVM.

    Attributes
    ----------
    alpha : array (n,)
        Dual variables, 0 ≤ α_i ≤ C.
    w : array (d + 1,)
        Σ_i α_i y_i x̃_i with x̃ = (x, 1): the weights, the intercept last.
    gap : array ()
        max − min of the projected gradient over the last epoch (0 at the optimum).
    epoch : array () int
        Epochs done.
    key : jax.Array
        Key of the next epoch's order.
    """

    alpha: jnp.ndarray
    w: jnp.ndarray
    gap: jnp.ndarray
    epoch: jnp.ndarray
    key: jax.Array


@functools.partial(jax.jit, static_argnames=("max_epochs",))
def solve_hinge(
    X: jnp.ndarray, y: jnp.ndarray, C: float, tol: float, key: jax.Array, max_epochs: int = 1000
) -> tuple[tuple[jnp.ndarray, jnp.ndarray], CDState]:
    """Linear SVM with the hinge loss, ½‖w̃‖² + C Σ max(0, 1 − y_i w̃ᵀx̃_i), by dual CD.

    Dual coordinate descent (Hsieh et al., 2008; liblinear's solver, used by
    scikit-learn's ``LinearSVC(loss="hinge")``): one example at a time, in a new
    random order every epoch, α_i moves to the minimum of the dual along its
    coordinate, clipped to [0, C], and w̃ follows. As in liblinear the intercept is
    a weight on a constant feature 1 (so it is lightly penalised), which removes
    the dual's equality constraint. Stops when the projected gradient's spread
    over an epoch is ≤ ``tol``. ``vmap`` over y for one-vs-rest.
    """
    n = X.shape[0]
    Xb = jnp.concatenate([X, jnp.ones((n, 1), X.dtype)], axis=1)
    qd = jnp.sum(Xb * Xb, axis=1)

    def epoch(s: CDState) -> CDState:
        key, sub = jax.random.split(s.key)
        order = jax.random.permutation(sub, n)

        def body(t: int, carry: tuple[jnp.ndarray, ...]) -> tuple[jnp.ndarray, ...]:
            alpha, w, hi, lo = carry
            i = order[t]
            xi = Xb[i]
            g = y[i] * (w @ xi) - 1.0
            a = alpha[i]
            pg = jnp.where(a <= 0, jnp.minimum(g, 0.0), jnp.where(a >= C, jnp.maximum(g, 0.0), g))
            new = jnp.clip(a - g / jnp.maximum(qd[i], 1e-12), 0.0, C)
            w = w + (new - a) * y[i] * xi
            return alpha.at[i].set(new), w, jnp.maximum(hi, pg), jnp.minimum(lo, pg)

        inf = jnp.asarray(jnp.inf, X.dtype)
        alpha, w, hi, lo = jax.lax.fori_loop(0, n, body, (s.alpha, s.w, -inf, inf))
        return CDState(alpha, w, hi - lo, s.epoch + 1, key)

    def keep_going(s: CDState) -> jnp.ndarray:
        return (s.epoch < max_epochs) & (s.gap > tol)

    start = CDState(
        jnp.zeros(n, X.dtype),
        jnp.zeros(X.shape[1] + 1, X.dtype),
        jnp.asarray(jnp.inf, X.dtype),
        jnp.zeros((), jnp.int32),
        key,
    )
    s = jax.lax.while_loop(keep_going, epoch, start)
    return (s.w[:-1], s.w[-1]), s
