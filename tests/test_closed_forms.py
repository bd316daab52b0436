"""Closed-form references checked against independent computations (no sampling)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate
from sklearn.linear_model import LinearRegression, Ridge

from freqbayes.models import gaussian, linear
from freqbayes.models import priors as P


def test_gaussian_mle_is_mean_and_biased_variance(rng):
    x = rng.normal(3.0, 2.0, size=37)
    fit = gaussian.mle(x)
    assert fit.mu == pytest.approx(np.mean(x))
    assert fit.var == pytest.approx(np.sum((x - x.mean()) ** 2) / 37)
    assert fit.var == pytest.approx(fit.var_unbiased * 36 / 37)
    assert fit.sigma == pytest.approx(np.std(x))


def test_nig_posterior_matches_numerical_integration(rng):
    """Posterior means of μ and σ² by 2-D quadrature of prior × likelihood."""
    x = rng.normal(1.0, 0.7, size=12)
    prior = gaussian.NIG(loc=0.5, kappa=2.0, alpha=3.0, beta=2.0)
    post = gaussian.nig_posterior(x, prior)

    def log_joint(mu, s2):
        lp = -(prior.alpha + 1) * np.log(s2) - prior.beta / s2
        lp += -0.5 * np.log(s2) - prior.kappa * (mu - prior.loc) ** 2 / (2 * s2)
        return lp - 0.5 * x.size * np.log(s2) - np.sum((x - mu) ** 2) / (2 * s2)

    ref = log_joint(post.loc, post.beta / (post.alpha + 1))

    def moment(f):
        return integrate.dblquad(
            lambda s2, mu: f(mu, s2) * np.exp(log_joint(mu, s2) - ref), -3, 5, 1e-4, 6
        )[0]

    z = moment(lambda mu, s2: 1.0)
    assert moment(lambda mu, s2: mu) / z == pytest.approx(post.mu_marginal().mean(), rel=1e-5)
    assert moment(lambda mu, s2: s2) / z == pytest.approx(post.var_marginal().mean(), rel=1e-5)
    var_mu = moment(lambda mu, s2: (mu - post.loc) ** 2) / z
    assert np.sqrt(var_mu) == pytest.approx(post.mu_marginal().std(), rel=1e-5)


def test_nig_sequential_updating_equals_batch(rng):
    x = rng.normal(size=30)
    prior = gaussian.NIG(0.0, 1.0, 2.0, 1.0)
    step = gaussian.nig_posterior(x[10:], gaussian.nig_posterior(x[:10], prior))
    np.testing.assert_allclose(step, gaussian.nig_posterior(x, prior), rtol=1e-12)


def test_sigma_moments_match_inverse_gamma_draws(rng):
    post = gaussian.NIG(0.0, 5.0, 6.5, 3.0)
    sigma = np.sqrt(post.var_marginal().rvs(size=400_000, random_state=rng))
    mean, sd = post.sigma_mean_sd()
    assert mean == pytest.approx(sigma.mean(), rel=2e-3)
    assert sd == pytest.approx(sigma.std(), rel=5e-3)


def test_ols_matches_sklearn(rng):
    X = rng.normal(size=(80, 4))
    y = X @ [1.0, -2.0, 0.5, 0.0] + 3.0 + rng.normal(size=80)
    fit = linear.ols(X, y)
    ref = LinearRegression().fit(X, y)
    np.testing.assert_allclose(fit.beta, ref.coef_, rtol=1e-10)
    assert fit.intercept == pytest.approx(ref.intercept_, rel=1e-10)
    rss = np.sum((y - ref.predict(X)) ** 2)
    assert fit.sigma2 == pytest.approx(rss / 80)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_ridge_matches_sklearn(rng, fit_intercept):
    X = rng.normal(size=(60, 5))
    y = X @ rng.normal(size=5) + 1.5 + rng.normal(size=60)
    fit = linear.ridge(X, y, lam=7.0, fit_intercept=fit_intercept)
    ref = Ridge(alpha=7.0, fit_intercept=fit_intercept, solver="cholesky").fit(X, y)
    np.testing.assert_allclose(fit.beta, ref.coef_, rtol=1e-9)
    assert fit.intercept == pytest.approx(ref.intercept_, rel=1e-9, abs=1e-12)


def test_gaussian_posterior_mean_is_ridge_with_lambda_sigma2_over_tau2(rng):
    """§5.6.1: the Gaussian-prior posterior mean (= mode) is the ridge solution, λ = σ²/τ²."""
    X = rng.normal(size=(40, 3))
    y = X @ [0.3, -1.0, 2.0] - 0.7 + 0.5 * rng.normal(size=40)
    sigma, tau = 0.5, 0.2
    post = linear.posterior_known_sigma(X, y, sigma, P.Normal(0.0, tau), P.Flat())
    fit = linear.ridge(X, y, linear.ridge_lambda(sigma, tau))
    np.testing.assert_allclose(post.mean, np.r_[fit.intercept, fit.beta], rtol=1e-10)
    assert linear.ridge_lambda(sigma, tau) == pytest.approx(6.25)


def test_linear_nig_with_constant_design_is_the_gaussian_nig(rng):
    """The regression NIG posterior on a column of ones is the Gaussian-mean NIG posterior."""
    x = rng.normal(2.0, 1.5, size=25)
    prior = gaussian.NIG(loc=1.0, kappa=0.5, alpha=2.0, beta=3.0)
    ref = gaussian.nig_posterior(x, prior)
    post = linear.posterior_nig(
        np.ones((25, 1)),
        x,
        beta_prior=P.ScaledNormal(prior.loc, 1 / np.sqrt(prior.kappa)),
        intercept_prior=None,
        sigma_prior=P.InverseGamma(prior.alpha, prior.beta),
    )
    assert post.mean[0] == pytest.approx(ref.loc)
    assert 1 / post.V[0, 0] == pytest.approx(ref.kappa)
    assert (post.a, post.b) == pytest.approx((ref.alpha, ref.beta))
    assert post.coef_marginal_sd()[0] == pytest.approx(ref.mu_marginal().std())


def test_nig_flat_intercept_reduces_the_degrees_of_freedom(rng):
    """A flat intercept adds no σ factor: aₙ = a₀ + (n − 1)/2."""
    X = rng.normal(size=(30, 2))
    y = X @ [1.0, 2.0] + rng.normal(size=30)
    post = linear.posterior_nig(X, y, P.ScaledNormal(0.0, 1.0), P.Flat(), P.InverseGamma(2.0, 2.0))
    assert post.a == pytest.approx(2.0 + 29 / 2)


def test_synthetic_linear_data_recover_true_parameters_by_ols():
    from freqbayes.models.data import synthetic

    truth = {"beta": np.array([1.0, -2.0, 0.5]), "intercept": 0.3, "sigma": 0.1}
    data = synthetic("linear", truth, 2000, seed=1)
    fit = linear.ols(data.X, data.y)
    np.testing.assert_allclose(fit.beta, truth["beta"], atol=0.01)
    assert fit.intercept == pytest.approx(0.3, abs=0.01)
    assert np.sqrt(fit.sigma2) == pytest.approx(0.1, rel=0.05)
    np.testing.assert_array_equal(data.attrs["true_beta"], truth["beta"])
    again = synthetic("linear", truth, 2000, seed=1)
    np.testing.assert_array_equal(again.y, data.y)


def test_synthetic_logistic_labels_are_binary_with_the_right_rate():
    from freqbayes.models.data import synthetic

    data = synthetic("logistic", {"beta": np.zeros(2), "intercept": 1.0}, 20_000, seed=2)
    assert set(np.unique(data.y)) == {0.0, 1.0}
    assert data.y.mean() == pytest.approx(1 / (1 + np.exp(-1.0)), abs=0.01)


def test_the_mle_minimises_cross_entropy_and_gaussian_nll_is_affine_in_mse():
    from freqbayes import lessons

    d = lessons.mle_as_divergence(seed=4)
    step = d.mu[1] - d.mu[0]
    assert abs(d.mu[np.argmin(d.cross_entropy)] - d.xbar) <= step / 2
    m = 40
    offset = d.nll - m * d.mse / (2 * d.sigma**2)  # eq. 5.65: NLL = const + m·MSE/(2σ²)
    np.testing.assert_allclose(offset, offset[0], rtol=1e-12)
    assert np.argmin(d.nll) == np.argmin(d.mse)


def test_sequential_updating_ends_at_the_batch_posterior():
    from freqbayes import lessons

    u = lessons.sequential_updating(seed=5, n=30)
    np.testing.assert_allclose([u.mean[-1], u.sd[-1]], [u.batch_mean, u.batch_sd], rtol=1e-12)
    assert (np.diff(u.sd) < 0).all()  # every point sharpens the posterior (σ known)
    assert u.mean[0] == 0.0 and u.sd[0] == 2.0  # it starts at the prior
