"""A run's output folder: its lock, and its manifest (what ``freqbayes run`` made, from what).

One run at a time writes a folder (:func:`claim_out`); a run's manifest records its
data, seed and methods from the start ("running"), each fit as it is saved, and how
the run ended (:func:`run_status`).
"""

from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from freqbayes._io import FolderInUse, folder_lock, remove_stale_temporaries, write_text


def manifest_path(out: Path, model: str) -> Path:
    """Where a run of ``model`` records what it wrote."""
    return out / f"manifest-{model}.json"


def remove_previous_run(out: Path, model: str) -> list[str]:
    """Delete the files an earlier run of ``model`` recorded in its manifest (and the manifest).

    Only files named in freqbayes' own manifest are touched, so fits from a run
    with other data never sit beside this run's as if they belonged to it.
    """
    path = manifest_path(out, model)
    if not path.is_file():
        return []
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
        files = [e["file"] for e in previous.get("methods", {}).values() if e.get("file")]
    except (ValueError, AttributeError, TypeError):
        files = []
    removed = []
    for name in files:
        target = out / Path(name).name
        if target.is_file():
            target.unlink()
            removed.append(target.name)
    path.unlink()
    return removed


def run_status(methods: dict[str, dict[str, Any]]) -> str:
    """How a run ended, from its methods' records (all methods done; none interrupted).

    "finished": at least one fit saved and no method failed (a named "no estimate",
    such as the MLE under separation, is an answer); "partly failed": fits saved but
    a method failed; "failed": no fit was saved. A saved fit whose draws are unusable
    (status "unusable") counts as saved; the manifest's entry for it says why. The
    command line's exit status is 0 for "finished" and 1 for the other two (3 when a
    saved posterior is unusable and no method failed).
    """
    statuses = [entry.get("status") for entry in methods.values()]
    if "ok" not in statuses and "unusable" not in statuses:
        return "failed"
    return "partly failed" if "failed" in statuses else "finished"


def mark_abandoned(out: Path) -> list[str]:
    """Record the end of runs whose manifest still says "running" (call with the folder locked).

    A run that holds the folder's lock is the only one running there, so such a
    manifest belongs to a run that was killed (SIGKILL, a power cut) before it could
    record its end: its status becomes "interrupted", with a note. Returns the
    manifests' names.
    """
    marked = []
    for path in sorted(out.glob("manifest-*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(record, dict) or record.get("status") != "running":
            continue
        record["status"] = "interrupted"
        record["note"] = f"found unfinished by a later run at {_now()}: the run was killed"
        write_text(path, json.dumps(record, indent=2, sort_keys=True) + "\n", honour_stop=False)
        marked.append(path.name)
    return marked


@contextmanager
def claim_out(out: Path, depth: int = 0) -> Iterator[None]:
    """Hold ``--out`` for one run: lock it, then clear what killed runs left there.

    Raises ``ValueError`` (one line naming the other run) at once when another
    freqbayes run holds the folder: the second run does not wait, and writes nothing.
    With the lock held, temporary files of ended processes are removed (in ``out``
    and its subfolders down to ``depth``) and manifests still "running" are marked
    interrupted (:func:`mark_abandoned`); each is reported on stderr. Where the folder
    cannot be locked (:func:`freqbayes._io.folder_lock`) a note says so, and only the
    temporary files are cleared.
    """
    with ExitStack() as stack:
        try:
            locked = stack.enter_context(folder_lock(out))
        except FolderInUse as err:
            holder = f" (pid {err.pid})" if err.pid else ""
            raise ValueError(
                f"--out {out}: another freqbayes run{holder} is writing there; "
                "wait for it to end or choose another --out"
            ) from None
        if not locked:
            print(
                f"note: {out} cannot be locked: runs into it at once are not kept apart",
                file=sys.stderr,
            )
        stale = remove_stale_temporaries(out, depth)
        if stale:
            names = ", ".join(str(p.relative_to(out)) for p in stale)
            print(
                f"removed {len(stale)} temporary file(s) left by a killed run: {names}",
                file=sys.stderr,
            )
        for name in mark_abandoned(out) if locked else []:  # unlocked, "running" may be live
            print(f"{name}: its run was killed; marked interrupted", file=sys.stderr)
        yield


def write_manifest(out: Path, model: str, record: dict[str, Any]) -> None:
    """Write the run's manifest atomically (also while stopping: it records the stop)."""
    text = json.dumps(record, indent=2, sort_keys=True) + "\n"
    write_text(manifest_path(out, model), text, honour_stop=False)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
