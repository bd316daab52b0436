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
# # 7. 次元の呪いと k近傍法（Deep Learning §5.11）
#
# k近傍法（k-NN）は、問い合わせ点に最も近い k 個の訓練点から予測する。クラスなら多数決、数値なら平均である。近くの点は似たふるまいをする、という仮定に立っている。点の数を固定したまま次元を増やすと、「近く」という言葉は意味を失う。

# %%
import jax.numpy as jnp
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier as SkKNN

from freqbayes import KNeighborsClassifier, figures, lessons
from freqbayes.inference.learners import knn

# %% [markdown]
# ## k近傍法を書き下す
#
# 距離の 2 乗、そのうち小さい k 個、多数決（同数なら最小のクラス）。パッケージのブロック化・jit 済みの `knn.classify` と照合する。


# %%
def knn_predict(X_train, y_train, X_query, k, n_classes):
    d2 = ((X_query[:, None, :] - X_train[None, :, :]) ** 2).sum(axis=-1)
    nearest = np.argsort(d2, axis=1, kind="stable")[:, :k]
    votes = np.stack([np.bincount(row, minlength=n_classes) for row in y_train[nearest]])
    return votes.argmax(axis=1)


digits = load_digits()
Xtr, Xte, ytr, yte = train_test_split(digits.data, digits.target, test_size=0.3, random_state=0)
ours = knn_predict(Xtr, ytr, Xte, 5, 10)
pkg = np.asarray(
    knn.classify(
        jnp.asarray(Xtr),
        jnp.asarray(ytr),
        jnp.asarray(Xte),
        5,
        10,
        knn.block_size(len(Xtr), len(Xte)),
    )
)
print(
    f"same predictions as the package: {np.mean(ours == pkg):.3f}; "
    f"test accuracy {np.mean(pkg == yte):.3f}"
)
clf = KNeighborsClassifier(n_neighbors=5).fit(Xtr, ytr)
sk = SkKNN(n_neighbors=5).fit(Xtr, ytr)
same = np.mean(clf.predict(Xte) == sk.predict(Xte))
print(f"freqbayes vs scikit-learn, share of identical predictions: {same:.3f}")

# %% [markdown]
# 64 ピクセルの手書き数字では 5-NN はうまくいく。数字は低次元の多様体の近くにあるからだ。次は一様分布の点、つまりすべての次元が本物である場合を見る。
#
# ## 投票と、図 5.9 のセル
#
# ゼミでの k = 3：問い合わせ点に最も近い三つの訓練点が、それぞれ自分のクラスに投票する。そして近傍が遠くなる理由：各軸を 10 区間に分けると格子は 10^d 個のセルをもち、n 個の点が埋められるのはせいぜい n 個のセルである。

# %%
cv = lessons.cells_and_vote(seed=0, n=1000)
fig = figures.cells_and_vote(cv)
print(dict(zip(cv.dims.tolist(), cv.occupied.round(4).tolist(), strict=True)))

# %% [markdown]
# **図の読み方。** 左：赤 2 票と青 1 票で、星は赤になる。右：1,000 個の点は d ≤ 2 なら（ほぼ）すべてのセルを埋めるが、d = 3 では 63%、d = 4 では 10%、d = 5 からは 1% 未満である。新しい点の入るセルはほぼ確実に空である。
#
# ## 距離は集中し、精度は落ちる

# %%
table = lessons.curse_of_dimensionality(seed=0)
fig = figures.curse(table)
table.round(3)

# %% [markdown]
# **図の読み方。** 左：[0, 1]^d 内の一様な 1,000 点では、1 次元なら最も遠い点は最も近い点の何千倍も遠いが、1,000 次元ではわずか 10% 遠いだけである。どの点もほぼ同じ距離にある。右：同じ点に二通りのラベルをつけたときの、訓練点 n = 1,000 での 5-NN（列 `knn_accuracy` と `knn_accuracy_all`）。
#
# * **x₁ > ½**（実線）：一つの座標がラベルを決め、残りの d − 1 個は*無関係*である。5-NN は 1 次元ではほぼ完璧だが、1,000 次元ではコイン投げに近い。無関係な座標があらゆる距離を支配してしまうからだ。ここでの問題はノイズであり、どの座標を無視すべきかを学習する手法なら逃れられる（ノートブック 8 の第 3 部：スパース性を促す事前分布）。
# * **Σⱼ (xⱼ − ½) > 0**（破線）：すべての座標が等しく効いている。無関係なものはなく、落とせるものもないが、精度はやはり同じように落ちる。これが §5.11.1 の本来の意味での呪いである。d 変数の関数を学習するには、局所的に汎化する手法は区別すべき領域ごとに事例を必要とし、領域の数は d とともに指数的に増える（図 5.9 の 10^d 個のセル）。一方 n は変わらない。
#
# 理由：距離の 2 乗は d 個の独立な項の和なので、その平均は d に比例して、広がりは √d に比例して増える。平均に対する相対的な広がりは 1/√d のように縮む。

# %%
rng = np.random.default_rng(0)
for d in (2, 100, 10_000):
    dist = np.sqrt(((rng.uniform(size=(1000, d)) - rng.uniform(size=d)) ** 2).sum(axis=1))
    print(f"d = {d:>6}: mean distance {dist.mean():7.3f}, sd/mean {dist.std() / dist.mean():.4f}")

# %% [markdown]
# ## 局所一様性、多様体、そしてなぜ深層学習か（§5.11.2–5.11.3）
#
# k近傍法は、本書が**局所一様性**あるいは滑らかさと呼ぶ事前の仮定を体現している。x′ が x の近くにあれば f(x) ≈ f(x′) である（§5.11.2）。ガウスカーネルのような局所的なカーネルを使うカーネル法や決定木もこれに頼っている。妥当な仮定ではあるが、これでは訓練事例の数より多くの入力空間の領域を区別できない（O(k) 個の事例から O(k) 個程度の領域）。破線の曲線のようにすべての座標が効いていると、領域の数は現実的などんな n よりも多くなる。
#
# 抜け道は二つあり、どちらもデータを増やすことではなく、課題についての仮定である。
#
# * **多様体（§5.11.3）。** 現実の入力は空間を埋め尽くしてはいない。このノートブックの冒頭の 64 ピクセルの数字は低次元の多様体の近くにある。だからそこでは 5-NN がうまくいき（98% 正解）、ずっと少ない次元の一様な点では失敗するのである。
# * **合成（§5.11.2）。** 深層学習は、データが因子や特徴量の合成によって、場合によっては階層のいくつもの段で生成されたと仮定する。本書は、この穏やかな仮定によって、与えられた数の事例で区別できる領域の数が指数的に増えると論じている。深層ネットワークが k近傍法にはできないところで汎化できるのはそのためであり、これがゼミの最後のスライドであり、この章の後に続く章の動機でもある。
#
# スパース性を促す事前分布（ノートブック 8 の第 3 部）は三つ目の、より狭い仮定である。無関係な座標を取り除き、効いている座標が少ない場合に限って役に立つ。
#
# ## 演習
#
# 1. `curse_of_dimensionality` で d = 100 のまま（`dims=(100,)`）、n を 1,000 から 10,000 に増やせ。精度はどれだけ回復するか。d = 100 で 1 次元の 1,000 点と同じ密度にするには何個の点が必要か。
# 2. k近傍法を実行する前に、無関係な座標を 0.1 倍に縮めよ。d = 100 での精度はどうなるか。それは特徴量のスケーリングについて何を物語っているか。
# 3. [0, 1]^d 上の一様な x, x′ について ‖x − x′‖² の平均を導き、上の出力と照合せよ。
# 4. *自分で書く。* k近傍法：各テスト点について、最も近い k 個の訓練点（ユークリッド距離）の多数決のラベルを返す `knn(X_train, y_train, X_test, k)` を書き、scikit-learn と照合せよ：`from freqbayes.lessons import exercises; exercises.check_knn(knn)`。
#
# 解答例：`notebooks/ja/answers.md`。
