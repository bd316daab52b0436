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

    # the kernel inherits FREQBAYES_COMPILATION_CACHE: the suite's own cache (tests/conftest.py)
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


# The Japanese editions (notebooks/ja/): the same code cells, so the English run above
# covers the code; here only cheap checks, none of them executes a notebook.
JA = ROOT / "notebooks" / "ja"
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff01-\uff5e]")
_CODE_SPAN = re.compile(r"```.*?```|`[^`]*`|\$[^$]*\$|\(https?://[^)]*\)|notebooks/\S+", re.S)
_WORD = re.compile(r"[A-Za-z]{2,}")


def _code(nb: object) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


def english_paragraphs(markdown: str) -> list[str]:
    """The paragraphs of ``markdown`` whose letters are mostly English words.

    Code (blocks and spans), math and links are left out; a paragraph counts as English when its
    ASCII words have more than three letters per Japanese character (a Japanese
    character carries about a word's worth of three letters: symbols, numbers and names
    such as NUTS or L-BFGS in a Japanese sentence do not make it English).
    """
    left = []
    for paragraph in re.split(r"\n\s*\n", _CODE_SPAN.sub(" ", markdown)):
        english = sum(len(w) for w in _WORD.findall(paragraph))
        if english >= 12 and english > 3 * len(_CJK.findall(paragraph)):
            left.append(paragraph.strip())
    return left


def test_every_notebook_has_a_japanese_edition_and_answers():
    assert [p.name for p in sorted(JA.glob("[0-9][0-9]_*.py"))] == [p.name for p in NOTEBOOKS]
    answers = (ROOT / "notebooks" / "answers.md").read_text()
    answers_ja = (JA / "answers.md").read_text()
    assert not english_paragraphs(answers_ja)
    code = re.compile(r"```python\n.*?```", re.S)  # the same worked code as the English answers'
    assert code.findall(answers_ja) == code.findall(answers), (
        "notebooks/ja/answers.md's code differs"
    )
    for source in NOTEBOOKS:
        en, ja = (
            a.split(f"## {source.stem[:2]}")[1].split("\n## ")[0] for a in (answers, answers_ja)
        )
        assert len(re.findall(r"^\*\*\d\.\*\*", ja, re.M)) == len(
            re.findall(r"^\*\*\d\.\*\*", en, re.M)
        ), source.name


@pytest.mark.parametrize("source", NOTEBOOKS, ids=lambda p: p.stem)
def test_japanese_edition_has_the_same_code_and_japanese_prose(source):
    import nbformat

    from freqbayes.showcase import notebooks as N

    ja = JA / source.name
    en_nb, ja_nb = jupytext.read(source), jupytext.read(ja)
    assert [c.cell_type for c in ja_nb.cells] == [c.cell_type for c in en_nb.cells], (
        f"{ja} has not the cells of {source.name} (one Japanese markdown cell per English one)"
    )
    assert _code(ja_nb) == _code(en_nb), f"{ja}'s code cells differ from {source.name}'s"
    # the paired .ipynb: in sync with its source, the same code as the English one's
    ipynb = ja.with_suffix(".ipynb")
    assert ipynb.is_file(), f"{ipynb} missing: run `make notebooks` (jupytext --sync)"
    committed = nbformat.read(ipynb, as_version=4)
    assert _cells(committed) == _cells(ja_nb), f"{ipynb} differs from {ja}: run jupytext --sync"
    assert _code(committed) == _code(nbformat.read(source.with_suffix(".ipynb"), as_version=4))
    # the prose is Japanese: every markdown cell, no English paragraph left
    for cell in (c for c in ja_nb.cells if c.cell_type == "markdown"):
        assert _CJK.search(cell.source), f"{ja.name}: a markdown cell without Japanese"
        assert not english_paragraphs(cell.source), (ja.name, english_paragraphs(cell.source))
    last = ja_nb.cells[-1].source
    assert "演習" in last and "notebooks/ja/answers.md" in last
    # executed by `make notebooks` (with FREQBAYES_LANG=ja): outputs of the current code
    assert N.language_of(ja.parent) == "ja"
    assert N.stamped_digest(committed) == N.code_digest(committed), (
        f"{ipynb}'s outputs are stale: run `make notebooks`"
    )
    assert any(
        "image/png" in o.get("data", {}) for c in committed.cells for o in c.get("outputs", [])
    )


def test_the_kernel_runs_in_the_language_of_the_notebooks_folder(tmp_path, monkeypatch):
    """notebooks/ja/* run with FREQBAYES_LANG=ja, the English ones with en whatever the
    caller's environment says (one tiny notebook, two kernels: a few seconds)."""
    import nbformat

    from freqbayes.showcase import notebooks as N

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("from freqbayes.i18n import get_language\nget_language()")
    ]
    monkeypatch.setenv("FREQBAYES_LANG", "ja")
    for folder, lang in ((tmp_path / "ja", "ja"), (tmp_path / "notebooks", "en")):
        folder.mkdir()
        assert N.language_of(folder) == lang
        ran = N.execute(nb, folder)
        assert ran.cells[0].outputs[0]["data"]["text/plain"] == repr(lang), folder.name
