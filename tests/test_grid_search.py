"""Named like scikit-learn, behaves like scikit-learn (issue 23, item 7).

For every learner class the package exports from ``inference/learners``, a
``GridSearchCV`` over a scaled pipeline picks the same best parameters as
scikit-learn's class of the same name, with a best cross-validated score within
0.005, on two data sets each. The SGD classes are stochastic (their shuffles are
JAX's, not scikit-learn's), so their scores are averaged over seeds for both
libraries; each grid's values are far enough apart that the winner is not a coin
flip. Data sets are cut to a multiple of 3 rows so the three folds share one shape
(one compilation per learner and data set).

``GaussianProcessClassifier`` (``inference/probabilistic/gp.py``) is not here: its
parameters (``gamma``, ``scale``, no kernel optimiser) are not scikit-learn's.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn import cluster, linear_model, neighbors, svm
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import freqbayes as F


def _data(name: str) -> tuple[np.ndarray, np.ndarray]:
    X, y = {
        "cancer": lambda: load_breast_cancer(return_X_y=True),
        "wine": lambda: load_wine(return_X_y=True),
        "diabetes": lambda: load_diabetes(return_X_y=True),
        "friedman": lambda: make_friedman1(300, noise=1.0, random_state=0),
    }[name]()
    n = len(y) - len(y) % 3
    return X[:n], y[:n]


#: (class name, data set, grid, seeds averaged; None: deterministic), scikit-learn's class
CASES = [
    ("SGDClassifier", "cancer", {"alpha": [1e-2, 1.0, 10.0]}, 8, linear_model.SGDClassifier),
    ("SGDClassifier", "wine", {"alpha": [1e-3, 10.0]}, 8, linear_model.SGDClassifier),
    ("SGDRegressor", "diabetes", {"alpha": [0.1, 10.0]}, 8, linear_model.SGDRegressor),
    ("SGDRegressor", "friedman", {"alpha": [1e-3, 3.0]}, 8, linear_model.SGDRegressor),
    ("SVC", "cancer", {"C": [0.1, 1.0, 10.0]}, None, svm.SVC),
    ("SVC", "wine", {"C": [0.01, 1.0]}, None, svm.SVC),
    ("LinearSVC", "cancer", {"C": [1e-3, 0.1, 10.0]}, None, svm.LinearSVC),
    ("LinearSVC", "wine", {"C": [1e-4, 1.0]}, None, svm.LinearSVC),
    ("KNeighborsClassifier", "cancer", {"n_neighbors": [1, 7, 51]}, None,
     neighbors.KNeighborsClassifier),
    ("KNeighborsClassifier", "wine", {"n_neighbors": [1, 15, 61]}, None,
     neighbors.KNeighborsClassifier),
    ("KNeighborsRegressor", "diabetes", {"n_neighbors": [1, 15]}, None,
     neighbors.KNeighborsRegressor),
    ("KNeighborsRegressor", "friedman", {"n_neighbors": [1, 7, 51]}, None,
     neighbors.KNeighborsRegressor),
    ("KMeans", "wine", {"n_clusters": [2, 3]}, None, cluster.KMeans),
    ("KMeans", "cancer", {"n_clusters": [2, 4]}, None, cluster.KMeans),
]  # fmt: skip

#: Where ours means something else (found by this test; not SGD's, left for their owners)
DIFFERS = {}
PARAMS = [
    pytest.param(
        *case,
        id=f"{case[0]}-{case[1]}",
        marks=[pytest.mark.xfail(strict=True, reason=DIFFERS[case[:2]])]
        if case[:2] in DIFFERS
        else [],
    )
    for case in CASES
]


def _mean_scores(cls, name, grid, seeds, X, y):
    """Mean test score of each grid point (averaged over ``seeds`` random states)."""
    rows = []
    for seed in range(seeds or 1):
        kwargs = {"random_state": seed} if seeds else {}
        if name == "KMeans":
            kwargs = {"n_init": 10, "random_state": seed}
        est = make_pipeline(StandardScaler(), cls(**kwargs))
        step = est.steps[-1][0]
        cv = KFold(3, shuffle=True, random_state=0)
        search = GridSearchCV(est, {f"{step}__{k}": v for k, v in grid.items()}, cv=cv, refit=False)
        # one thread: scikit-learn's OpenMP k-means crawls on a shared 2-core machine
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore", ConvergenceWarning)
            search.fit(X, y)
        rows.append(search.cv_results_["mean_test_score"])
    return np.mean(rows, axis=0)


@pytest.mark.parametrize(("name", "data", "grid", "seeds", "theirs"), PARAMS)
def test_grid_search_picks_what_scikit_learn_picks(name, data, grid, seeds, theirs):
    X, y = _data(data)
    ours = _mean_scores(getattr(F, name), name, grid, seeds, X, y)
    ref = _mean_scores(theirs, name, grid, seeds, X, y)
    points = next(iter(grid.values()))
    assert points[int(np.argmax(ours))] == points[int(np.argmax(ref))], (ours, ref)
    best = np.max(ref)
    tol = 0.005 * (abs(best) if name == "KMeans" else 1.0)  # k-means scores are −inertia
    assert abs(np.max(ours) - best) <= tol, (ours, ref)
