"""The report's section "When the data do not fit": minibatch SVI and HMCECS beside NUTS.

A tall logistic regression (raw-unit features) fitted four ways: full-data NUTS (every
gradient reads all n rows), HMCECS (NUTS on a control-variate estimate of the likelihood
from m′ rows), mean-field SVI on minibatches of m′ rows (eq. 5.98's estimate, scaled by
n/m′), and the same SVI with first-order Taylor control variates at the full-data mode
(:mod:`freqbayes.inference.probabilistic.svi_control`). The figure puts each fit's
posterior means ± sd of the coefficients on NUTS's scale (in NUTS posterior sds, so every
coefficient shares one axis) beside the time each fit took; ``benchmarks/subsampling.py``
runs the same comparison at 10⁵ and 10⁶ rows.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from freqbayes.i18n import _
from freqbayes.models.dataset import Dataset
from freqbayes.showcase.context import Context
from freqbayes.showcase.report import Section

#: Rows, minibatch, chains and SVI steps: the full report and the quick one.
SIZES = {
    False: {"n": 100_000, "batch": 1000, "chains": 4, "warmup": 500, "draws": 500, "steps": 50_000},
    True: {"n": 5_000, "batch": 500, "chains": 2, "warmup": 300, "draws": 500, "steps": 20_000},
}

#: The fits compared, in the figure's order: a method, or ``svi-cv`` (``svi`` with Taylor
#: control variates, :mod:`freqbayes.inference.probabilistic.svi_control`; ``svi`` here is
#: eq. 5.98's plain minibatch estimate).
METHODS = ("nuts", "hmcecs", "svi", "svi-cv")

#: Features' scales and centres (raw units) and the true weights of the simulation.
SCALES = np.array([1.0, 10.0, 0.1, 3.0])
CENTRES = np.array([0.0, 5.0, 0.0, -2.0])
WEIGHTS = np.array([0.8, -0.05, 4.0, 0.2])


def tall_logistic(
    n: int,
    seed: int,
    scales: np.ndarray = SCALES,
    centres: np.ndarray = CENTRES,
    weights: np.ndarray = WEIGHTS,
) -> Dataset:
    """n rows of y ~ Bernoulli(σ(0.3 + xᵀw)) with features in raw units (x·scale + centre).

    Also the data of ``benchmarks/subsampling.py`` and ``tests/test_subsampling.py``.
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, scales.size)) * scales + centres
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(0.3 + X @ weights)))).astype(float)
    return Dataset("tall-logistic", y, X, tuple(f"x{j + 1}" for j in range(scales.size)))


def summary(trees: dict[str, Any]) -> pd.DataFrame:
    """Per method and coefficient: posterior mean, sd, and the distance from NUTS's mean.

    The distance is in NUTS posterior sds (signed).
    """
    rows = []
    ref = trees["nuts"].posterior
    for method, tree in trees.items():
        post = tree.posterior
        for site in ("intercept", "beta"):
            draws = np.asarray(post[site]).reshape(-1, *post[site].shape[2:])
            base = np.asarray(ref[site]).reshape(-1, *ref[site].shape[2:])
            mean, sd = np.atleast_1d(draws.mean(0)), np.atleast_1d(draws.std(0))
            ref_mean, ref_sd = np.atleast_1d(base.mean(0)), np.atleast_1d(base.std(0))
            names = (
                ["intercept"] if site == "intercept" else [f"beta[{j}]" for j in range(mean.size)]
            )
            for j, name in enumerate(names):
                rows.append(
                    {
                        "method": method,
                        "parameter": name,
                        "mean": mean[j],
                        "sd": sd[j],
                        "sd_from_nuts": (mean[j] - ref_mean[j]) / ref_sd[j],
                    }
                )
    return pd.DataFrame(rows)


def subsampling(ctx: Context) -> list[Section]:
    """Full-data NUTS, HMCECS and minibatch SVI on a tall logistic regression."""
    from freqbayes import figures as F
    from freqbayes.inference import fit

    size = SIZES[ctx.quick]
    data = tall_logistic(size["n"], ctx.seed)
    chains = {
        "num_chains": size["chains"],
        "num_warmup": size["warmup"],
        "num_samples": size["draws"],
    }
    settings = {
        "nuts": chains,
        "hmcecs": {**chains, "batch_size": size["batch"]},
        "svi": {"batch_size": size["batch"], "num_steps": size["steps"], "num_chains": 1,
                "num_samples": 2000, "control_variates": "none"},
    }  # fmt: skip
    settings["svi-cv"] = {**settings["svi"], "control_variates": "taylor"}
    trees, seconds = {}, {}
    for method in METHODS:
        start = time.perf_counter()
        tree = fit("logistic", method.removesuffix("-cv"), data, seed=ctx.seed, progress=False,
                   pointwise="none", prior_draws=0, **settings[method])  # fmt: skip
        seconds[method] = time.perf_counter() - start
        trees[method] = ctx.fit(tree, f"subsampling-{method}")
    table = summary(trees)
    ctx.timing(pd.DataFrame({"method": list(seconds), "seconds": list(seconds.values())}),
               "subsampling")  # fmt: skip
    far = table.assign(d=table["sd_from_nuts"].abs()).groupby("method")["d"].max()
    names = [f"subsampling-{m}" for m in METHODS]
    fig = F.subsampling_tradeoff(table, seconds, size["n"], size["batch"])
    return [
        Section(
            "subsampling",
            _("When the data do not fit: subsampling methods beside full-data NUTS"),
            _(
                "A logistic regression on {n} rows with features in raw units, fitted four "
                "ways. Full-data NUTS reads every row for every gradient: exact, and its cost "
                "grows with n. HMCECS (Hamiltonian Monte Carlo with energy-conserving "
                "subsampling) runs NUTS on an estimate of the log-likelihood from {m} rows, "
                "corrected by a second-order Taylor expansion of each row's log-likelihood at "
                "the MAP (control variates), and refreshes the rows in a Gibbs step. "
                "Plain mean-field SVI takes each gradient from a minibatch of {m} rows, the "
                "log-likelihood scaled by n/m′ (the minibatch estimate of eq. 5.98, summed "
                "rather than averaged so that the prior counts once); its guide's iterates are "
                "averaged over the last fifth of {steps} steps. SVI with control variates (the "
                "default of svi with batch_size) first finds the full-data mode by a few "
                "passes over the rows, then estimates each step's log-likelihood by the full "
                "data's value and gradient there plus n/m′ times the minibatch's remainder "
                "beyond that first-order expansion: still unbiased, with far less noise; its "
                "guide is fitted in coordinates whitened by the curvature at the mode, so "
                "that even a mean-field guide has the posterior's sds. Largest distance of a "
                "posterior mean from NUTS's, in NUTS posterior sds: HMCECS {ecs:.2f}, plain "
                "SVI {svi:.2f}, SVI with control variates {cv:.2f}; the "
                "time each fit took is on the right of the figure (compilation included). At "
                "this size compiling is much of every fit's time; full-data NUTS's cost grows "
                "with n and HMCECS's hardly does: at 10⁶ rows HMCECS drew 19.5 times as many "
                "effective draws per second as NUTS (benchmarks/subsampling.py, README). The "
                "price of subsampling: HMCECS and SVI with control variates need the full "
                "data's mode first, and plain minibatch SVI's error falls only like one over "
                "the square root of the rows it reads, so that an error of a tenth of a "
                "posterior sd takes hundreds of passes over the data."
            ).format(
                n=f"{size['n']:,}",
                m=f"{size['batch']:,}",
                steps=f"{size['steps']:,}",
                ecs=far["hmcecs"],
                svi=far["svi"],
                cv=far["svi-cv"],
            ),
            [ctx.figure(fig, "subsampling-tradeoff", fits=tuple(names))],
            [ctx.table(table, "subsampling")],
            warnings=ctx.warnings(names),
        )
    ]
