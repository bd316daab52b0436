"""Compile budgets of the learners: a grid search compiles a few programs, not one per fold.

``GridSearchCV(make_pipeline(StandardScaler(), est), grid_of_4, cv=5)`` on breast cancer
(569 rows: folds of 455 and 456 rows, scored on 114 and 113, and the refit on 569)
with :func:`~freqbayes.inference.compilation.count_compilations` around it. The
hyperparameters are traced, and the rows are padded to shape buckets
(:mod:`freqbayes.inference.buckets`: 455 and 456 rows → 512, 569 → 576, 113 and 114
queries → 128), so each fitting program is compiled at most twice: once for the folds'
bucket, once for the refit's. Each test budgets the fitting programs by name (at most
2) *and* the whole grid (fitting, predicting and scoring, and any small helper program)
with a stated small total, so that a stray per-fold program anywhere shows. A program
read from the persistent compilation cache still counts (it is new to the process), so
the budgets hold with the cache on or off; programs another test compiled earlier in
the same process are not counted again (the budgets are upper bounds).

The ``_x64`` tests below check that padding changes nothing: each learner fitted with
shape buckets on and with ``FREQBAYES_SHAPE_BUCKETS=off`` gives the same fit (1e-10 in
float64; identical labels, neighbours, support vectors, iteration counts).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from freqbayes.inference.compilation import Compilations, count_compilations
from freqbayes.inference.learners.kmeans import KMeans
from freqbayes.inference.learners.knn import KNeighborsClassifier
from freqbayes.inference.learners.linear_svm import LinearSVC
from freqbayes.inference.learners.sgd import SGDClassifier
from freqbayes.inference.learners.svm import SVC


@pytest.fixture(scope="module")
def cancer() -> tuple[np.ndarray, np.ndarray]:
    return load_breast_cancer(return_X_y=True)


def grid_search(estimator, grid: dict, X: np.ndarray, y: np.ndarray | None) -> Compilations:
    """The programs compiled by a first 5-fold grid search with its refit."""
    step = type(estimator).__name__.lower()
    search = GridSearchCV(
        make_pipeline(StandardScaler(), estimator),
        {f"{step}__{name}": values for name, values in grid.items()},
        cv=5,
    )
    with count_compilations() as seen:
        search.fit(X, y)
    return seen


def programs_named(seen: Compilations, *names: str) -> int:
    """How many of the programs seen are jitted functions of these names."""
    return sum(n for name, (n, _) in seen.by_name().items() if name in {f"jit({m})" for m in names})


def test_linear_svc_grid_compiles_one_solver_per_bucket(cancer):
    """``solve_primal`` at 512 rows (the ten folds) and at 576 (the refit): 2. Prediction is
    NumPy (X @ coef + b): nothing else compiles (total ≤ 3: one spare for a helper)."""
    seen = grid_search(LinearSVC(max_iter=5000), {"C": [0.01, 0.1, 1.0, 10.0]}, *cancer)
    assert programs_named(seen, "solve_primal") <= 2, seen.table()
    assert seen.count <= 3, seen.table()


def test_svc_grid_compiles_one_solver_per_bucket(cancer):
    """2 C × 2 γ (traced, the kernel's leaves): ``solve_dual`` at 512 rows and at 576 rows:
    2. The decision function is NumPy (scikit-learn's kernels in float64): total ≤ 3."""
    seen = grid_search(SVC(), {"C": [0.5, 2.0], "gamma": ["scale", 0.01]}, *cancer)
    assert programs_named(seen, "solve_dual") <= 2, seen.table()
    assert seen.count <= 3, seen.table()


def test_sgd_grid_compiles_one_solver_per_bucket(cancer):
    """Four α (traced): the epoch loop ``run`` (with the final ‖∇J‖ in it) at 512 and at
    576 rows: 2 fitting programs; prediction is NumPy. Total ≤ 3."""
    seen = grid_search(SGDClassifier(random_state=0), {"alpha": [1e-5, 1e-4, 1e-3, 1e-2]}, *cancer)
    assert programs_named(seen, "run") <= 2, seen.table()
    assert seen.count <= 3, seen.table()


def test_knn_grid_compiles_one_search_per_neighbour_bucket(cancer):
    """Fitting stores the data (nothing compiles). Prediction: one ``classify_padded`` program per
    bucket of k (the search keeps the K = 8 or 12 nearest, k is traced: k = 3, 5, 7 → 8,
    k = 9 → 12), on 512 training rows and 128 queries (the refit predicts nothing): 2.
    Total ≤ 3."""
    seen = grid_search(KNeighborsClassifier(), {"n_neighbors": [3, 5, 7, 9]}, *cancer)
    assert programs_named(seen, "classify_padded") <= 2, seen.table()
    assert seen.count <= 3, seen.table()


def test_kmeans_grid_compiles_two_programs_per_number_of_clusters(cancer):
    """``n_clusters`` is a shape (k centres), so each k is its own program: the seeding
    (``starts``) and Lloyd's loop (``lloyd_best``) for each of the 4 values of k at 512 rows
    (8), and the refit's k at 576 rows (2): ≤ 10 fitting programs, i.e. 2 per k and bucket.
    Scoring (−inertia on the held-out fold): one ``_assign`` per k at 128 rows (4). The
    seed's key (``jax.random.key``): 2 small programs, once per process. Total ≤ 16."""
    X, _ = cancer
    seen = grid_search(KMeans(random_state=0), {"n_clusters": [2, 3, 4, 5]}, X, None)
    assert programs_named(seen, "starts", "lloyd_best") <= 10, seen.table()
    assert programs_named(seen, "_assign") <= 4, seen.table()
    assert seen.count <= 16, seen.table()


# ---------------------------------------------------------------- padding changes nothing

#: 150 rows: bucket 192, so 42 rows of padding (and 40 queries: bucket 48).
N_EXACT = 150


@pytest.fixture
def unpadded(monkeypatch):
    """Fit once with shape buckets on and once with ``FREQBAYES_SHAPE_BUCKETS=off``."""

    def both(make, X, y=None, then=None):
        out = []
        for setting in ("on", "off"):
            monkeypatch.setenv("FREQBAYES_SHAPE_BUCKETS", setting)
            est = make().fit(X) if y is None else make().fit(X, y)
            out.append(then(est) if then else est)
        return out

    return both


def _cancer_rows(n: int = N_EXACT) -> tuple[np.ndarray, np.ndarray]:
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:n]
    return X, y[:n]


def _close(a, b, tol: float = 1e-10) -> None:
    np.testing.assert_allclose(a, b, rtol=0, atol=tol * max(1.0, float(np.max(np.abs(b)))))


def test_padded_linear_svc_equals_unpadded_x64(unpadded):
    X, y = _cancer_rows()
    padded, plain = unpadded(lambda: LinearSVC(C=0.3), X, y)
    _close(padded.coef_, plain.coef_)
    _close(padded.intercept_, plain.intercept_)
    assert padded.n_iter_.tolist() == plain.n_iter_.tolist()


def test_padded_svc_and_platt_scaling_equal_unpadded_x64(unpadded):
    X, y = _cancer_rows()
    padded, plain = unpadded(lambda: SVC(C=2.0, probability=True, random_state=0), X, y)
    assert padded.support_.tolist() == plain.support_.tolist()
    assert padded.n_iter_.tolist() == plain.n_iter_.tolist()
    _close(padded.dual_coef_, plain.dual_coef_)
    _close(padded.intercept_, plain.intercept_)
    _close(np.r_[padded.probA_, padded.probB_], np.r_[plain.probA_, plain.probB_], 1e-8)
    # one-vs-one on three classes: each pair's problem padded with C_i = 0 as well
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    padded, plain = unpadded(lambda: SVC(C=2.0), X, y)
    assert padded.support_.tolist() == plain.support_.tolist()
    _close(padded.dual_coef_, plain.dual_coef_)
    _close(padded.intercept_, plain.intercept_)


def test_padded_sgd_equals_unpadded_x64(unpadded):
    """Shuffled epochs: the real rows are visited in the same order; padding is no step."""
    from freqbayes.inference.learners.sgd import SGDRegressor

    X, y = _cancer_rows()
    for make, target in [
        (lambda: SGDClassifier(random_state=0), y),
        (lambda: SGDRegressor(early_stopping=True, random_state=1, average=10), X[:, 0] + y),
    ]:
        padded, plain = unpadded(make, X[:, 1:], target)
        assert (padded.n_iter_, padded.t_) == (plain.n_iter_, plain.t_)
        _close(padded.coef_, plain.coef_)
        _close(padded.intercept_, plain.intercept_)
        _close(padded.grad_norm_, plain.grad_norm_)


def test_padded_knn_equals_unpadded_x64(unpadded):
    """Padded training rows are never neighbours; the same neighbours, ties as before."""
    from freqbayes.inference.learners.knn import KNeighborsRegressor

    X, y = _cancer_rows()
    X = np.round(X, 1)  # ties in distance
    Xq = X[:40] + 0.05

    def searched(est):
        return est.predict(Xq), *est.kneighbors(Xq), est.kneighbors()[1]

    padded, plain = unpadded(lambda: KNeighborsClassifier(n_neighbors=6), X[40:], y[40:], searched)
    for a, b in zip(padded, plain, strict=True):
        np.testing.assert_array_equal(a, b)
    padded, plain = unpadded(
        lambda: KNeighborsRegressor(3), X[40:], X[40:, 0], lambda e: e.predict(Xq)
    )
    _close(padded, plain)


@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_padded_kmeans_equals_unpadded_x64(unpadded, init):
    """Padding is never a seed, in no centre and no inertia: the same fit."""
    X, _ = _cancer_rows()
    padded, plain = unpadded(lambda: KMeans(5, init=init, n_init=3, random_state=0), X)
    assert padded.n_iter_ == plain.n_iter_
    np.testing.assert_array_equal(padded.labels_, plain.labels_)
    _close(padded.cluster_centers_, plain.cluster_centers_)
    _close(padded.inertia_, plain.inertia_)
    np.testing.assert_array_equal(padded.predict(X[:40]), plain.predict(X[:40]))
