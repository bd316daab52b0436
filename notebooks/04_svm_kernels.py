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
# # 4. Support vector machines and the kernel trick (Deep Learning §5.7.2)
#
# The SVM is regularised empirical risk minimisation: no probabilities and no
# likelihood, one boundary, the one with the widest margin. (Frequentist *inference*
# would add the boundary's sampling distribution, e.g. by the bootstrap; the SVM alone
# gives a point.) It minimises the hinge loss
# max(0, 1 − y(wᵀx + b)) plus ½‖w‖²/C; its dual depends on the data only through
# inner products xᵢᵀxⱼ, which a kernel k(xᵢ, xⱼ) can replace.

# %%
import jax.numpy as jnp
import numpy as np

from freqbayes import SVC, figures, inference, lessons
from freqbayes.models.learners.objectives import hinge_loss

# %% [markdown]
# ## The objective
#
# Written out for one example (labels y ∈ {−1, +1}), and checked against the
# package's `hinge_loss`, which the solvers use:


# %%
def hinge(w, b, x, y):
    return jnp.maximum(0.0, 1.0 - y * (jnp.dot(w, x) + b))


w, b = jnp.array([1.0, -2.0]), 0.5
x, y = jnp.array([0.3, 0.1]), -1.0
print(float(hinge(w, b, x, y)), float(hinge_loss((w, b), x, y)))

# %% [markdown]
# ## Margins, defined once
#
# For a boundary wᵀx + b = 0 and an example (xᵢ, yᵢ):
#
# * the **functional margin** is yᵢ(wᵀxᵢ + b): positive when xᵢ is on its side, and
#   changed by rescaling (w, b) although the boundary is not;
# * the **geometric margin** is yᵢ(wᵀxᵢ + b)/‖w‖: the signed distance of xᵢ to the
#   boundary, unchanged by rescaling;
# * the **margin** of the classifier is the smallest geometric margin over the data.
#
# Fix the scale of (w, b) so that the closest points have functional margin 1,
# |wᵀx + b| = 1 (seminar slides 10–11). Then the margin is 1/‖w‖, the band between the
# lines wᵀx + b = ±1 has **width** 2/‖w‖, and maximising the margin is maximising
# 1/‖w‖: minimise ½‖w‖² subject to yᵢ(wᵀxᵢ + b) ≥ 1 for every i.
#
# ## Maximum margin against the logistic posterior
#
# On separable data, a very large C gives the hard-margin SVM: every training point
# has functional margin yᵢ(wᵀxᵢ + b) ≥ 1, with equality on the support vectors.

# %%
sep = lessons.separable_data(0)
svm = SVC(kernel="linear", C=1000.0).fit(sep.X, sep.y)
w = (svm.dual_coef_ @ svm.support_vectors_)[0]
functional = np.where(sep.y == 1, 1, -1) * (sep.X @ w + svm.intercept_[0])
print(
    f"{len(svm.support_)} support vectors; smallest functional margin "
    f"{functional.min():.4f}; margin 1/‖w‖ = {1 / np.linalg.norm(w):.3f} "
    f"(smallest geometric margin {functional.min() / np.linalg.norm(w):.3f}); "
    f"width 2/‖w‖ = {2 / np.linalg.norm(w):.3f}"
)

post = inference.nuts("logistic", sep, seed=0, num_warmup=400, num_samples=400, progress=False)
fig = figures.svm_vs_logistic(sep.X, sep.y, svm, post)

# %% [markdown]
# **What the figure shows.** Left: the maximum-margin boundary (solid), the lines
# wᵀx + b = ±1 (dashed, 2/‖w‖ apart) and the three support vectors (circled), whose
# functional margin is exactly 1; moving any other point
# (without crossing the margin) changes nothing. Right: boundaries drawn from the
# Bayesian logistic posterior: where the SVM commits to one line, the posterior keeps
# every line the data allow, weighted by how plausible it is.
#
# ## The frequentist band: refit on resampled data
#
# The comparison above is not yet fair: the SVM's single line is a point estimate, and
# its frequentist uncertainty is its *sampling distribution*: how the line would move
# had we drawn other data. The bootstrap estimates it by refitting on the rows
# resampled with replacement. On two overlapping classes (so that the logistic MLE
# exists), 100 refits of the logistic MLE, the MAP and the SVM (all SVM refits are one
# `vmap` of the SMO solver), beside 2,000 posterior draws (4 chains × 500):

# %%
bands = lessons.boundary_bands(seed=0, replicates=100, draws=500)
fig = figures.boundary_bands(bands)

# %% [markdown]
# **What the figure shows.** The MLE, MAP and posterior bands nearly coincide here
# (80 points, weak priors), but they answer different questions: the bootstrap band
# says how the *estimate* varies over repeated samples, the posterior band how
# plausible each *boundary* is given these data. The SVM's band is the widest: its
# boundary is fixed by a handful of support vectors, and resampling changes them.
#
# ## The kernel trick
#
# The book writes the linear function through inner products with the training
# examples, wᵀx + b = b + Σᵢ αᵢ xᵀx⁽ⁱ⁾ (eq. 5.82), replaces xᵀx⁽ⁱ⁾ by a kernel,
# f(x) = b + Σᵢ αᵢ k(x, x⁽ⁱ⁾) with k(x, x⁽ⁱ⁾) = φ(x)·φ(x⁽ⁱ⁾) (eq. 5.83), and names the
# most common one, the Gaussian kernel k(u, v) = N(u − v; 0, σ²I) (eq. 5.84).
#
# **From the book's σ to scikit-learn's γ.** Written out,
# N(u − v; 0, σ²I) = (2πσ²)^(−d/2) exp(−‖u − v‖²/(2σ²)), while the "rbf" kernel of
# scikit-learn and of this package is exp(−γ‖u − v‖²). The exponents agree when
# **γ = 1/(2σ²)**. The two kernels then differ by the constant c = (2πσ²)^(−d/2): an SVM
# with kernel c·k and box C has the dual variables α/c of the SVM with kernel k and box
# c·C, and the same f. Checked below on the circles, with the book's kernel passed as a
# callable.
#
# Concentric circles cannot be split by a line. An RBF kernel
# k(x, x′) = exp(−γ‖x − x′‖²) splits them, and so does a linear SVM on the explicit
# feature map φ(x) = (x₁, x₂, ‖x‖²).

# %%
trick = lessons.kernel_trick(seed=0)
fig = figures.kernel_trick(trick)
trick.accuracy

# %%
fig = figures.feature_map(trick)

# %% [markdown]
# **What the figures show.** Test-set decision regions: the linear SVM fails on
# circles (worse than a coin), the RBF kernel and the feature map succeed. In 3-D the
# inner circle lies below a plane, which is exactly the circle the linear SVM on φ(x)
# draws in the plane. On moons, the RBF kernel bends around the crescents.
#
# A kernel is any function whose Gram matrices are positive semi-definite; the package
# accepts a callable:


# %%
def quadratic(A, B):
    return (A @ B.T) ** 2


Xtr, ytr, Xte, yte = trick.data["circles"]
clf = SVC(kernel=quadratic, C=1.0).fit(Xtr, ytr)
print(f"k(x, x′) = (xᵀx′)²: test accuracy {np.mean(clf.predict(Xte) == yte):.3f}")

# %% [markdown]
# The book's Gaussian kernel (eq. 5.84) with σ = 0.5, against "rbf" with γ = 1/(2σ²) and
# the box C scaled by the normalising constant c:

# %%
sigma, d = 0.5, Xtr.shape[1]
c = (2 * np.pi * sigma**2) ** (-d / 2)


def gaussian_density(A, B):  # N(u − v; 0, σ²I)
    sq = (A**2).sum(1)[:, None] + (B**2).sum(1)[None, :] - 2 * A @ B.T
    return c * jnp.exp(-jnp.maximum(sq, 0.0) / (2 * sigma**2))


book = SVC(kernel=gaussian_density, C=1.0, tol=1e-5).fit(Xtr, ytr)
rbf_svm = SVC(kernel="rbf", gamma=1 / (2 * sigma**2), C=c, tol=1e-5).fit(Xtr, ytr)
gap = np.abs(book.decision_function(Xte) - rbf_svm.decision_function(Xte)).max()
print(f"γ = 1/(2σ²) = {1 / (2 * sigma**2):g}, c = {c:.4f}; largest |f_book − f_rbf| = {gap:.1e}")

# %% [markdown]
# ## What the kernel trick saves
#
# The polynomial kernel (1 + xᵀx′)^p is the inner product of an explicit feature map φ
# of every monomial of degree ≤ p (each weighted by the square root of a multinomial
# coefficient). In d dimensions φ has C(d + p, p) features; the kernel costs O(d)
# per pair whatever p. Both ways, on 300 points in d = 10:

# %%
cost = lessons.kernel_cost(seed=0, degrees=(1, 2, 3, 4, 5))
fig = figures.kernel_cost(cost)
cost.round(6)

# %% [markdown]
# **What the figure shows.** The number of features (left) and the time to build the
# Gram matrix (right) grow with p for the explicit map and not for the kernel; the two
# matrices agree to rounding (last column). The RBF kernel exp(−γ‖x − x′‖²) corresponds
# to infinitely many features: there the kernel is the only way.
#
# ## What the kernel trick costs in m
#
# The price moves to the number of examples m. Training works with the m × m Gram
# matrix (memory and time O(m²)); predicting evaluates eq. 5.83, whose sum runs over the
# support vectors only (αᵢ = 0 for the others), O(n_SV · d) per new point, and n_SV
# grows with m on noisy data. On noisy moons, with 2,000 new points to predict (wall
# times of this machine, best of 5):

# %%
cost_m = lessons.kernel_cost_in_m(seed=0)
cost_m.round(4)

# %% [markdown]
# The Gram matrix's memory grows four-fold each time m doubles (122 MiB at m = 4,000;
# 7.6 GiB at m = 32,000), and its build time grows as fast or faster. The support
# vectors grow about linearly with m (151 at m = 500, 876 at m = 4,000), and so does
# the prediction's sum; its time rises with them (the exact times are this machine's
# and noisy), while the Fourier prediction stays flat. For large m the package offers
# `SVC(approximation="fourier")`: random Fourier features z(x) ∈ ℝ^D with
# z(x)·z(x′) ≈ k(x, x′) (Rahimi & Recht 2007) turn the kernel SVM into a linear one in
# D features, trained without the Gram matrix and predicting in O(D · d) per point
# whatever m (last column: D = 200).
#
# ## Exercises
#
# 1. Lower C to 0.1 on the separable data. How many support vectors are there now, and
#    what is the smallest functional margin? Why may it be below 1?
# 2. The quadratic kernel (xᵀx′)² corresponds to which explicit feature map in 2-D?
#    Check by fitting `LinearSVC` on those features.
# 3. On noisy moons, `X, y = sklearn.datasets.make_moons(400, noise=0.3,
#    random_state=0)` split in half (`train_test_split(X, y, test_size=0.5,
#    random_state=0)`), fit `SVC(kernel="rbf", gamma=γ, C=1.0)` for γ = 0.1, 1, 100 and
#    compare training with test accuracy. Which γ under-fits, which over-fits?
# 4. *Write it yourself.* The soft-margin linear SVM: write `linear_svm(X, y, C)`
#    returning (w, b) that minimise ½‖w‖² + C Σ max(0, 1 − yᵢ(wᵀxᵢ + b)), y ∈ {−1, +1}
#    (as a quadratic programme, or by sub-gradient steps), and check it:
#    `from freqbayes.lessons import exercises; exercises.check_linear_svm(linear_svm)`.
#
# Worked answers: `notebooks/answers.md`.
