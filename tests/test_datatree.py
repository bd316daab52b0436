"""Every fit is a DataTree with the same groups, dims and attrs, and is reproducible."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from freqbayes.inference import fit
from freqbayes.inference.registry import METHODS
from freqbayes.models import data as D

#: Every registered method, at its quick settings (Method.quick), on a small regression;
#: profile and bootstrap have their contract checked in test_frequentist.py and
#: test_extending.py (their compilation is most of their cost).
ALL = [
    m
    for m in METHODS.names()
    if METHODS.get(m).general and METHODS.get(m).in_all and m not in ("profile", "bootstrap")
]


def quick(method: str) -> dict:
    return dict(METHODS.get(method).quick)


def ll_group(method: str) -> str:
    """Point estimates keep their pointwise log-likelihood apart from PSIS-LOO's group."""
    point = METHODS.get(method).kind == "point"
    return "log_likelihood_at_estimate" if point else "log_likelihood"


@pytest.fixture(scope="module")
def regression():
    """The showcase's linear-regression data: its fits' compiled programs are shared."""
    return D.diabetes()


@pytest.fixture(scope="module")
def trees(regression):
    return {m: fit("linear", regression, m, seed=7, **quick(m)) for m in ALL}


@pytest.mark.parametrize("method", ALL)
def test_groups_dims_and_attrs(trees, regression, method):
    tree = trees[method]
    groups = ("posterior", "posterior_predictive", ll_group(method), "observed_data")
    for group in (*groups, "constant_data"):
        assert group in tree.children, (method, group)
    np.testing.assert_allclose(tree.constant_data["X"], regression.X, rtol=1e-6)
    assert tree.constant_data["X"].dims == ("obs", "feature")
    settings = json.loads(tree.attrs["settings"])
    # every method records its shape (a point: one chain, one draw)
    chains, draws = settings["num_chains"], settings["num_samples"]
    if METHODS.get(method).kind == "point":
        assert (chains, draws) == (1, 1)
    d = len(regression.feature_names)
    assert dict(tree.posterior.sizes) == {"chain": chains, "draw": draws, "feature": d}
    assert tree.posterior["beta"].dims == ("chain", "draw", "feature")
    assert list(tree.posterior["beta"].coords["feature"].values) == list(regression.feature_names)
    assert tree.posterior_predictive["y"].shape == (chains, draws, regression.n)
    np.testing.assert_array_equal(tree.observed_data["y"], regression.y.astype(np.float32))
    attrs = tree.attrs
    assert (attrs["model"], attrs["dataset"], attrs["seed"]) == ("linear", "diabetes", 7)
    assert attrs["method"].startswith(method.replace("-fullrank", ""))
    assert attrs["wall_time_s"] > 0
    for key, value in quick(method).items():
        assert settings[key] == value


def test_nuts_sample_stats(trees):
    stats = trees["nuts"].sample_stats
    for name in ("diverging", "step_size", "tree_depth", "energy", "lp", "n_steps"):
        assert name in stats, name
    assert stats["diverging"].dtype == bool


def test_log_likelihood_is_pointwise_normal_density(trees, regression):
    from scipy import stats

    post = trees["map"].posterior
    mean = float(post["intercept"][0, 0]) + regression.X @ post["beta"].values[0, 0]
    expected = stats.norm(mean, float(post["sigma"][0, 0])).logpdf(regression.y)
    got = trees["map"].log_likelihood_at_estimate["y"].values[0, 0]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)  # float32


@pytest.mark.parametrize("method", ["nuts", "laplace", "svi", "map", "sgld"])
def test_same_seed_gives_identical_datatree(trees, regression, method):
    again = fit("linear", regression, method, seed=7, **quick(method))
    for group in ("posterior", "posterior_predictive", ll_group(method), "prior"):
        left, right = again[group].to_dataset(), trees[method][group].to_dataset()
        xr.testing.assert_equal(left, right)  # values, dims and coords, bit for bit
        stamp = {"created_at"}
        assert {k: v for k, v in left.attrs.items() if k not in stamp} == {
            k: v for k, v in right.attrs.items() if k not in stamp
        }


@pytest.mark.parametrize("method", ["nuts", "map", "laplace", "sgld"])
def test_prior_groups_are_draws_from_the_program(trees, regression, method):
    tree = trees[method]
    prior, pred = tree.prior, tree.prior_predictive
    draws = json.loads(tree.attrs["settings"])["prior_draws"]
    assert draws == 500
    d = len(regression.feature_names)
    assert dict(prior.sizes) == {"chain": 1, "draw": 500, "feature": d}
    assert set(prior.data_vars) == set(tree.posterior.data_vars)
    assert pred["y"].shape == (1, 500, regression.n)
    # each weight's draws have the sd of its default prior (autoscaled to the data's units)
    from freqbayes.inference import prepare

    sd = prior["beta"].std(("chain", "draw")).values
    want = np.asarray(prepare("linear", regression).priors["beta_prior"].scale)
    se = want / np.sqrt(2 * (draws - 1))  # the se of an sd of iid normal draws (3.2% here)
    assert np.all(np.abs(sd - want) <= 4 * se), (sd - want) / se  # within 4 se
    assert float(prior["sigma"].min()) > 0


def test_estimates_without_prior_have_no_prior_groups(trees):
    tree = trees["mle"]
    assert "prior" not in tree.children and "prior_predictive" not in tree.children
    assert "does not use the prior" in json.loads(tree.attrs["settings"])["prior_draws"]


def test_flat_prior_has_no_prior_groups(regression):
    from freqbayes.models.probabilistic import priors as P

    tree = fit("linear", "map", regression, priors={"beta_prior": P.Flat()})
    assert "prior" not in tree.children
    assert "improper (flat) prior on beta" in json.loads(tree.attrs["settings"])["prior_draws"]


def test_loo_refuses_a_point_estimate_clearly(trees):
    """PSIS-LOO needs posterior draws: ArviZ says the log-likelihood is missing, not IndexError."""
    import arviz as az

    with pytest.raises(TypeError, match="log likelihood not found"):
        az.loo(trees["map"])
    assert np.isfinite(az.loo(trees["laplace"]).elpd)


def test_other_seed_gives_other_draws(trees, regression):
    other = fit("linear", regression, "nuts", seed=8, **quick("nuts"))
    assert not np.array_equal(
        other.posterior["beta"].values, trees["nuts"].posterior["beta"].values
    )


def test_regression_fit_records_the_data_scaling(trees, regression):
    tree = trees["map"]
    assert tree.attrs["data_y_standardised"] == 1
    assert len(tree.attrs["data_x_scale"]) == regression.X.shape[1]


# ------------------------------------------------------------------ bounded output


def test_pointwise_groups_are_thinned_to_the_budget(monkeypatch):
    from freqbayes.inference.probabilistic import datatree as common

    data = D.diabetes()
    monkeypatch.setattr(common, "POINTWISE_BUDGET", 2 * 442 * 25)  # 25 draws per chain
    tree = fit("linear", data, "nuts", seed=0, **quick("nuts"))
    assert tree.posterior.sizes["draw"] == 200
    assert tree.log_likelihood["y"].shape == (2, 25, 442)
    assert tree.posterior_predictive["y"].shape == (2, 25, 442)
    assert "25 of 200 per chain" in json.loads(tree.attrs["settings"])["pointwise_draws"]
    # the kept draws' log-likelihood is that of the posterior draws with the same index
    from scipy import stats

    kept = np.unique(np.linspace(0, 199, 25).round().astype(int))
    post = tree.posterior
    mu = post["intercept"].values[0, kept, None] + post["beta"].values[0, kept] @ data.X.T
    want = stats.norm(mu, post["sigma"].values[0, kept, None]).logpdf(data.y)
    np.testing.assert_allclose(tree.log_likelihood["y"].values[0], want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(("pointwise", "draws"), [("none", None), (10, 10), ("all", 200)])
def test_pointwise_choices(regression, pointwise, draws):
    tree = fit("linear", regression, "nuts", seed=7, pointwise=pointwise, **quick("nuts"))
    if draws is None:
        assert "log_likelihood" not in tree.children
        assert "posterior_predictive" not in tree.children
    else:
        assert tree.log_likelihood["y"].shape == (2, draws, regression.n)


def test_saved_fits_are_compressed_and_pointwise_groups_float32_x64(tmp_path):
    from freqbayes._io import write_datatree

    tree = fit("linear", D.diabetes(), "laplace", seed=0, num_chains=2, num_samples=200)
    assert tree.log_likelihood["y"].dtype == np.float64
    write_datatree(tree, tmp_path / "fit.nc")
    back = xr.open_datatree(tmp_path / "fit.nc", engine="h5netcdf")
    assert back.log_likelihood["y"].dtype == np.float32
    assert back.posterior["beta"].dtype == np.float64  # estimates keep their precision
    assert back.prior_predictive["y"].dtype == np.float32
    raw = sum(v.nbytes for node in tree.subtree for v in node.data_vars.values())
    assert raw > (2 * 2 * 200 + 500) * 442 * 8  # pointwise and prior-predictive in float64
    assert (tmp_path / "fit.nc").stat().st_size < 0.6 * raw


def test_prior_draws_run_in_batches_give_the_same_draws(regression, monkeypatch):
    """The prior's draws, a few at a time on many rows, are those drawn all at once."""
    import jax

    from freqbayes.inference import prepare
    from freqbayes.inference.probabilistic import datatree as common

    problem = prepare("linear", regression)
    key = jax.random.PRNGKey(7)
    whole, _ = common.prior_groups(problem, key, draws=50)
    monkeypatch.setattr(common, "PRIOR_BATCH_VALUES", 7 * problem.size)  # 7 draws a batch
    mapped = []  # traced once: lax.map with its batch size
    real_map = jax.lax.map
    monkeypatch.setattr(jax.lax, "map", lambda *a, **k: mapped.append(k) or real_map(*a, **k))
    batched, _ = common.prior_groups(problem, key, draws=50)
    assert mapped == [{"batch_size": 7}]
    for group in ("prior", "prior_predictive"):
        for name, value in whole[group].items():
            np.testing.assert_allclose(batched[group][name], value, rtol=1e-5, atol=1e-6)


def test_the_observations_coordinate_is_a_range_not_an_array_per_group(trees, regression):
    """0..n-1 without an array: pandas copies an array into each group's index (8 MiB a
    group at 10⁶ rows); written and read, the values are those of the array."""
    import pandas as pd

    tree = trees["nuts"]
    for group in ("posterior_predictive", "log_likelihood", "observed_data"):
        index = tree[group].to_dataset().indexes["obs"]
        assert isinstance(index, pd.RangeIndex)
        np.testing.assert_array_equal(index, np.arange(regression.n))
