"""Each process reads only its own rows: a Parquet table held in shares by a run's processes.

In a multi-process run (:mod:`freqbayes.launch`) the rows are one global array split
over every device (:mod:`.sharding`), padded to :func:`~.rows.padded_size` rows under the
row mask. Process p's devices hold rows ``begin:end`` of it (:func:`process_rows`); of
those, rows ``start:stop = min(begin, n):min(end, n)`` are real, the rest padding that
repeats the table's row 0. :func:`read_share` reads just those real rows of a Parquet
file or folder (:func:`freqbayes.models.tables.read_share`: only the overlapping row
groups; a formula's design built piece by piece with the state learnt once on the
table's first piece) into arrays that also hold its padded rows, so a process holds its
own rows plus one piece at a time.

What every process must agree on is computed from the local rows and a collective, not
by reading the whole table again:

- **Scaling and default priors** read only column statistics (n, mean, sum of squared
  deviations, min, max, whether more than two distinct values:
  :class:`~freqbayes.models.probabilistic.scaling.RowSummary`). Each process summarises
  its rows, the summaries (6 × d numbers each) are exchanged by
  ``multihost_utils.process_allgather`` (as bits: float64 survives JAX's float32), and
  every process merges them in process order, so all get the same values, equal to the
  one-process ones up to rounding. A streaming pass over the whole table in every
  process would read every row P times for 6 × d numbers: at 10⁶ × 50 float32 over two
  processes it took 3.3–4.0 s and a NumPy peak of 184 MiB per process, against 1.1–1.2 s
  and 156 MiB for reading and summarising the share, and 4.2 ms for the allgather
  (``benchmarks/shares.py``, 2026-12-05, this 2-core machine).
- **Existence checks** (separation, rank, an exact fit, …) need the rows themselves:
  each process runs the model's own check on its own rows and the verdicts are
  exchanged (:func:`check`). An estimate that exists on every process's rows exists on
  all of them (a separating direction or a collinearity of all rows holds on each part;
  an exact fit of all rows fits each part exactly), so the run goes on when every share
  passes. When one does not, the run stops with that share's message, saying so: the
  whole table might still have the estimate (e.g. a share with fewer rows than
  columns), but telling would need all the rows in one place. A process without real
  rows has nothing to check.
- **The provenance hash** is the file's (or folder's) SHA-256, streamed in chunks
  (:func:`~freqbayes.models.pieces.file_sha256`), the same in every process.

CSV input, and formulas not computed row by row (group-level terms, stateful transforms
over several pieces, :func:`~freqbayes.models.tables._piecewise_columns`), are read whole
by every process, as before (:func:`read_share` returns None).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from freqbayes.inference.probabilistic.rows import ROW_MASK, padded_size
from freqbayes.models import pieces, tables
from freqbayes.models.dataset import Dataset, Share
from freqbayes.models.probabilistic.existence import (
    DegenerateError,
    EstimateError,
    NotIdentifiedError,
    SeparationError,
)
from freqbayes.models.probabilistic.scaling import RowSummary, summarise

#: The errors a check raises, coded by position when exchanged.
ERRORS = (EstimateError, SeparationError, NotIdentifiedError, DegenerateError, ValueError)
#: Bytes of a check's verdict exchanged between processes (the message is cut to fit).
VERDICT_BYTES = 2048


def process_rows(size: int, index: int, count: int) -> tuple[int, int]:
    """Rows ``begin:end`` of a padded global array of ``size`` rows that process ``index`` holds.

    The mesh of :mod:`.sharding` orders the devices by process and every process has the
    same number of them, so each holds one contiguous ``size / count`` rows (``size`` is a
    multiple of the device count).
    """
    part = size // count
    return index * part, (index + 1) * part


def read_share(
    path: str | Path,
    model: Any,
    formula: str | None = None,
    *,
    index: int | None = None,
    count: int | None = None,
    devices: int | None = None,
) -> Dataset | None:
    """The rows of this process of a Parquet table as a :class:`Dataset` with its ``share``.

    ``index``, ``count`` and ``devices`` (this process, the processes, the devices of all)
    give the rows by :func:`process_rows`; without them they are those the mesh of
    :mod:`.sharding` puts on this process's devices (after ``jax.distributed.initialize``:
    :func:`~.sharding.local_rows`, contiguous by its rule). The share's summaries are of
    the local rows only; :func:`agree` merges them over the processes. None: the source is
    read whole (CSV, a formula not computed row by row, a model that does not pad its rows
    or whose default priors read the rows otherwise than :func:`takes_summaries` knows).
    """
    if not (pieces.is_parquet(path) and getattr(model, "pads_rows", False)):
        return None
    if not takes_summaries(model):
        return None
    n = pieces.open_table(path).count_rows()
    if index is None or count is None or devices is None:  # this process's, from its mesh
        import jax

        from freqbayes.inference.probabilistic.sharding import local_rows, row_sharding

        size = padded_size(model, n, jax.device_count()) or n
        part = local_rows(row_sharding(), (size,))
        begin, end = part.start, part.stop
    else:
        size = padded_size(model, n, devices) or n
        begin, end = process_rows(size, index, count)
    start, stop = min(begin, n), min(end, n)
    data = tables.read_share(path, model, formula, start, stop, end - begin)
    if data is None:
        return None
    share = Share(start, stop, n, size, begin, end)
    real = real_rows(model, model.data_arguments(data), share)
    summaries = {k: summarise(real[k]) for k in _summarised(model, real)}
    share = dataclasses.replace(share, summaries=summaries)
    return dataclasses.replace(data, share=share)


def chunks(n: int, size: int) -> list[tuple[int, int]]:
    """Rows ``start:stop`` of each chunk of ``size`` rows of a table of ``n`` (the last shorter)."""
    return [(start, min(start + size, n)) for start in range(0, n, size)]


def read_streamed(
    path: str | Path,
    model: Any,
    formula: str | None = None,
    chunk_rows: int = pieces.BATCH_ROWS,
    seed: int = 0,
) -> Dataset:
    """A Parquet table for a streamed fit: a uniform sample of its rows, and its summaries.

    One pass over the table, a chunk of ``chunk_rows`` rows at a time (read as a share:
    :func:`freqbayes.models.tables.read_share`, the formula's state learnt once on the
    table's first piece), summarises every row argument the scaling and default priors
    read, and keeps the rows of a sample of c = min(``chunk_rows``, n) rows drawn
    uniformly without replacement (by ``seed``); the file's SHA-256 is streamed in a
    thread beside it. The Dataset holds the sample (``share.stream``, ``share.size`` = c),
    so that its arrays are a chunk's shapes and its scaling the whole table's; a method
    that streams reads the chunks itself (:mod:`.svi_stream`). Memory: one chunk at a
    time and the sample. A table of at most ``chunk_rows`` rows is its own sample.
    ``chunk_rows`` must be at least 2 (the sample is split in halves to measure its
    error).

    ``model`` is a model or a registered name. Raises ``ValueError`` (one line) for a
    source that cannot be read in chunks: not Parquet, a model that does not declare its
    row arguments, or a formula not computed row by row; and for ``chunk_rows`` < 1.
    """
    from concurrent.futures import ThreadPoolExecutor

    from freqbayes.models.registry import get_model

    model = get_model(model) if isinstance(model, str) else model
    name = getattr(model, "name", "?")
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 2:
        raise ValueError(f"chunk_rows: must be an integer of at least 2; got {chunk_rows!r}")
    if not pieces.is_parquet(path):
        raise ValueError(f"stream: {path} is not a Parquet file or folder (only those stream)")
    if not (getattr(model, "pads_rows", False) and takes_summaries(model)):
        raise ValueError(f"stream: model {name!r} cannot be fitted on a table read in chunks")
    n = pieces.open_table(path).count_rows()
    if n == 0:
        raise ValueError(f"data: {path} has no rows")
    size = min(chunk_rows, n)
    ranges = chunks(n, size)
    rng = np.random.default_rng(seed)
    # c rows without replacement, chunk by chunk: how many in each (a multivariate
    # hypergeometric draw), then which; memory of a chunk's indices, not of all n
    counts = rng.multivariate_hypergeometric([b - a for a, b in ranges], size)
    first: Dataset | None = None
    parts, kept = [], []
    with ThreadPoolExecutor(1, thread_name_prefix="sha256") as pool:
        sha = pool.submit(pieces.file_sha256, Path(path))
        for (start, stop), count in zip(ranges, counts, strict=True):
            data = tables.read_share(path, model, formula, start, stop, size, sha256=False)
            if data is None:
                raise ValueError(
                    f"stream: formula {formula!r} is not computed row by row (a group-level "
                    "term or a stateful transform): the table cannot be read in chunks"
                )
            arrays = model.data_arguments(data)
            real = {k: arrays[k][: stop - start] for k in _summarised(model, arrays)}
            parts.append({k: summarise(v) for k, v in real.items()})
            kept.append(_rows_of(data, np.sort(rng.choice(stop - start, count, replace=False))))
            if first is None:  # its attrs and names, not its rows
                first = dataclasses.replace(data, **_rows_of(data, np.arange(0)))
        digest = sha.result()
    assert first is not None
    sample = {k: np.concatenate([part[k] for part in kept]) for k in kept[0]}
    share = Share(0, size, n, size, 0, size, merge_summaries(parts), stream=True)
    attrs = {**first.attrs, "sha256": digest, "stream_sample_seed": int(seed)}
    return dataclasses.replace(first, **sample, attrs=attrs, share=share)


def _rows_of(data: Dataset, rows: np.ndarray) -> dict[str, Any]:
    """``y`` and ``X`` of ``data`` at ``rows``, copied.

    (A formula with group-level terms, whose arrays also have rows, does not stream.)
    """
    return {"y": data.y[rows], **({"X": data.X[rows]} if data.X is not None else {})}


def real_rows(model: Any, arrays: Mapping[str, Any], share: Share) -> dict[str, Any]:
    """The data arguments of a share cut to its real rows (views: no copy)."""
    return {k: v[: share.real] if k in model.row_arguments else v for k, v in arrays.items()}


def _summarised(model: Any, arrays: Mapping[str, Any]) -> list[str]:
    """The row arguments the scaling and the default priors read (the outcome, X, trials)."""
    return [k for k in model.row_arguments if k in arrays]


def takes_summaries(model: Any) -> bool:
    """Whether ``model``'s default priors and scaling read its rows only through summaries.

    Those of :class:`~freqbayes.models.probabilistic.model.Model` (by
    :func:`~freqbayes.models.probabilistic.scaling.scaling_of`), of the GLMs (their
    link-scale centre) and of the mixture take a
    :class:`~freqbayes.models.probabilistic.scaling.RowSummary` for an array; a model that
    overrides them otherwise is read whole by every process, as before.
    """
    from freqbayes.models.probabilistic.glm import GLM
    from freqbayes.models.probabilistic.mixture import MixtureModel
    from freqbayes.models.probabilistic.model import Model

    known = {
        Model.default_priors, Model.resolve_priors, Model.scaling, GLM.default_priors,
        GLM.scaling, MixtureModel.default_priors, MixtureModel.resolve_priors,
    }  # fmt: skip
    kind = type(model)
    return all(getattr(kind, k) in known for k in ("default_priors", "resolve_priors", "scaling"))


def merge_summaries(parts: Sequence[Mapping[str, RowSummary]]) -> dict[str, RowSummary]:
    """Each argument's summaries of the processes merged in process order."""
    out: dict[str, RowSummary] = {}
    for part in parts:
        for k, v in part.items():
            out[k] = out[k].merge(v) if k in out else v
    return out


def allgather(a: np.ndarray) -> np.ndarray:
    """``a`` from every process, stacked in process order, bit for bit (any dtype).

    Sent as 32-bit words (``process_allgather`` would turn float64 into JAX's float32);
    every process must call this together with arrays of the same shape and dtype.
    """
    from jax.experimental import multihost_utils

    a = np.ascontiguousarray(a)
    raw = a.tobytes()
    words = np.frombuffer(raw + b"\0" * (-len(raw) % 4), dtype=np.uint32)
    got = np.asarray(multihost_utils.process_allgather(words))
    return np.stack(
        [np.frombuffer(w.tobytes()[: len(raw)], dtype=a.dtype).reshape(a.shape) for w in got]
    )


def agree(data: Dataset, gather: Callable[[np.ndarray], np.ndarray] = allgather) -> Dataset:
    """``data`` with its share's summaries merged over every process (a collective)."""
    share = data.share
    assert share is not None
    merged: dict[str, RowSummary] = {}
    for k in sorted(share.summaries):
        local = share.summaries[k]
        vector = np.ndim(local.mean) == 0
        parts = gather(local.as_array())
        merged[k] = merge_summaries([{k: RowSummary.from_array(p, vector)} for p in parts])[k]
    return dataclasses.replace(data, share=dataclasses.replace(share, summaries=merged))


def stand_ins(arrays: Mapping[str, Any], share: Share) -> dict[str, Any]:
    """The data arguments with the whole table's summaries in place of the local rows.

    What the default priors and the scaling read
    (:func:`~freqbayes.models.probabilistic.scaling.scaling_of` takes a summary for an
    array; :func:`numpy.shape` of it is the whole table's).
    """
    return {**arrays, **share.summaries}


def local_arguments(
    model: Any, arrays: Mapping[str, np.ndarray], share: Share
) -> dict[str, np.ndarray]:
    """The part of the padded row arguments, and of the row mask, of this process.

    Rows ``begin:end`` of what :func:`~.rows.padded_arguments` makes of the whole table:
    ``arrays`` (a share's data arguments: its real rows, then rows repeating the table's
    row 0) with the mask of the real ones.
    """
    return {**arrays, ROW_MASK: np.arange(share.begin, share.end) < share.n}


def check(
    model: Any,
    kind: str,
    arrays: Mapping[str, Any],
    priors: Any,
    share: Share,
    gather: Callable[[np.ndarray], np.ndarray] = allgather,
) -> None:
    """The model's existence check on each process's rows, the verdicts exchanged.

    Every process raises the same :class:`EstimateError` when a share fails (the first
    in process order), naming the share; see the module for why passing on every share
    suffices and what a failing share means.
    """
    verdict = b""
    if model.check is not None and share.real:
        try:
            model.check(kind, dict(arrays), priors)
        except EstimateError as err:
            kind_of = next((i for i, e in enumerate(ERRORS) if type(err) is e), 0)
            text = (
                f"on process rows {share.start}:{share.stop} of {share.n}: {err} (each "
                "process checks its own rows; one whose rows fail stops the run, though all "
                "the rows together might pass: run in one process to check them together)"
            )
            verdict = bytes([kind_of + 1]) + text.encode()[: VERDICT_BYTES - 1]
        except Exception as err:  # any other failure: every process stops, none waits
            text = f"on process rows {share.start}:{share.stop} of {share.n}: {err}"
            verdict = bytes([len(ERRORS)]) + text.encode()[: VERDICT_BYTES - 1]
    sent = np.frombuffer(verdict.ljust(VERDICT_BYTES, b"\0"), dtype=np.uint8)
    for got in gather(sent):
        raw = bytes(got).rstrip(b"\0")
        if raw:
            raise ERRORS[raw[0] - 1](raw[1:].decode(errors="replace"))
