"""Compile budgets of the probabilistic methods: data of nearby sizes share one program.

The built-in models pad their rows to a shape bucket with a masked likelihood
(:mod:`freqbayes.inference.probabilistic.rows`): a second fit on data of another size in
the same bucket compiles nothing, the coverage study at three n of one bucket compiles
the programs of one n, and a padded fit equals the unpadded one
(``FREQBAYES_SHAPE_BUCKETS=off``): to 1e-10 in float64 for the optimisers (the MLE
through Wald's estimate), within 4 MCSE for NUTS, whose draws are not identical: the
padded sum adds its terms in another order (the potential differed by 1.4e-14 of 40),
and chaotic trajectories part from the first draws. Compilations are counted through
JAX's monitoring events (:func:`~freqbayes.inference.compilation.count_compilations`);
a program read from the persistent cache counts too, so the budgets hold either way.
"""

from __future__ import annotations

import numpy as np
import pytest

from freqbayes.inference import fit, prepare
from freqbayes.inference.buckets import VARIABLE, bucket_size
from freqbayes.inference.compilation import count_compilations
from freqbayes.inference.probabilistic.rows import ROW_MASK
from freqbayes.models.dataset import Dataset

NUTS = {"num_chains": 2, "num_warmup": 150, "num_samples": 150}


def logistic_data(n: int, seed: int = 0) -> Dataset:
    """n rows of two raw-unit features (means 100 and 50) and overlapping labels."""
    rng = np.random.default_rng([seed, n])
    X = np.column_stack([rng.normal(100.0, 10.0, n), rng.normal(50.0, 12.0, n)])
    eta = 0.3 + 0.08 * (X[:, 0] - 100.0) - 0.05 * (X[:, 1] - 50.0)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-eta))).astype(float)
    return Dataset(f"logistic n={n}", y, X, ("dose", "age"))


@pytest.mark.filterwarnings("ignore:logistic. NUTS:RuntimeWarning")  # short chains
@pytest.mark.parametrize("method", ["nuts", "map"])
def test_a_second_fit_of_another_size_in_the_bucket_compiles_nothing(method):
    assert bucket_size(100) == bucket_size(110) == 128
    settings = NUTS if method == "nuts" else {}
    fit("logistic", method, logistic_data(100), seed=0, **settings)
    with count_compilations() as seen:
        tree = fit("logistic", method, logistic_data(110), seed=0, **settings)
    assert seen.count == 0, seen.table()
    # what the user sees has the 110 real rows, not the 128 of the bucket
    assert tree.attrs["n_obs"] == 110
    assert tree.observed_data.sizes["obs"] == 110
    assert tree.constant_data["X"].shape == (110, 2)
    pointwise = "log_likelihood" if method == "nuts" else "log_likelihood_at_estimate"
    assert tree[pointwise].sizes["obs"] == 110
    assert tree.posterior_predictive.sizes["obs"] == 110
    assert tree.prior_predictive.sizes["obs"] == 110


def test_the_coverage_study_at_three_sizes_of_one_bucket_compiles_the_programs_of_one():
    from freqbayes.lessons.coverage import frequentist_coverage

    ns = (40, 44, 48)
    assert len({bucket_size(n) for n in ns}) == 1
    study = {"reps": 8, "num_replicates": 30, "seed": 3}
    with count_compilations() as first:
        frequentist_coverage(ns=ns[:1], **study)
    with count_compilations() as others:
        table = frequentist_coverage(ns=ns[1:], **study)
    assert others.count == 0, f"first n: {first.count} programs; the others:\n{others.table()}"
    assert sorted(table["n"].unique()) == [44, 48]


def test_a_users_program_keeps_its_exact_size():
    import numpyro
    import numpyro.distributions as dist

    def program(x=None):
        mu = numpyro.sample("mu", dist.Normal(0.0, 10.0))
        with numpyro.plate("obs", 13):
            numpyro.sample("x", dist.Normal(mu, 1.0), obs=x)

    problem = prepare(program, {"x": np.linspace(-1.0, 1.0, 13)})
    assert ROW_MASK not in problem.args and problem.args["x"].shape == (13,)
    padded = prepare("gaussian", Dataset("x", np.linspace(-1.0, 1.0, 13)))
    assert padded.args["x"].shape == (16,) and padded.n == 13
    assert padded.args[ROW_MASK].tolist() == [True] * 13 + [False] * 3


def _fit_both(monkeypatch, model, method, data, **settings):
    monkeypatch.delenv(VARIABLE, raising=False)
    padded = fit(model, method, data, seed=0, **settings)
    monkeypatch.setenv(VARIABLE, "off")
    exact = fit(model, method, data, seed=0, **settings)
    monkeypatch.delenv(VARIABLE)
    return padded, exact


def _assert_same(a, b, rtol: float) -> None:
    assert set(a.data_vars) == set(b.data_vars)
    for name in a.data_vars:
        np.testing.assert_allclose(
            a[name].values, b[name].values, rtol=rtol, atol=rtol, err_msg=name
        )


def _binomial_data() -> Dataset:
    rng = np.random.default_rng(5)
    X = rng.normal(20.0, 4.0, (37, 1))
    trials = rng.integers(1, 9, 37).astype(float)
    y = rng.binomial(trials.astype(int), 1.0 / (1.0 + np.exp(-(X[:, 0] - 20.0) / 4.0)))
    return Dataset("trials", y.astype(float), X, ("dose",), inputs={"trials": trials})


@pytest.mark.parametrize(
    ("model", "method", "data"),
    [
        ("logistic", "map", None),
        ("logistic", "laplace", None),
        ("logistic", "wald", None),
        ("binomial", "map", "trials"),
        ("gaussian", "mle", "gaussian"),
    ],
)
def test_a_padded_fit_equals_the_unpadded_one_x64(monkeypatch, model, method, data):
    data = {
        None: logistic_data(53),
        "trials": _binomial_data(),
        "gaussian": Dataset("x", np.random.default_rng(2).normal(5.0, 2.0, 21)),
    }[data]
    # the pointwise groups (and the prior's) once: each is one more program to compile
    pointwise = "auto" if method == "map" and model == "logistic" else "none"
    padded, exact = _fit_both(monkeypatch, model, method, data, pointwise=pointwise, prior_draws=0)
    assert prepare(model, data).padded  # 53, 37 and 21 rows are not bucket sizes
    for group in ("posterior", "log_likelihood_at_estimate", "confidence_interval", "std_error"):
        if group in exact.children:
            _assert_same(padded[group].dataset, exact[group].dataset, 1e-10)
    _assert_same(padded.observed_data.dataset, exact.observed_data.dataset, 0.0)


def test_padded_nuts_agrees_with_unpadded_nuts_within_mcse_x64(monkeypatch):
    import arviz as az

    data = logistic_data(53)
    settings = {"num_chains": 4, "num_warmup": 300, "num_samples": 300, "pointwise": "none"}
    padded, exact = _fit_both(monkeypatch, "logistic", "nuts", data, **settings)
    a = az.summary(padded, round_to="none")
    b = az.summary(exact, round_to="none")
    mcse = np.hypot(a["mcse_mean"], b["mcse_mean"])
    assert (np.abs(a["mean"] - b["mean"]) <= 4 * mcse).all(), (a, b)


def test_bootstrap_resamples_draw_the_real_rows_only():
    import jax

    from freqbayes.inference.probabilistic import bootstrap as B
    from freqbayes.inference.probabilistic.optimize import point_estimate

    problem = prepare("logistic", logistic_data(53))
    assert problem.size == 64
    u, params, _ = point_estimate(problem, "likelihood")
    keys = jax.random.split(jax.random.key(0), 6)
    args = (problem.target, problem.kwargs, problem.scaling, problem.static_inputs, u, params)
    *_, counts = B.refit(*args, keys, 1e-4, False, False, 6, 50)
    counts = np.asarray(counts)
    assert (counts.sum(axis=1) == 53).all()  # n draws with replacement of the n real rows
    assert (counts[:, 53:] == 0).all()  # never a padded row
    assert (counts[:, :53] > 0).mean() > 0.5  # spread over the real rows (1 − 1/e ≈ 0.63)
