"""The kernel trick: linear against RBF SVM, and an explicit feature map (§5.7.2)."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd


class KernelTrick(NamedTuple):
    """Linear against RBF SVM on circles and moons, and an explicit feature map.

    Attributes
    ----------
    accuracy : DataFrame
        Test accuracy per data set and classifier.
    data : dict
        name -> (X_train, y_train, X_test, y_test).
    models : dict
        (data name, classifier name) -> fitted estimator.
    """

    accuracy: pd.DataFrame
    data: dict[str, tuple[np.ndarray, ...]]
    models: dict[tuple[str, str], Any]


def radial_feature_map(X: np.ndarray) -> np.ndarray:
    """φ(x) = (x₁, x₂, x₁² + x₂²): concentric circles become linearly separable."""
    return np.column_stack([X, (X**2).sum(axis=1)])


def kernel_trick(seed: int = 0, n: int = 400, test_share: float = 0.3) -> KernelTrick:
    """Fit LinearSVC, SVC(rbf) and LinearSVC on φ(x) to circles and moons; test accuracy.

    ``test_share`` of each data set is held out (stratified); the accuracy table's
    ``attrs`` record ``n`` and ``test_share``.
    """
    from sklearn.datasets import make_circles, make_moons
    from sklearn.model_selection import train_test_split

    from freqbayes import SVC, LinearSVC

    sets = {
        "circles": make_circles(n, factor=0.45, noise=0.08, random_state=seed),
        "moons": make_moons(n, noise=0.15, random_state=seed),
    }
    rows, models, data = [], {}, {}
    for name, (X, y) in sets.items():
        Xtr, Xte, ytr, yte = train_test_split(
            X, y, test_size=test_share, random_state=seed, stratify=y
        )
        data[name] = (Xtr, ytr, Xte, yte)
        fits = {
            "linear SVM": (LinearSVC(C=1.0), lambda A: A),
            "RBF-kernel SVM": (SVC(kernel="rbf", C=1.0), lambda A: A),
            "linear SVM on φ(x) = (x, ‖x‖²)": (LinearSVC(C=1.0), radial_feature_map),
        }
        for clf_name, (clf, phi) in fits.items():
            clf.fit(phi(Xtr), ytr)
            models[(name, clf_name)] = (clf, phi)
            rows.append(
                {
                    "data": name,
                    "classifier": clf_name,
                    "test_accuracy": float(np.mean(clf.predict(phi(Xte)) == yte)),
                }
            )
    accuracy = pd.DataFrame(rows)
    accuracy.attrs.update(n=n, test_share=test_share)
    return KernelTrick(accuracy, data, models)
