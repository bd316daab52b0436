"""k-means step by step, and why the initialisation matters (§5.8.2)."""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from freqbayes.i18n import N_
from freqbayes.inference.learners import kmeans as K


class LloydFrames(NamedTuple):
    """k-means step by step, for drawing (§5.8.2).

    Attributes
    ----------
    X : ndarray (n, 2)
    seeding : ndarray (k, 2)
        Initial centroids in the order chosen (k-means++ picks them one by one).
    centroids : ndarray (s + 1, k, 2)
        Centroids at the start and after each update.
    labels : ndarray (s + 1, n)
        Assignment to the centroids of the same row.
    inertia : ndarray (s + 1,)
    """

    X: np.ndarray
    seeding: np.ndarray
    centroids: np.ndarray
    labels: np.ndarray
    inertia: np.ndarray


def lloyd_frames(
    X: np.ndarray, k: int, seed: int = 0, method: str = "k-means++", steps: int = 8
) -> LloydFrames:
    """Seed with ``method``, then run ``steps`` Lloyd updates, keeping every state."""
    Pts = K.points(X)
    start = K.init(jax.random.key(seed), Pts, k, method)
    hist = K.history(Pts, start, steps)
    cat = functools.partial(np.concatenate, axis=0)
    return LloydFrames(
        np.asarray(X),
        np.asarray(start.centroids),
        cat([np.asarray(start.centroids)[None], np.asarray(hist.centroids)]),
        cat([np.asarray(start.labels)[None], np.asarray(hist.labels)]),
        cat([np.asarray(start.inertia)[None], np.asarray(hist.inertia)]),
    )


@functools.partial(jax.jit, static_argnames=("k", "method"))
def _final_inertia(seeds: jnp.ndarray, P: K.Points, k: int, method: str, tol: float) -> jnp.ndarray:
    """Converged inertia from ``jax.random.key(seed)`` for each seed (one ``vmap``)."""

    def one(seed: jnp.ndarray) -> jnp.ndarray:
        return K.run(P, K.init(jax.random.key(seed), P, k, method), 300, tol).inertia

    return jax.vmap(one)(seeds)


def stuck_seed(X: np.ndarray, k: int, tries: int = 64, factor: float = 1.05) -> int | None:
    """The first seed (0, 1, …) whose random initialisation ends ≥ ``factor`` × the best inertia.

    Used to draw a local optimum that random seeding falls into; None if none of
    ``tries`` seeds does.
    """
    Pts = K.points(X)
    tol = float(K.relative_tol(Pts.X, 1e-4))
    seeds = jnp.arange(tries)
    rand = np.asarray(_final_inertia(seeds, Pts, k, "random", tol))
    best = min(rand.min(), float(np.min(_final_inertia(seeds, Pts, k, "k-means++", tol))))
    stuck = np.flatnonzero(rand >= factor * best)
    return int(stuck[0]) if stuck.size else None


#: The seedings compared: uniform, k-means++ as Arthur & Vassilvitskii state it (plain
#: D² sampling: one candidate per centre) and k-means++ as scikit-learn and
#: ``freqbayes.KMeans`` run it (greedy: the best of 2 + ⌊ln k⌋ D² candidates).
# TRANSLATORS: "random" is the seeding of k-means by uniformly drawn data points
SEEDINGS = (N_("random"), N_("k-means++ (plain D²)"), "k-means++")


def _seed_states(key: jax.Array, P: K.Points, k: int, seeding: str, restarts: int) -> K.LloydState:
    """The seeded states of ``restarts`` restarts (one ``vmap``), keys as ``K.starts``'."""
    if seeding != "k-means++ (plain D²)":
        return K.starts(key, P, k, seeding, restarts)

    def one(key: jax.Array) -> K.LloydState:
        return K.state_at(P, K.init_kmeans_plus_plus(key, P.X, k, n_local_trials=1))

    return jax.vmap(one)(jax.random.split(key, restarts))


_seed_states_jit = jax.jit(_seed_states, static_argnames=("k", "seeding", "restarts"))


def seeding_inertia(
    X: np.ndarray, k: int, seed: int = 0, restarts: int = 256
) -> dict[str, np.ndarray]:
    """Inertia of the seeding itself (before any Lloyd step) per seeding, ``restarts`` each.

    The same keys as :func:`initialisation_inertia`: the same restarts, before Lloyd.
    Arthur & Vassilvitskii (2007) bound plain D² sampling's expectation:
    E[inertia of the seeding] ≤ 8(ln k + 2) · OPT.
    """
    Pts = K.points(X)
    key = jax.random.key(seed)
    return {
        s: np.asarray(_seed_states_jit(key, Pts, k, s, restarts).inertia, dtype=float)
        for s in SEEDINGS
    }


def initialisation_inertia(
    X: np.ndarray, k: int, seed: int = 0, restarts: int = 256
) -> dict[str, np.ndarray]:
    """Final inertia of ``restarts`` k-means runs per seeding (:data:`SEEDINGS`).

    Per seeding, the seedings in one ``vmap``, then Lloyd's loops (``K.lloyd_best``).
    """
    Pts = K.points(X)
    tol = float(K.relative_tol(Pts.X, 1e-4))
    key = jax.random.key(seed)
    out = {}
    for s in SEEDINGS:
        _, states = K.lloyd_best(Pts, _seed_states_jit(key, Pts, k, s, restarts), 300, tol)
        out[s] = np.asarray(states.inertia, dtype=float)
    return out


def initialisation_summary(
    final: dict[str, np.ndarray], seeding: dict[str, np.ndarray], k: int
) -> pd.DataFrame:
    """Per seeding: restarts, seeding and final inertia, and the share near the best.

    ``seeding_over_best`` is the mean seeding inertia over the best final inertia
    found (at least OPT, so this is at least the ratio E[seeding]/OPT that Arthur &
    Vassilvitskii bound by 8(ln k + 2) for plain D² sampling; the bound is in
    ``attrs``).
    """
    best = min(float(v.min()) for v in final.values())
    rows = [
        {
            "init": s,
            "restarts": len(v),
            "seeding_mean": float(seeding[s].mean()),
            "seeding_over_best": float(seeding[s].mean() / best),
            "mean": float(v.mean()),
            "median": float(np.median(v)),
            "best": float(v.min()),
            "share_within_1pct_of_best": float(np.mean(v <= 1.01 * best)),
        }
        for s, v in final.items()
    ]
    table = pd.DataFrame(rows)
    table.attrs.update(k=k, bound=8.0 * (np.log(k) + 2.0))
    return table
