"""JAX's persistent compilation cache, shared safely by processes that run at once.

A fit's programs take seconds to compile and milliseconds to run again; JAX can keep
the compiled programs on disk so that a new process starts warm
(``../shared/notes/measured-here.md``: a new process's first NUTS run 6.7 s → 2.8 s).

JAX writes a cache entry with a plain ``write_bytes`` and reads it without a lock unless
the cache has a size limit, in which case every read and write holds a ``filelock``
lock on the folder. Two processes that share the folder without one (two commands at
once, or the test suite's two workers) were seen to read each other's half-written
entries: "Error reading persistent compilation cache entry …: incomplete or truncated
stream", in 4 of 6 rounds of four processes compiling the same 300 small programs into
one fresh folder (``benchmarks/cache_race.py``, 2026-12-04); with the limit set, 0 of 3
rounds. So the cache here always has a limit.
"""

from __future__ import annotations

import os
from pathlib import Path

import jax

#: Size limit of the cache folder: the least recently used programs are dropped beyond it.
#: The whole test suite writes about 60 MB (1,378 programs, compressed).
MAX_BYTES = 2 * 1024**3


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/freqbayes/jax`` (``~/.cache/freqbayes/jax`` when unset)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "freqbayes" / "jax"


def enable_persistent_cache(directory: Path | str | None = None) -> Path:
    """Keep every compiled program in ``directory``, locked for concurrent processes.

    Parameters
    ----------
    directory
        The cache folder; :func:`default_cache_dir` when ``None``.

    Returns
    -------
    Path
        The folder in use. Every program is kept, however quick to compile (the
        learners' programs compile in well under JAX's default threshold of one second,
        and a process pays each again otherwise).
    """
    folder = Path(directory) if directory is not None else default_cache_dir()
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_compilation_cache_max_size", MAX_BYTES)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    return folder


def configure_jax(devices: int | None = None) -> None:
    """Set JAX up for a command-line process before its first operation.

    One CPU device per core (so NUTS chains, k-NN queries and k-means rows split over
    the cores: :mod:`freqbayes.inference.devices`) and the persistent compilation cache
    of :func:`enable_persistent_cache` (a second run of the same fit skips most
    compilation).
    """
    try:
        jax.config.update("jax_num_cpu_devices", devices or os.cpu_count() or 1)
    except RuntimeError:  # JAX already running (e.g. main() called from Python): keep its devices
        pass
    enable_persistent_cache()
