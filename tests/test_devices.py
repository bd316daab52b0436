"""Work split over several local devices gives the results of one device.

The command line makes one CPU device per core; NUTS splits its chains (tested in
test_nuts), k-NN its queries and k-means its rows over them. A Python process gets
its devices before JAX starts, so the two-device side runs in a subprocess.
"""

from __future__ import annotations

import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.datasets import make_blobs, make_classification

from freqbayes import KMeans, KNeighborsClassifier, KNeighborsRegressor
from freqbayes.inference import devices as DV
from freqbayes.inference.learners import kmeans as K
from freqbayes.inference.learners import knn

#: Odd sizes on purpose: the rows are padded to a multiple of the devices.
N_KMEANS, N_TRAIN, N_QUERY = 2 * K.MIN_ROWS_PER_DEVICE + 1, 3001, 997


def _blobs() -> np.ndarray:
    X, _ = make_blobs(N_KMEANS, centers=6, n_features=4, cluster_std=1.0, random_state=7)
    return X


def _knn_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X, y = make_classification(N_TRAIN + N_QUERY, n_features=6, n_classes=3,
                               n_informative=4, random_state=5)  # fmt: skip
    return X[:N_TRAIN], y[:N_TRAIN], X[N_TRAIN:]


def _results() -> dict[str, np.ndarray]:
    """What both processes compute: k-means (k-means++ and a given start), k-NN votes and means."""
    X = _blobs()
    pp = KMeans(6, random_state=0).fit(X)
    given = KMeans(6, init=X[:6], tol=0.0).fit(X)
    restarts = KMeans(6, n_init=4, random_state=1).fit(X[:3001])  # restarts split
    Xtr, ytr, Xq = _knn_data()
    # 128 queries per block: N_QUERY = 7 blocks and a padded one, so both devices get blocks
    block = 128
    idx, d2 = knn.neighbours(jnp.asarray(Xtr), jnp.asarray(Xq), 7, block, jax.device_count())
    return {
        "pp_labels": pp.labels_,
        "pp_centers": pp.cluster_centers_,
        "pp_inertia": np.asarray(pp.inertia_),
        "given_labels": given.labels_,
        "given_centers": given.cluster_centers_,
        "given_iter": np.asarray(given.n_iter_),
        "restarts_labels": restarts.labels_,
        "restarts_centers": restarts.cluster_centers_,
        "plan": np.asarray([K.plan(3001, 4), K.plan(N_KMEANS, 1)]),
        "knn_class": KNeighborsClassifier(7).fit(Xtr, ytr).predict(Xq),
        "knn_mean": KNeighborsRegressor(7).fit(Xtr, ytr.astype(float)).predict(Xq),
        "knn_idx": np.asarray(idx),
        "knn_d2": np.asarray(d2),
        "devices": np.asarray(jax.device_count()),
        "lloyd_devices": np.asarray(K.lloyd_devices(N_KMEANS)),
    }


@pytest.fixture(scope="module")
def two_devices(tmp_path_factory) -> dict[str, np.ndarray]:
    out = tmp_path_factory.mktemp("devices") / "two.npz"
    code = f"""
import jax, numpy as np
jax.config.update("jax_num_cpu_devices", 2)
import sys; sys.path.insert(0, {str(__file__.rsplit("/", 1)[0])!r})
from test_devices import _results
np.savez({str(out)!r}, **_results())
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(np.load(out))


def test_the_subprocess_really_split_the_work(two_devices):
    assert int(two_devices["devices"]) == 2 and int(two_devices["lloyd_devices"]) == 2
    # restarts split where they divide evenly, else the rows of a large problem
    np.testing.assert_array_equal(two_devices["plan"], [[1, 2], [2, 1]])
    assert jax.device_count() == 1 and K.lloyd_devices(N_KMEANS) == 1


def test_kmeans_over_two_devices_gives_the_one_device_clustering(two_devices):
    one = _results()
    for start in ("pp", "given", "restarts"):
        np.testing.assert_array_equal(two_devices[f"{start}_labels"], one[f"{start}_labels"])
        np.testing.assert_allclose(
            two_devices[f"{start}_centers"], one[f"{start}_centers"], rtol=1e-5, atol=1e-5
        )
    assert two_devices["given_iter"] == one["given_iter"]
    assert float(two_devices["pp_inertia"]) == pytest.approx(float(one["pp_inertia"]), rel=1e-5)


def test_knn_over_two_devices_gives_the_one_device_neighbours(two_devices):
    one = _results()
    for name in ("knn_class", "knn_idx"):
        np.testing.assert_array_equal(two_devices[name], one[name])
    np.testing.assert_allclose(two_devices["knn_mean"], one["knn_mean"], rtol=1e-6)
    np.testing.assert_allclose(two_devices["knn_d2"], one["knn_d2"], rtol=1e-5, atol=1e-6)


def test_padded_rows_change_nothing():
    """An odd n is padded (to ROW_ALIGN rows) with rows that no cluster counts: the same
    iteration as the unpadded loop, where the padding would be the farthest otherwise."""
    X = _blobs()[:1001]
    P = K.points(X, jnp.float32)
    # cluster 2 starts far from every point: it empties and takes the farthest example
    C0 = jnp.asarray(np.vstack([X[:2], [[500.0, 500.0, 500.0, 500.0]], X[2:5]]), jnp.float32)
    assert P.X.shape[0] % K.ROW_ALIGN
    padded = K.lloyd(P, K.state_at(P, C0), 50, 0.0)
    plain = K.run(P, K.state_at(P, C0), 50, 0.0)
    np.testing.assert_array_equal(padded.labels, plain.labels)
    np.testing.assert_allclose(padded.centroids, plain.centroids, rtol=1e-5, atol=1e-5)
    assert int(padded.iteration) == int(plain.iteration)
    assert float(padded.inertia) == pytest.approx(float(plain.inertia), rel=1e-6)


def test_device_counts_are_checked():
    assert DV.divisor_count(4) == 1 and DV.device_count() == 1
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="devices must be a positive integer"):
            DV.device_count(bad)
