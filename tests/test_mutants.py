"""Tests aimed at mutations that once survived the suite (issue 25).

Each test states the mutant it kills; each was seen failing with that mutant planted.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_moons

from freqbayes import SVC
from freqbayes.models import tables
from freqbayes.models.learners.kernels import Kernel, gram
from freqbayes.models.registry import get_model

# ------------------------------------------------------------------ tables: every row is read


@pytest.fixture
def small_csv():
    """Five rows in raw units, the last one unlike the others (a dropped row shows)."""
    frame = pd.DataFrame(
        {"y": [1.5, 2.5, 3.5, 4.5, 987.25], "x": [10.0, 20.0, 30.0, 40.0, -5000.5]}
    )
    return frame


@pytest.mark.parametrize("newline", [True, False], ids=["trailing-newline", "no-newline"])
def test_read_table_keeps_the_last_row(small_csv, tmp_path, newline):
    """Mutant: ``read_table`` drops the last row (``frame.iloc[:-1]``), or a reader loses a
    last line without its newline. The row count and the last row's values survive."""
    path = tmp_path / "d.csv"
    text = small_csv.to_csv(index=False)
    path.write_text(text if newline else text.rstrip("\n"), encoding="utf-8")
    frame = tables.read_table(path)
    assert len(frame) == len(small_csv)
    assert frame.iloc[-1].tolist() == small_csv.iloc[-1].tolist()
    data = tables.as_dataset(path, get_model("linear"), "y ~ x")
    assert data.y.shape == (5,) and data.y[-1] == 987.25
    assert data.X[-1].tolist() == [-5000.5]
    no_formula = tables.as_dataset(str(path), get_model("linear"), None)
    assert no_formula.y.shape == (5,) and no_formula.y[-1] == 987.25


def test_read_table_keeps_the_last_row_of_a_parquet_file(small_csv, tmp_path):
    """Same mutant, through the Parquet branch."""
    small_csv.to_parquet(tmp_path / "d.parquet")
    frame = tables.read_table(tmp_path / "d.parquet")
    assert len(frame) == 5 and frame.iloc[-1].tolist() == [987.25, -5000.5]


# ------------------------------------------------------------------ SMO: the KKT intercept


def _kkt_intercept(X, y, alpha, C, kernel):
    """b from the KKT conditions, in float64 from α alone: a free vector (0 < α_i < C) sits on
    the margin, y_i f(x_i) = 1, so b = y_i − Σ_j α_j y_j k(x_j, x_i); averaged over them."""
    f0 = np.asarray(gram(kernel, X, X), dtype=np.float64) @ (alpha * y)
    free = (alpha > 0) & (alpha < C)
    assert free.sum() >= 3  # the average is over several free vectors
    return float(np.mean(y[free] - f0[free])), free


def test_smo_intercept_is_the_free_vectors_kkt_value_x64():
    """Mutant: SMO always takes the mid-bounds intercept (ub + lb)/2 (LIBSVM's fallback when
    no vector is free). Stopped early (tol = 0.5) the two differ by about the KKT gap, so the
    intercept must equal the free vectors' mean of y_i − Σ_j α_j y_j k_ij to rounding."""
    from freqbayes.inference.learners.smo import solve_dual

    X, y01 = make_moons(300, noise=0.3, random_state=1)
    y = 2.0 * y01 - 1.0
    kernel, C = Kernel("rbf", 0.5), 1.0
    sol = solve_dual(jnp.asarray(X), jnp.asarray(y), C, 0.5, kernel=kernel)
    alpha = np.asarray(sol.alpha, dtype=np.float64)
    assert float(sol.gap) > 0.05  # stopped early: mid-bounds and the KKT value differ
    b, _free = _kkt_intercept(X, y, alpha, C, kernel)
    assert float(sol.intercept) == pytest.approx(b, abs=1e-9)


def test_svc_intercept_is_the_kkt_value_x64():
    """The same through the estimator: ``intercept_`` from ``dual_coef_`` (α_i y_i) and
    ``support_vectors_``, with a loose ``tol`` so that mid-bounds would show."""
    X, y01 = make_moons(300, noise=0.3, random_state=1)
    model = SVC(kernel="rbf", gamma=0.5, C=1.0, tol=0.5).fit(X, y01)
    coef = np.asarray(model.dual_coef_[0], dtype=np.float64)
    Xs = np.asarray(model.support_vectors_)
    ys = np.sign(coef)
    f0 = np.asarray(gram(Kernel("rbf", 0.5), Xs, Xs), dtype=np.float64) @ coef
    free = np.abs(coef) < 1.0
    assert free.sum() >= 3
    # scikit-learn's sign convention: class 1 is +1 (decision_function > 0 predicts y = 1)
    assert model.intercept_[0] == pytest.approx(np.mean(ys[free] - f0[free]), abs=1e-9)
