"""One fit over several processes: ``freqbayes run MODEL ... --processes N``, and clusters.

JAX's own multi-controller runtime does the work (no engine here): every process runs
the same command, calls ``jax.distributed.initialize`` (CPU collectives by gloo), reads
only its own rows of a Parquet table (:func:`read_own_rows`; the scaling, default priors
and existence checks agree through a collective:
:mod:`freqbayes.inference.probabilistic.shares`; a CSV file is read whole by each) and
puts them on its devices, as one global array
(:mod:`freqbayes.inference.probabilistic.sharding`); each log-likelihood, gradient and
Hessian is a sum over the processes' shares, the parameters and chains are replicated,
and only process 0 writes the fit (the others write into a temporary folder that is
removed).

Three ways in:

- ``--processes N`` (:func:`launch`): N local processes, a coordinator on 127.0.0.1 at
  a free port. If one stops with an error, the others are stopped (SIGTERM, then
  SIGKILL after :data:`GRACE` seconds), its last line is printed, and the exit status
  is not 0; process 0 writes each file to a temporary name and renames it, so nothing
  half-written remains.
- ``FREQBAYES_COORDINATOR=HOST:PORT``, ``FREQBAYES_NUM_PROCESSES``,
  ``FREQBAYES_PROCESS_ID`` set by hand on each machine (the README's two-machine example).
- ``FREQBAYES_DISTRIBUTED=1`` under SLURM or Open MPI: ``jax.distributed.initialize()``
  without arguments, JAX's own detection of the cluster.

``FREQBAYES_INIT_TIMEOUT`` (seconds, default :data:`INIT_TIMEOUT`) bounds the wait for
the coordinator and the other processes. A process other than 0 first checks that the
coordinator's port answers, so a coordinator that cannot be reached is one line
(JAX itself aborts the process with a C++ stack trace when its deadline passes).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: The environment of a process of a multi-process run.
COORDINATOR = "FREQBAYES_COORDINATOR"
NUM_PROCESSES = "FREQBAYES_NUM_PROCESSES"
PROCESS_ID = "FREQBAYES_PROCESS_ID"
#: ``1``: ``jax.distributed.initialize()`` with JAX's detection of SLURM or Open MPI.
DISTRIBUTED = "FREQBAYES_DISTRIBUTED"
#: Seconds to wait for the coordinator and the other processes.
TIMEOUT = "FREQBAYES_INIT_TIMEOUT"
INIT_TIMEOUT = 60.0
#: CPU devices each launched process makes (default: the cores shared out).
LOCAL_DEVICES = "FREQBAYES_LOCAL_DEVICES"
#: Seconds between SIGTERM and SIGKILL when the other processes are stopped.
GRACE = 5.0


def init_timeout() -> float:
    """``FREQBAYES_INIT_TIMEOUT`` in seconds (default :data:`INIT_TIMEOUT`)."""
    raw = os.environ.get(TIMEOUT, "").strip()
    try:
        value = float(raw) if raw else INIT_TIMEOUT
    except ValueError:
        raise ValueError(f"{TIMEOUT} must be a number of seconds; got {raw!r}") from None
    if not value > 0:
        raise ValueError(f"{TIMEOUT} must be positive; got {raw!r}")
    return value


def distributed() -> bool:
    """Whether this process is one of a multi-process run (its environment says so)."""
    return bool(os.environ.get(COORDINATOR) or os.environ.get(DISTRIBUTED, "") in ("1", "on"))


def local_devices() -> int | None:
    """``FREQBAYES_LOCAL_DEVICES``: CPU devices of this process (None: one per core)."""
    raw = os.environ.get(LOCAL_DEVICES, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{LOCAL_DEVICES} must be a positive integer; got {raw!r}")
    return int(raw)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(address: str, timeout: float) -> None:
    """Return once ``HOST:PORT`` accepts a connection; ``ConnectionError`` after ``timeout`` s."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"{COORDINATOR} must be HOST:PORT; got {address!r}")
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, int(port)), timeout=1.0):
                return
        except OSError:
            if time.monotonic() >= deadline:
                raise ConnectionError(
                    f"the coordinator {address} could not be reached within {timeout:g} s "
                    f"({TIMEOUT} sets the wait)"
                ) from None
            time.sleep(0.2)


def initialize() -> int:
    """Join the multi-process run this process's environment names; return its index.

    Nothing is done (0 is returned) outside one. Call before JAX's first operation.
    """
    if not distributed():
        return 0
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    timeout = init_timeout()
    address = os.environ.get(COORDINATOR)
    if not address:  # SLURM, Open MPI: JAX reads the cluster's environment
        jax.distributed.initialize(initialization_timeout=int(timeout))
        return jax.process_index()
    try:
        count, index = int(os.environ[NUM_PROCESSES]), int(os.environ[PROCESS_ID])
    except (KeyError, ValueError):
        raise ValueError(
            f"{COORDINATOR} needs {NUM_PROCESSES} and {PROCESS_ID} (integers)"
        ) from None
    if not 0 <= index < count:
        raise ValueError(f"{PROCESS_ID} must be in [0, {count}); got {index}")
    if index != 0:
        wait_for(address, timeout)
    jax.distributed.initialize(
        coordinator_address=address,
        num_processes=count,
        process_id=index,
        initialization_timeout=int(timeout),
    )
    return index


def reads_in_shares(data: Any, processes: int | None) -> bool:
    """Whether each process of this run reads only its own rows: a Parquet table, shared.

    Then the launching process does not read the table (each process checks its rows).
    CSV files and other data are read whole by every process.
    """
    from freqbayes.models import pieces

    if data is None or not (distributed() or (processes or 1) > 1):
        return False
    return Path(data).exists() and pieces.is_parquet(data)


def first_rows(data: Any, model: Any, formula: str | None) -> Any:
    """The table's first piece as a Dataset: what the launching process checks (bounded).

    The processes check their own rows; a table that cannot be read in shares is read
    whole (as each process will).
    """
    from freqbayes.models import pieces, tables

    rows = min(pieces.open_table(data).count_rows(), pieces.BATCH_ROWS)
    first = tables.read_share(data, model, formula, 0, rows, rows)
    return first if first is not None else tables.as_dataset(data, model, formula)


def read_own_rows(data: Any, model: Any, formula: str | None) -> Any:
    """The rows of this process (:mod:`freqbayes.inference.probabilistic.shares`).

    The summaries every process needs are merged over the processes (a collective); a
    table that cannot be read in shares (a formula not computed row by row) is read whole.
    """
    import jax

    from freqbayes.inference.probabilistic import shares
    from freqbayes.models.tables import as_dataset

    if jax.process_count() > 1:
        share = shares.read_share(data, model, formula)
        if share is not None:
            return shares.agree(share)
    return as_dataset(data, model, formula)


def without_processes(argv: Sequence[str]) -> list[str]:
    """``argv`` without its ``--processes N`` (or ``--processes=N``)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--processes":
            skip = True
        elif not arg.startswith("--processes="):
            out.append(arg)
    return out


class _Relay(threading.Thread):
    """Copy a child's output: process 0's to ours as it comes, the others' only kept.

    Gloo's connection notes are left out; the last lines are kept for :meth:`last_line`.
    """

    def __init__(self, stream: Any, forward: Any = None) -> None:
        super().__init__(daemon=True)
        self.stream, self.forward, self.quiet = stream, forward, False
        self.text = bytearray()

    def run(self) -> None:
        for chunk in iter(lambda: self.stream.read1(4096), b""):
            self.text += chunk
            del self.text[: max(0, len(self.text) - 65536)]
            if self.forward is not None and not self.quiet:
                kept = b"".join(
                    line for line in chunk.splitlines(keepends=True) if b"[Gloo]" not in line
                )
                self.forward.buffer.write(kept)
                self.forward.flush()

    def last_line(self) -> str:
        lines = [s for s in self.text.decode(errors="replace").splitlines() if s.strip()]
        lines = [s for s in lines if "[Gloo]" not in s]
        return lines[-1].strip() if lines else "(no message)"


def _stop(children: Sequence[subprocess.Popen]) -> None:
    """SIGTERM to the running children, SIGKILL to those still running :data:`GRACE` s later."""
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + GRACE
    for child in children:
        try:
            child.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _tidy(out: Path) -> None:
    """After stopping the processes: what a killed process 0 left in ``out`` is cleared.

    Its temporary files are removed and a manifest still "running" is marked
    interrupted (what the next run into the folder would do: :func:`~freqbayes.manifest.claim_out`).
    """
    from freqbayes._io import FolderInUse, folder_lock, remove_stale_temporaries
    from freqbayes.manifest import mark_abandoned

    try:
        with folder_lock(out) as locked:
            remove_stale_temporaries(out, 0)
            if locked:
                mark_abandoned(out)
    except (FolderInUse, OSError):  # another run took the folder meanwhile: leave it
        pass


def child_command(argv: Sequence[str]) -> list[str]:
    """The command each local process runs: this ``freqbayes`` without ``--processes``."""
    return [sys.executable, "-m", "freqbayes.cli", *without_processes(argv)]


def launch(argv: Sequence[str], processes: int, out: Path) -> int:
    """Run ``freqbayes`` with ``argv`` (no ``--processes``) in ``processes`` local processes.

    Returns process 0's exit status, or, when another process stops with an error
    first, that status (1 where it was killed by a signal) after stopping the others
    and tidying ``out`` (:func:`_tidy`).
    """
    if distributed():
        raise ValueError("--processes: this process is already one of a multi-process run")
    env = {
        **os.environ,
        COORDINATOR: f"127.0.0.1:{free_port()}",
        NUM_PROCESSES: str(processes),
        LOCAL_DEVICES: os.environ.get(
            LOCAL_DEVICES, str(max(1, (os.cpu_count() or 1) // processes))
        ),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop(DISTRIBUTED, None)
    command = child_command(argv)
    children: list[subprocess.Popen] = []
    relays: list[_Relay] = []
    try:
        for index in range(processes):
            child = subprocess.Popen(
                command,
                env={**env, PROCESS_ID: str(index)},
                stdout=subprocess.PIPE if index == 0 else subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            children.append(child)
            relays.append(_Relay(child.stderr, sys.stderr if index == 0 else None))
            if index == 0:
                relays.append(_Relay(child.stdout, sys.stdout))
            for relay in relays[-1 - (index == 0) :]:
                relay.start()
        failed: list[int] = []  # in the order the failures were seen
        while True:
            # seen in one poll, process 0 last: its failure is most likely its peers' loss
            new = [i for i, c in enumerate(children) if c.poll() not in (None, 0)]
            failed += sorted((i for i in new if i not in failed), key=lambda i: (i == 0, i))
            if failed or all(c.poll() == 0 for c in children):
                break
            time.sleep(0.1)
    except BaseException:
        for relay in relays:
            relay.quiet = True
        _stop(children)
        _tidy(out)
        raise
    if not failed:
        for relay in relays:
            relay.join(5.0)
        return 0
    first = failed[0]
    status = children[first].returncode
    if first == 0 and status > 0:  # process 0 ended and said why itself (all of it shown)
        _stop(children)
        for relay in relays:
            relay.join(5.0)
        return status
    for relay in relays:
        relay.quiet = True  # the others' reactions to the loss (JAX's fatal errors) unshown
    _stop(children)
    _tidy(out)
    for relay in relays:
        relay.join(1.0)
    why = relays[first + (first > 0)].last_line()  # process 0 has two relays
    if status < 0:
        why = f"killed by {signal.Signals(-status).name}"
    print(
        f"freqbayes: error: process {first} of {processes} stopped (status {status}): {why}; "
        "the others were stopped",
        file=sys.stderr,
    )
    return status if status > 0 else 1


def private_out() -> Path:
    """A temporary folder for a process other than 0, removed when the process exits."""
    import atexit
    import shutil

    out = Path(tempfile.mkdtemp(prefix="freqbayes-process-"))
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    return out
