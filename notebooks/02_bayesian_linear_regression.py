# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 2. Bayesian linear regression (Deep Learning §5.6, eqs. 5.69–5.78)
#
# y = θᵀx + b + ε with ε ~ N(0, σ²). Least squares is the conditional MLE (§5.5.1);
# ridge regression is the MAP, argmax log p(y | X, θ) + log p(θ) (§5.6.1, eq. 5.79), under
# a Gaussian prior θ_j ~ N(0, τ²), with weight decay λ = σ²/τ²; and the full posterior,
# prior × likelihood by Bayes' rule (eq. 5.67), says how sure we are of each weight.

# %%
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.infer.util import log_density

from freqbayes import data, figures, inference, lessons, summary
from freqbayes.models import linear, scaling
from freqbayes.models import priors as P

# %% [markdown]
# ## The model
#
# The likelihood of eq. 5.80, p(y | x; θ) = N(y; θᵀx, I), with an intercept and a noise
# scale σ in place of 1, and priors, as a NumPyro program. The package's
# `freqbayes.models.probabilistic.linear.program` takes the priors as arguments; by
# default they follow the units of the data: every prior scale is 2.5 times the data's
# own, θ_j ~ N(0, (2.5 s_y/s_j)²) and σ ~ HalfNormal(2.5 s_y), where s_j is the sd of
# column j (its range for a two-valued column such as `sex`).
# On these standardised data (means 0, s_y = 1) that is the program below.


# %%
def model(X, y=None):
    tau = 2.5 * y.std() / scaling.column_scale(X)  # the autoscaled prior sds of the weights
    sigma = numpyro.sample("sigma", dist.HalfNormal(2.5 * y.std()))
    b = numpyro.sample("intercept", dist.Normal(0.0, 2.5 * y.std()))
    theta = numpyro.sample("beta", dist.Normal(0.0, tau).to_event(1))
    with numpyro.plate("obs", X.shape[0]):
        numpyro.sample("y", dist.Normal(b + jnp.dot(X, theta), sigma), obs=y)


diabetes = data.diabetes()
defaults = inference.prepare("linear", diabetes).priors
print({name: P.describe(prior) for name, prior in defaults.items()})
point = {"sigma": 0.7, "intercept": 0.1, "beta": jnp.full(10, 0.05)}
ours, _ = log_density(model, (diabetes.X, diabetes.y), {}, point)
theirs, _ = log_density(linear.program, (diabetes.X, diabetes.y), defaults, point)
print(f"log p(y, θ | X): this notebook {float(ours):.4f}, package {float(theirs):.4f}")
assert abs(float(ours) - float(theirs)) < 1e-3 * abs(float(ours))

# %% [markdown]
# ## OLS, ridge = MAP, and the posterior on the diabetes data
#
# Ten standardised features, standardised disease progression. The MAP found by
# L-BFGS with θ_j ~ N(0, τ²), σ fixed and a flat intercept equals ridge regression's
# closed form at λ = σ²/τ²:

# %%
sigma, tau = 0.7, 0.1
priors = {
    "beta_prior": P.Normal(0.0, tau),
    "intercept_prior": P.Flat(),
    "sigma_prior": P.Known(sigma),
}
map_fit = inference.map_estimate("linear", diabetes, priors=priors)
ridge = linear.ridge(diabetes.X, diabetes.y, linear.ridge_lambda(sigma, tau))
print("MAP  :", np.asarray(map_fit["posterior"]["beta"]).ravel().round(4))
print("ridge:", ridge.beta.round(4))

# %% [markdown]
# The whole path: as τ shrinks (λ grows) the weights shrink to 0. Lines are ridge
# solutions, dots are MAP estimates found by optimisation: one curve.

# %%
path = lessons.map_ridge_path(taus=(0.03, 0.1, 0.3, 1.0))
fig = figures.ridge_path(path)

# %% [markdown]
# Now the posterior. With σ unknown and a conjugate Normal-Inverse-Gamma prior the
# posterior is exact (`linear.posterior_nig`); NUTS draws from the same posterior
# without needing conjugacy. Here NUTS with the default priors:

# %%
nuts = inference.nuts("linear", diabetes, seed=0, num_warmup=500, num_samples=500, progress=False)
summary(nuts, var_names=["beta", "sigma"])

# %% [markdown]
# The serum features s1 and s2 are strongly correlated (0.90 across patients), so the
# data pin down the sum of their weights far better than either weight:

# %%
draws = nuts["posterior"]["beta"].stack(sample=("chain", "draw"))
s1, s2 = (draws.sel(feature=f).values for f in ("s1", "s2"))
print(f"posterior correlation of the s1 and s2 weights: {np.corrcoef(s1, s2)[0, 1]:.2f}")
print(f"sd of each: {s1.std():.3f}, {s2.std():.3f}; sd of their sum: {(s1 + s2).std():.3f}")

# %% [markdown]
# What is robust here (the same to two digits at every seed we tried): a posterior
# correlation near −0.96, and each weight three times as uncertain as their sum.
# Whether each weight's 95% interval just crosses zero is not: s1's upper end sits at
# 0.03–0.05 depending on the seed.
#
# ## The book's posterior, eqs. 5.77–5.78, in code
#
# With the noise variance known (the book takes σ = 1) and a Gaussian prior
# w ~ N(μ₀, Λ₀), the posterior is Gaussian (§5.6, eqs. 5.77–5.78):
# Λₘ = (XᵀX/σ² + Λ₀⁻¹)⁻¹ and μₘ = Λₘ(Xᵀy/σ² + Λ₀⁻¹μ₀). Computed directly, with a
# column of ones in X for the intercept (prior N(0, 10²)), the weights' prior N(0, 0.5²)
# and σ = 0.7, and checked against NUTS on the same model:

# %%
sigma_known, tau_w, tau_b = 0.7, 0.5, 10.0
A = np.c_[np.ones(diabetes.n), diabetes.X]
mu0 = np.zeros(A.shape[1])
Lambda0 = np.diag([tau_b**2] + [tau_w**2] * diabetes.X.shape[1])
Lambda_m = np.linalg.inv(A.T @ A / sigma_known**2 + np.linalg.inv(Lambda0))  # eq. 5.77-5.78
mu_m = Lambda_m @ (A.T @ diabetes.y / sigma_known**2 + np.linalg.solve(Lambda0, mu0))
known = {
    "beta_prior": P.Normal(0.0, tau_w),
    "intercept_prior": P.Normal(0.0, tau_b),
    "sigma_prior": P.Known(sigma_known),
}
check = inference.nuts(
    "linear", diabetes, seed=1, priors=known, num_warmup=500, num_samples=500, progress=False
)
nuts_mean = check["posterior"]["beta"].mean(("chain", "draw")).values
nuts_sd = check["posterior"]["beta"].std(("chain", "draw")).values
exact_sd = np.sqrt(np.diag(Lambda_m))[1:]
print("μₘ (weights):", mu_m[1:].round(3))
print("NUTS mean   :", nuts_mean.round(3))
print(
    "largest |NUTS − μₘ| in posterior sds:",
    np.max(np.abs(nuts_mean - mu_m[1:]) / exact_sd).round(3),
)
assert np.all(np.abs(nuts_mean - mu_m[1:]) < 0.15 * exact_sd)
assert np.allclose(nuts_sd, exact_sd, rtol=0.1)

# %% [markdown]
# ## Bands: confidence and prediction versus credible and posterior-predictive
#
# One feature (body-mass index) so that we can draw it.

# %%
bmi = lessons.select_features(diabetes, ["bmi"])
bmi_post = inference.nuts("linear", bmi, seed=0, num_warmup=500, num_samples=500, progress=False)
bands = lessons.regression_bands(bmi, bmi_post)
fig = figures.regression_bands(bands, bmi.X[:, 0], bmi.y, "bmi")

# %% [markdown]
# **What the figure shows.** Left: OLS, its 95% confidence band for the mean line and
# the 95% prediction interval for a new patient. Right: the posterior mean line, the
# 95% credible band and the 95% band of the posterior predictive (eq. 5.68). With 442
# patients and a
# weak prior the pictures nearly coincide; what differs is the statement: the Bayesian
# band is a probability about θ given these data.
#
# ## A feature map: Newton's law of gravitation
#
# F = G m₁ m₂ / r² is not linear, but its logarithm is:
# log F = log G + 1·log m₁ + 1·log m₂ − 2·log r. With noisy measurements, linear
# regression on the log features recovers the exponents and log G.

# %%
grav = lessons.gravitation(seed=0)
grav_post = inference.nuts(
    "linear",
    grav,
    seed=0,
    priors=lessons.GRAVITATION_PRIORS,
    dense_mass=True,
    num_warmup=500,
    num_samples=500,
    progress=False,
)
fig = figures.gravitation(grav_post, grav.attrs)
summary(grav_post, var_names=["beta", "intercept"])

# %% [markdown]
# **What the figure shows.** Posterior densities of the three exponents and of log G
# (true values dotted). Each 95% credible interval holds 95% of the posterior
# probability *given these data and this prior*.
#
# Does one of them miss its true value? Compare each with the OLS confidence interval
# of the same coefficient and measure the miss by the OLS z = (estimate − truth)/se:

# %%
misses = lessons.interval_misses(grav, grav_post)
print(lessons.misses_verdict(misses))

# %% [markdown]
# With 100 measurements and a prior this wide the credible intervals are the OLS
# confidence intervals to two or three digits, so a credible interval that misses is
# not the prior's fault: the confidence interval misses too, and a 95% confidence
# interval is *allowed* to miss a fixed truth 1 time in 20. Among four coefficients
# that happens to at least one of them about one data set in five (less when the
# estimates are correlated). A miss at z ≈ 2.6 is unremarkable; one at z = 6 would
# point to a wrong model.
#
# ## Partial pooling: small groups borrow strength
#
# Houses in counties (a radon-like simulation, `lessons.radon_like`): log radon, a floor
# indicator and the county, several counties with one or two houses. Each county's level
# can be estimated three ways: **no pooling** (its own intercept, by maximum likelihood),
# **complete pooling** (one intercept for all) and **partial pooling**, the hierarchical
# model written as a formula with a group-level term,
# `inference.fit("linear", "nuts", radon, formula="log_radon ~ floor + (1 | county)")`:
# county effects b_j ~ N(0, τ²) with τ learnt from all the counties, sampled in the
# non-centred form b_j = τ z_j, z_j ~ N(0, 1). Beside it, the frequentist linear mixed
# model fitted by REML and its BLUPs (best linear unbiased predictions).


# %%
radon = lessons.radon_like(seed=0)
pooled = lessons.partial_pooling(
    radon, seed=0, num_warmup=1000, num_samples=1000, progress=False
)  # 500 + 500 left r̂ above 1.01 for 3 of 8 seeds
fig = figures.shrinkage(pooled)
summary(pooled.fit, var_names=["intercept", "beta", "group_sd", "sigma"])

# %%
tau = {"reml": pooled.reml.tau, "posterior_mean": pooled.tau_posterior_mean}
print({name: round(value, 3) for name, value in tau.items()})
print({name: round(error, 3) for name, error in pooled.errors().items()})
pooled.table().head(8).round(3)

# %% [markdown]
# **What the figure shows.** Left: an arrow from each county's own MLE (orange) to its
# posterior mean (green), against the number of houses; the dashed line is complete
# pooling, the crosses REML's BLUPs, the dashes the simulation's truth. Counties with one
# or two houses move most: their own estimate is mostly noise, and the hierarchical model
# pulls it toward the common level by the factor (σ²/τ²)/(n_j + σ²/τ²). Right: the error
# of each estimate against the truth; partial pooling beats both extremes. With many
# groups and a weak prior on τ the posterior and the REML mixed model agree closely;
# with few groups REML's τ̂ can be exactly 0 (complete pooling), while the posterior
# keeps its uncertainty about τ.
#
# ## Exercises
#
# 1. Using `linear.posterior_known_sigma`, compute the posterior mean of θ for the
#    diabetes data with σ = 0.7 and τ = 0.1 and show that it equals the MAP above. Why
#    are the posterior mean and mode the same here?
# 2. Fit OLS to the gravitation data (`linear.ols(grav.X, grav.y)`) and compare the
#    estimates with the posterior means. When would the prior on log G matter?
# 3. Refit the bmi model with only the first 20 patients. Which band widens more, the
#    credible band for the mean or the posterior-predictive band, and why?
# 4. *Write it yourself.* An estimator and its sampling distribution: write
#    `ols_wald(X, y)` returning the least-squares coefficients (intercept first) and
#    their Wald standard errors √diag(σ̂²(AᵀA)⁻¹), A = [1, X], with the MLE
#    σ̂² = RSS/n. Check it on raw columns (means near 100, targets in the thousands):
#    `from freqbayes.lessons import exercises; exercises.check_ols_wald(ols_wald)`.
#
# Worked answers: `notebooks/answers.md`.
