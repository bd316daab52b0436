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
# # 8. Probabilistic twins: k-means beside a Gaussian mixture (Deep Learning §5.8.2, §3.9.6)
#
# k-means says which cluster each point is in. Its probabilistic twin, the Gaussian
# mixture x ~ Σ_k w_k N(μ_k, σ_k² I), says *how probably*: the assignments z_i are
# summed out of the likelihood, and the posterior gives each point a probability of
# belonging to each cluster. The two meet in EM, the mixture's maximum-likelihood
# algorithm: with one variance held at σ² → 0, EM *is* Lloyd's algorithm.

# %%
import warnings

import arviz_stats as az
import jax.numpy as jnp
import numpy as np

from freqbayes import KMeans, figures, inference, lessons
from freqbayes.inference.learners import mixture as M
from freqbayes.models.probabilistic.mixture import gaussian_mixture, mixture_data, relabel

X = lessons.mixture_points(0)
print(X.shape, "points; column means", X.mean(axis=0).round(1))

# %% [markdown]
# ## EM with a vanishing variance is Lloyd's algorithm
#
# E-step: r_ik ∝ w_k N(x_i; μ_k, σ² I). When σ² → 0 the nearest mean takes all the
# responsibility (r_ik ∈ {0, 1}): Lloyd's assignment. M-step: μ_k = Σ_i r_ik x_i / Σ_i r_ik,
# the mean of the points assigned: Lloyd's update. From the same start:

# %%
start = X[[0, 120, 250]]
Xj = jnp.asarray(X)
tiny = M.em(
    Xj,
    M.init(Xj, jnp.asarray(start), variances=jnp.full(3, 1e-6)),
    tol=1e-12,
    fixed_variance=1e-6,
    fixed_weights=True,
)
km = KMeans(3, init=start, n_init=1).fit(X)
print("same labels:", bool((np.asarray(M.labels(Xj, tiny)) == km.labels_).all()))
gap = float(np.abs(np.asarray(tiny.means) - km.cluster_centers_).max())
print("largest centroid difference:", gap)
mle = M.em(Xj, M.init(Xj, jnp.asarray(start)), tol=1e-8, max_iter=500)
print(f"EM, free variances: mean log-likelihood {float(mle.log_likelihood):.4f},",
      "variances", np.asarray(mle.variances).round(2))  # fmt: skip

# %% [markdown]
# ## The posterior, and label switching
#
# The mixture is a NumPyro program (`freqbayes.models.probabilistic.mixture`), fitted by
# NUTS like any program you write yourself. The components are exchangeable: every
# permutation of the labels is an equally good mode, and the chains find the same
# clusters under different labels, so the raw draws' r̂ is far above 1.01. Ordering each
# draw's components by the first coordinate of μ identifies them:

# %%
with warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)  # the raw draws do not mix: see below
    post = inference.fit(gaussian_mixture, "nuts", mixture_data(X, 3), seed=0,
                         num_warmup=300, num_samples=300, progress=False)  # fmt: skip
print(f"r̂ of μ, raw draws:        {float(az.rhat(post.posterior)['mu'].max()):.2f}")
print(f"r̂ of μ, after relabelling: {float(az.rhat(relabel(post.posterior))['mu'].max()):.3f}")

# %% [markdown]
# ## A hard boundary against a band; how many clusters
#
# Left: k-means' labels. Middle: the posterior membership probabilities (a point's colour
# mixes its clusters'; circled where no cluster reaches 0.9) and the draws of the means.
# Right: k-means' inertia always falls as k grows, while the mixture's PSIS-LOO expected
# log predictive density stops improving at the k the data were drawn with.

# %%
twin = lessons.mixture_twin(0, ks=(2, 3, 4), draws=300)
figures.mixture_twin(twin)

# %%
twin.choice

# %% [markdown]
# ## Exercises
#
# 1. Rerun the EM cell with `fixed_variance=1.0` instead of 1e-6. Are the labels still
#    k-means'? Which points change, and why those?
# 2. At k = 2 the table's r̂ after relabelling is far above 1.01. Relabelling cannot help
#    there: what differs between the chains?
# 3. Compare `twin.membership.max(axis=1)` with each point's distance to the k-means
#    boundary (the difference between its two smallest distances to the centroids).
# 4. *Write it yourself.* One EM step in NumPy: `em_step(X, weights, means, variances)`
#    returning the new `(weights, means, variances)` (spherical components, no variance
#    floor), and check it:
#    `from freqbayes.lessons import exercises; exercises.check_em_step(em_step)`.
#
# Worked answers: `notebooks/answers.md`.
