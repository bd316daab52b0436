"""A user's own model and method join through the public registry, without editing the package.

An exponential regression (waiting times on a log link: a model the package does not
have; its Poisson regression is the built-in ``poisson``) is defined here, in the test
file, registered with ``freqbayes.register_model`` and run through every registered
method, the DataTree contract and ``freqbayes run``; a method (draws from the prior)
is registered the same way and reaches ``inference.fit`` and the command line.
"""

from __future__ import annotations

import json
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pytest
from sklearn.linear_model import GammaRegressor

import freqbayes
from freqbayes import cli
from freqbayes.inference import fit, parse_methods
from freqbayes.inference.probabilistic.method import Draws, Method, as_chains
from freqbayes.inference.registry import METHODS
from freqbayes.models.dataset import Dataset
from freqbayes.models.probabilistic.model import Model
from freqbayes.models.probabilistic.priors import LOCATION_PRIORS, location
from freqbayes.models.probabilistic.scaling import Roles
from freqbayes.models.registry import MODELS

TRUE_BETA = np.array([0.4, -0.3])
TRUE_INTERCEPT = 1.0


def waiting_program(X, y=None, *, beta_prior, intercept_prior):
    """y_i ~ Exponential with mean exp(b + θᵀx_i)."""
    beta = location("beta", beta_prior, (X.shape[1],))
    intercept = location("intercept", intercept_prior)
    with numpyro.plate("obs", X.shape[0]):
        numpyro.sample("y", dist.Exponential(jnp.exp(-(X @ beta + intercept))), obs=y)


def positive(y: np.ndarray) -> np.ndarray:
    """Waiting times are > 0 (a user's outcome check)."""
    if np.any(y <= 0):
        raise ValueError(f"y must hold waiting times > 0; got {int(np.sum(y <= 0))} other(s)")
    return y


def waiting_data(n: int = 200, seed: int = 3) -> Dataset:
    """Waiting times from the true model, with raw-unit features (means near 100)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 2))
    X = 100.0 + 10.0 * z
    y = rng.exponential(np.exp(TRUE_INTERCEPT + z @ TRUE_BETA))
    return Dataset("synthetic-waiting-times", y, X, ("dose", "age"), {"source": "test"})


WAITING = Model(
    name="waiting",
    program=waiting_program,
    observed="y",
    outcome=positive,
    prior_types={"beta_prior": LOCATION_PRIORS, "intercept_prior": LOCATION_PRIORS},
    # on a log link the outcome's units go into the intercept; weights follow the features'
    roles=Roles(y="y", noise=None, y_has_units=False),
    dims={"beta": ("feature",)},
    default_data=waiting_data,
    about="exponential regression of waiting times on a log link (defined in a test)",
)


class PriorSettings(NamedTuple):
    num_samples: int = 500


def prior_draws(problem, key, settings):
    """A user's method: draws from the prior (the kernel; the template does the rest)."""
    inputs = {k: v for k, v in problem.kwargs.items() if k != problem.model.observed}
    draw = numpyro.infer.Predictive(problem.model.program, num_samples=settings.num_samples)
    return Draws(as_chains(draw(key, **inputs), 1, settings.num_samples))


PRIOR = Method("prior", prior_draws, PriorSettings, about="draws from the prior", check=None)


@pytest.fixture(scope="module")
def registered():
    freqbayes.register_model(WAITING)
    freqbayes.register_method(PRIOR)
    yield
    MODELS.unregister("waiting")
    METHODS.unregister("prior")


@pytest.fixture(scope="module")
def data():
    return waiting_data()


@pytest.fixture(scope="module")
def mle_reference(data):
    """scikit-learn's unpenalised Gamma GLM, log link (float64 LBFGS to 1e-12).

    Its coefficients solve the exponential's score equations: a Gamma's shape only
    scales them.
    """
    ref = GammaRegressor(alpha=0.0, tol=1e-12, max_iter=10_000).fit(data.X, data.y)
    return ref.coef_, ref.intercept_


@pytest.fixture(scope="module")
def fits(registered, data):
    methods = parse_methods("all", "waiting")
    return {m: fit("waiting", data, m, seed=5, **METHODS.get(m).quick) for m in methods}


def test_every_method_is_run(fits):
    assert set(fits) == {
        m for m in METHODS.names() if METHODS.get(m).general and METHODS.get(m).in_all
    }
    assert "prior" in fits and "nuts" in fits and "sgld" in fits


@pytest.mark.parametrize(
    "method", ["mle", "map", "laplace", "svi", "svi-fullrank", "nuts", "sgld", "prior"]
)
def test_datatree_contract(fits, data, method):
    tree = fits[method]
    point = METHODS.get(method).kind == "point"
    ll = "log_likelihood_at_estimate" if point else "log_likelihood"
    for group in ("posterior", "posterior_predictive", ll, "observed_data"):
        assert group in tree.children, (method, group)
    assert tree.posterior["beta"].dims == ("chain", "draw", "feature")
    assert list(tree.posterior["beta"].coords["feature"].values) == ["dose", "age"]
    assert tree.posterior_predictive["y"].shape[-1] == data.n
    np.testing.assert_array_equal(tree.observed_data["y"], data.y.astype(np.float32))
    assert (tree.attrs["model"], tree.attrs["seed"]) == ("waiting", 5)
    assert tree.attrs["method"].startswith(method.replace("-fullrank", ""))
    # waiting times: no predictive draw is negative (a prior draw's rate can be 1e30,
    # whose draws underflow to 0 in float32)
    assert np.all(np.asarray(tree.posterior_predictive["y"]) >= 0)


def test_mle_matches_scikit_learn(fits, mle_reference):
    coef, intercept = mle_reference
    tree = fits["mle"]
    beta = np.asarray(tree.posterior["beta"]).reshape(-1)
    b = float(np.asarray(tree.posterior["intercept"]).reshape(-1)[0])
    # raw features (means 100): the slopes to 1e-4 relative in float32
    np.testing.assert_allclose(beta, coef, rtol=1e-4)
    np.testing.assert_allclose(b, intercept, rtol=1e-3)


@pytest.mark.parametrize("method", ["laplace", "svi", "svi-fullrank", "nuts"])
def test_posteriors_agree_with_nuts_and_the_truth(fits, method):
    """Weak default priors, n = 200: every posterior centres within 0.25 NUTS sd of NUTS's."""
    nuts = fits["nuts"].posterior["beta"]
    mean = np.asarray(fits[method].posterior["beta"].mean(("chain", "draw")))
    sd = np.asarray(nuts.std(("chain", "draw")))
    np.testing.assert_array_less(np.abs(mean - np.asarray(nuts.mean(("chain", "draw")))), 0.25 * sd)
    # and the truth (slope per unit = β / 10 for features of sd 10) within 4 sd
    np.testing.assert_array_less(np.abs(mean - TRUE_BETA / 10.0), 4 * sd)


def test_prior_method_draws_from_the_default_prior(fits, data):
    """The registered method sees the autoscaled priors: θ_j ~ N(0, (2.5 / s_j)²)."""
    beta = np.asarray(fits["prior"].posterior["beta"]).reshape(-1, 2)
    scale = 2.5 / data.X.std(axis=0)
    se = scale * np.sqrt(2 / (2 * (beta.shape[0] - 1)))  # sd of a sample sd
    np.testing.assert_array_less(np.abs(beta.std(axis=0) - scale), 4 * se)


def test_outcome_is_checked(registered, data):
    bad = Dataset("bad", np.r_[data.y[:-1], -0.5], data.X, data.feature_names)
    with pytest.raises(ValueError, match="waiting times > 0"):
        fit("waiting", bad, "map")


def test_command_line_runs_the_registered_model(registered, tmp_path, capsys):
    out = tmp_path / "fits"
    code = cli.main(["run", "waiting", "--method", "map,prior", "--out", str(out)])
    assert code == cli.EXIT_OK, capsys.readouterr().err
    manifest = json.loads((out / "manifest-waiting.json").read_text())
    assert manifest["status"] == "finished"
    assert manifest["data"]["name"] == "synthetic-waiting-times"
    assert {m["status"] for m in manifest["methods"].values()} == {"ok"}
    assert sorted(p.name for p in out.glob("*.nc")) == ["waiting-map.nc", "waiting-prior.nc"]
    listing = capsys.readouterr().out
    assert "beta" in listing
    cli.main(["list"])
    listing = capsys.readouterr().out
    assert "waiting" in listing and "prior" in listing


def test_registering_twice_needs_replace(registered):
    with pytest.raises(ValueError, match="already registered"):
        freqbayes.register_model(WAITING)
    with pytest.raises(TypeError, match="Model"):
        freqbayes.register_model(waiting_program)
