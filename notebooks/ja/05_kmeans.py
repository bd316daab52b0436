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
# # 5. k平均法と k-means++（Deep Learning §5.8.2）
#
# k平均法は教師なし学習であり、ラベルはなく点だけがある。Lloyd のアルゴリズムは四つのステップからなる。(1) k 個の重心をおく。(2) 各点を最も近い重心に割り当てる。(3) 各重心をその点たちの平均に移す。(4) 何も変わらなくなるまで 2–3 を繰り返す。クラスタ内平方和（慣性）Σᵢ ‖xᵢ − c_{label i}‖² は決して増えないが、見つかるのは*局所*最小値にすぎないので、どこから始めるかが重要になる。

# %%
import jax
import numpy as np
from IPython.display import HTML

from freqbayes import KMeans, figures, lessons
from freqbayes.inference.learners import kmeans as K

# %% [markdown]
# ## Lloyd のステップ一回を書き下す
#
# ステップ 3、続いてステップ 2 を NumPy で書き、パッケージの jit 済み `kmeans.step` と照合する。


# %%
def lloyd_step(X, centroids, labels):
    k = len(centroids)
    # step 3 (assumes no cluster is empty; see exercise 1)
    new = np.array([X[labels == j].mean(axis=0) for j in range(k)])
    d2 = ((X[:, None, :] - new[None, :, :]) ** 2).sum(axis=-1)  # step 2
    return new, d2.argmin(axis=1)


X = lessons.blobs(0, std=0.7)
P = K.points(X)
state = K.init(jax.random.key(0), P, 5, "k-means++")
ours = lloyd_step(X, np.asarray(state.centroids), np.asarray(state.labels))
theirs = K.step(P, state)
print(
    "same centroids:",
    np.allclose(ours[0], theirs.centroids, atol=1e-4),
    "| same labels:",
    bool((ours[1] == np.asarray(theirs.labels)).all()),
)

# %% [markdown]
# ## ランダムな初期化と k-means++
#
# ランダムな初期化は k 個のデータ点を一様に選ぶ。k-means++ は最初の点を一様に選び、次の点からは D(x)²、すなわち既に選んだ最も近い重心までの距離の 2 乗に比例する確率で選ぶので、初期点が散らばる。Arthur & Vassilvitskii（2007）は、この*素朴な D² サンプリング*が O(log k) 競合的であることを証明した。初期化だけのクラスタ内平方和が E[inertia] ≤ 8(ln k + 2) · OPT を満たす（OPT は任意の k 個の重心で達成できる最小のクラスタ内平方和）。ここで（そして scikit-learn で）実際に動いているのは*貪欲*版である。その方法で 2 + ⌊ln k⌋ 個の候補を引き、Σ D(x)² を最も下げるものを残す（定理は素朴な D² サンプリングについてのもので、この変種についてではない。素朴なサンプリングは `kmeans.init_kmeans_plus_plus(..., n_local_trials=1)` である）。上の段では、ランダムな初期化が悪い最適解に終わる最初のシード（0–63 のうち）を使っている。

# %%
seed = lessons.stuck_seed(X, 5)
frames = {
    "random": lessons.lloyd_frames(X, 5, seed, "random", steps=6),
    "k-means++": lessons.lloyd_frames(X, 5, 0, "k-means++", steps=6),
}
fig = figures.lloyd_steps(frames)

# %% [markdown]
# **図の読み方。** 上：ランダムな初期点のうち二つが同じ塊に入る。Lloyd のアルゴリズムはそれらを動かすが、重心のない塊へ一つを引き寄せることはできず、クラスタ内平方和は高いところで止まる。下：k-means++ は塊ごとに一つずつ重心をおき、2 ステップで収束する。
#
# アニメーションは初期化（点の濃さが D(x)²）と、その後の割り当てと更新の各ステップを示す。

# %%
HTML(figures.animation_gif(figures.lloyd_animation(frames["k-means++"], "k-means++")))

# %% [markdown]
# ## 多数のシードでの初期化を、一つのコンパイル済みプログラムで
#
# もっと密な 15 個の塊で、初期化法（ランダム、素朴な D² サンプリング、貪欲版）ごとに 256 回ずつやり直す。それぞれの組を一つのコンパイル済みプログラムで実行する（初期化は一回の `vmap`、続いて Lloyd のループを順に）。

# %%
hard = lessons.blobs(0, n=3000, centers=15, std=0.5)
inertia = lessons.initialisation_inertia(hard, 15, seed=0, restarts=256)
fig = figures.initialisation(inertia)
best = min(float(v.min()) for v in inertia.values())
share = {m: float(np.mean(np.asarray(v) <= 1.01 * best)) for m, v in inertia.items()}
print({m: f"{p:.0%} of restarts within 1% of the best inertia" for m, p in share.items()})
assert share["k-means++"] > 5 * share["random"]
seeding = lessons.seeding_inertia(hard, 15, seed=0, restarts=256)
summary = lessons.initialisation_summary(inertia, seeding, 15)
print(f"A&V's bound for plain D² sampling: 8(ln k + 2) = {summary.attrs['bound']:.1f}")
summary.round(3)

# %% [markdown]
# **図の読み方。** Lloyd のアルゴリズムが収束した後のクラスタ内平方和。この 15 個の塊で測ると、見つかった最良値の 1% 以内で終わるのは、貪欲版 k-means++ で 52%、素朴な D² サンプリングで 11%、ランダムで 3% のやり直しである。残りは、二つの中心が一つの塊を分け合う局所最適解で止まる。表には、Lloyd のステップを一度も行わない初期化だけのクラスタ内平方和を、見つかった最良の最終値（OPT 以上なので、各比は E[初期化]/OPT 以下の値になる）で割ったものも加えてある。貪欲版は 1.88、素朴な D² サンプリングは 2.83 で保証 8(ln 15 + 2) ≈ 37.7 よりはるかに内側、ランダムな初期化は 11.9 である。貪欲版の候補は、2 + ⌊ln 15⌋ = 4 倍の距離計算と引き換えに、よりよい出発点を買う。よりよいが、間違えないわけではない。だからこそ scikit-learn も `freqbayes.KMeans` も、既定で k-means++ を使った*うえで* `n_init` 回やり直し、最良のものを残すのである。

# %%
km = KMeans(n_clusters=15, n_init=4, random_state=0).fit(hard)
print(f"KMeans(n_init=4): inertia {km.inertia_:.1f} after {km.n_iter_} iterations")

# %% [markdown]
# ## 演習
#
# 1. 上の `lloyd_step` は空のクラスタがあると壊れる。パッケージ（`freqbayes.inference.learners.kmeans.update`）は代わりに何をしているか。それが理にかなった規則なのはなぜか。
# 2. `lessons.lloyd_frames` を使い、20 個のランダムなシードについて、クラスタ内平方和がある状態から次の状態へ決して増えないことを確かめよ。
# 3. 15 個の塊のデータで k = 10 として `initialisation_inertia` を実行せよ。k-means++ は同じくらい役立つか。k が塊の数より小さいと効果が小さくなりうるのはなぜか。
# 4. *自分で書く。* Arthur と Vassilvitskii が述べたとおりの k-means++ の初期化（素朴な D² サンプリング、各ステップで候補一つ）：NumPy の Generator `rng` だけから乱数を引き、選んだ順に X の k 行を返す `kmeans_pp(X, k, rng)` を書き、その分布を確かめよ：
#    `from freqbayes.lessons import exercises; exercises.check_kmeans_pp(kmeans_pp)`。
#    パッケージが実行する貪欲版とはどこが違うか。
#
# 解答例：`notebooks/ja/answers.md`。
