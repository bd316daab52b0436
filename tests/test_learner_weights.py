"""sample_weight, class_weight and Platt probabilities, each beside scikit-learn's."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import _sigmoid_calibration
from sklearn.datasets import load_breast_cancer, make_classification, make_moons
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC as SkSVC
from sklearn.svm import LinearSVC as SkLinearSVC

from freqbayes import SVC, LinearSVC
from freqbayes.inference.learners.platt import sigmoid_train


def _data():
    """Unbalanced moons (raw scale: x multiplied by 50 around 100)."""
    X, y = make_moons(400, noise=0.3, random_state=1)
    keep = (y == 1) | (np.arange(len(y)) % 3 == 0)
    return X[keep] * 50.0 + 100.0, y[keep]


def _weights(n):
    return np.random.default_rng(0).choice([0.0, 0.5, 1.0, 3.0], n)


@pytest.mark.parametrize(
    "setting",
    [
        {"class_weight": {0: 4.0, 1: 1.0}},
        {"class_weight": "balanced"},
        {"sample_weight": True},
        {"class_weight": "balanced", "sample_weight": True},
    ],
)
def test_weighted_svc_is_libsvms_x64(setting):
    """The same dual as LIBSVM with C_i = C w_i c_{y_i}: same α y and intercept."""
    X, y = _data()
    X = StandardScaler().fit_transform(X)
    kw = {"class_weight": setting.get("class_weight")}
    sw = _weights(len(y)) if setting.get("sample_weight") else None
    ours = SVC(C=2.0, tol=1e-6, **kw).fit(X, y, sample_weight=sw)
    ref = SkSVC(C=2.0, tol=1e-6, **kw).fit(X, y, sample_weight=sw)
    # both stop at a KKT gap of 1e-6 (LIBSVM after shrinking): α within 0.1% of C, f within 1e-4
    # (LIBSVM drops zero-weight rows, so its support_ indexes the others: compare sorted α y)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-4)
    np.testing.assert_allclose(np.sort(ours.dual_coef_[0]), np.sort(ref.dual_coef_[0]), atol=2e-3)
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X), atol=1e-4)


def test_class_weight_moves_the_boundary_toward_the_light_class():
    X, y = _data()
    X = StandardScaler().fit_transform(X)
    plain = SVC().fit(X, y).predict(X)
    heavy = SVC(class_weight={0: 10.0, 1: 1.0}).fit(X, y).predict(X)
    assert (heavy == 0).sum() > (plain == 0).sum()


def test_zero_weights_are_the_same_as_dropping_the_rows():
    X, y = _data()
    X = StandardScaler().fit_transform(X)
    w = _weights(len(y))
    kept = w > 0
    # γ fixed: "scale" would be computed from all the rows in one fit and the kept in the other
    a = SVC(gamma=0.5, tol=1e-4).fit(X, y, sample_weight=np.where(kept, 1.0, 0.0))
    b = SVC(gamma=0.5, tol=1e-4).fit(X[kept], y[kept])
    np.testing.assert_allclose(a.decision_function(X), b.decision_function(X), atol=1e-3)


@pytest.mark.parametrize("class_weight", [None, "balanced"])
def test_weighted_linear_svc_matches_liblinear(class_weight):
    X, y = make_classification(600, n_features=8, weights=[0.8], random_state=2)
    X = X * 30.0 + 100.0
    X = StandardScaler().fit_transform(X)
    sw = _weights(len(y))
    ours = LinearSVC(class_weight=class_weight, tol=1e-8).fit(X, y, sample_weight=sw)
    # liblinear penalises its intercept as a weight on a constant feature: a constant of
    # 100 makes that penalty negligible, and the two problems the same
    ref = SkLinearSVC(class_weight=class_weight, tol=1e-8, max_iter=100_000,
                      intercept_scaling=100.0)  # fmt: skip
    ref.fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=2e-3)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=2e-3)


def test_a_weight_of_two_is_a_repeated_row_x64():
    """γ fixed: γ = "scale" is computed from X, where the repeated rows count."""
    X, y = _data()
    X = StandardScaler().fit_transform(X)
    w = np.random.default_rng(3).choice([1, 2], len(y))
    rows = np.repeat(np.arange(len(y)), w)
    for weighted, repeated in [
        (SVC(gamma=0.5, tol=1e-9), SVC(gamma=0.5, tol=1e-9)),
        (LinearSVC(tol=1e-12), LinearSVC(tol=1e-12)),
        (
            SVC(gamma=0.5, approximation="fourier", cd_tol=1e-9, n_components=50, random_state=0),
            SVC(gamma=0.5, approximation="fourier", cd_tol=1e-9, n_components=50, random_state=0),
        ),
    ]:
        a = weighted.fit(X, y, sample_weight=w).decision_function(X)
        b = repeated.fit(X[rows], y[rows]).decision_function(X)
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_bad_weights_are_refused():
    X, y = _data()
    with pytest.raises(ValueError, match="Negative values"):
        SVC().fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="at least one non-zero"):
        LinearSVC().fit(X, y, sample_weight=np.zeros(len(y)))
    with pytest.raises(ValueError, match="class_weight"):
        SVC(class_weight="heavy").fit(X, y)


def test_platt_sigmoid_is_scikit_learns_x64():
    rng = np.random.default_rng(0)
    f = rng.normal(0.0, 2.0, 500)
    y = rng.random(500) < 1.0 / (1.0 + np.exp(-1.3 * f + 0.4))
    np.testing.assert_allclose(sigmoid_train(f, y), _sigmoid_calibration(f, y.astype(int)),
                               rtol=1e-7)  # fmt: skip
    separated = np.r_[rng.normal(-3, 1, 50), rng.normal(3, 1, 50)]
    labels = np.r_[np.zeros(50), np.ones(50)].astype(int)
    np.testing.assert_allclose(sigmoid_train(separated, labels == 1),
                               _sigmoid_calibration(separated, labels), rtol=1e-7)  # fmt: skip


@pytest.mark.filterwarnings("ignore:The `probability` parameter was deprecated:FutureWarning")
def test_predict_proba_is_close_to_libsvms():
    """Both fit Platt's sigmoid on 5-fold out-of-fold scores; the folds are each one's own.

    Measured: mean |Δp| 0.0018 (max 0.015) against LIBSVM, whose own runs with two seeds
    differ by 0.0015 (max 0.010); scikit-learn 1.9 deprecates ``probability=True`` for
    ``CalibratedClassifierCV(SVC(), ensemble=False)``, the same procedure.
    """
    from sklearn.calibration import CalibratedClassifierCV

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    ours = SVC(probability=True, random_state=0).fit(X, y)
    p = ours.predict_proba(X)[:, 1]
    for ref in (
        SkSVC(probability=True, random_state=0),
        CalibratedClassifierCV(SkSVC(), method="sigmoid", ensemble=False, cv=5),
    ):
        q = ref.fit(X, y).predict_proba(X)[:, 1]
        assert np.mean(np.abs(p - q)) < 0.01 and np.max(np.abs(p - q)) < 0.1
    np.testing.assert_allclose(ours.predict_proba(X).sum(axis=1), 1.0)
    # the same seed, the same folds, the same probabilities
    again = SVC(probability=True, random_state=0).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), ours.predict_proba(X))


def test_predict_proba_needs_probability_and_sums_to_one_for_three_classes():
    X, y = make_classification(
        300, n_features=5, n_informative=4, n_redundant=0, n_classes=3, random_state=0
    )
    assert not hasattr(SVC().fit(X, y), "predict_proba")
    model = SVC(probability=True, random_state=1).fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (300, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.mean(model.classes_[proba.argmax(axis=1)] == model.predict(X)) > 0.95


# ------------------------------------------------------------------ SGD


@pytest.fixture(scope="module")
def raw_logistic():
    """Features near 100 (sd 5-20), unbalanced labels, weights 0.5-3."""
    rng = np.random.default_rng(4)
    n = 2000
    X = rng.normal([100.0, 50.0, 10.0], [5.0, 20.0, 8.0], (n, 3))
    eta = 0.3 * (X[:, 0] - 100) - 0.05 * (X[:, 1] - 50) + 0.1 * (X[:, 2] - 10) - 1.0
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    return X, y, rng.choice([0.5, 1.0, 3.0], n)


def test_weighted_sgd_classifier_reaches_the_weighted_optimum(raw_logistic):
    """J = (1/n) Σ s_i L_i + (α/2)‖w‖² is LogisticRegression's with C = 1/(nα).

    Averaged SGD after 10 epochs (``average`` = 20,000 steps) removes most of the
    per-example noise; the raw-unit intercept b − wᵀx̄ (x̄ near 100) carries the
    coefficients' 0.4% error, hence a relative tolerance for it.
    """
    from sklearn.linear_model import LogisticRegression

    from freqbayes import SGDClassifier

    X, y, s = raw_logistic
    alpha = 1e-3
    ref = LogisticRegression(C=1 / (len(y) * alpha), tol=1e-12, max_iter=10_000)
    ref.fit(X, y, sample_weight=s * np.where(y == 1, 1.0, 2.0))
    model = SGDClassifier(loss="log_loss", alpha=alpha, class_weight={0: 2.0, 1: 1.0},
                          max_iter=300, tol=None, random_state=0, average=20_000)  # fmt: skip
    model.fit(X, y, sample_weight=s)
    np.testing.assert_allclose(model.coef_[0], ref.coef_[0], rtol=0.01)
    assert model.intercept_[0] == pytest.approx(ref.intercept_[0], rel=5e-3)


def test_balanced_class_weight_is_those_sample_weights(raw_logistic):
    from sklearn.utils.class_weight import compute_class_weight

    from freqbayes import SGDClassifier

    X, y, _ = raw_logistic
    cw = compute_class_weight("balanced", classes=np.array([0, 1]), y=y)
    a = SGDClassifier(class_weight="balanced", max_iter=5, tol=None, random_state=1).fit(X, y)
    b = SGDClassifier(max_iter=5, tol=None, random_state=1).fit(X, y, sample_weight=cw[y])
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-6)


def test_weighted_sgd_regressor_reaches_weighted_ridge():
    from sklearn.linear_model import Ridge

    from freqbayes import SGDRegressor

    rng = np.random.default_rng(5)
    X = rng.normal([100.0, 20.0], [10.0, 4.0], (1500, 2))
    y = 3000.0 + 40.0 * X[:, 0] - 25.0 * X[:, 1] + rng.normal(0, 100.0, 1500)
    s = rng.choice([0.0, 1.0, 4.0], 1500)
    alpha = 1e-3
    ref = Ridge(alpha=len(y) * alpha).fit(X, y, sample_weight=s)
    model = SGDRegressor(alpha=alpha, max_iter=300, tol=None, random_state=0)
    model.fit(X, y, sample_weight=s)
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=0.01)
    np.testing.assert_allclose(model.intercept_, ref.intercept_, rtol=0.01)


def test_one_partial_fit_is_one_epoch_of_fit(raw_logistic):
    from freqbayes import SGDClassifier, SGDRegressor

    X, y, s = raw_logistic
    a = SGDClassifier(random_state=3).partial_fit(X, y, classes=[0, 1], sample_weight=s)
    b = SGDClassifier(max_iter=1, tol=None, random_state=3).fit(X, y, sample_weight=s)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    target = X @ [2.0, -1.0, 0.5] + 7.0
    c = SGDRegressor(random_state=3).partial_fit(X, target)
    d = SGDRegressor(max_iter=1, tol=None, random_state=3).fit(X, target)
    np.testing.assert_array_equal(c.coef_, d.coef_)


def test_partial_fit_reaches_the_optimum(raw_logistic):
    """Each call is one epoch of the schedule: 50 calls on the data reach what 50 epochs of
    fit reach; small chunks with a constant step reach the optimum too (within 3%)."""
    from sklearn.linear_model import LogisticRegression

    from freqbayes import SGDClassifier

    X, y, _ = raw_logistic
    best = LogisticRegression(C=1 / (len(y) * 1e-3), tol=1e-12, max_iter=10_000).fit(X, y)
    asgd = {"average": 20_000}  # averaged SGD from the 11th epoch: less per-example noise
    full = SGDClassifier(loss="log_loss", alpha=1e-3, max_iter=50, tol=None, random_state=0,
                         **asgd)  # fmt: skip
    full.fit(X, y)
    passes = SGDClassifier(loss="log_loss", alpha=1e-3, random_state=0, **asgd)
    chunks = SGDClassifier(
        loss="log_loss", alpha=1e-3, learning_rate="constant", eta0=0.01, random_state=0, **asgd
    )
    for _ in range(50):
        passes.partial_fit(X, y, classes=[0, 1])
        for rows in np.array_split(np.arange(len(y)), 10):
            chunks.partial_fit(X[rows], y[rows], classes=[0, 1])
    np.testing.assert_allclose(passes.coef_, full.coef_, rtol=0.02)
    np.testing.assert_allclose(full.coef_, best.coef_, rtol=0.03)
    np.testing.assert_allclose(chunks.coef_, best.coef_, rtol=0.05)
    assert passes.n_iter_ == 1 and len(passes.loss_curve_) == 51  # n_iter_: the last call's


def test_partial_fit_goes_on_after_fit_and_checks_classes(raw_logistic):
    from freqbayes import SGDClassifier

    X, y, _ = raw_logistic
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        SGDClassifier().partial_fit(X, y)
    model = SGDClassifier(max_iter=3, tol=None, random_state=0).fit(X, y)
    model.partial_fit(X, y)
    assert model.n_iter_ == 1 and len(model.loss_curve_) == 5
    with pytest.raises(ValueError, match="classes not in classes"):
        model.partial_fit(X[:5], np.array([0, 1, 2, 0, 1]))
    with pytest.raises(ValueError, match="differ from the first call"):
        model.partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="early_stopping should be False with partial_fit"):
        SGDClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1])


@pytest.mark.parametrize(
    "weight",
    [None, 2.5, 3, [1, 0, 2.5, 4], np.array([0.5, 1.0, 0.0, 2.0], np.float32)],
)
def test_sample_weights_are_scikit_learns(weight):
    """The base's own check of sample_weight gives scikit-learn's weights (a new array)."""
    from sklearn.utils.validation import _check_sample_weight

    from freqbayes.inference.learners.base import sample_weights

    X = np.zeros((4, 2))
    ours = sample_weights(weight, 4)
    want = _check_sample_weight(weight, X, dtype=np.float64, ensure_non_negative=True)
    assert ours.dtype == np.float64 and ours is not weight
    np.testing.assert_array_equal(ours, want)


@pytest.mark.parametrize(
    "weight", [[1.0, 2.0], np.ones((4, 1)), [1, -1, 1, 1], [1, np.nan, 1, 1], [0, 0, 0, 0], 0.0]
)
def test_bad_sample_weights_are_refused_as_scikit_learn_refuses_them(weight):
    from sklearn.utils.validation import _check_sample_weight

    from freqbayes.inference.learners.base import sample_weights

    with pytest.raises(ValueError):
        _check_sample_weight(weight, np.zeros((4, 2)), ensure_non_negative=True)
    with pytest.raises(ValueError):
        sample_weights(weight, 4)
