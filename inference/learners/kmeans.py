"""k-means by Lloyd's algorithm with random or k-means++ initialisation (Deep Learning §5.8.2).

The book's four steps: (1) initialise k centroids, (2) assign every example to
its nearest centroid, (3) move every centroid to the mean of its examples,
(4) repeat (2)–(3) until the centroids stop moving. A centroid left with no
example is moved to the example farthest from its own centroid.

Everything is a pure function of an explicit ``jax.random.key``: ``init`` /
``step`` over a :class:`LloydState`, looped with ``lax.while_loop`` (``fit``) or
``lax.scan`` (``history``, for plots); the ``n_init`` restarts are seeded in one
``vmap`` and each runs to its own convergence in a ``lax.map`` (a vmapped
``while_loop`` ran every restart as long as the slowest: 64 restarts at n = 10⁴
took 2.81 s, against 1.82 s mapped).

Speed on the CPU: the data travel as :class:`Points`, with a features-major copy XT.
For k·d ≤ :data:`FUSED_MAX_TERMS` on more than :data:`FUSED_MIN_ROWS` rows step 2 is
an unrolled loop of elementwise operations over XT, which XLA fuses into one pass (26
ms per assignment at n = 10⁶, d = 16, k = 32 here, against 96 ms for ‖x‖² − 2x·c +
‖c‖² with a matrix product); beyond it the unrolled loop stops fusing well and the
matrix product is used. Step 3 is a ``segment_sum`` (10 ms there; a one-hot product
took 73 ms).
With several local devices (:mod:`freqbayes.inference.devices`) Lloyd's loop runs
with the rows split over them (:func:`lloyd`): each device assigns its rows, and the
per-cluster sums and counts are added up over devices (``psum``).

:class:`KMeans` pads its rows to their shape bucket (:mod:`freqbayes.inference.buckets`):
a padded row is never a seed, in no cluster (label k) and no inertia, so the fit equals
the unpadded one and nearby sizes share one program (k, a shape, is compiled anew).

Longer than 400 lines: the four steps, their split over devices and the estimator
share :class:`Points` and :class:`LloydState` and are not used apart.
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from freqbayes.inference.buckets import bucket_size, pad_rows
from freqbayes.inference.compilation import QUICK_COMPILE_ROWS, SizedJit
from freqbayes.inference.devices import (
    AXIS,
    SPLIT,
    WHOLE,
    device_count,
    divisor_count,
    over_devices,
)
from freqbayes.inference.dtypes import float_dtype
from freqbayes.inference.learners.base import (
    ClusterMixin,
    Estimator,
    TransformerMixin,
    as_jax,
    check_int,
    check_is_fitted,
    check_scale,
    random_key,
    validate_data,
)
from freqbayes.models.learners.objectives import squared_distances

INITS = ("k-means++", "random")
#: Largest k·d for the fused, unrolled distance loop.
FUSED_MAX_TERMS = 512
#: Fewer rows than this: the matrix product, whatever k·d. The unrolled loop is slow to
#: compile (a k-means fit, k = 8, d = 30, on a new shape of 455 rows: 2.8 s with it, 1.3 s
#: without) and its speed only counts on many rows.
FUSED_MIN_ROWS = QUICK_COMPILE_ROWS + 1


class Points(NamedTuple):
    """The data, row-major ``X`` (n, d) and a contiguous features-major copy ``XT`` (d, n)."""

    X: jnp.ndarray
    XT: jnp.ndarray


def points(X: np.ndarray | jnp.ndarray, dtype: jnp.dtype | None = None) -> Points:
    """Make :class:`Points` on the host (a transpose inside ``jit`` would not be contiguous)."""
    dtype = dtype or jnp.result_type(float)
    X = np.asarray(X, dtype=dtype)  # converted here: on the device it compiles per shape
    return Points(jax.device_put(X), jax.device_put(np.ascontiguousarray(X.T)))


class LloydState(NamedTuple):
    """State of Lloyd's iteration.

    Attributes
    ----------
    centroids : array (k, d)
        Current centroids.
    labels : array (n,) int
        Index of the nearest centroid of each example (step 2 at ``centroids``).
    sq_dist : array (n,)
        Squared distance of each example to its centroid.
    shift : array ()
        Σ_j ‖c_j − c_j^previous‖² of the last update.
    changed : array () int
        Examples whose label the last update changed (0: converged exactly).
    iteration : array () int
        Updates done.
    """

    centroids: jnp.ndarray
    labels: jnp.ndarray
    sq_dist: jnp.ndarray
    shift: jnp.ndarray
    changed: jnp.ndarray
    iteration: jnp.ndarray

    @property
    def inertia(self) -> jnp.ndarray:
        """The k-means objective Σ_i ‖x_i − c_{label_i}‖² at ``centroids`` (padding: 0)."""
        return jnp.sum(jnp.maximum(self.sq_dist, 0.0), axis=-1)


def assign(
    P: Points, centroids: jnp.ndarray, valid: jnp.ndarray | None = None
) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Step 2: nearest centroid of every example and its squared distance (ties: lowest index).

    Rows where ``valid`` is False (padding) get label k and distance −1: no cluster
    counts them and none is moved to them.
    """
    labels, d2 = _nearest(P, centroids)
    if valid is None:
        return labels, d2
    return jnp.where(valid, labels, centroids.shape[0]), jnp.where(valid, d2, -1.0)


def _nearest(P: Points, centroids: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    k, d = centroids.shape
    if k * d > FUSED_MAX_TERMS or P.X.shape[0] < FUSED_MIN_ROWS:
        d2 = squared_distances(P.X, centroids)
        labels = jnp.argmin(d2, axis=1)
        return labels, jnp.take_along_axis(d2, labels[:, None], axis=1)[:, 0]
    best = jnp.full(P.XT.shape[1], jnp.inf, P.XT.dtype)
    labels = jnp.zeros(P.XT.shape[1], jnp.int32)
    for j in range(k):
        dist = jnp.zeros_like(best)
        for f in range(d):
            diff = P.XT[f] - centroids[j, f]
            dist = dist + diff * diff
        labels = jnp.where(dist < best, j, labels)
        best = jnp.minimum(best, dist)
    return labels, best


def update(
    X: jnp.ndarray,
    labels: jnp.ndarray,
    d2: jnp.ndarray,
    centroids: jnp.ndarray,
    axis: str | None = None,
) -> jnp.ndarray:
    """Step 3: each centroid becomes the mean of its examples.

    An empty cluster takes the example farthest from its own centroid (the
    j-th empty cluster the j-th farthest), as scikit-learn does. With ``axis``
    (inside :func:`~freqbayes.inference.devices.over_devices`) X holds one
    device's rows and the sums, counts and farthest examples are combined over devices.
    """
    k = centroids.shape[0]
    sums = jax.ops.segment_sum(X, labels, num_segments=k)  # label k (padding): dropped
    counts = jnp.bincount(labels, length=k)  # 4x faster here than a segment_sum of ones
    top = min(k, X.shape[0])
    far_d2, farthest = jax.lax.top_k(d2, top)  # a full argsort cost 20 ms at n = 10⁵
    candidates = X[farthest]
    if axis is not None:
        sums, counts = jax.lax.psum((sums, counts), axis)
        far_d2, candidates = jax.lax.all_gather((far_d2, candidates), axis, tiled=True)
        _, order = jax.lax.top_k(far_d2, top)
        candidates = candidates[order]
    means = sums / jnp.maximum(counts, 1).astype(X.dtype)[:, None]
    empty = counts == 0
    rank = jnp.clip(jnp.cumsum(empty) - 1, 0, top - 1)
    return jnp.where(empty[:, None], candidates[rank], means)


def init_random(key: jax.Array, X: jnp.ndarray, k: int, n: Any = None) -> jnp.ndarray:
    """Choose k distinct examples of the first ``n`` (default all) uniformly at random.

    Without ``n``, ``jax.random.choice`` (a permutation of all rows: the lessons' draws).
    With ``n`` (the estimator's, rows padded to a shape bucket), the j-th draw is uniform
    over the n − j rows not chosen yet (the r-th of them found by stepping over the
    chosen ones in order), so the choice depends on the key and n only, not on the
    padding after the n real ones.
    """
    size = X.shape[0]
    if n is None:
        return X[jax.random.choice(key, size, (k,), replace=False)]
    keys = jax.random.split(key, k)

    def pick(j: jnp.ndarray, chosen: jnp.ndarray) -> jnp.ndarray:
        r = jax.random.randint(keys[j], (), 0, n - j)
        taken = jnp.sort(chosen)  # the slots not drawn yet hold `size`, beyond every row
        index = jax.lax.fori_loop(0, k, lambda i, x: x + (taken[i] <= x).astype(x.dtype), r)
        return chosen.at[j].set(index.astype(chosen.dtype))

    return X[jax.lax.fori_loop(0, k, pick, jnp.full(k, size, jnp.int32))]


def init_kmeans_plus_plus(
    key: jax.Array, X: jnp.ndarray, k: int, n_local_trials: int | None = None, n: Any = None
) -> jnp.ndarray:
    """k-means++ seeding (Arthur & Vassilvitskii, 2007), greedy as in scikit-learn.

    The first centroid is a uniformly chosen example; each next one is drawn
    with probability proportional to D(x)², the squared distance to the nearest
    centroid so far. The greedy variant draws ``n_local_trials`` candidates
    (default 2 + ⌊ln k⌋) and keeps the one that lowers Σ D² most;
    ``n_local_trials=1`` is plain D² sampling. Only the first ``n`` rows (default all)
    are data: the others (padding) have D = 0, so they are never drawn.
    """
    trials = 2 + int(math.log(k)) if n_local_trials is None else n_local_trials
    size = X.shape[0]
    real = jnp.arange(size) < (size if n is None else n)
    key, first = jax.random.split(key)
    c0 = X[jax.random.randint(first, (), 0, size if n is None else n)]
    d2 = jnp.where(real, jnp.sum((X - c0) ** 2, axis=1), 0.0)
    centroids = jnp.zeros((k, X.shape[1]), X.dtype).at[0].set(c0)

    def body(j, carry):
        centroids, d2, key = carry
        key, sub = jax.random.split(key)
        p = jnp.where(jnp.sum(d2) > 0, d2, real.astype(d2.dtype))
        # jax.random.choice(sub, size, (trials,), p=p / Σp), its draws to the bit, with the
        # search by comparisons (its default search compiled slower: 1.47 s against 1.11 s
        # for the whole seeding here, and the search is small beside the distances below)
        cumulative = jnp.cumsum(p / jnp.sum(p))
        u = jax.random.uniform(sub, (trials,), dtype=cumulative.dtype)
        cand = jnp.searchsorted(cumulative, cumulative[-1] * (1 - u), method="compare_all")
        d2_cand = jnp.minimum(d2[None, :], squared_distances(X[cand], X))
        best = jnp.argmin(jnp.sum(d2_cand, axis=1))
        return centroids.at[j].set(X[cand[best]]), d2_cand[best], key

    centroids, _, _ = jax.lax.fori_loop(1, k, body, (centroids, d2, key))
    return centroids


def init(key: jax.Array, P: Points, k: int, method: str = "k-means++", n: Any = None) -> LloydState:
    """Step 1: initial centroids, and the state of Lloyd's iteration at them.

    ``n``: the rows that are data (the first n; default all, the rest padding).
    """
    if method == "k-means++":
        centroids = init_kmeans_plus_plus(key, P.X, k, n=n)
    elif method == "random":
        centroids = init_random(key, P.X, k, n)
    else:
        raise ValueError(f"init: unknown initialisation {method!r}; known: {', '.join(INITS)}")
    return state_at(P, centroids, n)


def state_at(P: Points, centroids: jnp.ndarray, n: Any = None) -> LloydState:
    """The state whose centroids are given (no update done yet); rows from ``n`` on are padding."""
    valid = None if n is None else jnp.arange(P.X.shape[0]) < n
    labels, d2 = assign(P, centroids, valid)
    n = jnp.asarray(P.X.shape[0], jnp.int32)
    zero = jnp.zeros((), P.X.dtype)
    return LloydState(centroids, labels, d2, zero, n, jnp.zeros((), jnp.int32))


def step(
    P: Points, state: LloydState, axis: str | None = None, valid: jnp.ndarray | None = None
) -> LloydState:
    """Steps 3 then 2: move the centroids to their means, then reassign.

    ``axis`` and ``valid``: one device's rows of a split run (see :func:`lloyd`).
    """
    centroids = update(P.X, state.labels, state.sq_dist, state.centroids, axis)
    labels, d2 = assign(P, centroids, valid)
    shift = jnp.sum((centroids - state.centroids) ** 2)
    changed = jnp.sum(labels != state.labels, dtype=jnp.int32)
    if axis is not None:
        changed = jax.lax.psum(changed, axis)
    return LloydState(centroids, labels, d2, shift, changed, state.iteration + 1)


def run(
    P: Points,
    state: LloydState,
    max_iter: int,
    tol: float,
    axis: str | None = None,
    valid: jnp.ndarray | None = None,
) -> LloydState:
    """Step 4: repeat until converged or ``max_iter`` updates were made.

    Converged: no label changed, or the squared centroid shift is ≤ ``tol``.
    """

    def keep_going(s: LloydState) -> jnp.ndarray:
        moving = (s.changed > 0) & (s.shift > tol)
        return (s.iteration == 0) | ((s.iteration < max_iter) & moving)

    return jax.lax.while_loop(keep_going, lambda s: step(P, s, axis, valid), state)


#: Rows per device below which :func:`lloyd_devices` keeps one device (the exchange
#: between devices at every iteration costs more than the rows save).
MIN_ROWS_PER_DEVICE = 20_000


def lloyd_devices(n: int, limit: int | None = None) -> int:
    """How many local devices share the rows of an n-row k-means (at most ``limit``)."""
    return max(1, min(device_count(limit), n // MIN_ROWS_PER_DEVICE))


#: Rows are padded to a multiple of this (per device): at an odd number of rows the fused
#: assignment ran 6× slower here (12.0 ms at n = 100,001 against 2.0 ms at 100,002).
ROW_ALIGN = 8


def lloyd(
    P: Points, state: LloydState, max_iter: int, tol: Any, devices: int = 1, n_real: Any = None
) -> LloydState:
    """:func:`run` with the rows split over ``devices`` local devices: the same iteration.

    The rows are padded to a multiple of ``devices`` × :data:`ROW_ALIGN`; padded rows
    are left out of every sum (label k, distance −1) and cut off the result. With
    ``n_real`` (traced) the rows from ``n_real`` on are padding already (a shape bucket).
    """
    n = P.X.shape[0]
    pad = (-n) % (devices * ROW_ALIGN)
    if devices == 1 and pad == 0 and n_real is None:
        return run(P, state, max_iter, tol)
    start = state._replace(
        labels=jnp.pad(state.labels, (0, pad), constant_values=state.centroids.shape[0]),
        sq_dist=jnp.pad(state.sq_dist, (0, pad), constant_values=-1.0),
    )
    padded = Points(jnp.pad(P.X, ((0, pad), (0, 0))), jnp.pad(P.XT, ((0, 0), (0, pad))))

    def share(Ps: Points, start: LloydState, valid: jnp.ndarray) -> LloydState:
        return run(Ps, start, max_iter, tol, AXIS if devices > 1 else None, valid)

    rows = Points(SPLIT, jax.sharding.PartitionSpec(None, AXIS))
    states = LloydState(WHOLE, SPLIT, SPLIT, WHOLE, WHOLE, WHOLE)
    real = n if n_real is None else n_real
    end = over_devices(share, devices, (rows, states, SPLIT), states)(
        padded, start, jnp.arange(n + pad) < real
    )
    return end._replace(labels=end.labels[:n], sq_dist=end.sq_dist[:n])


def history(P: Points, state: LloydState, num_steps: int) -> LloydState:
    """Run ``num_steps`` updates and return every state stacked (leading axis = step), for plots."""

    def body(s: LloydState, _: None) -> tuple[LloydState, LloydState]:
        s = step(P, s)
        return s, s

    _, states = jax.lax.scan(body, state, None, length=num_steps)
    return states


@functools.partial(SizedJit, static_argnames=("k", "method", "n_init"))
def starts(
    key: jax.Array,
    P: Points,
    k: int,
    method: str = "k-means++",
    n_init: int = 1,
    n_real: Any = None,
) -> LloydState:
    """Step 1 for ``n_init`` restarts (one ``vmap`` over keys): their states, stacked.

    ``n_real`` (traced): the first rows that are data, the others padding (default all).
    One restart is not ``vmap``-ped (batching the seeding's loops cost compile time: 1.88 s
    against 1.42 s here for k = 4 on 512 rows); the keys are the same.
    """
    keys = jax.random.split(key, n_init)
    if n_init == 1:
        return jax.tree.map(lambda a: a[None], init(keys[0], P, k, method, n_real))
    return jax.vmap(lambda key: init(key, P, k, method, n_real))(keys)


def plan(n: int, n_init: int, limit: int | None = None) -> tuple[int, int]:
    """(devices sharing the rows, devices sharing the restarts) for a k-means fit.

    Restarts are split when they divide evenly (no exchange between devices);
    otherwise the rows of a large enough problem (:func:`lloyd_devices`).
    """
    restarts = divisor_count(n_init, limit)
    return (1, restarts) if restarts > 1 else (lloyd_devices(n, limit), 1)


@functools.partial(SizedJit, static_argnames=("max_iter", "devices", "restart_devices"))
def lloyd_best(
    P: Points,
    starts: LloydState,
    max_iter: int,
    tol: Any,
    devices: int = 1,
    restart_devices: int = 1,
    n_real: Any = None,
) -> tuple[LloydState, LloydState]:
    """Lloyd's loop from every start (stacked); the state of lowest inertia, and all of them.

    The rows are split over ``devices`` (:func:`lloyd`), the restarts over
    ``restart_devices`` (each runs its share of them one after another, ``lax.map``);
    ``n_real``: see :func:`starts`.
    """
    if starts.iteration.shape[0] == 1:
        # A vmapped while_loop selects every state field each iteration: at n = 10⁶ that
        # cost 17 ms per iteration here (17.6 s against 12.2 s for 300 iterations).
        state = lloyd(P, jax.tree.map(lambda a: a[0], starts), max_iter, tol, devices, n_real)
        return state, jax.tree.map(lambda a: a[None], state)

    def share(P: Points, starts: LloydState, tol: Any, n_real: Any) -> LloydState:
        return jax.lax.map(lambda s: lloyd(P, s, max_iter, tol, devices, n_real), starts)

    states = over_devices(share, restart_devices, (WHOLE, SPLIT, WHOLE, WHOLE), SPLIT)(
        P, starts, tol, n_real
    )
    best = jnp.argmin(states.inertia)
    return jax.tree.map(lambda a: a[best], states), states


def fit(
    key: jax.Array,
    P: Points,
    k: int,
    method: str = "k-means++",
    n_init: int = 1,
    max_iter: int = 300,
    tol: Any = 0.0,
    devices: int = 1,
    restart_devices: int = 1,
    n_real: Any = None,
) -> tuple[LloydState, LloydState]:
    """``n_init`` restarts in one compiled program; return the best state and all of them.

    ``tol`` is absolute (squared centroid shift); :func:`relative_tol` converts
    scikit-learn's relative tolerance. ``devices``, ``restart_devices``: see
    :func:`lloyd_best` and :func:`plan`. Two compiled programs, :func:`starts` and
    :func:`lloyd_best`: in one program the rows' split over devices spread into the
    seeding and made the fit 5× slower.
    """
    rows = P.X.shape[0]
    first = starts.for_rows(rows)(key, P, k, method, n_init, n_real)
    return lloyd_best.for_rows(rows)(P, first, max_iter, tol, devices, restart_devices, n_real)


def relative_tol(X: jnp.ndarray, tol: float) -> jnp.ndarray:
    """scikit-learn's tolerance: ``tol`` times the mean per-feature variance of X."""
    return tol * jnp.mean(jnp.var(X, axis=0))


@functools.partial(SizedJit, static_argnames=("devices",))
def _lloyd_from(
    P: Points,
    centroids: jnp.ndarray,
    max_iter: int,
    tol: jnp.ndarray,
    devices: int = 1,
    n_real: Any = None,
) -> LloydState:
    return lloyd(P, state_at(P, centroids, n_real), max_iter, tol, devices, n_real)


@SizedJit
def _assign(P: Points, centroids: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    return assign(P, centroids)


class KMeans(ClusterMixin, TransformerMixin, Estimator):
    """k-means clustering: Lloyd's algorithm with k-means++ or random initialisation.

    Parameters
    ----------
    n_clusters : int
        Number of clusters k (1 ≤ k ≤ n_samples).
    init : {"k-means++", "random"} or array (k, d)
        Initialisation; an array gives the initial centroids.
    n_init : int or "auto"
        Restarts, in one compiled program; the lowest inertia wins. "auto": 1 for
        k-means++ and an array, 10 for random (as scikit-learn).
    max_iter : int
        Maximum Lloyd updates per restart.
    tol : float
        Convergence when the squared centroid shift is ≤ tol × mean feature variance.
    random_state : None, int or RandomState
        Seed of the initialisation.

    Attributes
    ----------
    cluster_centers_ : ndarray (k, d)
    labels_ : ndarray (n,)
    inertia_ : float
        Σ_i ‖x_i − c_{label_i}‖².
    n_iter_ : int
        Lloyd updates of the winning restart.
    """

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        init: str | np.ndarray = "k-means++",
        n_init: int | str = "auto",
        max_iter: int = 300,
        tol: float = 1e-4,
        random_state: Any = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> KMeans:
        """Cluster X (n, d); ``y`` is ignored."""
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        check_scale(X, "X")  # squared distances
        k = check_int(self.n_clusters, "n_clusters", 1, X.shape[0], "n_samples")
        max_iter = check_int(self.max_iter, "max_iter", 1)
        if not (isinstance(self.tol, numbers.Real) and self.tol >= 0):
            raise ValueError(f"tol must be a number >= 0; got {self.tol!r}")
        # rows padded to their shape bucket: padding is in no cluster, sum or draw
        n, size = len(X), bucket_size(len(X))
        P = points(pad_rows(X, size), float_dtype())
        n_real = jax.device_put(np.int32(n))
        tol = as_jax(float(self.tol) * np.mean(np.var(X, axis=0, dtype=np.float64)))  # on the host
        if isinstance(self.init, str):
            if self.init not in INITS:
                raise ValueError(f"init must be one of {INITS} or an array; got {self.init!r}")
            auto = 1 if self.init == "k-means++" else 10
            n_init = auto if self.n_init == "auto" else check_int(self.n_init, "n_init", 1)
            key = random_key(self.random_state)
            split = plan(len(X), n_init)
            best, _ = fit(key, P, k, self.init, n_init, max_iter, tol, *split, n_real)
        else:
            C0 = np.asarray(self.init, dtype=float)
            if C0.shape != (k, X.shape[1]) or not np.all(np.isfinite(C0)):
                raise ValueError(
                    f"init array must be finite with shape {(k, X.shape[1])}; got {C0.shape}"
                )
            solve = _lloyd_from.for_rows(size)
            best = solve(P, as_jax(C0), max_iter, tol, lloyd_devices(len(X)), n_real)
        self.cluster_centers_ = np.asarray(best.centroids, dtype=X.dtype)
        # sliced and summed on the host: an eager slice or sum compiles a program per shape
        self.labels_ = np.asarray(best.labels)[:n].astype(np.int32)  # as scikit-learn's
        self.inertia_ = float(np.sum(np.asarray(best.sq_dist)[:n]))
        self.n_iter_ = int(best.iteration)
        return self

    def _distances(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        m = len(X)
        P = points(pad_rows(X, bucket_size(m)), float_dtype())
        labels, d2 = _assign.for_rows(P.X.shape[0])(P, as_jax(self.cluster_centers_))
        return np.asarray(labels)[:m].astype(np.int32), np.asarray(d2)[:m].astype(X.dtype)

    def predict(self, X: Any) -> np.ndarray:
        """Index of the nearest centroid of each row of X."""
        return self._distances(X)[0]

    def transform(self, X: Any) -> np.ndarray:
        """Euclidean distance of each row of X to every centroid, shape (n, k)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        C = self.cluster_centers_
        d2 = (X**2).sum(1)[:, None] - 2 * X @ C.T + (C**2).sum(1)[None, :]
        return np.sqrt(np.maximum(d2, 0))

    def score(self, X: Any, y: Any = None) -> float:
        """Minus the inertia of X under the fitted centroids (higher is better)."""
        return -float(self._distances(X)[1].sum())
