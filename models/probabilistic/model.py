"""A probabilistic model: one object that carries everything the rest of the package needs.

The program (prior + likelihood, with the priors as ``*_prior`` keyword arguments),
its observed site, which prior types each argument accepts, how a dataset becomes
the program's arguments, the roles of its parameters (from which the default priors
and the fitting coordinates follow the data's units), the checks that an estimate
exists, the dims of its parameters, its default data and a paragraph about it. The
command line, the showcase and the tests discover models through
:data:`freqbayes.models.registry.MODELS`; :func:`freqbayes.register_model` adds one.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from freqbayes.models.checks import as_finite_array, check_X_y
from freqbayes.models.dataset import Dataset
from freqbayes.models.probabilistic import groups, priors, scaling
from freqbayes.models.probabilistic.scaling import Roles


class Lesson(NamedTuple):
    """What the report says of every method on a model (catalogue messages, marked ``N_``).

    Attributes
    ----------
    text : str
        What the comparison shows, with ``{n}`` (observations) and ``{d}`` (features).
    data : str
        A label of the data it is shown on.
    axis : str
        The forest plot's x-axis: what the parameters' values are.
    """

    text: str
    data: str
    axis: str


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
    outcome : callable, optional
        ``outcome(y) -> y`` checks the observed values beyond being finite numbers
        (:func:`~freqbayes.models.checks.check_binary` for labels,
        :func:`~freqbayes.models.checks.check_counts` for counts), raising a clear
        ``ValueError``.
    prior_types : mapping
        Allowed prior types for each ``*_prior`` argument.
    roles : Roles, optional
        Which sites are weights, intercept and noise scale: fitting then runs on
        centred and scaled coordinates, and the default priors follow the data's
        units (:mod:`freqbayes.models.probabilistic.scaling`). Without roles the defaults are
        those of the program's signature and fitting uses its own coordinates.
    check : callable, optional
        ``check(kind, args, priors)`` raises an
        :class:`~freqbayes.models.probabilistic.existence.EstimateError` when the
        estimate of ``kind`` ("likelihood", "mode", "posterior") does not exist on
        these data.
    dims : mapping
        Dims of vector parameters: ``{"beta": ("feature",)}`` labels the weights by
        the data's feature names.
    default_data : str or callable, optional
        The dataset used when none is given: a name in :data:`freqbayes.models.data.DATASETS`
        or a function returning a :class:`~freqbayes.models.dataset.Dataset`.
    about : str
        One paragraph for listings and the report.
    lesson : Lesson, optional
        What the report says of every method on it; only models with a lesson are fitted
        by the report's every-method stage (the others on demand: ``freqbayes run``).
    methods : tuple of str, optional
        The methods that apply to it; None: every general-purpose method. A method made
        for one model (``em`` for the mixture) applies only where a model names it
        (:meth:`~freqbayes.inference.probabilistic.method.Method.applies_to`).
    kernels : mapping
        Method name → ``"module:function"``: this model's own algorithm for that
        method, called with the method's arguments in place of the generic one (the
        GP classifier's ``laplace`` is Rasmussen & Williams' Algorithm 3.1).
    no_prediction : str
        Why new rows cannot be predicted from a fit (refused in one line by
        :func:`~freqbayes.inference.predict`); empty: they can.
    pads_rows : bool
        Fits pad the rows (:attr:`row_arguments`) to a shape bucket with a masked
        likelihood, so that data of nearby sizes share one compiled program
        (:mod:`freqbayes.inference.probabilistic.rows`). Declared by every built-in
        model whose parameters do not grow with n; False keeps each n its own shape.
    """

    name: str
    program: Callable[..., None]
    observed: str
    uses_X: bool = True
    outcome: Callable[[np.ndarray], np.ndarray] | None = None
    prior_types: Mapping[str, tuple[type, ...]] = field(default_factory=dict)
    roles: Roles | None = None
    check: Callable[[str, dict[str, np.ndarray], dict[str, Any]], None] | None = None
    dims: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    default_data: str | Callable[[], Dataset] | None = None
    about: str = ""
    lesson: Lesson | None = None
    methods: tuple[str, ...] | None = None
    kernels: Mapping[str, str] = field(default_factory=dict)
    no_prediction: str = ""
    pads_rows: bool = False

    @property
    def row_arguments(self) -> tuple[str, ...]:
        """The data arguments with one row per observation (padded when :attr:`pads_rows`)."""
        return (self.observed, "X", "group_index", "group_design")

    @property
    def accepts_groups(self) -> bool:
        """Whether the program takes group-level terms (:mod:`.groups`)."""
        return "group_index" in inspect.signature(self.program).parameters

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
            s = scaling.scaling_of(self.roles, args, centred=intercept)
            out.update(scaling.autoscaled_priors(self.roles, s))
            if self.accepts_groups:
                out["group_sd_prior"] = groups.default_prior(args, float(s.y_scale))
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
            if key == "group_sd_prior" and "group_design" in args:
                size = int(np.shape(args["group_design"])[1])
            priors.check_prior(value, self.prior_types[key], f"priors[{key!r}]", size)
        out = self.default_priors(args, intercept=self.has_intercept(overrides)) | overrides
        if self.roles is not None and self.roles.weights is not None:
            s = scaling.scaling_of(self.roles, args, centred=self.has_intercept(out))
            n = int(np.shape(args[self.roles.y])[0])
            out = scaling.complete_horseshoe(self.roles, s, out, n)
        missing = [k for k in self.prior_names if k not in out]
        if missing:
            raise ValueError(f"priors: {self.name!r} needs {', '.join(missing)} (no default)")
        if self.accepts_groups and "group_index" not in args:
            out.pop("group_sd_prior", None)  # no group-level terms: no such prior, none listed
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
            y = as_finite_array(y, self.observed, 1)
        else:
            X, y = check_X_y(X, y, self.observed, keep_float32=True)  # no copy of a big table
        if self.outcome is not None:
            y = self.outcome(y)
        return {self.observed: y} if not self.uses_X else {"X": X, self.observed: y}

    def canonical_draws(self, posterior: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The draws (chain, draw, ...) in one labelling of equivalent modes; here unchanged.

        A model whose parameters can be permuted without changing the density (a
        mixture's components) orders them here, so that r̂ and summaries mean something.
        """
        return dict(posterior)

    def data_arguments(self, data: Dataset) -> dict[str, np.ndarray]:
        """Check ``data`` and return the program's data arguments (:meth:`arguments`).

        Group-level terms of a formula (:mod:`.groups`) add their arrays.
        """
        return {**self.arguments(data.X, data.y), **self.group_arguments(data)}

    def prediction_inputs(
        self, X: np.ndarray, names: list[str], rows: Any
    ) -> tuple[np.ndarray, list[str], dict[str, np.ndarray]]:
        """New rows' design, its column names and the program's other inputs.

        ``rows`` are the new rows as given (a table, or the matrix ``X``). A model whose
        program takes more than X per row (the binomial's trials) takes them out here.
        """
        return X, names, {}

    def group_arguments(self, data: Dataset) -> dict[str, np.ndarray]:
        """The arrays of a formula's group-level terms (:mod:`.groups`); none without.

        A model whose program takes none refuses them in one line.
        """
        if "group_index" not in data.inputs:
            return {}
        if not self.accepts_groups:
            raise ValueError(f"formula: model {self.name!r} takes no group-level terms")
        return {k: np.asarray(v) for k, v in data.inputs.items()}

    def simulation_inputs(self, n: int) -> tuple[tuple[str, int], ...]:
        """Static arguments for simulating n observations: ``n`` itself for a model without X."""
        return () if self.uses_X else (("n", n),)

    def coords(self, data: Dataset, n: int) -> tuple[dict[str, list[str]], dict[str, Any]]:
        """ArviZ dims and coords: observations along ``obs``, vector parameters as declared."""
        import pandas as pd

        dims = {self.observed: ["obs"], **{k: list(v) for k, v in self.dims.items()}}
        # a RangeIndex: an array 0..n-1 was copied into each group's index (pandas copies
        # arrays into an Index), 8 MiB a group at 10⁶ rows; written, the values are the same
        coords: dict[str, Any] = {"obs": pd.RangeIndex(n)}
        if self.uses_X:
            dims["X"] = ["obs", "feature"]
        if data.X is not None:
            d = data.X.shape[1]
            coords["feature"] = list(data.feature_names or tuple(f"x{j}" for j in range(d)))
        if "group_state" in data.attrs:
            more_dims, more_coords = groups.coords(data.attrs["group_state"])
            dims.update(more_dims)
            coords.update(more_coords)
        return dims, coords
