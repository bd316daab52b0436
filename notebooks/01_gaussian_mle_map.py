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
# # 1. Maximum likelihood and MAP for a Gaussian (Deep Learning §5.5–5.6)
#
# We observe x₁, …, xₙ and assume x_i ~ N(μ, σ²). The **frequentist** treats (μ, σ) as
# fixed and the estimate as random: the maximum-likelihood estimate (MLE) comes with
# its sampling distribution (standard errors, confidence intervals). The **Bayesian**
# treats (μ, σ) as random: the answer is a distribution over them, the posterior,
# which needs a prior: p(θ | x) = p(x | θ) p(θ)/p(x), Bayes' rule (§5.6, eq. 5.67). This notebook
# fits both to real data, checks them against closed forms, and shows where they
# differ: the bias of the variance MLE and the meaning of an interval.

# %%
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.infer.util import log_density

from freqbayes import data, figures, inference, lessons, summary
from freqbayes.models import gaussian
from freqbayes.models import priors as P

# %% [markdown]
# ## The model as a NumPyro program
#
# A NumPyro program states *what is assumed*: a prior on each parameter and the
# likelihood of the data. Here is the whole model, written out; the package's own
# `freqbayes.models.probabilistic.gaussian.program` is the same program with the priors as
# arguments.


# %%
def model(x):
    sigma = numpyro.sample("sigma", dist.HalfNormal(10.0))
    mu = numpyro.sample("mu", dist.Normal(0.0, 10.0))
    with numpyro.plate("obs", x.shape[0]):
        numpyro.sample("x", dist.Normal(mu, sigma), obs=x)


iris = data.iris_setosa()
point = {"mu": 5.0, "sigma": 0.4}
ours, _ = log_density(model, (iris.y,), {}, point)
theirs, _ = log_density(
    gaussian.program,
    (iris.y,),
    {"mu_prior": P.Normal(0.0, 10.0), "sigma_prior": P.HalfNormal(10.0)},
    point,
)
print(
    f"log p(x, θ) at μ = 5, σ = 0.4: this notebook {float(ours):.4f}, package {float(theirs):.4f}"
)

# %% [markdown]
# ## Why maximum likelihood? And how does a posterior learn?
#
# Maximising the likelihood is minimising the cross-entropy between the data's
# empirical distribution p̂_data and the model, −(1/m) Σ log p_model(xᵢ), which differs
# from D_KL(p̂_data ‖ p_model) by the entropy of p̂_data, a constant in θ: both have the
# same minimiser (eqs. 5.58–5.61). With Gaussian noise of
# known σ, −log p(y | x; w) = m log σ + (m/2) log 2π + m·MSE/(2σ²) (eq. 5.65): the
# MLE is least squares (eq. 5.66). And the posterior is prior × likelihood (eq. 5.67):
# with points arriving one at a time, each posterior is the prior for the next.

# %%
div = lessons.mle_as_divergence(seed=0)
fig = figures.mle_as_divergence(div)
upd = lessons.sequential_updating(seed=0)
fig = figures.sequential_updating(upd)
print(
    f"after {len(upd.x)} points one at a time: N({upd.mean[-1]:.4f}, {upd.sd[-1]:.4f}²); "
    f"all at once: N({upd.batch_mean:.4f}, {upd.batch_sd:.4f}²)"
)

# %% [markdown]
# ## MLE, MAP and the posterior on 50 Iris setosa flowers
#
# `inference.mle` and `inference.map_estimate` maximise the likelihood and the log
# joint log p(x | θ) + log p(θ) (the MAP, eq. 5.79) with L-BFGS; `inference.nuts` draws
# from the posterior. The MLE has a closed
# form, x̄ and the *biased* variance (1/n) Σ (x_i − x̄)², and the optimiser finds it.

# %%
mle = inference.mle("gaussian", iris)
nuts = inference.nuts("gaussian", iris, seed=0, num_warmup=500, num_samples=500, progress=False)
exact = gaussian.mle(iris.y)
print(f"closed-form MLE: mu = {exact.mu:.4f}, sigma = {exact.sigma:.4f}")
mu_hat, sigma_hat = (float(mle["posterior"][v].item()) for v in ("mu", "sigma"))
print(f"L-BFGS MLE:      mu = {mu_hat:.4f}, sigma = {sigma_hat:.4f}")

summary(nuts)

# %% [markdown]
# ## The frequentist answer: the estimate and its sampling distribution
#
# To a frequentist μ and σ are fixed and x̄ is random: had we measured another 50
# flowers, x̄ would have come out differently. The uncertainty of the MLE is the spread
# of that *sampling distribution*, and three methods estimate it:
#
# * **Wald**: the MLE is approximately N(θ, I(θ)⁻¹); the observed information I is the
#   Hessian of −log p(x | θ) at the MLE (`jax.hessian`), so θ̂ ± 1.96 se (the book's
#   μ̂ ± 1.96 SE(μ̂), eq. 5.47).
# * **Profile likelihood**: every θⱼ that a likelihood-ratio test at 5% would not
#   reject, {θⱼ : 2(ℓ̂ − ℓₚ(θⱼ)) ≤ 3.84}; asymmetric where the likelihood is.
# * **Bootstrap**: refit the MLE on 2,000 data sets resampled from these 50 flowers;
#   read the interval off the 2,000 estimates (percentile, or BCa corrected for bias and
#   skew).
#
# Each returns a DataTree like a posterior's, whose attrs say it is a sampling
# distribution and whose intervals are *confidence* intervals. Beside the posterior:

# %%
freq = {m: inference.fit("gaussian", m, iris, seed=0) for m in ("wald", "profile", "bootstrap")}
table = lessons.summary_table({"nuts": nuts, **freq})
fig = figures.forest(table, "Iris setosa sepal length: μ and σ", "cm", shared=False)
table[["parameter", "method", "interval", "estimate", "lo95", "hi95"]].round(4)

# %% [markdown]
# **What the figure shows.** The four intervals nearly coincide: with 50 observations
# and a weak prior the frequentist and the Bayesian answers agree *numerically*. They
# still answer different questions: the confidence interval is a statement about the
# procedure over repeated samples, the credible interval about μ given these data.
# The profile and bootstrap intervals for σ are not symmetric about σ̂: the likelihood
# of a scale is skewed.
#
# With 50 observations the posterior mean sits on the MLE and the 95% credible
# interval is narrow. How does that happen as data accumulate? Below, one simulated
# sample from N(5, 2²) is read in ever longer prefixes, with a weak conjugate
# (Normal-Inverse-Gamma) prior whose posterior is exact.

# %%
conc = lessons.gaussian_concentration(seed=0)
fig = figures.gaussian_concentration(conc)

# %% [markdown]
# **What the figure shows.** Left: the 95% credible interval for μ (green band)
# shrinks like 1/√n around the MLE x̄ (orange dots). Right: at n = 2 the MLE of σ is
# far too small — it divides by n, and μ̂ is fitted to the same two points, which sit
# at ±|x₁ − x₂|/2 from it (E[σ̂²] = σ²/2 at n = 2) — while the posterior, pulled by the
# prior, is more reasonable; by n = 100 they agree.
#
# ## The variance MLE is biased
#
# E[σ̂²_MLE] = (n − 1)/n · σ² (eqs. 5.36–5.39, §5.4.2). We check it by simulating 20,000 data sets
# per n, all at once with `jax.vmap`.

# %%
bias = lessons.variance_bias(seed=0, reps=20_000)
fig = figures.variance_bias(bias)
print(np.c_[bias.n, bias.ratio.round(4), bias.formula.round(4)])

# %% [markdown]
# ## Confidence versus credible intervals
#
# A 95% *confidence* interval is a procedure that covers the true μ in 95% of repeated
# experiments, whatever μ is. A 95% *credible* interval holds 95% of the posterior
# probability given these data. If μ really is drawn from the prior, the credible
# interval also covers 95% of the time (on average over the prior); with a wrong prior
# it need not.

# %%
cov = lessons.interval_coverage(seed=0, reps=4000)
fig = figures.interval_coverage(cov)
cov.pivot(index="interval", columns="n", values="coverage")

# %% [markdown]
# **What the figure shows.** The t-interval and the credible interval under the true
# prior both sit at 95% (black line) at every n, but the credible intervals are
# narrower at n = 5: the prior is information. A confident, wrong prior (pink) covers
# far less than 95% at n = 5 and recovers as the data outweigh it.
#
# ## Two guarantees
#
# Above, μ was *drawn from the prior* in every replication. Hold it fixed instead, at
# one value after another (σ = 1 known, n = 10), and compare the 95% z confidence
# interval x̄ ± 1.96 σ/√n (eq. 5.47) with the 95% credible interval under the prior
# N(0, 1). Both
# coverages are known exactly (lines) and simulated (points).

# %%
guarantees = lessons.two_guarantees(seed=0)
fig = figures.two_guarantees(guarantees)
fixed = guarantees.fixed
edge = fixed[(fixed["mu"].abs() == 6.0) & fixed["interval"].str.startswith("95% credible")]
print("credible interval at μ = ±6, exact coverage:", edge["exact"].round(4).tolist())
guarantees.averaged.round(3)

# %% [markdown]
# **What the figure shows.** Left: the confidence interval covers 95% at *every* fixed
# μ: that is its guarantee, and it needs no prior. The credible interval covers more
# than 95% near the prior's centre and much less far from it (0.563 at μ = ±6), where the
# prior is wrong. Right: averaged over μ drawn from the prior, the credible interval
# covers exactly 95%: that is *its* guarantee, an average over the prior it was built
# with. Drawn from another distribution (N(3, 1)), the average falls to 0.85. Neither
# interval is "the probability that μ is in this interval" in the other's sense.
#
# ## Exercises
#
# 1. Replace the `HalfNormal(10)` prior on σ in `model` by `HalfNormal(0.1)` and refit
#    with NUTS: the package's program with `priors={"mu_prior": P.Normal(0.0, 10.0),
#    "sigma_prior": P.HalfNormal(0.1)}` is that model (the log densities agree, above).
#    How far does the posterior mean of σ move, from where it is with `HalfNormal(10)`
#    and from the MLE, and why?
# 2. Show that the *unbiased* variance 1/(n−1) Σ (x_i − x̄)² is not the MLE: evaluate
#    the log-likelihood of the Iris data at both and compare.
# 3. In `lessons.interval_coverage`, make the misspecified prior less confident
#    (κ₀ = 1 instead of 5). What happens to its coverage at n = 5?
# 4. *Write it yourself.* A robust model of the same data: write a NumPyro program
#    `model(x)` with μ ~ N(0, 10²), σ ~ HalfNormal(10) and x_i ~ StudentT(4, μ, σ)
#    (sites `"mu"`, `"sigma"`, `"x"`), then check it:
#    `from freqbayes.lessons import exercises; exercises.check_student_t(model)`.
#    Fit it with NUTS (`numpyro.infer.MCMC`) and compare the posterior of μ with the
#    Gaussian model's.
#
# Worked answers: `notebooks/answers.md`.
