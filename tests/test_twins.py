"""The SVM's twin (a GP classifier) and the curse's twin (a horseshoe prior): issue 14.

Laplace against scikit-learn's GaussianProcessClassifier and against the generic
Laplace fit of the same NumPyro program; NUTS on the GP classifier; bad input named.
The horseshoe's accuracy beside 3-NN at d = 1,000 and both twins' r̂ on the report's
data are checked on the quick report (tests/test_showcase.py).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_moons
from sklearn.gaussian_process import GaussianProcessClassifier as SkGPC
from sklearn.gaussian_process.kernels import RBF, ConstantKernel
from sklearn.utils.estimator_checks import parametrize_with_checks

from freqbayes import SVC, GaussianProcessClassifier
from freqbayes.inference import fit
from freqbayes.inference.probabilistic import gp as G
from freqbayes.models.probabilistic.gp import gp_classifier, gp_data
from freqbayes.models.probabilistic.priors import Horseshoe


def raw_moons(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The moons in raw units: a width near 100 and a spread of tens."""
    X, y = make_moons(n, noise=0.2, random_state=seed)
    return X * [40.0, 25.0] + [100.0, 60.0], y


def _sklearn(X, y, gamma, scale):
    kernel = ConstantKernel(scale**2, "fixed") * RBF(1.0 / np.sqrt(2.0 * gamma), "fixed")
    return SkGPC(kernel, optimizer=None).fit(X, y)


@pytest.mark.parametrize("scale", [1.0, 4.0, 16.0, 64.0])
def test_laplace_matches_sklearn_on_raw_units(scale):
    """Same kernel, fixed: predicted probabilities within 1e-6 (the issue asks 1e-3).

    At s = 64 the float32 version had differed by 0.84 (why the class computes in float64).
    """
    X, y = raw_moons()
    gamma = SVC().fit(X, y)._gamma
    ours = GaussianProcessClassifier(gamma, scale).fit(X, y)
    ref = _sklearn(X, y, gamma, scale)
    grid = np.random.default_rng(1).uniform(X.min(0) - 30, X.max(0) + 30, (2000, 2))
    np.testing.assert_allclose(ours.predict_proba(grid), ref.predict_proba(grid), atol=1e-6)
    assert ours.log_marginal_likelihood_value_ == pytest.approx(
        ref.log_marginal_likelihood_value_, rel=1e-8
    )
    assert ours.converged_
    np.testing.assert_array_equal(ours.predict(grid), ref.predict(grid))


def test_expected_sigmoid_is_the_gaussian_integral():
    """Williams & Barber's erf sum against quadrature: within 5e-4 (measured 4.3e-4)."""
    from scipy.integrate import quad
    from scipy.special import expit

    def exact(m: float, v: float) -> float:
        sd = np.sqrt(v)
        density = lambda f: expit(f) * np.exp(-((f - m) ** 2) / (2 * v))  # noqa: E731
        return quad(density, m - 40 * sd, m + 40 * sd, limit=200)[0] / np.sqrt(2 * np.pi * v)

    worst = max(
        abs(float(G.expected_sigmoid(m, v)) - exact(m, v))
        for m in np.linspace(-6, 6, 13)
        for v in (0.01, 1.0, 25.0)
    )
    assert worst < 5e-4


def test_generic_laplace_of_the_program_is_algorithm_3_1():
    """The Laplace fit of the NumPyro program (in z, f = s L z) has the same mode as R&W's
    Newton iteration in f: a linear change of variables moves the mode with it."""
    X, y = raw_moons(120)
    gamma, scale = SVC().fit(X, y)._gamma, 2.0
    ours = GaussianProcessClassifier(gamma, scale).fit(X, y)
    data = gp_data(X, y, gamma=gamma, scale=scale)
    tree = fit(gp_classifier, "map", data)
    z = tree.posterior["z"].values.reshape(-1)
    f = scale * data["chol"] @ z
    np.testing.assert_allclose(f, ours.f_, atol=2e-3 * np.abs(ours.f_).max())


def test_nuts_on_the_gp_mixes_and_agrees_with_laplace_where_data_are_dense():
    X, y = raw_moons(150)
    gamma, scale = SVC().fit(X, y)._gamma, 2.0
    data = gp_data(X, y, gamma=gamma, scale=scale)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # r̂, ESS and divergences checked by fit
        tree = fit(gp_classifier, "nuts", data, seed=0, num_warmup=1000, num_samples=1000,
                   progress=False)  # fmt: skip
    import arviz_stats as az

    assert float(az.rhat(tree)["z"].max()) <= 1.01
    assert int(tree.sample_stats["diverging"].sum()) == 0
    from freqbayes.lessons.gp import posterior_probability

    p_nuts, sd = posterior_probability(tree, data, X, gamma)
    p_lap = GaussianProcessClassifier(gamma, scale).fit(X, y).predict_proba(X)[:, 1]
    # with s = 2 the posterior is close to Gaussian: the two agree at the training points
    assert np.max(np.abs(p_nuts - p_lap)) < 0.05
    # far from the data the latent's sd returns to its prior sd s
    far = X.max(0) + 20 / np.sqrt(gamma)
    _, sd_far = posterior_probability(tree, data, far[None], gamma)
    assert sd_far[0] == pytest.approx(scale, rel=0.05)
    assert sd.max() < scale


def test_latent_from_draws_is_the_gp_conditional():
    """At the training points themselves f* | f is f (up to the jitter ε = 1e-6, whose
    effect grows with K's condition number: γ here makes K well conditioned)."""
    X, y = raw_moons(60)
    data = gp_data(X, y, gamma=0.02, scale=3.0)
    z = np.random.default_rng(0).standard_normal((5, len(X)))
    mean, var = G.latent_from_draws(z, data["chol"], X, X, 0.02, 3.0)
    np.testing.assert_allclose(mean, 3.0 * z @ data["chol"].T, atol=1e-3)
    assert var.max() < 1e-3


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda X, y: gp_data(np.where(X > 120, np.nan, X), y, gamma=1.0), "NaN"),
        (lambda X, y: gp_data(X, y + 1, gamma=1.0), r"labels in \{0, 1\}"),
        (lambda X, y: gp_data(X, y[:-1], gamma=1.0), "rows"),
        (lambda X, y: gp_data(X, y, gamma=0.0), "gamma must be"),
        (lambda X, y: gp_data(X, y, gamma=1.0, scale=-1.0), "scale must be"),
        (lambda X, y: GaussianProcessClassifier().fit(X, y % 3 + (X[:, 0] > 110)), "binary"),
        (lambda X, y: GaussianProcessClassifier(gamma="wide").fit(X, y), "gamma must be"),
        (lambda X, y: GaussianProcessClassifier(scale=0).fit(X, y), "scale must be"),
        (
            lambda X, y: fit("logistic", "nuts", (X, y), priors={"beta_prior": Horseshoe(2.0)}),
            "relevant",
        ),
        (
            lambda X, y: fit(gp_classifier, "nuts", gp_data(X, y, gamma=1.0), whitened="no"),
            "whitened must be",
        ),
    ],
)
def test_bad_input_is_named(make, message):
    X, y = raw_moons(40)
    with pytest.raises(ValueError, match=message):
        make(X, y)


@parametrize_with_checks([GaussianProcessClassifier()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("scale", [1.0, 4.0])
def test_laplace_mode_is_kernel_logistic_regression_with_the_rkhs_penalty_x64(scale):
    """The GP's MAP = argmin Σ log(1 + e^(−y f)) + ½ αᵀKα / s² over f = Kα (issue 23).

    Computed independently: scipy's trust-region Newton on α with the exact gradient
    K(−y σ(−y f) + α/s²) and Hessian K W K + K/s², on raw-unit moons; the Laplace mode
    (R&W Algorithm 3.1) must agree within 1e-6, and its α = s²(y − π̂) reproduce f̂.
    """
    from scipy.optimize import minimize
    from scipy.special import expit

    from freqbayes.lessons.gp import rkhs_objectives
    from freqbayes.models.probabilistic.gp import rbf

    X, y = raw_moons(60, seed=3)
    gamma = SVC().fit(X, y)._gamma
    K = rbf(X, X, gamma)
    sign = np.where(y == 1, 1.0, -1.0)
    s2 = scale**2

    def objective(a):
        f = K @ a
        value = np.sum(np.logaddexp(0.0, -sign * f)) + 0.5 * a @ K @ a / s2
        grad = K @ (-sign * expit(-sign * f) + a / s2)
        return value, grad

    def hessian(a):
        f = K @ a
        w = expit(f) * expit(-f)
        return K @ (w[:, None] * K) + K / s2

    opt = minimize(objective, np.zeros(len(X)), jac=True, hess=hessian, method="trust-exact",
                   options={"gtol": 1e-12})  # fmt: skip
    mode = GaussianProcessClassifier(gamma, scale).fit(X, y).f_
    np.testing.assert_allclose(mode, K @ opt.x, atol=1e-6)
    table = rkhs_objectives(X, y, gamma, C=s2).set_index("fit")
    gp_row, svm_row = table.loc["GP MAP (Laplace mode)"], table.loc["SVM"]
    assert gp_row["J_log"] == pytest.approx(opt.fun, rel=1e-9)
    # each fit minimises its own objective: the log loss the GP's, the hinge the SVM's
    assert gp_row["J_log"] < svm_row["J_log"]
    assert svm_row["J_hinge"] < gp_row["J_hinge"]


def test_when_every_coordinate_matters_knn_and_the_linear_fit_both_degrade():
    """Issue 23: the §5.11.1 task (label Σ_j (x_j − ½) > 0) has nothing to discard.

    3-NN falls towards chance and even the L2 logistic regression, whose linear
    assumption is right, loses accuracy with n = 200 fixed (measured: 3-NN 0.964 -> 0.534,
    L2 0.974 -> 0.626 from d = 2 to 1,000). No NUTS here (fitted=()): seconds.
    """
    from freqbayes.lessons.curse import curse_of_dimensionality, horseshoe_twin, label

    X = np.random.default_rng(0).uniform(size=(50, 7))
    np.testing.assert_array_equal(label(X, "all"), X.sum(axis=1) > 3.5)
    with pytest.raises(ValueError, match="task must be one of"):
        label(X, "some")
    t, _ = horseshoe_twin(0, dims=(2, 1000), fitted=(), task="all")
    t = t.set_index("d")
    assert t.loc[2, "knn3_accuracy"] > 0.9 > 0.6 > t.loc[1000, "knn3_accuracy"]
    assert t.loc[1000, "l2_logistic_accuracy"] < t.loc[2, "l2_logistic_accuracy"] - 0.25
    curse = curse_of_dimensionality(0, dims=(2, 1000), queries=10).set_index("d")
    assert curse.loc[2, "knn_accuracy_all"] > 0.9 > 0.6 > curse.loc[1000, "knn_accuracy_all"]
