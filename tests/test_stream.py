"""Minibatch SVI on a Parquet table read chunk by chunk (issue 27).

:func:`~freqbayes.inference.probabilistic.shares.read_streamed` and
:mod:`freqbayes.inference.probabilistic.svi_stream`: the whole table's scaling from one
pass of summaries, the likelihood's Taylor terms summed over the chunks, the fit against
the full-data Laplace approximation on a table sorted by its outcome (every chunk
unlike the whole), and the refusals.
"""

from __future__ import annotations

import functools
import json

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xarray as xr
from jax.flatten_util import ravel_pytree

from freqbayes.inference import ConvergenceError, fit
from freqbayes.inference.probabilistic import stream_mode, svi_stream
from freqbayes.inference.probabilistic.problem import hashable_shapes, prepare
from freqbayes.inference.probabilistic.shares import chunks, read_streamed
from freqbayes.models import tables
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
        for part in ("loc", "scale"):  # the intercept's centre is the link-scale mean's
            np.testing.assert_allclose(getattr(streamed.priors[k], part), getattr(prior, part))


@pytest.mark.parametrize("rows", [CHUNK, 500])  # 6 chunks, the last short; 6 exactly
def test_the_sample_is_uniform_rows_of_the_table_by_its_seed(table, rows):
    model = get_model("logistic")
    whole = tables.from_file(table, model)
    got = read_streamed(table, model, chunk_rows=rows, seed=4)
    same = read_streamed(table, model, chunk_rows=rows, seed=4)
    other = read_streamed(table, model, chunk_rows=rows, seed=5)
    assert got.X.shape == (rows, 3) and got.share.size == rows and got.share.n == 3000
    index = {tuple(r): i for i, r in enumerate(whole.X)}  # the table's rows are distinct
    picked = np.array([index[tuple(r)] for r in got.X])
    assert len(set(picked)) == rows and np.array_equal(got.y, whole.y[picked])
    assert np.array_equal(same.X, got.X) and not np.array_equal(other.X, got.X)
    # sorted by y, the first chunk has no y = 1; a uniform sample has about the share's
    assert abs(got.y.mean() - whole.y.mean()) < 4 * np.sqrt(whole.y.var() / rows)


def _unravel(problem):
    shapes = hashable_shapes(problem.latent_shapes())
    return ravel_pytree({k: jnp.zeros(v.shape, v.dtype) for k, v in shapes})[1]


def test_the_taylor_terms_are_the_whole_tables_log_likelihood(table):
    """L₀, g₀ and H₀ summed over the chunks, at two points: those of every row's."""
    model = get_model("logistic")
    whole = prepare(model, str(table))
    streamed = prepare(model, read_streamed(table, model, chunk_rows=CHUNK))
    unravel = _unravel(whole)

    def log_lik(v):
        return whole.target.log_density(whole.kwargs, whole.scaling, unravel(v), False)

    u = jnp.asarray([0.3, -0.2, 0.1, 0.4], whole.scaling.x_mean.dtype)
    points = [u, jnp.zeros_like(u)]
    terms = stream_mode.taylor_terms(streamed, points)
    for point, (total, grad, hess) in zip(points, terms, strict=True):
        assert total == pytest.approx(float(log_lik(point)), rel=1e-5)
        np.testing.assert_allclose(grad, jax.grad(log_lik)(point), rtol=1e-4, atol=1e-3)
        np.testing.assert_allclose(hess, jax.hessian(log_lik)(point), rtol=1e-4, atol=1e-2)


def test_the_minibatch_estimate_is_the_expansion_plus_n_over_c_times_the_samples_remainder(
    table,
):
    """E over minibatches of the model's log-likelihood factor, given the sample:
    L₀ + g₀ᵀd + ½dᵀH₀d + (n/c) Σ_{i in sample} (ℓ_i − q_i), within 5 standard errors,
    at a point far enough from u₀ for the remainder to count (n/c = 3000/512)."""
    from numpyro.handlers import seed, substitute, trace

    model = get_model("logistic")
    problem = prepare(model, read_streamed(table, model, chunk_rows=CHUNK))
    unravel, rows = _unravel(problem), ("y", "X")
    u0 = jnp.asarray([0.3, -0.2, 0.1, 0.4], problem.scaling.x_mean.dtype)
    ((total, grad, hess),) = stream_mode.taylor_terms(problem, [u0])
    d = jnp.full_like(u0, 0.3)
    # the guide's coordinates z, whitened: u = a + L z = u₀ + d
    mix = 0.5 * jnp.eye(4, dtype=u0.dtype) + 0.1 * jnp.tril(jnp.ones((4, 4), u0.dtype))
    z = jnp.asarray([0.2, -0.1, 0.4, 0.3], u0.dtype)
    parts = (u0, total, grad, hess, 3000.0, u0 + d - mix @ z, mix, CHUNK)
    taylor = dict(zip(svi_stream.TAYLOR_ARGUMENTS, parts, strict=True))
    kwargs = {**problem.kwargs, **{k: jnp.asarray(v, u0.dtype) for k, v in taylor.items()}}
    kwargs[svi_stream.HELD] = jnp.asarray(CHUNK, jnp.int32)  # the sample's rows
    program = functools.partial(svi_stream._taylor_model, target=problem.target,
                                unravel=unravel, size=4, batch=64, rows=rows)  # fmt: skip

    def factor(key):
        run = seed(substitute(program, data={"u": z}), key)
        return trace(run).get_trace(kwargs=kwargs, s=problem.scaling)["log_likelihood"]["fn"]

    keys = jax.random.split(jax.random.key(0), 4000)
    values = np.asarray(jax.vmap(lambda k: factor(k).log_factor)(keys), dtype=np.float64)
    data = {k: v for k, v in kwargs.items() if k not in ("row_mask", *svi_stream.TAYLOR_ARGUMENTS)}
    every = jnp.arange(CHUNK)
    rest = svi_stream._remainders(problem.target, unravel, data, rows, every, problem.scaling,
                                  u0 + d, u0)[1].sum()  # fmt: skip
    expected = total + grad @ d + 0.5 * d @ hess @ d + 3000 / CHUNK * float(rest)
    se = values.std() / np.sqrt(len(values))
    assert abs(values.mean() - expected) < 5 * se, (values.mean(), expected, se)
    assert abs(float(rest)) * (3000 / CHUNK - 1) > 20 * se  # c/m′ would be told apart


def test_streamed_svi_on_a_sorted_table_is_the_full_data_posterior(table):
    """Within 0.1 posterior sd of the full-data Laplace approximation, sds within 10 %.

    The table is sorted by y, so its chunks are unlike it; the full-data Newton passes
    and the whole table's Taylor terms make the fit right. Its DataTree holds no rows
    (no observed or pointwise groups).
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
    settings = json.loads(tree.attrs["settings"])
    assert settings["chunks"] == 6 and settings["converged"] and settings["newton_converged"]
    assert settings["newton_path"][-1] == settings["newton_decrement"]
    assert settings["newton_passes"] == len(settings["newton_path"]) <= 3  # README: 2-3
    assert tree.attrs["n_obs"] == 3000


def test_newton_that_does_not_finish_is_refused(table, monkeypatch):
    model = get_model("logistic")
    data = read_streamed(table, model, chunk_rows=CHUNK)
    monkeypatch.setattr(stream_mode, "MAX_PASSES", 1)
    with pytest.raises(ConvergenceError, match="did not find the mode in 1 passes"):
        fit(model, "svi", data, batch_size=128, num_steps=100)


def test_methods_that_need_every_row_refuse_a_streamed_table(table):
    model = get_model("logistic")
    data = read_streamed(table, model, chunk_rows=CHUNK)
    with pytest.raises(ValueError, match="map needs every row in memory"):
        fit(model, "map", data)
    with pytest.raises(ValueError, match="pointwise: 'all': a table read in chunks"):
        fit(model, "svi", data, batch_size=10, pointwise="all")
    with pytest.raises(ValueError, match="batch_size: a table read in chunks"):
        fit(model, "svi", data, num_steps=10)
    with pytest.raises(ValueError, match="with Taylor control variates only"):
        fit(model, "svi", data, batch_size=10, control_variates="none")
    with pytest.raises(ValueError, match="is not a Parquet file"):
        read_streamed(table.with_suffix(".csv"), model)
    with pytest.raises(ValueError, match="chunk_rows: must be an integer of at least 2"):
        read_streamed(table, model, chunk_rows=1)


def test_the_command_line_fits_a_streamed_table(table, tmp_path, capsys):
    from freqbayes.cli import main

    out = tmp_path / "out"
    argv = ["run", "logistic", "--data", str(table), "--stream", "--method", "svi",
            "--batch-size", "128", "--draws", "200", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    assert "svi: " in capsys.readouterr().out
    manifest = json.loads((out / "manifest-logistic.json").read_text())
    assert manifest["status"] == "finished" and manifest["data"]["n"] == 3000
    tree = xr.open_datatree(out / "logistic-svi.nc")
    assert set(tree.children) == {"posterior"} and tree.attrs["observed_variable"] == "y"
    new = tmp_path / "new.csv"
    pd.read_parquet(table).drop(columns="y").head(3).to_csv(new, index=False)
    assert main(["predict", str(out / "logistic-svi.nc"), "--data", str(new)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("row,mean") and len(lines) == 4, lines


def test_the_command_line_refuses_a_stream_it_cannot_fit_before_writing(table, tmp_path, capsys):
    from freqbayes.cli import main

    out = tmp_path / "out"
    for extra, said in (
        (["--method", "map"], "--stream: map needs every row in memory"),
        (["--method", "svi"], "--stream: set --batch-size"),
        (["--method", "svi", "--batch-size", "9", "--pointwise", "all"], "--pointwise: a table"),
    ):
        argv = ["run", "logistic", "--data", str(table), "--stream", "--out", str(out), *extra]
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and said in err[0], err
    argv = ["run", "logistic", "--data", str(table), "--method", "svi", "--chunk-rows", "9"]
    assert main(argv) == 2
    assert "--chunk-rows applies to --stream" in capsys.readouterr().err
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


def test_one_chunk_is_the_in_memory_svi_not_the_laplace_approximation(small):
    """With every row held, the remainder's minibatch estimate is unbiased: the fit is
    in-memory SVI's (within 0.05 sd), whose means differ from the Laplace mode's here.

    Full-rank guides: the streamed fit's guide lives in whitened coordinates, and a
    full-rank Gaussian family is the same in any affine coordinates (a mean-field one is
    not)."""
    model = get_model("logistic")
    data = read_streamed(small, model, chunk_rows=60)
    streamed = fit(model, "svi-fullrank", data, batch_size=20, seed=1)
    svi = _means(fit(model, "svi-fullrank", str(small), seed=1))
    laplace = _means(fit(model, "laplace", str(small), seed=1))
    got, sd = _means(streamed), svi.std(0)
    assert np.all(np.abs(got.mean(0) - svi.mean(0)) / sd < 0.05), (got.mean(0), svi.mean(0))
    assert np.max(np.abs(laplace.mean(0) - svi.mean(0)) / sd) > 0.2
    assert streamed.attrs["settings"].count('"chunks": 1') == 1


def test_a_sample_too_small_for_the_remainder_is_refused(small):
    """60 rows, far from Gaussian, streamed with a sample of 20: the half-sample error of
    the remainder is about 0.6 log-density units over the posterior (tolerance 0.1)."""
    model = get_model("logistic")
    data = read_streamed(small, model, chunk_rows=20)
    with pytest.raises(ConvergenceError, match=r"the sample's error varies by about 0\.\d"):
        fit(model, "svi-fullrank", data, batch_size=20, num_steps=3000, seed=1)
    kept = fit(model, "svi-fullrank", data, batch_size=20, num_steps=3000, seed=1,
               allow_unconverged=True)  # fmt: skip
    assert json.loads(kept.attrs["settings"])["taylor_remainder_error"] > 0.1


def test_a_likelihood_not_log_concave_at_zero_still_finds_its_start(tmp_path):
    """A linear regression with R² ≈ 0.98: at u = 0 (β = 0, σ at y's sd) the Hessian of
    −log p is not positive definite, so the samples' Newton starts take modified steps.
    Both Taylor kernels, in memory and streamed, land within 0.2 posterior sd of the
    full-data Laplace approximation (sigma's posterior is the least Gaussian)."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 2)) * [1.0, 10.0] + [0.0, 5.0]
    y = 2.0 + X @ [1.5, -0.3] + rng.normal(size=3000) * 0.5
    frame = pd.DataFrame(X, columns=["a", "b"]).assign(y=y)
    path = tmp_path / "linear.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=200)
    model = get_model("linear")
    laplace = fit(model, "laplace", str(path), seed=0, pointwise="none")
    settings = dict(batch_size=100, num_steps=3000, seed=2)
    in_memory = fit(model, "svi", str(path), pointwise="none", **settings)
    streamed = fit(model, "svi", read_streamed(path, model, chunk_rows=CHUNK), **settings)
    for tree in (in_memory, streamed):
        record = json.loads(tree.attrs["settings"])
        assert record["newton_converged"] and record["sample_newton_passes"] > 2
        for name in ("intercept", "beta", "sigma"):
            got = np.asarray(tree.posterior[name]).reshape(4000, -1)
            ref = np.asarray(laplace.posterior[name]).reshape(4000, -1)
            z = (got.mean(0) - ref.mean(0)) / ref.std(0)
            assert np.all(np.abs(z) < 0.2), (name, z)
