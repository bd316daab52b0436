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

The exact SVC pads its rows to their shape bucket (:mod:`freqbayes.inference.buckets`)
with C_i = 0 (never in a working pair, α_i = 0), so folds and refits of nearby sizes
share one compiled solver; the Fourier features' coordinate descent does not (a
weightless row would still be visited in its random order).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from freqbayes.inference.buckets import bucket_size, pad_rows
from freqbayes.inference.learners import ovo
from freqbayes.inference.learners.base import (
    ClassifierMixin,
    Estimator,
    as_jax,
    available_if,
    binary_targets,
    check_C,
    check_int,
    check_is_fitted,
    check_scale,
    each_problem,
    example_weights,
    predict_from_scores,
    random_key,
    validate_data,
    warn_unconverged,
)
from freqbayes.inference.learners.platt import probability as platt_probability
from freqbayes.inference.learners.platt import sigmoid_train
from freqbayes.inference.learners.smo import (
    MAX_KERNEL_ELEMENTS,
    DualSolution,
    dual_decision,
    solve_dual,
)
from freqbayes.models.checks import check_positive
from freqbayes.models.learners.kernels import (
    KERNELS,
    FourierFeatures,
    Kernel,
    fourier_features,
    resolve_gamma,
)

#: Kernel entries per block of rows in ``decision_function`` (float64: 128 MB).
PREDICT_BLOCK = 1 << 24

#: Folds of the cross-validation that gives Platt scaling its scores (LIBSVM's 5).
PLATT_FOLDS = 5


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
    class_weight : None, "balanced" or dict
        Multiplies C for the examples of each class (C_i = C × weight of y_i × sample
        weight), as scikit-learn's; "balanced": n / (n_classes · n_c).
    probability : bool
        Fit Platt scaling (:mod:`~freqbayes.inference.learners.platt`) on 5-fold
        out-of-fold scores, as LIBSVM does, for :meth:`predict_proba` (five more duals
        per problem, solved in the same ``vmap``); with more than two classes the
        pairwise probabilities are coupled as LIBSVM's (:func:`.ovo.couple`).
    decision_function_shape : {"ovr", "ovo"}
        More than two classes: "ovo" returns the k(k−1)/2 pairwise scores in LIBSVM's
        order, "ovr" (scikit-learn's default) scikit-learn's (n, k) transformation of
        their votes and confidences.
    random_state : None, int or RandomState
        Seed of the Fourier features and of the folds of ``probability``.

    Attributes
    ----------
    support_ : ndarray
        Indices of the support vectors (α_i > 0 in any pairwise problem); with more
        than two classes listed class by class, as LIBSVM's.
    support_vectors_ : ndarray (n_SV, d)
    n_support_ : ndarray (n_classes,)
        Support vectors per class.
    dual_coef_ : ndarray (n_classes − 1, n_SV)
        α_i y_i: one row for two classes; otherwise LIBSVM's layout (a support vector
        of class c has its coefficient of pair (c, o) in row o − 1 if o > c, else in row o).
    intercept_ : ndarray (n_problems,)
        One per problem: one for two classes, one per pair (i, j), i < j, otherwise.
    n_iter_ : ndarray (n_problems,)
        SMO pair updates (coordinate-descent epochs with ``approximation="fourier"``).
    kkt_gap_ : ndarray (n_problems,)
        Final maximal KKT violation (the projected-gradient spread with "fourier").
    converged_ : ndarray (n_problems,) of bool
        ``kkt_gap_`` ≤ tol (cd_tol); otherwise scikit-learn's ``ConvergenceWarning``.
    random_weights_, random_offset_ : ndarray
        W (n_components, d) and b of the Fourier feature map (``approximation="fourier"``).
    probA_, probB_ : ndarray (n_problems,)
        Platt's sigmoid per problem (``probability=True``): P = 1/(1 + exp(A f + B)).

    Notes
    -----
    Several classes are one-vs-one (:mod:`~freqbayes.inference.learners.ovo`), as
    LIBSVM's: one dual per pair of classes, all pairs in one ``vmap``, prediction by
    voting. ``approximation="fourier"`` stays one-vs-rest (liblinear's scheme).
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
        class_weight: Any = None,
        probability: bool = False,
        decision_function_shape: str = "ovr",
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
        self.class_weight = class_weight
        self.probability = probability
        self.decision_function_shape = decision_function_shape
        self.random_state = random_state

    def _kernel(self, X: np.ndarray) -> Kernel:
        if callable(self.kernel):
            return Kernel("callable", fn=self.kernel)
        if self.kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {KERNELS} or a callable; got {self.kernel!r}")
        gamma = resolve_gamma(self.gamma, X)
        return Kernel(self.kernel, gamma, check_int(self.degree, "degree", 0), float(self.coef0))

    def _fitted_kernel(self) -> Kernel:
        """The kernel of the fit (γ as resolved from the training data)."""
        if callable(self.kernel):
            return Kernel("callable", fn=self.kernel)
        return Kernel(self.kernel, self._gamma, int(self.degree), float(self.coef0))

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SVC:
        """Solve one dual (two classes) or one per pair of classes (one-vs-one), all at once.

        ``sample_weight`` (one per example) multiplies C for each example, as scikit-learn's.
        """
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        self.classes_, Y = binary_targets(y)
        C = check_C(self.C) * example_weights(y, self.classes_, self.class_weight, sample_weight, X)
        if self.probability not in (True, False):
            raise ValueError(f"probability must be True or False; got {self.probability!r}")
        if self.decision_function_shape not in ("ovr", "ovo"):
            raise ValueError(
                "decision_function_shape must be 'ovr' or 'ovo'; "
                f"got {self.decision_function_shape!r}"
            )
        check_scale(X, "X")
        kernel = self._kernel(X)
        self._gamma = kernel.gamma
        if self.approximation == "fourier":
            if kernel.name != "rbf":
                raise ValueError("approximation='fourier' approximates kernel='rbf' only")
            n_comp = check_int(self.n_components, "n_components", 1)
            key_features, key_order = jax.random.split(random_key(self.random_state))
            phi = fourier_features(key_features, X.shape[1], n_comp, kernel.gamma)
            self.random_weights_, self.random_offset_ = np.asarray(phi.W), np.asarray(phi.b)
            check_positive(self.cd_tol, "cd_tol")
            Z = phi(as_jax(X))
            if self.probability:
                raise ValueError("probability=True is for the exact SVC (approximation=None)")
            # here only: linear_svm imports optax, which `from freqbayes import SVC` avoids
            from freqbayes.inference.learners.linear_svm import solve_hinge

            keys = jax.random.split(key_order, Y.shape[1])
            (w, b), state = jax.vmap(solve_hinge, in_axes=(None, 1, None, None, 0))(
                Z, as_jax(Y), as_jax(C), float(self.cd_tol), keys
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
        # rows padded to their shape bucket with C_i = 0: SMO never picks them, α_i stays 0
        n, size = len(X), bucket_size(len(X))
        Xj = as_jax(pad_rows(X, size))
        precompute = size**2 <= MAX_KERNEL_ELEMENTS

        def solve(X: jnp.ndarray, y: jnp.ndarray, C: jnp.ndarray, tol: float) -> DualSolution:
            return solve_dual.for_rows(size)(
                X, y, C, tol, kernel=kernel, max_iter=max_iter, precompute=precompute
            )

        k = len(self.classes_)
        index = np.searchsorted(self.classes_, y)
        # bounds per problem: the binary problem's, or each pair's (others' C_i = 0)
        Y, Cs = (Y, C[None, :]) if k == 2 else ovo.pair_problems(index, k, C)
        if self.probability:
            self._fit_platt(Xj, Y, Cs, solve, kernel)
        args = (Xj, pad_rows(Y, size, fill=1.0), pad_rows(Cs.T, size).T, float(self.tol))
        sol = each_problem(solve, args, (None, 1, 0, None))
        alpha = np.asarray(sol.alpha).T[:n]  # (n, problems)
        if k == 2:
            self.support_ = np.flatnonzero(np.any(alpha > 0, axis=1))
            self.dual_coef_ = (alpha * Y)[self.support_].T
            self.n_support_ = np.bincount(index[self.support_], minlength=2).astype(np.int32)
            self._pair_coef = self.dual_coef_.T
        else:
            coef = np.where(alpha > 0, alpha * Y, 0.0).T
            self.support_, self.n_support_, self.dual_coef_, self._pair_coef = ovo.libsvm_layout(
                coef, index, k
            )
        self.support_vectors_ = X[self.support_]
        self.intercept_ = np.asarray(sol.intercept, dtype=np.float64)
        self.n_iter_ = np.asarray(sol.iterations)
        self.kkt_gap_ = np.asarray(sol.gap)
        self.converged_ = self.kkt_gap_ <= float(self.tol)
        if not self.converged_.all():
            warn_unconverged(self, f"SMO stopped at max_iter = {self.max_iter} pair updates")
        return self

    def _fit_platt(self, Xj: jnp.ndarray, Y: np.ndarray, C: np.ndarray, solve: Any, kernel: Kernel):
        """Platt's sigmoid per problem on 5-fold out-of-fold scores (LIBSVM's procedure).

        ``C`` (problems, n) holds each problem's bounds. A fold's training set is every
        example with its C_i, the held-out ones with C_i = 0 (left out of SMO), so all
        folds and problems are one ``vmap``; a pair's sigmoid is fitted on its two
        classes' examples only. ``Xj`` may have more rows than ``Y`` (padding to the
        shape bucket): they take C_i = 0 in every fold.
        """
        n, size = Y.shape[0], Xj.shape[0]
        rng = np.random.default_rng(np.asarray(jax.random.key_data(random_key(self.random_state))))
        fold = np.empty(n, int)
        fold[rng.permutation(n)] = np.arange(n) % PLATT_FOLDS
        held_out = fold[None, :] == np.arange(PLATT_FOLDS)[:, None]  # (folds, n)
        Cs = np.where(held_out[:, None, :], 0.0, C[None, :, :])  # (folds, problems, n)
        per_problem = jax.vmap(solve, in_axes=(None, 1, 0, None))
        Yp = pad_rows(Y, size, fill=1.0)
        Cs = np.pad(Cs, ((0, 0), (0, 0), (0, size - n)))
        sol = jax.vmap(per_problem, in_axes=(None, None, 0, None))(
            Xj, as_jax(Yp), as_jax(Cs), float(self.tol)
        )  # (folds, problems, size)
        coef = as_jax(np.asarray(sol.alpha) * Yp.T[None])
        scores = jax.vmap(jax.vmap(dual_decision, in_axes=(None, 0, 0, None, None)),
                          in_axes=(None, 0, 0, None, None))(
            Xj, coef, sol.intercept, Xj, kernel
        )  # fmt: skip
        f = np.asarray(scores)[fold, :, np.arange(n)]  # each example's out-of-fold score
        for k in range(PLATT_FOLDS):  # LIBSVM: a fold trained on one class scores ±1
            train = (fold != k)[:, None] & (C.T > 0)  # (n, problems)
            pos, neg = (train & (Y > 0)).any(axis=0), (train & (Y < 0)).any(axis=0)
            f[fold == k] = np.where(pos & neg, f[fold == k], np.where(pos, 1.0, -1.0))
        member = C.T > 0 if Y.shape[1] > 1 else np.ones_like(Y, bool)
        ab = [sigmoid_train(f[member[:, p], p], Y[member[:, p], p] > 0) for p in range(Y.shape[1])]
        self.probA_, self.probB_ = (np.array(v, dtype=np.float64) for v in zip(*ab, strict=True))

    @available_if(lambda self: self.probability)
    def predict_proba(self, X: Any) -> np.ndarray:
        """Platt probabilities (``probability=True``), (n, n_classes), rows summing to 1.

        More than two classes: the pairwise probabilities coupled as LIBSVM's
        (:func:`~freqbayes.inference.learners.ovo.couple`).
        """
        scores = self._scores(X).reshape(len(X), -1)
        p = platt_probability(scores, self.probA_, self.probB_)
        if len(self.classes_) == 2:
            return np.column_stack([1.0 - p[:, 0], p[:, 0]])
        return ovo.couple(p, len(self.classes_))

    def decision_function(self, X: Any) -> np.ndarray:
        """f(x), (n,) for two classes, in float64 (as LIBSVM's).

        More than two classes: the pairwise scores (n, k(k−1)/2) with
        ``decision_function_shape="ovo"``, else scikit-learn's one-vs-rest shape (n, k)
        of their votes and confidences (``approximation="fourier"``: the one-vs-rest
        scores). The exact SVC sums Σ_i α_i y_i k(x_i, x) over its support vectors in float64 with
        scikit-learn's pairwise kernels (the same k), in blocks of rows: in JAX's float32
        the sums differed by 4e-7 between a row predicted alone and in a batch.
        """
        scores = self._scores(X)
        if scores.ndim == 1 or self.approximation == "fourier":
            return scores
        if self.decision_function_shape == "ovo":
            return scores
        from sklearn.utils.multiclass import _ovr_decision_function

        return _ovr_decision_function(scores < 0, -scores, len(self.classes_))

    def _scores(self, X: Any) -> np.ndarray:
        """Each problem's f(x): (n,) for two classes, else (n, problems)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        if self.approximation == "fourier":
            phi = FourierFeatures(as_jax(self.random_weights_), as_jax(self.random_offset_))
            scores = np.asarray(phi(as_jax(X))) @ self.coef_.T + self.intercept_
        else:
            scores = self._kernel_scores(np.asarray(X, dtype=np.float64))
        return scores[:, 0] if len(self.classes_) == 2 else scores

    def _kernel_scores(self, X: np.ndarray) -> np.ndarray:
        from sklearn.metrics.pairwise import pairwise_kernels

        sv = np.asarray(self.support_vectors_, dtype=np.float64)
        coef = np.asarray(self._pair_coef, dtype=np.float64)
        out = np.empty((X.shape[0], coef.shape[1]))
        rows = max(1, PREDICT_BLOCK // max(1, sv.shape[0]))
        for start in range(0, X.shape[0], rows):
            block = X[start : start + rows]
            if callable(self.kernel):
                K = np.asarray(self.kernel(block, sv), dtype=np.float64)
            else:
                K = pairwise_kernels(
                    block, sv, metric=self.kernel, filter_params=True,
                    gamma=self._gamma, degree=self.degree, coef0=self.coef0,
                )  # fmt: skip
            out[start : start + rows] = K @ coef + self.intercept_
        return out

    def predict(self, X: Any) -> np.ndarray:
        """The class of the sign (two classes), else LIBSVM's vote over the pairs."""
        if len(getattr(self, "classes_", ())) > 2 and self.approximation != "fourier":
            return self.classes_[ovo.vote(self._scores(X), len(self.classes_))]
        return predict_from_scores(self, X)
