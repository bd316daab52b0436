"""``freqbayes slides``: the deck's structure, its text, its figures' fonts and its numbers.

The quick deck is built once per language in a module fixture (Japanese: PowerPoint
and PDF; English: PowerPoint only) and reopened: python-pptx for the PowerPoint,
poppler's ``pdftoppm`` for the PDF's pages (skipped without it, failed under CI=true).
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from freqbayes.cli import main
from freqbayes.figures import slides as S
from freqbayes.figures._style import smallest_font
from freqbayes.i18n import language
from freqbayes.slides import deck as D

pptx = pytest.importorskip("pptx")

CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
#: Title and contents, then the outline's slides 3-25 (15, PCA, a line in the contents).
EXPECTED_SLIDES = 2 + 19


@pytest.fixture(scope="module")
def decks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, list]]:
    """The quick deck in Japanese (pptx, pdf) and English (pptx), with their Slide objects."""
    out = {}
    for lang, formats in (("ja", ("pptx", "pdf")), ("en", ("pptx",))):
        folder = tmp_path_factory.mktemp(f"deck-{lang}")
        with language(lang):
            out[lang] = (folder, D.build(folder, seed=0, quick=True, formats=formats))
    return out


def _titles(path: Path) -> list[str]:
    deck = pptx.Presentation(str(path))
    return [s.shapes[0].text_frame.text for s in deck.slides]


def test_pptx_structure(decks: dict) -> None:
    """Slide count; every content slide: a picture, real text boxes, ≤ 3 bullets, notes."""
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    folder, slides = decks["ja"]
    deck = pptx.Presentation(str(folder / "slides.pptx"))
    assert len(deck.slides) == EXPECTED_SLIDES == len(slides) + 2
    assert (deck.slide_width.inches, deck.slide_height.inches) == pytest.approx(S.SLIDE_SIZE)
    for slide, content in zip(list(deck.slides)[2:], slides, strict=True):
        kinds = [shape.shape_type for shape in slide.shapes]
        assert kinds.count(MSO_SHAPE_TYPE.PICTURE) == 1
        boxes = [s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.TEXT_BOX]
        assert boxes[0].text_frame.text == content.title
        bullets = [p.text for p in boxes[1].text_frame.paragraphs]
        assert bullets == ["• " + b for b in content.bullets] and 1 <= len(bullets) <= 3
        notes = slide.notes_slide.notes_text_frame.text
        assert notes == content.notes and len(notes) > 100


def test_titles_japanese_or_english(decks: dict) -> None:
    """--lang ja: CJK in every title; --lang en: in none (nor in the bullets and notes)."""
    ja = _titles(decks["ja"][0] / "slides.pptx")
    en = _titles(decks["en"][0] / "slides.pptx")
    assert all(CJK.search(t) for t in ja), [t for t in ja if not CJK.search(t)]
    assert not any(CJK.search(t) for t in en), [t for t in en if CJK.search(t)]
    for s in decks["en"][1]:
        assert not CJK.search(" ".join([*s.bullets, s.notes]))


def test_table_maps_slides(decks: dict) -> None:
    """slides.csv: one row per slide, the outline's order, each figure file present."""
    folder = decks["ja"][0]
    with (folder / "slides.csv").open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [int(r["slide"]) for r in rows] == list(range(1, EXPECTED_SLIDES + 1))
    content = rows[2:]
    firsts = [int(r["outline_slide"].split("–")[0]) for r in content]
    assert firsts == sorted(firsts) and firsts[0] == 3 and firsts[-1] == 25 and 15 not in firsts
    assert all((folder / r["figure"]).is_file() and r["report_section"] for r in content)


def test_pdf_pages(decks: dict, tmp_path: Path) -> None:
    """The PDF has one page per slide (rendered by pdftoppm) and no raster image: vector."""
    pdf = decks["ja"][0] / "slides.pdf"
    assert b"/Subtype /Image" not in pdf.read_bytes()
    if shutil.which("pdftoppm") is None:
        msg = "pdftoppm (poppler-utils) is absent: make poppler"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg + "; under CI it must be present")
        pytest.skip(msg)
    subprocess.run(["pdftoppm", "-r", "20", "-png", str(pdf), str(tmp_path / "p")], check=True)
    assert len(list(tmp_path.glob("p-*.png"))) == EXPECTED_SLIDES


def test_figures_at_least_18_pt(decks: dict) -> None:
    """Every slide figure's smallest text is ≥ 18 pt at its size on the slide (Japanese)."""
    _folder, slides = decks["ja"]

    @S.slide_styled
    def smallest(slide: D.Slide) -> float:
        import matplotlib.pyplot as plt

        fig = slide.draw()
        assert tuple(fig.get_size_inches()) == pytest.approx(S.FIGURE_SIZE)
        size = smallest_font(fig)
        plt.close(fig)
        return size

    with language("ja"):
        sizes = {s.key: smallest(s) for s in slides}
    assert min(sizes.values()) >= S.MIN_SLIDE_PT, sizes


def test_bullets_from_the_computation(decks: dict) -> None:
    """Two bullets' numbers recomputed here from closed forms, independently of the lessons."""
    from freqbayes import data

    slides = {s.key: s for s in decks["en"][1]}
    # slide 4: slope posterior, σ known, flat intercept, N(0, τ²) prior: precisions add
    bmi = data.select_features(data.diabetes(), ["bmi"])
    n, tau = 20, 0.25
    x, y = bmi.X[:n, 0], bmi.y[:n]
    sxx = ((x - x.mean()) ** 2).sum()
    slope = ((x - x.mean()) * (y - y.mean())).sum() / sxx
    resid = y - y.mean() - slope * (x - x.mean())
    sigma2 = (resid**2).sum() / (n - 2)
    precision = 1 / tau**2 + sxx / sigma2
    mean = (sxx / sigma2) * slope / precision
    bullets = slides["bayes-linear-regression"].bullets
    assert f"θ̂ = {slope:.3f}" in bullets[0]
    assert f"N({mean:.3f}, {np.sqrt(1 / precision):.3f}²)" in bullets[1]
    assert f"{precision:.1f} = {1 / tau**2:.1f} + {sxx / sigma2:.1f}" in bullets[2]
    # slide 23: the share of 10^d cells holding one of n = 1,000 uniform points
    share = {d: 1 - (1 - 10.0**-d) ** 1000 for d in (3, 4, 5)}
    bullets = slides["cells"].bullets
    assert f"{share[3]:.0%} at d = 3, {share[4]:.0%} at d = 4" in bullets[1]
    assert bullets[2].startswith(f"{share[5]:.2%} at d = 5")


def test_bad_input_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A bad --format, --seed or --out: one line, exit 2, nothing written."""
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    for args in (
        ["--format", "pptx,doc", "--out", str(tmp_path / "a")],
        ["--seed", "-1", "--out", str(tmp_path / "a")],
        ["--out", str(tmp_path / "mine")],
    ):
        assert main(["slides", "--quick", *args]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("freqbayes: error:") and "\n" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["notes.txt"]
