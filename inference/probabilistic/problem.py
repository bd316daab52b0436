"""What every fitting method shares: the problem and the coordinates it is fitted in.

Every method (optimisers and samplers alike) works on the
unconstrained parameters u of the *scaled* problem: features and outcome centred
and scaled (:mod:`freqbayes.models.probabilistic.scaling`), positive parameters on the log
scale. There the posterior is roughly isotropic whatever the units of the data,
and u = 0 is the intercept-only fit. :class:`Target` maps u to the program's own
unconstrained coordinates z by an affine map, so the density of u is the density
of z times a constant: modes and posteriors are exactly those of the program as
written, in the user's units. A model without roles is fitted in its own
coordinates (u = z). The DataTree of a fit is built by
:mod:`freqbayes.inference.probabilistic.datatree`. A model that pads its rows to a
shape bucket (:mod:`freqbayes.inference.probabilistic.rows`) has them padded here, in
:func:`prepare`: :attr:`Problem.arrays` keeps the real rows, :attr:`Problem.args` (what
the compiled programs get) the padded ones and the row mask, split over the devices
(and processes) when :mod:`~freqbayes.inference.probabilistic.sharding` says so.

Longer than 400 lines: the problem, its static half (:class:`Target`) and the helpers
every method calls on it are read together; splitting them would only add imports.
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from numpyro.distributions.transforms import biject_to
from numpyro.handlers import block, substitute, trace
from numpyro.handlers import seed as seed_handler
from numpyro.infer.util import constrain_fn, potential_energy

from freqbayes.inference.buckets import aligned_empty
from freqbayes.inference.dtypes import float_dtype as float_dtype  # re-exported
from freqbayes.inference.dtypes import on_device
from freqbayes.inference.precision import jit
from freqbayes.inference.probabilistic import shares
from freqbayes.inference.probabilistic.rows import (
    ROW_MASK,
    RowMasked,
    blocked_hessian,
    blocked_objective,
    padded_arguments,
)
from freqbayes.inference.probabilistic.sharding import (
    local_rows,
    place_whole,
    row_sharding,
    shard_arguments,
    shards_rows,
)
from freqbayes.models.dataset import Dataset
from freqbayes.models.probabilistic import scaling
from freqbayes.models.probabilistic.model import Model
from freqbayes.models.probabilistic.scaling import Roles, Scaling
from freqbayes.models.registry import get_model


class Whitening(NamedTuple):
    """Coordinates of a program without roles, whitened at its mode: z = loc + chol · u.

    ``loc`` is the mode ẑ of the flattened unconstrained parameters and ``chol`` the
    Cholesky factor of the inverse Hessian of −log p there, so that the posterior of u
    is close to N(0, I) whatever the units of the data (a pytree: a traced argument).
    """

    loc: Any
    chol: Any

    def as_attrs(self) -> dict[str, Any]:
        """The coordinates as DataTree attrs."""
        return {"whitened_at_mode": 1}


@dataclass(frozen=True)
class Hidden:
    """A program with one site hidden (NumPyro's ``block``), hashable and equal for equal programs.

    A :class:`Target`'s program is a static argument of the compiled densities.

    Attributes
    ----------
    program : callable
        The NumPyro program.
    site : str
        The site hidden from the handlers outside (its log-density is not counted).
    """

    program: Callable[..., Any]
    site: str

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the program with :attr:`site` hidden."""
        with block(hide=[self.site]):
            return self.program(*args, **kwargs)


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
    rows : tuple of str
        The data arguments with one row per observation, when the rows are padded with a
        row mask and held on one device: Hessians are then summed over blocks of rows
        (:meth:`hessian`), and gradients too where that pays (:meth:`objective`); empty
        otherwise.
    shards : tuple of str
        The row arguments when the rows are padded and split over devices: gradients
        are then summed over blocks of each device's rows where that pays
        (:meth:`objective`), Hessians always (:meth:`hessian`).
    """

    program: Callable[..., None]
    roles: Roles | None
    observed: str
    rows: tuple[str, ...] = ()
    shards: tuple[str, ...] = ()

    def hessian(
        self,
        fun: Callable[[jnp.ndarray, Mapping[str, Any]], jnp.ndarray],
        v: jnp.ndarray,
        kwargs: Mapping[str, Any],
    ) -> jnp.ndarray:
        """∇² of ``fun(v, kwargs)`` in v, by blocks of rows (:func:`blocked_hessian`)."""
        if self.shards:
            return blocked_hessian(fun, v, kwargs, self.shards, sharded=True)
        return blocked_hessian(fun, v, kwargs, self.rows)

    def objective(
        self, fun: Callable[[Any, Mapping[str, Any]], jnp.ndarray], kwargs: Mapping[str, Any]
    ) -> Callable[[Any], jnp.ndarray]:
        """v ↦ ``fun(v, kwargs)``, its gradient by blocks of :attr:`rows` where that pays.

        Rows split over devices (:attr:`shards`): by blocks of each device's rows, the
        sums added over the devices. See :func:`blocked_objective`: L-BFGS (MAP, MLE,
        the Laplace mode), NUTS and full-data SVI take their gradients through it.
        """
        if self.shards:
            return blocked_objective(fun, kwargs, self.shards, sharded=True)
        return blocked_objective(fun, kwargs, self.rows)

    def prior_only(self) -> Target:
        """The target with its observed site hidden: its potential is the prior's.

        The Jacobian included; equal for equal targets, so its densities are traced once too.
        """
        return self._replace(program=Hidden(self.program, self.observed))

    def to_user(self, s: Scaling | Whitening | None, u: Mapping[str, Any]) -> dict[str, Any]:
        """Unconstrained values u (scaled coordinates) → z (the program's coordinates)."""
        if self.roles is not None:
            return scaling.to_user(self.roles, s, u)
        if s is None:
            return dict(u)
        flat, unravel = ravel_pytree(dict(u))
        return unravel(s.loc + s.chol @ flat)

    def from_user(self, s: Scaling | Whitening | None, z: Mapping[str, Any]) -> dict[str, Any]:
        """z → u, the inverse of :meth:`to_user`."""
        if self.roles is not None:
            return scaling.from_user(self.roles, s, z)
        if s is None:
            return dict(z)
        flat, unravel = ravel_pytree(dict(z))
        return unravel(jax.scipy.linalg.solve_triangular(s.chol, flat - s.loc, lower=True))

    def potential(self, kwargs: Mapping[str, Any], s: Scaling | None, u: Mapping[str, Any]):
        """−log p(θ, y) as a density of u (the Jacobian of θ(u) included, up to a constant).

        A program of its own (:func:`_potential`), traced once per shapes of its arguments.
        """
        return _potential(self, kwargs, s, u)

    def constrain(self, kwargs: Mapping[str, Any], s: Scaling | None, u: Mapping[str, Any]):
        """The parameters θ(u) in the user's units (the program's sample sites)."""
        return constrain_fn(self.program, (), kwargs, self.to_user(s, u))

    def log_density(
        self,
        kwargs: Mapping[str, Any],
        s: Scaling | None,
        u: Mapping[str, Any],
        include_prior: bool,
        weights: jnp.ndarray | None = None,
    ) -> jnp.ndarray:
        """log p(y | θ) [+ log p(θ)] as a density of the constrained θ(u): no Jacobian.

        Maximised over u this gives the MLE or the MAP of θ itself (σ, not log σ):
        with flat priors the MAP is the MLE and the Gaussian σ̂² the biased 1/n variance.
        ``weights`` (one per observation) weight the log-likelihood terms (the bootstrap).
        A program of its own (:func:`_log_density`), traced once per shapes of its arguments.
        """
        return _log_density(self, kwargs, s, u, include_prior, weights)

    def log_density_at(
        self,
        kwargs: Mapping[str, Any],
        params: Mapping[str, Any],
        include_prior: bool,
        weights: jnp.ndarray | None = None,
    ) -> jnp.ndarray:
        """log p(y | θ) [+ log p(θ)] at the parameters θ themselves (user's units)."""
        tr = trace(substitute(self.program, data=params)).get_trace(**kwargs)
        total = jnp.zeros(())
        for site in tr.values():
            if site["type"] != "sample" or not (include_prior or site["is_observed"]):
                continue
            terms = site["fn"].log_prob(site["value"])
            if site["is_observed"] and weights is not None:
                terms = weights * terms
            total = total + jnp.sum(terms)
        return total

    def pointwise_log_likelihood(
        self, kwargs: Mapping[str, Any], params: Mapping[str, Any]
    ) -> jnp.ndarray:
        """log p(y_i | θ), one term per observation of the observed site."""
        tr = trace(substitute(self.program, data=params)).get_trace(**kwargs)
        site = tr[self.observed]
        return site["fn"].log_prob(site["value"])


# The model's densities as programs of their own, called inside the methods' programs:
# an optimiser or a sampler evaluates them at many places (L-BFGS and its line search,
# each block of rows and the row-free terms, Hessians), and JAX then traces the NumPyro
# program once per shapes of the arguments and differentiates that one jaxpr, instead of
# running the program in Python at every place. The 10⁶ × 100 MAP command traced the
# program 53 times, 19 with them; tracing its two programs took 2.4 s, 0.9 s with them
# (2026-12-06, this 2-core machine). The draws of NUTS, Laplace, SVI, MAP and MLE on a
# small logistic regression were the same bits as before.


@functools.partial(jit, static_argnames=("target",))
def _potential(
    target: Target, kwargs: Mapping[str, Any], s: Scaling | None, u: Mapping[str, Any]
) -> jnp.ndarray:
    """:meth:`Target.potential`'s body."""
    return potential_energy(target.program, (), kwargs, target.to_user(s, u))


@functools.partial(jit, static_argnames=("target", "include_prior"))
def _log_density(
    target: Target,
    kwargs: Mapping[str, Any],
    s: Scaling | None,
    u: Mapping[str, Any],
    include_prior: bool,
    weights: jnp.ndarray | None,
) -> jnp.ndarray:
    """:meth:`Target.log_density`'s body."""
    params = target.constrain(kwargs, s, u)
    return target.log_density_at(kwargs, params, include_prior, weights)


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


def zero_in_support(program: Callable[..., None], kwargs: Mapping[str, Any]) -> dict[str, bool]:
    """Whether 0 is a value each latent site can take: a z test of θ = 0 means something.

    False for σ (positive) or a simplex, where θ = 0 is outside or on the edge of the
    parameter space and z = θ̂/se tests nothing (statsmodels shows no z for its scale).
    """
    model = substitute(seed_handler(program, 0), substitute_fn=_placeholder)
    tr = trace(model).get_trace(**dict(kwargs))
    return {
        name: bool(np.all(site["fn"].support(jnp.zeros(site["fn"].shape()))))
        for name, site in tr.items()
        if site["type"] == "sample" and not site["is_observed"]
    }


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
        The program's checked data arguments as numpy arrays (float64, or the integer
        and boolean arrays of a user's program as given); in a multi-process run read
        in shares (``data.share``: :mod:`.shares`), this process's real rows only.
    args : dict
        The same as JAX arrays (floats in JAX's float type), for a model that pads its
        rows (:mod:`~freqbayes.inference.probabilistic.rows`) padded to their shape
        bucket, with the row mask.
    scaling : Scaling, Whitening or None
        Centres and scales of the data (JAX arrays); for a model without roles None
        (its own coordinates) or, once :func:`~freqbayes.inference.probabilistic.optimize.whiten`
        has run, its coordinates whitened at the mode.
    """

    model: Model
    data: Dataset
    priors: dict[str, Any]
    arrays: dict[str, np.ndarray]
    args: dict[str, jnp.ndarray]
    scaling: Scaling | Whitening | None

    @property
    def padded(self) -> bool:
        """Whether the rows of :attr:`args` are padded to a shape bucket (with a row mask)."""
        return ROW_MASK in self.args

    @property
    def sharded(self) -> bool:
        """Whether the rows of :attr:`args` are split over devices (:mod:`.sharding`)."""
        return self.padded and len(self.args[ROW_MASK].sharding.device_set) > 1

    @property
    def program(self) -> Callable[..., None]:
        """The program the methods run: the model's, masking padded rows when there are any."""
        if self.padded:
            return RowMasked(self.model.program, self.model.observed)
        return self.model.program

    @property
    def streamed(self) -> bool:
        """Whether :attr:`args` hold one chunk of a table that a method streams (:mod:`.shares`)."""
        return self.data.share is not None and self.data.share.stream

    @property
    def size(self) -> int:
        """Rows of the arrays the program gets: :attr:`n`, or its bucket when padded."""
        return int(self.args[ROW_MASK].shape[0]) if self.padded else self.n

    @property
    def real_rows(self) -> int | None:
        """:attr:`n` when the rows are padded (what to trim the program's rows to), else None."""
        return self.n if self.padded else None

    @property
    def target(self) -> Target:
        """The static half: program, roles, observed site, the row arguments to block."""
        rows = ()
        if self.padded:
            rows = tuple(name for name in self.model.row_arguments if name in self.args)
        if self.sharded:
            return Target(self.program, self.model.roles, self.model.observed, (), rows)
        return Target(self.program, self.model.roles, self.model.observed, rows)

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
        """Static arguments for prediction: the number of observations of a model without X.

        Padded rows are simulated too (and trimmed), so that every n of a bucket shares
        the program.
        """
        return self.model.simulation_inputs(self.size)

    @property
    def n(self) -> int:
        """Number of observations (the real rows, without padding; of every process)."""
        if self.data.share is not None:
            return self.data.share.n
        return int(np.shape(self.arrays[self.model.observed])[0])

    def all_rows(self, what: str) -> dict[str, np.ndarray]:
        """:attr:`arrays` for work on the host that needs every row in this process.

        A clear error in a multi-process run read in shares (:mod:`.shares`), where this
        process holds only its own rows: ``what`` names the work refused.
        """
        if self.data.share is not None:
            raise ValueError(
                f"{what} needs all the rows in one process, and each process of this run "
                "holds only its own: run it in one process"
            )
        return self.arrays

    def check(self, kind: str) -> None:
        """Raise a named error if the estimate of ``kind`` does not exist on these data.

        ``kind`` is "likelihood", "mode" or "posterior"; the error is an
        :class:`~freqbayes.models.probabilistic.existence.EstimateError`.
        """
        if self.data.share is not None:  # each process checks its rows (.shares)
            shares.check(self.model, kind, self.arrays, self.priors, self.data.share)
        elif self.model.check is not None:
            self.model.check(kind, self.arrays, self.priors)

    def latent_shapes(self) -> dict[str, Any]:
        """Shapes of the unconstrained latent sites."""
        return latent_shapes(self.program, self.kwargs)

    def observation_shape(self) -> tuple[int, ...]:
        """The observed site's batch shape: one log-likelihood term per element, no compile.

        (n,) for n rows, also of vectors (a ``MultivariateNormal`` in a plate: values n × d);
        () for one vector-valued observation (a ``Multinomial`` without a plate). The real
        rows: padding is not counted.
        """

        def batch(kw: Mapping[str, Any]) -> jnp.ndarray:
            model = substitute(seed_handler(self.program, 0), substitute_fn=_placeholder)
            site = trace(model).get_trace(**kw)[self.model.observed]
            return jnp.zeros(site["fn"].batch_shape)

        shape = tuple(jax.eval_shape(batch, dict(self.kwargs)).shape)
        return (self.n, *shape[1:]) if self.padded else shape

    def zeros(self) -> dict[str, jnp.ndarray]:
        """u = 0: the intercept-only fit in the scaled coordinates."""
        return {
            k: jax.device_put(np.zeros(v.shape, v.dtype)) for k, v in self.latent_shapes().items()
        }

    def labels(self) -> tuple[dict[str, list[str]], dict[str, Any]]:
        """ArviZ dims and coords of the fit (see :meth:`Model.coords`)."""
        return self.model.coords(self.data, self.n)


def resolve(model: Any, data: Any, formula: str | None = None) -> tuple[Model, Dataset]:
    """The model and data of a fit from any accepted form.

    ``model`` is a :class:`Model`, a registered name, or a user's NumPyro program
    (then ``data`` is a dict of its arguments:
    :func:`~freqbayes.models.probabilistic.program.program_model`). For a model,
    ``data`` is anything :func:`freqbayes.models.tables.as_dataset` takes (a Dataset, None for
    the model's default, a name, a CSV or Parquet file, a DataFrame, ``(X, y)``),
    with an optional formula for a table.
    """
    if isinstance(model, str):
        model = get_model(model)
    if not isinstance(model, Model):
        from freqbayes.models.probabilistic.program import program_model

        if formula is not None:
            raise ValueError("formula: applies to the registered models; a program takes a dict")
        return program_model(model, data)
    from freqbayes.models.tables import as_dataset

    return model, as_dataset(data, model, formula)


def prepare(model: Any, data: Any, priors: Mapping[str, Any] | None = None) -> Problem:
    """Check the data and priors for ``model`` and return a :class:`Problem`.

    ``model`` and ``data`` are in any form :func:`resolve` takes. A formula without
    an intercept (``- 1``) removes the model's intercept unless ``priors`` say otherwise.
    """
    model, data = resolve(model, data)
    if data.attrs.get("intercept") == 0 and model.roles is not None and model.roles.intercept:
        priors = {f"{model.roles.intercept}_prior": None, **(priors or {})}
    arrays = model.data_arguments(data)
    share = data.share  # this process's rows only (.shares): the summaries stand in for all
    if share is not None:
        local, arrays = arrays, shares.real_rows(model, arrays, share)
    whole = arrays if share is None else shares.stand_ins(arrays, share)
    with scaling.one_pass():  # the features' column statistics once, not once per reader
        resolved = model.resolve_priors(priors, whole)
        s = model.scaling(whole, resolved)
    if share is not None and share.stream:  # a table's sample, on one device (.shares)
        args = {k: as_jax(v) for k, v in {**local, ROW_MASK: np.ones(share.size, bool)}.items()}
    elif share is not None:
        args = _place_share(model, local, share)
        resolved = place_whole(resolved)
    elif shards_rows(model):  # rows split over every device (and process): .sharding
        padded = padded_arguments(model, arrays, jax.device_count())
        rows = (*model.row_arguments, ROW_MASK)
        args = shard_arguments({k: jax_typed(v) for k, v in padded.items()}, rows)
        resolved = place_whole(resolved)
    else:
        args = {k: as_jax(v) for k, v in padded_arguments(model, arrays).items()}
    if s is not None:
        s = place_whole(jax.tree.map(on_device, s))
    return Problem(model, data, resolved, arrays, args, s)


def _place_share(model: Model, arrays: Mapping[str, np.ndarray], share: Any) -> dict[str, Any]:
    """The program's arguments from this process's rows and padding (:mod:`.shares`), global."""
    sharding = row_sharding()
    if local_rows(sharding, (share.size,)) != slice(share.begin, share.end):
        raise RuntimeError(
            f"rows {share.begin}:{share.end} were read, but this process's devices hold "
            f"{local_rows(sharding, (share.size,))} of {share.size}"
        )
    local = shares.local_arguments(model, arrays, share)
    rows = (*model.row_arguments, ROW_MASK)
    out = {}
    for k, v in local.items():
        v = jax_typed(v)
        shape = (share.size, *np.shape(v)[1:])
        out[k] = (
            jax.make_array_from_process_local_data(sharding, v, shape)
            if k in rows
            else place_whole(v)
        )
    return out


def jax_typed(a: np.ndarray) -> np.ndarray:
    """``a`` on the host in the type JAX uses for it (see :func:`as_jax`)."""
    a = np.asarray(a)
    kind = float_dtype() if a.dtype.kind == "f" else jax.dtypes.canonicalize_dtype(a.dtype)
    if a.dtype == kind:
        return a
    out = aligned_empty(a.shape, kind)  # a copy the device can use in place (buckets.ALIGN)
    np.copyto(out, a, casting="unsafe")
    return out


def as_jax(a: np.ndarray) -> jax.Array:
    """A data array on the device, in the type JAX uses for it.

    Floats in JAX's float type (:func:`on_device`), integers and booleans as JAX holds
    them (int32 unless x64).
    """
    return jax.device_put(jax_typed(a))


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


@functools.partial(jit, static_argnames=("target",))
def _constrain_many(target: Target, kwargs: Any, s: Any, u: Any) -> dict[str, jnp.ndarray]:
    return jax.vmap(lambda one: target.constrain(kwargs, s, one))(u)


def constrained_draws(problem: Problem, u: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Map draws of u (leading axis: draws) to the parameters in the user's units."""
    out = _constrain_many(problem.target, problem.kwargs, problem.scaling, dict(u))
    return {k: np.asarray(v) for k, v in out.items()}


class _Shape(NamedTuple):
    """A latent site's shape and dtype, hashable (``jax.ShapeDtypeStruct`` as a static argument)."""

    shape: tuple[int, ...]
    dtype: Any


def hashable_shapes(shapes: Mapping[str, Any]) -> tuple[tuple[str, _Shape], ...]:
    """Latent shapes as a sorted tuple of (site, (shape, dtype)): a static jit argument."""
    return tuple((k, _Shape(tuple(v.shape), jnp.dtype(v.dtype))) for k, v in sorted(shapes.items()))
