"""The plain-JAX learners beside their scikit-learn peers, in one process, as ratios.

For every case: our cold time (first call, compilation included), our steady
time and scikit-learn's, each the median of ``--repeats`` runs after a warm-up,
and the ratio ours / theirs, against scikit-learn with its default threads and
under ``threadpool_limits(1)`` (its OpenMP threads misbehave on this shared
2-core machine). Accuracy or inertia of both is printed beside the times.

The process has ``--devices`` CPU devices (default: one per core, as the command
line sets up): k-NN splits its queries and k-means its rows over them.

Run with ``make bench`` or ``python benchmarks/learners.py [--quick] [--repeats N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax
import jax.numpy as jnp
import numpy as np
from sklearn import cluster, linear_model, neighbors, svm
from sklearn.datasets import make_classification
from threadpoolctl import threadpool_limits

import freqbayes
from freqbayes.inference.learners import kmeans as K

ROWS: list[tuple[str, ...]] = []
ONLY: list[str] = []


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """(first-call seconds, median of ``repeats`` further calls, last result)."""
    start = time.perf_counter()
    out = jax.block_until_ready(fn())
    cold = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return cold, statistics.median(times), out


def compare(
    name: str,
    ours: Callable[[], Any],
    theirs: Callable[[], Any],
    quality: Callable[[Any], str],
    repeats: int,
) -> None:
    """Time ours and scikit-learn's (default threads and one thread); record a row."""
    if ONLY and not any(word in name for word in ONLY):
        return
    cold, steady, out = timed(ours, repeats)
    _, sk_default, ref = timed(theirs, repeats)
    with threadpool_limits(1):
        _, sk_one, _ = timed(theirs, repeats)
    row = (
        name,
        f"{cold:.3f}",
        f"{steady:.3f}",
        f"{sk_default:.3f}",
        f"{sk_one:.3f}",
        f"{steady / sk_default:.2f}",
        f"{steady / sk_one:.2f}",
        f"{quality(out)} | {quality(ref)}",
    )
    ROWS.append(row)
    print("  ".join(row), flush=True)


def accuracy_on(X: np.ndarray, y: np.ndarray) -> Callable[[Any], str]:
    return lambda model: f"acc {model.score(X, y):.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", nargs="*", default=[], help="run cases whose name has a word")
    parser.add_argument("--devices", type=int, default=os.cpu_count() or 1, help="CPU devices")
    args = parser.parse_args()
    jax.config.update("jax_num_cpu_devices", args.devices)  # before JAX's first operation
    ONLY.extend(args.only)
    q = 100 if args.quick else 1
    r = args.repeats
    rng = np.random.default_rng(0)
    cols = "ours-cold  ours  sk-default  sk-1-thread  ratio-default  ratio-1-thread"
    print(f"{args.devices} CPU devices\ncase  {cols}  quality (ours | sk)")

    # k-means: d = 16, k = 32
    lloyd = jax.jit(
        lambda P, C, devices: K.lloyd(P, K.state_at(P, C), 10, -1.0, devices),
        static_argnames="devices",
    )
    for n in (100_000 // q, 1_000_000 // q):
        X = rng.normal(size=(n, 16)).astype(np.float32)
        inertia = lambda m: f"inertia {m.inertia_:.6g}"  # noqa: E731
        compare(
            f"KMeans fit n={n}",
            lambda X=X: freqbayes.KMeans(32, n_init=1, random_state=0).fit(X),
            lambda X=X: cluster.KMeans(32, n_init=1, random_state=0).fit(X),
            inertia,
            r,
        )
        C0 = X[rng.choice(n, 32, replace=False)]
        P = K.points(X, jnp.float32)
        compare(
            f"Lloyd x10 n={n}",
            lambda P=P, C0=C0, n=n: lloyd(P, jnp.asarray(C0), K.lloyd_devices(n)),
            lambda X=X, C0=C0: cluster.KMeans(32, init=C0, n_init=1, max_iter=10, tol=0).fit(X),
            lambda s: (
                f"inertia {float(s.inertia):.6g}"
                if hasattr(s, "sq_dist")
                else f"inertia {s.inertia_:.6g}"
            ),
            r,
        )

    # 64 k-means++ restarts on 10⁴ points, one vmap
    X = rng.normal(size=(10_000 // q, 16)).astype(np.float32)
    compare(
        "KMeans n_init=64 n=10^4",
        lambda: freqbayes.KMeans(32, n_init=64, random_state=0).fit(X),
        lambda: cluster.KMeans(32, n_init=64, random_state=0).fit(X),
        lambda m: f"inertia {m.inertia_:.6g}",
        r,
    )

    # kernel SVM (RBF), exact, and random Fourier features at the larger size
    for n in (5_000 // q * 10 if args.quick else 5_000, 20_000 // q * 10 if args.quick else 20_000):
        X, y = make_classification(n + 5_000, n_features=20, random_state=0)
        Xtr, ytr, Xte, yte = X[:n], y[:n], X[n:], y[n:]
        compare(
            f"SVC rbf n={n}",
            lambda Xtr=Xtr, ytr=ytr: freqbayes.SVC().fit(Xtr, ytr),
            lambda Xtr=Xtr, ytr=ytr: svm.SVC().fit(Xtr, ytr),
            accuracy_on(Xte, yte),
            r,
        )
    compare(
        f"SVC rbf fourier(2000) n={n}",
        lambda: freqbayes.SVC(approximation="fourier", n_components=2000, random_state=0).fit(
            Xtr, ytr
        ),
        lambda: svm.SVC().fit(Xtr, ytr),
        accuracy_on(Xte, yte),
        r,
    )

    # linear SVM, n = 200,000, d = 50
    X, y = make_classification(200_000 // q + 20_000, n_features=50, random_state=1)
    Xtr, ytr, Xte, yte = X[:-20_000], y[:-20_000], X[-20_000:], y[-20_000:]
    compare(
        f"LinearSVC n={len(ytr)} d=50",
        lambda: freqbayes.LinearSVC().fit(Xtr, ytr),
        lambda: svm.LinearSVC().fit(Xtr, ytr),
        accuracy_on(Xte, yte),
        r,
    )

    # one shuffled SGD epoch, n = 10⁶, d = 100: fits of 1 and 6 epochs, the difference / 5
    # (so that input checks and set-up, paid once per fit, are left out). Ours takes
    # minibatches of 128 (batch_size; scikit-learn's one example per step is timed by
    # benchmarks/sgd_plain.py)
    X, y = make_classification(1_000_000 // q, n_features=100, random_state=2)
    X = X.astype(np.float32)

    def ours_sgd(epochs: int) -> Any:
        return freqbayes.SGDClassifier(
            loss="log_loss", max_iter=epochs, tol=None, random_state=0, batch_size=128
        ).fit(X, y)

    def theirs_sgd(epochs: int) -> Any:
        return linear_model.SGDClassifier(
            loss="log_loss", max_iter=epochs, tol=None, random_state=0
        ).fit(X, y)

    def log_loss(m: Any) -> str:
        return f"log-loss {np.mean(np.logaddexp(0, -(2 * y - 1) * m.decision_function(X))):.4f}"

    compare(
        f"SGDClassifier fit 1 epoch n={len(y)} d=100",
        lambda: ours_sgd(1),
        lambda: theirs_sgd(1),
        log_loss,
        r,
    )
    compare(
        f"SGDClassifier fit 6 epochs n={len(y)} d=100",
        lambda: ours_sgd(6),
        lambda: theirs_sgd(6),
        log_loss,
        r,
    )
    if ROWS and ROWS[-1][0].startswith("SGDClassifier fit 6"):
        ours_1, ours_6 = float(ROWS[-2][2]), float(ROWS[-1][2])
        sk_1, sk_6 = float(ROWS[-2][3]), float(ROWS[-1][3])
        sk1_1, sk1_6 = float(ROWS[-2][4]), float(ROWS[-1][4])
        per, sk_per, sk1_per = (ours_6 - ours_1) / 5, (sk_6 - sk_1) / 5, (sk1_6 - sk1_1) / 5
        print(
            f"SGD per epoch: ours {per:.3f} s, scikit-learn {sk_per:.3f} s "
            f"(1 thread {sk1_per:.3f} s): ratio {per / sk_per:.2f} ({per / sk1_per:.2f})",
            flush=True,
        )

    # k-NN, 10⁵ training points, 10⁴ queries, d = 16
    X, y = make_classification(100_000 // q + 10_000 // q, n_features=16, random_state=3)
    Xtr, ytr, Xq, yq = X[: -10_000 // q], y[: -10_000 // q], X[-10_000 // q :], y[-10_000 // q :]
    model = freqbayes.KNeighborsClassifier(5).fit(Xtr, ytr)
    peer = neighbors.KNeighborsClassifier(5).fit(Xtr, ytr)
    compare(
        f"KNeighborsClassifier {len(ytr)} x {len(yq)} queries",
        lambda: model.predict(Xq),
        lambda: peer.predict(Xq),
        lambda pred: f"acc {np.mean(pred == yq):.4f}",
        r,
    )


if __name__ == "__main__":
    main()
