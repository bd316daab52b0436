"""What can go wrong with a fit, and the one rule that says when it is not to be trusted.

:func:`warnings` is the rule used everywhere a fit is shown (the command line, the
report's tables, forest plots and prose, the saved-fit report, SBC): non-finite draws,
r̂ > 1.01 or bulk ESS below 100 per chain for Markov chains (not for independent draws:
Laplace, SVI, Wald), divergences, tree-depth hits, failed refits, no convergence.
:func:`caveat` says it in a few words; :func:`unusable` is the stronger rule by which
``freqbayes run`` exits 3. Imports nothing of the rest of the package.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import xarray as xr

from freqbayes.i18n import _

#: Below these a posterior's draws are flagged (Vehtari et al., 2021: r̂ ≤ 1.01, ESS ≥ 100/chain).
R_HAT_MAX = 1.01
ESS_PER_CHAIN_MIN = 100

#: Beyond these a posterior's draws are unusable, not merely flagged (:func:`unusable`).
R_HAT_UNUSABLE = 1.1
DIVERGENT_UNUSABLE = 0.1


def is_point(tree: xr.DataTree) -> bool:
    """A point estimate: one chain of one draw."""
    sizes = tree["posterior"].sizes
    return sizes["chain"] * sizes["draw"] == 1


def is_frequentist(tree: xr.DataTree) -> bool:
    """A fit that reports θ̂ and confidence intervals (Wald, profile, bootstrap)."""
    return "confidence_interval" in tree.children


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
    computed. Empty for a point estimate, a single chain or a frequentist fit (independent
    draws: a Wald fit's r̂ of 1.013 on 2 × 200 of them is noise, not a warning).
    """
    if DRAW_DIAGNOSTICS in tree.attrs:
        return dict(json.loads(tree.attrs[DRAW_DIAGNOSTICS]))
    if (
        is_point(tree)
        or is_frequentist(tree)
        or tree.attrs.get("independent_draws")
        or tree["posterior"].sizes["chain"] < 2
    ):
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


def non_finite(tree: xr.DataTree) -> np.ndarray:
    """The number of draws in each chain with a NaN or ±inf in any parameter."""
    post = tree["posterior"]
    chains, draws = post.sizes["chain"], post.sizes["draw"]
    bad = np.zeros((chains, draws), bool)
    for da in post.data_vars.values():
        values = np.asarray(da.transpose("chain", "draw", ...)).reshape(chains, draws, -1)
        if values.dtype.kind in "fc":
            bad |= ~np.isfinite(values).all(axis=2)
    return bad.sum(axis=1)


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
    per_chain = non_finite(tree)
    if per_chain.any():
        which = ", ".join(
            _("chain {chain} ({bad} of {draws})").format(chain=c, bad=k, draws=draws)
            for c, k in zip(post["chain"].values, per_chain, strict=True)
            if k
        )
        found = _("non-finite draws (NaN or inf) in {bad} of {chains} chains, {which}")
        out.append(
            _line(found.format(bad=int((per_chain > 0).sum()), chains=chains, which=which),
                  _("the fit failed"))
        )  # fmt: skip
    if d.get("r_hat_max", 0.0) > R_HAT_MAX:
        found = _("r̂ up to {r_hat} (> {limit})").format(
            r_hat=f"{d['r_hat_max']:.3f}", limit=R_HAT_MAX
        )
        out.append(_line(found, _("the chains disagree")))
    if "ess_bulk_min" in d and d["ess_bulk_min"] < ESS_PER_CHAIN_MIN * d["chains"]:
        found = _("bulk ESS down to {ess} (< {limit} per chain)").format(
            ess=f"{d['ess_bulk_min']:.0f}", limit=ESS_PER_CHAIN_MIN
        )
        out.append(_line(found, _("too few effective draws")))
    if d.get("divergences", 0):
        found = _("{n} divergent transitions").format(n=d["divergences"])
        out.append(_line(found, _("the posterior may be biased")))
    if d.get("max_tree_depth_hits", 0):
        out.append(_("{n} draws hit the maximum tree depth").format(n=d["max_tree_depth_hits"]))
    failed = settings(tree).get("replicates_failed", 0)
    if failed:
        total = settings(tree)["num_replicates"]
        out.append(
            _("{failed} of {total} bootstrap refits failed and were left out").format(
                failed=failed, total=total
            )
        )
    if d.get("converged") is False:
        out.append(_("the optimisation did not converge (kept on request)"))
    return out


def _line(found: str, meaning: str) -> str:
    """A warning: what was found, then what it means (:func:`caveat` keeps the first)."""
    return f"{found}: {meaning}"


def unusable(tree: xr.DataTree) -> list[str]:
    """Why a posterior's draws cannot be used at all (empty when they can).

    Non-finite draws, r̂ above :data:`R_HAT_UNUSABLE` (or NaN), or more than
    :data:`DIVERGENT_UNUSABLE` of the transitions divergent; never a point estimate or a
    frequentist fit. ``freqbayes run`` then exits 3 unless ``--allow-unconverged``.
    """
    if is_point(tree) or is_frequentist(tree):
        return []
    out = []
    post = tree["posterior"]
    bad = int(non_finite(tree).sum())
    if bad:
        out.append(f"{bad} non-finite draws")
    d = diagnostics(tree)
    if "r_hat_max" in d and not d["r_hat_max"] <= R_HAT_UNUSABLE:
        out.append(f"r̂ {d['r_hat_max']:.3g} > {R_HAT_UNUSABLE}")
    total = post.sizes["chain"] * post.sizes["draw"]
    if d.get("divergences", 0) > DIVERGENT_UNUSABLE * total:
        out.append(
            f"{d['divergences']} of {total} transitions divergent (> {DIVERGENT_UNUSABLE:.0%})"
        )
    return out


def caveat(tree: xr.DataTree) -> str:
    """Why a fit is not to be trusted, in a few words (:func:`warnings` shortened); "" if it is.

    What a table's ``warning`` column, a forest plot's legend and the report's prose say
    of a marked fit, e.g. "r̂ up to 1.797 (> 1.01); bulk ESS down to 6 (< 100 per chain)".
    """
    return "; ".join(line.split(": ")[0] for line in warnings(tree))
