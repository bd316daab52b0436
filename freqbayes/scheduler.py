"""Work made of independent pieces on a Dask cluster (``--scheduler ADDRESS|local:N``).

The showcase's stages, the SBC's data sets and a coverage study's data sets are
independent pieces: :func:`connect` opens a ``distributed.Client`` on a cluster,
:func:`mapper` turns it into the ``map``-like executor the core takes
(:data:`freqbayes.inference.probabilistic.repeated.Mapper`), and :func:`run_all`
submits pieces and gathers their results in order.

* ``local:N`` starts a ``LocalCluster`` of N worker processes with one thread each
  (JAX compiles one program at a time per process; two processes use two cores),
  without a memory limit (the process pool it replaces had none) and without a
  dashboard; a task whose worker dies is not retried.
* Any other text is the address of a running scheduler (``tcp://host:8786``); one
  that does not answer within :data:`TIMEOUT` seconds is an error naming it. Its
  workers need freqbayes installed (the same version: stages travel by name), and the
  showcase's ``--out`` on a file system they share: each stage writes its own files.

A worker that dies cancels the rest; files are written under a temporary name and
renamed, so none is left half-written under its own name, and temporary files of a
killed worker are cleared by the next run in that folder (:func:`freqbayes.manifest.claim_out`).

Every task first sets its process up as the command line does
(:func:`freqbayes.inference.compilation.configure_jax`: one CPU device per core and
the persistent compilation cache), with the caller's language and float width
(``jax_enable_x64``), so a result does not depend on where it was computed.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

#: Prefix of a cluster started here: ``local:N`` (N worker processes).
LOCAL = "local:"

#: Seconds to wait for a scheduler at an address before giving up.
TIMEOUT = 5.0

_ADDRESS = re.compile(r"^([a-z][a-z0-9+.-]*://)?[^\s:/]+(:\d+)?/?$", re.IGNORECASE)


class WorkerDied(RuntimeError):
    """A worker process died while running a piece (killed, out of memory, a crash)."""


class Setup(NamedTuple):
    """What a worker's process takes from the caller: the language, the float width."""

    lang: str
    x64: bool


def parse(spec: str) -> str:
    """Check a ``--scheduler`` value: ``local:N`` with N ≥ 1, or a scheduler's address.

    Raises ``ValueError`` (one line) for anything else; returns ``spec`` stripped.
    """
    spec = spec.strip()
    if spec.lower().startswith(LOCAL):
        count = spec[len(LOCAL) :]
        if not count.isdigit() or int(count) < 1:
            raise ValueError(f"--scheduler {spec}: local:N needs a whole number N >= 1")
        return spec
    if not _ADDRESS.match(spec):
        raise ValueError(
            f"--scheduler {spec!r}: neither local:N nor a scheduler address (tcp://host:8786)"
        )
    return spec


def from_options(workers: int | None, spec: str | None) -> str | None:
    """The cluster of ``--workers N`` (``local:N``; default one per core) or ``--scheduler``.

    ``None``: the stages run in this process (``--workers 1``, or a one-core machine).
    """
    if workers is not None and spec is not None:
        raise ValueError("--workers N is --scheduler local:N: give one of them")
    if spec is not None:
        return parse(spec)
    workers = (os.cpu_count() or 1) if workers is None else workers
    if workers < 1:
        raise ValueError(f"--workers must be >= 1; got {workers}")
    return f"{LOCAL}{workers}" if workers > 1 else None


def local_workers(spec: str) -> int | None:
    """N of ``local:N``; ``None`` for an address."""
    spec = parse(spec)
    return int(spec[len(LOCAL) :]) if spec.lower().startswith(LOCAL) else None


@contextmanager
def connect(spec: str | None, timeout: float | None = None) -> Iterator[Any]:
    """A ``distributed.Client`` on the cluster ``spec`` (:func:`parse`), closed on exit.

    ``None``: no cluster (``None`` is yielded).

    ``local:N`` starts (and on exit stops) a ``LocalCluster`` of N processes. An
    address that does not answer within ``timeout`` seconds (:data:`TIMEOUT` by
    default) raises ``ConnectionError`` naming it and the wait.
    """
    if spec is None:
        yield None
        return
    import dask
    from distributed import Client, LocalCluster

    timeout = TIMEOUT if timeout is None else timeout
    workers = local_workers(spec)
    if workers is None:
        try:
            client = Client(spec, timeout=f"{timeout}s", set_as_default=False)
        except (OSError, TimeoutError) as err:
            raise ConnectionError(
                f"--scheduler {spec}: no Dask scheduler answered within {timeout:g} s"
            ) from err
        with client:
            yield client
        return
    # a worker that dies takes its piece with it: fail at once rather than retry it
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            memory_limit=0,
            dashboard_address=None,
            silence_logs=logging.ERROR,  # e.g. a nanny's note that it killed a slow exit
        )
    with cluster, Client(cluster, set_as_default=False) as client:
        yield client


def setup() -> Setup:
    """The caller's settings a worker must share (:class:`Setup`)."""
    import jax

    from freqbayes.i18n import get_language

    return Setup(get_language(), bool(jax.config.jax_enable_x64))


def prepare(settings: Setup) -> None:
    """Set a worker's process up as the command line does (cheap after the first call)."""
    import jax
    import matplotlib

    from freqbayes.i18n import set_language
    from freqbayes.inference.compilation import configure_jax

    matplotlib.use("Agg")  # workers write files; they never open a window
    set_language(settings.lang)
    configure_jax()
    jax.config.update("jax_enable_x64", settings.x64)


def _call(function: Callable[[Any], Any], settings: Setup, item: Any) -> Any:
    prepare(settings)
    return function(item)


def run_all(
    client: Any,
    function: Callable[[Any], Any],
    items: Sequence[Any],
    on_done: Callable[[int, Any], None] | None = None,
) -> list[Any]:
    """``function(item)`` for every item on the cluster; the results in the items' order.

    ``on_done(index, result)`` is called as each piece ends (in any order: progress).
    An error in a piece cancels the others and is raised as it is; a worker that
    dies raises :class:`WorkerDied` (one line).
    """
    from distributed import KilledWorker, as_completed

    settings = setup()
    futures = [client.submit(_call, function, settings, item, pure=False) for item in items]
    index = {f.key: i for i, f in enumerate(futures)}
    results: list[Any] = [None] * len(futures)
    try:
        for future, result in as_completed(futures, with_results=True, loop=client.loop):
            i = index[future.key]
            results[i] = result
            if on_done is not None:
                on_done(i, result)
    except KilledWorker as err:
        raise WorkerDied(
            f"a Dask worker died while running piece {index.get(err.task, '?')} of "
            f"{len(futures)} (killed, out of memory or crashed); the others were cancelled"
        ) from None
    finally:
        client.cancel([f for f in futures if not f.done()])
    return results


def worker_mapper(function: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
    """:func:`mapper` of the cluster this task runs on, for a task that hands out pieces.

    The task leaves its worker's thread while it waits (``distributed.worker_client``),
    so its pieces can run on that worker too. Outside a task: the builtin ``map``.
    """
    from distributed import get_worker, worker_client

    try:
        get_worker()
    except ValueError:
        return list(map(function, items))
    with worker_client() as client:
        return run_all(client, function, list(items))


def mapper(client: Any) -> Callable[[Callable[[Any], Any], Iterable[Any]], list[Any]]:
    """The ``map``-like executor of ``client`` (:func:`run_all`), for the core's ``mapper``."""

    def cluster_map(function: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        return run_all(client, function, list(items))

    return cluster_map
