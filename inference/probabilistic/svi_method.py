"""The SVI methods (``svi``, ``svi-fullrank``) and :func:`svi`: the kernels of :mod:`.svi`.

In memory the kernel is :func:`~.svi.run_svi`, or :func:`~.svi_control.run_taylor_svi`
for minibatches with control variates (:func:`run_in_memory`); on a table read chunk by chunk
(:func:`~.shares.read_streamed`) it is :func:`~.svi_stream.run_streamed_svi`.
"""

from __future__ import annotations

from typing import Any

import xarray as xr

from freqbayes.inference.probabilistic.method import (
    Method,
    boolean,
    optional,
    positive,
    positive_int,
)
from freqbayes.inference.probabilistic.optimize import whiten
from freqbayes.inference.probabilistic.problem import Problem
from freqbayes.inference.probabilistic.svi import CONTROL_VARIATES, GUIDES, SVIOptions, run_svi
from freqbayes.inference.probabilistic.svi_control import run_taylor_svi
from freqbayes.inference.probabilistic.svi_stream import run_streamed_svi


def svi(model: Any, data: Any, **settings: Any) -> xr.DataTree:
    """Stochastic variational inference with a Gaussian guide, maximising the ELBO.

    The guide is a Gaussian over the centred and scaled unconstrained coordinates u,
    started at the Laplace approximation (see :func:`~.svi.svi_fit`); Adam with a step
    size decaying ×0.1 over the run, no gradient clipping (which would change the
    optimum), and the guide's parameters averaged over the last fifth of the steps
    (Polyak–Ruppert), which removes most of the optimiser's jitter. Convergence is
    tested on the ELBO's gradient at the end (see :func:`~.svi.svi_fit`). A program
    without roles is fitted in coordinates whitened at its mode
    (:func:`~freqbayes.inference.probabilistic.optimize.whiten`).

    Parameters
    ----------
    model, data, seed, priors, pointwise
        As for :func:`~freqbayes.inference.nuts`.
    guide : {"mean-field", "full-rank"}
        ``AutoNormal`` (diagonal) or ``AutoMultivariateNormal`` (full covariance).
    num_steps : int
        Optimisation steps.
    step_size : float
        Initial Adam step size.
    num_chains, num_samples : int
        Shape (chain, draw) of the returned draws.
    allow_unconverged : bool
        Keep a fit whose ELBO gradient did not vanish instead of raising
        :class:`~freqbayes.inference.optim.ConvergenceError`.
    batch_size : int, optional
        m′: each step's ELBO gradient from a minibatch of m′ rows drawn with
        replacement, for data too large for a full-data gradient per step: with
        ``control_variates`` (below) by default; with ``control_variates="none"`` the
        log-likelihood scaled by n/m′ (unbiased; eq. 5.98, see
        :func:`~.svi._subsampled_model`), the guide started at u = 0 (the intercept-only
        fit) with sd :data:`~.svi.START_SCALE` instead of the full-data Laplace
        approximation. None
        (default), or m′ ≥ n: the full data. Required for a table read in chunks
        (data from :func:`~freqbayes.inference.probabilistic.shares.read_streamed`),
        fitted with Taylor control variates by
        :func:`~freqbayes.inference.probabilistic.svi_stream.run_streamed_svi`.
    control_variates : {"taylor", "none"}
        With ``batch_size`` on data in memory: ``"taylor"`` (default) estimates each
        step's log-likelihood from the full data's value and gradient at the mode plus
        n/m′ times the minibatch's remainder beyond them, still unbiased, with far less
        noise (:mod:`~freqbayes.inference.probabilistic.svi_control`: Newton's method on
        a sample of the rows, then a few full-data gradient passes to find the mode).
        The guide is then fitted in coordinates whitened by the approximate Laplace
        approximation there, so that a ``mean-field`` guide factorises over those, not
        over the scaled u: its sds are near the full-rank ones. Its fixed cost (tracing
        and the passes) makes it slower than the plain estimate on small data (10⁶ × 5:
        10.6 s against 7.8 s, compilation included). ``"none"``: eq. 5.98's plain
        estimate above, whose error grows like √(n/m′) posterior sds. Rows sharded over
        devices or processes take the plain estimate (the record's
        ``control_variates_used``); a table read in chunks always takes Taylor control
        variates (second order, :mod:`~freqbayes.inference.probabilistic.svi_stream`).
        Ignored without ``batch_size``.
    """
    return SVI_MEAN_FIELD.fit(model, data, **settings)


def run_in_memory(problem: Problem, key: Any, settings: SVIOptions) -> Any:
    """The kernel for data in memory: with control variates on minibatches, else plain.

    Rows sharded over devices or processes take the plain estimate (the sample, the
    full-data passes and the minibatches of :mod:`.svi_control` need the rows in one
    place), and the fit's record says so (``control_variates_used``).
    """
    batch = settings.batch_size
    if batch is None or batch >= problem.n or settings.control_variates == "none":
        return run_svi(problem, key, settings)
    if problem.sharded:
        draws = run_svi(problem, key, settings)
        draws.record["control_variates_used"] = "none: the rows are sharded"
        return draws
    return run_taylor_svi(problem, key, settings)


def check_control_variates(name: str, value: Any) -> None:
    """The declared check of ``control_variates``."""
    if value not in CONTROL_VARIATES:
        raise ValueError(f"{name}: must be one of {', '.join(CONTROL_VARIATES)}; got {value!r}")


def check_guide(name: str, value: Any) -> None:
    """The declared check of ``guide``."""
    if value not in GUIDES:
        raise ValueError(f"{name}: unknown guide {value!r}; known: {', '.join(GUIDES)}")


def _svi(name: str, guide: str, about: str) -> Method:
    return Method(
        name,
        run_in_memory,
        SVIOptions,
        streams=run_streamed_svi,
        about=about,
        constraints={
            "guide": check_guide,
            "num_steps": positive_int,
            "step_size": positive,
            "num_chains": positive_int,
            "num_samples": positive_int,
            "allow_unconverged": boolean,
            "batch_size": optional(positive_int),
            "control_variates": check_control_variates,
        },
        defaults={"guide": guide},
        quick={"num_chains": 2, "num_samples": 200, "num_steps": 2000},
        independent=True,
        setup=lambda problem, _: whiten(problem),  # a program without roles: whitened u
        label=lambda settings: f"svi-{settings.guide}",
        calibration=lambda b: {
            "num_samples": b.draws,
            "num_steps": b.steps,
            "allow_unconverged": True,
        },
    )


SVI_MEAN_FIELD = _svi(
    "svi", "mean-field", "variational inference, mean-field Gaussian guide (AutoNormal)"
)
SVI_FULL_RANK = _svi(
    "svi-fullrank",
    "full-rank",
    "variational inference, full-rank Gaussian guide (AutoMultivariateNormal)",
)
