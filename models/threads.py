"""Threads for NumPy and Arrow work that releases the GIL: how many, and a map over them.

Used where one pass over a big array is cut into independent parts: reading a Parquet
table (:mod:`.pieces`), its column summaries (:mod:`.probabilistic.scaling`), a padded
copy (:mod:`freqbayes.inference.buckets`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

#: Where a container's CPU quota is read (cgroup v2 ``cpu.max``, or v1's ``cpu`` folder).
CGROUP = "/sys/fs/cgroup"


def usable_cores() -> int:
    """The cores this process may run on.

    Its CPU affinity (``os.cpu_count()`` where the platform does not say), capped by its
    container's CPU quota, rounded up (:func:`cpu_quota`: ``docker --cpus=2`` on a
    64-core host gives 2).
    """
    if hasattr(os, "sched_getaffinity"):
        cores = max(1, len(os.sched_getaffinity(0)))
    else:
        cores = os.cpu_count() or 1
    quota = cpu_quota()
    return cores if quota is None else max(1, min(cores, quota))


def cpu_quota(root: str | None = None) -> int | None:
    """The CPU quota of the cgroup at ``root`` in whole cores, rounded up; None: none set.

    ``root`` defaults to :data:`CGROUP`.

    cgroup v2: ``cpu.max`` ("200000 100000": 2 cores; "max 100000": none). cgroup v1:
    ``cpu/cpu.cfs_quota_us`` over ``cpu/cpu.cfs_period_us`` (a quota of -1: none). A
    container sees its own cgroup at the root; a process in a nested cgroup of a host
    (a systemd slice) is not followed there. Unreadable files: None.
    """
    root = CGROUP if root is None else root
    try:
        v2 = os.path.join(root, "cpu.max")
        if os.path.exists(v2):
            with open(v2) as f:
                quota, period = [*f.read().split(), "100000"][:2]
        else:
            with open(os.path.join(root, "cpu", "cpu.cfs_quota_us")) as f:
                quota = f.read().strip()
            with open(os.path.join(root, "cpu", "cpu.cfs_period_us")) as f:
                period = f.read().strip()
        if quota in ("max", "-1"):
            return None
        return max(1, -(-int(quota) // int(period)))
    except (OSError, ValueError):
        return None


def map_in_threads(fn: Callable[[Any], Any], items: Sequence[Any], most: int) -> list[Any]:
    """``[fn(x) for x in items]`` in up to ``most`` threads, the results in order.

    At most :func:`usable_cores` threads; in this thread when one is all there is. For
    NumPy and Arrow work that releases the GIL.
    """
    threads = max(1, min(most, usable_cores(), len(items)))
    if threads == 1:
        return [fn(x) for x in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(fn, items))
