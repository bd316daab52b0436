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
    "model": N_("model"),
    "true": N_("true"),
    "fit": N_("fit"),
    "data": N_("data"),
    "mean": N_("mean"),
    "exact_mean": N_("exact mean"),
    "exact_sd": N_("exact sd"),
    "pvalue": N_("p-value"),
    "accuracy": N_("accuracy"),
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


def html_table(df: pd.DataFrame, max_rows: int = 40) -> str:
    """An HTML table (at most ``max_rows`` rows), scrolling sideways when wider than the page.

    A row with a non-empty ``warning`` column (a fit not to be trusted) is greyed and
    hatched (class ``flagged``), its reason in that column.
    """
    head = "".join(f"<th>{html.escape(header(c))}</th>" for c in df.columns)
    rows = "".join(
        ("<tr class='flagged'>" if bad else "<tr>")
        + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row)
        + "</tr>"
        for row, bad in zip(df.head(max_rows).itertuples(index=False), _flagged(df), strict=False)
    )
    more = (
        "<p class='more'>"
        + html.escape(_("{n} more rows in the CSV.").format(n=len(df) - max_rows))
        + "</p>"
        if len(df) > max_rows
        else ""
    )
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    return f"<div class='scroll'>{table}</div>{more}"


CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}
body{color:#222}img{max-width:100%;border:1px solid #eee;margin:.5em 0}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}th{background:#f3f3f3}
p.more{font-size:.8em;color:#666}div.scroll{overflow-x:auto;max-width:100%}
h2{border-bottom:1px solid #ddd;padding-top:1em}.caption{font-size:.85em;color:#555}
tr.flagged td{color:#777;background:repeating-linear-gradient(45deg,#f4f4f4 0 4px,#e2e2e2 4px 8px)}
p.warn{border-left:4px solid #b00;padding:.4em .8em;color:#600;
background:repeating-linear-gradient(45deg,#fff6f6 0 6px,#fbe3e3 6px 12px)}
iframe.demo{width:100%;height:760px;border:1px solid #ddd}"""


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
    untrusted = _("Not to be trusted:")
    table_word = _("Table")
    md = [f"# {title}", "", intro, "", settings, ""]
    body = [f"<h1>{html.escape(title)}</h1><p>{html.escape(intro)}</p>"]
    if settings:
        body.append(f"<p>{html.escape(settings)}</p>")
    toc = "".join(f"<li><a href='#{s.key}'>{html.escape(s.title)}</a></li>" for s in sections)
    body.append(f"<ol>{toc}</ol>")
    for s in sections:
        md += [f"## {s.title}", "", s.text, ""]
        body.append(f"<h2 id='{s.key}'>{html.escape(s.title)}</h2><p>{html.escape(s.text)}</p>")
        for line in s.warnings:
            md += [f"> ⚠ **{untrusted}** {line}", ""]
            body.append(
                f"<p class='warn'>⚠ <b>{html.escape(untrusted)}</b> {html.escape(line)}</p>"
            )
        for rel in s.figures:
            md += [f"![{s.title}]({rel})", ""]
            data = base64.b64encode((out / rel).read_bytes()).decode()
            body.append(f"<img alt='{html.escape(rel)}' src='data:image/png;base64,{data}'>")
        for rel in s.tables:
            df = _read(out, rel)
            md += [f"{table_word} `{rel}`:", "", markdown_table(df), ""]
            body.append(
                f"<p class='caption'>{html.escape(table_word)} <code>{html.escape(rel)}</code>"
                f"</p>{html_table(df)}"
            )
        for rel in s.links:
            md += [f"[{rel}]({rel})", ""]
            body.append(f"<p><a href='{html.escape(rel)}'>{html.escape(rel)}</a></p>")
            if rel.startswith("demos/") and rel.endswith(".html"):  # the step-through demo, here
                body.append(
                    f"<iframe class='demo' src='{html.escape(rel)}' title='{html.escape(rel)}' "
                    "loading='lazy'></iframe>"
                )
    if timings is not None:
        stage_timings = _("Stage timings")
        md += [f"## {stage_timings}", "", markdown_table(timings), ""]
        body.append(f"<h2 id='timings'>{html.escape(stage_timings)}</h2>{html_table(timings)}")
    shown = html.unescape(re.sub(r"<[^>]*>", " ", "".join(body)))  # the page's text
    font = html_font(f"{title} {shown}")
    head = f"<meta charset='utf-8'><title>{html.escape(title)}</title><style>{CSS}</style>{font}"
    page = (
        f'<!doctype html><html lang="{get_language()}"><head>'
        f"{head}</head>"
        f"<body>{''.join(body)}</body></html>"
    )
    write_text(out / "report.md", "\n".join(md))
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
