"""The main job: every point estimate beside every posterior, with figures, tables and a report.

``freqbayes run all`` (and ``make demo``) calls :func:`run`, which works through
the stages in :data:`STAGES` and writes one folder::

    fits/*.nc        every fit as an ArviZ DataTree (netCDF)
    figures/*.png    every figure (plus the k-means animation as GIF and HTML)
    tables/*.csv     every table of numbers (reproducible: same seed, same bytes)
    timings/*.csv    wall times (not reproducible, kept apart)
    report.html      self-contained: figures embedded, tables, one paragraph each
    report.md        the same, linking the PNGs

Every file is written to a temporary name and renamed, so an interrupted run
leaves no half-written file. The modules: :mod:`.job` (the stages in order),
:mod:`.estimation`, :mod:`.classification`, :mod:`.learning` (what each stage
computes and says), :mod:`.context` (writers), :mod:`.report` (the renderer).
"""

from __future__ import annotations

import importlib
from typing import Any

#: Imported on first use: the job imports every stage (JAX, the lessons), the saved-fit
#: report (``freqbayes report``) only the renderer.
_LAZY = {
    "DEFAULT_OUT": "job",
    "FIGURE_FORMATS": "job",
    "STAGES": "job",
    "Stage": "job",
    "run": "job",
    "Section": "report",
    "write_report": "report",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["DEFAULT_OUT", "FIGURE_FORMATS", "STAGES", "Section", "Stage", "run", "write_report"]
