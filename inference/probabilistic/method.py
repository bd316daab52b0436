"""A fitting method: a pure kernel under one template.

A method is a declaration (:class:`Method`) around a pure kernel
``run(problem, key, settings) -> Draws``. The template, :meth:`Method.fit`, owns
what every method needs and none should repeat:

1. the seed and the declared settings are checked (``constraints``, as
   scikit-learn's ``_parameter_constraints``), unknown settings refused;
2. the model and data become a :class:`~freqbayes.inference.probabilistic.problem.Problem`
   (:func:`~freqbayes.inference.probabilistic.problem.prepare`); a method that needs
   features refuses a model without; the estimate is checked to exist
   (``problem.check(method.check)``); ``setup`` may change the problem (whitening);
3. the seed's key is split: ``keys`` keys for the kernel, the last one for the
   posterior-predictive and prior draws;
4. the kernel runs under a stopwatch and returns :class:`Draws`: arrays of shape
   (chain, draw, ...) in the user's units and what it records;
5. the DataTree is built from the arrays' shapes
   (:func:`~freqbayes.inference.probabilistic.datatree.build_datatree`): the settings
   attr holds every declared setting, the kernel's record and ``num_chains``,
   ``num_samples`` read from the shapes; frequentist groups are attached
   (:func:`~freqbayes.inference.probabilistic.frequentist.attach`);
6. Markov chains (``diagnose``) get r̂ and ESS in the attrs and a warning when they
   should not be trusted.

The flags the rest of the package reads live on the declaration: ``kind``,
``uses_prior``, ``needs_features``, ``quick`` (the showcase's ``--quick`` and the
tests), ``calibration`` (how simulation-based calibration calls it: None where the
draws are not a posterior). Methods are found through
:data:`freqbayes.inference.registry.METHODS`; :func:`freqbayes.register_method` adds
one. CONTRIBUTING.md lists the contracts a method meets;
``tests/test_method_contract.py`` checks every registered method against them.

Longer than 400 lines: the template, the declaration it reads and the small setting
checks every method shares are one piece (what each method no longer repeats).
"""

from __future__ import annotations

import json
import numbers
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import jax
import numpy as np
import xarray as xr

from freqbayes.inference.compilation import release_memory
from freqbayes.inference.probabilistic import frequentist as F
from freqbayes.inference.probabilistic.datatree import PRIOR_DRAWS, build_datatree
from freqbayes.inference.probabilistic.problem import (
    Problem,
    check_positive_ints,
    check_seed,
    prepare,
    stopwatch,
)
from freqbayes.models.checks import check_positive
from freqbayes.models.registry import get_model

#: What a method returns: a point estimate (one chain, one draw) or draws from a distribution.
KINDS = ("point", "draws")


class Draws(NamedTuple):
    """What a kernel returns: arrays, and what it records.

    Attributes
    ----------
    posterior : mapping of str to array
        Every parameter, shape (chain, draw, ...), in the user's units (a point
        estimate: one chain, one draw).
    record : mapping
        What the fit found (iterations, convergence, ...), recorded in the attr
        ``settings`` beside the declared settings; an entry here overrides the
        setting of the same name (e.g. a step size chosen from the data).
    sample_stats : mapping, optional
        Per-draw statistics (chain, draw), ArviZ's names.
    groups : mapping of str to Dataset, optional
        Groups attached to the tree (the frequentist ``estimate``,
        ``confidence_interval``, ``std_error``), with ``note`` saying what the
        draws are (:func:`~freqbayes.inference.probabilistic.frequentist.attach`).
    note : str, optional
        See ``groups``.
    """

    posterior: Mapping[str, Any]
    record: Mapping[str, Any] = {}
    sample_stats: Mapping[str, Any] | None = None
    groups: Mapping[str, xr.Dataset] | None = None
    note: str | None = None


def as_chains(flat: Mapping[str, Any], chains: int, draws: int) -> dict[str, np.ndarray]:
    """Draws with a leading axis chains·draws reshaped to (chain, draw, ...)."""
    return {k: np.asarray(v).reshape((chains, draws, *np.shape(v)[1:])) for k, v in flat.items()}


def as_point(params: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """A point estimate as one chain of one draw."""
    return {k: np.asarray(v)[None, None] for k, v in params.items()}


# --- declared constraints: check(name, value) raises a one-line ValueError ---------------


def positive_int(name: str, value: Any) -> None:
    """An integer >= 1 (not a bool)."""
    check_positive_ints(**{name: value})


def positive(name: str, value: Any) -> None:
    """A finite real number > 0 (not a bool)."""
    check_positive(value, name)


def non_negative(name: str, value: Any) -> None:
    """A finite real number ≥ 0 (not a bool)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not (ok and np.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")


def boolean(name: str, value: Any) -> None:
    """True or False (1 and 0 compare equal to them and pass)."""
    if value not in (True, False):
        raise ValueError(f"{name} must be True or False; got {value!r}")


def one_of(*choices: Any) -> Callable[[str, Any], None]:
    """One of ``choices``."""

    def check(name: str, value: Any) -> None:
        if value not in choices:
            raise ValueError(f"{name} must be one of {', '.join(map(str, choices))}; got {value!r}")

    return check


def in_open_interval(low: float, high: float) -> Callable[[str, Any], None]:
    """A real number in (low, high)."""

    def check(name: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not low < value < high:
            raise ValueError(f"{name} must be in ({low:g}, {high:g}); got {value!r}")

    return check


def optional(check: Callable[[str, Any], None]) -> Callable[[str, Any], None]:
    """None, or what ``check`` accepts."""

    def maybe(name: str, value: Any) -> None:
        if value is not None:
            check(name, value)

    return maybe


def _check_prior_draws(prior_draws: Any) -> None:
    if isinstance(prior_draws, bool) or not isinstance(prior_draws, int) or prior_draws < 0:
        raise ValueError(f"prior_draws must be an integer >= 0; got {prior_draws!r}")


class Budget(NamedTuple):
    """How large one fit of a simulation-based calibration may be.

    Attributes
    ----------
    draws : int
        L, the draws ranked per data set.
    warmup, thin : int
        Warm-up iterations and iterations per kept draw of an exact MCMC kernel.
    steps : int
        Optimisation steps of a stochastic optimiser (SVI).
    sg_warmup, sg_thin : int
        The same for a stochastic-gradient MCMC (SGLD), whose updates are cheaper
        and smaller.
    """

    draws: int
    warmup: int
    thin: int
    steps: int
    sg_warmup: int
    sg_thin: int


@dataclass(frozen=True)
class Method:
    """A fitting method: its pure kernel and its declaration.

    Attributes
    ----------
    name : str
        Registry name (``freqbayes run MODEL --method NAME``).
    run : callable
        The kernel, ``run(problem, key, settings) -> Draws``: pure (no checks, no
        DataTree), the same key giving the same draws.
    settings : type
        A NamedTuple of the method's own settings and their defaults: the keywords
        :meth:`fit` takes besides ``seed``, ``priors``, ``pointwise``,
        ``prior_draws`` and ``progress`` (a field ``progress`` gets the latter).
    kind : {"point", "draws"}
        A point estimate or draws (a posterior, an approximation of one, or a
        sampling distribution).
    about : str
        One line for listings and the report.
    constraints : mapping
        Setting → ``check(name, value)`` raising a one-line ``ValueError``
        (:func:`positive_int`, :func:`positive`, :func:`one_of`, ...).
    defaults : mapping
        Defaults that differ from ``settings``' (one kernel, two registered methods).
    needs_features : bool
        Applies only to models with a design matrix (e.g. SGLD subsamples rows of X).
    quick : mapping
        Smaller settings for quick runs (tests, ``freqbayes run all --quick``).
    check : str, optional
        What must exist before the kernel runs (``problem.check``): "posterior"
        (a proper posterior), or None where the kernel checks (point estimates).
    keys : int
        Keys the kernel takes: 0 (no key: the kernel gets the seed itself, an int,
        for a library that takes one (EM's k-means start); the seed's key is the
        predictive key), 1 (a key) or more (a tuple of keys); split from the seed's
        key with the predictive key last.
    uses_prior : bool or callable
        Whether the estimate uses the prior (else the tree has no prior groups); a
        callable of the settings where a setting decides (``estimator``).
    independent : bool
        The draws are independent (not Markov chains): r̂ and ESS say nothing.
    diagnose : bool
        Markov chains whose r̂, ESS and divergences are checked after the fit (attr
        ``draw_diagnostics``, and a warning when they should not be trusted).
    advice : str
        What to do when ``diagnose`` warns.
    setup : callable, optional
        ``setup(problem, settings) -> problem`` before the kernel (whitening).
    label : callable, optional
        ``label(settings) -> str``: the attr ``method`` where it is not the name.
    calibration : callable, optional
        ``calibration(budget) -> settings`` of one fit of a simulation-based
        calibration (:class:`Budget`); None: the draws are not a posterior.
    general : bool
        Applies to any model (True), or only to the models whose declaration names it
        (``Model.methods``; ``em`` is the mixture's).
    in_all : bool
        Part of ``--method all`` (True), or run only when named: a method made for data
        too large for the others (``hmcecs``) adds nothing on the teaching data sets
        but its compile time.
    streams : callable, optional
        The kernel for a table read chunk by chunk (``problem.streamed``: the data hold a
        sample of its rows, :func:`~freqbayes.inference.probabilistic.shares.read_streamed`),
        with :attr:`run`'s signature; None: the method needs every row in memory, and
        such data are refused. Its fits store no pointwise, prior or observed groups:
        their rows are never in one place.
    """

    name: str
    run: Callable[[Problem, Any, Any], Draws]
    settings: type
    kind: str = "draws"
    about: str = ""
    constraints: Mapping[str, Callable[[str, Any], None]] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    needs_features: bool = False
    quick: Mapping[str, Any] = field(default_factory=dict)
    check: str | None = "posterior"
    keys: int = 1
    uses_prior: bool | Callable[[Any], bool] = True
    independent: bool = False
    diagnose: bool = False
    advice: str = ""
    setup: Callable[[Problem, Any], Problem] | None = None
    label: Callable[[Any], str] | None = None
    calibration: Callable[[Budget], Mapping[str, Any]] | None = None
    general: bool = True
    in_all: bool = True
    streams: Callable[[Problem, Any, Any], Draws] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Method.kind must be one of {KINDS}; got {self.kind!r}")
        fields = getattr(self.settings, "_fields", None)
        if fields is None:
            raise TypeError(f"Method.settings must be a NamedTuple class; got {self.settings!r}")
        unknown = set(self.constraints).union(self.defaults, self.quick).difference(fields)
        if unknown:
            raise ValueError(f"{self.name}: settings {sorted(unknown)} are not in {fields}")

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

    def takes(self, setting: str) -> bool:
        """Whether ``setting`` is one of this method's own settings."""
        return setting in self.settings._fields and setting != "progress"

    def prior_used(self, settings: Any) -> bool:
        """Whether a fit with ``settings`` uses the prior."""
        return self.uses_prior(settings) if callable(self.uses_prior) else bool(self.uses_prior)

    def configure(self, **given: Any) -> Any:
        """The settings: the defaults updated by ``given``, each checked; unknown ones refused."""
        unknown = sorted(set(given).difference(self.settings._fields))
        if unknown:
            known = ", ".join(f for f in self.settings._fields if f != "progress")
            raise TypeError(f"{self.name}: unknown settings {unknown}; it takes {known}")
        settings = self.settings(**{**self.defaults, **given})
        for name, check in self.constraints.items():
            check(name, getattr(settings, name))
        return settings

    def fit(
        self,
        model: Any,
        data: Any,
        *,
        seed: int = 0,
        priors: Mapping[str, Any] | None = None,
        pointwise: str | int = "auto",
        prior_draws: int = PRIOR_DRAWS,
        progress: bool | None = None,
        release_programs: bool = False,
        **given: Any,
    ) -> xr.DataTree:
        """Fit ``model`` to ``data``: the template around the kernel (see the module).

        Parameters
        ----------
        model, data
            Any form :func:`~freqbayes.inference.probabilistic.problem.prepare` takes.
        seed : int
            Seed of every random draw; the same seed gives the same tree.
        priors : mapping, optional
            Overrides of the model's default priors.
        pointwise : "auto", "all", "none" or int
            What to store of the pointwise groups
            (:func:`~freqbayes.inference.probabilistic.datatree.build_datatree`).
        prior_draws : int
            Draws of the ``prior`` groups (0: none).
        progress : bool, optional
            A progress bar, for a kernel that has one (a setting ``progress``).
        release_programs : bool
            Once the kernel has run, drop JAX's compiled programs and give the freed
            memory to the system before the DataTree is built
            (:func:`~freqbayes.inference.compilation.release_memory`): for a process that
            fits once on big data (the command line); a later fit compiles again or reads
            the persistent cache. A model's own algorithm for the method (``Model.kernels``)
            does not take it.
        **given
            The method's own settings (:attr:`settings`).
        """
        seed = check_seed(seed)
        _check_prior_draws(prior_draws)
        if isinstance(model, str):
            model = get_model(model)
        share = getattr(data, "share", None)
        if share is not None and share.stream:  # a table read in chunks (.shares.read_streamed)
            if self.streams is None:
                raise ValueError(
                    f"{self.name} needs every row in memory; a table read in chunks (stream) "
                    "is fitted by minibatch SVI: svi with batch_size"
                )
            if pointwise not in ("auto", "none"):
                raise ValueError(
                    f"pointwise: {pointwise!r}: a table read in chunks is never in one place, "
                    "so its fits store no pointwise groups ('auto' or 'none')"
                )
            pointwise = "none"
            if model_kernel(model, self.name) is not None:
                raise ValueError(
                    f"model {model.name!r} fits {self.name} with its own algorithm, which "
                    "needs every row in memory: read the table whole (without stream)"
                )
        own = model_kernel(model, self.name)
        if own is not None:  # the model's own algorithm for this method (Model.kernels)
            return own(
                model,
                data,
                seed=seed,
                priors=priors,
                pointwise=pointwise,
                progress=progress,
                **given,
            )
        if "progress" in self.settings._fields:
            given["progress"] = progress
        settings = self.configure(**given)
        problem = prepare(model, data, priors)
        if self.needs_features and not problem.model.uses_X:
            raise ValueError(
                f"model: {self.name} needs a model with features X; {problem.model.name!r} has none"
            )
        # the existence checks need every row: a streamed fit finds the mode by Newton's
        # method over all of them, or says it did not (svi_stream.streamed_mode)
        if self.check is not None and not problem.streamed:
            problem.check(self.check)
        run = self.streams if problem.streamed and self.streams is not None else self.run
        if self.setup is not None:
            problem = self.setup(problem, settings)
        root = jax.random.key(seed)
        if self.keys == 0:
            key, key_pred = seed, root
        else:
            *keys, key_pred = jax.random.split(root, self.keys + 1)
            key = keys[0] if self.keys == 1 else tuple(keys)
        with stopwatch() as elapsed:
            out = run(problem, key, settings)
        if release_programs:
            release_memory()
        chains, draws = next(iter(out.posterior.values())).shape[:2]
        record = {k: v for k, v in settings._asdict().items() if k != "progress"}
        record.update(out.record)
        record.update(num_chains=int(chains), num_samples=int(draws))
        tree = build_datatree(
            problem,
            {k: v for k, v in out.posterior.items() if k != problem.model.observed},
            key=key_pred,
            method=self.label(settings) if self.label else self.name,
            seed=seed,
            settings=record,
            wall_time=elapsed[0],
            sample_stats=out.sample_stats,
            pointwise=pointwise,
            prior_draws=prior_draws,
            independent=self.independent,
            uses_prior=self.prior_used(settings),
        )
        if out.groups is not None:
            tree = F.attach(tree, out.groups, out.note or "")
        if self.diagnose:
            self._diagnose(tree, problem)
        return tree

    def _diagnose(self, tree: xr.DataTree, problem: Problem) -> None:
        from freqbayes.inference.diagnostics import DRAW_DIAGNOSTICS, draw_diagnostics
        from freqbayes.inference.diagnostics import warnings as diagnostics_warnings

        tree.attrs[DRAW_DIAGNOSTICS] = json.dumps(draw_diagnostics(tree))
        problems = diagnostics_warnings(tree)
        if problems:
            warnings.warn(
                f"{problem.model.name}: {self.name.upper()}: {'; '.join(problems)}: do not "
                f"trust these draws ({self.advice})",
                RuntimeWarning,
                stacklevel=3,
            )


def model_kernel(model: Any, method: str) -> Callable[..., Any] | None:
    """The model's own algorithm for ``method`` (``Model.kernels``), imported; None if none."""
    spec = getattr(model, "kernels", {}).get(method)
    if spec is None:
        return None
    from importlib import import_module

    module, _, attribute = spec.partition(":")
    return getattr(import_module(module), attribute)
