"""``freqbayes slides``: the reading seminar's deck, generated from this run.

The deck follows the seminar's outline (``../shared/reference/seminar-outline.md``),
slides 3–25 in order after a title and a contents slide; slide 15 (PCA), which the
seminar skipped, has no slide of its own but a line in the contents. Each content
slide has a title, one figure made for the slide (:mod:`freqbayes.figures.slides`),
at most three bullets whose numbers are computed in this run from the lessons, and
speaker notes with the derivation and the book's equation numbers. Written as
PowerPoint (editable text boxes) and PDF (vector, one page per slide), with the
figures as PNG and ``slides.csv`` mapping each slide to its figure and report section.

Modules: :mod:`.base` (a slide), :mod:`.estimation` (slides 3–14), :mod:`.learning`
(16–25), :mod:`.deck` (the order and the writers). This package's ``__init__`` only
builds the command line's parser: nothing heavy is imported until the command runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

#: The deck's formats (kept here so that ``--help`` imports nothing heavy).
FORMATS = ("pptx", "pdf")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``slides`` subcommand to the command line's subparsers."""
    from freqbayes.i18n import LANGUAGES

    p = sub.add_parser("slides", help="the seminar's slide deck (PowerPoint and PDF) from this run")
    p.add_argument(
        "--lang",
        choices=LANGUAGES,
        default=None,
        help="language of the deck (default: $FREQBAYES_LANG, else en)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("runs/slides"),
        help="output folder (default runs/slides); a previous deck there is replaced",
    )
    p.add_argument(
        "--format",
        default=",".join(FORMATS),
        help="comma-separated: pptx, pdf (default both; figures are always PNG)",
    )
    p.add_argument("--quick", action="store_true", help="smaller computations (for tests)")
    p.add_argument("--seed", type=int, default=0, help="random seed in [0, 2**32) (default 0)")
    p.set_defaults(func=cmd_slides)


def _check_out(out: Path) -> None:
    """``out`` must be absent, empty or a previous deck (it is replaced whole)."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out: {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / "slides.csv").is_file():
        raise ValueError(f"--out: {out} is not empty and holds no deck; choose a new folder")


def cmd_slides(args: argparse.Namespace) -> int:
    """Write the deck into a temporary folder beside ``--out``, then put it in place whole."""
    from freqbayes._io import check_stop
    from freqbayes.i18n import default_language, language

    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ValueError(f"--format: unknown {bad or [args.format]}; known: {', '.join(FORMATS)}")
    if not 0 <= args.seed < 2**32:
        raise ValueError(f"--seed must be an integer in [0, 2**32); got {args.seed}")
    lang = args.lang or default_language()
    out = Path(args.out)
    _check_out(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)  # mkdtemp makes 0700: give the deck the usual permissions
    except OSError as err:
        raise ValueError(f"--out: cannot write beside {out}: {err.strerror or err}") from None
    try:
        from freqbayes.inference.compilation import enable_persistent_cache
        from freqbayes.slides.deck import build

        enable_persistent_cache()
        with language(lang):
            slides = build(tmp, seed=args.seed, quick=args.quick, formats=formats)
        check_stop()
        if out.exists():
            old = out.with_name(f".{out.name}.{os.getpid()}.old")
            os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    names = ", ".join(f"slides.{f}" for f in formats)
    print(f"{len(slides) + 2} slides ({lang}) in {out}/: {names}, slides.csv, figures/")
    return 0
