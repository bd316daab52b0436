"""Datasets: real ones bundled with scikit-learn (offline) and synthetic data.

Nothing here downloads. A :class:`Dataset` holds checked numpy arrays plus the
attrs that go into every fit's DataTree (source, scaling of standardised columns).
Files (CSV, Parquet) are read by :mod:`freqbayes.models.tables`, with pandas.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from freqbayes.models.checks import as_finite_array
from freqbayes.models.dataset import Dataset, standardise
from freqbayes.models.pieces import array_sha256


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

    from freqbayes.models.registry import get_model

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
    from freqbayes.models.probabilistic import priors as P

    program = condition(spec.program, data={k: np.asarray(v) for k, v in params.items()})
    # every parameter is given, so the priors only have to exist: flat ones
    flat = {name: P.Flat() for name in spec.prior_names}
    tr = trace(seeded(program, jax.random.key(seed))).get_trace(**kwargs, **flat)
    y = np.asarray(tr[spec.observed]["value"], dtype=float)
    attrs = {"source": f"synthetic from the {model} program", "seed": seed}
    attrs.update({f"true_{k}": np.asarray(v, dtype=float) for k, v in params.items()})
    names = tuple(f"x{j + 1}" for j in range(X.shape[1])) if X is not None else ()
    return Dataset(f"synthetic-{model}", y, kwargs.get("X"), names, attrs)


def fingerprint(data: Dataset) -> str:
    """SHA-256 of a dataset, for manifests.

    Data read from a file (``attrs["sha256"]``, the file's SHA-256) and a process's share
    of a table (``data.share``: its values are never in one place) are fingerprinted by
    the file's SHA-256, the formula and its state, the rows and the feature names: the
    same whether a table is read whole or in shares, and no second pass over its values
    (hashing a 10⁷ × 100 table's values took 5.0 s; issue 27). Other data: their values
    (features and target as float64).
    """
    h = hashlib.sha256()
    if data.share is not None or "sha256" in data.attrs:
        keys = ("sha256", "formula", "formula_state")
        h.update(repr([data.attrs.get(k) for k in keys] + [data.n, data.feature_names]).encode())
        return h.hexdigest()
    for a in (data.X, data.y):
        if a is not None:
            h.update(str(np.shape(a)).encode())
            array_sha256(h, np.asarray(a))  # float64 bytes a block at a time: no copy
    return h.hexdigest()


def load(name: str | None, model: Any) -> Dataset:
    """A dataset by name (:data:`DATASETS`) or the model's default (None).

    ``model`` is a :class:`~freqbayes.models.probabilistic.model.Model` or its name.
    Files (CSV, Parquet) are read by :func:`freqbayes.models.tables.as_dataset`.
    """
    if isinstance(model, str):
        from freqbayes.models.registry import get_model

        model = get_model(model)
    if name is None:
        if model.default_data is None:
            raise ValueError(f"data: model {model.name!r} has no default data; give one")
        if callable(model.default_data):
            return model.default_data()
        name = model.default_data
    if name in DATASETS:
        return DATASETS[name]()
    known = ", ".join(DATASETS)
    raise ValueError(f"data: unknown dataset {name!r}; known: {known} or a CSV/Parquet file")


# ------------------------------------------------------------------ generators for the lessons


def select_features(data: Dataset, names: Sequence[str]) -> Dataset:
    """The dataset with only the named feature columns (in that order)."""
    unknown = [f for f in names if f not in data.feature_names]
    if unknown or not names:
        raise ValueError(
            f"features: unknown {unknown or list(names)}; known: {', '.join(data.feature_names)}"
        )
    cols = [data.feature_names.index(f) for f in names]
    attrs = dict(data.attrs)
    for key in ("x_mean", "x_scale"):
        if key in attrs:
            attrs[key] = np.asarray(attrs[key])[cols]
    return Dataset(f"{data.name}[{','.join(names)}]", data.y, data.X[:, cols], tuple(names), attrs)


#: Newton's constant (m³ kg⁻¹ s⁻²).
G_NEWTON = 6.674e-11


def gravitation(seed: int = 0, n: int = 100, noise: float = 0.1) -> Dataset:
    """Noisy synthetic measurements of F = G m₁ m₂ / r², as a linear problem on the logs.

    log F = log G + 1·log m₁ + 1·log m₂ − 2·log r + ε with ε ~ N(0, ``noise``²)
    (multiplicative measurement error): a feature map that makes a nonlinear law
    linear (the feature map φ of §5.7.2). Masses are 1–1000 kg and distances 0.1–10 m,
    log-uniform.
    """
    rng = np.random.default_rng(seed)
    m1, m2 = np.exp(rng.uniform(0, np.log(1000), (2, n)))
    r = np.exp(rng.uniform(np.log(0.1), np.log(10), n))
    X = np.column_stack([np.log(m1), np.log(m2), np.log(r)])
    y = np.log(G_NEWTON) + X @ np.array([1.0, 1.0, -2.0]) + noise * rng.standard_normal(n)
    attrs = {
        "source": "synthetic: F = G m1 m2 / r^2 with lognormal noise",
        "true_beta": np.array([1.0, 1.0, -2.0]),
        "true_intercept": float(np.log(G_NEWTON)),
        "true_sigma": noise,
        "seed": seed,
    }
    return Dataset("gravitation", y, X, ("log_m1", "log_m2", "log_r"), attrs)


def separable_data(seed: int = 0, n: int = 60) -> Dataset:
    """Two well-separated 2-D Gaussian classes (completely separable): y = 1 on the right."""
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(n // 2), np.ones(n - n // 2)]
    centre = np.where(y[:, None] == 1, [1.5, 1.0], [-1.5, -1.0])
    X = centre + 0.6 * rng.standard_normal((n, 2))
    # keep a gap so that the classes are separable for every seed
    margin = X @ np.array([1.5, 1.0])
    keep = np.where(y == 1, margin > 0.8, margin < -0.8)
    return Dataset(
        "separable-2d",
        y[keep],
        X[keep],
        ("x1", "x2"),
        {"source": "synthetic: two separated Gaussian classes", "seed": seed},
    )


def blobs(seed: int = 0, n: int = 600, centers: int = 5, std: float = 0.9) -> np.ndarray:
    """2-D Gaussian blobs for the k-means lessons (scikit-learn's ``make_blobs``)."""
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n, centers=centers, cluster_std=std, center_box=(-8, 8), random_state=seed)
    return X


def logistic_problem(seed: int = 0, n: int = 5000, d: int = 5) -> Dataset:
    """Synthetic logistic data from the model's own program (θ = (1, −1, 0.5, …), b = 0.3)."""
    beta = np.resize([1.0, -1.0, 0.5, -0.5, 0.25], d)
    return synthetic("logistic", {"beta": beta, "intercept": 0.3}, n, seed=seed)
