"""Rows sharded over devices and processes: the log-likelihood as a sum over shards.

A fit's row arrays (the outcome, X, trials, group indices and the row mask of
:mod:`~freqbayes.inference.probabilistic.rows`) can be placed as one global array split
along its rows, ``NamedSharding(Mesh(devices, ("rows",)), P("rows"))``, over every
device JAX sees: the local devices of this process and, after
``jax.distributed.initialize`` (:mod:`freqbayes.launch`), those of the other processes.
Parameters, priors and chains are replicated. The compiled likelihoods, gradients and
Hessians are then partitioned by XLA (GSPMD): each device sums its own rows and the
partial sums are added by a collective (all-reduce; gloo between CPU processes). Where
gradients by blocks of rows pay (CPUs with few cores, :mod:`.rows`), each device sums the
blocks of its own rows inside ``jax.shard_map`` and one ``psum`` adds them; Hessians
always go by such blocks. No
method changes: ``mle``, ``map``, ``laplace``, ``wald``, ``svi`` and ``nuts`` run the
same program on a sharded input.

The rows are padded to a multiple of the device count (above the shape bucket), and
padded rows are masked, so the fit is that of the real rows; only the order of the
floating-point sums changes (MAP over two CPU devices agreed with one device to 1e-7
relative for a logistic and 3e-6 for a linear regression in float32, 2026-12-05; NUTS,
whose trajectories amplify the last digits, gives other draws of the same posterior).

When rows are sharded (``FREQBAYES_SHARD_ROWS``):

- ``auto`` (default): in a multi-process run (every process holds only its rows, so
  they must be); in one process when it sees more than one accelerator (GPU, TPU).
  Not over the CPU devices of one process: there the command line's devices are the
  machine's cores, and NUTS splits its *chains* over them
  (:func:`~freqbayes.inference.probabilistic.mcmc.chain_devices`), which needs no
  communication at all, where a row split pays an all-reduce per gradient.
- ``on``: whenever more than one device is seen (CPU devices included).
- ``off``: never in one process (a multi-process run still must).

Rows and chains are not split over the same devices: with rows sharded, each chain
runs on every device (its gradient needs every row), so NUTS runs its chains one after
another (``devices=1``); a 2-D mesh (chains × rows) would need more devices than the
machines here have.

Models whose parameters grow with the rows (``pads_rows=False``: the GP classifier) are
never sharded: their latent would have to be sharded too.

In a multi-process run from a Parquet file or folder each process reads only its own
rows (:mod:`.shares`: the row groups overlapping its part of the padded global array,
which :func:`local_rows` must confirm), and the host-side summaries every process needs
(scaling, default priors, existence checks) come from those rows and a collective; the
rows are placed by ``jax.make_array_from_process_local_data`` from that part alone. CSV
input and formulas not computed row by row are still read whole by every process, and
only the rows each owns go to its devices (:func:`shard_arguments`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

#: The environment variable that chooses when rows are sharded: auto, on, off.
VARIABLE = "FREQBAYES_SHARD_ROWS"
#: The mesh axis the rows are split along.
ROWS = "rows"


def setting(variable: str = VARIABLE) -> str:
    """An auto/on/off environment variable as ``"auto"``, ``"on"`` or ``"off"``.

    ``variable`` defaults to ``FREQBAYES_SHARD_ROWS``; unset is auto; anything else is a
    clear error.
    """
    value = os.environ.get(variable, "auto").strip().lower() or "auto"
    aliases = {"1": "on", "yes": "on", "true": "on", "0": "off", "no": "off", "false": "off"}
    value = aliases.get(value, value)
    if value not in ("auto", "on", "off"):
        raise ValueError(f"{variable} must be auto, on or off; got {value!r}")
    return value


def shards_rows(model: Any) -> bool:
    """Whether a fit of ``model`` has its rows sharded now (see the module for the rule)."""
    multi = jax.process_count() > 1
    if not getattr(model, "pads_rows", False):
        if multi:
            raise ValueError(
                f"model: {getattr(model, 'name', model)!r} cannot be split over processes "
                "(its parameters grow with the rows)"
            )
        return False
    if multi:
        return True
    if jax.device_count() < 2:
        return False
    value = setting()
    if value == "auto":
        return jax.devices()[0].platform != "cpu"
    return value == "on"


def mesh() -> Mesh:
    """Every device of every process along one axis, :data:`ROWS`."""
    return Mesh(np.asarray(jax.devices()), (ROWS,))


def row_sharding() -> NamedSharding:
    """Rows split over :func:`mesh`: ``NamedSharding(mesh, P("rows"))``."""
    return NamedSharding(mesh(), PartitionSpec(ROWS))


def replicated() -> NamedSharding:
    """Whole on every device of :func:`mesh`."""
    return NamedSharding(mesh(), PartitionSpec())


def local_rows(sharding: NamedSharding, shape: tuple[int, ...]) -> slice:
    """The rows of a global array of ``shape`` that this process's devices hold."""
    index = sharding.addressable_devices_indices_map(shape).values()
    starts = [i[0].start or 0 for i in index]
    stops = [shape[0] if i[0].stop is None else i[0].stop for i in index]
    return slice(min(starts), max(stops))


def place_rows(a: np.ndarray) -> jax.Array:
    """A host array of all the rows as a global array sharded along its rows.

    Each process puts on its devices only its own rows
    (``jax.make_array_from_process_local_data``); ``a`` must have a number of rows
    divisible by the device count.
    """
    sharding = row_sharding()
    if jax.process_count() == 1:
        return jax.device_put(a, sharding)
    rows = local_rows(sharding, a.shape)
    return jax.make_array_from_process_local_data(sharding, a[rows], a.shape)


def place_whole(tree: Any) -> Any:
    """Every array leaf of ``tree`` replicated on every device of :func:`mesh`.

    Needed between processes only (one jitted program takes global arrays); in one
    process the leaves are left as they are (JAX replicates them).
    """
    if jax.process_count() == 1:
        return tree
    sharding = replicated()

    def put(leaf: Any) -> Any:
        if isinstance(leaf, jax.Array | np.ndarray):
            return jax.make_array_from_process_local_data(sharding, np.asarray(leaf))
        return leaf

    return jax.tree.map(put, tree)


def shard_arguments(args: Mapping[str, Any], rows: tuple[str, ...]) -> dict[str, Any]:
    """``args`` (host arrays, padded) with the ``rows`` arguments sharded, the rest whole.

    In one process the rest is put on the default device, as unsharded fits do.
    """
    one = jax.process_count() == 1
    return {
        k: place_rows(np.asarray(v)) if k in rows else jax.device_put(v) if one else place_whole(v)
        for k, v in args.items()
    }


def to_host(a: Any) -> np.ndarray:
    """A (possibly global, sharded) array as one NumPy array on this host.

    An array spread over other processes' devices is gathered first
    (``multihost_utils.process_allgather``: every process must call this together).
    """
    if isinstance(a, jax.Array) and not (a.is_fully_addressable or a.is_fully_replicated):
        from jax.experimental import multihost_utils

        return np.asarray(multihost_utils.process_allgather(a, tiled=True))
    return np.asarray(a)
