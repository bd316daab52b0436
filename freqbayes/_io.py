"""Atomic file output (a temporary file beside the target, then a rename) and folder locks.

A failure or an interruption (Ctrl-C included) leaves no partial file behind, and
an existing file is replaced only by a complete one. A temporary file's name holds
its writer's process id, so that one left by a killed process (SIGKILL, a power cut)
can be told from one being written and removed later
(:func:`remove_stale_temporaries`). :func:`folder_lock` lets one process at a time
write a folder.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: no flock; folders are not locked there
    fcntl = None  # type: ignore[assignment]


class Terminated(BaseException):
    """The process was asked to stop (SIGTERM): unwind like Ctrl-C, leaving no partial file."""


#: Set by the command line's SIGTERM handler. Python may swallow the exception the handler
#: raises (when the signal lands in a garbage-collection callback), so the flag is checked
#: again before every file is put in place and between fits.
STOP = threading.Event()


def check_stop() -> None:
    """Raise :class:`Terminated` if a stop was requested."""
    if STOP.is_set():
        raise Terminated


@contextmanager
def atomic_path(path: str | Path, *, honour_stop: bool = True) -> Iterator[str]:
    """Yield a temporary path in ``path``'s folder; rename it to ``path`` if the block succeeds.

    With ``honour_stop`` a requested stop (:data:`STOP`) discards the file instead.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # the temporary name keeps the suffix: writers that pick a format by extension still work;
    # the writer's pid tells a stale one (its process gone) from one being written
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=f".tmp{path.suffix}", dir=path.parent
    )
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
    try:
        yield tmp
        if honour_stop:
            check_stop()
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str, *, honour_stop: bool = True) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path, honour_stop=honour_stop) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")


#: Variables larger than this (bytes) are written uncompressed (a large table's features).
UNCOMPRESSED_FROM = 64 * 2**20

#: Groups whose float values are stored as float32 (the large draws × observations ones).
FLOAT32_GROUPS = ("posterior_predictive", "log_likelihood", "prior_predictive")


def datatree_encoding(tree: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """netCDF encoding of every variable: zlib-compressed, pointwise groups as float32."""
    encoding: dict[str, dict[str, dict[str, Any]]] = {}
    for node in tree.subtree:
        if not node.data_vars:
            continue
        group = node.path
        spec = {}
        for name, var in node.data_vars.items():
            enc: dict[str, Any] = {"zlib": True, "complevel": 4, "shuffle": True}
            if var.nbytes > UNCOMPRESSED_FROM:  # zlib: 31-46 s for a 10^6 x 100 table, 6% smaller
                enc = {}
            if node.name in FLOAT32_GROUPS and var.dtype.kind == "f":
                enc["dtype"] = "float32"
            if var.ndim == 0:
                enc = {k: v for k, v in enc.items() if k == "dtype"}
            spec[name] = enc
        encoding[group] = spec
    return encoding


def write_datatree(tree: Any, path: str | Path) -> None:
    """Write a DataTree to netCDF (h5netcdf, compressed) atomically: temporary file, rename.

    A failure or an interruption leaves no partial file behind.
    """
    with atomic_path(path) as tmp:
        tree.to_netcdf(tmp, engine="h5netcdf", encoding=datatree_encoding(tree))


#: A temporary file of :func:`atomic_path`: ``.NAME.PID.XXXXXXXX.tmpSUFFIX`` (mkstemp's 8).
_TEMPORARY = re.compile(r"\.(?P<name>.+)\.(?P<pid>[0-9]+)\.[a-z0-9_]{8}\.tmp(?P<suffix>\.[^.]+)?")


def _process_exists(pid: int) -> bool:
    """Whether a process ``pid`` exists (on POSIX; elsewhere assume it does: never remove)."""
    if os.name != "posix" or pid <= 0:
        return True
    try:
        os.kill(pid, 0)  # signal 0: nothing is sent, existence and permission are checked
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, under another user
        return True
    return True


def remove_stale_temporaries(folder: str | Path, depth: int = 0) -> list[Path]:
    """Remove :func:`atomic_path`'s temporary files whose writing process has ended.

    A process killed while writing (SIGKILL, a power cut) cannot remove its temporary
    file; this does, in ``folder`` and its subfolders down to ``depth`` levels. Only
    files named like :func:`atomic_path`'s, whose target's suffix matches and whose
    process no longer exists, are removed: never another program's file, nor one a
    live process is writing. Returns the removed paths.
    """
    folder = Path(folder)
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            if depth > 0:
                removed += remove_stale_temporaries(entry, depth - 1)
            continue
        match = _TEMPORARY.fullmatch(entry.name)
        if match is None or Path(match["name"]).suffix != (match["suffix"] or ""):
            continue
        pid = int(match["pid"])
        if pid == os.getpid() or _process_exists(pid) or not entry.is_file():
            continue
        entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


#: The lock file :func:`folder_lock` holds (hidden; removed when the lock is released).
LOCK_NAME = ".freqbayes.lock"


#: ``flock``'s errors on file systems without locks.
_NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS}


class FolderInUse(Exception):
    """Another process holds the folder's lock (:func:`folder_lock`)."""

    def __init__(self, folder: Path, pid: int | None) -> None:
        self.folder, self.pid = folder, pid
        holder = f"process {pid}" if pid else "another process"
        super().__init__(f"{folder} is locked by {holder}")


@contextmanager
def folder_lock(folder: str | Path) -> Iterator[bool]:
    """Hold an exclusive lock on ``folder`` for the block, or raise :class:`FolderInUse` at once.

    An advisory ``flock`` on the hidden file :data:`LOCK_NAME` in the folder, which
    holds the process id (for the message of the process refused). The system
    releases the lock when the process ends, however it ends (SIGKILL included), so a
    lock never outlives its run. The file is removed on release; after a kill it
    stays and the next lock reuses it. A lock taken on a file that its previous
    holder had just removed is dropped and taken again on the new file, so that two
    processes never both hold one.

    Yields whether the folder is locked: False where ``fcntl`` is missing (Windows)
    or the file system refuses locks (an NFS mount without its lock service).
    """
    folder = Path(folder)
    if fcntl is None:
        yield False
        return
    path = folder / LOCK_NAME
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise FolderInUse(folder, _lock_holder(path)) from None
        except OSError as err:
            os.close(fd)
            if err.errno not in _NO_LOCKS:
                raise
            path.unlink(missing_ok=True)
            yield False
            return
        except BaseException:
            os.close(fd)
            raise
        held = os.fstat(fd)
        try:
            now = os.stat(path)
        except FileNotFoundError:
            now = None
        if now is not None and (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino):
            break
        os.close(fd)  # the previous holder removed this file as we locked it: again
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield True
    finally:
        path.unlink(missing_ok=True)  # still holding the lock: nobody else has it yet
        os.close(fd)


def _lock_holder(path: Path) -> int | None:
    """The process id written in a lock file (None if unreadable or not yet written)."""
    try:
        return int(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def check_out_dir(out: Path) -> None:
    """Fail before any work if ``out`` cannot hold the results (one clear ``ValueError``).

    It must be a folder (made if absent) in which a file can be created.
    """
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out: {out} exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".freqbayes-probe-"):
            pass
    except OSError as err:
        raise ValueError(f"--out: cannot write in {out}: {err.strerror or err}") from None
