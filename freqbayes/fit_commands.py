"""The commands on saved fits: ``summary``, ``compare``, ``plot``, ``report``, ``predict``.

Each reads fits written by ``freqbayes run`` (netCDF DataTrees) and prints or
writes what :mod:`freqbayes.saved` computes; files are written atomically.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: pandas display for the tables printed.
WIDE = ("display.width", 200, "display.max_columns", 40)


def _light(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """``command`` on saved fits, without loading JAX (:func:`.saved.without_lazy_jax`)."""

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        from freqbayes.saved import without_lazy_jax

        with without_lazy_jax():
            return command(args)

    return run


def _fits(paths: list[str]) -> dict[str, Any]:
    from freqbayes.saved import names_for, read_fit

    return {name: read_fit(p) for name, p in zip(names_for(paths), paths, strict=True)}


@_light
def cmd_summary(args: argparse.Namespace) -> int:
    """Each fit's summary (the numbers ``run`` printed), then r̂, ESS, divergences, warnings."""
    import pandas as pd

    from freqbayes.rounding import format_summary
    from freqbayes.saved import summary

    for name, tree in _fits(args.fits).items():
        table, lines = summary(tree)
        print(f"== {name}: {lines[0]}")
        print(f"-- {tree.attrs.get('method')}: {table.attrs['header']}")
        with pd.option_context(*WIDE):
            print(format_summary(table).to_string())
        for line in lines[1:]:
            print(line)
    return 0


@_light
def cmd_compare(args: argparse.Namespace) -> int:
    """PSIS-LOO of two or more fits to the same data (``az.compare``), with Pareto-k warnings."""
    import pandas as pd

    from freqbayes.saved import compare

    table, lines = compare(_fits(args.fits))
    with pd.option_context(*WIDE):
        print(table.to_string(float_format=lambda v: f"{v:.4g}"))
    for line in lines:
        print(line)
    return 0


@_light
def cmd_plot(args: argparse.Namespace) -> int:
    """ArviZ plots of saved fits (``forest``: all of them in one figure)."""
    from freqbayes._io import check_out_dir
    from freqbayes.saved import plot

    fits = _fits(args.fits)
    check_out_dir(args.out)
    for path in plot(fits, args.kind, args.out, args.format):
        print(path)
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """Predictive draws for new rows: a CSV of per-row summaries, or the draws as netCDF."""
    import pandas as pd

    from freqbayes._io import write_datatree, write_text
    from freqbayes.inference.compilation import configure_jax
    from freqbayes.models import tables
    from freqbayes.saved import read_fit

    fit = read_fit(args.fit)
    data: Any = args.data
    if data.isdigit():
        data = int(data)
    elif Path(data).suffix.lower() in tables.TABLE_SUFFIXES or Path(data).is_file():
        data = tables.read_table(data)
    else:
        raise ValueError(f"--data: {data!r} is neither a CSV/Parquet file nor a number of rows")
    if args.out is not None and args.out.suffix not in (".csv", ".nc"):
        raise ValueError(f"--out: {args.out} must end in .csv (summaries) or .nc (draws)")
    configure_jax()
    from freqbayes.inference import predict

    pred = predict(fit, data, seed=args.seed)
    if args.out is not None and args.out.suffix == ".nc":
        write_datatree(pred, args.out)
        print(f"predictive draws: {args.out}")
        return 0
    da = next(iter(pred["posterior_predictive"].data_vars.values())).astype("float64")
    q = da.quantile([0.025, 0.975], dim=("chain", "draw")).values
    table = pd.DataFrame(
        {
            "mean": da.mean(("chain", "draw")).values,
            "sd": da.std(("chain", "draw")).values,
            "q2.5": q[0],
            "q97.5": q[1],
        }
    )
    table.index.name = "row"
    text = table.to_csv(float_format="%.6g")
    if args.out is None:
        print(text, end="")
    else:
        write_text(args.out, text)
        print(f"predictions: {args.out}")
    return 0


@_light
def cmd_report(args: argparse.Namespace) -> int:
    """A self-contained HTML page of saved fits: tables, diagnostics, plots, comparison."""
    from freqbayes._io import check_out_dir
    from freqbayes.saved import report

    fits = _fits(args.fits)
    check_out_dir(args.out)
    print(report(fits, args.out))
    return 0


def add_parsers(sub: Any) -> None:
    """The five subcommands on the main parser's subparsers."""
    from freqbayes.options import add_lang

    summary = sub.add_parser(
        "summary", help="the summary of saved fits (as 'run' printed it) and their diagnostics"
    )
    summary.add_argument("fits", nargs="+", help="fit files (.nc) written by 'freqbayes run'")
    summary.set_defaults(func=cmd_summary)

    comp = sub.add_parser("compare", help="compare saved fits by PSIS-LOO (az.compare)")
    comp.add_argument("fits", nargs="+", help="two or more fits to the same data")
    comp.set_defaults(func=cmd_compare)

    from freqbayes.plot_kinds import PLOT_KINDS

    plot = sub.add_parser("plot", help="ArviZ plots of saved fits")
    plot.add_argument("fits", nargs="+", help="fit files (.nc); forest puts them side by side")
    plot.add_argument("--kind", default="trace", help=f"one of {', '.join(PLOT_KINDS)}")
    plot.add_argument("--out", type=Path, default=Path("runs/plots"), help="output folder")
    plot.add_argument("--format", default="png", help="png (default), svg or pdf")
    add_lang(plot)
    plot.set_defaults(func=cmd_plot)

    rep = sub.add_parser("report", help="an HTML page of saved fits (tables, plots, LOO)")
    rep.add_argument("fits", nargs="+", help="fit files (.nc)")
    rep.add_argument("--out", type=Path, default=Path("runs/report"), help="output folder")
    add_lang(rep)
    rep.set_defaults(func=cmd_report)

    pred = sub.add_parser("predict", help="predictive draws for new rows from a saved fit")
    pred.add_argument("fit", help="a fit file (.nc)")
    pred.add_argument(
        "--data",
        required=True,
        help="new rows (CSV or Parquet; columns as the fit's features, or coded by its "
        "formula), or a number of new observations for a model without features",
    )
    pred.add_argument(
        "--out", type=Path, default=None, help="FILE.csv (per-row summaries) or FILE.nc (draws)"
    )
    pred.add_argument("--seed", type=int, default=0, help="seed of the draws")
    pred.set_defaults(func=cmd_predict)
