"""Subsampling methods (issue 27): minibatch SVI and HMCECS on a logistic regression.

The reference is the Laplace approximation on the full data (10⁴ rows, where the
posterior is Gaussian to about 0.01 sd; ``benchmarks/subsampling.py`` compares both
methods with full-data NUTS at 10⁵ and 10⁶ rows, which would cost a test minutes).
"""

from __future__ import annotations

import functools
import json
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree
from numpyro.handlers import seed as seed_handler
from numpyro.infer.util import log_density

from freqbayes.inference import fit
from freqbayes.inference.probabilistic import svi
from freqbayes.inference.probabilistic.problem import hashable_shapes, prepare
from freqbayes.inference.probabilistic.rows import ROW_MASK
from freqbayes.models.dataset import Dataset
from freqbayes.showcase.subsampling import tall_logistic

N = 10_000


def logistic_data(n: int, seed: int = 0) -> Dataset:
    """A logistic regression in raw units: features on scales 1, 10 and 0.1, off-centre."""
    scales, centres = np.array([1.0, 10.0, 0.1]), np.array([0.0, 5.0, 0.0])
    return tall_logistic(n, seed, scales, centres, np.array([0.8, -0.05, 4.0]))


@pytest.fixture(scope="module")
def data() -> Dataset:
    return logistic_data(N)


@pytest.fixture(scope="module")
def reference(data):
    """Full-data posterior means and sds (Laplace, 20,000 draws: MCSE 0.007 sd)."""
    tree = fit("logistic", "laplace", data, seed=0, num_samples=10_000, pointwise="none")
    post = tree.posterior
    return post.mean(("chain", "draw")), post.std(("chain", "draw"))


def distances(tree, reference) -> dict[str, np.ndarray]:
    """|mean − reference mean| in reference posterior sds, per site."""
    mean, sd = reference
    got = tree.posterior.mean(("chain", "draw"))
    return {k: np.abs(np.asarray((got[k] - mean[k]) / sd[k])) for k in ("beta", "intercept")}


def test_minibatch_svi_means_within_a_tenth_of_a_posterior_sd(data, reference):
    """Eq. 5.98's plain estimate (``control_variates="none"``), m′ = 2,000 of 10⁴ rows per
    step: the averaged guide's error is the minibatch noise,
    about 0.03 sd here (Polyak–Ruppert over 8,000 steps); the same seed, the same draws."""
    settings = dict(batch_size=2000, num_steps=40_000, pointwise="none", prior_draws=0,
                    control_variates="none")  # fmt: skip
    tree = fit("logistic", "svi", data, seed=3, **settings)
    assert json.loads(tree.attrs["settings"])["rows_per_step"] == 2000
    far = distances(tree, reference)
    assert all((d < 0.1).all() for d in far.values()), far
    sd = tree.posterior["beta"].std(("chain", "draw")) / reference[1]["beta"]
    assert np.all(np.abs(np.asarray(sd) - 1) < 0.15), sd  # the mean-field sds, near the Laplace
    again = fit("logistic", "svi", data, seed=3, **settings)
    np.testing.assert_array_equal(tree.posterior["beta"], again.posterior["beta"])


def test_hmcecs_means_within_a_tenth_of_a_posterior_sd(data, reference):
    """HMCECS with m′ = 500 and Taylor control variates at the MAP: NUTS sampled on an
    estimate of the likelihood from 5% of the rows."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no diagnostics warning either
        tree = fit(
            "logistic",
            "hmcecs",
            data,
            seed=1,
            batch_size=500,
            num_chains=2,
            num_warmup=300,
            num_samples=1500,
            pointwise="none",
            prior_draws=0,
        )
    far = distances(tree, reference)
    assert all((d < 0.1).all() for d in far.values()), far
    assert {"diverging", "step_size", "acceptance_rate"} <= set(tree.sample_stats.data_vars)
    assert json.loads(tree.attrs["settings"])["rows_per_step"] == 500


@pytest.fixture(scope="module")
def padded_problem():
    """520 rows padded to the 576-row bucket; the 56 padded rows poisoned with NaN."""
    problem = prepare("logistic", logistic_data(520, seed=2))
    assert problem.padded and problem.size == 576
    mask = np.asarray(problem.args[ROW_MASK])
    X = np.where(mask[:, None], np.asarray(problem.args["X"]), np.nan)
    return problem.__class__(
        problem.model,
        problem.data,
        problem.priors,
        problem.arrays,
        {**problem.args, "X": jnp.asarray(X, problem.args["X"].dtype)},
        problem.scaling,
    )


def minibatch_log_density(problem, batch_size: int, draws: int, exact: bool = True):
    """log p̂(u, y) of the minibatch program at one u, for ``draws`` keys, and log p(u, y)
    (``exact``; None without)."""
    shapes = hashable_shapes(problem.latent_shapes())
    zeros, unravel = ravel_pytree({k: jnp.zeros(v.shape, v.dtype) for k, v in shapes})
    u = jnp.linspace(-0.5, 0.5, zeros.shape[0], dtype=zeros.dtype)
    program = functools.partial(
        svi._subsampled_model,
        target=problem.target,
        unravel=unravel,
        size=zeros.shape[0],
        subsample=svi.subsample_of(problem, batch_size),
    )
    kw = {"kwargs": problem.kwargs, "s": problem.scaling}

    def one(key):
        return log_density(seed_handler(program, key), (), kw, {"u": u})[0]

    estimates = jax.vmap(one)(jax.random.split(jax.random.key(0), draws))
    if not exact:
        return np.asarray(estimates, np.float64), None
    value = -problem.target.potential(problem.kwargs, problem.scaling, unravel(u))
    return np.asarray(estimates, np.float64), float(value)


def test_the_minibatch_never_draws_a_padded_row(padded_problem):
    """Every estimate is finite: not one of 2,000 minibatches of 260 rows drew a NaN row
    (drawn from all 576 rows, a minibatch would miss the 56 padded ones with p ≈ 10⁻¹²)."""
    estimates, _ = minibatch_log_density(padded_problem, 260, 2000, exact=False)
    assert np.isfinite(estimates).all(), int(np.sum(~np.isfinite(estimates)))


def test_the_minibatch_log_density_is_unbiased():
    """E[log p̂(u, y)] = log p(u, y): the n/m′ scaling of eq. 5.98, summed over n real rows
    (within 4 standard errors of 2,000 minibatches)."""
    problem = prepare("logistic", logistic_data(520, seed=2))
    estimates, exact = minibatch_log_density(problem, 26, 2000)
    se = estimates.std() / np.sqrt(estimates.size)
    assert abs(estimates.mean() - exact) < 4 * se, (estimates.mean(), exact, se)


def test_a_minibatch_of_a_program_without_declared_rows_is_refused():
    """A user's program does not say which arguments have rows: one line, no guess."""
    import numpyro
    import numpyro.distributions as dist

    def program(x, y=None):
        mu = numpyro.sample("mu", dist.Normal(0.0, 10.0))
        with numpyro.plate("rows", x.shape[0]):
            numpyro.sample("y", dist.Normal(mu + x, 1.0), obs=y)

    data = {"x": np.linspace(-1.0, 1.0, 40), "y": np.linspace(0.0, 2.0, 40)}
    with pytest.raises(ValueError, match=r"batch_size: model .* does not declare"):
        fit(program, "svi", data, batch_size=10, num_steps=10)
