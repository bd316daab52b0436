"""Simulation-based calibration: NUTS passes, a too-narrow posterior fails, the χ² test is right."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from freqbayes.inference.probabilistic import calibration as C


@pytest.fixture(scope="module")
def nuts_linear():
    """500 data sets from the prior of the linear case; NUTS at the quick sizes (S = 49)."""
    return C.calibrate("linear", "nuts", num=500, sizes=C.QUICK, seed=0)


def test_nuts_is_calibrated(nuts_linear):
    assert set(nuts_linear.pvalues) == {"beta[0]", "beta[1]", "intercept", "sigma"}
    assert nuts_linear.min_pvalue >= 1e-3, nuts_linear.pvalues
    assert nuts_linear.converged == 1.0  # no divergence in any of the 500 fits
    ranks = nuts_linear.ranks.to_numpy()
    assert ranks.min() >= 0 and ranks.max() <= nuts_linear.draws


def test_a_posterior_twenty_percent_too_narrow_fails(nuts_linear):
    """The negative control: the same draws, each moved to 80% of its distance to the mean."""
    narrow = C.shrunk(nuts_linear, 0.8)
    assert narrow.min_pvalue < 1e-3, narrow.pvalues
    assert all(p < 0.01 for p in narrow.pvalues.values()), narrow.pvalues


def test_uniformity_test():
    rng = np.random.default_rng(0)
    uniform = rng.integers(0, 100, 5000)
    assert C.uniformity(uniform, 99) > 1e-3
    # the p-value is the χ² test's on the ten equal bins of ranks
    counts = np.bincount(uniform // 10, minlength=10)
    assert C.uniformity(uniform, 99) == pytest.approx(stats.chisquare(counts).pvalue)
    assert C.uniformity(np.zeros(500, int), 99) < 1e-10
    with pytest.raises(ValueError, match="multiple of bins"):
        C.uniformity(uniform, 100)


def test_ranks_count_draws_below_the_truth():
    truth = {"a": np.array([0.5, 2.0]), "v": np.array([[0.0, 9.0], [1.0, -1.0]])}
    draws = {
        "a": np.array([[0.1, 0.6, 0.4], [3.0, 2.5, 2.1]]),
        "v": np.array([[[-1.0, 10.0], [1.0, 8.0], [0.5, 9.5]], [[0.0, 0.0]] * 3]),
    }
    ranks = C.ranks_of(truth, draws)
    assert ranks.to_dict("list") == {"a": [2, 0], "v[0]": [1, 3], "v[1]": [1, 0]}


def test_laplace_is_miscalibrated_for_the_gaussian_scale():
    """A known flaw, shown not hidden: with n = 20 the Laplace approximation of σ (a
    Gaussian in log σ at the mode) is off, and SBC sees it; μ is fine."""
    result = C.calibrate("gaussian", "laplace", num=500, sizes=C.QUICK, seed=1)
    assert result.pvalues["sigma"] < 1e-3
    assert result.pvalues["mu"] > 1e-3
