"""Saved fits: read, summarise, compare by PSIS-LOO, plot, and predict on new rows.

What ``freqbayes summary|compare|plot|predict FIT.nc ...`` do, as functions that
return tables and write files (the command line prints them). Every problem a user
can cause (a file that is not a fit, a plot a fit cannot have, a point estimate
given to PSIS-LOO, new rows without a feature) is one ``ValueError`` naming it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from freqbayes.i18n import _
from freqbayes.inference.diagnostics import caveat, diagnostics, is_point, settings, warnings
from freqbayes.plot_kinds import PLOT_KINDS

#: Most panels in one figure (a pair plot of 20 parameters has 400).
MAX_PANELS = 400

#: Pareto k above which PSIS-LOO's estimate for an observation is unreliable (Vehtari et al.).
PARETO_K_MAX = 0.7


@contextmanager
def without_lazy_jax() -> Iterator[None]:
    """Hide the lazy placeholders of JAX and NumPyro while ArviZ computes on numpy arrays.

    ``import arviz_base`` puts placeholders named ``jax`` and ``numpyro`` in
    ``sys.modules`` that import the real package when touched. SciPy's array-API helpers
    ask whether an array is a JAX array by looking ``jax`` up there and touching it, so
    PSIS-LOO (``scipy.special.logsumexp``) loaded all of JAX. Hidden, SciPy answers "no"
    for numpy arrays (and caches that answer, which stays right). Each placeholder is put
    back afterwards unless the real package was imported meanwhile. Does nothing when
    JAX is already loaded. Only around code that imports no JAX: a placeholder that
    finds the real package loaded meanwhile refuses to load (``from_numpyro`` would fail).
    """
    import arviz_base  # noqa: F401  (plants the placeholders, once per process)

    hidden = {
        name: sys.modules.pop(name)
        for name in ("jax", "numpyro")
        if type(sys.modules.get(name)).__name__ == "_LazyModule"
    }
    try:
        yield
    finally:
        for name, module in hidden.items():
            sys.modules.setdefault(name, module)


def read_fit(path: str | Path) -> xr.DataTree:
    """A fit saved by freqbayes (netCDF), loaded into memory; anything else is refused."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such fit {str(path)!r}")
    try:
        tree = xr.open_datatree(path, engine="h5netcdf").load()
    except (OSError, ValueError) as err:
        raise ValueError(f"{path}: not a netCDF fit ({str(err).splitlines()[0]})") from None
    if "method" not in tree.attrs or "posterior" not in tree.children:
        raise ValueError(f"{path}: not a freqbayes fit (no method attr or posterior group)")
    return tree


def names_for(paths: Sequence[str | Path]) -> list[str]:
    """Short unique labels: the file stems (numbered where two are the same)."""
    stems = [Path(p).stem for p in paths]
    return [s if stems.count(s) == 1 else f"{s}#{i + 1}" for i, s in enumerate(stems)]


def summary(tree: xr.DataTree) -> tuple[pd.DataFrame, list[str]]:
    """:func:`freqbayes.summaries.summary` of a fit, and its diagnostics lines.

    The table is the one ``freqbayes run`` printed for the fit (its ``attrs["header"]``
    says what the columns are); the first line names the fit.
    """
    from freqbayes.summaries import summary as fit_summary

    table = fit_summary(tree)
    lines = []
    d = diagnostics(tree)
    attrs = tree.attrs
    lines.append(
        _("{model}/{method} on {data} (n = {n}), seed {seed}, {seconds:.2f} s").format(
            model=attrs.get("model"),
            method=attrs.get("method"),
            data=attrs.get("dataset"),
            n=attrs.get("n_obs"),
            seed=attrs.get("seed"),
            seconds=float(attrs.get("wall_time_s", np.nan)),
        )
    )
    if "r_hat_max" in d:
        lines.append(
            _("r̂ max {r_hat:.3f}; bulk ESS min {ess:.0f} over {chains} chains").format(
                r_hat=d["r_hat_max"], ess=d["ess_bulk_min"], chains=d["chains"]
            )
        )
    if "divergences" in d:
        lines.append(
            _("{divergences} divergences; {hits} max-tree-depth hits").format(
                divergences=d["divergences"], hits=d["max_tree_depth_hits"]
            )
        )
    stats = tree.children.get("sample_stats")
    if stats is not None and "acceptance_rate" in stats:
        target = settings(tree).get("target_accept_prob")
        rate = float(stats["acceptance_rate"].mean())
        lines.append(
            _("mean acceptance rate {rate:.3f} (target {target})").format(rate=rate, target=target)
            if target
            else _("mean acceptance rate {rate:.3f}").format(rate=rate)
        )
    if "converged" in d:
        lines.append(_("optimiser converged") if d["converged"] else _("optimiser NOT converged"))
    lines += [_("warning: {reason}").format(reason=w) for w in warnings(tree)]
    return table, lines


def compare(trees: Mapping[str, xr.DataTree]) -> tuple[pd.DataFrame, list[str]]:
    """PSIS-LOO comparison (``az.compare``) of fits to the same data, and Pareto-k warnings."""
    import arviz_stats as az

    if len(trees) < 2:
        raise ValueError("compare: give two fits or more")
    for name, tree in trees.items():
        if is_point(tree) or "log_likelihood" not in tree.children:
            why = "a point estimate" if is_point(tree) else "saved without --pointwise draws"
            raise ValueError(
                f"compare: {name} ({tree.attrs.get('method')}) is {why}: PSIS-LOO needs "
                "pointwise log-likelihoods of posterior draws (fit with nuts, laplace, svi, ...)"
            )
    observed = [tree["observed_data"].to_dataset() for tree in trees.values()]
    first = next(iter(trees))
    for name, obs in zip(trees, observed, strict=True):
        same = set(obs.data_vars) == set(observed[0].data_vars) and all(
            np.array_equal(obs[v].values, observed[0][v].values) for v in obs.data_vars
        )
        if not same:
            raise ValueError(f"compare: {name} and {first} were fitted to different data")
    loos = {name: az.loo(tree, pointwise=True) for name, tree in trees.items()}
    table = az.compare(loos, round_to="none")  # from these: PSIS-LOO once per fit
    lines = []
    for name, loo in loos.items():
        k = np.asarray(loo.pareto_k).ravel()
        bad = int(np.sum(k > PARETO_K_MAX))
        if bad:
            lines.append(
                _(
                    "warning: {name}: {bad} of {total} observations have Pareto k > {limit} "
                    "(max {max:.2f}): PSIS-LOO is unreliable there"
                ).format(name=name, bad=bad, total=k.size, limit=PARETO_K_MAX, max=k.max())
            )
    return table, lines


def _ppc_function(tree: xr.DataTree) -> str:
    """The posterior predictive check that suits the outcome (ArviZ's advice).

    A rootogram of counts (integers), a PAVA calibration curve of 0/1 labels, else densities.
    """
    observed = next(iter(tree["observed_data"].data_vars.values()))
    if observed.dtype.kind in "iub":
        return "plot_ppc_rootogram"
    values = np.unique(np.asarray(observed))
    return "plot_ppc_pava" if np.isin(values, (0.0, 1.0)).all() else "plot_ppc_dist"


def _options(kind: str, data: Any) -> dict[str, Any]:
    """Per-kind arguments: a posterior predictive check draws at most the draws there are."""
    if kind != "ppc" or _ppc_function(data) != "plot_ppc_dist":
        return {}
    sizes = data["posterior_predictive"].sizes
    return {"num_samples": min(50, sizes["chain"] * sizes["draw"])}


def forest_plot(trees: Mapping[str, xr.DataTree], path: Path) -> Path:
    """The fits side by side in the report's own forest plot (:func:`freqbayes.figures.forest`).

    One row per (parameter, fit): a posterior's mean and 95% ETI, a frequentist fit's
    estimate and its confidence interval, a point estimate's diamond; a fit not to be
    trusted hatched grey with its reason (and named in a banner). The parameters share
    an axis unless their scales differ (:func:`freqbayes.figures.forest.one_axis`).
    """
    from freqbayes import figures as F
    from freqbayes._io import atomic_path
    from freqbayes.figures.forest import one_axis
    from freqbayes.summaries import summary_table

    caveats = {name: caveat(tree) for name, tree in trees.items()}
    table = summary_table(trees)
    table["warning"] = table["method"].map(caveats)
    fig = F.forest(table, _("Side by side"), _("value"), one_axis(table))
    untrusted = {k: v for k, v in caveats.items() if v}
    F.stamp(fig, untrusted)
    with atomic_path(path) as tmp:  # tight: the legend and the banner sit outside the axes
        fig.savefig(tmp, format=path.suffix.lstrip("."), dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def plot(
    trees: Mapping[str, xr.DataTree], kind: str, out: str | Path, fmt: str = "png"
) -> list[Path]:
    """Draw ``kind`` for each fit (``forest``: all fits in one figure); return the files written.

    Files are written atomically as ``OUT/<fit>-<kind>.<fmt>`` (``OUT/forest.<fmt>``). A
    fit not to be trusted (:func:`~.diagnostics.warnings`) is named with its reason
    in a banner across the figure's top; in the forest plot (:func:`forest_plot`, the
    report's own) it is hatched grey, its reason in the legend.
    """
    import matplotlib

    matplotlib.use("Agg")
    import arviz_plots as azp
    import matplotlib.pyplot as plt
    from arviz_base import rc_context

    from freqbayes._io import atomic_path
    from freqbayes.figures import stamp

    if kind not in PLOT_KINDS:
        raise ValueError(f"--kind: unknown {kind!r}; known: {', '.join(PLOT_KINDS)}")
    function, groups, draws = PLOT_KINDS[kind]
    for name, tree in trees.items():
        missing = [g for g in groups if g not in tree.children]
        if missing:
            raise ValueError(f"plot {kind}: {name} has no {', '.join(missing)} group")
        if draws and is_point(tree):
            raise ValueError(f"plot {kind}: {name} is a point estimate (one draw)")
        if kind == "energy" and "energy" not in tree["sample_stats"]:
            raise ValueError(f"plot energy: {name} has no energy (only NUTS records it)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if kind == "forest":  # all fits in one figure, the report's own (not ArviZ's)
        return [forest_plot(trees, out / f"forest.{fmt}")]
    draw = getattr(azp, function)
    if kind == "ppc":  # ArviZ's check for the kind of outcome: counts, labels, continuous
        draw = getattr(azp, _ppc_function(next(iter(trees.values()))))
    caveats = {name: caveat(tree) for name, tree in trees.items()}
    jobs = [
        (tree, out / f"{name}-{kind}.{fmt}", {name: caveats[name]} if caveats[name] else {})
        for name, tree in trees.items()
    ]
    written = []
    for data, path, untrusted in jobs:
        with rc_context({"plot.max_subplots": MAX_PANELS}):
            try:
                pc = draw(data, backend="matplotlib", **_options(kind, data))
            except ValueError as err:
                if "subplots" not in str(err):
                    raise
                raise ValueError(
                    f"plot {kind}: {path.stem}: too many panels for one figure; "
                    f"({str(err).split(',')[0]})"
                ) from None
        stamp(pc.viz.ds["figure"].item(), untrusted)
        with atomic_path(path) as tmp:  # tight: the banner sits above the figure's top
            pc.savefig(tmp, **({"bbox_inches": "tight"} if untrusted else {}))
        plt.close("all")
        written.append(path)
    return written


def report(trees: Mapping[str, xr.DataTree], out: str | Path) -> Path:
    """A self-contained HTML page (and Markdown) of any saved fits: tables, diagnostics, plots.

    One section per fit (its summary table and diagnostics; trace, posterior
    predictive, prior against posterior and energy plots where the fit has them),
    then the fits side by side (a forest plot, and PSIS-LOO when two or more
    posteriors of the same data can be compared). A fit not to be trusted
    (:func:`~.diagnostics.warnings`) is marked in its section, its table rows
    and its figures, and in the side-by-side section. Returns the HTML file.
    """
    from freqbayes.showcase.report import Section, render

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sections = []
    caveats = {}
    for name, tree in trees.items():
        table, lines = summary(tree)
        lines.insert(1, table.attrs["header"])
        why = caveats[name] = caveat(tree)
        if why:  # every row of a fit not to be trusted says so (greyed in the page)
            table = table.assign(warning=why)
        rel = f"{name}-summary.csv"
        table.reset_index(names="parameter").to_csv(out / rel, index=False, float_format="%.10g")
        figures = []
        for kind, (_function, groups, draws) in PLOT_KINDS.items():
            if kind in ("forest", "pair", "rank") or (draws and is_point(tree)):
                continue
            if all(g in tree.children for g in groups) and (
                kind != "energy" or "energy" in tree["sample_stats"]
            ):
                (path,) = plot({name: tree}, kind, out)
                figures.append(path.name)
        sections.append(
            Section(
                name,
                name,
                " · ".join(lines),
                figures=figures,
                tables=[rel],
                warnings=warnings(tree),
            )
        )
    (forest,) = plot(trees, "forest", out)
    marked = [f"{k}: {why}" for k, why in caveats.items() if why]
    side = Section(
        "side-by-side",
        _("Side by side"),
        _("Every fit's estimates."),
        figures=[forest.name],
        warnings=marked,
    )
    comparable = {k: t for k, t in trees.items() if not is_point(t) and "log_likelihood" in t}
    if len(comparable) >= 2:
        try:
            table, lines = compare(comparable)
        except ValueError as err:  # fits of different data: say so in the page
            side.text += " " + _("Not compared by PSIS-LOO: {error}.").format(error=err)
        else:
            table.reset_index(names="fit").to_csv(out / "compare.csv", index=False)
            side.tables.append("compare.csv")
            side.text += " " + _("PSIS-LOO (az.compare): {warnings}").format(
                warnings=" ".join(lines) or _("no Pareto-k warning.")
            )
    sections.append(side)
    names = ", ".join(f"{k} ({t.attrs.get('method')})" for k, t in trees.items())
    intro = _("Fits: {names}").format(names=names)
    _md, page = render(out, sections, title=_("freqbayes: saved fits"), intro=intro)
    return page
