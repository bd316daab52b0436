"""Linear regression y = b + Xθ + ε, ε ~ N(0, σ²) (Deep Learning eq. 5.80) and its closed forms.

* Ordinary least squares is the conditional MLE (§5.5.1).
* Ridge regression is the MAP under θ ~ N(0, τ² I) with known σ: it minimises
  ‖y − b − Xθ‖² + λ‖θ‖² with **λ = σ²/τ²** (§5.6.1, eq. 5.79: weight decay).
* With a Gaussian prior and known σ the posterior is Gaussian (§5.6, eqs. 5.69–5.78); with
  θ | σ² ~ N(m₀, σ² V₀) and σ² ~ Inverse-Gamma(a₀, b₀) it is Normal-Inverse-Gamma.

Default priors (:data:`ROLES`, :mod:`freqbayes.models.probabilistic.scaling`) follow the data's
units: θ_j ~ N(0, (2.5 s_y/s_j)²), σ ~ HalfNormal(2.5 s_y) and
b ~ N(ȳ, (2.5 s_y)² (1 + Σ_j (x̄_j/s_j)²)), with s_y, s_j the sds of y and of column j.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from scipy import stats

from freqbayes.i18n import N_
from freqbayes.models.checks import check_X_y
from freqbayes.models.probabilistic import existence, groups
from freqbayes.models.probabilistic import priors as P
from freqbayes.models.probabilistic.gaussian import sqrt_inverse_gamma_moments
from freqbayes.models.probabilistic.model import Lesson, Model
from freqbayes.models.probabilistic.scaling import Roles

OBSERVED = "y"

#: Weights ``beta``, intercept ``intercept`` and noise ``sigma``, in the units of X and y.
ROLES = Roles(y=OBSERVED)


def linear_predictor(
    X: jnp.ndarray,
    beta_prior: P.LocationPrior,
    intercept_prior: P.LocationPrior | None,
    sigma: jnp.ndarray | None = None,
) -> jnp.ndarray:
    """Sample ``intercept`` (unless ``intercept_prior`` is None) and ``beta``; return b + Xθ.

    Under a horseshoe on θ the intercept is sampled at the centre of the features
    (:func:`~freqbayes.models.probabilistic.priors.shifted_location`).
    """
    beta = P.location("beta", beta_prior, (X.shape[1],), sigma=sigma)
    eta = X @ beta
    if intercept_prior is None:
        return eta
    if isinstance(beta_prior, P.Horseshoe) and beta_prior.centre is not None:
        shift = jnp.dot(P.hyper(beta_prior.centre), beta)
        return eta + P.shifted_location("intercept", intercept_prior, shift, sigma)
    return eta + P.location("intercept", intercept_prior, sigma=sigma)


def program(
    X: jnp.ndarray,
    y: jnp.ndarray | None = None,
    *,
    beta_prior: P.LocationPrior,
    intercept_prior: P.LocationPrior | None,
    sigma_prior: P.ScalePrior,
    group_sd_prior: P.HalfNormal | P.HalfCauchy | None = None,
    group_index: jnp.ndarray | None = None,
    group_design: jnp.ndarray | None = None,
    group_size: jnp.ndarray | None = None,
    group_new: jnp.ndarray | None = None,
) -> None:
    """NumPyro program y ~ N(b + Xθ, σ²) (eq. 5.80) with priors as arguments.

    Parameters
    ----------
    X : array (n, d)
        Features.
    y : array (n,), optional
        Targets; ``None`` to simulate.
    beta_prior : Normal, ScaledNormal, Flat or Horseshoe
        Prior on each weight θ_j; ``Normal(0, τ)`` makes the MAP ridge with λ = σ²/τ²;
        ``Horseshoe()`` a sparsity prior (:mod:`~freqbayes.models.probabilistic.horseshoe`).
    intercept_prior : Normal, ScaledNormal, Flat or None
        Prior on the intercept b; ``None`` removes the intercept.
    sigma_prior : HalfNormal, HalfCauchy, InverseGamma, Flat or Known
        Prior on the noise scale σ.
    group_sd_prior, group_index, group_design, group_size, group_new : optional
        Group-level terms of a formula, ``(1 | g)`` or ``(x | g)``, and the prior of
        their sds (:mod:`freqbayes.models.probabilistic.groups`); None: none.
    """
    sigma = P.noise_scale("sigma", sigma_prior)
    eta = linear_predictor(X, beta_prior, intercept_prior, sigma)
    eta = eta + groups.effects(group_sd_prior, group_index, group_design, group_size, group_new)
    with numpyro.plate("obs", X.shape[0]):
        numpyro.sample(OBSERVED, dist.Normal(eta, sigma), obs=y)


def flat_columns(d: int, beta_prior: P.Prior, intercept_prior: P.Prior | None) -> list[bool]:
    """Whether the prior of each column of [1, X] is flat (the intercept first when present)."""
    head = [] if intercept_prior is None else [isinstance(intercept_prior, P.Flat)]
    return head + [isinstance(beta_prior, P.Flat)] * d


def check(kind: str, args: dict[str, np.ndarray], priors: dict[str, P.Prior]) -> None:
    """Raise a named error if the estimate of ``kind`` does not exist on these data.

    Rank-deficient designs (p ≥ n, collinear columns) make the MLE not unique; an
    exact fit makes σ̂ = 0 (see :func:`freqbayes.models.probabilistic.existence.check_normal`).
    With group-level terms the MLE is refused (:func:`.groups.check_estimate`).
    """
    groups.check_estimate(kind, args)
    existence.check_horseshoe(kind, priors["beta_prior"])
    X = np.asarray(args["X"], dtype=float)
    existence.check_normal(
        kind,
        np.asarray(args[OBSERVED], dtype=float),
        X,
        intercept=priors["intercept_prior"] is not None,
        flat=flat_columns(X.shape[1], priors["beta_prior"], priors["intercept_prior"]),
        sigma=P.noise_kind(priors["sigma_prior"]),
    )


class LinearFit(NamedTuple):
    """A point estimate of the linear model.

    Attributes
    ----------
    intercept : float
        b (0 when the model has no intercept).
    beta : ndarray (d,)
        θ.
    sigma2 : float
        Noise variance RSS / n: for OLS the MLE (biased; RSS / (n − p − 1) is unbiased).
    """

    intercept: float
    beta: np.ndarray
    sigma2: float


def _design(X: np.ndarray, fit_intercept: bool) -> np.ndarray:
    return np.column_stack([np.ones(len(X)), X]) if fit_intercept else X


def ridge(X: np.ndarray, y: np.ndarray, lam: float, fit_intercept: bool = True) -> LinearFit:
    """Ridge regression: argmin ‖y − b − Xθ‖² + λ‖θ‖², intercept unpenalised.

    This is the MAP of :func:`program` with ``beta_prior=Normal(0, τ)``,
    ``intercept_prior=Flat()`` and σ known, when λ = σ²/τ² (§5.6.1). ``lam = 0``
    gives ordinary least squares (see :func:`ols`).
    """
    X, y = check_X_y(X, y)
    if not lam >= 0:
        raise ValueError(f"lam must be >= 0; got {lam!r}")
    A = _design(X, fit_intercept)
    penalty = np.full(A.shape[1], float(lam))
    if fit_intercept:
        penalty[0] = 0.0
    if lam == 0:
        coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    else:
        coef = np.linalg.solve(A.T @ A + np.diag(penalty), A.T @ y)
    rss = float(((y - A @ coef) ** 2).sum())
    b, beta = (coef[0], coef[1:]) if fit_intercept else (0.0, coef)
    return LinearFit(float(b), beta, rss / len(y))


def ols(X: np.ndarray, y: np.ndarray, fit_intercept: bool = True) -> LinearFit:
    """Ordinary least squares = conditional MLE; ``sigma2`` is the MLE RSS/n (§5.5.1)."""
    return ridge(X, y, 0.0, fit_intercept)


def ridge_lambda(sigma: float, tau: float) -> float:
    """Weight-decay coefficient λ = σ²/τ² equivalent to a N(0, τ²) prior on the weights."""
    return float(sigma) ** 2 / float(tau) ** 2


class GaussianPosterior(NamedTuple):
    """Posterior N(mean, cov) of (b, θ) (intercept first when present), σ known."""

    mean: np.ndarray
    cov: np.ndarray

    @property
    def sd(self) -> np.ndarray:
        """Marginal posterior standard deviations."""
        return np.sqrt(np.diag(self.cov))


class NIGPosterior(NamedTuple):
    """Normal-Inverse-Gamma posterior: θ | σ² ~ N(mean, σ² V), σ² ~ Inverse-Gamma(a, b)."""

    mean: np.ndarray
    V: np.ndarray
    a: float
    b: float

    def coef_marginal_sd(self) -> np.ndarray:
        """Sd of each coefficient's Student-t marginal (2a dof, scale² b/a · V_jj)."""
        nu = 2 * self.a
        return np.sqrt(self.b / self.a * np.diag(self.V) * nu / (nu - 2))

    def var_marginal(self) -> stats.rv_continuous:
        """Marginal of σ²: Inverse-Gamma(a, b)."""
        return stats.invgamma(a=self.a, scale=self.b)

    def sigma_mean_sd(self) -> tuple[float, float]:
        """Mean and sd of the noise scale σ."""
        return sqrt_inverse_gamma_moments(self.a, self.b)


def _prior_precision(
    d: int, beta_prior: P.LocationPrior, intercept_prior: P.LocationPrior | None, kind: type
) -> tuple[np.ndarray, np.ndarray]:
    """Prior mean and (diagonal) precision of (b, θ); a flat component has precision 0."""
    mean, prec = [], []
    for p, size in ((intercept_prior, 1), (beta_prior, d)):
        if p is None:
            continue
        if isinstance(p, P.Flat):
            mean.append(np.zeros(size))
            prec.append(np.zeros(size))
            continue
        if not isinstance(p, kind):
            raise TypeError(f"this closed form needs {kind.__name__} or Flat priors; got {p!r}")
        mean.append(np.broadcast_to(np.asarray(p.loc, dtype=float), size))
        prec.append(np.broadcast_to(1.0 / np.asarray(p.scale, dtype=float) ** 2, size))
    return np.concatenate(mean), np.concatenate(prec)


def posterior_known_sigma(
    X: np.ndarray,
    y: np.ndarray,
    sigma: float,
    beta_prior: P.LocationPrior,
    intercept_prior: P.LocationPrior | None = P.Flat(),
) -> GaussianPosterior:
    """Exact Gaussian posterior of (b, θ) when σ is known and the priors are Normal or Flat.

    Λₙ = Λ₀ + AᵀA/σ², mₙ = Λₙ⁻¹(Λ₀ m₀ + Aᵀy/σ²), with A = [1, X].
    """
    X, y = check_X_y(X, y)
    A = _design(X, intercept_prior is not None)
    m0, prec0 = _prior_precision(X.shape[1], beta_prior, intercept_prior, P.Normal)
    precision = np.diag(prec0) + A.T @ A / sigma**2
    cov = np.linalg.inv(precision)
    return GaussianPosterior(cov @ (prec0 * m0 + A.T @ y / sigma**2), cov)


def posterior_nig(
    X: np.ndarray,
    y: np.ndarray,
    beta_prior: P.LocationPrior,
    intercept_prior: P.LocationPrior | None,
    sigma_prior: P.InverseGamma,
) -> NIGPosterior:
    """Exact Normal-Inverse-Gamma posterior for ScaledNormal (or Flat) coefficient priors.

    Vₙ⁻¹ = V₀⁻¹ + AᵀA, mₙ = Vₙ(V₀⁻¹m₀ + Aᵀy), aₙ = a₀ + (n − p_flat)/2,
    bₙ = b₀ + ½(yᵀy + m₀ᵀV₀⁻¹m₀ − mₙᵀVₙ⁻¹mₙ); p_flat counts flat components,
    which carry no σ factor in the prior.
    """
    X, y = check_X_y(X, y)
    A = _design(X, intercept_prior is not None)
    m0, prec0 = _prior_precision(X.shape[1], beta_prior, intercept_prior, P.ScaledNormal)
    precision = np.diag(prec0) + A.T @ A
    V = np.linalg.inv(precision)
    mean = V @ (prec0 * m0 + A.T @ y)
    n_flat = int(np.sum(prec0 == 0))
    a = sigma_prior.concentration + (len(y) - n_flat) / 2
    b = sigma_prior.rate + 0.5 * (y @ y + m0 @ (prec0 * m0) - mean @ precision @ mean)
    return NIGPosterior(mean, V, float(a), float(b))


MODEL = Model(
    "linear",
    program,
    OBSERVED,
    prior_types={
        "beta_prior": (*P.LOCATION_PRIORS, P.Horseshoe),
        "intercept_prior": P.LOCATION_PRIORS,
        "sigma_prior": P.SCALE_PRIORS,
        "group_sd_prior": groups.SD_PRIORS,
    },
    roles=ROLES,
    check=check,
    dims={"beta": ("feature",)},
    default_data="diabetes",
    about="y = b + θᵀx + ε, ε ~ N(0, σ²) (eq. 5.80): OLS is the conditional MLE, ridge "
    "the MAP under a Gaussian prior (λ = σ²/τ²), the posterior exact for conjugate priors.",
    lesson=Lesson(
        N_(
            "y = b + θᵀx + ε, ε ~ N(0, σ²): the likelihood of eq. 5.80 with an intercept. OLS is "
            "the conditional MLE (§5.5.1) and the MAP is ridge regression (§5.6.1). The "
            "correlated serum features (s1, s2) have wide posteriors: the data cannot tell them "
            "apart, and mean-field SVI, which ignores correlation, understates that width."
        ),
        N_("diabetes"),
        N_("coefficient (standardised features and target)"),
    ),
    pads_rows=True,
)
