"""How the probabilistic models are fitted: point estimates, posteriors, sampling distributions.

MLE and MAP, Laplace, SVI, NUTS, SGLD, and the frequentist intervals (Wald, profile
likelihood, bootstrap).

Every method takes ``(model, data, *, seed, priors, ...)`` and returns an ArviZ
DataTree whose attrs record the method, so any two fits can be compared. The
methods are :class:`~freqbayes.inference.probabilistic.method.Method` objects in
:data:`freqbayes.inference.registry.METHODS`; :func:`fit` and :func:`parse_methods` find
them there. NumPyro is loaded whole first (see :mod:`freqbayes.models._numpyro`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import freqbayes.models._numpyro  # noqa: F401  (first: loads NumPyro whole; see that module)
from freqbayes.inference.registry import METHODS, method_names


def _model(model: Any) -> Any:
    from freqbayes.models.registry import get_model

    return get_model(model) if isinstance(model, str) else model


def parse_methods(spec: str, model: Any = None) -> list[str]:
    """A comma-separated method list (or ``all``) → names; unknown or inapplicable names raise.

    ``all`` means every registered method that applies to ``model`` (e.g. SGLD needs
    features) and is declared part of it (``Method.in_all``); a method named explicitly
    must apply.
    """
    names = method_names(spec)
    if model is not None:
        model = _model(model)
        if spec.strip() == "all":
            return [n for n in names if METHODS.get(n).in_all and METHODS.get(n).applies_to(model)]
        for n in names:
            _check_applies(METHODS.get(n), model)
    return names


def _check_applies(method: Any, model: Any) -> None:
    why = method.why_not(model)
    if why is not None:
        raise ValueError(f"method: {why}")


def fit(
    model: Any,
    method: str = "nuts",
    data: Any = None,
    *,
    formula: str | None = None,
    seed: int = 0,
    priors: Mapping[str, Any] | None = None,
    **settings: Any,
) -> Any:
    """Fit a model to data with a registered method; return the fit's DataTree.

    Parameters
    ----------
    model : Model, str or callable
        A :class:`~freqbayes.models.probabilistic.model.Model`, a registered name, or
        your own NumPyro program (its data argument feeding the observed site
        defaulting to None).
    method : str
        A registered method (``freqbayes list``), e.g. "nuts", "map", "mle", "laplace",
        "svi", "wald", "profile", "bootstrap".
    data : optional
        For a program: a dict of its keyword arguments. For a model: a Dataset, a
        pandas DataFrame, ``(X, y)``, a dataset name or a CSV or Parquet file (None:
        the model's default data).
    formula : str, optional
        For a table: ``"target ~ terms"`` (formulaic's Wilkinson formulas:
        ``C(group)``, interactions ``a:b`` and ``a * b``, ``- 1`` for no intercept).
    seed : int
        Seed of every random draw.
    priors : mapping, optional
        Overrides of a registered model's default priors.
    **settings
        The method's own settings (``num_chains``, ``num_samples``, ...).

    The earlier order ``fit(model, data, method)`` still works: a data argument in
    the method's place and a string in the data's are taken the other way round.

    Notes
    -----
    In a process that holds more than half the memory mappings Linux allows it (each
    compiled XLA program holds a few; a long session may have compiled thousands), the
    fit first drops every compiled JAX program, your own jitted functions' included:
    they compile again when next called, where XLA's compiler would otherwise crash
    (:func:`~freqbayes.inference.compilation.release_programs_if_crowded`).
    """
    from freqbayes.inference import compilation
    from freqbayes.inference.probabilistic.problem import resolve

    # a long session (a notebook fitting many models) keeps every program compiled:
    # dropped near Linux's limit of memory mappings, where XLA's compiler would crash
    compilation.release_programs_if_crowded()
    if not isinstance(method, str) and isinstance(data, str):
        method, data = data, method
    if not isinstance(method, str):
        raise TypeError(
            f"method must be a method name; got {type(method).__name__} "
            "(the order is fit(model, method, data))"
        )
    found = METHODS.get(method)
    model, dataset = resolve(model, data, formula)
    _check_applies(found, model)
    return found.fit(model, dataset, seed=seed, priors=priors, **settings)
