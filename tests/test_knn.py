"""k-NN: identical to scikit-learn's predictions, bounded memory, deterministic ties."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.neighbors import KNeighborsClassifier as SkKNC
from sklearn.neighbors import KNeighborsRegressor as SkKNR
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from freqbayes import KNeighborsClassifier, KNeighborsRegressor
from freqbayes.inference.learners import knn


@pytest.mark.parametrize("loader", [load_iris, load_digits])
@pytest.mark.parametrize("k", [1, 3, 5, 15])
def test_predictions_identical_to_sklearn(loader, k):
    X, y = loader(return_X_y=True)
    Xtr, Xte, ytr, _ = train_test_split(X, y, test_size=0.3, random_state=k)
    ours = KNeighborsClassifier(k).fit(Xtr, ytr).predict(Xte)
    ref = SkKNC(k, algorithm="brute").fit(Xtr, ytr).predict(Xte)
    np.testing.assert_array_equal(ours, ref)


def test_regressor_matches_sklearn():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = X[:, 0] ** 2 + rng.normal(size=300)
    Xq = rng.normal(size=(50, 4))
    ours = KNeighborsRegressor(7).fit(X, y).predict(Xq)
    ref = SkKNR(7, algorithm="brute").fit(X, y).predict(Xq)
    np.testing.assert_allclose(ours, ref, rtol=1e-5)


def test_blocks_give_the_same_answer_as_one_block(strict_promotion):
    rng = np.random.default_rng(1)
    X = jnp.asarray(rng.normal(size=(200, 3)), dtype=jnp.float32)
    Q = jnp.asarray(rng.normal(size=(37, 3)), dtype=jnp.float32)
    whole, _ = knn.neighbours(X, Q, 5, 37)
    blocked, _ = knn.neighbours(X, Q, 5, 8)  # 37 = 4 blocks of 8 + a padded one
    np.testing.assert_array_equal(whole, blocked)


def test_block_size_bounds_memory():
    assert knn.block_size(100_000, 10_000) * 100_000 <= knn.MAX_BLOCK_ELEMENTS
    assert knn.block_size(10, 7) == 7


def test_ties_are_deterministic():
    # Two training points at equal distance, with different classes: the lower index wins,
    # and a 1-1 vote goes to the smallest class.
    X = np.array([[1.0], [-1.0], [5.0]])
    y = np.array([1, 0, 0])
    assert KNeighborsClassifier(1).fit(X, y).predict([[0.0]])[0] == 1
    assert KNeighborsClassifier(2).fit(X, y).predict([[0.0]])[0] == 0


def test_works_in_a_pipeline_with_cross_validation():
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), KNeighborsClassifier(5))
    scores = cross_val_score(pipe, X, y, cv=5)
    ref = cross_val_score(make_pipeline(StandardScaler(), SkKNC(5)), X, y, cv=5)
    np.testing.assert_allclose(scores, ref)


@pytest.mark.parametrize(
    ("kwargs", "X", "y", "message"),
    [
        (
            {"n_neighbors": 4},
            np.ones((3, 2)),
            [0, 1, 0],
            r"n_neighbors must be an integer in \[1, n_samples = 3\]",
        ),
        ({"n_neighbors": 0}, np.ones((3, 2)), [0, 1, 0], "n_neighbors must be an integer"),
        ({}, np.array([[np.nan, 1.0]] * 6), [0, 1] * 3, "Input X contains NaN"),
        ({"n_neighbors": 1}, np.ones((3, 2)), [0, 1], "inconsistent numbers of samples"),
    ],
)
def test_bad_input(kwargs, X, y, message):
    with pytest.raises(ValueError, match=message):
        KNeighborsClassifier(**kwargs).fit(X, y)


@parametrize_with_checks([KNeighborsClassifier(), KNeighborsRegressor()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
