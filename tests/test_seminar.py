"""The reading-seminar kit (``notebooks/seminar/``, issue 24 §5).

Every closed form a worked solution states is checked numerically here, and the two
editions (English and Japanese) are held together: the same headings, the same math,
and the glossary's Japanese for every glossary term the English uses.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from scipy import optimize, stats

from freqbayes import glossary

SEMINAR = Path(__file__).resolve().parents[1] / "notebooks" / "seminar"
ENGLISH = sorted(SEMINAR.glob("*.en.md"))
#: Display math first, then inline math on one line.
MATH = re.compile(r"\$\$(.+?)\$\$|\$([^$\n]+?)\$", re.DOTALL)
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)


def twin(path: Path) -> Path:
    """The Japanese edition of an English file."""
    return path.with_name(path.name.replace(".en.md", ".ja.md"))


def math(text: str) -> list[str]:
    """The $…$ and $$…$$ blocks of ``text``, in order, code spans left out.

    A display block's final full stop or comma belongs to the English sentence (Japanese
    ends the sentence after the formula), so it is not compared.
    """
    return [a.strip().rstrip(".,").rstrip() or b for a, b in MATH.findall(CODE.sub("", text))]


def headings(text: str) -> list[str]:
    """The Markdown headings' levels (``#``, ``##`` …), in order."""
    return [line.split()[0] for line in CODE.sub("", text).splitlines() if line.startswith("#")]


def prose(text: str) -> str:
    """``text`` without math, code, link targets and file names."""
    text = CODE.sub(" ", text)
    text = MATH.sub(" ", text)
    return re.sub(r"\]\([^)]*\)", "]", text)


def test_the_kit_is_there():
    assert {p.name for p in ENGLISH} >= {"derivations.en.md", "sheet.en.md", "quiz.en.md"}
    # no Japanese file without its English original, nor any other Markdown
    assert sorted(SEMINAR.glob("*.md")) == sorted([*ENGLISH, *map(twin, ENGLISH)])


@pytest.mark.parametrize("en", ENGLISH, ids=lambda p: p.name)
def test_each_english_file_has_its_japanese_twin(en):
    ja = twin(en)
    assert ja.exists(), f"{ja.name} is missing"
    en_text, ja_text = en.read_text(encoding="utf-8"), ja.read_text(encoding="utf-8")
    assert headings(en_text) == headings(ja_text)
    en_math, ja_math = math(en_text), math(ja_text)
    differ = [(i, a, b) for i, (a, b) in enumerate(zip(en_math, ja_math, strict=False)) if a != b]
    assert not differ[:1], f"math block {differ[:1]} differs"
    assert len(en_math) == len(ja_math)
    for block in en_math:  # braces and \left … \right balanced
        bare = block.replace(r"\{", "").replace(r"\}", "")
        assert bare.count("{") == bare.count("}"), block
        assert block.count(r"\left") == block.count(r"\right"), block
    assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", prose(ja_text))


@pytest.mark.parametrize("en", ENGLISH, ids=lambda p: p.name)
def test_the_japanese_uses_the_glossary(en):
    ja_text = prose(twin(en).read_text(encoding="utf-8"))
    used = glossary.english_terms(prose(en.read_text(encoding="utf-8")))
    missing = [f"{t.en} → {t.ja}" for t in used if not any(f in ja_text for f in t.ja_forms)]
    assert not missing, f"{twin(en).name} lacks the glossary's Japanese for {missing}"


# -- exercise 1: E[σ̂²] = (m − 1)/m · σ² (eqs. 5.36–5.39) ---------------------------------


def test_the_variance_mle_is_biased_by_m_minus_1_over_m():
    rng = np.random.default_rng(0)
    m, sigma, reps = 5, 2.0, 200_000
    x = rng.normal(1.0, sigma, size=(reps, m))
    mle = x.var(axis=1, ddof=0)  # (1/m) Σ (x − x̄)²
    se = mle.std() / np.sqrt(reps)
    assert abs(mle.mean() - (m - 1) / m * sigma**2) < 4 * se
    assert abs(mle.mean() - sigma**2) > 20 * se  # the bias is seen, not lost in noise
    unbiased = mle * m / (m - 1)
    assert abs(unbiased.mean() - sigma**2) < 4 * unbiased.std() / np.sqrt(reps)
    # the identity of the solution: Σ(x − x̄)² = Σ(x − μ)² − m(x̄ − μ)²
    lhs = ((x - x.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    rhs = ((x - 1.0) ** 2).sum(axis=1) - m * (x.mean(axis=1) - 1.0) ** 2
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10, atol=1e-10)


# -- exercise 2: the MLE minimises the cross-entropy (eqs. 5.58–5.61) ---------------------


def test_the_cross_entropy_is_minimised_at_the_mle():
    x = np.random.default_rng(1).normal(3.0, 0.5, size=40)

    def cross_entropy(p: np.ndarray) -> float:
        mu, log_sigma = p
        return -stats.norm.logpdf(x, mu, np.exp(log_sigma)).mean()

    found = optimize.minimize(cross_entropy, [0.0, 0.0], method="BFGS", options={"gtol": 1e-10})
    np.testing.assert_allclose(found.x[0], x.mean(), rtol=1e-6)
    np.testing.assert_allclose(np.exp(2 * found.x[1]), x.var(ddof=0), rtol=1e-6)


# -- exercise 3: completing the square (eq. 5.75 → eq. 5.78) ------------------------------


def _regression(seed: int, m: int = 30, d: int = 3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, d))
    y = X @ rng.normal(size=d) + rng.normal(size=m)
    L = rng.normal(size=(d, d))
    return X, y, rng.normal(size=d), L @ L.T + d * np.eye(d), rng


def test_completing_the_square_gives_the_posterior():
    X, y, mu0, Lambda0, rng = _regression(2)
    P0 = np.linalg.inv(Lambda0)
    Lambda_m = np.linalg.inv(X.T @ X + P0)
    mu_m = Lambda_m @ (X.T @ y + P0 @ mu0)

    def exponent_575(w: np.ndarray) -> float:
        return -0.5 * (-2 * y @ X @ w + w @ X.T @ X @ w + w @ P0 @ w - 2 * mu0 @ P0 @ w)

    def gaussian_kernel(w: np.ndarray) -> float:
        return -0.5 * (w - mu_m) @ np.linalg.solve(Lambda_m, w - mu_m)

    # the two differ by a constant in w (the normalising constant)
    gaps = [exponent_575(w) - gaussian_kernel(w) for w in rng.normal(size=(6, 3)) * 3]
    np.testing.assert_allclose(gaps, gaps[0], rtol=0, atol=1e-9)
    # … and the full prior × likelihood has its maximum at μ_m

    def neg_log_post(w: np.ndarray) -> float:
        return 0.5 * np.sum((y - X @ w) ** 2) + 0.5 * (w - mu0) @ P0 @ (w - mu0)

    found = optimize.minimize(neg_log_post, np.zeros(3), method="BFGS", options={"gtol": 1e-10})
    np.testing.assert_allclose(found.x, mu_m, rtol=1e-6, atol=1e-8)


# -- exercise 4: MAP with a Gaussian prior is weight decay with λ = σ²/τ² (eq. 5.79) -----


def test_map_with_a_gaussian_prior_is_ridge_with_lambda_sigma2_over_tau2():
    from freqbayes.models.probabilistic import linear
    from freqbayes.models.probabilistic import priors as P

    X, y, _, _, _ = _regression(3, m=50, d=4)
    sigma, tau = 1.7, 0.4
    lam = sigma**2 / tau**2
    assert linear.ridge_lambda(sigma, tau) == pytest.approx(lam)
    # the posterior mean of exercise 3 with μ₀ = 0, Λ₀ = τ²I and noise σ²
    Lambda_m = np.linalg.inv(X.T @ X / sigma**2 + np.eye(4) / tau**2)
    mu_m = Lambda_m @ X.T @ y / sigma**2
    ridge = np.linalg.solve(X.T @ X + lam * np.eye(4), X.T @ y)
    np.testing.assert_allclose(mu_m, ridge, rtol=1e-12)
    # the project's closed forms say the same (no intercept)
    post = linear.posterior_known_sigma(X, y, sigma, P.Normal(0.0, tau), intercept_prior=None)
    np.testing.assert_allclose(post.mean, ridge, rtol=1e-10)
    np.testing.assert_allclose(linear.ridge(X, y, lam, fit_intercept=False).beta, ridge, rtol=1e-10)

    # the MAP found by optimising eq. 5.79 directly, and eq. 5.18 with λ' = σ²/(mτ²)
    def neg_log_post(w: np.ndarray) -> float:
        return -(stats.norm.logpdf(y, X @ w, sigma).sum() + stats.norm.logpdf(w, 0, tau).sum())

    m = len(y)

    def weight_decay(w: np.ndarray) -> float:  # eq. 5.18 with λ' = σ²/(mτ²)
        return np.mean((X @ w - y) ** 2) + sigma**2 / (m * tau**2) * w @ w

    for objective in (neg_log_post, weight_decay):
        found = optimize.minimize(objective, np.zeros(4), method="BFGS", options={"gtol": 1e-11})
        np.testing.assert_allclose(found.x, ridge, rtol=1e-5, atol=1e-7)
    # a wrong λ (σ/τ, or σ²/τ² on the mean squared error) gives another estimate
    assert not np.allclose(np.linalg.solve(X.T @ X + sigma / tau * np.eye(4), X.T @ y), ridge)


# -- exercise 5: the margin is 2/‖w‖ (slides 10–11) ---------------------------------------


def test_the_margin_is_two_over_the_norm_of_w():
    from sklearn.svm import SVC

    rng = np.random.default_rng(4)
    X = np.vstack([rng.normal([2.0, 2.0], 0.6, (25, 2)), rng.normal([-1.0, -0.5], 0.6, (25, 2))])
    y = np.repeat([1, -1], 25)
    svm = SVC(kernel="linear", C=1e8, tol=1e-8).fit(X, y)
    w, w0 = svm.coef_[0], svm.intercept_[0]
    f = X @ w + w0
    assert np.all(y * f >= 1 - 1e-4)  # separable, every point outside the margins
    np.testing.assert_allclose(y[svm.support_] * f[svm.support_], 1.0, atol=1e-4)
    # the gap between the classes along w/‖w‖ is the distance between the supporting
    # hyperplanes, 2/‖w‖
    u = w / np.linalg.norm(w)
    gap = (X[y == 1] @ u).min() - (X[y == -1] @ u).max()
    np.testing.assert_allclose(gap, 2 / np.linalg.norm(w), rtol=1e-4)

    # and no other direction separates the classes by a wider gap (maximum margin)
    def gap_along(angle: float) -> float:
        p = X @ np.array([np.cos(angle), np.sin(angle)])
        return p[y == 1].min() - p[y == -1].max()

    angles = np.linspace(0, 2 * np.pi, 3601)
    best = angles[np.argmax([gap_along(a) for a in angles])]
    step = angles[1] - angles[0]
    found = optimize.minimize_scalar(
        lambda a: -gap_along(a), bounds=(best - step, best + step), options={"xatol": 1e-12}
    )
    np.testing.assert_allclose(-found.fun, 2 / np.linalg.norm(w), rtol=1e-6)


# -- exercise 6: the kernel form and the Gaussian kernel (eqs. 5.82–5.84) -----------------


def test_the_feature_maps_of_the_kernels():
    from sklearn.metrics.pairwise import rbf_kernel

    rng = np.random.default_rng(5)
    x, z = rng.normal(size=(2, 2))

    def phi(v: np.ndarray) -> np.ndarray:
        return np.array([v[0] ** 2, np.sqrt(2) * v[0] * v[1], v[1] ** 2])

    np.testing.assert_allclose((x @ z) ** 2, phi(x) @ phi(z), rtol=1e-12)
    # eq. 5.84: N(u − v; 0, σ²I) = (2πσ²)^(−d/2) exp(−γ‖u − v‖²), γ = 1/(2σ²)
    sigma, d = 0.7, 3
    u, v = rng.normal(size=(2, d))
    book = stats.multivariate_normal(np.zeros(d), sigma**2 * np.eye(d)).pdf(u - v)
    rbf = rbf_kernel(u[None], v[None], gamma=1 / (2 * sigma**2))[0, 0]
    np.testing.assert_allclose(book, (2 * np.pi * sigma**2) ** (-d / 2) * rbf, rtol=1e-12)
    # exercise 6(e): the Gaussian kernel as a series of features φ_k
    gamma, a, b = 0.8, 0.9, -0.6
    k = np.arange(60)
    log_fact = np.cumsum(np.log(np.maximum(k, 1)))

    def phi_k(t: float) -> np.ndarray:
        return np.exp(-gamma * t**2) * np.sqrt(np.exp(k * np.log(2 * gamma) - log_fact)) * t**k

    np.testing.assert_allclose(phi_k(a) @ phi_k(b), np.exp(-gamma * (a - b) ** 2), rtol=1e-12)


# -- the sheet's numbers ------------------------------------------------------------------


def test_the_sheets_numbers():
    from freqbayes.lessons.coverage import _exact_fixed

    texts = [(SEMINAR / f"sheet.{lang}.md").read_text(encoding="utf-8") for lang in ("en", "ja")]
    # one miss in twenty: with 14 independent 95% intervals, P(at least one misses)
    miss = 1 - 0.95**14
    # the 95% credible interval under the prior N(0, 1), σ = 1, n = 10, at the fixed μ = 6
    credible = float(_exact_fixed(np.array([6.0]), 10, 1.0, 0.0, 1.0)[0])
    # the same in closed form (posterior N(n x̄/(n + 1), 1/(n + 1)), x̄ ~ N(μ, 1/n))
    n, mu, z = 10, 6.0, stats.norm.ppf(0.975)
    spread = np.sqrt(n) / (n + 1)
    mine = stats.norm.cdf((z / np.sqrt(n + 1) + mu / (n + 1)) / spread) - stats.norm.cdf(
        (-z / np.sqrt(n + 1) + mu / (n + 1)) / spread
    )
    np.testing.assert_allclose(credible, mine, rtol=1e-12)
    # a flat prior gives the confidence interval itself: coverage 0.95 at every μ
    flat = _exact_fixed(np.array([-6.0, 0.0, 6.0]), 10, 1.0, 0.0, 1e8)
    np.testing.assert_allclose(flat, 0.95, atol=1e-6)
    for text in texts:
        assert f"{miss:.2f}" in text and f"{credible:.3f}" in text
