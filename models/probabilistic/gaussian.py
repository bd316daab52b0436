"""Gaussian model x_i ~ N(μ, σ²) (Deep Learning §5.5–5.6) and its closed forms.

The NumPyro program :func:`program` takes its priors as arguments: with flat
priors its MAP is the maximum-likelihood estimate (eq. 5.58 of the book applied
to a Gaussian), with :class:`~freqbayes.models.probabilistic.priors.ScaledNormal` on μ and
:class:`~freqbayes.models.probabilistic.priors.InverseGamma` on σ² it is the conjugate
Normal-Inverse-Gamma model whose posterior :func:`nig_posterior` gives exactly.

Default priors (:data:`ROLES`, :mod:`freqbayes.models.probabilistic.scaling`) follow the data's
units: μ ~ N(x̄, (2.5 s)²) and σ ~ HalfNormal(2.5 s), with x̄ and s the sample mean
and standard deviation.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from scipy import special, stats

from freqbayes.i18n import N_
from freqbayes.models.checks import as_finite_array
from freqbayes.models.probabilistic import existence
from freqbayes.models.probabilistic import priors as P
from freqbayes.models.probabilistic.model import Lesson, Model
from freqbayes.models.probabilistic.scaling import Roles

OBSERVED = "x"

#: μ plays the intercept and σ the noise scale; there are no features.
ROLES = Roles(y=OBSERVED, X=None, weights=None, intercept="mu", noise="sigma")


def program(
    x: jnp.ndarray | None = None,
    *,
    n: int | None = None,
    mu_prior: P.LocationPrior,
    sigma_prior: P.ScalePrior,
) -> None:
    """NumPyro program x_i ~ N(μ, σ²), i = 1..n, with priors given as arguments.

    Parameters
    ----------
    x : array (n,), optional
        Observations; ``None`` to simulate ``n`` of them.
    n : int, optional
        Number of observations when ``x`` is None.
    mu_prior : Normal, ScaledNormal or Flat
        Prior on μ (``ScaledNormal`` makes μ | σ ~ N(loc, σ² scale²)).
    sigma_prior : HalfNormal, HalfCauchy, InverseGamma, Flat or Known
        Prior on σ (``InverseGamma`` is on σ²).
    """
    n = x.shape[0] if x is not None else n
    sigma = P.noise_scale("sigma", sigma_prior)
    mu = P.location("mu", mu_prior, sigma=sigma)
    with numpyro.plate("obs", n):
        numpyro.sample(OBSERVED, dist.Normal(mu, sigma), obs=x)


class GaussianMLE(NamedTuple):
    """Maximum-likelihood estimates of a Gaussian sample (§5.5).

    Attributes
    ----------
    mu : float
        Sample mean, the MLE of μ.
    var : float
        Biased variance (1/n) Σ (x_i − x̄)², the MLE of σ²; E[var] = (n−1)/n σ².
    var_unbiased : float
        Unbiased variance 1/(n−1) Σ (x_i − x̄)² (not an MLE; shown beside it).
    """

    mu: float
    var: float
    var_unbiased: float

    @property
    def sigma(self) -> float:
        """MLE of σ, the square root of the biased variance (MLEs are invariant)."""
        return float(np.sqrt(self.var))


def check(kind: str, args: dict[str, np.ndarray], priors: dict[str, P.Prior]) -> None:
    """Raise a named error if the estimate of ``kind`` does not exist on these data.

    The MLE of σ is 0 for n = 1 or constant data; a MAP or posterior under a prior on
    σ that is positive at 0 is then unbounded or improper (see
    :func:`freqbayes.models.probabilistic.existence.check_normal`).
    """
    existence.check_normal(
        kind,
        np.asarray(args[OBSERVED], dtype=float),
        None,
        intercept=True,
        flat=[isinstance(priors["mu_prior"], P.Flat)],
        sigma=P.noise_kind(priors["sigma_prior"]),
    )


def mle(x: np.ndarray) -> GaussianMLE:
    """Closed-form MLE of (μ, σ²) and the unbiased variance beside it."""
    x = as_finite_array(x, "x", 1)
    if x.size < 2:
        raise ValueError(f"x needs at least 2 observations for a variance; got {x.size}")
    return GaussianMLE(float(x.mean()), float(x.var(ddof=0)), float(x.var(ddof=1)))


def sqrt_inverse_gamma_moments(alpha: float, beta: float) -> tuple[float, float]:
    """Mean and sd of σ when σ² ~ Inverse-Gamma(α, β) (α > 1).

    E σ = sqrt(β) Γ(α − ½)/Γ(α) and E σ² = β/(α − 1).
    """
    mean = np.sqrt(beta) * np.exp(special.gammaln(alpha - 0.5) - special.gammaln(alpha))
    return float(mean), float(np.sqrt(beta / (alpha - 1) - mean**2))


class NIG(NamedTuple):
    """Normal-Inverse-Gamma distribution on (μ, σ²).

    μ | σ² ~ N(loc, σ²/kappa) and σ² ~ Inverse-Gamma(alpha, beta).
    """

    loc: float
    kappa: float
    alpha: float
    beta: float

    def priors(self) -> dict[str, P.Prior]:
        """The keyword priors that make :func:`program` this conjugate model."""
        return {
            "mu_prior": P.ScaledNormal(self.loc, float(1 / np.sqrt(self.kappa))),
            "sigma_prior": P.InverseGamma(self.alpha, self.beta),
        }

    def mu_marginal(self) -> stats.rv_continuous:
        """Marginal of μ: Student-t with 2α degrees of freedom, scale sqrt(β/(α κ))."""
        scale = np.sqrt(self.beta / (self.alpha * self.kappa))
        return stats.t(df=2 * self.alpha, loc=self.loc, scale=scale)

    def var_marginal(self) -> stats.rv_continuous:
        """Marginal of σ²: Inverse-Gamma(α, β)."""
        return stats.invgamma(a=self.alpha, scale=self.beta)

    def sigma_mean_sd(self) -> tuple[float, float]:
        """Mean and sd of σ = sqrt(σ²) (see :func:`sqrt_inverse_gamma_moments`)."""
        return sqrt_inverse_gamma_moments(self.alpha, self.beta)

    def mode(self) -> tuple[float, float]:
        """Joint mode of the density on (μ, σ), the parametrisation of :func:`program`.

        Returns ``(μ, σ)`` with σ² = β / (α + 1). (On (μ, σ²) instead the mode has
        σ² = β / (α + 3/2): a MAP estimate depends on the parametrisation.)
        """
        return self.loc, float(np.sqrt(self.beta / (self.alpha + 1)))


def nig_posterior(x: np.ndarray, prior: NIG) -> NIG:
    """Conjugate posterior of the Normal-Inverse-Gamma prior given data ``x``.

    κₙ = κ₀ + n, μₙ = (κ₀ μ₀ + n x̄)/κₙ, αₙ = α₀ + n/2,
    βₙ = β₀ + ½ Σ(x_i − x̄)² + κ₀ n (x̄ − μ₀)² / (2 κₙ).
    """
    x = as_finite_array(x, "x", 1)
    n, xbar = x.size, float(x.mean())
    ss = float(((x - xbar) ** 2).sum())
    kappa = prior.kappa + n
    return NIG(
        loc=(prior.kappa * prior.loc + n * xbar) / kappa,
        kappa=kappa,
        alpha=prior.alpha + n / 2,
        beta=prior.beta + 0.5 * ss + prior.kappa * n * (xbar - prior.loc) ** 2 / (2 * kappa),
    )


MODEL = Model(
    "gaussian",
    program,
    OBSERVED,
    uses_X=False,
    prior_types={"mu_prior": P.LOCATION_PRIORS, "sigma_prior": P.SCALE_PRIORS},
    roles=ROLES,
    check=check,
    default_data="iris-setosa",
    about="x_i ~ N(μ, σ²) (§5.5–5.6): the MLE is x̄ and the biased 1/n variance; "
    "with a Normal-Inverse-Gamma prior the posterior is exact.",
    lesson=Lesson(
        N_(
            "x_i ~ N(μ, σ²) (§5.5). MLE and MAP are single points (diamonds); the other methods "
            "give draws, drawn as the 95% equal-tailed interval (ETI) around the mean. With "
            "{n} observations every method agrees on μ; on σ the MLE (the square root of the "
            "biased variance, eqs. 5.36–5.39) sits slightly below the posterior mean."
        ),
        N_("Iris setosa sepal lengths"),
        N_("value (μ and σ in cm)"),
    ),
    pads_rows=True,
)
