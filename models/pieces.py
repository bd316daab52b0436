"""Tables larger than memory, read in pieces: Parquet files and folders of them, batch by batch.

A ``.parquet``/``.pq`` file, or a folder of them (one table: the files' columns and
types must agree), is read with :mod:`pyarrow.dataset` by record batches (row groups),
only the columns that are needed, each batch converted straight into a preallocated
array: peak memory is about the design's size plus one batch, with no pandas frame of
the whole table and no float64 copy of a float32 table. Missing values and columns that
are not numbers are refused per batch, with the row (counted from 0 over the whole table,
as pandas names a frame's rows) and the column.

The array's type is the narrowest float that holds every value exactly: float32 when
all columns read are float32 (or narrower: float16, int8, int16, uint8, uint16), float64
otherwise. The fit converts to JAX's float type on the device; raw-unit float64 columns
(years, prices) keep all their digits until then.

:func:`read_rows` reads one contiguous range of rows touching only the row groups that
overlap it: a process's own share of the table in a multi-process run
(:func:`freqbayes.models.tables.read_share`). The file's
SHA-256 is streamed in chunks (:func:`file_sha256`); an in-memory frame's is computed
from its columns' buffers (:func:`frame_sha256`), never from a text copy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from freqbayes.models.checks import all_finite
from freqbayes.models.threads import usable_cores

#: File suffixes of Parquet files (also those a folder's files must have).
PARQUET_SUFFIXES = (".parquet", ".pq")

#: Rows per record batch (pyarrow's default; about one row group as the benchmark writes them).
BATCH_ROWS = 131_072

#: Bytes hashed at a time (file chunks, column slices).
HASH_CHUNK = 1 << 24

#: Arrow types whose values fit a float32 exactly.
_EXACT_IN_FLOAT32 = ("float", "halffloat", "int8", "int16", "uint8", "uint16")


def is_parquet(path: str | Path) -> bool:
    """True for a Parquet file (by its suffix) or a folder holding Parquet files."""
    path = Path(path)
    if path.is_dir():
        return bool(parquet_files(path, check=False))
    return path.suffix.lower() in PARQUET_SUFFIXES


def parquet_files(path: str | Path, check: bool = True) -> list[Path]:
    """The Parquet files of ``path`` (itself, or a folder's, sorted by name), checked to agree.

    With ``check``, every file's columns and types must be those of the first file: the
    first that differs is refused with one line naming the file and the column.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"data: no such file {str(path)!r}")
    if not path.is_dir():
        return [path]
    files = sorted(
        p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in PARQUET_SUFFIXES
    )
    if not files:
        raise ValueError(f"data: folder {path} holds no Parquet files (.parquet, .pq)")
    if check:
        _check_schemas(files)
    return files


def _schema(file: Path) -> Any:
    import pyarrow.parquet as pq

    try:
        return pq.read_schema(file)
    except (OSError, ValueError) as err:
        raise ValueError(f"data: cannot read {file}: {_first_line(err)}") from None


def _check_schemas(files: Sequence[Path]) -> None:
    first = _schema(files[0])
    want = {f.name: f.type for f in first}
    for file in files[1:]:
        schema = _schema(file)
        have = {f.name: f.type for f in schema}
        for name, kind in want.items():
            if name not in have:
                raise ValueError(f"data: {file} has no column {name!r} (as {files[0].name} has)")
            if have[name] != kind:
                raise ValueError(
                    f"data: {file}: column {name!r} is {have[name]}, not {kind} as in "
                    f"{files[0].name}"
                )
        extra = [n for n in have if n not in want]
        if extra:
            raise ValueError(f"data: {file} has a column {extra[0]!r} that {files[0].name} lacks")


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def open_table(path: str | Path) -> Any:
    """The files of ``path`` as one :class:`pyarrow.dataset.Dataset` (their order kept)."""
    import pyarrow.dataset as ds

    files = parquet_files(path)
    try:
        return ds.dataset([str(f) for f in files], format="parquet")
    except (OSError, ValueError) as err:
        raise ValueError(f"data: cannot read {path}: {_first_line(err)}") from None


def columns_of(path: str | Path) -> list[str]:
    """The column names of the table at ``path``, in order."""
    return list(open_table(path).schema.names)


def float_type(table: Any, columns: Sequence[str]) -> np.dtype:
    """The narrowest float holding every value of ``columns`` exactly (float32 or float64)."""
    narrow = all(str(table.schema.field(c).type) in _EXACT_IN_FLOAT32 for c in columns)
    return np.dtype(np.float32 if narrow else np.float64)


def batches(
    table: Any, columns: Sequence[str], start: int = 0, stop: int | None = None
) -> Iterator[tuple[int, Any]]:
    """(first row, record batch) of rows ``start:stop`` of ``columns``, in the files' order.

    Only the row groups that overlap the range are read (their metadata says how many rows
    each holds); one batch at a time is held (no read-ahead).
    """
    stop = table.count_rows() if stop is None else stop
    row = 0
    for fragment in table.get_fragments():
        for group in fragment.split_by_row_group():
            rows = sum(g.num_rows for g in group.row_groups)  # one row group
            if row + rows <= start or row >= stop:
                row += rows
                continue
            scanner = group.scanner(
                columns=list(columns),
                batch_size=BATCH_ROWS,
                batch_readahead=0,
                fragment_readahead=0,
                use_threads=True,
            )
            for batch in scanner.to_batches():
                lo, hi = max(start - row, 0), min(stop - row, batch.num_rows)
                if hi > lo:
                    yield row + lo - start, batch.slice(lo, hi - lo)
                row += batch.num_rows
            if row >= stop:
                return


def _check_column(batch: Any, j: int, name: str, first: int) -> None:
    """Column ``j`` of ``batch`` refused if a value is missing or it is not a number."""
    from pyarrow import types as pa_types

    col = batch.column(j)
    if col.null_count:
        i = int(np.argmax(np.asarray(col.is_null())))
        raise ValueError(
            f"data: missing value at row {first + i}, column {name!r} "
            f"({col.null_count} in this piece)"
        )
    kind = col.type
    if not (pa_types.is_floating(kind) or pa_types.is_integer(kind) or pa_types.is_boolean(kind)):
        raise ValueError(
            f"data: column {name!r} is not numeric ({kind}); code it with a formula, "
            'e.g. --formula "y ~ x + C(group)"'
        )


def levels(table: Any, column: str) -> list[Any]:
    """The sorted distinct values of a text (or boolean) column over the whole table.

    Computed piece by piece (``pyarrow.compute.unique``), so that a formula codes every
    piece with the levels the whole column has, as it would code the whole table.
    """
    import pyarrow.compute as pc

    seen: set[Any] = set()
    for _, batch in batches(table, [column]):
        seen.update(v for v in pc.unique(batch.column(0)).to_pylist() if v is not None)
    return sorted(seen)


def to_frame(batch: Any, levels: dict[str, list[Any]], first: int) -> Any:
    """A record batch as a pandas frame; text columns categorical with the whole column's levels.

    A missing value is refused with its row (``first`` is the batch's first row).
    """
    import pandas as pd

    for j, name in enumerate(batch.schema.names):
        col = batch.column(j)
        if col.null_count:
            i = int(np.argmax(np.asarray(col.is_null())))
            raise ValueError(f"data: missing value at row {first + i}, column {name!r}")
    frame = batch.to_pandas()
    for name, values in levels.items():
        frame[name] = pd.Categorical(frame[name], categories=values)
    frame.index = pd.RangeIndex(first, first + len(frame))
    return frame


def finite(matrix: Any, name: str, first: int) -> np.ndarray:
    """A piece's design (or target) as a float64 array; a non-finite value is refused by row."""
    values = np.asarray(matrix, dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.argwhere(bad)[0][0])
        raise ValueError(
            f"{name} contains {int(bad.sum())} NaN or infinite value(s) (the first at row "
            f"{first + i})"
        )
    return values


def read_rows(
    path: str | Path,
    columns: Sequence[str],
    start: int = 0,
    stop: int | None = None,
    dtype: Any = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Rows ``start:stop`` of ``columns`` of a Parquet file or folder as one (rows, k) array.

    The contract a process that reads only its own share relies on:

    - rows are counted from 0 over the whole table, the files of a folder in name order and
      each file's rows in order; ``stop=None`` is the end; ``0 <= start <= stop <= n``;
    - only the row groups overlapping ``start:stop`` are read, one record batch at a time,
      each converted into the preallocated result (peak: the result plus one batch);
    - ``dtype`` (default :func:`float_type` of the columns) is the result's type;
    - ``out``, a (stop − start, k) array (a view of a larger one: a process's rows and
      its padding), is written and returned instead of a new array;
    - a missing or non-finite value, a column that is not a number, a column that does
      not exist, or files whose columns differ raise a one-line ``ValueError`` naming the
      row (global), the column or the file.

    The same ``(path, columns, start, stop)`` gives the same array in every process.
    """
    table = open_table(path)
    n = table.count_rows()
    stop = n if stop is None else int(stop)
    if not 0 <= start <= stop <= n:
        raise ValueError(f"data: rows {start}:{stop} are not within the table's {n} rows")
    missing = [c for c in columns if c not in table.schema.names]
    if missing:
        raise ValueError(
            f"data: {path} has no column {missing[0]!r} (columns: {table.schema.names})"
        )
    if out is None:
        dtype = float_type(table, columns) if dtype is None else np.dtype(dtype)
        out = np.empty((stop - start, len(columns)), dtype=dtype)
    elif out.shape != (stop - start, len(columns)):
        raise ValueError(f"out has shape {out.shape}, not {(stop - start, len(columns))}")
    from concurrent.futures import ThreadPoolExecutor

    threads = max(1, min(FILL_THREADS, usable_cores()))
    with ThreadPoolExecutor(threads, thread_name_prefix="read_rows") as pool:
        for first, batch in batches(table, columns, start, stop):
            for j, name in enumerate(columns):
                _check_column(batch, j, name, start + first)
            # the batch in row slices, one a thread (Arrow and NumPy release the GIL); the
            # slices' errors in row order, so the first non-finite value is the one named
            step = -(-batch.num_rows // threads)
            lows = range(0, batch.num_rows, step)
            parts = [batch.slice(lo, step) for lo in lows]
            outs = [
                out[first + lo : first + lo + part.num_rows]
                for lo, part in zip(lows, parts, strict=True)
            ]
            firsts = [start + first + lo for lo in lows]
            list(pool.map(_fill, parts, outs, firsts, [path] * len(parts), [columns] * len(parts)))
    return out


#: Threads that fill :func:`read_rows`'s result (at most the cores).
FILL_THREADS = 4


def _fill(
    batch: Any, rows: np.ndarray, first: int, path: str | Path, columns: Sequence[str]
) -> None:
    """Write ``batch`` into ``rows``, refused if a value is not finite (:func:`_check_finite`).

    The caller has checked ``batch``'s columns (:func:`_check_column`); its first row is
    global row ``first``.
    """
    import pyarrow as pa

    kinds = {batch.column(j).type for j in range(len(columns))}
    if len(kinds) == 1 and not pa.types.is_boolean(kinds.pop()):
        # one type (a table's features, as a rule): Arrow's row-major tensor (C++, one
        # pass), then one contiguous copy with the cast to ``rows``' type. The 10⁷ × 100
        # float32 features of benchmarks/big_logistic.py: 5.1-5.6 s in two threads (one
        # a core, at most FILL_THREADS), against 12.5-14.7 s for the buffer below in one
        # thread (2026-12-05)
        rows[...] = np.asarray(batch.to_tensor(row_major=True))
    else:
        # several types: each column cast on its own (the tensor's common type wraps
        # uint64 beside int64 round and refuses float16 beside anything), into a (k, rows)
        # buffer, then one transposed copy: 3× faster than writing each column strided
        piece = np.empty((len(columns), batch.num_rows), dtype=rows.dtype)
        for j in range(len(columns)):
            piece[j] = batch.column(j).to_numpy(zero_copy_only=False)
        rows[...] = piece.T
    _check_finite(rows, path, columns, first)


def _check_finite(rows: np.ndarray, path: str | Path, columns: Sequence[str], first: int) -> None:
    """Refuse ``rows`` (whose first row is global row ``first``) if a value is not finite.

    A one-line ``ValueError`` names the row and column of the first such value; finite rows
    cost two passes and no boolean array (:func:`.checks.all_finite`).
    """
    if all_finite(rows):
        return
    i, j = np.argwhere(~np.isfinite(rows))[0]
    raise ValueError(
        f"data: {path} has a non-finite value ({rows[i, j]!r}) at row {first + i}, "
        f"column {columns[j]!r}"
    )


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in chunks; of a folder: each file's name and bytes.

    A folder's files are taken in name order, each contributing its path relative to the
    folder and its bytes (so renaming or reordering the pieces changes the hash).
    """
    path = Path(path)
    h = hashlib.sha256()
    files = parquet_files(path, check=False) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            h.update(str(file.relative_to(path)).encode() + b"\0")
        with open(file, "rb") as f:
            while chunk := f.read(HASH_CHUNK):
                h.update(chunk)
    return h.hexdigest()


def frame_sha256(frame: Any) -> str:
    """SHA-256 of a DataFrame from its columns' buffers, in chunks (no text copy).

    Hashed in order: the number of rows, then per column its name, its dtype and its values
    (numbers, booleans and datetimes: the bytes of the numpy array, read slice by slice;
    other columns: the ``repr`` of each value, slice by slice). Equal frames (same names,
    types and values, the index aside) give the same hash; a changed value another.
    """
    h = hashlib.sha256()
    h.update(f"rows={len(frame)}\0".encode())
    for name in frame.columns:
        col = frame[name]
        h.update(f"{name!r}\0{col.dtype}\0".encode())
        values = col.to_numpy()
        if values.dtype.kind in "biufcmM":
            values = np.ascontiguousarray(values)
            step = max(1, HASH_CHUNK // max(1, values.itemsize))
            for i in range(0, len(values), step):
                h.update(memoryview(values[i : i + step]).cast("B"))
        else:
            step = 1 << 16
            for i in range(0, len(values), step):
                h.update("\x1f".join(map(repr, values[i : i + step])).encode())
    return h.hexdigest()


def array_sha256(h: Any, a: np.ndarray, dtype: Any = np.float64) -> None:
    """Update ``h`` with ``a``'s C-order bytes as ``dtype``, converted a block of rows at a time.

    The bytes are those of ``np.ascontiguousarray(a, dtype).tobytes()``, without making
    that copy of the whole array.
    """
    dtype = np.dtype(dtype)
    row_bytes = max(1, int(np.prod(a.shape[1:], dtype=np.int64)) * dtype.itemsize)
    step = max(1, HASH_CHUNK // row_bytes)
    for i in range(0, a.shape[0], step):
        h.update(memoryview(np.ascontiguousarray(a[i : i + step], dtype=dtype)).cast("B"))
