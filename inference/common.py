"""What every fitting method shares: the problem, its coordinates, and the DataTree of a fit.

**Coordinates.** Every method (optimisers and samplers alike) works on the
unconstrained parameters u of the *scaled* problem: features and outcome centred
and scaled (:mod:`freqbayes.models.scaling`), positive parameters on the log
scale. There the posterior is roughly isotropic whatever the units of the data,
and u = 0 is the intercept-only fit. :class:`Target` maps u to the program's own
unconstrained coordinates z by an affine map, so the density of u is the density
of z times a constant: modes and posteriors are exactly those of the program as
written, in the user's units. A model without roles is fitted in its own
coordinates (u = z).

**DataTrees.** Every method returns an ArviZ :class:`xarray.DataTree` with the same
groups (``posterior``, ``posterior_predictive``, ``log_likelihood``,
``observed_data``) and dims, whose root attrs name the model, method, dataset,
seed, settings, the scaling of the data and the wall time of the fit. A point
estimate is a posterior with one chain and one draw. The pointwise groups
(predictive and log-likelihood, draws × n values each) are bounded: by default
at most :data:`POINTWISE_BUDGET` values per group, the draws thinned evenly to
fit, and computed in blocks so that memory stays bounded too.
"""

from __future__ import annotations

import functools
import json
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

import arviz as az
import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from numpyro.distributions.transforms import biject_to
from numpyro.handlers import seed as seed_handler
from numpyro.handlers import substitute, trace
from numpyro.infer.util import constrain_fn, log_likelihood, potential_energy

from freqbayes.data import Dataset
from freqbayes.models import Model, get_model, scaling
from freqbayes.models.priors import describe
from freqbayes.models.scaling import Roles, Scaling

#: Largest number of values stored per pointwise group (draws × observations) by default.
POINTWISE_BUDGET = 20_000_000

#: What to store of the pointwise groups: every draw, a bounded number (auto), or none.
POINTWISE_CHOICES = ("auto", "all", "none")


class Target(NamedTuple):
    """The static half of a problem (hashable: a static argument of ``jit``).

    The traced half is the program's keyword arguments (data arrays and priors,
    whose hyper-parameters are leaves of the pytree) and the :class:`Scaling`.

    Attributes
    ----------
    program : callable
        The NumPyro program.
    roles : Roles or None
        Parameter roles for the scaled coordinates (None: the program's own).
    observed : str
        Name of the observed site.
    """

    program: Callable[..., None]
    roles: Roles | None
    observed: str

    def to_user(self, s: Scaling | None, u: Mapping[str, Any]) -> dict[str, Any]:
        """Unconstrained values u (scaled coordinates) → z (the program's coordinates)."""
        return dict(u) if self.roles is None else scaling.to_user(self.roles, s, u)

    def from_user(self, s: Scaling | None, z: Mapping[str, Any]) -> dict[str, Any]:
        """z → u, the inverse of :meth:`to_user`."""
        return dict(z) if self.roles is None else scaling.from_user(self.roles, s, z)

    def potential(self, kwargs: Mapping[str, Any], s: Scaling | None, u: Mapping[str, Any]):
        """−log p(θ, y) as a density of u (the Jacobian of θ(u) included, up to a constant)."""
        return potential_energy(self.program, (), kwargs, self.to_user(s, u))

    def constrain(self, kwargs: Mapping[str, Any], s: Scaling | None, u: Mapping[str, Any]):
        """The parameters θ(u) in the user's units (the program's sample sites)."""
        return constrain_fn(self.program, (), kwargs, self.to_user(s, u))

    def log_density(
        self,
        kwargs: Mapping[str, Any],
        s: Scaling | None,
        u: Mapping[str, Any],
        include_prior: bool,
    ) -> jnp.ndarray:
        """log p(y | θ) [+ log p(θ)] as a density of the constrained θ(u): no Jacobian.

        Maximised over u this gives the MLE or the MAP of θ itself (σ, not log σ):
        with flat priors the MAP is the MLE and the Gaussian σ̂² the biased 1/n variance.
        """
        params = self.constrain(kwargs, s, u)
        tr = trace(substitute(self.program, data=params)).get_trace(**kwargs)
        total = jnp.zeros(())
        for site in tr.values():
            if site["type"] == "sample" and (include_prior or site["is_observed"]):
                total = total + jnp.sum(site["fn"].log_prob(site["value"]))
        return total


def _placeholder(site: Mapping[str, Any]) -> jnp.ndarray | None:
    """A feasible value for a latent site (its shape is all that is needed)."""
    if site["type"] != "sample" or site.get("is_observed"):
        return None
    fn = site["fn"]
    return fn.support.feasible_like(jnp.zeros(fn.shape()))


def latent_shapes(program: Callable[..., None], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Shapes and dtypes of the unconstrained latent sites, by ``jax.eval_shape`` (no compile)."""

    def unconstrained(kw: Mapping[str, Any]) -> dict[str, jnp.ndarray]:
        model = substitute(seed_handler(program, 0), substitute_fn=_placeholder)
        tr = trace(model).get_trace(**kw)
        return {
            name: biject_to(site["fn"].support).inv(site["value"])
            for name, site in tr.items()
            if site["type"] == "sample" and not site["is_observed"]
        }

    return jax.eval_shape(unconstrained, dict(kwargs))


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
        The resolved priors (autoscaled defaults updated with the user's).
    arrays : dict
        The program's checked data arguments as float64 numpy arrays.
    args : dict
        The same as JAX arrays in JAX's float type.
    scaling : Scaling or None
        Centres and scales of the data (JAX arrays), or None for a model without roles.
    """

    model: Model
    data: Dataset
    priors: dict[str, Any]
    arrays: dict[str, np.ndarray]
    args: dict[str, jnp.ndarray]
    scaling: Scaling | None

    @property
    def target(self) -> Target:
        """The static half: program, roles, observed site."""
        return Target(self.model.program, self.model.roles, self.model.observed)

    @property
    def kwargs(self) -> dict[str, Any]:
        """Every keyword argument of the program: data and priors."""
        return {**self.args, **self.priors}

    @property
    def inputs(self) -> dict[str, Any]:
        """The program's traced arguments without the observed values (for prediction)."""
        return {k: v for k, v in self.kwargs.items() if k != self.model.observed}

    @property
    def static_inputs(self) -> tuple[tuple[str, int], ...]:
        """Static arguments for prediction: the number of observations of a model without X."""
        return () if self.model.uses_X else (("n", self.n),)

    @property
    def n(self) -> int:
        """Number of observations."""
        return int(self.args[self.model.observed].shape[0])

    def check(self, kind: str) -> None:
        """Raise a named error if the estimate of ``kind`` does not exist on these data.

        ``kind`` is "likelihood", "mode" or "posterior"; the error is an
        :class:`~freqbayes.models.existence.EstimateError`.
        """
        if self.model.check is not None:
            self.model.check(kind, self.arrays, self.priors)

    def latent_shapes(self) -> dict[str, Any]:
        """Shapes of the unconstrained latent sites."""
        return latent_shapes(self.model.program, self.kwargs)

    def zeros(self) -> dict[str, jnp.ndarray]:
        """u = 0: the intercept-only fit in the scaled coordinates."""
        return {k: jnp.zeros(v.shape, v.dtype) for k, v in self.latent_shapes().items()}

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
    resolved = model.resolve_priors(priors, arrays)
    dtype = float_dtype()
    args = {k: jnp.asarray(v, dtype=dtype) for k, v in arrays.items()}
    s = model.scaling(arrays, resolved)
    if s is not None:
        s = jax.tree.map(lambda a: jnp.asarray(a, dtype=dtype), s)
    return Problem(model, data, resolved, arrays, args, s)


def check_positive_ints(**values: Any) -> None:
    """Raise a ``ValueError`` naming the first argument that is not a positive integer."""
    for argname, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{argname} must be a positive integer; got {value!r}")


def check_seed(seed: Any) -> int:
    """The seed as an int that ``jax.random.key`` accepts, or a clear ``ValueError``."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ValueError(f"seed must be an integer; got {seed!r}")
    if not 0 <= int(seed) < 2**63:
        raise ValueError(f"seed must be an integer in [0, 2**63); got {seed}")
    return int(seed)


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


def initial_points(
    problem: Problem,
    key: jax.Array,
    num_chains: int,
    radius: float = 2.0,
) -> dict[str, jnp.ndarray]:
    """Starts of the chains: u uniform in [−radius, radius] (NumPyro's default), per chain."""
    shapes = problem.latent_shapes()
    keys = jax.random.split(key, len(shapes))
    return {
        name: jax.random.uniform(k, (num_chains, *v.shape), v.dtype, -radius, radius)
        for k, (name, v) in zip(keys, sorted(shapes.items()), strict=True)
    }


@functools.partial(jax.jit, static_argnames=("target",))
def _constrain_many(target: Target, kwargs: Any, s: Any, u: Any) -> dict[str, jnp.ndarray]:
    return jax.vmap(lambda one: target.constrain(kwargs, s, one))(u)


def constrained_draws(problem: Problem, u: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Map draws of u (leading axis: draws) to the parameters in the user's units."""
    out = _constrain_many(problem.target, problem.kwargs, problem.scaling, dict(u))
    return {k: np.asarray(v) for k, v in out.items()}


@functools.partial(jax.jit, static_argnames=("program", "observed", "static"))
def _pointwise_block(
    program: Callable[..., None],
    observed: str,
    static: tuple[tuple[str, int], ...],
    params: Mapping[str, jnp.ndarray],
    key: jax.Array,
    kwargs: Mapping[str, Any],
    inputs: Mapping[str, Any],
) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Posterior-predictive draws and pointwise log-likelihood for a block of draws."""
    keys = jax.random.split(key, next(iter(params.values())).shape[0])

    def one(p: Mapping[str, jnp.ndarray], k: jax.Array) -> jnp.ndarray:
        model = substitute(seed_handler(program, k), data=p)
        tr = trace(model).get_trace(**inputs, **dict(static))
        return tr[observed]["value"]

    pp = jax.vmap(one)(params, keys)
    ll = log_likelihood(program, params, **kwargs)[observed]
    return pp, ll


def _keep_draws(chains: int, draws: int, n: int, pointwise: str | int) -> np.ndarray | None:
    """Indices of the draws (per chain) whose pointwise values are stored; None: none."""
    if pointwise == "none":
        return None
    if pointwise == "all":
        return np.arange(draws)
    if pointwise == "auto":
        cap = max(1, POINTWISE_BUDGET // max(1, chains * n))
    elif isinstance(pointwise, int | np.integer) and not isinstance(pointwise, bool):
        if pointwise < 1:
            raise ValueError(f"pointwise must be >= 1 draws per chain; got {pointwise}")
        cap = int(pointwise)
    else:
        raise ValueError(
            f"pointwise must be one of {', '.join(POINTWISE_CHOICES)} or a number of draws; "
            f"got {pointwise!r}"
        )
    if cap >= draws:
        return np.arange(draws)
    return np.unique(np.linspace(0, draws - 1, cap).round().astype(int))


def pointwise_groups(
    problem: Problem,
    posterior: Mapping[str, np.ndarray],
    key: jax.Array,
    pointwise: str | int = "auto",
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, Any]]:
    """Posterior-predictive draws and pointwise log-likelihood, bounded in size and memory.

    ``posterior`` has (chain, draw, ...) arrays. Returns the groups and attrs saying
    which draws they hold.
    """
    chains, draws = next(iter(posterior.values())).shape[:2]
    keep = _keep_draws(chains, draws, problem.n, pointwise)
    if keep is None:
        return {}, {"pointwise_draws": "none"}
    flat = {
        k: np.asarray(v)[:, keep].reshape(chains * len(keep), *v.shape[2:])
        for k, v in posterior.items()
    }
    total = chains * len(keep)
    block = max(1, min(total, POINTWISE_BUDGET // 4 // max(1, problem.n)))
    pad = (-total) % block
    obs = problem.model.observed
    pps, lls = [], []
    for i, start in enumerate(range(0, total + pad, block)):
        part = {
            k: jnp.asarray(
                np.concatenate([v, np.repeat(v[-1:], pad, axis=0)])[start : start + block]
            )
            for k, v in flat.items()
        }
        pp, ll = _pointwise_block(
            problem.model.program,
            obs,
            problem.static_inputs,
            part,
            jax.random.fold_in(key, i),
            problem.kwargs,
            problem.inputs,
        )
        pps.append(np.asarray(pp))
        lls.append(np.asarray(ll))
    shape = (chains, len(keep), problem.n)
    groups = {
        "posterior_predictive": {obs: np.concatenate(pps)[:total].reshape(shape)},
        "log_likelihood": {obs: np.concatenate(lls)[:total].reshape(shape)},
    }
    desc = "all" if len(keep) == draws else f"{len(keep)} of {draws} per chain, evenly spaced"
    return groups, {"pointwise_draws": desc}


def _json(value: Any) -> str:
    return json.dumps(value, default=repr, sort_keys=True)


def _attr(value: Any) -> Any:
    """A value netCDF attrs can hold (tuples become arrays)."""
    return np.asarray(value, dtype=float) if isinstance(value, tuple) else value


def fit_attrs(
    problem: Problem, method: str, seed: int, settings: Mapping[str, Any], wall_time: float
) -> dict[str, Any]:
    """The attrs every fit records: model, method, dataset, seed, settings, scaling, wall time."""
    attrs: dict[str, Any] = {
        "model": problem.model.name,
        "method": method,
        "dataset": problem.data.name,
        "seed": int(seed),
        "settings": _json(dict(settings)),
        "priors": _json({k: repr(v) for k, v in problem.priors.items()}),
        "priors_described": _json(
            {k.removesuffix("_prior"): describe(v) for k, v in problem.priors.items()}
        ),
        "wall_time_s": float(wall_time),
        "float_dtype": str(float_dtype()),
        "n_obs": problem.n,
    }
    if problem.scaling is not None:
        attrs.update({f"fit_{k}": v for k, v in problem.scaling.as_attrs().items()})
    for key, value in problem.data.attrs.items():
        attrs[f"data_{key}"] = _attr(value)
    return attrs


def build_datatree(
    problem: Problem,
    posterior: Mapping[str, np.ndarray],
    *,
    key: jax.Array,
    method: str,
    seed: int,
    settings: Mapping[str, Any],
    wall_time: float,
    sample_stats: Mapping[str, np.ndarray] | None = None,
    pointwise: str | int = "auto",
) -> xr.DataTree:
    """The DataTree of a fit from its posterior draws, (chain, draw, ...) arrays in user units."""
    obs = problem.model.observed
    groups, attrs = pointwise_groups(problem, posterior, key, pointwise)
    groups = {
        "posterior": {k: np.asarray(v) for k, v in posterior.items()},
        **groups,
        "observed_data": {obs: np.asarray(problem.args[obs])},
    }
    if sample_stats:
        groups["sample_stats"] = dict(sample_stats)
    tree = az.from_dict(groups, dims=problem.dims(), coords=problem.coords())
    tree.attrs.update(fit_attrs(problem, method, seed, {**settings, **attrs}, wall_time))
    return tree


def draws_to_datatree(
    problem: Problem,
    flat: Mapping[str, Any],
    *,
    chains: int,
    draws: int,
    **kwargs: Any,
) -> xr.DataTree:
    """:func:`build_datatree` from flat draws (leading axis chains·draws) of the parameters."""
    posterior = {
        k: np.asarray(v).reshape((chains, draws, *np.shape(v)[1:]))
        for k, v in flat.items()
        if k != problem.model.observed
    }
    return build_datatree(problem, posterior, **kwargs)
