"""A user's own model and method join through the public registry, without editing the package.

A Poisson regression is defined here, in the test file, registered with
``freqbayes.register_model`` and run through every registered method, the DataTree
contract and ``freqbayes run``; a method (draws from the prior) is registered the
same way and reaches ``inference.fit`` and the command line.
"""

from __future__ import annotations

import json
import time

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pytest
from sklearn.linear_model import PoissonRegressor

import freqbayes
from freqbayes import cli
from freqbayes.inference import fit, parse_methods
from freqbayes.inference.probabilistic.datatree import draws_to_datatree
from freqbayes.inference.probabilistic.method import Method
from freqbayes.inference.probabilistic.problem import check_seed, prepare
from freqbayes.inference.registry import METHODS
from freqbayes.models.checks import check_counts
from freqbayes.models.dataset import Dataset
from freqbayes.models.probabilistic.model import Model
from freqbayes.models.probabilistic.priors import LOCATION_PRIORS, location
from freqbayes.models.probabilistic.scaling import Roles
from freqbayes.models.registry import MODELS

TRUE_BETA = np.array([0.4, -0.3])
TRUE_INTERCEPT = 1.0


def poisson_program(X, y=None, *, beta_prior, intercept_prior):
    """y_i ~ Poisson(exp(b + θᵀx_i))."""
    beta = location("beta", beta_prior, (X.shape[1],))
    intercept = location("intercept", intercept_prior)
    with numpyro.plate("obs", X.shape[0]):
        numpyro.sample("y", dist.Poisson(jnp.exp(X @ beta + intercept)), obs=y)


def poisson_data(n: int = 200, seed: int = 3) -> Dataset:
    """Counts from the true model, with raw-unit features (means near 100)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 2))
    X = 100.0 + 10.0 * z
    rate = np.exp(TRUE_INTERCEPT + z @ TRUE_BETA)
    y = rng.poisson(rate).astype(float)
    return Dataset("synthetic-poisson", y, X, ("dose", "age"), {"source": "test"})


POISSON = Model(
    name="poisson",
    program=poisson_program,
    observed="y",
    outcome=check_counts,
    prior_types={"beta_prior": LOCATION_PRIORS, "intercept_prior": LOCATION_PRIORS},
    # counts on a log link have no units; weights and intercept follow the features' units
    roles=Roles(y="y", noise=None, y_has_units=False),
    dims={"beta": ("feature",)},
    default_data=poisson_data,
    about="Poisson regression with a log link (defined in a test)",
)


def prior_draws(model, data, *, seed=0, priors=None, num_samples=500, **_):
    """A user's method: draws from the prior, in the same DataTree contract."""
    seed = check_seed(seed)
    problem = prepare(model, data, priors)
    started = time.perf_counter()
    key_prior, key_pred = jax.random.split(jax.random.key(seed))
    kwargs = {k: v for k, v in problem.kwargs.items() if k != problem.model.observed}
    predictive = numpyro.infer.Predictive(problem.model.program, num_samples=num_samples)
    flat = predictive(key_prior, **kwargs)
    return draws_to_datatree(
        problem,
        flat,
        chains=1,
        draws=num_samples,
        key=key_pred,
        method="prior",
        seed=seed,
        settings={"num_samples": num_samples},
        wall_time=time.perf_counter() - started,
    )


PRIOR = Method("prior", prior_draws, about="draws from the prior (defined in a test)")


@pytest.fixture(scope="module")
def registered():
    freqbayes.register_model(POISSON)
    freqbayes.register_method(PRIOR)
    yield
    MODELS.unregister("poisson")
    METHODS.unregister("prior")


@pytest.fixture(scope="module")
def data():
    return poisson_data()


@pytest.fixture(scope="module")
def mle_reference(data):
    """scikit-learn's unpenalised Poisson GLM (float64 LBFGS to 1e-12)."""
    ref = PoissonRegressor(alpha=0.0, tol=1e-12, max_iter=10_000).fit(data.X, data.y)
    return ref.coef_, ref.intercept_


@pytest.fixture(scope="module")
def fits(registered, data):
    methods = parse_methods("all", "poisson")
    return {m: fit("poisson", data, m, seed=5, **METHODS.get(m).quick) for m in methods}


def test_every_method_is_run(fits):
    assert set(fits) == {m for m in METHODS.names() if METHODS.get(m).general}
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
    assert (tree.attrs["model"], tree.attrs["seed"]) == ("poisson", 5)
    assert tree.attrs["method"].startswith(method.replace("-fullrank", ""))
    # counts: every predictive draw is a non-negative integer
    pred = np.asarray(tree.posterior_predictive["y"])
    assert np.all(pred >= 0) and np.all(pred == np.round(pred))


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


def test_counts_are_checked(registered, data):
    bad = Dataset("bad", np.r_[data.y[:-1], 0.5], data.X, data.feature_names)
    with pytest.raises(ValueError, match="counts"):
        fit("poisson", bad, "map")


def test_command_line_runs_the_registered_model(registered, tmp_path, capsys):
    out = tmp_path / "fits"
    code = cli.main(["run", "poisson", "--method", "map,prior", "--out", str(out)])
    assert code == cli.EXIT_OK, capsys.readouterr().err
    manifest = json.loads((out / "manifest-poisson.json").read_text())
    assert manifest["status"] == "finished"
    assert manifest["data"]["name"] == "synthetic-poisson"
    assert {m["status"] for m in manifest["methods"].values()} == {"ok"}
    assert sorted(p.name for p in out.glob("*.nc")) == ["poisson-map.nc", "poisson-prior.nc"]
    listing = capsys.readouterr().out
    assert "beta" in listing
    cli.main(["list"])
    listing = capsys.readouterr().out
    assert "poisson" in listing and "prior" in listing


def test_registering_twice_needs_replace(registered):
    with pytest.raises(ValueError, match="already registered"):
        freqbayes.register_model(POISSON)
    with pytest.raises(TypeError, match="Model"):
        freqbayes.register_model(poisson_program)
