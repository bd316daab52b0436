"""What is assumed: NumPyro programs, learners' objectives and closed-form references.

:data:`MODELS` maps each probabilistic model's name to a :class:`Model`, the
description the inference methods need: the program (whose ``*_prior`` keyword
arguments are its priors), which prior types each accepts, the roles of its
parameters (from which the default priors and the fitting coordinates follow the
data's units), the checks that an estimate exists, and how a dataset becomes the
program's arguments.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import freqbayes._numpyro  # noqa: F401  (first: loads NumPyro whole; see that module)
from freqbayes.models import existence, gaussian, linear, logistic, priors, scaling
from freqbayes.models.checks import as_finite_array, check_binary, check_X_y
from freqbayes.models.scaling import Roles


@dataclass(frozen=True)
class Model:
    """A probabilistic model: a NumPyro program and how data and priors feed it.

    Attributes
    ----------
    name : str
        Registry name.
    program : callable
        The NumPyro program; its priors are keyword arguments named ``<site>_prior``.
    observed : str
        Name of the observed site.
    uses_X : bool
        Whether the program takes a design matrix ``X``.
    binary : bool
        Whether the observed values must be labels in {0, 1}.
    prior_types : mapping
        Allowed prior types for each ``*_prior`` argument.
    roles : Roles, optional
        Which sites are weights, intercept and noise scale: fitting then runs on
        centred and scaled coordinates, and the default priors follow the data's
        units (:mod:`freqbayes.models.scaling`). Without roles the defaults are
        those of the program's signature and fitting uses its own coordinates.
    check : callable, optional
        ``check(kind, args, priors)`` raises an
        :class:`~freqbayes.models.existence.EstimateError` when the estimate of
        ``kind`` ("likelihood", "mode", "posterior") does not exist on these data.
    """

    name: str
    program: Callable[..., None]
    observed: str
    uses_X: bool = True
    binary: bool = False
    prior_types: Mapping[str, tuple[type, ...]] = field(default_factory=dict)
    roles: Roles | None = None
    check: Callable[[str, dict[str, np.ndarray], dict[str, Any]], None] | None = None

    @property
    def prior_names(self) -> tuple[str, ...]:
        """The program's prior arguments (keyword arguments named ``*_prior``)."""
        params = inspect.signature(self.program).parameters
        return tuple(name for name in params if name.endswith("_prior"))

    def default_priors(
        self, args: Mapping[str, np.ndarray], intercept: bool = True
    ) -> dict[str, Any]:
        """The default priors for these data: autoscaled from the roles, else the signature's.

        ``intercept`` says whether the model keeps its intercept (centring depends on it).
        """
        params = inspect.signature(self.program).parameters
        out = {
            name: params[name].default
            for name in self.prior_names
            if params[name].default is not inspect.Parameter.empty
        }
        if self.roles is not None:
            out.update(
                scaling.autoscaled_priors(
                    self.roles, scaling.scaling_of(self.roles, args, centred=intercept)
                )
            )
        return out

    def resolve_priors(
        self, overrides: Mapping[str, Any] | None, args: Mapping[str, np.ndarray]
    ) -> dict[str, Any]:
        """The default priors for ``args`` updated with ``overrides``; bad names or types raise."""
        overrides = dict(overrides or {})
        for key, value in overrides.items():
            if key not in self.prior_names:
                raise ValueError(
                    f"priors: {self.name!r} has no prior {key!r}; known: "
                    f"{', '.join(self.prior_names)}"
                )
            if value is None and key == "intercept_prior":
                continue
            size = None
            if self.roles is not None and key == f"{self.roles.weights}_prior":
                size = int(np.shape(args[self.roles.X])[1])
            priors.check_prior(value, self.prior_types[key], f"priors[{key!r}]", size)
        out = self.default_priors(args, intercept=self.has_intercept(overrides)) | overrides
        missing = [k for k in self.prior_names if k not in out]
        if missing:
            raise ValueError(f"priors: {self.name!r} needs {', '.join(missing)} (no default)")
        return out

    def scaling(
        self, args: Mapping[str, np.ndarray], resolved: Mapping[str, Any]
    ) -> scaling.Scaling | None:
        """Centres and scales of the data for fitting (None: the program's own coordinates)."""
        if self.roles is None:
            return None
        return scaling.scaling_of(self.roles, args, centred=self.has_intercept(resolved))

    def has_intercept(self, priors: Mapping[str, Any]) -> bool:
        """Whether the model has an intercept under ``priors`` (a None prior removes it)."""
        if self.roles is None or self.roles.intercept is None:
            return False
        key = f"{self.roles.intercept}_prior"
        return not (key in priors and priors[key] is None)

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
        roles=gaussian.ROLES,
        check=gaussian.check,
    ),
    "linear": Model(
        "linear",
        linear.program,
        linear.OBSERVED,
        prior_types={"beta_prior": _LOC, "intercept_prior": _LOC, "sigma_prior": _SCALE},
        roles=linear.ROLES,
        check=linear.check,
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
        roles=logistic.ROLES,
        check=logistic.check,
    ),
}


def get_model(name: str) -> Model:
    """The registered model ``name``; an unknown name raises a clear ``ValueError``."""
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"model: unknown model {name!r}; known: {', '.join(MODELS)}") from None


__all__ = [
    "MODELS",
    "Model",
    "Roles",
    "existence",
    "gaussian",
    "get_model",
    "linear",
    "logistic",
    "priors",
    "scaling",
]
