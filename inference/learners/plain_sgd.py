"""scikit-learn's plain SGD for linear models, in JAX: one example per step (§5.9, eq. 5.99).

What ``sklearn.linear_model``'s ``_plain_sgd`` does, step for step, for the classes
:class:`~freqbayes.inference.learners.sgd.SGDClassifier` and ``SGDRegressor``: for each
example i in a shuffled epoch (the e-th epoch in the order σ^e of one random
permutation σ, as scikit-learn's in-place shuffle with a fixed seed), with η_t from the
schedule,

    w ← max(0, 1 − η_t α (1 − ρ)) w − η_t s_i c_i L′(y_i, η_i) x_i,   b ← b − η_t s_i c_i L′,

then the cumulative L1 truncation of Tsuruoka et al. (2009) when ρ > 0 (``l1_ratio``),
and a running mean of the iterates for averaged SGD. The schedules are scikit-learn's:
"constant" η₀, "invscaling" η₀ / t^power_t, "adaptive" (η₀, divided by 5 whenever the
stopping rule fires, until η < 10⁻⁶), "pa1"/"pa2" (passive-aggressive), and "optimal"
η_t = 1 / (α (t₀ + t − 1)) with Bottou's heuristic t₀ = 1 / (η_init α),
η_init = α^(−1/4) / max(1, −L′(1, −α^(−1/4))). The stopping rule is scikit-learn's too:
the epoch's mean online objective (the loss of each example before its update plus the
penalty; unweighted, as scikit-learn sums it) not below the best − ``tol`` for
``n_iter_no_change`` epochs in a row, or, with early stopping, the held-out score not
above the best + ``tol``.

``batch_size`` m′ > 1 (an extra parameter, not scikit-learn's) averages the m′ per-example
updates of a minibatch (eq. 5.98) and counts one step per minibatch.

The whole fit — every epoch, the shuffles, the stopping rule, every one-vs-rest problem at
once — is one compiled program (:func:`run`): ``lax.while_loop`` over epochs around a
``lax.fori_loop`` over steps. Hyperparameters are traced, so a grid over α, η₀ or ``tol``
compiles once; the rows are padded to their shape bucket
(:func:`~freqbayes.inference.buckets.bucket_size`, a multiple of ``batch_size``) with
weightless examples that are never visited (no step, no update, t unchanged), so
cross-validation folds and refits of nearby sizes share one program too. The order of
the real rows is drawn on the host (:func:`permutations`, NumPy), so a padded fit
visits them exactly as the unpadded one.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from freqbayes.inference.buckets import bucket_size
from freqbayes.inference.compilation import SizedJit

#: scikit-learn's losses of the linear score p for a target y (±1 for classification)
CLASSIFICATION = ("hinge", "log_loss", "modified_huber", "squared_hinge", "perceptron")
REGRESSION = ("squared_error", "huber", "epsilon_insensitive", "squared_epsilon_insensitive")
SCHEDULES = ("constant", "optimal", "invscaling", "adaptive", "pa1", "pa2")
PENALTIES = (None, "l2", "l1", "elasticnet")
MAX_DLOSS = 1e12  # scikit-learn clips L′ to ±1e12


def loss_and_derivative(
    loss: str, y: jnp.ndarray, p: jnp.ndarray, epsilon: jnp.ndarray | float, xp: Any = jnp
) -> tuple[jnp.ndarray, jnp.ndarray]:
    """L(y, p) and ∂L/∂p elementwise, exactly as scikit-learn's ``cy_loss``/``cy_gradient``.

    Classification targets are ±1 (log_loss is the half binomial loss log(1 + e^(−yp))).
    ``xp``: the array module, ``jax.numpy`` (traced) or ``numpy`` (a host computation
    that compiles nothing, as :func:`optimal_init`'s).
    """
    z = y * p
    r = y - p
    if loss in ("hinge", "perceptron"):
        threshold = 1.0 if loss == "hinge" else 0.0
        active = z <= threshold
        return xp.where(active, threshold - z, 0.0), xp.where(active, -y, 0.0)
    if loss == "squared_hinge":
        gap = 1.0 - z
        return xp.where(gap > 0, gap * gap, 0.0), xp.where(gap > 0, -2.0 * y * gap, 0.0)
    if loss == "log_loss":  # scikit-learn's half binomial loss with y01 = (y + 1)/2
        y01 = (y + 1.0) / 2.0
        e = xp.exp(-xp.maximum(p, -37.0))
        slope = xp.where(p > -37.0, ((1.0 - y01) - y01 * e) / (1.0 + e), xp.exp(p) - y01)
        ep = xp.exp(xp.minimum(p, 18.0))  # log(1 + e^p) in scikit-learn's pieces
        soft = xp.where(p <= -2.0, xp.log1p(ep), xp.log(1.0 + ep))
        soft = xp.where(p <= -37.0, ep, soft)
        soft = xp.where(p > 18.0, p + xp.exp(-xp.maximum(p, 18.0)), soft)
        return xp.where(p > 33.3, p, soft) - y01 * p, slope
    if loss == "modified_huber":
        value = xp.where(z >= 1.0, 0.0, xp.where(z >= -1.0, (1.0 - z) ** 2, -4.0 * z))
        slope = xp.where(z >= 1.0, 0.0, xp.where(z >= -1.0, -2.0 * (1.0 - z) * y, -4.0 * y))
        return value, slope
    if loss == "squared_error":
        return 0.5 * r * r, -r
    if loss == "huber":
        inside = xp.abs(r) <= epsilon
        value = xp.where(inside, 0.5 * r * r, epsilon * (xp.abs(r) - 0.5 * epsilon))
        return value, xp.where(inside, -r, -epsilon * xp.sign(r))
    if loss == "epsilon_insensitive":
        slope = xp.where(r > epsilon, -1.0, xp.where(-r > epsilon, 1.0, 0.0))
        return xp.maximum(xp.abs(r) - epsilon, 0.0), slope
    if loss == "squared_epsilon_insensitive":
        excess = xp.maximum(xp.abs(r) - epsilon, 0.0)
        return excess * excess, -2.0 * xp.sign(r) * excess
    raise ValueError(f"loss: unknown loss {loss!r}")


def optimal_init(loss: str, alpha: float, epsilon: float) -> float:
    """t₀ of the "optimal" schedule: η at the first step is α^(−1/4) / max(1, −L′(1, −α^(−1/4)))."""
    typw = float(np.sqrt(1.0 / np.sqrt(alpha)))
    with np.errstate(over="ignore"):  # the log loss's exp(−p) beyond its cut-off, unused
        slope = float(loss_and_derivative(loss, np.float64(1.0), np.float64(-typw), epsilon, np)[1])
    return 1.0 / (typw / max(1.0, slope) * alpha)


class Settings(NamedTuple):
    """What fixes the compiled program (static): loss, schedule and the loop's shape."""

    loss: str
    schedule: str
    l1: bool  # the penalty has an L1 part (cumulative truncation)
    batch_size: int
    fit_intercept: bool
    shuffle: bool
    early_stopping: bool
    average: bool
    classify: bool  # held-out score: accuracy (else R²)
    max_iter: int  # length of the per-epoch cost record


class Hyper(NamedTuple):
    """Traced hyperparameters (a new value does not recompile).

    ``l2``/``l1`` are per feature: the penalty α((1 − ρ)/2 Σ w_j² + ρ Σ |w_j|) written in the
    fitting coordinates v_j = s_j w_j (α(1 − ρ)/s_j² and αρ/s_j).
    """

    alpha: jnp.ndarray
    l2: jnp.ndarray
    l1: jnp.ndarray
    eta0: jnp.ndarray
    power_t: jnp.ndarray
    epsilon: jnp.ndarray
    tol: jnp.ndarray
    optimal_init: jnp.ndarray
    average_start: jnp.ndarray
    n_iter_no_change: jnp.ndarray
    pos_weight: jnp.ndarray  # (K,) class weight of y = +1 in each problem
    neg_weight: jnp.ndarray  # (K,) and of y = −1


class State(NamedTuple):
    """Weights (K, d) and intercepts (K,) of K problems, their running means, the step t."""

    W: jnp.ndarray
    b: jnp.ndarray
    W_avg: jnp.ndarray
    b_avg: jnp.ndarray
    t: jnp.ndarray  # scikit-learn's t: 1 + steps taken


class Outcome(NamedTuple):
    """:func:`run`'s result: the state, epochs run per problem, J after each epoch, finiteness."""

    state: State
    n_iter: jnp.ndarray  # (K,)
    curve: jnp.ndarray  # (max_iter + 1, K): J at the start and after each epoch (NaN after)
    online: jnp.ndarray  # (max_iter, K): each epoch's mean online objective (the stopping rule's)
    finite: jnp.ndarray
    grad_norm: jnp.ndarray  # (K,): ‖∇J‖ at the end (:func:`gradient_norm`, in the same program)


def penalty(W: jnp.ndarray, h: Hyper) -> jnp.ndarray:
    """Σ_j (l2_j/2) w_j² + l1_j |w_j| for each row of W."""
    return 0.5 * jnp.sum(h.l2 * W * W, axis=-1) + jnp.sum(h.l1 * jnp.abs(W), axis=-1)


def schedule(name: str, h: Hyper, t: jnp.ndarray, eta_adaptive: jnp.ndarray) -> jnp.ndarray:
    """η_t of scikit-learn's schedules (per problem for "adaptive").

    Not optax's: ``optax.schedules`` has "constant" only of these (no inverse-time
    "optimal", no power "invscaling"); "adaptive" divides η by 5 when scikit-learn's
    stopping rule fires (objective > best − tol, or the held-out score) and stops at
    η ≤ 10⁻⁶, which ``optax.contrib.reduce_on_plateau`` does not reproduce (its best
    value moves only on an improvement by more than the tolerance, scikit-learn's is the
    running minimum; it never stops); and the updates around η are not
    optax transforms (scikit-learn's max(0, 1 − ηα) shrinkage, the L1 truncation, the
    passive-aggressive steps), so ``inject_hyperparams`` has nothing to wrap.
    """
    t = t.astype(h.eta0.dtype)
    if name == "optimal":
        return 1.0 / (h.alpha * (h.optimal_init + t - 1.0))
    if name == "invscaling":
        return h.eta0 / t**h.power_t
    if name == "adaptive":
        return eta_adaptive
    return h.eta0


@functools.partial(SizedJit, static_argnames=("settings",))
def run(
    state: State,
    X: jnp.ndarray,
    Y: jnp.ndarray,
    S: jnp.ndarray,
    M: jnp.ndarray,
    Xv: jnp.ndarray,
    Yv: jnp.ndarray,
    Sv: jnp.ndarray,
    h: Hyper,
    max_iter: jnp.ndarray,
    sigma: jnp.ndarray,
    *,
    settings: Settings,
) -> Outcome:
    """Up to ``max_iter`` epochs of plain SGD on K problems at once (one compiled program).

    ``X`` (n, d) in the fitting coordinates, ``Y`` (n, K) targets, ``S`` (n,) sample
    weights, ``M`` (n,) 1 for the real rows (first) and 0 for padding (n a multiple of
    ``batch_size``); ``Xv, Yv, Sv``: the held-out rows of early stopping (``Sv`` 0 for
    padding). ``sigma`` (K, n): each problem's order of the rows (:func:`permutations`:
    a permutation of the real rows, the padding after them); each stops by its own rule.
    Only the ⌈Σ M / batch_size⌉ steps that hold real rows are run.
    """
    cfg = settings
    n, d = X.shape
    K = Y.shape[1]
    B = cfg.batch_size
    dtype = X.dtype
    n_real = jnp.sum(M)
    n_steps = (jnp.sum(M > 0) + B - 1) // B  # the steps holding real rows (padding last)
    inf = jnp.asarray(jnp.inf, dtype)
    weights = jnp.where(Y > 0, h.pos_weight, h.neg_weight) * (S * M)[:, None]

    def full_cost(W: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
        P = X @ W.T + b
        value, _ = loss_and_derivative(cfg.loss, Y, P, h.epsilon)
        return jnp.sum(weights * value, axis=0) / n_real + penalty(W, h)

    rows_of = jnp.arange(K)[:, None]

    def step(carry, idx):
        W, b, Wa, ba, t, u, q, eta_ad, obj, active = carry
        xb = X[idx]  # (K, B, d): each problem's own next rows
        yb, sb, mb = Y[idx, rows_of], S[idx], M[idx]  # (K, B)
        count = jnp.sum(mb, axis=1)  # (K,), equal over the problems (padding comes last)
        take = (count > 0) & active
        P = jnp.einsum("kbd,kd->kb", xb, W) + b[:, None]
        eta = schedule(cfg.schedule, h, t, eta_ad)
        eta_k = jnp.broadcast_to(eta, (K,))[:, None]
        value, slope = loss_and_derivative(cfg.loss, yb, P, h.epsilon)
        online = jnp.sum(mb * value, 1)  # scikit-learn's objective: unweighted losses
        if cfg.schedule not in ("pa1", "pa2"):  # plus the penalty, except passive-aggressive
            online = online + count * penalty(W, h)
        obj = obj + jnp.where(active, online, 0)
        if cfg.schedule in ("pa1", "pa2"):
            sq = jnp.sum(xb * xb, axis=2)
            safe = jnp.where(sq == 0, 1.0, sq)
            if cfg.schedule == "pa1":
                upd = jnp.where(sq == 0, 0.0, jnp.minimum(h.eta0, value / safe))
            else:
                upd = value / (sq + 0.5 / h.eta0)
            upd = upd * (yb if cfg.classify else jnp.where(yb - P < 0, -1.0, 1.0))
        else:
            upd = -eta_k * jnp.clip(slope, -MAX_DLOSS, MAX_DLOSS)
        cw = jnp.where(yb > 0, h.pos_weight[:, None], h.neg_weight[:, None])
        upd = upd * cw * sb * mb / jnp.maximum(count, 1)[:, None]  # (K, B)
        W_new = W * jnp.maximum(0.0, 1.0 - eta_k * h.l2) + jnp.einsum("kb,kbd->kd", upd, xb)
        b_new = b + jnp.sum(upd, axis=1) if cfg.fit_intercept else b
        if cfg.average:
            on = (h.average_start <= t) & take
            step_avg = (t - h.average_start + 1).astype(dtype)
            Wa = jnp.where(on[:, None], Wa + (W_new - Wa) / step_avg, Wa)
            ba = jnp.where(on, ba + (b_new - ba) / step_avg, ba)
        if cfg.l1:  # Tsuruoka et al.'s cumulative penalty, as scikit-learn's l1penalty
            u = u + jnp.where(take[:, None], eta_k * h.l1, 0.0)
            z = W_new
            W_new = jnp.where(
                z > 0,
                jnp.maximum(0.0, z - (u + q)),
                jnp.where(z < 0, jnp.minimum(0.0, z + (u - q)), z),
            )
            q = jnp.where(take[:, None], q + W_new - z, q)
        W = jnp.where(take[:, None], W_new, W)
        b = jnp.where(take, b_new, b)
        t = t + (count[0] > 0).astype(t.dtype)
        return (W, b, Wa, ba, t, u, q, eta_ad, obj, active), None

    def epoch(carry):
        st, order, u, q, n_iter, curve, online, best, stale, eta_ad, active, e, finite = carry
        if cfg.shuffle:  # scikit-learn's: the one permutation σ again each epoch
            order = jnp.take_along_axis(order, sigma, axis=1)
        steps = order.reshape(K, n // B, B).transpose(1, 0, 2)  # (steps, K, B)
        init = (st.W, st.b, st.W_avg, st.b_avg, st.t, u, q, eta_ad, jnp.zeros(K, dtype), active)
        (W, b, Wa, ba, t, u, q, _, obj, _) = jax.lax.fori_loop(
            0, n_steps, lambda i, c: step(c, steps[i])[0], init
        )
        ok = jnp.all(jnp.isfinite(W)) & jnp.all(jnp.isfinite(b))
        if cfg.early_stopping:
            Pv = Xv @ W.T + b
            if cfg.classify:
                right = jnp.where(Pv > 0, 1.0, -1.0) == Yv
                score = jnp.sum(Sv[:, None] * right, 0) / jnp.sum(Sv)
            else:
                mean = jnp.sum(Sv[:, None] * Yv, 0) / jnp.sum(Sv)
                ss = jnp.sum(Sv[:, None] * (Yv - mean) ** 2, 0)
                res = jnp.sum(Sv[:, None] * (Yv - Pv) ** 2, 0)
                score = jnp.where(ss > 0, 1.0 - res / jnp.where(ss > 0, ss, 1.0), 0.0)
            worse = score < best + h.tol
            best = jnp.maximum(best, score)
        else:
            mean_obj = obj / n_real
            worse = mean_obj > best - h.tol
            best = jnp.minimum(best, mean_obj)
        stale = jnp.where(active, jnp.where(worse, stale + 1, 0), stale)
        fired = active & (stale >= h.n_iter_no_change)
        if cfg.schedule == "adaptive":
            slower = fired & (eta_ad > 1e-6)
            eta_ad = jnp.where(slower, eta_ad / 5.0, eta_ad)
            stale = jnp.where(slower, 0, stale)
            fired = fired & ~slower
        n_iter = n_iter + active.astype(n_iter.dtype)
        curve = curve.at[e + 1].set(jnp.where(active, full_cost(W, b), jnp.nan))
        st = State(W, b, Wa, ba, t)
        online = online.at[e].set(obj / n_real)
        going_on = active & ~fired
        out = (st, order, u, q, n_iter, curve, online, best, stale, eta_ad, going_on, e + 1)
        return (*out, finite & ok)

    def going(carry) -> jnp.ndarray:
        *_, active, e, finite = carry
        return (e < max_iter) & jnp.any(active) & finite

    start_best = -inf if cfg.early_stopping else inf
    curve = jnp.full((cfg.max_iter + 1, K), jnp.nan, dtype).at[0].set(full_cost(state.W, state.b))
    # scikit-learn shuffles its row order in place with the same seed every epoch, so the
    # e-th epoch visits the rows in the order σ^e: the same here.
    init = (
        state,
        jnp.broadcast_to(jnp.arange(n), (K, n)),
        jnp.zeros((K, d), dtype),  # u and q of the L1 truncation: kept over the epochs
        jnp.zeros((K, d), dtype),
        jnp.zeros(K, jnp.int32),
        curve,
        jnp.full((cfg.max_iter, K), jnp.nan, dtype),
        jnp.full(K, start_best, dtype),
        jnp.zeros(K, jnp.int32),
        jnp.full(K, h.eta0, dtype),
        jnp.ones(K, bool),
        jnp.asarray(0, jnp.int32),
        jnp.asarray(True),
    )
    st, _, _, _, n_iter, curve, online, *_, finite = jax.lax.while_loop(going, epoch, init)
    # in this program, not a second one (one program fewer to compile per shape)
    norm = gradient_norm.__wrapped__(cfg.loss, st.W, st.b, X, Y, weights, n_real, h)
    return Outcome(st, n_iter, curve, online, finite, norm)


@functools.partial(SizedJit, static_argnames=("loss",))
def gradient_norm(
    loss: str, W: jnp.ndarray, b: jnp.ndarray, X: jnp.ndarray, Y: jnp.ndarray,
    weights: jnp.ndarray, n_real: jnp.ndarray, h: Hyper,
) -> jnp.ndarray:  # fmt: skip
    """‖∇J‖ per problem at (W, b) (a subgradient where the loss has a kink)."""

    def one(w, b0, y, s):
        def J(w, b0):
            value, _ = loss_and_derivative(loss, y, X @ w + b0, h.epsilon)
            return jnp.sum(s * value) / n_real + penalty(w, h)

        gw, gb = jax.grad(J, argnums=(0, 1))(w, b0)
        return jnp.sqrt(jnp.sum(gw * gw) + gb * gb)

    return jax.vmap(one, in_axes=(0, 0, 1, 1))(W, b, Y, weights)


def padded_size(n: int, batch_size: int = 1) -> int:
    """Rows after padding: ``n``'s shape bucket, rounded up to a multiple of ``batch_size``."""
    return -(-bucket_size(n) // batch_size) * batch_size


def permutations(seed: int, K: int, n: int, size: int) -> np.ndarray:
    """σ of :func:`run`, (K, size) int32, drawn on the host.

    For each of K problems a permutation of the n real rows, then the padding rows
    n, …, size − 1 in order.

    NumPy's generator from ``seed``, so the real rows' order depends on n and the seed
    only, not on the padding (and it is faster than ``jax.random.permutation``:
    ``../shared/notes/measured-here.md``, 9 ms against 177 ms for 10⁶ rows).
    """
    rng = np.random.default_rng(seed)
    tail = np.arange(n, size)
    return np.stack([np.concatenate([rng.permutation(n), tail]) for _ in range(K)]).astype(np.int32)
