"""A fitting method: one object that carries what the rest of the package needs.

Its function (``fit(model, data, *, seed, priors, **settings) -> DataTree``), what it
returns (a point or draws), a line about it, whether it applies to a model, and the
smaller settings of a quick run (the showcase's ``--quick`` and the tests). Methods
are found through :data:`freqbayes.inference.registry.METHODS`; :func:`freqbayes.register_method`
adds one. Nothing here imports JAX.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: What a method returns: a point estimate (one chain, one draw) or draws from a distribution.
KINDS = ("point", "draws")


@dataclass(frozen=True)
class Method:
    """A fitting method.

    Attributes
    ----------
    name : str
        Registry name (``freqbayes run MODEL --method NAME``).
    fit : callable
        ``fit(model, data, *, seed, priors, **settings)`` returning a DataTree.
    kind : {"point", "draws"}
        A point estimate or draws (a posterior, an approximation of one, or a
        sampling distribution).
    about : str
        One line for listings and the report.
    needs_features : bool
        Applies only to models with a design matrix (e.g. SGLD subsamples rows of X).
    quick : mapping
        Smaller settings for quick runs (tests, ``freqbayes run all --quick``).
    general : bool
        Applies to any model (True), or only to the models whose declaration names it
        (``Model.methods``; ``em`` is the mixture's).
    """

    name: str
    fit: Callable[..., Any]
    kind: str = "draws"
    about: str = ""
    needs_features: bool = False
    quick: Mapping[str, Any] = field(default_factory=dict)
    general: bool = True

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Method.kind must be one of {KINDS}; got {self.kind!r}")

    def applies_to(self, model: Any) -> bool:
        """Whether this method can fit ``model``."""
        return self.why_not(model) is None

    def why_not(self, model: Any) -> str | None:
        """Why this method does not apply to ``model``, in one line; None when it does."""
        name = getattr(model, "name", "?")
        declared = getattr(model, "methods", None)
        if declared is not None and self.name not in declared:
            return f"{self.name!r} does not apply to model {name!r} (its methods: " + (
                f"{', '.join(declared)})"
            )
        if declared is None and not self.general:
            return f"{self.name!r} is made for other models; it does not apply to {name!r}"
        if self.needs_features and not getattr(model, "uses_X", False):
            return f"{self.name!r} does not apply to model {name!r} (it needs features X)"
        return None


def model_kernel(model: Any, method: str) -> Callable[..., Any] | None:
    """The model's own algorithm for ``method`` (``Model.kernels``), imported; None if none."""
    spec = getattr(model, "kernels", {}).get(method)
    if spec is None:
        return None
    from importlib import import_module

    module, _, attribute = spec.partition(":")
    return getattr(import_module(module), attribute)
