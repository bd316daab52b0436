"""Prior specifications shared by the NumPyro programs.

A prior is a small immutable value passed to a program as an argument, never a
constant inside it. The same program therefore gives the maximum-likelihood
estimate (flat priors), the MAP estimate and the full posterior, and reproduces a
posterior computed by another engine exactly.

Location priors (weights, intercept, a Gaussian mean) accept :class:`Normal`,
:class:`ScaledNormal` (variance proportional to σ², the conjugate form) and
:class:`Flat`. Scale priors (σ) accept :class:`HalfNormal`, :class:`HalfCauchy`,
:class:`InverseGamma` (on σ², conjugate), :class:`Flat` (on σ > 0) and
:class:`Known` (σ fixed); other positive parameters (Student-t's ν, the
negative binomial's α) also accept :class:`Gamma`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from numpyro.distributions import constraints, transforms

from freqbayes.models.probabilistic import horseshoe

Hyper = float | tuple[float, ...]
"""A hyper-parameter: one number for every coordinate, or one number per coordinate."""


class Normal(NamedTuple):
    """Normal(loc, scale²) prior, independent across coordinates.

    Arguments in NumPyro's order, ``Normal(loc, scale)`` as ``dist.Normal(loc, scale)``,
    and both required, so that a prior reads as the distribution it stands for.
    ``loc`` and ``scale`` are numbers, or tuples with one entry per coordinate of a
    vector parameter (the autoscaled default priors give each weight its own scale).
    """

    loc: Hyper
    scale: Hyper


class ScaledNormal(NamedTuple):
    """Conjugate Normal(loc, σ² scale²) prior: the variance scales with the noise σ².

    With an :class:`InverseGamma` prior on σ² this is the Normal-Inverse-Gamma
    prior; ``loc = μ₀`` and ``scale = 1 / sqrt(κ₀)`` in the usual (μ₀, κ₀, α₀, β₀)
    notation. Arguments in the order of :class:`Normal`, both required.
    """

    loc: Hyper
    scale: Hyper


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


class Gamma(NamedTuple):
    """Gamma(concentration α, rate β) prior on a positive parameter (e.g. Student-t's ν).

    Gamma(2, 0.1) on ν is Juárez & Steel's (2010) default: mean 20, density 0 at ν = 0.
    """

    concentration: float
    rate: float


class Known(NamedTuple):
    """σ is known and fixed to ``value``: it is not sampled."""

    value: float


class Dirichlet(NamedTuple):
    """Dirichlet prior on mixing weights; its length is the number of components k."""

    concentration: tuple[float, ...]


class Horseshoe(NamedTuple):
    """Regularised horseshoe on weights (Piironen & Vehtari 2017), sampled non-centred.

    θ_j = u_j z_j τ λ̃_j with z_j ~ N(0, 1), λ_j ~ C⁺(0, 1), τ ~ C⁺(0, τ₀),
    λ̃_j² = c² λ_j² / (c² + τ² λ_j²) and c⁻² ~ Gamma(ν/2, ν s²/2)
    (:func:`freqbayes.models.probabilistic.horseshoe.sample`). ``relevant`` is p₀, the
    prior guess of how many weights matter; ``slab_scale`` s and ``slab_df`` ν bound
    the few that escape. ``scale`` (u_j, the units of weight j: s_y/s_j, one per
    coordinate) and ``global_scale`` (τ₀ = p₀/(d − p₀) · σ̃/√n, P&V's eq. 3.12 with
    σ̃ = 2 on the logit scale, 1 for a scaled outcome) are filled from the data when
    left None (:func:`freqbayes.models.probabilistic.scaling.complete_horseshoe`), and
    so is ``centre`` (the features' means), where the model's intercept is sampled at the
    centre of the data (:func:`shifted_location`): the weights are not sites of their own,
    so the scaled coordinates cannot decorrelate the intercept from them.
    """

    relevant: float = 1.0
    slab_scale: float = 2.5
    slab_df: float = 4.0
    scale: Hyper | None = None
    global_scale: float | None = None
    centre: Hyper | None = None


class GaussianProcess(NamedTuple):
    """GP(0, scale² k) prior on a latent function, k(x, x′) = exp(−γ‖x − x′‖²) (the RBF).

    ``gamma`` None is filled from the data as the SVM's "scale", 1/(d Var X)
    (:mod:`freqbayes.models.probabilistic.gp`).
    """

    gamma: float | None = None
    scale: float = 1.0


LocationPrior = Normal | ScaledNormal | Flat | Horseshoe
ScalePrior = HalfNormal | HalfCauchy | InverseGamma | Gamma | Flat | Known
Prior = LocationPrior | ScalePrior | Dirichlet | GaussianProcess

LOCATION_PRIORS = (Normal, ScaledNormal, Flat)
SCALE_PRIORS = (HalfNormal, HalfCauchy, InverseGamma, Flat, Known)


def check_prior(
    prior: object, allowed: tuple[type, ...], argname: str, size: int | None = None
) -> None:
    """Raise ``TypeError`` naming ``argname`` if ``prior`` is not one of ``allowed``.

    Hyper-parameters are checked too, so that a prior with a zero or negative scale,
    or a vector of the wrong length (``size``: coordinates of the parameter, None for
    a scalar), fails before any work starts.
    """
    if not isinstance(prior, allowed):
        names = ", ".join(t.__name__ for t in allowed)
        raise TypeError(f"{argname} must be one of {names}; got {prior!r}")
    fields = ("scale", "loc", "concentration", "rate", "value", "relevant", "slab_scale")
    for field in (*fields, "slab_df", "global_scale", "gamma"):
        value = getattr(prior, field, None)
        if value is None:
            continue
        values = value if isinstance(value, tuple) else (value,)
        if isinstance(prior, Dirichlet):
            size = None if len(value) == 0 else len(value)
        if isinstance(value, tuple) and len(value) != (size or 1):
            want = f"{size} entries (one per coordinate)" if size else "a single number"
            raise ValueError(f"{argname}.{field} must have {want}; got {len(value)}")
        if not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
            raise ValueError(f"{argname}.{field} must be finite numbers; got {value!r}")
        if field != "loc" and not all(v > 0 for v in values):
            raise ValueError(f"{argname}.{field} must be finite and > 0; got {value!r}")


def hyper(value: Hyper) -> float | jnp.ndarray:
    """A hyper-parameter as a number or an array (tuples are per-coordinate values)."""
    return jnp.asarray(value) if isinstance(value, tuple) else value


def noise_kind(prior: ScalePrior) -> str:
    """How a prior on σ behaves at σ → 0, for the existence checks.

    ``"known"`` (σ fixed), ``"estimated-ig"`` (inverse-gamma on σ²: the density
    vanishes at 0) or ``"estimated"`` (half-normal, half-Cauchy, flat: positive at 0).
    """
    if isinstance(prior, Known):
        return "known"
    return "estimated-ig" if isinstance(prior, InverseGamma) else "estimated"


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
    elif isinstance(prior, Horseshoe):
        if prior.scale is None or prior.global_scale is None:
            raise ValueError(f"Horseshoe prior on {name!r}: scale and global_scale not filled in")
        return horseshoe.sample(
            name,
            shape,
            hyper(prior.scale),
            prior.global_scale,
            prior.slab_scale,
            prior.slab_df,
        )
    else:
        scale = hyper(prior.scale)
        if isinstance(prior, ScaledNormal):
            if sigma is None:
                raise ValueError(f"ScaledNormal prior on {name!r} needs a sampled sigma")
            scale = sigma * scale
        d = dist.Normal(hyper(prior.loc), scale)
        if shape:
            d = d.expand(shape).to_event(len(shape))
    return numpyro.sample(name, d)


def shifted_location(
    name: str,
    prior: LocationPrior,
    shift: jnp.ndarray,
    sigma: jnp.ndarray | float | None = None,
) -> jnp.ndarray:
    """A scalar ``name`` under ``prior``, sampled as ``<name>_centred`` = ``name`` + ``shift``.

    p(b) is ``prior``; b_c = b + shift (shift = x̄ᵀθ, the prediction's move from x = 0
    to the centre of the data) has density p(b_c − shift), the Jacobian being 1: the
    same model, but b_c is what the data pin down, nearly independent of θ. b is kept as
    the deterministic site ``name``.
    """
    if isinstance(prior, Flat):
        d = dist.ImproperUniform(constraints.real, (), ())
    else:
        scale = hyper(prior.scale)
        if isinstance(prior, ScaledNormal):
            if sigma is None:
                raise ValueError(f"ScaledNormal prior on {name!r} needs a sampled sigma")
            scale = sigma * scale
        d = dist.Normal(hyper(prior.loc) + shift, scale)
    return numpyro.deterministic(name, numpyro.sample(f"{name}_centred", d) - shift)


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
    elif isinstance(prior, Gamma):
        d = dist.Gamma(prior.concentration, prior.rate)
    else:  # InverseGamma on σ², pushed forward to σ = sqrt(σ²)
        d = dist.TransformedDistribution(
            dist.InverseGamma(prior.concentration, prior.rate), transforms.PowerTransform(0.5)
        )
    return numpyro.sample(name, d)


def _num(v: float) -> str:
    return f"{v:.3g}"


def _hyper_text(value: Hyper) -> str:
    """One number, or the range of per-coordinate numbers."""
    if isinstance(value, tuple):
        lo, hi = min(value), max(value)
        return _num(lo) if lo == hi else f"{_num(lo)}…{_num(hi)}"
    return _num(value)


def describe(prior: Prior | None) -> str:
    """A prior in the book's notation, e.g. ``N(0, 2.5²)``, ``HalfNormal(2.5)``, ``flat``."""
    if prior is None:
        return "none (no such parameter)"
    if isinstance(prior, Flat):
        return "flat"
    if isinstance(prior, Known):
        return f"known = {_num(prior.value)}"
    if isinstance(prior, Normal | ScaledNormal):
        var = f"{_hyper_text(prior.scale)}²"
        if "…" in var or var.startswith("-"):
            var = f"({var[:-1]})²"
        if isinstance(prior, ScaledNormal):
            var = f"σ²·{var}"
        return f"N({_hyper_text(prior.loc)}, {var})"
    if isinstance(prior, Gamma):
        return f"Gamma({_num(prior.concentration)}, {_num(prior.rate)})"
    if isinstance(prior, Horseshoe):
        tau0 = "" if prior.global_scale is None else f", τ₀ = {_num(prior.global_scale)}"
        return f"horseshoe(p₀ = {_num(prior.relevant)}{tau0})"
    if isinstance(prior, GaussianProcess):
        gamma = "scale" if prior.gamma is None else _num(prior.gamma)
        return f"GP(0, {_num(prior.scale)}² exp(−γ‖x − x′‖²)), γ = {gamma}"
    if isinstance(prior, Dirichlet):
        return f"Dirichlet({_hyper_text(prior.concentration)}; k = {len(prior.concentration)})"
    if isinstance(prior, InverseGamma):
        return f"σ² ~ InvGamma({_num(prior.concentration)}, {_num(prior.rate)})"
    return f"{type(prior).__name__}({_hyper_text(prior.scale)})"


#: Prior families by their command-line names (``--prior beta=normal:0,2.5``).
FAMILIES: dict[str, type] = {
    "normal": Normal,
    "scalednormal": ScaledNormal,
    "flat": Flat,
    "halfnormal": HalfNormal,
    "halfcauchy": HalfCauchy,
    "inversegamma": InverseGamma,
    "gamma": Gamma,
    "known": Known,
    "dirichlet": Dirichlet,
    "horseshoe": Horseshoe,
    "gp": GaussianProcess,
}


def parse(text: str) -> tuple[str, Prior | None]:
    """``"site=family:a,b"`` → (``"site_prior"``, the prior); ``site=none`` removes the site.

    ``beta=normal:0,2.5``, ``sigma=halfcauchy:2.5``, ``sigma=inversegamma:2,1``,
    ``beta=flat``, ``intercept=none``. Errors name the family or the numbers.
    """
    site, eq, spec = text.partition("=")
    site, spec = site.strip(), spec.strip()
    if not eq or not site or not spec:
        raise ValueError(f"--prior: write site=family:args (e.g. beta=normal:0,2.5); got {text!r}")
    family, _, args = spec.partition(":")
    family = family.strip().lower()
    if family == "none":
        return f"{site}_prior", None
    if family not in FAMILIES:
        raise ValueError(
            f"--prior {site}: unknown family {family!r}; known: {', '.join(FAMILIES)}, none"
        )
    cls = FAMILIES[family]
    try:
        values = [float(a) for a in args.split(",")] if args.strip() else []
    except ValueError:
        raise ValueError(f"--prior {site}: {args!r} are not numbers") from None
    if cls is Dirichlet:  # one concentration per component: k numbers
        if len(values) < 2:
            raise ValueError(f"--prior {site}: dirichlet takes one number per component (≥ 2)")
        return f"{site}_prior", Dirichlet(tuple(values))
    if cls is Horseshoe:  # relevant[,slab_scale[,slab_df]]; the units come from the data
        if len(values) > 3:
            raise ValueError(
                f"--prior {site}: horseshoe takes up to 3 numbers (relevant,slab_scale,slab_df); "
                f"got {len(values)}"
            )
        return f"{site}_prior", Horseshoe(*values)
    if len(values) != len(cls._fields):
        fields = ",".join(cls._fields) or "no numbers"
        raise ValueError(
            f"--prior {site}: {family} takes {len(cls._fields)} number(s) ({fields}); "
            f"got {len(values)}"
        )
    return f"{site}_prior", cls(*values)


def from_repr(text: str) -> Prior | None:
    """A prior back from its ``repr`` (as a fit's attrs store it), without ``eval``."""
    import ast

    if text == "None":
        return None
    node = ast.parse(text, mode="eval").body
    classes = {cls.__name__: cls for cls in FAMILIES.values()}
    if not isinstance(node, ast.Call) or getattr(node.func, "id", None) not in classes:
        raise ValueError(f"not a prior: {text!r}")
    kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords}
    return classes[node.func.id](**kwargs)
