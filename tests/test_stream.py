"""Minibatch SVI on a Parquet table read chunk by chunk (issue 27).

:func:`~freqbayes.inference.probabilistic.shares.read_streamed` and
:mod:`freqbayes.inference.probabilistic.svi_stream`: the whole table's scaling from one
pass of summaries, the likelihood's Taylor terms summed over the chunks, the fit against
the full-data Laplace approximation on a table sorted by its outcome (every chunk
unlike the whole), and the refusals.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from jax.flatten_util import ravel_pytree

from freqbayes.inference import ConvergenceError, fit
from freqbayes.inference.probabilistic import svi_stream
from freqbayes.inference.probabilistic.problem import hashable_shapes, prepare
from freqbayes.inference.probabilistic.shares import chunks, read_streamed
from freqbayes.models.registry import get_model

#: Rows per chunk: the 3,000-row table is read in 6 chunks, the last one short.
CHUNK = 512


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory):
    """A logistic regression's 3,000 rows in raw units, sorted by the outcome.

    Every chunk but one holds a single outcome, so a fit on any chunk's rows alone, or a
    minibatch estimate from them without the whole table's terms, is far off.
    """
    rng = np.random.default_rng(3)
    n = 3000
    X = rng.normal(size=(n, 3)) * [1.0, 10.0, 0.1] + [0.0, 5.0, 0.0]
    eta = 0.3 + X @ [0.8, -0.05, 4.0]
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(y=y).sort_values("y")
    path = tmp_path_factory.mktemp("stream") / "sorted.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=200)
    return path


def test_chunks_cover_every_row_once():
    assert chunks(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert chunks(8, 4) == [(0, 4), (4, 8)]
    assert chunks(3, 4) == [(0, 3)]


def test_a_streamed_table_has_the_whole_tables_scaling_and_priors(table):
    model = get_model("logistic")
    whole = prepare(model, str(table))
    streamed = prepare(model, read_streamed(table, model, chunk_rows=CHUNK))
    assert streamed.streamed and not whole.streamed
    assert streamed.n == whole.n == 3000
    assert streamed.args["X"].shape == (CHUNK, 3) and bool(streamed.args["row_mask"].all())
    for a, b in zip(whole.scaling, streamed.scaling, strict=True):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-6)
    for k, prior in whole.priors.items():
        np.testing.assert_allclose(streamed.priors[k].scale, prior.scale, rtol=1e-6)


def test_the_taylor_terms_are_the_whole_tables_log_likelihood(table):
    """L₀, g₀ and H₀ summed over the chunks: those of the log-likelihood of every row."""
    model = get_model("logistic")
    whole = prepare(model, str(table))
    streamed = prepare(model, read_streamed(table, model, chunk_rows=CHUNK))
    shapes = hashable_shapes(whole.latent_shapes())
    unravel = ravel_pytree({k: jnp.zeros(v.shape, v.dtype) for k, v in shapes})[1]
    u = jnp.asarray([0.3, -0.2, 0.1, 0.4], whole.scaling.x_mean.dtype)
    (total, grad, hess), again = svi_stream.taylor_terms(streamed, [u, u])
    assert all(np.array_equal(a, b) for a, b in zip((total, grad, hess), again, strict=True))

    def log_lik(v):
        return whole.target.log_density(whole.kwargs, whole.scaling, unravel(v), False)

    assert total == pytest.approx(float(log_lik(u)), rel=1e-5)
    np.testing.assert_allclose(grad, jax.grad(log_lik)(u), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(hess, jax.hessian(log_lik)(u), rtol=1e-4, atol=1e-2)


def test_streamed_svi_on_a_sorted_table_is_the_full_data_posterior(table):
    """Within 0.1 posterior sd of the full-data Laplace approximation, sds within 10 %.

    The table is sorted by y: the first chunk's mode is far from the posterior (only y =
    0 there), so the full-data Newton passes and the whole table's Taylor terms are what
    make the fit right. Its DataTree holds no rows (no observed or pointwise groups).
    """
    model = get_model("logistic")
    data = read_streamed(table, model, chunk_rows=CHUNK)
    tree = fit(model, "svi", data, batch_size=128, num_steps=3000, num_samples=500, seed=2)
    laplace = fit(model, "laplace", str(table), seed=2)
    for name in ("intercept", "beta"):
        got = np.asarray(tree.posterior[name]).reshape(2000, -1)
        ref = np.asarray(laplace.posterior[name]).reshape(4000, -1)
        z = (got.mean(0) - ref.mean(0)) / ref.std(0)
        assert np.all(np.abs(z) < 0.1), (name, z)
        np.testing.assert_allclose(got.std(0), ref.std(0), rtol=0.1)
    assert set(tree.children) == {"posterior"}
    settings = tree.attrs["settings"]
    assert '"chunks": 6' in settings and '"converged": true' in settings
    assert tree.attrs["n_obs"] == 3000


def test_methods_that_need_every_row_refuse_a_streamed_table(table):
    model = get_model("logistic")
    data = read_streamed(table, model, chunk_rows=CHUNK)
    with pytest.raises(ValueError, match="map needs every row in memory"):
        fit(model, "map", data)
    with pytest.raises(ValueError, match="batch_size: a table read in chunks"):
        fit(model, "svi", data, num_steps=10)
    with pytest.raises(ValueError, match="is not a Parquet file"):
        read_streamed(table.with_suffix(".csv"), model)


def test_the_command_line_refuses_a_stream_it_cannot_fit_before_writing(table, tmp_path, capsys):
    from freqbayes.cli import main

    out = tmp_path / "out"
    for extra in (["--method", "map"], ["--method", "svi"]):
        argv = ["run", "logistic", "--data", str(table), "--stream", "--out", str(out), *extra]
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "--stream:" in err[0] and "needs every row" in err[0], err
    assert not out.exists()


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory):
    """60 rows with strong effects, sorted by y: a posterior far from Gaussian."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(60, 2))
    y = (rng.random(60) < 1 / (1 + np.exp(-(1.0 + X @ [2.5, -2.0])))).astype(float)
    frame = pd.DataFrame(X, columns=["a", "b"]).assign(y=y).sort_values("y")
    path = tmp_path_factory.mktemp("stream") / "small.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=20)
    return path


def _means(tree) -> np.ndarray:
    post = tree.posterior
    return np.concatenate([np.asarray(post[k]).reshape(-1, 1 if k == "intercept" else 2)
                           for k in ("intercept", "beta")], axis=1)  # fmt: skip


def test_one_chunk_is_the_in_memory_minibatch_svi_not_the_laplace_approximation(small):
    """With every row held, the remainder's minibatch estimate is unbiased: the fit is
    in-memory SVI's (within 0.05 sd), whose means differ from the Laplace mode's here."""
    model = get_model("logistic")
    streamed = fit(model, "svi", read_streamed(small, model, chunk_rows=60), batch_size=20, seed=1)
    svi = _means(fit(model, "svi", str(small), seed=1))
    laplace = _means(fit(model, "laplace", str(small), seed=1))
    got, sd = _means(streamed), svi.std(0)
    assert np.all(np.abs(got.mean(0) - svi.mean(0)) / sd < 0.05), (got.mean(0), svi.mean(0))
    assert np.max(np.abs(laplace.mean(0) - svi.mean(0)) / sd) > 0.2
    assert streamed.attrs["settings"].count('"chunks": 1') == 1


def test_a_log_likelihood_far_from_quadratic_over_chunks_is_refused(small):
    model = get_model("logistic")
    data = read_streamed(small, model, chunk_rows=30)
    with pytest.raises(ConvergenceError, match=r"Taylor remainder sd \d"):
        fit(model, "svi", data, batch_size=20, num_steps=3000, seed=1)
