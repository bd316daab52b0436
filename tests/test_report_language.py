"""Issue 24 §1: the reports and the command line in Japanese with ``--lang ja``, English by default.

``--lang`` (else ``FREQBAYES_LANG``, else English) sets the language of everything a
command writes for a reader: the showcase's sections, the saved-fit report, the
renderer's own words and the page's ``<html lang>``; the CSV files keep their English
column names. A bad language is one line and exit status 2, before anything is written.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from freqbayes import cli, i18n
from freqbayes.showcase import job
from freqbayes.showcase.context import Context

from .conftest import font_misses

#: Hiragana, katakana or a CJK ideograph: Japanese text.
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

#: A cheap stage of the showcase (two sections, two figures, two tables).
CHEAP = "coverage"


def _text(page: Path) -> str:
    """The page without its inlined images."""
    return re.sub(r"data:image/png;base64,[^'\"]+", "", page.read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _no_language_in_the_environment(monkeypatch):
    monkeypatch.delenv(i18n.ENV, raising=False)


@pytest.fixture(scope="module")
def fit_file(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fits")
    assert cli.main(["run", "gaussian", "--method", "map", "--out", str(out)]) == 0
    return out / "gaussian-map.nc"


def test_the_saved_fit_report_follows_lang_and_is_english_by_default(
    fit_file, tmp_path, monkeypatch, capsys
):
    pages = {}
    for name, argv in {
        "en": [],
        "ja": ["--lang", "ja"],
        "env": [],  # FREQBAYES_LANG=ja
        "en-over-env": ["--lang", "en"],
    }.items():
        if name in ("env", "en-over-env"):
            monkeypatch.setenv(i18n.ENV, "ja")
        out = tmp_path / name
        assert cli.main(["report", str(fit_file), "--out", str(out), *argv]) == 0
        pages[name] = _text(out / "report.html")
    assert i18n.get_language() == "ja"  # the command's language did not leak out of it
    for name in ("ja", "env"):
        page = pages[name]
        assert page.startswith('<!doctype html><html lang="ja">')
        assert "<h2 id='side-by-side'>並べて比較</h2>" in page
        assert "当てはめ: gaussian-map (map)" in page
        assert "Side by side" not in page
        assert not font_misses(page)
    for name in ("en", "en-over-env"):
        page = pages[name]
        assert page.startswith('<!doctype html><html lang="en">')
        assert "<h2 id='side-by-side'>Side by side</h2>" in page
        assert "Fits: gaussian-map (map)" in page
        assert not JAPANESE.search(page), JAPANESE.search(page)
        assert "@font-face" not in page
    # the table's CSV keeps its machine-stable English header; the page shows it translated
    csv = pd.read_csv(tmp_path / "ja" / "gaussian-map-summary.csv")
    assert list(csv.columns[:1]) == ["parameter"]
    assert "<th>パラメータ</th>" in pages["ja"] and "<th>parameter</th>" in pages["en"]


@pytest.mark.parametrize("command", [["run", "all"], ["report", "fit.nc"], ["plot", "fit.nc"]])
def test_a_bad_language_is_one_line_and_writes_nothing(tmp_path, capsys, monkeypatch, command):
    out = tmp_path / "out"
    assert cli.main([*command, "--lang", "de", "--out", str(out)]) == 2
    assert capsys.readouterr().err == (
        "freqbayes: error: --lang: language 'de' is not one of en, ja\n"
    )
    monkeypatch.setenv(i18n.ENV, "fr")
    assert cli.main([*command, "--out", str(out)]) == 2
    assert capsys.readouterr().err == (
        "freqbayes: error: FREQBAYES_LANG='fr': language 'fr' is not one of en, ja\n"
    )
    assert not out.exists()


def test_the_showcase_report_is_japanese_with_lang_ja(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(job, "STAGES", [s for s in job.STAGES if s.name == CHEAP])
    out = tmp_path / "ja"
    argv = ["run", "all", "--quick", "--workers", "1", "--no-progress", "--out", str(out)]
    assert cli.main([*argv, "--lang", "ja"]) == 0
    assert "レポート: " in capsys.readouterr().out
    page = _text(out / "report.html")
    assert page.startswith('<!doctype html><html lang="ja">')
    assert "<title>freqbayes: 頻度論とベイズ、並べて比較</title>" in page
    assert "信頼区間と信用区間</h2><p>n ごとに 2,000 回の反復" in page
    assert "二つの保証: 固定した μ と事前分布から引いた μ</h2><p>σ = 1 は既知" in page
    assert "<h2 id='timings'>各段階の所要時間</h2>" in page and "<th>段階</th>" in page
    assert "Confidence" not in page and "Stage timings" not in page
    # a reader without a Japanese font (Debian's Chromium) sees no box: the page has its own
    assert not font_misses(page)
    # the CSV of the stage timings keeps its English header
    assert list(pd.read_csv(out / "timings" / "stages.csv").columns) == [
        "stage",
        "seconds",
        "outputs",
        "programs",
        "compile_seconds",
    ]


def test_a_worker_process_writes_in_the_language_of_the_command(tmp_path):
    """A spawned process reads only FREQBAYES_LANG: ``--lang`` must reach it all the same."""
    ctx = Context(tmp_path, seed=0, quick=True, progress=False)
    with i18n.language("ja"):
        (done,) = job._in_workers(ctx, [[CHEAP]], workers=1)
    assert [s.title for s in done.sections] == [
        "信頼区間と信用区間",
        "二つの保証: 固定した μ と事前分布から引いた μ",
    ]


def test_the_showcase_report_is_english_by_default(tmp_path, monkeypatch):
    monkeypatch.setattr(job, "STAGES", [s for s in job.STAGES if s.name == CHEAP])
    out = tmp_path / "en"
    argv = ["run", "all", "--quick", "--workers", "1", "--no-progress", "--out", str(out)]
    assert cli.main(argv) == 0
    page = _text(out / "report.html")
    assert page.startswith('<!doctype html><html lang="en">')
    assert "Confidence versus credible intervals</h2><p>2,000 replications per n" in page
    assert "<h2 id='timings'>Stage timings</h2>" in page and "<th>stage</th>" in page
    assert not JAPANESE.search(page), JAPANESE.search(page)


def test_names_kept_in_english_as_data_are_shown_in_japanese(tmp_path):
    from freqbayes.showcase.report import Section, render

    (tmp_path / "tables").mkdir()
    csv = tmp_path / "tables" / "t.csv"
    csv.write_text("interval,n\n95% t confidence interval,5\nno such name,5\n")
    with i18n.language("ja"):
        shown = i18n._("95% t confidence interval")
        _md, page = render(
            tmp_path, [Section("k", "t", "x", tables=["tables/t.csv"])], title="t", intro="i"
        )
    assert shown != "95% t confidence interval"
    html = page.read_text(encoding="utf-8")
    assert f"<td>{shown}</td>" in html and "<td>no such name</td>" in html
    assert "95% t confidence interval" in csv.read_text()  # the file keeps the key
