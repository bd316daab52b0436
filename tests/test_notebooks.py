"""The teaching notebooks: paired sources in sync, and every one executed fresh, top to bottom."""

from __future__ import annotations

import os
import re
from pathlib import Path

import jupytext
import pytest

#: The slowest tests (the whole quick showcase, every notebook): `-m "not slow"` skips them.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))


def _cells(nb: object) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def test_there_are_seven_notebooks():
    assert [p.stem[:2] for p in NOTEBOOKS] == [f"0{i}" for i in range(1, 8)]


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda p: p.stem)
def test_paired_ipynb_is_in_sync_with_its_source(source):
    ipynb = source.with_suffix(".ipynb")
    assert ipynb.is_file(), f"{ipynb.name} missing: run `make notebooks` (jupytext --sync)"
    assert _cells(jupytext.read(source)) == _cells(jupytext.read(ipynb)), (
        f"{ipynb.name} differs from {source.name}: run `jupytext --sync {source}`"
    )


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(source):
    """Execute the .ipynb in a fresh kernel; any failing cell fails the test."""
    from nbclient import NotebookClient

    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    # JAX_COMPILATION_CACHE_DIR: the suite's own cache (tests/conftest.py)
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    nb = jupytext.read(source.with_suffix(".ipynb"))
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(source.parent)}}
    )
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, f"{source.name} drew no figure"
    # the lesson ends with exercises whose answers exist
    last = nb.cells[-1].source
    assert "Exercises" in last and "answers.md" in last


def test_readme_links_every_notebook_and_answers_cover_every_exercise():
    readme = (ROOT / "README.md").read_text()
    answers = (ROOT / "notebooks" / "answers.md").read_text()
    for source in NOTEBOOKS:
        assert f"notebooks/{source.with_suffix('.ipynb').name}" in readme, source.name
        n_exercises = len(
            re.findall(r"^# \d\. ", source.read_text().split("## Exercises")[-1], re.M)
        )
        assert n_exercises >= 2, source.name
        section = answers.split(f"## {source.stem[:2]}")[1].split("\n## ")[0]
        n_answers = len(re.findall(r"^\*\*\d\.\*\*", section, re.M))
        assert n_answers == n_exercises, (source.name, n_answers, n_exercises)
