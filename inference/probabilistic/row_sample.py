"""A systematic sample of a fit's rows, and the Hessian it estimates.

Point estimates on many rows (:mod:`.sample_start`) start from the optimum of c of the
n rows and take quasi-Newton steps on all of them with the Hessian of those c rows
times n/c; the certificate of :mod:`.optimize` uses that Hessian too. The sample is
systematic (row ⌊(j + ½) n/c⌋), so that it needs no key: a MAP has no seed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp

from freqbayes.inference.probabilistic.rows import ROW_MASK, blocked_hessian, no_rows


def sampled(kwargs: Mapping[str, Any], rows: tuple[str, ...], c: int) -> bool:
    """Whether :func:`systematic_sample` applies: rows padded, masked, and more than c."""
    return bool(rows) and ROW_MASK in kwargs and int(kwargs[ROW_MASK].shape[0]) > c


def systematic_sample(
    kwargs: Mapping[str, Any], rows: tuple[str, ...], c: int, dtype: Any
) -> tuple[dict[str, Any], jnp.ndarray]:
    """``kwargs`` with the row arguments cut to c rows spread evenly over the n real ones.

    Row ⌊(j + ½) n/c⌋ for j < c (the real rows come first): deterministic, and on rows
    sorted by a column a stratified sample. Returns the sample's arguments (every row
    real) and n/c.
    """
    index, ratio = systematic_index(kwargs, c, dtype)
    sample = {**kwargs, **{k: kwargs[k][index] for k in rows if k in kwargs}}
    sample[ROW_MASK] = jnp.ones(c, bool)
    return sample, ratio


def systematic_index(kwargs: Mapping[str, Any], c: int, dtype: Any) -> tuple[Any, Any]:
    """The rows of :func:`systematic_sample` (c indices, increasing) and n/c."""
    real = jnp.sum(kwargs[ROW_MASK])
    ratio = real.astype(dtype) / c
    index = jnp.floor((jnp.arange(c, dtype=dtype) + 0.5) * ratio).astype(jnp.int32)
    return jnp.clip(index, 0, real - 1), ratio


def sampled_hessian(
    fun: Callable[[jnp.ndarray, Mapping[str, Any]], jnp.ndarray],
    v: jnp.ndarray,
    kwargs: Mapping[str, Any],
    rows: tuple[str, ...],
    c: int,
) -> jnp.ndarray:
    """An approximate ∇²f(v) from c of the n real rows: their Hessian times n/c.

    f(v) = ``fun(v, kwargs)`` = (row-free terms: priors, Jacobians) + Σ_i ℓ_i(v). The
    rows' part is estimated from a systematic sample of c of the n real rows
    (:func:`systematic_sample`), the row-free terms taken exactly:
    H ≈ H_free + (n/c)(H_sample − H_free). Its relative error is of the order of √(p/c)
    for p parameters, and its cost c·p² products against n·p² for the exact Hessian
    (:func:`blocked_hessian`, which it is where the rows are not padded and masked or the
    padded size is at most c).
    """
    if not sampled(kwargs, rows, c):
        return blocked_hessian(fun, v, kwargs, rows)
    index, ratio = systematic_index(kwargs, c, v.dtype)  # gathered block by block
    free = jax.hessian(fun)(v, no_rows(kwargs, rows))
    sample = blocked_hessian(fun, v, kwargs, rows, index=index)
    return ratio * sample - (ratio - 1.0) * free
