"""The showcase (``freqbayes run all``) in quick mode, and the lessons it is built from."""

from __future__ import annotations

import re
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from freqbayes import cli, lessons, showcase
from freqbayes.figures._style import MIN_FONT_PT, smallest_font
from freqbayes.models import data as D
from freqbayes.models import linear
from freqbayes.showcase import STAGES
from freqbayes.showcase.context import Context

from .conftest import kept_for_the_run

#: The slowest tests (the whole quick showcase, every notebook): `-m "not slow"` skips them.
pytestmark = pytest.mark.slow


#: The smallest font (points) of each figure the quick run saved.
FONTS: dict[str, float] = {}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quick showcase's folder, built once per ``make test`` (:func:`kept_for_the_run`),
    and the smallest font of each figure it saved, in :data:`FONTS`."""

    def build(out: Path) -> dict[str, float]:
        original = Context.figure
        fonts: dict[str, float] = {}

        def figure(self: Context, fig, name: str, **kwargs) -> str:
            fonts[name] = smallest_font(fig)
            return original(self, fig, name, **kwargs)

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(Context, "figure", figure)
            showcase.run(out, seed=0, quick=True, progress=False)
        return fonts

    out, fonts = kept_for_the_run("showcase", tmp_path_factory, build)
    FONTS.update(fonts)
    return out


def test_every_figure_is_readable_on_a_projector(quick_run):
    assert len(FONTS) >= 15
    small = {name: size for name, size in FONTS.items() if size < MIN_FONT_PT}
    assert not small, f"text below {MIN_FONT_PT} pt: {small}"


def test_each_stage_writes_what_its_progress_bar_counts(quick_run):
    timings = pd.read_csv(quick_run / "timings" / "stages.csv").set_index("stage")
    ctx = Context(quick_run, seed=0, quick=True, progress=False)
    assert list(timings.index) == [*(s.name for s in STAGES), "total"]
    for stage in STAGES:
        assert timings.loc[stage.name, "outputs"] == stage.outputs(ctx), stage.name
    files = [p for d in ("fits", "figures", "tables") for p in (quick_run / d).rglob("*")]
    written = [p for p in files if p.suffix in (".nc", ".png", ".csv")]
    assert timings.loc["total", "outputs"] == len(written)
    # the slide versions of the crowded figures, beside them, linked from their sections
    slides = {p.name for p in (quick_run / "figures" / "slides").glob("*.png")}
    assert {"svm-gp-circles.png", "svm-gp-moons.png", "calibration-nuts.png"} <= slides
    assert {"forest-gaussian-1.png", "forest-linear-3.png", "forest-logistic-2.png"} <= slides
    assert {f"figures/slides/{name}" for name in slides} <= _references(quick_run)


def _references(out: Path) -> set[str]:
    md = (out / "report.md").read_text()
    refs = set(re.findall(r"\]\(([^)]+)\)", md)) | set(re.findall(r"Table `([^`]+)`", md))
    html = (out / "report.html").read_text()
    refs |= set(re.findall(r"href='([^']+)'", html)) - {
        f"#{s}" for s in re.findall(r"id='([^']+)'", html)
    }
    return {r for r in refs if not r.startswith("#")}


def test_report_references_only_files_that_exist(quick_run):
    refs = _references(quick_run)
    assert refs, "the report references no files"
    missing = sorted(r for r in refs if not (quick_run / r).is_file())
    assert not missing
    # every figure is in the report, embedded in the HTML, and not blank
    pngs = sorted(
        p.relative_to(quick_run).as_posix() for p in (quick_run / "figures").glob("*.png")
    )
    assert len(pngs) >= 15
    assert set(pngs) <= refs
    html = (quick_run / "report.html").read_text()
    assert html.count("data:image/png;base64,") == len(pngs)
    import matplotlib.image as mpimg

    for rel in pngs:
        img = mpimg.imread(quick_run / rel)
        assert min(img.shape[:2]) > 200, rel
        assert np.std(img[..., :3]) > 0.05, f"{rel} looks blank"
    assert not [p for p in quick_run.rglob(".*") if p.is_file()], "temporary files left behind"


def test_every_section_has_text_and_every_fit_is_saved(quick_run):
    md = (quick_run / "report.md").read_text()
    for key in (
        "Gaussian",
        "coverage",
        "Two guarantees",
        "Do 95% confidence intervals cover 95%",
        "weight decay",
        "Bayesian linear",
        "gravitation",
        "Separable",
        "SVM",
        "kernel trick",
        "k-means",
        "Stochastic gradient",
        "Langevin",
        "curse of dimensionality",
        "Stage timings",
    ):
        assert key.lower() in md.lower(), key
    fits = {p.stem for p in (quick_run / "fits").glob("*.nc")}
    # the quick report makes every fit the full one makes (issue 23: SGLD's NaN chain hid
    # in the full report while quick mode left SGLD out)
    from freqbayes.inference import parse_methods

    for model in ("gaussian", "linear", "logistic"):
        for method in parse_methods("all", model):
            assert f"{model}-{method}" in fits
    assert {"linear-sgld", "logistic-sgld", "gaussian-bootstrap", "logistic-profile"} <= fits
    assert {"conjugate-linear-sgld", "conjugate-linear-nuts", "separable-nuts"} <= fits
    coverage = pd.read_csv(quick_run / "tables" / "frequentist-coverage.csv")
    assert {"wald", "sandwich", "profile", "percentile", "bca"} <= set(coverage["interval"])
    sbc = pd.read_csv(quick_run / "tables" / "calibration.csv")
    assert {"sgld", "svi", "svi-fullrank"} <= set(sbc["method"])
    assert set(sbc["model"]) == {"gaussian", "linear", "logistic"}


def test_every_fit_not_to_be_trusted_is_marked_and_no_other(quick_run):
    """Issue 23: one rule (diagnostics.warnings) marks a fit in its table rows, its section's
    prose and its forest plot's legend; a fit the rule passes is marked nowhere."""
    from freqbayes.inference.diagnostics import caveat

    md = (quick_run / "report.md").read_text()
    marked = 0
    for path in sorted((quick_run / "fits").glob("*.nc")):
        tree = xr.open_datatree(path, engine="h5netcdf").load()
        why = caveat(tree)
        line = f"> ⚠ **Not to be trusted:** fits/{path.name}: {why}"
        assert (line in md) == bool(why), (path.name, why)
        marked += bool(why)
        model, _, method = path.stem.partition("-")
        table = quick_run / "tables" / f"{model}-methods.csv"
        if table.is_file() and method in set(pd.read_csv(table)["method"]):
            rows = pd.read_csv(table, keep_default_na=False).query("method == @method")
            assert (rows["warning"] == why).all(), (path.name, why)
    assert marked, "no fit of the quick report is marked: the check saw nothing"


def test_tables_agree_with_the_datatrees_they_come_from(quick_run):
    table = pd.read_csv(quick_run / "tables" / "logistic-methods.csv")
    for method in ("nuts", "laplace", "map", "mle"):
        tree = xr.open_datatree(quick_run / "fits" / f"logistic-{method}.nc", engine="h5netcdf")
        assert tree.attrs["method"].startswith(method)
        s = az.summary(tree, kind="stats", round_to="none", ci_kind="eti", ci_prob=0.95)
        rows = table[table["method"] == method].set_index("parameter")
        np.testing.assert_allclose(rows.loc[s.index.astype(str), "estimate"], s["mean"], rtol=1e-6)
        if method == "nuts":
            np.testing.assert_allclose(
                rows.loc[s.index.astype(str), "eti95_lo"], s["eti95_lb"], rtol=1e-6
            )
            assert (rows["r_hat"] < 1.05).all()
        else:
            assert rows["r_hat"].isna().all() == (method in ("map", "mle"))


def test_the_map_shrinks_the_mle(quick_run):
    """Weight decay shrinks the weights: Σ (θ_j/τ_j)² is smaller at the MAP than at the MLE.

    (Not every coordinate: with correlated features one weight may grow.) The MAP
    maximises ℓ(θ) − ½Σ(θ_j/τ_j)², so ℓ(MAP) − pen(MAP) ≥ ℓ(MLE) − pen(MLE) and
    ℓ(MLE) ≥ ℓ(MAP) give pen(MAP) ≤ pen(MLE).
    """
    from freqbayes import inference
    from freqbayes import lessons as L

    table = pd.read_csv(quick_run / "tables" / "logistic-methods.csv")
    mle = table[table["method"] == "mle"].set_index("parameter")["estimate"]
    mp = table[table["method"] == "map"].set_index("parameter")["estimate"]
    betas = [p for p in mle.index if p.startswith("beta")]
    data = L.select_features(D.breast_cancer(), L.CANCER_FEATURES)
    tau = np.asarray(inference.prepare("logistic", data).priors["beta_prior"].scale)
    penalty = {
        k: float(np.sum((v[betas].to_numpy() / tau) ** 2)) for k, v in (("mle", mle), ("map", mp))
    }
    assert penalty["map"] < penalty["mle"], penalty


def test_map_path_table_is_the_ridge_path(quick_run):
    table = pd.read_csv(quick_run / "tables" / "map-vs-ridge.csv")
    assert (table["max_abs_diff_to_ridge"] < 2e-3).all()


def test_ridge_path_shrinks_and_the_posterior_narrows_x64():
    """Along λ = σ²/τ²: ‖θ̂_ridge‖ falls, every posterior sd falls, and λ → 0 is OLS."""
    ds = D.diabetes()
    path = lessons.map_ridge_path(ds, lams=np.logspace(-6, 4, 40), taus=(0.3,))
    norms = np.linalg.norm(path.ridge, axis=1)
    assert np.all(np.diff(norms) < 0)
    assert np.all(np.diff(path.post_sd, axis=0) < 0)
    np.testing.assert_allclose(path.ridge[0], linear.ols(ds.X, ds.y).beta, rtol=1e-4)
    np.testing.assert_allclose(path.map_lam, path.sigma**2 / 0.3**2)


def test_sgld_agrees_with_nuts_and_the_exact_posterior(quick_run):
    """NUTS within 4 MCSE of the exact posterior; SGLD within its stated bias plus 4 MCSE.

    MCSE of a mean: sd/√ESS; of an sd: sd/√(2 ESS) (Gaussian posterior). SGLD's
    step-size bias is allowed 0.2 posterior sd on means and 15% on sds (its
    docstring states the measured bias); NUTS has none.
    """
    t = pd.read_csv(quick_run / "tables" / "sgld-vs-nuts.csv")
    for method, bias_mean, bias_sd in (("NUTS", 0.0, 0.0), ("SGLD", 0.2, 0.15)):
        ess = t[f"{method}_ess_bulk"]
        err = np.abs(t[f"{method}_mean"] - t["exact_mean"]) / t["exact_sd"]
        assert (err <= bias_mean + 4 / np.sqrt(ess)).all(), (method, err.to_numpy(), ess)
        ratio = t[f"{method}_sd"] / t["exact_sd"]
        allowed = bias_sd + 4 / np.sqrt(2 * ess)
        assert (np.abs(ratio - 1) <= allowed).all(), (method, ratio.to_numpy(), ess)
        assert (t[f"{method}_r_hat"] < (1.01 if method == "NUTS" else 1.05)).all()


def test_rerun_with_the_same_seed_reproduces_tables_byte_for_byte(quick_run, tmp_path):
    """Same seed, same bytes: stages with a NUTS fit, simulations and optimisers, rerun alone."""
    showcase.run(
        tmp_path,
        seed=0,
        quick=True,
        progress=False,
        stages=["gaussian", "coverage", "ridge", "logistic", "curse"],
    )
    again = sorted(p.name for p in (tmp_path / "tables").glob("*.csv"))
    assert len(again) == 8
    for name in again:
        assert (quick_run / "tables" / name).read_bytes() == (
            tmp_path / "tables" / name
        ).read_bytes(), name


def test_stages_on_a_local_dask_cluster_write_the_same_tables_and_report(quick_run, tmp_path):
    """``scheduler="local:2"`` (what ``make demo`` uses on two cores, as ``--workers 2``): two
    Dask worker processes, each with one JAX device per core, write the tables of the
    in-process run byte for byte."""
    stages = ["gaussian", "coverage", "ridge", "curse"]
    sections, timings = showcase.run(
        tmp_path, quick=True, progress=False, stages=stages, scheduler="local:2"
    )
    keys = [s.key for s in sections]  # in the stages' order, whichever process finished first
    assert keys == ["gaussian", "principles", "coverage", "two-guarantees", "ridge", "cells",
                    "curse"]  # fmt: skip
    assert list(timings["stage"]) == [*stages, "total"]
    tables = sorted(p.name for p in (tmp_path / "tables").glob("*.csv"))
    assert len(tables) == 6, tables
    for name in tables:
        assert (quick_run / "tables" / name).read_bytes() == (
            tmp_path / "tables" / name
        ).read_bytes(), name
    assert (tmp_path / "report.html").stat().st_size > 10_000


def test_an_interrupted_run_leaves_no_half_written_file(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    def explode(self, fname, **kwargs):
        Path(fname).write_bytes(b"half a png")
        raise KeyboardInterrupt

    monkeypatch.setattr(Figure, "savefig", explode)
    with pytest.raises(KeyboardInterrupt):
        showcase.run(tmp_path, stages=["coverage"], quick=True, progress=False)
    left = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert left == [], left


def test_figures_for_slides_in_vector_formats(tmp_path):
    showcase.run(tmp_path, stages=["coverage"], quick=True, progress=False, formats=["svg", "pdf"])
    pngs = sorted(p.stem for p in (tmp_path / "figures").glob("*.png"))
    assert pngs == ["interval-coverage", "two-guarantees"]
    for stem in pngs:
        assert (tmp_path / "figures" / f"{stem}.svg").read_text().lstrip().startswith("<?xml")
        assert (tmp_path / "figures" / f"{stem}.pdf").read_bytes().startswith(b"%PDF")


def test_unknown_stage_and_bad_cli_combinations_are_refused(tmp_path, capsys):
    with pytest.raises(ValueError, match="stages: unknown"):
        showcase.run(tmp_path, stages=["astrology"])
    for argv, msg in (
        (["run", "all", "--data", "diabetes"], "--data applies to one model"),
        (["run", "all", "--method", "nuts"], "--method applies to one model"),
        (["run", "gaussian", "--quick"], "--quick applies to 'all'"),
        (["run", "gaussian", "--format", "svg"], "--format applies to 'all'"),
        (["run", "all", "--format", "svg,bmp"], "format: unknown ['bmp']"),
        (["run", "gaussian", "--workers", "2"], "--workers applies to 'all'"),
        (["run", "all", "--workers", "0"], "--workers must be >= 1"),
        (["run", "gaussian", "--scheduler", "local:2"], "--scheduler applies to 'all'"),
        (["run", "all", "--scheduler", "local:0"], "local:N needs a whole number N >= 1"),
        (["run", "all", "--workers", "2", "--scheduler", "local:2"], "give one of them"),
    ):
        assert cli.main([*argv, "--out", str(tmp_path / "o")]) == 2
        assert msg in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


# ------------------------------------------------------------------ the lessons themselves


def test_conjugate_credible_interval_covers_95_percent_under_its_prior():
    reps = 20_000
    table = lessons.interval_coverage(seed=1, ns=(5, 50), reps=reps)
    se = np.sqrt(0.95 * 0.05 / reps)
    for name in ("95% t confidence interval", "95% credible ETI, true (conjugate) prior"):
        cov = table[table["interval"] == name]["coverage"]
        assert (np.abs(cov - 0.95) < 4 * se).all(), (name, cov.to_numpy())
    bad = table[table["interval"].str.contains("misspecified")].set_index("n")["coverage"]
    assert bad[5] < 0.5 and bad[5] < bad[50]


def test_variance_mle_bias_matches_n_minus_1_over_n():
    b = lessons.variance_bias(seed=2, ns=(2, 5, 30), reps=40_000)
    assert (np.abs(b.ratio - b.formula) < 4 * b.se).all(), (b.ratio, b.formula, b.se)


def test_posterior_concentrates_on_the_mle():
    c = lessons.gaussian_concentration(seed=3)
    width = c.mu_hi - c.mu_lo
    assert width[-1] < 0.1 * width[0]
    assert abs(c.mu_mean[-1] - c.mu_mle[-1]) < 0.01 * width[0]
    assert c.mu_lo[-1] < c.mu_mle[-1] < c.mu_hi[-1]


def test_separable_data_make_the_mle_diverge_but_not_the_map():
    d = lessons.mle_divergence(lessons.separable_data(0), steps=400)
    assert "does not exist" in d.warning
    assert d.mle_norm[400] > d.mle_norm[100] > d.mle_norm[10]
    assert abs(d.map_norm[400] - d.map_norm[300]) < 1e-3 * d.map_norm[400]


def test_kernel_trick_accuracies():
    acc = lessons.kernel_trick(0).accuracy.set_index(["data", "classifier"])["test_accuracy"]
    assert acc[("circles", "linear SVM")] < 0.7
    assert acc[("circles", "RBF-kernel SVM")] > 0.95
    assert acc[("circles", "linear SVM on φ(x) = (x, ‖x‖²)")] > 0.95
    assert acc[("moons", "RBF-kernel SVM")] > acc[("moons", "linear SVM")]


def test_stuck_seed_really_gets_stuck():
    X = lessons.blobs(0, std=0.7)
    seed = lessons.stuck_seed(X, 5)
    assert seed is not None
    stuck = lessons.lloyd_frames(X, 5, seed, "random", steps=30).inertia[-1]
    good = lessons.lloyd_frames(X, 5, 0, "k-means++", steps=30).inertia[-1]
    assert stuck >= 1.05 * good


def test_curse_of_dimensionality_trends():
    t = lessons.curse_of_dimensionality(seed=0, dims=(2, 20, 500), n=500, queries=50, n_test=300)
    assert t["median_ratio"].is_monotonic_decreasing
    assert t["median_ratio"].iloc[-1] < 1.3
    assert t["knn_accuracy"].iloc[0] > 0.9 > 0.7 > t["knn_accuracy"].iloc[-1]


def test_select_features_checks_names():
    with pytest.raises(ValueError, match="features: unknown"):
        lessons.select_features(D.diabetes(), ["height"])
    sub = lessons.select_features(D.diabetes(), ["bmi", "bp"])
    assert sub.X.shape == (442, 2) and sub.feature_names == ("bmi", "bp")


def test_a_line_is_no_probability_and_the_sigmoid_is():
    why = lessons.why_sigmoid(seed=3)
    b, w = why.line
    ends = b + w * np.array([why.x.min(), why.x.max()])
    assert ends.min() < 0 and ends.max() > 1 and why.outside > 0.1
    np.testing.assert_allclose((b, w), np.polyfit(why.x, why.y, 1)[::-1], rtol=1e-10)
    c0, c1 = why.sigmoid
    p = 1 / (1 + np.exp(-(c0 + c1 * why.x)))
    assert ((p > 0) & (p < 1)).all()
    # the logistic MLE's score equations: Σ (y − p) = 0 and Σ (y − p) x = 0
    np.testing.assert_allclose([np.sum(why.y - p), np.sum((why.y - p) * why.x)], 0, atol=1e-3)


def test_step_cost_table_has_both_gradients_at_every_size():
    cost = lessons.step_cost(seed=0, sizes=(500, 5000), repeats=2)
    assert list(cost.columns) == ["m", "gradient", "seconds_per_step"]
    assert sorted(cost["m"].unique()) == [500, 5000]
    assert set(cost["gradient"]) == {"full batch", "minibatch m′ = 128"}
    assert (cost["seconds_per_step"] > 0).all()


def test_cells_outgrow_the_data_and_the_vote_is_the_majority():
    cv = lessons.cells_and_vote(seed=2, n=1000)
    np.testing.assert_allclose(cv.cells, 10.0**cv.dims)
    np.testing.assert_allclose(cv.occupied[:2], 1.0, atol=1e-4)  # 10 and 100 cells: all full
    assert cv.occupied[-1] < 1e-4 and (np.diff(cv.occupied) <= 0).all()
    d = ((cv.X - cv.query) ** 2).sum(axis=1)
    assert d[cv.neighbours].max() <= np.delete(d, cv.neighbours).min()  # the 3 nearest
    assert cv.vote == int(cv.y[cv.neighbours].sum() >= 2)


def test_the_mixture_twin_prefers_the_true_number_of_clusters(quick_run):
    """Drawn with 3 clusters: PSIS-LOO prefers k = 3 by more than 4 se; at k = 2 the
    posterior has modes that relabelling cannot merge (which clusters join), and r̂ says so."""
    c = pd.read_csv(quick_run / "tables/mixture-choice.csv").set_index("k")
    assert c["elpd_loo"].idxmax() == 3
    assert c.loc[3, "elpd_loo"] - c.loc[2, "elpd_loo"] > 4 * c.loc[3, "elpd_se"]
    assert c.loc[2, "r_hat_relabelled"] > 1.1


def test_every_twin_nuts_fit_mixes_on_the_showcase_data(quick_run):
    """Issue 14: r̂ ≤ 1.01 for each twin's NUTS fit. The quick run makes the same fits as
    the full one (same data, draws, seed, one device), only fewer of them."""
    mixture = pd.read_csv(quick_run / "tables/mixture-choice.csv").set_index("k")
    assert mixture.loc[3, "r_hat_relabelled"] <= 1.01  # the true k (k = 2 is multimodal)
    gp = pd.read_csv(quick_run / "tables/svm-gp-twin.csv")
    horseshoe = pd.read_csv(quick_run / "tables/horseshoe-twin.csv").dropna()  # fitted d
    assert len(horseshoe) == 2
    for table in (gp, horseshoe):
        assert (table["r_hat_max"] <= 1.01).all(), table
        assert (table["ess_bulk_min"] >= 400).all(), table
    assert (gp["divergences"] == 0).all()
    assert (horseshoe["divergences"] <= 0.01 * 4000).all()  # a funnel: a few (20 and 1), stated


def test_the_pooling_fit_is_trusted_on_the_showcase_data(quick_run):
    """The hierarchical NUTS fit (the same in quick mode as in the full report) has no
    warning: r̂ ≤ 1.01, enough ESS, no divergence. With 500 + 500 draws its r̂ was 1.014 on
    an AVX-512 machine (showcase/pooling.py's SETTINGS)."""
    from freqbayes.inference.diagnostics import warnings

    tree = xr.open_datatree(quick_run / "fits" / "pooling-nuts.nc", engine="h5netcdf")
    assert warnings(tree) == []


def test_the_gp_twin_is_unsure_where_the_svm_is_not(quick_run):
    """Far from the data the GP's p returns to ½ and its sd of f to s; on the circles the
    SVM is beyond its margin there. Laplace = scikit-learn's; accuracy as the SVM's."""
    t = pd.read_csv(quick_run / "tables/svm-gp-twin.csv").set_index("data")
    assert (t["laplace_vs_sklearn_max_abs_dp"] < 1e-6).all()
    assert (t["far_gp_mean_abs_p_minus_half"] < 0.05).all()
    assert (t["far_gp_mean_sd_f"] > 0.9 * t["scale_s"]).all()
    assert t.loc["circles", "far_svm_share_beyond_margin"] > 0.9
    assert (t["gp_nuts_test_accuracy"] >= t["svm_test_accuracy"] - 0.02).all()


def test_the_horseshoe_keeps_its_accuracy_where_knn_loses_it(quick_run):
    t = pd.read_csv(quick_run / "tables/horseshoe-twin.csv").set_index("d")
    assert t.loc[1000, "horseshoe_accuracy"] >= t.loc[1000, "knn3_accuracy"] + 0.20
    assert t.loc[1000, "knn3_accuracy"] < t.loc[10, "knn3_accuracy"]
    assert t.loc[1000, "horseshoe_accuracy"] >= 0.95
    # x₁'s weight kept, the 999 others shrunk (posterior medians)
    assert t.loc[1000, "median_abs_beta1"] > 100 * t.loc[1000, "irrelevant_median_abs_beta_q99"]


def test_with_every_coordinate_relevant_the_sparsity_prior_gains_nothing(quick_run):
    """Issue 23: on the dense task the horseshoe (d = 100) is no better than the L2 fit,
    far below its accuracy on the sparse task; its fit mixes (measured r̂ 1.005, ESS 567)."""
    sparse = pd.read_csv(quick_run / "tables/horseshoe-twin.csv").set_index("d")
    dense = pd.read_csv(quick_run / "tables/horseshoe-twin-dense.csv").set_index("d")
    assert dense.loc[100, "horseshoe_accuracy"] < dense.loc[100, "l2_logistic_accuracy"] + 0.02
    assert dense.loc[100, "horseshoe_accuracy"] < sparse.loc[1000, "horseshoe_accuracy"] - 0.1
    assert dense.loc[1000, "knn3_accuracy"] < dense.loc[2, "knn3_accuracy"] - 0.3
    assert dense.loc[100, "r_hat_max"] <= 1.01 and dense.loc[100, "ess_bulk_min"] >= 400
