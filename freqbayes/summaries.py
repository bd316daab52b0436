"""Numbers about fits: one table for any set of fits, their diagnostics and warnings.

Used by the command line, the report and the notebooks, so that a fit is
summarised the same way everywhere: ``az.summary`` with 95% equal-tailed
intervals, r̂ and bulk ESS for draws, nothing of the kind for a point estimate.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

#: Below these a posterior's draws are flagged (Vehtari et al., 2021: r̂ ≤ 1.01, ESS ≥ 100/chain).
R_HAT_MAX = 1.01
ESS_PER_CHAIN_MIN = 100


def is_point(tree: xr.DataTree) -> bool:
    """A point estimate: one chain of one draw."""
    sizes = tree["posterior"].sizes
    return sizes["chain"] * sizes["draw"] == 1


def summary_table(
    trees: Mapping[str, xr.DataTree], var_names: Sequence[str] | None = None
) -> pd.DataFrame:
    """One row per (parameter, method): estimate, sd, 95% intervals, r̂, bulk ESS, seconds.

    Posteriors come from ``az.summary``; a point estimate (one draw) has no sd, no
    interval and no diagnostics (NaN). ``eti95_lo``/``eti95_hi`` are the draws'
    equal-tailed interval; ``lo95``/``hi95`` the interval to report: the same for a
    posterior (``interval`` = "eti"), the confidence interval of a frequentist fit
    (``interval`` = "wald", "profile", "bca", ...), whose ``estimate`` is then θ̂.
    """
    import arviz_stats as az  # not the arviz umbrella: it imports matplotlib

    frames = []
    for method, tree in trees.items():
        point = is_point(tree)
        s = az.summary(
            tree,
            var_names=list(var_names) if var_names else None,
            kind="stats" if point else "all",
            round_to="none",
            ci_kind="eti",
            ci_prob=0.95,
        )
        nan = np.full(len(s), np.nan)
        estimate = s["mean"].to_numpy(float)
        lo = nan if point else s["eti95_lb"].to_numpy(float)
        hi = nan if point else s["eti95_ub"].to_numpy(float)
        interval = "" if point else "eti"
        if "confidence_interval" in tree.children:
            ci = confidence_intervals(tree).set_index("parameter").reindex(s.index.astype(str))
            estimate, lo, hi = (ci[c].to_numpy(float) for c in ("estimate", "lower", "upper"))
            interval = str(ci["interval"].iloc[0])
        frames.append(
            pd.DataFrame(
                {
                    "parameter": s.index.astype(str),
                    "method": method,
                    "estimate": estimate,
                    "sd": nan if point else s["sd"].to_numpy(float),
                    "eti95_lo": nan if point else s["eti95_lb"].to_numpy(float),
                    "eti95_hi": nan if point else s["eti95_ub"].to_numpy(float),
                    "lo95": lo,
                    "hi95": hi,
                    "interval": interval,
                    "r_hat": nan if point else s["r_hat"].to_numpy(float),
                    "ess_bulk": nan if point else s["ess_bulk"].to_numpy(float),
                    "seconds": float(tree.attrs.get("wall_time_s", np.nan)),
                }
            )
        )
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


def settings(tree: xr.DataTree) -> dict[str, Any]:
    """The settings a fit recorded (its ``settings`` attr)."""
    return json.loads(tree.attrs.get("settings", "{}"))


#: The attr in which a sampler keeps :func:`draw_diagnostics` of its draws (JSON).
DRAW_DIAGNOSTICS = "draw_diagnostics"


def draw_diagnostics(tree: xr.DataTree) -> dict[str, Any]:
    """r̂ (largest), bulk ESS (smallest) and the number of chains of a fit's draws.

    Read from the ``draw_diagnostics`` attr when the sampler stored it (NUTS does, at
    fit time, so that its warning, the lessons and the summaries do not compute them
    again: 4.7 s for the 3,003 parameters of the horseshoe at d = 1,000); else
    computed. Empty for a point estimate or a single chain.
    """
    if DRAW_DIAGNOSTICS in tree.attrs:
        return dict(json.loads(tree.attrs[DRAW_DIAGNOSTICS]))
    if is_point(tree) or tree["posterior"].sizes["chain"] < 2:
        return {}
    import arviz_stats as az  # not the arviz umbrella: it imports matplotlib

    # in float64: a heavy-tailed float32 draw (an inverse-gamma scale near 1e10)
    # overflows in ArviZ's variance of the variance and floods stderr with warnings.
    # r̂ and bulk ESS only, not az.summary's tail ESS and MCSEs (0.39 s against
    # 0.62 s for 4 × 1000 draws of 281 parameters)
    posterior = tree["posterior"].to_dataset().astype(np.float64)
    r_hat, ess = az.rhat(posterior), az.ess(posterior, method="bulk")
    return {
        "r_hat_max": max(float(np.nanmax(v)) for v in r_hat.data_vars.values()),
        "ess_bulk_min": min(float(np.nanmin(v)) for v in ess.data_vars.values()),
        "chains": int(tree["posterior"].sizes["chain"]),
    }


def diagnostics(tree: xr.DataTree) -> dict[str, Any]:
    """What can go wrong with a fit, as numbers: r̂, ESS, divergences, tree-depth hits.

    Keys present only where they apply: ``r_hat_max``, ``ess_bulk_min`` (draws from
    several chains; :func:`draw_diagnostics`), ``divergences``,
    ``max_tree_depth_hits`` (NUTS), ``converged`` (optimisers and SVI).
    """
    out: dict[str, Any] = draw_diagnostics(tree)
    if "sample_stats" in tree.children:
        stats = tree["sample_stats"]
        if "diverging" in stats:
            out["divergences"] = int(stats["diverging"].sum())
        if "reached_max_tree_depth" in stats:
            out["max_tree_depth_hits"] = int(stats["reached_max_tree_depth"].sum())
    if "converged" in settings(tree):
        out["converged"] = bool(settings(tree)["converged"])
    return out


def warnings(tree: xr.DataTree) -> list[str]:
    """One line per diagnostic that says the draws (or the optimum) cannot be trusted.

    The one rule of the library: a fit with any line here is marked wherever it is shown
    (:func:`caveat`). Non-finite draws (NaN or ±inf in any chain), r̂ > 1.01, bulk ESS
    below 100 per chain (400 for four chains), divergences or tree-depth hits (NUTS),
    failed bootstrap refits, an optimiser that did not converge.
    """
    d = diagnostics(tree)
    out = []
    post = tree["posterior"]
    chains, draws = post.sizes["chain"], post.sizes["draw"]
    bad = np.zeros((chains, draws), bool)
    for da in post.data_vars.values():
        values = np.asarray(da.transpose("chain", "draw", ...)).reshape(chains, draws, -1)
        if values.dtype.kind in "fc":
            bad |= ~np.isfinite(values).all(axis=2)
    if bad.any():
        per_chain = bad.sum(axis=1)
        which = ", ".join(
            f"chain {c} ({k} of {draws})"
            for c, k in zip(post["chain"].values, per_chain, strict=True)
            if k
        )
        out.append(
            f"non-finite draws (NaN or inf) in {int((per_chain > 0).sum())} of {chains} "
            f"chains, {which}: the fit failed"
        )
    if d.get("r_hat_max", 0.0) > R_HAT_MAX:
        out.append(f"r̂ up to {d['r_hat_max']:.3f} (> {R_HAT_MAX}): the chains disagree")
    if "ess_bulk_min" in d and d["ess_bulk_min"] < ESS_PER_CHAIN_MIN * d["chains"]:
        out.append(
            f"bulk ESS down to {d['ess_bulk_min']:.0f} (< {ESS_PER_CHAIN_MIN} per chain): "
            "too few effective draws"
        )
    if d.get("divergences", 0):
        out.append(f"{d['divergences']} divergent transitions: the posterior may be biased")
    if d.get("max_tree_depth_hits", 0):
        out.append(f"{d['max_tree_depth_hits']} draws hit the maximum tree depth")
    failed = settings(tree).get("replicates_failed", 0)
    if failed:
        total = settings(tree)["num_replicates"]
        out.append(f"{failed} of {total} bootstrap refits failed and were left out")
    if d.get("converged") is False:
        out.append("the optimisation did not converge (kept on request)")
    return out


def caveat(tree: xr.DataTree) -> str:
    """Why a fit is not to be trusted, in a few words (:func:`warnings` shortened); "" if it is.

    What a table's ``warning`` column, a forest plot's legend and the report's prose say
    of a marked fit, e.g. "r̂ up to 1.797 (> 1.01); bulk ESS down to 6 (< 100 per chain)".
    """
    return "; ".join(line.split(": ")[0] for line in warnings(tree))


def print_summary(model: str, dataset: Any, seed: int, fits: dict[str, Any]) -> None:
    """Side-by-side estimates (mean, sd; r̂ and bulk ESS for draws) and one line per warning."""
    print(f"\n== {model} on {dataset.name} (n = {dataset.n}); seed {seed}")
    if not fits:
        return
    first = next(iter(fits.values()))
    used = json.loads(first.attrs.get("priors_described", "{}"))
    if used:
        print("priors: " + "; ".join(f"{k} ~ {v}" for k, v in used.items()))
    long = summary_table(fits)
    columns = {}
    for method in fits:
        rows = long[long["method"] == method].set_index("parameter")
        columns[(method, "mean")] = rows["estimate"]
        columns[(method, "sd")] = rows["sd"]
        if rows["lo95"].notna().any():
            columns[(method, "lo95")] = rows["lo95"]
            columns[(method, "hi95")] = rows["hi95"]
        if not is_point(fits[method]):
            columns[(method, "r_hat")] = rows["r_hat"]
            columns[(method, "ess")] = rows["ess_bulk"]
    table = pd.DataFrame(columns)
    with pd.option_context("display.width", 250, "display.max_columns", 60):
        print(table.to_string(float_format=lambda v: f"{v:.4g}", na_rep="-"))
    kinds = long.groupby("method", sort=False)["interval"].first()
    if kinds.any():
        said = ", ".join(
            f"{m}: {'equal-tailed credible' if k == 'eti' else k + ' confidence'}"
            for m, k in kinds.items()
            if k
        )
        print(f"lo95, hi95: the 95% interval ({said})")
    lines = []
    for method, tree in fits.items():
        d = diagnostics(tree)
        parts = [f"{tree.attrs['wall_time_s']:.2f} s"]
        if "divergences" in d:
            parts.append(f"{d['divergences']} divergences")
            parts.append(f"{d['max_tree_depth_hits']} max-tree-depth hits")
        if "converged" in d:
            parts.append("converged" if d["converged"] else "NOT converged")
        lines.append(f"{method}: " + ", ".join(parts))
    print("\n".join(lines))
    for method, tree in fits.items():
        for warning in warnings(tree):
            print(f"warning: {model}/{method}: {warning}")
