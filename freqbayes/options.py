"""The command line's option values: types argparse checks, and run settings and priors.

Kept apart from :mod:`freqbayes.cli` so that the parser stays small; nothing here
imports JAX.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from freqbayes.inference.registry import METHODS


def parse_pointwise(value: str) -> str | int:
    """``--pointwise``: auto, all, none, or a number of draws per chain."""
    if value in ("auto", "all", "none"):
        return value
    try:
        return positive_int(value)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"must be auto, all, none or a positive number of draws; got {value!r}"
        ) from None


#: Command-line options that set a method's own settings (a method takes those it accepts).
RUN_SETTINGS = {
    "chains": "num_chains",
    "draws": "num_samples",
    "warmup": "num_warmup",
    "target_accept": "target_accept_prob",
    "batch_size": "batch_size",
    "control_variates": "control_variates",
}


def method_settings(methods: Sequence[str], args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Each method's settings from ``--chains`` and the other options of :data:`RUN_SETTINGS`.

    ``--allow-unconverged`` sets ``allow_unconverged`` of every method that takes it.

    A method gets the ones it declares (``Method.takes``); an option no chosen method takes
    is refused (``--warmup`` with only ``map``, say).
    """
    out: dict[str, dict[str, Any]] = {m: {} for m in methods}
    for option, setting in RUN_SETTINGS.items():
        value = getattr(args, option, None)
        if value is None:
            continue
        takers = [m for m in methods if METHODS.get(m).takes(setting)]
        if not takers:
            flag = "--" + option.replace("_", "-")
            raise ValueError(f"{flag} applies to none of the methods {', '.join(methods)}")
        for m in takers:
            out[m][setting] = value
    if getattr(args, "allow_unconverged", False):  # each method that can keep one keeps it
        for m in methods:
            if METHODS.get(m).takes("allow_unconverged"):
                out[m]["allow_unconverged"] = True
    return out


def parse_priors(texts: Sequence[str] | None, spec: Any, arrays: dict[str, Any]) -> dict[str, Any]:
    """``--prior site=family:args`` (repeatable) → the priors, checked against the model."""
    from freqbayes.models.probabilistic.priors import parse

    priors = dict(parse(t) for t in texts or ())
    try:
        spec.resolve_priors(priors, arrays)
    except TypeError as err:
        raise ValueError(f"--prior: {err}") from None
    return priors


def positive_int(value: str) -> int:
    """An argparse type: an integer >= 1."""
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {value!r}")
    return n


def probability(value: str) -> float:
    """An argparse type: a number strictly between 0 and 1."""
    try:
        p = float(value)
    except ValueError:
        p = -1.0
    if not 0 < p < 1:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1); got {value!r}")
    return p


def add_lang(parser: argparse.ArgumentParser) -> None:
    """``--lang ja|en``: the language of everything the command shows or writes for a reader.

    Checked by :func:`command_language`, so that a bad value is one line (exit 2), not
    argparse's usage message.
    """
    from freqbayes.i18n import ENV, LANGUAGES

    parser.add_argument(
        "--lang",
        default=None,
        metavar="|".join(reversed(LANGUAGES)),
        help=f"language of the report, tables and figures (default: ${ENV}, else en)",
    )


def command_language(args: argparse.Namespace) -> str | None:
    """The language a command runs in: ``--lang``, else ``FREQBAYES_LANG``, else English.

    ``None`` for a command without ``--lang``. Raises ``ValueError`` (one line) on a
    language that is not one of :data:`freqbayes.i18n.LANGUAGES`.
    """
    from freqbayes.i18n import check_language, default_language

    if not hasattr(args, "lang"):
        return None
    if args.lang is None:
        return default_language()
    try:
        return check_language(args.lang)
    except ValueError as error:
        raise ValueError(f"--lang: {error}") from None
