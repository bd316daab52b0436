"""The job: run the stages in order, count what each writes, render the report."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from freqbayes.showcase import classification, estimation, learning
from freqbayes.showcase.context import Context
from freqbayes.showcase.report import Section, write_report

DEFAULT_OUT = Path("runs/showcase")


class Stage(NamedTuple):
    """One stage: its name, what it does, and how many files (fits, figures, tables) it writes."""

    name: str
    run: Callable[[Context], list[Section]]
    outputs: Callable[[Context], int]


def _fixed(n: int) -> Callable[[Context], int]:
    return lambda ctx: n


#: The stages in order; the SVM stage reuses the separable-data posterior of "separation".
STAGES: list[Stage] = [
    Stage("fits", estimation.fits, estimation.fits_outputs),
    Stage("gaussian", estimation.gaussian, _fixed(6)),
    Stage("coverage", estimation.coverage, _fixed(4)),
    Stage("frequentist-coverage", estimation.frequentist_coverage, _fixed(2)),
    Stage("ridge", estimation.ridge, _fixed(2)),
    Stage("linear", estimation.regression, _fixed(5)),
    Stage("logistic", classification.separation, _fixed(5)),
    Stage("svm", classification.svm, _fixed(6)),
    Stage("kmeans", learning.kmeans, _fixed(3)),
    Stage("sgd", learning.sgd, _fixed(7)),
    Stage("curse", learning.curse, _fixed(3)),
    Stage("calibration", learning.calibration, _fixed(2)),
]


#: Figure formats besides PNG (``freqbayes run all --format svg,pdf``).
FIGURE_FORMATS = ("svg", "pdf")


def run(
    out: Path = DEFAULT_OUT,
    *,
    seed: int = 0,
    quick: bool = False,
    progress: bool | None = None,
    stages: Sequence[str] | None = None,
    formats: Sequence[str] = (),
) -> tuple[list[Section], pd.DataFrame]:
    """Run the stages (all by default), write every file and the report.

    Every figure is written as PNG (the report embeds it) and also in each of
    ``formats`` (:data:`FIGURE_FORMATS`: "svg", "pdf"), for slides.

    Returns the report's sections and the table of stage timings (also written to
    ``timings/stages.csv``).
    """
    import matplotlib
    from tqdm.auto import tqdm

    from freqbayes.inference.probabilistic.problem import progress_enabled

    matplotlib.use("Agg")  # the job writes files; it never opens a window
    names = [s.name for s in STAGES]
    chosen = names if stages is None else list(stages)
    unknown = [s for s in chosen if s not in names]
    if unknown or not chosen:
        raise ValueError(f"stages: unknown {unknown or chosen!r}; known: {', '.join(names)}")
    if "svm" in chosen and "logistic" not in chosen:
        chosen.append("logistic")
    extra = tuple(dict.fromkeys(f for f in formats if f != "png"))
    bad = [f for f in extra if f not in FIGURE_FORMATS]
    if bad:
        raise ValueError(f"format: unknown {bad}; known: png, {', '.join(FIGURE_FORMATS)}")
    ctx = Context(Path(out), seed, quick, progress_enabled(progress), formats=extra)
    sections: list[Section] = []
    rows = []
    todo = [s for s in STAGES if s.name in chosen]
    for i, stage in enumerate(todo, 1):
        ctx.written = 0
        ctx.bar = tqdm(
            total=stage.outputs(ctx),
            desc=f"[{i}/{len(todo)}] {stage.name}",
            unit="file",
            disable=not ctx.progress,
            file=sys.stderr,
        )
        start = time.perf_counter()
        try:
            sections += stage.run(ctx)
        finally:
            ctx.bar.close()
        rows.append(
            {"stage": stage.name, "seconds": time.perf_counter() - start, "outputs": ctx.written}
        )
    timings = pd.DataFrame(rows)
    timings.loc[len(timings)] = {
        "stage": "total",
        "seconds": timings["seconds"].sum(),
        "outputs": timings["outputs"].sum(),
    }
    ctx.timing(timings, "stages")
    settings = f"Seed {seed}; {'quick mode (small runs)' if quick else 'full run'}."
    write_report(ctx.out, sections, timings, settings)
    return sections, timings
