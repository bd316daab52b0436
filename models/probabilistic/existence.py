"""Whether an estimate exists: named errors instead of numbers that mean nothing.

An optimiser or a sampler run on a problem without an answer still returns
numbers. These checks run before any fitting, on the data and the priors, and
raise an :class:`EstimateError` that names the reason:

* the logistic MLE does not exist under complete or quasi-complete separation
  (Albert & Anderson, 1984), detected exactly by a linear program (Konis, 2007);
* the MLE of a Gaussian noise scale is σ̂ = 0 when the model fits the data
  exactly (n = 1, constant data, p + 1 ≥ n), where the likelihood is unbounded;
* an MLE is not unique when the design is rank-deficient (collinear columns, p ≥ n);
* with flat priors the same failures make a MAP not exist or a posterior improper.

What is checked depends on what is estimated: ``"likelihood"`` (the MLE), ``"mode"``
(the MAP; also Laplace's centre) or ``"posterior"`` (NUTS, SVI, SGLD).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

KINDS = ("likelihood", "mode", "posterior")


class EstimateError(ValueError):
    """The requested estimate does not exist, is not unique, or the posterior is improper."""


class SeparationError(EstimateError):
    """The logistic MLE does not exist: the classes are (quasi-)completely separated."""


class NotIdentifiedError(EstimateError):
    """The estimate is not unique: the likelihood is flat along some direction."""


class DegenerateError(EstimateError):
    """The likelihood (or the posterior density) is unbounded: e.g. σ̂ = 0 for exact fits."""


def _design(X: np.ndarray | None, n: int, intercept: bool) -> np.ndarray:
    """Columns [1, X̃] (features standardised, for a well-conditioned rank test)."""
    cols = [np.ones((n, 1))] if intercept else []
    if X is not None and X.shape[1]:
        sd = X.std(axis=0)
        cols.append((X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0) if intercept else X)
    return np.concatenate(cols, axis=1) if cols else np.zeros((n, 0))


def _rank(A: np.ndarray) -> int:
    return int(np.linalg.matrix_rank(A)) if A.size else 0


def check_normal(
    kind: str,
    y: np.ndarray,
    X: np.ndarray | None,
    *,
    intercept: bool,
    flat: Sequence[bool],
    sigma: str,
    what: str = "σ",
) -> None:
    """Existence of estimates of a model y ~ N(b + Xθ, σ²).

    Parameters
    ----------
    kind : {"likelihood", "mode", "posterior"}
        What is estimated.
    y, X : arrays
        Outcome (n,) and features (n, d) or None.
    intercept : bool
        Whether the model has an intercept.
    flat : sequence of bool
        For each column of [1, X] (intercept first when present), whether its prior is flat.
    sigma : {"estimated", "estimated-ig", "known"}
        σ is estimated under a prior whose density stays positive at 0 (half-normal,
        half-Cauchy, flat), estimated under an inverse-gamma prior on σ² (whose
        density vanishes at 0), or known.
    what : str
        Name of the noise scale in messages.
    """
    n = len(y)
    A = _design(X, n, intercept)
    rank = _rank(A)
    flat_cols = A[:, np.asarray(flat, dtype=bool)] if A.shape[1] else A
    if kind == "likelihood":
        if rank < A.shape[1]:
            raise NotIdentifiedError(
                f"the MLE is not unique: the {A.shape[1]} columns of the design "
                f"(intercept and features) have rank {rank} with n = {n} rows, so the "
                "likelihood is flat along some direction (collinear features, or p ≥ n). "
                "Use a proper prior on the weights (MAP or posterior) or drop columns."
            )
    elif _rank(flat_cols) < flat_cols.shape[1]:
        verdict = "the MAP is not unique" if kind == "mode" else "the posterior is improper"
        raise NotIdentifiedError(
            f"{verdict}: the columns with flat priors are collinear (rank "
            f"{_rank(flat_cols)} of {flat_cols.shape[1]}, n = {n}), so the density is flat "
            "along some direction. Give those coefficients proper priors."
        )
    if sigma == "known":
        return
    coef, *_ = np.linalg.lstsq(A, y, rcond=None) if A.shape[1] else (np.zeros(0),)
    rss = float(np.sum((y - A @ coef) ** 2)) if A.shape[1] else float(np.sum(y**2))
    exact = rss <= 1e-20 * max(float(np.sum(y**2)), 1e-300) or rss == 0.0
    if not exact:
        return
    if n == 1:
        why = "n = 1"
    elif X is None or not np.size(X):
        why = "the data are constant"
    else:
        why = f"the model fits all n = {n} points exactly (rank {rank})"
    if kind == "likelihood":
        raise DegenerateError(
            f"the MLE of {what} is 0 ({why}): the likelihood grows without bound as "
            f"{what} → 0, so there is no finite maximum-likelihood estimate"
        )
    if sigma == "estimated" and (kind == "mode" or rank < n):
        verdict = "there is no MAP" if kind == "mode" else "the posterior is improper"
        raise DegenerateError(
            f"{verdict} ({why}): the density grows without bound as {what} → 0 under a "
            f"prior on {what} that is positive at 0. Use an inverse-gamma prior on "
            f"{what}² or more data"
        )


def separation(
    X: np.ndarray, y: np.ndarray, intercept: bool, free: Sequence[bool] | None = None
) -> str | None:
    """Detect complete or quasi-complete separation of binary labels by linear programs.

    Looks for a direction v of the coefficients (restricted to the columns where
    ``free`` is True) with s_i x̃_iᵀv ≥ 0 for every example (s_i = ±1 its label)
    and > 0 for some: moving along v never lowers the likelihood and raises it
    somewhere, so the supremum is not attained. Solved as max Σ_i s_i x̃_iᵀv over
    the box −1 ≤ v ≤ 1 (Konis, 2007), whose optimum is 0 exactly when no such v
    exists; a second program, max t subject to s_i x̃_iᵀv ≥ t, tells complete
    separation (t > 0: a hyperplane classifies every example strictly) from
    quasi-complete.

    Returns
    -------
    None, "quasi-complete" or "complete"
    """
    from scipy.optimize import linprog

    n = len(y)
    A = _design(X, n, intercept)
    free = np.ones(A.shape[1], bool) if free is None else np.asarray(free, dtype=bool)
    if not free.any():
        return None
    S = (2.0 * np.asarray(y) - 1.0)[:, None] * A[:, free]
    p = S.shape[1]
    res = linprog(
        -S.sum(axis=0), A_ub=-S, b_ub=np.zeros(n), bounds=[(-1.0, 1.0)] * p, method="highs"
    )
    if res.status != 0:  # pragma: no cover - HiGHS solves these bounded LPs
        raise RuntimeError(f"separation check: linear program failed ({res.message})")
    if -float(res.fun) <= 1e-7 * n:
        return None
    # max t  s.t.  S v ≥ t,  −1 ≤ v ≤ 1,  t ≤ 1   (variables v, t)
    c = np.r_[np.zeros(p), -1.0]
    A_ub = np.c_[-S, np.ones(n)]
    res = linprog(
        c, A_ub=A_ub, b_ub=np.zeros(n), bounds=[(-1.0, 1.0)] * p + [(None, 1.0)], method="highs"
    )
    complete = res.status == 0 and -float(res.fun) > 1e-9
    return "complete" if complete else "quasi-complete"


def check_horseshoe(kind: str, weights_prior: object) -> None:
    """Under a horseshoe prior only the posterior exists: no MLE or MAP of its sites.

    The weights are products of several sites (θ = u z τ λ̃), so the likelihood is flat
    along directions of those sites, and the prior density is unbounded as τ → 0.
    """
    from freqbayes.models.probabilistic.priors import Horseshoe

    if kind != "posterior" and isinstance(weights_prior, Horseshoe):
        raise DegenerateError(
            f"no {'MLE' if kind == 'likelihood' else 'MAP'} under a horseshoe prior: the "
            "weights are products of several sites and its density is unbounded as τ → 0; "
            "fit the posterior (nuts)"
        )


def check_binary(
    kind: str, X: np.ndarray, y: np.ndarray, *, intercept: bool, flat: Sequence[bool]
) -> None:
    """Existence of estimates of a logistic model: separation and identifiability."""
    n = len(y)
    if kind == "likelihood":
        found = separation(X, y, intercept)
        if found:
            labels = np.unique(y)
            how = (
                f"every one of the {n} labels is {int(labels[0])}"
                if len(labels) == 1
                else f"completely separated: a hyperplane classifies all {n} examples correctly"
                if found == "complete"
                else "quasi-completely separated: a hyperplane classifies every example "
                "correctly or puts it on the hyperplane"
            )
            raise SeparationError(
                f"logistic MLE does not exist: the classes are {how}, so the likelihood "
                "keeps growing along a direction of the coefficients and never attains its "
                "supremum. Use the MAP or the posterior (a proper prior on the weights) instead."
                if len(labels) > 1
                else f"logistic MLE does not exist: {how}, so the likelihood keeps growing "
                "as the intercept runs to infinity (a case of separation). Use the MAP or "
                "the posterior (a proper prior) instead."
            )
        A = _design(X, n, intercept)
        if _rank(A) < A.shape[1]:
            raise NotIdentifiedError(
                f"the MLE is not unique: the {A.shape[1]} columns of the design have rank "
                f"{_rank(A)} (collinear features, or p ≥ n). Use a proper prior on the weights."
            )
        return
    if any(flat):
        if separation(X, y, intercept, free=flat):
            verdict = "there is no MAP" if kind == "mode" else "the posterior is improper"
            raise SeparationError(
                f"{verdict}: the classes are separated along coefficients with flat priors, "
                "so the density keeps growing along them. Give those coefficients proper priors."
            )
        A = _design(X, n, intercept)[:, np.asarray(flat, dtype=bool)]
        if _rank(A) < A.shape[1]:
            verdict = "the MAP is not unique" if kind == "mode" else "the posterior is improper"
            raise NotIdentifiedError(
                f"{verdict}: the columns with flat priors are collinear "
                f"(rank {_rank(A)} of {A.shape[1]}). Give those coefficients proper priors."
            )
