"""What every fitting method shares: preparing a problem and turning draws into a DataTree.

Every method returns an ArviZ :class:`xarray.DataTree` with the same groups
(``posterior``, ``posterior_predictive``, ``log_likelihood``, ``observed_data``)
and dims, whose root attrs name the model, method, dataset, seed, settings and
the wall time of the fit. A point estimate is a posterior with one chain and one
draw, so ArviZ plots it beside a posterior.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import arviz as az
import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from numpyro.infer import Predictive
from numpyro.infer.util import log_likelihood

from freqbayes.data import Dataset
from freqbayes.models import Model, get_model


@dataclass(frozen=True)
class BoundProgram:
    """A NumPyro program with keyword priors bound, equal and hashable by value.

    Unlike ``functools.partial``, two bindings of the same priors compare equal,
    so a jitted function that takes it as a static argument compiles once.
    """

    fn: Callable[..., None]
    priors: tuple[tuple[str, Any], ...]

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        """Run the program with the bound priors."""
        return self.fn(*args, **dict(self.priors), **kwargs)


@dataclass(frozen=True)
class Problem:
    """A model, its data and its priors, ready for any fitting method.

    Attributes
    ----------
    model : Model
        The registered model.
    data : Dataset
        The data.
    priors : dict
        The resolved priors (defaults updated with the user's).
    args : dict
        The program's data arguments as JAX arrays (``X`` and ``y``, or ``x``).
    """

    model: Model
    data: Dataset
    priors: dict[str, Any]
    args: dict[str, jnp.ndarray]

    @property
    def program(self) -> BoundProgram:
        """The NumPyro program with the priors bound (hashable: a static argument of ``jit``)."""
        return BoundProgram(self.model.program, tuple(sorted(self.priors.items())))

    @property
    def inputs(self) -> dict[str, jnp.ndarray]:
        """The program's arguments without the observed values (for prediction)."""
        if not self.model.uses_X:
            return {"n": self.n}
        return {k: v for k, v in self.args.items() if k != self.model.observed}

    @property
    def n(self) -> int:
        """Number of observations."""
        return int(self.args[self.model.observed].shape[0])

    def dims(self) -> dict[str, list[str]]:
        """ArviZ dims: weights along ``feature``, observations along ``obs``."""
        dims = {self.model.observed: ["obs"]}
        if self.model.uses_X:
            dims["beta"] = ["feature"]
        return dims

    def coords(self) -> dict[str, Any]:
        """ArviZ coords for :meth:`dims`."""
        coords: dict[str, Any] = {"obs": np.arange(self.n)}
        if self.model.uses_X:
            d = self.args["X"].shape[1]
            names = self.data.feature_names or tuple(f"x{j}" for j in range(d))
            coords["feature"] = list(names)
        return coords


def float_dtype() -> jnp.dtype:
    """JAX's default float type: float32, or float64 under ``jax_enable_x64``."""
    return jnp.result_type(float)


def prepare(model: Model | str, data: Dataset, priors: Mapping[str, Any] | None = None) -> Problem:
    """Check the data and priors for ``model`` and return a :class:`Problem`."""
    model = get_model(model) if isinstance(model, str) else model
    arrays = model.arguments(data.X, data.y)
    dtype = float_dtype()
    args = {k: jnp.asarray(v, dtype=dtype) for k, v in arrays.items()}
    return Problem(model, data, model.resolve_priors(priors), args)


def check_positive_ints(**values: Any) -> None:
    """Raise a ``ValueError`` naming the first argument that is not a positive integer."""
    for argname, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{argname} must be a positive integer; got {value!r}")


def progress_enabled(progress: bool | None) -> bool:
    """Progress bars: on when asked, or by default only when stderr is a terminal."""
    return sys.stderr.isatty() if progress is None else bool(progress)


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """Measure wall time; the elapsed seconds are in ``box[0]`` after the block."""
    box = [0.0]
    start = time.perf_counter()
    try:
        yield box
    finally:
        box[0] = time.perf_counter() - start


def _grouped(flat: Mapping[str, Any], chains: int, draws: int) -> dict[str, np.ndarray]:
    """Reshape arrays with a leading chains·draws axis to (chain, draw, ...)."""
    return {k: np.asarray(v).reshape((chains, draws, *np.shape(v)[1:])) for k, v in flat.items()}


def predictive_groups(
    problem: Problem, flat: Mapping[str, Any], key: jax.Array, chains: int, draws: int
) -> dict[str, dict[str, np.ndarray]]:
    """Posterior-predictive draws and pointwise log-likelihood for flat parameter draws."""
    flat = {k: jnp.asarray(v) for k, v in flat.items()}
    obs = problem.model.observed
    predictive = Predictive(problem.program, posterior_samples=flat, return_sites=[obs])
    pp = predictive(key, **problem.inputs)
    ll = log_likelihood(problem.program, flat, **problem.args)
    return {
        "posterior_predictive": _grouped({obs: pp[obs]}, chains, draws),
        "log_likelihood": _grouped({obs: ll[obs]}, chains, draws),
    }


def _json(value: Any) -> str:
    return json.dumps(value, default=repr, sort_keys=True)


def fit_attrs(
    problem: Problem, method: str, seed: int, settings: Mapping[str, Any], wall_time: float
) -> dict[str, Any]:
    """The attrs every fit records: model, method, dataset, seed, settings, wall time."""
    attrs: dict[str, Any] = {
        "model": problem.model.name,
        "method": method,
        "dataset": problem.data.name,
        "seed": int(seed),
        "settings": _json(dict(settings)),
        "priors": _json({k: repr(v) for k, v in problem.priors.items()}),
        "wall_time_s": float(wall_time),
        "float_dtype": str(float_dtype()),
        "n_obs": problem.n,
    }
    for key, value in problem.data.attrs.items():
        attrs[f"data_{key}"] = value
    return attrs


def draws_to_datatree(
    problem: Problem,
    flat: Mapping[str, Any],
    *,
    chains: int,
    draws: int,
    key: jax.Array,
    method: str,
    seed: int,
    settings: Mapping[str, Any],
    wall_time: float,
    extra_groups: Mapping[str, Mapping[str, Any]] | None = None,
) -> xr.DataTree:
    """Build the DataTree of a fit from flat parameter draws (leading axis chains·draws).

    Used for point estimates (``chains = draws = 1``) and approximate posteriors.
    """
    sites = [s for s in flat if s != problem.model.observed]
    groups: dict[str, Any] = {
        "posterior": _grouped({s: flat[s] for s in sites}, chains, draws),
        **predictive_groups(problem, {s: flat[s] for s in sites}, key, chains, draws),
        "observed_data": {problem.model.observed: np.asarray(problem.args[problem.model.observed])},
    }
    groups.update(extra_groups or {})
    tree = az.from_dict(groups, dims=problem.dims(), coords=problem.coords())
    tree.attrs.update(fit_attrs(problem, method, seed, settings, wall_time))
    return tree
