"""Full posteriors by NUTS (Hamiltonian Monte Carlo with the no-U-turn sampler)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import arviz as az
import jax
import numpy as np
import xarray as xr
from numpyro.infer import MCMC, NUTS

from freqbayes.data import Dataset
from freqbayes.inference.common import (
    check_positive_ints,
    fit_attrs,
    predictive_groups,
    prepare,
    progress_enabled,
    stopwatch,
)
from freqbayes.models import Model

EXTRA_FIELDS = ("diverging", "adapt_state.step_size", "num_steps", "energy", "potential_energy")


def chain_method(num_chains: int) -> str:
    """``parallel`` when there is a device per chain, else ``sequential``.

    On the CPU, JAX sees one device unless told otherwise before its first
    operation (the command line asks for one per core).
    """
    return "parallel" if jax.local_device_count() >= num_chains > 1 else "sequential"


def nuts(
    model: Model | str,
    data: Dataset,
    *,
    seed: int = 0,
    priors: Mapping[str, Any] | None = None,
    num_chains: int = 4,
    num_warmup: int = 1000,
    num_samples: int = 1000,
    target_accept_prob: float = 0.8,
    dense_mass: bool = False,
    progress: bool | None = None,
) -> xr.DataTree:
    """Sample the posterior with NUTS; return a DataTree with every group ArviZ uses.

    Parameters
    ----------
    model : Model or str
        The model or its registered name.
    data : Dataset
        The data.
    seed : int
        Seed of the ``jax.random.key``; the same seed gives the same draws.
    priors : mapping, optional
        Overrides of the model's default priors.
    num_chains, num_warmup, num_samples : int
        Chains, warm-up iterations and kept draws per chain.
    target_accept_prob : float
        Step-size adaptation target.
    dense_mass : bool
        Adapt a dense mass matrix instead of a diagonal one.
    progress : bool, optional
        Progress bar; by default on only when stderr is a terminal.

    Returns
    -------
    xarray.DataTree
        Groups ``posterior``, ``sample_stats`` (divergences, step size, tree
        depth, energy, lp), ``log_likelihood``, ``posterior_predictive`` and
        ``observed_data``.
    """
    problem = prepare(model, data, priors)
    check_positive_ints(num_chains=num_chains, num_warmup=num_warmup, num_samples=num_samples)
    if not 0 < target_accept_prob < 1:
        raise ValueError(f"target_accept_prob must be in (0, 1); got {target_accept_prob!r}")
    method = chain_method(num_chains)
    key_run, key_pred = jax.random.split(jax.random.key(seed))
    kernel = NUTS(problem.program, target_accept_prob=target_accept_prob, dense_mass=dense_mass)
    mcmc = MCMC(
        kernel,
        num_warmup=num_warmup,
        num_samples=num_samples,
        num_chains=num_chains,
        chain_method=method,
        progress_bar=progress_enabled(progress),
    )
    with stopwatch() as elapsed:
        mcmc.run(key_run, extra_fields=EXTRA_FIELDS, **problem.args)
        jax.block_until_ready(mcmc.get_samples())
    flat = mcmc.get_samples()
    groups = predictive_groups(problem, flat, key_pred, num_chains, num_samples)
    tree = az.from_numpyro(
        mcmc,
        posterior_predictive={
            k: v.reshape((-1, *v.shape[2:])) for k, v in groups["posterior_predictive"].items()
        },
        log_likelihood=True,
        dims=problem.dims(),
        coords=problem.coords(),
    )
    settings = {
        "num_chains": num_chains,
        "num_warmup": num_warmup,
        "num_samples": num_samples,
        "chain_method": method,
        "target_accept_prob": target_accept_prob,
        "dense_mass": dense_mass,
        "divergences": int(np.sum(mcmc.get_extra_fields()["diverging"])),
    }
    tree.attrs.update(fit_attrs(problem, "nuts", seed, settings, elapsed[0]))
    return tree
