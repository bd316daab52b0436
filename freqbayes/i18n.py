"""Text a reader sees, in English or Japanese: gettext catalogues, read with Babel.

The English sentence is the message id, marked in the code by :func:`_` (translated
where it is used) or :func:`N_` (only marked, for text kept in constants and translated
later with :func:`_`). The Japanese lives in ``freqbayes/locale/ja/LC_MESSAGES/
freqbayes.po``, gettext's standard format, so a translator edits Japanese without
reading Python; ``make messages`` re-extracts the template ``freqbayes/locale/
freqbayes.pot`` (Babel's ``pybabel extract``) and merges it into the catalogue.

Placeholders are ``str.format`` fields, filled after translating:
``_("With {n} observations").format(n=n)``; a translation keeps the same fields
(``tests/test_i18n.py``). Numbers and code are never translated.

The language is a setting, not a fork: :func:`language` (a context manager) or
:func:`set_language` choose it for the current context; the default comes from the
environment variable :data:`ENV` (``FREQBAYES_LANG=ja``), else English.
"""

from __future__ import annotations

import base64
import functools
import io
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

#: The languages a reader can choose (``--lang``).
LANGUAGES = ("en", "ja")
#: The environment variable that sets the default language.
ENV = "FREQBAYES_LANG"
#: The gettext domain and the folder of its catalogues.
DOMAIN = "freqbayes"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_LANGUAGE: ContextVar[str | None] = ContextVar("freqbayes_language", default=None)


def check_language(lang: str) -> str:
    """``lang`` if it is one of :data:`LANGUAGES`; else a ``ValueError`` naming them."""
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r} is not one of {', '.join(LANGUAGES)}")
    return lang


def default_language() -> str:
    """The language of :data:`ENV`, or English when it is unset or empty."""
    value = os.environ.get(ENV, "").strip()
    if not value:
        return "en"
    try:
        return check_language(value)
    except ValueError as error:
        raise ValueError(f"{ENV}={value!r}: {error}") from None


def get_language() -> str:
    """The language in force: the one set in this context, else :func:`default_language`."""
    return _LANGUAGE.get() or default_language()


def set_language(lang: str) -> None:
    """Use ``lang`` from now on in this context (the command line sets ``--lang`` so)."""
    _LANGUAGE.set(check_language(lang))


@contextmanager
def language(lang: str | None) -> Iterator[str]:
    """Use ``lang`` inside the ``with`` block (``None``: keep the one in force)."""
    token = _LANGUAGE.set(check_language(lang) if lang is not None else _LANGUAGE.get())
    try:
        yield get_language()
    finally:
        _LANGUAGE.reset(token)


def catalogue_path(lang: str) -> Path:
    """The ``.po`` file of ``lang``."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def messages(lang: str) -> dict[str, str]:
    """msgid → msgstr of ``lang``'s catalogue: translated, non-fuzzy entries only."""
    if lang == "en":
        return {}
    from babel.messages.pofile import read_po

    with catalogue_path(check_language(lang)).open("rb") as file:
        catalogue = read_po(file, locale=lang, domain=DOMAIN)
    return {
        str(m.id): str(m.string)
        for m in catalogue
        if m.id and isinstance(m.id, str) and m.string and not m.fuzzy
    }


def _(message: str) -> str:
    """``message`` in the language in force (itself where the catalogue has no entry)."""
    lang = get_language()
    if lang == "en":
        return message
    return messages(lang).get(message, message)


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it (for constants)."""
    return message


#: Characters that need a Japanese font: kana, CJK punctuation and ideographs, full-width forms.
JAPANESE = re.compile(r"[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]")
#: The family name of the Japanese font an HTML page carries (:func:`html_font`).
PAGE_FONT = "freqbayes-ja"


def japanese_font_file() -> Path | None:
    """IPAex Gothic, the Japanese figures' and pages' font, shipped by ``matplotlib-fontja``.

    Found without importing ``matplotlib_fontja``, whose import sets Matplotlib's global
    ``rcParams["font.family"]``. ``None`` when the package is not installed.
    """
    import importlib.util

    spec = importlib.util.find_spec("matplotlib_fontja")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "fonts" / "ipaexg.ttf"


def html_font(text: str) -> str:
    """The ``<head>`` of a page whose ``text`` has Japanese: IPAex Gothic, inlined, cut to it.

    A reader's machine may have no Japanese font (Debian's Chromium draws boxes), so the
    page carries the figures' own font, subset by fontTools to the characters of the page
    (the file is 6.1 MB; cut to the 665 characters of the whole catalogue it was 279 KiB
    as base64, in 1 s, measured 2026-12-04). Returns "" when ``text`` has no Japanese or
    the font is not installed (the page still reads where the system has a Japanese font).
    A page with a Content-Security-Policy must allow ``font-src data:``.
    """
    path = japanese_font_file()
    if not JAPANESE.search(text) or path is None:
        return ""
    from fontTools import subset

    font = subset.load_font(str(path), subset.Options())
    cutter = subset.Subsetter(subset.Options())
    cutter.populate(text="".join(sorted(set(text))))
    cutter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    data = base64.b64encode(buffer.getvalue()).decode()
    return (
        f"<style>@font-face{{font-family:'{PAGE_FONT}';src:url(data:font/ttf;base64,{data}) "
        f"format('truetype')}}body{{font-family:system-ui,'{PAGE_FONT}',sans-serif}}</style>"
        # load it before the body is laid out: Chromium otherwise draws boxes for the first
        # Japanese paragraph (the one that set the loading off) and never redraws them
        f'<script>document.fonts.load("1em \'{PAGE_FONT}\'", "あ")</script>'
    )
