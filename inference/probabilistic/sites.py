"""The sites a fit's DataTree holds besides the parameters: deterministic and observed.

* A program's ``numpyro.deterministic`` sites (eight schools' θ = μ + τ η in the
  non-centred program) are functions of the parameters and the data: they are computed
  from the posterior draws of any method and stored beside them.
* The observed variable takes the user's name: a formula's target column.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from numpyro.handlers import seed as seed_handler
from numpyro.handlers import substitute, trace

from freqbayes.inference.precision import jit
from freqbayes.inference.probabilistic.problem import Problem, _placeholder


def deterministic_sites(problem: Problem) -> list[str]:
    """The program's ``numpyro.deterministic`` sites, found without compiling."""
    found: list[str] = []

    def run(kwargs: Mapping[str, Any]) -> int:
        model = substitute(seed_handler(problem.program, 0), substitute_fn=_placeholder)
        tr = trace(model).get_trace(**kwargs)
        found.extend(name for name, site in tr.items() if site["type"] == "deterministic")
        return 0

    jax.eval_shape(run, dict(problem.kwargs))
    return found


@functools.partial(jit, static_argnames=("program",))
def _deterministic_block(
    program: Callable[..., None], params: Mapping[str, jnp.ndarray], kwargs: Mapping[str, Any]
) -> dict[str, jnp.ndarray]:
    """The deterministic sites' values at each draw of ``params`` (leading axis: draws)."""

    def one(p: Mapping[str, jnp.ndarray]) -> dict[str, jnp.ndarray]:
        tr = trace(substitute(seed_handler(program, 0), data=p)).get_trace(**kwargs)
        return {name: site["value"] for name, site in tr.items() if site["type"] == "deterministic"}

    return jax.vmap(one)(params)


def blocks(flat: Mapping[str, np.ndarray], block: int) -> Iterator[dict[str, jax.Array]]:
    """Draws (leading axis) in blocks of ``block``, the last padded by repeating its end.

    Every block has one shape, so a jitted function of it compiles once.
    """
    total = next(iter(flat.values())).shape[0]
    pad = (-total) % block
    padded = {k: np.concatenate([v, np.repeat(v[-1:], pad, axis=0)]) for k, v in flat.items()}
    for start in range(0, total + pad, block):
        yield {k: jax.device_put(v[start : start + block]) for k, v in padded.items()}


def deterministic_draws(
    problem: Problem, posterior: Mapping[str, np.ndarray], budget: int
) -> dict[str, np.ndarray]:
    """Every draw of the program's ``numpyro.deterministic`` sites, (chain, draw, ...) arrays.

    They are functions of the parameters and the data (eight schools' θ = μ + τ η in the
    non-centred program), computed from ``posterior`` after any method, point fits included,
    in blocks of draws of about ``budget`` / 4 values per observation.
    """
    if not deterministic_sites(problem):
        return {}
    chains, draws = next(iter(posterior.values())).shape[:2]
    flat = {k: np.asarray(v).reshape(chains * draws, *v.shape[2:]) for k, v in posterior.items()}
    block = max(1, min(chains * draws, budget // 4 // max(1, problem.size)))
    parts = [
        jax.device_get(_deterministic_block(problem.program, part, problem.kwargs))
        for part in blocks(flat, block)
    ]
    return {
        k: np.concatenate([p[k] for p in parts])[: chains * draws].reshape(
            chains, draws, *parts[0][k].shape[1:]
        )
        for k in parts[0]
    }


#: The groups that hold the observed variable.
OBSERVED_GROUPS = (
    "posterior_predictive",
    "log_likelihood",
    "log_likelihood_at_estimate",
    "prior_predictive",
    "observed_data",
)


def observed_name(problem: Problem, taken: set[str]) -> str:
    """The observed variable's name in the fit: the user's, where there is one.

    A table fitted with a formula names its target (``kid_score ~ mom_iq``: the fit's
    ``observed_data``, ``posterior_predictive`` and ``log_likelihood`` hold ``kid_score``);
    otherwise, or when that name is not a plain identifier or is ``taken`` (a parameter,
    a data argument or a dim of the fit), the model's observed site (a program's own).
    """
    target = problem.data.attrs.get("target")
    if isinstance(target, str) and target.isidentifier() and target not in taken:
        return target
    return problem.model.observed
