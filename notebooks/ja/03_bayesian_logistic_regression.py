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
# # 3. ベイズロジスティック回帰：一つのモデルの五つの当てはめ方
#
# p(y = 1 | x) = σ(θᵀx + b)（§5.7.1）。ここではどの量にも閉じた形の解がないので、手法の違いが本当に効いてくる。最尤推定値と MAP推定値は最適化で求める点である。ラプラス近似は MAP推定値を中心とする正規分布である。SVI は ELBO を最大化して正規分布を当てはめる。NUTS は厳密な事後分布からサンプルを引く。ArviZ でこれらを並べて比べる。

# %%
import numpy as np
import numpyro
import numpyro.distributions as dist
import pandas as pd
from numpyro.infer.util import log_density

from freqbayes import data, figures, inference, lessons, summary
from freqbayes.models import logistic

# %% [markdown]
# ## なぜ正規分布ではないのか：シグモイド関数
#
# ラベル y ∈ {0, 1} に最小二乗法（正規尤度のもとでの最尤推定）を当てはめると、直線は [0, 1] をはみ出す。それは確率ではないし、正規ノイズはあらゆる実数の y に確率を割り振ってしまう。線形関数 θᵀx はそのままにして、それをロジスティックシグモイド関数 σ(z) = 1/(1 + e⁻ᶻ) に通せば、どの x にも確率 p(y = 1 | x) = σ(θᵀx) が与えられる（式 5.81）。これがベルヌーイ尤度である。

# %%
why = lessons.why_sigmoid(seed=0)
fig = figures.why_sigmoid(why)
print(f"the least-squares line is outside [0, 1] over {why.outside:.0%} of the range of x")

# %% [markdown]
# ## モデル
#
# パッケージの既定の事前分布は特徴量の単位に合わせてあり、θ_j ~ N(0, (2.5/s_j)²)、切片は N(0, 2.5² (1 + Σ_j (x̄_j/s_j)²)) である。ここでは特徴量を標準化してある（s_j = 1、x̄_j = 0）ので、どちらも N(0, 2.5²) になる。


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
# ## 乳がんデータの五つの特徴量で全手法を比べる
#
# （ノートブックが 1 分以内に終わるよう、ショーケースより小さな設定で実行する。）

# %%
small = {"nuts": {"num_warmup": 400, "num_samples": 400}}
fits = {
    m: inference.fit("logistic", m, cancer, seed=0, progress=False, **small.get(m, {}))
    for m in ("mle", "map", "laplace", "svi", "svi-fullrank", "nuts")
}
table = lessons.summary_table(fits)
fig = figures.forest(table, "breast cancer, 5 features", "coefficient (standardised features)")

# %% [markdown]
# **図の読み方。** 菱形は点推定値、線は 95% 等裾事後区間である。MAP推定値は最尤推定値を N(0, 2.5²) 事前分布で 0 の方へ縮めたもの（重み減衰）である。データが 569 件あれば事後分布はほぼ正規分布で、近似手法も中心はおおむね正しく捉える。違うのは広がりである。NUTS は厳密な事後分布からサンプルを引くので、各近似による重みの標準偏差を NUTS のものと比べて測ろう。

# %%
sd = {m: fits[m]["posterior"]["beta"].sel(feature="mean radius").std().item() for m in fits}
for m in ("laplace", "svi", "svi-fullrank"):
    print(
        f"{m:>12}: sd of the mean-radius weight {sd[m]:.3f}, {sd[m] / sd['nuts'] - 1:+.0%} vs NUTS"
    )
print(f"{'nuts':>12}: {sd['nuts']:.3f}")

# %% [markdown]
# ラプラス近似とフルランクの SVI は NUTS の 5% 以内に収まる。平均場 SVI はそうではなく、mean radius の重みの標準偏差が 26% も小さい。平均場 SVI は座標が独立な正規分布を当てはめるが、五つの計測値は腫瘍間で相関しており（最大 0.56）、そのため事後分布でも重みが相関する。事後分布が質量をもたないところに質量をおくことを罰する ELBO で当てはめると、独立な正規分布の積は各重みの広がりとして*他の重みを与えたときの*広がり（精度行列 Λ の正規事後分布ならちょうど 1/√Λⱼⱼ）をとる。これは周辺分布の広がりより小さい（演習 2 で最悪の場合を見る）。表には r̂、bulk ESS、各手法の実行時間も加えてある。

# %%
pd.set_option("display.width", 140)
table[table["parameter"] == "beta[mean radius]"]

# %% [markdown]
# NUTS の実行についての ArviZ 自身の診断：

# %%
summary(fits["nuts"])

# %% [markdown]
# ## 完全分離：最尤推定値が存在しないとき
#
# 30 個の特徴量をすべて使うと、二つのクラスは*完全分離*される。ある超平面がすべての事例を正しく分類するので、シグモイドを急にすればするほど当てはまりがよくなる。パッケージはこれを検出し、数値を返すことを拒む。

# %%
try:
    inference.mle("logistic", data.breast_cancer())
except inference.SeparationError as err:
    print(err)

# %% [markdown]
# 小さな 2 次元の例で対数損失に勾配降下法を使っても同じことがわかる。‖w‖ は際限なく大きくなるが、N(0, 1) 事前分布（重み減衰）をおけば収束する。

# %%
sep = lessons.separable_data(0)
div = lessons.mle_divergence(sep, steps=2000)
fig = figures.divergence(div)

# %% [markdown]
# それでも事後分布は正則である。事後分布からのサンプルは決定境界の帯を与える（ノートブック 4 の右のパネルで SVM と並べている）。

# %%
post = inference.nuts("logistic", sep, seed=0, num_warmup=400, num_samples=400, progress=False)
summary(post)

# %% [markdown]
# ## 演習
#
# 1. より狭い事前分布 `priors={"beta_prior": P.Normal(0.0, 0.3)}`（`from freqbayes.models import priors as P`）で MAP推定をやり直せ。どの係数がいちばん動くか。
# 2. 平均場 SVI は相関を無視する。ほぼ共線的な二つの特徴量 `lessons.select_features(data.breast_cancer(),
#    ("mean radius", "mean perimeter"))` に NUTS、`svi`、`svi-fullrank` を当てはめよ。二つの重みの事後相関と、各重みの標準偏差を三つの手法で比べよ。どれが間違っているか、どれだけ、なぜか。
# 3. 分離可能な 2 次元データで、事前分布の尺度 τ を 1 から 10 に大きくすると、‖w‖ の NUTS 事後分布はどうなるか。有限の τ ならどんな値でも事後分布が正則なのはなぜか。
# 4. *自分で書く。* ロジスティック回帰の最尤推定のためのニュートン法：(b, θ) の最尤推定値（式 5.81、切片が先頭）とその Wald 標準誤差 √diag(H⁻¹)（H = AᵀWA、W = diag(p̂(1 − p̂))）を返す `logistic_mle(X, y)` を書け。生の列で確かめよ：`from freqbayes.lessons import exercises;
#    exercises.check_logistic_mle(logistic_mle)`。ニュートン法に学習率が要らないのはなぜか。
#
# 解答例：`notebooks/ja/answers.md`。
