"""The deck's slides 16–25: k-means and k-means++, SGD, the curse of dimensionality, k-NN.

As :mod:`freqbayes.slides.estimation`: numbers from the lessons, formatted into the
bullets; fast computations only.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from freqbayes import lessons as L
from freqbayes.figures import slides as S
from freqbayes.figures._style import BAYES, FREQ
from freqbayes.i18n import _
from freqbayes.slides.base import Slide

#: Clusters of the k-means slides (16–19).
K = 5


def _frames(seed: int) -> tuple[np.ndarray, dict[str, L.LloydFrames]]:
    X = L.blobs(seed, std=0.7, centers=K)
    return X, {m: L.lloyd_frames(X, K, seed, m, steps=6) for m in ("random", "k-means++")}


def kmeans_steps(seed: int) -> Slide:
    """Slides 16–17: the four steps of k-means, each cluster in its own colour throughout."""
    _X, frames = _frames(seed)
    fr = frames["random"]
    last = len(fr.inertia) - 1
    titles = [
        _("1. initialise"),
        _("2. assign"),
        _("3. update"),
        _("4. repeat: after {s} updates").format(s=last),
    ]
    return Slide(
        "kmeans-steps",
        "16–17",
        _("Clustering: the four steps of k-means"),
        [
            _("k = {k} centroids, n = {n} points").format(k=K, n=len(fr.X)),
            _("Inertia {a:,.0f} → {b:,.0f} after one update").format(
                a=fr.inertia[0], b=fr.inertia[1]
            ),
            _("→ {c:,.0f} after {s} updates").format(c=fr.inertia[-1], s=last),
        ],
        _(
            "k-means (§5.8.2): (1) place k centroids (here: k points drawn at random); (2) "
            "assign each point to its nearest centroid; (3) move each centroid to the mean "
            "of its points; (4) repeat (2)–(3) until no assignment changes. Each step lowers "
            "(or keeps) the within-cluster sum of squares Σ_k Σ_{i ∈ C_k} ‖x⁽ⁱ⁾ − μ_k‖² (the "
            "inertia), so the algorithm stops, but at a local minimum that depends on the "
            "start. Colours: the cluster of each centroid, the same in every panel."
        ),
        partial(S.lloyd_four, fr, [(0, None), (0, 0), (1, 0), (last, last)], titles),
        "kmeans",
        {"inertia0": float(fr.inertia[0]), "inertia1": float(fr.inertia[1])},
    )


def kmeans_inertia(seed: int) -> Slide:
    """Slide 18: step through k-means; the inertia never rises (the report's animation)."""
    _X, frames = _frames(seed)
    rising = max(float(np.max(np.diff(f.inertia))) for f in frames.values())
    steps = np.arange(len(frames["random"].inertia))
    r, p = frames["random"].inertia, frames["k-means++"].inertia
    return Slide(
        "kmeans-inertia",
        "18",
        _("Step through k-means: the inertia never rises"),
        [
            _("Random start: {a:,.0f} → {b:,.0f}").format(a=r[0], b=r[-1]),
            _("k-means++ start: {a:,.0f} → {b:,.0f}").format(a=p[0], b=p[-1]),
            _("Largest rise between steps: {d:.3g}").format(d=max(rising, 0.0)),
        ],
        _(
            "The seminar stepped through assignments and updates in a browser demo. The "
            "report has it too (figures/kmeans-animation.html, k-means++ start). Each "
            "assignment and each update can only lower the within-cluster sum of squares: the "
            "curves fall and then stay flat once nothing moves. Different starts stop at "
            "different values."
        ),
        partial(
            S.series,
            steps,
            {_("random start"): r, _("k-means++ start"): p},
            _("updates"),
            _("inertia (within-cluster sum of squares)"),
            colours=(FREQ, BAYES),
        ),
        "kmeans",
        {"rising": rising},
    )


def kmeans_plus_plus(seed: int) -> Slide:
    """Slide 19: k-means++ draws the next centre with probability ∝ D² (its squared distance)."""
    import jax.numpy as jnp

    from freqbayes.inference.learners import kmeans as KM

    X, frames = _frames(seed)
    fr = frames["k-means++"]
    first = fr.seeding[0]
    _labels, d2 = KM.assign(KM.points(X), jnp.asarray(first[None], jnp.float32))
    d2 = np.asarray(d2, float)
    prob = d2 / d2.sum()
    own = fr.labels[-1][np.argmin(((X - first) ** 2).sum(axis=1))]
    mass = float(prob[fr.labels[-1] == own].sum())
    return Slide(
        "kmeans-plus-plus",
        "19",
        _("k-means++: the next centre with probability ∝ D²"),
        [
            _("The first centre's own cluster holds {m:.1%} of the probability").format(m=mass),
            _("Final inertia: k-means++ {a:,.0f}, random start {b:,.0f}").format(
                a=fr.inertia[-1], b=frames["random"].inertia[-1]
            ),
            _("Probabilities from the squared distance to the nearest centre"),
        ],
        _(
            "k-means++ seeding: the first centre is a data point drawn uniformly; each next "
            "one is drawn with probability D(x)²/Σ D(x′)², D(x) the distance from x to the "
            "nearest centre chosen so far. Far points are likely, so the centres spread over "
            "the clusters, and the expected inertia is within O(log k) of the optimum "
            "(Arthur & Vassilvitskii 2007). Colour: the probability of each point becoming "
            "the second centre."
        ),
        partial(S.d2_seeding, X, first, prob),
        "kmeans",
        {"mass": mass},
    )


def full_gradient(seed: int, quick: bool) -> Slide:
    """Slides 20–21: a full-batch gradient step costs O(m); a minibatch step does not grow."""
    sizes = (1_000, 10_000, 100_000) if quick else (1_000, 10_000, 100_000, 1_000_000)
    cost = L.step_cost(seed, sizes=sizes, repeats=10 if quick else 30)
    full = cost[cost["gradient"] == "full batch"]
    mini = cost[cost["gradient"] != "full batch"]
    ms = 1e3
    return Slide(
        "gradient-cost",
        "20–21",
        _("The cost J(θ) is a mean over m examples: O(m) per gradient step"),
        [
            _("Full batch: {a:.3g} ms at m = {m0:,}, {b:.3g} ms at m = {m1:,}").format(
                a=ms * full["seconds_per_step"].iloc[0],
                m0=int(full["m"].iloc[0]),
                b=ms * full["seconds_per_step"].iloc[-1],
                m1=int(full["m"].iloc[-1]),
            ),
            _("Minibatch: {a:.3g} ms to {b:.3g} ms whatever m").format(
                a=ms * mini["seconds_per_step"].min(), b=ms * mini["seconds_per_step"].max()
            ),
            _("Wall times of this machine (median of repeated steps)"),
        ],
        _(
            "The cost is the mean per-example loss J(θ) = (1/m) Σᵢ L(x⁽ⁱ⁾, y⁽ⁱ⁾, θ) (eq. "
            "5.96), so its gradient ∇_θ J(θ) = (1/m) Σᵢ ∇_θ L(x⁽ⁱ⁾, y⁽ⁱ⁾, θ) (eq. 5.97) "
            "touches every example: one step costs O(m), and with billions of examples a "
            "single step takes too long. Logistic log loss, d = 10, each step compiled "
            "before timing."
        ),
        partial(
            S.series,
            full["m"].to_numpy(),
            {
                _("full batch"): ms * full["seconds_per_step"].to_numpy(),
                _("minibatch"): ms * mini["seconds_per_step"].to_numpy(),
            },
            _("training examples m"),
            _("milliseconds per step"),
            logx=True,
            logy=True,
            colours=(FREQ, BAYES),
        ),
        "sgd-step-cost",
        {"largest_m": int(full["m"].iloc[-1])},
    )


def minibatch_sgd(seed: int, quick: bool) -> Slide:
    """Slide 22: minibatch SGD, g from m′ examples (eq. 5.98), θ ← θ − εg (eq. 5.99)."""
    data = L.logistic_problem(seed, n=2000 if quick else 5000)
    c = L.sgd_curves(data, epochs=10 if quick else 30, seed=seed)
    gaps = {m: c.loss[m] - c.optimum for m in c.batch_sizes}
    label = {m: ("m′ = {m}" if m < data.n else _("full batch")).format(m=m) for m in gaps}
    mid = [m for m in c.batch_sizes if 100 <= m <= 300]
    full = max(c.batch_sizes)
    return Slide(
        "minibatch-sgd",
        "22",
        _("Minibatch SGD: g from m′ examples, θ ← θ − εg"),
        [
            _("After {e} epochs, J − J* = {a:.2g} with m′ = {m}").format(
                e=int(c.epochs[-1]), a=gaps[mid[0]][-1], m=mid[0]
            ),
            _("and {b:.2g} with the full batch of {n:,}").format(b=gaps[full][-1], n=full),
            _("m′ stays fixed as m grows"),
        ],
        _(
            "Estimate the gradient from a minibatch of m′ examples drawn from the training "
            "set, g = (1/m′) ∇_θ Σᵢ L(x⁽ⁱ⁾, y⁽ⁱ⁾, θ) (eq. 5.98), and step θ ← θ − εg "
            "(eq. 5.99). m′ is small (1 to a few hundred) and kept fixed as m grows, so a "
            "step costs the same whatever the size of the training set. Logistic regression "
            "on {n:,} simulated examples; J* is J at the MLE."
        ).format(n=data.n),
        partial(
            S.series,
            c.epochs,
            {label[m]: np.maximum(gaps[m], 1e-12) for m in c.batch_sizes},
            _("epochs"),
            "J(θ) − J*",
            logy=True,
        ),
        "sgd",
        {"gap_full": float(gaps[full][-1])},
    )


def cells(seed: int) -> Slide:
    """Slide 23: 10^d cells; n points leave almost all of them empty beyond d = log₁₀ n."""
    cv = L.cells_and_vote(seed)
    share = dict(zip(cv.dims.tolist(), cv.occupied, strict=True))
    return Slide(
        "cells",
        "23",
        _("The curse of dimensionality: 10^d cells"),
        [
            _("10 values per feature: 10^d cells; n = {n:,} points").format(n=cv.n),
            _("Cells holding a point: {a:.0%} at d = 3, {b:.0%} at d = 4").format(
                a=share[3], b=share[4]
            ),
            _("{c:.2%} at d = 5: a new point's cell is almost surely empty").format(c=share[5]),
        ],
        _(
            "Divide each feature into 10 intervals: d features make 10^d cells (the book's "
            "Figure 5.9). n uniform points occupy at most n cells; the expected share "
            "occupied is 1 − (1 − 10^−d)^n. Beyond d = log₁₀ n almost every cell is empty, "
            "so a method that answers from the training points in a query's cell has "
            "nothing to answer from (§5.11.1)."
        ),
        partial(
            S.series,
            cv.dims,
            {_("share of cells holding a point"): cv.occupied},
            "d",
            _("share"),
            logy=True,
            colours=(FREQ,),
        ),
        "cells",
        {"d3": float(share[3]), "d4": float(share[4]), "d5": float(share[5])},
    )


def knn(seed: int) -> Slide:
    """Slide 24: k-nearest neighbours with k = 3, a majority vote in the plane."""
    cv = L.cells_and_vote(seed)
    votes = cv.y[cv.neighbours]
    return Slide(
        "knn-vote",
        "24",
        _("k-nearest neighbours, k = 3: a majority vote"),
        [
            _("The {k} nearest labels: {labels}").format(
                k=len(votes), labels=", ".join(map(str, votes))
            ),
            _("The vote: y = {v}").format(v=cv.vote),
            _("The package's k-NN gives the same label"),
        ],
        _(
            "k-NN stores the training set. To classify a query it finds the k training "
            "points nearest to it (Euclidean distance) and returns their majority label "
            "(for regression, their mean). No parameters are fitted: the model is the data, "
            "so it needs points near every query."
        ),
        partial(S.knn_vote, cv),
        "cells",
        {"vote": cv.vote},
    )


def curse(seed: int, quick: bool) -> Slide:
    """Slide 25: nearest and farthest neighbours become equally far; k-NN accuracy falls."""
    kw = {"dims": (1, 2, 5, 10, 50, 200), "queries": 100} if quick else {}
    table = L.curse_of_dimensionality(seed, **kw).set_index("d")
    lo, hi = int(table.index.min()), int(table.index.max())
    return Slide(
        "curse",
        "25",
        _("In high dimension 'nearest' stops meaning much"),
        [
            _("Farthest / nearest distance: {a:.3g} at d = {lo}, {b:.3g} at d = {hi}").format(
                a=table.loc[lo, "median_ratio"], b=table.loc[hi, "median_ratio"], lo=lo, hi=hi
            ),
            _("{k}-NN accuracy: {a:.0%} at d = {lo}, {b:.0%} at d = {hi}").format(
                k=table.attrs["k"],
                a=table.loc[lo, "knn_accuracy"],
                b=table.loc[hi, "knn_accuracy"],
                lo=lo,
                hi=hi,
            ),
            _("Deep learning assumes structure instead (§5.11.2)"),
        ],
        _(
            "n = {n:,} uniform points in [0, 1]^d, the label x₁ > ½ (one relevant "
            "coordinate). As d grows the ratio of a query's farthest to its nearest "
            "neighbour's distance tends to 1, and k-NN's accuracy falls toward chance: in "
            "sparse high-dimensional space local methods fail. Deep learning (and any "
            "learner that generalises there) relies on assumptions, priors about the "
            "function: smoothness alone is not enough (§5.11.2)."
        ).format(n=table.attrs["n"]),
        partial(
            S.series,
            table.index.to_numpy(),
            {_("median farthest / nearest distance"): table["median_ratio"].to_numpy()},
            "d",
            _("ratio"),
            logx=True,
            logy=True,
            colours=(FREQ,),
        ),
        "curse",
        {"ratio_hi": float(table.loc[hi, "median_ratio"])},
    )
