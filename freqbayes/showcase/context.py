"""What every stage of the showcase needs: where to write, the seed, the size, and the writers.

Every file goes through :func:`freqbayes._io.atomic_path` (a temporary name, then a
rename) and is counted, so that the progress bar of a stage advances by file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from freqbayes._io import atomic_path, write_datatree


@dataclass
class Context:
    """What every stage needs: where to write, the seed, the size of the run."""

    out: Path
    seed: int
    quick: bool
    progress: bool
    formats: tuple[str, ...] = ()
    fits: dict[str, Any] = field(default_factory=dict)
    caveats: dict[str, str] = field(default_factory=dict)
    bar: Any = None
    written: int = 0
    #: Where the SBC and coverage study hand their data sets: ``None`` here, or a stage's
    #: own cluster (:func:`freqbayes.scheduler.worker_mapper`); the same tables either way.
    mapper: Any = None

    def _done(self, rel: str) -> str:
        """Count one output of the running stage and advance its progress bar."""
        self.written += 1
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(rel.split("/")[-1])
        return rel

    # ---- writers (atomic)
    def figure(self, fig: Any, name: str, fits: Sequence[str] = ()) -> str:
        """Save ``figures/<name>.png`` (and one file per :attr:`formats`); return the PNG path.

        ``fits``: the saved fits the figure draws; any not to be trusted is named, with
        its reason, in a hatched banner across the figure's top (:func:`stamp`).
        """
        import matplotlib.pyplot as plt

        from freqbayes.figures import stamp

        stamp(fig, {f: self.caveats[f] for f in fits if self.caveats.get(f)})
        rel = f"figures/{name}.png"
        try:
            with atomic_path(self.out / rel) as tmp:
                fig.savefig(tmp, format="png", dpi=90 if self.quick else 110, bbox_inches="tight")
            for fmt in self.formats:  # vector copies for slides, beside the report's PNG
                with atomic_path(self.out / f"figures/{name}.{fmt}") as tmp:
                    fig.savefig(tmp, format=fmt, bbox_inches="tight")
        finally:
            plt.close(fig)
        return self._done(rel)

    def table(self, df: pd.DataFrame, name: str) -> str:
        """Save a table as ``tables/<name>.csv`` (full precision); return its relative path."""
        rel = f"tables/{name}.csv"
        with atomic_path(self.out / rel) as tmp:
            df.to_csv(tmp, index=False, float_format="%.10g")
        return self._done(rel)

    def fit(self, tree: Any, name: str) -> Any:
        """Save a DataTree as ``fits/<name>.nc`` and keep it (and its caveat) for later stages."""
        from freqbayes.inference.diagnostics import caveat

        write_datatree(tree, self.out / "fits" / f"{name}.nc")
        self.fits[name] = tree
        self.caveats[name] = caveat(tree)
        self._done(f"fits/{name}.nc")
        return tree

    def warnings(self, names: Sequence[str]) -> list[str]:
        """A line per saved fit in ``names`` not to be trusted: its file and its reason."""
        return [f"fits/{n}.nc: {self.caveats[n]}" for n in names if self.caveats.get(n)]

    def timing(self, df: pd.DataFrame, name: str) -> str:
        """Save wall times as ``timings/<name>.csv`` (kept apart: not reproducible)."""
        rel = f"timings/{name}.csv"
        with atomic_path(self.out / rel) as tmp:
            df.to_csv(tmp, index=False, float_format="%.4g")
        return rel

    # ---- run sizes
    def settings(self, method: str) -> dict[str, Any]:
        """A method's settings: its defaults, or its quick ones (``Method.quick``) in quick mode."""
        from freqbayes.inference.registry import METHODS

        return dict(METHODS.get(method).quick) if self.quick else {}
