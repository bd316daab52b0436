"""Every figure of :mod:`freqbayes.figures` in Japanese: drawn with no missing glyph.

Each figure function gets small hand-made inputs of the shapes the lessons return (no
fit, no MCMC), is drawn under ``language("ja")`` with Matplotlib's "Glyph … missing"
warning turned into an error, and must show Japanese text. The check can fail: the
same figure without the Japanese font, or English figures given a Japanese label, warn.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.text import Text

from freqbayes import figures as F
from freqbayes import lessons as L
from freqbayes.i18n import language
from freqbayes.lessons.coverage import CREDIBLE_INTERVAL
from freqbayes.lessons.sgd import FULL_BATCH, MINIBATCH

matplotlib.use("Agg")

CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
RNG = np.random.default_rng(0)


def _posterior(**shapes: tuple[int, ...]) -> xr.DataTree:
    """A DataTree whose posterior has each variable in 2 chains of 50 normal draws."""
    post = xr.Dataset(
        {
            name: (
                ("chain", "draw", *[f"{name}_dim_{i}" for i in range(len(s))]),
                RNG.normal(size=(2, 50, *s)),
            )
            for name, s in shapes.items()
        }
    )
    return xr.DataTree.from_dict({"posterior": post})


def _two_classes(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    X = RNG.normal(size=(n, 2))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


def _concentration() -> Figure:
    n = np.array([2, 10, 100])
    a = np.array([0.5, 0.2, 0.1])
    return F.gaussian_concentration(
        L.Concentration(n, a, 1 + a, a, a - 1, a + 1, 1 + a, a, 1 - a, 0.0, 1.0)
    )


def _bias() -> Figure:
    n = np.array([2, 5, 20])
    return F.variance_bias(L.Bias(n, (n - 1) / n, 0.01 + 0 * n, (n - 1) / n, 1000))


def _two_guarantees() -> Figure:
    return F.two_guarantees(L.two_guarantees(mus=[-1.0, 0.0, 2.0], reps=200))


def _frequentist_coverage() -> Figure:
    rows = [
        {"parameter": "beta", "interval": kind, "n": n, "coverage": 0.94, "mc_se": 0.01}
        for kind in ("wald", "profile", "percentile")
        for n in (50, 200)
    ]
    return F.frequentist_coverage(pd.DataFrame(rows))


def _interval_coverage() -> Figure:
    rows = [
        {"interval": name, "n": n, "coverage": 0.95, "mc_se": 0.01, "mean_width": 1 / n}
        for name in L.COVERAGE_PRIORS
        for n in (5, 20)
    ]
    return F.interval_coverage(pd.DataFrame(rows))


def _ridge_path() -> Figure:
    lam = np.geomspace(0.01, 100, 5)
    ridge = np.outer(1 / (1 + lam), [1.0, -0.5, 0.2])
    return F.ridge_path(
        L.RidgePath(
            lam,
            ridge,
            0.1 + 0 * ridge,
            1 / np.sqrt(lam),
            lam[1:3],
            ridge[1:3],
            1.0,
            ("bmi", "bp", "s1"),
        )
    )


def _regression_bands() -> Figure:
    g = np.linspace(-2, 2, 5)
    bands = L.Bands(g, g, g - 1, g + 1, g - 2, g + 2, g, g - 1, g + 1, g - 2, g + 2)
    return F.regression_bands(bands, RNG.normal(size=20), RNG.normal(size=20), "bmi")


def _gravitation() -> Figure:
    return F.gravitation(_posterior(beta=(3,), intercept=()), {"true_intercept": 0.0})


def _why_sigmoid() -> Figure:
    x = np.linspace(-3, 3, 30)
    return F.why_sigmoid(L.WhySigmoid(x, (x > 0).astype(int), (0.5, 0.2), (0.0, 2.0), 0.3))


def _divergence() -> Figure:
    it = np.arange(50)
    norm = np.log1p(it)
    d = L.Divergence(it, norm, 0 * it + 1.0, 1 / (1 + it), 0 * it + 0.3, 0.01, "separable")
    return F.divergence(d)


def _svm_vs_logistic() -> Figure:
    from sklearn.svm import SVC

    X, y = _two_classes()
    svm = SVC(kernel="linear").fit(X, y)
    return F.svm_vs_logistic(X, y, svm, _posterior(beta=(2,), intercept=()), draws=10)


def _boundary_bands() -> Figure:
    X, y = _two_classes()
    names = ("MLE (bootstrap)", "MAP (bootstrap)", "SVM (bootstrap)", "posterior (NUTS)")
    lines = {m: (1 + 0.1 * RNG.normal(size=(10, 2)), 0.1 * RNG.normal(size=10)) for m in names}
    estimate = {m: (np.ones(2), 0.0) for m in names}
    return F.boundary_bands(L.BoundaryBands(X, y, lines, estimate), draws=5)


def _kernel_cost() -> Figure:
    table = pd.DataFrame(
        {
            "degree": [1, 2, 3],
            "features": [3, 6, 10],
            "explicit_seconds": [1e-3, 2e-3, 4e-3],
            "kernel_seconds": [1e-3] * 3,
        }
    )
    table.attrs.update(d=2, n=100)
    return F.kernel_cost(table)


def _kernel_trick_input() -> L.KernelTrick:
    from sklearn.svm import SVC, LinearSVC

    rows, data, models = [], {}, {}
    for name in ("circles", "moons"):
        X, y = _two_classes(30)
        data[name] = (X, y, X, y)
        for clf_name, (clf, phi) in {
            "linear SVM": (LinearSVC(), lambda A: A),
            "RBF-kernel SVM": (SVC(), lambda A: A),
            "linear SVM on φ(x) = (x, ‖x‖²)": (LinearSVC(), L.radial_feature_map),
        }.items():
            models[(name, clf_name)] = (clf.fit(phi(X), y), phi)
            rows.append({"data": name, "classifier": clf_name, "test_accuracy": 0.9})
    return L.KernelTrick(pd.DataFrame(rows), data, models)


def _forest() -> Figure:
    rows = [
        {
            "method": m,
            "parameter": p,
            "estimate": e,
            "lo95": lo,
            "hi95": hi,
            "interval": kind,
            "warning": why,
        }
        for m, kind, lo, hi, why in (
            ("nuts", "eti", -1, 1, ""),
            ("mle", "wald", -1, 1, ""),
            ("map", "none", np.nan, np.nan, ""),
            ("bad", "eti", -2, 2, "r̂ up to 1.8"),
        )
        for p, e in (("mu", 0.1), ("beta[a]", 0.3))
    ]
    return F.forest(pd.DataFrame(rows), "toy", "value")


def _mle_as_divergence() -> Figure:
    mu = np.linspace(-1, 1, 11)
    return F.mle_as_divergence(L.Divergences(mu, mu**2, 0.0, mu, mu**2, mu**2 / 2, 1.0))


def _sequential_updating() -> Figure:
    k = np.arange(21)
    return F.sequential_updating(
        L.Updating(RNG.normal(size=20), 1 - 1 / (1 + k), 1 / np.sqrt(1 + k), 1.0, 0.2, 1.0, 1.0)
    )


def _mixture_twin() -> Figure:
    X = RNG.normal(size=(30, 2))
    labels = (X[:, 0] > 0).astype(int)
    membership = np.c_[labels, 1 - labels] * 0.8 + 0.1
    choice = pd.DataFrame(
        {
            "k": [1, 2, 3],
            "elpd_loo": [-60.0, -50.0, -51.0],
            "elpd_se": [3.0] * 3,
            "kmeans_inertia": [60.0, 30.0, 20.0],
        }
    )
    twin = L.MixtureTwin(
        X, labels, np.zeros((2, 2)), membership, RNG.normal(size=(20, 2, 2)), 0.9, -50.0, choice, 2
    )
    return F.mixture_twin(twin)


def _svm_gp_twin() -> Figure:
    gx, gy = np.meshgrid(np.linspace(-2, 2, 8), np.linspace(-2, 2, 8))
    names = ("circles", "moons")
    data = {n: (*_two_classes(20), None, None) for n in names}
    table = pd.DataFrame(
        {"data": names, "svm_test_accuracy": 0.9, "gp_nuts_test_accuracy": 0.9, "scale_s": 2.0}
    )
    twin = L.GPTwin(
        data,
        {n: (gx, gy) for n in names},
        {n: gx for n in names},
        {n: np.arange(3) for n in names},
        {n: (gx + 2) / 4 for n in names},
        {n: 1 + gy**2 for n in names},
        {n: gx > 1 for n in names},
        table,
        None,
    )
    return F.svm_gp_twin(twin)


def _horseshoe_twin() -> Figure:
    table = pd.DataFrame(
        {
            "d": [2, 10, 100],
            "knn3_accuracy": [0.9, 0.7, 0.6],
            "l2_logistic_accuracy": [0.9, 0.85, 0.7],
            "horseshoe_accuracy": [0.9, np.nan, 0.88],
        }
    )
    table.attrs["n"] = 100
    return F.horseshoe_twin(table, {100: np.r_[2.0, np.full(99, 1e-3)]}, table.copy())


def _frames() -> L.LloydFrames:
    X = RNG.normal(size=(30, 2))
    centroids = RNG.normal(size=(3, 2, 2))
    return L.LloydFrames(
        X,
        centroids[0],
        centroids,
        (X[None, :, 0] > 0).repeat(3, 0).astype(int),
        np.array([50.0, 40.0, 39.0]),
    )


def _lloyd_animation() -> Figure:
    """Every frame drawn (as a GIF is saved), on the figure returned."""
    anim = F.lloyd_animation(_frames(), "random")
    F.animation_gif(anim, fps=10, dpi=20)
    return anim._fig


def _initialisation() -> Figure:
    return F.initialisation({name: 40 + RNG.random(50) for name in L.SEEDINGS})


def _sgd_curves() -> Figure:
    e = np.arange(5)
    c = L.SGDCurves(
        [10, 100],
        e,
        {10: 1 / (1 + e), 100: 2 / (1 + e)},
        {10: e * 1e-3, 100: e * 2e-3},
        0.1,
        np.zeros(2),
        RNG.normal(size=(5, 2)),
    )
    return F.sgd_curves(c)


def _step_cost() -> Figure:
    table = pd.DataFrame(
        {
            "m": [100, 1000] * 2,
            "gradient": [FULL_BATCH] * 2 + [MINIBATCH.format(m=128)] * 2,
            "seconds_per_step": [1e-4, 1e-3, 1e-4, 1e-4],
        }
    )
    return F.step_cost(table)


def _sgld_vs_nuts() -> Figure:
    return F.sgld_vs_nuts({m: _posterior(intercept=(), beta=(2,)) for m in ("sgld", "nuts")})


def _calibration() -> Figure:
    res = SimpleNamespace(ranks={"mu": RNG.integers(0, 100, 50)}, draws=99, min_pvalue=0.5)
    bad = SimpleNamespace(ranks={"mu": np.zeros(50, int)}, draws=99, min_pvalue=1e-9)
    return F.calibration(
        {("gaussian", "nuts"): res, ("gaussian", "svi"): bad, ("knn", "nuts"): res}
    )


def _cells_and_vote() -> Figure:
    X = RNG.random((10, 2))
    y = (X[:, 0] > 0.5).astype(int)
    return F.cells_and_vote(
        L.CellsAndVote(
            np.array([1, 2, 3]),
            10.0 ** np.arange(1, 4),
            np.array([0.9, 0.4, 0.005]),
            10,
            X,
            y,
            np.array([0.5, 0.5]),
            np.arange(3),
            1,
        )
    )


def _curse() -> Figure:
    d = [1, 10, 100]
    table = pd.DataFrame(
        {
            "d": d,
            "ratio_q10": [5.0, 1.5, 1.1],
            "ratio_q90": [50.0, 3.0, 1.3],
            "median_ratio": [10.0, 2.0, 1.2],
            "knn_accuracy": [0.95, 0.8, 0.6],
            "knn_accuracy_all": [0.9, 0.7, 0.55],
        }
    )
    table.attrs["k"] = 5
    return F.curse(table)


def _stamp() -> Figure:
    fig = _curse()
    F.stamp(fig, {"svi": "r̂ up to 1.8", "nuts": "2 divergences"})
    return fig


def _subsampling_tradeoff():
    import pandas as pd

    rows = [
        {"method": m, "parameter": p, "mean": 0.1 * k, "sd": 1.0 + 0.05 * k,
         "sd_from_nuts": 0.02 * k * (j - 1)}
        for k, m in enumerate(("nuts", "hmcecs", "svi", "svi-cv"))
        for j, p in enumerate(("intercept", "beta[0]", "beta[1]"))
    ]  # fmt: skip
    seconds = {"nuts": 8.0, "hmcecs": 3.0, "svi": 2.0, "svi-cv": 2.5}
    return F.subsampling_tradeoff(pd.DataFrame(rows), seconds, 10_000, 500)


def _shrinkage() -> Figure:
    sizes = np.array([1, 2, 5, 20])
    truth = np.array([1.2, 1.6, 1.4, 1.5])
    reml = L.Reml(np.array([1.4, -0.7]), 0.3, 0.8, truth - 1.4, np.array(list("abcd")))
    return F.shrinkage(
        L.Pooling(np.array(list("abcd")), sizes, truth, truth + 0.5 / np.sqrt(sizes), 1.45,
                  truth + 0.1, np.full(4, 0.2), truth, 0.35, 0.8, reml, None)
    )  # fmt: skip


#: Every figure function of freqbayes.figures, with how to draw it from small inputs.
FIGURES: dict[str, Callable[[], Figure]] = {
    "gaussian_concentration": _concentration,
    "variance_bias": _bias,
    "two_guarantees": _two_guarantees,
    "frequentist_coverage": _frequentist_coverage,
    "interval_coverage": _interval_coverage,
    "ridge_path": _ridge_path,
    "regression_bands": _regression_bands,
    "gravitation": _gravitation,
    "why_sigmoid": _why_sigmoid,
    "divergence": _divergence,
    "svm_vs_logistic": _svm_vs_logistic,
    "boundary_bands": _boundary_bands,
    "kernel_cost": _kernel_cost,
    "kernel_trick": lambda: F.kernel_trick(_kernel_trick_input()),
    "feature_map": lambda: F.feature_map(_kernel_trick_input()),
    "forest": _forest,
    "mle_as_divergence": _mle_as_divergence,
    "sequential_updating": _sequential_updating,
    "mixture_twin": _mixture_twin,
    "svm_gp_twin": _svm_gp_twin,
    "horseshoe_twin": _horseshoe_twin,
    "shrinkage": _shrinkage,
    "subsampling_tradeoff": _subsampling_tradeoff,
    "lloyd_steps": lambda: F.lloyd_steps(
        {s: _frames() for s in ("random", "k-means++")}, steps=(0, 1, 2)
    ),
    "lloyd_animation": _lloyd_animation,
    "animation_gif": _lloyd_animation,
    "initialisation": _initialisation,
    "sgd_curves": _sgd_curves,
    "step_cost": _step_cost,
    "sgld_vs_nuts": _sgld_vs_nuts,
    "calibration": _calibration,
    "cells_and_vote": _cells_and_vote,
    "curse": _curse,
    "stamp": _stamp,
}


@pytest.fixture(autouse=True)
def low_resolution(monkeypatch):
    """Figures drawn at 30 dpi: the glyphs laid out are the same, the pixels fewer."""
    from freqbayes.figures import _style

    monkeypatch.setitem(_style.STYLE, "figure.dpi", 30)


def _texts(fig: Figure) -> list[str]:
    fig.canvas.draw()
    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


def _draw(name: str, lang: str) -> list[str]:
    """The texts of figure ``name`` drawn in ``lang``, a missing glyph raising an error."""
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="Glyph .* missing")
        with language(lang):
            fig = FIGURES[name]()
            try:
                return _texts(fig)
            finally:
                plt.close(fig)


def test_every_figure_function_is_drawn_here():
    functions = {n for n in F.__all__ if callable(getattr(F, n)) and n != "method_colour"}
    assert functions == set(FIGURES)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_each_figure_in_japanese_has_every_glyph_and_japanese_text(name):
    texts = _draw(name, "ja")
    assert any(CJK.search(t) for t in texts), texts
    # arviz-plots' own words in sgld_vs_nuts, translated after it has drawn
    assert not [t for t in texts if t.endswith(" mean") or t == "model"], texts


def test_the_english_figures_have_no_japanese():
    for name in ("two_guarantees", "forest", "lloyd_animation", "stamp"):
        assert not any(CJK.search(t) for t in _draw(name, "en")), name


def test_the_glyph_check_fails_without_the_japanese_font(monkeypatch):
    from freqbayes.figures import _style

    # a Japanese figure drawn in Matplotlib's default font
    monkeypatch.setattr(_style, "language_style", lambda: {})
    with pytest.warns(UserWarning, match=r"Glyph .* missing"), language("ja"):
        plt.close(FIGURES["curse"]())  # the warning comes when the text is laid out
    monkeypatch.undo()

    # an English figure given a Japanese label
    def forced() -> Any:
        fig = _curse()
        fig.axes[0].set_title("距離の集中")
        return fig

    monkeypatch.setitem(FIGURES, "forced", forced)
    with pytest.raises(UserWarning, match=r"Glyph .* missing"):
        _draw("forced", "en")


def test_names_kept_in_english_by_the_lessons_are_translated_where_drawn():
    from freqbayes.figures._style import label

    names = {
        "MLE (bootstrap)": "最尤推定 (ブートストラップ)",
        MINIBATCH.format(m=128): "ミニバッチ m′ = 128",
        CREDIBLE_INTERVAL.format(loc="0", scale="1"): "95%信用区間、事前分布 N(0, 1²)",
        "a name of the user's": "a name of the user's",
    }
    with language("ja"):
        assert {name: label(name) for name in names} == names
    with language("en"):
        assert all(label(name) == name for name in names)
