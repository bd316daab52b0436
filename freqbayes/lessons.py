"""The computations behind the contrasts of §5.5–5.11, one function per lesson.

Each returns plain numbers (NamedTuples of numpy arrays, pandas tables, DataTrees)
that :mod:`freqbayes.figures` draws, :mod:`freqbayes.showcase` puts in the report,
and the notebooks call. The fits go through :mod:`freqbayes.inference`; the exact
references come from :mod:`freqbayes.models`. Same seed, same numbers.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from freqbayes import data as D
from freqbayes.inference import kmeans as K
from freqbayes.inference import knn, sgd
from freqbayes.models import gaussian, linear
from freqbayes.models import priors as P
from freqbayes.summaries import summary_table

# ---------------------------------------------------------------- 1. Gaussian MLE/MAP/posterior


class Concentration(NamedTuple):
    """MLE and NIG posterior of a Gaussian sample as it grows (§5.5–5.6).

    Attributes
    ----------
    n : ndarray (m,)
        Sample sizes (prefixes of one sample).
    mu_mle, sigma_mle : ndarray (m,)
        x̄ and the MLE of σ (square root of the biased variance).
    mu_mean, mu_lo, mu_hi : ndarray (m,)
        Posterior mean of μ and its 95% equal-tailed credible interval (Student-t).
    sigma_mean : ndarray (m,)
        Posterior mean of σ.
    mu_map, sigma_map : ndarray (m,)
        The posterior mode (MAP) in (μ, σ).
    true_mu, true_sigma : float
        The values the sample was simulated from.
    """

    n: np.ndarray
    mu_mle: np.ndarray
    sigma_mle: np.ndarray
    mu_mean: np.ndarray
    mu_lo: np.ndarray
    mu_hi: np.ndarray
    sigma_mean: np.ndarray
    mu_map: np.ndarray
    sigma_map: np.ndarray
    true_mu: float
    true_sigma: float


#: A weakly-informative conjugate prior: μ | σ² ~ N(0, 10² σ²), σ² ~ IG(2, 2).
WEAK_NIG = gaussian.NIG(loc=0.0, kappa=0.01, alpha=2.0, beta=2.0)


def gaussian_concentration(
    seed: int = 0,
    ns: Sequence[int] = (2, 3, 5, 10, 20, 50, 100, 200, 500, 1000),
    mu: float = 5.0,
    sigma: float = 2.0,
    prior: gaussian.NIG = WEAK_NIG,
) -> Concentration:
    """Posterior of (μ, σ) on ever longer prefixes of one simulated sample, beside the MLE."""
    x_all = np.random.default_rng(seed).normal(mu, sigma, max(ns))
    rows = []
    for n in ns:
        x = x_all[:n]
        m = gaussian.mle(x)
        post = gaussian.nig_posterior(x, prior)
        lo, hi = post.mu_marginal().ppf([0.025, 0.975])
        rows.append((n, m.mu, m.sigma, post.loc, lo, hi, post.sigma_mean_sd()[0], *post.mode()))
    cols = np.asarray(rows, dtype=float).T
    return Concentration(cols[0].astype(int), *cols[1:], true_mu=mu, true_sigma=sigma)


class Bias(NamedTuple):
    """E[σ̂²_MLE]/σ² by simulation against (n − 1)/n (§5.5).

    Attributes
    ----------
    n : ndarray (m,)
    ratio : ndarray (m,)
        Mean over replications of the biased variance divided by σ².
    se : ndarray (m,)
        Monte-Carlo standard error of ``ratio``.
    formula : ndarray (m,)
        (n − 1)/n.
    reps : int
        Data sets simulated per n (one ``vmap``).
    """

    n: np.ndarray
    ratio: np.ndarray
    se: np.ndarray
    formula: np.ndarray
    reps: int


@functools.partial(jax.jit, static_argnames=("n", "reps"))
def _variance_ratios(key: jax.Array, n: int, reps: int, sigma: float) -> jnp.ndarray:
    """Biased variance / σ² of ``reps`` samples of size n, one ``vmap`` over data sets."""

    def one(k: jax.Array) -> jnp.ndarray:
        x = sigma * jax.random.normal(k, (n,))
        return jnp.var(x) / sigma**2  # ddof = 0: the MLE

    return jax.vmap(one)(jax.random.split(key, reps))


def variance_bias(
    seed: int = 0, ns: Sequence[int] = (2, 3, 5, 10, 20, 50, 100), reps: int = 20_000
) -> Bias:
    """Simulate the bias of the variance MLE: E[σ̂²] = (n − 1)/n σ²."""
    keys = jax.random.split(jax.random.key(seed), len(ns))
    ratios = [
        np.asarray(_variance_ratios(k, int(n), reps, 2.0), dtype=float)
        for k, n in zip(keys, ns, strict=True)
    ]
    n = np.asarray(ns)
    return Bias(
        n,
        np.array([r.mean() for r in ratios]),
        np.array([r.std(ddof=1) / np.sqrt(reps) for r in ratios]),
        (n - 1) / n,
        reps,
    )


# ---------------------------------------------------------------- 2. confidence vs credible


#: The prior the coverage simulation draws (μ, σ²) from: μ | σ² ~ N(0, σ²), σ² ~ IG(3, 2).
TRUE_NIG = gaussian.NIG(loc=0.0, kappa=1.0, alpha=3.0, beta=2.0)

#: Intervals compared for coverage: name -> NIG prior (None: the frequentist t-interval).
COVERAGE_PRIORS: dict[str, gaussian.NIG | None] = {
    "95% t confidence interval": None,
    "95% credible ETI, true (conjugate) prior": TRUE_NIG,
    "95% credible ETI, weakly-informative prior": WEAK_NIG,
    "95% credible ETI, misspecified prior (μ₀ = 3, κ₀ = 5)": gaussian.NIG(3.0, 5.0, 3.0, 2.0),
}


def _nig_interval(x: np.ndarray, prior: gaussian.NIG, prob: float) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed credible interval of μ under the NIG posterior, for every row of ``x``."""
    n = x.shape[1]
    xbar = x.mean(axis=1)
    ss = ((x - xbar[:, None]) ** 2).sum(axis=1)
    kappa = prior.kappa + n
    loc = (prior.kappa * prior.loc + n * xbar) / kappa
    alpha = prior.alpha + n / 2
    beta = prior.beta + 0.5 * ss + prior.kappa * n * (xbar - prior.loc) ** 2 / (2 * kappa)
    half = stats.t.ppf(0.5 + prob / 2, 2 * alpha) * np.sqrt(beta / (alpha * kappa))
    return loc - half, loc + half


def _t_interval(x: np.ndarray, prob: float) -> tuple[np.ndarray, np.ndarray]:
    """The t confidence interval x̄ ± t_{n−1} s/√n for every row of ``x``."""
    n = x.shape[1]
    xbar, s = x.mean(axis=1), x.std(axis=1, ddof=1)
    half = stats.t.ppf(0.5 + prob / 2, n - 1) * s / np.sqrt(n)
    return xbar - half, xbar + half


def interval_coverage(
    seed: int = 0,
    ns: Sequence[int] = (5, 20, 100),
    reps: int = 4000,
    prob: float = 0.95,
    true_prior: gaussian.NIG = TRUE_NIG,
    priors: Mapping[str, gaussian.NIG | None] | None = None,
) -> pd.DataFrame:
    """Frequentist coverage of confidence and credible intervals for μ.

    Every replication draws (μ, σ²) from ``true_prior``, then n observations, then
    each interval; coverage is the fraction of intervals that contain the μ drawn.
    The t-interval covers ``prob`` for every μ; the credible interval under the prior
    the parameters were truly drawn from covers ``prob`` on average over that prior.

    Returns a long table: interval, n, coverage, its Monte-Carlo se, mean width.
    """
    priors = COVERAGE_PRIORS if priors is None else priors
    rng = np.random.default_rng(seed)
    rows = []
    for n in ns:
        var = stats.invgamma(true_prior.alpha, scale=true_prior.beta).rvs(reps, random_state=rng)
        mu = rng.normal(true_prior.loc, np.sqrt(var / true_prior.kappa))
        x = mu[:, None] + np.sqrt(var)[:, None] * rng.standard_normal((reps, n))
        for name, prior in priors.items():
            lo, hi = _t_interval(x, prob) if prior is None else _nig_interval(x, prior, prob)
            hit = (lo <= mu) & (mu <= hi)
            p = hit.mean()
            rows.append(
                {
                    "interval": name,
                    "n": int(n),
                    "coverage": float(p),
                    "mc_se": float(np.sqrt(p * (1 - p) / reps)),
                    "mean_width": float(np.mean(hi - lo)),
                }
            )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- 3. MAP = weight decay


class RidgePath(NamedTuple):
    """The ridge path and the MAP path on one curve (λ = σ²/τ², §5.6.1).

    Attributes
    ----------
    lam : ndarray (L,)
        Weight-decay coefficients of the dense ridge path.
    ridge : ndarray (L, d)
        Ridge coefficients (closed form).
    post_sd : ndarray (L, d)
        Posterior sd of each weight (σ known, prior N(0, τ²)) at the same λ.
    tau : ndarray (T,)
        Prior scales at which the MAP was found by optimisation.
    map_lam : ndarray (T,)
        σ²/τ² for those scales.
    map : ndarray (T, d)
        MAP weights found by :func:`freqbayes.inference.map_estimate` (L-BFGS).
    sigma : float
        The noise sd used (known), from OLS.
    features : tuple of str
    """

    lam: np.ndarray
    ridge: np.ndarray
    post_sd: np.ndarray
    tau: np.ndarray
    map_lam: np.ndarray
    map: np.ndarray
    sigma: float
    features: tuple[str, ...]


def map_ridge_path(
    data: D.Dataset | None = None,
    lams: np.ndarray | None = None,
    taus: Sequence[float] = (0.02, 0.05, 0.1, 0.3, 1.0),
) -> RidgePath:
    """Ridge coefficients against λ and MAP coefficients against τ, with σ fixed at OLS's."""
    from freqbayes.inference import map_estimate

    data = D.diabetes() if data is None else data
    X, y = data.X, data.y
    n, d = X.shape
    fit = linear.ols(X, y)
    sigma = float(np.sqrt(fit.sigma2 * n / (n - d - 1)))
    lams = np.logspace(-1, 4, 60) if lams is None else np.asarray(lams, dtype=float)
    ridge = np.array([linear.ridge(X, y, lam).beta for lam in lams])
    sds = np.array(
        [
            linear.posterior_known_sigma(X, y, sigma, P.Normal(sigma / np.sqrt(lam)), P.Flat()).sd[
                1:
            ]
            for lam in lams
        ]
    )
    maps = []
    for tau in taus:
        priors = {
            "beta_prior": P.Normal(float(tau)),
            "intercept_prior": P.Flat(),
            "sigma_prior": P.Known(sigma),
        }
        tree = map_estimate("linear", data, priors=priors)
        maps.append(np.asarray(tree["posterior"]["beta"]).reshape(-1))
    taus_arr = np.asarray(taus, dtype=float)
    return RidgePath(
        lams,
        ridge,
        sds,
        taus_arr,
        sigma**2 / taus_arr**2,
        np.array(maps),
        sigma,
        data.feature_names,
    )


# ---------------------------------------------------------------- 4. Bayesian linear regression


def select_features(data: D.Dataset, names: Sequence[str]) -> D.Dataset:
    """The dataset with only the named feature columns (in that order)."""
    unknown = [f for f in names if f not in data.feature_names]
    if unknown or not names:
        raise ValueError(
            f"features: unknown {unknown or list(names)}; known: {', '.join(data.feature_names)}"
        )
    cols = [data.feature_names.index(f) for f in names]
    attrs = dict(data.attrs)
    for key in ("x_mean", "x_scale"):
        if key in attrs:
            attrs[key] = np.asarray(attrs[key])[cols]
    return D.Dataset(
        f"{data.name}[{','.join(names)}]", data.y, data.X[:, cols], tuple(names), attrs
    )


class Bands(NamedTuple):
    """Frequentist and Bayesian bands of a one-feature linear regression.

    Attributes
    ----------
    grid : ndarray (g,)
        Feature values.
    ols, ci_lo, ci_hi, pi_lo, pi_hi : ndarray (g,)
        OLS line, its 95% confidence band for the mean and 95% prediction band.
    post_mean, cred_lo, cred_hi, pred_lo, pred_hi : ndarray (g,)
        Posterior mean line, its 95% credible band (ETI) for the mean, and the 95%
        posterior-predictive band (ETI), from NUTS draws.
    """

    grid: np.ndarray
    ols: np.ndarray
    ci_lo: np.ndarray
    ci_hi: np.ndarray
    pi_lo: np.ndarray
    pi_hi: np.ndarray
    post_mean: np.ndarray
    cred_lo: np.ndarray
    cred_hi: np.ndarray
    pred_lo: np.ndarray
    pred_hi: np.ndarray


def regression_bands(data: D.Dataset, tree: xr.DataTree, seed: int = 0, num: int = 100) -> Bands:
    """OLS confidence/prediction bands beside posterior and posterior-predictive bands.

    ``data`` has one feature; ``tree`` is a posterior fit of the linear model to it.
    """
    x, y = data.X[:, 0], data.y
    n = len(y)
    grid = np.linspace(x.min(), x.max(), num)
    A = np.column_stack([np.ones(n), x])
    fit = linear.ols(data.X, y)
    s2 = fit.sigma2 * n / (n - 2)
    G = np.column_stack([np.ones(num), grid])
    lever = np.einsum("ij,jk,ik->i", G, np.linalg.inv(A.T @ A), G)
    t = stats.t.ppf(0.975, n - 2)
    line = fit.intercept + fit.beta[0] * grid
    post = tree["posterior"]
    b = np.asarray(post["intercept"]).reshape(-1)
    w = np.asarray(post["beta"]).reshape(-1)
    s = np.asarray(post["sigma"]).reshape(-1)
    mean = b[:, None] + w[:, None] * grid[None, :]
    noisy = mean + s[:, None] * np.random.default_rng(seed).standard_normal(mean.shape)
    return Bands(
        grid,
        line,
        line - t * np.sqrt(s2 * lever),
        line + t * np.sqrt(s2 * lever),
        line - t * np.sqrt(s2 * (1 + lever)),
        line + t * np.sqrt(s2 * (1 + lever)),
        mean.mean(axis=0),
        *np.quantile(mean, [0.025, 0.975], axis=0),
        *np.quantile(noisy, [0.025, 0.975], axis=0),
    )


#: Newton's constant (m³ kg⁻¹ s⁻²).
G_NEWTON = 6.674e-11

#: Priors for the log-gravitation regression: log G is far from 0, so its prior is wide.
GRAVITATION_PRIORS = {
    "beta_prior": P.Normal(5.0),
    "intercept_prior": P.Normal(50.0),
    "sigma_prior": P.HalfNormal(1.0),
}


def gravitation(seed: int = 0, n: int = 100, noise: float = 0.1) -> D.Dataset:
    """Noisy synthetic measurements of F = G m₁ m₂ / r², as a linear problem on the logs.

    log F = log G + 1·log m₁ + 1·log m₂ − 2·log r + ε with ε ~ N(0, ``noise``²)
    (multiplicative measurement error): a feature map that makes a nonlinear law
    linear (§5.7). Masses are 1–1000 kg and distances 0.1–10 m, log-uniform.
    """
    rng = np.random.default_rng(seed)
    m1, m2 = np.exp(rng.uniform(0, np.log(1000), (2, n)))
    r = np.exp(rng.uniform(np.log(0.1), np.log(10), n))
    X = np.column_stack([np.log(m1), np.log(m2), np.log(r)])
    y = np.log(G_NEWTON) + X @ np.array([1.0, 1.0, -2.0]) + noise * rng.standard_normal(n)
    attrs = {
        "source": "synthetic: F = G m1 m2 / r^2 with lognormal noise",
        "true_beta": np.array([1.0, 1.0, -2.0]),
        "true_intercept": float(np.log(G_NEWTON)),
        "true_sigma": noise,
        "seed": seed,
    }
    return D.Dataset("gravitation", y, X, ("log_m1", "log_m2", "log_r"), attrs)


# ---------------------------------------------------------------- 5. logistic regression


#: Five breast-cancer features on which the logistic MLE exists (no separation).
CANCER_FEATURES = (
    "mean radius",
    "mean texture",
    "mean smoothness",
    "mean symmetry",
    "worst concavity",
)


def separable_data(seed: int = 0, n: int = 60) -> D.Dataset:
    """Two well-separated 2-D Gaussian classes (completely separable): y = 1 on the right."""
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(n // 2), np.ones(n - n // 2)]
    centre = np.where(y[:, None] == 1, [1.5, 1.0], [-1.5, -1.0])
    X = centre + 0.6 * rng.standard_normal((n, 2))
    # keep a gap so that the classes are separable for every seed
    margin = X @ np.array([1.5, 1.0])
    keep = np.where(y == 1, margin > 0.8, margin < -0.8)
    return D.Dataset(
        "separable-2d",
        y[keep],
        X[keep],
        ("x1", "x2"),
        {"source": "synthetic: two separated Gaussian classes", "seed": seed},
    )


class Divergence(NamedTuple):
    """Gradient descent on the logistic loss of separable data: MLE vs MAP (weight decay).

    Attributes
    ----------
    iterations : ndarray (t,)
    mle_norm, map_norm : ndarray (t,)
        ‖w‖ after each full-batch step without and with weight decay.
    mle_loss, map_loss : ndarray (t,)
        The cost J after each step (mean log loss, plus (α/2)‖w‖² for the MAP).
    alpha : float
        Weight decay of the MAP run (= 1/(n τ²) for a N(0, τ²) prior).
    warning : str
        What :func:`freqbayes.inference.mle` says on this data.
    """

    iterations: np.ndarray
    mle_norm: np.ndarray
    map_norm: np.ndarray
    mle_loss: np.ndarray
    map_loss: np.ndarray
    alpha: float
    warning: str


def mle_divergence(
    data: D.Dataset, steps: int = 2000, tau: float = 1.0, eta: float = 1.0
) -> Divergence:
    """Full-batch gradient descent (SGD with m′ = n) on the logistic loss, with and without L2."""
    from freqbayes.inference import SeparationError, mle

    try:
        mle("logistic", data)
        warning = "the MLE was found (the data are not separable)"
    except SeparationError as err:
        warning = str(err)
    Y = np.where(data.y == 1, 1.0, -1.0)[:, None]
    alpha = 1.0 / (data.n * tau**2)
    runs = {}
    for name, a in (("mle", 0.0), ("map", alpha)):
        res = sgd.fit(
            jax.random.key(0),
            data.X,
            Y,
            loss="log_loss",
            alpha=a,
            batch_size=data.n,
            max_epochs=steps,
            eta0=eta,
            schedule="constant",
            tol=None,
            progress=False,
        )
        runs[name] = (np.linalg.norm(res.trajectory[0][:, 0, :], axis=1), res.losses[:, 0])
    return Divergence(
        np.arange(steps + 1),
        runs["mle"][0],
        runs["map"][0],
        runs["mle"][1],
        runs["map"][1],
        alpha,
        warning,
    )


# ---------------------------------------------------------------- 6. SVM and kernels


class KernelTrick(NamedTuple):
    """Linear against RBF SVM on circles and moons, and an explicit feature map.

    Attributes
    ----------
    accuracy : DataFrame
        Test accuracy per data set and classifier.
    data : dict
        name -> (X_train, y_train, X_test, y_test).
    models : dict
        (data name, classifier name) -> fitted estimator.
    """

    accuracy: pd.DataFrame
    data: dict[str, tuple[np.ndarray, ...]]
    models: dict[tuple[str, str], Any]


def radial_feature_map(X: np.ndarray) -> np.ndarray:
    """φ(x) = (x₁, x₂, x₁² + x₂²): concentric circles become linearly separable."""
    return np.column_stack([X, (X**2).sum(axis=1)])


def kernel_trick(seed: int = 0, n: int = 400) -> KernelTrick:
    """Fit LinearSVC, SVC(rbf) and LinearSVC on φ(x) to circles and moons; test accuracy."""
    from sklearn.datasets import make_circles, make_moons
    from sklearn.model_selection import train_test_split

    from freqbayes.inference.estimators import SVC, LinearSVC

    sets = {
        "circles": make_circles(n, factor=0.45, noise=0.08, random_state=seed),
        "moons": make_moons(n, noise=0.15, random_state=seed),
    }
    rows, models, data = [], {}, {}
    for name, (X, y) in sets.items():
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=seed, stratify=y)
        data[name] = (Xtr, ytr, Xte, yte)
        fits = {
            "linear SVM": (LinearSVC(C=1.0), lambda A: A),
            "RBF-kernel SVM": (SVC(kernel="rbf", C=1.0), lambda A: A),
            "linear SVM on φ(x) = (x, ‖x‖²)": (LinearSVC(C=1.0), radial_feature_map),
        }
        for clf_name, (clf, phi) in fits.items():
            clf.fit(phi(Xtr), ytr)
            models[(name, clf_name)] = (clf, phi)
            rows.append(
                {
                    "data": name,
                    "classifier": clf_name,
                    "test_accuracy": float(np.mean(clf.predict(phi(Xte)) == yte)),
                }
            )
    return KernelTrick(pd.DataFrame(rows), data, models)


# ---------------------------------------------------------------- 7. k-means


def blobs(seed: int = 0, n: int = 600, centers: int = 5, std: float = 0.9) -> np.ndarray:
    """2-D Gaussian blobs for the k-means lessons (scikit-learn's ``make_blobs``)."""
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n, centers=centers, cluster_std=std, center_box=(-8, 8), random_state=seed)
    return X


class LloydFrames(NamedTuple):
    """k-means step by step, for drawing (§5.8.2).

    Attributes
    ----------
    X : ndarray (n, 2)
    seeding : ndarray (k, 2)
        Initial centroids in the order chosen (k-means++ picks them one by one).
    centroids : ndarray (s + 1, k, 2)
        Centroids at the start and after each update.
    labels : ndarray (s + 1, n)
        Assignment to the centroids of the same row.
    inertia : ndarray (s + 1,)
    """

    X: np.ndarray
    seeding: np.ndarray
    centroids: np.ndarray
    labels: np.ndarray
    inertia: np.ndarray


def lloyd_frames(
    X: np.ndarray, k: int, seed: int = 0, method: str = "k-means++", steps: int = 8
) -> LloydFrames:
    """Seed with ``method``, then run ``steps`` Lloyd updates, keeping every state."""
    Pts = K.points(X)
    start = K.init(jax.random.key(seed), Pts, k, method)
    hist = K.history(Pts, start, steps)
    cat = functools.partial(np.concatenate, axis=0)
    return LloydFrames(
        np.asarray(X),
        np.asarray(start.centroids),
        cat([np.asarray(start.centroids)[None], np.asarray(hist.centroids)]),
        cat([np.asarray(start.labels)[None], np.asarray(hist.labels)]),
        cat([np.asarray(start.inertia)[None], np.asarray(hist.inertia)]),
    )


@functools.partial(jax.jit, static_argnames=("k", "method"))
def _final_inertia(seeds: jnp.ndarray, P: K.Points, k: int, method: str, tol: float) -> jnp.ndarray:
    """Converged inertia from ``jax.random.key(seed)`` for each seed (one ``vmap``)."""

    def one(seed: jnp.ndarray) -> jnp.ndarray:
        return K.run(P, K.init(jax.random.key(seed), P, k, method), 300, tol).inertia

    return jax.vmap(one)(seeds)


def stuck_seed(X: np.ndarray, k: int, tries: int = 64, factor: float = 1.05) -> int | None:
    """The first seed (0, 1, …) whose random initialisation ends ≥ ``factor`` × the best inertia.

    Used to draw a local optimum that random seeding falls into; None if none of
    ``tries`` seeds does.
    """
    Pts = K.points(X)
    tol = float(K.relative_tol(Pts.X, 1e-4))
    seeds = jnp.arange(tries)
    rand = np.asarray(_final_inertia(seeds, Pts, k, "random", tol))
    best = min(rand.min(), float(np.min(_final_inertia(seeds, Pts, k, "k-means++", tol))))
    stuck = np.flatnonzero(rand >= factor * best)
    return int(stuck[0]) if stuck.size else None


def initialisation_inertia(
    X: np.ndarray, k: int, seed: int = 0, restarts: int = 256
) -> dict[str, np.ndarray]:
    """Final inertia of ``restarts`` k-means runs per initialisation, each as one ``vmap``."""
    Pts = K.points(X)
    tol = float(K.relative_tol(Pts.X, 1e-4))
    out = {}
    for method in K.INITS:
        _, states = K.fit(jax.random.key(seed), Pts, k, method, restarts, 300, tol)
        out[method] = np.asarray(states.inertia, dtype=float)
    return out


# ---------------------------------------------------------------- 8. SGD and SGLD


class SGDCurves(NamedTuple):
    """Minibatch SGD on a logistic problem for several m′ (§5.9).

    Attributes
    ----------
    batch_sizes : list of int
    epochs : ndarray (E + 1,)
    loss : dict m′ -> ndarray (E + 1,)
        Full cost J after each epoch.
    seconds : dict m′ -> ndarray (E + 1,)
        Wall time at each entry of ``loss`` (compiled before timing).
    optimum : float
        J at the MLE.
    mle : ndarray (d + 1,)
        (w, b) at the MLE.
    iterates : ndarray (t, d + 1)
        Constant-step SGD iterates (m′ = 10) after convergence, one per epoch.
    """

    batch_sizes: list[int]
    epochs: np.ndarray
    loss: dict[int, np.ndarray]
    seconds: dict[int, np.ndarray]
    optimum: float
    mle: np.ndarray
    iterates: np.ndarray


def logistic_problem(seed: int = 0, n: int = 5000, d: int = 5) -> D.Dataset:
    """Synthetic logistic data from the model's own program (θ = (1, −1, 0.5, …), b = 0.3)."""
    beta = np.resize([1.0, -1.0, 0.5, -0.5, 0.25], d)
    return D.synthetic("logistic", {"beta": beta, "intercept": 0.3}, n, seed=seed)


def sgd_curves(
    data: D.Dataset,
    batch_sizes: Sequence[int | None] = (1, 10, 128, 300, None),
    epochs: int = 30,
    burn: int = 50,
    keep: int = 200,
    seed: int = 0,
) -> SGDCurves:
    """J against epochs and wall time for each minibatch size (None: the full batch).

    With L = mean ‖x̃‖² + 1 (a bound on n times the curvature of the mean log loss, ×4),
    minibatches use ε_t = (1/L) / (1 + t/steps per epoch) and the full batch the
    constant 4/L. The MLE is full-batch gradient descent run to convergence; the
    iterates are constant-step SGD (m′ = 10, ε = 0.5/L) after ``burn`` epochs.
    """
    Y = np.where(data.y == 1, 1.0, -1.0)[:, None]
    sizes = [data.n if m is None else int(m) for m in batch_sizes]
    kw: dict[str, Any] = {"loss": "log_loss", "alpha": 0.0, "tol": None, "progress": False}
    curvature = float(np.mean(np.sum(data.X**2, axis=1)) + 1)
    losses, seconds = {}, {}
    for m in sizes:
        full = m >= data.n
        # gradient descent takes the largest stable step 4/L; minibatches a quarter of it, decaying
        eta = (4.0 if full else 1.0) / curvature
        args = {"batch_size": m, "eta0": eta, "schedule": "constant" if full else "inverse"}
        sgd.fit(jax.random.key(seed), data.X, Y, max_epochs=1, **args, **kw)  # compile
        res = sgd.fit(jax.random.key(seed), data.X, Y, max_epochs=epochs, **args, **kw)
        losses[m], seconds[m] = res.losses[:, 0], res.seconds
    ref = sgd.fit(
        jax.random.key(seed),
        data.X,
        Y,
        max_epochs=2000,
        batch_size=data.n,
        eta0=4.0 / curvature,
        schedule="constant",
        **kw,
    )
    w, b = ref.params
    optimum = float(ref.losses[-1, 0])
    walk = sgd.fit(
        jax.random.key(seed + 1),
        data.X,
        Y,
        max_epochs=burn + keep,
        batch_size=10,
        eta0=0.5 / curvature,
        schedule="constant",
        **kw,
    )
    tw, tb = walk.trajectory
    iterates = np.column_stack([tw[burn + 1 :, 0, :], tb[burn + 1 :, 0]])
    return SGDCurves(
        sizes, np.arange(epochs + 1), losses, seconds, optimum, np.r_[w[0], b[0]], iterates
    )


def sgld_vs_nuts(
    seed: int = 0, n: int = 1000, quick: bool = False
) -> tuple[dict[str, xr.DataTree], pd.DataFrame]:
    """SGLD and NUTS on a conjugate linear model (σ known), beside the exact posterior.

    Returns the two DataTrees and a table of posterior mean and sd per parameter
    (exact, NUTS, SGLD).
    """
    import arviz as az

    from freqbayes.inference import nuts
    from freqbayes.inference.sgld import sgld

    data = D.synthetic(
        "linear",
        {"beta": np.array([1.0, -0.5, 0.25]), "intercept": 0.5, "sigma": 1.0},
        n,
        seed=seed,
    )
    priors = {
        "beta_prior": P.Normal(1.0),
        "intercept_prior": P.Normal(1.0),
        "sigma_prior": P.Known(1.0),
    }
    size = {"num_warmup": 300, "num_samples": 300} if quick else {}
    trees = {
        "NUTS": nuts("linear", data, seed=seed, priors=priors, progress=False, **size),
        "SGLD": sgld("linear", data, seed=seed, priors=priors, **size),
    }
    exact = linear.posterior_known_sigma(data.X, data.y, 1.0, P.Normal(1.0), P.Normal(1.0))
    names = ["intercept", *(f"beta[{f}]" for f in data.feature_names)]
    table = pd.DataFrame({"parameter": names, "exact_mean": exact.mean, "exact_sd": exact.sd})
    for method, tree in trees.items():
        s = az.summary(tree, var_names=["intercept", "beta"], kind="all", round_to="none")
        table[f"{method}_mean"] = s["mean"].to_numpy(float)
        table[f"{method}_sd"] = s["sd"].to_numpy(float)
        table[f"{method}_ess_bulk"] = s["ess_bulk"].to_numpy(float)
        table[f"{method}_r_hat"] = s["r_hat"].to_numpy(float)
    return trees, table


# ---------------------------------------------------------------- calibration of the methods


def calibration(
    seed: int = 0,
    num: int = 500,
    sizes: Any = None,
    methods: Mapping[str, Sequence[str]] | None = None,
) -> tuple[pd.DataFrame, dict[tuple[str, str], Any]]:
    """Simulation-based calibration of every method with a posterior, on every model.

    Returns a table (model, method, parameter, χ² p-value, share converged) and the
    :class:`~freqbayes.inference.calibration.Result` of each (model, method).
    """
    from freqbayes.inference import calibration as C

    sizes = C.QUICK if sizes is None else sizes
    methods = C.METHODS if methods is None else methods
    results = {
        (model, method): C.calibrate(model, method, num=num, seed=seed, sizes=sizes)
        for model, names in methods.items()
        for method in names
    }
    table = pd.concat([r.table() for r in results.values()], ignore_index=True)
    return table, results


# ---------------------------------------------------------------- 9. curse of dimensionality


DIMENSIONS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


@functools.partial(jax.jit, static_argnames=("d", "n", "queries"))
def _distance_ratio(key: jax.Array, d: int, n: int, queries: int) -> jnp.ndarray:
    from freqbayes.models.objectives import squared_distances

    kx, kq = jax.random.split(key)
    X = jax.random.uniform(kx, (n, d))
    Q = jax.random.uniform(kq, (queries, d))
    dist = jnp.sqrt(jnp.maximum(squared_distances(Q, X), 0.0))
    return jnp.max(dist, axis=1) / jnp.min(dist, axis=1)


def curse_of_dimensionality(
    seed: int = 0,
    dims: Sequence[int] = DIMENSIONS,
    n: int = 1000,
    queries: int = 200,
    n_test: int = 500,
    k: int = 5,
) -> pd.DataFrame:
    """Farthest/nearest distance ratio and k-NN accuracy as the dimension grows (§5.11).

    Points are uniform on [0, 1]^d. For the accuracy, the label is x₁ > ½: one
    relevant coordinate among d, with n training points whatever d.
    """
    rows = []
    keys = jax.random.split(jax.random.key(seed), len(dims))
    rng = np.random.default_rng(seed)
    for key, d in zip(keys, dims, strict=True):
        ratio = np.asarray(_distance_ratio(key, int(d), n, queries), dtype=float)
        Xtr, Xte = rng.uniform(size=(n, d)), rng.uniform(size=(n_test, d))
        ytr, yte = (Xtr[:, 0] > 0.5).astype(np.int32), (Xte[:, 0] > 0.5).astype(np.int32)
        pred = knn.classify(
            jnp.asarray(Xtr, jnp.float32),
            jnp.asarray(ytr),
            jnp.asarray(Xte, jnp.float32),
            k,
            2,
            knn.block_size(n, n_test),
        )
        rows.append(
            {
                "d": int(d),
                "median_ratio": float(np.median(ratio)),
                "ratio_q10": float(np.quantile(ratio, 0.1)),
                "ratio_q90": float(np.quantile(ratio, 0.9)),
                "knn_accuracy": float(np.mean(np.asarray(pred) == yte)),
            }
        )
    return pd.DataFrame(rows)


__all__ = [
    "Bands",
    "Bias",
    "Concentration",
    "Divergence",
    "KernelTrick",
    "LloydFrames",
    "RidgePath",
    "SGDCurves",
    "calibration",
    "curse_of_dimensionality",
    "gaussian_concentration",
    "gravitation",
    "initialisation_inertia",
    "interval_coverage",
    "kernel_trick",
    "lloyd_frames",
    "logistic_problem",
    "map_ridge_path",
    "mle_divergence",
    "regression_bands",
    "select_features",
    "separable_data",
    "sgd_curves",
    "sgld_vs_nuts",
    "stuck_seed",
    "summary_table",
    "variance_bias",
]
