"""Atomic file output: write to a temporary file beside the target, then rename.

A failure or an interruption (Ctrl-C included) leaves no partial file behind, and
an existing file is replaced only by a complete one.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


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
    # the temporary name keeps the suffix: writers that pick a format by extension still work
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=f".tmp{path.suffix}", dir=path.parent
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
