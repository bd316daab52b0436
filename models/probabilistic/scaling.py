"""Units: how a model's parameters move with the units of its data, and priors that follow.

Regression-type models share one structure: features ``X`` (n, d), an outcome ``y``
and parameters in three *roles*: weights θ (one per column of X), an intercept b
and a noise scale σ. Change the units of a column, x_j → x_j / s_j, or of the
outcome, y → (y − m_y) / s_y, and the same model holds with

    θ̃_j = θ_j s_j / s_y,   b̃ = (b + Σ_j θ_j m_j − m_y) / s_y,   σ̃ = σ / s_y,

where m_j, s_j are the column's centre and scale. Two things use this:

* **Fitting** (:mod:`freqbayes.inference`) runs every optimiser and sampler on the
  centred and scaled coordinates (θ̃, b̃, log σ̃), where the posterior is roughly
  isotropic whatever the data's units, and maps the results back. The map is affine,
  so densities change by a constant: the posterior, the MAP and the MLE in the
  user's units are exactly those of the program as written.
* **Default priors** (:func:`autoscaled_priors`) are weakly informative in the
  user's units, following rstanarm's rule: every prior scale is 2.5 times the
  matching scale of the data,

      θ_j ~ N(0, (2.5 s_y / s_j)²),   σ ~ HalfNormal(2.5 s_y),
      b ~ N(m_y, (2.5 s_y)² (1 + Σ_j (m_j / s_j)²)),

  the last being the marginal of rstanarm's prior N(m_y, (2.5 s_y)²) on the
  intercept at the centre of the features (b is the prediction at x = 0, often far
  from the data, hence the wider prior). A column's scale s_j is its standard
  deviation, its range if it takes two values (a dummy), and 1 if it is constant;
  an outcome without units (labels, counts on a log link) has m_y = 0, s_y = 1.

A prior passed explicitly is used exactly as given, in the user's units.

Longer than 400 lines: the statistics those two uses read, computed in one place for an
array in memory, for a big one in blocks of rows (once per fit: :func:`one_pass`) and for
rows held by several processes (:class:`RowSummary`, merged over the processes).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import jax.numpy as jnp
import numpy as np

from freqbayes.models.probabilistic import priors as P
from freqbayes.models.threads import map_in_threads

#: Every default prior scale is this many times the matching scale of the data.
AUTOSCALE = 2.5


class Roles(NamedTuple):
    """Which arguments and sites of a program play the regression roles.

    Attributes
    ----------
    y : str
        The observed site, whose values set the outcome's units.
    X : str or None
        The program's feature argument (None: no features).
    weights, intercept, noise : str or None
        Site names of θ, b and σ (None where the model has none).
    y_has_units : bool
        False for an outcome without units (labels; counts on a log link): then
        m_y = 0 and s_y = 1.
    """

    y: str
    X: str | None = "X"
    weights: str | None = "beta"
    intercept: str | None = "intercept"
    noise: str | None = "sigma"
    y_has_units: bool = True


class Scaling(NamedTuple):
    """Centres and scales of the data (a pytree of arrays: jitted code takes it as an argument).

    Attributes
    ----------
    x_mean, x_scale : array (d,)
        Centre and scale of each feature column (centre 0 when there is no intercept).
    y_mean, y_scale : array ()
        Centre and scale of the outcome.
    """

    x_mean: Any
    x_scale: Any
    y_mean: Any
    y_scale: Any

    def as_attrs(self) -> dict[str, Any]:
        """The scaling as DataTree attrs (numpy arrays and floats)."""
        return {
            "x_centre": np.asarray(self.x_mean, dtype=float),
            "x_scale": np.asarray(self.x_scale, dtype=float),
            "y_centre": float(self.y_mean),
            "y_scale": float(self.y_scale),
        }


#: Above this many values, :func:`scaling_of` reads the features a block of rows at a time.
BLOCKED = 1 << 22

#: Values per block of rows of :func:`summarise` (2 MiB of float64: its temporaries stay
#: small beside a share of the rows).
BLOCK_VALUES = 1 << 18


def blocked_column_stats(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each column's mean and :func:`column_scale`, in one linear pass over row blocks.

    For tables too large to copy: no float64 copy of ``a`` (a float32 table stays one), no
    sort (``np.unique`` per column); :func:`summarise`'s statistics. Equal to the unblocked
    values up to rounding. Not cached between calls: a cache keyed on the array's identity
    gave stale scales (and priors 100× off) after an in-place ``X *= 100`` (review of
    issue 27).
    """
    return summarise(a).column_stats()


class RowSummary(NamedTuple):
    """What the scaling and the default priors read from the rows, mergeable over pieces.

    The statistics of each column (or of one vector) that :func:`scaling_of` needs,
    computed piece by piece and combined exactly as the whole would give them (up to
    rounding): the pieces of a table read in parts, or the rows of each process of a
    multi-process run, merged after a collective
    (:mod:`freqbayes.inference.probabilistic.shares`). The mean and the sum of squared
    deviations merge by Chan, Golub & LeVeque's pairwise update; a column has more than
    two distinct values if a piece has, or if the pieces' minima and maxima hold more
    than two. It stands in for the array in a program's data arguments: ``shape`` is the
    whole array's, so that :func:`numpy.shape` (prior sizes, n) sees the whole.

    Attributes
    ----------
    n : int
        Rows summarised.
    mean, m2 : array (d,) or ()
        Column means and sums of squared deviations from them (float64).
    lo, hi : array (d,) or ()
        Column minima and maxima.
    more : array of bool (d,) or ()
        Whether the column takes more than two distinct values.
    """

    n: int
    mean: np.ndarray
    m2: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    more: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        """The summarised array's shape: (n,) or (n, d)."""
        return (self.n, *np.shape(self.mean))

    def merge(self, other: RowSummary) -> RowSummary:
        """The summary of both pieces' rows (either may be empty)."""
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        n = self.n + other.n
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.n / n)
        m2 = self.m2 + other.m2 + delta**2 * (self.n * other.n / n)
        ends = np.sort(np.stack([self.lo, self.hi, other.lo, other.hi]), axis=0)
        distinct = 1 + (np.diff(ends, axis=0) != 0).sum(axis=0)
        more = self.more | other.more | (distinct > 2)
        lo, hi = np.minimum(self.lo, other.lo), np.maximum(self.hi, other.hi)
        return RowSummary(n, mean, m2, lo, hi, np.asarray(more))

    def column_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """Each column's mean and :func:`column_scale` (sd; range if two values; 1 if one)."""
        spread = np.where(self.more, np.sqrt(self.m2 / max(self.n, 1)), self.hi - self.lo)
        return self.mean, np.where(self.hi > self.lo, spread, 1.0)

    def outcome(self, centred: bool) -> tuple[np.float64, np.float64]:
        """:func:`outcome` of the summarised vector: (centre, scale)."""
        mean, sd = np.float64(self.mean), np.float64(np.sqrt(self.m2 / max(self.n, 1)))
        if centred:
            return mean, sd if sd > 0 else abs(mean) if mean != 0 else np.float64(1.0)
        rms = np.float64(np.sqrt(self.m2 / max(self.n, 1) + mean * mean))
        return np.float64(0.0), rms if rms > 0 else np.float64(1.0)

    def as_array(self) -> np.ndarray:
        """The summary as one float64 array (rows: n, mean, m2, lo, hi, more): for a collective."""
        d = int(np.size(self.mean))
        parts = [np.full(d, float(self.n)), self.mean, self.m2, self.lo, self.hi, self.more]
        return np.stack([np.reshape(np.asarray(p, dtype=float), d) for p in parts])

    @classmethod
    def from_array(cls, a: np.ndarray, vector: bool = False) -> RowSummary:
        """The inverse of :meth:`as_array` (``vector``: a summary of one vector, not columns)."""

        def shaped(row: np.ndarray) -> np.ndarray:
            return np.asarray(row[0] if vector else row)

        a = np.asarray(a, dtype=float)
        n = int(a[0, 0]) if a.shape[1] else 0
        return cls(n, *(shaped(a[i]) for i in range(1, 5)), shaped(a[5].astype(bool)))


#: Values per chunk of :func:`summarise`: chunks are summarised in threads, then merged in
#: order. Fixed, not derived from the cores, so that every machine merges alike.
CHUNK_VALUES = 1 << 23

#: Most threads :func:`summarise` uses (fewer on fewer cores).
SUMMARY_THREADS = 4


def summarise(a: np.ndarray) -> RowSummary:
    """The :class:`RowSummary` of ``a`` (n,) or (n, d), one pass over blocks of rows.

    Each block is read as float64 (no copy of the whole), its statistics merged into the
    running ones; an empty ``a`` gives n = 0. A big ``a`` is cut into chunks of about
    :data:`CHUNK_VALUES` values, summarised in threads (NumPy's reductions release the
    GIL) and merged in order: at 10⁷ × 100 float32 the pass took 3.4–3.8 s in one thread
    and 1.9 s in two (2026-12-06, this 2-core machine).
    """
    a = np.asarray(a)
    flat = a.ndim == 1
    table = a[:, None] if flat else a
    n, d = table.shape
    rows = max(1, CHUNK_VALUES // max(1, d))
    cuts = list(range(0, n, rows))

    def chunk(i: int) -> RowSummary:
        return _summarise_rows(table[i : i + rows])

    parts = map_in_threads(chunk, cuts, SUMMARY_THREADS) or [_summarise_rows(table)]
    total = parts[0]
    for part in parts[1:]:  # in order, whatever the threads: the same sums on every machine
        total = total.merge(part)
    if not flat:
        return total
    return RowSummary(total.n, *(np.asarray(v[0]) for v in total[1:]))


def _summarise_rows(table: np.ndarray) -> RowSummary:
    """The :class:`RowSummary` of an (n, d) array, block by block of rows in one thread."""
    n, d = table.shape
    rows = max(1, BLOCK_VALUES // max(1, d))
    total = RowSummary(0, np.zeros(d), np.zeros(d), np.full(d, np.inf), np.full(d, -np.inf),
                       np.zeros(d, dtype=bool))  # fmt: skip
    for i in range(0, n, rows):
        block = np.asarray(table[i : i + rows], dtype=float)
        lo, hi, mean = block.min(axis=0), block.max(axis=0), block.mean(axis=0)
        more = total.more.copy()  # merging ORs it: test only the columns not known yet
        todo = np.flatnonzero(~more)
        if todo.size == d:
            more = ((block != lo) & (block != hi)).any(axis=0)
        elif todo.size:
            part = block[:, todo]
            more[todo] = ((part != lo[todo]) & (part != hi[todo])).any(axis=0)
        m2 = ((block - mean) ** 2).sum(axis=0)
        total = total.merge(RowSummary(len(block), mean, m2, lo, hi, more))
    return total


def column_scale(a: np.ndarray) -> np.ndarray:
    """Scale of each column: sd; range for two distinct values; 1 for a constant column."""
    a = np.asarray(a, dtype=float)
    if a.ndim == 1:
        return column_scale(a[:, None])[0]
    out = np.ones(a.shape[1])
    for j in range(a.shape[1]):
        values = np.unique(a[:, j])
        if len(values) == 2:
            out[j] = values[1] - values[0]
        elif len(values) > 2:
            out[j] = a[:, j].std()
    return out


def outcome(y: Any, centred: bool) -> tuple[Any, Any]:
    """Centre and scale of the outcome (jittable, so that simulated data sets can be vmapped).

    Centred: its mean and sd, the sd replaced by |mean| for constant data and by 1 for
    zeros. Not centred (no intercept): 0 and the root mean square (1 for zeros).
    """
    xp = np if isinstance(y, np.ndarray) else jnp  # host data: no XLA compilation
    y = xp.asarray(y)
    if centred:
        mean, sd = xp.mean(y), xp.std(y)
        scale = xp.where(sd > 0, sd, xp.where(mean != 0, xp.abs(mean), 1.0))
        return mean, scale
    rms = xp.sqrt(xp.mean(y * y))
    return xp.zeros((), y.dtype), xp.where(rms > 0, rms, 1.0)


#: The column statistics computed inside :func:`one_pass` (None outside): id -> (array,
#: stats). Module-wide, not a context variable: the command line fits in another thread.
_ONE_PASS: dict[int, tuple[np.ndarray, tuple]] | None = None
_DEPTH = 0
_LOCK = threading.Lock()


@contextlib.contextmanager
def one_pass() -> Iterator[None]:
    """Inside, a big feature array's column statistics are computed once, not per call.

    Preparing one fit reads the scaling three times (default priors, the horseshoe's
    completion, the fit's coordinates), and the command line checks the priors before
    fitting: for a table above :data:`BLOCKED` values each was a pass over it (0.14 s
    each at 2·10⁵ × 100, about 0.5 s at 10⁶ × 100). The statistics are kept only until
    the outermost block ends, keyed on the array object (held, so its id is not
    reused): no stale values after the caller changes an array in place between fits.
    """
    global _ONE_PASS, _DEPTH
    with _LOCK:
        if _DEPTH == 0:
            _ONE_PASS = {}
        _DEPTH += 1
    try:
        yield
    finally:
        with _LOCK:
            _DEPTH -= 1
            if _DEPTH == 0:
                _ONE_PASS = None


def forget() -> None:
    """Drop what :func:`one_pass` holds (and the arrays it keeps alive) before its end."""
    with _LOCK:
        if _ONE_PASS is not None:
            _ONE_PASS.clear()


def _column_stats_once(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`blocked_column_stats` of ``X``, computed once inside :func:`one_pass`."""
    with _LOCK:
        memo = _ONE_PASS
        held = memo.get(id(X)) if memo is not None else None
    if held is not None and held[0] is X:
        return held[1]
    stats = blocked_column_stats(X)
    with _LOCK:
        if _ONE_PASS is not None:
            _ONE_PASS[id(X)] = (X, stats)
    return stats


def scaling_of(roles: Roles, args: Mapping[str, Any], centred: bool) -> Scaling:
    """The :class:`Scaling` of a program's data arguments (host arrays, float64).

    ``centred`` is whether the model has an intercept: without one, centring
    would change the model, so only scales are taken.
    """
    if isinstance(args[roles.y], RowSummary):  # rows held by several processes
        return _scaling_of_summaries(roles, args, centred)
    y = np.asarray(args[roles.y], dtype=float)
    if roles.X is not None and roles.X in args and np.size(args[roles.X]) > BLOCKED:
        x_mean, x_scale = _column_stats_once(np.asarray(args[roles.X]))
        x_mean = x_mean if centred else np.zeros_like(x_mean)
    elif roles.X is not None and roles.X in args:
        X = np.asarray(args[roles.X], dtype=float)
        x_mean = X.mean(axis=0) if centred else np.zeros(X.shape[1])
        x_scale = column_scale(X)
    else:
        x_mean = x_scale = np.zeros(0)
    if roles.y_has_units:
        y_mean, y_scale = (np.float64(v) for v in outcome(y, centred))
    else:
        y_mean, y_scale = np.float64(0.0), np.float64(1.0)
    return Scaling(x_mean, x_scale, y_mean, y_scale)


def _scaling_of_summaries(roles: Roles, args: Mapping[str, Any], centred: bool) -> Scaling:
    """:func:`scaling_of` from :class:`RowSummary` stand-ins of the outcome and features."""
    if roles.X is not None and roles.X in args:
        x_mean, x_scale = args[roles.X].column_stats()
        x_mean = x_mean if centred else np.zeros_like(x_mean)
    else:
        x_mean = x_scale = np.zeros(0)
    if roles.y_has_units:
        y_mean, y_scale = args[roles.y].outcome(centred)
    else:
        y_mean, y_scale = np.float64(0.0), np.float64(1.0)
    return Scaling(x_mean, x_scale, y_mean, y_scale)


def to_user(roles: Roles, s: Scaling, u: Mapping[str, Any]) -> dict[str, Any]:
    """Unconstrained values in the scaled coordinates → in the user's units.

    Weights and the intercept are unconstrained as they are; σ is unconstrained as
    log σ (its support is σ > 0). Sites without a role pass through unchanged.
    """
    z = dict(u)
    w, b, sigma = roles.weights, roles.intercept, roles.noise
    if w is not None and w in u:
        z[w] = u[w] * (s.y_scale / s.x_scale)
    if b is not None and b in u:
        shift = jnp.dot(z[w], s.x_mean) if (w is not None and w in u) else 0.0
        z[b] = s.y_mean + s.y_scale * u[b] - shift
    if b is not None and f"{b}_centred" in u:  # already at the centre (a horseshoe's θ)
        z[f"{b}_centred"] = s.y_mean + s.y_scale * u[f"{b}_centred"]
    if sigma is not None and sigma in u:
        z[sigma] = u[sigma] + jnp.log(s.y_scale)
    return z


def from_user(roles: Roles, s: Scaling, z: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`to_user`."""
    u = dict(z)
    w, b, sigma = roles.weights, roles.intercept, roles.noise
    if w is not None and w in z:
        u[w] = z[w] * (s.x_scale / s.y_scale)
    if b is not None and b in z:
        shift = jnp.dot(z[w], s.x_mean) if (w is not None and w in z) else 0.0
        u[b] = (z[b] + shift - s.y_mean) / s.y_scale
    if b is not None and f"{b}_centred" in z:
        u[f"{b}_centred"] = (z[f"{b}_centred"] - s.y_mean) / s.y_scale
    if sigma is not None and sigma in z:
        u[sigma] = z[sigma] - jnp.log(s.y_scale)
    return u


def autoscaled_priors(roles: Roles, s: Scaling) -> dict[str, P.Prior]:
    """Weakly informative default priors in the user's units (the rule in the module docs)."""
    out: dict[str, P.Prior] = {}
    y_mean, y_scale = float(s.y_mean), float(s.y_scale)
    ratio = np.asarray(s.x_mean, dtype=float) / np.asarray(s.x_scale, dtype=float)
    if roles.weights is not None:
        scales = AUTOSCALE * y_scale / np.asarray(s.x_scale, dtype=float)
        out[f"{roles.weights}_prior"] = P.Normal(0.0, tuple(float(v) for v in scales))
    if roles.intercept is not None:
        spread = AUTOSCALE * y_scale * float(np.sqrt(1.0 + np.sum(ratio**2)))
        out[f"{roles.intercept}_prior"] = P.Normal(y_mean, spread)
    if roles.noise is not None:
        out[f"{roles.noise}_prior"] = P.HalfNormal(AUTOSCALE * y_scale)
    return out


def complete_horseshoe(
    roles: Roles, s: Scaling, priors: Mapping[str, Any], n: int
) -> dict[str, Any]:
    """``priors`` with a :class:`~priors.Horseshoe` on the weights given its units from the data.

    The units of weight j are u_j = s_y / s_j (the weights' scaled coordinates, as the
    default normal prior's, without its 2.5), and τ₀ = p₀/(d − p₀) · σ̃/√n (Piironen &
    Vehtari's eq. 3.12 in the scaled units: σ̃ = 1 for an outcome with units, 2 for
    labels on the logit scale, their pseudo-sd); the centre is the features' means
    (zeros for a model without intercept). Values given are kept.
    """
    key = f"{roles.weights}_prior"
    prior = priors.get(key)
    if not isinstance(prior, P.Horseshoe):
        return dict(priors)
    x_scale = np.asarray(s.x_scale, dtype=float)
    d = len(x_scale)
    if prior.relevant >= d and d > 1:
        raise ValueError(
            f"priors[{key!r}]: Horseshoe.relevant (p0 = {prior.relevant:g}) must be below the "
            f"number of weights d = {d}"
        )
    scale = prior.scale
    if scale is None:
        scale = tuple(float(v) for v in float(s.y_scale) / x_scale)
    tau0 = prior.global_scale
    if tau0 is None:
        pseudo = 1.0 if roles.y_has_units else 2.0
        tau0 = prior.relevant / max(d - prior.relevant, 1.0) * pseudo / float(np.sqrt(n))
    centre = prior.centre
    if centre is None:
        centre = tuple(float(v) for v in np.asarray(s.x_mean, dtype=float))
    filled = prior._replace(scale=scale, global_scale=float(tau0), centre=centre)
    return {**priors, key: filled}
