"""Point estimates by optimisation: MAP and MLE (Deep Learning §5.5 and §5.6.1).

The MAP maximises log p(θ) + log p(y | θ); the MLE is the same optimisation with
the prior removed. Both maximise the density of the *constrained* parameters
(σ itself, not log σ), optimised over unconstrained coordinates with L-BFGS, so
that with flat priors the MAP equals the MLE exactly and, e.g., the Gaussian MLE
of σ² is the biased 1/n variance.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
import xarray as xr
from numpyro.handlers import seed as seed_handler
from numpyro.handlers import substitute, trace
from numpyro.infer.util import constrain_fn, initialize_model, potential_energy

from freqbayes.data import Dataset
from freqbayes.inference.common import (
    Problem,
    check_positive_ints,
    draws_to_datatree,
    prepare,
    stopwatch,
)
from freqbayes.models import Model, logistic


class SeparationError(ValueError):
    """The logistic MLE does not exist: the classes are completely separated."""


class OptimState(NamedTuple):
    """State of :func:`minimize`.

    Attributes
    ----------
    params : pytree
        Current unconstrained parameters.
    opt_state : optax state
        L-BFGS memory, with the last value and gradient.
    """

    params: Any
    opt_state: Any


class OptimInfo(NamedTuple):
    """Outcome of :func:`minimize`: iterations used, final objective and gradient norm."""

    iterations: jnp.ndarray
    value: jnp.ndarray
    grad_norm: jnp.ndarray


def minimize(
    fun: Callable[[Any], jnp.ndarray], x0: Any, *, max_iter: int = 1000, rtol: float | None = None
) -> tuple[Any, OptimInfo]:
    """Minimise a smooth function with optax's L-BFGS (zoom line search) in one ``while_loop``.

    Stops when ‖∇f‖ ≤ rtol · max(1, |f(x₀)|) or after ``max_iter`` iterations;
    ``rtol`` defaults to √eps of the float type (≈1.5e-8 in float64, 3.5e-4 in float32).
    """
    dtype = jax.tree.leaves(x0)[0].dtype
    rtol = float(np.sqrt(np.finfo(dtype).eps)) if rtol is None else rtol
    opt = optax.lbfgs()
    value_and_grad = optax.value_and_grad_from_state(fun)
    tol = rtol * jnp.maximum(1.0, jnp.abs(fun(x0)))

    def step(state: OptimState) -> OptimState:
        value, grad = value_and_grad(state.params, state=state.opt_state)
        updates, opt_state = opt.update(
            grad, state.opt_state, state.params, value=value, grad=grad, value_fn=fun
        )
        return OptimState(optax.apply_updates(state.params, updates), opt_state)

    def keep_going(state: OptimState) -> jnp.ndarray:
        count = optax.tree.get(state.opt_state, "count")
        grad = optax.tree.get(state.opt_state, "grad")
        return (count == 0) | ((count < max_iter) & (optax.tree.norm(grad) > tol))

    final = jax.lax.while_loop(keep_going, step, OptimState(x0, opt.init(x0)))
    info = OptimInfo(
        optax.tree.get(final.opt_state, "count"),
        optax.tree.get(final.opt_state, "value"),
        optax.tree.norm(optax.tree.get(final.opt_state, "grad")),
    )
    return final.params, info


def log_joint(
    program: Callable[..., None], args: Mapping[str, Any], include_prior: bool
) -> Callable[[Mapping[str, jnp.ndarray]], jnp.ndarray]:
    """Return f(constrained params) = log p(y | θ) [+ log p(θ)], without any Jacobian."""

    def f(params: Mapping[str, jnp.ndarray]) -> jnp.ndarray:
        tr = trace(substitute(program, data=params)).get_trace(**args)
        total = jnp.zeros(())
        for site in tr.values():
            if site["type"] == "sample" and (include_prior or site["is_observed"]):
                total = total + jnp.sum(site["fn"].log_prob(site["value"]))
        return total

    return f


OBJECTIVES = ("likelihood", "posterior", "unconstrained-posterior")


@functools.partial(jax.jit, static_argnames=("program", "objective", "max_iter"))
def _optimise(
    program: Callable[..., None],
    args: Mapping[str, jnp.ndarray],
    z0: dict[str, jnp.ndarray],
    objective: str,
    max_iter: int,
) -> tuple[dict[str, jnp.ndarray], OptimInfo]:
    """Maximise the chosen density over unconstrained coordinates z; return constrained values.

    ``likelihood`` is log p(y | θ) (MLE), ``posterior`` log p(θ, y) (MAP), both as
    densities of the constrained θ; ``unconstrained-posterior`` adds the log-Jacobian
    of θ(z), i.e. it is the mode the Laplace approximation expands around.
    """
    if objective == "unconstrained-posterior":

        def negative(z):
            return potential_energy(program, (), args, z)

    else:
        log_density = log_joint(program, args, include_prior=objective == "posterior")

        def negative(z):
            return -log_density(constrain_fn(program, (), args, z))

    z, info = minimize(negative, z0, max_iter=max_iter)
    return constrain_fn(program, (), args, z), info


def point_estimate(
    problem: Problem, objective: str = "posterior", *, max_iter: int = 1000
) -> tuple[dict[str, jnp.ndarray], OptimInfo]:
    """Maximise ``objective`` (see :data:`OBJECTIVES`) and report how the optimiser ended.

    ``posterior`` gives the MAP, ``likelihood`` the MLE.

    Raises
    ------
    SeparationError
        For a logistic MLE whose optimum separates the classes (no MLE exists).
    RuntimeError
        If the objective or the estimate is not finite.
    """
    program = problem.program
    info0 = initialize_model(jax.random.key(0), seed_handler(program, 0), model_kwargs=problem.args)
    z0 = jax.tree.map(jnp.zeros_like, info0.param_info.z)
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}; got {objective!r}")
    params, info = _optimise(program, problem.args, z0, objective, max_iter)
    if not all(bool(jnp.all(jnp.isfinite(v))) for v in params.values()):
        raise RuntimeError(f"{problem.model.name}: the optimiser diverged ({info})")
    if objective == "likelihood" and problem.model.binary:
        beta = np.asarray(params["beta"])
        intercept = float(params.get("intercept", 0.0))
        X, y = np.asarray(problem.args["X"]), np.asarray(problem.args["y"])
        if logistic.separates(X, y, beta, intercept):
            raise SeparationError(
                "logistic MLE does not exist: the classes are completely separated "
                f"(a hyperplane classifies all {len(y)} examples correctly, so the likelihood "
                f"grows without bound along it; here ‖θ‖ reached {np.linalg.norm(beta):.3g}). "
                "Use the MAP or the posterior (a proper prior on the weights) instead."
            )
    return params, info


def _fit(
    method: str,
    model: Model | str,
    data: Dataset,
    *,
    seed: int = 0,
    priors: Mapping[str, Any] | None = None,
    max_iter: int = 1000,
    progress: bool | None = None,
) -> xr.DataTree:
    problem = prepare(model, data, priors)
    check_positive_ints(max_iter=max_iter)
    with stopwatch() as elapsed:
        params, info = point_estimate(
            problem, "posterior" if method == "map" else "likelihood", max_iter=max_iter
        )
        jax.block_until_ready(params)
    flat = {k: np.asarray(v)[None] for k, v in params.items()}
    optim = {
        "iterations": int(info.iterations),
        "objective": float(info.value),
        "grad_norm": float(info.grad_norm),
    }
    return draws_to_datatree(
        problem,
        flat,
        chains=1,
        draws=1,
        key=jax.random.key(seed),
        method=method,
        seed=seed,
        settings={"max_iter": max_iter, "optimizer": "optax.lbfgs", **optim},
        wall_time=elapsed[0],
    )


def map_estimate(model: Model | str, data: Dataset, **kwargs: Any) -> xr.DataTree:
    """MAP estimate as a one-chain, one-draw DataTree (§5.6.1).

    Parameters
    ----------
    model : Model or str
        The model or its registered name.
    data : Dataset
        The data.
    **kwargs
        ``seed``, ``priors`` (overrides of the default priors), ``max_iter``.
    """
    return _fit("map", model, data, **kwargs)


def mle(model: Model | str, data: Dataset, **kwargs: Any) -> xr.DataTree:
    """Maximum-likelihood estimate (the MAP with the prior removed, §5.5) as a DataTree.

    Parameters are as for :func:`map_estimate`. Raises :class:`SeparationError`
    when a logistic MLE does not exist.
    """
    return _fit("mle", model, data, **kwargs)
