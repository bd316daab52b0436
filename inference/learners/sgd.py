"""Minibatch stochastic gradient descent for linear models (Deep Learning §5.9).

The cost is the mean per-example loss plus weight decay (eq. 5.96),

    J(θ) = (1/m) Σ_i L(x_i, y_i, θ) + (α/2)‖w‖²,

its minibatch estimate (eq. 5.98) is g = (1/m′) ∇_θ Σ_{i∈B} L(x_i, y_i, θ) + αw
with m′ = ``batch_size`` (default 128, in the book's 100–300), and the update is
θ ← θ − ε g. Written in JAX (not ``optax.sgd``): one jitted ``epoch`` scans the
minibatches; a host loop over epochs gives the progress bar and early stopping.

Shuffling: the rows are shuffled once, then every epoch visits the contiguous
minibatches in a new random order. A full row permutation per epoch would cost
more than the epoch itself (a permutation of n indices plus a gather of all of X),
while permuting the ≈ n/m′ minibatch indices is almost free and keeps every read
contiguous.

Longer than 400 lines: one family — the solver (``init``/``epoch``) and the two
scikit-learn-style classes that share it and its input checks.
"""

from __future__ import annotations

import functools
import numbers
import sys
import time
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from freqbayes.inference.learners._sklearn import (
    ClassifierMixin,
    Estimator,
    RegressorMixin,
    Standardiser,
    available_if,
    binary_targets,
    check_int,
    check_is_fitted,
    check_scale,
    example_weights,
    predict_from_scores,
    random_key,
    validate_data,
    warn_unconverged,
)
from freqbayes.models.learners.objectives import LOSSES, l2_penalty

SCHEDULES = ("constant", "inverse", "cosine")

Params = tuple[jnp.ndarray, jnp.ndarray]


class SGDState(NamedTuple):
    """State of SGD.

    Attributes
    ----------
    params : (w, b)
        Weights (d,) and intercept ().
    step : array () int
        Updates made so far (t in the schedules).
    key : jax.Array
        Key for the next epoch's minibatch order.
    """

    params: Params
    step: jnp.ndarray
    key: jax.Array


class SGDResult(NamedTuple):
    """Outcome of :func:`fit`.

    Attributes
    ----------
    params : (w, b)
        Final parameters (with a leading problem axis when several are fitted at once).
    trajectory : (w, b)
        Parameters after each epoch, epoch 0 being the start (leading axis: epoch).
    losses : ndarray (epochs + 1, ...)
        Full cost J(θ) (eq. 5.96, with weight decay) after each epoch.
    n_epochs : int
        Epochs run (early stopping may end before ``max_epochs``).
    seconds : ndarray (epochs + 1,)
        Wall time since the start at each entry of ``losses`` (0 at the start;
        the first epoch includes compilation unless it was compiled before).
    grad_norm : ndarray (...)
        ‖∇J(θ)‖ on the full data at the final parameters, per problem.
    state : SGDState
        The final state (``fit(..., start=state)`` goes on from it: ``partial_fit``).
    """

    params: Params
    trajectory: Params
    losses: np.ndarray
    n_epochs: int
    seconds: np.ndarray
    grad_norm: np.ndarray
    state: SGDState


def cost(
    loss: str,
    params: Params,
    X: jnp.ndarray,
    y: jnp.ndarray,
    weight: jnp.ndarray,
    alpha: float,
    sample: jnp.ndarray | None = None,
) -> jnp.ndarray:
    """J(θ) = (1/m) Σ_i s_i L_i + (α/2)‖w‖² (eq. 5.96, with sample weights s_i).

    ``weight`` marks the rows (1 real, 0 padding; m = Σ weight); ``sample`` holds the
    sample weights s_i (scikit-learn's: × class weight), 1 when None.
    """
    per_example = jax.vmap(LOSSES[loss], in_axes=(None, 0, 0))(params, X, y)
    if sample is not None:
        per_example = sample * per_example
    return jnp.sum(weight * per_example) / jnp.sum(weight) + l2_penalty(params, alpha)


def minibatch_gradient(
    loss: str,
    params: Params,
    Xb: jnp.ndarray,
    yb: jnp.ndarray,
    wb: jnp.ndarray,
    alpha: float,
    sb: jnp.ndarray | None = None,
) -> Params:
    """Minibatch gradient g = ∇_θ [(1/m′) Σ_{i∈B} s_i L_i + (α/2)‖w‖²] (eq. 5.98)."""
    return jax.grad(functools.partial(cost, loss), argnums=0)(params, Xb, yb, wb, alpha, sb)


@functools.partial(jax.jit, static_argnames=("loss",))
def gradient_norm(
    loss: str,
    params: Params,
    X: jnp.ndarray,
    Y: jnp.ndarray,
    alpha: Any,
    weight: jnp.ndarray,
    sample: jnp.ndarray,
) -> jnp.ndarray:
    """‖∇J(θ)‖ on the full data for each column of ``Y`` (params with a leading problem axis).

    ``weight``: the rows' marks (padding rows 0) and ``sample`` their sample weights,
    as :func:`fit` holds them.
    """

    def one(p: Params, y: jnp.ndarray) -> jnp.ndarray:
        gw, gb = jax.grad(functools.partial(cost, loss), argnums=0)(p, X, y, weight, alpha, sample)
        return jnp.sqrt(jnp.sum(gw * gw) + gb * gb)

    return jax.vmap(one, in_axes=(0, 1))(jax.tree.map(jnp.asarray, params), Y)


def learning_rate(
    schedule: str, eta0: float, t: jnp.ndarray, per_epoch: int, total: int
) -> jnp.ndarray:
    """ε_t: constant ε₀; inverse ε₀ / (1 + t / steps per epoch); cosine ε₀ ½(1 + cos(π t / T))."""
    if schedule == "constant":
        return jnp.asarray(eta0)
    if schedule == "inverse":
        return eta0 / (1.0 + t / per_epoch)
    return eta0 * 0.5 * (1.0 + jnp.cos(jnp.pi * jnp.minimum(t, total) / total))


@functools.partial(jax.jit, static_argnames=("loss", "schedule", "batch_size", "fit_intercept"))
def epoch(
    state: SGDState,
    X: jnp.ndarray,
    y: jnp.ndarray,
    weight: jnp.ndarray,
    sample: jnp.ndarray,
    alpha: float,
    eta0: float,
    total_steps: int,
    *,
    loss: str,
    schedule: str,
    batch_size: int,
    fit_intercept: bool = True,
) -> tuple[SGDState, jnp.ndarray]:
    """One epoch: every minibatch once, in a random order; returns the state and J after it.

    ``X`` has a multiple of ``batch_size`` rows (see :func:`pad`); ``total_steps``
    is T of the cosine schedule. Vectorise over several problems (one-vs-rest
    classes, seeds) with ``jax.vmap``, as :func:`epochs` does.
    """
    n_batches = X.shape[0] // batch_size
    batches = [a.reshape(n_batches, batch_size, *a.shape[1:]) for a in (X, y, weight, sample)]
    key, sub = jax.random.split(state.key)
    order = jax.random.permutation(sub, n_batches)

    def body(
        carry: tuple[Params, jnp.ndarray], b: jnp.ndarray
    ) -> tuple[tuple[Params, jnp.ndarray], None]:
        params, t = carry
        Xb, yb, wb, sb = (a[b] for a in batches)
        gw, gb = minibatch_gradient(loss, params, Xb, yb, wb, alpha, sb)
        if not fit_intercept:
            gb = jnp.zeros_like(gb)
        lr = learning_rate(schedule, eta0, t, n_batches, total_steps)
        w, b0 = params
        return ((w - lr * gw, b0 - lr * gb), t + 1), None

    (params, t), _ = jax.lax.scan(body, (state.params, state.step), order)
    return SGDState(params, t, key), cost(loss, params, X, y, weight, alpha, sample)


@functools.partial(jax.jit, static_argnames=("loss", "schedule", "batch_size", "fit_intercept"))
def epochs(
    state: SGDState,
    X: jnp.ndarray,
    Y: jnp.ndarray,
    weight: jnp.ndarray,
    sample: jnp.ndarray,
    alpha: float,
    eta0: float,
    total_steps: int,
    **settings: Any,
) -> tuple[SGDState, jnp.ndarray]:
    """:func:`epoch` for every column of ``Y`` at once: one ``vmap``, one compilation."""
    one = functools.partial(epoch, **settings)
    in_axes = (0, None, 1, None, None, None, None, None)
    return jax.vmap(one, in_axes=in_axes)(state, X, Y, weight, sample, alpha, eta0, total_steps)


def shuffle_order(n: int, batch_size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row order for :func:`gather_rows` and the row weights.

    The order is a permutation of the n rows padded to a multiple of ``batch_size``
    with row 0; padding rows weigh 0, real rows 1.

    Drawn once, with NumPy, on the host (a one-off cost outside the compiled epochs).
    """
    perm = np.random.default_rng(seed).permutation(n)
    extra = (-n) % batch_size
    order = np.concatenate([perm, np.zeros(extra, perm.dtype)]).astype(np.int32)
    return order, np.r_[np.ones(n), np.zeros(extra)]


@jax.jit
def gather_rows(
    order: jnp.ndarray, X: jnp.ndarray, Y: jnp.ndarray, centre: jnp.ndarray, scale: jnp.ndarray
) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Shuffle, pad and standardise, (X[order] − centre)/scale, in one pass on the device.

    (With the standardised copy made on the host in float64, then converted, a
    one-epoch fit at n = 10⁶, d = 100 took 1.20 s here; with this, 0.57 s.)
    """
    Xs = (jnp.take(X, order, axis=0) - centre.astype(X.dtype)) / scale.astype(X.dtype)
    return Xs, jnp.take(Y, order, axis=0)


def fit(
    key: jax.Array,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    loss: str = "log_loss",
    alpha: float = 1e-4,
    batch_size: int = 128,
    max_epochs: int = 20,
    eta0: float = 0.1,
    schedule: str = "inverse",
    fit_intercept: bool = True,
    tol: float | None = 1e-4,
    n_iter_no_change: int = 5,
    progress: bool | None = None,
    dtype: jnp.dtype | None = None,
    centre: np.ndarray | None = None,
    scale: np.ndarray | None = None,
    sample_weight: np.ndarray | None = None,
    start: SGDState | None = None,
    total_steps: int | None = None,
) -> SGDResult:
    """Fit one linear model per column of ``Y`` (n, p) by minibatch SGD, all at once (``vmap``).

    Early stopping (``tol`` not None): stop when J has not fallen below the best J − tol
    for ``n_iter_no_change`` epochs in a row, for every problem. ``centre`` and
    ``scale`` (d,): fit on (X − centre)/scale, standardised on the device (default:
    X as it is). ``sample_weight`` (n,): each example's weight s_i in J. ``start``: go
    on from a previous fit's state (its θ, step count and keys) instead of θ = 0;
    ``total_steps``: T of the cosine schedule (default ``max_epochs`` epochs).
    """
    from tqdm.auto import tqdm

    if loss not in LOSSES:
        raise ValueError(f"loss: unknown loss {loss!r}; known: {', '.join(LOSSES)}")
    if schedule not in SCHEDULES:
        raise ValueError(
            f"learning_rate: unknown schedule {schedule!r}; known: {', '.join(SCHEDULES)}"
        )
    dtype = dtype or jnp.result_type(float)
    if start is not None:  # a new shuffle from the state's own keys
        key = jax.random.fold_in(start.key[0], start.step[0])
    seed = int(jax.random.randint(key, (), 0, np.iinfo(np.int32).max))
    order, weight = shuffle_order(X.shape[0], batch_size, seed)
    d = X.shape[1]
    Xj, Yj = gather_rows(
        jax.device_put(order),
        jax.device_put(np.asarray(X, dtype)),
        jax.device_put(np.asarray(Y, dtype)),
        jax.device_put(np.zeros(d, dtype) if centre is None else np.asarray(centre, dtype)),
        jax.device_put(np.ones(d, dtype) if scale is None else np.asarray(scale, dtype)),
    )
    Wj = jax.device_put(np.asarray(weight, dtype))
    sample = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight)
    Sj = jax.device_put(np.asarray(sample[order] * weight, dtype))
    p = Yj.shape[1]
    per_epoch = Xj.shape[0] // batch_size
    settings = {
        "loss": loss,
        "schedule": schedule,
        "batch_size": batch_size,
        "fit_intercept": fit_intercept,
    }
    total_steps = max(1, max_epochs * per_epoch) if total_steps is None else total_steps
    if start is None:
        w0 = jnp.zeros((p, X.shape[1]), dtype)
        b0 = jnp.zeros((p,), dtype)
        state = SGDState((w0, b0), jnp.zeros((p,), jnp.int32), jax.random.split(key, p))
    else:
        state = start
    start_cost = jax.vmap(lambda pr, yy: cost(loss, pr, Xj, yy, Wj, alpha, Sj), in_axes=(0, 1))
    losses = [np.asarray(start_cost(state.params, Yj))]
    trajectory = [jax.tree.map(np.asarray, state.params)]
    best, stale = losses[0], 0
    start, seconds = time.perf_counter(), [0.0]
    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(range(max_epochs), desc="SGD epochs", disable=not show, file=sys.stderr)
    for _ in bar:
        state, J = epochs(state, Xj, Yj, Wj, Sj, alpha, eta0, total_steps, **settings)
        J = np.asarray(J)  # waits for the epoch
        seconds.append(time.perf_counter() - start)
        losses.append(J)
        trajectory.append(jax.tree.map(np.asarray, state.params))
        bar.set_postfix_str(f"J={float(np.max(J)):.4g}")
        if tol is not None:
            improved = J < best - tol
            stale = 0 if np.any(improved) else stale + 1
            best = np.minimum(best, J)
            if stale >= n_iter_no_change:
                break
    traj = jax.tree.map(lambda *a: np.stack(a), *trajectory)
    return SGDResult(
        jax.tree.map(np.asarray, state.params),
        traj,
        np.stack(losses),
        len(losses) - 1,
        np.asarray(seconds),
        np.asarray(gradient_norm(loss, state.params, Xj, Yj, alpha, Wj, Sj)),
        state,
    )


class _SGDBase(Estimator):
    """Shared parameters and fitting of the SGD classes (§5.9)."""

    _losses: tuple[str, ...] = ()

    def __init__(
        self,
        loss: str | None = None,
        *,
        alpha: float = 1e-4,
        fit_intercept: bool = True,
        max_iter: int = 100,
        tol: float | None = 1e-3,
        n_iter_no_change: int = 5,
        batch_size: int = 128,
        learning_rate: str = "inverse",
        eta0: float | str = "auto",
        random_state: Any = None,
        class_weight: Any = None,
    ) -> None:
        self.loss = loss
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.random_state = random_state
        self.class_weight = class_weight

    def _fit_targets(
        self,
        X: np.ndarray,
        Y: np.ndarray,
        y_scale: float = 1.0,
        sample_weight: np.ndarray | None = None,
        partial: bool = False,
    ) -> None:
        """SGD on the standardised problem (see :class:`Standardiser`), results in user units.

        ``Y`` is already scaled by ``y_scale`` (the regressor's outcome): the cost then
        is J / y_scale², whose minimiser is the same. ``partial``: one more epoch from
        the last state (of ``fit`` or ``partial_fit``), in that fit's coordinates
        (centre, scale, ε₀), as scikit-learn's ``partial_fit`` goes on after ``fit``.
        """
        loss = self._losses[0] if self.loss is None else self.loss
        if loss not in self._losses:
            raise ValueError(f"loss must be one of {self._losses}; got {self.loss!r}")
        if not (isinstance(self.alpha, numbers.Real) and 0 <= self.alpha < np.inf):
            raise ValueError(f"alpha must be a finite number >= 0; got {self.alpha!r}")
        check_scale(X, "X")
        if partial and getattr(self, "_partial", None) is not None:
            std, eta0, start = self._partial
        else:
            std, start = Standardiser.of(X, centre=bool(self.fit_intercept)), None
            eta0 = self._eta0(std, loss, sample_weight)
        tol = None if self.tol is None or partial else float(self.tol) / y_scale**2
        max_iter = 1 if partial else check_int(self.max_iter, "max_iter", 1)
        if partial and self.learning_rate == "cosine":
            raise ValueError("learning_rate='cosine' needs the number of epochs: use fit")
        result = fit(
            random_key(self.random_state),
            X,
            Y,
            loss=loss,
            alpha=float(self.alpha) / std.scale**2,
            batch_size=check_int(self.batch_size, "batch_size", 1),
            max_epochs=max_iter,
            eta0=eta0,
            schedule=self.learning_rate,
            fit_intercept=bool(self.fit_intercept),
            tol=tol,
            n_iter_no_change=check_int(self.n_iter_no_change, "n_iter_no_change", 1),
            progress=False,
            centre=std.mean,
            scale=std.scale,
            sample_weight=sample_weight,
            start=start,
        )
        self._partial = (std, eta0, result.state)  # where partial_fit goes on from
        w, b = result.params
        # as scikit-learn's SGD: coef_ in X's dtype (float32 stays float32), intercept_ float64
        coef, self.intercept_ = std.weights(w, b)
        self.coef_ = coef.astype(X.dtype)
        curve = np.asarray(result.losses, dtype=np.float64) * y_scale**2
        self.n_iter_ = result.n_epochs + (getattr(self, "n_iter_", 0) if start is not None else 0)
        self.loss_curve_ = curve if start is None else np.r_[self.loss_curve_, curve[1:]]
        self.converged_ = None if tol is None else bool(result.n_epochs < max_iter)
        self.grad_norm_ = result.grad_norm
        if self.converged_ is False:
            warn_unconverged(self, f"early stopping did not trigger in {max_iter} epochs", 2)

    def _eta0(self, std: Standardiser, loss: str, sample_weight: np.ndarray | None) -> float:
        """ε₀ on the standardised problem: the given one, or 1/L ("auto")."""
        if self.eta0 == "auto":
            # 1/L, L = mean s_i ‖x̃_i‖² (x̃ = the standardised x with the intercept's 1)
            # bounds the curvature of the squared loss; the logistic loss is 4 times flatter.
            curvature = std.mean_square + bool(self.fit_intercept)
            if sample_weight is not None:
                curvature *= max(float(np.mean(sample_weight)), 1e-12)
            return (4.0 if loss == "log_loss" else 1.0) / max(curvature, 1e-12)
        if isinstance(self.eta0, numbers.Real) and 0 < self.eta0 < np.inf:
            return float(self.eta0)
        raise ValueError(f"eta0 must be 'auto' or a finite number > 0; got {self.eta0!r}")

    def _decision(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return X @ self.coef_.T + self.intercept_


class SGDClassifier(ClassifierMixin, _SGDBase):
    """Linear classifier (logistic regression or linear SVM) fitted by minibatch SGD (§5.9).

    Parameters
    ----------
    loss : {"hinge", "log_loss"} or None
        Per-example loss: the SVM's hinge (None: the default) or the logistic
        negative log-likelihood.
    alpha : float
        Weight decay α: cost (1/m) Σ L + (α/2)‖w‖² (eq. 5.96 plus L2).
    fit_intercept : bool
        Learn an (unpenalised) intercept.
    max_iter : int
        Maximum epochs.
    tol : float or None
        Early stopping: stop after ``n_iter_no_change`` epochs without J falling by ``tol``.
    n_iter_no_change : int
        See ``tol``.
    batch_size : int
        Minibatch size m′ (eq. 5.98), default 128.
    learning_rate : {"constant", "inverse", "cosine"}
        Schedule of ε: ε₀, ε₀/(1 + t/steps per epoch), or cosine decay to 0.
    eta0 : float or "auto"
        Initial learning rate ε₀ on the standardised problem; "auto": 1/L with
        L = mean ‖x̃‖² (+1 for the intercept), a bound on the curvature of the
        squared loss (×4 for log_loss).
    random_state : None, int or RandomState
        Seed of the shuffling.
    class_weight : None, "balanced" or dict
        Multiplies each example's loss by its class's weight, as scikit-learn's.

    Attributes
    ----------
    coef_ : ndarray (1, d) or (n_classes, d)
        One-vs-rest weights (one row for two classes).
    intercept_ : ndarray (1,) or (n_classes,)
    classes_ : ndarray
    loss_curve_ : ndarray (epochs + 1, n_problems)
        Full cost J after each epoch.
    converged_ : bool or None
        Whether early stopping ended the fit before ``max_iter`` (None when ``tol``
        is None); False also raises scikit-learn's ``ConvergenceWarning``.
    grad_norm_ : ndarray (n_problems,)
        ‖∇J‖ at the end (on the standardised problem).

    Notes
    -----
    The features are centred and scaled internally, an exact change of variables
    (:class:`Standardiser`), so the fit does not depend on the data's units; ``eta0``
    is the step size on that standardised problem.
    """

    _losses = ("hinge", "log_loss")

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SGDClassifier:
        """Fit one-vs-rest linear models, all problems at once.

        ``sample_weight`` (and ``class_weight``) weigh each example's loss, as scikit-learn's.
        """
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        self.classes_, Y = binary_targets(y)
        weights = self._weights(y, sample_weight, X)
        self._fit_targets(X, Y, sample_weight=weights)
        return self

    def partial_fit(
        self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None
    ) -> SGDClassifier:
        """One epoch on (X, y) from where the last ``partial_fit`` stopped (out-of-core data).

        ``classes`` (every class there will be) is required on the first call, as in
        scikit-learn; after ``fit`` it goes on from the fitted model. The first call
        fixes the standardisation and ε₀. Each call is one epoch of the learning-rate
        schedule: give it whole passes over the data, or small chunks with
        ``learning_rate="constant"`` (the "inverse" step would decay once per chunk).
        """
        first = getattr(self, "_partial", None) is None
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], reset=first)
        if first:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit")
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
        self._fit_targets(X, Y, sample_weight=self._weights(y, sample_weight, X), partial=True)
        return self

    def _weights(self, y: np.ndarray, sample_weight: Any, X: np.ndarray) -> np.ndarray | None:
        if sample_weight is None and self.class_weight is None:
            return None
        return example_weights(y, self.classes_, self.class_weight, sample_weight, X)

    def decision_function(self, X: Any) -> np.ndarray:
        """η = Xwᵀ + b: (n,) for two classes, (n, n_classes) otherwise."""
        scores = self._decision(X)
        return scores[:, 0] if len(self.classes_) == 2 else scores

    def predict(self, X: Any) -> np.ndarray:
        """The class with the largest score (sign of η for two classes)."""
        return predict_from_scores(self, X)

    @available_if(lambda self: self.loss == "log_loss")
    def predict_proba(self, X: Any) -> np.ndarray:
        """σ(η) per class (log_loss only); one-vs-rest scores normalised to sum to 1."""
        p = 1.0 / (1.0 + np.exp(-self._decision(X)))
        if len(self.classes_) == 2:
            return np.column_stack([1 - p[:, 0], p[:, 0]])
        return p / p.sum(axis=1, keepdims=True)


class SGDRegressor(RegressorMixin, _SGDBase):
    """Linear least squares fitted by minibatch SGD (§5.9); parameters as :class:`SGDClassifier`.

    ``loss`` is "squared_error" (or None).
    """

    _losses = ("squared_error",)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SGDRegressor:
        """Fit w and b by SGD on (1/m) Σ s_i ½(y_i − η_i)² + (α/2)‖w‖²."""
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], y_numeric=True)
        return self._fit_outcome(X, y, sample_weight, partial=False)

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> SGDRegressor:
        """One epoch on (X, y) from where the last ``partial_fit`` stopped.

        The first call fixes the standardisation of X and y and ε₀.
        """
        first = getattr(self, "_partial", None) is None
        X, y = validate_data(
            self, X, y, dtype=[np.float64, np.float32], y_numeric=True, reset=first
        )
        return self._fit_outcome(X, y, sample_weight, partial=True)

    def _fit_outcome(self, X: np.ndarray, y: Any, sample_weight: Any, partial: bool):
        check_scale(y, "y")
        y = np.asarray(y, dtype=float)
        if partial and getattr(self, "_partial", None) is not None:
            centre, scale = self._y_scaling
        else:
            centre = float(y.mean()) if self.fit_intercept else 0.0
            scale = float(np.sqrt(np.mean((y - centre) ** 2))) or 1.0
            self._y_scaling = (centre, scale)
        if self.class_weight is not None:
            raise ValueError("class_weight applies to SGDClassifier")
        weights = None
        if sample_weight is not None:
            weights = example_weights(y, np.zeros(0), None, sample_weight, X)
        self._fit_targets(
            X, ((y - centre) / scale)[:, None], scale, sample_weight=weights, partial=partial
        )
        self.coef_, self.intercept_ = scale * self.coef_[0], centre + scale * self.intercept_[0]
        return self

    def predict(self, X: Any) -> np.ndarray:
        """η = Xw + b."""
        return self._decision(X)
