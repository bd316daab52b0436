"""A user's own NumPyro program goes through every applicable method, on raw-unit data."""

from __future__ import annotations

import warnings

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pytest

from freqbayes.inference import fit
from freqbayes.inference.registry import METHODS


def poisson(temp, counts=None):
    """Poisson regression: the log rate is linear in the temperature."""
    a = numpyro.sample("a", dist.Normal(0.0, 10.0))
    b = numpyro.sample("b", dist.Normal(0.0, 1.0))
    with numpyro.plate("day", temp.shape[0]):
        rate = numpyro.deterministic("rate", jnp.exp(a + b * temp))  # kept in every posterior
        numpyro.sample("counts", dist.Poisson(rate), obs=counts)


def robust(x, group, n_groups, y=None):
    """Student-t regression with a slope per group (a static number of groups)."""
    slope = numpyro.sample("slope", dist.Normal(0.0, 10.0).expand([n_groups]).to_event(1))
    sigma = numpyro.sample("sigma", dist.HalfNormal(10.0))
    with numpyro.plate("row", x.shape[0]):
        numpyro.sample("y", dist.StudentT(4.0, slope[group] * x, sigma), obs=y)


@pytest.fixture(scope="module")
def counts_data():
    """Temperatures near 100 (raw units): intercept and slope correlate at about −0.999."""
    rng = np.random.default_rng(1)
    temp = rng.normal(100.0, 10.0, 300)
    return {"temp": temp, "counts": rng.poisson(np.exp(-3.0 + 0.05 * temp))}


APPLICABLE = [
    m for m in METHODS.names() if METHODS.get(m).general and not METHODS.get(m).needs_features
]
QUICK = {m: dict(METHODS.get(m).quick) for m in APPLICABLE}
QUICK["nuts"] = {"num_chains": 4, "num_warmup": 500, "num_samples": 500}  # r̂ < 1.01 needs draws


@pytest.fixture(scope="module")
def fits(counts_data):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # NUTS must mix: no r̂ warning
        return {m: fit(poisson, m, counts_data, seed=3, **QUICK[m]) for m in APPLICABLE}


def test_mle_matches_scikit_learn_on_raw_units(fits, counts_data):
    from sklearn.linear_model import PoissonRegressor

    ref = PoissonRegressor(alpha=0.0, tol=1e-12, max_iter=10_000)
    ref.fit(counts_data["temp"][:, None], counts_data["counts"])
    post = fits["mle"].posterior
    np.testing.assert_allclose(post["a"].item(), ref.intercept_, rtol=1e-4)
    np.testing.assert_allclose(post["b"].item(), ref.coef_[0], rtol=1e-4)


@pytest.mark.parametrize("method", ["nuts", "laplace", "svi", "svi-fullrank", "wald", "bootstrap"])
def test_every_method_agrees_with_the_laplace_width(fits, method):
    """On 300 counts the posterior is nearly Gaussian: each method's mean within 4 se of the
    MLE and its sd within 25% of the Laplace sd (quick settings: 400 draws at least)."""
    mle, lap = fits["mle"].posterior, fits["laplace"].posterior
    post = fits[method].posterior
    for name in ("a", "b"):
        sd = float(lap[name].std())
        assert abs(float(post[name].mean()) - mle[name].item()) < 4 * sd, (method, name)
        assert abs(float(post[name].std()) / sd - 1) < 0.25, (method, name)


def test_nuts_on_raw_units_mixes(fits):
    from freqbayes.inference.diagnostics import diagnostics

    d = diagnostics(fits["nuts"])
    assert d["r_hat_max"] < 1.01 and d["divergences"] == 0 and d["ess_bulk_min"] > 400
    assert fits["nuts"].attrs["fit_whitened_at_mode"] == 1


def test_datatree_contract_from_plates(fits, counts_data):
    nuts = fits["nuts"]
    n = len(counts_data["temp"])
    assert nuts.posterior_predictive["counts"].dims == ("chain", "draw", "day")
    assert nuts.log_likelihood["counts"].shape[-1] == n
    np.testing.assert_array_equal(nuts.observed_data["counts"], counts_data["counts"])
    np.testing.assert_allclose(nuts.constant_data["temp"], counts_data["temp"], rtol=1e-6)
    assert nuts.attrs["model"] == "poisson"
    assert dict(nuts.prior.sizes) == {"chain": 1, "draw": 500, "day": n}  # rate too
    assert nuts.prior_predictive["counts"].shape == (1, 500, n)
    prior_b = np.asarray(nuts.prior["b"]).ravel()
    assert abs(prior_b.std() - 1.0) < 0.1  # the program's own N(0, 1) prior
    assert "prior" not in fits["mle"].children  # an MLE does not use the prior
    assert "log_likelihood_at_estimate" in fits["map"].children


@pytest.mark.parametrize("method", APPLICABLE)
def test_deterministic_sites_are_in_every_posterior(fits, counts_data, method):
    """``numpyro.deterministic`` values at every draw (point fits too), dims from the plate."""
    post = fits[method].posterior
    assert post["rate"].dims == ("chain", "draw", "day")
    a, b = post["a"].values[..., None], post["b"].values[..., None]
    np.testing.assert_allclose(post["rate"], np.exp(a + b * counts_data["temp"]), rtol=1e-5)


def multinomial(n_total, counts=None):
    """One vector-valued observation (no plate): counts of three categories."""
    p = numpyro.sample("p", dist.Dirichlet(jnp.ones(3)))
    numpyro.sample("counts", dist.Multinomial(n_total, p), obs=counts)


def bivariate(y=None):
    """One observation of a 2-vector, without a plate."""
    m = numpyro.sample("m", dist.Normal(0.0, 10.0).expand([2]).to_event(1))
    numpyro.sample("y", dist.MultivariateNormal(m, jnp.array([[1.0, 0.5], [0.5, 2.0]])), obs=y)


def test_a_vector_valued_observation_without_a_plate_goes_through():
    """The DataTree keeps the event dims: one log-likelihood term, predictive draws of the
    whole vector; the nonparametric bootstrap, which resamples rows, is refused in one line
    (the parametric one applies)."""
    counts = np.array([100, 50, 150])
    data = {"n_total": 300, "counts": counts}
    mle = fit(multinomial, "mle", data, seed=0)
    np.testing.assert_allclose(mle.posterior["p"].values[0, 0], counts / 300, rtol=1e-4)
    assert mle.log_likelihood_at_estimate["counts"].shape == (1, 1) and mle.attrs["n_obs"] == 1
    lap = fit(multinomial, "laplace", data, seed=0, num_samples=1000)
    assert lap.log_likelihood["counts"].shape == (4, 1000)
    pp = lap.posterior_predictive["counts"]
    assert pp.dims == ("chain", "draw", "counts_dim_0") and (pp.sum("counts_dim_0") == 300).all()
    se = float(lap.posterior["p"].std()) / np.sqrt(4000)
    assert np.abs(lap.posterior["p"].mean(("chain", "draw")) - counts / 300).max() < 0.01 + 4 * se
    with pytest.raises(ValueError, match="observations of shape \\(\\), not 3 rows"):
        fit(multinomial, "bootstrap", data, seed=0, num_replicates=50)
    two = fit(bivariate, "map", {"y": np.array([1.0, -3.0])}, seed=0)
    assert two.posterior_predictive["y"].shape == (1, 1, 2)
    assert two.log_likelihood_at_estimate["y"].shape == (1, 1)


def test_bca_of_one_observation_is_the_bias_corrected_percentile():
    """Influences that do not vary (one observation) give acceleration 0, not 0/0."""
    from freqbayes.inference.probabilistic.bootstrap import bca_bounds

    reps = np.random.default_rng(0).normal(size=(400, 2))
    lo, hi = bca_bounds(reps, np.zeros(2), np.zeros((1, 2)))
    assert np.isfinite(lo).all() and np.isfinite(hi).all() and (lo < 0).all() and (hi > 0).all()


def test_sgld_does_not_apply_to_a_program(counts_data):
    with pytest.raises(ValueError, match="does not apply"):
        fit(poisson, "sgld", counts_data)


def test_static_numbers_size_plates_and_integer_indices_stay_integers():
    rng = np.random.default_rng(2)
    group = rng.integers(0, 3, 200)
    x = rng.normal(50.0, 5.0, 200)
    y = np.array([1.0, -2.0, 0.5])[group] * x + rng.standard_t(4, 200)
    data = {"x": x, "group": group, "n_groups": 3, "y": y}
    tree = fit(robust, "nuts", data, seed=0, num_chains=2, num_warmup=300, num_samples=300)
    assert tree.posterior["slope"].dims == ("chain", "draw", "slope_dim_0")
    np.testing.assert_allclose(
        tree.posterior["slope"].mean(("chain", "draw")), [1, -2, 0.5], atol=0.05
    )
    assert tree.constant_data["group"].dtype.kind == "i"
    assert tree.posterior_predictive["y"].dims == ("chain", "draw", "row")


def _two_observed(x, y=None, z=None):
    m = numpyro.sample("m", dist.Normal(0, 1))
    numpyro.sample("y", dist.Normal(m, 1).expand([x.shape[0]]), obs=y)
    numpyro.sample("z", dist.Normal(m, 1).expand([x.shape[0]]), obs=z)


def _discrete(y=None):
    k = numpyro.sample("k", dist.Bernoulli(0.5))
    numpyro.sample("y", dist.Normal(k, 1).expand([3]), obs=y)


def _needs_y(y):
    m = numpyro.sample("m", dist.Normal(0, 1))
    with numpyro.plate("n", len(y)):
        numpyro.sample("y", dist.Normal(m, 1), obs=y)


@pytest.mark.parametrize(
    ("program", "data", "message"),
    [
        (poisson, {"temp": np.ones(3), "count": np.ones(3)}, "has no argument 'count'"),
        (poisson, {"temp": np.ones(3)}, "exactly one observed site"),
        (_two_observed, {"x": np.ones(3), "y": np.ones(3), "z": np.ones(3)}, "found y, z"),
        (_discrete, {"y": np.ones(3)}, "discrete"),
        (_needs_y, {"y": np.ones(3)}, "cannot run without 'y'"),
        (poisson, {"temp": np.array([1.0, np.nan]), "counts": np.ones(2)}, "NaN"),
        (poisson, {"temp": np.array(["a", "b"]), "counts": np.ones(2)}, "must be numeric"),
        (poisson, {"temp": np.ones(3), "counts": np.ones(4)}, r"shape \(4,\) but a distrib"),
        (robust, {"x": np.ones(3), "group": np.zeros(3, int), "y": np.ones(3)}, "failed on"),
        (poisson, np.ones(3), "dict of its arguments"),
    ],
)
def test_bad_programs_and_data_are_named(program, data, message):
    with pytest.raises(ValueError, match=message):
        fit(program, "map", data)


def test_saved_program_fits_summarise_compare_plot_and_predict(fits, counts_data, tmp_path):
    """The same commands as for the registered models, on fits read back from netCDF."""
    from freqbayes import saved
    from freqbayes._io import write_datatree
    from freqbayes.inference import predict

    back = {}
    for method in ("nuts", "laplace", "mle"):
        write_datatree(fits[method], tmp_path / f"poisson-{method}.nc")
        back[method] = saved.read_fit(tmp_path / f"poisson-{method}.nc")
    table, lines = saved.summary(back["nuts"])
    assert {"ess_bulk", "ess_tail", "r_hat", "mcse"} <= set(table.columns)
    assert any("divergences" in line for line in lines)
    ranking, _ = saved.compare({"nuts": back["nuts"], "laplace": back["laplace"]})
    assert set(ranking.index) == {"nuts", "laplace"}
    written = saved.plot(back, "forest", tmp_path / "plots")
    written += saved.plot({"nuts": back["nuts"]}, "prior-posterior", tmp_path / "plots")
    written += saved.plot({"nuts": back["nuts"]}, "ppc", tmp_path / "plots")
    assert all(p.stat().st_size > 10_000 for p in written)
    new = predict(back["nuts"], {"temp": np.array([90.0, 110.0])}, model=poisson, seed=0)
    assert new.posterior_predictive["counts"].dims == ("chain", "draw", "day")  # the plate's
    assert new.constant_data["temp"].dims == back["nuts"].constant_data["temp"].dims
    mean = new.posterior_predictive["counts"].mean(("chain", "draw")).values
    a, b = back["mle"].posterior["a"].item(), back["mle"].posterior["b"].item()
    np.testing.assert_allclose(mean, np.exp(a + b * np.array([90.0, 110.0])), rtol=0.05)
