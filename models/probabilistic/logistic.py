"""Logistic regression p(y = 1 | x) = σ(θᵀx + b) (Deep Learning §5.7.1).

The likelihood is computed from logits, so |θᵀx| of 50 or more neither
overflows nor gives log(0). With flat priors the MAP is the MLE, which does not
exist when the classes are (quasi-)completely separated: :func:`check` detects it
exactly, before any fitting (:func:`freqbayes.models.probabilistic.existence.separation`).

Default priors (:data:`ROLES`, :mod:`freqbayes.models.probabilistic.scaling`) follow the units of
the features: θ_j ~ N(0, (2.5/s_j)²) and b ~ N(0, 2.5² (1 + Σ_j (x̄_j/s_j)²)).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist

from freqbayes.i18n import N_
from freqbayes.models.checks import check_binary
from freqbayes.models.probabilistic import existence, groups
from freqbayes.models.probabilistic import priors as P
from freqbayes.models.probabilistic.linear import flat_columns, linear_predictor
from freqbayes.models.probabilistic.model import Lesson, Model
from freqbayes.models.probabilistic.scaling import Roles

OBSERVED = "y"

#: Weights and intercept on the logit scale; labels have no units, and there is no σ.
ROLES = Roles(y=OBSERVED, noise=None, y_has_units=False)


class BernoulliLogits(dist.BernoulliLogits):
    """NumPyro's Bernoulli(logits) with a log-density whose gradient is right at logit 0.

    NumPyro scores it as −[max(η, 0) − yη + log(1 + e^{−|η|})]: at η = 0 exactly the
    derivatives of max and |·| (½ and 1 in JAX) cancel the true slope ½ − y, so the
    gradient is −y instead of ½ − y. An optimiser started where every logit is 0 (the
    intercept-only start with balanced data, or all-zero coefficients) then sees a
    zero gradient for y = 0 and stops at once. Here log p = yη − softplus(η), exact
    and as stable (softplus is ``logaddexp(η, 0)``).
    """

    def log_prob(self, value: jnp.ndarray) -> jnp.ndarray:
        """y η − log(1 + e^η)."""
        return value * self.logits - jnp.logaddexp(self.logits, 0.0)


def program(
    X: jnp.ndarray,
    y: jnp.ndarray | None = None,
    *,
    beta_prior: P.Normal | P.Flat | P.Horseshoe,
    intercept_prior: P.LocationPrior | None,
    group_sd_prior: P.HalfNormal | P.HalfCauchy | None = None,
    group_index: jnp.ndarray | None = None,
    group_design: jnp.ndarray | None = None,
    group_size: jnp.ndarray | None = None,
    group_new: jnp.ndarray | None = None,
) -> None:
    """NumPyro program y_i ~ Bernoulli(σ(b + θᵀx_i)) with priors as arguments.

    Parameters
    ----------
    X : array (n, d)
        Features.
    y : array (n,) of {0, 1}, optional
        Labels; ``None`` to simulate.
    beta_prior : Normal, Flat or Horseshoe
        Prior on each weight; ``Normal(0, τ)`` makes the MAP L2-penalised logistic
        regression with C = τ² in scikit-learn's convention; ``Horseshoe()`` the
        sparsity prior of :mod:`~freqbayes.models.probabilistic.horseshoe`.
    intercept_prior : Normal, Flat or None
        Prior on the intercept; ``None`` removes it.
    group_sd_prior, group_index, group_design, group_size, group_new : optional
        Group-level terms of a formula, ``(1 | g)`` or ``(x | g)``, on the logit scale,
        and the prior of their sds (:mod:`freqbayes.models.probabilistic.groups`).
    """
    eta = linear_predictor(X, beta_prior, intercept_prior)
    eta = eta + groups.effects(group_sd_prior, group_index, group_design, group_size, group_new)
    with numpyro.plate("obs", X.shape[0]):
        numpyro.sample(OBSERVED, BernoulliLogits(logits=eta), obs=y)


def log_likelihood(X: jnp.ndarray, y: jnp.ndarray, beta: jnp.ndarray, intercept=0.0) -> jnp.ndarray:
    """Σ_i [y_i η_i − log(1 + e^{η_i})], computed stably from the logits η = Xθ + b."""
    eta = X @ beta + intercept
    return jnp.sum(y * eta - jnp.logaddexp(0.0, eta))


def check(kind: str, args: dict[str, np.ndarray], priors: dict[str, P.Prior]) -> None:
    """Raise a named error if the estimate of ``kind`` does not exist on these data.

    The MLE does not exist under (quasi-)complete separation, single-class data
    included; a MAP or posterior with flat priors fails the same way along the flat
    coordinates (:func:`freqbayes.models.probabilistic.existence.check_binary`).
    With group-level terms the MLE is refused (:func:`.groups.check_estimate`).
    """
    groups.check_estimate(kind, args)
    existence.check_horseshoe(kind, priors["beta_prior"])
    X = np.asarray(args["X"])
    flat = flat_columns(X.shape[1], priors["beta_prior"], priors["intercept_prior"])
    if kind != "likelihood" and not any(flat):
        return  # proper priors: the estimate exists (and the table is not copied to check)
    existence.check_binary(
        kind,
        np.asarray(X, dtype=float),
        np.asarray(args[OBSERVED], dtype=float),
        intercept=priors["intercept_prior"] is not None,
        flat=flat,
    )


MODEL = Model(
    "logistic",
    program,
    OBSERVED,
    outcome=check_binary,
    prior_types={
        "beta_prior": (P.Normal, P.Flat, P.Horseshoe),
        "intercept_prior": (P.Normal, P.Flat),
        "group_sd_prior": groups.SD_PRIORS,
    },
    roles=ROLES,
    check=check,
    dims={"beta": ("feature",)},
    default_data="breast-cancer",
    about="p(y = 1 | x) = σ(θᵀx + b) (eq. 5.81): no closed form; the MLE does not exist "
    "under separation (detected).",
    lesson=Lesson(
        N_(
            "p(y = 1 | x) = σ(θᵀx + b) (eq. 5.81) on {d} standardised features, on which the "
            "classes overlap, so the MLE exists. The MAP shrinks it towards 0 (weight decay); "
            "Laplace is a Gaussian at the mode, SVI fits a Gaussian by the ELBO, NUTS draws "
            "from the exact posterior, SGLD from an approximation of it."
        ),
        N_("breast cancer, 5 features"),
        N_("coefficient (standardised features)"),
    ),
    pads_rows=True,
)
