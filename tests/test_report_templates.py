"""The report is drawn by Jinja2 templates (freqbayes/showcase/templates): escaped, shipped."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd

from freqbayes.showcase.report import TEMPLATES, Section, html_table, render

ROOT = Path(__file__).resolve().parents[1]


def test_text_of_sections_tables_and_links_is_escaped(tmp_path):
    """Autoescape: a title, text, warning, table cell or link with markup shows as text."""
    (tmp_path / "tables").mkdir()
    pd.DataFrame({"method": ["<script>x</script>"], "warning": ["r̂ <b>2</b>"]}).to_csv(
        tmp_path / "tables" / "t.csv", index=False
    )
    evil = "<img src=x onerror=alert(1)>"
    section = Section(
        "k",
        f"title {evil}",
        f"text {evil} & 'quotes'",
        tables=["tables/t.csv"],
        links=["tables/t.csv"],
        warnings=[f"fits/x.nc: {evil}"],
    )
    _md, page = render(tmp_path, [section], title=f"T {evil}", intro=f"I {evil}", settings=evil)
    html = page.read_text(encoding="utf-8")
    assert "<img src=x" not in html and "<script>x" not in html and "<b>2</b>" not in html
    # <title>, h1, intro, settings, contents, h2, text, warning
    assert html.count("&lt;img src=x onerror=alert(1)&gt;") == 8
    assert "<tr class='flagged'><td>&lt;script&gt;x&lt;/script&gt;</td>" in html
    assert html.startswith("<!doctype html><html lang=\"en\"><head><meta charset='utf-8'>")


def test_a_long_table_shows_its_first_rows_and_counts_the_rest():
    page = html_table(pd.DataFrame({"n": range(45)}), max_rows=40)
    assert page.count("<tr><td>") == 40
    assert "<p class='more'>5 more rows in the CSV.</p>" in page
    assert "<th>n</th>" in page and "class='more'" not in html_table(pd.DataFrame({"n": [1]}))


def test_the_templates_are_package_data():
    """Every file of the package that is not Python (templates, scripts, styles, catalogues)
    is matched by pyproject's package-data, so that an installed wheel has it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = config["package-data"]["freqbayes"]
    root = ROOT / "freqbayes"
    files = [
        p.relative_to(root)
        for p in root.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc", ".mo") and "__pycache__" not in p.parts
    ]
    assert {p.name for p in TEMPLATES.iterdir()} >= {"report.html", "body.html", "table.html"}
    missing = [str(p) for p in files if not any(p.match(g) for g in patterns)]
    assert not missing, missing
