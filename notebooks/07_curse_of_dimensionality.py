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
# in 1,000-D: all points are about equally far. Right: the label depends on x₁ only;
# with n = 1,000 training points, 5-NN is nearly perfect in 1-D and close to a coin
# flip in 1,000-D, because the d − 1 irrelevant coordinates dominate every distance.
#
# Why: the squared distance is a sum of d independent terms, so its mean grows like d
# and its spread like √d; relative to the mean, the spread shrinks like 1/√d.

# %%
rng = np.random.default_rng(0)
for d in (2, 100, 10_000):
    dist = np.sqrt(((rng.uniform(size=(1000, d)) - rng.uniform(size=d)) ** 2).sum(axis=1))
    print(f"d = {d:>6}: mean distance {dist.mean():7.3f}, sd/mean {dist.std() / dist.mean():.4f}")

# %% [markdown]
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
