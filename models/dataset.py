"""The data every method takes: :class:`Dataset`, checked numpy arrays plus provenance.

It lives with the models (not with the application's loaders in :mod:`freqbayes.models.data`)
because both halves of :mod:`freqbayes.inference` take it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Dataset:
    """A dataset ready for a model.

    Attributes
    ----------
    name : str
        Registry name or file path.
    y : ndarray (n,)
        Target (for the Gaussian model: the observations themselves).
    X : ndarray (n, d) or None
        Features (None for data without features).
    feature_names : tuple of str
        Names of the columns of ``X``.
    attrs : mapping
        Provenance and scaling (``x_mean``, ``x_scale``, ...), kept in DataTree attrs.
    inputs : mapping
        Further named data arguments of a user's NumPyro program (covariates, group
        indices; :mod:`freqbayes.models.probabilistic.program`); empty otherwise.
    share : Share or None
        Set when ``y`` and ``X`` are one process's rows of a larger table, padding
        included (a multi-process run: :mod:`freqbayes.inference.probabilistic.shares`);
        None: all the rows.
    """

    name: str
    y: np.ndarray
    X: np.ndarray | None = None
    feature_names: tuple[str, ...] = ()
    attrs: Mapping[str, Any] = field(default_factory=dict)
    inputs: Mapping[str, np.ndarray] = field(default_factory=dict)
    share: Share | None = None

    @property
    def n(self) -> int:
        """Number of examples (of the whole table, when this holds one process's share)."""
        return self.share.n if self.share is not None else int(self.y.shape[0])


@dataclass(frozen=True)
class Share:
    """Which rows of a table a :class:`Dataset` holds, and what the whole table needs.

    The rows are one process's part ``begin:end`` of the padded global array of a
    multi-process run (:mod:`freqbayes.inference.probabilistic.shares`): ``y`` and ``X``
    hold the table's rows ``start:stop`` (the real ones), then ``(end − begin) − (stop −
    start)`` padded rows repeating the table's row 0.

    Attributes
    ----------
    start, stop : int
        The table's rows held (counted from 0).
    n : int
        The table's rows.
    size, begin, end : int
        The padded global array's rows and this process's part of it.
    summaries : mapping
        The :class:`~freqbayes.models.probabilistic.scaling.RowSummary` of each row
        argument the scaling reads: of this process's real rows as read, of the whole
        table once merged over the processes.
    stream : bool
        The rows held are a uniform sample of ``size`` of the table's rows, read for a
        fit that streams the table chunk by chunk from ``attrs["source"]`` (the minibatch
        SVI of :mod:`freqbayes.inference.probabilistic.svi_stream`), one process and one
        chunk at a time; ``summaries`` are of the whole table.
    """

    start: int
    stop: int
    n: int
    size: int
    begin: int
    end: int
    summaries: Mapping[str, Any] = field(default_factory=dict)
    stream: bool = False

    @property
    def real(self) -> int:
        """Real rows held: ``stop − start`` (the first rows of ``y`` and ``X``)."""
        return self.stop - self.start


def standardise(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre and scale columns to mean 0 and sd 1; return (z, mean, sd)."""
    mean, sd = a.mean(axis=0), a.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    return (a - mean) / sd, mean, sd
