"""Every twin registered (issue 25): the mixture with EM, the GP classifier, the horseshoe prior.

The registry lists them; ``freqbayes run mixture --method em`` writes a fit that
``freqbayes summary`` reads; EM's estimate is the EM algorithm's from the k-means
start (and scikit-learn's spherical ``GaussianMixture`` from it, in float64); the
GP classifier's ``laplace`` is R&W's Algorithm 3.1 (the evidence of
``GaussianProcessClassifier`` to the last digit, draws around its mode within
Monte-Carlo error); a method that does not apply says so in one line; the horseshoe
as a prior choice of ``logistic`` shrinks the weights that do not matter.
"""

from __future__ import annotations

import json

import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.datasets import make_moons

from freqbayes import GaussianProcessClassifier, cli
from freqbayes.inference import fit, parse_methods, predict
from freqbayes.inference.learners import mixture as M
from freqbayes.inference.learners.kmeans import KMeans
from freqbayes.inference.registry import METHODS
from freqbayes.models.dataset import Dataset
from freqbayes.models.learners.kernels import resolve_gamma
from freqbayes.models.probabilistic import priors as P
from freqbayes.models.registry import MODELS


def blobs(seed: int = 0, n: int = 60) -> np.ndarray:
    """Three blobs in raw units (means near 100)."""
    rng = np.random.default_rng(seed)
    centres = np.array([[100.0, 20.0], [108.0, 26.0], [116.0, 21.0]])
    return np.concatenate([rng.normal(c, [2.0, 1.5], (n, 2)) for c in centres])


def test_the_registry_lists_the_twins(capsys):
    assert {"mixture", "gpc"} <= set(MODELS.names())
    assert "em" in METHODS.names() and not METHODS.get("em").general
    assert sorted(parse_methods("all", "mixture")) == ["em", "nuts"]
    assert sorted(parse_methods("all", "gpc")) == ["laplace", "nuts"]
    assert "em" not in parse_methods("all", "logistic")
    assert cli.main(["list"]) == 0
    listed = capsys.readouterr().out
    assert "mixture" in listed and "gpc" in listed and "em " in listed


@pytest.mark.parametrize(
    ("model", "method", "says"),
    [
        ("logistic", "em", "'em' is made for other models; it does not apply to 'logistic'"),
        ("mixture", "map", "'map' does not apply to model 'mixture' (its methods: em, nuts)"),
        ("gpc", "sgld", "'sgld' does not apply to model 'gpc'"),
    ],
)
def test_a_method_that_does_not_apply_says_so_in_one_line(model, method, says, tmp_path, capsys):
    with pytest.raises(ValueError, match="does not apply") as err:
        fit(model, method)
    assert says in str(err.value) and "\n" not in str(err.value)
    out = tmp_path / "o"
    assert cli.main(["run", model, "--method", method, "--out", str(out)]) != 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], lines
    assert not out.exists()  # nothing written


def test_freqbayes_run_mixture_em_then_summary(tmp_path, capsys):
    """The command-line round trip on the default data (Iris petals, k = 3)."""
    out = tmp_path / "fits"
    assert cli.main(["run", "mixture", "--method", "em", "--out", str(out)]) == 0
    saved = out / "mixture-em.nc"
    assert saved.is_file()
    capsys.readouterr()
    assert cli.main(["summary", str(saved)]) == 0
    text = capsys.readouterr().out
    assert "mixture/em on iris-petals (n = 150)" in text
    for row in ("weights[2]", "mu[0, petal_length]", "mu[2, petal_width]", "sigma[1]"):
        assert row in text, text


def test_em_is_the_em_algorithm_from_the_k_means_start():
    """Same seed, same numbers as EM run by hand (the code that lived in learners.mixture).

    The components come out ordered by their first coordinate; the prior's length is k.
    """
    X = blobs()
    tree = fit("mixture", "em", Dataset("blobs", X), seed=4)
    post = tree.posterior
    Xj = jnp.asarray(X, jnp.float32)
    start = KMeans(3, n_init=10, random_state=4).fit(X).cluster_centers_
    ref = M.em(Xj, M.init(Xj, jnp.asarray(start, jnp.float32)), tol=1e-6, max_iter=500)
    order = np.argsort(np.asarray(ref.means)[:, 0])
    np.testing.assert_array_equal(post["mu"].values[0, 0], np.asarray(ref.means)[order])
    np.testing.assert_array_equal(post["weights"].values[0, 0], np.asarray(ref.weights)[order])
    np.testing.assert_array_equal(
        post["sigma"].values[0, 0], np.sqrt(np.asarray(ref.variances))[order]
    )
    assert np.all(np.diff(post["mu"].values[0, 0, :, 0]) > 0)
    settings = json.loads(tree.attrs["settings"])
    assert settings["converged"] and settings["estimator"] == "mle"
    assert "prior" not in tree.children  # an MLE: no prior draws
    again = fit("mixture", "em", Dataset("blobs", X), seed=4, pointwise="none")
    np.testing.assert_array_equal(again.posterior["mu"].values, post["mu"].values)
    four = fit("mixture", "em", Dataset("blobs", X), pointwise="none",
               priors={"weights_prior": P.Dirichlet((1.0,) * 4)})  # fmt: skip
    assert four.posterior.sizes["component"] == 4


def test_em_matches_scikit_learn_x64():
    """In float64 EM from the k-means centres is scikit-learn's spherical GaussianMixture."""
    from sklearn.mixture import GaussianMixture

    X = blobs(1)
    tree = fit("mixture", "em", Dataset("blobs", X), seed=2, tol=1e-10, max_iter=1000)
    start = KMeans(3, n_init=10, random_state=2).fit(X).cluster_centers_
    ref = GaussianMixture(
        3, covariance_type="spherical", means_init=start, weights_init=np.full(3, 1 / 3),
        precisions_init=np.full(3, 1 / np.mean(X.var(axis=0))), tol=1e-10, max_iter=1000,
    ).fit(X)  # fmt: skip
    order = np.argsort(ref.means_[:, 0])
    post = tree.posterior
    np.testing.assert_allclose(post["mu"].values[0, 0], ref.means_[order], rtol=1e-6)
    np.testing.assert_allclose(post["sigma"].values[0, 0] ** 2, ref.covariances_[order], rtol=1e-5)
    np.testing.assert_allclose(post["weights"].values[0, 0], ref.weights_[order], atol=1e-6)
    settings = json.loads(tree.attrs["settings"])
    assert settings["mean_log_likelihood"] == pytest.approx(ref.score(X), rel=1e-9)


def test_gp_classifier_laplace_is_algorithm_3_1():
    """The generic ``laplace`` runs the model's own Newton iteration (its ``kernels``).

    The evidence and the Newton steps are GaussianProcessClassifier's exactly; the
    draws of f sit at its mode within 4.5 Monte-Carlo se per point, with its latent sd
    (Algorithm 3.2 at the training points) within 4 se of a sample sd.
    """
    X, y = make_moons(60, noise=0.25, random_state=3)
    X = X * [40.0, 25.0] + [100.0, 60.0]  # raw units
    gamma, scale = resolve_gamma("scale", X), 2.0
    data = Dataset("moons", y.astype(float), X, ("x1", "x2"))
    prior = {"f_prior": P.GaussianProcess(gamma, scale)}
    tree = fit("gpc", "laplace", data, seed=1, priors=prior, num_chains=2, num_samples=1000)
    ref = GaussianProcessClassifier(gamma, scale).fit(X, y)
    settings = json.loads(tree.attrs["settings"])
    assert "Algorithm 3.1" in settings["algorithm"]
    assert settings["log_marginal_likelihood"] == pytest.approx(
        ref.log_marginal_likelihood_value_, rel=1e-12
    )
    assert settings["iterations"] == ref.n_iter_
    f = tree.posterior["f"].values.reshape(-1, len(X))
    _, var = ref.latent_mean_and_variance(X)
    se = np.sqrt(var / len(f))
    assert np.max(np.abs(f.mean(0) - ref.f_) / se) < 4.5
    assert np.max(np.abs(f.std(0) / np.sqrt(var) - 1.0)) < 4.0 / np.sqrt(2 * len(f))
    # new points need the conditional f* | f, which the program does not draw: refused
    with pytest.raises(ValueError, match=r"cannot predict new rows: .*predict_proba"):
        predict(tree, X[:3])


def test_horseshoe_parses_and_reads_back():
    key, prior = P.parse("beta=horseshoe:2")
    assert key == "beta_prior" and prior == P.Horseshoe(relevant=2.0)
    assert P.parse("beta=horseshoe")[1] == P.Horseshoe()
    filled = P.Horseshoe(2.0, scale=(0.5, 0.25), global_scale=0.01)
    assert P.from_repr(repr(filled)) == filled
    with pytest.raises(ValueError, match="up to 3 numbers"):
        P.parse("beta=horseshoe:1,2,3,4")


def test_horseshoe_prior_choice_of_logistic_shrinks():
    """d = 8 raw-unit features, one matters: the others' weights pulled to 0.

    Under the default N(0, (2.5/s_j)²) prior (Laplace) the seven null weights, in units
    of their column's sd, are 0.34 from 0 on average; the horseshoe's posterior (NUTS)
    leaves them at a fraction of that, and keeps the one that matters. The features'
    means are near 50: the intercept is sampled at their centre, else NUTS hit its
    maximum tree depth on every draw (r̂ 1.25, measured).
    """
    rng = np.random.default_rng(0)
    n, d = 120, 8
    X = rng.normal(0.0, 1.0, (n, d)) * np.arange(1.0, d + 1) + 50.0
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-2.0 * (X[:, 0] - 50.0)))).astype(float)
    data = Dataset("sparse", y, X, tuple(f"x{j}" for j in range(d)))
    horseshoe = {"beta_prior": P.Horseshoe()}
    tree = fit("logistic", "nuts", data, seed=2, priors=horseshoe, num_chains=2,
               num_warmup=300, num_samples=300, progress=False)  # fmt: skip
    wide = fit("logistic", "laplace", data, seed=2, num_chains=1, num_samples=600)
    spread = X.std(axis=0)
    shrunk = tree.posterior["beta"].values.reshape(-1, d) * spread
    free = wide.posterior["beta"].values.reshape(-1, d) * spread
    assert "horseshoe" in tree.attrs["priors_described"]
    # mean |θ_j| s_j over the null weights and the draws: 0.13 against 0.34 (measured)
    assert np.abs(shrunk[:, 1:]).mean() < 0.5 * np.abs(free[:, 1:]).mean()
    assert shrunk[:, 0].mean() > 1.0  # the weight that matters stays (true 2 per sd)
    assert int(tree.sample_stats["diverging"].sum()) <= 6


@pytest.mark.parametrize("method", ["mle", "map", "wald"])
def test_the_horseshoe_has_a_posterior_only(method):
    """No MLE or MAP of its sites: a named error before any optimisation."""
    from freqbayes.inference import EstimateError

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    data = Dataset("d", (rng.uniform(size=40) < 0.5).astype(float), X)
    with pytest.raises(EstimateError, match="under a horseshoe prior"):
        fit("logistic", method, data, priors={"beta_prior": P.Horseshoe()})
