"""The GLM families as registered models: poisson, negbinomial, binomial and robust.

References in float64 (``_x64``): statsmodels' ``GLM`` (Poisson; Binomial with trials;
NegativeBinomial at α fixed at its MLE) and ``NegativeBinomial`` (NB2, α estimated
jointly); for the Student-t, a direct scipy optimisation of its likelihood written
here with ``scipy.stats``, statsmodels' ``TLinearModel`` (its MLE; ``RLM`` with a t norm
is an M-estimator with its own scale, equal only when σ and ν are held at the MLE) and
the autodiff Hessian of ``jax.scipy``'s t density for the se. NUTS against a dense
grid of the same posterior (the priors the fit resolved, written again with
``scipy.stats``; the negative-binomial and Student-t likelihoods written out with
``scipy.special.gammaln``, the same formulas, their constants once per grid point)
within 4 MCSE.
"""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats
from scipy.special import gammaln

from freqbayes import cli
from freqbayes.inference import fit, predict, prepare
from freqbayes.inference.probabilistic.frequentist import Z95
from freqbayes.models.dataset import Dataset
from freqbayes.models.probabilistic import binomial, existence, negbinomial, poisson, robust
from freqbayes.models.probabilistic import priors as P
from freqbayes.models.registry import MODELS

sm = pytest.importorskip("statsmodels.api")

FAMILIES = ("poisson", "negbinomial", "binomial", "robust")
NUTS = {"num_chains": 2, "num_warmup": 500, "num_samples": 500}
Z = 4.0


def estimate(tree, name: str) -> np.ndarray:
    group = "estimate" if "estimate" in tree.children else "posterior"
    return np.asarray(tree[group][name], dtype=float).reshape(-1)


def wald_se(tree, name: str) -> np.ndarray:
    lo, hi = tree["confidence_interval"][name].sel(interval="wald").values
    return np.atleast_1d((hi - lo) / (2 * Z95))


def coef_and_se(tree) -> tuple[np.ndarray, np.ndarray]:
    """(intercept, β…) and their Wald se, statsmodels' order."""
    est = np.r_[estimate(tree, "intercept"), estimate(tree, "beta")]
    return est, np.r_[wald_se(tree, "intercept"), wald_se(tree, "beta")]


# ---------------------------------------------------------------- float64 references


def test_poisson_matches_statsmodels_glm_x64():
    data = poisson.default_data()
    tree = fit("poisson", data, "wald", seed=0, num_samples=10)
    ref = sm.GLM(data.y, sm.add_constant(data.X), family=sm.families.Poisson()).fit(tol=1e-12)
    est, se = coef_and_se(tree)
    np.testing.assert_allclose(est, ref.params, rtol=1e-6)
    np.testing.assert_allclose(se, ref.bse, rtol=1e-6)


def test_binomial_with_trials_matches_statsmodels_glm_x64():
    data = binomial.bioassay()
    tree = fit("binomial", data, "wald", seed=0, num_samples=10)
    m = data.inputs["trials"]
    endog = np.column_stack([data.y, m - data.y])
    ref = sm.GLM(endog, sm.add_constant(data.X), family=sm.families.Binomial()).fit(tol=1e-12)
    est, se = coef_and_se(tree)
    np.testing.assert_allclose(est, ref.params, rtol=1e-6)
    np.testing.assert_allclose(se, ref.bse, rtol=1e-6)
    # BDA3 §3.7 quotes the MLE (0.8, 7.7)
    np.testing.assert_allclose(est, [0.8466, 7.749], atol=1e-3)


def test_negbinomial_matches_statsmodels_x64():
    data = negbinomial.default_data()
    A = sm.add_constant(data.X)
    joint = sm.NegativeBinomial(data.y, A, loglike_method="nb2").fit(
        method="newton", tol=1e-12, maxiter=200, disp=0
    )
    tree = fit("negbinomial", data, "wald", seed=0, num_samples=10)
    est, se = coef_and_se(tree)
    # α estimated jointly: estimates and observed-information se of statsmodels' NB2
    np.testing.assert_allclose(est, joint.params[:-1], rtol=1e-6)
    np.testing.assert_allclose(estimate(tree, "alpha"), joint.params[-1], rtol=1e-6)
    np.testing.assert_allclose(se, joint.bse[:-1], rtol=1e-6)
    np.testing.assert_allclose(wald_se(tree, "alpha"), joint.bse[-1], rtol=1e-6)
    # α fixed at its MLE: the β's se of statsmodels' GLM (Newton: observed information)
    alpha = float(joint.params[-1])
    family = sm.families.NegativeBinomial(alpha=alpha)
    ref = sm.GLM(data.y, A, family=family).fit(method="newton", tol=1e-12, maxiter=200)
    fixed = fit(
        "negbinomial", data, "wald", seed=0, num_samples=10, priors={"alpha_prior": P.Known(alpha)}
    )
    est, se = coef_and_se(fixed)
    np.testing.assert_allclose(est, ref.params, rtol=1e-6)
    np.testing.assert_allclose(se, ref.bse, rtol=1e-6)


def student_t_nll(v: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    """−log L of y ~ t_ν(b + Xθ, σ) at v = (b, θ, log σ, log ν), by scipy.stats."""
    d = X.shape[1]
    b, theta, sigma, nu = v[0], v[1 : 1 + d], np.exp(v[1 + d]), np.exp(v[2 + d])
    return -float(np.sum(stats.t.logpdf(y, nu, loc=b + X @ theta, scale=sigma)))


def test_robust_mle_matches_direct_optimisation_x64():
    data = robust.default_data()
    tree = fit("robust", data, "wald", seed=0, num_samples=10)  # the MLE and its Wald se
    ours = np.r_[
        estimate(tree, "intercept"),
        estimate(tree, "beta"),
        np.log(estimate(tree, "sigma")),
        np.log(estimate(tree, "nu")),
    ]
    start = np.r_[np.median(data.y), np.zeros(2), np.log(np.std(data.y)), np.log(5.0)]
    ref = optimize.minimize(
        student_t_nll,
        start,
        args=(data.X, data.y),
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 40_000, "maxfev": 40_000},
    )
    ref = optimize.minimize(
        student_t_nll, ref.x, args=(data.X, data.y), method="BFGS", options={"gtol": 1e-8}
    )
    assert student_t_nll(ours, data.X, data.y) <= ref.fun + 1e-8
    np.testing.assert_allclose(ours, ref.x, rtol=1e-6, atol=1e-7)
    # statsmodels' t regression by maximum likelihood (miscmodels): params b, θ, ν, σ
    from statsmodels.miscmodels.tmodel import TLinearModel

    tmodel = TLinearModel(data.y, sm.add_constant(data.X))
    with warnings.catch_warnings():  # its BFGS, on numerical gradients, never meets gtol
        warnings.simplefilter("ignore")
        tm = tmodel.fit(method="nm", maxiter=20_000, xtol=1e-10, ftol=1e-12, disp=0)
        tm = tmodel.fit(start_params=tm.params, method="bfgs", maxiter=2000, gtol=1e-8, disp=0)
    natural = np.r_[ours[:3], np.exp(ours[4]), np.exp(ours[3])]
    np.testing.assert_allclose(natural, tm.params, rtol=1e-6)
    # Wald se: the inverse Hessian of the same likelihood in (b, θ, σ, ν), by autodiff
    # of jax.scipy's t density (statsmodels' and a central difference agree to 3e-5 only)
    import jax
    import jax.numpy as jnp

    X, y = jnp.asarray(data.X), jnp.asarray(data.y)

    def nll(w):
        loc = w[0] + X @ w[1:3]
        return -jnp.sum(jax.scipy.stats.t.logpdf(y, w[4], loc=loc, scale=w[3]))

    w = jnp.asarray(np.r_[ref.x[:3], np.exp(ref.x[3:])])
    se = np.sqrt(np.diag(np.linalg.inv(np.asarray(jax.hessian(nll)(w)))))
    got = [wald_se(tree, k) for k in ("intercept", "beta", "sigma", "nu")]
    np.testing.assert_allclose(np.concatenate(got), se, rtol=1e-6)


# ---------------------------------------------------------------- NUTS against a dense grid


def normal_lp(value, prior: P.Normal, k: int = 0) -> np.ndarray:
    loc = prior.loc[k] if isinstance(prior.loc, tuple) else prior.loc
    scale = prior.scale[k] if isinstance(prior.scale, tuple) else prior.scale
    return stats.norm.logpdf(value, loc, scale)


def nuts_and_reference(name: str, data: Dataset, loglik, transforms, points: int):
    """NUTS draws of (intercept, β, extra…) and the grid means of the same quantities."""
    tree = fit(name, data, "nuts", seed=1, **NUTS)
    post = tree.posterior
    sites = ["intercept", "beta", *transforms]
    draws = np.column_stack([np.asarray(post[s]).reshape(-1) for s in sites])
    grid = draws.copy()
    for j, s in enumerate(sites):
        if transforms.get(s) == "log":
            grid[:, j] = np.log(grid[:, j])
    summary = az.summary(tree, var_names=sites, round_to="none")
    priors = prepare(name, data).priors

    def logp(*v):
        b, t = v[0], v[1]
        lp = normal_lp(b, priors["intercept_prior"]) + normal_lp(t, priors["beta_prior"])
        extra = []
        for s, z in zip(list(transforms), v[2:], strict=True):
            x = np.exp(z)
            lp = lp + z  # Jacobian of the log
            prior = priors[f"{s}_prior"]
            if isinstance(prior, P.Gamma):
                lp = lp + stats.gamma.logpdf(x, prior.concentration, scale=1 / prior.rate)
            else:
                lp = lp + stats.halfnorm.logpdf(x, scale=prior.scale)
            extra.append(x)
        return lp + loglik(b, t, *extra)

    ref = grid_means_constrained(logp, grid, points, transforms, sites)
    return summary, ref


def grid_means_constrained(logp, grid, points, transforms, sites):
    """Posterior means on a box of ± 7 sd of the draws (log scale for positive sites)."""
    centre, half = grid.mean(axis=0), 7 * grid.std(axis=0)
    axes = [np.linspace(c - h, c + h, points) for c, h in zip(centre, half, strict=True)]
    mesh = np.meshgrid(*axes, indexing="ij")
    lp = logp(*mesh)
    w = np.exp(lp - lp.max())
    w /= w.sum()
    # the box holds the mass: what lies beyond a face (≤ 1e-4 of it) moves a mean by
    # less than 1e-4 × 7 sd, against an MCSE of about sd / 20
    for k in range(len(axes)):
        assert np.take(w, [0, -1], axis=k).sum() < 1e-4
    values = [
        np.exp(m) if transforms.get(s) == "log" else m for m, s in zip(mesh, sites, strict=True)
    ]
    return np.array([np.sum(w * v) for v in values])


def one_feature(y: np.ndarray, x: np.ndarray, **inputs) -> Dataset:
    return Dataset("small", np.asarray(y, float), x[:, None], ("x",), {}, inputs)


def assert_within_mcse(summary, ref):
    got = summary["mean"].to_numpy()
    mcse = summary["mcse_mean"].to_numpy()
    assert np.all(np.abs(got - ref) <= Z * mcse), (got, ref, mcse)


def rows(n: int = 30, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng, rng.normal(50.0, 10.0, n)


def test_poisson_nuts_matches_grid():
    rng, x = rows()
    y = rng.poisson(np.exp(0.5 + 0.03 * (x - 50)))
    data = one_feature(y, x)

    def loglik(b, t):
        eta = b[..., None] + t[..., None] * x
        return np.sum(stats.poisson.logpmf(y, np.exp(eta)), axis=-1)

    summary, ref = nuts_and_reference("poisson", data, loglik, {}, 201)
    assert_within_mcse(summary, ref)


def test_binomial_nuts_matches_grid_on_bioassay():
    data = binomial.bioassay()
    x, m = data.X[:, 0], data.inputs["trials"]

    def loglik(b, t):
        eta = b[..., None] + t[..., None] * x
        return np.sum(stats.binom.logpmf(data.y, m, 1 / (1 + np.exp(-eta))), axis=-1)

    summary, ref = nuts_and_reference("binomial", data, loglik, {}, 301)
    assert_within_mcse(summary, ref)


def test_negbinomial_nuts_matches_grid():
    rng, x = rows(40, 1)
    mu = np.exp(1.0 + 0.03 * (x - 50))
    y = rng.poisson(mu * rng.gamma(2.0, 0.5, len(x)))
    data = one_feature(y, x)

    def loglik(b, t, alpha):
        # Σ_i log NB(y_i; r = 1/α, p = r/(r + μ_i)), μ_i = e^{η_i}, written out (scipy's
        # nbinom.logpmf, about 3× faster on a 61³ × 40 grid): terms in r once per point
        eta = b[..., None] + t[..., None] * x
        r = 1 / alpha
        rows = (
            gammaln(y + r[..., None])
            + y * eta
            - (y + r[..., None]) * np.log(r[..., None] + np.exp(eta))
        )
        return np.sum(rows, axis=-1) + len(y) * (r * np.log(r) - gammaln(r)) - gammaln(y + 1).sum()

    summary, ref = nuts_and_reference("negbinomial", data, loglik, {"alpha": "log"}, 61)
    assert_within_mcse(summary, ref)


def test_robust_nuts_matches_grid():
    rng, x = rows(30, 2)
    y = 100.0 + 2.0 * (x - 50) + 5.0 * rng.standard_t(3.0, len(x))
    y[:2] += 80.0
    data = one_feature(y, x)

    def loglik(b, t, sigma, nu):
        # Σ_i log t_ν(y_i; b + t x_i, σ) written out (scipy's t.logpdf, about 40× faster on
        # a 27⁴ × 30 grid): the constant in (ν, σ) once per grid point, the kernel per row
        z = (y - b[..., None] - t[..., None] * x) / sigma[..., None]
        kernel = np.sum(np.log1p(z * z / nu[..., None]), axis=-1)
        const = gammaln((nu + 1) / 2) - gammaln(nu / 2) - 0.5 * np.log(np.pi * nu) - np.log(sigma)
        return len(y) * const - (nu + 1) / 2 * kernel

    summary, ref = nuts_and_reference("robust", data, loglik, {"sigma": "log", "nu": "log"}, 27)
    assert_within_mcse(summary, ref)


# ---------------------------------------------------------------- existence, data, commands


@pytest.mark.parametrize(
    ("model", "y", "trials", "match"),
    [
        ("poisson", [0, 0, 0, 0, 0, 0], None, "all 6 counts are 0"),
        ("negbinomial", [0, 0, 0, 0, 0, 0], None, "all 6 counts are 0"),
        ("poisson", [0, 0, 0, 0, 0, 3], None, "rows at 0 are separated"),
        ("binomial", [0, 0, 1, 3, 3, 3], [3] * 6, "rows at 0 or all trials are separated"),
        ("binomial", [3, 3, 3, 3, 3, 3], [3] * 6, "every one of the 6 rows is all successes"),
    ],
)
def test_mle_that_does_not_exist_is_named(model, y, trials, match):
    x = np.arange(6.0)
    inputs = {} if trials is None else {"trials": np.asarray(trials, float)}
    data = one_feature(np.asarray(y, float), x, **inputs)
    with pytest.raises(existence.SeparationError, match=match):
        prepare(model, data).check("likelihood")
    # a proper prior (the default) gives a MAP; flat priors do not
    prepare(model, data).check("mode")
    flat = {"beta_prior": P.Flat(), "intercept_prior": P.Flat()}
    with pytest.raises(existence.SeparationError, match="there is no MAP"):
        prepare(model, data, flat).check("mode")


def test_default_data_have_an_mle():
    for name in FAMILIES:
        prepare(name, None).check("likelihood")


def test_trials_reach_the_model_from_a_table_and_a_formula():
    frame = pd.DataFrame(
        {"deaths": [0, 1, 3, 5], "trials": [5, 5, 5, 5], "log_dose": [-0.86, -0.30, -0.05, 0.73]}
    )
    expected = binomial.bioassay().inputs["trials"]
    for data, formula in (
        (frame.rename(columns={"deaths": "y"}), None),
        (frame, "deaths ~ log_dose + trials"),
    ):
        problem = prepare(MODELS.get("binomial"), _as(data, formula))
        np.testing.assert_array_equal(problem.arrays["trials"], expected)
        assert problem.arrays["X"].shape == (4, 1)
        assert problem.labels()[1]["feature"] == ["log_dose"]
    bad = frame.assign(trials=[5, 5, 2, 5])
    with pytest.raises(ValueError, match="more successes than trials"):
        prepare("binomial", _as(bad, "deaths ~ log_dose + trials"))
    with pytest.raises(ValueError, match=r"more successes than trials \(one each: no column"):
        prepare("binomial", _as(frame, "deaths ~ log_dose"))


def _as(frame, formula):
    from freqbayes.models.tables import as_dataset

    return as_dataset(frame, MODELS.get("binomial"), formula)


def test_default_priors_follow_the_link_scale():
    data = poisson.default_data()
    priors = prepare("poisson", data).priors
    # the intercept at log ȳ (the intercept-only MLE), not at 0 (a rate of 1)
    assert priors["intercept_prior"].loc == pytest.approx(np.log(data.y.mean()))
    # θ_j ~ N(0, (2.5 / s_j)²) in the units of each feature
    np.testing.assert_allclose(priors["beta_prior"].scale, 2.5 / data.X.std(axis=0))


def test_command_line_runs_a_family_on_a_csv_with_a_formula(tmp_path, capsys):
    data = poisson.default_data()
    csv = tmp_path / "counts.csv"
    pd.DataFrame({"visits": data.y, "dose": data.X[:, 0], "age": data.X[:, 1]}).to_csv(
        csv, index=False
    )
    out = tmp_path / "fits"
    argv = [
        "run",
        "poisson",
        "--data",
        str(csv),
        "--formula",
        "visits ~ dose + age",
        "--method",
        "mle",
        "--out",
        str(out),
    ]
    assert cli.main(argv) == cli.EXIT_OK, capsys.readouterr().err
    assert (out / "poisson-mle.nc").exists()
    cli.main(["list"])
    listing = capsys.readouterr().out
    assert all(name in listing for name in FAMILIES)


def test_predictions_are_counts_for_new_rows():
    tree = fit("poisson", None, "mle", seed=0)
    new = predict(tree, np.array([[100.0, 50.0], [120.0, 30.0]]), seed=0)
    ys = np.asarray(new.posterior_predictive["y"])
    assert ys.shape[-1] == 2 and np.all(ys >= 0) and np.all(ys == np.round(ys))


def test_negbinomial_mle_of_alpha_at_zero_is_named():
    """Poisson counts (not over-dispersed): α̂ = 0, refused up front; a MAP is fine."""
    rng = np.random.default_rng(0)
    x = rng.normal(50.0, 10.0, 100)
    data = one_feature(rng.poisson(np.exp(0.5 + 0.02 * (x - 50))), x)
    with pytest.raises(existence.DegenerateError, match="MLE of α is 0"):
        prepare("negbinomial", data).check("likelihood")
    prepare("negbinomial", data).check("mode")
    prepare("negbinomial", data, {"alpha_prior": P.Known(0.5)}).check("likelihood")


def test_binomial_predictions_use_the_new_rows_trials():
    """New rows' trials come from the design (a formula named them) or the table's column;
    the draws are successes out of them (mean m·p); one trial each when none is given."""
    frame = pd.DataFrame(
        {"deaths": [0, 1, 3, 5], "trials": [5, 5, 5, 5], "log_dose": [-0.86, -0.30, -0.05, 0.73]}
    )
    new = pd.DataFrame({"log_dose": [0.0, 0.0], "trials": [10, 200]})
    for data, formula in (
        (frame, "deaths ~ log_dose + trials"),
        (frame.rename(columns={"deaths": "y"}), None),
    ):
        tree = fit("binomial", _as(data, formula), "map", seed=0)
        p = 1 / (1 + np.exp(-float(tree.posterior["intercept"].values.squeeze())))
        draws = predict(tree, new, seed=0).posterior_predictive
        ys = np.asarray(draws[next(iter(draws.data_vars))]).reshape(-1, 2)
        assert np.all(ys <= [10, 200]) and np.all(ys >= 0)
        assert ys[:, 1].max() > 10  # 200 trials, not one
        # one draw at the MAP: 200 p within 4 binomial sds
        assert abs(ys[0, 1] - 200 * p) < 4 * np.sqrt(200 * p * (1 - p)) + 1
    ones = predict(tree, new.drop(columns="trials"), seed=0).posterior_predictive
    assert np.asarray(ones[next(iter(ones.data_vars))]).max() <= 1
    with pytest.raises(ValueError, match="trials must be integers >= 1"):
        predict(tree, new.assign(trials=[0, 3]))
