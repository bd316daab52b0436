"""The deck's slides 3–14: likelihood and posterior, regression, the sigmoid, the SVM, kernels.

Each function computes its slide's numbers from the lessons (:mod:`freqbayes.lessons`),
the closed forms (:mod:`freqbayes.models`) and the learners, and returns a
:class:`~freqbayes.slides.base.Slide`; every number in a bullet is formatted from the
computation. Fast computations only: no MCMC.

Longer than 400 lines: eleven slides, each with its computation, bullets and notes
(the notes are the whiteboard derivations); split, one outline part would be cut in two.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from freqbayes import lessons as L
from freqbayes.figures import slides as S
from freqbayes.figures._style import BAYES, FREQ, TRUTH
from freqbayes.i18n import _
from freqbayes.models import data as D
from freqbayes.slides.base import Slide


def maximum_likelihood(seed: int) -> Slide:
    """Slide 3 (whiteboard): the MLE minimises the cross-entropy; under Gaussian noise, the MSE."""
    m = 40
    d = L.mle_as_divergence(seed, m=m)
    mu = float(d.mu[np.argmin(d.cross_entropy)])
    w_nll, w_mse = float(d.w[np.argmin(d.nll)]), float(d.w[np.argmin(d.mse)])
    return Slide(
        "mle-cross-entropy",
        "3",
        _("Maximum likelihood = least cross-entropy"),
        [
            _("The cross-entropy is lowest at μ = {mu:.3f}: the sample mean x̄ = {xbar:.3f}").format(
                mu=mu, xbar=d.xbar
            ),
            _("Gaussian noise: the NLL and the MSE are both lowest at w = {w:.3f}").format(w=w_nll),
            _("m = {m} points; the entropy of p̂_data does not depend on θ").format(m=m),
        ],
        _(
            "θ_ML = argmax_θ Σᵢ log p_model(x⁽ⁱ⁾; θ) (eq. 5.58) = argmax_θ E_{x∼p̂_data} "
            "log p_model(x; θ) (eq. 5.59). D_KL(p̂_data ‖ p_model) = E[log p̂_data(x)] − "
            "E[log p_model(x)] (eq. 5.60): the first term does not depend on θ, so the KL "
            "divergence and the cross-entropy −E[log p_model(x)] (eq. 5.61) have the same "
            "minimiser, the MLE. With y | x ∼ N(ŷ(x; w), σ²) the conditional log-likelihood is "
            "−m log σ − (m/2) log 2π − Σᵢ ‖ŷ⁽ⁱ⁾ − y⁽ⁱ⁾‖²/(2σ²) (eq. 5.65): maximising it "
            "minimises the MSE (eq. 5.66)."
        ),
        partial(S.cross_entropy, d),
        "principles",
        {"mu": mu, "xbar": d.xbar, "w_nll": w_nll, "w_mse": w_mse},
    )


def bayesian_regression(seed: int, n: int = 20, tau: float = 0.25) -> Slide:
    """Slide 4 (whiteboard): prior × likelihood → posterior of a regression slope, σ known.

    The first ``n`` patients of diabetes against body-mass index (a small sample, so
    that the prior visibly pulls); the noise sd fixed at its OLS estimate, the intercept
    flat. The likelihood (normalised) is the posterior under a flat prior.
    """
    from freqbayes.models.probabilistic import linear
    from freqbayes.models.probabilistic import priors as P

    data = L.select_features(D.diabetes(), ["bmi"])
    X, y = data.X[:n], data.y[:n]
    sigma = float(np.sqrt(linear.ols(X, y).sigma2 * n / (n - 2)))
    like = linear.posterior_known_sigma(X, y, sigma, P.Flat())
    post = linear.posterior_known_sigma(X, y, sigma, P.Normal(0.0, tau))
    curves = {
        _("prior N(0, τ²)"): (0.0, tau),
        _("likelihood"): (float(like.mean[1]), float(like.sd[1])),
        _("posterior"): (float(post.mean[1]), float(post.sd[1])),
    }
    lo = min(m - 4 * s for m, s in curves.values())
    hi = max(m + 4 * s for m, s in curves.values())
    figure = partial(
        S.prior_likelihood_posterior, np.linspace(lo, hi, 600), curves, ("#777777", FREQ, BAYES)
    )
    precision = {
        k: 1 / v[1] ** 2 for k, v in zip(("prior", "like", "post"), curves.values(), strict=True)
    }
    return Slide(
        "bayes-linear-regression",
        "4",
        _("Bayesian linear regression: prior × likelihood → posterior"),
        [
            _("Likelihood alone (least squares, n = {n}): θ̂ = {mle:.3f} ± {sd:.3f}").format(
                n=n, mle=like.mean[1], sd=like.sd[1]
            ),
            _("× prior N(0, {tau:g}²) → posterior N({mean:.3f}, {sd:.3f}²)").format(
                tau=tau, mean=post.mean[1], sd=post.sd[1]
            ),
            _("Precisions add: {post:.1f} = {prior:.1f} + {like:.1f}").format(**precision),
        ],
        _(
            "Likelihood p(y | X, w) = N(y; Xw, I) and a Gaussian prior p(w) = N(w; μ₀, Λ₀) "
            "(§5.6, eqs. 5.69–5.78). The posterior ∝ likelihood × prior is "
            "the exponential of a quadratic in w: completing the square (eqs. 5.75 → 5.78) "
            "gives N(w; μ_m, Λ_m) with Λ_m = (XᵀX + Λ₀⁻¹)⁻¹ and μ_m = Λ_m(Xᵀy + Λ₀⁻¹μ₀). "
            "Here the noise sd σ is known (its least-squares estimate), so XᵀX and Xᵀy are "
            "divided by σ²; the intercept has a flat prior. Diabetes progression against "
            "body-mass index, the first {n} patients."
        ).format(n=n),
        figure,
        "linear",
        {"mle": float(like.mean[1]), "post_mean": float(post.mean[1]), **precision},
    )


def gaussian_regression(seed: int) -> Slide:
    """Slide 5: y = θᵀx + ε, p(y | x; θ) = N(y; θᵀx, σ²) (eq. 5.80); the MLE is least squares."""
    from freqbayes.models.probabilistic import linear

    data = L.select_features(D.diabetes(), ["bmi"])
    fit = linear.ols(data.X, data.y)
    sigma = float(np.sqrt(fit.sigma2))
    return Slide(
        "gaussian-likelihood",
        "5",
        _("Supervised learning: y = θᵀx + ε with Gaussian ε"),
        [
            _("Least squares = MLE: slope θ̂ = {w:.3f}").format(w=fit.beta[0]),
            _("Noise sd σ̂ = {s:.3f} (the MLE, RSS/n)").format(s=sigma),
            _("n = {n} patients: diabetes progression against body-mass index").format(n=data.n),
        ],
        _(
            "Supervised learning models p(y | x). Linear regression: y = θᵀx + ε with ε ∼ "
            "N(0, σ²), that is p(y | x; θ) = N(y; θᵀx, σ²) (eq. 5.80; the book takes σ = 1, "
            "the identity covariance). Maximising the conditional log-likelihood is minimising "
            "the squared error (eqs. 5.64–5.66): the least-squares line is the MLE. The "
            "curves drawn sideways are the density of y at three values of x."
        ),
        partial(
            S.gaussian_noise, data.X[:, 0], data.y, fit.intercept, float(fit.beta[0]), sigma, "bmi"
        ),
        "linear",
        {"w": float(fit.beta[0]), "b": fit.intercept, "sigma": sigma},
    )


def why_sigmoid(seed: int) -> Slide:
    """Slides 5–6: a Gaussian cannot model y ∈ {0, 1}; the least-squares line leaves [0, 1]."""
    why = L.why_sigmoid(seed)
    return Slide(
        "why-sigmoid-line",
        "5–6",
        _("y ∈ {0, 1}: a Gaussian's support is (−∞, ∞)"),
        [
            _("The least-squares line leaves [0, 1] over {share:.0%} of the range of x").format(
                share=why.outside
            ),
            _("Gaussian noise puts mass on every real y; only 0 and 1 occur"),
            _("n = {n} labels: squash θᵀx with the logistic sigmoid").format(n=len(why.y)),
        ],
        _(
            "Under y ∼ N(θᵀx, σ²) the MLE is least squares. Its line is no probability: it "
            "leaves [0, 1], and the Gaussian gives density to values of y that never occur. "
            "Keep the linear function θᵀx and squash it into (0, 1) with the logistic sigmoid "
            "σ(z) = 1/(1 + e⁻ᶻ) (§5.7.1)."
        ),
        partial(S.binary_line, why, sigmoid=False),
        "why-sigmoid",
        {"outside": why.outside},
    )


def logistic(seed: int) -> Slide:
    """Slide 7: logistic regression, p(y = 1 | x; θ) = σ(θᵀx) (eq. 5.81)."""
    why = L.why_sigmoid(seed)
    b, w = why.sigmoid
    p = 1 / (1 + np.exp(-(b + w * np.array([why.x.min(), why.x.max()]))))
    return Slide(
        "logistic-regression",
        "7",
        _("Logistic regression: p(y = 1 | x; θ) = σ(θᵀx)"),
        [
            _("MLE: intercept {b:.2f}, slope {w:.2f}").format(b=b, w=w),
            _("p(y = 1 | x) from {lo:.3f} to {hi:.3f} over the data: always in (0, 1)").format(
                lo=p[0], hi=p[1]
            ),
            _("No closed form: the MLE minimises the log loss numerically"),
        ],
        _(
            "p(y = 1 | x; θ) = σ(θᵀx) (eq. 5.81): a Bernoulli likelihood whose mean is the "
            "sigmoid of a linear function. The negative log-likelihood is the log loss "
            "−Σᵢ [yᵢ log σ(θᵀxᵢ) + (1 − yᵢ) log(1 − σ(θᵀxᵢ))]; it has no closed-form "
            "minimiser, so the MLE is found by gradient-based optimisation (§5.7.1)."
        ),
        partial(S.binary_line, why, sigmoid=True),
        "why-sigmoid",
        {"b": b, "w": w, "p_lo": float(p[0]), "p_hi": float(p[1])},
    )


def separating_lines(seed: int, tries: int = 400, shown: int = 12) -> tuple[Slide, np.ndarray]:
    """Slide 8: many lines separate the same data. Random lines; those that separate are kept.

    Each line passes through a random point between the two class means at a random
    angle; it separates when every point of class 1 is on one side and class 0 on the
    other. Returns the slide and the separating lines as rows (b, w₁, w₂).
    """
    data = L.separable_data(seed)
    X, y = data.X, data.y
    rng = np.random.default_rng(seed)
    m0, m1 = X[y == 0].mean(axis=0), X[y == 1].mean(axis=0)
    through = m0 + rng.uniform(0.3, 0.7, (tries, 1)) * (m1 - m0)
    angle = rng.uniform(0, np.pi, tries)
    w = np.column_stack([np.cos(angle), np.sin(angle)])
    b = -(w * through).sum(axis=1)
    side = (X @ w.T + b) > 0  # (n, tries)
    sep = np.all(side[y == 1], axis=0) & ~np.any(side[y == 0], axis=0)
    sep |= np.all(~side[y == 1], axis=0) & np.all(side[y == 0], axis=0)
    lines = np.column_stack([b, w])[sep]
    return Slide(
        "many-separating-lines",
        "8",
        _("Many lines separate the same data: which one?"),
        [
            _("{k} of {n} random lines separate the {m} points").format(
                k=int(sep.sum()), n=tries, m=data.n
            ),
            _("Each has zero training error"),
            _("The SVM picks the one with the largest margin"),
        ],
        _(
            "On separable data the training error cannot choose among these lines: every one "
            "classifies every training point correctly. Lines were drawn at random through "
            "the region between the class means; those drawn separate both classes. The next "
            "slides choose the one farthest from the nearest points (§5.7.2)."
        ),
        partial(S.separating_lines, X, y, lines[:shown]),
        "svm",
        {"separating": int(sep.sum()), "tries": tries},
    ), lines


def _svm(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, object]:
    from freqbayes import SVC

    data = L.separable_data(seed)
    machine = SVC(kernel="linear", C=1000.0).fit(data.X, data.y)
    w = np.asarray(machine.dual_coef_ @ machine.support_vectors_)[0]
    return data.X, data.y, w, float(machine.intercept_[0]), machine


def margin(seed: int) -> Slide:
    """Slide 9: the separating hyperplane, the supporting hyperplanes, the support vectors."""
    X, y, w, b, machine = _svm(seed)
    norm = float(np.linalg.norm(w))
    return Slide(
        "svm-margin",
        "9",
        _("The margin: separating and supporting hyperplanes"),
        [
            _("{k} support vectors fix the boundary").format(k=len(machine.support_)),
            _("Margin 2/‖w‖ = {m:.3f}").format(m=2 / norm),
            _("w = ({w1:.2f}, {w2:.2f}), w₀ = {b:.2f}").format(w1=w[0], w2=w[1], b=b),
        ],
        _(
            "The separating hyperplane w₀ + wᵀx = 0 lies midway between the supporting "
            "hyperplanes w₀ + wᵀx = ±1, which pass through the support vectors: the points "
            "nearest to it. Moving any other point (without crossing a supporting hyperplane) "
            "leaves the boundary where it is. Linear SVM with C = 1000: in effect the hard "
            "margin (§5.7.2)."
        ),
        partial(S.margin, X, y, w, b, np.asarray(machine.support_vectors_)),
        "svm",
        {"support": len(machine.support_), "margin": 2 / norm},
    )


def maximum_margin(seed: int) -> Slide:
    """Slides 10–11: scale w so that the nearest points have y(w₀ + wᵀx) = 1; maximise 1/‖w‖."""
    X, y, w, b, machine = _svm(seed)
    values = (2 * y - 1) * (X @ w + b)
    support = np.zeros(len(y), bool)
    support[np.asarray(machine.support_)] = True
    norm = float(np.linalg.norm(w))
    return Slide(
        "functional-margins",
        "10–11",
        _("Fix the scale, then maximise the margin 1/‖w‖"),
        [
            _("Smallest y(w₀ + wᵀx) = {v:.3f}: the support vectors sit on ±1").format(
                v=values.min()
            ),
            _("‖w‖ = {n:.3f}: each side's margin 1/‖w‖ = {h:.3f}").format(n=norm, h=1 / norm),
            _("max 1/‖w‖ ⇔ min ½‖w‖² subject to y(w₀ + wᵀx) ≥ 1"),
        ],
        _(
            "The distance of x from the hyperplane w₀ + wᵀx = 0 is |w₀ + wᵀx|/‖w‖. (w₀, w) "
            "and (c w₀, c w) describe the same hyperplane, so fix the scale: the nearest points "
            "x* satisfy w₀ + wᵀx* = ±1, and every point y(w₀ + wᵀx) ≥ 1 with y ∈ {−1, +1}. "
            "The nearest points are then 1/‖w‖ from the boundary (the margin 2/‖w‖ between "
            "the supporting hyperplanes), and maximising it is the quadratic programme "
            "min ½‖w‖² subject to y⁽ⁱ⁾(w₀ + wᵀx⁽ⁱ⁾) ≥ 1. The bars are y(w₀ + wᵀx) of every "
            "training point of the SVM fitted in this run."
        ),
        partial(S.functional_margins, values, support),
        "svm",
        {"smallest": float(values.min()), "norm": norm},
    )


def feature_space(seed: int) -> Slide:
    """Slide 12: φ(x) = (x₁, x₂, ‖x‖²) makes concentric circles linearly separable."""
    trick = L.kernel_trick(seed)
    Xtr, ytr, _Xte, _yte = trick.data["circles"]
    r2 = (Xtr**2).sum(axis=1)
    cuts = np.sort(r2)
    errors = [np.mean((r2 > c) != (ytr == 0)) for c in cuts]
    best = int(np.argmin(errors))
    level, share = float(cuts[best]), 1 - float(errors[best])
    acc = trick.accuracy.set_index(["data", "classifier"])["test_accuracy"]["circles"]
    lin, phi = float(acc.iloc[0]), float(acc.iloc[2])
    return Slide(
        "feature-space",
        "12",
        _("A nonlinear map to a feature space separates the classes"),
        [
            _("Held-out accuracy, linear SVM on x: {a:.0%}").format(a=lin),
            _("The same linear SVM on φ(x) = (x₁, x₂, ‖x‖²): {a:.0%}").format(a=phi),
            _("One plane ‖x‖² = {c:.2f} classifies {s:.0%} of the training points").format(
                c=level, s=share
            ),
        ],
        _(
            "Concentric circles cannot be separated by a line in the plane. The map "
            "φ(x) = (x₁, x₂, x₁² + x₂²) adds the squared radius as a third feature; in that "
            "feature space a plane separates the inner circle from the outer one, and a "
            "linear classifier there is a nonlinear one in x (§5.7.2). The figure shows x₁ "
            "against the new feature ‖x‖²."
        ),
        partial(S.lifted, Xtr, ytr, level),
        "kernels",
        {"linear": lin, "phi": phi, "level": level},
    )


def gravitation(seed: int) -> Slide:
    """Slide 13: Newton's F = G m₁ m₂ / r² is linear in log m₁, log m₂, log r (least squares)."""
    from freqbayes.models.probabilistic import linear

    g = L.gravitation(seed)
    fit = linear.ols(g.X, g.y)
    true = g.attrs["true_beta"]
    return Slide(
        "gravitation-logs",
        "13",
        _("Newton's law of gravitation is linear in the logs"),
        [
            _("Exponents {a:.2f}, {b:.2f}, {c:.2f} (the law: {ta:g}, {tb:g}, {tc:g})").format(
                a=fit.beta[0], b=fit.beta[1], c=fit.beta[2], ta=true[0], tb=true[1], tc=true[2]
            ),
            _("log G = {e:.2f} (true {t:.2f})").format(
                e=fit.intercept, t=g.attrs["true_intercept"]
            ),
            _("n = {n} measurements, noise sd {s:.3f} on the log scale").format(
                n=g.n, s=np.sqrt(fit.sigma2)
            ),
        ],
        _(
            "F = G m₁ m₂ / r² is nonlinear in (m₁, m₂, r), but log F = log G + log m₁ + "
            "log m₂ − 2 log r is linear in the features φ = (log m₁, log m₂, log r): a "
            "feature map turns the law into linear regression, and least squares recovers "
            "the exponents and log G. Synthetic measurements with lognormal error."
        ),
        partial(S.observed_fitted, g.y, fit.intercept + g.X @ fit.beta, "log F"),
        "gravitation",
        {"b1": float(fit.beta[0]), "b2": float(fit.beta[1]), "b3": float(fit.beta[2])},
    )


def kernel_trick(seed: int, quick: bool) -> Slide:
    """Slide 14: the kernel's cost does not grow with the degree; the explicit map's does."""
    degrees = (1, 2, 3, 4) if quick else (1, 2, 3, 4, 5, 6)
    cost = L.kernel_cost(seed, degrees=degrees, repeats=7)  # best of 7: a shared machine
    last = cost.iloc[-1]
    return Slide(
        "kernel-cost",
        "14",
        _("The kernel trick: an inner product at the cost of one kernel evaluation"),
        [
            _("(1 + xᵀx′)^p = φ(x)ᵀφ(x′), checked to {e:.0e} relative").format(
                e=cost["max_relative_difference"].max()
            ),
            _("φ has {f:,} features at p = {p} (d = {d})").format(
                f=int(last["features"]), p=int(last["degree"]), d=cost.attrs["d"]
            ),
            _("Gram matrix: {a:.3g} ms by φ, {b:.3g} ms by the kernel").format(
                a=1e3 * last["explicit_seconds"], b=1e3 * last["kernel_seconds"]
            ),
        ],
        _(
            "A linear model in φ(x) needs only inner products φ(x)ᵀφ(x′). The kernel "
            "k(x, x′) = φ(x)ᵀφ(x′) computes one without forming φ: (1 + xᵀx′)^p is the inner "
            "product of all (weighted) monomials of degree ≤ p, C(d + p, p) of them. The "
            "kernel form f(x) = b + Σᵢ αᵢ k(x, x⁽ⁱ⁾) (eq. 5.83); the Gaussian kernel "
            "(eq. 5.84) is an inner product of infinitely many features. Wall times of this "
            "machine."
        ),
        partial(
            S.series,
            cost["degree"],
            {
                _("by the feature map φ"): 1e3 * cost["explicit_seconds"].to_numpy(),
                _("by the kernel"): 1e3 * cost["kernel_seconds"].to_numpy(),
            },
            _("degree p"),
            _("milliseconds per Gram matrix"),
            logy=True,
            colours=(FREQ, BAYES, TRUTH),
        ),
        "kernel-cost",
        {"features": int(last["features"])},
    )
