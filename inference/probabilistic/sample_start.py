"""Point estimates on many rows: L-BFGS on a sample of them, then quasi-Newton on all.

L-BFGS on all n rows takes one pass over them per iteration (and more in its line
searches): a logistic MAP at 10⁷ × 100 float32 took 10 iterations, 6–8 s of passes
(2026-12-06, this 2-core machine). Here, for MAP and MLE on more than c rows padded on
one device (:func:`~freqbayes.inference.probabilistic.row_sample.sampled`):

1. **The start**: L-BFGS on a systematic sample of c rows
   (:func:`~freqbayes.inference.probabilistic.row_sample.systematic_sample`), its likelihood
   weighted by n/c, plus the prior: the objective's estimate from c rows, whose optimum
   lies about √(n/c) standard deviations of the full data's posterior from the optimum
   (the sample's own sampling error). Each iteration reads c rows, not n.
2. **Quasi-Newton steps on all rows** (:func:`~freqbayes.inference.optim.polish` with
   the Hessian of the sample times n/c): each step one pass for the full gradient, the
   step solved with the sampled Hessian, whose relative error of about √(p/c) (p
   parameters) is also the factor by which each step shrinks the distance to the
   optimum; stopped by the Newton decrement computed with that Hessian (the certificate
   of :mod:`.optimize`). At 10⁷ rows √(n/c) ≈ 9 standard deviations, and four steps
   bring it under 10⁻³ when √(p/c) ≈ 0.03.

Where the steps do not certify the point (a step refused, a column nonzero only in rows
the sample skips), :func:`~.optimize.point_estimate` falls back to L-BFGS on all rows
from the intercept-only start (not from the steps' point: the sample of a separable MLE,
say, can lead far off), certified with the sampled Hessian and, where that fails too,
the exact one (:func:`refine` with c = 0). Laplace's mode (the density of the
unconstrained coordinates, with its Jacobian) is found by L-BFGS on all rows. The
record's ``iterations`` are then L-BFGS's on the sample; ``start_rows`` and
``newton_hessian_rows`` say which path gave the estimate.

The certificate's λ is computed with the sampled Hessian. Its error is of the order of
√(p/c) where each column's values are spread over many rows; a rare level of a category
taken into the sample once weighs n/c rows, so λ along it is underestimated by up to
√(n/c) (up to 2.8 at 10⁶ rows): the certificate 10⁻³ then means at most 2.8·10⁻³. Rare
levels the sample misses make λ larger (the fallback). Models with group-level terms
are never sampled (:func:`~.optimize.certificate_rows`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from freqbayes.inference.optim import OptimInfo, minimize, polish
from freqbayes.inference.precision import jit
from freqbayes.inference.probabilistic.problem import Target
from freqbayes.inference.probabilistic.row_sample import sampled_hessian, systematic_sample

#: Most quasi-Newton steps on all rows from the sample's optimum (four are expected).
STEPS = 8


def negative_objective(
    target: Target, objective: str, s: Any, weight: jnp.ndarray | None = None
) -> Callable[[Any, Mapping[str, Any]], jnp.ndarray]:
    """(u, kwargs) ↦ the function that ``objective`` minimises (see :mod:`.optimize`).

    ``likelihood``: −log p(y | θ(u)); ``posterior``: −log p(θ(u), y), both densities of
    the constrained θ; ``unconstrained-posterior``: the potential of u (its Jacobian
    included). ``weight`` multiplies each row's log-likelihood (not for the potential).
    """
    if objective == "unconstrained-posterior":
        assert weight is None

        def negative_at(u, kw):
            return target.potential(kw, s, u)

    else:

        def negative_at(u, kw):
            prior = objective == "posterior"
            return -target.log_density(kw, s, u, include_prior=prior, weights=weight)

    return negative_at


@functools.partial(jit, static_argnames=("target", "objective", "max_iter", "c"))
def sample_start(
    target: Target,
    kwargs: Mapping[str, Any],
    s: Any,
    u0: dict[str, jnp.ndarray],
    gtol: float,
    objective: str,
    max_iter: int,
    c: int,
) -> tuple[dict[str, jnp.ndarray], OptimInfo]:
    """Step 1: L-BFGS from u₀ on c sampled rows, their log-likelihood weighted by n/c."""
    dtype = ravel_pytree(u0)[0].dtype
    sample, ratio = systematic_sample(kwargs, target.rows, c, dtype)
    fun = target.objective(negative_objective(target, objective, s, ratio), sample)
    return minimize(fun, u0, gtol=gtol, max_iter=max_iter)


@functools.partial(jit, static_argnames=("target", "objective", "c"))
def refine(
    target: Target,
    kwargs: Mapping[str, Any],
    s: Any,
    u: dict[str, jnp.ndarray],
    info: OptimInfo,
    objective: str,
    c: int,
) -> tuple[dict[str, jnp.ndarray], dict[str, jnp.ndarray], OptimInfo]:
    """Newton steps on all rows from u (:func:`polish`): step 2, or an exact certificate.

    ``c`` > 0: quasi-Newton steps with one Hessian, of c rows × n/c at u (step 2); within
    ~√(n/c) sds of the optimum it barely changes, and recomputing it at each step would
    cost more than the step's pass over all rows at 10⁶ (c·p² products against n·p).
    ``c`` = 0: the exact Hessian at each point, where a sampled one did not certify.
    """
    negative_at = negative_objective(target, objective, s)
    flat, unravel = ravel_pytree(u)

    def fun(w: jnp.ndarray, k: Mapping[str, Any]) -> jnp.ndarray:
        return negative_at(unravel(w), k)

    if c:
        fixed = sampled_hessian(fun, flat, kwargs, target.rows, c)
        hessian = lambda v: fixed  # noqa: E731
    else:
        hessian = lambda v: target.hessian(fun, v, kwargs)  # noqa: E731
    objective_of_u = target.objective(negative_at, kwargs)
    u, info = polish(objective_of_u, u, info._replace(grad=None), steps=STEPS, hessian=hessian)
    return u, target.constrain(kwargs, s, u), info
