"""Numbers about fits: one summary per fit, one way to print it, diagnostics and warnings.

:func:`summary` is the one summary of a fit, used by ``freqbayes run``, ``freqbayes
summary``, the reports and Python (``freqbayes.summary(tree)``), and
:func:`format_summary` the one way its numbers are printed. A frequentist fit
reports θ̂, its standard error, its own 95% interval (Wald, sandwich, profile,
percentile or BCa) and, for Wald, the z test (statsmodels' columns); a posterior
its mean, sd, MCSE and 95% equal-tailed interval with r̂ and ESS, computed in
float64 whatever the draws' type. Every number is rounded by its own uncertainty
(:func:`format_number`), never to a fixed number of significant figures.

A posterior's numbers need ``arviz_stats`` (with SciPy, about 0.7 s to import):
``freqbayes run`` stores them in the fit (:func:`store_summary`) with a fingerprint of the
draws, so that ``freqbayes summary FIT.nc`` reads them instead, unless the draws changed.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings as pywarnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from freqbayes.i18n import N_, _
from freqbayes.inference.diagnostics import (
    diagnostics,
    is_frequentist,
    is_point,
    settings,
    warnings,
)
from freqbayes.rounding import HI, LO, format_summary

#: Coverage of every interval printed.
LEVEL = 0.95

#: What each kind of interval is called in headers.
INTERVAL_NAMES = {
    "eti": N_("equal-tailed credible"),
    "wald": N_("Wald"),
    "sandwich": N_("sandwich (HC0)"),
    "profile": N_("profile-likelihood"),
    "percentile": N_("bootstrap percentile"),
    "bca": N_("bootstrap BCa"),
}

#: Intervals θ̂ ± z·se, for which z = θ̂/se and its two-sided p-value mean something.
WALD_KINDS = ("wald", "sandwich")

#: The attr in which :func:`store_summary` keeps a posterior's summary numbers (JSON).
STORED = "summary_numbers"


def summary(
    tree: xr.DataTree, var_names: Sequence[str] | None = None, interval: str | None = None
) -> pd.DataFrame:
    """The summary of one fit: one row per scalar parameter, in float64.

    Parameters
    ----------
    tree, var_names
        A fit, and the parameters to summarise (default: all).
    interval : str, optional
        For a frequentist fit, the kind of interval (default: the fit's first kind,
        e.g. ``wald`` rather than ``sandwich``, ``bca`` rather than ``percentile``).

    Returns
    -------
    DataFrame
        A frequentist fit: ``coef`` (θ̂), ``std err``, ``z`` and ``P>|z|`` (Wald and
        sandwich only: z = θ̂/se, p = 2Φ(−|z|)), and its 95% interval in ``[0.025``
        and ``0.975]`` (statsmodels' columns). A posterior: ``mean``, ``sd``, ``mcse``
        (of the mean), the 95% equal-tailed interval in ``[0.025`` and ``0.975]``,
        ``r_hat``, ``ess_bulk``, ``ess_tail``, and the MCSEs of the sd and of the two
        quantiles (``mcse_sd``, ``mcse_lo``, ``mcse_hi``) by which they are rounded. A
        point estimate without an interval: ``estimate``. ``attrs`` holds ``kind``
        (frequentist, posterior, point), ``interval``, ``level`` and ``header``, the
        line that says what the columns are.
    """
    names = list(var_names) if var_names else None
    if is_frequentist(tree):
        return _frequentist(tree, names, interval)
    post = tree["posterior"].to_dataset()
    stored = None if names or is_point(tree) else _stored_numbers(tree, post)
    post = (post[names] if names else post).astype(np.float64)
    if is_point(tree):
        from arviz_base import dataset_to_dataframe

        mean = post.mean(("chain", "draw")).expand_dims(summary=["estimate"])
        table = dataset_to_dataframe(mean, sample_dims=["summary"]).T
        table.attrs.update(kind="point", interval="", level=np.nan)
        table.attrs["header"] = _("point estimate (no standard error or interval)")
        return table
    table = _posterior_numbers(post) if stored is None else stored
    chains, draws = post.sizes["chain"], post.sizes["draw"]
    table.attrs.update(kind="posterior", interval="eti", level=LEVEL)
    table.attrs["header"] = _(
        "posterior mean, sd, MCSE of the mean, {level:.0%} equal-tailed credible interval "
        "[0.025, 0.975], r̂, bulk and tail ESS ({chains} chains × {draws} draws)"
    ).format(level=LEVEL, chains=chains, draws=draws)
    return table


def fingerprint(post: xr.Dataset) -> str:
    """SHA-256 of a posterior's draws: every variable's name, dtype, shape and bytes."""
    digest = hashlib.sha256()
    for name in sorted(map(str, post.data_vars)):
        values = np.ascontiguousarray(post[name].values)
        digest.update(f"{name}|{values.dtype.str}|{values.shape}|".encode())
        digest.update(values.tobytes())
    return digest.hexdigest()


def store_summary(tree: xr.DataTree) -> None:
    """Keep a posterior's :func:`summary` numbers in ``tree.attrs`` (``freqbayes run`` does).

    Stored with the :func:`fingerprint` of the draws; :func:`summary` uses them only
    while the draws are the same, so a fit changed later is summarised afresh. Exact:
    JSON keeps every float64. Nothing is stored for a frequentist fit or a point
    estimate, whose summaries need no ``arviz_stats``.
    """
    if is_frequentist(tree) or is_point(tree):
        return
    post = tree["posterior"].to_dataset()
    table = _posterior_numbers(post.astype(np.float64))
    tree.attrs[STORED] = json.dumps(
        {
            "draws": fingerprint(post),
            "index": [str(i) for i in table.index],
            "columns": [str(c) for c in table.columns],
            "data": table.to_numpy(float).tolist(),
        }
    )


def _stored_numbers(tree: xr.DataTree, post: xr.Dataset) -> pd.DataFrame | None:
    """The numbers :func:`store_summary` kept, if the draws are still those; else None."""
    text = tree.attrs.get(STORED)
    if not text:
        return None
    stored = json.loads(text)
    if stored.get("draws") != fingerprint(post):
        return None
    return pd.DataFrame(stored["data"], index=stored["index"], columns=stored["columns"]).astype(
        float
    )


def _posterior_numbers(post: xr.Dataset) -> pd.DataFrame:
    """Mean, sd, MCSEs, 95% ETI, r̂ and ESS of float64 draws (``arviz_stats``)."""
    import arviz_stats  # noqa: F401  (registers the .azstats accessor)
    from arviz_base import dataset_to_dataframe

    dims, stats = ["chain", "draw"], post.azstats
    lo, hi = (1 - LEVEL) / 2, (1 + LEVEL) / 2
    with np.errstate(all="ignore"), pywarnings.catch_warnings():  # NaN draws: said elsewhere
        pywarnings.simplefilter("ignore", RuntimeWarning)
        eti = stats.eti(prob=LEVEL, dim=dims)
        parts = {
            "mean": stats.mean(dim=dims),
            "sd": stats.std(dim=dims),
            "mcse": stats.mcse(sample_dims=dims, method="mean"),
            LO: eti.isel(ci_bound=0, drop=True),
            HI: eti.isel(ci_bound=1, drop=True),
            "r_hat": stats.rhat(sample_dims=dims),
            "ess_bulk": stats.ess(sample_dims=dims, method="bulk"),
            "ess_tail": stats.ess(sample_dims=dims, method="tail"),
            "mcse_sd": stats.mcse(sample_dims=dims, method="sd"),
            "mcse_lo": stats.mcse(sample_dims=dims, method="quantile", prob=lo),
            "mcse_hi": stats.mcse(sample_dims=dims, method="quantile", prob=hi),
        }
    joined = xr.concat([v.expand_dims(summary=[k]) for k, v in parts.items()], dim="summary")
    return dataset_to_dataframe(joined, sample_dims=["summary"]).T.astype(float)


def _frequentist(tree: xr.DataTree, names: list[str] | None, kind: str | None) -> pd.DataFrame:
    """θ̂, se, z, p and the fit's own interval (see :func:`summary`)."""
    ci = confidence_intervals(tree, kind)
    if names:
        ci = ci[ci["parameter"].str.split("[").str[0].isin(names)]
    chosen = str(ci["interval"].iloc[0])
    table = ci.set_index("parameter")[["estimate"]].rename(columns={"estimate": "coef"})
    table["std err"] = _std_errors(tree, chosen).reindex(table.index)
    if chosen in WALD_KINDS:
        # no test of θ = 0 where 0 is not a value θ can take (σ, a simplex)
        est = tree["estimate"]
        tested = [
            bool(est[label.split("[")[0]].attrs.get("zero_in_support", 1)) for label in table.index
        ]
        z = (table["coef"] / table["std err"]).where(tested)
        table["z"] = z
        table["P>|z|"] = [math.erfc(abs(v) / math.sqrt(2)) for v in z]
    table[LO] = ci["lower"].to_numpy(float)
    table[HI] = ci["upper"].to_numpy(float)
    table.index.name = None
    level = float(tree["confidence_interval"].attrs.get("level", LEVEL))
    estimator = str(settings(tree).get("estimator", "mle")).upper()
    table.attrs.update(kind="frequentist", interval=chosen, level=level)
    header = (
        _(
            "{estimator} θ̂ (coef), its standard error, z = θ̂/se and P>|z|, and its "
            "{level:.0%} {interval} interval [0.025, 0.975]"
        )
        if chosen in WALD_KINDS
        else _(
            "{estimator} θ̂ (coef), its standard error, and its {level:.0%} {interval} "
            "interval [0.025, 0.975]"
        )
    )
    interval = _(INTERVAL_NAMES[chosen]) if chosen in INTERVAL_NAMES else chosen
    table.attrs["header"] = header.format(estimator=estimator, level=level, interval=interval)
    return table.astype(float)


def _std_errors(tree: xr.DataTree, kind: str) -> pd.Series:
    """The standard errors stored with interval ``kind``, one per scalar parameter.

    Fits saved before the ``std_error`` group existed: half the width over 1.96 for
    a Wald interval, the sd of the draws for a bootstrap, NaN for a profile.
    """
    if "std_error" in tree.children:
        ds = tree["std_error"].to_dataset().sel(interval=kind, drop=True)
    elif kind in WALD_KINDS:
        from freqbayes.inference.probabilistic.frequentist import Z95

        ci = tree["confidence_interval"].to_dataset().sel(interval=kind, drop=True)
        ds = (ci.sel(bound="upper") - ci.sel(bound="lower")).astype(np.float64) / (2 * Z95)
    elif kind in ("bca", "percentile"):
        ds = tree["posterior"].to_dataset().astype(np.float64).std(("chain", "draw"), ddof=1)
    else:
        ds = tree["estimate"].to_dataset() * np.nan
    rows = {}
    for name, da in ds.data_vars.items():
        extra = [d for d in da.dims if d not in ("chain", "draw", "bound")]
        values = np.atleast_1d(np.asarray(da.values, dtype=float)).ravel()
        labels = [f"{name}[{c}]" for c in da.coords[extra[0]].values] if extra else [str(name)]
        rows.update(zip(labels, values, strict=True))
    return pd.Series(rows, dtype=float)


def print_fit(tree: xr.DataTree, title: str) -> None:
    """A fit's summary as ``freqbayes run`` and ``freqbayes summary`` print it."""
    table = summary(tree)
    print(f"-- {title}: {table.attrs['header']}")
    with pd.option_context("display.width", 200, "display.max_columns", 40):
        print(format_summary(table).to_string())


def summary_table(
    trees: Mapping[str, xr.DataTree], var_names: Sequence[str] | None = None
) -> pd.DataFrame:
    """:func:`summary` of several fits, one row per (parameter, method), for tables and plots.

    ``estimate`` is the posterior mean or θ̂; ``sd`` the posterior sd, ``std_err`` a
    frequentist fit's se; ``lo95``/``hi95`` the interval to report, named in ``interval``
    ("eti", "wald", "profile", "bca", ...; empty for a point estimate); ``eti95_lo``/
    ``eti95_hi`` the same for a posterior only; ``mcse`` and the MCSEs of the sd and the
    bounds (``mcse_sd``, ``mcse_lo95``, ``mcse_hi95``) round them (``format_table``); z
    and p for Wald intervals; r̂ and bulk ESS; seconds.
    """
    frames = []
    for method, tree in trees.items():
        s = summary(tree, var_names)
        get = lambda c, s=s: s[c].to_numpy(float) if c in s else np.full(len(s), np.nan)  # noqa: E731
        posterior = s.attrs["kind"] == "posterior"
        lo, hi = get(LO), get(HI)
        nan = np.full(len(s), np.nan)
        frames.append(
            pd.DataFrame(
                {
                    "parameter": s.index.astype(str),
                    "method": method,
                    "estimate": get("mean") if posterior else get("coef"),
                    "sd": get("sd"),
                    "std_err": get("std err"),
                    "mcse": get("mcse"),
                    "eti95_lo": lo if posterior else nan,
                    "eti95_hi": hi if posterior else nan,
                    "lo95": lo,
                    "hi95": hi,
                    "interval": s.attrs["interval"],
                    "z": get("z"),
                    "p": get("P>|z|"),
                    "r_hat": get("r_hat"),
                    "ess_bulk": get("ess_bulk"),
                    "mcse_sd": get("mcse_sd"),
                    "mcse_lo95": get("mcse_lo"),
                    "mcse_hi95": get("mcse_hi"),
                    "seconds": float(tree.attrs.get("wall_time_s", np.nan)),
                }
            )
        )
        if s.attrs["kind"] == "point":
            frames[-1]["estimate"] = get("estimate")
    return pd.concat(frames, ignore_index=True)


def confidence_intervals(tree: xr.DataTree, kind: str | None = None) -> pd.DataFrame:
    """A frequentist fit's estimate and 95% confidence interval (its first kind, or ``kind``).

    One row per scalar parameter, named as ArviZ names them (``beta[age]``).
    """
    ci = tree["confidence_interval"].to_dataset()
    est = tree["estimate"].to_dataset()
    rows = []
    for name in ci.data_vars:
        da = ci[name]
        chosen = kind or str(da.coords["interval"].values[0])
        lo = np.atleast_1d(da.sel(interval=chosen, bound="lower").values).ravel()
        hi = np.atleast_1d(da.sel(interval=chosen, bound="upper").values).ravel()
        extra = [d for d in da.dims if d not in ("interval", "bound")]
        labels = [f"{name}[{c}]" for c in da.coords[extra[0]].values] if extra else [str(name)]
        values = np.atleast_1d(est[name].values).ravel()
        for label, e, a, b in zip(labels, values, lo, hi, strict=True):
            rows.append(
                {"parameter": label, "interval": chosen, "estimate": e, "lower": a, "upper": b}
            )
    return pd.DataFrame(rows)


def print_summary(model: str, dataset: Any, seed: int, fits: dict[str, Any]) -> None:
    """What ``freqbayes run`` prints: each fit's :func:`summary`, its diagnostics, warnings.

    The numbers are those ``freqbayes summary FIT.nc`` and ``freqbayes.summary(tree)``
    give for the same fit, printed by the same function.
    """
    print(
        "\n== "
        + _("{model} on {data} (n = {n}); seed {seed}").format(
            model=model, data=dataset.name, n=dataset.n, seed=seed
        )
    )
    if not fits:
        return
    first = next(iter(fits.values()))
    used = json.loads(first.attrs.get("priors_described", "{}"))
    if used:
        described = "; ".join(f"{k} ~ {v}" for k, v in used.items())
        print(_("priors: {priors}").format(priors=described))
    for method, tree in fits.items():
        print_fit(tree, method)
        d = diagnostics(tree)
        parts = [_("{seconds:.2f} s").format(seconds=tree.attrs["wall_time_s"])]
        if "divergences" in d:
            parts.append(_("{count} divergences").format(count=d["divergences"]))
            parts.append(_("{count} max-tree-depth hits").format(count=d["max_tree_depth_hits"]))
        if "converged" in d:
            parts.append(_("converged") if d["converged"] else _("NOT converged"))
        print(f"{method}: " + ", ".join(parts))
        for warning in warnings(tree):
            print(_("warning: {reason}").format(reason=f"{model}/{method}: {warning}"))
