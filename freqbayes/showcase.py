"""The main job: every point estimate beside every posterior, with figures, tables and a report.

``freqbayes run all`` (and ``make demo``) calls :func:`run`, which works through
the stages in :data:`STAGES` and writes one folder::

    fits/*.nc        every fit as an ArviZ DataTree (netCDF)
    figures/*.png    every figure (plus the k-means animation as GIF and HTML)
    tables/*.csv     every table of numbers (reproducible: same seed, same bytes)
    timings/*.csv    wall times (not reproducible, kept apart)
    report.html      self-contained: figures embedded, tables, one paragraph each
    report.md        the same, linking the PNGs

Every file is written to a temporary name and renamed, so an interrupted run
leaves no half-written file.
"""

from __future__ import annotations

import base64
import html
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from freqbayes._io import atomic_path, write_datatree, write_text

DEFAULT_OUT = Path("runs/showcase")


@dataclass
class Section:
    """One part of the report: a title, a paragraph, figures and tables (by file name)."""

    key: str
    title: str
    text: str
    figures: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)


@dataclass
class Context:
    """What every stage needs: where to write, the seed, the size of the run."""

    out: Path
    seed: int
    quick: bool
    progress: bool
    fits: dict[str, Any] = field(default_factory=dict)
    bar: Any = None
    written: int = 0

    def _done(self, rel: str) -> str:
        """Count one output of the running stage and advance its progress bar."""
        self.written += 1
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(rel.split("/")[-1])
        return rel

    # ---- writers (atomic)
    def figure(self, fig: Any, name: str) -> str:
        """Save a Matplotlib figure as ``figures/<name>.png``; return its relative path."""
        import matplotlib.pyplot as plt

        rel = f"figures/{name}.png"
        try:
            with atomic_path(self.out / rel) as tmp:
                fig.savefig(tmp, format="png", dpi=90 if self.quick else 110, bbox_inches="tight")
        finally:
            plt.close(fig)
        return self._done(rel)

    def table(self, df: pd.DataFrame, name: str) -> str:
        """Save a table as ``tables/<name>.csv`` (full precision); return its relative path."""
        rel = f"tables/{name}.csv"
        with atomic_path(self.out / rel) as tmp:
            df.to_csv(tmp, index=False, float_format="%.10g")
        return self._done(rel)

    def fit(self, tree: Any, name: str) -> Any:
        """Save a DataTree as ``fits/<name>.nc`` and keep it for later stages."""
        write_datatree(tree, self.out / "fits" / f"{name}.nc")
        self.fits[name] = tree
        self._done(f"fits/{name}.nc")
        return tree

    # ---- run sizes
    def nuts_size(self) -> dict[str, int]:
        """NUTS settings: 4 chains × (1000 + 1000); quick: 4 × (300 + 300)."""
        return {"num_warmup": 300, "num_samples": 300} if self.quick else {}

    def method_settings(self, method: str) -> dict[str, Any]:
        """Smaller runs of the sampling methods in quick mode."""
        if not self.quick:
            return {}
        if method == "nuts":
            return self.nuts_size()
        if method.startswith("svi"):
            return {"num_steps": 3000, "num_samples": 300}
        if method == "laplace":
            return {"num_samples": 300}
        return {}


# ------------------------------------------------------------------ stages


def _fits(ctx: Context) -> list[Section]:
    """All three models, every method, on their default data (logistic: 5 features)."""
    from freqbayes import data as D
    from freqbayes import figures as F
    from freqbayes import inference
    from freqbayes import lessons as L
    from freqbayes.models import priors as P

    cancer = L.select_features(D.breast_cancer(), L.CANCER_FEATURES)
    problems = {"gaussian": D.iris_setosa(), "linear": D.diabetes(), "logistic": cancer}
    sections = []
    for model, data in problems.items():
        trees = {}
        for method in inference.METHODS:
            tree = inference.fit(
                model, data, method, seed=ctx.seed, progress=False, **ctx.method_settings(method)
            )
            trees[method] = ctx.fit(tree, f"{model}-{method}")
        table = L.summary_table(trees)
        times = table[["method", "seconds"]].drop_duplicates()
        _timing(ctx, times, f"{model}-methods")
        rel = ctx.table(table.drop(columns="seconds"), f"{model}-methods")
        label, xlabel, shared = FOREST_LABELS[model]
        fig = ctx.figure(
            F.forest(table, f"{model} model, {label}: every method", xlabel, shared),
            f"forest-{model}",
        )
        time_rel = f"timings/{model}-methods.csv"
        priors = inference.prepare(model, data).priors
        used = "; ".join(
            f"{name.removesuffix('_prior')} ~ {P.describe(prior)}" for name, prior in priors.items()
        )
        sections.append(
            Section(
                f"fits-{model}",
                f"Every method on the {model} model ({data.name}, n = {data.n})",
                f"{FITS_TEXT[model]} Priors (the defaults, 2.5 times the data's own scales): "
                f"{used}.",
                [fig],
                [rel, time_rel],
            )
        )
    return sections


#: model -> (data label, x-axis label, one shared axis?) of its forest plot.
FOREST_LABELS = {
    "gaussian": ("Iris setosa sepal lengths", "value (μ and σ in cm)", False),
    "linear": ("diabetes", "coefficient (standardised features and target)", True),
    "logistic": ("breast cancer, 5 features", "coefficient (standardised features)", True),
}

FITS_TEXT = {
    "gaussian": (
        "Sepal lengths of the 50 Iris setosa flowers, x_i ~ N(μ, σ²) (§5.5). MLE and MAP are "
        "single points (diamonds); Laplace, SVI and NUTS are posteriors, drawn as the 95% "
        "equal-tailed interval (ETI) around the mean. With 50 observations and a weak prior "
        "every method agrees on μ; on σ the MLE (√ of the biased variance, eq. 5.5) sits "
        "slightly below the posterior mean."
    ),
    "linear": (
        "Diabetes (standardised), y = b + θᵀx + ε, ε ~ N(0, σ²) (eq. 5.80). OLS is the "
        "conditional MLE (§5.5.1) and the MAP is ridge regression (§5.6.1). The "
        "correlated serum features (s1, s2) have wide posteriors: the data cannot tell them "
        "apart, and mean-field SVI, which ignores correlation, understates that width."
    ),
    "logistic": (
        "Breast cancer, five standardised features, p(y = 1 | x) = σ(θᵀx + b) (§5.7.1). On "
        "these five features the classes overlap, so the MLE exists. The MAP "
        "shrinks it towards 0 (weight decay); Laplace is a Gaussian at the MAP, SVI fits a "
        "Gaussian by the ELBO, NUTS draws from the exact posterior. The table gives r̂ and bulk "
        "ESS of the draws and the wall time of each method."
    ),
}


def _timing(ctx: Context, df: pd.DataFrame, name: str) -> str:
    rel = f"timings/{name}.csv"
    with atomic_path(ctx.out / rel) as tmp:
        df.to_csv(tmp, index=False, float_format="%.4g")
    return rel


def _gaussian(ctx: Context) -> list[Section]:
    from freqbayes import figures as F
    from freqbayes import lessons as L

    conc = L.gaussian_concentration(ctx.seed)
    bias = L.variance_bias(ctx.seed, reps=4000 if ctx.quick else 20_000)
    conc_df = pd.DataFrame(conc._asdict()).drop(columns=["true_mu", "true_sigma"])
    bias_df = pd.DataFrame(bias._asdict()).drop(columns="reps")
    return [
        Section(
            "gaussian",
            "MLE, MAP and posterior for a Gaussian (§5.5–5.6)",
            "One sample from N(5, 2²), read in ever longer prefixes (n = 2 … 1,000), with a "
            "weak conjugate Normal-Inverse-Gamma prior. Left: the posterior of μ (mean and 95% "
            "ETI, a Student-t) narrows like 1/√n around the MLE x̄. Right: σ. Below: the MLE of "
            "σ² divides by n and so is biased, E[σ̂²] = (n − 1)/n · σ² (eq. 5.5); thousands of "
            f"simulated data sets per n (one vmap, {bias.reps:,} each) land on the formula.",
            [
                ctx.figure(F.gaussian_concentration(conc), "gaussian-concentration"),
                ctx.figure(F.variance_bias(bias), "variance-bias"),
            ],
            [ctx.table(conc_df, "gaussian-concentration"), ctx.table(bias_df, "variance-bias")],
        )
    ]


def _coverage(ctx: Context) -> list[Section]:
    from freqbayes import figures as F
    from freqbayes import lessons as L

    table = L.interval_coverage(ctx.seed, reps=2000 if ctx.quick else 10_000)
    return [
        Section(
            "coverage",
            "Confidence versus credible intervals",
            "Each replication draws (μ, σ²) from a Normal-Inverse-Gamma prior, then n "
            "observations, then four 95% intervals for μ: the frequentist t-interval and "
            "equal-tailed credible intervals under the true prior, a weakly-informative prior "
            "and a confident, wrong prior. The t-interval covers 95% whatever μ is; the "
            "credible interval under the true prior covers 95% on average over that prior, with "
            "narrower intervals; the misspecified prior covers far less at small n and recovers "
            "as the data outweigh it. Error bars: ±1.96 Monte-Carlo se.",
            [ctx.figure(F.interval_coverage(table), "interval-coverage")],
            [ctx.table(table, "interval-coverage")],
        )
    ]


def _ridge(ctx: Context) -> list[Section]:
    from freqbayes import data as D
    from freqbayes import figures as F
    from freqbayes import lessons as L
    from freqbayes.models import linear

    taus = (0.03, 0.1, 0.3) if ctx.quick else (0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
    diabetes = D.diabetes()
    path = L.map_ridge_path(diabetes, taus=taus)
    df = pd.DataFrame(path.map, columns=list(path.features)).assign(tau=path.tau, lam=path.map_lam)
    ridge_at = np.array([linear.ridge(diabetes.X, diabetes.y, lam).beta for lam in path.map_lam])
    df["max_abs_diff_to_ridge"] = np.abs(path.map - ridge_at).max(axis=1)
    return [
        Section(
            "ridge",
            "MAP with a Gaussian prior is weight decay (§5.6.1)",
            "Diabetes, σ fixed at its OLS estimate. Lines: the ridge solution argmin ‖y − Xθ‖² "
            "+ λ‖θ‖² as λ varies (closed form). Dots: the MAP of the Bayesian linear model with "
            "prior θ_j ~ N(0, τ²), found by L-BFGS on the log posterior, placed at λ = σ²/τ². "
            "They lie on the same curve (the table gives the largest difference). Right: the "
            "posterior mean with its 95% ETI for the three largest weights: the prior that "
            "makes the estimate shrink also says how uncertain it is.",
            [ctx.figure(F.ridge_path(path), "ridge-map-path")],
            [ctx.table(df, "map-vs-ridge")],
        )
    ]


def _linear(ctx: Context) -> list[Section]:
    from freqbayes import data as D
    from freqbayes import figures as F
    from freqbayes import inference
    from freqbayes import lessons as L

    bmi = L.select_features(D.diabetes(), ["bmi"])
    tree = ctx.fit(
        inference.nuts("linear", bmi, seed=ctx.seed, progress=False, **ctx.nuts_size()),
        "linear-bmi-nuts",
    )
    bands = L.regression_bands(bmi, tree, ctx.seed)
    grav = L.gravitation(ctx.seed)
    gtree = ctx.fit(
        inference.nuts(
            "linear",
            grav,
            seed=ctx.seed,
            priors=L.GRAVITATION_PRIORS,
            dense_mass=True,
            progress=False,
            **ctx.nuts_size(),
        ),
        "gravitation-nuts",
    )
    gtable = L.summary_table({"nuts": gtree})
    truth = {
        f"beta[{f}]": b for f, b in zip(grav.feature_names, grav.attrs["true_beta"], strict=True)
    }
    truth |= {"intercept": grav.attrs["true_intercept"], "sigma": grav.attrs["true_sigma"]}
    gtable["true"] = gtable["parameter"].map(truth).astype(float)
    inside = (gtable["eti95_lo"] <= gtable["true"]) & (gtable["true"] <= gtable["eti95_hi"])
    missed = ", ".join(gtable.loc[~inside, "parameter"])
    verdict = (
        f"Here every one of the {len(gtable)} intervals contains its true value."
        if inside.all()
        else f"Here the interval of {missed} misses its true value: a 95% interval does so "
        "about one time in twenty (see the coverage section)."
    )
    return [
        Section(
            "linear",
            "Bayesian linear regression (§5.7.1, eq. 5.80)",
            "Diabetes progression against body-mass index alone. Left: OLS with its 95% "
            "confidence band for the mean line and the 95% prediction interval for a new "
            "patient. Right: the posterior mean line, the 95% credible band (ETI of b + θx over "
            "NUTS draws) and the 95% posterior-predictive band. With n = 442 and a weak prior "
            "the two pictures agree; the Bayesian bands are probability statements about θ and "
            "a new y given these data.",
            [ctx.figure(F.regression_bands(bands, bmi.X[:, 0], bmi.y, "bmi"), "regression-bands")],
        ),
        Section(
            "gravitation",
            "A feature map: Newton's law of gravitation is linear in the logs",
            "100 noisy synthetic measurements of F = G m₁ m₂ / r² (10% lognormal measurement "
            "error). Taking logs, log F = log G + 1·log m₁ + 1·log m₂ − 2·log r: a linear model "
            "in the features (log m₁, log m₂, log r). NUTS recovers the exponents 1, 1, −2 and "
            f"log G (dotted: the true values) with 95% intervals. {verdict}",
            [ctx.figure(F.gravitation(gtree, grav.attrs), "gravitation")],
            [ctx.table(gtable.drop(columns="seconds"), "gravitation")],
        ),
    ]


def _logistic(ctx: Context) -> list[Section]:
    from freqbayes import figures as F
    from freqbayes import inference
    from freqbayes import lessons as L

    sep = L.separable_data(ctx.seed)
    div = L.mle_divergence(sep, steps=500 if ctx.quick else 5000)
    tree = ctx.fit(
        inference.nuts("logistic", sep, seed=ctx.seed, progress=False, **ctx.nuts_size()),
        "separable-nuts",
    )
    table = L.summary_table({"nuts": tree})
    norms = pd.DataFrame(
        {"iteration": div.iterations, "mle_norm": div.mle_norm, "map_norm": div.map_norm}
    )
    return [
        Section(
            "separation",
            "Separable data: the MLE diverges, the posterior stays proper",
            "Two completely separated classes in 2-D. Gradient descent on the mean log loss "
            "(SGD with the full batch) drives ‖w‖ up like log t without end: a steeper sigmoid "
            "always fits better, so there is no MLE, and freqbayes' mle() says so instead of "
            "returning a number. With a N(0, 1) prior the same descent (now weight decay) "
            "converges to the MAP; under the default priors the posterior is a proper "
            "distribution (table: NUTS, 95% ETI, r̂, ESS).",
            [ctx.figure(F.divergence(div), "separation-divergence")],
            [
                ctx.table(norms.iloc[:: max(1, len(norms) // 200)], "separation-norms"),
                ctx.table(table.drop(columns="seconds"), "separable-posterior"),
            ],
        )
    ]


def _svm(ctx: Context) -> list[Section]:
    from freqbayes import figures as F
    from freqbayes import lessons as L
    from freqbayes.inference.estimators import SVC

    sep = L.separable_data(ctx.seed)
    svm = SVC(kernel="linear", C=1000.0).fit(sep.X, sep.y)
    trick = L.kernel_trick(ctx.seed)
    return [
        Section(
            "svm",
            "The SVM against logistic regression (§5.7.2)",
            "The same separable data. Left: the maximum-margin boundary (solid), the margins "
            "w·x + b = ±1 (dashed) and the support vectors (circled): only they fix the "
            "boundary. Right: 150 boundaries drawn from the logistic posterior (NUTS) and the "
            "posterior-mean boundary: where the SVM commits to one line, the posterior says "
            "which lines are plausible.",
            [
                ctx.figure(
                    F.svm_vs_logistic(sep.X, sep.y, svm, ctx.fits["separable-nuts"], ctx.seed),
                    "svm-vs-logistic",
                )
            ],
        ),
        Section(
            "kernels",
            "The kernel trick",
            "Circles and moons, 30% held out. A linear SVM cannot separate concentric circles; "
            "the RBF kernel k(x, x′) = exp(−γ‖x − x′‖²) can, and so can a linear SVM on the "
            "explicit feature map φ(x) = (x₁, x₂, ‖x‖²), which lifts the inner circle below a "
            "plane (bottom figure).",
            [
                ctx.figure(F.kernel_trick(trick), "kernel-trick"),
                ctx.figure(F.feature_map(trick), "feature-map"),
            ],
            [ctx.table(trick.accuracy, "kernel-accuracy")],
        ),
    ]


def _kmeans(ctx: Context) -> list[Section]:
    from freqbayes import figures as F
    from freqbayes import lessons as L

    X = L.blobs(ctx.seed, std=0.7)
    stuck = L.stuck_seed(X, 5)
    seeds = {"random": ctx.seed if stuck is None else stuck, "k-means++": ctx.seed}
    frames = {m: L.lloyd_frames(X, 5, seeds[m], m, steps=6) for m in seeds}
    hard = L.blobs(ctx.seed, n=3000, centers=15, std=0.5)
    inertia = L.initialisation_inertia(hard, 15, ctx.seed, restarts=64 if ctx.quick else 256)
    stuck_text = (
        "random seeding (no seed of 0–63 got stuck here; seed shown: the run's)"
        if stuck is None
        else f"random seeding with seed {stuck}, the first of 0–63 whose run ends in a worse "
        "optimum:"
    )
    anim = F.lloyd_animation(frames["k-means++"], "k-means++")
    with atomic_path(ctx.out / "figures/kmeans-animation.html") as tmp:
        Path(tmp).write_text(anim.to_jshtml(fps=1.5), encoding="utf-8")
    if not ctx.quick:
        from matplotlib.animation import PillowWriter

        with atomic_path(ctx.out / "figures/kmeans-animation.gif") as tmp:
            anim.save(tmp, writer=PillowWriter(fps=1.5), dpi=70)
    summary = pd.DataFrame(
        [
            {
                "init": m,
                "restarts": len(v),
                "mean": v.mean(),
                "median": np.median(v),
                "best": v.min(),
                "share_within_1pct_of_best": float(
                    np.mean(v <= 1.01 * min(w.min() for w in inertia.values()))
                ),
            }
            for m, v in inertia.items()
        ]
    )
    links = ["figures/kmeans-animation.html"] + (
        [] if ctx.quick else ["figures/kmeans-animation.gif"]
    )
    return [
        Section(
            "kmeans",
            "k-means and k-means++ (§5.8.2)",
            "Lloyd's four steps: (1) place k centroids, (2) assign each point to its nearest "
            "centroid, (3) move each centroid to the mean of its points, (4) repeat until "
            f"nothing moves. Top row: {stuck_text} two centroids can share one blob while "
            "another blob has none, and Lloyd cannot repair that; bottom: k-means++ picks each "
            "new centroid with probability ∝ D(x)², the squared distance to the nearest chosen "
            "one, and spreads them out. The histogram: the final inertia of "
            f"{len(next(iter(inertia.values())))} restarts per initialisation on 15 blobs, each "
            "set of restarts one vmap. The animation shows the seeding and then every step.",
            [
                ctx.figure(F.lloyd_steps(frames), "kmeans-steps"),
                ctx.figure(F.initialisation(inertia), "kmeans-initialisation"),
            ],
            [ctx.table(summary, "kmeans-initialisation")],
            links,
        )
    ]


def _sgd(ctx: Context) -> list[Section]:
    from freqbayes import figures as F
    from freqbayes import lessons as L

    data = L.logistic_problem(ctx.seed, n=2000 if ctx.quick else 5000)
    curves = L.sgd_curves(data, epochs=10 if ctx.quick else 30, seed=ctx.seed)
    final = pd.DataFrame(
        {
            "batch_size": curves.batch_sizes,
            "final_gap_to_optimum": [
                curves.loss[m][-1] - curves.optimum for m in curves.batch_sizes
            ],
        }
    )
    _timing(
        ctx,
        pd.DataFrame(
            {
                "batch_size": curves.batch_sizes,
                "seconds": [curves.seconds[m][-1] for m in curves.batch_sizes],
            }
        ),
        "sgd-batch-sizes",
    )
    trees, table = L.sgld_vs_nuts(ctx.seed, quick=ctx.quick)
    for name, tree in trees.items():
        ctx.fit(tree, f"conjugate-linear-{name.lower()}")
    mean_err = float(np.max(np.abs(table["SGLD_mean"] - table["exact_mean"]) / table["exact_sd"]))
    nuts_err = float(np.max(np.abs(table["NUTS_mean"] - table["exact_mean"]) / table["exact_sd"]))
    sd_lo, sd_hi = (table["SGLD_sd"] / table["exact_sd"]).agg(["min", "max"])
    return [
        Section(
            "sgd",
            "Stochastic gradient descent (§5.9)",
            "Logistic regression on simulated data. The cost is the mean loss J(θ) (eq. 5.96); "
            "each step uses the minibatch estimate g of its gradient (eq. 5.98) and θ ← θ − εg. "
            "Left and middle: J − J(θ_MLE) against epochs and against wall time for m′ = 1, 10, "
            "128, 300 and the full batch: an epoch of small minibatches makes many cheap steps. "
            "Right: with a constant ε the iterates do not converge but hover around the MLE, a "
            "cloud whose size is set by ε and m′.",
            [ctx.figure(F.sgd_curves(curves), "sgd-batch-sizes")],
            [ctx.table(final, "sgd-final-gap"), "timings/sgd-batch-sizes.csv"],
        ),
        Section(
            "sgld",
            "From SGD to the posterior: stochastic-gradient Langevin dynamics",
            "Add Gaussian noise of variance ε to each SGD step on the negative log posterior: u "
            "← u − (ε/2) ĝ + √ε ξ. The iterates are then (approximately, for small ε) draws "
            "from the posterior. On a linear model with known σ, whose posterior is exactly "
            "Gaussian, SGLD (minibatches of 128) and NUTS agree with each other and with the "
            f"exact mean and sd (table): the largest mean error is {mean_err:.2f} posterior sd "
            f"for SGLD ({nuts_err:.2f} for NUTS), and SGLD's sds are {sd_lo:.2f}–{sd_hi:.2f} "
            "times the exact ones, the price of a finite step.",
            [ctx.figure(F.sgld_vs_nuts(trees), "sgld-vs-nuts")],
            [ctx.table(table, "sgld-vs-nuts")],
        ),
    ]


def _calibration(ctx: Context) -> list[Section]:
    from freqbayes import figures as F
    from freqbayes import lessons as L
    from freqbayes.inference import calibration as C

    # quick: two methods on one model (most of the cost is compiling one program per pair)
    if ctx.quick:
        num, sizes, methods = 100, C.SMOKE, {"linear": ("nuts", "laplace")}
    else:
        num, sizes, methods = 500, C.QUICK, C.METHODS
    table, results = L.calibration(ctx.seed, num=num, sizes=sizes, methods=methods)
    worst = table.groupby(["model", "method"], sort=False)["chi2_pvalue"].min()
    bad = [f"{method} on {model}" for (model, method), p in worst.items() if p < 1e-3]
    failing = ", ".join(bad) if bad else "none"
    return [
        Section(
            "calibration",
            "Which methods can you trust here? Simulation-based calibration",
            f"For each model, {num} data sets are drawn from its prior and each method fits "
            "every one (one vmap or lax.map per method). If a method's posterior is right, "
            "the true parameter is just another draw from it, so its rank among the "
            f"{sizes.draws} posterior draws is uniform: the histograms must stay in the grey "
            "band, and the χ² test of uniformity must not reject (p ≥ 0.001). A ∪ shape means "
            "posteriors too narrow, ∩ too wide, a slope a bias. NUTS is exact up to Monte-Carlo "
            "error; the approximations are exact only for Gaussian posteriors. Rejected here: "
            f"{failing}. (`make sbc` runs the same at full size: 1,000 data sets, 99 draws.)",
            [ctx.figure(F.calibration(results), "calibration")],
            [ctx.table(table, "calibration")],
        )
    ]


def _curse(ctx: Context) -> list[Section]:
    from freqbayes import figures as F
    from freqbayes import lessons as L

    table = L.curse_of_dimensionality(ctx.seed)
    ratio = table.set_index("d")["median_ratio"]
    acc = table.set_index("d")["knn_accuracy"]
    lo, hi = int(table["d"].min()), int(table["d"].max())
    return [
        Section(
            "curse",
            "The curse of dimensionality (§5.11)",
            "Left: for 1,000 uniform points in [0, 1]^d, the ratio of a query's farthest to its "
            f"nearest neighbour distance (median over queries): {ratio[lo]:.3g} at d = {lo}, "
            f"{ratio[hi]:.3g} at d = {hi}: in high dimension 'nearest' stops meaning much. "
            "Right: 5-NN with n = 1,000 training points on a label that depends on x₁ alone; "
            f"the other d − 1 coordinates drown it and test accuracy falls from {acc[lo]:.0%} to "
            f"{acc[hi]:.0%} (chance: 50%).",
            [ctx.figure(F.curse(table), "curse-of-dimensionality")],
            [ctx.table(table, "curse-of-dimensionality")],
        )
    ]


#: (name, stage) in order; the SVM stage reuses the separable-data posterior of "logistic".
STAGES: list[tuple[str, Callable[[Context], list[Section]]]] = [
    ("fits", _fits),
    ("gaussian", _gaussian),
    ("coverage", _coverage),
    ("ridge", _ridge),
    ("linear", _linear),
    ("logistic", _logistic),
    ("svm", _svm),
    ("kmeans", _kmeans),
    ("sgd", _sgd),
    ("curse", _curse),
    ("calibration", _calibration),
]

#: Outputs (fits, figures, tables) each stage writes: the length of its progress bar.
STAGE_OUTPUTS = {
    "fits": 24,
    "gaussian": 4,
    "coverage": 2,
    "ridge": 2,
    "linear": 5,
    "logistic": 4,
    "svm": 4,
    "kmeans": 3,
    "sgd": 6,
    "curse": 2,
    "calibration": 2,
}


# ------------------------------------------------------------------ report


def _fmt(v: Any) -> str:
    if isinstance(v, float | np.floating):
        if np.isnan(v):
            return "–"
        return f"{v:.4g}"
    return str(v)


def markdown_table(df: pd.DataFrame, max_rows: int = 40) -> str:
    """A GitHub-flavoured Markdown table (at most ``max_rows`` rows)."""
    head = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    body = [
        "| " + " | ".join(_fmt(v) for v in row) + " |"
        for row in df.head(max_rows).itertuples(index=False)
    ]
    more = [f"\n({len(df) - max_rows} more rows in the CSV)"] if len(df) > max_rows else []
    return "\n".join([head, rule, *body, *more])


def html_table(df: pd.DataFrame, max_rows: int = 40) -> str:
    """An HTML table (at most ``max_rows`` rows)."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>"
        for row in df.head(max_rows).itertuples(index=False)
    )
    more = (
        f"<p class='more'>{len(df) - max_rows} more rows in the CSV.</p>"
        if len(df) > max_rows
        else ""
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>{more}"


CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}
body{color:#222}img{max-width:100%;border:1px solid #eee;margin:.5em 0}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}th{background:#f3f3f3}
p.more{font-size:.8em;color:#666}
h2{border-bottom:1px solid #ddd;padding-top:1em}.caption{font-size:.85em;color:#555}"""

INTRO = (
    "Deep Learning (Goodfellow, Bengio & Courville), §5.5–5.11, run for real: every point "
    "estimate (MLE, MAP, the SVM, k-means, SGD) beside a full posterior (Laplace, SVI, NUTS, "
    "SGLD). Intervals are 95% equal-tailed intervals (ETI) unless stated otherwise."
)


def _read(out: Path, rel: str) -> pd.DataFrame:
    return pd.read_csv(out / rel)


def write_report(
    out: Path, sections: Sequence[Section], timings: pd.DataFrame, settings: str
) -> tuple[Path, Path]:
    """Write ``report.md`` and a self-contained ``report.html`` from the sections' files."""
    md = [
        "# freqbayes: the frequentist and the Bayesian way, side by side",
        "",
        INTRO,
        "",
        settings,
        "",
    ]
    body = [
        "<h1>freqbayes: the frequentist and the Bayesian way, side by "
        f"side</h1><p>{html.escape(INTRO)}</p><p>{html.escape(settings)}</p>"
    ]
    toc = "".join(f"<li><a href='#{s.key}'>{html.escape(s.title)}</a></li>" for s in sections)
    body.append(f"<ol>{toc}</ol>")
    for s in sections:
        md += [f"## {s.title}", "", s.text, ""]
        body.append(f"<h2 id='{s.key}'>{html.escape(s.title)}</h2><p>{html.escape(s.text)}</p>")
        for rel in s.figures:
            md += [f"![{s.title}]({rel})", ""]
            data = base64.b64encode((out / rel).read_bytes()).decode()
            body.append(f"<img alt='{html.escape(rel)}' src='data:image/png;base64,{data}'>")
        for rel in s.tables:
            df = _read(out, rel)
            md += [f"Table `{rel}`:", "", markdown_table(df), ""]
            body.append(
                f"<p class='caption'>Table <code>{html.escape(rel)}</code></p>{html_table(df)}"
            )
        for rel in s.links:
            md += [f"[{rel}]({rel})", ""]
            body.append(f"<p><a href='{html.escape(rel)}'>{html.escape(rel)}</a></p>")
    md += ["## Stage timings", "", markdown_table(timings), ""]
    body.append(f"<h2 id='timings'>Stage timings</h2>{html_table(timings)}")
    head = f"<meta charset='utf-8'><title>freqbayes report</title><style>{CSS}</style>"
    page = f"<!doctype html><html><head>{head}</head><body>{''.join(body)}</body></html>"
    write_text(out / "report.md", "\n".join(md))
    write_text(out / "report.html", page)
    return out / "report.md", out / "report.html"


def run(
    out: Path = DEFAULT_OUT,
    *,
    seed: int = 0,
    quick: bool = False,
    progress: bool | None = None,
    stages: Sequence[str] | None = None,
) -> tuple[list[Section], pd.DataFrame]:
    """Run the stages (all by default), write every file and the report.

    Returns the report's sections and the table of stage timings.
    """
    from tqdm.auto import tqdm

    from freqbayes.inference.common import progress_enabled

    names = [n for n, _ in STAGES]
    chosen = names if stages is None else list(stages)
    unknown = [s for s in chosen if s not in names]
    if unknown or not chosen:
        raise ValueError(f"stages: unknown {unknown or chosen!r}; known: {', '.join(names)}")
    if "svm" in chosen and "logistic" not in chosen:
        chosen.append("logistic")
    ctx = Context(Path(out), seed, quick, progress_enabled(progress))
    sections: list[Section] = []
    rows = []
    todo = [(n, f) for n, f in STAGES if n in chosen]
    for i, (name, stage) in enumerate(todo, 1):
        ctx.written = 0
        ctx.bar = tqdm(
            total=STAGE_OUTPUTS[name],
            desc=f"[{i}/{len(todo)}] {name}",
            unit="file",
            disable=not ctx.progress,
            file=sys.stderr,
        )
        start = time.perf_counter()
        try:
            sections += stage(ctx)
        finally:
            ctx.bar.close()
        rows.append({"stage": name, "seconds": time.perf_counter() - start, "outputs": ctx.written})
    timings = pd.DataFrame(rows)
    timings.loc[len(timings)] = {
        "stage": "total",
        "seconds": timings["seconds"].sum(),
        "outputs": timings["outputs"].sum(),
    }
    _timing(ctx, timings, "stages")
    settings = f"Seed {seed}; {'quick mode (small runs)' if quick else 'full run'}."
    write_report(ctx.out, sections, timings, settings)
    return sections, timings
