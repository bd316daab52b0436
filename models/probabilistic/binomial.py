"""Binomial regression: y_i successes out of m_i trials, logit p_i = b + θᵀx_i.

How the trials reach the model (:class:`~freqbayes.models.probabilistic.glm.GLM`):
a column named ``trials`` of the table (``freqbayes run binomial --data FILE.csv``
with columns ``y``, ``trials`` and the features), the term ``+ trials`` in a formula
(``deaths ~ log_dose + trials``: the column is taken out of the design, it gets no
coefficient), or ``Dataset.inputs["trials"]``. Without them every row is one trial
(``(X, y)`` with y in {0, 1}: logistic regression). Predictions for new rows
(``freqbayes predict``, ``inference.predict``) take their trials the same way: the
formula's ``trials`` term or the table's column (:meth:`GLM.prediction_inputs`); rows
without them are one trial each (draws of the success indicator, mean p_i).

The MLE does not exist when the rows with no success and those with all successes are
separated by the features (logistic separation, rows inside their bounds counting as
both): :func:`freqbayes.models.probabilistic.glm.check`. Default priors follow the
features' units and centre the intercept at the logit of the pooled proportion.
"""

from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist

from freqbayes.models.checks import check_counts
from freqbayes.models.dataset import Dataset
from freqbayes.models.probabilistic import glm, groups
from freqbayes.models.probabilistic import priors as P
from freqbayes.models.probabilistic.linear import linear_predictor
from freqbayes.models.probabilistic.scaling import Roles

OBSERVED = "y"
TRIALS = "trials"

#: Weights and intercept on the logit scale; proportions have no units, no σ.
ROLES = Roles(y=OBSERVED, noise=None, y_has_units=False)


def program(
    X: jnp.ndarray,
    y: jnp.ndarray | None = None,
    trials: jnp.ndarray | None = None,
    *,
    beta_prior: P.LocationPrior,
    intercept_prior: P.LocationPrior | None,
    group_sd_prior: P.HalfNormal | P.HalfCauchy | None = None,
    group_index: jnp.ndarray | None = None,
    group_design: jnp.ndarray | None = None,
    group_size: jnp.ndarray | None = None,
    group_new: jnp.ndarray | None = None,
) -> None:
    """NumPyro program y_i ~ Binomial(m_i, σ(η_i)), η = b + Xθ, with priors as arguments.

    Parameters
    ----------
    X : array (n, d)
        Features.
    y : array (n,), optional
        Successes (0 ≤ y_i ≤ m_i); ``None`` to simulate.
    trials : array (n,), optional
        Trials m_i (default 1: Bernoulli).
    beta_prior : Normal or Flat
        Prior on each weight (log odds ratio per unit of the feature).
    intercept_prior : Normal, Flat or None
        Prior on the intercept; ``None`` removes it.
    group_sd_prior, group_index, group_design, group_size, group_new : optional
        Group-level terms of a formula, ``(1 | g)`` or ``(x | g)``, on the link scale,
        and the prior of their sds (:mod:`freqbayes.models.probabilistic.groups`).
    """
    eta = linear_predictor(X, beta_prior, intercept_prior)
    eta = eta + groups.effects(group_sd_prior, group_index, group_design, group_size, group_new)
    m = jnp.ones(X.shape[0], int) if trials is None else jnp.asarray(trials).astype(int)
    with numpyro.plate("obs", X.shape[0]):
        numpyro.sample(OBSERVED, dist.BinomialLogits(eta, total_count=m), obs=y)


def bioassay() -> Dataset:
    """Racine et al. (1986) bioassay (Gelman et al., *BDA3* §3.7): deaths of 5 animals per dose.

    Feature ``log_dose`` (log g/ml); a classic whose posterior BDA computes on a grid.
    """
    X = np.array([[-0.86], [-0.30], [-0.05], [0.73]])
    deaths = np.array([0.0, 1.0, 3.0, 5.0])
    attrs = {"source": "Racine et al. (1986), Gelman et al. BDA3 table 3.1"}
    return Dataset("bioassay", deaths, X, ("log_dose",), attrs, {TRIALS: np.full(4, 5.0)})


def default_data() -> Dataset:
    """40 simulated rows of 5–20 trials, logit p = 0.3 + 0.8 z_dose − 0.5 z_age.

    (The bioassay's 4 rows are too few to resample: most bootstrap replicates of them
    are separated.)
    """

    def draw(rng: np.random.Generator, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        trials = rng.integers(5, 21, size=len(z)).astype(float)
        p = 1.0 / (1.0 + np.exp(-(0.3 + z @ [0.8, -0.5])))
        return rng.binomial(trials.astype(int), p).astype(float), trials

    return glm.simulated("simulated-trials", 40, 6, draw)


MODEL = glm.GLM(
    "binomial",
    program,
    OBSERVED,
    outcome=check_counts,
    prior_types={
        "beta_prior": (P.Normal, P.Flat),
        "intercept_prior": (P.Normal, P.Flat),
        "group_sd_prior": groups.SD_PRIORS,
    },
    roles=ROLES,
    check=functools.partial(glm.check, family="binomial"),
    dims={"beta": ("feature",)},
    default_data=default_data,
    about="successes y out of m trials (a column 'trials'), logit p = b + θᵀx: the MLE "
    "does not exist under separation (detected).",
    centre=glm.logit_pooled,
    trials=TRIALS,
    pads_rows=True,
)
