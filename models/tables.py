"""Tables as data: pandas DataFrames, CSV and Parquet files, and Wilkinson formulas.

``inference.fit("linear", "map", data=df, formula="score ~ iq + C(school)")`` and
``freqbayes run linear --data file.csv --formula "..."`` build the design matrix
with formulaic (categorical coding, interactions, transforms such as ``np.log(x)``
as formulaic has them). The model keeps its own intercept (with its own prior):
formulaic's ``Intercept`` column is dropped, and a formula without one (``- 1`` or
``0 +``) removes the model's intercept instead. Column names become the ``feature``
coordinates of the fit. Group-level terms, ``(1 | g)`` and ``(x | g)``, are taken out
of the formula before formulaic sees it (:mod:`freqbayes.models.probabilistic.groups`):
their indices and design become the dataset's ``inputs``, their levels ``group_state``
in its attrs. How the formula coded the data (its right-hand side and the
levels of each categorical and the state of every stateful transform, such as the
mean that ``center(x)`` subtracts) is kept in the fit's attrs, so that
:func:`design_for` codes new rows the same way (``freqbayes predict``).

Without a formula a table's column ``y`` is the target and every other column a
feature (they must all be numeric). Missing values are refused, never dropped.
:func:`read_table` is the one reader of files (pandas; Parquet through pyarrow): a
bad value in a file is named by its line.

A Parquet file or folder is read in pieces (:mod:`freqbayes.models.pieces`; a formula's
design built piece by piece with the state learnt once, as prediction codes new rows).

Longer than 400 lines: the one reader of every table source (whole or in pieces) and
the formula's state that prediction must reproduce live together (the design is checked
against the state it was stored in).
"""

from __future__ import annotations

import hashlib
import io
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from freqbayes.inference.buckets import with_spare_rows
from freqbayes.models import pieces
from freqbayes.models.checks import as_finite_array
from freqbayes.models.dataset import Dataset

#: Refusal of a formula given with data that is not a table.
NOT_A_TABLE = "formula: applies to a table (DataFrame, CSV or Parquet file)"

#: File suffixes read as tables.
TABLE_SUFFIXES = (".csv", ".parquet", ".pq")


def read_table(path: str | Path) -> Any:
    """A CSV or Parquet file as a pandas DataFrame (one clear error if it cannot be read).

    The one reader of files (``--data file.csv``, ``inference.fit(..., data="file.csv")``,
    ``freqbayes predict``): pandas' ``read_csv`` (UTF-8, a byte-order mark accepted,
    spaces around names and after commas ignored, blank lines skipped) or ``read_parquet``
    (pyarrow). A row with more fields than the header, duplicated column names and a
    file without rows are refused; a short row reads as missing values, which are
    refused later, with their line, by :func:`from_frame`.
    """
    return _read(Path(path))[0]


def _read(path: Path) -> tuple[Any, list[int] | None, str]:
    """(frame, the file line of each row or None, the file's SHA-256)."""
    import pandas as pd

    if pieces.is_parquet(path):  # a file or a folder, hashed in chunks, read without a copy
        files = pieces.parquet_files(path)
        try:
            frame = pd.read_parquet(files[0] if len(files) == 1 else path)
        except (ValueError, OSError) as err:
            raise ValueError(f"data: cannot read {path}: {_first_line(err)}") from None
        _check_frame(frame, str(path))
        return frame, None, pieces.file_sha256(path)
    if not path.is_file():
        raise FileNotFoundError(f"data: no such file {str(path)!r}")
    raw = path.read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueError(
            f"data: {path} is not UTF-8 text ({err.reason} at byte {err.start})"
        ) from None
    if not text.strip():
        raise ValueError(f"data: {path} is empty")
    with warnings.catch_warnings():
        # with index_col=False pandas drops the extra fields of a long row with this warning
        warnings.simplefilter("error", pd.errors.ParserWarning)
        try:
            frame = pd.read_csv(io.StringIO(text), skipinitialspace=True, index_col=False)
        except pd.errors.ParserWarning:
            raise ValueError(f"data: {path} has a row with more fields than its header") from None
        except (ValueError, pd.errors.ParserError) as err:
            message = _first_line(err).removeprefix("Error tokenizing data. C error: ")
            raise ValueError(f"data: cannot read {path}: {message}") from None
    # the header as written: pandas renames a duplicated name ('x' → 'x.1')
    header = pd.read_csv(
        io.StringIO(text), header=None, nrows=1, dtype=str, keep_default_na=False
    ).iloc[0]
    frame.columns = [str(h).strip() for h in header]
    if frame.empty:
        raise ValueError(f"data: {path} has a header but no rows")
    _check_frame(frame, str(path))
    # the line of each row, when they can be told (no field spanning lines)
    lines = [i for i, line in enumerate(text.splitlines(), start=1) if line.strip()][1:]
    return frame, lines if len(lines) == len(frame) else None, sha


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def _check_frame(frame: Any, name: str) -> None:
    dupes = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
    if dupes:
        raise ValueError(f"data: {name} has duplicated column names: {', '.join(map(repr, dupes))}")
    if len(frame) == 0:
        raise ValueError(f"data: {name} has no rows")


def _numeric(frame: Any, name: str, lines: list[int] | None = None) -> np.ndarray:
    """The frame's values as floats; a non-numeric or missing value is named with its row.

    ``lines``, the file line of each row, names a file's rows by line.
    """
    import pandas as pd

    def where(i: int) -> str:
        return f"line {lines[i]}" if lines is not None else f"row {frame.index[i]!r}"

    bad = [str(c) for c in frame.columns if frame[c].dtype.kind not in "biuf"]
    if bad:
        column = frame[bad[0]]
        text = column.notna() & pd.to_numeric(column, errors="coerce").isna()
        i = int(np.argmax(text.to_numpy())) if text.any() else 0
        raise ValueError(
            f"data: {name}: column(s) {', '.join(map(repr, bad))} are not numeric "
            f"({column.iloc[i]!r} at {where(i)}); code them with a formula, "
            'e.g. --formula "y ~ x + C(group)"'
        )
    values = frame.to_numpy(dtype=float)
    missing = np.argwhere(~np.isfinite(values))
    if len(missing):
        i, j = missing[0]
        value = float(values[i, j])
        raise ValueError(
            f"data: {name} has a missing or non-finite value ({value!r}) at {where(i)}, "
            f"column {str(frame.columns[j])!r} ({len(missing)} such cell(s) in all)"
        )
    return values


#: Version of the stored formula state (1: categorical levels only, before issue 23).
STATE_VERSION = 2

#: Rows of the fitted table re-coded from the stored state when a fit is made (a check).
STATE_CHECK_ROWS = 1000


def _encode(value: Any) -> Any:
    """A transform's state as JSON values, tagged so that :func:`_decode` restores it exactly.

    Floats are written by ``repr`` (shortest round trip: the same float64 back); numpy
    arrays and dicts whose keys are not strings (``poly``'s ``alpha``) are tagged.
    """
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: _encode(v) for k, v in value.items()}
        return {"__items__": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, list | tuple):
        out = [_encode(v) for v in value]
        return out if isinstance(value, list) else {"__tuple__": out}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot store a value of type {type(value).__name__}")


def _decode(value: Any) -> Any:
    """The inverse of :func:`_encode`."""
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__ndarray__" in value:
        return np.asarray(value["__ndarray__"], dtype=value["dtype"])
    if "__items__" in value:
        return {_decode(k): _decode(v) for k, v in value["__items__"]}
    if "__tuple__" in value:
        return tuple(_decode(v) for v in value["__tuple__"])
    return {k: _decode(v) for k, v in value.items()}


def _state(spec: Any) -> str:
    """A formula's state as JSON: its transforms' state and each factor's encoding.

    ``transform_state`` holds what the stateful transforms learnt from the fitted rows
    (``center``/``scale``: mean and sd; ``poly``: the recurrence; ``bs``: the knots);
    ``encoder_state`` each factor's kind and categorical levels. :func:`design_for`
    rebuilds formulaic's ``ModelSpec`` from them, so new rows are coded as the fitted
    ones were, in any process (a netCDF attr holds a string, not the ``ModelSpec``).
    """
    encoder = {}
    for factor, (kind, state) in spec.encoder_state.items():
        levels = state.get("categories")
        encoder[factor] = [kind.value, {} if levels is None else {"categories": list(levels)}]
    try:
        transform = _encode(spec.transform_state)
    except TypeError as err:
        raise ValueError(f"formula: the state of its transforms cannot be stored: {err}") from None
    state = {"version": STATE_VERSION, "encoder": encoder, "transform": transform}
    return json.dumps(state, default=str, allow_nan=True)


def _spec(rhs: str, state: str) -> tuple[Any, dict[str, Any]]:
    """formulaic's ``ModelSpec`` for the right-hand side ``rhs`` from a stored state."""
    from formulaic import ModelSpec
    from formulaic.parser.types import Factor

    stored = json.loads(state)
    if stored.get("version") != STATE_VERSION:  # before version 2: the encoders alone
        stored = {"encoder": stored, "transform": {}}
    encoder = {k: (Factor.Kind(v[0]), v[1]) for k, v in stored["encoder"].items()}
    transform = _decode(stored["transform"])
    spec = ModelSpec(
        formula=rhs, encoder_state=encoder, transform_state=transform, na_action="raise"
    )
    return spec, transform


def design_for(frame: Any, rhs: str, state: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Code new rows as the fit's formula coded its data: (X without the intercept, names).

    Every stateful transform (``center``, ``scale``, ``poly``, ``bs``, …) uses the state
    it learnt from the fitted rows, and categoricals their levels, so one new row is
    coded as it would have been among the fitted ones. A fit saved before the state was
    stored, whose formula has such transforms, is refused (its state is lost).
    """
    from formulaic.transforms.contrasts import DataMismatchWarning

    spec, transform = _spec(rhs, state)
    known = set(transform)  # formulaic adds what it learns to this very dict
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataMismatchWarning)
        try:
            matrix = spec.get_model_matrix(frame)
        except DataMismatchWarning as err:
            raise ValueError(f"data: {str(err).split('. ')[0]}") from None
        except Exception as err:  # formulaic's errors: a missing column, a null value
            raise ValueError(f"formula: {type(err).__name__}: {err}") from None
    learnt = sorted(set(matrix.model_spec.transform_state) - known)
    if learnt:
        raise ValueError(
            f"formula: the fit does not hold the state of {', '.join(learnt)} (saved by an "
            "older freqbayes): refit it to predict new rows"
        )
    cols = [str(c) for c in matrix.columns if c != "Intercept"]
    return np.asarray(matrix[cols], dtype=float), tuple(cols)


def _check_state(frame: Any, rhs: str, state: str, X: np.ndarray | None) -> None:
    """Re-code the first fitted rows from the stored state: they must come out identical."""
    if X is None:
        return
    k = min(len(frame), STATE_CHECK_ROWS)
    again, _ = design_for(frame.iloc[:k], rhs, state)
    if again.shape != X[:k].shape or not np.array_equal(again, X[:k]):
        raise ValueError(
            f"formula: {rhs!r}: new rows could not be coded as the fitted ones "
            "(a transform whose state cannot be stored); predictions would be wrong"
        )


def from_frame(frame: Any, model: Any, formula: str | None = None, name: str = "data") -> Dataset:
    """A DataFrame as a :class:`Dataset` for ``model`` (a registered Model), with a formula or not.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data, in the user's units.
    model : Model
        The model it is for (``uses_X`` says whether it takes features).
    formula : str, optional
        ``"target ~ terms"`` in formulaic's syntax, with group-level terms
        ``(1 | g)``, ``(x | g)`` (:mod:`freqbayes.models.probabilistic.groups`); without
        it, column ``y`` is the target (or, for a model without features, the one column is).
    name : str
        The data's name in the fit's attrs.
    """
    _check_frame(frame, name)
    sha = pieces.frame_sha256(frame)  # the columns' buffers, in chunks: no text copy
    return _from_frame(frame, model, formula, name, {"source": name, "table_sha256": sha})


def from_file(path: str | Path, model: Any, formula: str | None = None) -> Dataset:
    """A CSV or Parquet file (:func:`read_table`) as a :class:`Dataset` for ``model``.

    As :func:`from_frame`; a missing or non-numeric value is named by its line in the
    file, and the file's SHA-256 is kept in ``attrs["sha256"]``.
    """
    if pieces.is_parquet(path):
        data = _from_parquet(Path(path), model, formula)
        if data is not None:
            return data
    frame, lines, sha = _read(Path(path))
    return _from_frame(
        frame, model, formula, str(path), {"source": str(path), "sha256": sha}, lines
    )


def read_share(
    path: str | Path,
    model: Any,
    formula: str | None,
    start: int,
    stop: int,
    size: int,
    sha256: bool = True,
) -> Dataset | None:
    """Rows ``start:stop`` of a Parquet file or folder, padded to ``size`` rows, as a Dataset.

    Only the row groups overlapping the rows are read, the formula's design built piece by
    piece with the state learnt on the table's first piece (as :func:`from_file` learns
    it), so that the rows come out as those rows of :func:`from_file`'s arrays. ``y`` and
    ``X`` have ``size`` ≥ ``stop − start`` rows: the rows read, then copies of the table's
    row 0 (a process's padded rows, written into the same arrays: no second copy). None
    when the source cannot be read in shares: a CSV file, or a formula that is not
    computed row by row (:func:`_piecewise_columns`); read it whole then. ``sha256``:
    whether to hash the file too (``attrs["sha256"]``); a reader of many chunks hashes
    it once.
    """
    if not pieces.is_parquet(path):
        return None
    rows = (int(start), int(stop), int(size))
    if not sha256:
        return _read_parquet(Path(path), model, formula, rows)
    return _from_parquet(Path(path), model, formula, rows)


def _from_frame(
    frame: Any,
    model: Any,
    formula: str | None,
    name: str,
    attrs: dict[str, Any],
    lines: list[int] | None = None,
) -> Dataset:
    if formula is None:  # column y is the target; without features, the one column is
        table, header = _numeric(frame, name, lines), [str(c) for c in frame.columns]
        if not model.uses_X:
            if len(header) != 1:
                raise ValueError(f"data: {name} must have a single column for this model")
            return Dataset(name, as_finite_array(table[:, 0], header[0], 1), attrs=attrs)
        if "y" not in header:
            raise ValueError(
                f"data: {name} has no column named 'y' (columns: {header}); name the target "
                'with a formula, e.g. --formula "score ~ x1 + x2"'
            )
        j = header.index("y")
        if len(header) == 1:
            raise ValueError(f"data: {name} has no feature columns besides 'y'")
        X = as_finite_array(np.delete(table, j, axis=1), "X", 2)
        features = tuple(h for i, h in enumerate(header) if i != j)
        return Dataset(name, as_finite_array(table[:, j], "y", 1), X, features, attrs)
    import formulaic

    from freqbayes.models.probabilistic import groups

    if "~" not in formula:
        raise ValueError(f"formula: {formula!r} has no '~' (write it as 'target ~ terms')")
    fixed, factor, group_columns = groups.split(formula)
    inputs: dict[str, np.ndarray] = {}
    if factor is not None:
        inputs, attrs["group_state"] = groups.build(frame, factor, group_columns)
    try:
        matrices = formulaic.model_matrix(fixed, frame, na_action="raise")
    except Exception as err:  # formulaic's errors: a missing column, a null value, bad syntax
        raise ValueError(f"formula: {type(err).__name__}: {err}") from None
    cols = _formula_attrs(matrices, formula, model, attrs, bool(inputs))
    y = as_finite_array(np.asarray(matrices.lhs, dtype=float)[:, 0], attrs["target"], 1)
    if not model.uses_X:
        return Dataset(name, y, attrs=attrs)
    X = as_finite_array(np.asarray(matrices.rhs[cols], dtype=float), "X", 2)
    _check_state(frame, attrs["formula_rhs"], attrs["formula_state"], X)
    return Dataset(name, y, X, tuple(cols), attrs, inputs)


def _formula_attrs(
    matrices: Any, formula: str, model: Any, attrs: dict[str, Any], groups: bool
) -> list[str]:
    """Check the formula's design for ``model``, record its state in ``attrs``; its columns."""
    lhs, rhs = matrices.lhs, matrices.rhs
    if lhs.shape[1] != 1:
        raise ValueError(f"formula: {formula!r} must name one target column; got {lhs.shape[1]}")
    intercept = "Intercept" in rhs.columns
    cols = [str(c) for c in rhs.columns if c != "Intercept"]
    attrs.update(
        formula=formula,
        # formulaic's text of the terms, with "- 1" when they have no intercept (the text
        # alone would get one back when parsed, and categoricals would lose a column)
        formula_rhs=str(rhs.model_spec.formula) + ("" if intercept else " - 1"),
        formula_state=_state(rhs.model_spec),
        intercept=int(intercept),
        target=str(lhs.columns[0]),
    )
    if groups and not model.accepts_groups:
        raise ValueError(f"formula: model {model.name!r} takes no group-level terms")
    if not model.uses_X and cols:
        raise ValueError(f"formula: this model takes no features; write '{lhs.columns[0]} ~ 1'")
    if model.uses_X and not cols:
        raise ValueError(f"formula: {formula!r} has no feature terms")
    return cols


def _from_parquet(
    path: Path, model: Any, formula: str | None, rows: tuple[int, int, int] | None = None
) -> Dataset | None:
    """A Parquet file or folder read in pieces (:mod:`.pieces`); None: read it whole instead.

    The file's SHA-256 (``attrs["sha256"]``) is computed in a thread beside the reading:
    hashing and Arrow's decoding both release the GIL (a 10⁷ × 100 float32 table's file
    took 4.5 s to hash; issue 27). :func:`_read_parquet` says the rest.
    """
    from concurrent.futures import ThreadPoolExecutor

    # a failed read, or one that falls back to reading whole (None), still waits for the
    # hash to end: it is not interrupted
    with ThreadPoolExecutor(1, thread_name_prefix="sha256") as pool:
        sha = pool.submit(pieces.file_sha256, path)
        data = _read_parquet(path, model, formula, rows)
        if data is not None:
            data.attrs["sha256"] = sha.result()
    return data


def _read_parquet(
    path: Path, model: Any, formula: str | None, rows: tuple[int, int, int] | None = None
) -> Dataset | None:
    """:func:`_from_parquet`'s reading; ``attrs["sha256"]`` is left for it to fill.

    Without a formula, ``y`` and the features are read into preallocated arrays
    (:func:`.pieces.read_rows`: float32 for a float32 table). With one, its design
    (float64, as formulaic codes it) is built piece by piece from the state formulaic
    learnt on the table's first piece, the levels of every text column and of every
    column inside ``C(...)`` learnt over the whole column first. Only formulas whose
    every term is computed row by row are read in pieces (:func:`_piecewise_columns`);
    others (group-level terms; ``center``, ``scale``, ``poly``, ``bs`` when the table has
    more than one piece; any expression such as ``I(x - x.mean())`` that could read a
    whole column) are read whole (None).

    ``rows`` = (start, stop, size) reads only rows start:stop (a process's own share:
    :mod:`freqbayes.inference.probabilistic.shares`), touching only the row groups that
    overlap them, into arrays of ``size`` rows whose last ones repeat the table's row 0
    (padding); the state is still learnt on the table's first piece, so that every
    process codes its rows as one process codes the whole table.
    """
    table = pieces.open_table(path)
    names = list(table.schema.names)
    n = table.count_rows()
    if n == 0:
        raise ValueError(f"data: {path} has no rows")
    start, stop, size = (0, n, n) if rows is None else rows
    attrs: dict[str, Any] = {"source": str(path), "sha256": None}  # _from_parquet's hash
    if formula is None:
        if not model.uses_X:
            if len(names) != 1:
                raise ValueError(f"data: {path} must have a single column for this model")
            y = _read_padded(path, names, start, stop, size)[:, 0]
            return Dataset(str(path), y, attrs=attrs)
        if "y" not in names:
            raise ValueError(
                f"data: {path} has no column named 'y' (columns: {names}); name the target "
                'with a formula, e.g. --formula "score ~ x1 + x2"'
            )
        if len(names) == 1:
            raise ValueError(f"data: {path} has no feature columns besides 'y'")
        features = [c for c in names if c != "y"]
        X = _read_padded(path, features, start, stop, size)
        y = _read_padded(path, ["y"], start, stop, size)[:, 0]
        return Dataset(str(path), y, X, tuple(features), attrs)
    import formulaic

    from freqbayes.models.probabilistic import groups

    if "~" not in formula:
        raise ValueError(f"formula: {formula!r} has no '~' (write it as 'target ~ terms')")
    fixed, factor, _ = groups.split(formula)
    found = None if factor is not None else _piecewise_columns(fixed)
    if found is None:
        return None
    used = [c for c in names if c in found[0]]  # the columns the formula names
    coded = [c for c in used if c in found[1] or _text_type(table.schema.field(c).type)]
    levels = {c: pieces.levels(table, c) for c in coded}
    # the state is learnt on the table's first piece, whichever rows this reader keeps
    learnt = next(pieces.batches(table, used, 0, n))[1]
    frame = pieces.to_frame(learnt, levels, 0)
    try:
        matrices = formulaic.model_matrix(fixed, frame, na_action="raise")
    except Exception as err:  # formulaic's errors: a missing column, bad syntax
        raise ValueError(f"formula: {type(err).__name__}: {err}") from None
    if matrices.rhs.model_spec.transform_state and len(frame) < n:
        return None  # a transform's state would be the first piece's alone
    cols = _formula_attrs(matrices, formula, model, attrs, False)
    spec = (matrices.lhs.model_spec, matrices.rhs.model_spec)
    if model.uses_X:
        design = np.asarray(matrices.rhs[cols], dtype=float)
        _check_state(frame, attrs["formula_rhs"], attrs["formula_state"], design)
    X = np.empty((size, len(cols))) if model.uses_X else None
    y = np.empty(size)
    for first, batch in pieces.batches(table, used, start, stop):
        if start + first == 0 and batch.num_rows == learnt.num_rows:
            lhs, rhs = matrices.lhs, matrices.rhs  # the first piece, coded once
        else:
            lhs, rhs = _piece_design(spec, pieces.to_frame(batch, levels, start + first))
        rows_here = slice(first, first + batch.num_rows)
        y[rows_here] = pieces.finite(lhs, attrs["target"], start + first)[:, 0]
        if X is not None:
            X[rows_here] = pieces.finite(rhs[cols], "X", start + first)
    if size > stop - start:  # padded rows: the table's row 0, from its first piece
        y[stop - start :] = np.asarray(matrices.lhs, dtype=float)[0, 0]
        if X is not None:
            X[stop - start :] = design[0]
    return Dataset(str(path), y, X, tuple(cols) if X is not None else (), attrs)


def _read_padded(path: Path, columns: list[str], start: int, stop: int, size: int) -> np.ndarray:
    """Rows start:stop of ``columns`` (:func:`.pieces.read_rows`), then row 0 up to ``size``."""
    if size == stop - start:  # the whole table: room for the padding of its bucket
        dtype = pieces.float_type(pieces.open_table(path), columns)
        out = with_spare_rows(size, (len(columns),), dtype)
        pieces.read_rows(path, columns, start, stop, out=out)
        return out
    dtype = pieces.float_type(pieces.open_table(path), columns)
    out = np.empty((size, len(columns)), dtype=dtype)
    pieces.read_rows(path, columns, start, stop, out=out[: stop - start])
    out[stop - start :] = out[0] if start == 0 < stop else pieces.read_rows(path, columns, 0, 1)
    return out


#: Functions a term may call and still be computed row by row (numpy's, or bare names).
ROW_WISE_CALLS = frozenset(
    "C I log log1p log2 log10 exp expm1 sqrt square abs absolute sin cos tan tanh".split()
)


def _piecewise_columns(formula: str) -> tuple[set[str], set[str]] | None:
    """The columns a formula reads and those it codes with ``C(...)``; None if not row-wise.

    A formula can be built piece by piece only if each row's design depends on that row
    alone (and on levels learnt first): every factor a column name, a literal, or an
    expression of names, numbers, arithmetic and :data:`ROW_WISE_CALLS`. ``I(x -
    x.mean())`` or ``np.log(y - y.min() + 1)`` would be computed per piece, each with its
    own mean or minimum, and give another design than the whole table: such formulas (and
    a column both inside and outside ``C(...)``) are read whole.
    """
    import ast

    import formulaic

    try:
        parsed = formulaic.Formula(formula)
    except Exception:
        return None  # read whole: formulaic's own error comes from there
    coded: set[str] = set()
    plain: set[str] = set()

    def allowed(node: ast.AST, inside_c: bool) -> bool:
        if isinstance(node, ast.Name):
            (coded if inside_c else plain).add(node.id)
            return True
        if isinstance(node, ast.Constant | ast.operator | ast.unaryop | ast.Load):
            return True
        if isinstance(node, ast.BinOp | ast.UnaryOp | ast.Expression):
            return all(allowed(child, inside_c) for child in ast.iter_child_nodes(node))
        if isinstance(node, ast.Call) and not node.keywords:
            fn = node.func
            name = fn.id if isinstance(fn, ast.Name) else getattr(fn, "attr", None)
            if isinstance(fn, ast.Attribute) and not (
                isinstance(fn.value, ast.Name) and fn.value.id in ("np", "numpy")
            ):
                return False
            if name not in ROW_WISE_CALLS or (name == "C" and len(node.args) != 1):
                return False
            return all(allowed(arg, inside_c or name == "C") for arg in node.args)
        return False

    sides = [parsed.lhs, parsed.rhs] if hasattr(parsed, "lhs") else [parsed]
    for term in (t for side in sides for t in side):
        for factor in term.factors:
            if factor.eval_method.value in ("literal", "lookup"):
                plain.add(str(factor.expr))
                continue
            try:
                tree = ast.parse(str(factor.expr), mode="eval")
            except SyntaxError:
                return None
            if not allowed(tree, False):
                return None
    if coded & plain:
        return None
    return coded | plain, coded


def _text_type(kind: Any) -> bool:
    """Whether an Arrow type is text (a categorical for formulaic; booleans stay booleans)."""
    import pyarrow as pa

    return bool(
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_dictionary(kind)
    )


def _piece_design(spec: tuple[Any, Any], frame: Any) -> tuple[Any, Any]:
    """A later piece coded by the first piece's specs; a level it did not see is refused."""
    from formulaic.transforms.contrasts import DataMismatchWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", DataMismatchWarning)
        try:
            return spec[0].get_model_matrix(frame), spec[1].get_model_matrix(frame)
        except DataMismatchWarning as err:
            raise ValueError(
                f"data: {str(err).split('. ')[0]} (a level not in the table's first piece: "
                "store the column as text, or write the table as one row group)"
            ) from None
        except Exception as err:  # formulaic's errors
            raise ValueError(f"formula: {type(err).__name__}: {err}") from None


def as_dataset(data: Any, model: Any, formula: str | None = None) -> Dataset:
    """Any accepted form of data for a registered model as a :class:`Dataset`.

    A :class:`Dataset`, None (the model's default), a dataset name or a file path (CSV,
    Parquet), a pandas DataFrame, or a pair ``(X, y)`` of arrays.
    """
    if isinstance(data, Dataset):
        if formula is not None:
            raise ValueError(NOT_A_TABLE)
        return data
    if data is None or isinstance(data, str | Path):
        from freqbayes.models import data as data_mod

        if data is not None and str(data) not in data_mod.DATASETS:
            path = Path(data)
            if path.suffix.lower() in TABLE_SUFFIXES or path.is_file() or path.is_dir():
                return from_file(path, model, formula)
        if formula is not None:
            raise ValueError(NOT_A_TABLE)
        return data_mod.load(None if data is None else str(data), model)
    if hasattr(data, "columns") and hasattr(data, "to_numpy"):
        return from_frame(data, model, formula)
    if isinstance(data, tuple) and len(data) == 2:
        if formula is not None:
            raise ValueError(NOT_A_TABLE)
        X, y = data
        if not model.uses_X:
            raise ValueError(f"data: model {model.name!r} takes no features; pass y alone")
        X = as_finite_array(X, "X", 2, keep_float32=True)  # a float32 table is not copied
        names = tuple(f"x{j + 1}" for j in range(X.shape[1]))
        return Dataset("data", as_finite_array(y, "y", 1), X, names, {"source": "(X, y)"})
    if isinstance(data, np.ndarray | list) and not model.uses_X:
        return Dataset("data", as_finite_array(data, "y", 1), attrs={"source": "array"})
    raise TypeError(
        f"data: expected a Dataset, a DataFrame, (X, y), a dataset name or a file; "
        f"got {type(data).__name__}"
    )
