"""The translation catalogue: complete, placeholders kept, current with the code; the font."""

from __future__ import annotations

import string
import warnings

import pytest

from freqbayes import i18n

ROOT = i18n.LOCALE_DIR.parents[1]
#: The source folders whose messages the catalogue holds (as ``make messages`` extracts them).
SOURCES = ("freqbayes", "models", "inference")


def extracted() -> dict[str, str]:
    """Every message the code marks (``_``/``N_``), with the file it is in."""
    from babel.messages.extract import extract_from_dir

    found = {}
    for folder in SOURCES:
        for filename, _line, message, _comments, _context in extract_from_dir(
            str(ROOT / folder), keywords={"_": None, "N_": None}
        ):
            found[message] = f"{folder}/{filename}"
    return found


def fields(text: str) -> list[str]:
    """The ``str.format`` fields of ``text`` (with their format specs), sorted."""
    return sorted(
        f"{name}:{spec}"
        for _lit, name, spec, _conv in string.Formatter().parse(text)
        if name is not None
    )


def test_every_marked_message_has_a_japanese_entry():
    ja = i18n.messages("ja")
    missing = {m: f for m, f in extracted().items() if not ja.get(m)}
    assert not missing, f"{len(missing)} messages have no Japanese (run `make messages`): {missing}"


def test_translations_keep_the_placeholders():
    differ = {m: t for m, t in i18n.messages("ja").items() if fields(m) != fields(t)}
    assert not differ, differ


def test_the_template_is_current_with_the_code():
    from babel.messages.pofile import read_po

    with (i18n.LOCALE_DIR / "freqbayes.pot").open("rb") as file:
        template = {m.id for m in read_po(file) if m.id}
    assert template == set(extracted()), "run `make messages`"


def test_the_language_is_a_setting(monkeypatch):
    monkeypatch.delenv(i18n.ENV, raising=False)
    assert i18n.get_language() == "en"
    monkeypatch.setenv(i18n.ENV, "ja")
    assert i18n.get_language() == "ja"
    with i18n.language("en"):
        assert i18n.get_language() == "en"
    assert i18n.get_language() == "ja"
    monkeypatch.setenv(i18n.ENV, "fr")
    with pytest.raises(ValueError, match=r"FREQBAYES_LANG='fr'.*en, ja"):
        i18n.get_language()
    with pytest.raises(ValueError, match="'de' is not one of en, ja"), i18n.language("de"):
        pass


def test_japanese_text_draws_with_no_missing_glyph_and_leaves_rcparams_alone():
    import matplotlib.pyplot as plt

    from freqbayes.figures._style import styled

    @styled
    def figure():
        fig, ax = plt.subplots()
        ax.set_title("最尤推定と事後分布 (θ̂, σ², r̂)")
        fig.canvas.draw()
        return fig

    before = plt.rcParams["font.family"]
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="Glyph .* missing")
        with i18n.language("ja"):
            plt.close(figure())
    assert plt.rcParams["font.family"] == before
    # the check can fail: without the Japanese font, Matplotlib warns
    with pytest.warns(UserWarning, match="Glyph .* missing"), i18n.language("en"):
        plt.close(figure())


def test_no_module_that_translates_hides_the_translation_function():
    """``dense, _ = f()`` in a module that imports ``_`` makes ``_`` a local of that function:
    its ``_("...")`` then calls the value (a TypeError only when the stage runs)."""
    import ast

    hidden = []
    for path in sorted(p for folder in SOURCES for p in (ROOT / folder).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if not any(
            isinstance(node, ast.ImportFrom)
            and node.module == "freqbayes.i18n"
            and any(alias.name == "_" and alias.asname is None for alias in node.names)
            for node in ast.walk(tree)
        ):
            continue
        for node in ast.walk(tree):
            stored = (
                (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id == "_")
                or (isinstance(node, ast.arg) and node.arg == "_")
                or (isinstance(node, ast.ExceptHandler) and node.name == "_")
            )
            if stored:
                hidden.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not hidden, f"name the throwaway otherwise (_unused): {hidden}"
