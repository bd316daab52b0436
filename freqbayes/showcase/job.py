"""The job: run the stages, count what each writes, render the report.

The stages run one after another in this process, or as tasks of a Dask cluster
(``scheduler``: :mod:`freqbayes.scheduler`; ``workers`` N > 1 is a local cluster of N
processes), the longest first: most of a cold run is XLA compiling, one program at a
time per process, so a second process uses the second core.
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from freqbayes.i18n import _
from freqbayes.showcase import classification, estimation, learning, pooling, subsampling
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
    Stage("pooling", pooling.pooling, _fixed(3)),
    Stage("logistic", classification.separation, _fixed(5)),
    Stage("svm", classification.svm, _fixed(6)),
    Stage("gp", classification.gp, _fixed(5)),  # 2 of them slides: circles, moons
    Stage("kmeans", learning.kmeans, _fixed(3)),
    Stage("mixture", learning.mixture, _fixed(2)),
    Stage("sgd", learning.sgd, _fixed(7)),
    Stage("curse", learning.curse, _fixed(3)),
    Stage("horseshoe", learning.horseshoe, _fixed(3)),
    Stage("subsampling", subsampling.subsampling, _fixed(6)),  # 4 fits, a figure, a table
    Stage("calibration", learning.calibration, learning.calibration_outputs),
]


#: Figure formats besides PNG (``freqbayes run all --format svg,pdf``).
FIGURE_FORMATS = ("svg", "pdf")

#: Seconds each stage took in a full run with an empty compilation cache, two stages at
#: a time (measured here, 2026-12-04, one run on a loaded machine: only the order is
#: used): parallel workers take the longest first.
COLD_SECONDS = {
    "calibration": 459,
    "frequentist-coverage": 225,
    "fits": 170,
    "horseshoe": 148,
    "mixture": 80,
    "svm": 35,
    "gp": 20,
    "sgd": 20,
    "kmeans": 13,
    "pooling": 39,  # measured alone, 2026-12-05, quick and warm: an upper guess
    "subsampling": 180,  # benchmarks/subsampling.py's 10⁵-row fits (2026-12-05) + SVI with CVs
    "linear": 12,
    "curse": 12,
    "logistic": 11,
}


class _Done(NamedTuple):
    name: str
    sections: list[Section]
    seconds: float
    outputs: int
    programs: int  # XLA programs new to the process (compiled or read from the cache)
    compile_seconds: float


def _run_stages(ctx: Context, names: Sequence[str]) -> list[_Done]:
    """Run the stages ``names`` in order, sharing ``ctx`` ("svm" reads what "logistic" keeps)."""
    by_name = {s.name: s.run for s in STAGES}
    return _run(ctx, [(name, by_name[name]) for name in names])


def _run(
    ctx: Context, stages: Sequence[tuple[str, Callable[[Context], list[Section]]]]
) -> list[_Done]:
    """Run ``(name, stage)`` pairs in order, timing each and counting its outputs and programs.

    Between stages the compiled programs are dropped if the process holds most of the
    memory mappings Linux allows it (the whole showcase compiles thousands of programs:
    :func:`~freqbayes.inference.compilation.release_programs_if_crowded`).
    """
    from freqbayes.inference.compilation import count_compilations, release_programs_if_crowded

    done = []
    for name, stage in stages:
        ctx.written = 0
        start = time.perf_counter()
        with count_compilations() as seen:
            sections = stage(ctx)
        seconds = time.perf_counter() - start
        done.append(_Done(name, sections, seconds, ctx.written, seen.count, seen.seconds))
        release_programs_if_crowded()
    return done


def _on_cluster(ctx: Context, units: list[list[str]], client: Any) -> list[_Done]:
    """Run the units (lists of stages) as tasks of a Dask cluster, the longest first.

    Each task's process is set up as the command line's (:func:`freqbayes.scheduler.prepare`:
    JAX, the language of the command); the stages travel as functions, so a worker needs
    the same freqbayes. On a cluster with more workers than units, the SBC and coverage
    stages hand their data sets to it in pieces (:func:`freqbayes.scheduler.worker_mapper`),
    so the longest stages spread over the workers too: the calibration stage alone (quick)
    on ``local:2`` wrote the same table, its worker compiling 133 programs (231 s) that
    the other one compiled again, so on no more workers than units it does not.
    """
    from tqdm.auto import tqdm

    from freqbayes import scheduler

    units = sorted(units, key=lambda u: -sum(COLD_SECONDS.get(n, 1) for n in u))
    by_name = {s.name: s.run for s in STAGES}
    # more workers than units: the SBC and the coverage study hand their data sets to the
    # idle ones; otherwise the units keep every worker busy, and pieces would only make
    # each worker compile the SBC's programs again
    idle = sum(client.nthreads().values()) > len(units)
    quiet = Context(
        ctx.out,
        ctx.seed,
        ctx.quick,
        False,
        formats=ctx.formats,
        mapper=scheduler.worker_mapper if idle else None,
    )
    bar = tqdm(
        total=sum(map(len, units)),
        desc="stages (Dask cluster)",
        unit="stage",
        disable=not ctx.progress,
        file=sys.stderr,
    )

    def advance(_i: int, stages: list[_Done]) -> None:
        bar.update(len(stages))
        bar.set_postfix_str(stages[-1].name)

    work = functools.partial(_run, quiet)
    with bar:
        results = scheduler.run_all(
            client, work, [[(n, by_name[n]) for n in unit] for unit in units], advance
        )
    return [stage for stages in results for stage in stages]


def _in_workers(ctx: Context, units: list[list[str]], workers: int) -> list[_Done]:
    """The units on a new local cluster of ``workers`` processes (``--scheduler local:N``)."""
    from freqbayes import scheduler

    with scheduler.connect(f"{scheduler.LOCAL}{workers}") as client:
        return _on_cluster(ctx, units, client)


def run(
    out: Path = DEFAULT_OUT,
    *,
    seed: int = 0,
    quick: bool = False,
    progress: bool | None = None,
    stages: Sequence[str] | None = None,
    formats: Sequence[str] = (),
    workers: int = 1,
    scheduler: Any = None,
) -> tuple[list[Section], pd.DataFrame]:
    """Run the stages (all by default), write every file and the report.

    Every figure is written as PNG (the report embeds it) and also in each of
    ``formats`` (:data:`FIGURE_FORMATS`: "svg", "pdf"), for slides. ``scheduler``: the
    stages run as tasks of a Dask cluster (:mod:`freqbayes.scheduler`), a
    ``distributed.Client`` or its ``--scheduler`` text (``local:N``, an address); same
    files, same report. ``workers`` > 1 is ``scheduler="local:<workers>"`` when there is
    more than one stage to run.

    Returns the report's sections and the table of stage timings (also written to
    ``timings/stages.csv``; "total" is the wall time of all stages): seconds, files
    written, XLA programs compiled (or read from the persistent cache) and the seconds
    that took (:func:`freqbayes.inference.compilation.count_compilations`).
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
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer; got {workers!r}")
    if scheduler is not None and workers > 1:
        raise ValueError("workers and scheduler: give one (workers N is scheduler local:N)")
    ctx = Context(Path(out), seed, quick, progress_enabled(progress), formats=extra)
    todo = [s for s in STAGES if s.name in chosen]
    # "svm" reads the fit "logistic" keeps: one unit, run in order
    units = [[s.name] for s in todo if s.name != "svm"]
    for unit in units:
        if unit == ["logistic"] and "svm" in chosen:
            unit.append("svm")
    start = time.perf_counter()
    if isinstance(scheduler, str):
        from freqbayes import scheduler as dask_cluster

        with dask_cluster.connect(scheduler) as client:
            done = {d.name: d for d in _on_cluster(ctx, units, client)}
    elif scheduler is not None:
        done = {d.name: d for d in _on_cluster(ctx, units, scheduler)}
    elif workers > 1 and len(units) > 1:
        done = {d.name: d for d in _in_workers(ctx, units, min(workers, len(units)))}
    else:
        done = {}
        for i, stage in enumerate(todo, 1):
            ctx.bar = tqdm(
                total=stage.outputs(ctx),
                desc=f"[{i}/{len(todo)}] {stage.name}",
                unit="file",
                disable=not ctx.progress,
                file=sys.stderr,
            )
            try:
                done.update((d.name, d) for d in _run_stages(ctx, [stage.name]))
            finally:
                ctx.bar.close()
    wall = time.perf_counter() - start
    sections = [section for s in todo for section in done[s.name].sections]
    columns = ["seconds", "outputs", "programs", "compile_seconds"]
    rows = [(s.name, *(getattr(done[s.name], c) for c in columns)) for s in todo]
    timings = pd.DataFrame(rows, columns=["stage", *columns])
    timings.loc[len(timings)] = {
        "stage": "total",
        "seconds": wall,
        "outputs": timings["outputs"].sum(),
        "programs": timings["programs"].sum(),
        "compile_seconds": timings["compile_seconds"].sum(),
    }
    ctx.timing(timings, "stages")
    size = _("quick mode (small runs)") if quick else _("full run")
    settings = _("Seed {seed}; {size}.").format(seed=seed, size=size)
    write_report(ctx.out, sections, timings, settings)
    return sections, timings
