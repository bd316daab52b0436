"""EM for the spherical Gaussian mixture, the ``em`` method; its σ² → 0 limit is Lloyd's k-means.

The maximum-likelihood fit of :mod:`freqbayes.models.probabilistic.mixture` (flat
priors) by expectation–maximisation (Deep Learning §19.2; §5.8.2 for k-means):

* E-step: responsibilities r_ik = w_k N(x_i; μ_k, σ_k² I) / Σ_j w_j N(x_i; μ_j, σ_j² I),
  computed from log-densities with a ``logsumexp``;
* M-step: N_k = Σ_i r_ik, w_k = N_k / n, μ_k = Σ_i r_ik x_i / N_k,
  σ_k² = Σ_i r_ik ‖x_i − μ_k‖² / (d N_k) + ``reg_covar`` (scikit-learn's floor).

Each step cannot lower the log-likelihood. With one shared variance held fixed at
σ² → 0 and equal weights, r_ik becomes 1 for the nearest mean and 0 otherwise: the
E-step is Lloyd's assignment and the M-step his update — k-means is this EM's
limit (``fixed_variance``). As elsewhere in the package: a NamedTuple state, ``init``
and ``step`` as pure functions, the loop a ``lax.while_loop``.

The registered method ``em`` (:data:`EM`) applies to the model ``mixture`` only (its
declaration names it). Its algorithm is the pure :func:`em_run` (points, k, seed,
settings → the estimate); :func:`em_fit` is the plumbing around it (data, priors —
only the Dirichlet's length k is used — and the DataTree). EM starts at the k-means
centres (scikit-learn's ``GaussianMixture`` default, ``init_params="kmeans"``) and
orders the components by the first coordinate of their means, as
:func:`~freqbayes.models.probabilistic.mixture.relabel` orders NUTS draws.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from freqbayes.inference.optim import ConvergenceError
from freqbayes.inference.precision import jit
from freqbayes.inference.probabilistic.method import (
    Draws,
    Method,
    as_point,
    boolean,
    non_negative,
    positive,
    positive_int,
)
from freqbayes.inference.probabilistic.problem import Problem


class EMState(NamedTuple):
    """State of EM.

    Attributes
    ----------
    weights : array (k,)
        Mixing weights w_k.
    means : array (k, d)
        Component means μ_k.
    variances : array (k,)
        Per-component variances σ_k² (spherical).
    log_likelihood : array ()
        Mean log-likelihood per point at these parameters (scikit-learn's ``lower_bound_``
        once EM has converged).
    change : array ()
        Change of the mean log-likelihood in the last step (∞ before the first).
    iteration : array () int
        Steps done.
    """

    weights: jnp.ndarray
    means: jnp.ndarray
    variances: jnp.ndarray
    log_likelihood: jnp.ndarray
    change: jnp.ndarray
    iteration: jnp.ndarray


def log_joint(X: jnp.ndarray, state: EMState) -> jnp.ndarray:
    """log w_k + log N(x_i; μ_k, σ_k² I), (n, k)."""
    d = X.shape[1]
    sq = (
        jnp.sum(X * X, axis=1)[:, None]
        - 2.0 * X @ state.means.T
        + jnp.sum(state.means * state.means, axis=1)[None, :]
    )
    sq = jnp.maximum(sq, 0.0)
    log_norm = -0.5 * d * (jnp.log(2.0 * jnp.pi) + jnp.log(state.variances))
    return jnp.log(state.weights)[None, :] + log_norm[None, :] - 0.5 * sq / state.variances


def e_step(X: jnp.ndarray, state: EMState) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Responsibilities r (n, k) and the mean log-likelihood per point."""
    joint = log_joint(X, state)
    total = jax.scipy.special.logsumexp(joint, axis=1, keepdims=True)
    return jnp.exp(joint - total), jnp.mean(total)


def m_step(
    X: jnp.ndarray,
    resp: jnp.ndarray,
    reg_covar: float,
    fixed_variance: float | None = None,
    fixed_weights: jnp.ndarray | None = None,
) -> tuple[jnp.ndarray, jnp.ndarray, jnp.ndarray]:
    """Weights, means and variances maximising the expected log-likelihood given ``resp``.

    A component with no responsibility keeps a zero weight and mean 0 (as k-means'
    empty cluster would need a rule; the tests never leave one empty).
    """
    nk = jnp.sum(resp, axis=0) + 10 * jnp.finfo(X.dtype).eps
    means = (resp.T @ X) / nk[:, None]
    if fixed_variance is None:
        sq = (
            jnp.sum(X * X, axis=1)[:, None]
            - 2.0 * X @ means.T
            + jnp.sum(means * means, axis=1)[None, :]
        )
        variances = jnp.sum(resp * jnp.maximum(sq, 0.0), axis=0) / (X.shape[1] * nk) + reg_covar
    else:
        variances = jnp.full(means.shape[0], fixed_variance, X.dtype)
    weights = nk / X.shape[0] if fixed_weights is None else fixed_weights
    return weights, means, variances


def init(
    X: jnp.ndarray,
    means: jnp.ndarray,
    weights: jnp.ndarray | None = None,
    variances: jnp.ndarray | None = None,
) -> EMState:
    """The state at given means (equal weights and the data's mean variance by default)."""
    k = means.shape[0]
    weights = jnp.full(k, 1.0 / k, X.dtype) if weights is None else weights
    if variances is None:
        variances = jnp.full(k, jnp.mean(jnp.var(X, axis=0)), X.dtype)
    state = EMState(weights, means, variances, jnp.asarray(-jnp.inf, X.dtype),
                    jnp.asarray(jnp.inf, X.dtype), jnp.zeros((), jnp.int32))  # fmt: skip
    _, ll = e_step(X, state)
    return state._replace(log_likelihood=ll)


def step(
    X: jnp.ndarray,
    state: EMState,
    reg_covar: float = 1e-6,
    fixed_variance: float | None = None,
    fixed_weights: bool = False,
) -> EMState:
    """One E-step and one M-step."""
    resp, _ = e_step(X, state)
    weights, means, variances = m_step(
        X, resp, reg_covar, fixed_variance, state.weights if fixed_weights else None
    )
    new = EMState(weights, means, variances, state.log_likelihood, state.change,
                  state.iteration + 1)  # fmt: skip
    _, ll = e_step(X, new)
    return new._replace(log_likelihood=ll, change=ll - state.log_likelihood)


@functools.partial(jit, static_argnames=("max_iter", "fixed_weights"))
def em(
    X: jnp.ndarray,
    state: EMState,
    tol: float = 1e-3,
    max_iter: int = 100,
    reg_covar: float = 1e-6,
    fixed_variance: float | None = None,
    fixed_weights: bool = False,
) -> EMState:
    """EM from ``state`` until the mean log-likelihood changes by less than ``tol``.

    (scikit-learn's criterion: the change of ``lower_bound_`` below ``tol``.)
    """

    def keep_going(s: EMState) -> jnp.ndarray:
        return (jnp.abs(s.change) >= tol) & (s.iteration < max_iter)

    def body(s: EMState) -> EMState:
        return step(X, s, reg_covar, fixed_variance, fixed_weights)

    return jax.lax.while_loop(keep_going, body, state)


def labels(X: jnp.ndarray, state: EMState) -> jnp.ndarray:
    """Each point's most probable component."""
    return jnp.argmax(log_joint(X, state), axis=1)


class EMResult(NamedTuple):
    """The EM estimate, components ordered by the first coordinate of their means.

    Attributes
    ----------
    weights : ndarray (k,)
    means : ndarray (k, d)
    sigma : ndarray (k,)
        Per-component sd σ_k (the square root of EM's variance).
    log_likelihood : float
        Mean log-likelihood per point at the estimate.
    iterations : int
    converged : bool
        Whether the last step changed the mean log-likelihood by less than ``tol``.
    """

    weights: np.ndarray
    means: np.ndarray
    sigma: np.ndarray
    log_likelihood: float
    iterations: int
    converged: bool


def em_run(
    X: np.ndarray,
    k: int,
    seed: int,
    *,
    tol: float = 1e-6,
    max_iter: int = 500,
    reg_covar: float = 1e-6,
    n_init: int = 10,
) -> EMResult:
    """EM on the points X (n, d) from the k-means centres (``n_init`` starts, ``seed``).

    Pure: the same points, k, seed and settings give the same numbers. X is taken in
    JAX's float type (float32 unless x64).
    """
    from freqbayes.inference.learners.kmeans import KMeans

    X = np.asarray(X)
    Xj = jnp.asarray(X, jnp.result_type(float))
    km = KMeans(k, n_init=n_init, random_state=seed).fit(X)
    start = init(Xj, jnp.asarray(km.cluster_centers_, Xj.dtype))
    state = em(Xj, start, tol=tol, max_iter=max_iter, reg_covar=reg_covar)
    means = np.asarray(state.means)
    order = np.argsort(means[:, 0], kind="stable")
    return EMResult(
        np.asarray(state.weights)[order],
        means[order],
        np.sqrt(np.asarray(state.variances))[order],
        float(state.log_likelihood),
        int(state.iteration),
        bool(np.abs(np.asarray(state.change)) < tol),
    )


class EMSettings(NamedTuple):
    """``em``'s settings (:func:`em_run`'s, and whether to keep an unconverged estimate)."""

    tol: float = 1e-6
    max_iter: int = 500
    reg_covar: float = 1e-6
    n_init: int = 10
    allow_unconverged: bool = False


def run_em(problem: Problem, seed: int, settings: EMSettings) -> Draws:
    """The kernel: :func:`em_run` from the k-means start of ``seed`` (an int: ``keys=0``).

    Of the priors only the number of components k (the Dirichlet's length) is used.
    """
    s = settings
    X = problem.all_rows("em")[problem.model.observed]
    k = len(problem.priors["weights_prior"].concentration)
    result = em_run(
        X, k, seed, tol=s.tol, max_iter=s.max_iter, reg_covar=s.reg_covar, n_init=s.n_init
    )
    if not result.converged and not s.allow_unconverged:
        raise ConvergenceError(
            f"{problem.model.name}: EM did not converge in {s.max_iter} iterations "
            f"(tol {s.tol:g}); pass allow_unconverged=True to keep the estimate anyway"
        )
    dtype = np.asarray(problem.args[problem.model.observed]).dtype
    estimate = {"weights": result.weights, "mu": result.means, "sigma": result.sigma}
    record = {
        "estimator": "mle",
        "init": f"k-means ({s.n_init} starts)",
        "iterations": result.iterations,
        "converged": result.converged,
        "mean_log_likelihood": result.log_likelihood,
    }
    return Draws(as_point({k_: np.asarray(v).astype(dtype) for k_, v in estimate.items()}), record)


def em_fit(model: Any, data: Any, **settings: Any) -> xr.DataTree:
    """The mixture's maximum-likelihood estimate by EM (:func:`em_run`) as a one-draw DataTree.

    Parameters
    ----------
    model, data, seed, priors, pointwise
        As for :func:`~freqbayes.inference.mle`; of the priors only the number of
        components k (the Dirichlet's length) is used.
    tol, max_iter, reg_covar, n_init
        As for :func:`em_run`.
    allow_unconverged : bool
        Keep an estimate whose last step still changed the log-likelihood by ``tol``
        or more (else :class:`~freqbayes.inference.optim.ConvergenceError`).
    """
    return EM.fit(model, data, **settings)


EM = Method(
    "em",
    run_em,
    EMSettings,
    kind="point",
    about="expectation-maximisation: the Gaussian mixture's maximum-likelihood estimate",
    constraints={
        "tol": positive,
        "max_iter": positive_int,
        "n_init": positive_int,
        "reg_covar": non_negative,
        "allow_unconverged": boolean,
    },
    check=None,
    keys=0,
    uses_prior=False,
    general=False,
)
