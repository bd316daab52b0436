"""Tables as data: formulas (formulaic), DataFrames, CSV and Parquet, on raw-unit columns."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from freqbayes.inference import fit
from freqbayes.models import tables
from freqbayes.models.registry import get_model


@pytest.fixture(scope="module")
def frame():
    """Scores in the thousands, IQ near 100, three schools: raw units, a categorical."""
    rng = np.random.default_rng(0)
    n = 240
    school = rng.choice(["north", "south", "west"], n)
    iq = rng.normal(100.0, 15.0, n)
    effect = {"north": 0.0, "south": 300.0, "west": -200.0}
    slope = {"north": 20.0, "south": 25.0, "west": 15.0}
    score = np.array([1000 + effect[s] + slope[s] * q for s, q in zip(school, iq, strict=True)])
    score += rng.normal(0.0, 50.0, n)
    return pd.DataFrame({"score": score, "iq": iq, "school": school})


FORMULA = "score ~ iq * C(school)"


def test_design_matrix_is_formulaics_own(frame):
    import formulaic

    ds = tables.from_frame(frame, get_model("linear"), FORMULA)
    ref = formulaic.model_matrix(FORMULA, frame)
    cols = [c for c in ref.rhs.columns if c != "Intercept"]
    np.testing.assert_array_equal(ds.X, ref.rhs[cols].to_numpy())
    np.testing.assert_array_equal(ds.y, frame["score"].to_numpy())
    assert ds.feature_names == tuple(cols)
    assert "C(school)[T.south]" in cols and "iq:C(school)[T.west]" in cols


def test_mle_from_a_formula_is_least_squares_on_the_hand_built_matrix(frame):
    tree = fit("linear", "mle", frame, formula=FORMULA)
    south = (frame["school"] == "south").to_numpy(float)
    west = (frame["school"] == "west").to_numpy(float)
    iq = frame["iq"].to_numpy()
    X = np.column_stack([np.ones(len(iq)), iq, south, west, iq * south, iq * west])
    coef, *_ = np.linalg.lstsq(X, frame["score"].to_numpy(), rcond=None)
    post = tree.posterior
    np.testing.assert_allclose(post["intercept"].item(), coef[0], rtol=1e-3)
    np.testing.assert_allclose(post["beta"].values[0, 0], coef[1:], rtol=2e-3, atol=1e-2)
    assert list(post["beta"].coords["feature"].values)[2] == "C(school)[T.west]"
    assert tree.attrs["data_formula"] == FORMULA


def test_a_formula_without_intercept_removes_the_models(frame):
    tree = fit("linear", "mle", frame, formula="score ~ iq + C(school) - 1")
    assert "intercept" not in tree.posterior
    features = list(tree.posterior["beta"].coords["feature"].values)
    assert features == ["iq", "C(school)[north]", "C(school)[south]", "C(school)[west]"]
    assert json.loads(tree.attrs["priors_described"])["intercept"].startswith("none")


def test_new_rows_are_coded_as_the_fit_coded_its_data(frame):
    ds = tables.from_frame(frame, get_model("linear"), FORMULA)
    new = pd.DataFrame({"iq": [110.0, 90.0], "school": ["west", "north"]})
    X, names = tables.design_for(new, ds.attrs["formula_rhs"], ds.attrs["formula_state"])
    assert names == ds.feature_names
    np.testing.assert_array_equal(X, [[110, 0, 1, 0, 110], [90, 0, 0, 0, 0]])
    with pytest.raises(ValueError, match="outside of the nominated levels"):
        tables.design_for(
            pd.DataFrame({"iq": [1.0], "school": ["east"]}),
            ds.attrs["formula_rhs"],
            ds.attrs["formula_state"],
        )


def test_csv_and_parquet_give_the_same_data(frame, tmp_path):
    frame.to_csv(tmp_path / "s.csv", index=False)
    frame.to_parquet(tmp_path / "s.parquet")
    model = get_model("linear")
    a = tables.as_dataset(str(tmp_path / "s.csv"), model, FORMULA)
    b = tables.as_dataset(tmp_path / "s.parquet", model, FORMULA)
    np.testing.assert_allclose(a.X, b.X, rtol=1e-12)
    np.testing.assert_allclose(a.y, b.y, rtol=1e-12)
    assert a.feature_names == b.feature_names


def test_a_frame_without_formula_uses_its_y_column():
    frame = pd.DataFrame({"x1": [1.0, 2.0, 3.0, 4.0], "y": [1.0, 0.0, 1.0, 0.0]})
    ds = tables.as_dataset(frame, get_model("logistic"))
    assert ds.feature_names == ("x1",)
    np.testing.assert_array_equal(ds.y, [1, 0, 1, 0])


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("score ~ iq + height", "height"),
        ("score iq", "no '~'"),
        ("score ~ 1", "no feature terms"),
    ],
)
def test_bad_formulas_are_named(frame, formula, message):
    with pytest.raises(ValueError, match=message):
        fit("linear", "map", frame, formula=formula)


def test_missing_and_text_values_are_refused_not_dropped(frame):
    holes = frame.copy()
    holes.loc[5, "iq"] = np.nan
    with pytest.raises(ValueError, match="null values"):
        fit("linear", "map", holes, formula=FORMULA)
    with pytest.raises(ValueError, match="'school' are not numeric"):
        tables.as_dataset(frame.rename(columns={"score": "y"}), get_model("linear"))
    with pytest.raises(ValueError, match="row 5, column 'iq'"):
        tables.as_dataset(
            holes.drop(columns="school").rename(columns={"score": "y"}), get_model("linear")
        )


def test_formula_only_for_tables(frame):
    from freqbayes import data

    with pytest.raises(ValueError, match="applies to a table"):
        fit("linear", "map", data.diabetes(), formula=FORMULA)


# ------------------------------------------- stateful transforms: the fitted rows' state is kept
#: (formula of the fit, the same model in patsy's terms for statsmodels: poly(x, 2) spans the
#: same columns as x + x², so predictions, not coefficients, are compared; patsy's bs(x, df=4)
#: puts its knot where formulaic's does, so the bases span the same space).
STATEFUL = [
    ("y ~ center(x) + scale(z) + C(g)", None),
    ("y ~ poly(x, 2) + C(g)", "y ~ x + I(x ** 2) + C(g)"),
    ("y ~ bs(x, df=4) + z", None),
    ("y ~ center(x) * C(g) + scale(z)", None),
    ("y ~ center(x) + C(g) - 1", None),
]


@pytest.fixture(scope="module")
def raw():
    """Raw units (x near 50, z near −3) with a categorical; new rows away from the means."""
    rng = np.random.default_rng(7)
    n = 150
    frame = pd.DataFrame(
        {
            "x": rng.normal(50.0, 10.0, n),
            "z": rng.normal(-3.0, 2.0, n),
            "g": rng.choice(list("abc"), n),
        }
    )
    frame["y"] = 2 + 0.3 * frame.x - 1.5 * frame.z + 2 * (frame.g == "b") + rng.normal(0, 1, n)
    lo, hi = frame.x.min() + 1, frame.x.max() - 1
    many = pd.DataFrame(
        {"x": np.linspace(lo, hi, 7), "z": np.linspace(-6.0, 1.0, 7), "g": list("abcabca")}
    )
    return frame, many


def _plug_in_mean(tree, new):
    """b̂ + x̃ᵀθ̂ for the new rows, as :func:`predict` coded them (b̂ = 0 without intercept)."""
    from freqbayes.inference import predict

    X = predict(tree, new, seed=0).constant_data["X"].values
    post = tree.posterior
    b = post["intercept"].item() if "intercept" in post else 0.0
    return b + X @ post["beta"].values[0, 0]


@pytest.mark.parametrize(("formula", "patsy"), STATEFUL)
def test_predictions_keep_the_formulas_transforms_x64(raw, formula, patsy):
    """The MLE's plug-in means on one new row and on many equal statsmodels' (patsy's state)."""
    import statsmodels.formula.api as smf

    frame, many = raw
    tree = fit("linear", "mle", frame, formula=formula, seed=0)
    ref = smf.ols(patsy or formula, frame).fit()
    for new in (many.iloc[[1]], many):  # one row: center/scale must not use its own mean
        want = np.asarray(ref.get_prediction(new).predicted_mean)
        np.testing.assert_allclose(_plug_in_mean(tree, new), want, rtol=1e-8)


def test_a_saved_fit_predicts_as_the_fit_did_x64(raw, tmp_path):
    """Read back in this process and through ``freqbayes predict`` in another: same draws."""
    import subprocess
    import sys

    import xarray as xr

    from freqbayes import saved
    from freqbayes._io import write_datatree
    from freqbayes.inference import predict

    frame, many = raw
    tree = fit("linear", "mle", frame, formula=STATEFUL[3][0], seed=0)
    write_datatree(tree, tmp_path / "fit.nc")
    back = saved.read_fit(tmp_path / "fit.nc")
    here = predict(tree, many, seed=3)
    again = predict(back, many, seed=3)
    np.testing.assert_array_equal(again.constant_data["X"], here.constant_data["X"])
    np.testing.assert_array_equal(again.posterior_predictive["y"], here.posterior_predictive["y"])
    many.to_csv(tmp_path / "new.csv", index=False)
    done = subprocess.run(
        [sys.executable, "-m", "freqbayes.cli", "predict", "fit.nc", "--data", "new.csv",
         "--seed", "3", "--out", "p.nc"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    cli = xr.open_datatree(tmp_path / "p.nc", engine="h5netcdf")
    np.testing.assert_array_equal(cli["constant_data"]["X"], here.constant_data["X"])
    np.testing.assert_allclose(
        cli["posterior_predictive"]["y"], here.posterior_predictive["y"], rtol=1e-6
    )


def test_a_fit_without_the_transforms_state_is_refused(raw):
    """A fit saved before the state was stored (levels only) cannot predict: one line."""
    frame, many = raw
    ds = tables.from_frame(frame, get_model("linear"), "y ~ center(x) + C(g)")
    old = json.dumps(json.loads(ds.attrs["formula_state"])["encoder"])
    with pytest.raises(ValueError, match=r"does not hold the state of center\(x\)"):
        tables.design_for(many, ds.attrs["formula_rhs"], old)


def test_the_observed_variable_takes_the_target_columns_name(frame):
    """``score ~ ...``: the fit and its predictions name the outcome ``score``, not ``y``."""
    from freqbayes.inference import predict

    tree = fit("linear", "map", frame, formula=FORMULA)
    for group in ("observed_data", "posterior_predictive", "log_likelihood_at_estimate"):
        assert list(tree[group].data_vars) == ["score"], group
    assert list(tree.prior_predictive.data_vars) == ["score"]
    new = predict(tree, frame.iloc[:3], seed=0)
    assert new.posterior_predictive["score"].dims == ("chain", "draw", "obs")
