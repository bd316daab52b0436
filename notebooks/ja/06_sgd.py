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
# # 6. 確率的勾配降下法（Deep Learning §5.9）
#
# コスト関数は訓練集合上の平均 J(θ) = (1/m) Σᵢ L(xᵢ, yᵢ, θ) であり（式 5.96）、その勾配も平均である。確率的勾配降下法（SGD）はその勾配を m′ 個の事例からなるミニバッチ B から g = (1/m′) ∇θ Σ_{i∈B} L(xᵢ, yᵢ, θ) と推定し（式 5.98）、θ ← θ − εg と更新する（式 5.99）。1 ステップのコストは m とともに増えない。これが深層学習を可能にしているものである。

# %%
import jax
import jax.numpy as jnp
import numpy as np

from freqbayes import figures, lessons
from freqbayes.models.learners.objectives import log_loss

# %% [markdown]
# ## 式 5.96–5.99 をコードで
#
# 事例ごとのロジスティック損失（ラベルは ±1）、平均コスト、ミニバッチ勾配、更新式を、一つの線形モデル θ = (w, b) について書く。


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
# ミニバッチ勾配は全データの勾配の*不偏*推定量である。多数のランダムなミニバッチで平均すると ∇J に等しくなる。

# %%
keys = jax.random.split(jax.random.key(1), 2000)
batches = jax.vmap(lambda k: jax.random.choice(k, X.shape[0], (128,), replace=False))(keys)
g_mini = jax.vmap(lambda b: jax.grad(J)(theta, X[b], y[b])[0])(batches)
g_full = jax.grad(J)(theta, X, y)[0]
print("full gradient       ", np.asarray(g_full).round(4))
print("mean of 2000 minibatch", np.asarray(g_mini.mean(axis=0)).round(4))

# %% [markdown]
# ## バッチサイズ：エポックあたりと秒あたり
#
# パッケージの `sgd.fit` は、エポック全体を一つのコンパイル済み `lax.scan` として実行する（シャッフルした連続するミニバッチ）。ここでは m′ = 1, 10, 128, 300 と全バッチを比べる。

# %%
curves = lessons.sgd_curves(data, epochs=20)
fig = figures.sgd_curves(curves)

# %% [markdown]
# **図の読み方。** 左：1 エポック後、小さなミニバッチは多くのステップを進んでおり、1 ステップしか進まない全バッチの勾配降下法よりはるか先にいる。m′ = 1 はノイズが大きく、ここではエポックあたりでは m′ = 10 が最もよい。中央：同じものをこの CPU での実行時間に対して描いたもの。右：学習率 ε が一定なら、SGD は収束せず、最尤推定値のまわりの雲の中を動き続ける。ε を小さくすれば（あるいは m′ を大きくすれば）雲は小さくなる。
#
# ## 1 ステップのコストはデータとともに増えない
#
# §5.9 の要点：全データの勾配は m 個すべての事例に触れるので 1 ステップのコストは O(m) だが、ミニバッチによる推定は訓練集合がどれほど大きくても m′ 個にしか触れず、O(m′) である。m を 1,000 から 100,000 まで変えて時間を測る（事前にコンパイル済み、10 ステップの中央値）。

# %%
cost = lessons.step_cost(seed=0, sizes=(1_000, 10_000, 100_000), repeats=10)
fig = figures.step_cost(cost)
cost.pivot(index="m", columns="gradient", values="seconds_per_step").mul(1e3).round(3)

# %% [markdown]
# **図の読み方。** m に対する 1 ステップあたりのミリ秒（両対数）。全バッチの線は m とともに上昇する（m が呼び出しの固定コストを上回るほど大きくなってから）。一方、m′ = 128 の線は平らなままである。これは実行したマシンでの実行時間なので数値は実行ごとに変わるが、形は変わらない。
#
# ## SGD から事後分布へ：SGLD
#
# 負の対数事後確率に対する各ステップに分散 ε の正規ノイズを加え、u ← u − (ε/2) ĝ + √ε ξ とすると、反復は（近似的に）事後分布からのサンプルになる。確率的勾配ランジュバン動力学（SGLD）である。ĝ に注意してほしい。これは式 5.98 のミニバッチ*平均*ではなく、ミニバッチから推定した全データの勾配 ĝ = −∇ log p(θ) − (N/m′) Σ_{i∈B} ∇ log p(yᵢ | xᵢ, θ) である。事後分布は N 個の観測すべてを事前分布と比べて重みづけるので、ミニバッチの和を N/m′ 倍する（平均を使うと、事前分布が N 倍も重く数えられてしまう）。σ が既知の線形モデルでは厳密な事後分布が正規分布なので、SGLD と NUTS をそれと照合できる。

# %%
trees, table = lessons.sgld_vs_nuts(seed=0, quick=True)
fig = figures.sgld_vs_nuts(trees)
table[
    ["parameter", "exact_mean", "NUTS_mean", "SGLD_mean", "exact_sd", "NUTS_sd", "SGLD_sd"]
].round(4)

# %% [markdown]
# **図の読み方。** SGLD と NUTS のサンプルの ArviZ による密度と 95% 等裾区間。両者は重なり、表は、どちらも厳密な事後平均からモンテカルロ誤差の範囲内にあることを示す。SGLD の標準偏差は数パーセント広い（有限のステップ幅のため）。
#
# ## 演習
#
# 1. `sgd_step` の `m_prime` を 1 と 1000 に変えよ。J = 0.53 に達するまでにそれぞれ何ステップ必要で、それぞれ何個の事例を読むか。
# 2. 上のミニバッチ勾配の分散を m′ = 16, 64, 256 について測れ。m′ に対してどうスケールするか。（非復元抽出なので 1/m′ よりわずかに小さい。）
# 3. `inference.sgld`（`from freqbayes.inference import sgld`）を `step_size=4e-4`（n = 1000 での既定値の 10 倍）で実行せよ。事後分布の標準偏差はどうなるか。
# 4. *自分で書く。* ミニバッチ SGD をゼロから：最小二乗 J(θ) = (1/m) Σ ½(θᵀxᵢ − yᵢ)²（式 5.96）について、`seed` で初期化した乱数生成器で 1 ステップごとに m′ 行を引き（式 5.98）、θ = 0 から θ ← θ − εg と更新する（式 5.99）`sgd(X, y, m_prime, epsilon, steps, seed)` を書き、確かめよ：
#    `from freqbayes.lessons import exercises; exercises.check_sgd(sgd)`。
#
# 解答例：`notebooks/ja/answers.md`。
