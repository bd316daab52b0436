"""Work split over the local devices: one compiled program, each device a share of it.

The command line makes one CPU device per core (``jax_num_cpu_devices``); a Python
session has one unless the user configures more before JAX's first operation, e.g.
``jax.config.update("jax_num_cpu_devices", os.cpu_count())``. XLA runs a fused loop
on one thread per device, so on a CPU this is how one program uses every core:
NUTS splits its chains, k-NN its queries and k-means its rows.

Use :func:`over_devices` with :data:`SPLIT` for arguments split along their
leading axis (along ``AXIS``) and :data:`WHOLE` for arguments every device sees
whole; inside, ``jax.lax.psum(..., AXIS)`` combines the devices' shares.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
from jax.sharding import PartitionSpec

#: Name of the mesh axis the work is split along.
AXIS = "devices"
#: Split along the leading axis.
SPLIT = PartitionSpec(AXIS)
#: Whole on every device.
WHOLE = PartitionSpec()


def device_count(limit: int | None = None) -> int:
    """The local devices to use: all of them, or at most ``limit`` (a positive integer)."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"devices must be a positive integer; got {limit!r}")
    return min(jax.local_device_count(), limit or jax.local_device_count())


def divisor_count(num_items: int, limit: int | None = None) -> int:
    """The most devices (up to :func:`device_count`) that share ``num_items`` evenly."""
    most = min(device_count(limit), max(num_items, 1))
    return max(d for d in range(1, most + 1) if num_items % d == 0)


def over_devices(
    fn: Callable[..., Any], devices: int, in_specs: Any, out_specs: Any
) -> Callable[..., Any]:
    """``fn`` run on ``devices`` local devices, each with its share (``jax.shard_map``).

    With one device ``fn`` itself is returned. Arguments marked :data:`SPLIT` must
    have a leading axis divisible by ``devices``.
    """
    if devices == 1:
        return fn
    mesh = jax.make_mesh(
        (devices,),
        (AXIS,),
        axis_types=(jax.sharding.AxisType.Auto,),
        devices=jax.local_devices()[:devices],
    )
    return jax.shard_map(fn, mesh=mesh, in_specs=in_specs, out_specs=out_specs, check_vma=False)


#: ``chain_method`` choices of NUTS (:func:`~freqbayes.inference.probabilistic.mcmc.nuts`).
CHAIN_METHODS = ("auto", "sequential", "vectorized")


def vectorized_chains(chain_method: str = "auto", platform: str | None = None) -> bool:
    """Whether the chains of one device run in one vectorised program (``vmap``).

    ``"auto"`` chooses from the device kind. On a GPU the chains must share the
    device's width: on an NVIDIA H200 (50,000 × 50 logistic, 4 × (500 + 500)),
    BlackJAX's chains in ``vmap`` gave 800 ESS/s and in ``lax.map`` 228, and NumPyro's
    own sequential chains 49 (issue 27, 2026-12-04). On a CPU the chains stay one after
    another, as issue 27 asks from earlier measurements (a vectorised NUTS step waits for
    the longest trajectory of the batch); not measured again here. ``platform`` defaults
    to the platform of JAX's first device.
    """
    if chain_method not in CHAIN_METHODS:
        raise ValueError(
            f"chain_method must be one of {', '.join(CHAIN_METHODS)}; got {chain_method!r}"
        )
    if chain_method != "auto":
        return chain_method == "vectorized"
    return (platform or jax.devices()[0].platform) != "cpu"
