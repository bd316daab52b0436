"""The Laplace approximation: a Gaussian at the posterior mode, covariance the inverse Hessian.

It works on the scaled unconstrained coordinates u
(:mod:`freqbayes.inference.probabilistic.problem`) and returns draws reshaped to
(chain, draw) with the sizes of the NUTS fit it is compared with (4 × 1000 by
default), so ArviZ plots them side by side. A Gaussian in u is a Gaussian in the
program's coordinates too (the map is affine), so this is NumPyro's
``AutoLaplaceApproximation`` there. :func:`laplace_start` is also the start of SVI.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jax.flatten_util import ravel_pytree

from freqbayes.inference.optim import ConvergenceError
from freqbayes.inference.precision import jit
from freqbayes.inference.probabilistic import optimize
from freqbayes.inference.probabilistic.method import Draws, Method, as_chains, positive_int
from freqbayes.inference.probabilistic.optimize import OPTIM_CONSTRAINTS, optimum
from freqbayes.inference.probabilistic.problem import (
    Problem,
    Target,
    constrained_draws,
)


@functools.partial(jit, static_argnames=("target", "num"))
def laplace_draws(
    target: Target, kwargs: Any, s: Any, mode: Any, key: jax.Array, num: int
) -> tuple[Any, jnp.ndarray]:
    """Draws u ~ N(mode, H⁻¹), H the Hessian of the potential at the mode; and min eig(H)."""
    flat, unravel = ravel_pytree(mode)
    H = target.hessian(lambda v, kw: target.potential(kw, s, unravel(v)), flat, kwargs)
    H = 0.5 * (H + H.T)
    L = jnp.linalg.cholesky(H)
    eps = jax.random.normal(key, (num, flat.shape[0]), flat.dtype)
    # H = L Lᵀ, so L⁻ᵀ ε has covariance H⁻¹
    steps = jax.scipy.linalg.solve_triangular(L.T, eps.T, lower=False).T
    return jax.vmap(unravel)(flat + steps), jnp.linalg.eigvalsh(H)[0]


class LaplaceSettings(NamedTuple):
    """The Laplace approximation's settings: the draws' shape and the mode's optimiser."""

    num_chains: int = 4
    num_samples: int = 1000
    max_iter: int = 1000
    allow_unconverged: bool = False


def run_laplace(problem: Problem, key: jax.Array, settings: LaplaceSettings) -> Draws:
    """The kernel: the mode of the unconstrained posterior, then N(mode, H⁻¹) draws."""
    found = optimum(problem, "unconstrained-posterior", settings)
    mode = found.u
    chains, draws = settings.num_chains, settings.num_samples
    args = (problem.target, problem.kwargs, problem.scaling, mode, key, chains * draws)
    u, smallest = laplace_draws(*args)
    if not (np.isfinite(float(smallest)) and float(smallest) > 0):
        raise ConvergenceError(
            f"{problem.model.name}: Laplace: the Hessian at the mode is not positive "
            f"definite (smallest eigenvalue {float(smallest):.3g}): the mode is not a "
            "strict maximum, so there is no Gaussian approximation there"
        )
    record = {
        **found.record,
        "hessian_min_eigenvalue": float(smallest),
    }
    return Draws(as_chains(constrained_draws(problem, u), chains, draws), record)


def laplace(model: Any, data: Any, **settings: Any) -> xr.DataTree:
    """Laplace approximation: a Gaussian at the mode of the unconstrained posterior.

    The mode of the posterior density of the unconstrained parameters (found with
    L-BFGS, :func:`~freqbayes.inference.probabilistic.optimize.point_estimate`) and the inverse
    Hessian of −log p there; positive parameters are approximated on the log scale.

    Parameters
    ----------
    model, data, seed, priors, pointwise
        As for :func:`~freqbayes.inference.nuts`.
    num_chains, num_samples : int
        Shape (chain, draw) of the returned draws.
    max_iter, allow_unconverged
        As for :func:`~freqbayes.inference.map_estimate`.

    Raises
    ------
    EstimateError
        If the mode does not exist on these data.
    ConvergenceError
        If the optimiser did not converge, or the Hessian at the mode is not
        positive definite (the mode is not a strict maximum).

    A model that declares its own Laplace algorithm (``Model.kernels["laplace"]``: the
    GP classifier's R&W Algorithm 3.1) is fitted by it, with these arguments.
    """
    return LAPLACE.fit(model, data, **settings)


def laplace_start(
    target: Target, shapes: Any, kwargs: Mapping[str, Any], s: Any, gtol: float
) -> tuple[jnp.ndarray, jnp.ndarray]:
    """A start for a Gaussian guide: the Laplace approximation (mode, Cholesky of H⁻¹).

    Falls back to u = 0 with covariance 0.1² I where the mode or a positive-definite
    Hessian is not found. Starting there, SVI refines a Gaussian that is already
    close: an elongated posterior (correlated coefficients) is otherwise reached only
    after tens of thousands of steps from a round start.
    """
    zeros = {k: jnp.zeros(v.shape, v.dtype) for k, v in shapes}
    mode, _, _ = optimize._optimise(target, kwargs, s, zeros, gtol, "unconstrained-posterior", 1000)
    flat, unravel = ravel_pytree(mode)
    H = target.hessian(lambda v, kw: target.potential(kw, s, unravel(v)), flat, kwargs)
    chol = jnp.linalg.cholesky(jnp.linalg.inv(0.5 * (H + H.T)))
    ok = jnp.all(jnp.isfinite(flat)) & jnp.all(jnp.isfinite(chol))
    fallback = 0.1 * jnp.eye(flat.shape[0], dtype=flat.dtype)
    return jnp.where(ok, flat, 0.0), jnp.where(ok, chol, fallback)


LAPLACE = Method(
    "laplace",
    run_laplace,
    LaplaceSettings,
    about="Laplace approximation: a Gaussian at the posterior mode, inverse Hessian covariance",
    constraints={"num_chains": positive_int, "num_samples": positive_int, **OPTIM_CONSTRAINTS},
    quick={"num_chains": 2, "num_samples": 200},
    independent=True,
    calibration=lambda b: {"num_samples": b.draws, "allow_unconverged": True},
)
