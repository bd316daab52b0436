"""The plain-JAX learners: each family's solver beside its scikit-learn-style class.

:mod:`~freqbayes.inference.learners.kmeans` (``KMeans``),
:mod:`~freqbayes.inference.learners.svm` (``SVC``),
:mod:`~freqbayes.inference.learners.linear_svm` (``LinearSVC``),
:mod:`~freqbayes.inference.learners.sgd` (``SGDClassifier``, ``SGDRegressor``, run by
:mod:`~freqbayes.inference.learners.plain_sgd`),
:mod:`~freqbayes.inference.learners.knn` (``KNeighborsClassifier``,
``KNeighborsRegressor``). None of them imports NumPyro, ArviZ or Matplotlib.
"""
