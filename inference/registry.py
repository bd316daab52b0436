"""The registry of fitting methods: every part of the package finds them here.

A built-in method is one line in :data:`BUILTIN_METHODS` plus its module; installed
packages add methods with an entry point in the group ``freqbayes.methods``, and
:func:`register_method` adds one at run time (see
:class:`~freqbayes.models.registry.Registry`). Nothing heavy is imported.
"""

from __future__ import annotations

from typing import Any

from freqbayes.models.registry import Registry

_P = "freqbayes.inference.probabilistic"

#: The built-in methods, by name → ``"module:attribute"``.
BUILTIN_METHODS = {
    "mle": f"{_P}.optimize:MLE",
    "map": f"{_P}.optimize:MAP",
    "laplace": f"{_P}.laplace:LAPLACE",
    "svi": f"{_P}.svi_method:SVI_MEAN_FIELD",
    "svi-fullrank": f"{_P}.svi_method:SVI_FULL_RANK",
    "nuts": f"{_P}.mcmc:NUTS",
    "sgld": f"{_P}.sgld:SGLD",
    "hmcecs": f"{_P}.hmcecs:HMCECS_METHOD",
    "wald": f"{_P}.wald:WALD",
    "profile": f"{_P}.profile:PROFILE",
    "bootstrap": f"{_P}.bootstrap:BOOTSTRAP",
    "em": f"{_P}.em:EM",
}

#: Fitting methods (:class:`~freqbayes.inference.probabilistic.method.Method`).
METHODS = Registry("method", BUILTIN_METHODS, "freqbayes.methods")


def register_method(method: Any, *, replace: bool = False) -> Any:
    """Register a :class:`~freqbayes.inference.probabilistic.method.Method`; returns it."""
    from freqbayes.inference.probabilistic.method import Method

    if not isinstance(method, Method):
        raise TypeError(f"register_method takes a Method; got {type(method).__name__}")
    return METHODS.register(method, replace=replace)


def method_names(spec: str) -> list[str]:
    """A comma-separated method list → registered names (``all``: every one); unknown names raise.

    Names only: nothing is imported, so the command line checks ``--method`` before it
    loads JAX. :func:`freqbayes.inference.parse_methods` adds whether each applies to
    a model.
    """
    spec = spec.strip()
    known = METHODS.names()
    if spec == "all":
        return known
    names = [s.strip() for s in spec.split(",")]
    unknown = [n for n in names if n not in known]
    if unknown or not all(names):
        raise ValueError(f"method: unknown {unknown or [spec]!r}; known: {', '.join(known)}, all")
    return names
