"""Minibatch SVI in memory with first-order Taylor control variates (issue 27).

:mod:`freqbayes.inference.probabilistic.svi_control`: the estimate of the
log-likelihood (unbiased, drawn from the real rows only, with far less noise than eq.
5.98's plain one), and the fit against the full-data Laplace approximation (10⁴ rows,
where the posterior is Gaussian to about 0.01 sd) with the approximate Hessian of a
sample of the rows.
"""

from __future__ import annotations

import functools
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree
from numpyro.handlers import seed, substitute, trace

from freqbayes.inference import fit
from freqbayes.inference.probabilistic import svi_control, svi_stream
from freqbayes.inference.probabilistic.problem import hashable_shapes, prepare
from freqbayes.inference.probabilistic.rows import ROW_MASK
from freqbayes.showcase.subsampling import tall_logistic

SCALES, CENTRES, WEIGHTS = np.array([1.0, 10.0, 0.1]), np.array([0.0, 5.0, 0.0]), [0.8, -0.05, 4.0]


def logistic_data(n: int, seed: int = 0):
    """A logistic regression in raw units (that of ``tests/test_subsampling.py``)."""
    return tall_logistic(n, seed, SCALES, CENTRES, np.array(WEIGHTS))


@pytest.fixture(scope="module")
def poisoned():
    """520 rows padded to the 576-row bucket, and the same with the 56 padded rows' features
    NaN (for the minibatches: the full data's sums mask the padded rows by a product)."""
    problem = prepare("logistic", logistic_data(520, seed=2))
    assert problem.padded and problem.size == 576
    mask = np.asarray(problem.args[ROW_MASK])
    X = np.where(mask[:, None], np.asarray(problem.args["X"]), np.nan)
    args = {**problem.args, "X": jnp.asarray(X, problem.args["X"].dtype)}
    return problem, problem.__class__(problem.model, problem.data, problem.priors,
                                      problem.arrays, args, problem.scaling)  # fmt: skip


def test_the_estimate_is_the_full_log_likelihood_with_less_noise(poisoned):
    """E over minibatches of m′ = 26 rows: Σ_i ℓ_i(u) over the 520 real rows, within 5
    standard errors, at a point 0.3 from u₀ in every coordinate; never a padded (NaN)
    row; and its sd a fifth or less of eq. 5.98's plain estimate's at the same point."""
    problem, nan_padded = poisoned
    shapes = hashable_shapes(problem.latent_shapes())
    unravel = ravel_pytree({k: jnp.zeros(v.shape, v.dtype) for k, v in shapes})[1]
    dtype = problem.scaling.x_mean.dtype
    u0 = jnp.asarray([0.3, -0.2, 0.1, 0.4], dtype)
    total, grad = svi_control.full_terms(problem.target, shapes, problem.kwargs,
                                         problem.scaling, u0)  # fmt: skip
    u = u0 + 0.3
    mix = 0.5 * jnp.eye(4, dtype=dtype) + 0.1 * jnp.tril(jnp.ones((4, 4), dtype))
    z = jnp.asarray([0.2, -0.1, 0.4, 0.3], dtype)
    parts = (u0, total, grad, jnp.eye(4, dtype=dtype), 520.0, u - mix @ z, mix)
    taylor = {
        k: jnp.asarray(v, dtype)
        for k, v in zip(svi_stream.TAYLOR_ARGUMENTS[:7], parts, strict=True)
    }
    kwargs = {**nan_padded.kwargs, **taylor, svi_stream.HELD: jnp.asarray(520, jnp.int32)}
    program = functools.partial(svi_stream._taylor_model, target=problem.target,
                                unravel=unravel, size=4, batch=26, rows=("y", "X"),
                                order=1)  # fmt: skip

    def factor(key):
        run = seed(substitute(program, data={"u": z}), key)
        return trace(run).get_trace(kwargs=kwargs, s=problem.scaling)["log_likelihood"]["fn"]

    keys = jax.random.split(jax.random.key(0), 4000)
    values = np.asarray(jax.vmap(lambda k: factor(k).log_factor)(keys), dtype=np.float64)
    assert np.isfinite(values).all(), int(np.sum(~np.isfinite(values)))
    exact = problem.target.log_density(problem.kwargs, problem.scaling, unravel(u),
                                       include_prior=False)  # fmt: skip
    se = values.std() / np.sqrt(len(values))
    assert abs(values.mean() - float(exact)) < 5 * se, (values.mean(), float(exact), se)
    plain = _plain_estimates(problem, unravel, u, keys)
    assert values.std() < plain.std() / 5, (values.std(), plain.std())


def _plain_estimates(problem, unravel, u, keys):
    """Eq. 5.98's estimates (n/m′ times the minibatch's sum) at u, one per key."""
    from numpyro.infer.util import log_density

    from freqbayes.inference.probabilistic import svi

    program = functools.partial(svi._subsampled_model, target=problem.target, unravel=unravel,
                                size=4, subsample=svi.subsample_of(problem, 26))  # fmt: skip
    kw = {"kwargs": problem.kwargs, "s": problem.scaling}
    prior = -problem.target.potential(problem.kwargs, problem.scaling, unravel(u))
    prior -= problem.target.log_density(problem.kwargs, problem.scaling, unravel(u),
                                        include_prior=False)  # fmt: skip

    def one(key):
        return log_density(seed(program, key), (), kw, {"u": u})[0]

    return np.asarray(jax.vmap(one)(keys), np.float64) - float(prior)


@pytest.fixture(scope="module")
def data():
    return logistic_data(10_000)


@pytest.fixture(scope="module")
def reference(data):
    """Full-data posterior means and sds (Laplace, 20,000 draws: MCSE 0.007 sd)."""
    tree = fit("logistic", "laplace", data, seed=0, num_samples=5000, pointwise="none")
    draws = {k: np.asarray(tree.posterior[k]).reshape(20_000, -1) for k in ("intercept", "beta")}
    return np.column_stack([draws["intercept"], draws["beta"]])


def test_the_fit_is_the_full_data_posterior_from_a_sample_hessian(data, reference, monkeypatch):
    """m′ = 200 of 10⁴ rows, the start and the approximate Hessian from a sample of 2,000
    rows: means within 0.1 posterior sd of the full-data Laplace approximation's, sds
    within 10 %; the quasi-Newton iteration converged in more than one pass (the sample's
    mode is not the table's); the same seed, the same draws."""
    monkeypatch.setattr(svi_control, "SAMPLE_ROWS", 2000)
    settings = dict(batch_size=200, num_steps=4000, pointwise="none", prior_draws=0, seed=3)
    tree = fit("logistic", "svi", data, **settings)
    post = tree.posterior
    got = np.column_stack([np.asarray(post[k]).reshape(4000, -1) for k in ("intercept", "beta")])
    z = (got.mean(0) - reference.mean(0)) / reference.std(0)
    assert np.all(np.abs(z) < 0.1), z
    np.testing.assert_allclose(got.std(0), reference.std(0), rtol=0.1)
    record = json.loads(tree.attrs["settings"])
    assert record["control_variates"] == "taylor" and record["taylor_order"] == 1
    assert record["hessian_rows"] == 2000 and record["rows_per_step"] == 200
    assert record["newton_converged"] and record["converged"]
    assert record["sample_newton_converged"]
    assert 2 <= record["newton_passes"] == len(record["newton_path"])
    again = fit("logistic", "svi", data, **settings)
    np.testing.assert_array_equal(post["beta"], again.posterior["beta"])


def test_by_default_the_minibatches_come_from_the_real_rows_of_the_padded_data(
    data, reference, monkeypatch
):
    """n = 10⁴ ≤ the sample's size: the sample is every row (the padded array and its
    mask, 10,240 rows), the Hessian exact; the minibatches are drawn from the first n
    rows, the estimate scaled by n (not the padded size). Means within 0.1 posterior sd
    of Laplace's."""
    seen = {}
    original = svi_control.fit_taylor

    def spy(problem, key, settings, kwargs, *rest):
        seen.update(size=problem.size, held=int(kwargs[svi_stream.HELD]),
                    rows=float(kwargs[svi_stream.ROWS]))  # fmt: skip
        return original(problem, key, settings, kwargs, *rest)

    monkeypatch.setattr(svi_control, "fit_taylor", spy)
    tree = fit("logistic", "svi", data, batch_size=200, num_steps=4000, pointwise="none",
               prior_draws=0, seed=4)  # fmt: skip
    assert seen == {"size": 10_240, "held": 10_000, "rows": 10_000.0}, seen
    post = tree.posterior
    got = np.column_stack([np.asarray(post[k]).reshape(4000, -1) for k in ("intercept", "beta")])
    z = (got.mean(0) - reference.mean(0)) / reference.std(0)
    assert np.all(np.abs(z) < 0.1), z
    assert json.loads(tree.attrs["settings"])["hessian_rows"] == 10_000


def test_control_variates_must_be_named():
    with pytest.raises(ValueError, match=r"control_variates: must be one of taylor, none"):
        fit("logistic", "svi", logistic_data(200), batch_size=10, control_variates="yes")
