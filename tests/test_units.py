"""Estimates in the user's units: raw, unstandardised data give the right answer.

Synthetic data with known truth (feature means ≈ 100, sds ≈ 15, targets in the
hundreds) and the unstandardised breast-cancer table; every check is repeated with
the data multiplied by 1e-3 and by 1e3, because the units must not matter. The
references are computed here in float64 NumPy, independently of the package.
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer

from freqbayes.inference import (
    SeparationError,
    fit,
    laplace,
    map_estimate,
    mle,
    nuts,
    prepare,
    svi,
)
from freqbayes.models import data as D
from freqbayes.models import gaussian, linear
from freqbayes.models import priors as P

from .conftest import X64

#: (factor on X, factor on y): same units, both ×1e-3, both ×1e3, and X alone ×1e3.
UNITS = [(1.0, 1.0), (1e-3, 1e-3), (1e3, 1e3), (1e3, 1.0)]
UNIT_IDS = ["raw", "milli", "kilo", "X-kilo"]
RTOL = 1e-5 if X64 else 1e-3


def raw_linear(seed: int = 0, n: int = 200) -> D.Dataset:
    """y = 40 + 0.6 x₁ − 1.5 x₂ + ε, x₁ ~ N(100, 15²), x₂ ~ N(80, 10²), ε ~ N(0, 12²)."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(100, 15, n), rng.normal(80, 10, n)])
    y = 40 + X @ [0.6, -1.5] + rng.normal(0, 12, n)
    return D.Dataset("raw-linear", y, X, ("x1", "x2"))


def scaled(ds: D.Dataset, fx: float, fy: float) -> D.Dataset:
    return D.Dataset(ds.name, ds.y * fy, ds.X * fx, ds.feature_names)


def point(tree, name):
    return np.asarray(tree.posterior[name].values[0, 0], dtype=float)


def ols_np(X, y):
    A = np.column_stack([np.ones(len(y)), X])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    rss = float(np.sum((y - A @ coef) ** 2))
    return coef[0], coef[1:], np.sqrt(rss / len(y)), A


def standard_errors(A, sigma2):
    return np.sqrt(np.diag(np.linalg.inv(A.T @ A)) * sigma2)


def assert_close(got, want, se):
    """|got − want| ≤ RTOL relative to the value, or to its standard error near 0."""
    got, want, se = (np.atleast_1d(np.asarray(a, dtype=float)) for a in (got, want, se))
    bad = np.abs(got - want) > RTOL * np.maximum(np.abs(want), se)
    assert not bad.any(), np.c_[got, want, se]


@pytest.mark.parametrize(("fx", "fy"), UNITS, ids=UNIT_IDS)
def test_linear_mle_is_ols_in_any_units(fx, fy):
    ds = scaled(raw_linear(), fx, fy)
    b, beta, sigma, A = ols_np(ds.X, ds.y)
    tree = mle("linear", ds)
    se = standard_errors(A, sigma**2)
    assert_close(point(tree, "beta"), beta, se[1:])
    assert_close(point(tree, "intercept"), b, se[0])
    assert point(tree, "sigma") == pytest.approx(sigma, rel=RTOL)


@pytest.mark.parametrize(("fx", "fy"), UNITS, ids=UNIT_IDS)
def test_linear_mle_is_ols_in_any_units_x64(fx, fy):
    test_linear_mle_is_ols_in_any_units(fx, fy)


def ridge_of_scaled_problem(X, y, sigma, tau_scaled):
    """Ridge on standardised X and y with λ = (σ/s_y)²/τ², mapped back to the user's units."""
    mx, sx = X.mean(0), X.std(0)
    my, sy = y.mean(), y.std()
    Xs, ys = (X - mx) / sx, (y - my) / sy
    lam = (sigma / sy) ** 2 / tau_scaled**2
    A = np.column_stack([np.ones(len(y)), Xs])
    penalty = np.diag(np.r_[0.0, np.full(X.shape[1], lam)])
    coef = np.linalg.solve(A.T @ A + penalty, A.T @ ys)
    beta = coef[1:] * sy / sx
    return my + sy * coef[0] - beta @ mx, beta


@pytest.mark.parametrize(("fx", "fy"), UNITS, ids=UNIT_IDS)
def test_map_is_the_ridge_of_the_scaled_problem_mapped_back(fx, fy):
    """θ_j ~ N(0, (2.5 s_y/s_j)²) (the autoscale rule), σ known, flat intercept."""
    ds = scaled(raw_linear(), fx, fy)
    sigma = 12.0 * fy
    taus = tuple(float(v) for v in 2.5 * ds.y.std() / ds.X.std(0))
    priors = {
        "beta_prior": P.Normal(0.0, taus),
        "intercept_prior": P.Flat(),
        "sigma_prior": P.Known(sigma),
    }
    b, beta = ridge_of_scaled_problem(ds.X, ds.y, sigma, 2.5)
    tree = map_estimate("linear", ds, priors=priors)
    _, _, _, A = ols_np(ds.X, ds.y)
    se = standard_errors(A, sigma**2)
    assert_close(point(tree, "beta"), beta, se[1:])
    assert_close(point(tree, "intercept"), b, se[0])


@pytest.mark.parametrize(("fx", "fy"), UNITS, ids=UNIT_IDS)
def test_map_is_the_ridge_of_the_scaled_problem_mapped_back_x64(fx, fy):
    test_map_is_the_ridge_of_the_scaled_problem_mapped_back(fx, fy)


def test_default_priors_follow_the_units():
    """Autoscaled: θ_j ~ N(0, (2.5 s_y/s_j)²), σ ~ HalfNormal(2.5 s_y), b wide around ȳ."""
    for fx, fy in UNITS:
        ds = scaled(raw_linear(), fx, fy)
        priors = prepare("linear", ds).priors
        sx, sy, mx = ds.X.std(0), ds.y.std(), ds.X.mean(0)
        np.testing.assert_allclose(priors["beta_prior"].scale, 2.5 * sy / sx, rtol=1e-6)
        assert priors["sigma_prior"].scale == pytest.approx(2.5 * sy, rel=1e-6)
        assert priors["intercept_prior"].loc == pytest.approx(ds.y.mean(), rel=1e-6)
        spread = 2.5 * sy * np.sqrt(1 + np.sum((mx / sx) ** 2))
        assert priors["intercept_prior"].scale == pytest.approx(spread, rel=1e-6)
    # a prior passed explicitly is used exactly as given
    given = prepare("linear", raw_linear(), {"beta_prior": P.Normal(0.0, 3.0)}).priors
    assert given["beta_prior"] == P.Normal(0.0, 3.0)


@pytest.fixture(scope="module", params=UNITS, ids=UNIT_IDS)
def raw_fits(request):
    """NUTS (the reference) and the approximations on raw data, with default priors."""
    fx, fy = request.param
    ds = scaled(raw_linear(), fx, fy)
    size = {"num_samples": 1000}
    return {
        "nuts": nuts("linear", ds, seed=1, **size),
        "laplace": laplace("linear", ds, seed=1, **size),
        "svi-full-rank": svi("linear", ds, seed=1, guide="full-rank", **size),
        "svi-mean-field": svi("linear", ds, seed=1, **size),
        "map": map_estimate("linear", ds),
    }


def summary(tree):
    return az.summary(tree, round_to="none", ci_kind="eti", ci_prob=0.95)


def test_svi_means_within_a_tenth_of_a_posterior_sd_of_nuts(raw_fits):
    ref = summary(raw_fits["nuts"])
    for method in ("svi-full-rank", "svi-mean-field"):
        got = summary(raw_fits[method])
        z = (got["mean"] - ref["mean"]).abs() / ref["sd"]
        assert z.max() <= 0.1, (method, z)


def test_laplace_is_centred_on_the_mode_of_the_coefficients(raw_fits):
    """With σ unknown the Laplace mode is that of (θ, log σ); its coefficients agree with the
    MAP of (θ, σ) to within the tiny shift that the change of variable makes (< 0.02 sd)."""
    lap = summary(raw_fits["laplace"])
    mode = summary(raw_fits["map"])
    se = lap["sd"] / np.sqrt(4000)
    z = (lap["mean"] - mode["mean"]).abs()
    coefs = [r for r in lap.index if r != "sigma"]
    assert (z[coefs] <= 4 * se[coefs] + 0.02 * lap.loc[coefs, "sd"]).all(), z


def test_nuts_converges_on_raw_data(raw_fits):
    stats = summary(raw_fits["nuts"])
    assert stats["r_hat"].max() <= 1.01
    assert stats["ess_bulk"].min() >= 400
    assert int(raw_fits["nuts"].sample_stats["diverging"].sum()) == 0


@pytest.mark.parametrize(("fx", "fy"), UNITS, ids=UNIT_IDS)
def test_nuts_matches_the_conjugate_posterior_in_any_units(fx, fy):
    ds = scaled(raw_linear(), fx, fy)
    sy, sx = ds.y.std(), ds.X.std(0)
    priors = {
        "beta_prior": P.ScaledNormal(0.0, tuple(float(v) for v in 2.5 / sx)),
        "intercept_prior": P.Flat(),
        "sigma_prior": P.InverseGamma(3.0, 2.0 * sy**2),
    }
    tree = nuts("linear", ds, priors=priors, seed=4)
    stats = summary(tree)
    post = linear.posterior_nig(ds.X, ds.y, **priors)
    sd = post.coef_marginal_sd()
    for j, row in enumerate(["intercept", "beta[x1]", "beta[x2]"]):
        got = stats.loc[row]
        assert abs(got["mean"] - post.mean[j]) <= 4 * got["mcse_mean"], (row, got, post.mean[j])
        assert abs(got["sd"] - sd[j]) <= 4 * got["mcse_sd"], (row, got["sd"], sd[j])
    mean, sd_sigma = post.sigma_mean_sd()
    assert abs(stats.loc["sigma", "mean"] - mean) <= 4 * stats.loc["sigma", "mcse_mean"]
    assert abs(stats.loc["sigma", "sd"] - sd_sigma) <= 4 * stats.loc["sigma", "mcse_sd"]


# ------------------------------------------------------------------ Gaussian


@pytest.mark.parametrize("factor", [1.0, 1e-3, 1e3])
def test_gaussian_mle_on_raw_data(factor):
    x = np.random.default_rng(3).normal(1e4, 50, 80) * factor
    ref = gaussian.mle(x)
    tree = mle("gaussian", D.Dataset("raw", x))
    assert point(tree, "mu") == pytest.approx(ref.mu, rel=RTOL * 1e-2)
    assert point(tree, "sigma") ** 2 == pytest.approx(ref.var, rel=2 * RTOL)


# ------------------------------------------------------------------ logistic, raw features


def cancer_raw(factor: float = 1.0) -> D.Dataset:
    b = load_breast_cancer()
    return D.Dataset("cancer-raw", b.target.astype(float), b.data * factor, tuple(b.feature_names))


def newton_map(X, y, beta_sd, b_loc, b_sd, iters=100):
    """The logistic MAP under independent Normal priors, by Newton's method (float64)."""
    A = np.column_stack([np.ones(len(y)), X])
    mean = np.r_[b_loc, np.zeros(X.shape[1])]
    prec = 1.0 / np.r_[b_sd, beta_sd] ** 2
    # work on standardised columns for conditioning, then map back
    m, s = X.mean(0), X.std(0)
    T = np.eye(A.shape[1])
    T[1:, 1:] = np.diag(1 / s)
    T[0, 1:] = -m / s
    As = A @ T
    theta = np.zeros(A.shape[1])
    for _ in range(iters):
        coef = T @ theta
        p = 1 / (1 + np.exp(-(A @ coef)))
        grad = T.T @ (A.T @ (y - p) - prec * (coef - mean))
        H = As.T @ (As * (p * (1 - p))[:, None]) + T.T @ np.diag(prec) @ T
        step = np.linalg.solve(H, grad)
        theta += step
        if np.max(np.abs(step)) < 1e-13:
            break
    coef = T @ theta
    return coef[0], coef[1:], H, T


@pytest.mark.parametrize("factor", [1.0, 1e-3, 1e3])
def test_logistic_map_on_raw_breast_cancer(factor):
    ds = cancer_raw(factor)
    priors = prepare("logistic", ds).priors
    b, beta, H, T = newton_map(
        ds.X,
        ds.y,
        np.asarray(priors["beta_prior"].scale),
        priors["intercept_prior"].loc,
        priors["intercept_prior"].scale,
    )
    tree = map_estimate("logistic", ds)
    # tolerance in posterior sds of each coefficient (Laplace covariance of the reference)
    sd = np.sqrt(np.diag(T @ np.linalg.inv(H) @ T.T))
    assert_close(np.r_[point(tree, "intercept"), point(tree, "beta")], np.r_[b, beta], sd)
    with pytest.raises(SeparationError, match="completely separated"):
        mle("logistic", ds)


@pytest.mark.parametrize("factor", [1.0, 1e-3, 1e3])
def test_logistic_map_on_raw_breast_cancer_x64(factor):
    test_logistic_map_on_raw_breast_cancer(factor)


def test_logistic_mle_on_raw_overlapping_data():
    rng = np.random.default_rng(5)
    X = np.column_stack([rng.normal(100, 15, 500), rng.normal(-40, 4, 500)])
    eta = -6 + 0.05 * (X[:, 0]) - 0.02 * X[:, 1]
    y = (rng.random(500) < 1 / (1 + np.exp(-eta))).astype(float)
    b, beta, H, T = newton_map(X, y, np.full(2, np.inf), 0.0, np.inf)
    sd = np.sqrt(np.diag(T @ np.linalg.inv(H) @ T.T))
    for factor in (1.0, 1e-3, 1e3):
        tree = fit("logistic", D.Dataset("raw", y, X * factor), "mle")
        got = np.r_[point(tree, "intercept"), point(tree, "beta") * factor]
        assert_close(got, np.r_[b, beta], sd)
