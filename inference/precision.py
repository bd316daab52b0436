"""The precision of the library's own matrix products, chosen per computation.

On GPUs JAX's default float32 matrix product uses reduced-precision arithmetic (TF32 on
NVIDIA cards: a 10-bit mantissa). A logistic MAP at 10⁶ × 100 on an H200 then stopped
after 1,000 L-BFGS iterations with the Newton decrement at 0.2, and converged once the
products were computed in full float32 (issue 27, measured 2026-12-04). Likelihoods,
their gradients and Hessians, Newton steps and distances are what this library computes,
and none of them is safe in TF32, so every program the library compiles traces its body
under ``jax.default_matmul_precision(MATMUL_PRECISION)``: the setting applies inside
those programs only (their gradients included, since they are traced inside the body)
and leaves the user's own setting (``jax_default_matmul_precision``,
``JAX_DEFAULT_MATMUL_PRECISION``) untouched for their code. On CPUs float32 products
are full precision anyway; the programs are the same.

:func:`jit` is ``jax.jit`` with that context; the core uses it for every program it
compiles (``tests/test_precision.py`` checks the lowered programs and that no module of
the core calls ``jax.jit`` itself).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

#: What every program of the library uses for float32 matrix products ("highest": full
#: float32 on every device).
MATMUL_PRECISION = "highest"


def precise(fun: Callable[..., Any]) -> Callable[..., Any]:
    """``fun`` traced with the library's matmul precision (name and signature kept)."""
    import jax

    @functools.wraps(fun)
    def inner(*args: Any, **kwargs: Any) -> Any:
        with jax.default_matmul_precision(MATMUL_PRECISION):
            return fun(*args, **kwargs)

    return inner


def jit(fun: Callable[..., Any] | None = None, **jit_kwargs: Any) -> Any:
    """``jax.jit(fun, **jit_kwargs)`` whose body is traced under :data:`MATMUL_PRECISION`.

    Usable as ``@jit``, ``jit(fun, static_argnames=...)`` or
    ``functools.partial(jit, static_argnames=...)``; returns JAX's own jitted function
    (``lower``, ``_cache_size`` and static arguments work as with ``jax.jit``).
    """
    import jax

    if fun is None:
        return functools.partial(jit, **jit_kwargs)
    return jax.jit(precise(fun), **jit_kwargs)
