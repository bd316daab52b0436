"""Wald, profile and bootstrap: each against its closed form or a peer, and their coverage.

The data are in their own units (features with means near 100, targets in the
thousands), not standardised. Coverage is checked against exact values where they
exist (the Gaussian mean) within 4 Monte-Carlo standard errors.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import optimize, stats

from freqbayes.inference import fit, prepare
from freqbayes.inference.probabilistic import repeated
from freqbayes.inference.probabilistic.bootstrap import bca_bounds
from freqbayes.inference.probabilistic.frequentist import CHI2_1_95, Z95
from freqbayes.models.dataset import Dataset
from freqbayes.models.probabilistic.existence import SeparationError
from freqbayes.summaries import confidence_intervals, summary_table


def raw_regression(n: int, seed: int = 0, hetero: bool = False) -> Dataset:
    """y in the thousands from two features with means near 100 and 50."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(100, 15, n), rng.normal(50, 10, n)])
    noise = rng.normal(0, 300, n) * (X[:, 0] / 100 if hetero else 1.0)
    y = 2000 + 30 * X[:, 0] - 12 * X[:, 1] + noise
    return Dataset("raw", y, X, ("iq", "hours"))


def ci(tree, name: str, kind: str) -> np.ndarray:
    """(lower, upper) of parameter ``name`` for interval ``kind``."""
    return tree["confidence_interval"][name].sel(interval=kind).values


def test_wald_is_closed_form_ols_x64():
    data = raw_regression(300, hetero=True)
    tree = fit("linear", data, "wald", seed=0, num_chains=1, num_samples=10)
    X = np.column_stack([np.ones(data.n), data.X])
    coef, *_ = np.linalg.lstsq(X, data.y, rcond=None)
    resid = data.y - X @ coef
    n, p = X.shape
    inv = np.linalg.inv(X.T @ X)
    se_mle = np.sqrt(np.diag(resid @ resid / n * inv))  # σ̂² = RSS/n, the MLE
    se_ols = np.sqrt(np.diag(resid @ resid / (n - p) * inv))  # the textbook s² = RSS/(n − p)
    se_hc0 = np.sqrt(np.diag(inv @ (X.T * resid**2) @ X @ inv))
    est = tree["estimate"]
    np.testing.assert_allclose(est["beta"].values, coef[1:], rtol=1e-6)
    np.testing.assert_allclose(float(est["intercept"]), coef[0], rtol=1e-6)
    for kind, se in (("wald", se_mle), ("sandwich", se_hc0)):
        lo, hi = ci(tree, "beta", kind)
        np.testing.assert_allclose((hi - lo) / (2 * Z95), se[1:], rtol=1e-6)
        np.testing.assert_allclose((hi + lo) / 2, coef[1:], rtol=1e-6)
        lo, hi = ci(tree, "intercept", kind)
        np.testing.assert_allclose((hi - lo) / (2 * Z95), se[0], rtol=1e-6)
    # the MLE's σ̂ divides by n: the Wald se is the OLS se times √((n − p)/n)
    np.testing.assert_allclose(se_mle, se_ols * np.sqrt((n - p) / n), rtol=1e-12)
    # σ's Wald se from the observed information is σ̂/√(2n)
    sigma = float(est["sigma"])
    lo, hi = ci(tree, "sigma", "wald")
    np.testing.assert_allclose((hi - lo) / (2 * Z95), sigma / np.sqrt(2 * n), rtol=1e-6)


def extreme_units(offset: float, n: int = 200, seed: int = 0) -> tuple[Dataset, np.ndarray]:
    """y ~ 1e10 against x ~ 1e-10 (mean ``offset`` × 1e-10), and the closed-form OLS se.

    The reference is computed in centred form (σ̂² = RSS/n, the MLE), which is exact
    in float64 at any units: se(slope) = σ̂/√Sxx, se(b) = σ̂ √(1/n + x̄²/Sxx).
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(offset * 1e-10, 1e-10, n)
    y = 1e10 * (1 + 0.5 * x / 1e-10 + rng.normal(0, 1, n))
    sxx = np.sum((x - x.mean()) ** 2)
    slope = np.sum((x - x.mean()) * (y - y.mean())) / sxx
    s2 = np.mean((y - (y.mean() - slope * x.mean()) - slope * x) ** 2)
    se = np.array([np.sqrt(s2 / sxx), np.sqrt(s2 * (1 / n + x.mean() ** 2 / sxx))])
    return Dataset("extreme", y, x[:, None], ("x",)), se


def wald_se(tree) -> np.ndarray:
    """The Wald se of (slope, intercept) from the stored interval."""
    return np.array(
        [
            np.ravel(np.diff(ci(tree, k, "wald"), axis=0))[0] / (2 * Z95)
            for k in ("beta", "intercept")
        ]
    )


@pytest.mark.parametrize("offset", [3.0, 1e6])
def test_wald_in_extreme_units_is_the_ols_se_x64(offset):
    # H is taken in the fitting coordinates: in the user's units its entries span 40
    # orders of magnitude and, with x far from 0 (offset 1e6), H⁻¹ lost 4 digits
    data, se = extreme_units(offset)
    tree = fit("linear", data, "wald", seed=0, num_chains=1, num_samples=10)
    np.testing.assert_allclose(wald_se(tree), se, rtol=1e-6)


def test_wald_in_extreme_units_float32():
    # float32: the observed information in the user's units was "not positive definite"
    data, se = extreme_units(3.0)
    tree = fit("linear", data, "wald", seed=0, num_chains=1, num_samples=10)
    np.testing.assert_allclose(wald_se(tree), se, rtol=1e-4)


def test_profile_gaussian_is_the_likelihood_ratio_interval_x64():
    n = 12
    x = np.random.default_rng(1).normal(100, 15, n)
    tree = fit("gaussian", Dataset("raw", x), "profile")
    m, s = x.mean(), x.std()  # MLEs
    # 2(ℓ̂ − ℓₚ(μ)) = n log(1 + (x̄ − μ)²/σ̂²): a t-type interval x̄ ± σ̂ √(e^{q/n} − 1)
    half = s * np.sqrt(np.expm1(CHI2_1_95 / n))
    np.testing.assert_allclose(ci(tree, "mu", "profile"), [m - half, m + half], rtol=1e-8)

    def lr(sig):
        return n * (np.log(sig**2 / s**2) + s**2 / sig**2 - 1) - CHI2_1_95

    expected = [optimize.brentq(lr, s / 10, s), optimize.brentq(lr, s, 10 * s)]
    np.testing.assert_allclose(ci(tree, "sigma", "profile"), expected, rtol=1e-8)
    # it is the t-interval x̄ ± c s/√n with c = √((n − 1)(e^{q/n} − 1)) < t_{n−1}: narrower
    c = np.sqrt((n - 1) * np.expm1(CHI2_1_95 / n))
    np.testing.assert_allclose(half, c * x.std(ddof=1) / np.sqrt(n), rtol=1e-12)
    assert Z95 < c < stats.t.ppf(0.975, n - 1)


def test_profile_is_asymmetric_and_wald_is_not():
    x = np.random.default_rng(2).normal(100, 15, 12)  # n = 12 as above: one compilation
    trees = {m: fit("gaussian", Dataset("raw", x), m) for m in ("wald", "profile")}
    sigma = float(trees["wald"]["estimate"]["sigma"])
    lo, hi = ci(trees["profile"], "sigma", "profile")
    assert hi - sigma > 1.5 * (sigma - lo)  # the likelihood of σ is skewed to the right
    lo, hi = ci(trees["wald"], "sigma", "wald")
    np.testing.assert_allclose(hi - sigma, sigma - lo, rtol=1e-5)


@pytest.fixture(scope="module")
def large():
    data = raw_regression(2000, seed=3)
    return data, {m: fit("linear", data, m, seed=4) for m in ("wald", "bootstrap", "profile")}


def test_bootstrap_se_is_the_wald_se_on_a_large_sample(large):
    _, trees = large
    boot = trees["bootstrap"]
    settings = json.loads(boot.attrs["settings"])
    assert settings["num_samples"] == settings["num_replicates"] == 2000
    lo, hi = ci(trees["wald"], "beta", "wald")
    se_wald = (hi - lo) / (2 * Z95)
    se_boot = boot.posterior["beta"].std(("chain", "draw")).values
    # the sd of B = 2000 draws has relative Monte-Carlo error 1/√(2B) = 1.6%: allow 4 of them
    np.testing.assert_allclose(se_boot / se_wald, 1.0, atol=4 / np.sqrt(2 * 2000))
    for kind in ("percentile", "bca"):
        lo_b, hi_b = ci(boot, "beta", kind)
        np.testing.assert_allclose(lo_b, lo, atol=0.25 * se_wald.max())
        np.testing.assert_allclose(hi_b, hi, atol=0.25 * se_wald.max())


def test_profile_equals_wald_on_a_large_sample(large):
    _, trees = large
    lo, hi = ci(trees["wald"], "beta", "wald")
    se = (hi - lo) / (2 * Z95)
    got = ci(trees["profile"], "beta", "profile")
    assert (np.abs(got - [lo, hi]) < 0.02 * se).all(), (got, [lo, hi])


def test_frequentist_trees_say_what_they_are(large):
    data, trees = large
    for method, tree in trees.items():
        assert tree.attrs["inference"] == "frequentist"
        assert "not posterior draws" in tree.attrs["distribution"]
        assert "confidence intervals" in tree.attrs["distribution"]
        table = confidence_intervals(tree)
        assert set(table["parameter"]) == {"beta[iq]", "beta[hours]", "intercept", "sigma"}
        assert (table["lower"] < table["estimate"]).all(), method
        assert (table["estimate"] < table["upper"]).all(), method
        assert tree["confidence_interval"].attrs["level"] == 0.95
        feature = list(tree["confidence_interval"]["beta"].coords["feature"].values)
        assert feature == list(data.feature_names)
    # the summary reports θ̂ and the confidence interval, not the draws' mean and ETI
    summary = summary_table(trees).set_index(["method", "parameter"])
    for method, tree in trees.items():
        table = confidence_intervals(tree).set_index("parameter")
        rows = summary.loc[method].loc[table.index]
        np.testing.assert_array_equal(rows["estimate"], table["estimate"])
        np.testing.assert_array_equal(rows["lo95"], table["lower"])
        np.testing.assert_array_equal(rows["hi95"], table["upper"])
    kinds = summary.groupby("method")["interval"].first()
    assert dict(kinds) == {"wald": "wald", "profile": "profile", "bootstrap": "bca"}


def test_bca_matches_scipy_on_skewed_data():
    x = np.random.default_rng(5).gamma(2.0, 10.0, 200) + 100
    tree = fit("gaussian", Dataset("raw", x), "bootstrap", seed=6)
    ref = stats.bootstrap(
        (x,), np.std, n_resamples=20_000, method="BCa", random_state=np.random.default_rng(7)
    )
    se = ref.standard_error
    got = ci(tree, "sigma", "bca")
    want = [ref.confidence_interval.low, ref.confidence_interval.high]
    # the BCa levels sit near 1% and 99%, where a quantile of B = 2000 draws has a
    # Monte-Carlo sd near 0.1 se; scipy's acceleration is the jackknife's, ours the
    # infinitesimal jackknife's
    np.testing.assert_allclose(got, want, atol=0.3 * se)
    pct = ci(tree, "sigma", "percentile")
    assert got[1] - pct[1] > 0.2 * se  # BCa moves the upper end out on right-skewed data


def test_bca_bounds_reduce_to_percentile_without_bias_or_skew():
    rng = np.random.default_rng(8)
    reps = rng.normal(0, 1, (100_001, 1))
    reps -= np.median(reps)
    influence = np.concatenate([-np.ones(50), np.ones(50)])[:, None]  # symmetric: a = 0
    lo, hi = bca_bounds(reps, np.zeros(1), influence)
    np.testing.assert_allclose([lo[0], hi[0]], np.quantile(reps, [0.025, 0.975]), atol=1e-3)


def test_bca_bounds_are_scipys_on_the_same_replicates():
    """BCa to 1e-10 of scipy.stats.bootstrap(method="BCa") given the same replicates.

    scipy takes precomputed replicates (``bootstrap_result``, no new resamples); as data
    it gets the influences Uᵢ and as statistic θ̂ + mean(U), whose jackknife values
    (n − 1)(Ū − Ū₍ᵢ₎) are the centred Uᵢ: its acceleration is then the infinitesimal
    jackknife's, and every other step (z₀, the levels, the quantiles) is scipy's own.
    """
    from types import SimpleNamespace

    rng = np.random.default_rng(3)
    n, d, B = 40, 3, 4000
    estimate = rng.normal(size=d)
    reps = estimate + rng.gamma(2.0, 1.0, (B, d)) - 1.8  # skewed, median off θ̂: z₀ ≠ 0
    influence = rng.gamma(1.5, 1.0, (n, d)) * np.array([1.0, -1.0, 3.0])  # skewed: a ≠ 0

    def statistic(u: np.ndarray, axis: int = -1) -> np.ndarray:
        m = np.mean(u, axis=axis)
        return estimate.reshape(d, *(1,) * (m.ndim - 1)) + m

    ref = stats.bootstrap(
        ((influence - influence.mean(axis=0)).T,),
        statistic,
        axis=-1,
        n_resamples=0,
        bootstrap_result=SimpleNamespace(bootstrap_distribution=reps.T),
        method="BCa",
    ).confidence_interval
    lo, hi = bca_bounds(reps, estimate, influence)
    np.testing.assert_allclose(lo, ref.low, rtol=1e-10, atol=0)
    np.testing.assert_allclose(hi, ref.high, rtol=1e-10, atol=0)


def test_map_variant_exists_where_the_mle_does_not():
    X = np.array([[90.0], [95.0], [100.0], [105.0], [110.0], [115.0]])
    y = np.array([0.0, 0.0, 0.0, 1.0, 1.0, 1.0])  # separated
    data = Dataset("separated", y, X, ("score",))
    with pytest.raises(SeparationError):
        fit("logistic", data, "wald")
    tree = fit("logistic", data, "wald", estimator="map", num_chains=1, num_samples=10)
    assert json.loads(tree.attrs["settings"])["estimator"] == "map"
    assert "sampling distribution of the MAP" in tree.attrs["distribution"]
    lo, hi = ci(tree, "beta", "wald")
    assert np.isfinite([lo, hi]).all() and lo[0] < hi[0]


@pytest.mark.parametrize(
    ("method", "setting"),
    [("wald", {"estimator": "mode"}), ("bootstrap", {"resampling": "jackknife"})],
)
def test_bad_settings_are_named(method, setting):
    x = np.random.default_rng(0).normal(100, 15, 20)
    name = next(iter(setting))
    with pytest.raises(ValueError, match=name):
        fit("gaussian", Dataset("raw", x), method, **setting)


def test_coverage_of_the_gaussian_mean_is_the_exact_value():
    n, reps = 10, 2000
    x = np.random.default_rng(9).normal(100, 15, n)
    problem = prepare("gaussian", Dataset("raw", x))
    truth = {"mu": 100.0, "sigma": 15.0}
    result = repeated.simulated_intervals(
        problem, truth, reps, seed=10, methods=("wald", "profile")
    )
    cover = repeated.coverage(result)
    # Wald with σ̂ (÷n) covers iff |T| ≤ z √((n − 1)/n); profile iff |T| ≤ √((n − 1)(e^{q/n} − 1))
    exact = {
        "wald": 2 * stats.t.cdf(Z95 * np.sqrt((n - 1) / n), n - 1) - 1,
        "profile": 2 * stats.t.cdf(np.sqrt((n - 1) * np.expm1(CHI2_1_95 / n)), n - 1) - 1,
    }
    for kind, value in exact.items():
        p, se = cover[kind]
        assert abs(p[0] - value) < 4 * se[0], (kind, p[0], value)  # index 0 is μ
        assert value < 0.95 - 3 * se[0]  # both under-cover at n = 10


def test_logistic_coverage_at_small_n_is_not_nominal():
    n = 25
    rng = np.random.default_rng(1)
    X = rng.normal(0, 1, (n, 1))
    problem = prepare("logistic", Dataset("sim", (rng.random(n) < 0.5).astype(float), X, ("x",)))
    truth = {"intercept": -1.0, "beta": np.array([2.0])}
    result = repeated.simulated_intervals(problem, truth, 4000, seed=11, methods=("wald",))
    assert result["exists"].mean() > 0.99
    p, se = repeated.coverage(result)["wald"]
    # measured: the Wald interval of the slope over-covers here (it is too wide: its se
    # grows with |β̂|, Hauck & Donner 1977); the sandwich under-covers
    assert p[0] > 0.95 + 3 * se[0], p
    p, se = repeated.coverage(result)["sandwich"]
    assert p[0] < 0.95 - 4 * se[0], p


def test_two_guarantees_match_the_exact_coverage():
    from freqbayes import lessons as L

    g = L.two_guarantees(seed=12, reps=4000)
    fixed = g.fixed
    z = (fixed["coverage"] - fixed["exact"]) / fixed["mc_se"].clip(lower=1e-3)
    assert z.abs().max() < 4.5  # 82 comparisons: the largest of 82 normals is rarely above 3.5
    conf = fixed[fixed["interval"].str.startswith("95% confidence")]
    cred = fixed[fixed["interval"].str.startswith("95% credible")]
    np.testing.assert_allclose(conf["exact"], 0.95)  # for every fixed μ
    assert cred.set_index("mu")["exact"].loc[0.0] > 0.95  # where the prior is right, more
    assert cred["exact"].min() < 0.6  # where it is wrong, much less
    avg = g.averaged.set_index(["mu_drawn_from", "interval"])["exact"]
    np.testing.assert_allclose(avg.loc["μ ~ the prior"], 0.95, atol=1e-6)  # on average: 95%
    assert avg.loc["μ ~ N(3, 1)"].min() < 0.9  # averaged over another distribution: not
    z = (g.averaged["coverage"] - g.averaged["exact"]) / g.averaged["mc_se"]
    assert z.abs().max() < 4
