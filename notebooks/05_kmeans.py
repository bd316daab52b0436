# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 5. k-means and k-means++ (Deep Learning §5.8.2)
#
# k-means is unsupervised: no labels, only points. Lloyd's algorithm in four steps:
# (1) place k centroids; (2) assign every point to its nearest centroid; (3) move every
# centroid to the mean of its points; (4) repeat 2–3 until nothing changes. It never
# increases the inertia Σᵢ ‖xᵢ − c_{label i}‖², but it only finds a *local* minimum,
# so where it starts matters.

# %%
import jax
import numpy as np
from IPython.display import HTML

from freqbayes import KMeans, figures, lessons
from freqbayes.inference.learners import kmeans as K

# %% [markdown]
# ## One Lloyd step, written out
#
# Steps 3 then 2 in NumPy, checked against the package's jitted `kmeans.step`:


# %%
def lloyd_step(X, centroids, labels):
    k = len(centroids)
    # step 3 (assumes no cluster is empty; see exercise 1)
    new = np.array([X[labels == j].mean(axis=0) for j in range(k)])
    d2 = ((X[:, None, :] - new[None, :, :]) ** 2).sum(axis=-1)  # step 2
    return new, d2.argmin(axis=1)


X = lessons.blobs(0, std=0.7)
P = K.points(X)
state = K.init(jax.random.key(0), P, 5, "k-means++")
ours = lloyd_step(X, np.asarray(state.centroids), np.asarray(state.labels))
theirs = K.step(P, state)
print(
    "same centroids:",
    np.allclose(ours[0], theirs.centroids, atol=1e-4),
    "| same labels:",
    bool((ours[1] == np.asarray(theirs.labels)).all()),
)

# %% [markdown]
# ## Random seeding against k-means++
#
# Random seeding picks k data points uniformly. k-means++ picks the first uniformly and
# each next one with probability proportional to D(x)², the squared distance to the
# nearest centroid already chosen, so the seeds spread out. Arthur & Vassilvitskii
# (2007) prove that this *plain D² sampling* is O(log k)-competitive: the
# inertia of the seeding alone satisfies E[inertia] ≤ 8(ln k + 2) · OPT, OPT the
# smallest inertia of any k centroids. What runs here (and in scikit-learn) is the
# *greedy* variant: 2 + ⌊ln k⌋ candidates are drawn that way and the one that lowers
# Σ D(x)² most is kept (the theorem is about plain D² sampling, not this variant;
# plain sampling is `kmeans.init_kmeans_plus_plus(..., n_local_trials=1)`). The top row
# uses the first seed (of 0–63) whose random start ends in a worse optimum.

# %%
seed = lessons.stuck_seed(X, 5)
frames = {
    "random": lessons.lloyd_frames(X, 5, seed, "random", steps=6),
    "k-means++": lessons.lloyd_frames(X, 5, 0, "k-means++", steps=6),
}
fig = figures.lloyd_steps(frames)

# %% [markdown]
# **What the figure shows.** Top: two random seeds land in one blob; Lloyd moves them
# but cannot pull one across to the blob left without a centroid, and the inertia
# stalls high. Bottom: k-means++ seeds one centroid per blob and converges in two steps.
#
# The animation shows the seeding (points shaded by D(x)²) and then every assignment
# and update:

# %%
HTML(figures.animation_gif(figures.lloyd_animation(frames["k-means++"], "k-means++")))

# %% [markdown]
# ## Initialisation over many seeds, in one compiled program
#
# On 15 tighter blobs, 256 restarts per seeding (random, plain D² sampling and the
# greedy variant), each set one compiled program (the seedings in one `vmap`, then
# Lloyd's loops one after another):

# %%
hard = lessons.blobs(0, n=3000, centers=15, std=0.5)
inertia = lessons.initialisation_inertia(hard, 15, seed=0, restarts=256)
fig = figures.initialisation(inertia)
best = min(float(v.min()) for v in inertia.values())
share = {m: float(np.mean(np.asarray(v) <= 1.01 * best)) for m, v in inertia.items()}
print({m: f"{p:.0%} of restarts within 1% of the best inertia" for m, p in share.items()})
assert share["k-means++"] > 5 * share["random"]
seeding = lessons.seeding_inertia(hard, 15, seed=0, restarts=256)
summary = lessons.initialisation_summary(inertia, seeding, 15)
print(f"A&V's bound for plain D² sampling: 8(ln k + 2) = {summary.attrs['bound']:.1f}")
summary.round(3)

# %% [markdown]
# **What the figure shows.** Final inertia after Lloyd converged. Measured on these 15
# blobs: 52% of the greedy k-means++ restarts end within 1% of the best inertia found,
# 11% of the plain D² ones and 3% of the random ones; the rest stop in a local optimum
# where two centres share a blob. The table adds the inertia of the seeding alone, before
# any Lloyd step, over the best final inertia found (at least OPT, so each ratio is at
# least E[seeding]/OPT): 1.88 for the greedy variant, 2.83 for plain D² sampling, far
# inside its guarantee 8(ln 15 + 2) ≈ 37.7, and 11.9 for random seeding. The greedy
# candidates buy a better start at 2 + ⌊ln 15⌋ = 4 times the distance computations.
# Better, not infallible: this is why scikit-learn, and `freqbayes.KMeans`, default to
# k-means++ *and* run `n_init` restarts, keeping the best.

# %%
km = KMeans(n_clusters=15, n_init=4, random_state=0).fit(hard)
print(f"KMeans(n_init=4): inertia {km.inertia_:.1f} after {km.n_iter_} iterations")

# %% [markdown]
# ## Exercises
#
# 1. `lloyd_step` above breaks when a cluster is empty. What does the package do instead
#    (`freqbayes.inference.learners.kmeans.update`), and why is that a sensible rule?
# 2. Using `lessons.lloyd_frames`, check that the inertia never increases from one
#    state to the next for 20 random seeds.
# 3. Run `initialisation_inertia` with k = 10 on the 15-blob data. Does k-means++ still
#    help as much? Why might it help less when k is smaller than the number of blobs?
# 4. *Write it yourself.* k-means++ seeding as Arthur and Vassilvitskii state it
#    (plain D² sampling, one candidate per step): write `kmeans_pp(X, k, rng)`
#    returning k rows of X in the order chosen, drawing only from the NumPy Generator
#    `rng`, and check its distribution:
#    `from freqbayes.lessons import exercises; exercises.check_kmeans_pp(kmeans_pp)`.
#    How does it differ from the greedy variant the package runs?
#
# Worked answers: `notebooks/answers.md`.
