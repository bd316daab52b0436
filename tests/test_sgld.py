"""SGLD's warm-up survives a steep start (issue 23: one chain of the report's fit was NaN)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from freqbayes.inference import fit
from freqbayes.inference.probabilistic import sgld
from freqbayes.models import data as D


def test_the_reports_linear_sgld_fit_has_no_non_finite_chain():
    """The every-method stage's fit (diabetes, seed 0, 4 chains), shorter: before the tamed
    warm-up, chain 2 started at log σ = −2 (scaled), stepped to 7.9 then −40, and every
    later draw was NaN."""
    tree = fit(
        "linear",
        "sgld",
        D.diabetes(),
        seed=0,
        num_warmup=200,
        num_samples=20,
        thin=1,
        pointwise="none",
    )
    for name, draws in tree["posterior"].data_vars.items():
        values = np.asarray(draws).reshape(4, -1)
        assert np.isfinite(values).all(axis=1).all(), (name, np.isfinite(values).all(axis=1))


def test_a_tamed_step_moves_at_most_one_plus_the_noise():
    """Brosse et al. (2019): the drift (ε/2)ĝ / (1 + (ε/2)‖ĝ‖) has norm < 1 for any ĝ;
    the plain step is (ε/2)ĝ; both add the same noise √ε ξ for the same key."""
    steep = {"u": jnp.full(3, 1e12)}
    step = 0.1
    start = sgld.init({"u": jnp.zeros(3)})
    key = jax.random.key(0)
    tamed, _ = sgld.build_kernel(lambda k, u: steep, step, tamed=True)(key, start)
    plain, _ = sgld.build_kernel(lambda k, u: steep, step)(key, start)
    flat = {"u": jnp.zeros(3)}
    noise, _ = sgld.build_kernel(lambda k, u: flat, step, tamed=True)(key, start)
    drift = np.asarray(tamed.position["u"] - noise.position["u"])
    assert 0.99 < np.linalg.norm(drift) < 1.0
    np.testing.assert_allclose(np.asarray(plain.position["u"]), -0.5 * step * 1e12, rtol=1e-6)
