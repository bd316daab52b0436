"""Approximate posteriors: the Laplace approximation and variational inference (SVI).

Both return draws reshaped to (chain, draw) with the sizes of the NUTS fit they
are compared with (4 × 1000 by default), so ArviZ plots them side by side.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import numpyro.optim
import optax
import xarray as xr
from numpyro.handlers import seed as seed_handler
from numpyro.handlers import trace
from numpyro.infer import SVI, Trace_ELBO
from numpyro.infer.autoguide import (
    AutoContinuous,
    AutoLaplaceApproximation,
    AutoMultivariateNormal,
    AutoNormal,
)
from numpyro.infer.initialization import init_to_uniform, init_to_value

from freqbayes.data import Dataset
from freqbayes.inference.common import (
    check_positive_ints,
    draws_to_datatree,
    prepare,
    progress_enabled,
    stopwatch,
)
from freqbayes.inference.optimize import point_estimate
from freqbayes.models import Model

GUIDES = {"mean-field": AutoNormal, "full-rank": AutoMultivariateNormal}


def _sample_guide(
    guide: AutoContinuous, params: dict[str, Any], key: jax.Array, num_chains: int, num_samples: int
) -> dict[str, jax.Array]:
    """Draw ``num_chains · num_samples`` posterior draws from a fitted guide.

    ``guide.sample_posterior`` is used, not ``Predictive``: on a Laplace guide
    ``Predictive`` returns the MAP only, with zero spread.
    """
    draws = guide.sample_posterior(key, params, sample_shape=(num_chains * num_samples,))
    return {k: v for k, v in draws.items() if not k.startswith("_")}


def laplace(
    model: Model | str,
    data: Dataset,
    *,
    seed: int = 0,
    priors: Mapping[str, Any] | None = None,
    num_chains: int = 4,
    num_samples: int = 1000,
    progress: bool | None = None,
) -> xr.DataTree:
    """Laplace approximation: a Gaussian at the mode of the unconstrained posterior.

    ``AutoLaplaceApproximation`` at the mode of the posterior density of the
    unconstrained parameters (found with L-BFGS): the covariance is the inverse
    Hessian there, and positive parameters are approximated on the log scale.

    Parameters
    ----------
    model, data, seed, priors
        As for :func:`~freqbayes.inference.nuts`.
    num_chains, num_samples : int
        Shape (chain, draw) of the returned draws.
    progress : bool, optional
        Unused (one BFGS run); accepted for a uniform signature.
    """
    problem = prepare(model, data, priors)
    check_positive_ints(num_chains=num_chains, num_samples=num_samples)
    key_fit, key_draw, key_pred = jax.random.split(jax.random.key(seed), 3)
    with stopwatch() as elapsed:
        # The mode is found by our L-BFGS: numpyro.optim.Minimize (BFGS) in float32
        # wandered off the mode on the Gaussian and linear models. The guide,
        # initialised at the mode, supplies the Hessian and the draws.
        mode, info = point_estimate(problem, "unconstrained-posterior")
        guide = AutoLaplaceApproximation(problem.program, init_loc_fn=init_to_value(values=mode))
        # Tracing the guide once sets it up; its only parameter, auto_loc, starts at the mode.
        setup = trace(seed_handler(guide, key_fit)).get_trace(**problem.args)
        params = {"auto_loc": setup["auto_loc"]["value"]}
        flat = _sample_guide(guide, params, key_draw, num_chains, num_samples)
        jax.block_until_ready(flat)
    settings = {
        "num_chains": num_chains,
        "num_samples": num_samples,
        "optimizer": "optax.lbfgs",
        "iterations": int(info.iterations),
        "neg_log_density_at_mode": float(info.value),
        "grad_norm": float(info.grad_norm),
    }
    return draws_to_datatree(
        problem,
        flat,
        chains=num_chains,
        draws=num_samples,
        key=key_pred,
        method="laplace",
        seed=seed,
        settings=settings,
        wall_time=elapsed[0],
    )


def svi(
    model: Model | str,
    data: Dataset,
    *,
    seed: int = 0,
    priors: Mapping[str, Any] | None = None,
    guide: str = "mean-field",
    num_steps: int = 10_000,
    step_size: float = 0.01,
    num_chains: int = 4,
    num_samples: int = 1000,
    progress: bool | None = None,
) -> xr.DataTree:
    """Stochastic variational inference with a Gaussian guide, maximising the ELBO.

    Parameters
    ----------
    model, data, seed, priors
        As for :func:`~freqbayes.inference.nuts`.
    guide : {"mean-field", "full-rank"}
        ``AutoNormal`` (diagonal) or ``AutoMultivariateNormal`` (full covariance).
    num_steps : int
        Optimisation steps (Adam with gradient clipping, step size decaying ×0.1).
    step_size : float
        Initial Adam step size.
    num_chains, num_samples : int
        Shape (chain, draw) of the returned draws.
    progress : bool, optional
        Progress bar; by default on only when stderr is a terminal.
    """
    problem = prepare(model, data, priors)
    if guide not in GUIDES:
        raise ValueError(f"guide: unknown guide {guide!r}; known: {', '.join(GUIDES)}")
    check_positive_ints(num_steps=num_steps, num_chains=num_chains, num_samples=num_samples)
    if not step_size > 0:
        raise ValueError(f"step_size must be > 0; got {step_size!r}")
    key_fit, key_draw, key_pred = jax.random.split(jax.random.key(seed), 3)
    auto = GUIDES[guide](problem.program, init_loc_fn=init_to_uniform(radius=0.5))
    schedule = optax.exponential_decay(step_size, transition_steps=num_steps, decay_rate=0.1)
    optim = numpyro.optim.optax_to_numpyro(
        optax.chain(optax.clip_by_global_norm(10.0), optax.adam(schedule))
    )
    engine = SVI(problem.program, auto, optim, Trace_ELBO())
    with stopwatch() as elapsed:
        result = engine.run(
            key_fit, num_steps, progress_bar=progress_enabled(progress), **problem.args
        )
        flat = _sample_guide(auto, result.params, key_draw, num_chains, num_samples)
        jax.block_until_ready(flat)
    tail = result.losses[-max(1, num_steps // 10) :]
    settings = {
        "guide": guide,
        "num_steps": num_steps,
        "step_size": step_size,
        "num_chains": num_chains,
        "num_samples": num_samples,
        "final_elbo_loss": float(tail.mean()),
    }
    return draws_to_datatree(
        problem,
        flat,
        chains=num_chains,
        draws=num_samples,
        key=key_pred,
        method=f"svi-{guide}",
        seed=seed,
        settings=settings,
        wall_time=elapsed[0],
    )
