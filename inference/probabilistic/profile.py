"""Profile-likelihood intervals: every θⱼ the likelihood-ratio test at 5% does not reject.

For one scalar parameter θⱼ the profile log-likelihood ℓₚ(θⱼ) = max over the other
parameters of log p(y | θ); the 95% interval is {θⱼ : 2(ℓ̂ − ℓₚ(θⱼ)) ≤ χ²₁(0.95)}
(Wilks). Unlike Wald it follows the likelihood's shape (asymmetric where the
likelihood is, e.g. for σ or a logistic weight at small n) and does not depend on
how θ is parameterised.

How it is computed, for every scalar parameter at once (one ``vmap`` over the
parameters and the two sides, compiled once):

* on the fitting coordinates u (:mod:`~freqbayes.inference.probabilistic.problem`),
  where the program's unconstrained zⱼ (θⱼ, or log θⱼ for a positive one) is the
  affine function aⱼ·u + bⱼ, move along eⱼ = aⱼ/‖aⱼ‖² by t (so zⱼ = ẑⱼ + t) and
  maximise over the other directions (an orthonormal basis of aⱼ's complement, by a
  Householder reflection) with L-BFGS, warm-started from the previous t;
* solve the signed root r(t) = sign(t) √(2(ℓ̂ − ℓₚ)) = ±1.96 by the secant method
  from the Wald guess (r is nearly linear in t, so a few steps suffice);
* map the end points zⱼ back to θⱼ (the interval of a monotone transform is the
  transform of the interval). A side whose r never reaches 1.96 is unbounded (±∞).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr
from jax.flatten_util import ravel_pytree
from numpyro.infer.util import constrain_fn

from freqbayes.inference.optim import (
    MAX_NEWTON_DIM,
    ConvergenceError,
    minimize,
    polish,
)
from freqbayes.inference.precision import jit
from freqbayes.inference.probabilistic import frequentist as F
from freqbayes.inference.probabilistic.method import Draws, Method, as_point
from freqbayes.inference.probabilistic.optimize import OPTIM_CONSTRAINTS, optimum
from freqbayes.inference.probabilistic.problem import Problem, Target, float_dtype
from freqbayes.inference.probabilistic.wald import (
    check_estimator,
    estimate_uses_prior,
    wald_covariances,
)

#: Secant iterations at most per end point.
MAX_STEPS = 40

#: An end point further than this many Wald standard errors is declared unbounded.
UNBOUNDED_SE = 1e3


class RootState(NamedTuple):
    """State of the secant search for one end point.

    Attributes
    ----------
    t_prev, r_prev : array ()
        The previous shift of zⱼ from ẑⱼ and its signed root.
    t, r : array ()
        The current shift and its signed root.
    v : array (d − 1,)
        The maximiser over the other directions at t (the next warm start).
    steps : array () int
        Secant steps made.
    inner_ok : array () bool
        Whether the inner maximisation converged at t.
    """

    t_prev: jnp.ndarray
    r_prev: jnp.ndarray
    t: jnp.ndarray
    r: jnp.ndarray
    v: jnp.ndarray
    steps: jnp.ndarray
    inner_ok: jnp.ndarray


def householder_complement(a: jnp.ndarray) -> jnp.ndarray:
    """An orthonormal basis (d × (d − 1)) of the complement of the vector ``a``."""
    d = a.shape[0]
    unit = a / jnp.linalg.norm(a)
    e1 = jnp.zeros(d, a.dtype).at[0].set(1.0)
    w = unit + jnp.where(unit[0] >= 0, 1.0, -1.0) * e1
    H = jnp.eye(d, dtype=a.dtype) - 2.0 * jnp.outer(w, w) / (w @ w)
    return H[:, 1:]


@functools.partial(jit, static_argnames=("target", "include_prior", "max_iter"))
def profile_bounds(
    target: Target,
    kwargs: Mapping[str, Any],
    s: Any,
    u_hat: Mapping[str, Any],
    include_prior: bool,
    gtol: float,
    rtol: float,
    max_iter: int = 1000,
) -> tuple[jnp.ndarray, jnp.ndarray, jnp.ndarray, jnp.ndarray]:
    """End points (shifts t of zⱼ from ẑⱼ) of every scalar parameter's 95% profile interval.

    Returns t (d × 2: lower, upper), whether each search converged, whether the
    inner maximisations converged there, and the program's ẑ (flattened).
    """
    u_flat, unravel_u = ravel_pytree(dict(u_hat))
    d = u_flat.shape[0]

    def neg(uf: jnp.ndarray) -> jnp.ndarray:
        return -target.log_density(kwargs, s, unravel_u(uf), include_prior)

    def z_of(uf: jnp.ndarray) -> jnp.ndarray:
        return ravel_pytree(target.to_user(s, unravel_u(uf)))[0]

    z_hat = z_of(u_flat)
    A = jax.jacfwd(z_of)(u_flat)  # z is affine in u
    H = jax.hessian(neg)(u_flat)
    cov = jnp.linalg.inv(0.5 * (H + H.T))
    sd_z = jnp.sqrt(jnp.einsum("jk,kl,jl->j", A, cov, A))
    ell_hat = -neg(u_flat)

    def one(a: jnp.ndarray, sd: jnp.ndarray, c: jnp.ndarray) -> tuple[jnp.ndarray, ...]:
        e = a / (a @ a)
        Q = householder_complement(a)

        def ell_p(t: jnp.ndarray, v0: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray, Any]:
            if d == 1:
                return -neg(u_flat + t * e), v0, jnp.ones((), bool)
            f = lambda v: neg(u_flat + t * e + Q @ v)  # noqa: E731
            v, info = minimize(f, v0, gtol=gtol, max_iter=max_iter)
            if d - 1 <= MAX_NEWTON_DIM:
                v, info = polish(f, v, info)
            return -f(v), v, info.converged

        def signed_root(t: jnp.ndarray, v0: jnp.ndarray) -> tuple[jnp.ndarray, ...]:
            value, v, ok = ell_p(t, v0)
            r = jnp.sign(t) * jnp.sqrt(jnp.maximum(2.0 * (ell_hat - value), 0.0))
            return r, v, ok

        v0 = jnp.zeros(d - 1, u_flat.dtype)
        t1 = c * sd
        r1, v1, ok1 = signed_root(t1, v0)
        zero = jnp.zeros((), u_flat.dtype)
        state = RootState(zero, zero, t1, r1, v1, jnp.zeros((), jnp.int32), ok1)

        def searching(st: RootState) -> jnp.ndarray:
            far = jnp.abs(st.t) > UNBOUNDED_SE * sd
            return (jnp.abs(st.r - c) > rtol) & (st.steps < MAX_STEPS) & ~far

        def step(st: RootState) -> RootState:
            slope = (st.r - st.r_prev) / (st.t - st.t_prev)
            secant = st.t + (c - st.r) / slope
            good = jnp.isfinite(secant) & (slope > 0) & (secant * c > 0)
            t_new = jnp.where(good, secant, 2.0 * st.t)
            # at most quadruple the step out, and never back across ẑ
            t_new = jnp.sign(c) * jnp.clip(jnp.abs(t_new), 1e-3 * jnp.abs(st.t), 4 * jnp.abs(st.t))
            r_new, v_new, ok = signed_root(t_new, st.v)
            return RootState(st.t, st.r, t_new, r_new, v_new, st.steps + 1, ok)

        final = jax.lax.while_loop(searching, step, state)
        found = jnp.abs(final.r - c) <= rtol
        unbounded = ~found & (jnp.abs(final.t) > UNBOUNDED_SE * sd)
        t_end = jnp.where(unbounded, jnp.sign(c) * jnp.inf, final.t)
        return t_end, found | unbounded, final.inner_ok | unbounded

    signs = jnp.array([-F.Z95, F.Z95], u_flat.dtype)
    rows = jnp.repeat(A, 2, axis=0)
    sds = jnp.repeat(sd_z, 2)
    cs = jnp.tile(signs, d)
    t, found, inner_ok = jax.vmap(one)(rows, sds, cs)
    return t.reshape(d, 2), found.reshape(d, 2), inner_ok.reshape(d, 2), z_hat


@functools.partial(jit, static_argnames=("target",))
def _to_params(target: Target, kwargs: Any, s: Any, u_hat: Any, t: jnp.ndarray) -> Any:
    """θⱼ at zⱼ = ẑⱼ + tⱼ (the others at ẑ), for the lower and the upper end points."""
    z_hat, unravel_z = ravel_pytree(target.to_user(s, dict(u_hat)))
    d = z_hat.shape[0]

    def at(j: jnp.ndarray, shift: jnp.ndarray) -> jnp.ndarray:
        z = unravel_z(z_hat.at[j].add(shift))
        theta = constrain_fn(target.program, (), kwargs, z)
        return ravel_pytree({k: theta[k] for k in z})[0][j]

    idx = jnp.arange(d)
    return jax.vmap(at)(idx, t[:, 0]), jax.vmap(at)(idx, t[:, 1])


class ProfileSettings(NamedTuple):
    """The profile's settings: the estimator and the optimiser's (also of each inner fit)."""

    estimator: str = "mle"
    max_iter: int = 1000
    allow_unconverged: bool = False


def run_profile(problem: Problem, key: None, settings: ProfileSettings) -> Draws:
    """The kernel: θ̂, then both end points of every scalar's interval at once."""
    estimator, max_iter = settings.estimator, settings.max_iter
    objective = F.check_estimator(estimator)
    rtol = 1e-3 if jnp.finfo(float_dtype()).bits <= 32 else 1e-8
    u_hat, params, gtol, found_record = optimum(problem, objective, settings)
    args = (problem.target, problem.kwargs, problem.scaling, u_hat)
    t, found, inner_ok, _ = profile_bounds(*args, objective == "posterior", gtol, rtol, max_iter)
    lower, upper = _to_params(*args, t)
    found, inner_ok = np.asarray(found), np.asarray(inner_ok)
    unravel = F.unravel_like(params)
    try:  # the Wald se beside the profile interval, as R's summary() beside confint()
        se = F.std_errors(wald_covariances(problem, params, estimator, u_hat)[1], unravel)
    except ConvergenceError:
        se = {}
    if np.asarray(t).shape[0] != ravel_pytree(dict(params))[0].shape[0]:
        raise ValueError(f"{problem.model.name}: profile needs elementwise parameters")
    if not (found.all() and inner_ok.all()) and not settings.allow_unconverged:
        names = _names(params)
        bad = sorted({names[j] for j in np.argwhere(~(found & inner_ok))[:, 0]})
        raise ConvergenceError(
            f"{problem.model.name}: profile: the 95% end point was not found for "
            f"{', '.join(bad)} (the profile likelihood could not be maximised there)"
        )
    lo = {k: np.asarray(v) for k, v in unravel(lower).items()}
    hi = {k: np.asarray(v) for k, v in unravel(upper).items()}
    record = {
        "profile_unbounded": int(np.isinf(np.asarray(t)).sum()),
        "profile_rtol": rtol,
        **found_record,
    }
    estimate = {k: np.asarray(v) for k, v in params.items()}
    about = {"profile": "{θⱼ : 2(ℓ̂ − ℓₚ(θⱼ)) ≤ χ²₁(0.95) = 3.84}, ℓₚ maximised over the others"}
    groups = F.interval_groups(
        problem, estimate, {"profile": (lo, hi)}, about=about, std_errors={"profile": se}
    )
    note = F.sampling_note(estimator, "profile likelihood; the likelihood-ratio test inverted")
    return Draws(as_point(params), record, groups=groups, note=note)


def profile(model: Any, data: Any, **settings: Any) -> xr.DataTree:
    """Profile-likelihood 95% intervals for every scalar parameter, beside the MLE (or MAP).

    Parameters
    ----------
    model, data, seed, priors, pointwise
        As for :func:`~freqbayes.inference.nuts`.
    estimator : {"mle", "map"}
        Profile the log-likelihood ("mle") or the log posterior density ("map").
    max_iter, allow_unconverged
        As for :func:`~freqbayes.inference.mle` (``max_iter`` also bounds each inner
        maximisation).

    Returns
    -------
    DataTree
        θ̂ as a one-draw ``posterior`` and as ``estimate``, the ``profile``
        interval in ``confidence_interval`` (±∞ where a side is unbounded), and the
        Wald standard error √diag(H⁻¹) in ``std_error`` (NaN where H is not
        positive definite).

    Raises
    ------
    EstimateError
        If the estimate does not exist on these data.
    ConvergenceError
        If the estimate or an end point was not found.
    """
    return PROFILE.fit(model, data, **settings)


def _names(params: Mapping[str, Any]) -> list[str]:
    """A label per scalar of the flattened parameters, in ravel order."""
    out = []
    for k in sorted(params):
        size = int(np.size(params[k]))
        out += [k] if np.ndim(params[k]) == 0 else [f"{k}[{i}]" for i in range(size)]
    return out


PROFILE = Method(
    "profile",
    run_profile,
    ProfileSettings,
    kind="point",
    about="profile-likelihood 95% intervals: the likelihood-ratio test inverted per parameter",
    constraints={"estimator": check_estimator, **OPTIM_CONSTRAINTS},
    check=None,
    keys=0,
    uses_prior=estimate_uses_prior,
)
