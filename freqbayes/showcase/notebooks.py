"""Execute the teaching notebooks in place, so that a reader on the code host sees every output.

The notebooks are committed *executed*: GitHub and GitLab render a ``.ipynb`` with its
outputs, so every figure and printed number is readable without running anything, on
the page the README links to (no separate rendered site to build, host and keep in
step). ``make notebooks`` runs ``python -m freqbayes.showcase.notebooks`` on every
notebook: it executes it top to bottom in a fresh kernel and stamps the digest of its
code cells into the notebook's metadata. ``tests/test_notebooks.py`` executes each one
fresh again and fails when the committed outputs are stale: the stamp must match the
code as it is now, and the committed outputs must have the fresh run's shape (the same
output kinds and figures per cell, the same printed text once numbers are masked, so
that wall times and last digits on another machine do not count).

The Japanese editions live in ``notebooks/ja/``: the same code cells, Japanese prose.
The language comes from the path (:func:`language_of`): a notebook in a folder named
after a language runs in a kernel with ``FREQBAYES_LANG`` set to it, so that the
library's figure and printed text come out in that language (:mod:`freqbayes.i18n`).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import os
import re
import sys
from pathlib import Path
from typing import Any

from freqbayes.i18n import ENV, LANGUAGES

#: Where the digest of the code cells is stamped (``nb.metadata[KEY]["code_sha256"]``).
KEY = "freqbayes"
#: Per-cell execution limit (seconds).
TIMEOUT = 300

_NUMBER = re.compile(r"[-+−]?(?:\d[\d,]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?%?")
_SPACE = re.compile(r"\s+")


def code_digest(nb: Any) -> str:
    """SHA-256 of the notebook's code cells, in order (what the outputs depend on)."""
    sources = [c.source.strip() for c in nb.cells if c.cell_type == "code"]
    return hashlib.sha256("\n\0\n".join(sources).encode()).hexdigest()


def stamped_digest(nb: Any) -> str | None:
    """The digest stamped when the notebook was last executed (None: never)."""
    return nb.metadata.get(KEY, {}).get("code_sha256")


def language_of(folder: Path) -> str:
    """The language of the notebooks in ``folder``: ``"ja"`` for ``notebooks/ja``, else English."""
    name = Path(folder).resolve().name
    return name if name in LANGUAGES else "en"


def _mask(text: str) -> str:
    return _SPACE.sub(" ", _NUMBER.sub("#", text)).strip()


def output_shape(nb: Any) -> list[tuple[str, ...]]:
    """Per code cell: its stdout (numbers masked), its rich outputs' kinds and texts.

    stderr is left out (warnings differ between library versions), and so are the
    image bytes (they differ between matplotlib versions); the figures are counted.
    """
    shape = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        items: list[str] = []
        stdout = "".join(o.text for o in cell.get("outputs", []) if o.get("name") == "stdout")
        if stdout:
            items.append("stdout: " + _mask(stdout))
        for out in cell.get("outputs", []):
            if out.output_type in ("execute_result", "display_data"):
                data = out.get("data", {})
                kinds = sorted(k for k in data if not k.startswith("application/vnd"))
                text = _mask(data.get("text/plain", "")) if "image/png" not in data else ""
                items.append(f"{'+'.join(kinds)}: {text}")
            elif out.output_type == "error":
                items.append(f"error: {out.get('ename')}")
        shape.append(tuple(items))
    return shape


def execute(nb: Any, directory: Path, lang: str | None = None) -> Any:
    """Run every cell of a copy of ``nb`` in a fresh kernel in ``directory``; stamp it.

    ``lang`` (default: :func:`language_of` ``directory``) is the kernel's
    ``FREQBAYES_LANG``. Raises ``nbclient.exceptions.CellExecutionError`` naming the failing cell.
    """
    from nbclient import NotebookClient

    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    lang = lang or language_of(directory)
    nb = copy.deepcopy(nb)
    client = NotebookClient(
        nb,
        timeout=TIMEOUT,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(directory)}},
    )
    client.execute(env={**os.environ, ENV: lang})
    nb.metadata.setdefault(KEY, {})["code_sha256"] = code_digest(nb)
    return nb


def main(argv: list[str] | None = None) -> int:
    """Execute each notebook given and write it back in place (atomically)."""
    import nbformat

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path, help="paths of .ipynb files")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        print(f"executing {path}", file=sys.stderr, flush=True)
        nb = execute(nbformat.read(path, as_version=4), path.parent.resolve())
        tmp = path.with_name(f".{path.name}.tmp")
        nbformat.write(nb, tmp)
        tmp.replace(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
