"""The report's renderer: sections of text, figures and tables to Markdown and self-contained HTML.

Knows nothing of the lessons: it renders :class:`Section` objects whose figures
and tables are files under the output folder.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from freqbayes._io import write_text
from freqbayes.i18n import N_, _, get_language, html_font


@dataclass
class Section:
    """One part of the report: a title, a paragraph, figures and tables (by file name).

    ``warnings``: one line per fit of the section not to be trusted
    (:func:`freqbayes.inference.diagnostics.warnings`), shown hatched under the title.
    """

    key: str
    title: str
    text: str
    figures: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


#: The column of a table that says why a row's fit is not to be trusted (empty: it is).
WARNING_COLUMN = "warning"

#: What a table's column is called on the page (the CSV keeps the machine-stable name).
HEADERS = {
    "parameter": N_("parameter"),
    "method": N_("method"),
    "estimate": N_("estimate"),
    "interval": N_("interval"),
    "coverage": N_("coverage"),
    "warning": N_("warning"),
    "stage": N_("stage"),
    "seconds": N_("seconds"),
    "outputs": N_("outputs"),
    "programs": N_("programs compiled"),
    "compile_seconds": N_("compile seconds"),
    "model": N_("model"),
    "true": N_("true"),
    "fit": N_("fit"),
    "data": N_("data"),
    "mean": N_("mean"),
    "exact_mean": N_("exact mean"),
    "exact_sd": N_("exact sd"),
    "pvalue": N_("p-value"),
    "accuracy": N_("accuracy"),
    "county": N_("county"),
    "houses": N_("houses"),
    "true_level": N_("true level"),
    "no_pooling": N_("no pooling"),
    "complete_pooling": N_("complete pooling"),
    "partial_pooling_mean": N_("partial pooling: mean"),
    "partial_pooling_sd": N_("partial pooling: sd"),
    "reml_blup": N_("REML BLUP"),
}


def header(column: object) -> str:
    """The displayed header of ``column``: its :data:`HEADERS` label, translated, or itself."""
    name = str(column)
    return _(HEADERS[name]) if name in HEADERS else name


def _flagged(df: pd.DataFrame) -> np.ndarray:
    """Rows whose :data:`WARNING_COLUMN` is non-empty."""
    if WARNING_COLUMN not in df.columns:
        return np.zeros(len(df), bool)
    return df[WARNING_COLUMN].fillna("").astype(str).str.len().to_numpy() > 0


def _fmt(v: Any) -> str:
    if isinstance(v, str):  # already formatted (freqbayes.rounding.format_table)
        return v
    if isinstance(v, float | np.floating):
        if np.isnan(v):
            return "–"
        return f"{v:.4g}"
    return str(v)


def markdown_table(df: pd.DataFrame, max_rows: int = 40) -> str:
    """A GitHub-flavoured Markdown table (at most ``max_rows`` rows)."""
    head = "| " + " | ".join(map(header, df.columns)) + " |"
    rule = "|" + "|".join("---" for _column in df.columns) + "|"
    body = [
        "| " + " | ".join(("⚠ " if bad else "") + _fmt(v) for v in row) + " |"
        for row, bad in zip(df.head(max_rows).itertuples(index=False), _flagged(df), strict=False)
    ]
    more = (
        ["\n" + _("({n} more rows in the CSV)").format(n=len(df) - max_rows)]
        if len(df) > max_rows
        else []
    )
    return "\n".join([head, rule, *body, *more])


#: The report's templates (Jinja2, package data): the page, its body, a table, the style sheet.
TEMPLATES = Path(__file__).parent / "templates"


def _environment() -> Any:
    """The report's Jinja2 templates, every value of the HTML ones escaped (autoescape)."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),  # report.md is text
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _table_data(df: pd.DataFrame, max_rows: int = 40) -> dict[str, Any]:
    """What ``templates/table.html`` shows of ``df``: headers, formatted rows, the rest's count."""
    shown = df.head(max_rows).map(_fmt)
    more = len(df) - max_rows
    return {
        "headers": [header(c) for c in df.columns],
        "rows": list(zip(shown.to_numpy().tolist(), _flagged(df).tolist(), strict=False)),
        "more": _("{n} more rows in the CSV.").format(n=more) if more > 0 else "",
    }


def html_table(df: pd.DataFrame, max_rows: int = 40) -> str:
    """An HTML table (at most ``max_rows`` rows), scrolling sideways when wider than the page.

    A row with a non-empty ``warning`` column (a fit not to be trusted) is greyed and
    hatched (class ``flagged``), its reason in that column. Drawn by ``templates/table.html``.
    """
    table = _environment().get_template("table.html").module.table  # type: ignore[attr-defined]
    return str(table(_table_data(df, max_rows)))


INTRO = N_(
    "Deep Learning (Goodfellow, Bengio & Courville), §5.5–5.11, run for real: every point "
    "estimate (MLE, MAP, the SVM, k-means, SGD) beside a full posterior (Laplace, SVI, NUTS, "
    "SGLD). Intervals are 95% equal-tailed intervals (ETI) unless stated otherwise."
)


def _read(out: Path, rel: str) -> pd.DataFrame:
    """A table as printed: summaries rounded by their uncertainties, other floats to 4 figures.

    Names the lessons keep in English as data (an interval's, a seeding's) are shown in
    the language in force (:func:`freqbayes.figures._style.label`); the CSV keeps them.
    """
    from freqbayes.figures._style import label
    from freqbayes.rounding import format_table

    raw = pd.read_csv(out / rel)
    df = format_table(raw)
    if WARNING_COLUMN in raw:  # empty where the fit is trusted (not the number format's "–")
        df[WARNING_COLUMN] = raw[WARNING_COLUMN].fillna("").astype(str)
    if get_language() != "en":
        for column in df.select_dtypes(include=["object", "string"]).columns:
            df[column] = df[column].map(lambda v: label(v) if isinstance(v, str) else v)
    return df


def render(
    out: Path,
    sections: Sequence[Section],
    *,
    title: str,
    intro: str,
    settings: str = "",
    timings: pd.DataFrame | None = None,
) -> tuple[Path, Path]:
    """Write ``report.md`` and a self-contained ``report.html`` (images inlined) in ``out``.

    Figures are PNG files and tables CSV files under ``out``, named relative to it. The
    renderer's own words are in the language in force (:mod:`freqbayes.i18n`), which the
    page declares (``<html lang="ja">``); ``title``, ``intro`` and the sections come
    already translated.
    """
    from markupsafe import Markup

    untrusted = _("Not to be trusted:")
    table_word = _("Table")
    stage_timings = _("Stage timings")
    shown = []  # the sections as the templates take them
    for s in sections:
        tables = [(rel, _read(out, rel)) for rel in s.tables]
        figures = [(rel, base64.b64encode((out / rel).read_bytes()).decode()) for rel in s.figures]
        shown.append(
            {
                "key": s.key,
                "title": s.title,
                "text": s.text,
                "warnings": s.warnings,
                "figures": figures,
                "tables": [(rel, _table_data(df)) for rel, df in tables],
                "markdown_tables": [(rel, markdown_table(df)) for rel, df in tables],
                "links": s.links,
            }
        )
    words = {"untrusted": untrusted, "table": table_word, "timings": stage_timings}
    env = _environment()
    body = env.get_template("body.html").render(
        title=title,
        intro=intro,
        settings=settings,
        sections=shown,
        timings=None if timings is None else _table_data(timings),
        words=words,
    )
    text = html.unescape(re.sub(r"<[^>]*>", " ", body))  # the page's text, for its font
    page = env.get_template("report.html").render(
        lang=get_language(),
        title=title,
        font=Markup(html_font(f"{title} {text}")),
        body=Markup(body),
    )
    md = env.get_template("report.md").render(
        title=title,
        intro=intro,
        settings=settings,
        sections=shown,
        timings=None if timings is None else markdown_table(timings),
        words=words,
    )
    write_text(out / "report.md", md.removesuffix("\n"))  # each line ends in one, but the last
    write_text(out / "report.html", page)
    return out / "report.md", out / "report.html"


def write_report(
    out: Path, sections: Sequence[Section], timings: pd.DataFrame, settings: str
) -> tuple[Path, Path]:
    """The showcase's report: its sections, settings and stage timings (:func:`render`)."""
    return render(
        out,
        sections,
        title=_("freqbayes: the frequentist and the Bayesian way, side by side"),
        intro=_(INTRO),
        settings=settings,
        timings=timings,
    )
