"""Thin scikit-learn-style classes over the functional learners.

Each class takes scikit-learn's parameter names where the meaning is the same,
checks its input up front, returns ``self`` from ``fit`` and keeps only numpy
arrays on the instance (learned attributes end in ``_``), so it pickles, clones
and works in pipelines and ``cross_val_score``. The work is done by module-level
jitted functions of :mod:`freqbayes.inference`.
"""

from __future__ import annotations

import numbers
from typing import Any

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
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from freqbayes.inference import kmeans, knn
from freqbayes.inference.common import float_dtype


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


@jax.jit
def _lloyd_from(X: jnp.ndarray, centroids: jnp.ndarray, max_iter: int, tol: jnp.ndarray):
    return kmeans.run(X, kmeans.state_at(X, centroids), max_iter, tol)


@jax.jit
def _assign(X: jnp.ndarray, centroids: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    return kmeans.assign(X, centroids)


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
        k = _check_int(self.n_clusters, "n_clusters", 1, X.shape[0], "n_samples")
        max_iter = _check_int(self.max_iter, "max_iter", 1)
        if not (isinstance(self.tol, numbers.Real) and self.tol >= 0):
            raise ValueError(f"tol must be a number >= 0; got {self.tol!r}")
        Xj = as_jax(X)
        tol = kmeans.relative_tol(Xj, float(self.tol))
        if isinstance(self.init, str):
            if self.init not in kmeans.INITS:
                raise ValueError(
                    f"init must be one of {kmeans.INITS} or an array; got {self.init!r}"
                )
            auto = 1 if self.init == "k-means++" else 10
            n_init = auto if self.n_init == "auto" else _check_int(self.n_init, "n_init", 1)
            best, _ = kmeans.fit(
                random_key(self.random_state), Xj, k, self.init, n_init, max_iter, tol
            )
        else:
            C0 = np.asarray(self.init, dtype=float)
            if C0.shape != (k, X.shape[1]) or not np.all(np.isfinite(C0)):
                raise ValueError(
                    f"init array must be finite with shape {(k, X.shape[1])}; got {C0.shape}"
                )
            best = _lloyd_from(Xj, as_jax(C0), max_iter, tol)
        self.cluster_centers_ = np.asarray(best.centroids, dtype=X.dtype)
        self.labels_ = np.asarray(best.labels, dtype=np.intp)
        self.inertia_ = float(best.inertia)
        self.n_iter_ = int(best.iteration)
        return self

    def _distances(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        labels, d2 = _assign(as_jax(X), as_jax(self.cluster_centers_))
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
        self._check_k(X.shape[0])
        self._X_fit, self._y_fit = X, y
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Mean target of the k nearest training examples."""
        Xq, k, block = self._query(X)
        return np.asarray(knn.regress(as_jax(self._X_fit), as_jax(self._y_fit), Xq, k, block))
