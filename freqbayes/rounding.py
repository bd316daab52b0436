"""How freqbayes prints a number: rounded by its own uncertainty, never to fixed figures.

:func:`format_number` is the one rule; :func:`format_summary` applies it to the
summary of one fit (:func:`freqbayes.summaries.summary`) and :func:`format_table`
to a table of several fits (:func:`freqbayes.summaries.summary_table`), as the
command line and the reports print them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

#: The columns of a 95% interval (statsmodels' names: the 2.5% and 97.5% points).
LO, HI = "[0.025", "0.975]"

#: Each printed column → the column of its uncertainty and the factor applied to it.
ROUNDED_BY = {
    "mean": ("mcse", 2.0),
    "sd": ("mcse_sd", 2.0),
    "mcse": ("mcse", 0.1),
    "coef": ("std err", 0.1),
    "std err": ("std err", 0.1),
}


def format_number(value: float, uncertainty: float) -> str:
    """``value`` shown down to the decimal place of the leading digit of ``uncertainty``.

    The uncertainty is 2 × MCSE for a Monte Carlo estimate (ArviZ's rule: the
    digits a rerun would keep) and se/10 for an estimate with standard error se (the
    se to two significant figures, the estimate to the same place). Without a usable
    uncertainty (NaN, 0, inf) six significant figures. Scientific notation beyond
    1e6 or below 1e-5.

    Examples
    --------
    >>> format_number(0.48462, 0.00653), format_number(-2.05123, 0.002)
    ('0.485', '-2.051')
    >>> format_number(1.000123e30, 2e26), format_number(123456.0, 200.0)
    ('1.0001e+30', '123500')
    """
    value, uncertainty = float(value), abs(float(uncertainty))
    if not math.isfinite(value):
        return str(value)
    if not (math.isfinite(uncertainty) and uncertainty > 0):
        return f"{value:.6g}"
    place = math.floor(math.log10(uncertainty))  # the last digit shown is 10**place
    magnitude = math.floor(math.log10(abs(value))) if value != 0 else place
    if -5 <= place and magnitude < 6:
        decimals = max(0, -place)
        rounded = round(value, -place) + 0.0  # + 0.0: no "-0.000"
        text = f"{rounded:.{decimals}f}"
        return "0" if float(text) == 0 and decimals == 0 else text
    digits = max(0, magnitude - place)
    return f"{value:.{digits}e}"


def format_r_hat(r: float) -> str:
    """r̂ to three decimals (1.004), or three significant figures when far off (1.2e+16)."""
    return f"{r:.3f}" if abs(r) < 10 else f"{r:.3g}"


def format_p(p: float) -> str:
    """A p-value: two significant figures, ``<1e-300`` where it underflows."""
    if not math.isfinite(p):
        return str(p)
    return "<1e-300" if p < 1e-300 else f"{p:.2g}"


def format_summary(table: pd.DataFrame) -> pd.DataFrame:
    """The printed form of :func:`summary`: strings, each number rounded by its uncertainty.

    Posterior mean, sd and interval ends by 2 × their MCSE; θ̂, its se and its
    interval by se/10; the MCSE to two significant figures; r̂ to three decimals,
    ESS whole, z to two decimals, p-values to two significant figures. The MCSEs of
    the sd and of the quantiles are used, not shown.
    """
    out = pd.DataFrame(index=table.index)
    for column in table.columns:
        if column in ("mcse_sd", "mcse_lo", "mcse_hi"):
            continue
        values = table[column].to_numpy(float)
        if column == "r_hat":
            out[column] = [format_r_hat(v) for v in values]
        elif column.startswith("ess"):
            out[column] = [str(int(v)) if math.isfinite(v) else str(v) for v in values]
        elif column == "z":
            out[column] = [f"{v:.2f}" for v in values]
        elif column == "P>|z|":
            out[column] = [format_p(v) for v in values]
        else:
            by, factor = ROUNDED_BY.get(column, (None, 1.0))
            if column in (LO, HI):
                posterior = "mcse_lo" in table.columns
                by = ("mcse_lo" if column == LO else "mcse_hi") if posterior else "std err"
                factor = 2.0 if posterior else 0.1
            u = table[by].to_numpy(float) * factor if by in table else np.full(len(values), np.nan)
            out[column] = [format_number(v, e) for v, e in zip(values, u, strict=True)]
    return out


#: summary_table's columns → the uncertainty that rounds them, per kind of row.
_TABLE_ROUNDING = {
    "estimate": ("mcse", "std_err"),
    "sd": ("mcse_sd", None),
    "std_err": (None, "std_err"),
    "eti95_lo": ("mcse_lo95", None),
    "eti95_hi": ("mcse_hi95", None),
    "lo95": ("mcse_lo95", "std_err"),
    "hi95": ("mcse_hi95", "std_err"),
}


def format_table(df: pd.DataFrame) -> pd.DataFrame:
    """Cells as the reports print them: summaries by :func:`format_number`.

    A fit's summary (the columns of :func:`~freqbayes.summaries.summary`) goes
    through :func:`format_summary`. In a :func:`~freqbayes.summaries.summary_table`
    the estimates and bounds are rounded by 2 × MCSE (posterior rows) or se/10
    (frequentist rows), MCSEs and se to two significant figures, r̂ to three
    decimals, ESS whole, z to two decimals, p to two significant figures; any other
    table's floats to four significant figures.
    """
    numbers = [c for c in df.columns if df[c].dtype.kind in "fi"]
    if {"coef", "std err"} <= set(df) or {"mean", "mcse"} <= set(df) or numbers == ["estimate"]:
        out = format_summary(df[numbers])  # one fit's summary, read back from its CSV
        for c in df.columns[::-1]:
            if c not in numbers:
                out.insert(0, c, df[c].astype(str))
        return out
    out = df.astype(object).copy()
    summary_like = {"estimate", "mcse", "std_err", "lo95", "hi95"} <= set(df.columns)
    for column in df.columns:
        if df[column].dtype.kind != "f":
            continue
        values = df[column].to_numpy(float)
        if summary_like and column in _TABLE_ROUNDING:
            mc, se = _TABLE_ROUNDING[column]
            nan = np.full(len(df), np.nan)
            u_mc = 2 * df[mc].to_numpy(float) if mc in df else nan
            u_se = df[se].to_numpy(float) / 10 if se in df else nan
            u = np.where(np.isfinite(u_mc), u_mc, u_se)
            out[column] = [_cell(v, e) for v, e in zip(values, u, strict=True)]
        elif summary_like and column.startswith("mcse"):
            out[column] = [_cell(v, v / 10) for v in values]
        elif summary_like and column == "r_hat":
            out[column] = ["–" if np.isnan(v) else format_r_hat(v) for v in values]
        elif summary_like and column == "z":
            out[column] = ["–" if np.isnan(v) else f"{v:.2f}" for v in values]
        elif summary_like and column.startswith("ess"):
            out[column] = ["–" if np.isnan(v) else str(int(v)) for v in values]
        elif summary_like and column == "p":
            out[column] = ["–" if np.isnan(v) else format_p(v) for v in values]
        else:
            out[column] = ["–" if np.isnan(v) else f"{v:.4g}" for v in values]
    return out


def _cell(value: float, uncertainty: float) -> str:
    return "–" if np.isnan(value) else format_number(value, uncertainty)
