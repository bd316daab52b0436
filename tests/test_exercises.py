"""The notebooks' write-it-yourself exercises: the worked answers pass their checkers,
and the usual wrong answers do not."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np
import numpyro
import numpyro.distributions as dist
import pytest

from freqbayes.lessons import exercises as E

ROOT = Path(__file__).resolve().parents[1]
ANSWERS = (ROOT / "notebooks" / "answers.md").read_text()
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
CHECKERS = [name for name in dir(E) if name.startswith("check_")]


def _checked_answers() -> dict[str, str]:
    """Notebook number -> the answer's code block that calls a checker."""
    out = {}
    for section in ANSWERS.split("\n## ")[1:]:
        blocks = re.findall(r"```python\n(.*?)```", section, re.S)
        checked = [b for b in blocks if "exercises.check_" in b]
        assert len(checked) <= 1, section[:2]
        if checked:
            out[section[:2]] = checked[0]
    return out


def test_every_notebook_ends_with_a_checked_write_it_yourself_exercise():
    answers = _checked_answers()
    assert sorted(answers) == [p.stem[:2] for p in NOTEBOOKS]
    for source in NOTEBOOKS:
        exercises = source.read_text().split("## Exercises")[-1]
        named = set(re.findall(r"exercises\.(check_\w+)", exercises))
        assert len(named) == 1 and named <= set(CHECKERS), (source.name, named)
        assert "Write it yourself" in exercises, source.name
        assert f"exercises.{named.pop()}(" in answers[source.stem[:2]], source.name


@pytest.mark.parametrize("number", [p.stem[:2] for p in NOTEBOOKS])
def test_worked_answer_passes_its_checker(number):
    code = _checked_answers()[number]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"answers.md ({number})", "exec"), {"__name__": "answer"})
    assert out.getvalue().startswith("correct:"), out.getvalue()


# ------------------------------------------------------------------ wrong answers
def _gaussian_not_t(x):
    mu = numpyro.sample("mu", dist.Normal(0.0, 10.0))
    sigma = numpyro.sample("sigma", dist.HalfNormal(10.0))
    with numpyro.plate("obs", x.shape[0]):
        numpyro.sample("x", dist.Normal(mu, sigma), obs=x)


def _t_without_plate_sum(x):
    mu = numpyro.sample("mu", dist.Normal(0.0, 10.0))
    sigma = numpyro.sample("sigma", dist.HalfNormal(10.0))
    numpyro.sample("x", dist.StudentT(4.0, mu, sigma), obs=x[0])


def _ols(X, y, dof):
    A = np.c_[np.ones(len(y)), X]
    coef = np.linalg.solve(A.T @ A, A.T @ y)
    s2 = np.sum((y - A @ coef) ** 2) / (len(y) - dof)
    return coef, np.sqrt(s2 * np.diag(np.linalg.inv(A.T @ A)))


def _ols_textbook_se(X, y):
    return _ols(X, y, 3)


def _coef_only(X, y):
    return _ols(X, y, 0)[0]


def _logistic_gradient_descent(X, y):
    A = np.c_[np.ones(len(y)), X]
    theta = np.zeros(3)
    for _ in range(2000):
        p = 1.0 / (1.0 + np.exp(-(A @ theta)))
        theta = theta + 1e-6 * A.T @ (y - p)
    return theta, np.ones(3)


def _svm_fixed_subgradient(X, y, C):
    w, b = np.zeros(2), 0.0
    for _ in range(200):
        m = y * (X @ w + b) < 1
        w = w - 0.01 * (w - C * (y[m, None] * X[m]).sum(0))
        b = b + 0.01 * C * y[m].sum()
    return w, b


def _uniform_seeding(X, k, rng):
    return X[rng.choice(len(X), k, replace=False)]


def _farthest_point(X, k, rng):
    centres = [X[rng.integers(len(X))]]
    for _ in range(k - 1):
        d2 = ((X[:, None, :] - np.array(centres)[None]) ** 2).sum(-1).min(axis=1)
        centres.append(X[np.argmax(d2)])
    return np.array(centres)


def _sgd_summed_gradient(X, y, m_prime, epsilon, steps, seed):
    rng = np.random.default_rng(seed)
    theta = np.zeros(X.shape[1])
    with np.errstate(all="ignore"):
        for _ in range(steps):
            rows = rng.choice(len(y), m_prime, replace=False)
            theta = theta - epsilon * X[rows].T @ (X[rows] @ theta - y[rows])
    return theta


def _full_batch(X, y, m_prime, epsilon, steps, seed):
    theta = np.zeros(X.shape[1])
    for _ in range(steps):
        theta = theta - epsilon * X.T @ (X @ theta - y) / len(y)
    return theta


def _nearest_only(X_train, y_train, X_test, k):
    d2 = ((X_test[:, None, :] - X_train[None]) ** 2).sum(-1)
    return y_train[np.argmin(d2, axis=1)]


def _class_index(X_train, y_train, X_test, k):
    return (_nearest_only(X_train, y_train, X_test, k) == y_train.max()).astype(int)


def _em_without_weights(X, weights, means, variances):
    """The E-step forgets the mixing weights (as if every w_k were 1/k)."""
    return _em_right(X, np.full_like(weights, 1.0 / len(weights)), means, variances)


def _em_variance_per_coordinate_missing(X, weights, means, variances):
    """The variance divided by N_k instead of d N_k (the sum over the d coordinates)."""
    w, m, v = _em_right(X, weights, means, variances)
    return w, m, v * X.shape[1]


def _em_right(X, weights, means, variances):
    n, d = X.shape
    sq = ((X[:, None, :] - means[None]) ** 2).sum(-1)
    log_joint = np.log(weights) - 0.5 * d * np.log(variances) - 0.5 * sq / variances
    r = np.exp(log_joint - log_joint.max(axis=1, keepdims=True))
    r /= r.sum(axis=1, keepdims=True)
    nk = r.sum(axis=0)
    means = r.T @ X / nk[:, None]
    var = (r * ((X[:, None, :] - means[None]) ** 2).sum(-1)).sum(axis=0) / (d * nk)
    return nk / n, means, var


WRONG = [
    (E.check_em_step, _em_without_weights, "weights"),
    (E.check_em_step, _em_variance_per_coordinate_missing, "(d N_k)"),
    (E.check_student_t, _gaussian_not_t, "off by"),
    (E.check_student_t, _t_without_plate_sum, "one value per data point"),
    (E.check_ols_wald, _ols_textbook_se, "textbook OLS se"),
    (E.check_ols_wald, _coef_only, "pair"),
    (E.check_logistic_mle, _logistic_gradient_descent, "coef is off"),
    (E.check_linear_svm, _svm_fixed_subgradient, "C = 1.0"),
    (E.check_kmeans_pp, _uniform_seeding, "D² sampling"),
    (E.check_kmeans_pp, _farthest_point, "D² sampling"),
    (E.check_sgd, _sgd_summed_gradient, "diverged"),
    (E.check_sgd, _full_batch, "another seed"),
    (E.check_knn, _nearest_only, "labels differ"),
    (E.check_knn, _class_index, "training labels"),
]


@pytest.mark.parametrize(
    ("check", "answer", "message"), WRONG, ids=[f"{c.__name__}-{a.__name__}" for c, a, _ in WRONG]
)
def test_wrong_answer_is_rejected_with_a_reason(check, answer, message):
    with pytest.raises(E.WrongAnswer, match=re.escape(message)):
        check(answer)
