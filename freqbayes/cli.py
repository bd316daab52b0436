"""The ``freqbayes`` command line: list what there is, fit models, save and compare fits.

JAX, NumPyro and ArviZ are imported only inside the commands, so ``--help``
stays instant.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

MODEL_NAMES = ("gaussian", "linear", "logistic")
METHOD_NAMES = ("mle", "map", "laplace", "svi", "svi-fullrank", "nuts")


def configure_jax(devices: int | None = None) -> None:
    """Set JAX up for the CLI before its first operation.

    One CPU device per core (so NUTS chains run in parallel) and the persistent
    compilation cache under ``$XDG_CACHE_HOME/freqbayes/jax`` (a second run of the
    same fit skips most compilation).
    """
    import jax

    try:
        jax.config.update("jax_num_cpu_devices", devices or os.cpu_count() or 1)
    except RuntimeError:  # JAX already running (e.g. main() called from Python): keep its devices
        pass
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "freqbayes" / "jax"
    jax.config.update("jax_compilation_cache_dir", str(cache))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)


def write_atomic(tree: Any, path: Path) -> None:
    """Write a DataTree to netCDF at ``path`` via a temporary file and a rename.

    A failure or an interruption leaves no partial file behind.
    """
    from freqbayes._io import atomic_path

    with atomic_path(path) as tmp:
        tree.to_netcdf(tmp, engine="h5netcdf")


def summary_table(fits: dict[str, Any]) -> Any:
    """Posterior mean and sd of every parameter, one column pair per method."""
    import arviz as az
    import pandas as pd

    columns = {}
    for method, tree in fits.items():
        stats = az.summary(tree, kind="stats", round_to="none", ci_kind="eti", ci_prob=0.95)
        columns[(method, "mean")] = stats["mean"]
        columns[(method, "sd")] = stats["sd"]
    return pd.DataFrame(columns)


def run_model(
    model: str,
    methods: Sequence[str],
    data_name: str | None,
    seed: int,
    out: Path | None,
    progress: bool,
) -> dict[str, Any]:
    """Fit ``model`` with each method; save each DataTree; print the side-by-side summary."""
    from tqdm.auto import tqdm

    from freqbayes import data as data_mod
    from freqbayes import inference
    from freqbayes.models import get_model

    spec = get_model(model)
    dataset = data_mod.load(data_name, model, uses_X=spec.uses_X)
    fits: dict[str, Any] = {}
    bar = tqdm(methods, desc=f"{model}", disable=not progress, file=sys.stderr)
    for method in bar:
        bar.set_postfix_str(method)
        try:
            tree = inference.fit(spec, dataset, method, seed=seed, progress=progress)
        except inference.SeparationError as err:
            print(f"{model}/{method}: no estimate: {err}", file=sys.stderr)
            continue
        fits[method] = tree
        if out is not None:
            write_atomic(tree, out / f"{model}-{method}.nc")
    print(f"\n== {model} on {dataset.name} (n = {dataset.n}); seed {seed}")
    if fits:
        import pandas as pd

        with pd.option_context("display.width", 200, "display.max_columns", 40):
            table = summary_table(fits).to_string(float_format=lambda v: f"{v:.4g}", na_rep="-")
            print(table)  # a point estimate has no sd: "-"
        times = ", ".join(f"{m} {t.attrs['wall_time_s']:.2f} s" for m, t in fits.items())
        print(f"wall time: {times}")
    return fits


def cmd_list(_: argparse.Namespace) -> int:
    """Print the models, methods and datasets."""
    from freqbayes.data import DATASETS, DEFAULT_DATASET

    print(
        "models:   " + ", ".join(f"{m} (default data: {DEFAULT_DATASET[m]})" for m in MODEL_NAMES)
    )
    print("methods:  " + ", ".join(METHOD_NAMES) + " (or 'all')")
    print("datasets: " + ", ".join(DATASETS) + ", or a CSV file with a header (target column 'y')")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Fit one model with the chosen methods, or run the whole showcase (``all``)."""
    if args.model != "all" and args.model not in MODEL_NAMES:
        raise ValueError(
            f"model: unknown model {args.model!r}; known: {', '.join(MODEL_NAMES)}, all"
        )
    if args.model == "all":
        if args.data is not None:
            raise ValueError("--data applies to one model; 'all' runs the showcase on bundled data")
        if args.method != "all":
            raise ValueError("--method applies to one model; 'all' runs every method")
        return run_showcase(args)
    if args.quick:
        raise ValueError("--quick applies to 'all' (the showcase)")
    configure_jax()
    from freqbayes.inference import parse_methods

    methods = parse_methods(args.method)
    progress = sys.stderr.isatty() and not args.no_progress
    out = args.out or Path("runs/fits")
    run_model(args.model, methods, args.data, args.seed, out, progress)
    print(f"\nfits saved under {out}/")
    return 0


def run_showcase(args: argparse.Namespace) -> int:
    """Every contrast of §5.5–5.11: fits, figures, tables and the report in one folder."""
    configure_jax()
    from freqbayes import showcase

    out = args.out or showcase.DEFAULT_OUT
    progress = sys.stderr.isatty() and not args.no_progress
    _, timings = showcase.run(out, seed=args.seed, quick=args.quick, progress=progress)
    print(timings.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    print(f"\nreport: {out / 'report.html'} (and report.md); figures, tables, fits under {out}/")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (no heavy imports)."""
    parser = argparse.ArgumentParser(
        prog="freqbayes",
        description="Frequentist and Bayesian fits side by side (Deep Learning §5.5–5.11).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list models, methods and datasets").set_defaults(func=cmd_list)
    run = sub.add_parser(
        "run", help="fit a model with one or more methods, or 'all': the whole showcase"
    )
    run.add_argument(
        "model",
        help=f"one of {', '.join(MODEL_NAMES)}, or 'all' (every contrast, with figures and report)",
    )
    run.add_argument("--method", default="all", help="comma-separated methods, or 'all' (default)")
    run.add_argument("--data", default=None, help="dataset name or CSV file (default: the model's)")
    run.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    run.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default: runs/fits for one model, runs/showcase for 'all')",
    )
    run.add_argument("--quick", action="store_true", help="'all' only: small runs (for tests)")
    run.add_argument("--no-progress", action="store_true", help="no progress bars")
    run.set_defaults(func=cmd_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``freqbayes`` command."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"freqbayes: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("freqbayes: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
