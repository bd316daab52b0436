"""Thin scikit-learn-style classes over the functional learners.

Each class takes scikit-learn's parameter names where the meaning is the same,
checks its input up front, returns ``self`` from ``fit`` and keeps only numpy
arrays on the instance (learned attributes end in ``_``), so it pickles, clones
and works in pipelines and ``cross_val_score``. The work is done by module-level
jitted functions of :mod:`freqbayes.inference`.
"""

from __future__ import annotations

import functools
import numbers
import warnings
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClusterMixin,
    RegressorMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from freqbayes.inference import kmeans, knn, sgd, svm
from freqbayes.inference.common import float_dtype
from freqbayes.models.kernels import KERNELS, FourierFeatures, Kernel, fourier_features


def random_key(random_state: Any) -> jax.Array:
    """A ``jax.random.key`` from a scikit-learn ``random_state`` (None, int or RandomState)."""
    return jax.random.key(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def as_jax(X: np.ndarray) -> jnp.ndarray:
    """X in JAX's default float type (float32, or float64 under x64)."""
    return jnp.asarray(X, dtype=float_dtype())


def _check_int(value: Any, name: str, low: int, high: float = np.inf, high_name: str = "") -> int:
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


def _warn_unconverged(estimator: Any, what: str, depth: int = 1) -> None:
    """Warn with scikit-learn's ``ConvergenceWarning``, pointing at the caller of ``fit``.

    ``depth`` counts the estimator's own frames between ``fit`` and this function.
    """
    warnings.warn(
        f"{type(estimator).__name__}: {what}; the estimate is not at its optimum "
        "(see converged_). Consider increasing max_iter.",
        ConvergenceWarning,
        stacklevel=2 + depth,
    )


@jax.jit
def _lloyd_from(
    P: kmeans.Points, centroids: jnp.ndarray, max_iter: int, tol: jnp.ndarray
) -> kmeans.LloydState:
    return kmeans.run(P, kmeans.state_at(P, centroids), max_iter, tol)


@jax.jit
def _assign(P: kmeans.Points, centroids: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    return kmeans.assign(P, centroids)


class KMeans(ClusterMixin, TransformerMixin, BaseEstimator):
    """k-means clustering: Lloyd's algorithm with k-means++ or random initialisation.

    Parameters
    ----------
    n_clusters : int
        Number of clusters k (1 ≤ k ≤ n_samples).
    init : {"k-means++", "random"} or array (k, d)
        Initialisation; an array gives the initial centroids.
    n_init : int or "auto"
        Restarts, run as one ``vmap``; the lowest inertia wins. "auto": 1 for
        k-means++ and an array, 10 for random (as scikit-learn).
    max_iter : int
        Maximum Lloyd updates per restart.
    tol : float
        Convergence when the squared centroid shift is ≤ tol × mean feature variance.
    random_state : None, int or RandomState
        Seed of the initialisation.

    Attributes
    ----------
    cluster_centers_ : ndarray (k, d)
    labels_ : ndarray (n,)
    inertia_ : float
        Σ_i ‖x_i − c_{label_i}‖².
    n_iter_ : int
        Lloyd updates of the winning restart.
    """

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        init: str | np.ndarray = "k-means++",
        n_init: int | str = "auto",
        max_iter: int = 300,
        tol: float = 1e-4,
        random_state: Any = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> KMeans:
        """Cluster X (n, d); ``y`` is ignored."""
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        check_scale(X, "X")  # squared distances
        k = _check_int(self.n_clusters, "n_clusters", 1, X.shape[0], "n_samples")
        max_iter = _check_int(self.max_iter, "max_iter", 1)
        if not (isinstance(self.tol, numbers.Real) and self.tol >= 0):
            raise ValueError(f"tol must be a number >= 0; got {self.tol!r}")
        P = kmeans.points(X, float_dtype())
        tol = kmeans.relative_tol(P.X, float(self.tol))
        if isinstance(self.init, str):
            if self.init not in kmeans.INITS:
                raise ValueError(
                    f"init must be one of {kmeans.INITS} or an array; got {self.init!r}"
                )
            auto = 1 if self.init == "k-means++" else 10
            n_init = auto if self.n_init == "auto" else _check_int(self.n_init, "n_init", 1)
            best, _ = kmeans.fit(
                random_key(self.random_state), P, k, self.init, n_init, max_iter, tol
            )
        else:
            C0 = np.asarray(self.init, dtype=float)
            if C0.shape != (k, X.shape[1]) or not np.all(np.isfinite(C0)):
                raise ValueError(
                    f"init array must be finite with shape {(k, X.shape[1])}; got {C0.shape}"
                )
            best = _lloyd_from(P, as_jax(C0), max_iter, tol)
        self.cluster_centers_ = np.asarray(best.centroids, dtype=X.dtype)
        self.labels_ = np.asarray(best.labels, dtype=np.intp)
        self.inertia_ = float(best.inertia)
        self.n_iter_ = int(best.iteration)
        return self

    def _distances(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        labels, d2 = _assign(kmeans.points(X, float_dtype()), as_jax(self.cluster_centers_))
        return np.asarray(labels, dtype=np.intp), np.asarray(d2, dtype=X.dtype)

    def predict(self, X: Any) -> np.ndarray:
        """Index of the nearest centroid of each row of X."""
        return self._distances(X)[0]

    def transform(self, X: Any) -> np.ndarray:
        """Euclidean distance of each row of X to every centroid, shape (n, k)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        C = self.cluster_centers_
        d2 = (X**2).sum(1)[:, None] - 2 * X @ C.T + (C**2).sum(1)[None, :]
        return np.sqrt(np.maximum(d2, 0))

    def score(self, X: Any, y: Any = None) -> float:
        """Minus the inertia of X under the fitted centroids (higher is better)."""
        return -float(self._distances(X)[1].sum())


class _KNeighbors(BaseEstimator):
    """Shared fitting of the k-NN classes: store the training set."""

    def __init__(self, n_neighbors: int = 5) -> None:
        self.n_neighbors = n_neighbors

    def _check_k(self, n_train: int) -> int:
        return _check_int(self.n_neighbors, "n_neighbors", 1, n_train, "n_samples")

    def _query(self, X: Any) -> tuple[jnp.ndarray, int, int]:
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        n_train = self._X_fit.shape[0]
        k = self._check_k(n_train)
        return as_jax(X), k, knn.block_size(n_train, X.shape[0])


class KNeighborsClassifier(ClassifierMixin, _KNeighbors):
    """k-nearest-neighbour classifier: majority vote, ties to the smallest class (§5.7.3).

    Parameters
    ----------
    n_neighbors : int
        k, at most the number of training examples.

    Attributes
    ----------
    classes_ : ndarray
        The class labels seen in ``fit``.
    """

    def fit(self, X: Any, y: Any) -> KNeighborsClassifier:
        """Store the training set."""
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_scale(X, "X")  # squared distances
        check_classification_targets(y)
        self._check_k(X.shape[0])
        self.classes_, codes = np.unique(y, return_inverse=True)
        self._X_fit, self._y_codes = X, codes.astype(np.int32)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Majority class among the k nearest training examples."""
        Xq, k, block = self._query(X)
        codes = knn.classify(
            as_jax(self._X_fit), jnp.asarray(self._y_codes), Xq, k, len(self.classes_), block
        )
        return self.classes_[np.asarray(codes)]


class KNeighborsRegressor(RegressorMixin, _KNeighbors):
    """k-nearest-neighbour regressor: the mean target of the k nearest training examples."""

    def fit(self, X: Any, y: Any) -> KNeighborsRegressor:
        """Store the training set."""
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], y_numeric=True)
        check_scale(X, "X")  # squared distances
        self._check_k(X.shape[0])
        self._X_fit, self._y_fit = X, y
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Mean target of the k nearest training examples."""
        Xq, k, block = self._query(X)
        return np.asarray(knn.regress(as_jax(self._X_fit), as_jax(self._y_fit), Xq, k, block))


class _SGDBase(BaseEstimator):
    """Shared parameters and fitting of the SGD classes (§5.9)."""

    _losses: tuple[str, ...] = ()

    def __init__(
        self,
        loss: str | None = None,
        *,
        alpha: float = 1e-4,
        fit_intercept: bool = True,
        max_iter: int = 100,
        tol: float | None = 1e-3,
        n_iter_no_change: int = 5,
        batch_size: int = 128,
        learning_rate: str = "inverse",
        eta0: float | str = "auto",
        random_state: Any = None,
    ) -> None:
        self.loss = loss
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.random_state = random_state

    def _fit_targets(self, X: np.ndarray, Y: np.ndarray, y_scale: float = 1.0) -> None:
        """SGD on the standardised problem (see :class:`Standardiser`), results in user units.

        ``Y`` is already scaled by ``y_scale`` (the regressor's outcome): the cost then
        is J / y_scale², whose minimiser is the same.
        """
        loss = self._losses[0] if self.loss is None else self.loss
        if loss not in self._losses:
            raise ValueError(f"loss must be one of {self._losses}; got {self.loss!r}")
        if not (isinstance(self.alpha, numbers.Real) and 0 <= self.alpha < np.inf):
            raise ValueError(f"alpha must be a finite number >= 0; got {self.alpha!r}")
        check_scale(X, "X")
        std = Standardiser.of(X, centre=bool(self.fit_intercept))
        Xs = std.transform(X)
        if self.eta0 == "auto":
            # 1/L, L = mean ‖x̃‖² (x̃ with the intercept's 1) bounds the curvature of the
            # squared loss; the logistic loss is 4 times flatter.
            curvature = np.einsum("ij,ij->", Xs, Xs) / len(Xs) + bool(self.fit_intercept)
            eta0 = (4.0 if loss == "log_loss" else 1.0) / max(curvature, 1e-12)
        elif isinstance(self.eta0, numbers.Real) and 0 < self.eta0 < np.inf:
            eta0 = float(self.eta0)
        else:
            raise ValueError(f"eta0 must be 'auto' or a finite number > 0; got {self.eta0!r}")
        tol = None if self.tol is None else float(self.tol) / y_scale**2
        max_iter = _check_int(self.max_iter, "max_iter", 1)
        result = sgd.fit(
            random_key(self.random_state),
            Xs,
            Y,
            loss=loss,
            alpha=float(self.alpha) / std.scale**2,
            batch_size=_check_int(self.batch_size, "batch_size", 1),
            max_epochs=max_iter,
            eta0=eta0,
            schedule=self.learning_rate,
            fit_intercept=bool(self.fit_intercept),
            tol=tol,
            n_iter_no_change=_check_int(self.n_iter_no_change, "n_iter_no_change", 1),
            progress=False,
        )
        w, b = result.params
        self.coef_, self.intercept_ = std.weights(w, b)
        self.n_iter_ = result.n_epochs
        self.loss_curve_ = np.asarray(result.losses, dtype=np.float64) * y_scale**2
        self.converged_ = None if tol is None else bool(result.n_epochs < max_iter)
        self.grad_norm_ = np.asarray(
            sgd.gradient_norm(loss, (w, b), Xs, Y, float(self.alpha) / std.scale**2)
        )
        if self.converged_ is False:
            _warn_unconverged(self, f"early stopping did not trigger in {max_iter} epochs", 2)

    def _decision(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return X @ self.coef_.T + self.intercept_


class SGDClassifier(ClassifierMixin, _SGDBase):
    """Linear classifier (logistic regression or linear SVM) fitted by minibatch SGD (§5.9).

    Parameters
    ----------
    loss : {"hinge", "log_loss"} or None
        Per-example loss: the SVM's hinge (None: the default) or the logistic
        negative log-likelihood.
    alpha : float
        Weight decay α: cost (1/m) Σ L + (α/2)‖w‖² (eq. 5.96 plus L2).
    fit_intercept : bool
        Learn an (unpenalised) intercept.
    max_iter : int
        Maximum epochs.
    tol : float or None
        Early stopping: stop after ``n_iter_no_change`` epochs without J falling by ``tol``.
    n_iter_no_change : int
        See ``tol``.
    batch_size : int
        Minibatch size m′ (eq. 5.98), default 128.
    learning_rate : {"constant", "inverse", "cosine"}
        Schedule of ε: ε₀, ε₀/(1 + t/steps per epoch), or cosine decay to 0.
    eta0 : float or "auto"
        Initial learning rate ε₀ on the standardised problem; "auto": 1/L with
        L = mean ‖x̃‖² (+1 for the intercept), a bound on the curvature of the
        squared loss (×4 for log_loss).
    random_state : None, int or RandomState
        Seed of the shuffling.

    Attributes
    ----------
    coef_ : ndarray (1, d) or (n_classes, d)
        One-vs-rest weights (one row for two classes).
    intercept_ : ndarray (1,) or (n_classes,)
    classes_ : ndarray
    loss_curve_ : ndarray (epochs + 1, n_problems)
        Full cost J after each epoch.
    converged_ : bool or None
        Whether early stopping ended the fit before ``max_iter`` (None when ``tol``
        is None); False also raises scikit-learn's ``ConvergenceWarning``.
    grad_norm_ : ndarray (n_problems,)
        ‖∇J‖ at the end (on the standardised problem).

    Notes
    -----
    The features are centred and scaled internally, an exact change of variables
    (:class:`Standardiser`), so the fit does not depend on the data's units; ``eta0``
    is the step size on that standardised problem.
    """

    _losses = ("hinge", "log_loss")

    def fit(self, X: Any, y: Any) -> SGDClassifier:
        """Fit one-vs-rest linear models, all problems at once."""
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        self.classes_, Y = _binary_targets(y)
        self._fit_targets(X, Y)
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """η = Xwᵀ + b: (n,) for two classes, (n, n_classes) otherwise."""
        scores = self._decision(X)
        return scores[:, 0] if len(self.classes_) == 2 else scores

    def predict(self, X: Any) -> np.ndarray:
        """The class with the largest score (sign of η for two classes)."""
        return _predict_from_scores(self, X)

    @available_if(lambda self: self.loss == "log_loss")
    def predict_proba(self, X: Any) -> np.ndarray:
        """σ(η) per class (log_loss only); one-vs-rest scores normalised to sum to 1."""
        p = 1.0 / (1.0 + np.exp(-self._decision(X)))
        if len(self.classes_) == 2:
            return np.column_stack([1 - p[:, 0], p[:, 0]])
        return p / p.sum(axis=1, keepdims=True)


class SGDRegressor(RegressorMixin, _SGDBase):
    """Linear least squares fitted by minibatch SGD (§5.9); parameters as :class:`SGDClassifier`.

    ``loss`` is "squared_error" (or None).
    """

    _losses = ("squared_error",)

    def fit(self, X: Any, y: Any) -> SGDRegressor:
        """Fit w and b by SGD on ½(y − η)² + (α/2)‖w‖²."""
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], y_numeric=True)
        check_scale(y, "y")
        y = np.asarray(y, dtype=float)
        centre = float(y.mean()) if self.fit_intercept else 0.0
        scale = float(np.sqrt(np.mean((y - centre) ** 2))) or 1.0
        self._fit_targets(X, ((y - centre) / scale)[:, None], y_scale=scale)
        self.coef_, self.intercept_ = scale * self.coef_[0], centre + scale * self.intercept_[0]
        return self

    def predict(self, X: Any) -> np.ndarray:
        """η = Xw + b."""
        return self._decision(X)


def _binary_targets(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """classes_ and the ±1 target columns: one for two classes, one per class (one-vs-rest)."""
    check_classification_targets(y)
    classes = np.unique(y)
    if len(classes) < 2:
        raise ValueError(f"y has only one class ({classes[0]!r}): need at least 2 classes")
    positive = classes[1:] if len(classes) == 2 else classes
    return classes, np.where(y[:, None] == positive[None, :], 1.0, -1.0)


def _predict_from_scores(estimator: Any, X: Any) -> np.ndarray:
    """Sign of the score for two classes, else the class with the largest score."""
    scores = estimator.decision_function(X)  # checks that it is fitted
    classes = estimator.classes_
    if len(classes) == 2:
        return classes[(scores.ravel() > 0).astype(int)]
    return classes[np.argmax(scores, axis=1)]


def _check_C(C: Any) -> float:
    if not (isinstance(C, numbers.Real) and 0 < C < np.inf):
        raise ValueError(f"C must be a finite number > 0; got {C!r}")
    return float(C)


class SVC(ClassifierMixin, BaseEstimator):
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
        return Kernel(self.kernel, gamma, _check_int(self.degree, "degree", 0), float(self.coef0))

    def _fitted_kernel(self) -> Kernel:
        """The kernel of the fit (γ as resolved from the training data)."""
        if callable(self.kernel):
            return Kernel("callable", fn=self.kernel)
        return Kernel(self.kernel, self._gamma, int(self.degree), float(self.coef0))

    def fit(self, X: Any, y: Any) -> SVC:
        """Solve one dual (two classes) or one per class (one-vs-rest), all at once."""
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        self.classes_, Y = _binary_targets(y)
        C = _check_C(self.C)
        check_scale(X, "X")
        kernel = self._kernel(X)
        self._gamma = kernel.gamma
        Xj = as_jax(X)
        if self.approximation == "fourier":
            if kernel.name != "rbf":
                raise ValueError("approximation='fourier' approximates kernel='rbf' only")
            n_comp = _check_int(self.n_components, "n_components", 1)
            key_features, key_order = jax.random.split(random_key(self.random_state))
            phi = fourier_features(key_features, X.shape[1], n_comp, kernel.gamma)
            self.random_weights_, self.random_offset_ = np.asarray(phi.W), np.asarray(phi.b)
            if not (isinstance(self.cd_tol, numbers.Real) and 0 < self.cd_tol < np.inf):
                raise ValueError(f"cd_tol must be a finite number > 0; got {self.cd_tol!r}")
            Z = phi(Xj)
            keys = jax.random.split(key_order, Y.shape[1])
            (w, b), state = jax.vmap(svm.solve_hinge, in_axes=(None, 1, None, None, 0))(
                Z, as_jax(Y), C, float(self.cd_tol), keys
            )
            self.coef_, self.intercept_ = np.asarray(w), np.asarray(b)
            self.n_iter_ = np.asarray(state.epoch)
            self.kkt_gap_ = np.asarray(state.gap)
            self.converged_ = self.kkt_gap_ <= float(self.cd_tol)
            if not self.converged_.all():
                _warn_unconverged(self, "coordinate descent did not reach cd_tol in 1000 epochs")
            return self
        if self.approximation is not None:
            raise ValueError(f"approximation must be None or 'fourier'; got {self.approximation!r}")
        max_iter = 2**31 - 1 if self.max_iter == -1 else _check_int(self.max_iter, "max_iter", 1)
        precompute = X.shape[0] ** 2 <= svm.MAX_KERNEL_ELEMENTS
        solve = functools.partial(
            svm.solve_dual, kernel=kernel, max_iter=max_iter, precompute=precompute
        )
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
            _warn_unconverged(self, f"SMO stopped at max_iter = {self.max_iter} pair updates")
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """f(x) per problem: (n,) for two classes, (n, n_classes) otherwise."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        if self.approximation == "fourier":
            phi = FourierFeatures(as_jax(self.random_weights_), as_jax(self.random_offset_))
            scores = np.asarray(phi(as_jax(X))) @ self.coef_.T + self.intercept_
        else:
            scores = np.asarray(
                jax.vmap(svm.dual_decision, in_axes=(None, 0, 0, None, None))(
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
        return _predict_from_scores(self, X)


class LinearSVC(ClassifierMixin, BaseEstimator):
    """Linear SVM in the primal: ½‖w‖² + C Σ max(0, 1 − y(wᵀx + b))², by L-BFGS (§5.7.2).

    Parameters
    ----------
    C : float
        Weight of the squared-hinge loss against ½‖w‖².
    tol : float
        Converged when ‖∇f‖ ≤ tol ‖∇f(0)‖ (liblinear's criterion).
    max_iter : int
        Maximum L-BFGS iterations.

    Attributes
    ----------
    coef_ : ndarray (n_problems, d)
    intercept_ : ndarray (n_problems,)
    margin_width_ : ndarray (n_problems,)
        2/‖w‖, the width of the margin (§5.7.2).
    n_iter_ : ndarray (n_problems,)
    converged_ : ndarray (n_problems,) of bool
        Whether each problem met the tolerance; if not, scikit-learn's
        ``ConvergenceWarning`` is raised.
    grad_norm_ : ndarray (n_problems,)
        Final ‖∇f‖ (of the standardised problem).

    Notes
    -----
    The features are centred and scaled internally, an exact change of variables
    (:class:`Standardiser`: the penalty becomes ½ Σ (w̃_j/s_j)²), so the solution is the
    same whatever the data's units and the optimiser's conditioning does not depend on them.
    """

    def __init__(self, C: float = 1.0, *, tol: float = 1e-4, max_iter: int = 1000) -> None:
        self.C = C
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, X: Any, y: Any) -> LinearSVC:
        """Solve the primal once per one-vs-rest problem, all at once."""
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        self.classes_, Y = _binary_targets(y)
        C = _check_C(self.C)
        if not (isinstance(self.tol, numbers.Real) and 0 < self.tol < np.inf):
            raise ValueError(f"tol must be a finite number > 0; got {self.tol!r}")
        check_scale(X, "X")
        std = Standardiser.of(X)
        solve = functools.partial(
            svm.solve_primal, max_iter=_check_int(self.max_iter, "max_iter", 1)
        )
        (w, b), info = jax.vmap(solve, in_axes=(None, 1, None, None, None))(
            as_jax(std.transform(X)), as_jax(Y), C, float(self.tol), as_jax(1.0 / std.scale**2)
        )
        self.coef_, self.intercept_ = std.weights(w, b)
        self.margin_width_ = 2.0 / np.linalg.norm(self.coef_, axis=1)
        self.n_iter_ = np.asarray(info.iterations)
        self.converged_ = np.asarray(info.converged)
        self.grad_norm_ = np.asarray(info.grad_norm)
        if not self.converged_.all():
            _warn_unconverged(self, f"L-BFGS did not reach tol in {self.max_iter} iterations")
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """wᵀx + b per problem."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        scores = X @ self.coef_.T + self.intercept_
        return scores[:, 0] if len(self.classes_) == 2 else scores

    def predict(self, X: Any) -> np.ndarray:
        """The class of the sign (two classes) or of the largest score (one-vs-rest)."""
        return _predict_from_scores(self, X)
