"""Checkers for the notebooks' write-it-yourself exercises: one per notebook.

Each notebook ends with an exercise that asks the student to write a NumPyro program
or an estimator from scratch. ``check_…(your_function)`` runs it on data of its own
(raw units where the estimator must cope with them), compares it with an exact
reference, and returns a line starting with ``"correct:"`` (``"正解:"`` in Japanese,
:mod:`freqbayes.i18n`); a wrong answer raises
:class:`WrongAnswer` with a message that says what is wrong (and, for the usual
mistakes, why). The worked answers are in ``notebooks/answers.md``; the test suite
runs them through these checkers, and wrong answers through them too. Every message
is in the translation catalogue (:mod:`freqbayes.i18n`).

Longer than 400 lines: one checker and its translated messages per notebook, filled in
after translating.

=====================  =========================================================
checker                what the student writes
=====================  =========================================================
``check_student_t``    NumPyro: robust location model x ~ StudentT(4, μ, σ) (nb 01)
``check_ols_wald``     OLS with its Wald standard errors, σ̂² = RSS/n (nb 02)
``check_logistic_mle`` Newton's method for the logistic MLE, and its Wald se (nb 03)
``check_linear_svm``   the soft-margin linear SVM, hinge loss + ‖w‖²/2 (nb 04)
``check_kmeans_pp``    k-means++ seeding by D² sampling (nb 05)
``check_sgd``          minibatch SGD for least squares, eqs. 5.96–5.98 (nb 06)
``check_knn``          k-nearest-neighbour majority vote (nb 07)
=====================  =========================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import stats

from freqbayes.i18n import _


class WrongAnswer(AssertionError):
    """An exercise's answer failed its check; the message says how."""


def _array(value: Any, name: str, shape: tuple[int, ...]) -> np.ndarray:
    try:
        out = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise WrongAnswer(
            _("{name} is not an array of numbers: {error}").format(name=name, error=err)
        ) from None
    if out.shape != shape:
        raise WrongAnswer(
            _("{name} has shape {shape}; expected {expected}").format(
                name=name, shape=out.shape, expected=shape
            )
        )
    if not np.all(np.isfinite(out)):
        raise WrongAnswer(
            _("{name} has NaN or infinite entries: {values}").format(name=name, values=out)
        )
    return out


def _close(name: str, got: np.ndarray, want: np.ndarray, rtol: float, hint: str = "") -> None:
    worst = float(np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-12)))
    if worst > rtol:
        message = _(
            "{name} is off by up to {worst:.2g} (relative; allowed {rtol:g}):\n"
            "  yours: {yours}\n"
            "  exact: {exact}"
        ).format(
            name=name,
            worst=worst,
            rtol=rtol,
            yours=np.array2string(got, precision=6),
            exact=np.array2string(want, precision=6),
        )
        raise WrongAnswer(message + (f"\n{hint}" if hint else ""))


def _raw_design(rng: np.random.Generator, n: int) -> np.ndarray:
    """Two raw columns in their own units: means near 100 and 50, sds 15 and 4."""
    return np.c_[rng.normal(100.0, 15.0, n), rng.normal(50.0, 4.0, n)]


# ---------------------------------------------------------------- 01: a NumPyro program
def check_student_t(program: Callable[..., None]) -> str:
    """Check ``program(x)``: μ ~ N(0, 10²), σ ~ HalfNormal(10), x_i ~ StudentT(4, μ, σ).

    The sample sites must be named ``"mu"``, ``"sigma"`` and ``"x"`` (observed). The
    log joint density log p(x, μ, σ) of the program is compared with the exact one at
    four points (NumPyro's ``log_density``).
    """
    from numpyro import handlers
    from numpyro.infer.util import log_density

    x = np.random.default_rng(1).standard_t(4, 30) * 0.4 + 5.0
    trace = handlers.trace(handlers.seed(program, 0)).get_trace(x)
    for name in ("mu", "sigma", "x"):
        if name not in trace:
            raise WrongAnswer(
                _("your program has no sample site named {name}").format(name=repr(name))
            )
    if not trace["x"]["is_observed"] or np.shape(trace["x"]["value"]) != x.shape:
        raise WrongAnswer(_("the site 'x' must be observed: obs=x, one value per data point"))
    for mu, sigma in [(5.0, 0.4), (4.0, 1.0), (0.0, 3.0), (5.5, 0.2)]:
        got, _trace = log_density(program, (x,), {}, {"mu": mu, "sigma": sigma})
        want = (
            stats.norm.logpdf(mu, 0.0, 10.0)
            + stats.halfnorm.logpdf(sigma, scale=10.0)
            + stats.t.logpdf(x, 4, mu, sigma).sum()
        )
        _close(
            f"log p(x, μ={mu}, σ={sigma})",
            np.atleast_1d(float(got)),
            np.atleast_1d(want),
            1e-4,
            _(
                "Check each prior, the degrees of freedom (4), and that the likelihood is "
                "inside a plate (or sums over all data points)."
            ),
        )
    return _("correct: your program's log density is the exact one at four (μ, σ)")


# ---------------------------------------------------------------- 02: OLS and Wald se
def check_ols_wald(estimator: Callable[[np.ndarray, np.ndarray], Any]) -> str:
    """Check ``estimator(X, y) -> (coef, se)``, intercept first, on raw columns.

    ``coef`` is the least-squares fit [b, θ₁, …, θ_d] (the conditional MLE, §5.5.1),
    ``se`` the Wald standard errors √diag(σ̂² (AᵀA)⁻¹) with A = [1, X] and the MLE
    σ̂² = RSS/n (the inverse observed information).
    """
    rng = np.random.default_rng(2)
    X = _raw_design(rng, 40)
    y = 2000.0 + 12.0 * X[:, 0] - 30.0 * X[:, 1] + rng.normal(0.0, 150.0, 40)
    A = np.c_[np.ones(len(y)), X]
    coef, *_rest = np.linalg.lstsq(A, y, rcond=None)
    rss = float(np.sum((y - A @ coef) ** 2))
    cov = np.linalg.inv(A.T @ A)
    se = np.sqrt(np.diag(cov) * rss / len(y))
    out = estimator(X.copy(), y.copy())
    if not isinstance(out, tuple) or len(out) != 2:
        raise WrongAnswer(_("return a pair (coef, se)"))
    got_coef = _array(out[0], "coef", (3,))
    got_se = _array(out[1], "se", (3,))
    _close("coef", got_coef, coef, 1e-6, _("Did you put the intercept first?"))
    ratio = float(np.median(got_se / se))
    hint = (
        _(
            "Your se are √(n/(n − p)) times the MLE's: that is the textbook OLS se (σ̂² = "
            "RSS/(n − p)); this exercise asks for the Wald se of the MLE, σ̂² = RSS/n."
        )
        if abs(ratio - np.sqrt(40 / 37)) < 1e-3
        else ""
    )
    _close("se", got_se, se, 1e-6, hint)
    return _("correct: least squares and its Wald standard errors, on raw units")


# ---------------------------------------------------------------- 03: Newton for logistic
def _logistic_newton(A: np.ndarray, y: np.ndarray, theta: np.ndarray) -> np.ndarray:
    for _step in range(50):
        p = 1.0 / (1.0 + np.exp(-(A @ theta)))
        step = np.linalg.solve((A * (p * (1 - p))[:, None]).T @ A, A.T @ (y - p))
        theta = theta + step
        if np.max(np.abs(step)) < 1e-13 * (1 + np.max(np.abs(theta))):
            break
    return theta


def check_logistic_mle(estimator: Callable[[np.ndarray, np.ndarray], Any]) -> str:
    """Check ``estimator(X, y) -> (coef, se)`` for logistic regression, intercept first.

    ``coef`` is the maximum-likelihood estimate of p(y = 1 | x) = σ(b + θᵀx) (eq. 5.81),
    on raw columns; ``se`` the Wald standard errors √diag(H⁻¹), H = AᵀWA with
    W = diag(p̂(1 − p̂)) the observed information at the MLE.
    """
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    X = _raw_design(rng, 300)
    eta = -12.0 + 0.05 * X[:, 0] + 0.12 * X[:, 1]
    y = (rng.random(300) < 1.0 / (1.0 + np.exp(-eta))).astype(float)
    # the exact MLE: scikit-learn on standardised columns (the MLE is equivariant under
    # affine maps of the features), mapped back and polished by Newton in float64
    mean, sd = X.mean(0), X.std(0)
    ref = LogisticRegression(C=np.inf, tol=1e-10, max_iter=10_000).fit((X - mean) / sd, y)
    slope = ref.coef_[0] / sd
    A = np.c_[np.ones(len(y)), X]
    coef = _logistic_newton(A, y, np.r_[ref.intercept_[0] - slope @ mean, slope])
    p = 1.0 / (1.0 + np.exp(-(A @ coef)))
    se = np.sqrt(np.diag(np.linalg.inv((A * (p * (1 - p))[:, None]).T @ A)))
    out = estimator(X.copy(), y.copy())
    if not isinstance(out, tuple) or len(out) != 2:
        raise WrongAnswer(_("return a pair (coef, se)"))
    got_coef = _array(out[0], "coef", (3,))
    got_se = _array(out[1], "se", (3,))
    _close(
        "coef",
        got_coef,
        coef,
        1e-5,
        _(
            "Intercept first; iterate Newton's step θ ← θ + H⁻¹ Aᵀ(y − p) until it stops "
            "moving (gradient descent with a fixed step does not converge on raw units)."
        ),
    )
    _close("se", got_se, se, 1e-4, _("se = √diag(H⁻¹) with H evaluated at the MLE."))
    return _("correct: the logistic MLE by Newton's method and its Wald standard errors")


# ---------------------------------------------------------------- 04: the linear SVM
def svm_objective(w: np.ndarray, b: float, X: np.ndarray, y: np.ndarray, C: float) -> float:
    """The soft-margin primal ½‖w‖² + C Σ max(0, 1 − yᵢ(wᵀxᵢ + b)) (§5.7.2)."""
    return float(0.5 * w @ w + C * np.maximum(0.0, 1.0 - y * (X @ w + b)).sum())


def check_linear_svm(estimator: Callable[[np.ndarray, np.ndarray, float], Any]) -> str:
    """Check ``estimator(X, y, C) -> (w, b)`` minimises the soft-margin primal.

    y ∈ {−1, +1}; the objective is :func:`svm_objective` (the intercept b is not
    penalised). Two overlapping classes in 2-D, C = 1 and C = 10; the answer's
    objective must be within 0.1% of the optimum, and w within 1%.
    """
    from sklearn.svm import SVC

    rng = np.random.default_rng(4)
    X = np.r_[rng.normal(-1.0, 1.0, (30, 2)), rng.normal(1.0, 1.0, (30, 2))]
    y = np.r_[-np.ones(30), np.ones(30)]
    for C in (1.0, 10.0):
        ref = SVC(kernel="linear", C=C, tol=1e-10).fit(X, y)
        w, b = ref.coef_[0], float(ref.intercept_[0])
        best = svm_objective(w, b, X, y, C)
        out = estimator(X.copy(), y.copy(), C)
        if not isinstance(out, tuple) or len(out) != 2:
            raise WrongAnswer(_("return a pair (w, b)"))
        got_w = _array(out[0], "w", (2,))
        got_b = float(_array(out[1], "b", ()))
        got = svm_objective(got_w, got_b, X, y, C)
        if got > best * (1 + 1e-3):
            raise WrongAnswer(
                _(
                    "C = {C}: your objective is {got:.6g}, the optimum {best:.6g}: not "
                    "minimised (sub-gradient steps need a decreasing step size, or solve the QP)"
                ).format(C=C, got=got, best=best)
            )
        _close(_("w at C = {C}").format(C=C), got_w, w, 1e-2)
    return _("correct: your (w, b) minimise hinge loss + ‖w‖²/2 at C = 1 and C = 10")


# ---------------------------------------------------------------- 05: k-means++ seeding
def check_kmeans_pp(
    seeding: Callable[[np.ndarray, int, np.random.Generator], Any], runs: int = 4000
) -> str:
    """Check ``seeding(X, k, rng) -> centres`` draws k-means++'s D² distribution.

    The first centre is a data point chosen uniformly, each next one a data point
    chosen with probability ∝ D(x)², its squared distance to the nearest centre so far
    (Arthur & Vassilvitskii 2007). ``centres`` are rows of X in the order chosen;
    ``rng`` is a NumPy Generator, the only source of randomness. On four points on a
    line, the frequencies of the ordered pairs (first, second) over ``runs`` draws
    are compared with the exact probabilities by a χ² test (level 0.001).
    """
    X = np.array([[0.0], [1.0], [3.0], [7.0]])
    n = len(X)
    d2 = (X - X.T) ** 2
    exact = d2 / d2.sum(axis=1, keepdims=True) / n  # P(first = i, second = j)
    rng = np.random.default_rng(5)
    counts = np.zeros((n, n))
    for _run in range(runs):
        centres = _array(seeding(X.copy(), 2, rng), "centres", (2, 1))
        rows = [int(np.flatnonzero(X[:, 0] == c[0])[0]) if c[0] in X else -1 for c in centres]
        if -1 in rows:
            raise WrongAnswer(
                _("centres must be rows of X; got {centres}").format(centres=centres.ravel())
            )
        counts[rows[0], rows[1]] += 1
    if np.trace(counts) > 0:
        raise WrongAnswer(_("the second centre repeated the first: D² sampling never does"))
    off = ~np.eye(n, dtype=bool)
    expected = exact[off] * runs
    chi2 = float(np.sum((counts[off] - expected) ** 2 / expected))
    p_value = float(stats.chi2.sf(chi2, off.sum() - 1))
    if p_value < 1e-3:
        raise WrongAnswer(
            _(
                "the pairs (first, second) do not follow D² sampling (χ² = {chi2:.0f}, "
                "p = {p:.1e}): frequencies\n{frequencies}\nexact\n{exact}\n(a second "
                "centre chosen uniformly, or the farthest point, fails here)"
            ).format(
                chi2=chi2,
                p=p_value,
                frequencies=np.round(counts / runs, 3),
                exact=np.round(exact, 3),
            )
        )
    big = np.random.default_rng(6).normal(size=(50, 3))
    centres = _array(seeding(big.copy(), 5, np.random.default_rng(0)), "centres", (5, 3))
    if len({tuple(c) for c in centres}) != 5:
        raise WrongAnswer(_("with k = 5 the centres are not five distinct data points"))
    return _("correct: D² sampling (χ² = {chi2:.1f} on {df} df, p = {p:.2f})").format(
        chi2=chi2, df=off.sum() - 1, p=p_value
    )


# ---------------------------------------------------------------- 06: minibatch SGD
def check_sgd(sgd: Callable[..., Any]) -> str:
    """Check ``sgd(X, y, m_prime, epsilon, steps, seed) -> theta`` for least squares.

    J(θ) = (1/m) Σ ½(θᵀxᵢ − yᵢ)² (eq. 5.96); each step draws a minibatch of m′ rows
    (eq. 5.98: g = (1/m′) Σ ∇ of the loss), and θ ← θ − εg from θ = 0. ``seed`` fixes
    the minibatches. The answer must reach J within 1% of the least-squares minimum,
    give the same θ for the same seed and a different θ for another seed (the steps
    are stochastic).
    """
    rng = np.random.default_rng(7)
    X = np.c_[np.ones(4000), rng.normal(size=(4000, 4))]
    y = X @ np.array([1.0, 2.0, -1.0, 0.5, 0.0]) + rng.normal(size=4000)

    def loss(theta: np.ndarray) -> float:
        return float(0.5 * np.mean((X @ theta - y) ** 2))

    best = loss(np.linalg.lstsq(X, y, rcond=None)[0])
    theta = np.asarray(sgd(X.copy(), y.copy(), 128, 0.1, 1000, 0), dtype=float)
    if theta.shape == (5,) and not np.all(np.isfinite(theta)):
        raise WrongAnswer(_("θ diverged: is g the mean (not the sum) over the minibatch?"))
    theta = _array(theta, "theta", (5,))
    if loss(theta) > 1.01 * best:
        raise WrongAnswer(
            _(
                "J(θ) = {loss:.5f} after 1,000 steps of m′ = 128, ε = 0.1; the minimum "
                "is {best:.5f}. Is the step θ ← θ − εg, with g the minibatch's mean gradient?"
            ).format(loss=loss(theta), best=best)
        )
    again = _array(sgd(X.copy(), y.copy(), 128, 0.1, 1000, 0), "theta", (5,))
    if not np.array_equal(theta, again):
        raise WrongAnswer(_("the same seed gave a different θ: draw minibatches from `seed` only"))
    other = _array(sgd(X.copy(), y.copy(), 128, 0.1, 1000, 1), "theta", (5,))
    if np.array_equal(theta, other):
        raise WrongAnswer(_("another seed gave the same θ: are the minibatches random?"))
    return _("correct: J(θ) = {loss:.5f} against the minimum {best:.5f}").format(
        loss=loss(theta), best=best
    )


# ---------------------------------------------------------------- 07: k-NN
def check_knn(classify: Callable[[np.ndarray, np.ndarray, np.ndarray, int], Any]) -> str:
    """Check ``classify(X_train, y_train, X_test, k) -> labels`` (majority vote, §5.11).

    Euclidean distance; labels are the training labels' own values (here 3 and 8).
    Compared with scikit-learn's ``KNeighborsClassifier`` for k = 1, 3 and 7 on
    2-D and 10-D data: every predicted label must agree.
    """
    from sklearn.neighbors import KNeighborsClassifier

    rng = np.random.default_rng(8)
    for d in (2, 10):
        X = rng.normal(size=(200, d))
        y = np.where(X[:, 0] + 0.5 * rng.normal(size=200) > 0, 8, 3)
        X_test = rng.normal(size=(100, d))
        for k in (1, 3, 7):
            want = KNeighborsClassifier(k).fit(X, y).predict(X_test)
            got = np.asarray(classify(X.copy(), y.copy(), X_test.copy(), k))
            if got.shape != want.shape:
                raise WrongAnswer(
                    _("labels has shape {shape}; expected {expected}").format(
                        shape=got.shape, expected=want.shape
                    )
                )
            wrong = int(np.sum(got != want))
            if wrong:
                message = _(
                    "d = {d}, k = {k}: {wrong} of {n} labels differ from the "
                    "majority vote of the k nearest training points"
                ).format(d=d, k=k, wrong=wrong, n=len(want))
                if set(got) - {3, 8}:
                    message += _(" (return the training labels, 3 and 8)")
                raise WrongAnswer(message)
    return _("correct: the same labels as scikit-learn for k = 1, 3, 7 in 2 and 10 dimensions")


# ---------------------------------------------------------------- 08: EM for a mixture
def check_em_step(em_step: Callable[..., Any]) -> str:
    """Check ``em_step(X, weights, means, variances) -> (weights, means, variances)``.

    One EM step of the spherical Gaussian mixture (responsibilities, then the weighted
    means, per-component variances Σ r ‖x − μ‖² / (d N_k) and weights N_k / n, no
    variance floor), compared with :func:`freqbayes.inference.probabilistic.em.step`
    from five random states on raw-unit points; the log-likelihood must not fall.
    """
    import jax.numpy as jnp

    from freqbayes.inference.learners import mixture as M

    rng = np.random.default_rng(8)
    X = np.concatenate(
        [rng.normal(c, 3.0, (60, 3)) for c in ([100.0, 20, 5], [108, 26, 9], [95, 30, 2])]
    )
    Xj = jnp.asarray(X, jnp.result_type(float))
    for _start in range(5):
        means = X[rng.choice(len(X), 3, replace=False)] + rng.normal(0, 1, (3, 3))
        weights = rng.dirichlet(np.ones(3) * 5)
        variances = rng.uniform(4.0, 20.0, 3)
        got = em_step(X.copy(), weights.copy(), means.copy(), variances.copy())
        if not isinstance(got, tuple | list) or len(got) != 3:
            raise WrongAnswer(_("em_step must return (weights, means, variances)"))
        w, m, v = (
            _array(got[0], "weights", (3,)),
            _array(got[1], "means", (3, 3)),
            _array(got[2], "variances", (3,)),
        )
        start = M.EMState(*(jnp.asarray(a, Xj.dtype) for a in (weights, means, variances)),
                          jnp.zeros((), Xj.dtype), jnp.zeros((), Xj.dtype),
                          jnp.zeros((), jnp.int32))  # fmt: skip
        want = M.step(Xj, start, reg_covar=0.0)
        hint = _("E-step: r_ik ∝ w_k N(x_i; μ_k, σ_k² I) (the weights and the 1/σ^d matter)")
        _close("weights", w, np.asarray(want.weights), 1e-4, hint)
        _close("means", m, np.asarray(want.means), 1e-4, hint)
        _close("variances", v, np.asarray(want.variances), 1e-4,
               _("σ_k² = Σ_i r_ik ‖x_i − μ_k‖² / (d N_k), with the new μ_k"))  # fmt: skip
        yours = start._replace(
            weights=jnp.asarray(w, Xj.dtype),
            means=jnp.asarray(m, Xj.dtype),
            variances=jnp.asarray(v, Xj.dtype),
        )
        if float(M.e_step(Xj, yours)[1]) < float(M.e_step(Xj, start)[1]) - 1e-5:
            raise WrongAnswer(_("the log-likelihood fell: not an EM step"))
    return _("correct: your EM step is the package's (5 random starts, raw units)")
