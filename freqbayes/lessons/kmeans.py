"""k-means step by step, and why the initialisation matters (§5.8.2)."""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

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


def initialisation_inertia(
    X: np.ndarray, k: int, seed: int = 0, restarts: int = 256
) -> dict[str, np.ndarray]:
    """Final inertia of ``restarts`` k-means runs per initialisation, one compiled program each."""
    Pts = K.points(X)
    tol = float(K.relative_tol(Pts.X, 1e-4))
    out = {}
    for method in K.INITS:
        _, states = K.fit(jax.random.key(seed), Pts, k, method, restarts, 300, tol)
        out[method] = np.asarray(states.inertia, dtype=float)
    return out
