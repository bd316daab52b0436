"""MAP and MLE by optimisation against closed forms and scikit-learn.

The ``_x64`` tests run in their own float64 process (see conftest.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from freqbayes.inference import SeparationError, map_estimate, mle
from freqbayes.models import data as D
from freqbayes.models import gaussian, linear
from freqbayes.models import priors as P


def _point(tree, name):
    value = tree.posterior[name].values
    assert value.shape[:2] == (1, 1)
    return value[0, 0]


@pytest.fixture(scope="module")
def diabetes():
    return D.diabetes()


def test_map_with_unknown_sigma_is_ridge_at_its_own_sigma_x64(diabetes):
    """The joint MAP (θ, σ) is a fixed point: θ̂ = ridge with λ = σ̂²/τ²."""
    tau = 0.1
    priors = {
        "beta_prior": P.Normal(0.0, tau),
        "intercept_prior": P.Flat(),
        "sigma_prior": P.Flat(),
    }
    tree = map_estimate("linear", diabetes, priors=priors)
    sigma = float(_point(tree, "sigma"))
    ref = linear.ridge(diabetes.X, diabetes.y, linear.ridge_lambda(sigma, tau))
    np.testing.assert_allclose(_point(tree, "beta"), ref.beta, rtol=1e-5)


def test_mle_is_ols_x64(diabetes):
    tree = mle("linear", diabetes)
    ref = linear.ols(diabetes.X, diabetes.y)
    np.testing.assert_allclose(_point(tree, "beta"), ref.beta, rtol=1e-5)
    assert _point(tree, "intercept") == pytest.approx(ref.intercept, abs=1e-8)
    assert _point(tree, "sigma") ** 2 == pytest.approx(ref.sigma2, rel=1e-5)


def test_gaussian_mle_and_conjugate_map_x64():
    data = D.iris_setosa()
    fit = gaussian.mle(data.y)
    tree = mle("gaussian", data)
    assert _point(tree, "mu") == pytest.approx(fit.mu, rel=1e-6)
    assert _point(tree, "sigma") ** 2 == pytest.approx(fit.var, rel=1e-6)  # biased 1/n
    prior = gaussian.NIG(loc=4.0, kappa=2.0, alpha=3.0, beta=1.0)
    tree = map_estimate("gaussian", data, priors=prior.priors())
    mode = gaussian.nig_posterior(data.y, prior).mode()
    assert (_point(tree, "mu"), _point(tree, "sigma")) == pytest.approx(mode, rel=1e-6)


def test_logistic_map_matches_sklearn_x64():
    data = D.breast_cancer()
    tau = 0.5
    priors = {"beta_prior": P.Normal(0.0, tau), "intercept_prior": P.Flat()}
    tree = map_estimate("logistic", data, priors=priors)
    ref = LogisticRegression(C=tau**2, tol=1e-12, max_iter=10_000).fit(data.X, data.y)
    np.testing.assert_allclose(_point(tree, "beta"), ref.coef_[0], rtol=1e-4, atol=1e-7)
    assert _point(tree, "intercept") == pytest.approx(ref.intercept_[0], rel=1e-4)


def test_logistic_mle_matches_unpenalised_sklearn_x64(rng):
    X = rng.normal(size=(400, 3))
    y = (rng.random(400) < 1 / (1 + np.exp(-(X @ [1.0, -0.5, 0.25] + 0.3)))).astype(float)
    tree = mle("logistic", D.Dataset("overlap", y, X))
    ref = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(_point(tree, "beta"), ref.coef_[0], rtol=1e-4)


def test_logistic_mle_detects_complete_separation(rng):
    X = rng.normal(size=(60, 2))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(float)
    with pytest.raises(SeparationError, match="completely separated"):
        mle("logistic", D.Dataset("separable", y, X))
    # A proper prior keeps the MAP finite on the same data.
    tree = map_estimate("logistic", D.Dataset("separable", y, X))
    assert np.all(np.isfinite(_point(tree, "beta")))


def test_logistic_likelihood_is_finite_for_huge_logits():
    """Computed from logits: |θᵀx| ≥ 50 neither overflows nor gives log(0)."""
    X = np.array([[60.0], [-60.0], [80.0]])
    y = np.array([1.0, 0.0, 0.0])
    from freqbayes.models.probabilistic.logistic import log_likelihood

    ll = float(log_likelihood(X, y, np.array([1.0])))
    assert np.isfinite(ll)
    assert ll == pytest.approx(-80.0, rel=1e-6)


def test_point_estimate_float32_close_to_closed_form(diabetes):
    tree = mle("linear", diabetes)
    ref = linear.ols(diabetes.X, diabetes.y)
    np.testing.assert_allclose(_point(tree, "beta"), ref.beta, rtol=5e-3, atol=5e-4)


def test_minimize_finds_the_minimiser_of_a_quadratic(strict_promotion):
    """L-BFGS in one while_loop, under strict dtype and rank promotion."""
    import jax.numpy as jnp

    from freqbayes.inference.optim import minimize

    A = jnp.array([[3.0, 1.0], [1.0, 2.0]])
    b = jnp.array([1.0, -1.0])

    def f(x):
        return 0.5 * x["v"] @ A @ x["v"] - b @ x["v"]

    x, info = minimize(f, {"v": jnp.zeros(2)}, gtol=1e-4)
    np.testing.assert_allclose(x["v"], np.linalg.solve(np.asarray(A), np.asarray(b)), rtol=1e-4)
    assert int(info.iterations) < 20
    assert float(info.grad_norm) < 1e-4 and bool(info.converged)


def test_logistic_log_likelihood_under_strict_promotion(strict_promotion):
    import jax.numpy as jnp

    from freqbayes.models.probabilistic.logistic import log_likelihood

    X = jnp.array([[1.0, 2.0], [-1.0, 0.5]])
    y = jnp.array([1.0, 0.0])
    ll = log_likelihood(X, y, jnp.array([0.5, -0.25]), jnp.array(0.1))
    eta = np.asarray(X) @ [0.5, -0.25] + 0.1
    expected = np.sum(np.asarray(y) * eta - np.log1p(np.exp(eta)))
    assert float(ll) == pytest.approx(expected, rel=1e-6)


def test_blocked_hessian_is_the_hessian_of_all_rows(rng):
    """Summed over blocks of rows (the last one overlapping, its overlap masked) = jax.hessian."""
    import jax
    from jax.flatten_util import ravel_pytree

    from freqbayes.inference.probabilistic.problem import prepare
    from freqbayes.inference.probabilistic.rows import ROW_MASK, blocked_hessian

    X = rng.normal(size=(50, 3))
    y = (rng.random(50) < 1.0 / (1.0 + np.exp(-X @ [1.0, -0.5, 0.2]))).astype(float)
    problem = prepare("logistic", (X, y))
    target, kwargs = problem.target, problem.kwargs
    assert target.rows == ("y", "X") and kwargs[ROW_MASK].shape == (64,)
    flat, unravel = ravel_pytree(problem.zeros())
    flat = flat + 0.3

    def fun(v, kw):
        return target.potential(kw, problem.scaling, unravel(v))

    full = jax.hessian(lambda v: fun(v, kwargs))(flat)
    blocked = blocked_hessian(fun, flat, kwargs, target.rows, elements=24 * flat.size)
    np.testing.assert_allclose(blocked, full, rtol=1e-4, atol=1e-4)  # blocks of 24: 0, 24, 40


def test_blocked_value_and_grad_is_that_of_all_rows(rng, monkeypatch):
    """One pass by blocks (the last overlapping, its overlap masked) = jax.value_and_grad;
    the objective's value-and-gradient is the blocks', its value alone fun's on all rows."""
    import jax
    from jax.flatten_util import ravel_pytree

    from freqbayes.inference.probabilistic import rows as R
    from freqbayes.inference.probabilistic.problem import prepare

    X = rng.normal(size=(50, 3))
    y = (rng.random(50) < 1.0 / (1.0 + np.exp(-X @ [1.0, -0.5, 0.2]))).astype(float)
    problem = prepare("logistic", (X, y))
    target, kwargs = problem.target, problem.kwargs
    assert target.rows == ("y", "X") and kwargs[R.ROW_MASK].shape == (64,)
    flat, unravel = ravel_pytree(problem.zeros())
    flat = flat + 0.3

    def fun(v, kw):
        return target.potential(kw, problem.scaling, unravel(v))

    value, grad = jax.value_and_grad(lambda v: fun(v, kwargs))(flat)
    monkeypatch.setenv(R.GRADIENT_BLOCKS, "on")
    monkeypatch.setattr(R, "GRADIENT_BLOCK_ROWS", 1)
    blocks = []
    block_sum = R._block_sum
    monkeypatch.setattr(R, "_block_sum", lambda *a: blocks.append(a[-1]) or block_sum(*a))
    v, g = R.blocked_value_and_grad(fun, flat, kwargs, target.rows, elements=24 * flat.size)
    assert blocks == [24]  # blocks of 24 rows at 0, 24, 40
    np.testing.assert_allclose(v, value, rtol=1e-5)
    np.testing.assert_allclose(g, grad, rtol=1e-4, atol=1e-4)
    objective = R.blocked_objective(fun, kwargs, target.rows, elements=24 * flat.size)
    v2, g2 = jax.value_and_grad(objective)(flat)
    np.testing.assert_allclose(objective(flat), value, rtol=1e-6)  # its value alone: all rows
    np.testing.assert_allclose(v2, value, rtol=1e-5)  # the blocks' sum
    np.testing.assert_allclose(g2, grad, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(jax.grad(lambda v: 3.0 * objective(v))(flat), 3.0 * grad, rtol=1e-4)
    assert len(blocks) == 3  # the value and gradient twice, the gradient of 3 f once
    blocks.clear()
    v3, g3 = jax.value_and_grad(R.blocked_objective(fun, kwargs, target.rows))(flat)
    assert blocks == []  # 64 rows fit in one block: fun itself, the program without blocks
    assert float(v3) == float(value) and np.array_equal(g3, grad)


def test_gradients_go_by_blocks_only_where_they_pay(monkeypatch):
    """auto: a CPU with few cores and rows beyond the caches; on and off as said."""
    from freqbayes.inference.probabilistic import rows as R

    rows = ("X", "y")
    kwargs = {"X": np.zeros((45_000, 200), np.float32), "y": np.zeros(45_000, np.float32)}
    kwargs[R.ROW_MASK] = np.ones(45_000, bool)
    v = np.zeros(201, np.float32)
    monkeypatch.setattr(R, "usable_cores", lambda: 2)
    monkeypatch.setattr(R.jax, "default_backend", lambda: "cpu")
    monkeypatch.delenv(R.GRADIENT_BLOCKS, raising=False)
    assert R._gradient_block(v, kwargs, rows, None) == 5216  # 36 MB of rows, 2 cores
    small = {k: a[:20_000] for k, a in kwargs.items()}  # 16 MB: within the caches
    assert R._gradient_block(v, small, rows, None) is None
    monkeypatch.setattr(R.jax, "default_backend", lambda: "gpu")
    assert R._gradient_block(v, kwargs, rows, None) is None  # a GPU: all rows at once
    monkeypatch.setattr(R.jax, "default_backend", lambda: "cpu")
    monkeypatch.setattr(R, "usable_cores", lambda: 8)
    assert R._gradient_block(v, kwargs, rows, None) is None  # 8 cores: all rows at once
    monkeypatch.setenv(R.GRADIENT_BLOCKS, "on")
    assert R._gradient_block(v, small, rows, None) == 5216
    monkeypatch.setenv(R.GRADIENT_BLOCKS, "off")
    monkeypatch.setattr(R, "usable_cores", lambda: 1)
    assert R._gradient_block(v, kwargs, rows, None) is None
    monkeypatch.setenv(R.GRADIENT_BLOCKS, "sometimes")
    with pytest.raises(ValueError, match="FREQBAYES_GRADIENT_BLOCKS must be auto, on or off"):
        R._gradient_block(v, kwargs, rows, None)


def test_logistic_map_by_blocks_of_rows_matches_sklearn_x64(gradient_blocks):
    """MAP whose L-BFGS takes its gradients by blocks of 100 rows: scikit-learn's optimum."""
    from freqbayes.inference.probabilistic import rows as R

    data = D.breast_cancer()
    tau = 0.5
    priors = {"beta_prior": P.Normal(0.0, tau), "intercept_prior": P.Flat()}
    tree = map_estimate("logistic", data, priors=priors)
    assert R._value_and_grad in gradient_blocks
    ref = LogisticRegression(C=tau**2, tol=1e-12, max_iter=10_000).fit(data.X, data.y)
    np.testing.assert_allclose(_point(tree, "beta"), ref.coef_[0], rtol=1e-4, atol=1e-7)
    assert _point(tree, "intercept") == pytest.approx(ref.intercept_[0], rel=1e-4)


def test_polish_returns_the_point_it_certifies():
    """No step from a certified point; from a far one, the λ reported is the returned point's."""
    import jax.numpy as jnp

    from freqbayes.inference.optim import OptimInfo, newton_tol, polish

    A = jnp.array([[3.0, 1.0], [1.0, 2.0]])

    def f(x):
        return 0.5 * x @ A @ x + jnp.sum(x**4) / 4.0

    info = OptimInfo(jnp.array(0), jnp.array(0.0), jnp.array(0.0), jnp.array(False))
    near = jnp.array([1e-5, -1e-5])
    x, out = polish(f, near, info)
    np.testing.assert_array_equal(x, near)
    g = np.asarray(A @ near + near**3)
    lam = float(np.sqrt(g @ np.linalg.solve(np.asarray(A) + 3 * np.diag(near**2), g)))
    assert bool(out.converged) and float(out.newton_decrement) == pytest.approx(lam, rel=1e-3)
    x, out = polish(f, jnp.array([1.0, -2.0]), info, steps=10)
    assert bool(out.converged) and float(out.newton_decrement) <= newton_tol(x.dtype)
    g = np.asarray(A @ x + x**3)
    H = np.asarray(A) + 3 * np.diag(np.asarray(x) ** 2)
    assert float(out.newton_decrement) == pytest.approx(
        np.sqrt(g @ np.linalg.solve(H, g)), abs=1e-6
    )
    assert float(out.value) == pytest.approx(float(f(x)), rel=1e-6)  # carried, not recomputed
    # from minimize's info, whose value and gradient it takes instead of evaluating them
    from freqbayes.inference.optim import minimize

    start, first = minimize(f, jnp.array([1.0, -2.0]), gtol=1e-2, max_iter=3)
    assert first.grad is not None
    x1, out1 = polish(f, start, first, steps=10)
    x2, out2 = polish(f, start, first._replace(grad=None), steps=10)
    np.testing.assert_allclose(x1, x2, rtol=1e-6)
    assert float(out1.value) == pytest.approx(float(f(x1)), rel=1e-6)
    assert float(out1.newton_decrement) == pytest.approx(float(out2.newton_decrement), rel=1e-3)
    # the start's certificate is computed from the gradient it is given, not taken again
    _, own = polish(f, start, first, steps=0)
    _, given = polish(f, start, first._replace(grad=2.0 * first.grad), steps=0)
    assert float(given.newton_decrement) == pytest.approx(2 * float(own.newton_decrement))


def _logistic_rows(n, d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    beta = rng.normal(0.0, 0.5, d)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(X @ beta + 0.3)))).astype(float)
    return X, y


def test_sampled_hessian_is_the_exact_one_on_rows_it_samples_exactly():
    """Rows repeated n/c times: the sample's Hessian × n/c, with the prior's, is the exact one.

    Row ⌊(j + ½) n/c⌋ is one copy of base row j when each base row is repeated n/c times,
    so the estimate equals the full Hessian to rounding: the scaling by n/c, the prior
    counted once and the padded rows left out (5,000 real rows padded to 5,120).
    """
    import jax.numpy as jnp

    from freqbayes.inference.probabilistic.row_sample import sampled_hessian
    from freqbayes.inference.probabilistic.rows import ROW_MASK, blocked_hessian

    base, y0 = _logistic_rows(1000, 4)
    X, y = np.repeat(base, 5, axis=0), np.repeat(y0, 5)
    pad = 120
    kwargs = {
        "X": jnp.asarray(np.vstack([X, np.ones((pad, 4))])),
        "y": jnp.asarray(np.concatenate([y, np.ones(pad)])),
        ROW_MASK: jnp.asarray(np.arange(5000 + pad) < 5000),
    }

    def fun(v, kw):
        eta = kw["X"] @ v[1:] + v[0]
        rows = jnp.where(kw[ROW_MASK], jnp.logaddexp(0.0, eta) - kw["y"] * eta, 0.0)
        return jnp.sum(rows) + 0.5 * jnp.sum(v**2 / jnp.arange(1.0, 6.0))

    v = jnp.asarray([0.2, -0.1, 0.3, 0.05, -0.4])
    exact = np.asarray(blocked_hessian(fun, v, kwargs, ("X", "y")))
    approx = np.asarray(sampled_hessian(fun, v, kwargs, ("X", "y"), 1000))
    np.testing.assert_allclose(approx, exact, rtol=2e-4, atol=2e-4 * np.abs(exact).max())
    # rows not repeated: an estimate, within its relative error of about sqrt(p/c)
    X, y = _logistic_rows(5000, 4)
    kwargs = {"X": jnp.asarray(X), "y": jnp.asarray(y), ROW_MASK: jnp.ones(5000, bool)}
    exact = np.asarray(blocked_hessian(fun, v, kwargs, ("X", "y")))
    approx = np.asarray(sampled_hessian(fun, v, kwargs, ("X", "y"), 1000))
    error = np.linalg.eigvalsh(np.linalg.solve(np.linalg.cholesky(exact), approx)
                               @ np.linalg.inv(np.linalg.cholesky(exact)).T)  # fmt: skip
    assert np.all(np.abs(error - 1.0) < 0.25) and not np.allclose(approx, exact, rtol=1e-3)


def test_a_hessian_over_given_rows_by_several_blocks_is_the_hessian_of_those_rows():
    """``blocked_hessian(..., index=)``: 13 of 40 rows, blocks of 4 (the last one overlapping
    the one before), the prior once: the Hessian of those rows taken at once."""
    import jax
    import jax.numpy as jnp

    from freqbayes.inference.probabilistic.rows import ROW_MASK, blocked_hessian

    X, y = _logistic_rows(40, 4)
    kwargs = {"X": jnp.asarray(X), "y": jnp.asarray(y), ROW_MASK: jnp.arange(40) < 33}

    def fun(v, kw):
        eta = kw["X"] @ v[1:] + v[0]
        rows = jnp.where(kw[ROW_MASK], jnp.logaddexp(0.0, eta) - kw["y"] * eta, 0.0)
        return jnp.sum(rows) + 0.5 * jnp.sum(v**2 / jnp.arange(1.0, 6.0))

    v = jnp.asarray([0.2, -0.1, 0.3, 0.05, -0.4])
    index = jnp.asarray([0, 3, 5, 7, 8, 12, 13, 20, 21, 25, 30, 31, 32])
    got = blocked_hessian(fun, v, kwargs, ("X", "y"), elements=4 * 5, index=index)
    taken = {"X": kwargs["X"][index], "y": kwargs["y"][index], ROW_MASK: jnp.ones(13, bool)}
    want = jax.hessian(fun)(v, taken)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-6)


def test_a_big_fit_is_certified_by_a_sample_and_exactly_where_that_fails(monkeypatch):
    """More rows than CERTIFICATE_ROWS: the sampled certificate, the same estimate as all rows'.

    And a column nonzero only in rows the systematic sample skips: the MLE's sampled
    Hessian is singular there, so the certificate is redone with all rows, recorded as such.
    """
    import json

    from freqbayes.inference.probabilistic import optimize

    X, y = _logistic_rows(5000, 4)
    exact = map_estimate("logistic", (X, y))
    monkeypatch.setattr(optimize, "CERTIFICATE_ROWS", 1000)
    sampled = map_estimate("logistic", (X, y))
    record = json.loads(sampled.attrs["settings"])
    assert record["newton_hessian_rows"] == 1000 and record["converged"]
    assert record["start_rows"] == 1000  # L-BFGS on the sample, then quasi-Newton steps
    assert json.loads(exact.attrs["settings"])["newton_hessian_rows"] == 5000
    assert json.loads(exact.attrs["settings"])["start_rows"] == 0
    for name in ("beta", "intercept"):
        np.testing.assert_allclose(_point(sampled, name), _point(exact, name), rtol=1e-4, atol=1e-5)
    rare = np.zeros(5000)
    rare[[0, 1, 3, 4]] = 1.0  # the sample takes rows 2, 7, 12, ...
    y[[0, 1, 3, 4]] = [0.0, 1.0, 0.0, 1.0]
    tree = mle("logistic", (np.column_stack([X, rare]), y))
    record = json.loads(tree.attrs["settings"])
    assert record["newton_hessian_rows"] == 5000 and record["converged"]
    assert record["start_rows"] == 0  # L-BFGS on all rows, as on fewer rows
    monkeypatch.setattr(optimize, "CERTIFICATE_ROWS", 10**6)
    reference = mle("logistic", (np.column_stack([X, rare]), y))
    np.testing.assert_allclose(
        _point(tree, "beta"), _point(reference, "beta"), rtol=1e-4, atol=1e-4
    )


def test_the_sample_start_is_the_optimum_of_the_sampled_rows_weighted_by_n_over_c():
    """L-BFGS on every fifth row, weighted by 5: the MAP of those rows each repeated 5 times.

    A prior strong enough that the weight shows: with weight 1 the prior would count five
    times as much against the rows.
    """
    from freqbayes.inference.optim import default_gtol
    from freqbayes.inference.probabilistic.problem import float_dtype, prepare
    from freqbayes.inference.probabilistic.sample_start import sample_start

    X, y = _logistic_rows(5000, 4)
    priors = {"beta_prior": P.Normal(0.0, 0.02), "intercept_prior": P.Normal(0.0, 1.0)}
    problem = prepare("logistic", (X, y), priors)
    target, kwargs, s = problem.target, problem.kwargs, problem.scaling
    gtol = default_gtol(float_dtype(), problem.n)
    u, info = sample_start(target, kwargs, s, problem.zeros(), gtol, "posterior", 1000, 1000)
    assert bool(info.converged)
    start = target.constrain(kwargs, s, u)
    rows = np.arange(2, 5000, 5)  # row floor((j + 1/2) * 5)
    repeated = (np.repeat(X[rows], 5, axis=0), np.repeat(y[rows], 5))
    reference = map_estimate("logistic", repeated, priors=priors)
    for name in ("beta", "intercept"):
        np.testing.assert_allclose(start[name], _point(reference, name), rtol=1e-3, atol=1e-4)
    unweighted = map_estimate("logistic", (X[rows], y[rows]), priors=priors)
    assert np.max(np.abs(start["beta"] - _point(unweighted, "beta"))) > 1e-2


def test_no_sample_and_no_hessian_beyond_max_newton_dim(monkeypatch):
    """More parameters than MAX_NEWTON_DIM: L-BFGS alone on every row, recorded as such."""
    import json

    from freqbayes.inference.probabilistic import optimize

    monkeypatch.setattr(optimize, "CERTIFICATE_ROWS", 1000)
    monkeypatch.setattr(optimize, "MAX_NEWTON_DIM", 6)  # 8 parameters: 7 slopes, intercept
    X, y = _logistic_rows(5003, 7, seed=3)  # a shape no other test compiles
    record = json.loads(map_estimate("logistic", (X, y)).attrs["settings"])
    assert record["converged"] and np.isnan(record["newton_decrement"])
    assert record["newton_hessian_rows"] == 0 and record["start_rows"] == 0


def test_laplace_on_many_rows_is_centred_where_it_was(monkeypatch):
    """Laplace's mode (L-BFGS on all rows, its certificate sampled) and its sds, as before."""
    import json

    from freqbayes.inference import fit
    from freqbayes.inference.probabilistic import optimize

    X, y = _logistic_rows(5000, 4, seed=5)
    exact = fit("logistic", "laplace", (X, y), num_samples=2000, seed=1)
    monkeypatch.setattr(optimize, "CERTIFICATE_ROWS", 1000)
    sampled = fit("logistic", "laplace", (X, y), num_samples=2000, seed=1)
    beta = [tree.posterior["beta"] for tree in (exact, sampled)]
    sd = beta[0].std(("chain", "draw")).values
    shift = (beta[1].mean(("chain", "draw")) - beta[0].mean(("chain", "draw"))).values / sd
    assert np.max(np.abs(shift)) < 1e-2  # the same draws about modes 10^-3 sd apart at most
    np.testing.assert_allclose(beta[1].std(("chain", "draw")).values, sd, rtol=1e-3)
    assert json.loads(sampled.attrs["settings"])["newton_hessian_rows"] == 1000
    assert json.loads(exact.attrs["settings"])["newton_hessian_rows"] == 5000
