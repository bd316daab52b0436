"""Kernel support vector machines (Deep Learning §5.7.2): the soft-margin dual by SMO.

Dual (kernels). With y ∈ {−1, +1} and Q_ij = y_i y_j k(x_i, x_j),

    min_α  ½ αᵀQα − Σ_i α_i   subject to  0 ≤ α_i ≤ C,  Σ_i y_i α_i = 0,

solved by sequential minimal optimisation with LIBSVM's second-order working-set
selection (Fan, Chen & Lin, 2005): each step picks the most violating pair
(i, j), solves the two-variable problem in closed form and updates the gradient
G = Qα − 1 with two kernel rows. It stops when the maximal KKT violation
m(α) − M(α) is below ``tol``. f(x) = Σ_i α_i y_i k(x_i, x) + b; the support
vectors are the examples with α_i > 0. The kernel matrix is computed once when
it fits in :data:`MAX_KERNEL_ELEMENTS` entries, otherwise two rows per step.

The linear SVM in the primal is :mod:`freqbayes.inference.learners.linear_svm`;
``SVC(approximation="fourier")`` solves that on random Fourier features.
"""

from __future__ import annotations

import functools
import numbers
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from freqbayes.inference.learners._sklearn import (
    ClassifierMixin,
    Estimator,
    as_jax,
    binary_targets,
    check_C,
    check_int,
    check_is_fitted,
    check_scale,
    predict_from_scores,
    random_key,
    validate_data,
    warn_unconverged,
)
from freqbayes.inference.learners.linear_svm import solve_hinge
from freqbayes.models.learners.kernels import (
    KERNELS,
    FourierFeatures,
    Kernel,
    diagonal,
    fourier_features,
    gram,
)

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


@functools.partial(jax.jit, static_argnames=("max_iter", "precompute"))
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
        i, j, Ki = s.i, s.j, s.Ki
        Kj = row(j)
        same = y[i] == y[j]
        ai, aj = _pair_update(
            s.alpha[i], s.alpha[j], s.grad[i], s.grad[j], same, Kdiag[i] + Kdiag[j] - 2.0 * Ki[j], C
        )
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


@jax.jit
def dual_decision(
    X_sv: jnp.ndarray, coef: jnp.ndarray, b: jnp.ndarray, X: jnp.ndarray, kernel: Kernel
) -> jnp.ndarray:
    """f(x) = Σ_i coef_i k(x_i, x) + b for support vectors x_i (coef_i = α_i y_i)."""
    return gram(kernel, X, X_sv) @ coef + b


class SVC(ClassifierMixin, Estimator):
    """Kernel support vector classifier: the soft-margin dual solved by SMO (§5.7.2).

    Parameters
    ----------
    C : float
        Box constraint 0 ≤ α_i ≤ C (large C: nearly hard margin).
    kernel : {"linear", "rbf", "poly"} or callable
        k(x, x′); a callable takes two arrays (a, d), (b, d) and returns (a, b).
    degree : int
        Degree of "poly".
    gamma : {"scale", "auto"} or float
        γ of "rbf" and "poly"; "scale" = 1/(d · Var X), "auto" = 1/d.
    coef0 : float
        Offset of "poly".
    tol : float
        Stop when the maximal KKT violation is below tol.
    max_iter : int
        Maximum SMO pair updates (-1: no limit).
    approximation : None or "fourier"
        "fourier": replace the RBF kernel by ``n_components`` random Fourier
        features and solve the linear hinge-loss SVM on them by dual coordinate
        descent (for large n; the intercept is then lightly penalised, as in liblinear).
    n_components : int
        Number of random Fourier features.
    cd_tol : float
        "fourier" only: stop the coordinate descent when the projected gradient's
        spread over an epoch is ≤ cd_tol (liblinear's default 0.1).
    random_state : None, int or RandomState
        Seed of the Fourier features.

    Attributes
    ----------
    support_ : ndarray
        Indices of the support vectors (α_i > 0 in any one-vs-rest problem).
    support_vectors_ : ndarray (n_SV, d)
    dual_coef_ : ndarray (n_problems, n_SV)
        α_i y_i per problem (one problem for two classes, one per class otherwise).
    intercept_ : ndarray (n_problems,)
    n_iter_ : ndarray (n_problems,)
        SMO pair updates (coordinate-descent epochs with ``approximation="fourier"``).
    kkt_gap_ : ndarray (n_problems,)
        Final maximal KKT violation (the projected-gradient spread with "fourier").
    converged_ : ndarray (n_problems,) of bool
        ``kkt_gap_`` ≤ tol (cd_tol); otherwise scikit-learn's ``ConvergenceWarning``.
    random_weights_, random_offset_ : ndarray
        W (n_components, d) and b of the Fourier feature map (``approximation="fourier"``).
    """

    def __init__(
        self,
        C: float = 1.0,
        *,
        kernel: str | Any = "rbf",
        degree: int = 3,
        gamma: str | float = "scale",
        coef0: float = 0.0,
        tol: float = 1e-3,
        max_iter: int = -1,
        approximation: str | None = None,
        n_components: int = 1000,
        cd_tol: float = 0.1,
        random_state: Any = None,
    ) -> None:
        self.C = C
        self.kernel = kernel
        self.degree = degree
        self.gamma = gamma
        self.coef0 = coef0
        self.tol = tol
        self.max_iter = max_iter
        self.approximation = approximation
        self.n_components = n_components
        self.cd_tol = cd_tol
        self.random_state = random_state

    def _kernel(self, X: np.ndarray) -> Kernel:
        if callable(self.kernel):
            return Kernel("callable", fn=self.kernel)
        if self.kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {KERNELS} or a callable; got {self.kernel!r}")
        if self.gamma == "scale":
            var = float(X.var())
            gamma = 1.0 / (X.shape[1] * var) if var > 0 else 1.0
        elif self.gamma == "auto":
            gamma = 1.0 / X.shape[1]
        elif isinstance(self.gamma, numbers.Real) and 0 < self.gamma < np.inf:
            gamma = float(self.gamma)
        else:
            raise ValueError(f"gamma must be 'scale', 'auto' or a number > 0; got {self.gamma!r}")
        return Kernel(self.kernel, gamma, check_int(self.degree, "degree", 0), float(self.coef0))

    def _fitted_kernel(self) -> Kernel:
        """The kernel of the fit (γ as resolved from the training data)."""
        if callable(self.kernel):
            return Kernel("callable", fn=self.kernel)
        return Kernel(self.kernel, self._gamma, int(self.degree), float(self.coef0))

    def fit(self, X: Any, y: Any) -> SVC:
        """Solve one dual (two classes) or one per class (one-vs-rest), all at once."""
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        self.classes_, Y = binary_targets(y)
        C = check_C(self.C)
        check_scale(X, "X")
        kernel = self._kernel(X)
        self._gamma = kernel.gamma
        Xj = as_jax(X)
        if self.approximation == "fourier":
            if kernel.name != "rbf":
                raise ValueError("approximation='fourier' approximates kernel='rbf' only")
            n_comp = check_int(self.n_components, "n_components", 1)
            key_features, key_order = jax.random.split(random_key(self.random_state))
            phi = fourier_features(key_features, X.shape[1], n_comp, kernel.gamma)
            self.random_weights_, self.random_offset_ = np.asarray(phi.W), np.asarray(phi.b)
            if not (isinstance(self.cd_tol, numbers.Real) and 0 < self.cd_tol < np.inf):
                raise ValueError(f"cd_tol must be a finite number > 0; got {self.cd_tol!r}")
            Z = phi(Xj)
            keys = jax.random.split(key_order, Y.shape[1])
            (w, b), state = jax.vmap(solve_hinge, in_axes=(None, 1, None, None, 0))(
                Z, as_jax(Y), C, float(self.cd_tol), keys
            )
            self.coef_, self.intercept_ = np.asarray(w, float), np.asarray(b, float)
            self.n_iter_ = np.asarray(state.epoch)
            self.kkt_gap_ = np.asarray(state.gap)
            self.converged_ = self.kkt_gap_ <= float(self.cd_tol)
            if not self.converged_.all():
                warn_unconverged(self, "coordinate descent did not reach cd_tol in 1000 epochs")
            return self
        if self.approximation is not None:
            raise ValueError(f"approximation must be None or 'fourier'; got {self.approximation!r}")
        max_iter = 2**31 - 1 if self.max_iter == -1 else check_int(self.max_iter, "max_iter", 1)
        precompute = X.shape[0] ** 2 <= MAX_KERNEL_ELEMENTS

        def solve(X: jnp.ndarray, y: jnp.ndarray, C: float, tol: float) -> DualSolution:
            return solve_dual(X, y, C, tol, kernel=kernel, max_iter=max_iter, precompute=precompute)

        sol = jax.vmap(solve, in_axes=(None, 1, None, None))(Xj, as_jax(Y), C, float(self.tol))
        alpha = np.asarray(sol.alpha).T  # (n, problems)
        self.support_ = np.flatnonzero(np.any(alpha > 0, axis=1))
        self.support_vectors_ = X[self.support_]
        self.dual_coef_ = (alpha * Y)[self.support_].T
        self.intercept_ = np.asarray(sol.intercept, dtype=np.float64)
        self.n_iter_ = np.asarray(sol.iterations)
        self.kkt_gap_ = np.asarray(sol.gap)
        self.converged_ = self.kkt_gap_ <= float(self.tol)
        if not self.converged_.all():
            warn_unconverged(self, f"SMO stopped at max_iter = {self.max_iter} pair updates")
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """f(x) per problem, (n,) or (n, n_classes), in JAX's float type (the sums' own)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        if self.approximation == "fourier":
            phi = FourierFeatures(as_jax(self.random_weights_), as_jax(self.random_offset_))
            scores = np.asarray(phi(as_jax(X))) @ self.coef_.T + self.intercept_
        else:
            scores = np.asarray(
                jax.vmap(dual_decision, in_axes=(None, 0, 0, None, None))(
                    as_jax(self.support_vectors_),
                    as_jax(self.dual_coef_),
                    as_jax(self.intercept_),
                    as_jax(X),
                    self._fitted_kernel(),
                )
            ).T
        return scores[:, 0] if len(self.classes_) == 2 else scores

    def predict(self, X: Any) -> np.ndarray:
        """The class of the sign (two classes) or of the largest score (one-vs-rest)."""
        return predict_from_scores(self, X)
