"""Every fit is a DataTree with the same groups, dims and attrs, and is reproducible."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from freqbayes import data as D
from freqbayes.inference import METHODS, fit

SMALL = {
    "nuts": {"num_chains": 2, "num_warmup": 200, "num_samples": 100},
    "laplace": {"num_chains": 2, "num_samples": 100},
    "svi": {"num_chains": 2, "num_samples": 100, "num_steps": 500},
    "svi-fullrank": {"num_chains": 2, "num_samples": 100, "num_steps": 500},
    "map": {},
    "mle": {},
}


@pytest.fixture(scope="module")
def gaussian_data():
    return D.iris_setosa()


@pytest.fixture(scope="module")
def trees(gaussian_data):
    return {m: fit("gaussian", gaussian_data, m, seed=7, **SMALL[m]) for m in METHODS}


@pytest.mark.parametrize("method", list(METHODS))
def test_groups_dims_and_attrs(trees, gaussian_data, method):
    tree = trees[method]
    for group in ("posterior", "posterior_predictive", "log_likelihood", "observed_data"):
        assert group in tree.children, (method, group)
    chains, draws = (1, 1) if method in ("map", "mle") else (2, 100)
    assert dict(tree.posterior.sizes) == {"chain": chains, "draw": draws}
    assert tree.posterior_predictive["x"].shape == (chains, draws, gaussian_data.n)
    np.testing.assert_array_equal(tree.observed_data["x"], gaussian_data.y.astype(np.float32))
    attrs = tree.attrs
    assert attrs["model"] == "gaussian"
    assert attrs["dataset"] == "iris-setosa"
    assert attrs["seed"] == 7
    assert attrs["method"].startswith(method.replace("-fullrank", ""))
    assert attrs["wall_time_s"] > 0
    settings = json.loads(attrs["settings"])
    for key, value in SMALL[method].items():
        assert settings[key] == value


def test_nuts_sample_stats(trees):
    stats = trees["nuts"].sample_stats
    for name in ("diverging", "step_size", "tree_depth", "energy", "lp", "n_steps"):
        assert name in stats, name
    assert stats["diverging"].dtype == bool


def test_log_likelihood_is_pointwise_normal_density(trees, gaussian_data):
    from scipy import stats

    post = trees["map"].posterior
    mu, sigma = float(post["mu"][0, 0]), float(post["sigma"][0, 0])
    expected = stats.norm(mu, sigma).logpdf(gaussian_data.y)
    got = trees["map"].log_likelihood["x"].values[0, 0]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)  # float32


@pytest.mark.parametrize("method", ["nuts", "laplace", "svi", "map"])
def test_same_seed_gives_identical_datatree(trees, gaussian_data, method):
    again = fit("gaussian", gaussian_data, method, seed=7, **SMALL[method])
    for group in ("posterior", "posterior_predictive", "log_likelihood"):
        left, right = again[group].to_dataset(), trees[method][group].to_dataset()
        xr.testing.assert_equal(left, right)  # values, dims and coords, bit for bit
        stamp = {"created_at"}
        assert {k: v for k, v in left.attrs.items() if k not in stamp} == {
            k: v for k, v in right.attrs.items() if k not in stamp
        }


def test_other_seed_gives_other_draws(trees, gaussian_data):
    other = fit("gaussian", gaussian_data, "nuts", seed=8, **SMALL["nuts"])
    assert not np.array_equal(other.posterior["mu"].values, trees["nuts"].posterior["mu"].values)


def test_regression_fit_has_feature_coords():
    data = D.diabetes()
    tree = fit("linear", data, "map")
    assert list(tree.posterior["beta"].coords["feature"].values) == list(data.feature_names)
    assert tree.attrs["data_y_standardised"] == 1
    assert len(tree.attrs["data_x_scale"]) == data.X.shape[1]


# ------------------------------------------------------------------ bounded output


def test_pointwise_groups_are_thinned_to_the_budget(monkeypatch):
    from freqbayes.inference import common

    data = D.diabetes()
    monkeypatch.setattr(common, "POINTWISE_BUDGET", 2 * 442 * 25)  # 25 draws per chain
    tree = fit("linear", data, "nuts", seed=0, **SMALL["nuts"])
    assert tree.posterior.sizes["draw"] == 100
    assert tree.log_likelihood["y"].shape == (2, 25, 442)
    assert tree.posterior_predictive["y"].shape == (2, 25, 442)
    assert "25 of 100 per chain" in json.loads(tree.attrs["settings"])["pointwise_draws"]
    # the kept draws' log-likelihood is that of the posterior draws with the same index
    from scipy import stats

    kept = np.unique(np.linspace(0, 99, 25).round().astype(int))
    post = tree.posterior
    mu = post["intercept"].values[0, kept, None] + post["beta"].values[0, kept] @ data.X.T
    want = stats.norm(mu, post["sigma"].values[0, kept, None]).logpdf(data.y)
    np.testing.assert_allclose(tree.log_likelihood["y"].values[0], want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(("pointwise", "draws"), [("none", None), (10, 10), ("all", 100)])
def test_pointwise_choices(gaussian_data, pointwise, draws):
    tree = fit("gaussian", gaussian_data, "nuts", seed=7, pointwise=pointwise, **SMALL["nuts"])
    if draws is None:
        assert "log_likelihood" not in tree.children
        assert "posterior_predictive" not in tree.children
    else:
        assert tree.log_likelihood["x"].shape == (2, draws, gaussian_data.n)


def test_saved_fits_are_compressed_and_pointwise_groups_float32_x64(tmp_path):
    from freqbayes._io import write_datatree

    tree = fit("linear", D.diabetes(), "laplace", seed=0, num_chains=2, num_samples=200)
    assert tree.log_likelihood["y"].dtype == np.float64
    write_datatree(tree, tmp_path / "fit.nc")
    back = xr.open_datatree(tmp_path / "fit.nc", engine="h5netcdf")
    assert back.log_likelihood["y"].dtype == np.float32
    assert back.posterior["beta"].dtype == np.float64  # estimates keep their precision
    raw = 2 * 2 * 200 * 442 * 8  # two pointwise groups in float64
    assert (tmp_path / "fit.nc").stat().st_size < 0.6 * raw
