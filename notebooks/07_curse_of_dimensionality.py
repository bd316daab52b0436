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
# # 7. The curse of dimensionality and k-nearest neighbours (Deep Learning §5.11)
#
# k-NN predicts from the k training points nearest to a query: majority vote for
# classes, mean for numbers. It assumes that nearby points behave alike. In many
# dimensions, with a fixed number of points, "nearby" stops meaning anything.

# %%
import jax.numpy as jnp
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier as SkKNN

from freqbayes import KNeighborsClassifier, figures, lessons
from freqbayes.inference.learners import knn

# %% [markdown]
# ## k-NN written out
#
# Squared distances, the k smallest, a majority vote (ties go to the smallest class),
# checked against the package's blocked, jitted `knn.classify`:


# %%
def knn_predict(X_train, y_train, X_query, k, n_classes):
    d2 = ((X_query[:, None, :] - X_train[None, :, :]) ** 2).sum(axis=-1)
    nearest = np.argsort(d2, axis=1, kind="stable")[:, :k]
    votes = np.stack([np.bincount(row, minlength=n_classes) for row in y_train[nearest]])
    return votes.argmax(axis=1)


digits = load_digits()
Xtr, Xte, ytr, yte = train_test_split(digits.data, digits.target, test_size=0.3, random_state=0)
ours = knn_predict(Xtr, ytr, Xte, 5, 10)
pkg = np.asarray(
    knn.classify(
        jnp.asarray(Xtr),
        jnp.asarray(ytr),
        jnp.asarray(Xte),
        5,
        10,
        knn.block_size(len(Xtr), len(Xte)),
    )
)
print(
    f"same predictions as the package: {np.mean(ours == pkg):.3f}; "
    f"test accuracy {np.mean(pkg == yte):.3f}"
)
clf = KNeighborsClassifier(n_neighbors=5).fit(Xtr, ytr)
sk = SkKNN(n_neighbors=5).fit(Xtr, ytr)
same = np.mean(clf.predict(Xte) == sk.predict(Xte))
print(f"freqbayes vs scikit-learn, share of identical predictions: {same:.3f}")

# %% [markdown]
# On 64-pixel digits, 5-NN works well: the digits lie near a low-dimensional manifold.
# Now uniform points, where every dimension is real.
#
# ## The vote, and Figure 5.9's cells
#
# The seminar's k = 3: the three training points nearest to a query each vote for
# their class. And why neighbours get far: with 10 intervals per axis a grid has 10^d
# cells, and n points can fill at most n of them.

# %%
cv = lessons.cells_and_vote(seed=0, n=1000)
fig = figures.cells_and_vote(cv)
print(dict(zip(cv.dims.tolist(), cv.occupied.round(4).tolist(), strict=True)))

# %% [markdown]
# **What the figure shows.** Left: two red votes against one blue: the star is red.
# Right: 1,000 points fill (almost) every cell for d ≤ 2, 63% at d = 3, 10% at d = 4, and under
# 1% from d = 5: a new point's cell is almost surely empty.
#
# ## Distances concentrate; accuracy falls

# %%
table = lessons.curse_of_dimensionality(seed=0)
fig = figures.curse(table)
table.round(3)

# %% [markdown]
# **What the figure shows.** Left: for 1,000 uniform points in [0, 1]^d, the farthest
# point is thousands of times farther than the nearest in 1-D, but barely 10% farther
# in 1,000-D: all points are about equally far. Right: 5-NN with n = 1,000 training
# points on two labellings of the same points (columns `knn_accuracy` and
# `knn_accuracy_all`):
#
# * **x₁ > ½** (solid): one coordinate sets the label and the other d − 1 are
#   *irrelevant*. 5-NN is nearly perfect in 1-D and close to a coin flip in 1,000-D,
#   because the irrelevant coordinates dominate every distance. Here the trouble is
#   noise, and a method that learns which coordinates to ignore escapes it (notebook 8,
#   part 3: a sparsity prior).
# * **Σⱼ (xⱼ − ½) > 0** (dashed): every coordinate matters equally; nothing is
#   irrelevant, nothing can be dropped, and the accuracy falls just the same. This is
#   the curse of §5.11.1 proper: to learn a function of d variables a method that
#   generalises locally needs examples in each region it must tell apart, and the number
#   of regions grows exponentially with d (Figure 5.9's 10^d cells), while n stays put.
#
# Why: the squared distance is a sum of d independent terms, so its mean grows like d
# and its spread like √d; relative to the mean, the spread shrinks like 1/√d.

# %%
rng = np.random.default_rng(0)
for d in (2, 100, 10_000):
    dist = np.sqrt(((rng.uniform(size=(1000, d)) - rng.uniform(size=d)) ** 2).sum(axis=1))
    print(f"d = {d:>6}: mean distance {dist.mean():7.3f}, sd/mean {dist.std() / dist.mean():.4f}")

# %% [markdown]
# ## Local constancy, manifolds, and why deep learning (§5.11.2–5.11.3)
#
# k-NN embodies the prior that the book calls **local constancy** or smoothness:
# f(x) ≈ f(x′) when x′ is near x (§5.11.2). Kernel machines with a local kernel such as
# the Gaussian, and decision trees, rely on it too. It is a sensible prior, but it cannot
# distinguish more regions of input space than there are training examples (about
# O(k) regions from O(k) examples): with every coordinate relevant, as in the dashed
# curve, the regions outnumber any realistic n.
#
# Two ways out, both assumptions about the task rather than more data:
#
# * **Manifolds (§5.11.3).** Real inputs do not fill the space. The 64-pixel digits at
#   the top of this notebook lie near a low-dimensional manifold, which is why 5-NN
#   works there (98% correct) while it fails on uniform points in far fewer dimensions.
# * **Composition (§5.11.2).** Deep learning assumes that the data were generated by a
#   composition of factors or features, possibly at several levels of a hierarchy. The
#   book argues that this mild assumption gives an exponential gain in the number of
#   regions a given number of examples can tell apart, which is why deep networks can
#   generalise where k-NN cannot: the seminar's last slide, and the motivation for the
#   chapters after this one.
#
# A sparsity prior (notebook 8, part 3) is a third, narrower assumption: it removes
# irrelevant coordinates, and helps exactly as far as few coordinates matter.
#
# ## Exercises
#
# 1. Keep d = 100 but grow n from 1,000 to 10,000 in `curse_of_dimensionality`
#    (`dims=(100,)`). How much does the accuracy recover? How many points would d = 100
#    need to be as dense as 1,000 points in 1-D?
# 2. Scale the irrelevant coordinates by 0.1 before running k-NN. What happens to the
#    accuracy at d = 100, and what does that say about feature scaling?
# 3. Derive the mean of ‖x − x′‖² for x, x′ uniform on [0, 1]^d and check it against the
#    printout above.
# 4. *Write it yourself.* k-nearest neighbours: write
#    `knn(X_train, y_train, X_test, k)` returning the majority label of the k nearest
#    training points (Euclidean distance) for every test point, and check it against
#    scikit-learn: `from freqbayes.lessons import exercises; exercises.check_knn(knn)`.
#
# Worked answers: `notebooks/answers.md`.
