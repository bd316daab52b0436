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

Library users get the cache too (:func:`use_default_cache`, run when
``freqbayes.models`` or ``freqbayes.inference`` is first imported): a second Python
process that fits the same model starts warm. It never overrides a cache folder the
user chose (JAX's config or its ``JAX_COMPILATION_CACHE_DIR``), and
``FREQBAYES_COMPILATION_CACHE`` chooses it: unset, the platform's user cache folder
(:func:`default_cache_dir`); a path, that folder; ``off``, none. This module imports
JAX only when a function needs it, so that importing the package stays light.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Size limit of the cache folder: the least recently used programs are dropped beyond it.
#: A fresh-clone test run with the cache on wrote 148 MB (6,910 programs, compressed;
#: 2026-12-05): far below the limit. The test suite has its own cache folder
#: (tests/conftest.py): 153 MB, 8,018 files after a run.
MAX_BYTES = 2 * 1024**3


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/freqbayes/jax`` (``~/.cache/freqbayes/jax`` when unset)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "freqbayes" / "jax"


#: Environment variable: a cache folder, or ``off``; unset, :func:`default_cache_dir`.
CACHE_VARIABLE = "FREQBAYES_COMPILATION_CACHE"

#: JAX's settings of the cache, under the names of their environment variables.
_SETTINGS = {
    "jax_compilation_cache_max_size": MAX_BYTES,
    "jax_persistent_cache_min_compile_time_secs": 0,
    "jax_persistent_cache_min_entry_size_bytes": -1,
}


def use_default_cache() -> Path | None:
    """Turn the persistent cache on for this process unless the user chose otherwise.

    Before JAX is imported this sets JAX's environment variables (``setdefault``: the
    user's own win) and imports nothing; after, it updates JAX's config unless a cache
    folder is set there already. Returns the folder in use by freqbayes' choice, or
    ``None`` (turned off, or the user's folder kept).
    """
    chosen = os.environ.get(CACHE_VARIABLE)
    if chosen is not None and chosen.strip().lower() in ("off", "0", "no", "false", ""):
        return None
    folder = Path(chosen) if chosen else default_cache_dir()
    jax = sys.modules.get("jax")
    if jax is None:
        if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
            return None
        os.environ["JAX_COMPILATION_CACHE_DIR"] = str(folder)
        for name, value in _SETTINGS.items():
            os.environ.setdefault(name.upper(), str(value))
        return folder
    if jax.config.jax_compilation_cache_dir:
        return None
    return enable_persistent_cache(folder)


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
    import jax

    folder = Path(directory) if directory is not None else default_cache_dir()
    jax.config.update("jax_compilation_cache_dir", str(folder))
    for name, value in _SETTINGS.items():
        jax.config.update(name, value)
    return folder


def configure_jax(devices: int | None = None) -> None:
    """Set JAX up for a command-line process before its first operation.

    One CPU device per core (so NUTS chains, k-NN queries and k-means rows split over
    the cores: :mod:`freqbayes.inference.devices`) and the persistent compilation cache
    of :func:`use_default_cache` (a second run of the same fit skips most compilation;
    a folder the user chose is kept).
    """
    import jax

    try:
        jax.config.update("jax_num_cpu_devices", devices or os.cpu_count() or 1)
    except RuntimeError:  # JAX already running (e.g. main() called from Python): keep its devices
        pass
    use_default_cache()


# ------------------------------------------------------------------ counting compilations

#: JAX's monitoring event around each XLA compilation (a persistent-cache hit included:
#: the program was still new to this process).
BACKEND_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"
#: JAX's monitoring event of a program read from the persistent cache.
CACHE_HIT_EVENT = "/jax/compilation_cache/cache_hits"


@dataclass
class Compilations:
    """The programs JAX compiled inside one :func:`count_compilations` block.

    ``programs`` holds ``(name, seconds)`` per program in order (the jitted function's
    name and the wall time of its compilation, or of reading it from the persistent
    cache); ``cache_hits`` how many of them came from the persistent cache.
    """

    programs: list[tuple[str, float]] = field(default_factory=list)
    cache_hits: int = 0

    @property
    def count(self) -> int:
        """How many programs were new to this process."""
        return len(self.programs)

    @property
    def seconds(self) -> float:
        """Wall time spent compiling (or reading the cache)."""
        return sum(s for _, s in self.programs)

    def by_name(self) -> dict[str, tuple[int, float]]:
        """``name → (programs, seconds)``, slowest first."""
        out: dict[str, list[float]] = {}
        for name, s in self.programs:
            out.setdefault(name, []).append(s)
        pairs = {k: (len(v), sum(v)) for k, v in out.items()}
        return dict(sorted(pairs.items(), key=lambda kv: -kv[1][1]))

    def table(self, top: int = 10) -> str:
        """A plain-text profile: programs, seconds and name, slowest first."""
        lines = [f"{self.count} programs, {self.seconds:.2f} s ({self.cache_hits} from the cache)"]
        for name, (n, s) in list(self.by_name().items())[:top]:
            lines.append(f"{n:5d} {s:8.2f} s  {name}")
        return "\n".join(lines)


@contextmanager
def count_compilations() -> Iterator[Compilations]:
    """Count the XLA programs compiled inside the block, through JAX's monitoring events.

    A program already compiled in this process is not counted again (JAX's in-memory
    cache answers it); one read from the persistent cache is counted (it is a program
    this process had not seen) and also in ``cache_hits``. Used by the compile-budget
    tests and the benchmarks. Blocks may nest; each counts its own.

    Examples
    --------
    >>> with count_compilations() as seen:  # doctest: +SKIP
    ...     LinearSVC().fit(X, y)
    >>> seen.count, seen.table()  # doctest: +SKIP
    """
    from jax import monitoring

    seen = Compilations()

    def on_duration(event: str, duration: float, **kwargs: object) -> None:
        if event == BACKEND_COMPILE_EVENT:
            seen.programs.append((str(kwargs.get("fun_name", "?")), float(duration)))

    def on_event(event: str, **kwargs: object) -> None:
        if event == CACHE_HIT_EVENT:
            seen.cache_hits += 1

    monitoring.register_event_duration_secs_listener(on_duration)
    monitoring.register_event_listener(on_event)
    try:
        yield seen
    finally:
        monitoring.unregister_event_duration_listener(on_duration)
        monitoring.unregister_event_listener(on_event)


#: XLA's setting for a program that compiles quickly: the CPU backend's optimisation off.
QUICK_COMPILE = {"xla_backend_optimization_level": 0}
#: Padded rows up to which a solver (a learner's, SVI's) is compiled with :data:`QUICK_COMPILE`.
QUICK_COMPILE_ROWS = 1024


class SizedJit:
    """A function jitted twice: quick to compile for small data, optimised for large.

    Compiling is what a small fit costs: on breast cancer (512 padded rows) a LinearSVC
    solver took 5.4 s to compile with XLA's default optimisation and 1.8 s without it,
    and runs in milliseconds either way; at 200,000 rows the unoptimised program ran
    2× slower (0.63 s against 0.31 s), where the compile is the smaller cost. So
    ``for_rows(n)`` returns the quickly compiled version up to ``quick_rows`` rows,
    else the optimised one. Both keep the function's name (the compile profile's).
    """

    def __init__(self, fun: Any, quick_rows: int = QUICK_COMPILE_ROWS, **jit_kwargs: Any) -> None:
        from freqbayes.inference.precision import jit

        self.optimised = jit(fun, **jit_kwargs)
        self.quick = jit(fun, compiler_options=QUICK_COMPILE, **jit_kwargs)
        self.quick_rows = quick_rows
        functools.update_wrapper(self, fun)

    def for_rows(self, rows: int) -> Any:
        """The version for data of ``rows`` (padded) rows."""
        return self.quick if rows <= self.quick_rows else self.optimised

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """The optimised version (callers that know their rows use :meth:`for_rows`)."""
        return self.optimised(*args, **kwargs)

    def _cache_size(self) -> int:
        """Programs traced so far, both versions (as ``jax.jit``'s ``_cache_size``)."""
        return self.optimised._cache_size() + self.quick._cache_size()


# ------------------------------------------------------------------ memory mappings

#: Linux's file with the most memory mappings a process may hold (65,530 by default).
MAX_MAP_COUNT_FILE = Path("/proc/sys/vm/max_map_count")
#: Share of that limit beyond which :func:`release_programs_if_crowded` drops the programs.
CROWDED = 0.5


def memory_mappings() -> tuple[int, int] | None:
    """``(mappings this process holds, the most it may hold)``, or ``None`` off Linux.

    Every program XLA compiles for the CPU keeps a few memory mappings for its code and
    constants while JAX keeps it (3 to 18 each, measured here on small programs), and
    Linux refuses a process more than ``vm.max_map_count`` of them. At that limit a new
    mapping fails inside XLA's compiler and the process dies of a segmentation fault in
    ``backend_compile_and_load``: what the test suite's long-lived workers did once a run
    (README, "Native crashes").
    """
    try:
        limit = int(MAX_MAP_COUNT_FILE.read_text())
        with open("/proc/self/maps", "rb") as maps:
            held = maps.read().count(b"\n")
    except (OSError, ValueError):
        return None
    return held, limit


def release_programs_if_crowded(share: float = CROWDED) -> bool:
    """Drop JAX's compiled programs when this process holds most of its memory mappings.

    A process that compiles thousands of programs (the whole showcase, a test worker)
    would otherwise reach Linux's limit (:func:`memory_mappings`) and crash. Beyond
    ``share`` of the limit, ``jax.clear_caches()`` frees every compiled program (a later
    call compiles again, or reads the persistent cache); below it nothing is done, so a
    process that stays small keeps its programs.

    Parameters
    ----------
    share
        The share of ``vm.max_map_count`` beyond which the programs are dropped.

    Returns
    -------
    bool
        Whether the programs were dropped.
    """
    counts = memory_mappings()
    if counts is None or counts[0] <= share * counts[1]:
        return False
    import jax

    jax.clear_caches()
    return True


def release_memory() -> None:
    """Drop JAX's compiled programs and traces, and give the freed memory to the system.

    For a process that has fitted and then only builds and writes what it found: the
    command line after a fit on big data (``freqbayes run``). ``jax.clear_caches()``
    frees the programs, their traces and lowered modules (a later call compiles again or
    reads the persistent cache); glibc's ``malloc_trim`` then returns the pages freed in
    its heap, which it would otherwise keep. The 10⁶ × 100 logistic MAP command peaked
    at 944–946 MiB with it (2.45× the table), 990–1,000 MiB without (2026-12-06, this
    2-core machine): the DataTree's stages ran beside the fit's freed memory.
    """
    import ctypes
    import gc
    import platform

    import jax

    jax.clear_caches()
    gc.collect()
    if platform.libc_ver()[0] == "glibc":
        ctypes.CDLL(None).malloc_trim(0)
