"""A run's manifest: what ``freqbayes run MODEL`` made, from what, and what it replaced."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any


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


def write_manifest(out: Path, model: str, record: dict[str, Any]) -> None:
    """Write the run's manifest atomically (also while stopping: it records the stop)."""
    from freqbayes._io import write_text

    text = json.dumps(record, indent=2, sort_keys=True) + "\n"
    write_text(manifest_path(out, model), text, honour_stop=False)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
