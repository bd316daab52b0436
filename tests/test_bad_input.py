"""Bad input gets a clear error naming the argument, before any work starts."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from freqbayes.inference import fit, nuts, parse_methods, svi
from freqbayes.models import data as D
from freqbayes.models import priors as P
from freqbayes.models import tables
from freqbayes.models.registry import get_model


def _ds(y, X=None):
    return D.Dataset(
        "bad", np.asarray(y, dtype=float), None if X is None else np.asarray(X, dtype=float)
    )


@pytest.mark.parametrize("method", ["map", "nuts", "laplace", "svi"])
def test_nan_in_y_is_named(method):
    X = np.ones((5, 2))
    with pytest.raises(ValueError, match=r"y contains 1 NaN"):
        fit("linear", _ds([1, 2, np.nan, 4, 5], X), method)


def test_inf_in_X_is_named():
    X = np.ones((4, 2))
    X[1, 1] = np.inf
    with pytest.raises(ValueError, match=r"X contains 1 NaN or infinite"):
        fit("logistic", _ds([0, 1, 0, 1], X), "map")


def test_mismatched_shapes():
    with pytest.raises(ValueError, match=r"X and y have different numbers of rows: 5 != 4"):
        fit("linear", _ds([1, 2, 3, 4], np.ones((5, 2))), "map")


def test_wrong_rank():
    with pytest.raises(ValueError, match=r"X must be a 2-d array; got shape \(4,\)"):
        fit("linear", D.Dataset("bad", np.ones(4), np.ones(4)), "map")


def test_labels_outside_0_1():
    with pytest.raises(ValueError, match=r"y must hold labels in \{0, 1\}"):
        fit("logistic", _ds([0, 1, 2, 1], np.ones((4, 1))), "map")


def test_empty_data():
    with pytest.raises(ValueError, match=r"x is empty"):
        fit("gaussian", _ds([]), "mle")
    with pytest.raises(ValueError, match=r"X is empty"):
        fit("linear", _ds(np.zeros(0), np.zeros((0, 3))), "mle")


def test_unknown_names():
    with pytest.raises(ValueError, match=r"model: unknown model 'lasso'; known: gaussian"):
        get_model("lasso")
    with pytest.raises(ValueError, match=r"method: unknown method 'hmc'"):
        fit("gaussian", D.iris_setosa(), "hmc")
    with pytest.raises(ValueError, match=r"method: unknown \['gibbs'\]"):
        parse_methods("map,gibbs")
    with pytest.raises(ValueError, match=r"data: unknown dataset 'mnist'"):
        D.load("mnist", "linear")
    with pytest.raises(ValueError, match=r"guide: unknown guide 'flow'"):
        svi("gaussian", D.iris_setosa(), guide="flow")


def test_bad_priors():
    data = D.iris_setosa()
    with pytest.raises(ValueError, match=r"priors: 'gaussian' has no prior 'beta_prior'"):
        fit("gaussian", data, "map", priors={"beta_prior": P.Normal(0.0, 1.0)})
    with pytest.raises(TypeError, match=r"priors\['sigma_prior'\] must be one of HalfNormal"):
        fit("gaussian", data, "map", priors={"sigma_prior": P.Normal(0.0, 1.0)})
    with pytest.raises(ValueError, match=r"priors\['mu_prior'\].scale must be finite and > 0"):
        fit("gaussian", data, "map", priors={"mu_prior": P.Normal(0.0, -1.0)})


def test_bad_settings():
    with pytest.raises(ValueError, match=r"num_chains must be a positive integer; got 0"):
        nuts("gaussian", D.iris_setosa(), num_chains=0)
    with pytest.raises(ValueError, match=r"target_accept_prob must be in \(0, 1\)"):
        nuts("gaussian", D.iris_setosa(), target_accept_prob=1.5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b\n1,2\n", r"no column named 'y'"),
        ("y,x\n1,oops\n", r"column\(s\) 'x' are not numeric \('oops' at line 2\)"),
        ("y,x\n1,2\n2,nan\n", r"non-finite value \(nan\) at line 3, column 'x'"),
        ("y,x\n1,2\n2,\n", r"missing or non-finite value \(nan\) at line 3, column 'x'"),
        ("y,x\n1,2\n3\n", r"missing or non-finite value \(nan\) at line 3, column 'x'"),
        ("y,x\n1,2\n\n2,-inf\n", r"non-finite value \(-inf\) at line 4, column 'x'"),
        ("y,x\n1,2\n3,4,5\n", r"cannot read .*d.csv: Expected 2 fields in line 3, saw 3"),
        ("y,x\n1,2,3\n4,5,6\n", r"d.csv has a row with more fields than its header"),
        ("y,x\n", r"header but no rows"),
        ("y,x,y\n1,2,3\n", r"duplicated column names: 'y'"),
        ("y, x ,x\n1,2,3\n", r"duplicated column names: 'x'"),
        ("", r"is empty"),
        ("\n  \n", r"is empty"),
    ],
)
def test_bad_csv(tmp_path, text, message):
    path = tmp_path / "d.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        tables.from_file(path, get_model("linear"))


def test_csv_not_utf8_is_named(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("y,caf\xe9\n1,2\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin.csv is not UTF-8 text \(invalid .* at byte 5\)"):
        tables.as_dataset(str(path), get_model("linear"))


def test_csv_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffy,x\n1,2\n3,4\n".encode())
    data = tables.from_file(path, get_model("linear"))
    assert data.feature_names == ("x",)
    np.testing.assert_array_equal(data.y, [1, 3])


def test_csv_round_trip(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("x1,y,x2\n1,0,2\n3,1,4\n\n5,1,6\n")
    data = tables.as_dataset(str(path), get_model("logistic"))
    np.testing.assert_array_equal(data.y, [0, 1, 1])
    np.testing.assert_array_equal(data.X, [[1, 2], [3, 4], [5, 6]])
    assert data.feature_names == ("x1", "x2")
    with pytest.raises(FileNotFoundError, match=r"data: no such file"):
        tables.as_dataset(str(tmp_path / "missing.csv"), get_model("linear"))


def test_every_row_and_value_of_a_file_is_read(tmp_path):
    """CSV and Parquet give the table's own float64 values, every row (the last one too)."""
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {"y": rng.normal(1e4, 50.0, 37), "x": rng.lognormal(0.0, 3.0, 37), "k": np.arange(37)}
    )
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.pq")
    for name in ("t.csv", "t.pq"):
        read = tables.read_table(tmp_path / name)
        pd.testing.assert_frame_equal(read, frame, check_exact=True)
        data = tables.as_dataset(str(tmp_path / name), get_model("linear"))
        np.testing.assert_array_equal(data.y, frame["y"].to_numpy())
        np.testing.assert_array_equal(data.X, frame[["x", "k"]].to_numpy(dtype=float))
        assert data.attrs["sha256"] == hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
