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
# # 3. Bayesian logistic regression: five ways to fit one model
#
# p(y = 1 | x) = σ(θᵀx + b) (§5.7.1). There is no closed form for anything here, so
# the methods differ for real: the MLE and the MAP are points found by optimisation;
# the Laplace approximation is a Gaussian at the MAP; SVI fits a Gaussian by
# maximising the ELBO; NUTS draws from the exact posterior. ArviZ puts them side by side.

# %%
import numpy as np
import numpyro
import numpyro.distributions as dist
import pandas as pd
from numpyro.infer.util import log_density

from freqbayes import data, figures, inference, lessons, summary
from freqbayes.models import logistic

# %% [markdown]
# ## Why not a Gaussian? The sigmoid
#
# Fit labels y ∈ {0, 1} with least squares, the MLE under a Gaussian likelihood, and the
# line leaves [0, 1]: it is not a probability, and Gaussian noise would put mass on
# every real y. Keep the linear function θᵀx but pass it through the logistic sigmoid
# σ(z) = 1/(1 + e⁻ᶻ), and every x gets a probability p(y = 1 | x) = σ(θᵀx) (eq. 5.81):
# a Bernoulli likelihood.

# %%
why = lessons.why_sigmoid(seed=0)
fig = figures.why_sigmoid(why)
print(f"the least-squares line is outside [0, 1] over {why.outside:.0%} of the range of x")

# %% [markdown]
# ## The model
#
# The package's default priors follow the units of the features: θ_j ~ N(0, (2.5/s_j)²)
# and, for the intercept, N(0, 2.5² (1 + Σ_j (x̄_j/s_j)²)). The features here are
# standardised (s_j = 1, x̄_j = 0), so both are N(0, 2.5²):


# %%
def model(X, y=None):
    b = numpyro.sample("intercept", dist.Normal(0.0, 2.5))
    theta = numpyro.sample("beta", dist.Normal(0.0, 2.5).expand([X.shape[1]]).to_event(1))
    with numpyro.plate("obs", X.shape[0]):
        numpyro.sample("y", dist.Bernoulli(logits=b + X @ theta), obs=y)


cancer = lessons.select_features(data.breast_cancer(), lessons.CANCER_FEATURES)
defaults = inference.prepare("logistic", cancer).priors
point = {"intercept": 0.2, "beta": np.full(5, -0.3)}
ours, _ = log_density(model, (cancer.X, cancer.y), {}, point)
theirs, _ = log_density(logistic.program, (cancer.X, cancer.y), defaults, point)
print(f"log p(y, θ | X): this notebook {float(ours):.3f}, package {float(theirs):.3f}")
assert abs(float(ours) - float(theirs)) < 1e-4 * abs(float(ours))

# %% [markdown]
# ## Every method on five breast-cancer features
#
# (Smaller runs than the showcase so that the notebook stays under a minute.)

# %%
small = {"nuts": {"num_warmup": 400, "num_samples": 400}}
fits = {
    m: inference.fit("logistic", m, cancer, seed=0, progress=False, **small.get(m, {}))
    for m in ("mle", "map", "laplace", "svi", "svi-fullrank", "nuts")
}
table = lessons.summary_table(fits)
fig = figures.forest(table, "breast cancer, 5 features", "coefficient (standardised features)")

# %% [markdown]
# **What the figure shows.** Diamonds are point estimates, lines are 95% equal-tailed
# posterior intervals. The MAP is the MLE shrunk towards 0 by the N(0, 2.5²) prior (weight
# decay). With 569 examples the posterior is nearly Gaussian, and the approximations
# get the centres about right; the spreads differ. NUTS draws from the exact posterior,
# so measure each approximation's sd of a weight against NUTS's:

# %%
sd = {m: fits[m]["posterior"]["beta"].sel(feature="mean radius").std().item() for m in fits}
for m in ("laplace", "svi", "svi-fullrank"):
    print(
        f"{m:>12}: sd of the mean-radius weight {sd[m]:.3f}, {sd[m] / sd['nuts'] - 1:+.0%} vs NUTS"
    )
print(f"{'nuts':>12}: {sd['nuts']:.3f}")

# %% [markdown]
# Laplace and full-rank SVI come within 5% of NUTS. Mean-field SVI does not: its sd of
# the mean-radius weight is 26% too small. It fits a Gaussian with independent
# coordinates, but the five measurements are correlated across tumours (up to 0.56), so
# their weights are correlated in the posterior. Fitted by the ELBO, which penalises
# mass where the posterior has none, a product of independent Gaussians takes each
# weight's spread *given the others* (for a Gaussian posterior with precision Λ, exactly
# 1/√Λⱼⱼ), which is smaller than its marginal spread (exercise 2 shows it at its
# worst). The table adds r̂, bulk ESS and the wall time of each method.

# %%
pd.set_option("display.width", 140)
table[table["parameter"] == "beta[mean radius]"]

# %% [markdown]
# ArviZ's own diagnostics for the NUTS run:

# %%
summary(fits["nuts"])

# %% [markdown]
# ## Separation: when the MLE does not exist
#
# With all 30 features the two classes are *completely separated*: some hyperplane
# classifies every example correctly, so a steeper and steeper sigmoid always fits
# better. The package detects it and refuses to return a number:

# %%
try:
    inference.mle("logistic", data.breast_cancer())
except inference.SeparationError as err:
    print(err)

# %% [markdown]
# Gradient descent on the log loss shows the same thing on a small 2-D example: ‖w‖
# grows without end, while with a N(0, 1) prior (weight decay) it converges.

# %%
sep = lessons.separable_data(0)
div = lessons.mle_divergence(sep, steps=2000)
fig = figures.divergence(div)

# %% [markdown]
# The posterior is proper even so; its draws give a band of decision boundaries
# (right panel of notebook 4 puts it beside the SVM).

# %%
post = inference.nuts("logistic", sep, seed=0, num_warmup=400, num_samples=400, progress=False)
summary(post)

# %% [markdown]
# ## Exercises
#
# 1. Refit the MAP with a tighter prior, `priors={"beta_prior": P.Normal(0.0, 0.3)}`
#    (`from freqbayes.models import priors as P`). Which coefficients move most?
# 2. Mean-field SVI ignores correlations. Fit NUTS, `svi` and `svi-fullrank` on two
#    nearly collinear features, `lessons.select_features(data.breast_cancer(),
#    ("mean radius", "mean perimeter"))`. Compare the posterior correlation of the two
#    weights and each weight's sd under the three methods. Which one is wrong, by how
#    much, and why?
# 3. On the separable 2-D data, what happens to the NUTS posterior of ‖w‖ when the
#    prior scale τ grows from 1 to 10? Why does the posterior stay proper for any finite τ?
# 4. *Write it yourself.* Newton's method for the logistic MLE: write
#    `logistic_mle(X, y)` returning the MLE of (b, θ) (eq. 5.81, intercept first) and
#    its Wald standard errors √diag(H⁻¹), H = AᵀWA, W = diag(p̂(1 − p̂)). Check it on raw
#    columns: `from freqbayes.lessons import exercises;
#    exercises.check_logistic_mle(logistic_mle)`. Why does Newton need no step size?
#
# Worked answers: `notebooks/answers.md`.
