"""Output dtypes as scikit-learn's, for float64 and float32 input (issue 13).

JAX computes in float32 by default; what the estimators hand back must still have the
dtypes a scikit-learn user gets (float64 coefficients from a float64 X, float32 SGD
weights from a float32 X, int32 k-means labels, float64 SVC decision values, …), except
where :data:`OWN` says why.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import cluster, linear_model, neighbors, svm
from sklearn.datasets import make_classification

import freqbayes as F

X, y = make_classification(120, n_features=4, random_state=0)

PAIRS = [
    ("SVC", F.SVC(), svm.SVC(), "classify"),
    ("LinearSVC", F.LinearSVC(), svm.LinearSVC(), "classify"),
    ("SGDClassifier", F.SGDClassifier(random_state=0), linear_model.SGDClassifier(), "classify"),
    ("SGDRegressor", F.SGDRegressor(random_state=0), linear_model.SGDRegressor(), "regress"),
    ("KNeighborsClassifier", F.KNeighborsClassifier(), neighbors.KNeighborsClassifier(),
     "classify"),
    ("KNeighborsRegressor", F.KNeighborsRegressor(), neighbors.KNeighborsRegressor(), "regress"),
    ("KMeans", F.KMeans(3, n_init=1, random_state=0),
     cluster.KMeans(3, n_init=1, random_state=0), "cluster"),
]  # fmt: skip

OUTPUTS = (
    "decision_function",
    "predict",
    "predict_proba",
    "transform",
    "coef_",
    "intercept_",
    "dual_coef_",
    "cluster_centers_",
)


def _outputs(model, Xd, target) -> dict[str, np.dtype]:
    model.fit(Xd, target)
    found = {}
    for name in OUTPUTS:
        if not hasattr(model, name):
            continue
        value = getattr(model, name)
        found[name] = np.asarray(value(Xd) if callable(value) else value).dtype
    return found


#: Where ours differs on purpose (none now: SVC's decision values, once float32 sums in JAX,
#: are float64 sums with scikit-learn's pairwise kernels, as LIBSVM's).
OWN: dict[tuple[str, str], np.dtype] = {}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("name", "ours", "theirs", "kind"), PAIRS, ids=[p[0] for p in PAIRS])
def test_output_dtypes_are_scikit_learns(name, ours, theirs, kind, dtype):
    Xd = X.astype(dtype)
    target = y * 10.0 if kind == "regress" else y
    got, want = _outputs(ours, Xd, target), _outputs(theirs, Xd, target)
    shared = sorted(set(got) & set(want))
    assert "predict" in shared or "transform" in shared, (got, want)
    want.update({k: v for (n, k), v in OWN.items() if n == name and k in want})
    assert {k: got[k] for k in shared} == {k: want[k] for k in shared}
