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
# # 4. サポートベクトルマシンとカーネルトリック（Deep Learning §5.7.2）
#
# SVM は正則化つきの経験リスク最小化である。確率も尤度もなく、境界は一本、マージンが最も広いものだけだ。（頻度論的な*推論*なら、たとえばブートストラップで境界の標本分布を加えるところだが、SVM 単体が与えるのは点である。）SVM はヒンジ損失 max(0, 1 − y(wᵀx + b)) に ½‖w‖²/C を加えたものを最小化する。その双対問題はデータに内積 xᵢᵀxⱼ を通してしか依存しないので、内積をカーネル関数 k(xᵢ, xⱼ) で置き換えられる。

# %%
import jax.numpy as jnp
import numpy as np

from freqbayes import SVC, figures, inference, lessons
from freqbayes.models.learners.objectives import hinge_loss

# %% [markdown]
# ## 目的関数
#
# 一つの事例（ラベル y ∈ {−1, +1}）について書き下し、ソルバーが使うパッケージの `hinge_loss` と照合する。


# %%
def hinge(w, b, x, y):
    return jnp.maximum(0.0, 1.0 - y * (jnp.dot(w, x) + b))


w, b = jnp.array([1.0, -2.0]), 0.5
x, y = jnp.array([0.3, 0.1]), -1.0
print(float(hinge(w, b, x, y)), float(hinge_loss((w, b), x, y)))

# %% [markdown]
# ## マージンの定義
#
# 分類超平面 wᵀx + b = 0 と事例 (xᵢ, yᵢ) について、
#
# * **関数マージン**は yᵢ(wᵀxᵢ + b) である。xᵢ が正しい側にあれば正で、境界は同じでも (w, b) の尺度を変えると値が変わる。
# * **幾何マージン**は yᵢ(wᵀxᵢ + b)/‖w‖ である。xᵢ から境界までの符号つき距離で、尺度を変えても変わらない。
# * 分類器の**マージン**は、データ全体での幾何マージンの最小値である。
#
# 最も近い点の関数マージンが 1、すなわち |wᵀx + b| = 1 となるように (w, b) の尺度を固定する（ゼミのスライド 10–11）。するとマージンは 1/‖w‖、支持超平面 wᵀx + b = ±1 の間の帯の**幅**は 2/‖w‖ となり、マージンの最大化は 1/‖w‖ の最大化、すなわちすべての i について yᵢ(wᵀxᵢ + b) ≥ 1 という制約のもとで ½‖w‖² を最小化することになる。
#
# ## 最大マージンとロジスティック回帰の事後分布
#
# 分離可能なデータでは、C を非常に大きくするとハードマージン SVM が得られる。すべての訓練点で関数マージンは yᵢ(wᵀxᵢ + b) ≥ 1 となり、サポートベクトルでは等号が成り立つ。

# %%
sep = lessons.separable_data(0)
svm = SVC(kernel="linear", C=1000.0).fit(sep.X, sep.y)
w = (svm.dual_coef_ @ svm.support_vectors_)[0]
functional = np.where(sep.y == 1, 1, -1) * (sep.X @ w + svm.intercept_[0])
print(
    f"{len(svm.support_)} support vectors; smallest functional margin "
    f"{functional.min():.4f}; margin 1/‖w‖ = {1 / np.linalg.norm(w):.3f} "
    f"(smallest geometric margin {functional.min() / np.linalg.norm(w):.3f}); "
    f"width 2/‖w‖ = {2 / np.linalg.norm(w):.3f}"
)

post = inference.nuts("logistic", sep, seed=0, num_warmup=400, num_samples=400, progress=False)
fig = figures.svm_vs_logistic(sep.X, sep.y, svm, post)

# %% [markdown]
# **図の読み方。** 左：最大マージンの分類超平面（実線）、支持超平面 wᵀx + b = ±1（破線、間隔 2/‖w‖）、三つのサポートベクトル（丸印）。サポートベクトルの関数マージンはちょうど 1 である。ほかの点を（マージンを越えずに）動かしても何も変わらない。右：ベイズロジスティック回帰の事後分布から引いた境界。SVM が一本の直線に決めてしまうところで、事後分布はデータが許すすべての直線を、そのもっともらしさで重みづけして保持する。
#
# ## 頻度論の帯：リサンプリングしたデータで当てはめ直す
#
# 上の比較はまだ公平ではない。SVM の一本の直線は点推定値であり、その頻度論的な不確かさは*標本分布*、つまり別のデータを引いていたら直線がどう動いたかである。ブートストラップは、行を復元抽出して当てはめ直すことでそれを推定する。二つのクラスが重なっているデータ（ロジスティック回帰の最尤推定値が存在するように）で、ロジスティック回帰の最尤推定、MAP推定、SVM をそれぞれ 100 回当てはめ直し（SVM の当てはめ直しは SMO ソルバーの `vmap` 一回で済む）、事後分布からの 2,000 サンプル（4 チェーン × 500）と並べる。

# %%
bands = lessons.boundary_bands(seed=0, replicates=100, draws=500)
fig = figures.boundary_bands(bands)

# %% [markdown]
# **図の読み方。** ここでは最尤推定、MAP推定、事後分布の帯はほぼ重なる（80 点、弱い事前分布）。しかし答えている問いは違う。ブートストラップの帯は*推定値*が標本の繰り返しでどうばらつくかを、事後分布の帯はこのデータのもとで各*境界*がどれだけもっともらしいかを示す。SVM の帯が最も広い。境界がほんの数個のサポートベクトルで決まり、リサンプリングでそれが入れ替わるからである。
#
# ## カーネルトリック
#
# 本書は線形関数を訓練事例との内積で wᵀx + b = b + Σᵢ αᵢ xᵀx⁽ⁱ⁾ と書き（式 5.82）、xᵀx⁽ⁱ⁾ をカーネル関数で置き換えて f(x) = b + Σᵢ αᵢ k(x, x⁽ⁱ⁾)、k(x, x⁽ⁱ⁾) = φ(x)·φ(x⁽ⁱ⁾) とし（式 5.83）、最もよく使われるものとしてガウスカーネル k(u, v) = N(u − v; 0, σ²I) を挙げる（式 5.84）。
#
# **本書の σ から scikit-learn の γ へ。** 書き下すと N(u − v; 0, σ²I) = (2πσ²)^(−d/2) exp(−‖u − v‖²/(2σ²)) であり、scikit-learn とこのパッケージの "rbf" カーネルは exp(−γ‖u − v‖²) である。指数部は **γ = 1/(2σ²)** のとき一致する。このとき二つのカーネルは定数 c = (2πσ²)^(−d/2) 倍だけ異なる。カーネル c·k、ボックス制約 C の SVM の双対変数は、カーネル k、ボックス制約 c·C の SVM の双対変数の 1/c 倍 α/c になり、f は同じである。下で、本書のカーネルを関数として渡し、同心円のデータで確かめる。
#
# 同心円は直線では分けられない。RBF カーネル k(x, x′) = exp(−γ‖x − x′‖²) なら分けられるし、明示的な特徴写像 φ(x) = (x₁, x₂, ‖x‖²) の上の線形 SVM でも分けられる。

# %%
trick = lessons.kernel_trick(seed=0)
fig = figures.kernel_trick(trick)
trick.accuracy

# %%
fig = figures.feature_map(trick)

# %% [markdown]
# **図の読み方。** テストデータでの決定領域。線形 SVM は同心円で失敗し（コイン投げより悪い）、RBF カーネルと特徴写像は成功する。3 次元では内側の円が平面の下にあり、それがまさに φ(x) 上の線形 SVM が平面に描く円である。三日月（moons）のデータでは、RBF カーネルは三日月に沿って曲がる。
#
# カーネル関数とは、グラム行列が常に半正定値になる関数のことである。パッケージは関数をそのまま受け付ける。


# %%
def quadratic(A, B):
    return (A @ B.T) ** 2


Xtr, ytr, Xte, yte = trick.data["circles"]
clf = SVC(kernel=quadratic, C=1.0).fit(Xtr, ytr)
print(f"k(x, x′) = (xᵀx′)²: test accuracy {np.mean(clf.predict(Xte) == yte):.3f}")

# %% [markdown]
# 本書のガウスカーネル（式 5.84、σ = 0.5）を、γ = 1/(2σ²) の "rbf" でボックス制約 C を正規化定数 c 倍したものと比べる。

# %%
sigma, d = 0.5, Xtr.shape[1]
c = (2 * np.pi * sigma**2) ** (-d / 2)


def gaussian_density(A, B):  # N(u − v; 0, σ²I)
    sq = (A**2).sum(1)[:, None] + (B**2).sum(1)[None, :] - 2 * A @ B.T
    return c * jnp.exp(-jnp.maximum(sq, 0.0) / (2 * sigma**2))


book = SVC(kernel=gaussian_density, C=1.0, tol=1e-5).fit(Xtr, ytr)
rbf_svm = SVC(kernel="rbf", gamma=1 / (2 * sigma**2), C=c, tol=1e-5).fit(Xtr, ytr)
gap = np.abs(book.decision_function(Xte) - rbf_svm.decision_function(Xte)).max()
print(f"γ = 1/(2σ²) = {1 / (2 * sigma**2):g}, c = {c:.4f}; largest |f_book − f_rbf| = {gap:.1e}")

# %% [markdown]
# ## カーネルトリックが節約するもの
#
# 多項式カーネル (1 + xᵀx′)^p は、次数 p 以下のすべての単項式（それぞれ多項係数の平方根で重みづけ）からなる明示的な特徴写像 φ の内積である。d 次元では φ の特徴量は C(d + p, p) 個あるが、カーネルの計算は p によらず 1 組あたり O(d) で済む。d = 10 の 300 点で両方のやり方を比べる。

# %%
cost = lessons.kernel_cost(seed=0, degrees=(1, 2, 3, 4, 5))
fig = figures.kernel_cost(cost)
cost.round(6)

# %% [markdown]
# **図の読み方。** 特徴量の数（左）とグラム行列を作る時間（右）は、明示的な写像では p とともに増えるが、カーネルでは増えない。二つの行列は丸め誤差の範囲で一致する（最後の列）。RBF カーネル exp(−γ‖x − x′‖²) は無限個の特徴量に対応する。そこではカーネルが唯一の方法である。
#
# ## カーネルトリックが m について払う代償
#
# 代償は事例数 m の側に移る。訓練では m × m のグラム行列を扱う（メモリも時間も O(m²)）。予測では式 5.83 を評価するが、その和はサポートベクトルについてだけとればよく（ほかの点では αᵢ = 0）、新しい点 1 つあたり O(n_SV · d) である。そしてノイズのあるデータでは n_SV は m とともに増える。ノイズのある moons データで、新しい 2,000 点を予測する（このマシンでの実行時間、5 回中の最良値）。

# %%
cost_m = lessons.kernel_cost_in_m(seed=0)
cost_m.round(4)

# %% [markdown]
# グラム行列のメモリは m が 2 倍になるたびに 4 倍になり（m = 4,000 で 122 MiB、m = 32,000 で 7.6 GiB）、作る時間も同じかそれ以上の速さで増える。サポートベクトルは m にほぼ比例して増え（m = 500 で 151 個、m = 4,000 で 876 個）、予測の和も同じく増える。予測時間もそれにつれて増えるが（正確な時間はこのマシンのもので、ばらつきがある）、フーリエ特徴による予測は横ばいのままである。m が大きいときのために、パッケージは `SVC(approximation="fourier")` を用意している。z(x)·z(x′) ≈ k(x, x′) となるランダムフーリエ特徴 z(x) ∈ ℝ^D（Rahimi & Recht 2007）によって、カーネル SVM は D 個の特徴量の線形 SVM になり、グラム行列なしで訓練でき、予測は m によらず 1 点あたり O(D · d) で済む（最後の列：D = 200）。
#
# ## 演習
#
# 1. 分離可能なデータで C を 0.1 に下げよ。サポートベクトルはいくつになり、関数マージンの最小値はいくらか。それが 1 を下回りうるのはなぜか。
# 2. 2 次元で、2 次のカーネル (xᵀx′)² はどんな明示的な特徴写像に対応するか。その特徴量で `LinearSVC` を当てはめて確かめよ。
# 3. ノイズのある moons データ `X, y = sklearn.datasets.make_moons(400, noise=0.3,
#    random_state=0)` を半分に分け（`train_test_split(X, y, test_size=0.5,
#    random_state=0)`）、γ = 0.1, 1, 100 について `SVC(kernel="rbf", gamma=γ, C=1.0)` を当てはめ、訓練精度とテスト精度を比べよ。どの γ が過小適合で、どの γ が過学習か。
# 4. *自分で書く。* ソフトマージンの線形 SVM：y ∈ {−1, +1} について ½‖w‖² + C Σ max(0, 1 − yᵢ(wᵀxᵢ + b)) を最小化する (w, b) を返す `linear_svm(X, y, C)` を書き（二次計画問題として、あるいは劣勾配法で）、確かめよ：
#    `from freqbayes.lessons import exercises; exercises.check_linear_svm(linear_svm)`。
#
# 解答例：`notebooks/ja/answers.md`。
