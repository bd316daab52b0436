"""What the count and proportion families share: a link-centred intercept, trials, existence.

:class:`GLM` is a :class:`~freqbayes.models.probabilistic.model.Model` with two additions:

* ``centre(args)``: the intercept-only estimate on the link scale (log ȳ for counts,
  logit of the pooled proportion for trials). The fitting coordinates put u = 0 there
  (the intercept-only fit, as for the Gaussian models), and the default prior on the
  intercept is centred there: b ~ N(centre, 2.5² (1 + Σ_j (x̄_j/s_j)²)), the weights
  θ_j ~ N(0, (2.5/s_j)²) (:mod:`freqbayes.models.probabilistic.scaling`; counts on a log
  link and proportions on a logit have no units, s_y = 1).
* ``trials``: the name of a column that holds the number of trials of each row
  (binomial). It reaches the model as a feature column of that name (a table's column
  ``trials``, or the term ``+ trials`` in a formula), which is taken out of X, or as
  ``Dataset.inputs["trials"]``; without it every row is one trial.

:func:`check` says when an estimate does not exist, before any fitting: the rank of
the design (:func:`~freqbayes.models.probabilistic.existence.check_normal`) and the
generalised separation of Haberman (1974) for counts and Albert & Anderson (1984) for
trials: the MLE of a log-linear or logit model does not exist when a direction v of the
coefficients has x_iᵀv ≤ 0 on every row at the lower bound (y = 0), ≥ 0 on every row at
the upper bound (y = trials), = 0 on the others, and ≠ 0 somewhere; all-zero counts are
the simplest case. A row strictly inside its bounds is one example of each label, so the
linear programs of :func:`~freqbayes.models.probabilistic.existence.separation` decide it
exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from freqbayes.models.dataset import Dataset
from freqbayes.models.probabilistic import existence, groups, scaling
from freqbayes.models.probabilistic import priors as P
from freqbayes.models.probabilistic.linear import flat_columns
from freqbayes.models.probabilistic.model import Model


@dataclass(frozen=True)
class GLM(Model):
    """A generalised linear model: the intercept centred on the link scale, optional trials.

    Attributes
    ----------
    centre : callable, optional
        ``centre(args) -> float``: the intercept-only estimate on the link scale.
    trials : str, optional
        Name of the column holding each row's number of trials (binomial).
    """

    centre: Callable[[Mapping[str, np.ndarray]], float] | None = None
    trials: str | None = None

    @property
    def row_arguments(self) -> tuple[str, ...]:
        """The rows of :class:`Model`, and the trials."""
        return super().row_arguments + ((self.trials,) if self.trials else ())

    def _scaling(self, args: Mapping[str, np.ndarray], centred: bool) -> scaling.Scaling:
        s = scaling.scaling_of(self.roles, args, centred=centred)
        if centred and self.centre is not None:
            s = s._replace(y_mean=np.float64(self.centre(args)))
        return s

    def default_priors(
        self, args: Mapping[str, np.ndarray], intercept: bool = True
    ) -> dict[str, Any]:
        """The defaults of :class:`Model`, the intercept's centred at :attr:`centre`."""
        out = super().default_priors(args, intercept)
        return out | scaling.autoscaled_priors(self.roles, self._scaling(args, intercept))

    def scaling(
        self, args: Mapping[str, np.ndarray], resolved: Mapping[str, Any]
    ) -> scaling.Scaling | None:
        """Centres and scales for fitting, u = 0 at the intercept-only fit."""
        return self._scaling(args, self.has_intercept(resolved))

    def _split(self, data: Dataset) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(X without the trials column, trials or None)."""
        if self.trials is None:
            return data.X, None
        if self.trials in data.inputs:
            return data.X, np.asarray(data.inputs[self.trials], dtype=float)
        names = list(data.feature_names)
        if data.X is None or self.trials not in names:
            return data.X, None
        j = names.index(self.trials)
        return np.delete(data.X, j, axis=1), np.asarray(data.X[:, j], dtype=float)

    def data_arguments(self, data: Dataset) -> dict[str, np.ndarray]:
        """The program's data arguments, with ``trials`` when the data give them.

        The arrays of group-level terms come too (:meth:`~.Model.group_arguments`).
        """
        X, trials = self._split(data)
        if self.trials is not None and X is not None and X.shape[1] == 0:
            raise ValueError(f"data: no feature columns besides {self.trials!r}")
        args = {**self.arguments(X, data.y), **self.group_arguments(data)}
        if self.trials is not None:
            y = args[self.observed]
            hint = "" if trials is not None else f" (one each: no column {self.trials!r})"
            m = np.ones_like(y) if trials is None else trials
            args[self.trials] = check_trials(m, y, self.trials + hint)
        return args

    def prediction_inputs(
        self, X: np.ndarray, names: list[str], rows: Any
    ) -> tuple[np.ndarray, list[str], dict[str, np.ndarray]]:
        """New rows' trials: a column of the design (a formula named it) or of the table.

        Without either, each new row is one trial (Bernoulli draws).
        """
        if self.trials is None:
            return X, names, {}
        if self.trials in names:
            j = names.index(self.trials)
            trials = np.asarray(X[:, j], dtype=float)
            X, names = np.delete(X, j, axis=1), [c for c in names if c != self.trials]
        elif hasattr(rows, "columns") and self.trials in rows.columns:
            trials = np.asarray(rows[self.trials], dtype=float)
        else:
            trials = np.ones(X.shape[0])
        bad = ~np.isfinite(trials) | (trials < 1) | (trials != np.round(trials))
        if bad.any():
            raise ValueError(f"{self.trials} must be integers >= 1; got {int(bad.sum())} other(s)")
        return X, names, {self.trials: trials}

    def coords(self, data: Dataset, n: int) -> tuple[dict[str, list[str]], dict[str, Any]]:
        """As :meth:`Model.coords`, without the trials column among the features."""
        dims, coords = super().coords(data, n)
        if self.trials is not None and "feature" in coords:
            coords["feature"] = [f for f in coords["feature"] if f != self.trials]
        return dims, coords


def check_trials(trials: np.ndarray, y: np.ndarray, name: str = "trials") -> np.ndarray:
    """Trials are integers ≥ 1 and at least the successes of their row; a one-line error."""
    m = np.asarray(trials, dtype=float)
    if m.shape != y.shape or not np.all(np.isfinite(m)):
        raise ValueError(f"{name} must be {len(y)} finite numbers, one per row")
    bad = (m < 1) | (m != np.round(m))
    if bad.any():
        raise ValueError(f"{name} must be integers >= 1; got {int(bad.sum())} other(s)")
    over = y > m
    if over.any():
        i = int(np.argmax(over))
        raise ValueError(
            f"{int(over.sum())} row(s) have more successes than {name} (row {i}: "
            f"{y[i]:g} of {m[i]:g})"
        )
    return m


def log_mean(args: Mapping[str, np.ndarray]) -> float:
    """log ȳ (0 for all-zero counts): the intercept-only Poisson and NB2 MLE.

    ``args["y"]`` may be a :class:`~.scaling.RowSummary` (rows held by several processes).
    """
    y = args["y"]
    mean = float(y.mean if isinstance(y, scaling.RowSummary) else np.mean(y))
    return float(np.log(mean)) if mean > 0 else 0.0


def logit_pooled(args: Mapping[str, np.ndarray]) -> float:
    """logit(Σy / Σtrials), clipped to ±10: the intercept-only binomial MLE.

    ``y`` and ``trials`` may be :class:`~.scaling.RowSummary` (rows held by several
    processes: Σy / Σtrials is the ratio of their means).
    """
    y, trials = args["y"], args.get("trials")
    if isinstance(y, scaling.RowSummary):
        p = float(y.mean / (1.0 if trials is None else trials.mean))
    else:
        p = float(np.sum(y) / np.sum(np.ones_like(y) if trials is None else trials))
    p = min(max(p, 4.5e-5), 1 - 4.5e-5)
    return float(np.log(p / (1 - p)))


def check(
    kind: str,
    args: Mapping[str, np.ndarray],
    priors: Mapping[str, P.Prior],
    family: str,
) -> None:
    """Raise a named :class:`~freqbayes.models.probabilistic.existence.EstimateError`.

    ``kind`` is "likelihood", "mode" or "posterior"; ``family`` names the model in
    messages. Counts (no ``trials`` in ``args``) have no upper bound. With group-level
    terms the MLE is refused (:func:`.groups.check_estimate`).
    """
    groups.check_estimate(kind, args)
    X = np.asarray(args["X"], dtype=float)
    y = np.asarray(args["y"], dtype=float)
    intercept = priors["intercept_prior"] is not None
    flat = flat_columns(X.shape[1], priors["beta_prior"], priors["intercept_prior"])
    existence.check_normal(kind, y, X, intercept=intercept, flat=flat, sigma="known")
    if kind != "likelihood" and not any(flat):
        return
    upper = args.get("trials")
    low = y == 0
    high = np.zeros_like(low) if upper is None else y == np.asarray(upper)
    inside = ~(low | high)
    Xe = np.concatenate([X[low], X[high], X[inside], X[inside]])
    labels = np.r_[np.zeros(low.sum()), np.ones(high.sum() + inside.sum()), np.zeros(inside.sum())]
    found = existence.separation(Xe, labels, intercept, None if kind == "likelihood" else flat)
    if not found:
        return
    if kind == "likelihood":
        verdict = f"the {family} MLE does not exist"
        advice = "Use the MAP or the posterior (a proper prior on the weights) instead."
    else:
        verdict = "there is no MAP" if kind == "mode" else "the posterior is improper"
        advice = "Give the coefficients with flat priors proper priors."
    if low.all():
        why = f"all {len(y)} counts are 0, so the likelihood grows as the intercept → −∞"
    elif upper is not None and high.all():
        why = f"every one of the {len(y)} rows is all successes"
    else:
        bounds = "0" if upper is None else "0 or all trials"
        why = (
            f"the rows at {bounds} are separated: along a direction of the coefficients "
            "the fitted means of those rows run to their bound while the others stay put, "
            "and the likelihood keeps growing"
        )
    raise existence.SeparationError(f"{verdict}: {why}. {advice}")


def simulated(
    name: str, n: int, seed: int, draw: Callable[[np.random.Generator, np.ndarray], Any]
) -> Dataset:
    """A default data set in raw units: dose (mean 100, sd 10) and age (mean 50, sd 12).

    ``draw(rng, z)`` gets the standardised features z (n, 2) and returns y, or (y, trials).
    """
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 2))
    X = np.column_stack([100.0 + 10.0 * z[:, 0], 50.0 + 12.0 * z[:, 1]])
    out = draw(rng, z)
    y, inputs = (out, {}) if not isinstance(out, tuple) else (out[0], {"trials": out[1]})
    attrs = {"source": f"simulated (numpy seed {seed})"}
    return Dataset(name, np.asarray(y, dtype=float), X, ("dose", "age"), attrs, inputs)
