"""Stages of the report on estimation (§5.5–5.6).

Every method on every model, the Gaussian, intervals, weight decay and regression.
Every number in the prose comes from the code that made it.

Longer than 400 lines: every paragraph is a catalogue message (:mod:`freqbayes.i18n`)
whose numbers are named fields filled after translating, one line each.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from freqbayes.demos import write_demo
from freqbayes.i18n import N_, _
from freqbayes.showcase.context import Context
from freqbayes.showcase.report import WARNING_COLUMN, Section

#: What the report says of a fit it marks (the rule of :func:`~.diagnostics.warnings`).
UNTRUSTED_RULE = N_(
    "A fit with non-finite draws, r̂ > 1.01, bulk ESS below 100 per chain or divergent "
    "transitions is not to be trusted: it is named below with its reason, its table rows "
    "are greyed and its interval is hatched grey, not drawn as an interval."
)

#: Data of the every-method stage where the model's own default is not the lesson's choice.
FITS_DATA: dict[str, Callable[[], object]] = {}


def _fits_data() -> dict[str, object]:
    """The lesson's data for each registered model that declares a lesson.

    Logistic: five features. Models without a lesson (the GLM families, a user's own)
    are fitted on demand (``freqbayes run MODEL``), not in the report.
    """
    from freqbayes import lessons as L
    from freqbayes.models import data as D
    from freqbayes.models.registry import MODELS

    chosen = {"logistic": lambda: L.select_features(D.breast_cancer(), L.CANCER_FEATURES)}
    chosen.update(FITS_DATA)
    out = {}
    for name, model in MODELS.items():
        if model.lesson is None:
            continue
        if name in chosen:
            out[name] = chosen[name]()
        elif model.default_data is not None:
            out[name] = D.load(None, model)
    return out


def fits_outputs(ctx: Context) -> int:
    """Files the every-method stage writes: a fit per (model, method), a table, a figure each.

    And the forest plot's slide versions: one for the scalars, one per ≤ 6 coefficients.
    """
    from freqbayes.figures.slide_versions import forest_slide_count
    from freqbayes.inference import parse_methods

    return sum(
        len(parse_methods("all", n)) + 2 + forest_slide_count(0 if d.X is None else d.X.shape[1])
        for n, d in _fits_data().items()
    )


def fits(ctx: Context) -> list[Section]:
    """Every registered model on its data, with every method that applies to it."""
    from freqbayes import figures as F
    from freqbayes import inference
    from freqbayes.figures import slide_versions as SV
    from freqbayes.models.probabilistic import priors as P
    from freqbayes.models.probabilistic.model import Lesson
    from freqbayes.models.registry import MODELS
    from freqbayes.summaries import summary_table

    sections = []
    for model, data in _fits_data().items():
        trees = {}
        for method in inference.parse_methods("all", model):
            tree = inference.fit(
                model, method, data, seed=ctx.seed, progress=False, **ctx.settings(method)
            )
            trees[method] = ctx.fit(tree, f"{model}-{method}")
        table = summary_table(trees)
        names = {method: f"{model}-{method}" for method in trees}
        table[WARNING_COLUMN] = table["method"].map({m: ctx.caveats[n] for m, n in names.items()})
        ctx.timing(table[["method", "seconds"]].drop_duplicates(), f"{model}-methods")
        rel = ctx.table(table.drop(columns="seconds"), f"{model}-methods")
        spec = MODELS.get(model)
        lesson = spec.lesson or Lesson(spec.about, data.name, N_("value"))
        label, xlabel, shared = lesson.data, lesson.axis, spec.uses_X
        title = _("{model} model, {data}: every method").format(model=model, data=_(label))
        fig = ctx.figure(F.forest(table, title, _(xlabel), shared), f"forest-{model}")
        short = _("{model} model, {data}").format(model=model, data=_(label))
        slides = [
            ctx.figure(f, f"slides/forest-{model}-{i}")
            for i, f in enumerate(SV.forest_groups(table, short, _(xlabel)), start=1)
        ]
        priors = inference.prepare(model, data).priors
        used = "; ".join(f"{k.removesuffix('_prior')} ~ {P.describe(v)}" for k, v in priors.items())
        d = 0 if data.X is None else data.X.shape[1]
        text = _(lesson.text).format(n=data.n, d=d)
        sections.append(
            Section(
                f"fits-{model}",
                _("Every method on the {model} model ({data}, n = {n})").format(
                    model=model, data=data.name, n=data.n
                ),
                _(
                    "{text} The table gives r̂ and bulk ESS of the draws; the wall time of each "
                    "method is under timings/. Priors (the defaults, 2.5 times the data's own "
                    "scales): {priors}. {rule}"
                ).format(text=text, priors=used, rule=_(UNTRUSTED_RULE)),
                [fig],
                [rel, f"timings/{model}-methods.csv"],
                links=slides,
                warnings=ctx.warnings(list(names.values())),
            )
        )
    return sections


def gaussian(ctx: Context) -> list[Section]:
    """The posterior concentrating on the MLE as n grows; the bias of the variance MLE."""
    from freqbayes import figures as F
    from freqbayes import lessons as L

    conc = L.gaussian_concentration(ctx.seed)
    bias = L.variance_bias(ctx.seed, reps=4000 if ctx.quick else 20_000)
    conc_df = pd.DataFrame(conc._asdict()).drop(columns=["true_mu", "true_sigma"])
    bias_df = pd.DataFrame(bias._asdict()).drop(columns="reps")
    div = L.mle_as_divergence(ctx.seed)
    upd = L.sequential_updating(ctx.seed)
    return [
        Section(
            "gaussian",
            _("MLE, MAP and posterior for a Gaussian (§5.5–5.6)"),
            _(
                "One sample from N({mu:g}, {sigma:g}²), read in ever longer prefixes "
                "(n = {first} … {last:,}), with a weak conjugate Normal-Inverse-Gamma prior. "
                "Left: the posterior of μ (mean and 95% ETI, a Student-t) narrows like 1/√n "
                "around the MLE x̄. Right: σ; at small n its MLE is low because it divides by "
                "n and μ is estimated from the same points. Below: the MLE of σ² is biased, "
                "E[σ̂²] = (n − 1)/n · σ² (eqs. 5.36–5.39, §5.4.2); {reps:,} simulated data "
                "sets per n (one vmap) land on the formula."
            ).format(
                mu=conc.true_mu,
                sigma=conc.true_sigma,
                first=conc.n[0],
                last=conc.n[-1],
                reps=bias.reps,
            ),
            [
                ctx.figure(F.gaussian_concentration(conc), "gaussian-concentration"),
                ctx.figure(F.variance_bias(bias), "variance-bias"),
            ],
            [ctx.table(conc_df, "gaussian-concentration"), ctx.table(bias_df, "variance-bias")],
        ),
        Section(
            "principles",
            _("Why maximum likelihood, and how a posterior learns"),
            _(
                "Left: the MLE minimises the cross-entropy −(1/m) Σ log p_model(xᵢ) between "
                "the data's empirical distribution and the model, which is "
                "D_KL(p̂_data ‖ p_model) plus the entropy of p̂_data, a constant in θ, so both "
                "have the same minimiser (eqs. 5.58–5.61): for a Gaussian mean the minimum "
                "sits at x̄ = {xbar:.3f}. Right: with Gaussian noise of known σ the negative "
                "log-likelihood of a regression is m log σ + (m/2) log 2π + m·MSE/(2σ²) "
                "(eq. 5.65), an increasing affine function of the MSE (eq. 5.66): the MLE is "
                "least squares. Below: the posterior of a Gaussian mean (σ known) updated one "
                "point at a time by Bayes' rule (eq. 5.67), each posterior the prior for the "
                "next; after {points} points it is N({mean:.3f}, {sd:.3f}²), the posterior of "
                "all points at once."
            ).format(xbar=div.xbar, points=len(upd.x), mean=upd.mean[-1], sd=upd.sd[-1]),
            [
                ctx.figure(F.mle_as_divergence(div), "mle-as-divergence"),
                ctx.figure(F.sequential_updating(upd), "sequential-updating"),
            ],
        ),
    ]


def coverage(ctx: Context) -> list[Section]:
    """Coverage averaged over a prior, and at a fixed μ beside the average (two guarantees)."""
    from freqbayes import figures as F
    from freqbayes import lessons as L

    reps = 2000 if ctx.quick else 10_000
    table = L.interval_coverage(ctx.seed, reps=reps)
    ns = ", ".join(str(n) for n in sorted(table["n"].unique()))
    guarantees = L.two_guarantees(ctx.seed, reps=reps)
    return [
        Section(
            "coverage",
            _("Confidence versus credible intervals"),
            _(
                "{reps:,} replications per n (n = {ns}). Each draws (μ, σ²) from a "
                "Normal-Inverse-Gamma prior, then n observations, then four 95% intervals for "
                "μ: the frequentist t-interval and equal-tailed credible intervals under the "
                "true prior, a weakly-informative prior and a confident, wrong prior. The "
                "t-interval covers 95% whatever μ is (a guarantee for every fixed μ); the "
                "credible interval under the true prior covers 95% on average over that "
                "prior, with narrower intervals; the misspecified prior covers far less at "
                "small n and recovers as the data outweigh it. Error bars: ±1.96 Monte-Carlo "
                "se."
            ).format(reps=reps, ns=ns),
            [ctx.figure(F.interval_coverage(table), "interval-coverage")],
            [ctx.table(table, "interval-coverage")],
        ),
        Section(
            "two-guarantees",
            _("Two guarantees: a fixed μ against μ drawn from the prior"),
            _(
                "σ = 1 known, n = 10, {reps:,} data sets per μ. Left: μ held fixed at each "
                "value in turn. The 95% z confidence interval x̄ ± 1.96 σ/√n (eq. 5.47) covers "
                "95% at every μ (its guarantee, no prior needed); the 95% credible interval "
                "under the prior N(0, 1) covers more near 0 and far less where the prior is "
                "wrong. Right: μ drawn at random. From the prior, the credible interval covers "
                "95% on average (its guarantee); from N(3, 1), less. Lines: exact coverage; "
                "points: simulated (±1.96 MC se)."
            ).format(reps=reps),
            [ctx.figure(F.two_guarantees(guarantees), "two-guarantees")],
            [ctx.table(guarantees.fixed, "coverage-fixed-mu")],
            links=[write_demo(ctx.out, "coverage", ctx.seed)],
        ),
    ]


def _bootstrap_coverage(table: pd.DataFrame) -> str:
    """The bootstrap's coverage of the slope, and on how many data sets, in words."""
    beta = table[table["parameter"] == "beta"].set_index(["interval", "n"])
    if "percentile" not in beta.index.get_level_values(0):
        return _("The bootstrap and profile intervals are in the full report.")

    def line(kind: str) -> str:
        at = _("{coverage:.2f} at n = {n}")
        return ", ".join(at.format(coverage=r.coverage, n=n) for n, r in beta.loc[kind].iterrows())

    used = beta.loc["percentile"]
    of = _("{used} of the {sets} data sets at n = {n}")
    few = ", ".join(
        of.format(used=r.used, sets=r.reps - r.separated, n=n)
        for n, r in used.iterrows()
        if r.used < 0.9 * (r.reps - r.separated)
    )
    text = _(
        "The percentile bootstrap under-covers the slope ({percentile}): the MLE is biased "
        "away from zero and its bootstrap replicates more so; BCa corrects part of that "
        "({bca})."
    ).format(percentile=line("percentile"), bca=line("bca"))
    if few:
        text += _(  # the space that follows a sentence is part of the message
            " The bootstrap fails where resamples are often separated: it gave intervals on "
            "only {few} (a set is left out when more than 10% of its resamples are "
            "separated), so its coverage there is conditional on the bootstrap working."
        ).format(few=few)
    return text


def frequentist_coverage(ctx: Context) -> list[Section]:
    """Coverage of the Wald, profile and bootstrap intervals of a logistic regression."""
    from freqbayes import figures as F
    from freqbayes import lessons as L

    # quick: every interval of the full run, on fewer data sets, sizes and resamples
    fixed_reps = 100 if ctx.quick else 500
    logistic = L.frequentist_coverage(
        ctx.seed,
        ns=(25, 100) if ctx.quick else (15, 30, 100),
        reps=fixed_reps,
        methods=("wald", "profile", "bootstrap"),
        num_replicates=100 if ctx.quick else 200,
        mapper=ctx.mapper,
    )
    separated = logistic.groupby("n")["separated"].first()
    kinds = ", ".join(dict.fromkeys(logistic["interval"]))
    return [
        Section(
            "frequentist-coverage",
            _("Do 95% confidence intervals cover 95%? Logistic regression at small n"),
            _(
                "The truth fixed (intercept −1, slope 2, x ~ N(0, 1) drawn once per n), "
                "{reps:,} outcome vectors per n, intervals: {kinds}. Data sets on which the "
                "MLE does not exist (separation) are left out: {separated}. Measured here: "
                "the model-based Wald interval of the slope over-covers at small n (it is "
                "wide: a large β̂ comes with a larger se) and the sandwich under-covers. "
                "{bootstrap}"
            ).format(
                reps=fixed_reps,
                kinds=kinds,
                separated=", ".join(
                    _("{count} at n = {n}").format(count=v, n=k) for k, v in separated.items()
                ),
                bootstrap=_bootstrap_coverage(logistic),
            ),
            [ctx.figure(F.frequentist_coverage(logistic), "frequentist-coverage")],
            [ctx.table(logistic, "frequentist-coverage")],
        ),
    ]


def ridge(ctx: Context) -> list[Section]:
    """MAP with a Gaussian prior at λ = σ²/τ² on the ridge path."""
    from freqbayes import figures as F
    from freqbayes import lessons as L
    from freqbayes.models import data as D
    from freqbayes.models.probabilistic import linear

    taus = (0.03, 0.1, 0.3) if ctx.quick else (0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
    diabetes = D.diabetes()
    path = L.map_ridge_path(diabetes, taus=taus)
    df = pd.DataFrame(path.map, columns=list(path.features)).assign(tau=path.tau, lam=path.map_lam)
    ridge_at = np.array([linear.ridge(diabetes.X, diabetes.y, lam).beta for lam in path.map_lam])
    df["max_abs_diff_to_ridge"] = np.abs(path.map - ridge_at).max(axis=1)
    return [
        Section(
            "ridge",
            _("MAP with a Gaussian prior is weight decay (§5.6.1, eq. 5.79)"),
            _(
                "Diabetes, σ fixed at its OLS estimate ({sigma:.3g}). Lines: the ridge "
                "solution argmin ‖y − Xθ‖² + λ‖θ‖² as λ varies (closed form). Dots: the MAP "
                "of the Bayesian linear model with prior θ_j ~ N(0, τ²), found by L-BFGS on "
                "the log posterior, placed at λ = σ²/τ² for τ = {taus}. They lie on the same "
                "curve (the table gives the largest difference, {diff:.1e}). Right: the "
                "posterior mean with its 95% ETI for the three largest weights: the prior "
                "that makes the estimate shrink also says how uncertain it is."
            ).format(
                sigma=path.sigma,
                taus=", ".join(f"{t:g}" for t in path.tau),
                diff=df["max_abs_diff_to_ridge"].max(),
            ),
            [ctx.figure(F.ridge_path(path), "ridge-map-path")],
            [ctx.table(df, "map-vs-ridge")],
            links=[write_demo(ctx.out, "prior", ctx.seed)],
        )
    ]


def regression(ctx: Context) -> list[Section]:
    """OLS bands beside posterior bands; Newton's law made linear by logs."""
    from freqbayes import figures as F
    from freqbayes import inference
    from freqbayes import lessons as L
    from freqbayes.models import data as D
    from freqbayes.summaries import summary_table

    bmi = L.select_features(D.diabetes(), ["bmi"])
    size = ctx.settings("nuts")
    tree = ctx.fit(
        inference.nuts("linear", bmi, seed=ctx.seed, progress=False, **size), "linear-bmi-nuts"
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
            **size,
        ),
        "gravitation-nuts",
    )
    gtable = summary_table({"nuts": gtree}).assign(
        **{WARNING_COLUMN: ctx.caveats["gravitation-nuts"]}
    )
    truth = dict(
        zip((f"beta[{f}]" for f in grav.feature_names), grav.attrs["true_beta"], strict=True)
    )
    truth |= {"intercept": grav.attrs["true_intercept"], "sigma": grav.attrs["true_sigma"]}
    gtable["true"] = gtable["parameter"].map(truth).astype(float)
    verdict = L.misses_verdict(L.interval_misses(grav, gtree))
    noise = grav.attrs["true_sigma"]
    return [
        Section(
            "linear",
            _("Bayesian linear regression (§5.6, eqs. 5.69–5.78) beside least squares"),
            _(
                "Diabetes progression against body-mass index alone. Left: OLS with its 95% "
                "confidence band for the mean line and the 95% prediction interval for a new "
                "patient. Right: the posterior mean line, the 95% credible band (ETI of "
                "b + θx over NUTS draws) and the 95% posterior-predictive band (eq. 5.68). "
                "With n = {n} and a weak prior the two pictures agree; the Bayesian bands are "
                "probability statements about θ and a new y given these data, the OLS bands "
                "statements about the procedure over repeated samples."
            ).format(n=bmi.n),
            [
                ctx.figure(
                    F.regression_bands(bands, bmi.X[:, 0], bmi.y, "bmi"),
                    "regression-bands",
                    fits=["linear-bmi-nuts"],
                )
            ],
            warnings=ctx.warnings(["linear-bmi-nuts"]),
        ),
        Section(
            "gravitation",
            _("A feature map: Newton's law of gravitation is linear in the logs"),
            _(
                "{n} noisy synthetic measurements of F = G m₁ m₂ / r² (lognormal measurement "
                "error: sd {noise:g} on the log scale, about {percent:.0f}%). Taking logs, "
                "log F = log G + 1·log m₁ + 1·log m₂ − 2·log r: a linear model in the "
                "features (log m₁, log m₂, log r). NUTS estimates the exponents 1, 1, −2 and "
                "log G (dotted: the true values) with 95% credible intervals. {verdict}"
            ).format(n=grav.n, noise=noise, percent=100 * noise, verdict=verdict),
            [
                ctx.figure(
                    F.gravitation(gtree, grav.attrs), "gravitation", fits=["gravitation-nuts"]
                )
            ],
            [ctx.table(gtable.drop(columns="seconds"), "gravitation")],
            warnings=ctx.warnings(["gravitation-nuts"]),
        ),
    ]
