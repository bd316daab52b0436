"""What is assumed: NumPyro programs, learners' objectives and closed-form references.

:data:`MODELS` maps each probabilistic model's name to a :class:`Model`, the
description the inference methods need: the program (whose ``*_prior`` keyword
defaults are the default priors), which prior types each accepts, and how a
dataset becomes the program's arguments.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import freqbayes._numpyro  # noqa: F401  (first: loads NumPyro whole; see that module)
from freqbayes.models import gaussian, linear, logistic, priors
from freqbayes.models.checks import as_finite_array, check_binary, check_X_y


@dataclass(frozen=True)
class Model:
    """A probabilistic model: a NumPyro program and how data and priors feed it.

    Attributes
    ----------
    name : str
        Registry name.
    program : callable
        The NumPyro program.
    observed : str
        Name of the observed site.
    uses_X : bool
        Whether the program takes a design matrix ``X``.
    binary : bool
        Whether the observed values must be labels in {0, 1}.
    """

    name: str
    program: Callable[..., None]
    observed: str
    uses_X: bool = True
    binary: bool = False
    prior_types: Mapping[str, tuple[type, ...]] = field(default_factory=dict)
    """Allowed prior types for each ``*_prior`` argument."""

    @property
    def priors(self) -> dict[str, Any]:
        """Default priors: the defaults of the program's ``*_prior`` keyword arguments."""
        params = inspect.signature(self.program).parameters
        return {name: p.default for name, p in params.items() if name.endswith("_prior")}

    def resolve_priors(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Default priors updated with ``overrides``; unknown names or types raise."""
        out = dict(self.priors)
        for key, value in (overrides or {}).items():
            if key not in out:
                raise ValueError(
                    f"priors: {self.name!r} has no prior {key!r}; known: {', '.join(out)}"
                )
            if value is None and key == "intercept_prior":
                out[key] = None
                continue
            priors.check_prior(value, self.prior_types[key], f"priors[{key!r}]")
            out[key] = value
        return out

    def arguments(self, X: np.ndarray | None, y: np.ndarray) -> dict[str, np.ndarray]:
        """Check the data and return the program's data arguments."""
        if not self.uses_X:
            return {self.observed: as_finite_array(y, self.observed, 1)}
        X, y = check_X_y(X, y)
        if self.binary:
            check_binary(y)
        return {"X": X, "y": y}


_LOC = priors.LOCATION_PRIORS
_SCALE = priors.SCALE_PRIORS

MODELS: dict[str, Model] = {
    "gaussian": Model(
        "gaussian",
        gaussian.program,
        gaussian.OBSERVED,
        uses_X=False,
        prior_types={"mu_prior": _LOC, "sigma_prior": _SCALE},
    ),
    "linear": Model(
        "linear",
        linear.program,
        linear.OBSERVED,
        prior_types={"beta_prior": _LOC, "intercept_prior": _LOC, "sigma_prior": _SCALE},
    ),
    "logistic": Model(
        "logistic",
        logistic.program,
        logistic.OBSERVED,
        binary=True,
        prior_types={
            "beta_prior": (priors.Normal, priors.Flat),
            "intercept_prior": (priors.Normal, priors.Flat),
        },
    ),
}


def get_model(name: str) -> Model:
    """The registered model ``name``; an unknown name raises a clear ``ValueError``."""
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"model: unknown model {name!r}; known: {', '.join(MODELS)}") from None


__all__ = ["MODELS", "Model", "gaussian", "get_model", "linear", "logistic", "priors"]
