"""The deck: its slides in the outline's order, written as PowerPoint, PDF, PNG and a table.

PowerPoint (``python-pptx``): a real text box for the title and one for the bullets
(editable by the lecturer), the figure as a PNG picture, the speaker notes in the
notes slide. PDF: one vector page per slide, drawn by Matplotlib (the slide's own
figure, enlarged to the page with its axes kept in the figure's box, and the same
title and bullets). ``slides.csv``: slide number → outline slide → figure file →
report section.
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from freqbayes.figures import slides as S
from freqbayes.i18n import N_, _, get_language
from freqbayes.slides import estimation as E
from freqbayes.slides import learning as G
from freqbayes.slides.base import Slide

#: Output formats of the deck (figures are always written as PNG).
FORMATS = ("pptx", "pdf")
#: Figure resolution (dots per inch) of the PNG files placed in the PowerPoint.
DPI = 200
#: Where things sit on a slide (inches): title, figure, bullets; and their sizes (points).
TITLE_BOX = (0.4, 0.2, 12.5, 1.0)
FIGURE_AT = (0.3, 1.35)
BULLET_BOX = (9.1, 1.6, 3.95, 5.6)
TITLE_PT, BULLET_PT, BODY_PT = 30, 20, 18

#: The outline's slide 15 (PCA), which the seminar skipped: no slide, a line in the contents.
SKIPPED = (("15", N_("PCA: skipped in the seminar (no slide)")),)


def content_slides(seed: int = 0, quick: bool = False) -> list[Slide]:
    """The content slides, outline slides 3–25 in order (15 skipped), computed now."""
    makers: list[Callable[[], Slide]] = [
        lambda: E.maximum_likelihood(seed),
        lambda: E.bayesian_regression(seed),
        lambda: E.gaussian_regression(seed),
        lambda: E.why_sigmoid(seed),
        lambda: E.logistic(seed),
        lambda: E.separating_lines(seed)[0],
        lambda: E.margin(seed),
        lambda: E.maximum_margin(seed),
        lambda: E.feature_space(seed),
        lambda: E.gravitation(seed),
        lambda: E.kernel_trick(seed, quick),
        lambda: G.kmeans_steps(seed),
        lambda: G.kmeans_inertia(seed),
        lambda: G.kmeans_plus_plus(seed),
        lambda: G.full_gradient(seed, quick),
        lambda: G.minibatch_sgd(seed, quick),
        lambda: G.cells(seed),
        lambda: G.knn(seed),
        lambda: G.curse(seed, quick),
    ]
    return [make() for make in makers]


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in "WF"


#: Characters a line may not start with (Japanese closing punctuation): kept with the one before.
_NO_LINE_START = "、。，．）」』：；！？・ー"
#: Characters a line may not end with (Japanese opening brackets): kept with the one after.
_NO_LINE_END = "（「『"


def _tokens(text: str) -> list[str]:
    """Unbreakable pieces: a run of narrow characters, a space, or one wide character."""
    tokens: list[str] = []
    for ch in text:
        narrow = not _wide(ch) and not ch.isspace()
        if tokens and (ch in _NO_LINE_START or tokens[-1][-1] in _NO_LINE_END):
            tokens[-1] += ch
        elif tokens and narrow and not tokens[-1][-1].isspace() and not _wide(tokens[-1][-1]):
            tokens[-1] += ch
        else:
            tokens.append(ch)
    return tokens


def wrap(text: str, width_in: float, size_pt: float) -> str:
    """Break ``text`` into lines at most ``width_in`` inches wide at ``size_pt`` (estimated).

    A wide (CJK) character counts one em, any other 0.55 em; lines break at spaces and
    between wide characters (Japanese has no spaces), never inside a number or a word,
    nor before Japanese closing punctuation.
    """
    limit = width_in * 72 / size_pt  # ems per line
    lines, line, used = [], "", 0.0
    for piece in _tokens(text):
        w = sum(1.0 if _wide(c) else 0.55 for c in piece)
        if used + w > limit and line.strip() and not piece.isspace():
            lines.append(line.rstrip())
            line, used = piece, w
        else:
            line, used = line + piece, used + w
    lines.append(line.rstrip())
    return "\n".join(lines)


def _columns(lines: Sequence[str], rows: int = 10) -> list[list[str]]:
    """``lines`` in columns of at most ``rows`` lines."""
    return [list(lines[i : i + rows]) for i in range(0, len(lines), rows)]


def _title_page(pdf: Any, title: str, columns: Sequence[Sequence[str]], size: float) -> None:
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=S.SLIDE_SIZE)
    fig.text(0.04, 0.92, wrap(title, 12.3, TITLE_PT + 4), fontsize=TITLE_PT + 4, va="top")
    width = 12.3 / len(columns)
    for j, lines in enumerate(columns):
        text = "\n".join(wrap(line, width - 0.2, size) for line in lines)
        fig.text(
            0.04 + j * width / S.SLIDE_SIZE[0], 0.74, text, fontsize=size, va="top", linespacing=1.4
        )
    pdf.savefig(fig)
    plt.close(fig)


def _content_page(pdf: Any, slide: Slide) -> None:
    """A page: the title, the bullets and the slide's figure drawn into a subfigure (vector)."""
    import matplotlib.pyplot as plt

    W, H = S.SLIDE_SIZE
    (fw, fh), (x0, y0) = S.FIGURE_SIZE, FIGURE_AT
    page = plt.figure(figsize=S.SLIDE_SIZE, layout="constrained")
    page.get_layout_engine().set(w_pad=0, h_pad=0, wspace=0, hspace=0)
    grid = page.add_gridspec(
        3, 2, width_ratios=[x0 + fw, W - x0 - fw], height_ratios=[y0, fh, H - y0 - fh]
    )
    with S.drawn_into(page.add_subfigure(grid[1, 0])):
        slide.draw()
    page.text(
        TITLE_BOX[0] / W,
        1 - TITLE_BOX[1] / H,
        wrap(slide.title, TITLE_BOX[2], TITLE_PT),
        fontsize=TITLE_PT,
        va="top",
    )
    bx, by, bw, _bh = BULLET_BOX
    text = "\n\n".join(wrap("• " + b, bw, BULLET_PT) for b in slide.bullets)
    page.text(bx / W, 1 - by / H, text, fontsize=BULLET_PT, va="top", linespacing=1.25)
    pdf.savefig(page)
    plt.close(page)


def _pptx_text(
    slide: Any,
    box: tuple[float, ...],
    paragraphs: Sequence[str],
    size: float,
    bold: bool = False,
    space: float = 0.6,
) -> None:
    from pptx.util import Inches, Pt

    frame = slide.shapes.add_textbox(*(Inches(v) for v in box)).text_frame
    frame.word_wrap = True
    for i, text in enumerate(paragraphs):
        p = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        p.text = text
        p.font.size, p.font.bold = Pt(size), bold
        p.space_after = Pt(size * space)


def write_pptx(
    path: Path,
    title: str,
    front: Sequence[Sequence[str]],
    slides: Sequence[Slide],
    figures: Sequence[Path],
) -> None:
    """The deck as PowerPoint: real text boxes, the figure as a picture, notes in the notes."""
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    deck.slide_width, deck.slide_height = (Inches(v) for v in S.SLIDE_SIZE)
    blank = deck.slide_layouts[6]
    for heading, columns in zip((title, _("Contents")), front, strict=True):
        s = deck.slides.add_slide(blank)
        _pptx_text(s, (0.5, 0.4, 12.3, 1.4), [heading], TITLE_PT + 4, bold=True)
        width = 12.3 / len(columns)
        for j, lines in enumerate(columns):
            _pptx_text(s, (0.5 + j * width, 2.0, width - 0.2, 5.2), lines, BODY_PT, space=0.2)
        s.notes_slide.notes_text_frame.text = "\n".join(line for c in columns for line in c)
    for slide, figure in zip(slides, figures, strict=True):
        s = deck.slides.add_slide(blank)
        _pptx_text(s, TITLE_BOX, [slide.title], TITLE_PT, bold=True)
        s.shapes.add_picture(str(figure), *(Inches(v) for v in (*FIGURE_AT, *S.FIGURE_SIZE)))
        _pptx_text(s, BULLET_BOX, ["• " + b for b in slide.bullets], BULLET_PT)
        s.notes_slide.notes_text_frame.text = slide.notes
    deck.save(str(path))


@S.slide_styled  # the pages' text and the figures' late-made ticks in the slide style
def build(
    out: Path, seed: int = 0, quick: bool = False, formats: Sequence[str] = FORMATS
) -> list[Slide]:
    """Compute the slides and write the deck into the folder ``out`` (which must exist).

    Writes ``figures/NN-KEY.png``, ``slides.pptx`` and/or ``slides.pdf`` and
    ``slides.csv``; returns the content slides.
    """
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    slides = content_slides(seed, quick)
    title = _("Deep Learning §5.5–5.11: the frequentist and the Bayesian way")
    subtitle = [
        _("A reading seminar's deck, computed by freqbayes in this run"),
        _("seed {seed}; language {lang}; {mode} run").format(
            seed=seed, lang=get_language(), mode=_("quick") if quick else _("full")
        ),
    ]
    entries = [f"{s.outline}  {s.title}" for s in slides]
    for number, text in SKIPPED:
        at = next(i for i, s in enumerate(slides) if int(s.outline.split("–")[0]) > int(number))
        entries.insert(at, f"{number}  {_(text)}")
    contents = _columns(entries)
    (out / "figures").mkdir(exist_ok=True)
    figures = []
    for i, slide in enumerate(slides, start=3):
        path = out / "figures" / f"{i:02d}-{slide.key}.png"
        figure = slide.draw()
        figure.savefig(path, dpi=DPI)
        plt.close(figure)
        figures.append(path)
    if "pptx" in formats:
        write_pptx(out / "slides.pptx", title, [[subtitle], contents], slides, figures)
    if "pdf" in formats:
        with PdfPages(out / "slides.pdf") as pdf:
            _title_page(pdf, title, [subtitle], BODY_PT + 4)
            _title_page(pdf, _("Contents"), contents, BODY_PT)
            for slide in slides:
                _content_page(pdf, slide)
    with (out / "slides.csv").open("w", newline="", encoding="utf-8") as file:
        rows = csv.writer(file)
        rows.writerow(["slide", "outline_slide", "title", "figure", "report_section"])
        rows.writerow([1, "", title, "", ""])
        rows.writerow([2, "", _("Contents"), "", ""])
        for i, (slide, path) in enumerate(zip(slides, figures, strict=True), start=3):
            rows.writerow([i, slide.outline, slide.title, f"figures/{path.name}", slide.section])
    return slides
