"""The registry of models, and the registry class the methods' registry uses too.

The methods' registry is :data:`freqbayes.inference.registry.METHODS` (methods
are fitted above the models, so their list lives with them).

Names are known without importing anything heavy, so that ``freqbayes --help``
and ``freqbayes list`` stay instant: a built-in entry is a ``"module:attribute"``
string imported on first use. Three sources, in this order:

* the built-ins below (a new built-in model or method is one line here plus its module);
* packages installed with an entry point in the group ``freqbayes.models`` or
  ``freqbayes.methods`` (``name = "package.module:OBJECT"``);
* objects registered at run time with :func:`freqbayes.register_model` and
  :func:`freqbayes.register_method`.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import import_module, metadata
from typing import Any


class Registry:
    """Names → objects, resolved lazily.

    Parameters
    ----------
    kind : str
        "model" or "method" (used in messages).
    builtin : dict
        Name → ``"module:attribute"`` of the built-in entries.
    group : str
        Entry-point group of installed plugins.
    """

    def __init__(self, kind: str, builtin: dict[str, str], group: str) -> None:
        self.kind = kind
        self._builtin = dict(builtin)
        self._specs: dict[str, str | Any] = dict(builtin)
        self._group = group
        self._loaded: dict[str, Any] = {}
        self._plugins: bool = False

    def _discover(self) -> None:
        """Add installed plugins' entry points (names only; nothing is imported)."""
        if self._plugins:
            return
        self._plugins = True
        for ep in metadata.entry_points(group=self._group):
            self._specs.setdefault(ep.name, ep.value)

    def names(self) -> list[str]:
        """Every registered name, built-ins first."""
        self._discover()
        return list(self._specs)

    def __contains__(self, name: object) -> bool:
        return name in self.names()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def get(self, name: str) -> Any:
        """The object registered under ``name``; an unknown name raises a clear ``ValueError``."""
        if name not in self.names():
            raise ValueError(
                f"{self.kind}: unknown {self.kind} {name!r}; known: {', '.join(self.names())}"
            )
        if name not in self._loaded:
            spec = self._specs[name]
            if isinstance(spec, str):
                module, _, attribute = spec.partition(":")
                spec = getattr(import_module(module), attribute)
            self._loaded[name] = spec
        return self._loaded[name]

    def is_builtin(self, name: str) -> bool:
        """Whether ``name`` is a built-in entry, not replaced at run time (nothing is imported)."""
        return name in self._builtin and self._specs.get(name) == self._builtin[name]

    def items(self) -> list[tuple[str, Any]]:
        """(name, object) for every entry (imports them all)."""
        return [(name, self.get(name)) for name in self.names()]

    def register(self, obj: Any, *, replace: bool = False) -> Any:
        """Add ``obj`` under ``obj.name``; an existing name needs ``replace=True``."""
        name = getattr(obj, "name", None)
        if not isinstance(name, str) or not name:
            raise TypeError(f"a {self.kind} to register needs a non-empty str .name; got {obj!r}")
        if name in self.names() and not replace:
            raise ValueError(
                f"{self.kind}: {name!r} is already registered (pass replace=True to replace it)"
            )
        self._specs[name] = obj
        self._loaded[name] = obj
        return obj

    def unregister(self, name: str) -> None:
        """Remove a run-time entry (built-ins and plugins come back on the next lookup)."""
        self._specs.pop(name, None)
        self._loaded.pop(name, None)
        if name in self._builtin:
            self._specs[name] = self._builtin[name]


#: The built-in models (a new built-in model is one line here plus its module).
BUILTIN_MODELS = {
    "gaussian": "freqbayes.models.probabilistic.gaussian:MODEL",
    "linear": "freqbayes.models.probabilistic.linear:MODEL",
    "logistic": "freqbayes.models.probabilistic.logistic:MODEL",
    "poisson": "freqbayes.models.probabilistic.poisson:MODEL",
    "negbinomial": "freqbayes.models.probabilistic.negbinomial:MODEL",
    "binomial": "freqbayes.models.probabilistic.binomial:MODEL",
    "robust": "freqbayes.models.probabilistic.robust:MODEL",
    "mixture": "freqbayes.models.probabilistic.mixture:MODEL",
    "gpc": "freqbayes.models.probabilistic.gp:MODEL",
}

#: Probabilistic models (:class:`~freqbayes.models.probabilistic.model.Model`).
MODELS = Registry("model", BUILTIN_MODELS, "freqbayes.models")


def get_model(name: str) -> Any:
    """The registered model ``name``; an unknown name raises a clear ``ValueError``."""
    return MODELS.get(name)


def register_model(model: Any, *, replace: bool = False) -> Any:
    """Register a :class:`~freqbayes.models.probabilistic.model.Model`; returns it."""
    from freqbayes.models.probabilistic.model import Model

    if not isinstance(model, Model):
        raise TypeError(f"register_model takes a Model; got {type(model).__name__}")
    return MODELS.register(model, replace=replace)
