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
# # 1. 正規分布の最尤推定とMAP推定（Deep Learning §5.5–5.6）
#
# x₁, …, xₙ を観測し、x_i ~ N(μ, σ²) を仮定する。**頻度論**では (μ, σ) を固定された値とみなし、推定値のほうを確率的なものと考える。最尤推定値（MLE）には標本分布（標準誤差、信頼区間）がついてくる。**ベイズ**では (μ, σ) を確率変数とみなす。答えはそれらの上の分布、すなわち事後分布であり、そのためには事前分布が必要になる。p(θ | x) = p(x | θ) p(θ)/p(x)、ベイズの定理である（§5.6, 式 5.67）。このノートブックでは両者を実データに当てはめ、閉じた形の解と照合し、両者がどこで食い違うか、すなわち分散の最尤推定量のバイアスと区間の意味を示す。

# %%
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.infer.util import log_density

from freqbayes import data, figures, inference, lessons, summary
from freqbayes.models import gaussian
from freqbayes.models import priors as P

# %% [markdown]
# ## NumPyro のプログラムとしてのモデル
#
# NumPyro のプログラムは*何を仮定しているか*、すなわち各パラメータの事前分布とデータの尤度を書き下したものである。以下にモデル全体を書き出す。パッケージ自身の `freqbayes.models.probabilistic.gaussian.program` は、事前分布を引数にしただけの同じプログラムである。


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
# ## なぜ最尤推定なのか。事後分布はどう学習するのか
#
# 尤度を最大化することは、データの経験分布 p̂_data とモデルとの交差エントロピー −(1/m) Σ log p_model(xᵢ) を最小化することである。これは D_KL(p̂_data ‖ p_model) と p̂_data のエントロピー（θ について定数）だけ異なるので、両者の最小点は一致する（式 5.58–5.61）。σ が既知の正規ノイズなら −log p(y | x; w) = m log σ + (m/2) log 2π + m·MSE/(2σ²)（式 5.65）であり、最尤推定は最小二乗法になる（式 5.66）。そして事後分布は事前分布 × 尤度である（式 5.67）。データが一つずつ届くなら、各時点の事後分布が次の事前分布になる。

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
# ## 50 本の Iris setosa での最尤推定、MAP推定、事後分布
#
# `inference.mle` と `inference.map_estimate` は、尤度と対数同時確率 log p(x | θ) + log p(θ)（MAP推定、式 5.79）を L-BFGS で最大化する。`inference.nuts` は事後分布からサンプルを引く。最尤推定値には閉じた形があり、x̄ と*バイアスのある*分散 (1/n) Σ (x_i − x̄)² である。最適化はそれをきちんと見つける。

# %%
mle = inference.mle("gaussian", iris)
nuts = inference.nuts("gaussian", iris, seed=0, num_warmup=500, num_samples=500, progress=False)
exact = gaussian.mle(iris.y)
print(f"closed-form MLE: mu = {exact.mu:.4f}, sigma = {exact.sigma:.4f}")
mu_hat, sigma_hat = (float(mle["posterior"][v].item()) for v in ("mu", "sigma"))
print(f"L-BFGS MLE:      mu = {mu_hat:.4f}, sigma = {sigma_hat:.4f}")

summary(nuts)

# %% [markdown]
# ## 頻度論の答え：推定値とその標本分布
#
# 頻度論者にとって μ と σ は固定されていて、x̄ のほうが確率的である。別の 50 本の花を測っていれば、x̄ は違う値になっていたはずだ。最尤推定値の不確かさとはこの*標本分布*の広がりであり、次の三つの方法で推定する。
#
# * **Wald**：最尤推定量は近似的に N(θ, I(θ)⁻¹) に従う。観測情報量 I は最尤推定値における −log p(x | θ) のヘッセ行列（`jax.hessian`）なので、θ̂ ± 1.96 se となる（本書の μ̂ ± 1.96 SE(μ̂)、式 5.47）。
# * **プロファイル尤度**：有意水準 5% の尤度比検定で棄却されない θⱼ 全体 {θⱼ : 2(ℓ̂ − ℓₚ(θⱼ)) ≤ 3.84}。尤度が非対称なところでは区間も非対称になる。
# * **ブートストラップ**：この 50 本から復元抽出した 2,000 組のデータで最尤推定をやり直し、2,000 個の推定値から区間を読み取る（パーセンタイル法、またはバイアスと歪みを補正した BCa 法）。
#
# いずれも事後分布と同じ形の DataTree を返す。その attrs には標本分布であることが記され、区間は*信頼*区間である。事後分布と並べてみよう。

# %%
freq = {m: inference.fit("gaussian", m, iris, seed=0) for m in ("wald", "profile", "bootstrap")}
table = lessons.summary_table({"nuts": nuts, **freq})
fig = figures.forest(table, "Iris setosa sepal length: μ and σ", "cm", shared=False)
table[["parameter", "method", "interval", "estimate", "lo95", "hi95"]].round(4)

# %% [markdown]
# **図の読み方。** 四つの区間はほぼ重なっている。観測が 50 個あり事前分布が弱ければ、頻度論とベイズの答えは*数値としては*一致する。それでも両者は別の問いに答えている。信頼区間は標本を繰り返し取ったときの手続きについての言明であり、信用区間はこのデータのもとでの μ についての言明である。σ のプロファイル尤度区間とブートストラップ区間は σ̂ について対称ではない。尺度パラメータの尤度は歪んでいるからである。
#
# 観測が 50 個あると、事後平均は最尤推定値の上に乗り、95% 信用区間は狭い。データが増えるにつれてどうしてそうなるのか。以下では、N(5, 2²) からのシミュレーション標本一つを、先頭から長さを伸ばしながら読んでいく。事前分布は弱い共役事前分布（正規-逆ガンマ分布）で、事後分布は厳密に求まる。

# %%
conc = lessons.gaussian_concentration(seed=0)
fig = figures.gaussian_concentration(conc)

# %% [markdown]
# **図の読み方。** 左：μ の 95% 信用区間（緑の帯）は最尤推定値 x̄（橙の点）のまわりで 1/√n のように縮む。右：n = 2 では σ の最尤推定値は小さすぎる。n で割っているうえ、μ̂ が同じ 2 点に当てはめられ、2 点は μ̂ から ±|x₁ − x₂|/2 の位置にあるからだ（n = 2 で E[σ̂²] = σ²/2）。一方、事後分布は事前分布に引っ張られてもっと妥当な値をとる。n = 100 では両者は一致する。
#
# ## 分散の最尤推定量にはバイアスがある
#
# E[σ̂²_MLE] = (n − 1)/n · σ²（式 5.36–5.39, §5.4.2）。n ごとに 20,000 組のデータを `jax.vmap` で一度にシミュレーションして確かめる。

# %%
bias = lessons.variance_bias(seed=0, reps=20_000)
fig = figures.variance_bias(bias)
print(np.c_[bias.n, bias.ratio.round(4), bias.formula.round(4)])

# %% [markdown]
# ## 信頼区間と信用区間
#
# 95% *信頼*区間とは、μ が何であっても、実験を繰り返せばその 95% で真の μ を覆う手続きである。95% *信用*区間とは、このデータのもとで事後確率の 95% を含む区間である。μ が本当に事前分布から引かれているなら、信用区間も（事前分布について平均すると）95% の確率で覆う。事前分布が間違っていれば、そうなるとは限らない。

# %%
cov = lessons.interval_coverage(seed=0, reps=4000)
fig = figures.interval_coverage(cov)
cov.pivot(index="interval", columns="n", values="coverage")

# %% [markdown]
# **図の読み方。** t 区間と、真の事前分布のもとでの信用区間は、どの n でも 95%（黒線）にある。ただし n = 5 では信用区間のほうが狭い。事前分布は情報だからである。自信過剰で間違った事前分布（ピンク）は、n = 5 では 95% をはるかに下回り、データが事前分布を上回るにつれて回復する。
#
# ## 二つの保証
#
# 上では、各反復で μ を*事前分布から引いた*。今度は μ をいくつもの値に順に固定し（σ = 1 は既知、n = 10）、95% の z 信頼区間 x̄ ± 1.96 σ/√n（式 5.47）と、事前分布 N(0, 1) のもとでの 95% 信用区間を比べる。どちらの被覆確率も厳密に求まり（線）、シミュレーションでも求める（点）。

# %%
guarantees = lessons.two_guarantees(seed=0)
fig = figures.two_guarantees(guarantees)
fixed = guarantees.fixed
edge = fixed[(fixed["mu"].abs() == 6.0) & fixed["interval"].str.startswith("95% credible")]
print("credible interval at μ = ±6, exact coverage:", edge["exact"].round(4).tolist())
guarantees.averaged.round(3)

# %% [markdown]
# **図の読み方。** 左：信頼区間は*どの*固定した μ でも 95% を覆う。それが信頼区間の保証であり、事前分布を必要としない。信用区間は事前分布の中心付近では 95% より多く覆い、中心から離れると、つまり事前分布が間違っているところでは、ずっと少なくしか覆わない（μ = ±6 で 0.563）。右：事前分布から引いた μ について平均すると、信用区間はちょうど 95% を覆う。それが*信用区間の*保証であり、作るときに使った事前分布についての平均である。別の分布（N(3, 1)）から引くと、平均は 0.85 に落ちる。どちらの区間も、相手の意味での「μ がこの区間に入る確率」ではない。
#
# ## 演習
#
# 1. `model` の σ の事前分布 `HalfNormal(10)` を `HalfNormal(0.1)` に替え、NUTS で当てはめ直せ。パッケージのプログラムに `priors={"mu_prior": P.Normal(0.0, 10.0),
#    "sigma_prior": P.HalfNormal(0.1)}` を渡したものがそのモデルである（対数密度が一致することは上で確かめた）。σ の事後平均は `HalfNormal(10)` のときの値から、また最尤推定値から、どれだけ動くか。それはなぜか。
# 2. *不偏*分散 1/(n−1) Σ (x_i − x̄)² が最尤推定値でないことを示せ。Iris のデータの対数尤度を両方の値で評価して比べよ。
# 3. `lessons.interval_coverage` で、誤った事前分布の自信を弱めよ（κ₀ = 5 ではなく 1）。n = 5 での被覆確率はどうなるか。
# 4. *自分で書く。* 同じデータの頑健なモデル：μ ~ N(0, 10²)、σ ~ HalfNormal(10)、x_i ~ StudentT(4, μ, σ)（サイト名は `"mu"`, `"sigma"`, `"x"`）の NumPyro プログラム `model(x)` を書き、
#    `from freqbayes.lessons import exercises; exercises.check_student_t(model)` で確かめよ。
#    NUTS（`numpyro.infer.MCMC`）で当てはめ、μ の事後分布を正規モデルのものと比べよ。
#
# 解答例：`notebooks/ja/answers.md`。
