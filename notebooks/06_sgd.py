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
# # 6. Stochastic gradient descent (Deep Learning §5.9)
#
# The cost is a mean over the training set, J(θ) = (1/m) Σᵢ L(xᵢ, yᵢ, θ) (eq. 5.96),
# and so is its gradient. SGD estimates that gradient from a minibatch B of m′
# examples, g = (1/m′) ∇θ Σ_{i∈B} L(xᵢ, yᵢ, θ) (eq. 5.98), and steps θ ← θ − εg
# (eq. 5.99).
# The cost of a step does not grow with m: that is what makes deep learning possible.

# %%
import jax
import jax.numpy as jnp
import numpy as np

from freqbayes import figures, lessons
from freqbayes.models.learners.objectives import log_loss

# %% [markdown]
# ## Eqs. 5.96–5.99 in code
#
# The per-example logistic loss (labels ±1), the mean cost, the minibatch gradient and
# the update, for one linear model θ = (w, b):


# %%
def J(theta, X, y):  # eq. 5.96
    return jnp.mean(jax.vmap(log_loss, in_axes=(None, 0, 0))(theta, X, y))


def sgd_step(theta, X, y, key, m_prime=128, eps=0.1):
    batch = jax.random.choice(key, X.shape[0], (m_prime,), replace=False)
    g = jax.grad(J)(theta, X[batch], y[batch])  # eq. 5.98
    return jax.tree.map(lambda p, gp: p - eps * gp, theta, g)  # θ ← θ − εg


data = lessons.logistic_problem(seed=0, n=5000)
X, y = jnp.asarray(data.X), jnp.asarray(np.where(data.y == 1, 1.0, -1.0))
theta = (jnp.zeros(X.shape[1]), jnp.zeros(()))
print(f"J at 0: {float(J(theta, X, y)):.4f}")
for key in jax.random.split(jax.random.key(0), 300):
    theta = sgd_step(theta, X, y, key)
print(f"J after 300 steps of m′ = 128: {float(J(theta, X, y)):.4f}")

# %% [markdown]
# The minibatch gradient is an *unbiased* estimate of the full gradient: averaged over
# many random minibatches it equals ∇J.

# %%
keys = jax.random.split(jax.random.key(1), 2000)
batches = jax.vmap(lambda k: jax.random.choice(k, X.shape[0], (128,), replace=False))(keys)
g_mini = jax.vmap(lambda b: jax.grad(J)(theta, X[b], y[b])[0])(batches)
g_full = jax.grad(J)(theta, X, y)[0]
print("full gradient       ", np.asarray(g_full).round(4))
print("mean of 2000 minibatch", np.asarray(g_mini.mean(axis=0)).round(4))

# %% [markdown]
# ## Batch sizes: per epoch and per second
#
# The package's `sgd.fit` runs whole epochs as one compiled `lax.scan` (shuffled
# contiguous minibatches). Here m′ = 1, 10, 128, 300 and the full batch:

# %%
curves = lessons.sgd_curves(data, epochs=20)
fig = figures.sgd_curves(curves)

# %% [markdown]
# **What the figure shows.** Left: after one epoch, small minibatches have taken many
# steps and are far ahead of full-batch gradient descent, which takes one. m′ = 1 is
# noisy; m′ = 10 is the best per epoch here. Middle: the same against wall time on this
# CPU. Right: with a constant ε, SGD does not converge but keeps moving in a cloud
# around the MLE; shrinking ε (or growing m′) shrinks the cloud.
#
# ## A step's cost does not grow with the data
#
# The point of §5.9: the full gradient touches all m examples, so a step costs O(m);
# the minibatch estimate touches m′ of them, O(m′), however large the training set.
# Timed here (compiled beforehand, median of 10 steps) for m from 1,000 to 100,000:

# %%
cost = lessons.step_cost(seed=0, sizes=(1_000, 10_000, 100_000), repeats=10)
fig = figures.step_cost(cost)
cost.pivot(index="m", columns="gradient", values="seconds_per_step").mul(1e3).round(3)

# %% [markdown]
# **What the figure shows.** Milliseconds per step against m (log–log): the full-batch
# line climbs with m (once m is large enough to outweigh the fixed cost of a call),
# while the m′ = 128 line stays flat. These are wall times of your machine, so the
# numbers differ from run to run; the shapes do not.
#
# ## From SGD to the posterior: SGLD
#
# Add Gaussian noise of variance ε to each step on the negative log posterior,
# u ← u − (ε/2) ĝ + √ε ξ, and the iterates become (approximately) posterior draws:
# stochastic-gradient Langevin dynamics. Note ĝ: it is not the minibatch *mean* of
# eq. 5.98 but the full-data gradient estimated from the minibatch,
# ĝ = −∇ log p(θ) − (N/m′) Σ_{i∈B} ∇ log p(yᵢ | xᵢ, θ): the posterior weighs all N
# observations against the prior, so the minibatch sum is scaled up by N/m′ (with the
# mean, the prior would count N times too much). On a linear model with known σ the exact
# posterior is Gaussian, so we can check SGLD and NUTS against it.

# %%
trees, table = lessons.sgld_vs_nuts(seed=0, quick=True)
fig = figures.sgld_vs_nuts(trees)
table[
    ["parameter", "exact_mean", "NUTS_mean", "SGLD_mean", "exact_sd", "NUTS_sd", "SGLD_sd"]
].round(4)

# %% [markdown]
# **What the figure shows.** ArviZ densities of the SGLD and NUTS draws with 95%
# equal-tailed intervals: they coincide, and the table shows both within Monte-Carlo
# error of the exact posterior mean; SGLD's sds are a few percent wide (a finite step).
#
# ## Exercises
#
# 1. Change `m_prime` in `sgd_step` to 1 and to 1000. How many steps does each need to
#    reach J = 0.53, and how many examples does each read?
# 2. Measure the variance of the minibatch gradient above for m′ = 16, 64, 256. How does
#    it scale with m′? (Sampling without replacement: slightly less than 1/m′.)
# 3. Run `inference.sgld` (from `freqbayes.inference import sgld`) with
#    `step_size=4e-4` (10× the default for n = 1000). What happens to the posterior sd?
# 4. *Write it yourself.* Minibatch SGD from scratch: write
#    `sgd(X, y, m_prime, epsilon, steps, seed)` for least squares,
#    J(θ) = (1/m) Σ ½(θᵀxᵢ − yᵢ)² (eq. 5.96), drawing m′ rows per step (eq. 5.98) with
#    a generator seeded by `seed`, stepping θ ← θ − εg (eq. 5.99) from θ = 0, and check it:
#    `from freqbayes.lessons import exercises; exercises.check_sgd(sgd)`.
#
# Worked answers: `notebooks/answers.md`.
