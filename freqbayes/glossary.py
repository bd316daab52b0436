"""The seminar's glossary: one Japanese term for each English one (issue 24 §1).

The terms live in ``freqbayes/locale/glossary.tsv`` (UTF-8, tab-separated, one header
row) so that a translator edits them without reading Python. Its columns:

``ja``
    The Japanese term every translated text uses (the seminar deck's wording where it
    has one, e.g. 分類超平面, 支持超平面).
``en``
    The English term as this project's English text writes it.
``symbol``
    The book's notation, e.g. ``θ̂_ML`` or ``p(θ | x)`` (may be empty).
``section``
    The section of Goodfellow, Bengio & Courville, *Deep Learning*, within §5.5–§5.11
    (e.g. ``§5.7.2``); empty for a term this project uses that the book treats
    elsewhere or not at all (bias and the confidence interval are §5.4's; the credible
    interval, MCMC and the Gaussian process are the project's own).
``ja_aliases``, ``en_aliases``
    Other accepted forms, ``|``-separated (may be empty): 確信区間 for 信用区間, or
    ``MLE`` and ``maximum likelihood`` for maximum likelihood estimation. An alias is
    accepted, never preferred: new text uses the ``ja`` column.

:func:`english_terms` finds the terms an English text uses (word boundaries, any case,
an optional plural ``s``; acronyms such as ``MAP`` in their own case; a term inside a
longer one, *likelihood* inside *maximum likelihood*, is not counted twice) and
:func:`missing_japanese` the ones whose Japanese a translation lacks.
"""

from __future__ import annotations

import csv
import functools
import re
from pathlib import Path
from typing import NamedTuple

#: The glossary file.
PATH = Path(__file__).resolve().parent / "locale" / "glossary.tsv"
#: Its columns, in order.
COLUMNS = ("ja", "en", "symbol", "section", "ja_aliases", "en_aliases")
#: A section of the book's §5.5–§5.11 (``§5.7`` or ``§5.7.2``).
SECTION = re.compile(r"§5\.(?:5|6|7|8|9|10|11)(?:\.\d+)*")


class Term(NamedTuple):
    """One row of the glossary."""

    ja: str
    en: str
    symbol: str
    section: str
    ja_aliases: tuple[str, ...] = ()
    en_aliases: tuple[str, ...] = ()

    @property
    def ja_forms(self) -> tuple[str, ...]:
        """The Japanese term and its aliases."""
        return (self.ja, *self.ja_aliases)

    @property
    def en_forms(self) -> tuple[str, ...]:
        """The English term and its aliases."""
        return (self.en, *self.en_aliases)


def _split(cell: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in cell.split("|") if part.strip())


def load(path: str | Path = PATH) -> list[Term]:
    """The glossary's terms, in the file's order.

    Raises
    ------
    ValueError
        When the header is not :data:`COLUMNS`, a row has another number of cells, the
        ``ja`` or ``en`` cell is empty, or a section is outside §5.5–§5.11; the message
        names the line.
    """
    path = Path(path)
    with path.open(encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file, delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows or tuple(rows[0]) != COLUMNS:
        raise ValueError(f"{path.name}: the header must be {' '.join(COLUMNS)}")
    terms = []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(COLUMNS):
            raise ValueError(f"{path.name} line {line}: {len(row)} cells, not {len(COLUMNS)}")
        ja, en, symbol, section, ja_aliases, en_aliases = (cell.strip() for cell in row)
        if not ja or not en:
            raise ValueError(f"{path.name} line {line}: the ja and en cells must not be empty")
        if section and not SECTION.fullmatch(section):
            raise ValueError(f"{path.name} line {line}: section {section!r} is not in §5.5–§5.11")
        terms.append(Term(ja, en, symbol, section, _split(ja_aliases), _split(en_aliases)))
    return terms


def _pattern(form: str) -> re.Pattern[str]:
    """``form`` as a whole word (optional plural ``s``); acronyms match their own case."""
    body = r"[\s-]+".join(re.escape(word) for word in form.split())
    flags = 0 if form.isupper() else re.IGNORECASE
    return re.compile(rf"(?<!\w){body}(?:s|es)?(?![\w+])", flags)


@functools.cache
def _patterns() -> tuple[tuple[Term, re.Pattern[str], int], ...]:
    return tuple((term, _pattern(form), len(form)) for term in load() for form in term.en_forms)


#: A ``str.format`` field (``{loss:.5f}``): a placeholder's name is not prose.
FIELD = re.compile(r"\{[^{}]*\}")


def english_terms(text: str, terms: list[Term] | None = None) -> list[Term]:
    """The glossary terms ``text`` uses, each once, in the order they first appear.

    Longer matches win: the span of *maximum likelihood* is not also read as
    *likelihood*, nor *support vector machine* as *support vector*. Format fields
    (``{estimator}``) are not read.
    """
    text = FIELD.sub(" ", text)
    if terms is None:
        patterns = _patterns()
    else:
        patterns = tuple((t, _pattern(f), len(f)) for t in terms for f in t.en_forms)
    found = [
        (match.start(), match.end(), term)
        for term, pattern, _ in patterns
        for match in pattern.finditer(text)
    ]
    found.sort(key=lambda hit: (-(hit[1] - hit[0]), hit[0]))
    taken: list[tuple[int, int]] = []
    kept: list[tuple[int, Term]] = []
    for start, end, term in found:
        if any(start < b and a < end for a, b in taken):
            continue
        taken.append((start, end))
        kept.append((start, term))
    seen: dict[str, Term] = {}
    for _, term in sorted(kept, key=lambda hit: hit[0]):
        seen.setdefault(term.en, term)
    return list(seen.values())


def missing_japanese(english: str, japanese: str, terms: list[Term] | None = None) -> list[Term]:
    """The terms of ``english`` whose Japanese (or an alias) ``japanese`` does not contain.

    Spaces do not count (``RBF カーネル`` is ``RBFカーネル``), and an English form that
    ``japanese`` keeps as it is, as a whole word in the same case, is taken for a name
    kept untranslated (code such as ``(weights, means, variances)``, or a symbol).
    """
    bare = re.sub(r"\s+", "", japanese)
    kept = FIELD.sub(" ", japanese)
    return [
        term
        for term in english_terms(english, terms)
        if not any(re.sub(r"\s+", "", form) in bare for form in term.ja_forms)
        and not any(
            re.search(rf"(?<!\w){re.escape(form)}(?:s|es)?(?![\w+])", kept)
            for form in term.en_forms
        )
    ]
