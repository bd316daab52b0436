"""scikit-learn's ``SGDClassifier`` and ``SGDRegressor`` in JAX (Deep Learning §5.9, eq. 5.99).

The classes take scikit-learn's parameters, defaults and meanings, and run its plain
SGD step for step (:mod:`~freqbayes.inference.learners.plain_sgd`: one example per
step, its losses, penalties, schedules, averaging and stopping rule); ``batch_size``
(not scikit-learn's) gives the book's minibatches (eq. 5.98). They are exported from
:mod:`freqbayes.inference.learners.sgd`, beside the lessons' minibatch solver.

Longer than 400 lines: two classes, their shared parameter checks and the NumPy-style
docstrings of scikit-learn's 20 parameters.
"""

from __future__ import annotations

import numbers
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from freqbayes.inference.buckets import pad_rows
from freqbayes.inference.learners import plain_sgd
from freqbayes.inference.learners.base import (
    ClassifierMixin,
    Estimator,
    RegressorMixin,
    Standardiser,
    as_jax,
    available_if,
    binary_targets,
    check_int,
    check_is_fitted,
    check_scale,
    example_weights,
    predict_from_scores,
    validate_data,
    warn_unconverged,
)


def _int32(a: Any) -> jax.Array:
    """``a`` as int32 on the device, converted on the host (no conversion program)."""
    return jax.device_put(np.asarray(a, dtype=np.int32))


def _store(estimator: Estimator, params: dict[str, Any]) -> None:
    """Keep every ``__init__`` argument unchanged under its own name (scikit-learn's rule)."""
    for name, value in params.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


def _number(value: Any, name: str, low: float, high: float = np.inf, *, open_low: bool = False):
    """``value`` as a float if it is a real number in its range, else a one-line error."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok and (low < value if open_low else low <= value) and value <= high:
        return float(value)
    side = ">" if open_low else ">="
    bound = f"a number {side} {low}" + (f" and <= {high}" if np.isfinite(high) else "")
    raise ValueError(f"{name} must be {bound}; got {value!r}")


class _SGDBase(Estimator):
    """Shared parameters and fitting of the SGD classes (§5.9): scikit-learn's plain SGD."""

    _losses: tuple[str, ...] = ()
    _classify = False

    def _check_params(self, partial: bool) -> dict[str, Any]:
        """scikit-learn's parameter rules, each broken one named in one line."""
        if self.loss not in self._losses:
            raise ValueError(f"loss must be one of {self._losses}; got {self.loss!r}")
        if self.penalty not in plain_sgd.PENALTIES:
            raise ValueError(
                f"penalty must be 'l2', 'l1', 'elasticnet' or None; got {self.penalty!r}"
            )
        if self.learning_rate not in plain_sgd.SCHEDULES:
            raise ValueError(
                f"learning_rate must be one of {plain_sgd.SCHEDULES}; got {self.learning_rate!r}"
            )
        alpha = _number(self.alpha, "alpha", 0.0)
        if self.learning_rate == "optimal" and alpha == 0:
            raise ValueError(
                "alpha must be > 0 since learning_rate is 'optimal' (it sets the step)"
            )
        if self.learning_rate in ("pa1", "pa2"):
            need = "hinge" if self._classify else "epsilon_insensitive"
            if self.loss != need:
                raise ValueError(
                    f"learning_rate {self.learning_rate!r} only works with loss {need!r}"
                )
        if self.penalty == "elasticnet" and self.l1_ratio is None:
            raise ValueError("l1_ratio must be set when penalty is 'elasticnet'")
        ratio = 0.0 if self.l1_ratio is None else _number(self.l1_ratio, "l1_ratio", 0.0, 1.0)
        ratio = {None: 0.0, "l2": 0.0, "l1": 1.0}.get(self.penalty, ratio)
        average = self.average
        if isinstance(average, bool) or isinstance(average, np.bool_):
            average = int(bool(average))
        else:
            average = check_int(average, "average", 1)
        if self.tol is not None:
            _number(self.tol, "tol", 0.0)
        if self.early_stopping and partial:
            raise ValueError("early_stopping should be False with partial_fit")
        return {
            "alpha": alpha,
            "ratio": ratio,
            "average": average,
            "eta0": _number(self.eta0, "eta0", 0.0, open_low=True),
            "power_t": _number(self.power_t, "power_t", -np.inf),
            "epsilon": _number(self.epsilon, "epsilon", 0.0),
            "fraction": _number(
                self.validation_fraction, "validation_fraction", 0.0, 1.0, open_low=True
            ),
            "max_iter": 1 if partial else check_int(self.max_iter, "max_iter", 1),
            "n_iter_no_change": check_int(self.n_iter_no_change, "n_iter_no_change", 1),
            "batch_size": check_int(self.batch_size, "batch_size", 1),
        }

    def _validation_split(self, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """The held-out rows of early stopping: scikit-learn's own split (same random_state)."""
        from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

        split = StratifiedShuffleSplit if self._classify else ShuffleSplit
        cv = split(test_size=self.validation_fraction, random_state=self.random_state)
        train, held = next(cv.split(np.zeros((len(y), 1)), y))
        if len(train) == 0 or len(held) == 0:
            raise ValueError(
                f"validation_fraction={self.validation_fraction!r} splits {len(y)} examples "
                f"into {len(train)} and {len(held)}: an empty set; change it or disable "
                "early_stopping"
            )
        if not np.any(weights[held] > 0):
            raise ValueError(
                "the sample weights of the validation set are all zero; use another random_state"
            )
        mask = np.zeros(len(y), bool)
        mask[held] = True
        return mask

    def _solve(
        self,
        X: np.ndarray,
        Y: np.ndarray,
        y: np.ndarray,
        weights: np.ndarray,
        pos_weight: np.ndarray,
        neg_weight: np.ndarray,
        partial: bool,
        coef_init: Any = None,
        intercept_init: Any = None,
        y_centre: float = 0.0,
    ) -> None:
        """Plain SGD (:func:`plain_sgd.run`) on (X − centre)/scale; results in the user's units.

        ``Y`` (n, K): the K problems' targets (±1, or the regressor's y − ``y_centre``).
        ``partial``: one more epoch from the last state (of ``fit`` or ``partial_fit``), in
        that fit's coordinates, as scikit-learn's ``partial_fit`` goes on after ``fit``.
        """
        p = self._check_params(partial)
        check_scale(X, "X")
        going_on = partial and getattr(self, "_sgd_state", None) is not None
        if going_on:
            std = self._standardiser
        else:
            std = Standardiser.of(X, centre=bool(self.fit_intercept))
        K, d = Y.shape[1], X.shape[1]
        if going_on:
            W, b, Wa, ba, t = self._sgd_state
        else:
            W, b = np.zeros((K, d)), np.zeros(K)
            if coef_init is not None or intercept_init is not None:
                W, b = self._start(coef_init, intercept_init, std, K, d, y_centre)
            Wa, ba, t = np.zeros((K, d)), np.zeros(K), 1
        held = np.zeros(len(Y), bool)
        if self.early_stopping:
            held = self._validation_split(y, weights)
        from sklearn.utils import check_random_state

        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        # rows padded to their shape bucket with weightless rows that are never a step
        n_fit = int(np.sum(~held))
        rows = plain_sgd.padded_size(n_fit, p["batch_size"])
        Xs = std.transform(X)

        def padded(a: np.ndarray, n: int) -> jnp.ndarray:
            return as_jax(pad_rows(a, n))

        M = padded(np.ones(n_fit), rows)
        hv = plain_sgd.padded_size(int(np.sum(held))) if self.early_stopping else 0
        alpha = p["alpha"] if self.penalty is not None else 0.0
        h = plain_sgd.Hyper(
            *(
                as_jax(v)
                for v in (
                    p["alpha"],
                    alpha * (1 - p["ratio"]) / std.scale**2,
                    alpha * p["ratio"] / std.scale,
                    p["eta0"],
                    p["power_t"],
                    p["epsilon"],
                    -np.inf if self.tol is None else float(self.tol),
                    plain_sgd.optimal_init(self.loss, p["alpha"], p["epsilon"])
                    if self.learning_rate == "optimal"
                    else 1.0,
                )
            ),
            _int32(max(p["average"], 1)),
            _int32(p["n_iter_no_change"]),
            as_jax(pos_weight),
            as_jax(neg_weight),
        )
        settings = plain_sgd.Settings(
            loss=self.loss,
            schedule=self.learning_rate,
            l1=bool(alpha > 0 and p["ratio"] > 0),
            batch_size=p["batch_size"],
            fit_intercept=bool(self.fit_intercept),
            shuffle=bool(self.shuffle),
            early_stopping=bool(self.early_stopping),
            average=p["average"] > 0,
            classify=self._classify,
            max_iter=p["max_iter"],
        )
        state = plain_sgd.State(*(as_jax(a) for a in (W, b, Wa, ba)), _int32(t))
        out = plain_sgd.run.for_rows(rows)(
            state,
            padded(Xs[~held], rows),
            padded(Y[~held], rows),
            padded(weights[~held], rows),
            M,
            padded(Xs[held], hv),
            padded(Y[held], hv),
            padded(weights[held], hv),
            h,
            _int32(p["max_iter"]),
            _int32(plain_sgd.permutations(seed, K, n_fit, rows)),
            settings=settings,
        )
        n_iter = np.asarray(out.n_iter)
        epochs = int(n_iter.max())
        if not bool(out.finite):
            raise ValueError(
                f"SGD diverged (weights not finite by epoch {epochs}): lower eta0, or use "
                "learning_rate='optimal' or 'invscaling'"
            )
        st = jax.tree.map(np.asarray, out.state)
        self._standardiser = std
        self._sgd_state = (st.W, st.b, st.W_avg, st.b_avg, int(st.t))
        # scikit-learn's t_ counts the held-out rows too (its loop skips them without a step)
        self.t_ = float(st.t) + epochs * int(np.sum(held))
        use_avg = p["average"] > 0 and p["average"] <= self.t_ - 1
        coef, intercept = std.weights(st.W_avg, st.b_avg) if use_avg else std.weights(st.W, st.b)
        self.coef_ = coef.astype(X.dtype)  # as scikit-learn: X's dtype; intercept_ float64
        self.intercept_ = intercept + y_centre
        curve = np.asarray(out.curve, dtype=np.float64)[: epochs + 1]
        self.n_iter_ = epochs  # this call's, as scikit-learn's (partial_fit: 1)
        self.loss_curve_ = curve if not going_on else np.r_[self.loss_curve_, curve[1:]]
        tol_on = self.tol is not None and not partial
        self.converged_ = bool(epochs < p["max_iter"]) if tol_on else None
        self.grad_norm_ = np.asarray(out.grad_norm)
        if self.verbose:
            for epoch, J in enumerate(curve[1:], 1):
                print(f"-- Epoch {epoch}: J = {np.array2string(J, precision=6)}")
        if self.converged_ is False:
            warn_unconverged(
                self,
                f"the stopping rule (tol, n_iter_no_change) did not fire in {epochs} epochs",
                2,
            )

    def _start(self, coef: Any, intercept: Any, std: Standardiser, K: int, d: int, y_centre: float):
        """``coef_init``/``intercept_init`` (user units) in the fitting coordinates."""
        W = np.zeros((K, d)) if coef is None else np.asarray(coef, dtype=np.float64).reshape(-1, d)
        b = np.zeros(K) if intercept is None else np.asarray(intercept, np.float64).reshape(-1)
        if W.shape != (K, d) or b.shape != (K,):
            raise ValueError(
                f"coef_init must have shape {(K, d)} and intercept_init {(K,)}; "
                f"got {np.shape(coef)} and {np.shape(intercept)}"
            )
        b = b - y_centre + W @ std.mean
        return W * std.scale, b

    def _warm(self, coef_init: Any, intercept_init: Any) -> tuple[Any, Any]:
        """``warm_start``: start from the last fit's coef_ and intercept_ unless given."""
        if self.warm_start and hasattr(self, "coef_"):
            coef_init = self.coef_ if coef_init is None else coef_init
            intercept_init = self.intercept_ if intercept_init is None else intercept_init
        return coef_init, intercept_init

    def _decision(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return X @ self.coef_.T + self.intercept_


_PARAMETERS = """
    penalty : {"l2", "l1", "elasticnet"} or None
        Regulariser: α((1 − ρ)/2 ‖w‖² + ρ‖w‖₁), ρ = 0 for "l2", 1 for "l1", ``l1_ratio``
        for "elasticnet"; None: none (α still sets the "optimal" step).
    alpha : float
        α above (weight decay, eq. 5.96 plus L2) and, for "optimal", η_t = 1/(α(t₀ + t − 1)).
    l1_ratio : float
        ρ of the elastic net.
    fit_intercept : bool
        Learn an (unpenalised) intercept.
    max_iter : int
        Maximum epochs (passes over the data).
    tol : float or None
        Stop when the epoch's mean objective has not fallen below the best − ``tol`` (or,
        with ``early_stopping``, the held-out score not risen above the best + ``tol``) for
        ``n_iter_no_change`` epochs in a row; None: run ``max_iter`` epochs.
    shuffle : bool
        Shuffle the rows before each epoch.
    verbose : int
        > 0: print J after each epoch when the fit ends.
    epsilon : float
        Width of the "huber", "epsilon_insensitive" and "squared_epsilon_insensitive" losses.
    random_state : None, int or RandomState
        Seed of the shuffles (and of the early-stopping split, as scikit-learn's).
    learning_rate : {"optimal", "constant", "invscaling", "adaptive", "pa1", "pa2"}
        η_t: 1/(α(t₀ + t − 1)) with Bottou's t₀; η₀; η₀/t^power_t; η₀ divided by 5 each
        time the stopping rule fires; passive-aggressive I and II (eta0 = their C).
    eta0 : float
        η₀ of the "constant", "invscaling" and "adaptive" schedules.
    power_t : float
        Exponent of "invscaling".
    early_stopping : bool
        Hold out ``validation_fraction`` of the rows (stratified for a classifier) and
        stop on their score (accuracy or R²).
    validation_fraction : float
        See ``early_stopping``.
    n_iter_no_change : int
        See ``tol``.
    warm_start : bool
        ``fit`` starts from the last fit's ``coef_`` and ``intercept_``.
    average : bool or int
        Averaged SGD: ``coef_`` is the mean of the iterates from step ``average`` on
        (True: from the first).
    batch_size : int
        Not scikit-learn's: examples per step m′ (eq. 5.98); each step averages their
        updates. Default 1, scikit-learn's plain SGD.
"""

_NOTES = """
    Notes
    -----
    Every parameter scikit-learn's class has means what it means there, with its default,
    and the algorithm is its plain SGD step for step
    (:mod:`~freqbayes.inference.learners.plain_sgd`).
    Two differences, both exact for the objective: the features are centred and scaled
    internally (:class:`Standardiser`; the penalty is written in those coordinates, so α
    means the same in the data's units and raw columns fit as well as standardised ones;
    ``eta0`` is the step in those coordinates); and the random permutation is NumPy's
    ``default_rng`` from the seed (:func:`.plain_sgd.permutations`), so a seed gives
    another order than scikit-learn's (with ``shuffle=False`` the two agree to
    rounding). As in scikit-learn, each epoch permutes the last epoch's order by the same
    σ (orders σ, σ², …: its in-place shuffle with one seed), each one-vs-rest problem
    with its own σ.
"""


class SGDClassifier(ClassifierMixin, _SGDBase):
    """Linear classifier fitted by SGD (§5.9): scikit-learn's ``SGDClassifier`` in JAX.

    Parameters
    ----------
    loss : str
        "hinge" (linear SVM, the default), "log_loss" (logistic regression), "modified_huber",
        "squared_hinge", "perceptron", or a regression loss ("squared_error", "huber",
        "epsilon_insensitive", "squared_epsilon_insensitive") on ±1 targets.
    n_jobs : None or int
        Accepted for scikit-learn's signature; every one-vs-rest problem is fitted at once.
    class_weight : None, "balanced" or dict
        Multiplies the positive class's examples' updates in each problem (one-vs-rest:
        the negatives weigh 1), as scikit-learn's.
    %(parameters)s

    Attributes
    ----------
    coef_ : ndarray (1, d) or (n_classes, d)
        One-vs-rest weights (one row for two classes).
    intercept_ : ndarray (1,) or (n_classes,)
    classes_ : ndarray
    n_iter_ : int
        Epochs run by the last call (the most over the one-vs-rest problems; 1 after
        ``partial_fit``, as scikit-learn's).
    t_ : float
        1 + steps taken (the schedules' t).
    loss_curve_ : ndarray (epochs + 1, n_problems)
        Full cost J (eq. 5.96, sample and class weights included) at the start and after
        each epoch.
    converged_ : bool or None
        Whether the stopping rule fired before ``max_iter`` (None when ``tol`` is None);
        False also raises scikit-learn's ``ConvergenceWarning``.
    grad_norm_ : ndarray (n_problems,)
        ‖∇J‖ at the end (on the standardised problem; a subgradient for kinked losses).

    %(notes)s
    """

    _losses = plain_sgd.CLASSIFICATION + plain_sgd.REGRESSION
    _classify = True

    def __init__(
        self,
        loss: str = "hinge",
        *,
        penalty: str | None = "l2",
        alpha: float = 0.0001,
        l1_ratio: float | None = 0.15,
        fit_intercept: bool = True,
        max_iter: int = 1000,
        tol: float | None = 1e-3,
        shuffle: bool = True,
        verbose: int = 0,
        epsilon: float = 0.1,
        n_jobs: int | None = None,
        random_state: Any = None,
        learning_rate: str = "optimal",
        eta0: float = 0.01,
        power_t: float = 0.5,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 5,
        class_weight: Any = None,
        warm_start: bool = False,
        average: bool | int = False,
        batch_size: int = 1,
    ) -> None:
        _store(self, locals())

    def fit(
        self, X: Any, y: Any, coef_init: Any = None, intercept_init: Any = None,
        sample_weight: Any = None,
    ) -> SGDClassifier:  # fmt: skip
        """Fit the one-vs-rest linear models, all problems at once.

        ``coef_init`` (n_classes or 1, d) and ``intercept_init`` start the fit there;
        ``sample_weight`` weighs each example's update, as scikit-learn's.
        """
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        self.classes_, Y = binary_targets(y)
        for name in ("_sgd_state", "n_iter_"):
            self.__dict__.pop(name, None)
        coef_init, intercept_init = self._warm(coef_init, intercept_init)
        self._fit_classes(X, y, Y, sample_weight, False, coef_init, intercept_init)
        return self

    def partial_fit(
        self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None
    ) -> SGDClassifier:
        """One epoch on (X, y) from where the last fit stopped (out-of-core data).

        ``classes`` (every class there will be) is required on the first call, as in
        scikit-learn; after ``fit`` it goes on from the fitted model (its step t too).
        The first call fixes the standardisation.
        """
        first = getattr(self, "_sgd_state", None) is None
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], reset=first)
        if first:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit")
            if self.class_weight == "balanced":
                raise ValueError(
                    "class_weight 'balanced' needs every class's count: pass the weights "
                    "as a dict (sklearn.utils.class_weight.compute_class_weight) to partial_fit"
                )
            self.classes_ = np.unique(np.asarray(classes))
            if len(self.classes_) < 2:
                raise ValueError("classes: need at least 2 classes")
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"classes {classes!r} differ from the first call's {self.classes_}")
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if unseen.size:
            raise ValueError(f"y has classes not in classes: {unseen.tolist()}")
        positive = self.classes_[1:] if len(self.classes_) == 2 else self.classes_
        Y = np.where(y[:, None] == positive[None, :], 1.0, -1.0)
        self._fit_classes(X, y, Y, sample_weight, True)
        return self

    def _fit_classes(
        self, X: np.ndarray, y: np.ndarray, Y: np.ndarray, sample_weight: Any, partial: bool,
        coef_init: Any = None, intercept_init: Any = None,
    ) -> None:  # fmt: skip
        from sklearn.utils.class_weight import compute_class_weight

        weights = example_weights(y, self.classes_, None, sample_weight, X)
        per_class = compute_class_weight(self.class_weight, classes=self.classes_, y=y)
        if len(self.classes_) == 2:
            pos, neg = per_class[1:], per_class[:1]
        else:
            pos, neg = per_class, np.ones(len(per_class))
        self._solve(X, Y, y, weights, pos, neg, partial, coef_init, intercept_init)

    def decision_function(self, X: Any) -> np.ndarray:
        """η = Xwᵀ + b: (n,) for two classes, (n, n_classes) otherwise."""
        scores = self._decision(X)
        return scores[:, 0] if len(self.classes_) == 2 else scores

    def predict(self, X: Any) -> np.ndarray:
        """The class with the largest score (sign of η for two classes)."""
        return predict_from_scores(self, X)

    @available_if(lambda self: self.loss in ("log_loss", "modified_huber"))
    def predict_proba(self, X: Any) -> np.ndarray:
        """log_loss: σ(η) per class; modified_huber: (clip(η, −1, 1) + 1)/2, as scikit-learn's.

        One-vs-rest scores are normalised to sum to 1 (all zero: uniform).
        """
        scores = self._decision(X)
        if self.loss == "log_loss":
            p = np.exp(-np.logaddexp(0.0, -scores))  # σ(η) without overflow
        else:
            p = (np.clip(scores, -1.0, 1.0) + 1.0) / 2.0
        if len(self.classes_) == 2:
            return np.column_stack([1 - p[:, 0], p[:, 0]])
        total = p.sum(axis=1, keepdims=True)
        zero = total[:, 0] == 0
        p = p / np.where(total == 0, 1.0, total)
        p[zero] = 1.0 / len(self.classes_)
        return p

    @available_if(lambda self: self.loss in ("log_loss", "modified_huber"))
    def predict_log_proba(self, X: Any) -> np.ndarray:
        """log of :meth:`predict_proba`."""
        return np.log(self.predict_proba(X))


class SGDRegressor(RegressorMixin, _SGDBase):
    """Linear regression fitted by SGD (§5.9): scikit-learn's ``SGDRegressor`` in JAX.

    Parameters
    ----------
    loss : {"squared_error", "huber", "epsilon_insensitive", "squared_epsilon_insensitive"}
        Per-example loss of the residual (default: ½(y − η)², least squares).
    %(parameters)s

    Attributes
    ----------
    coef_ : ndarray (d,)
    intercept_ : ndarray (1,)
    n_iter_, t_, loss_curve_, converged_, grad_norm_
        As :class:`SGDClassifier`'s (one problem).

    %(notes)s
    The outcome is centred internally too (the intercept starts at the mean of y).
    """

    _losses = plain_sgd.REGRESSION

    def __init__(
        self,
        loss: str = "squared_error",
        *,
        penalty: str | None = "l2",
        alpha: float = 0.0001,
        l1_ratio: float | None = 0.15,
        fit_intercept: bool = True,
        max_iter: int = 1000,
        tol: float | None = 1e-3,
        shuffle: bool = True,
        verbose: int = 0,
        epsilon: float = 0.1,
        random_state: Any = None,
        learning_rate: str = "invscaling",
        eta0: float = 0.01,
        power_t: float = 0.25,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 5,
        warm_start: bool = False,
        average: bool | int = False,
        batch_size: int = 1,
    ) -> None:
        _store(self, locals())

    def fit(
        self, X: Any, y: Any, coef_init: Any = None, intercept_init: Any = None,
        sample_weight: Any = None,
    ) -> SGDRegressor:  # fmt: skip
        """Fit w and b by SGD on (1/m) Σ s_i L(y_i − η_i) + penalty."""
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], y_numeric=True)
        for name in ("_sgd_state", "n_iter_"):
            self.__dict__.pop(name, None)
        coef_init, intercept_init = self._warm(coef_init, intercept_init)
        return self._fit_outcome(X, y, sample_weight, False, coef_init, intercept_init)

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> SGDRegressor:
        """One epoch on (X, y) from where the last fit stopped.

        The first call fixes the standardisation of X and the centre of y.
        """
        first = getattr(self, "_sgd_state", None) is None
        X, y = validate_data(
            self, X, y, dtype=[np.float64, np.float32], y_numeric=True, reset=first
        )
        return self._fit_outcome(X, y, sample_weight, True)

    def _fit_outcome(
        self, X: np.ndarray, y: Any, sample_weight: Any, partial: bool,
        coef_init: Any = None, intercept_init: Any = None,
    ) -> SGDRegressor:  # fmt: skip
        check_scale(y, "y")
        y = np.asarray(y, dtype=float)
        if partial and getattr(self, "_sgd_state", None) is not None:
            centre = self._y_centre
        else:
            centre = float(y.mean()) if self.fit_intercept else 0.0
            self._y_centre = centre
        weights = example_weights(y, np.zeros(0), None, sample_weight, X)
        ones = np.ones(1)
        Y = (y - centre)[:, None]
        self._solve(X, Y, y, weights, ones, ones, partial, coef_init, intercept_init, centre)
        self.coef_ = self.coef_[0]
        return self

    def predict(self, X: Any) -> np.ndarray:
        """η = Xw + b."""
        return self._decision(X)


SGDClassifier.__doc__ = (SGDClassifier.__doc__ or "") % {
    "parameters": _PARAMETERS.strip(),
    "notes": _NOTES.strip(),
}
SGDRegressor.__doc__ = (SGDRegressor.__doc__ or "") % {
    "parameters": _PARAMETERS.strip().replace('{"optimal", ', '{"invscaling", "optimal", '),
    "notes": _NOTES.strip(),
}
