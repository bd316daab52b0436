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
    """

    name: str
    fit: Callable[..., Any]
    kind: str = "draws"
    about: str = ""
    needs_features: bool = False
    quick: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Method.kind must be one of {KINDS}; got {self.kind!r}")

    def applies_to(self, model: Any) -> bool:
        """Whether this method can fit ``model``."""
        return not self.needs_features or bool(getattr(model, "uses_X", False))
