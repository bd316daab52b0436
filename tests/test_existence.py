"""Estimates that do not exist are named, before any fitting; the ones that exist are right."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest

from freqbayes.inference import (
    ConvergenceError,
    DegenerateError,
    EstimateError,
    NotIdentifiedError,
    SeparationError,
    fit,
    laplace,
    map_estimate,
    mle,
    nuts,
    prepare,
)
from freqbayes.models import data as D
from freqbayes.models import existence
from freqbayes.models import priors as P

from .test_units import newton_map

SMALL = {"num_warmup": 300, "num_samples": 300}


def point(tree, name):
    return np.asarray(tree.posterior[name].values[0, 0], dtype=float)


# ------------------------------------------------------------------ logistic


@pytest.fixture(scope="module")
def single_class():
    X = np.random.default_rng(0).normal(size=(40, 2))
    return D.Dataset("all-zero", np.zeros(40), X, ("x1", "x2"))


def test_single_class_logistic_mle_is_a_separation_case(single_class):
    with pytest.raises(SeparationError, match="every one of the 40 labels is 0"):
        mle("logistic", single_class)


def test_single_class_logistic_map_is_the_exact_map(single_class):
    priors = prepare("logistic", single_class).priors
    b, beta, _, _ = newton_map(
        single_class.X,
        single_class.y,
        np.asarray(priors["beta_prior"].scale),
        priors["intercept_prior"].loc,
        priors["intercept_prior"].scale,
    )
    tree = map_estimate("logistic", single_class)
    assert point(tree, "intercept") == pytest.approx(b, rel=1e-3)
    np.testing.assert_allclose(point(tree, "beta"), beta, atol=1e-3)
    assert b < -3  # the prior keeps it finite; the data push it down


def test_single_class_logistic_posterior_is_proper(single_class):
    tree = nuts("logistic", single_class, seed=0, **SMALL)
    s = az.summary(tree, round_to="none")
    assert s["r_hat"].max() < 1.02
    assert s.loc["intercept", "mean"] < -3


def test_flat_priors_on_separated_data_have_no_map_or_posterior(single_class):
    flat = {"intercept_prior": P.Flat()}
    with pytest.raises(SeparationError, match="there is no MAP"):
        map_estimate("logistic", single_class, priors=flat)
    for method in ("nuts", "laplace", "svi"):
        with pytest.raises(SeparationError, match="the posterior is improper"):
            fit("logistic", single_class, method, priors=flat)


def test_quasi_complete_separation_is_detected():
    """x ≤ 0 → y = 0 and x ≥ 0 → y = 1, with both labels at x = 0: quasi-complete."""
    x = np.r_[np.linspace(-2, 0, 10), np.linspace(0, 2, 10)]
    y = np.r_[np.zeros(10), np.ones(10)]
    assert existence.separation(x[:, None], y, intercept=True) == "quasi-complete"
    with pytest.raises(SeparationError, match="quasi-completely separated"):
        mle("logistic", D.Dataset("quasi", y, x[:, None]))
    y_strict = (x > 0).astype(float)
    y_strict[9] = 0.0  # the x = 0 points are both 0 → a threshold just above 0 separates
    assert existence.separation(x[:, None], y_strict, intercept=True) == "complete"


def test_overlapping_classes_are_not_separated():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 3))
    y = (rng.random(300) < 1 / (1 + np.exp(-X[:, 0]))).astype(float)
    assert existence.separation(X, y, intercept=True) is None
    assert np.isfinite(point(mle("logistic", D.Dataset("overlap", y, X)), "beta")).all()


# ------------------------------------------------------------------ linear


def test_p_greater_than_n_mle_is_not_unique():
    rng = np.random.default_rng(2)
    ds = D.Dataset("wide", rng.normal(size=5), rng.normal(size=(5, 20)))
    with pytest.raises(NotIdentifiedError, match="MLE is not unique"):
        mle("linear", ds)
    # σ → 0 fits the 5 points exactly, so the joint MAP of (θ, σ) does not exist either
    with pytest.raises(DegenerateError, match="there is no MAP"):
        map_estimate("linear", ds)
    # with an inverse-gamma prior on σ² it does, and the posterior is proper regardless
    ig = {"sigma_prior": P.InverseGamma(3.0, 2.0)}
    assert np.isfinite(point(map_estimate("linear", ds, priors=ig), "beta")).all()
    tree = nuts("linear", ds, seed=0, **SMALL)
    assert np.isfinite(tree.posterior["beta"].values).all()


def test_collinear_columns_mle_is_not_unique_but_map_is():
    rng = np.random.default_rng(3)
    x = rng.normal(size=50)
    X = np.column_stack([x, 2 * x, rng.normal(size=50)])
    ds = D.Dataset("collinear", x + rng.normal(size=50), X)
    with pytest.raises(NotIdentifiedError, match="rank 3"):
        mle("linear", ds)
    assert np.isfinite(point(map_estimate("linear", ds), "beta")).all()
    with pytest.raises(NotIdentifiedError, match="the posterior is improper"):
        nuts("linear", ds, priors={"beta_prior": P.Flat()})


# ------------------------------------------------------------------ Gaussian


def test_gaussian_with_one_observation():
    one = D.Dataset("one", np.array([5.3]))
    with pytest.raises(DegenerateError, match=r"MLE of σ is 0 \(n = 1\)"):
        mle("gaussian", one)
    with pytest.raises(DegenerateError, match="there is no MAP"):
        map_estimate("gaussian", one)
    # n = 1 with proper priors: the posterior is proper (the prior carries it)
    tree = nuts("gaussian", one, seed=0, **SMALL)
    assert np.isfinite(tree.posterior["sigma"].values).all()


def test_gaussian_with_constant_data():
    const = D.Dataset("constant", np.full(6, 2.5))
    with pytest.raises(DegenerateError, match="the data are constant"):
        mle("gaussian", const)
    with pytest.raises(DegenerateError, match="the posterior is improper"):
        laplace("gaussian", const)
    # an inverse-gamma prior on σ² vanishes fast enough at 0: MAP and posterior exist
    ig = {"sigma_prior": P.InverseGamma(2.0, 1.0)}
    tree = map_estimate("gaussian", const, priors=ig)
    assert point(tree, "mu") == pytest.approx(2.5, rel=1e-4)
    assert point(tree, "sigma") > 0


def test_every_named_error_is_an_estimate_error():
    for cls in (SeparationError, NotIdentifiedError, DegenerateError):
        assert issubclass(cls, EstimateError) and issubclass(cls, ValueError)
    assert not issubclass(ConvergenceError, ValueError)


# ------------------------------------------------------------------ convergence


def test_an_unconverged_fit_raises_unless_kept():
    ds = D.diabetes()
    with pytest.raises(ConvergenceError, match="did not converge: after 1 L-BFGS iterations"):
        map_estimate("linear", ds, max_iter=1)
    tree = map_estimate("linear", ds, max_iter=1, allow_unconverged=True)
    import json

    settings = json.loads(tree.attrs["settings"])
    assert settings["converged"] is False and settings["iterations"] == 1


def test_svi_whose_elbo_gradient_has_not_vanished_raises():
    """Every run ends with a flat loss (the step size decays); the ELBO gradient tells."""
    ds = D.breast_cancer()
    with pytest.raises(ConvergenceError, match="standard errors from 0"):
        fit("logistic", ds, "svi-fullrank", num_steps=300)
    import json

    kept = fit("logistic", ds, "svi-fullrank", num_steps=300, allow_unconverged=True)
    assert json.loads(kept.attrs["settings"])["converged"] is False
