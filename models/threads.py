"""Threads for NumPy and Arrow work that releases the GIL: how many, and a map over them.

Used where one pass over a big array is cut into independent parts: reading a Parquet
table (:mod:`.pieces`), its column summaries (:mod:`.probabilistic.scaling`), a padded
copy (:mod:`freqbayes.inference.buckets`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any


def usable_cores() -> int:
    """The cores this process may run on.

    Its CPU affinity (``os.cpu_count()`` where the platform does not say); CPU quotas of a
    container (cgroups) are not seen.
    """
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


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
