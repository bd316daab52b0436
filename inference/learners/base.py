"""The learners' public base: the estimator protocol, input checks, keys, warnings.

Each class takes scikit-learn's parameter names where the meaning is the same, checks
its input up front, returns ``self`` from ``fit`` and keeps only numpy arrays on the
instance (learned attributes end in ``_``), so it pickles, clones and works in pipelines.

Not ``sklearn.base.BaseEstimator``: ``import sklearn.base`` imports SciPy's statistics
and pandas, 1.9–2.5 s of its own by ``-X importtime`` (wall, median of 7 fresh
interpreters: 3.6 s alone, 5.4 s after ``import jax``), where ``from freqbayes import
KMeans`` takes 1.8 s in all. scikit-learn is imported only when used (input validation,
``score``, tags, warnings). :class:`Estimator` and the mixins carry its public protocol:
``get_params``/``set_params`` from the ``__init__`` signature and ``__sklearn_tags__``
from the public ``sklearn.utils.Tags`` (read by ``is_classifier``, stratified folds and
the estimator checks, which the tests run on every class); no private scikit-learn API.
Longer than 400 lines: that protocol (which ``BaseEstimator`` would give), the checks
every learner shares, and how their solvers are compiled and called (:class:`SizedJit`,
:func:`each_problem`), together.
"""

from __future__ import annotations

import functools
import inspect
import numbers
import types
import warnings
from collections import defaultdict
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from freqbayes.inference.dtypes import float_dtype, on_device
from freqbayes.models.checks import check_positive

# ------------------------------------------------------------------ the estimator protocol


class Estimator:
    """scikit-learn's ``BaseEstimator`` protocol, without importing scikit-learn.

    Parameters are the ``__init__`` arguments, stored unchanged under their own
    names; ``get_params``/``set_params`` read and write them (``clone``, grid
    search and pipelines rely on it).
    """

    @classmethod
    def _get_param_names(cls) -> list[str]:
        init = cls.__init__
        if init is object.__init__:
            return []
        params = inspect.signature(init).parameters.values()
        for p in params:
            if p.kind == p.VAR_POSITIONAL:
                raise RuntimeError(f"{cls.__name__}: scikit-learn estimators take no *args")
        return sorted(p.name for p in params if p.name != "self" and p.kind != p.VAR_KEYWORD)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The estimator's parameters (and, if ``deep``, those of nested estimators)."""
        out: dict[str, Any] = {}
        for key in self._get_param_names():
            value = getattr(self, key)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{key}__{k}", v) for k, v in value.get_params().items())
            out[key] = value
        return out

    def set_params(self, **params: Any) -> Estimator:
        """Set parameters (``name`` or ``nested__name``); returns ``self``."""
        if not params:
            return self
        valid = self.get_params(deep=True)
        nested: dict[str, dict[str, Any]] = defaultdict(dict)
        for full, value in params.items():
            key, delim, sub = full.partition("__")
            if key not in valid:
                raise ValueError(
                    f"Invalid parameter {key!r} for estimator {self}. Valid parameters "
                    f"are: {self._get_param_names()!r}."
                )
            if delim:
                nested[key][sub] = value
            else:
                setattr(self, key, value)
                valid[key] = value
        for key, sub_params in nested.items():
            valid[key].set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        """``Class(param=value, ...)`` with the parameters that differ from their defaults."""
        defaults = {
            name: p.default for name, p in inspect.signature(type(self).__init__).parameters.items()
        }
        changed = []
        for key, value in self.get_params(deep=False).items():
            default = defaults.get(key, inspect.Parameter.empty)
            same = value is default
            if not same:
                try:
                    same = bool(type(value) is type(default) and value == default)
                except (TypeError, ValueError):  # arrays and the like: not equal
                    same = False
            if not same:
                changed.append(f"{key}={value!r}")
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_tags__(self) -> Any:
        """scikit-learn's default tags (``BaseEstimator.__sklearn_tags__``)."""
        from sklearn.utils import Tags, TargetTags

        return Tags(
            estimator_type=None,
            target_tags=TargetTags(required=False),
            transformer_tags=None,
            regressor_tags=None,
            classifier_tags=None,
        )


class ClassifierMixin:
    """``sklearn.base.ClassifierMixin``: classifier tags and accuracy as ``score``."""

    def __sklearn_tags__(self) -> Any:
        """Tags of a classifier: labels required."""
        from sklearn.utils import ClassifierTags

        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags()
        tags.target_tags.required = True
        return tags

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Mean accuracy on (X, y)."""
        from sklearn.metrics import accuracy_score

        return float(accuracy_score(y, self.predict(X), sample_weight=sample_weight))  # type: ignore[attr-defined]


class RegressorMixin:
    """``sklearn.base.RegressorMixin``: regressor tags and R² as ``score``."""

    def __sklearn_tags__(self) -> Any:
        """Tags of a regressor: targets required."""
        from sklearn.utils import RegressorTags

        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.estimator_type = "regressor"
        tags.regressor_tags = RegressorTags()
        tags.target_tags.required = True
        return tags

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R² of the predictions on (X, y)."""
        from sklearn.metrics import r2_score

        return float(r2_score(y, self.predict(X), sample_weight=sample_weight))  # type: ignore[attr-defined]


class TransformerMixin:
    """``sklearn.base.TransformerMixin``: transformer tags and ``fit_transform``."""

    def __sklearn_tags__(self) -> Any:
        """Tags of a transformer."""
        from sklearn.utils import TransformerTags

        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.transformer_tags = TransformerTags()
        return tags

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        """``fit(X, y)`` then ``transform(X)``."""
        return self.fit(X, y, **fit_params).transform(X)  # type: ignore[attr-defined]


class ClusterMixin:
    """``sklearn.base.ClusterMixin``: clusterer tags and ``fit_predict``."""

    def __sklearn_tags__(self) -> Any:
        """Tags of a clusterer."""
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.estimator_type = "clusterer"
        if tags.transformer_tags is not None:
            tags.transformer_tags.preserves_dtype = []
        return tags

    def fit_predict(self, X: Any, y: Any = None, **kwargs: Any) -> np.ndarray:
        """``fit(X)`` and the cluster of each training point."""
        self.fit(X, **kwargs)  # type: ignore[attr-defined]
        return self.labels_  # type: ignore[attr-defined]


class available_if:
    """A method that exists only when ``check(self)`` holds (as scikit-learn's ``available_if``).

    ``hasattr(estimator, name)`` is then False otherwise, as scikit-learn's tools expect
    (e.g. ``predict_proba`` of an SGD classifier exists only with the log loss).
    """

    def __init__(self, check: Any) -> None:
        self.check = check
        self.fn: Any = None

    def __call__(self, fn: Any) -> available_if:
        """Wrap ``fn`` (used as a decorator)."""
        self.fn = fn
        functools.update_wrapper(self, fn)
        return self

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self.fn
        if not self.check(obj):
            raise AttributeError(
                f"This {type(obj).__name__!r} has no attribute {self.fn.__name__!r}"
            )
        return types.MethodType(self.fn, obj)


def validate_data(estimator: Any, *args: Any, **kwargs: Any) -> Any:
    """``sklearn.utils.validation.validate_data`` (imported on first use)."""
    from sklearn.utils.validation import validate_data as validate

    return validate(estimator, *args, **kwargs)


def check_is_fitted(estimator: Any) -> None:
    """``sklearn.utils.validation.check_is_fitted`` (imported on first use)."""
    from sklearn.utils.validation import check_is_fitted as check

    check(estimator)


def check_classification_targets(y: Any) -> None:
    """``sklearn.utils.multiclass.check_classification_targets`` (imported on first use)."""
    from sklearn.utils.multiclass import check_classification_targets as check

    check(y)


# ------------------------------------------------------------------ shared helpers


def each_problem(solve: Any, args: tuple[Any, ...], axes: tuple[int | None, ...]) -> Any:
    """``jax.vmap(solve, axes)(*args)`` as NumPy arrays, the problems first.

    ``args`` with an axis are NumPy arrays of the problems' data (converted by
    :func:`as_jax`); the others are passed as they are. One problem (a binary
    classifier) is solved without ``vmap``: batching a solver's while loops is traced
    anew for each shape (1.2 s of a 2.6 s LinearSVC fit on a new shape here).
    """
    first = next(i for i, ax in enumerate(axes) if ax is not None)
    if np.shape(args[first])[axes[first]] == 1:
        one = (
            a if ax is None else as_jax(np.take(a, 0, axis=ax))
            for a, ax in zip(args, axes, strict=True)
        )
        return jax.tree.map(lambda v: np.asarray(v)[None], solve(*one))
    every = (a if ax is None else as_jax(a) for a, ax in zip(args, axes, strict=True))
    return jax.tree.map(np.asarray, jax.vmap(solve, in_axes=axes)(*every))


def random_key(random_state: Any) -> jax.Array:
    """A ``jax.random.key`` from a scikit-learn ``random_state`` (None, int or RandomState)."""
    from sklearn.utils import check_random_state

    return jax.random.key(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def as_jax(X: np.ndarray) -> jnp.ndarray:
    """X in JAX's default float type (float32, or float64 under x64); see :func:`on_device`."""
    return on_device(X)


def check_int(value: Any, name: str, low: int, high: float = np.inf, high_name: str = "") -> int:
    """Return ``value`` if it is an integer in [low, high], else raise naming ``name``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or not low <= value <= high
    ):
        top = f"{high_name} = {high}" if high_name else f"{high}"
        bound = f"in [{low}, {top}]" if np.isfinite(high) else f">= {low}"
        raise ValueError(f"{name} must be an integer {bound}; got {value!r}")
    return int(value)


def check_scale(a: np.ndarray, name: str) -> None:
    """Refuse values whose squares the float type in use cannot represent.

    Sums of squares (‖x‖², squared losses, distances) overflow to inf or underflow
    to 0 there, and the fit would silently return NaN or zero coefficients.
    """
    info = np.finfo(float_dtype())
    # max and min, not max(abs(a)): no temporary copy (0.046 s → 0.021 s on 400 MB here)
    big = max(float(np.max(a)), -float(np.min(a))) if np.size(a) else 0.0
    if big == 0.0:
        return
    width = a.shape[1] if np.ndim(a) == 2 else 1
    hint = (
        "rescale it (e.g. sklearn.preprocessing.StandardScaler) or run JAX in float64 "
        "(JAX_ENABLE_X64=1)"
    )
    if big * big * width > float(info.max) / 16:
        raise ValueError(
            f"{name} has values up to {big:.3g}: their squares overflow {info.dtype} "
            f"arithmetic; {hint}"
        )
    if big * big < float(info.tiny) * 1e6:
        raise ValueError(
            f"{name} has no value larger than {big:.3g}: their squares underflow {info.dtype} "
            f"arithmetic; {hint}"
        )


class Standardiser(NamedTuple):
    """Centre and scale of the columns of X: fitting runs on (X − mean)/scale.

    For a linear model with an unpenalised intercept this is an exact change of
    variables: w = w̃/scale and b = b̃ − wᵀmean, with the penalty (α/2)‖w‖² written
    as (α/2) Σ (w̃_j/scale_j)², so the optimum is the same, reached on a problem
    whose conditioning does not depend on the data's units.
    """

    mean: np.ndarray
    scale: np.ndarray
    #: mean over rows of ‖(x − mean)/scale‖² (d for centred data without constant columns)
    mean_square: float = float("nan")

    @classmethod
    def of(cls, X: np.ndarray, centre: bool = True) -> Standardiser:
        """The centre (0 if ``centre`` is False) and sd (1 for constant columns) of X."""
        column_mean = X.mean(axis=0)
        sd = X.std(axis=0)
        mean = column_mean if centre else np.zeros(X.shape[1])
        scale = np.where(sd > 0, sd, 1.0)
        mean_square = float(np.sum((sd**2 + (column_mean - mean) ** 2) / scale**2))
        return cls(mean, scale, mean_square)

    def transform(self, X: np.ndarray) -> np.ndarray:
        """(X − mean)/scale."""
        return (X - self.mean) / self.scale

    def weights(self, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Coefficients (…, d) and intercepts (…) of the scaled problem in the user's units."""
        w = np.asarray(w, dtype=np.float64) / self.scale
        return w, np.asarray(b, dtype=np.float64) - w @ self.mean


def warn_unconverged(estimator: Any, what: str, depth: int = 1) -> None:
    """Warn with scikit-learn's ``ConvergenceWarning``, pointing at the caller of ``fit``.

    ``depth`` counts the estimator's own frames between ``fit`` and this function.
    """
    from sklearn.exceptions import ConvergenceWarning

    warnings.warn(
        f"{type(estimator).__name__}: {what}; the estimate is not at its optimum "
        "(see converged_). Consider increasing max_iter.",
        ConvergenceWarning,
        stacklevel=2 + depth,
    )


def binary_targets(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """classes_ and the ±1 target columns: one for two classes, one per class (one-vs-rest)."""
    check_classification_targets(y)
    classes = np.unique(y)
    if len(classes) < 2:
        raise ValueError(f"y has only one class ({classes[0]!r}): need at least 2 classes")
    positive = classes[1:] if len(classes) == 2 else classes
    return classes, np.where(y[:, None] == positive[None, :], 1.0, -1.0)


def predict_from_scores(estimator: Any, X: Any) -> np.ndarray:
    """Sign of the score for two classes, else the class with the largest score."""
    scores = estimator.decision_function(X)  # checks that it is fitted
    classes = estimator.classes_
    if len(classes) == 2:
        return classes[(scores.ravel() > 0).astype(int)]
    return classes[np.argmax(scores, axis=1)]


def check_C(C: Any) -> float:
    """The regularisation constant C as a float, finite and > 0."""
    return check_positive(C, "C")


def sample_weights(sample_weight: Any, n: int) -> np.ndarray:
    """One finite, non-negative float64 weight per example: 1 each for None, a number for all.

    A new array: the caller's ``sample_weight`` is never changed.
    """
    if sample_weight is None:
        return np.ones(n)
    if isinstance(sample_weight, numbers.Real) and not isinstance(sample_weight, bool):
        w = np.full(n, float(sample_weight))
    else:
        w = np.array(sample_weight, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"sample_weight.shape == {w.shape}, expected ({n},)!")
    if not np.all(np.isfinite(w)):
        raise ValueError("sample_weight must be finite")
    if np.any(w < 0):
        raise ValueError("Negative values in data passed to sample_weight")
    if not np.any(w):
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return w


def example_weights(
    y: np.ndarray,
    classes: np.ndarray,
    class_weight: Any,
    sample_weight: Any,
    X: np.ndarray,
    weighted_balance: bool = False,
) -> np.ndarray:
    """Each example's weight: its sample weight times its class's weight (scikit-learn's rule).

    ``class_weight`` is None, "balanced" (n / (n_classes · n_c)) or a dict class →
    weight; ``sample_weight`` None or one non-negative number per example. With
    ``weighted_balance`` the balanced counts n and n_c are sums of sample weights
    (scikit-learn's LinearSVC does so; its SVC and SGD count examples).
    """
    from sklearn.utils.class_weight import compute_class_weight

    weights = sample_weights(sample_weight, len(X))
    if class_weight is not None:
        by = {"sample_weight": sample_weight} if weighted_balance else {}
        per_class = compute_class_weight(class_weight, classes=classes, y=y, **by)
        weights = weights * per_class[np.searchsorted(classes, y)]
    kept = np.unique(y[weights > 0])
    if len(classes) > 1 and len(kept) < 2:  # a classifier's (a regressor passes no classes)
        raise ValueError(
            f"sample_weight: every example with a positive weight is of class {kept[0]!r}; "
            "a classifier needs two classes"
        )
    return weights
