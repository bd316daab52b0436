"""Minibatch SGD (§5.9): the gradient estimate, convergence to the MLE, parity, estimator checks."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.linear_model import SGDClassifier as SkSGD
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from freqbayes import SGDClassifier, SGDRegressor
from freqbayes.inference.learners import plain_sgd, sgd


@pytest.fixture(scope="module")
def logistic_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 5))
    eta = X @ np.array([1.0, -0.5, 0.25, 0.0, 2.0]) + 0.3
    y = (rng.random(20_000) < 1 / (1 + np.exp(-eta))).astype(float)
    return X, y


def test_minibatch_gradient_is_unbiased(logistic_data, strict_promotion):
    """Eq. 5.98: averaged over a partition into minibatches, g is exactly the full gradient;
    a random minibatch's g has the full gradient as its mean."""
    X, y = logistic_data
    X, s = (
        jnp.asarray(X[:1024], dtype=jnp.float32),
        jnp.asarray(2 * y[:1024] - 1, dtype=jnp.float32),
    )
    params = (
        jnp.array([0.3, -0.2, 0.1, 0.5, -0.4], dtype=jnp.float32),
        jnp.array(0.1, dtype=jnp.float32),
    )
    ones = jnp.ones(1024, dtype=jnp.float32)
    full = sgd.minibatch_gradient("log_loss", params, X, s, ones, 0.01)
    perm = jax.random.permutation(jax.random.key(0), 1024).reshape(8, 128)
    batches = jax.vmap(
        lambda i: sgd.minibatch_gradient("log_loss", params, X[i], s[i], ones[i], 0.01)
    )(perm)
    np.testing.assert_allclose(batches[0].mean(axis=0), full[0], rtol=1e-5, atol=1e-7)
    # random minibatches with replacement: mean within 4 standard errors of the full gradient
    idx = jax.random.randint(jax.random.key(1), (2000, 128), 0, 1024)
    draws = jax.vmap(
        lambda i: sgd.minibatch_gradient("log_loss", params, X[i], s[i], ones[i], 0.01)
    )(idx)
    se = np.asarray(draws[0].std(axis=0)) / np.sqrt(2000)
    assert np.all(np.abs(np.asarray(draws[0].mean(axis=0) - full[0])) <= 4 * se)


#: α = 0 needs a schedule other than scikit-learn's default "optimal" (η = 1/(α(t₀ + t)));
#: averaged SGD from the second epoch on (``average`` = n steps) reaches the optimum.
TO_THE_OPTIMUM = {"learning_rate": "invscaling", "eta0": 0.5, "average": 20_000}


def test_logistic_sgd_reaches_the_mle(logistic_data):
    X, y = logistic_data
    mle = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(X, y)
    model = SGDClassifier(
        loss="log_loss", alpha=0.0, max_iter=50, tol=None, random_state=0, **TO_THE_OPTIMUM
    ).fit(X, y)
    err = np.linalg.norm(model.coef_[0] - mle.coef_[0]) / np.linalg.norm(mle.coef_[0])
    assert err <= 0.01, err
    assert model.intercept_[0] == pytest.approx(mle.intercept_[0], abs=0.01)
    # the full cost J (eq. 5.96: the mean log loss, α = 0) ended within 1e-4 of its minimum,
    # J at the MLE, and not below it
    p = mle.predict_proba(X)[:, 1]
    j_min = -np.mean(y * np.log(p) + (1 - y) * np.log1p(-p))
    gap = model.loss_curve_[-1, 0] - j_min
    assert -1e-6 <= gap <= 1e-4 * j_min, (model.loss_curve_[-1, 0], j_min)
    assert model.loss_curve_[-1, 0] < 0.9 * model.loss_curve_[0, 0]


def test_sgd_regressor_reaches_least_squares():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(5000, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 1.0 + 0.5 * rng.normal(size=5000)
    ols = LinearRegression().fit(X, y)
    model = SGDRegressor(alpha=0.0, max_iter=60, tol=None, random_state=0).fit(X, y)
    np.testing.assert_allclose(model.coef_, ols.coef_, atol=0.01)
    assert model.intercept_ == pytest.approx(ols.intercept_, abs=0.01)


@pytest.mark.parametrize("loss", ["hinge", "log_loss"])
def test_accuracy_close_to_sklearn_on_breast_cancer(loss):
    X, y = load_breast_cancer(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0)
    scaler = StandardScaler().fit(Xtr)
    Xtr, Xte = scaler.transform(Xtr), scaler.transform(Xte)
    ours = SGDClassifier(loss=loss, random_state=0).fit(Xtr, ytr).score(Xte, yte)
    ref = SkSGD(loss=loss, random_state=0).fit(Xtr, ytr).score(Xte, yte)
    assert ours >= ref - 0.03, (ours, ref)


def test_one_vs_rest_fits_every_class_at_once():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    # 150 rows: one full-size batch per epoch and a constant rate converge in 2000 epochs
    # (one-vs-rest LogisticRegression with the same penalty scores 0.967 here).
    model = SGDClassifier(
        loss="log_loss",
        learning_rate="constant",
        eta0=0.5,
        batch_size=150,
        max_iter=2000,
        tol=None,
        random_state=0,
    ).fit(X, y)
    assert model.coef_.shape == (3, 4)
    assert model.loss_curve_.shape == (2001, 3)
    assert model.score(X, y) >= 0.93
    np.testing.assert_allclose(model.predict_proba(X).sum(axis=1), 1.0)


def test_trajectory_and_schedules():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(1000, 3))
    Y = (X @ np.array([1.0, 2.0, -1.0]))[:, None]
    result = sgd.fit(
        jax.random.key(0),
        X,
        Y,
        loss="squared_error",
        alpha=0.0,
        schedule="cosine",
        eta0=0.1,
        max_epochs=5,
        tol=None,
    )
    assert result.trajectory[0].shape == (6, 1, 3)
    assert result.losses.shape == (6, 1)
    assert result.losses[-1, 0] < 0.05 * result.losses[0, 0]  # measured 0.012
    assert float(sgd.learning_rate("cosine", 0.1, jnp.asarray(50), 10, 50)) == pytest.approx(
        0.0, abs=1e-9
    )
    assert float(sgd.learning_rate("inverse", 0.1, jnp.asarray(10), 10, 50)) == pytest.approx(0.05)


def test_the_cosine_schedule_is_optaxs():
    """The cosine schedule is optax's to the bit (optax has no inverse-time one)."""
    import optax

    t = jnp.arange(0, 1300)
    for eta0, total in [(0.1, 50), (0.37, 1234)]:
        ours = sgd.learning_rate("cosine", eta0, t, 10, total)
        np.testing.assert_array_equal(ours, optax.cosine_decay_schedule(eta0, total)(t))


def test_repeated_fits_do_not_recompile(logistic_data):
    """New seeds, α, η₀, tol and a few rows fewer (padding) reuse the compiled program."""
    X, y = logistic_data
    SGDClassifier(loss="log_loss", max_iter=2, tol=None, random_state=0).fit(X, y)
    before = plain_sgd.run._cache_size()
    for seed, alpha, rows in ((1, 1e-3, 20_000), (2, 1e-2, 19_990)):
        SGDClassifier(loss="log_loss", alpha=alpha, max_iter=2, tol=None, random_state=seed).fit(
            X[:rows], y[:rows]
        )
    assert plain_sgd.run._cache_size() == before


def test_same_seed_same_result(logistic_data):
    X, y = logistic_data
    a = SGDClassifier(max_iter=3, random_state=3).fit(X, y)
    b = SGDClassifier(max_iter=3, random_state=3).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)


@pytest.mark.parametrize(
    ("kwargs", "X", "y", "message"),
    [
        ({}, np.ones((4, 2)), [1, 1, 1, 1], "only one class"),
        ({}, np.array([[np.nan, 1.0], [0.0, 1.0]]), [0, 1], "Input X contains NaN"),
        ({}, np.ones((3, 2)), [0, 1], "inconsistent numbers of samples"),
        ({"loss": "absolute_error"}, np.ones((2, 2)), [0, 1], "loss must be one of"),
        ({"alpha": -1.0}, np.ones((2, 2)), [0, 1], "alpha must be a number >= 0"),
        ({"alpha": 0.0}, np.ones((2, 2)), [0, 1], "alpha must be > 0 since learning_rate is"),
        ({"eta0": 0.0}, np.ones((2, 2)), [0, 1], "eta0 must be a number > 0"),
        ({"learning_rate": "cosine"}, np.ones((2, 2)), [0, 1], "learning_rate must be one of"),
        ({"learning_rate": "pa1", "loss": "log_loss"}, np.ones((2, 2)), [0, 1], "only works"),
        ({"penalty": "l3"}, np.ones((2, 2)), [0, 1], "penalty must be"),
        ({"batch_size": 0}, np.ones((2, 2)), [0, 1], "batch_size must be an integer"),
    ],
)
def test_bad_input(kwargs, X, y, message):
    with pytest.raises(ValueError, match=message):
        SGDClassifier(**kwargs).fit(X, y)


#: As for scikit-learn's own SGD (its PER_ESTIMATOR_XFAIL_CHECKS): the order of the steps
#: differs when rows are repeated, so weights equal repeats only in expectation
#: (test_learner_weights.py checks the weighted optimum instead).
STOCHASTIC = {"check_sample_weight_equivalence_on_dense_data": "stochastic order of steps"}
#: The check fixes random_state=0 and asks for ≥ 87% of class 0 under weights 1000 : 10⁻⁴ on
#: 3 blobs: with the log loss, seeds 0–7 of the host-drawn order gave 0.86, 1, 1, 0.84, 1,
#: 0.92, 1, 1 (one draw of a noisy fit, not a property of the class weights).
LOG_LOSS_SEED = {"check_class_weight_classifiers": "one noisy draw: 0.86 at the check's seed 0"}


@parametrize_with_checks(
    [
        SGDClassifier(random_state=0),
        SGDClassifier(loss="log_loss", random_state=0),
        SGDRegressor(random_state=0),
    ],
    expected_failed_checks=lambda estimator: (
        STOCHASTIC | LOG_LOSS_SEED if estimator.loss == "log_loss" else STOCHASTIC
    ),
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# ---------------------------------------------------------- raw units, overflow, convergence


def test_sgd_regressor_reaches_least_squares_on_raw_data():
    """Features with means near 100, a target in the thousands: the same OLS answer."""
    rng = np.random.default_rng(4)
    X = np.column_stack([rng.normal(100, 15, 5000), rng.normal(2000, 300, 5000)])
    y = 500 + X @ np.array([3.0, 1.5]) + rng.normal(0, 40, 5000)
    ols = LinearRegression().fit(X, y)
    model = SGDRegressor(alpha=0.0, max_iter=60, tol=None, random_state=0).fit(X, y)
    # SGD's noise after 60 epochs: 0.1–0.8% off OLS in the first coefficient over seeds 0–5
    np.testing.assert_allclose(model.coef_, ols.coef_, rtol=1e-2)
    assert model.intercept_ == pytest.approx(ols.intercept_, rel=2e-2)
    # the same fit in other units: coefficients scale as they must
    milli = SGDRegressor(alpha=0.0, max_iter=60, tol=None, random_state=0).fit(X * 1e-3, y)
    np.testing.assert_allclose(milli.coef_ * 1e-3, model.coef_, rtol=1e-4)


def test_logistic_sgd_on_raw_features_reaches_the_mle():
    rng = np.random.default_rng(5)
    X = np.column_stack([rng.normal(100, 15, 20_000), rng.normal(-40, 4, 20_000)])
    eta = -6 + 0.05 * X[:, 0] - 0.02 * X[:, 1]
    y = (rng.random(20_000) < 1 / (1 + np.exp(-eta))).astype(float)
    mle = LogisticRegression(C=np.inf, tol=1e-10, max_iter=10_000).fit(
        (X - X.mean(0)) / X.std(0), y
    )
    coef = mle.coef_[0] / X.std(0)
    model = SGDClassifier(
        loss="log_loss", alpha=0.0, max_iter=50, tol=None, random_state=0, **TO_THE_OPTIMUM
    ).fit(X, y)
    np.testing.assert_allclose(model.coef_[0], coef, rtol=0.02)


@pytest.mark.parametrize("factor", [1e20, 1e-25])
def test_data_whose_squares_overflow_or_underflow_are_refused(factor):
    rng = np.random.default_rng(6)
    X = rng.normal(size=(100, 3)) * factor
    y = X @ np.ones(3) + rng.normal(size=100) * factor
    with pytest.raises(ValueError, match=r"their squares (overflow|underflow) float32"):
        SGDRegressor().fit(X, y)
    with pytest.raises(ValueError, match=r"^y has (values up to|no value larger than)"):
        SGDRegressor().fit(X / factor, y)


def test_convergence_is_recorded_and_warned():
    from sklearn.exceptions import ConvergenceWarning

    X, y = load_iris(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match="stopping rule .* did not fire in 2 epochs"):
        short = SGDClassifier(loss="log_loss", max_iter=2, random_state=0).fit(X, y)
    assert short.converged_ is False and short.grad_norm_.shape == (3,)
    done = SGDClassifier(loss="log_loss", max_iter=1000, random_state=0).fit(X, y)
    assert done.converged_ is True and done.n_iter_ < 1000
    assert SGDClassifier(max_iter=3, tol=None, random_state=0).fit(X, y).converged_ is None


# ---------------------------------------------------------- scikit-learn's plain SGD, exactly

#: Without shuffling both libraries visit the rows in one order, so the iterates agree to
#: rounding where the steps are stable: hinge and L1 truncation are piecewise linear; the
#: smooth losses with a small constant step. (With "optimal" steps on the smooth losses,
#: η‖x‖² ≫ 2 early on and rounding grows: 1e-12 after one epoch, 6e-7 after five.) Not
#: compared: averaging with an L1 part, where ours is the mean of the iterates and
#: scikit-learn's lazy mean leaves out the truncations (9e-5 apart on diabetes); and where
#: early stopping ends a classifier: scikit-learn scores the held-out rows with w/wscale (its
#: weight vector before the lazy L2 scale: ×3.56 by epoch 5 on breast cancer) beside the intercept,
#: so it stopped after 8 epochs where the true held-out scores stop after 10.
STEP_FOR_STEP = [
    ("SGDClassifier", "cancer", {}),
    ("SGDClassifier", "cancer", {"penalty": "l1", "alpha": 1e-3}),
    ("SGDClassifier", "cancer",
     {"loss": "log_loss", "learning_rate": "constant", "eta0": 3e-3, "penalty": "elasticnet"}),
    ("SGDClassifier", "iris", {"loss": "modified_huber", "learning_rate": "adaptive",
                               "eta0": 3e-3, "class_weight": "balanced"}),
    ("SGDRegressor", "diabetes", {"average": 100}),
    ("SGDRegressor", "diabetes", {"loss": "epsilon_insensitive", "learning_rate": "pa2"}),
    # early stopping: scikit-learn's split of the same random_state, trained on the rest
    ("SGDClassifier", "cancer", {"early_stopping": True, "random_state": 1, "tol": None,
                                 "max_iter": 8}),
    ("SGDRegressor", "diabetes", {"early_stopping": True, "random_state": 1, "tol": 1e-4}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "data", "kwargs"), STEP_FOR_STEP)
def test_plain_sgd_is_scikit_learns_step_for_step_x64(name, data, kwargs):
    from sklearn import linear_model
    from sklearn.datasets import load_diabetes

    X, y = {"cancer": load_breast_cancer, "iris": load_iris, "diabetes": load_diabetes}[data](
        return_X_y=True
    )
    X = StandardScaler().fit_transform(X)
    if name == "SGDRegressor":
        y = y - y.mean()  # ours starts the intercept at ȳ: the same start
    ours = getattr(sgd, name)(shuffle=False, **kwargs).fit(X, y)
    ref = getattr(linear_model, name)(shuffle=False, **kwargs).fit(X, y)
    assert (ours.n_iter_, ours.t_) == (ref.n_iter_, ref.t_)
    scale = np.max(np.abs(ref.coef_))
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-9 * scale)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-9 * max(scale, 1.0))
