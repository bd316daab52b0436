"""How models are fitted: NUTS, MAP and MLE by optimisation, Laplace, SVI and SGLD.

Every method takes ``(model, data, *, seed, priors, ...)`` and returns an ArviZ
DataTree whose attrs record the method, so any two fits can be compared.
:func:`fit` dispatches by method name.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import xarray as xr

import freqbayes._numpyro  # noqa: F401  (first: loads NumPyro whole; see that module)
from freqbayes.data import Dataset
from freqbayes.inference.approx import laplace, svi
from freqbayes.inference.common import Problem, prepare
from freqbayes.inference.mcmc import nuts
from freqbayes.inference.optimize import (
    ConvergenceError,
    DegenerateError,
    EstimateError,
    NotIdentifiedError,
    SeparationError,
    map_estimate,
    mle,
    point_estimate,
)
from freqbayes.inference.sgld import sgld
from freqbayes.models import Model

METHODS: dict[str, Callable[..., xr.DataTree]] = {
    "mle": mle,
    "map": map_estimate,
    "laplace": laplace,
    "svi": functools.partial(svi, guide="mean-field"),
    "svi-fullrank": functools.partial(svi, guide="full-rank"),
    "nuts": nuts,
}


def parse_methods(spec: str) -> list[str]:
    """Split a comma-separated method list (or ``all``), rejecting unknown names."""
    names = list(METHODS) if spec.strip() == "all" else [s.strip() for s in spec.split(",")]
    unknown = [n for n in names if n not in METHODS]
    if unknown or not names:
        raise ValueError(f"method: unknown {unknown or spec!r}; known: {', '.join(METHODS)}, all")
    return names


def fit(
    model: Model | str,
    data: Dataset,
    method: str,
    *,
    seed: int = 0,
    priors: Mapping[str, Any] | None = None,
    **settings: Any,
) -> xr.DataTree:
    """Fit ``model`` to ``data`` with ``method`` (a name in :data:`METHODS`)."""
    if method not in METHODS:
        raise ValueError(f"method: unknown method {method!r}; known: {', '.join(METHODS)}")
    return METHODS[method](model, data, seed=seed, priors=priors, **settings)


__all__ = [
    "METHODS",
    "ConvergenceError",
    "DegenerateError",
    "EstimateError",
    "NotIdentifiedError",
    "Problem",
    "SeparationError",
    "fit",
    "laplace",
    "map_estimate",
    "mle",
    "nuts",
    "parse_methods",
    "point_estimate",
    "prepare",
    "sgld",
    "svi",
]
