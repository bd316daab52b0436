"""Datasets: real ones bundled with scikit-learn (offline), CSV files, and synthetic data.

Nothing here downloads. A :class:`Dataset` holds checked numpy arrays plus the
attrs that go into every fit's DataTree (source, scaling of standardised columns).
"""

from __future__ import annotations

import csv
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
    program = condition(spec.program, data={k: np.asarray(v) for k, v in params.items()})
    tr = trace(seeded(program, jax.random.key(seed))).get_trace(**kwargs)
    y = np.asarray(tr[spec.observed]["value"], dtype=float)
    attrs = {"source": f"synthetic from the {model} program", "seed": seed}
    attrs.update({f"true_{k}": np.asarray(v, dtype=float) for k, v in params.items()})
    names = tuple(f"x{j + 1}" for j in range(X.shape[1])) if X is not None else ()
    return Dataset(f"synthetic-{model}", y, kwargs.get("X"), names, attrs)


def read_csv(path: str | Path, uses_X: bool = True) -> Dataset:
    """Read a CSV file with a header: column ``y`` is the target, the others are features.

    For data without features (``uses_X=False``) the file must have one column,
    the observations, whatever its name.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data: no such file {str(path)!r}")
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        raise ValueError(f"data: {path} is empty")
    header, body = [h.strip() for h in rows[0]], [r for r in rows[1:] if r]
    if not body:
        raise ValueError(f"data: {path} has a header but no rows")
    if any(len(r) != len(header) for r in body):
        raise ValueError(f"data: {path} has rows whose length differs from the header's")
    try:
        table = np.array(body, dtype=float)
    except ValueError as err:
        raise ValueError(f"data: {path} has a non-numeric value: {err}") from None
    attrs = {"source": str(path)}
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


def load(name: str | None, model: str, uses_X: bool = True) -> Dataset:
    """A registered dataset by name, a CSV file by path, or the model's default (None)."""
    name = name or DEFAULT_DATASET[model]
    if name in DATASETS:
        return DATASETS[name]()
    if name.endswith(".csv") or Path(name).is_file():
        return read_csv(name, uses_X=uses_X)
    raise ValueError(f"data: unknown dataset {name!r}; known: {', '.join(DATASETS)} or a .csv file")
