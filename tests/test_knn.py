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


# ------------------------------------------------ kneighbors, predict_proba, weights="distance"


@pytest.fixture(scope="module")
def raw_units():
    """Continuous features in the user's units (means near 100, sds near 50): no exact ties."""
    from sklearn.datasets import make_classification

    X, y = make_classification(700, n_features=6, n_informative=4, n_classes=3, random_state=0)
    return X * 50 + 100, y


@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_kneighbors_predict_proba_and_predict_match_sklearn(raw_units, weights):
    X, y = raw_units
    Xtr, ytr, Xq = X[:500], y[:500], X[500:]
    ours = KNeighborsClassifier(7, weights=weights).fit(Xtr, ytr)
    ref = SkKNC(7, weights=weights, algorithm="brute").fit(Xtr, ytr)
    for query in (Xq, None):  # None: the training set, each example not its own neighbour
        dist, idx = ours.kneighbors(query)
        ref_dist, ref_idx = ref.kneighbors(query)
        np.testing.assert_array_equal(idx, ref_idx)
        np.testing.assert_allclose(dist, ref_dist, rtol=1e-9)
        assert dist.dtype == np.float64 and idx.shape == (len(ref_idx), 7)
    np.testing.assert_allclose(ours.predict_proba(Xq), ref.predict_proba(Xq), atol=1e-9)
    np.testing.assert_array_equal(ours.predict(Xq), ref.predict(Xq))
    three = ref.kneighbors(Xq, 3, return_distance=False)
    np.testing.assert_array_equal(ours.kneighbors(Xq, 3, return_distance=False), three)


@pytest.mark.parametrize("loader", [load_iris, load_digits])
@pytest.mark.parametrize("k", [1, 5, 15])
def test_distance_weighted_votes_match_sklearn(loader, k):
    X, y = loader(return_X_y=True)
    Xtr, Xte, ytr, _ = train_test_split(X, y, test_size=0.3, random_state=k)
    ours = KNeighborsClassifier(k, weights="distance").fit(Xtr, ytr)
    ref = SkKNC(k, weights="distance", algorithm="brute").fit(Xtr, ytr)
    np.testing.assert_array_equal(ours.predict(Xte), ref.predict(Xte))
    # A test row equal to a training row: scikit-learn's brute distance (‖x‖² − 2x·y + ‖y‖²
    # in float64) is then a tiny non-zero number, so its "distance 0 decides alone" rule
    # does not fire; ours measures the distance from the differences: exactly 0.
    # Integer pixels: where the k-th and (k+1)-th distances tie, which of the tied
    # examples is among the k is each library's own choice (scikit-learn: argpartition).
    dist, idx = ours.kneighbors(Xte)
    exact = (dist == 0).any(axis=1)
    tied = ours.kneighbors(Xte, k + 1)[0][:, k] == dist[:, -1]
    got, want = ours.predict_proba(Xte), ref.predict_proba(Xte)
    same = ~exact & ~tied
    assert same.mean() > 0.5
    np.testing.assert_allclose(got[same], want[same], atol=1e-9)
    for row in np.flatnonzero(exact):
        alone = ytr[idx[row][dist[row] == 0]]
        expected = np.bincount(alone, minlength=got.shape[1]) / len(alone)
        np.testing.assert_allclose(got[row], expected, atol=1e-12)
    proba = KNeighborsClassifier(k).fit(Xtr, ytr).predict_proba(Xte)
    want = SkKNC(k).fit(Xtr, ytr).predict_proba(Xte)
    np.testing.assert_allclose(proba[~tied], want[~tied], atol=1e-12)


def test_a_neighbour_at_distance_zero_decides_alone():
    """As scikit-learn: with weights="distance" a query equal to a training example takes
    that example's class with probability 1, however many other neighbours there are."""
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [10.0, 10.0]])
    y = np.array([1, 0, 0, 0, 0])
    model = KNeighborsClassifier(4, weights="distance").fit(X, y)
    np.testing.assert_array_equal(model.predict_proba([[0.0, 0.0]]), [[0.0, 1.0]])
    assert model.predict([[0.0, 0.0]])[0] == 1
    assert KNeighborsClassifier(4).fit(X, y).predict([[0.0, 0.0]])[0] == 0


def test_distance_weighted_regressor_matches_sklearn(raw_units):
    X, _ = raw_units
    target = X @ np.array([3.0, -1.0, 2.0, 0.0, 0.5, 1.0]) + 1000.0
    ours = KNeighborsRegressor(4, weights="distance").fit(X[:500], target[:500])
    ref = SkKNR(4, weights="distance", algorithm="brute").fit(X[:500], target[:500])
    np.testing.assert_allclose(ours.predict(X[500:]), ref.predict(X[500:]), rtol=1e-10)
    np.testing.assert_allclose(ours.predict(X[:500]), target[:500], rtol=1e-12)  # itself


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: KNeighborsClassifier(3, weights="inverse").fit(*m), "weights must be one of"),
        (lambda m: KNeighborsClassifier(3).fit(*m).kneighbors(m[0], 11), "n_neighbors must be"),
        (lambda m: KNeighborsClassifier(3).fit(*m).kneighbors(None, 10), "n_neighbors must be"),
    ],
)
def test_bad_weights_and_neighbour_counts_are_refused(call, message):
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10) % 2
    with pytest.raises(ValueError, match=message):
        call((X, y))
