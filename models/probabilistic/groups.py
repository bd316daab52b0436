"""Group-level terms ``(1 | g)`` and ``(x | g)`` in formulas: varying intercepts and slopes.

``y ~ x + (1 | county)`` adds to the linear predictor of observation i in group j[i]

    η_i = b + xᵢᵀθ + z_iᵀ b_j[i],   b_j = τ ⊙ u_j,   u_j ~ N(0, I),   τ_k ~ p(τ_k),

with z_i the row of the group design (1 for ``(1 | g)``, (1, x_i) for ``(x | g)``).
This is the **non-centred** parameterisation of b_j ~ N(0, diag τ²): the sampler
sees the independent standard normals u_j (site ``group_z``) and the sds τ
(``group_sd``), not the funnel of b_j against τ that small groups make. The
group-level effects b_j = τ ⊙ u_j are in the outcome's units (of the linear
predictor); the default prior of τ_k is HalfNormal(2.5 s_y / s_k), s_y the
outcome's scale (1 for labels) and s_k that of column k of the group design (1 for
the intercept), as the other autoscaled priors (:mod:`.scaling`). The sds of
``(x | g)`` are independent: the correlation of intercept and slope is not
modelled (lme4's ``(x || g)``). One grouping factor per formula.

The left of the bar takes ``1``, ``0`` (or ``-1``) and plain numeric columns
joined by ``+``, as lme4: ``(x | g)`` has an intercept, ``(0 + x | g)`` not.
Levels are the grouping column's values as text, sorted; a level unseen in the
fitted rows is predicted from the population: its u is drawn from N(0, I)
(site ``group_z_new``), so b_new ~ N(0, diag τ²) at each posterior draw.

A family opts in with three lines (see :mod:`.linear`, :mod:`.logistic`):

* its program takes ``**`` the keyword arguments of :data:`ARGUMENTS` (each
  defaulting to None) and adds ``effects(group_sd_prior, group_index,
  group_design, group_size, group_new)`` to its linear predictor;
* its ``check`` calls :func:`check_estimate` first;
* its ``prior_types`` include ``"group_sd_prior": SD_PRIORS``.

The rest (parsing, the design, default priors, coordinates, prediction on new
rows) is shared. ``map`` and ``laplace`` run, but at the joint mode of (τ, u): there
‖b‖²/(2τ²) + τ²/(2s²) is least at τ² = s‖b‖, set by the prior's scale s, not by the
groups' spread (on 20 groups of 5 with y in the hundreds: 312 against REML's 57 and
NUTS's posterior mean 58). The marginal estimate of τ is REML's; its posterior, NUTS's.
The likelihood with the effects as free parameters has no maximum worth reporting (a
per-group intercept beside the common one is not identified): mle, wald, profile and
bootstrap refuse with one line, pointing to REML (statsmodels' ``MixedLM``) or to
map, laplace, svi and nuts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist

from freqbayes.models.probabilistic import existence
from freqbayes.models.probabilistic import priors as P
from freqbayes.models.probabilistic.scaling import AUTOSCALE, column_scale

#: The data arguments a program with group-level terms takes (all default None).
ARGUMENTS = ("group_index", "group_design", "group_size", "group_new")

#: Prior types of the group-level sds τ.
SD_PRIORS = (P.HalfNormal, P.HalfCauchy)

#: A bar term: ``( terms | factor )`` with plain terms (no parentheses).
_BAR = re.compile(r"\(\s*([^()|]*?)\s*\|\|?\s*([^()|]*?)\s*\)")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")

SYNTAX = "group-level terms are written (1 | g), (x | g) or (0 + x | g) with plain column names"


def split(formula: str) -> tuple[str, str | None, tuple[str, ...]]:
    """The fixed part of a formula, its grouping factor and the group design's columns.

    ``"y ~ x + (1 + x | g)"`` → ``("y ~ x", "g", ("Intercept", "x"))``. Without a
    bar term: ``(formula, None, ())``. Several bar terms must share one factor; their
    columns are joined.
    """
    found = _BAR.findall(formula)
    if not found:
        if "|" in formula:
            raise ValueError(f"formula: {formula!r}: {SYNTAX}")
        return formula, None, ()
    factors = {g for _, g in found}
    if len(factors) != 1:
        raise ValueError(
            f"formula: {formula!r}: one grouping factor at a time; got {sorted(factors)}"
        )
    factor = factors.pop()
    if not _NAME.match(factor):
        raise ValueError(f"formula: {formula!r}: {SYNTAX}")
    columns: list[str] = []
    for lhs, _ in found:
        intercept = True
        for term in (t.strip() for t in re.split(r"\s*\+\s*", lhs.replace("-1", "+0"))):
            if term == "1":
                intercept = True
            elif term in ("0", ""):
                intercept = False if term == "0" else intercept
            elif _NAME.match(term):
                columns.append(term)
            else:
                raise ValueError(f"formula: {formula!r}: {SYNTAX}; got {term!r}")
        if intercept:
            columns.insert(0, "Intercept")
    columns = list(dict.fromkeys(columns))
    if not columns:
        raise ValueError(f"formula: {formula!r}: a group-level term has no columns")
    fixed = _BAR.sub("", formula)
    fixed = re.sub(r"(\+\s*)+(?=\s*$|\s*\+|\s*-)", "", fixed)  # dangling '+'
    fixed = re.sub(r"~\s*\+", "~ ", fixed).strip()
    lhs, rhs = fixed.split("~", 1)
    if not rhs.strip():
        fixed = f"{lhs.strip()} ~ 1"
    return fixed, factor, tuple(columns)


def _design(frame: Any, columns: tuple[str, ...]) -> np.ndarray:
    out = []
    for c in columns:
        if c == "Intercept":
            out.append(np.ones(len(frame)))
            continue
        if c not in frame.columns:
            raise ValueError(f"formula: the data have no column {c!r} (a group-level term)")
        if frame[c].dtype.kind not in "biuf" or frame[c].isna().any():
            raise ValueError(f"formula: group-level column {c!r} must be numeric, without gaps")
        out.append(frame[c].to_numpy(dtype=float))
    return np.column_stack(out)


def _labels(frame: Any, factor: str) -> np.ndarray:
    if factor not in frame.columns:
        raise ValueError(f"formula: the data have no column {factor!r} (a grouping factor)")
    if frame[factor].isna().any():
        raise ValueError(f"data: the grouping column {factor!r} has missing values")
    return frame[factor].astype(str).to_numpy()


def build(frame: Any, factor: str, columns: tuple[str, ...]) -> tuple[dict[str, np.ndarray], str]:
    """The program's group arguments for the fitted rows and their state (JSON) for prediction."""
    labels = _labels(frame, factor)
    levels, index, size = np.unique(labels, return_inverse=True, return_counts=True)
    if len(levels) < 2:
        raise ValueError(
            f"formula: the grouping factor {factor!r} has one level; it needs two or more"
        )
    inputs = {
        "group_index": index.astype(np.int32),
        "group_design": _design(frame, columns),
        "group_size": size.astype(np.int32),
    }
    state = {"factor": factor, "columns": list(columns), "levels": [str(v) for v in levels]}
    return inputs, json.dumps(state)


def inputs_for(frame: Any, state: str) -> tuple[dict[str, np.ndarray], list[str]]:
    """Group arguments of new rows from a fit's state; unseen levels are new groups.

    Returns the arguments (``group_new`` has one entry per unseen level) and the
    names of the unseen levels.
    """
    stored = json.loads(state)
    levels = list(stored["levels"])
    labels = _labels(frame, stored["factor"])
    known = {v: i for i, v in enumerate(levels)}
    new = sorted({v for v in labels if v not in known})
    known |= {v: len(levels) + i for i, v in enumerate(new)}
    inputs = {
        "group_index": np.array([known[v] for v in labels], dtype=np.int32),
        "group_design": _design(frame, tuple(stored["columns"])),
        "group_size": np.zeros(len(levels), dtype=np.int32),
        "group_new": np.zeros(len(new), dtype=np.int32),
    }
    return inputs, new


def effects(
    group_sd_prior: P.HalfNormal | P.HalfCauchy | None,
    group_index: jnp.ndarray | None,
    group_design: jnp.ndarray | None,
    group_size: jnp.ndarray | None,
    group_new: jnp.ndarray | None = None,
) -> jnp.ndarray | float:
    """Sample τ and u (non-centred) and return each row's group-level term z_iᵀ(τ ⊙ u_j[i]).

    0 when the data have no group-level terms (``group_index`` None).
    """
    if group_index is None:
        return 0.0
    if group_sd_prior is None:
        raise ValueError("group-level terms need a group_sd_prior")
    n_levels, k = group_size.shape[0], group_design.shape[1]
    scale = P.hyper(group_sd_prior.scale)
    half = dist.HalfNormal if isinstance(group_sd_prior, P.HalfNormal) else dist.HalfCauchy
    tau = numpyro.sample("group_sd", half(jnp.broadcast_to(scale, (k,))).to_event(1))
    u = numpyro.sample("group_z", dist.Normal(jnp.zeros((n_levels, k)), 1.0).to_event(2))
    if group_new is not None and group_new.shape[0]:
        fresh = dist.Normal(jnp.zeros((group_new.shape[0], k)), 1.0).to_event(2)
        u = jnp.concatenate([u, numpyro.sample("group_z_new", fresh)])
    return jnp.sum(group_design * (tau * u)[group_index], axis=-1)


def default_prior(args: Mapping[str, Any], y_scale: float) -> P.HalfNormal | None:
    """HalfNormal(2.5 s_y / s_k) per column of the group design (None without groups).

    One number for one column (``(1 | g)``), a tuple with one scale per column otherwise.
    """
    if args.get("group_design") is None:
        return None
    scales = AUTOSCALE * float(y_scale) / column_scale(np.asarray(args["group_design"]))
    if len(scales) == 1:
        return P.HalfNormal(float(scales[0]))
    return P.HalfNormal(tuple(float(v) for v in scales))


def check_estimate(kind: str, args: Mapping[str, Any]) -> None:
    """Refuse the likelihood's maximum of a model with group-level terms (one line)."""
    if kind == "likelihood" and args.get("group_index") is not None:
        raise existence.EstimateError(
            "likelihood: with group-level terms the MLE treats each group's effect as a free "
            "parameter (not identified beside the intercept); fit by REML (statsmodels' MixedLM) "
            "or use map, laplace, svi or nuts"
        )


def coords(state: str) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """ArviZ dims and coords of the group arguments and sites."""
    stored = json.loads(state)
    dims = {
        "group_index": ["obs"],
        "group_design": ["obs", "group_term"],
        "group_size": ["group"],
        "group_z": ["group", "group_term"],
        "group_sd": ["group_term"],
    }
    return dims, {"group": list(stored["levels"]), "group_term": list(stored["columns"])}
