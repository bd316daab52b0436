"""Every text a reader sees in the demos, marked for the catalogue (``freqbayes.po``).

One function per demo returns key -> text in the language in force; the page's
script reads them as ``DEMO.t`` and fills ``{placeholders}`` with numbers (the same
fields in every language: ``tests/test_i18n.py``).
"""

from __future__ import annotations

from freqbayes.i18n import _


def common() -> dict[str, str]:
    """Texts shared by every demo page."""
    return {
        "offline": _("Interactive demo: runs in this page, without a server or a network."),
    }


def kmeans() -> dict[str, str]:
    """The k-means and k-means++ demo (slides 18–19, §5.8.2)."""
    return {
        "title": _("k-means and k-means++, step by step (§5.8.2)"),
        "intro": _(
            "Click in the plot to add points, or draw a data set. Choose k and the seeding, "
            "then place the centroids one at a time: a random start picks data points "
            "uniformly; k-means++ picks each next centroid with probability D(x)²/ΣD², the "
            "squared distance to the nearest centroid already chosen (each point's size and "
            "opacity show it). Then step through Lloyd's algorithm: assign each point to its "
            "nearest centroid, move each centroid to the mean of its points. The inertia "
            "(within-cluster sum of squares) is shown after each step: neither step can raise it."
        ),
        "k": _("k (clusters)"),
        "seeding": _("Seeding"),
        "random": _("random start"),
        "plusplus": _("k-means++ (D² sampling)"),
        "draw": _("Draw a data set"),
        "clear": _("Clear the points"),
        "next": _("Next centroid"),
        "assign": _("Assign"),
        "update": _("Update"),
        "restart": _("Restart"),
        "phase_empty": _("Add points or draw a data set."),
        "phase_seeding": _("Seeding: centroid {i} of {k} next."),
        "phase_assign": _("Next: assign each point to its nearest centroid."),
        "phase_update": _("Next: move each centroid to the mean of its points."),
        "converged": _("Converged: no point changed its cluster."),
        "inertia": _("Inertia: {value}"),
        "points": _("{n} points"),
        "history": _("Inertia after each step"),
        "step": _("step"),
        "probability": _("point size ∝ D(x)²/ΣD²: the probability of being the next centroid"),
    }


def prior() -> dict[str, str]:
    """The prior-strength demo (§5.6.1, eq. 5.79)."""
    return {
        "title": _("Prior strength: from the MLE to the prior mean (§5.6.1)"),
        "intro": _(
            "Bayesian linear regression y = b + wx + ε, ε ~ N(0, σ²), σ known (its OLS "
            "estimate), a flat prior on b and the prior w ~ N(0, τ²). Move the slider from a "
            "flat prior (τ = ∞) to a strong one: the MAP of w moves from the MLE toward the "
            "prior mean 0, and it is ridge regression with λ = σ²/τ². The posterior of w "
            "narrows, and so does the 95% band of the regression line."
        ),
        "strength": _("Prior strength"),
        "flat": _("flat prior (τ = ∞, λ = 0)"),
        "readout": _("τ = {tau}, λ = σ²/τ² = {lam}: MAP w = {map} (MLE {mle}), posterior sd {sd}"),
        "data": _("data"),
        "mle": _("MLE (least squares)"),
        "map": _("MAP (= ridge)"),
        "band": _("95% posterior band of the line"),
        "likelihood": _("likelihood (scaled)"),
        "prior": _("prior N(0, τ²)"),
        "posterior": _("posterior of w"),
        "weight": _("w (slope)"),
    }


def coverage() -> dict[str, str]:
    """The coverage demo (§5.6, the two guarantees)."""
    return {
        "title": _("Coverage: confidence against credible intervals (§5.6)"),
        "intro": _(
            "n = {n} observations from N(θ, σ²), σ = {sigma} known. Each click draws "
            "another data set and adds two 95% intervals for θ to the stack: the confidence "
            "interval x̄ ± 1.96 σ/√n and the credible interval under the prior N({m0}, {s0}²). "
            "With θ fixed, the confidence interval covers θ 95% of the time whatever θ is; "
            "the credible interval covers 95% only on average over θ drawn from its prior."
        ),
        "mode": _("The true θ"),
        "fixed": _("θ fixed"),
        "drawn": _("θ drawn from the prior"),
        "theta": _("θ = {value}"),
        "one": _("Draw another data set"),
        "many": _("Draw 20 more"),
        "reset": _("Reset"),
        "confidence": _("95% confidence interval"),
        "credible": _("95% credible interval"),
        "running": _("{name}: {hits} of {total} cover θ, coverage {rate}"),
        "exact": _("Exact coverage here: confidence {ci}, credible {cred}"),
        "miss": _("missed"),
    }


def sgd() -> dict[str, str]:
    """The minibatch SGD demo (§5.9)."""
    return {
        "title": _("Minibatch SGD: the size m′ and the learning rate ε (§5.9)"),
        "intro": _(
            "Logistic regression with one feature and an intercept, n = {n} examples, "
            "started at (w, b) = ({w0}, {b0}). Each step estimates the gradient on m′ "
            "examples drawn at random (eq. 5.98) and moves θ ← θ − εg (eq. 5.99), ε constant. "
            "Every path touches {touched} examples. Left: the path over the contours of the "
            "cost J(w, b) (through at most {keep} of its iterates, evenly spaced); the star "
            "is the MLE. Right: J − J(MLE) against the number of examples touched."
        ),
        "batch": _("Minibatch size m′ = {value}"),
        "rate": _("Learning rate ε = {value}"),
        "full": _("(full batch)"),
        "touched": _("examples touched"),
        "gap": _("J(θ) − J(MLE)"),
        "readout": _("{steps} steps; final J − J(MLE) = {gap}"),
        "others": _("grey: the other m′ at this ε"),
    }


def curse() -> dict[str, str]:
    """The curse-of-dimensionality demo (§5.11)."""
    return {
        "title": _("The curse of dimensionality: nearest and farthest neighbours (§5.11)"),
        "intro": _(
            "{n} points uniform in [0, 1]^d and {queries} queries. For each query, the "
            "distance to its nearest and to its farthest neighbour. As d grows both "
            "histograms move out and towards each other: in high dimension the nearest "
            "neighbour is almost as far as the farthest one."
        ),
        "dimension": _("Dimension d = {value}"),
        "nearest": _("nearest neighbour"),
        "farthest": _("farthest neighbour"),
        "distance": _("distance"),
        "count": _("queries"),
        "readout": _(
            "median distances: nearest {near}, farthest {far}; "
            "median ratio farthest/nearest {ratio}"
        ),
    }
