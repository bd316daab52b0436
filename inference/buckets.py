"""Shape buckets: data of nearby sizes share one compiled program.

XLA compiles one program per array shape. A fit on 455 rows, another on 456 (two folds
of a cross-validation) and a refit on 569 are three programs, each seconds to compile
and milliseconds to run (``../shared/notes/measured-here.md``: a LinearSVC fit on 455
rows 6.1 s the first time, 0.01 s again, 4.8 s on 456 rows). So the methods pad their
rows up to a *bucket size* with rows that carry no weight (a zero sample weight in the
learners; a mask in the likelihood of the probabilistic models), and every size in a
bucket runs the same program. A padded fit equals the unpadded one: a zero-weight row
adds exactly zero to every sum.

The ladder (:func:`bucket_size`): below 512 rows the sizes 2^k and 1.5·2^k (at most
half of the rows padding, two programs per octave: there compiling costs seconds and a
pass over the rows microseconds); from 512 rows eight sizes per octave, 2^k·(1 + j/8)
(at most an eighth padding: padded rows cost as much as real ones to a sampler, and
NUTS on breast cancer's 569 rows padded to 768 sampled about 35% slower,
``inference/probabilistic/rows.py``). ``FREQBAYES_SHAPE_BUCKETS=off`` turns padding
off (each size its own program, as before).
"""

from __future__ import annotations

import math
import os
import weakref
from typing import Any

import numpy as np

from freqbayes.models.threads import map_in_threads

#: The smallest bucket.
MIN_ROWS = 8
#: From here on the ladder is finer: eight sizes per octave.
FINE_FROM = 512
#: Environment variable: ``off`` turns padding off.
VARIABLE = "FREQBAYES_SHAPE_BUCKETS"


def buckets_on() -> bool:
    """Whether padding to bucket sizes is on (``FREQBAYES_SHAPE_BUCKETS`` not ``off``)."""
    value = os.environ.get(VARIABLE, "").strip().lower()
    return value not in ("off", "0", "no", "false")


def bucket_size(n: int) -> int:
    """The bucket that holds ``n`` rows: the smallest ladder size ≥ ``n``.

    Parameters
    ----------
    n
        Number of rows (≥ 0).

    Returns
    -------
    int
        ``n`` itself when padding is off; else 8, 12, 16, 24, …, 256, 384, 512, 576,
        640, …: below 512 the sizes 2^k and 1.5·2^k, from 512 on 2^k·(1 + j/8).

    Examples
    --------
    >>> [bucket_size(n) for n in (1, 9, 455, 456, 569, 5000)]
    [8, 12, 512, 512, 576, 5120]
    """
    if n < 0:
        raise ValueError(f"a number of rows cannot be negative: {n}")
    if not buckets_on():
        return n
    if n <= MIN_ROWS:
        return MIN_ROWS
    octave = 1 << (math.ceil(math.log2(n)) - 1)  # the power of two just below n (or n/2)
    steps = 8 if octave >= FINE_FROM else 2
    for j in range(1, steps + 1):
        size = octave + octave * j // steps
        if size >= n:
            return size
    return 2 * octave  # not reached: j = steps gives 2·octave


#: Byte alignment of the arrays :func:`pad_rows` makes. JAX on the CPU puts a host array
#: this aligned on the device without copying it (``jax.device_put`` of a 100 MB float32
#: array: resident memory unchanged, against +100 MB for NumPy's usual 16-byte alignment).
ALIGN = 64


def aligned_empty(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """``np.empty(shape, dtype)`` starting at a multiple of :data:`ALIGN` bytes."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    raw = np.empty(nbytes + ALIGN, np.uint8)
    start = -raw.ctypes.data % ALIGN
    return raw[start : start + nbytes].view(dtype).reshape(shape)


#: Arrays made by :func:`with_spare_rows`: id of the n-row array -> its whole buffer.
_SPARE: dict[int, np.ndarray] = {}


def with_spare_rows(n: int, rest: tuple[int, ...], dtype: Any) -> np.ndarray:
    """An empty aligned (n, *rest) array whose buffer has :func:`bucket_size` (n) rows.

    For a reader that fills a table's rows itself: :func:`pad_rows` then writes the
    padding into the spare rows and returns the whole buffer, instead of copying the
    table (at 10⁶ × 100 float32, 420 MiB and 3.3 s of fresh pages). The spare rows are
    no rows of the caller's; but every padded array made from the same table shares them,
    and a later pad writes them again (zeros, then what the caller puts there: row 0 for the
    probabilistic models): harmless because every consumer gives padded rows no weight.
    """
    whole = aligned_empty((max(bucket_size(n), n), *rest), dtype)
    out = whole[:n]
    key = id(out)
    _SPARE[key] = whole
    weakref.finalize(out, _SPARE.pop, key, None)  # the id may be reused once out is gone
    return out


def pad_rows(array: Any, size: int, fill: float | bool = 0) -> np.ndarray:
    """``array`` (a NumPy array, rows first) with ``fill`` rows appended up to ``size``.

    The input is returned unchanged when it already has ``size`` rows. A padded row of
    a design matrix is all ``fill`` (zero): it must be given zero weight by the caller.
    An array from :func:`with_spare_rows` with room for ``size`` rows is padded in its own
    buffer (no copy); otherwise the new array is aligned (:func:`aligned_empty`). On the
    CPU the device uses an aligned array in place, so it must not be written once it is
    on the device.
    """
    a = np.asarray(array)
    extra = size - a.shape[0]
    if extra < 0:
        raise ValueError(f"cannot pad {a.shape[0]} rows down to {size}")
    if extra == 0:
        return a
    whole = _SPARE.get(id(a))  # an id there is a living with_spare_rows array: `a` itself
    if whole is not None and whole.shape[0] >= size:
        whole[a.shape[0] : size] = fill
        return whole[:size]
    out = aligned_empty((size, *a.shape[1:]), a.dtype)  # one copy (np.pad: about 3× slower)
    copy_rows(out[: a.shape[0]], a)
    out[a.shape[0] :] = fill
    return out


#: Arrays of at least this many bytes are copied by :func:`copy_rows` in threads.
THREADED_COPY_BYTES = 64 << 20

#: Most threads :func:`copy_rows` uses (fewer on fewer cores).
COPY_THREADS = 4


def copy_rows(out: np.ndarray, a: np.ndarray) -> None:
    """``out[...] = a``, for a big array in threads over slices of rows.

    A copy into new memory pays the fresh pages' first touch, which is cheaper spread
    over the cores: 10⁶ × 100 float32 into a new aligned array, a new process each time
    (2026-12-06, this 2-core machine, five runs each): 0.30–1.04 s in one thread,
    0.03–0.12 s in two. NumPy's copy releases the GIL.
    """
    if a.ndim == 0 or a.nbytes < THREADED_COPY_BYTES:
        out[...] = a
        return
    parts = max(1, min(COPY_THREADS, a.shape[0]))
    cuts = np.linspace(0, a.shape[0], parts + 1).astype(int)

    def part(i: int) -> None:
        out[cuts[i] : cuts[i + 1]] = a[cuts[i] : cuts[i + 1]]

    map_in_threads(part, range(parts), COPY_THREADS)


def row_mask(n: int, size: int) -> np.ndarray:
    """``size`` booleans, the first ``n`` true: which rows of a padded array are data."""
    mask = np.zeros(size, dtype=bool)
    mask[:n] = True
    return mask
