"""NUTS against exact posteriors: conjugate closed forms, and Stan's reference draws.

Tolerances come from the Monte-Carlo standard errors ArviZ estimates: a mean or
sd must be within 4 MCSE of the exact value (for 30 such comparisons a false
alarm has probability below 0.2%).
"""

from __future__ import annotations

import json
import zipfile

import arviz as az
import numpy as np
import pytest

from freqbayes.inference import nuts
from freqbayes.models import data as D
from freqbayes.models import gaussian, linear
from freqbayes.models import priors as P

from .conftest import shared_file

Z = 4.0


def summary(tree):
    return az.summary(tree, round_to="none", ci_kind="eti", ci_prob=0.95)


def assert_converged(tree, stats):
    assert int(tree.sample_stats["diverging"].sum()) == 0
    assert stats["r_hat"].max() <= 1.01, stats["r_hat"]
    assert stats["ess_bulk"].min() >= 400, stats["ess_bulk"]


def assert_matches(stats, row, mean, sd):
    got = stats.loc[row]
    assert abs(got["mean"] - mean) <= Z * got["mcse_mean"], (row, got["mean"], mean)
    assert abs(got["sd"] - sd) <= Z * got["mcse_sd"], (row, got["sd"], sd)


def test_gaussian_nuts_matches_conjugate_posterior():
    data = D.iris_setosa()
    prior = gaussian.NIG(loc=5.0, kappa=0.5, alpha=2.0, beta=0.5)
    tree = nuts("gaussian", data, priors=prior.priors(), seed=3)
    stats = summary(tree)
    assert_converged(tree, stats)
    post = gaussian.nig_posterior(data.y, prior)
    assert_matches(stats, "mu", post.mu_marginal().mean(), post.mu_marginal().std())
    assert_matches(stats, "sigma", *post.sigma_mean_sd())


def test_linear_nuts_matches_normal_inverse_gamma_posterior():
    data = D.diabetes()
    priors = {
        "beta_prior": P.ScaledNormal(0.0, 0.5),
        "intercept_prior": P.Flat(),
        "sigma_prior": P.InverseGamma(3.0, 1.0),
    }
    tree = nuts("linear", data, priors=priors, seed=4)
    stats = summary(tree)
    assert_converged(tree, stats)
    post = linear.posterior_nig(data.X, data.y, **priors)
    sd = post.coef_marginal_sd()
    rows = ["intercept"] + [f"beta[{f}]" for f in data.feature_names]
    for j, row in enumerate(rows):
        assert_matches(stats, row, post.mean[j], sd[j])
    assert_matches(stats, "sigma", *post.sigma_mean_sd())


def assert_known_sigma_posterior(seed):
    """NUTS on diabetes with σ known, 2 chains: the Gaussian posterior within MCSE."""
    data = D.diabetes()
    priors = {
        "beta_prior": P.Normal(0.0, 0.3),
        "intercept_prior": P.Normal(0.0, 1.0),
        "sigma_prior": P.Known(0.7),
    }
    tree = nuts("linear", data, priors=priors, seed=seed, num_chains=2)
    stats = summary(tree)
    assert_converged(tree, stats)
    post = linear.posterior_known_sigma(
        data.X, data.y, 0.7, priors["beta_prior"], priors["intercept_prior"]
    )
    rows = ["intercept"] + [f"beta[{f}]" for f in data.feature_names]
    for j, row in enumerate(rows):
        assert_matches(stats, row, post.mean[j], post.sd[j])


def test_linear_nuts_matches_gaussian_posterior_with_known_sigma():
    assert_known_sigma_posterior(seed=5)


def test_nuts_by_blocks_of_rows_matches_gaussian_posterior(gradient_blocks):
    """Leapfrog gradients taken by blocks of 100 rows (as for big data): the exact posterior."""
    from freqbayes.inference.probabilistic import rows as R

    assert_known_sigma_posterior(seed=6)
    assert R._value_and_grad in gradient_blocks


# ---- posteriordb: an independent engine (Stan) -------------------------------------------


def _read_json_zip(path):
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read(zf.namelist()[0]))


def _reference(name):
    root = "reference/posteriordb"
    means = json.loads(shared_file(root, f"{name}.mean.json").read_text())
    chains = _read_json_zip(shared_file(root, f"{name}.json.zip"))
    sds = {k: float(np.std(np.concatenate([c[k] for c in chains]), ddof=1)) for k in chains[0]}
    return {
        k: (m, se, sds[k])
        for k, m, se in zip(means["names"], means["mean_value"], means["mcse_mean"], strict=True)
    }


def _compare_with_stan(tree, reference, rows):
    """Means within 4·sqrt(mcse_ref² + mcse_ours²), sds within 5%."""
    stats = summary(tree)
    assert_converged(tree, stats)
    for stan_name, row in rows.items():
        mean, mcse_ref, sd = reference[stan_name]
        got = stats.loc[row]
        tol = Z * np.hypot(mcse_ref, got["mcse_mean"])
        assert abs(got["mean"] - mean) <= tol, (row, got["mean"], mean, tol)
        assert got["sd"] == pytest.approx(sd, rel=0.05), (row, got["sd"], sd)


def test_sblri_blr_matches_stan():
    """y ~ N(Xβ, σ), no intercept; β_j ~ N(0, 10); σ ~ N⁺(0, 10)."""
    raw = _read_json_zip(shared_file("reference/posteriordb", "sblri.json.zip"))
    X, y = np.asarray(raw["X"], dtype=float), np.asarray(raw["y"], dtype=float)
    data = D.Dataset("sblri", y, X, tuple(f"x{j + 1}" for j in range(X.shape[1])))
    priors = {
        "beta_prior": P.Normal(0.0, 10.0),
        "intercept_prior": None,
        "sigma_prior": P.HalfNormal(10.0),
    }
    # σ mixes slowly here (bulk ESS 350–520 of 4 × 1,000 draws over seeds 8–15, r̂ up to
    # 1.02: NumPyro shrinks the mass matrix towards 1e-3, far above these coefficients'
    # posterior variances in the scaled coordinates): 2,000 draws per chain keep the
    # convergence checks from failing by chance
    tree = nuts("linear", data, priors=priors, seed=11, num_samples=2000)
    rows = {f"beta[{j + 1}]": f"beta[x{j + 1}]" for j in range(X.shape[1])} | {"sigma": "sigma"}
    _compare_with_stan(tree, _reference("sblri-blr"), rows)


def test_mesquite_logvolume_matches_stan():
    """log(weight) ~ N(β₁ + β₂ log(diam1·diam2·canopy_height), σ); flat priors on β and σ > 0."""
    raw = _read_json_zip(shared_file("reference/posteriordb", "mesquite.json.zip"))
    volume = np.log(
        np.asarray(raw["diam1"]) * np.asarray(raw["diam2"]) * np.asarray(raw["canopy_height"])
    )
    data = D.Dataset(
        "mesquite", np.log(np.asarray(raw["weight"], dtype=float)), volume[:, None], ("log_volume",)
    )
    priors = {"beta_prior": P.Flat(), "intercept_prior": P.Flat(), "sigma_prior": P.Flat()}
    tree = nuts("linear", data, priors=priors, seed=12)
    rows = {"beta[1]": "intercept", "beta[2]": "beta[log_volume]", "sigma": "sigma"}
    _compare_with_stan(tree, _reference("mesquite-logmesquite_logvolume"), rows)


def test_chains_split_over_two_devices_give_the_same_draws(tmp_path):
    """The command line gives JAX one CPU device per core and NUTS splits the chains over
    them: the draws must be those of the one-device run (same seed, same result)."""
    import subprocess
    import sys

    from freqbayes.inference.probabilistic.mcmc import chain_devices

    settings = {"seed": 3, "num_chains": 4, "num_warmup": 150, "num_samples": 100}
    code = f"""
import json, jax, numpy as np
jax.config.update("jax_num_cpu_devices", 2)
from freqbayes import data
from freqbayes.inference import nuts
tree = nuts("logistic", data.breast_cancer(), **{settings!r})
np.save({str(tmp_path / "beta.npy")!r}, tree.posterior["beta"].values)
print(json.loads(tree.attrs["settings"])["chain_method"])
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "2 devices" in out.stdout, out.stdout
    assert chain_devices(4) == 1  # this process: one device
    here = nuts("logistic", D.breast_cancer(), **settings).posterior["beta"].values
    np.testing.assert_allclose(np.load(tmp_path / "beta.npy"), here, rtol=1e-5, atol=1e-6)


def test_progress_bar_reports_every_iteration_and_leaves_the_draws_unchanged(capsys):
    settings = {"seed": 5, "num_chains": 2, "num_warmup": 130, "num_samples": 70}
    quiet = nuts("gaussian", D.iris_setosa(), progress=False, **settings)
    assert "NUTS" not in capsys.readouterr().err
    shown = nuts("gaussian", D.iris_setosa(), progress=True, **settings)
    err = capsys.readouterr().err
    assert "NUTS (chains × iterations): 100%" in err and "400/400" in err, err[-300:]
    for name in ("mu", "sigma"):
        np.testing.assert_array_equal(quiet.posterior[name].values, shown.posterior[name].values)


def test_vectorised_chains_sample_the_conjugate_posterior(capsys):
    """``chain_method="vectorized"`` (what "auto" picks on a GPU): the chains in one vmap."""
    data = D.iris_setosa()
    prior = gaussian.NIG(loc=5.0, kappa=0.5, alpha=2.0, beta=0.5)
    tree = nuts(
        "gaussian", data, priors=prior.priors(), seed=3, chain_method="vectorized", progress=True
    )
    assert json.loads(tree.attrs["settings"])["chain_method"] == "vmap"
    assert "8000/8000" in capsys.readouterr().err  # the bar counts every chain's iterations
    stats = summary(tree)
    assert_converged(tree, stats)
    post = gaussian.nig_posterior(data.y, prior)
    assert_matches(stats, "mu", post.mu_marginal().mean(), post.mu_marginal().std())
    assert_matches(stats, "sigma", *post.sigma_mean_sd())
    # another program than the sequential chains (which would give these draws bit for bit)
    sequential = nuts("gaussian", data, priors=prior.priors(), seed=3, chain_method="sequential")
    assert not np.array_equal(sequential.posterior["mu"].values, tree.posterior["mu"].values)


def test_chains_are_vectorised_on_accelerators_only():
    from freqbayes.inference.devices import vectorized_chains

    assert vectorized_chains("auto", platform="gpu") and vectorized_chains("auto", platform="tpu")
    assert not vectorized_chains("auto", platform="cpu") and not vectorized_chains("auto")
    assert vectorized_chains("vectorized", platform="cpu")
    assert not vectorized_chains("sequential", platform="gpu")
    with pytest.raises(ValueError, match="chain_method must be one of"):
        nuts("gaussian", D.iris_setosa(), chain_method="parallel")
