"""Stages of the report on learning (§5.8–5.11).

k-means, SGD and SGLD, high dimension, and the calibration of every method. Every
number in the prose comes from the code that made it.

Longer than 400 lines: every paragraph is a catalogue message (:mod:`freqbayes.i18n`)
whose numbers are named fields filled after translating, one line each.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from freqbayes._io import atomic_path
from freqbayes.demos import write_demo
from freqbayes.i18n import _
from freqbayes.showcase.context import Context
from freqbayes.showcase.report import Section


def kmeans(ctx: Context) -> list[Section]:
    """Lloyd step by step from a stuck random start and from k-means++; restarts."""
    from freqbayes import figures as F
    from freqbayes import lessons as L

    k, tries = 5, 64
    X = L.blobs(ctx.seed, std=0.7, centers=k)
    stuck = L.stuck_seed(X, k, tries=tries)
    seeds = {"random": ctx.seed if stuck is None else stuck, "k-means++": ctx.seed}
    frames = {m: L.lloyd_frames(X, k, seeds[m], m, steps=6) for m in seeds}
    centers, restarts = 15, 64 if ctx.quick else 256
    hard = L.blobs(ctx.seed, n=3000, centers=centers, std=0.5)
    inertia = L.initialisation_inertia(hard, centers, ctx.seed, restarts=restarts)
    stuck_text = (
        _("random seeding (no seed of 0–{last} got stuck here; seed shown: the run's)").format(
            last=tries - 1
        )
        if stuck is None
        else _(
            "random seeding with seed {seed}, the first of 0–{last} whose run ends in a worse "
            "optimum:"
        ).format(seed=stuck, last=tries - 1)
    )
    anim = F.lloyd_animation(frames["k-means++"], "k-means++")
    with atomic_path(ctx.out / "figures/kmeans-animation.html") as tmp:
        Path(tmp).write_text(anim.to_jshtml(fps=1.5), encoding="utf-8")
    if not ctx.quick:
        from matplotlib.animation import PillowWriter

        with atomic_path(ctx.out / "figures/kmeans-animation.gif") as tmp:
            anim.save(tmp, writer=PillowWriter(fps=1.5), dpi=70)
    summary = L.initialisation_summary(
        inertia, L.seeding_inertia(hard, centers, ctx.seed, restarts=restarts), centers
    )
    by = summary.set_index("init")
    share, ratio = by["share_within_1pct_of_best"], by["seeding_over_best"]
    plain = "k-means++ (plain D²)"
    links = [write_demo(ctx.out, "kmeans", ctx.seed), "figures/kmeans-animation.html"] + (
        [] if ctx.quick else ["figures/kmeans-animation.gif"]
    )
    return [
        Section(
            "kmeans",
            _("k-means and k-means++ (§5.8.2)"),
            _(
                "Lloyd's four steps: (1) place k centroids, (2) assign each point to its "
                "nearest centroid, (3) move each centroid to the mean of its points, (4) "
                "repeat until nothing moves. Top row: {stuck} two centroids can share one "
                "blob while another blob has none, and Lloyd cannot repair that; bottom: "
                "k-means++ spreads them out. k-means++ (Arthur & Vassilvitskii 2007) picks the "
                "first centroid uniformly and each next one with probability ∝ D(x)², the "
                "squared distance to the nearest centroid chosen; for this plain D² sampling "
                "they prove E[inertia of the seeding] ≤ 8(ln k + 2)·OPT ({bound:.1f}·OPT at "
                "k = {centers}). What runs here, as in scikit-learn, is the greedy variant: "
                "2 + ⌊ln k⌋ candidates drawn that way, the one that lowers Σ D² most kept (the "
                "theorem is for plain D² sampling, not this variant). The histogram: the final "
                "inertia of {restarts} restarts per seeding on {centers} blobs, each set one "
                "vmap. Within 1% of the best inertia found end {greedy_share:.0%} of the "
                "greedy restarts, {plain_share:.0%} of the plain D² ones and "
                "{random_share:.0%} of the random ones; the seeding alone averages "
                "{greedy_ratio:.2f}, {plain_ratio:.2f} and {random_ratio:.1f} times the best "
                "final inertia (which is ≥ OPT). The animation shows the seeding and then "
                "every step."
            ).format(
                stuck=stuck_text,
                bound=summary.attrs["bound"],
                centers=centers,
                restarts=restarts,
                greedy_share=share["k-means++"],
                plain_share=share[plain],
                random_share=share["random"],
                greedy_ratio=ratio["k-means++"],
                plain_ratio=ratio[plain],
                random_ratio=ratio["random"],
            ),
            [
                ctx.figure(F.lloyd_steps(frames), "kmeans-steps"),
                ctx.figure(F.initialisation(inertia), "kmeans-initialisation"),
            ],
            [ctx.table(summary, "kmeans-initialisation")],
            links,
        )
    ]


def mixture(ctx: Context) -> list[Section]:
    """k-means beside the Gaussian mixture's posterior on the same points; k by PSIS-LOO."""
    from freqbayes import figures as F
    from freqbayes import lessons as L

    ks, draws = ((2, 3) if ctx.quick else (2, 3, 4)), 500  # quick: fewer of the same fits
    twin = L.mixture_twin(ctx.seed, ks=ks, draws=draws)
    c = twin.choice.set_index("k")
    best = int(c["elpd_loo"].idxmax())
    band = int(np.sum(twin.membership.max(axis=1) < 0.9))
    agree = float(np.mean(twin.membership.argmax(axis=1) == twin.kmeans_labels))
    return [
        Section(
            "mixture",
            _("k-means beside a Gaussian mixture's posterior (§5.8.2)"),
            _(
                "The same {n} points (three overlapping clusters, raw units). Left: k-means "
                "gives each point one label, and the boundary between clusters is a line. "
                "Middle: a spherical Gaussian mixture, x ~ Σ w_k N(μ_k, σ_k² I) with the "
                "assignments summed out, by NUTS (4 chains × {draws} draws after as many "
                "warm-up steps): each point's colour mixes its posterior membership "
                "probabilities, {band} points are circled where no cluster has probability "
                "0.9 — the boundary is a band — and the clouds are posterior draws of the "
                "means. The components are exchangeable, so the chains find the same clusters "
                "under different labels (label switching: r̂ of the raw draws far above "
                "1.01); ordering each draw's components by μ_{{k,1}} identifies them (r̂ after "
                "relabelling in the table). The most probable cluster agrees with k-means for "
                "{agree:.1%} of the points. EM, the mixture's maximum-likelihood fit, with "
                "one variance held at σ² = 1e-6 is Lloyd's algorithm: it labels {em:.1%} of "
                "the points as k-means does. Right: k-means' inertia falls with every k; the "
                "mixture's PSIS-LOO elpd is highest at k = {best} and flat beyond (within its "
                "se): more components predict new points no better. With too few components "
                "(k = 2) the posterior has several modes (which clusters merge), and r̂ says "
                "so."
            ).format(
                n=len(twin.X),
                draws=draws,
                band=band,
                agree=agree,
                em=twin.em_lloyd_agreement,
                best=best,
            ),
            [ctx.figure(F.mixture_twin(twin), "mixture-twin")],
            [ctx.table(twin.choice, "mixture-choice")],
        )
    ]


def sgd(ctx: Context) -> list[Section]:
    """J against epochs and time for several minibatch sizes; SGLD against NUTS."""
    import json

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
    ctx.timing(
        pd.DataFrame(
            {
                "batch_size": curves.batch_sizes,
                "seconds": [curves.seconds[m][-1] for m in curves.batch_sizes],
            }
        ),
        "sgd-batch-sizes",
    )
    sizes = (1_000, 10_000, 100_000) if ctx.quick else (1_000, 10_000, 100_000, 1_000_000)
    cost = L.step_cost(ctx.seed, sizes=sizes, repeats=10 if ctx.quick else 30)
    ctx.timing(cost, "sgd-step-cost")
    full = cost[cost["gradient"] == "full batch"]["seconds_per_step"]
    mini = cost[cost["gradient"] != "full batch"]["seconds_per_step"]
    trees, table = L.sgld_vs_nuts(ctx.seed, quick=ctx.quick)
    fitted = [f"conjugate-linear-{name.lower()}" for name in trees]
    for name, tree in zip(fitted, trees.values(), strict=True):
        ctx.fit(tree, name)
    mean_err = float(np.max(np.abs(table["SGLD_mean"] - table["exact_mean"]) / table["exact_sd"]))
    nuts_err = float(np.max(np.abs(table["NUTS_mean"] - table["exact_mean"]) / table["exact_sd"]))
    sd_lo, sd_hi = (table["SGLD_sd"] / table["exact_sd"]).agg(["min", "max"])
    minibatches = ", ".join(str(m) for m in curves.batch_sizes if m < data.n)
    sgld_batch = json.loads(trees["SGLD"].attrs["settings"])["batch_size"]
    return [
        Section(
            "sgd",
            _("Stochastic gradient descent (§5.9)"),
            _(
                "Logistic regression on {n:,} simulated examples. The cost is the mean loss "
                "J(θ) (eq. 5.96); each step uses the minibatch estimate g of its gradient "
                "(eq. 5.98) and θ ← θ − εg (eq. 5.99). Left and middle: J − J(θ_MLE) against "
                "epochs and against wall time for m′ = {minibatches} and the full batch: an "
                "epoch of small minibatches makes many cheap steps. Right: with a constant ε "
                "the iterates do not converge but hover around the MLE, a cloud whose size is "
                "set by ε and m′."
            ).format(n=data.n, minibatches=minibatches),
            [ctx.figure(F.sgd_curves(curves), "sgd-batch-sizes")],
            [ctx.table(final, "sgd-final-gap"), "timings/sgd-batch-sizes.csv"],
            links=[write_demo(ctx.out, "sgd", ctx.seed)],
        ),
        Section(
            "sgd-step-cost",
            _("The cost of a step does not grow with the training set (§5.9)"),
            _(
                "Seconds per gradient step of the log loss (d = 10, compiled beforehand, "
                "median of timed steps) as the training set grows from {smallest:,} to "
                "{largest:,} examples: the full-batch gradient touches every example, O(m), "
                "from {full_first:.2g} to {full_last:.2g} ms; the minibatch estimate g (eq. "
                "5.98) touches m′ = 128 of them, O(m′), and stays near {mini:.2g} ms. Wall "
                "times of this machine (under timings/)."
            ).format(
                smallest=cost["m"].min(),
                largest=cost["m"].max(),
                full_first=1e3 * full.iloc[0],
                full_last=1e3 * full.iloc[-1],
                mini=1e3 * mini.median(),
            ),
            [ctx.figure(F.step_cost(cost), "sgd-step-cost")],
            ["timings/sgd-step-cost.csv"],
        ),
        Section(
            "sgld",
            _("From SGD to the posterior: stochastic-gradient Langevin dynamics"),
            _(
                "Add Gaussian noise of variance ε to each gradient step on the negative log "
                "posterior: u ← u − (ε/2) ĝ + √ε ξ, where ĝ is the full-data estimate "
                "(N/m′) Σ_{{i∈B}} ∇ log p(y_i | u) + ∇ log p(u), not the minibatch mean of eq. "
                "5.98. The iterates are then (approximately, for small ε) draws from the "
                "posterior. On a linear model with known σ, whose posterior is exactly "
                "Gaussian, SGLD (minibatches of {batch}) and NUTS agree with each other and "
                "with the exact mean and sd (table): the largest mean error is "
                "{mean_err:.2f} posterior sd for SGLD ({nuts_err:.2f} for NUTS), and SGLD's "
                "sds are {sd_lo:.2f}–{sd_hi:.2f} times the exact ones, the price of a finite "
                "step."
            ).format(
                batch=sgld_batch, mean_err=mean_err, nuts_err=nuts_err, sd_lo=sd_lo, sd_hi=sd_hi
            ),
            [ctx.figure(F.sgld_vs_nuts(trees), "sgld-vs-nuts", fits=fitted)],
            [ctx.table(table, "sgld-vs-nuts")],
            warnings=ctx.warnings(fitted),
        ),
    ]


def curse(ctx: Context) -> list[Section]:
    """Distance concentration and k-NN accuracy as the dimension grows."""
    from freqbayes import figures as F
    from freqbayes import lessons as L

    table = L.curse_of_dimensionality(ctx.seed)
    n, k = table.attrs["n"], table.attrs["k"]
    ratio = table.set_index("d")["median_ratio"]
    acc = table.set_index("d")["knn_accuracy"]
    acc_all = table.set_index("d")["knn_accuracy_all"]
    lo, hi = int(table["d"].min()), int(table["d"].max())
    cv = L.cells_and_vote(ctx.seed, n=n)
    share = dict(zip(cv.dims.tolist(), cv.occupied, strict=True))
    return [
        Section(
            "cells",
            _("Why k-NN needs data that grow like 10^d (Figure 5.9), and how it votes"),
            _(
                "Left: the seminar's k = {k}: the three training points nearest to the star "
                "each vote for their class, and the majority labels it (the package's k-NN "
                "gives the same answer). Right: with 10 intervals per axis a grid has 10^d "
                "cells; {n:,} uniform points occupy (almost) all of them for d ≤ 2, "
                "{share3:.0%} at d = 3, {share4:.0%} at d = 4 and fewer than 1% from d = 5: a "
                "new point's cell is almost surely empty, so its neighbours are far away."
            ).format(k=len(cv.neighbours), n=cv.n, share3=share[3], share4=share[4]),
            [ctx.figure(F.cells_and_vote(cv), "cells-and-vote")],
        ),
        Section(
            "curse",
            _("The curse of dimensionality (§5.11)"),
            _(
                "Left: for {n:,} uniform points in [0, 1]^d, the ratio of a query's farthest "
                "to its nearest neighbour distance (median over queries): {ratio_lo:.3g} at "
                "d = {lo}, {ratio_hi:.3g} at d = {hi}: in high dimension 'nearest' stops "
                "meaning much. Right: {k}-NN with n = {n:,} training points, on two labels of "
                "the same points. When x₁ alone sets the label (x₁ > ½), the other d − 1 "
                "coordinates are noise that drowns it: test accuracy falls from {acc_lo:.0%} "
                "to {acc_hi:.0%} (chance: 50%). When every coordinate matters "
                "(Σⱼ (xⱼ − ½) > 0), there is no noise to remove and it falls as well, from "
                "{all_lo:.0%} to {all_hi:.0%}: this is §5.11.1's curse, a function of d "
                "variables needs examples in a number of regions that grows exponentially "
                "with d, and n fixed cannot supply them."
            ).format(
                n=n,
                k=k,
                lo=lo,
                hi=hi,
                ratio_lo=ratio[lo],
                ratio_hi=ratio[hi],
                acc_lo=acc[lo],
                acc_hi=acc[hi],
                all_lo=acc_all[lo],
                all_hi=acc_all[hi],
            ),
            [ctx.figure(F.curse(table), "curse-of-dimensionality")],
            [ctx.table(table, "curse-of-dimensionality")],
            links=[write_demo(ctx.out, "curse", ctx.seed)],
        ),
    ]


def horseshoe(ctx: Context) -> list[Section]:
    """3-NN, L2 logistic regression and the horseshoe posterior as d grows, on both tasks."""
    from freqbayes import figures as F
    from freqbayes import lessons as L

    draws = 1000  # quick too: the same fits as the full report (its r̂ is tested)
    table, medians = L.horseshoe_twin(ctx.seed, draws=draws)
    # every coordinate matters: the horseshoe at d = 100 only (at d = 1,000 its chains did
    # not mix in 4 × 1,000 draws, r̂ 1.6; d = 10 and 100 together cost 2/3 of the first
    # task's fits again, measured side by side)
    # target acceptance 0.99 there: with the horseshoe as logistic's prior choice, 0.95 left
    # r̂ 1.015 and bulk ESS 363 on seed 0; 0.99 gives 1.004 and 434 (15 s against 13 s)
    dense, _medians = L.horseshoe_twin(
        ctx.seed, draws=draws, task="all", fitted=(100,), target_accept=0.99
    )
    fitted = table.dropna(subset=["horseshoe_accuracy"])
    t, u = table.set_index("d"), dense.set_index("d")
    divergent = ", ".join(str(int(v)) for v in fitted["divergences"])
    dims = [int(d) for d in fitted["d"]]
    hi = max(dims)
    top = int(dense["d"].max())
    mid = int(dense.dropna(subset=["horseshoe_accuracy"])["d"].iloc[0])
    return [
        Section(
            "horseshoe",
            _("Irrelevant dimensions removed by a sparsity prior, and where that stops (§5.11)"),
            _(
                "The task of the section above (label x₁ > ½, uniform points), now with "
                "n = {n} training points. 3-NN treats every coordinate alike and falls to "
                "{knn_hi:.0%} at d = {hi:,}; an L2-penalised logistic regression to "
                "{l2_hi:.0%}. A logistic regression with a regularised horseshoe prior (most "
                "weights near zero, a few free; Piironen & Vehtari 2017), sampled by NUTS "
                "non-centred (4 chains × {draws} draws, target acceptance {accept:g}), keeps "
                "{hs_hi:.1%}: the posterior median |β₁| is {beta1:.3g} while 99% of the "
                "irrelevant medians are below {q99:.1g}. What this shows: the d − 1 "
                "irrelevant dimensions are removed by a prior that says few features matter; "
                "the problem that is left is one-dimensional. It does not beat the curse of "
                "§5.11.1. Middle panel: the same points labelled by Σⱼ (xⱼ − ½) > 0, where "
                "every coordinate matters. 3-NN falls from {dense_knn_lo:.0%} to "
                "{dense_knn_top:.0%} at d = {top:,}; the horseshoe, whose assumption is now "
                "false, reaches {dense_hs:.1%} at d = {mid} (r̂ {dense_r_hat:.3f}, bulk ESS "
                "{dense_ess:.0f}), against the L2 fit's {dense_l2:.1%} there; the L2 "
                "logistic regression, right that the label is linear in x, degrades slowest "
                "and still falls to {dense_l2_top:.0%} at d = {top:,}. A prior helps exactly "
                "as far as it is true of the task. §5.11.2 makes the general point: k-NN, "
                "kernels and trees rely on local constancy (smoothness: f(x) ≈ f(x′) for x′ "
                "near x), which cannot tell apart more regions than there are examples; "
                "§5.11.3 adds that real data (images, sound, text) concentrate near "
                "low-dimensional manifolds, as the digits of notebook 7 do. Deep learning "
                "assumes that the data were generated by a composition of factors or "
                "features, possibly at several levels; the book argues that this mild "
                "assumption gives an exponential gain in the number of regions that a given "
                "number of examples can tell apart: why deep learning (the seminar's last "
                "slide). The funnel of a hierarchical prior costs divergences: {divergent} of "
                "{total:,} draws (d = {dims}); r̂ and ESS in the tables."
            ).format(
                n=table.attrs["n"],
                hi=hi,
                knn_hi=t.loc[hi, "knn3_accuracy"],
                l2_hi=t.loc[hi, "l2_logistic_accuracy"],
                draws=draws,
                accept=fitted["target_accept"].iloc[0],
                hs_hi=t.loc[hi, "horseshoe_accuracy"],
                beta1=t.loc[hi, "median_abs_beta1"],
                q99=t.loc[hi, "irrelevant_median_abs_beta_q99"],
                dense_knn_lo=u.loc[int(dense["d"].min()), "knn3_accuracy"],
                dense_knn_top=u.loc[top, "knn3_accuracy"],
                top=top,
                dense_hs=u.loc[mid, "horseshoe_accuracy"],
                mid=mid,
                dense_r_hat=u.loc[mid, "r_hat_max"],
                dense_ess=u.loc[mid, "ess_bulk_min"],
                dense_l2=u.loc[mid, "l2_logistic_accuracy"],
                dense_l2_top=u.loc[top, "l2_logistic_accuracy"],
                divergent=divergent,
                total=4 * draws,
                dims=", ".join(f"{d:,}" for d in dims),
            ),
            [ctx.figure(F.horseshoe_twin(table, medians, dense), "horseshoe-twin")],
            [ctx.table(table, "horseshoe-twin"), ctx.table(dense, "horseshoe-twin-dense")],
        )
    ]


def calibration_outputs(ctx: Context) -> int:
    """Files the calibration stage writes: a figure, a table, a slide per method."""
    from freqbayes.inference.probabilistic import calibration as C

    return 2 + len({method for names in C.METHODS.values() for method in names})


def calibration(ctx: Context) -> list[Section]:
    """Rank histograms of simulation-based calibration for every method with draws."""
    from freqbayes import figures as F
    from freqbayes import lessons as L
    from freqbayes.figures import slide_versions as SV
    from freqbayes.inference.probabilistic import calibration as C

    # quick: every model and method of the full run, on fewer and smaller data sets
    num, sizes = (50, C.SMOKE) if ctx.quick else (500, C.QUICK)
    table, results = L.calibration(
        ctx.seed, num=num, sizes=sizes, methods=C.METHODS, mapper=ctx.mapper
    )
    worst = table.groupby(["model", "method"], sort=False)["pvalue"].min()
    on = _("{method} on {model}")
    bad = [on.format(method=meth, model=mod) for (mod, meth), p in worst.items() if p < C.THRESHOLD]
    failing = ", ".join(bad) if bad else _("none")
    full = C.FULL.draws
    return [
        Section(
            "calibration",
            _("Which methods can you trust here? Simulation-based calibration"),
            _(
                "For each model, {num} data sets are drawn from its prior and each method fits "
                "every one, as a user would (`freqbayes.inference.fit`, one chain). If a "
                "method's posterior is right, the true parameter is just another draw from "
                "it, so its rank among the {draws} posterior draws is uniform: the histograms "
                "must stay in the grey band, and neither the χ² test of the histogram nor the "
                "ECDF test of arviz-stats may reject (p ≥ 0.001, the smaller p doubled). A ∪ "
                "shape means posteriors too narrow, ∩ too wide, a slope a bias. NUTS is exact "
                "up to Monte-Carlo error; the approximations are exact only for Gaussian "
                "posteriors. Rejected here: {failing}. (`make sbc` runs every model and "
                "method at full size: 1,000 data sets, {full} draws each.)"
            ).format(num=num, draws=sizes.draws, failing=failing, full=full),
            [ctx.figure(F.calibration(results), "calibration")],
            [ctx.table(table, "calibration")],
            [
                ctx.figure(fig, f"slides/calibration-{method}")
                for method, fig in SV.calibration_by_method(results).items()
            ],
        )
    ]
