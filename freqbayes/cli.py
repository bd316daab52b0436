"""The ``freqbayes`` command line: list what there is, fit models, save and compare fits.

JAX, NumPyro and ArviZ are imported only inside the commands, so ``--help``
stays instant. Every failure is one line on stderr and a non-zero exit status:
2 for bad arguments or data or an --out in use (nothing is fitted), 1 when fitting or
writing failed, 3 for unusable draws (saved; ``--allow-unconverged`` accepts them), 130
on Ctrl-C and 143 on SIGTERM (no temporary file is left behind either way).

Longer than 400 lines: the parser of every command and option in one place; the work of
each command lives in its own module (fit_commands, saved, scheduler, launch, showcase).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from freqbayes import launch, scheduler
from freqbayes._io import STOP, Terminated, check_out_dir, check_stop
from freqbayes.i18n import _, language
from freqbayes.inference.registry import method_names
from freqbayes.manifest import (
    _now,
    claim_out,
    manifest_path,
    remove_previous_run,
    run_status,
    write_manifest,
)
from freqbayes.models.registry import MODELS
from freqbayes.options import (
    RUN_SETTINGS,
    add_lang,
    command_language,
    method_settings,
    parse_pointwise,
    parse_priors,
    positive_int,
    probability,
)

#: Exit statuses (3: a posterior's draws are unusable, without --allow-unconverged).
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNUSABLE = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143


def _on_sigterm(signum: int, frame: Any) -> None:
    """SIGTERM unwinds like Ctrl-C: flag it (checked again later) and raise at once."""
    STOP.set()
    raise Terminated


def _inputs_left_in_the_file(tree: Any, dataset: Any) -> Any:
    """``tree`` without ``constant_data`` when it repeats a big part of a data file.

    Beyond the pointwise groups' default bound (``POINTWISE_BUDGET``, 2·10⁷ values) the
    inputs of data read from a file are not stored again: writing the 10⁷ × 100 features
    of benchmarks/big_logistic.py took 9-14 s of a 53 s command, for a 4.4 GB file that
    repeated the data file (issue 27). The attr ``inputs_not_stored`` names the
    variables, their shapes, the file and its SHA-256.
    """
    from freqbayes.inference.probabilistic.datatree import POINTWISE_BUDGET

    if "sha256" not in dataset.attrs or "constant_data" not in tree.children:
        return tree
    inputs = tree["constant_data"].data_vars
    if sum(v.size for v in inputs.values()) <= POINTWISE_BUDGET:
        return tree
    shapes = ", ".join(f"{k} {' × '.join(map(str, v.shape))}" for k, v in inputs.items())
    kept = tree.drop_nodes("constant_data")
    kept.attrs["inputs_not_stored"] = (
        f"constant_data ({shapes}) is not stored: more than {POINTWISE_BUDGET:,} values, "
        f"all in {dataset.attrs.get('source', dataset.name)} (sha256 {dataset.attrs['sha256']})"
    )
    return kept


#: Data arrays of at least this many bytes: the command drops each fit's programs before
#: its DataTree is built (``release_programs``), since memory then matters more than
#: getting them again for a next method (a few tenths of a second each from the
#: persistent cache; compiled anew without it).
RELEASE_FROM_BYTES = 64 << 20


def run_model(
    model: str,
    methods: Sequence[str],
    dataset: Any,
    seed: int,
    out: Path,
    progress: bool,
    pointwise: str | int = "auto",
    settings: dict[str, dict[str, Any]] | None = None,
    priors: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Fit ``model`` with each method, save each DataTree and a manifest; print the summary.

    Returns the fits and, for each method without one or with unusable draws, why. A method
    whose estimate does not exist (the MLE under separation) or that fails (no convergence, a
    numerical error) is reported and skipped, not saved; unusable draws are saved.
    """
    from tqdm.auto import tqdm

    from freqbayes import inference
    from freqbayes._io import write_datatree
    from freqbayes.inference.diagnostics import unusable
    from freqbayes.models import data as data_mod
    from freqbayes.summaries import print_summary, store_summary

    spec = MODELS.get(model)
    record: dict[str, Any] = {
        "model": model,
        "data": {
            "name": dataset.name,
            "source": str(dataset.attrs.get("source", dataset.name)),
            "n": dataset.n,
            "columns": list(dataset.feature_names),
            "sha256": data_mod.fingerprint(dataset),
            **({"file_sha256": dataset.attrs["sha256"]} if "sha256" in dataset.attrs else {}),
        },
        "seed": seed,
        "pointwise": pointwise,
        "started": _now(),
        "methods": {},
        "status": "running",
    }
    removed = remove_previous_run(out, model)
    if removed:
        print(f"removed the files of an earlier {model} run: {', '.join(removed)}", file=sys.stderr)
    write_manifest(out, model, record)  # "running": what is being made, and from what
    fits: dict[str, Any] = {}
    failures: dict[str, str] = {}
    held = sum(getattr(getattr(dataset, k, None), "nbytes", 0) for k in ("y", "X"))
    release = {"release_programs": True} if held >= RELEASE_FROM_BYTES else {}
    bar = tqdm(methods, desc=f"{model}", disable=not progress, file=sys.stderr)
    try:
        for method in bar:
            check_stop()
            bar.set_postfix_str(method)
            try:
                with warnings.catch_warnings():  # the summary below prints them, once
                    warnings.simplefilter("ignore", RuntimeWarning)
                    tree = inference.fit(
                        spec,
                        method,
                        dataset,
                        seed=seed,
                        priors=priors,
                        progress=progress,
                        pointwise=pointwise,
                        **release,
                        **(settings or {}).get(method, {}),
                    )
            except inference.EstimateError as err:
                print(f"{model}/{method}: no estimate: {err}", file=sys.stderr)
                failures[method] = f"no estimate: {err}"
                record["methods"][method] = {"status": "no estimate", "reason": str(err)}
                continue
            except (RuntimeError, FloatingPointError, ArithmeticError) as err:
                print(f"{model}/{method}: failed: {err}", file=sys.stderr)
                failures[method] = f"failed: {err}"
                record["methods"][method] = {"status": "failed", "reason": str(err)}
                continue
            check_stop()
            name = f"{model}-{method}.nc"
            tree.attrs["data_sha256"] = record["data"]["sha256"]
            tree.attrs["run_started"] = record["started"]
            tree = _inputs_left_in_the_file(tree, dataset)
            store_summary(tree)  # ``freqbayes summary`` then needs no arviz_stats
            write_datatree(tree, out / name)
            fits[method] = tree
            record["methods"][method] = {"status": "ok", "file": name}
            why = "; ".join(unusable(tree))
            if why:
                print(f"{model}/{method}: unusable draws: {why}", file=sys.stderr)
                failures[method] = f"unusable: {why}"
                record["methods"][method] |= {"status": "unusable", "reason": why}
            write_manifest(out, model, record)  # a kill after this leaves the fit listed
        record["status"] = run_status(record["methods"])
    except BaseException:
        record["status"] = "interrupted"
        raise
    finally:
        record["finished"] = _now()
        write_manifest(out, model, record)
    print_summary(model, dataset, seed, fits)
    return fits, failures


def cmd_list(_args: argparse.Namespace) -> int:
    """Print the models (with the methods that apply), methods and datasets, a line each.

    Read from :mod:`freqbayes.listing` (no JAX) unless a plugin adds entries.
    """
    from freqbayes.listing import lines

    print("\n".join(lines()))
    return EXIT_OK


def _check_seed(seed: int) -> None:
    if not 0 <= seed < 2**63:
        raise ValueError(f"--seed must be an integer in [0, 2**63); got {seed}")


def cmd_run(args: argparse.Namespace) -> int:
    """Fit one model with the chosen methods, or run the whole showcase (``all``)."""
    if args.model != "all" and args.model not in MODELS:
        raise ValueError(
            f"model: unknown model {args.model!r}; known: {', '.join(MODELS.names())}, all"
        )
    _check_seed(args.seed)
    if args.model == "all":
        if args.data is not None:
            raise ValueError("--data applies to one model; 'all' runs the showcase on bundled data")
        for option in (
            "formula",
            "prior",
            "allow_unconverged",
            "processes",
            "stream",
            *RUN_SETTINGS,
        ):
            if getattr(args, option) not in (None, False):
                flag = "--" + option.replace("_", "-")
                raise ValueError(f"{flag} applies to one model; 'all' runs the showcase")
        if args.method != "all":
            raise ValueError("--method applies to one model; 'all' runs every method")
        return run_showcase(args)
    if args.quick:
        raise ValueError("--quick applies to 'all' (the showcase)")
    if args.format != "png":
        raise ValueError("--format applies to 'all' (the showcase's figures)")
    if args.workers is not None:
        raise ValueError("--workers applies to 'all' (the showcase's stages)")
    if args.scheduler is not None:
        raise ValueError("--scheduler applies to 'all' (the showcase's stages)")
    out = args.out or Path("runs/fits")
    method_names(args.method)  # an unknown name fails here, before JAX loads
    from freqbayes.inference import parse_methods

    spec = MODELS.get(args.model)
    methods = parse_methods(args.method, spec)
    settings = method_settings(methods, args)
    from freqbayes.models.probabilistic.scaling import one_pass

    with one_pass():  # a big table's column statistics read once, for the priors and the fits
        return _fit_and_save(args, spec, methods, settings, out)


def _fit_and_save(
    args: argparse.Namespace, spec: Any, methods: list[str], settings: dict, out: Path
) -> int:
    """:func:`cmd_run` for one model: check the data and priors, fit, write, report."""
    from freqbayes.models.probabilistic.scaling import forget
    from freqbayes.models.tables import as_dataset

    in_shares = launch.reads_in_shares(args.data, args.processes)
    if args.chunk_rows is not None and not args.stream:
        raise ValueError("--chunk-rows applies to --stream")
    if args.stream:  # one pass for the summaries; the method reads the chunks itself
        from freqbayes.inference.probabilistic.shares import read_streamed

        if args.data is None or (args.processes or 1) > 1:
            raise ValueError("--stream reads one Parquet table (--data) in one process")
        from freqbayes.inference import METHODS

        whole = [m for m in methods if METHODS.get(m).streams is None]
        if whole:
            raise ValueError(
                f"--stream: {', '.join(whole)} needs every row in memory; a table read in "
                "chunks is fitted by --method svi (or svi-fullrank) with --batch-size"
            )
        if args.batch_size is None:
            raise ValueError("--stream: set --batch-size, the rows of each SVI step (e.g. 1000)")
        if args.pointwise not in ("auto", "none"):
            raise ValueError("--pointwise: a table read in chunks stores no pointwise groups")
        check_out_dir(out)  # before the pass over the table
        rows = {} if args.chunk_rows is None else {"chunk_rows": args.chunk_rows}
        dataset = read_streamed(args.data, spec, args.formula, seed=args.seed, **rows)
        priors = parse_priors(args.prior, spec, spec.data_arguments(dataset))
        in_shares = False
    elif not in_shares:  # bad data fail here, before anything is written
        dataset = as_dataset(args.data, spec, args.formula)
        priors = parse_priors(args.prior, spec, spec.data_arguments(dataset))
    elif (args.processes or 1) > 1:  # the table's first piece checked here, the rest by each
        first = launch.first_rows(args.data, spec, args.formula)
        parse_priors(args.prior, spec, spec.data_arguments(first))
    check_out_dir(out)
    if (args.processes or 1) > 1:  # N processes share the rows (freqbayes/launch.py)
        dataset = first = None  # checked; each process reads the table itself
        forget()  # nor the column statistics' hold on it
        return launch.launch(args.argv, args.processes, out)
    from freqbayes.inference.compilation import configure_jax

    configure_jax(launch.local_devices())
    index = launch.initialize()
    if in_shares:  # a Parquet table: each process reads only its own rows
        dataset = launch.read_own_rows(args.data, spec, args.formula)
        priors = parse_priors(args.prior, spec, spec.data_arguments(dataset))
    if index > 0:  # only process 0 writes; the others' files are thrown away
        where = (launch.private_out(), False, args.pointwise, settings, priors)
        run_model(args.model, methods, dataset, args.seed, *where)
        return EXIT_OK
    with claim_out(out):  # one run at a time in a folder: a second one stops here
        progress = sys.stderr.isatty() and not args.no_progress
        fits, failures = run_model(
            args.model,
            methods,
            dataset,
            args.seed,
            out,
            progress,
            args.pointwise,
            settings=settings,
            priors=priors,
        )
    if not fits:
        none = _("no fit was made; nothing saved (manifest: {manifest})")
        print("\n" + none.format(manifest=manifest_path(out, args.model)))
        return EXIT_FAILED
    manifest = manifest_path(out, args.model).name
    saved = _("{count} fit(s) saved under {out}/ (manifest: {manifest})")
    print("\n" + saved.format(count=len(fits), out=out, manifest=manifest))
    failed = [m for m, why in failures.items() if why.startswith("failed")]
    bad = [m for m, why in failures.items() if why.startswith("unusable")]
    if bad and not (failed or args.allow_unconverged):
        return EXIT_UNUSABLE
    return EXIT_FAILED if failed else EXIT_OK


def run_showcase(args: argparse.Namespace) -> int:
    """Every contrast of §5.5–5.11: fits, figures, tables and the report in one folder."""
    from freqbayes import showcase

    out = args.out or showcase.DEFAULT_OUT
    formats = [f.strip() for f in args.format.split(",")]
    known = ("png", *showcase.FIGURE_FORMATS)
    bad = [f for f in formats if f not in known]
    if bad:
        raise ValueError(f"format: unknown {bad}; known: {', '.join(known)}")
    spec = scheduler.from_options(args.workers, args.scheduler)
    local = scheduler.local_workers(spec) if spec else 1  # local:N starts when it is needed
    with scheduler.connect(None if local else spec) as client:  # no answer: nothing written
        check_out_dir(out)
        with claim_out(out, depth=1):  # one run at a time; its files sit in figures/, ...
            from freqbayes.inference.compilation import configure_jax

            configure_jax()
            _sections, timings = showcase.run(
                out,
                seed=args.seed,
                quick=args.quick,
                progress=sys.stderr.isatty() and not args.no_progress,
                formats=formats,
                workers=local or 1,
                scheduler=client,
            )
    print(timings.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    done = _("report: {html} (and report.md); figures, tables, fits under {out}/")
    print("\n" + done.format(html=out / "report.html", out=out))
    return EXIT_OK


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
        help=f"one of {', '.join(MODELS.names())}, or 'all' (every contrast, with figures and "
        "report)",
    )
    run.add_argument("--method", default="all", help="comma-separated methods, or 'all' (default)")
    run.add_argument(
        "--data",
        default=None,
        help="dataset name, CSV or Parquet file, or a folder of Parquet files read in pieces "
        "(default: the model's)",
    )
    run.add_argument(
        "--formula",
        default=None,
        help='a Wilkinson formula for a table, e.g. "score ~ iq + C(school)" (formulaic), '
        'with group-level terms "score ~ iq + (1 | school)" or "(iq | school)"',
    )
    run.add_argument(
        "--prior",
        action="append",
        metavar="SITE=FAMILY:ARGS",
        help="a prior, e.g. beta=normal:0,2.5 or sigma=halfcauchy:2.5 or intercept=none "
        "or beta=horseshoe (repeatable; families: normal, scalednormal, flat, halfnormal, "
        "halfcauchy, inversegamma, known, horseshoe[:p0], dirichlet:a1,...,ak, gp:gamma,s)",
    )
    run.add_argument("--chains", type=positive_int, default=None, help="chains (NUTS, ...)")
    run.add_argument("--draws", type=positive_int, default=None, help="draws per chain")
    run.add_argument("--warmup", type=positive_int, default=None, help="warm-up iterations")
    run.add_argument(
        "--target-accept", type=probability, default=None, help="NUTS target acceptance"
    )
    run.add_argument(
        "--batch-size",
        type=positive_int,
        default=None,
        help="m', rows per step of the minibatch methods (svi, hmcecs, sgld)",
    )
    run.add_argument(
        "--control-variates",
        choices=("taylor", "none"),
        default=None,
        help="svi with --batch-size: Taylor control variates at the full-data mode "
        "(default) or eq. 5.98's plain minibatch estimate",
    )
    run.add_argument(
        "--stream",
        action="store_true",
        help="read a Parquet table chunk by chunk, never whole (svi with --batch-size; "
        "see the README)",
    )
    run.add_argument(
        "--chunk-rows",
        type=positive_int,
        default=None,
        help="with --stream: rows per chunk, and of the sample held (default 131072)",
    )
    run.add_argument("--seed", type=int, default=0, help="random seed in [0, 2**63) (default 0)")
    run.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default: runs/fits, or runs/showcase for 'all'); one run at a "
        "time: a run into a folder that another run is writing stops at once (exit 2)",
    )
    run.add_argument(
        "--pointwise",
        type=parse_pointwise,
        default="auto",
        help="posterior predictive and pointwise log-likelihood to store: 'auto' (default: "
        "at most 2e7 values per group, draws thinned evenly), 'all', 'none', or a number "
        "of draws per chain",
    )
    run.add_argument("--quick", action="store_true", help="'all' only: small runs (for tests)")
    run.add_argument(
        "--format",
        default="png",
        help="'all' only: figure formats, e.g. svg,pdf for slides (PNG is always written)",
    )
    run.add_argument(
        "--workers",
        type=int,
        default=None,
        help="'all' only: processes running the stages at once (default: one per core); "
        "N > 1 is --scheduler local:N",
    )
    run.add_argument(
        "--scheduler",
        metavar="ADDRESS|local:N",
        help="'all' only: the stages on a Dask cluster: a scheduler's address or local:N",
    )
    run.add_argument(
        "--allow-unconverged",
        action="store_true",
        help="keep unconverged fits: an optimiser's last point; draws with r̂ > 1.1, > 10%% "
        f"divergent or non-finite, which otherwise exit with status {EXIT_UNUSABLE}",
    )
    run.add_argument(
        "--processes",
        type=positive_int,
        default=None,
        help="one model: N local processes share the rows (see the README); process 0 writes",
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_lang(run)
    run.set_defaults(func=cmd_run)
    from freqbayes import fit_commands, slides

    fit_commands.add_parsers(sub)
    slides.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``freqbayes`` command."""
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # for --processes
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        with language(command_language(args)):  # --lang, FREQBAYES_LANG or English
            return args.func(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"freqbayes: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as err:  # PermissionError, FileExistsError, a full disk, ...
        where = f" ({err.filename})" if getattr(err, "filename", None) else ""
        print(f"freqbayes: error: {err.strerror or err}{where}", file=sys.stderr)
        return EXIT_FAILED
    except (RuntimeError, OverflowError, ArithmeticError) as err:
        print(f"freqbayes: error: {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("freqbayes: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print("freqbayes: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        STOP.clear()


if __name__ == "__main__":
    sys.exit(main())
