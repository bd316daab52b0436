"""How the probabilistic models are fitted: point estimates, posteriors, sampling distributions.

MLE and MAP, Laplace, SVI, NUTS, SGLD, and the frequentist intervals (Wald, profile
likelihood, bootstrap).

Every method takes ``(model, data, *, seed, priors, ...)`` and returns an ArviZ
DataTree whose attrs record the method, so any two fits can be compared. The
methods are :class:`~freqbayes.inference.probabilistic.method.Method` objects in
:data:`freqbayes.registry.METHODS`; :func:`fit` and :func:`parse_methods` find
them there. NumPyro is loaded whole first (see :mod:`freqbayes._numpyro`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import freqbayes._numpyro  # noqa: F401  (first: loads NumPyro whole; see that module)
from freqbayes.registry import METHODS


def _model(model: Any) -> Any:
    from freqbayes.models import get_model

    return get_model(model) if isinstance(model, str) else model


def parse_methods(spec: str, model: Any = None) -> list[str]:
    """A comma-separated method list (or ``all``) → names; unknown or inapplicable names raise.

    ``all`` means every registered method that applies to ``model`` (e.g. SGLD needs
    features); a method named explicitly must apply.
    """
    spec = spec.strip()
    known = METHODS.names()
    if spec == "all":
        names = known
        if model is not None:
            model = _model(model)
            names = [n for n in names if METHODS.get(n).applies_to(model)]
        return names
    names = [s.strip() for s in spec.split(",")]
    unknown = [n for n in names if n not in known]
    if unknown or not all(names):
        raise ValueError(f"method: unknown {unknown or [spec]!r}; known: {', '.join(known)}, all")
    if model is not None:
        model = _model(model)
        for n in names:
            _check_applies(METHODS.get(n), model)
    return names


def _check_applies(method: Any, model: Any) -> None:
    if not method.applies_to(model):
        raise ValueError(
            f"method: {method.name!r} does not apply to model {model.name!r} "
            "(it needs a model with features X)"
        )


def fit(
    model: Any,
    data: Any,
    method: str,
    *,
    seed: int = 0,
    priors: Mapping[str, Any] | None = None,
    **settings: Any,
) -> Any:
    """Fit ``model`` (a Model or its name) to ``data`` with ``method`` (a registered name)."""
    found = METHODS.get(method)
    model = _model(model)
    _check_applies(found, model)
    return found.fit(model, data, seed=seed, priors=priors, **settings)
