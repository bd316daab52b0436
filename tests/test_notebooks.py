"""The teaching notebooks: paired sources in sync, and every one executed fresh, top to bottom."""

from __future__ import annotations

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


def test_there_are_eight_notebooks():
    assert [p.stem[:2] for p in NOTEBOOKS] == [f"0{i}" for i in range(1, 9)]


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda p: p.stem)
def test_paired_ipynb_is_in_sync_with_its_source(source):
    ipynb = source.with_suffix(".ipynb")
    assert ipynb.is_file(), f"{ipynb.name} missing: run `make notebooks` (jupytext --sync)"
    assert _cells(jupytext.read(source)) == _cells(jupytext.read(ipynb)), (
        f"{ipynb.name} differs from {source.name}: run `jupytext --sync {source}`"
    )


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom_and_its_committed_outputs_are_current(source):
    """Execute the .ipynb in a fresh kernel (any failing cell fails the test), then
    check the committed outputs (what a reader on the code host sees) against it."""
    import nbformat

    from freqbayes.showcase import notebooks as N

    # JAX_COMPILATION_CACHE_DIR: the suite's own cache (tests/conftest.py)
    committed = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    nb = N.execute(committed, source.parent)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, f"{source.name} drew no figure"
    for number, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        if "figures." in cell.source:  # every figure drawn is shown
            shown = [o.get("data", {}) for o in cell.get("outputs", [])]
            assert [d for d in shown if "image/png" in d or "<img" in d.get("text/html", "")], (
                f"{source.name}, code cell {number + 1}: its figure is not shown"
            )
    assert not [o for o in outputs if o.get("name") == "stderr"], f"{source.name} wrote to stderr"
    # the lesson ends with exercises whose answers exist
    last = nb.cells[-1].source
    assert "Exercises" in last and "answers.md" in last
    stale = f"{source.with_suffix('.ipynb').name}'s outputs are stale: run `make notebooks`"
    assert N.stamped_digest(committed) == N.code_digest(committed), stale
    shapes = zip(N.output_shape(committed), N.output_shape(nb), strict=True)
    for number, (mine, fresh) in enumerate(shapes):
        assert mine == fresh, f"{stale} (code cell {number + 1})"


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
