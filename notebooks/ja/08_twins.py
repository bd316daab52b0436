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
# # 8. 確率的な双子（Deep Learning §5.7.2, §5.8.2, §5.11）
#
# 三つの古典的な学習器を、それぞれ同じ仮定に確率をつけたベイズモデルと並べる。k平均法と混合ガウス分布、カーネル SVM と同じカーネルのガウス過程分類器、そして高次元での k近傍法と、効く特徴量は少ないと事前分布で述べるロジスティック回帰である。
#
# ## 第 1 部　k平均法と混合ガウス分布（§5.8.2, §3.9.6）
#
# k平均法は各点がどのクラスタに属するかを答える。その確率的な双子である混合ガウス分布 x ~ Σ_k w_k N(μ_k, σ_k² I) は、*どれくらいの確率で*属するかを答える。割り当て z_i は尤度の中で周辺化され、事後分布は各点に各クラスタへの所属確率を与える。両者は混合分布の最尤推定のアルゴリズムである EM で出会う。分散を一つに固定して σ² → 0 とすると、EM は Lloyd のアルゴリズム*そのもの*になる。

# %%
import warnings

import arviz_stats as az
import jax.numpy as jnp
import numpy as np
from sklearn.gaussian_process import GaussianProcessClassifier as SkGPC
from sklearn.gaussian_process.kernels import RBF, ConstantKernel

from freqbayes import SVC, GaussianProcessClassifier, KMeans, figures, inference, lessons
from freqbayes.inference.learners import mixture as M
from freqbayes.models.probabilistic.mixture import gaussian_mixture, mixture_data, relabel

X = lessons.mixture_points(0)
print(X.shape, "points; column means", X.mean(axis=0).round(1))

# %% [markdown]
# ## 分散が 0 に近づく EM は Lloyd のアルゴリズムである
#
# E ステップ：r_ik ∝ w_k N(x_i; μ_k, σ² I)。σ² → 0 では最も近い平均が負担率をすべて引き受け（r_ik ∈ {0, 1}）、これは Lloyd の割り当てである。M ステップ：μ_k = Σ_i r_ik x_i / Σ_i r_ik は割り当てられた点の平均であり、Lloyd の更新である。同じ出発点から比べる。

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
# ## 事後分布とラベルスイッチング
#
# 混合分布は NumPyro のプログラム（`freqbayes.models.probabilistic.mixture`）であり、自分で書いたどのプログラムとも同じように NUTS で当てはめる。成分は交換可能である。ラベルのどの並べ替えも同じくらいよいモードであり、チェーンごとに同じクラスタを別のラベルで見つけるので、生のサンプルの r̂ は 1.01 をはるかに上回る。各サンプルの成分を μ の第 1 座標で並べ替えれば、成分を識別できる。

# %%
with warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)  # the raw draws do not mix: see below
    post = inference.fit(gaussian_mixture, "nuts", mixture_data(X, 3), seed=0,
                         num_warmup=300, num_samples=300, progress=False)  # fmt: skip
print(f"r̂ of μ, raw draws:        {float(az.rhat(post.posterior)['mu'].max()):.2f}")
print(f"r̂ of μ, after relabelling: {float(az.rhat(relabel(post.posterior))['mu'].max()):.3f}")

# %% [markdown]
# ## 硬い境界と帯、そしてクラスタの数
#
# 左：k平均法のラベル。中央：事後分布での所属確率（点の色はそのクラスタたちの色の混合。どのクラスタも 0.9 に届かない点は丸で囲む）と、平均のサンプル。右：k平均法のクラスタ内平方和は k が増えるにつれて必ず下がるが、混合分布の PSIS-LOO による期待対数予測密度は、データを生成したときの k で改善が止まる。

# %%
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # PSIS's Pareto k̂: in the table (max_pareto_k)
    twin = lessons.mixture_twin(0, ks=(2, 3, 4), draws=300)
fig = figures.mixture_twin(twin)

# %%
twin.choice

# %% [markdown]
# ## 第 2 部　SVM とガウス過程分類器（§5.7.2）
#
# SVM の RBF カーネル k(x, x′) = exp(−γ‖x − x′‖²) とその γ はそのままにし、最大マージンの f の代わりに f に事前分布をおく。f ~ GP(0, s² k)、p(y = 1 | x) = σ(f(x))（式 5.81）である。n 個の訓練点の上で f = s L z、L Lᵀ = K（非中心化パラメータ化）と書けば、ほかのプログラムと同じように NUTS で当てはめられる NumPyro のプログラムになる。そのラプラス近似（Rasmussen & Williams のアルゴリズム 3.1–3.2）が `freqbayes.GaussianProcessClassifier` であり、scikit-learn と同じ数値を出す。

# %%
Xtr, ytr, Xte, yte = lessons.circles_and_moons(0)["moons"]
gamma = SVC().fit(Xtr, ytr)._gamma
scale, evidence = lessons.evidence_scale(Xtr, ytr, gamma)
print(f"γ = {gamma:.3f} (the SVM's); Laplace log evidence by s:", evidence.round(2).to_dict())
gpc = GaussianProcessClassifier(gamma, scale).fit(Xtr, ytr)
kernel = ConstantKernel(scale**2, "fixed") * RBF(1 / np.sqrt(2 * gamma), "fixed")
sk = SkGPC(kernel, optimizer=None).fit(Xtr, ytr)
gap = np.abs(gpc.predict_proba(Xte) - sk.predict_proba(Xte)).max()
print(f"largest |p − p_scikit-learn| on the test points: {gap:.1e}")

# %% [markdown]
# 左：SVM の境界、マージン、サポートベクトル。中央：NUTS による GP の p の事後平均。右：f の事後標準偏差。どの訓練点からも遠いところ（破線）では、SVM の f は切片 b に近づく。同心円のデータでは、マージンの外側でもデータの近くと同じくらい自信をもっている。一方、GP の事後分布は事前分布に戻り、p → ½、sd(f) → s となる。

# %%
gp_twin = lessons.svm_gp_twin(0, draws=300)  # the report: 1,000 draws, r̂ ≤ 1.01
fig = figures.svm_gp_twin(gp_twin)

# %%
gp_twin.table.set_index("data").T

# %% [markdown]
# ## 一つの罰則、二つの損失
#
# 両者のつながりは厳密である。訓練点の上で f = Kα と書くと、カーネルの再生核ヒルベルト空間（RKHS）での f のノルムは ‖f‖²_H = αᵀKα である。GP 事前分布 f ~ GP(0, s² k) からは −log p(f | y) = Σᵢ log(1 + e^(−yᵢfᵢ)) + ½ fᵀ(s²K)⁻¹f + const.（ラベル yᵢ ∈ {−1, +1}）が得られ、½ fᵀ(s²K)⁻¹f = ½‖f‖²_H / s² である。したがって GP の MAP推定値、すなわちラプラス近似のモードは、**RKHS の罰則 ½‖f‖²_H / s² をもつカーネルロジスティック回帰**である（モードでの α は s²(y − π̂)）。ソフトマージン SVM は f = Kα + b について C Σᵢ max(0, 1 − yᵢfᵢ) + ½‖f‖²_H を最小化する。C で割れば、これは**対数損失の代わりにヒンジ損失を使った、s² = C の同じ罰則**である（加えて自由な切片 b がある）。s² = C = 1 で両方を当てはめ、両方の当てはめで両方の目的関数を評価する（`lessons.rkhs_objectives`。`tests/test_twins.py` は、ラプラス近似のモードを α についての J_log の scipy による最小化点と 1e-6 まで照合している）。

# %%
gp_twin.objectives.round(3)

# %% [markdown]
# それぞれの当てはめは自分の目的関数のほうで小さい値をとる。GP のモードは J_log で、SVM は J_hinge で。ヒンジ損失はマージンの外側（y f ≥ 1）でちょうど 0 になるので、そこにある点は SVM を動かさない。αᵢ ≠ 0 となるのはサポートベクトルだけである。対数損失は決して 0 にならないので、どの点も小さな αᵢ をもち続け、SVM が符号を返すところで GP は確率を返す。上の図では √C ではなく、エビデンスで選んだ s を使った。

# %% [markdown]
# ## 第 3 部　スパース性を促す事前分布で無関係な次元を取り除く（§5.11）
#
# ノートブック 7 の最初の課題：[0, 1]^d 上の一様な点で、ラベルは x₁ > ½、今度は訓練点を n = 200 とする。3-NN は d 個の座標をすべて同じように扱い、チャンスレベルへと落ちていく。*正則化馬蹄事前分布*（登録済みの `logistic` モデルで事前分布に `priors={"beta_prior": Horseshoe()}` を選ぶ。コマンドラインでは `--prior beta=horseshoe`。大域的な尺度 τ がすべての重みを 0 に引き寄せ、裾の重い局所的な尺度によって少数の重みがそこから逃れ、スラブがそれらを有限に保つ）をおいたロジスティック回帰は、どの座標が効いているかを学習する。これには非中心化パラメータ化と高い目標受理率が必要で、それでもいくつか発散が残る。表にその数を示してある。3-NN と L2 正則化の当てはめは d = 2, 10, 100, 1,000 で、馬蹄事前分布は 10 と 1,000 で実行する（それぞれ NUTS のコンパイルは一回）。ノートブックを速く保つため、チェーンあたりのサンプルは 300 である。表で r̂ が 1.01 を超えていれば「もっと長く回せ」という意味である（レポートの 1,000 サンプルなら 1.01 未満になる）。

# %%
hs_table, hs_medians = lessons.horseshoe_twin(0, draws=300)
hs_table

# %% [markdown]
# ここで示されているのは「事前分布が呪いに勝つ」ということより狭い。d − 1 個の無関係な座標が、効く特徴量は少ないと述べる事前分布によって*取り除かれ*、残るのは 1 次元の問題だということである。ノートブック 7 の二つ目の課題には取り除くものがない。ラベル Σⱼ (xⱼ − ½) > 0 はすべての座標に依存する。同じ三つの手法をそれに適用する。馬蹄事前分布は d = 100 だけである（コンパイル一回、チェーンあたり 300 サンプル）。

# %%
hs_dense, _ = lessons.horseshoe_twin(0, draws=300, task="all", fitted=(100,))
fig = figures.horseshoe_twin(hs_table, hs_medians, hs_dense)
hs_dense

# %% [markdown]
# **図の読み方。** 左：効く座標が一つなら、3-NN が落ちていく一方で、馬蹄事前分布は精度を保つ。中央：すべての座標が効くと、3-NN は前と同じように落ち、仮定がもはや正しくない馬蹄事前分布は d = 100 で L2 正則化の当てはめより良くならない。ラベルが x について線形であるという点で正しい L2 正則化の当てはめは最も緩やかに劣化するが、n を固定して d を増やせばやはり精度を失う。右：最初の課題での馬蹄事前分布の重み。事前分布が役に立つのは、それが課題について正しい範囲に限られる。これが §5.11.2 の論点である。一般的な滑らかさだけでは足りず、高次元で汎化をもたらすのはデータがどう生成されたかについての仮定なのである（ノートブック 7 の最後の節：多様体、特徴量の合成、そしてなぜ深層学習か）。

# %% [markdown]
# ## 演習
#
# 1. EM のセルを 1e-6 ではなく `fixed_variance=1.0` で実行し直せ。ラベルはまだ k平均法のものと同じか。どの点が変わるか。なぜその点なのか。
# 2. k = 2 では、表の並べ替え後の r̂ が 1.01 をはるかに上回る。そこでは並べ替えは役に立たない。チェーンの間で何が違うのか。
# 3. `twin.membership.max(axis=1)` を、各点の k平均法の境界までの距離（重心までの距離のうち小さい二つの差）と比べよ。
# 4. （第 2 部）s = 1 と s = 16 で `GaussianProcessClassifier(gamma, s)` を当てはめ、境界近くのテスト点と、データから遠い点、たとえば (4, 4) で `predict_proba` を比べよ。s は何を制御しているか。ここでエビデンスが大きな s を好むのはなぜか。
# 5. （第 2 部）表の `nuts_vs_laplace_max_abs_dp` は約 0.2 である。格子上のどこでラプラス近似と NUTS が最も食い違うか。自信過剰なのはどちらか。
# 6. （第 3 部）d = 1,000 の馬蹄事前分布を、コーシー分布の尺度を直接サンプリングして当てはめ直せ（プログラムのコピーで `half_cauchy(...)` を `numpyro.sample(..., dist.HalfCauchy(...))` に置き換える）。r̂、ESS、発散は何を告げているか。
# 7. *自分で書く。* NumPy で EM の 1 ステップ：新しい `(weights, means, variances)` を返す `em_step(X, weights, means, variances)`（球状の成分、分散の下限なし）を書き、確かめよ：
#    `from freqbayes.lessons import exercises; exercises.check_em_step(em_step)`。
#
# 解答例：`notebooks/ja/answers.md`。
