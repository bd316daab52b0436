"""Datasets: real ones bundled with scikit-learn (offline), CSV files, and synthetic data.

Nothing here downloads. A :class:`Dataset` holds checked numpy arrays plus the
attrs that go into every fit's DataTree (source, scaling of standardised columns).
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from freqbayes.models.checks import as_finite_array


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
    """

    name: str
    y: np.ndarray
    X: np.ndarray | None = None
    feature_names: tuple[str, ...] = ()
    attrs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of examples."""
        return int(self.y.shape[0])


def standardise(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre and scale columns to mean 0 and sd 1; return (z, mean, sd)."""
    mean, sd = a.mean(axis=0), a.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    return (a - mean) / sd, mean, sd


def _from_bunch(name: str, bunch: Any, source: str, scale_y: bool) -> Dataset:
    X, x_mean, x_sd = standardise(np.asarray(bunch.data, dtype=float))
    y = np.asarray(bunch.target, dtype=float)
    attrs: dict[str, Any] = {
        "source": source,
        "x_standardised": 1,
        "x_mean": x_mean,
        "x_scale": x_sd,
    }
    if scale_y:
        y, y_mean, y_sd = standardise(y)
        attrs.update(y_standardised=1, y_mean=float(y_mean), y_scale=float(y_sd))
    return Dataset(name, y, X, tuple(str(f) for f in bunch.feature_names), attrs)


def iris_setosa() -> Dataset:
    """Sepal lengths (cm) of the 50 Iris setosa flowers: a Gaussian sample."""
    from sklearn.datasets import load_iris

    iris = load_iris()
    y = np.asarray(iris.data[iris.target == 0, 0], dtype=float)
    return Dataset("iris-setosa", y, attrs={"source": "sklearn.datasets.load_iris", "unit": "cm"})


def diabetes() -> Dataset:
    """scikit-learn's diabetes regression data, features and target standardised."""
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes(scaled=False)
    return _from_bunch("diabetes", bunch, "sklearn.datasets.load_diabetes", scale_y=True)


def breast_cancer() -> Dataset:
    """scikit-learn's Wisconsin breast-cancer data (y = 1: benign), features standardised."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    return _from_bunch("breast-cancer", bunch, "sklearn.datasets.load_breast_cancer", scale_y=False)


DATASETS: dict[str, Callable[[], Dataset]] = {
    "iris-setosa": iris_setosa,
    "diabetes": diabetes,
    "breast-cancer": breast_cancer,
}

DEFAULT_DATASET = {"gaussian": "iris-setosa", "linear": "diabetes", "logistic": "breast-cancer"}


def synthetic(
    model: str,
    params: Mapping[str, Any],
    n: int,
    *,
    seed: int = 0,
    X: np.ndarray | None = None,
) -> Dataset:
    """Simulate a dataset from a model's own NumPyro program at known parameters.

    Parameters
    ----------
    model : str
        Registered model name.
    params : mapping
        True values of the program's sites (e.g. ``beta``, ``intercept``, ``sigma``);
        they are kept in ``attrs["true_<name>"]`` for tests and teaching.
    n : int
        Number of examples.
    seed : int
        Seed for the features (standard normal unless ``X`` is given) and the noise.
    X : ndarray (n, d), optional
        Features; by default d = len(params["beta"]) standard-normal columns.
    """
    import jax
    from numpyro.handlers import condition, trace
    from numpyro.handlers import seed as seeded

    from freqbayes.models import get_model

    spec = get_model(model)
    if n < 1:
        raise ValueError(f"n must be >= 1; got {n}")
    rng = np.random.default_rng(seed)
    kwargs: dict[str, Any] = {}
    if spec.uses_X:
        if X is None:
            X = rng.standard_normal((n, len(np.atleast_1d(params["beta"]))))
        kwargs["X"] = as_finite_array(X, "X", 2)
    else:
        kwargs["n"] = n
    from freqbayes.models import priors as P

    program = condition(spec.program, data={k: np.asarray(v) for k, v in params.items()})
    # every parameter is given, so the priors only have to exist: flat ones
    flat = {name: P.Flat() for name in spec.prior_names}
    tr = trace(seeded(program, jax.random.key(seed))).get_trace(**kwargs, **flat)
    y = np.asarray(tr[spec.observed]["value"], dtype=float)
    attrs = {"source": f"synthetic from the {model} program", "seed": seed}
    attrs.update({f"true_{k}": np.asarray(v, dtype=float) for k, v in params.items()})
    names = tuple(f"x{j + 1}" for j in range(X.shape[1])) if X is not None else ()
    return Dataset(f"synthetic-{model}", y, kwargs.get("X"), names, attrs)


def read_csv(path: str | Path, uses_X: bool = True) -> Dataset:
    """Read a CSV file with a header: column ``y`` is the target, the others are features.

    For data without features (``uses_X=False``) the file must have one column,
    the observations, whatever its name. A UTF-8 byte-order mark is accepted;
    duplicated column names are refused; a missing or non-finite value is reported
    with its line and column. The file's SHA-256 is kept in ``attrs["sha256"]``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data: no such file {str(path)!r}")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueError(
            f"data: {path} is not UTF-8 text ({err.reason} at byte {err.start})"
        ) from None
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise ValueError(f"data: {path} is empty")
    header = [h.strip() for h in rows[0]]
    body = [(i, r) for i, r in enumerate(rows[1:], start=2) if r]
    if not body:
        raise ValueError(f"data: {path} has a header but no rows")
    seen: set[str] = set()
    dupes = sorted({h for h in header if h in seen or seen.add(h)})
    if dupes:
        raise ValueError(f"data: {path} has duplicated column names: {', '.join(map(repr, dupes))}")
    for line, r in body:
        if len(r) != len(header):
            raise ValueError(
                f"data: {path} line {line} has {len(r)} fields; the header has {len(header)}"
            )
    table = np.empty((len(body), len(header)))
    for i, (line, r) in enumerate(body):
        for j, cell in enumerate(r):
            try:
                table[i, j] = float(cell) if cell.strip() else np.nan
            except ValueError:
                raise ValueError(
                    f"data: {path} has a non-numeric value {cell!r} at line {line}, "
                    f"column {header[j]!r}"
                ) from None
    bad = np.argwhere(~np.isfinite(table))
    if len(bad):
        i, j = bad[0]
        cell = body[i][1][j].strip() or "empty"
        raise ValueError(
            f"data: {path} has a missing or non-finite value ({cell!r}) at line {body[i][0]}, "
            f"column {header[j]!r} ({len(bad)} such cell(s) in all)"
        )
    attrs = {"source": str(path), "sha256": hashlib.sha256(raw).hexdigest()}
    if not uses_X:
        if len(header) != 1:
            raise ValueError(f"data: {path} must have a single column for this model")
        return Dataset(str(path), as_finite_array(table[:, 0], header[0], 1), attrs=attrs)
    if "y" not in header:
        raise ValueError(f"data: {path} has no column named 'y' (columns: {header})")
    j = header.index("y")
    features = tuple(h for i, h in enumerate(header) if i != j)
    if not features:
        raise ValueError(f"data: {path} has no feature columns besides 'y'")
    X = as_finite_array(np.delete(table, j, axis=1), "X", 2)
    return Dataset(str(path), as_finite_array(table[:, j], "y", 1), X, features, attrs)


def fingerprint(data: Dataset) -> str:
    """SHA-256 of a dataset's values (features and target as float64), for manifests."""
    h = hashlib.sha256()
    for a in (data.X, data.y):
        if a is not None:
            arr = np.ascontiguousarray(a, dtype=np.float64)
            h.update(str(arr.shape).encode())
            h.update(arr.tobytes())
    return h.hexdigest()


def load(name: str | None, model: str, uses_X: bool = True) -> Dataset:
    """A registered dataset by name, a CSV file by path, or the model's default (None)."""
    name = name or DEFAULT_DATASET[model]
    if name in DATASETS:
        return DATASETS[name]()
    if name.endswith(".csv") or Path(name).is_file():
        return read_csv(name, uses_X=uses_X)
    raise ValueError(f"data: unknown dataset {name!r}; known: {', '.join(DATASETS)} or a .csv file")
