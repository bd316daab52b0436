"""Prior specifications shared by the NumPyro programs.

A prior is a small immutable value passed to a program as an argument, never a
constant inside it. The same program therefore gives the maximum-likelihood
estimate (flat priors), the MAP estimate and the full posterior, and reproduces a
posterior computed by another engine exactly.

Location priors (weights, intercept, a Gaussian mean) accept :class:`Normal`,
:class:`ScaledNormal` (variance proportional to σ², the conjugate form) and
:class:`Flat`. Scale priors (σ) accept :class:`HalfNormal`, :class:`HalfCauchy`,
:class:`InverseGamma` (on σ², conjugate), :class:`Flat` (on σ > 0) and
:class:`Known` (σ fixed).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from numpyro.distributions import constraints, transforms


class Normal(NamedTuple):
    """Normal(loc, scale²) prior, independent across coordinates."""

    scale: float
    loc: float = 0.0


class ScaledNormal(NamedTuple):
    """Conjugate Normal(loc, σ² scale²) prior: the variance scales with the noise σ².

    With an :class:`InverseGamma` prior on σ² this is the Normal-Inverse-Gamma
    prior; ``scale = 1 / sqrt(kappa)`` in the usual (μ₀, κ₀, α₀, β₀) notation.
    """

    scale: float
    loc: float = 0.0


class Flat(NamedTuple):
    """Improper flat prior: constant density on ℝ (locations) or on σ > 0 (scales)."""


class HalfNormal(NamedTuple):
    """Half-normal prior on σ > 0 with the given scale."""

    scale: float


class HalfCauchy(NamedTuple):
    """Half-Cauchy prior on σ > 0 with the given scale."""

    scale: float


class InverseGamma(NamedTuple):
    """Inverse-gamma(concentration α, rate β) prior on the variance σ² (conjugate)."""

    concentration: float
    rate: float


class Known(NamedTuple):
    """σ is known and fixed to ``value``: it is not sampled."""

    value: float


LocationPrior = Normal | ScaledNormal | Flat
ScalePrior = HalfNormal | HalfCauchy | InverseGamma | Flat | Known
Prior = LocationPrior | ScalePrior

LOCATION_PRIORS = (Normal, ScaledNormal, Flat)
SCALE_PRIORS = (HalfNormal, HalfCauchy, InverseGamma, Flat, Known)


def check_prior(prior: object, allowed: tuple[type, ...], argname: str) -> None:
    """Raise ``TypeError`` naming ``argname`` if ``prior`` is not one of ``allowed``.

    Positive hyper-parameters are checked too, so that a prior with a zero or
    negative scale fails before any sampling starts.
    """
    if not isinstance(prior, allowed):
        names = ", ".join(t.__name__ for t in allowed)
        raise TypeError(f"{argname} must be one of {names}; got {prior!r}")
    for field in ("scale", "concentration", "rate", "value"):
        value = getattr(prior, field, None)
        if value is not None and not (math.isfinite(value) and value > 0):
            raise ValueError(f"{argname}.{field} must be finite and > 0; got {value!r}")


def location(
    name: str,
    prior: LocationPrior,
    shape: tuple[int, ...] = (),
    sigma: jnp.ndarray | float | None = None,
) -> jnp.ndarray:
    """Sample a real-valued parameter ``name`` of ``shape`` under ``prior``.

    Parameters
    ----------
    name : str
        Site name.
    prior : Normal, ScaledNormal or Flat
        The prior.
    shape : tuple of int
        Event shape of the parameter (``()`` for a scalar).
    sigma : array or float, optional
        The noise scale; needed by :class:`ScaledNormal`.
    """
    if isinstance(prior, Flat):
        d = dist.ImproperUniform(constraints.real, (), shape)
    else:
        scale = prior.scale
        if isinstance(prior, ScaledNormal):
            if sigma is None:
                raise ValueError(f"ScaledNormal prior on {name!r} needs a sampled sigma")
            scale = sigma * prior.scale
        d = dist.Normal(prior.loc, scale)
        if shape:
            d = d.expand(shape).to_event(len(shape))
    return numpyro.sample(name, d)


def noise_scale(name: str, prior: ScalePrior) -> jnp.ndarray:
    """Sample the noise scale σ > 0 under ``prior`` (or return it if :class:`Known`)."""
    if isinstance(prior, Known):
        return jnp.asarray(prior.value)
    if isinstance(prior, Flat):
        d = dist.ImproperUniform(constraints.positive, (), ())
    elif isinstance(prior, HalfNormal):
        d = dist.HalfNormal(prior.scale)
    elif isinstance(prior, HalfCauchy):
        d = dist.HalfCauchy(prior.scale)
    else:  # InverseGamma on σ², pushed forward to σ = sqrt(σ²)
        d = dist.TransformedDistribution(
            dist.InverseGamma(prior.concentration, prior.rate), transforms.PowerTransform(0.5)
        )
    return numpyro.sample(name, d)
