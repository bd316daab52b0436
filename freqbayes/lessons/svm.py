"""The kernel trick: linear against RBF SVM, and an explicit feature map (§5.7.2)."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from freqbayes.i18n import N_


class KernelTrick(NamedTuple):
    """Linear against RBF SVM on circles and moons, and an explicit feature map.

    Attributes
    ----------
    accuracy : DataFrame
        Test accuracy per data set and classifier.
    data : dict
        name -> (X_train, y_train, X_test, y_test).
    models : dict
        (data name, classifier name) -> fitted estimator.
    """

    accuracy: pd.DataFrame
    data: dict[str, tuple[np.ndarray, ...]]
    models: dict[tuple[str, str], Any]


def radial_feature_map(X: np.ndarray) -> np.ndarray:
    """φ(x) = (x₁, x₂, x₁² + x₂²): concentric circles become linearly separable."""
    return np.column_stack([X, (X**2).sum(axis=1)])


def circles_and_moons(
    seed: int = 0, n: int = 400, test_share: float = 0.3
) -> dict[str, tuple[np.ndarray, ...]]:
    """scikit-learn's circles and moons, each split (stratified) into train and test.

    Returns name -> (X_train, y_train, X_test, y_test).
    """
    from sklearn.datasets import make_circles, make_moons
    from sklearn.model_selection import train_test_split

    sets = {
        # TRANSLATORS: the names of scikit-learn's two toy data sets (concentric circles, moons)
        N_("circles"): make_circles(n, factor=0.45, noise=0.08, random_state=seed),
        N_("moons"): make_moons(n, noise=0.15, random_state=seed),
    }
    data = {}
    for name, (X, y) in sets.items():
        Xtr, Xte, ytr, yte = train_test_split(
            X, y, test_size=test_share, random_state=seed, stratify=y
        )
        data[name] = (Xtr, ytr, Xte, yte)
    return data


def kernel_trick(seed: int = 0, n: int = 400, test_share: float = 0.3) -> KernelTrick:
    """Fit LinearSVC, SVC(rbf) and LinearSVC on φ(x) to circles and moons; test accuracy.

    ``test_share`` of each data set is held out (stratified); the accuracy table's
    ``attrs`` record ``n`` and ``test_share``.
    """
    from freqbayes import SVC, LinearSVC

    rows, models = [], {}
    data = circles_and_moons(seed, n, test_share)
    for name, (Xtr, ytr, Xte, yte) in data.items():
        fits = {
            N_("linear SVM"): (LinearSVC(C=1.0), lambda A: A),
            N_("RBF-kernel SVM"): (SVC(kernel="rbf", C=1.0), lambda A: A),
            N_("linear SVM on φ(x) = (x, ‖x‖²)"): (LinearSVC(C=1.0), radial_feature_map),
        }
        for clf_name, (clf, phi) in fits.items():
            clf.fit(phi(Xtr), ytr)
            models[(name, clf_name)] = (clf, phi)
            rows.append(
                {
                    "data": name,
                    "classifier": clf_name,
                    "test_accuracy": float(np.mean(clf.predict(phi(Xte)) == yte)),
                }
            )
    accuracy = pd.DataFrame(rows)
    accuracy.attrs.update(n=n, test_share=test_share)
    return KernelTrick(accuracy, data, models)


class BoundaryBands(NamedTuple):
    """Decision boundaries w·x + b = 0 of 2-D classifiers: resampled, or drawn from a posterior.

    Attributes
    ----------
    X, y : array
        The data (y in {0, 1}).
    lines : dict
        Name → (w (B × 2), b (B,)): one boundary per bootstrap replicate or posterior draw.
    estimate : dict
        Name → (w, b) fitted on the data themselves (the posterior mean for NUTS).
    """

    X: np.ndarray
    y: np.ndarray
    lines: dict[str, tuple[np.ndarray, np.ndarray]]
    estimate: dict[str, tuple[np.ndarray, np.ndarray]]


def overlapping_data(seed: int = 0, n: int = 80) -> Any:
    """Two overlapping 2-D Gaussian classes: not separable, so the logistic MLE exists."""
    from freqbayes.models.dataset import Dataset

    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(n // 2), np.ones(n - n // 2)]
    X = np.where(y[:, None] == 1, [0.8, 0.5], [-0.8, -0.5]) + rng.standard_normal((n, 2))
    return Dataset("overlapping-2d", y, X, ("x1", "x2"), {"source": "synthetic", "seed": seed})


def boundary_bands(
    seed: int = 0, n: int = 80, replicates: int = 200, draws: int = 500
) -> BoundaryBands:
    """Bootstrap bands of the logistic MLE, the MAP and the linear SVM, and the posterior band.

    The frequentist bands are sampling distributions: each line is the estimator
    refitted on the rows resampled with replacement (the same resamples for the
    SVM, C = 1, solved by SMO for all resamples in one ``vmap``). The Bayesian band is
    NUTS draws of the boundary given these data (4 chains of ``draws`` after as many
    warm-up steps).
    """
    import jax
    import jax.numpy as jnp

    from freqbayes.inference import fit
    from freqbayes.inference.learners.smo import solve_dual
    from freqbayes.models.learners.kernels import Kernel

    data = overlapping_data(seed, n)
    lines, estimate = {}, {}
    for name, method, settings in (
        (N_("MLE (bootstrap)"), "bootstrap", {"estimator": "mle", "num_replicates": replicates}),
        (N_("MAP (bootstrap)"), "bootstrap", {"estimator": "map", "num_replicates": replicates}),
        (
            N_("posterior (NUTS)"),
            "nuts",
            {"num_warmup": draws, "num_samples": draws, "progress": False},
        ),
    ):
        post = fit("logistic", data, method, seed=seed, **settings)["posterior"]
        w = np.asarray(post["beta"]).reshape(-1, 2)
        b = np.asarray(post["intercept"]).reshape(-1)
        lines[name] = (w, b)
        estimate[name] = (w.mean(axis=0), float(b.mean()))
    for name, method in (("MLE (bootstrap)", "mle"), ("MAP (bootstrap)", "map")):
        est = fit("logistic", data, method, seed=seed)["posterior"]
        estimate[name] = (np.asarray(est["beta"]).reshape(2), float(est["intercept"].item()))
    # the SVM refitted on the same kind of resamples: B dual problems (SMO) in one vmap
    rng = np.random.default_rng(seed)
    rows = np.vstack([np.arange(data.n), rng.integers(0, data.n, (replicates, data.n))])
    Xs = jnp.asarray(data.X[rows], jnp.float32)
    ys = jnp.asarray(np.where(data.y[rows] == 1, 1.0, -1.0), jnp.float32)
    kernel = Kernel("linear", 1.0, 3, 0.0)
    sol = jax.vmap(lambda X, y: solve_dual(X, y, 1.0, 1e-3, kernel=kernel))(Xs, ys)
    w = np.einsum("bn,bn,bnd->bd", np.asarray(sol.alpha), np.asarray(ys), np.asarray(Xs))
    b = np.asarray(sol.intercept)
    lines[N_("SVM (bootstrap)")] = (w[1:], b[1:])
    estimate["SVM (bootstrap)"] = (w[0], float(b[0]))
    return BoundaryBands(data.X, data.y, lines, estimate)


def polynomial_feature_map(X: np.ndarray, degree: int) -> np.ndarray:
    """φ(x) with φ(x)ᵀφ(x′) = (1 + xᵀx′)^degree: every monomial of degree ≤ p, weighted.

    (1 + xᵀx′)^p = Σ_α p!/((p − |α|)! Π αᵢ!) x^α x′^α over exponent vectors α with
    |α| ≤ p, so the monomial x^α carries the square root of that multinomial weight.
    """
    from math import factorial

    from sklearn.preprocessing import PolynomialFeatures

    poly = PolynomialFeatures(degree=degree, include_bias=True).fit(X)
    weights = np.array(
        [
            factorial(degree)
            / (factorial(degree - int(a.sum())) * np.prod([factorial(int(k)) for k in a]))
            for a in poly.powers_
        ]
    )
    return poly.transform(X) * np.sqrt(weights)


def kernel_cost(
    seed: int = 0,
    d: int = 10,
    n: int = 300,
    degrees: tuple[int, ...] = (1, 2, 3, 4, 5, 6),
    repeats: int = 3,
) -> pd.DataFrame:
    """The kernel trick's point (§5.7.2): an explicit feature map grows like C(d + p, p).

    For the polynomial kernel k(x, x′) = (1 + xᵀx′)^p on n points in d dimensions,
    the Gram matrix by the explicit map costs O(n² C(d + p, p)) (plus building φ),
    by the kernel O(n² d) whatever p. Both are timed (best of ``repeats``; wall
    times of this machine) and checked equal. The RBF kernel's feature map is
    infinite-dimensional: there only the kernel can be evaluated.
    """
    import time
    from math import comb

    X = np.random.default_rng(seed).normal(0.0, 1.0 / np.sqrt(d), (n, d))
    rows = []
    for p in degrees:
        best = {"explicit": np.inf, "kernel": np.inf}
        for _ in range(repeats):
            start = time.perf_counter()
            phi = polynomial_feature_map(X, p)
            G_map = phi @ phi.T
            best["explicit"] = min(best["explicit"], time.perf_counter() - start)
            start = time.perf_counter()
            G_kernel = (1.0 + X @ X.T) ** p
            best["kernel"] = min(best["kernel"], time.perf_counter() - start)
        rows.append(
            {
                "degree": p,
                "features": comb(d + p, p),
                "explicit_seconds": best["explicit"],
                "kernel_seconds": best["kernel"],
                "max_relative_difference": float(
                    np.max(np.abs(G_map - G_kernel)) / np.max(np.abs(G_kernel))
                ),
            }
        )
    table = pd.DataFrame(rows)
    table.attrs.update(n=n, d=d)
    return table


def kernel_cost_in_m(
    seed: int = 0,
    ms: tuple[int, ...] = (500, 1000, 2000, 4000),
    queries: int = 2000,
    components: int = 200,
    repeats: int = 5,
) -> pd.DataFrame:
    """The kernel trick's price in the number of examples m (§5.7.2, eqs. 5.82–5.84).

    On m noisy moons (noise 0.3): the m × m Gram matrix of the RBF kernel (float64,
    its memory and the time to build it, O(m² d)); the package's RBF ``SVC`` (C = 1)
    fitted to it and its number of support vectors; the time to predict ``queries``
    new points by f(x) = b + Σ_{i ∈ SV} α_i y_i k(x, x_i) (eq. 5.83 restricted to the
    support vectors, O(n_SV · d) per query; checked against ``decision_function`` at
    the first m);
    and, for comparison, the time of the same prediction by ``components`` random
    Fourier features (Rahimi & Recht 2007; ``SVC(approximation="fourier")``),
    O(D · d) per query whatever m. Best of ``repeats``; wall times of this machine.
    """
    import time

    from sklearn.datasets import make_moons

    from freqbayes import SVC
    from freqbayes.models.probabilistic.gp import rbf

    def best(run: Any) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        return min(times)

    rng = np.random.default_rng(seed)
    Q = rng.uniform([-1.5, -1.0], [2.5, 1.5], (queries, 2))
    W = rng.normal(size=(2, components))
    phase = rng.uniform(0.0, 2.0 * np.pi, components)
    weights = rng.normal(size=components)
    rows = []
    for m in ms:
        X, y = make_moons(int(m), noise=0.3, random_state=seed)
        svm = SVC(kernel="rbf", C=1.0).fit(X, y)
        gamma, sv = svm._gamma, svm.support_vectors_
        coef, b = np.asarray(svm.dual_coef_, float)[0], float(np.asarray(svm.intercept_)[0])

        def predict(
            g: float = gamma, sv: np.ndarray = sv, c: np.ndarray = coef, b: float = b
        ) -> Any:
            return rbf(Q, sv, g) @ c + b

        if m == ms[0]:  # once: each shape compiles the SVM's prediction anew
            gap = float(np.max(np.abs(predict() - svm.decision_function(Q))))
            if gap > 1e-3:  # float32 fit against the float64 sum
                raise AssertionError(f"the support-vector sum differs from the SVM's by {gap:.1e}")
        rows.append(
            {
                "m": int(m),
                "gram_mib": 8.0 * m * m / 2**20,
                "gram_seconds": best(lambda X=X, gamma=gamma: rbf(X, X, gamma)),
                "support_vectors": len(sv),
                "predict_seconds": best(predict),
                "fourier_predict_seconds": best(
                    lambda: np.cos(Q @ W + phase) @ weights * np.sqrt(2.0 / components)
                ),
            }
        )
    table = pd.DataFrame(rows)
    table.attrs.update(queries=queries, components=components, noise=0.3)
    return table
