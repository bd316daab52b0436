"""Which methods can be trusted: simulation-based calibration of every posterior method."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd


def calibration(
    seed: int = 0,
    num: int = 500,
    sizes: Any = None,
    methods: Mapping[str, Sequence[str]] | None = None,
    mapper: Any = None,
) -> tuple[pd.DataFrame, dict[tuple[str, str], Any]]:
    """Simulation-based calibration of every method with a posterior, on every model.

    Returns a table (model, method, parameter, χ² p-value, share converged) and the
    :class:`~freqbayes.inference.calibration.Result` of each (model, method).
    ``mapper``: where the data sets are fitted (``freqbayes.scheduler.mapper`` of a Dask
    cluster; the same table).
    """
    from freqbayes.inference.probabilistic import calibration as C

    sizes = C.QUICK if sizes is None else sizes
    methods = C.METHODS if methods is None else methods
    results = {
        (model, method): C.calibrate(model, method, num=num, seed=seed, sizes=sizes, mapper=mapper)
        for model, names in methods.items()
        for method in names
    }
    table = pd.concat([r.table() for r in results.values()], ignore_index=True)
    return table, results
