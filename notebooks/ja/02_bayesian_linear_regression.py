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
# # 2. ベイズ線形回帰（Deep Learning §5.6, 式 5.69–5.78）
#
# y = θᵀx + b + ε、ε ~ N(0, σ²) とする。最小二乗法は条件付き最尤推定であり（§5.5.1）、リッジ回帰は正規事前分布 θ_j ~ N(0, τ²) のもとでの MAP推定 argmax log p(y | X, θ) + log p(θ) である（§5.6.1, 式 5.79）。重み減衰の係数は λ = σ²/τ² となる。そして事前分布 × 尤度からベイズの定理（式 5.67）で得る事後分布全体が、各重みについてどれだけ確かなのかを教えてくれる。

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
# ## モデル
#
# 式 5.80 の尤度 p(y | x; θ) = N(y; θᵀx, I) に切片とノイズの尺度 σ（1 の代わり）を加え、事前分布をつけて NumPyro のプログラムとして書く。パッケージの `freqbayes.models.probabilistic.linear.program` は事前分布を引数にとる。既定の事前分布はデータの単位に合わせてあり、どの事前分布の尺度もデータ自身の尺度の 2.5 倍である。すなわち θ_j ~ N(0, (2.5 s_y/s_j)²)、σ ~ HalfNormal(2.5 s_y) で、s_j は列 j の標準偏差（`sex` のような 2 値の列では範囲）である。標準化したこのデータ（平均 0、s_y = 1）では、それが下のプログラムになる。


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
# ## diabetes データでの最小二乗法、リッジ回帰 = MAP推定、事後分布
#
# 標準化した 10 個の特徴量と、標準化した病気の進行度。θ_j ~ N(0, τ²)、σ 固定、切片には平坦な事前分布をおいて L-BFGS で求めた MAP推定値は、λ = σ²/τ² でのリッジ回帰の閉じた形の解と一致する。

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
# 経路全体を見よう。τ が小さくなる（λ が大きくなる）につれて、重みは 0 へ縮む。線はリッジ回帰の解、点は最適化で求めた MAP推定値である。両者は一本の曲線になる。

# %%
path = lessons.map_ridge_path(taus=(0.03, 0.1, 0.3, 1.0))
fig = figures.ridge_path(path)

# %% [markdown]
# 次は事後分布である。σ が未知で共役な正規-逆ガンマ事前分布をおけば、事後分布は厳密に求まる（`linear.posterior_nig`）。NUTS は共役性を必要とせずに同じ事後分布からサンプルを引く。ここでは既定の事前分布で NUTS を使う。

# %%
nuts = inference.nuts("linear", diabetes, seed=0, num_warmup=500, num_samples=500, progress=False)
summary(nuts, var_names=["beta", "sigma"])

# %% [markdown]
# 血清の特徴量 s1 と s2 は強く相関している（患者間で 0.90）。そのためデータは、どちらか一方の重みよりも、二つの重みの和をはるかに精度よく決める。

# %%
draws = nuts["posterior"]["beta"].stack(sample=("chain", "draw"))
s1, s2 = (draws.sel(feature=f).values for f in ("s1", "s2"))
print(f"posterior correlation of the s1 and s2 weights: {np.corrcoef(s1, s2)[0, 1]:.2f}")
print(f"sd of each: {s1.std():.3f}, {s2.std():.3f}; sd of their sum: {(s1 + s2).std():.3f}")

# %% [markdown]
# ここで頑健なこと（試したどのシードでも 2 桁まで同じ）は、事後相関が −0.96 近くであることと、各重みの不確かさがその和の 3 倍あることだ。一方、各重みの 95% 区間がぎりぎり 0 をまたぐかどうかは頑健ではない。s1 の上端はシードによって 0.03–0.05 の間にある。
#
# ## 本書の事後分布、式 5.77–5.78 をコードで
#
# ノイズの分散が既知（本書では σ = 1）で、正規事前分布 w ~ N(μ₀, Λ₀) をおくと、事後分布は正規分布になる（§5.6, 式 5.77–5.78）。Λₘ = (XᵀX/σ² + Λ₀⁻¹)⁻¹、μₘ = Λₘ(Xᵀy/σ² + Λ₀⁻¹μ₀) である。切片のために X に 1 の列を加え（事前分布 N(0, 10²)）、重みの事前分布を N(0, 0.5²)、σ = 0.7 として直接計算し、同じモデルの NUTS と照合する。

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
# ## 帯：信頼帯と予測区間、信用帯と事後予測分布
#
# 描けるように特徴量を一つ（BMI）だけにする。

# %%
bmi = lessons.select_features(diabetes, ["bmi"])
bmi_post = inference.nuts("linear", bmi, seed=0, num_warmup=500, num_samples=500, progress=False)
bands = lessons.regression_bands(bmi, bmi_post)
fig = figures.regression_bands(bands, bmi.X[:, 0], bmi.y, "bmi")

# %% [markdown]
# **図の読み方。** 左：最小二乗法の直線、平均の直線に対する 95% 信頼帯、新しい患者に対する 95% 予測区間。右：事後平均の直線、95% 信用帯、事後予測分布（式 5.68）の 95% 帯。患者が 442 人いて事前分布が弱ければ、二つの図はほぼ重なる。違うのは言明の内容である。ベイズの帯は、このデータのもとでの θ についての確率である。
#
# ## 特徴写像：ニュートンの万有引力の法則
#
# F = G m₁ m₂ / r² は線形ではないが、その対数は線形である。log F = log G + 1·log m₁ + 1·log m₂ − 2·log r。ノイズのある測定値から、対数をとった特徴量での線形回帰によって指数と log G を取り戻せる。

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
# **図の読み方。** 三つの指数と log G の事後密度（真の値は点線）。それぞれの 95% 信用区間は、*このデータとこの事前分布のもとで*事後確率の 95% を含む。
#
# どれかが真の値を外していないだろうか。それぞれを同じ係数の最小二乗法の信頼区間と比べ、外れの大きさを最小二乗法の z = (推定値 − 真値)/se で測ろう。

# %%
misses = lessons.interval_misses(grav, grav_post)
print(lessons.misses_verdict(misses))

# %% [markdown]
# 測定が 100 回あり事前分布がこれだけ広ければ、信用区間は最小二乗法の信頼区間と 2–3 桁まで一致する。したがって信用区間が外れても、それは事前分布のせいではない。信頼区間も外れているのであり、95% 信頼区間は固定された真値を 20 回に 1 回外して*よい*のである。四つの係数のうち少なくとも一つでそれが起こるのは、データ 5 組に 1 組程度である（推定値が相関していればもっと少ない）。z ≈ 2.6 での外れは珍しくない。z = 6 での外れなら、モデルが間違っていることを示唆する。
#
# ## 部分プーリング：小さなグループは他から力を借りる
#
# 郡ごとの家（ラドンデータにならったシミュレーション、`lessons.radon_like`）：対数ラドン濃度、階の指示変数、郡。家が 1 軒か 2 軒しかない郡がいくつもある。各郡の水準は三通りに推定できる。**プーリングなし**（郡ごとの切片を最尤推定する）、**完全プーリング**（全郡に一つの切片）、そして**部分プーリング**、すなわちグループレベルの項をもつ式で書いた階層モデル
# `inference.fit("linear", "nuts", radon, formula="log_radon ~ floor + (1 | county)")`
# である。郡の効果は b_j ~ N(0, τ²) で、τ はすべての郡から学習し、非中心化した形 b_j = τ z_j、z_j ~ N(0, 1) でサンプリングする。その隣に、REML で推定した頻度論の線形混合モデルとその BLUP（最良線形不偏予測量）を置く。


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
# **図の読み方。** 左：各郡について、自分だけの最尤推定値（橙）から事後平均（緑）への矢印を、家の数に対して描いた。破線は完全プーリング、×印は REML の BLUP、横棒はシミュレーションの真値である。家が 1 軒か 2 軒の郡ほど大きく動く。その郡だけの推定値はほとんどがノイズであり、階層モデルはそれを (σ²/τ²)/(n_j + σ²/τ²) の割合で共通の水準へ引き寄せる。右：真値に対する各推定値の誤差。部分プーリングは両極端のどちらよりもよい。グループが多く τ の事前分布が弱ければ、事後分布と REML の混合モデルはよく一致する。グループが少ないと REML の τ̂ はちょうど 0 になりうる（完全プーリングになる）が、事後分布は τ についての不確かさを保つ。
#
# ## 演習
#
# 1. `linear.posterior_known_sigma` を使い、diabetes データで σ = 0.7、τ = 0.1 のときの θ の事後平均を計算し、上の MAP推定値と一致することを示せ。ここで事後平均と事後モードが一致するのはなぜか。
# 2. 万有引力のデータに最小二乗法を当てはめ（`linear.ols(grav.X, grav.y)`）、推定値を事後平均と比べよ。log G の事前分布が効いてくるのはどんなときか。
# 3. BMI のモデルを最初の 20 人だけで当てはめ直せ。平均に対する信用帯と事後予測分布の帯のどちらがより広がるか。それはなぜか。
# 4. *自分で書く。* 推定量とその標本分布：最小二乗法の係数（切片が先頭）と、その Wald 標準誤差 √diag(σ̂²(AᵀA)⁻¹)（A = [1, X]、最尤推定値 σ̂² = RSS/n）を返す `ols_wald(X, y)` を書け。生の列（平均が 100 前後、目的変数は数千）で確かめよ：
#    `from freqbayes.lessons import exercises; exercises.check_ols_wald(ols_wald)`。
#
# 解答例：`notebooks/ja/answers.md`。
