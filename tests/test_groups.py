"""Group-level terms ``(1 | g)``, ``(x | g)``: parsing, refusals, prediction, references.

References in float64: NUTS on a tiny varying-intercept problem against the exact
posterior by a dense grid over (τ, σ) with the Gaussian (b, θ | τ, σ) integrated in
closed form (within 4 MCSE), and the posterior means beside statsmodels' ``MixedLM``
(REML) with many groups and weak priors.
"""

from __future__ import annotations

import json

import arviz as az
import numpy as np
import pandas as pd
import pytest

from freqbayes import inference
from freqbayes.models.probabilistic import groups
from freqbayes.models.probabilistic import priors as P

Z = 4.0


def grouped(n_groups: int, per_group: int, seed: int = 0, slope: bool = False) -> pd.DataFrame:
    """y = 1 + 0.5 x + b_g (+ c_g x) + ε, b_g ~ N(0, 0.7²), ε ~ N(0, 1)."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_groups), per_group)
    x = rng.normal(size=g.size)
    b = rng.normal(0.0, 0.7, n_groups)
    c = rng.normal(0.0, 0.3, n_groups) if slope else np.zeros(n_groups)
    y = 1.0 + 0.5 * x + b[g] + c[g] * x + rng.normal(0.0, 1.0, g.size)
    return pd.DataFrame({"y": y, "x": x, "g": [f"g{k:02d}" for k in g]})


@pytest.mark.parametrize(
    ("formula", "fixed", "columns"),
    [
        ("y ~ x + (1 | g)", "y ~ x", ("Intercept",)),
        ("y ~ (1|g) + x", "y ~  x", ("Intercept",)),
        ("y ~ x + (1 | g) + w", "y ~ x + w", ("Intercept",)),
        ("y ~ x + (x | g)", "y ~ x", ("Intercept", "x")),
        ("y ~ x + (x || g)", "y ~ x", ("Intercept", "x")),
        ("y ~ x + (0 + x | g)", "y ~ x", ("x",)),
        ("y ~ x", "y ~ x", ()),
    ],
)
def test_split_separates_fixed_and_group_terms(formula, fixed, columns):
    got = groups.split(formula)
    assert got[0] == fixed and got[2] == columns
    assert got[1] == ("g" if columns else None)


@pytest.mark.parametrize(
    "formula", ["y ~ x + (1 | g) + (1 | h)", "y ~ x + (log(x) | g)", "y ~ x | g"]
)
def test_split_refuses_what_it_cannot_read_in_one_line(formula):
    with pytest.raises(ValueError, match=r"^formula: ") as err:
        groups.split(formula)
    assert "\n" not in str(err.value)


def test_reml_intercepts_match_statsmodels_mixedlm():
    from freqbayes.lessons.pooling import radon_like, reml_intercepts

    smf = pytest.importorskip("statsmodels.formula.api")
    frame = radon_like(0)
    X = np.column_stack([np.ones(len(frame)), frame["floor"]])
    got = reml_intercepts(X, frame["log_radon"].to_numpy(), frame["county"].to_numpy())
    want = smf.mixedlm("log_radon ~ floor", frame, groups=frame["county"]).fit(reml=True)
    np.testing.assert_allclose(got.beta, want.fe_params.to_numpy(), atol=1e-5)
    np.testing.assert_allclose(got.tau, np.sqrt(want.cov_re.iloc[0, 0]), rtol=1e-4)
    np.testing.assert_allclose(got.sigma, np.sqrt(want.scale), rtol=1e-5)
    blups = [want.random_effects[k].iloc[0] for k in got.levels]
    np.testing.assert_allclose(got.blups, blups, atol=1e-4)


@pytest.mark.parametrize("method", ["mle", "wald", "profile", "bootstrap"])
def test_the_mle_is_refused_and_names_reml_and_the_methods_that_work(method):
    frame = grouped(5, 4)
    with pytest.raises(inference.EstimateError, match=r"REML .* map, laplace, svi or nuts"):
        inference.fit("linear", method, frame, formula="y ~ x + (1 | g)")


def test_a_model_without_group_terms_refuses_them():
    frame = grouped(5, 4)
    with pytest.raises(ValueError, match="takes no group-level terms"):
        inference.fit("gaussian", "map", frame.drop(columns="x"), formula="y ~ 1 + (1 | g)")


def test_new_rows_keep_levels_and_unseen_levels_are_new_groups():
    frame = grouped(6, 3)
    _, state = groups.build(frame, "g", ("Intercept", "x"))
    new = pd.DataFrame({"x": [0.0, 2.0, 1.0], "g": ["g03", "zz", "g03"]})
    got, unseen = groups.inputs_for(new, state)
    assert unseen == ["zz"]
    assert got["group_index"].tolist() == [3, 6, 3]
    np.testing.assert_array_equal(got["group_design"], [[1, 0], [1, 2], [1, 1]])
    assert got["group_size"].shape == (6,) and got["group_new"].shape == (1,)


def test_map_predicts_each_group_with_its_own_effect():
    frame = grouped(6, 4, seed=1)
    fit = inference.fit("linear", "map", frame, formula="y ~ x + (1 | g)", seed=0)
    post = fit["posterior"]
    b = (post["group_sd"] * post["group_z"]).values.reshape(6)
    new = pd.DataFrame({"x": [0.0] * 6, "g": [f"g{k:02d}" for k in range(6)]})
    draws = inference.predict(fit, new, seed=0)["posterior_predictive"]["y"].values
    assert draws.shape == (1, 1, 6)
    # the plug-in predictive draws y ~ N(b + b_g, σ²): its spread around b + b_g is σ
    expected = float(post["intercept"].values.ravel()[0]) + b
    sigma = float(post["sigma"].values.ravel()[0])
    assert np.all(np.abs(draws.ravel() - expected) < 5 * sigma)
    assert post["group_z"].dims == ("chain", "draw", "group", "group_term")
    assert list(post["group_z"].coords["group"].values) == [f"g{k:02d}" for k in range(6)]


TINY_PRIORS = {
    "intercept_prior": P.Normal(0.0, 5.0),
    "beta_prior": P.Normal(0.0, 5.0),
    "sigma_prior": P.HalfNormal(2.0),
    "group_sd_prior": P.HalfNormal(2.0),
}


def grid_reference(frame: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Exact posterior means and sds of b, θ, τ, σ: a dense grid over (log τ, log σ).

    Given (τ, σ), y ~ N(A m₀, A S₀ Aᵀ + τ² ZZᵀ + σ² I) with A = [1, x] and Z the group
    indicators; (b, θ) | τ, σ, y is Gaussian. Means and variances of (b, θ) are mixed
    over the grid's weights.
    """
    y = frame["y"].to_numpy()
    A = np.column_stack([np.ones(len(y)), frame["x"].to_numpy()])
    codes = pd.factorize(frame["g"], sort=True)[0]
    G = np.eye(codes.max() + 1)[codes]
    S0 = np.diag([25.0, 25.0])
    lt, ls = np.meshgrid(np.linspace(-9, np.log(15), 250), np.linspace(-4, np.log(8), 250))
    tau, sigma = np.exp(lt).ravel(), np.exp(ls).ravel()
    cov = (tau**2)[:, None, None] * (G @ G.T) + (sigma**2)[:, None, None] * np.eye(len(y))
    marg = cov + A @ S0 @ A.T
    _, logdet = np.linalg.slogdet(marg)
    quad = np.einsum("i,ki->k", y, np.linalg.solve(marg, y[None, :, None])[..., 0])
    log_w = -0.5 * (logdet + quad) - tau**2 / 8 - sigma**2 / 8 + lt.ravel() + ls.ravel()
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    inv = np.linalg.inv(cov)
    prec = np.linalg.inv(S0)[None] + np.einsum("ia,kij,jb->kab", A, inv, A)
    post_cov = np.linalg.inv(prec)
    post_mean = np.einsum("kab,kb->ka", post_cov, np.einsum("ia,kij,j->ka", A, inv, y))
    out = {}
    for name, j in (("intercept", 0), ("beta", 1)):
        m = w @ post_mean[:, j]
        out[name] = (m, np.sqrt(w @ (post_cov[:, j, j] + post_mean[:, j] ** 2) - m**2))
    for name, v in (("group_sd", tau), ("sigma", sigma)):
        m = w @ v
        out[name] = (m, np.sqrt(w @ v**2 - m**2))
    return out


# four groups of three: about one divergent transition in 4000 at 0.95; the grid decides
@pytest.mark.filterwarnings("ignore:.*divergent transitions")
def test_nuts_matches_a_dense_grid_posterior_on_a_tiny_problem_x64():
    frame = grouped(4, 3, seed=3)
    fit = inference.fit(
        "linear",
        "nuts",
        frame,
        formula="y ~ x + (1 | g)",
        priors=TINY_PRIORS,
        seed=1,
        target_accept_prob=0.95,
        pointwise="none",
    )
    stats = az.summary(fit, var_names=["intercept", "beta", "group_sd", "sigma"], round_to="none")
    reference = grid_reference(frame)
    for name, (mean, sd) in reference.items():
        row = next(r for r in stats.index if r.split("[")[0] == name)
        got = stats.loc[row]
        assert abs(got["mean"] - mean) <= Z * got["mcse_mean"], (name, got["mean"], mean)
        assert abs(got["sd"] - sd) <= Z * got["mcse_sd"], (name, got["sd"], sd)


def test_nuts_posterior_means_sit_beside_mixedlm_reml_with_many_groups_x64():
    smf = pytest.importorskip("statsmodels.formula.api")
    frame = grouped(40, 8, seed=2)
    reml = smf.mixedlm("y ~ x", frame, groups=frame["g"]).fit(reml=True)
    fit = inference.fit(
        "linear", "nuts", frame, formula="y ~ x + (1 | g)", seed=0, pointwise="none"
    )
    post = fit["posterior"]
    sd = {k: float(post[k].std()) for k in ("intercept", "beta", "sigma", "group_sd")}
    got = {k: float(post[k].mean()) for k in sd}
    want = {
        "intercept": reml.fe_params["Intercept"],
        "beta": reml.fe_params["x"],
        "sigma": np.sqrt(reml.scale),
        "group_sd": np.sqrt(float(reml.cov_re.iloc[0, 0])),
    }
    for k in ("intercept", "beta", "sigma"):
        assert abs(got[k] - want[k]) <= 0.25 * sd[k], (k, got[k], want[k], sd[k])
    # τ's posterior is right-skewed: its mean sits above the REML estimate, within a sd
    assert 0 <= got["group_sd"] - want["group_sd"] <= sd["group_sd"], (got, want, sd)
    effects = (post["group_sd"] * post["group_z"]).sel(group_term="Intercept")
    b = effects.mean(("chain", "draw")).values
    blups = np.array([reml.random_effects[k].iloc[0] for k in post.coords["group"].values])
    assert np.corrcoef(b, blups)[0, 1] > 0.99
    assert np.max(np.abs(b - blups)) <= 0.1 * float(effects.std(("chain", "draw")).min())


def test_logistic_takes_a_varying_slope_and_predicts_an_unseen_group():
    frame = grouped(8, 12, seed=4, slope=True)
    frame["y"] = (frame["y"] > frame["y"].median()).astype(int)
    fit = inference.fit("logistic", "map", frame, formula="y ~ x + (x | g)", seed=0)
    post = fit["posterior"]
    assert post["group_z"].shape[2:] == (8, 2)
    assert list(post["group_sd"].coords["group_term"].values) == ["Intercept", "x"]
    # labels have no units: τ's default scales are 2.5 and 2.5 / sd(x)
    prior = P.from_repr(json.loads(fit.attrs["priors"])["group_sd_prior"])
    np.testing.assert_allclose(prior.scale, (2.5, 2.5 / frame["x"].std(ddof=0)))
    new = pd.DataFrame({"x": [0.5, 0.5], "g": ["g01", "unseen"]})
    draws = inference.predict(fit, new, seed=0)["posterior_predictive"]["y"].values
    assert set(np.unique(draws)) <= {0, 1} and draws.shape == (1, 1, 2)


def test_without_group_terms_no_group_prior_is_listed():
    from freqbayes.models.registry import get_model
    from freqbayes.models.tables import as_dataset

    frame = grouped(5, 4).assign(y=lambda f: 100 * f["y"])
    assert "group_sd_prior" not in inference.prepare("linear", (frame[["x"]], frame["y"])).priors
    data = as_dataset(frame, get_model("linear"), "y ~ x + (1 | g)")
    prior = inference.prepare("linear", data).priors["group_sd_prior"]
    assert prior == P.HalfNormal(pytest.approx(2.5 * frame["y"].std(ddof=0)))


def test_svi_fits_group_terms_beside_reml():
    """SVI on 40 groups of 8: τ and σ near REML's (measured 0.702 vs 0.707, 0.996 vs 0.988)."""
    smf = pytest.importorskip("statsmodels.formula.api")
    frame = grouped(40, 8, seed=2)
    reml = smf.mixedlm("y ~ x", frame, groups=frame["g"]).fit(reml=True)
    post = inference.fit("linear", "svi", frame, formula="y ~ x + (1 | g)", seed=0)["posterior"]
    assert abs(float(post["group_sd"].mean()) - np.sqrt(reml.cov_re.iloc[0, 0])) < 0.1
    assert abs(float(post["sigma"].mean()) - np.sqrt(reml.scale)) < 0.05


def _family_frame(family: str, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    """10 groups × 30 rows of one family, the groups' true effects on the link scale."""
    rng = np.random.default_rng(seed)
    effect = rng.normal(0.0, 0.8, 10)
    g = np.repeat(np.arange(10), 30)
    x = rng.normal(size=g.size)
    eta = 0.5 + 0.4 * x + effect[g]
    frame = pd.DataFrame({"x": x, "g": [f"g{j:02d}" for j in g]})
    if family == "poisson":
        frame["y"] = rng.poisson(np.exp(eta))
    elif family == "negbinomial":
        mu = np.exp(eta)
        frame["y"] = rng.negative_binomial(5.0, 5.0 / (5.0 + mu))
    elif family == "binomial":
        frame["trials"] = rng.integers(5, 15, g.size)
        frame["y"] = rng.binomial(frame["trials"], 1 / (1 + np.exp(-eta)))
    else:  # robust: Student-t errors, ν = 4, σ = 0.5
        frame["y"] = eta + 0.5 * rng.standard_t(4, g.size)
    return frame, effect


@pytest.mark.parametrize("family", ["poisson", "negbinomial", "binomial", "robust"])
def test_every_family_takes_group_terms(family):
    """Each GLM family adds (1 | g) to its linear predictor: the posterior's group effects
    follow the true ones (they would be prior noise, correlation ≈ 0, if the term were
    dropped), and its MLE is refused as the other models' are."""
    frame, effect = _family_frame(family)
    formula = "y ~ x + trials + (1 | g)" if family == "binomial" else "y ~ x + (1 | g)"
    fit = inference.fit(
        family, "nuts", frame, formula=formula, seed=1,
        num_chains=2, num_warmup=300, num_samples=300,
    )  # fmt: skip
    post = fit["posterior"]
    effects = (post["group_sd"] * post["group_z"]).mean(("chain", "draw"))
    estimated = effects.transpose("group", "group_term").values[:, 0]
    assert np.corrcoef(estimated, effect)[0, 1] > 0.9, (family, estimated, effect)
    with pytest.raises(inference.EstimateError, match="REML"):
        inference.fit(family, "mle", frame, formula=formula)
