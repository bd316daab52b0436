"""The figures' look, applied inside each figure function only (global state is left alone).

Importing :mod:`freqbayes.figures` neither picks a Matplotlib backend nor changes
``matplotlib.rcParams``: every figure function runs under :func:`styled`, an
``rc_context``. Without a display Matplotlib falls back to a file backend by itself.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Callable, Mapping
from typing import Any

import matplotlib.pyplot as plt

from freqbayes.i18n import N_, _, get_language
from freqbayes.labels import TEMPLATES

#: Colours: frequentist (estimates and their sampling distributions) warm, Bayesian cool.
FREQ, BAYES, TRUTH = "#d95f02", "#1b9e77", "#444444"

#: Colours of the built-in methods; any other method takes the next colour of a palette.
METHOD_COLOURS = {
    "mle": "#d95f02",
    "map": "#e7298a",
    "laplace": "#7570b3",
    "svi": "#66a61e",
    "svi-fullrank": "#a6761d",
    "svi-cv": "#6a3d9a",  # svi with control variates (the report's subsampling section)
    "nuts": "#1b9e77",
    "sgld": "#e6ab02",
    "hmcecs": "#1f78b4",
    "wald": "#a63603",
    "profile": "#fd8d3c",
    "bootstrap": "#b2182b",
}
_PALETTE = ("#1f78b4", "#b15928", "#6a3d9a", "#33a02c", "#fb9a99", "#cab2d6")

#: How a fit not to be trusted (:func:`~.diagnostics.warnings`) is drawn: grey, hatched.
UNTRUSTED, UNTRUSTED_HATCH = "#8c8c8c", "////"

#: Smallest font size (points) of any text in a figure, at the size it is saved.
MIN_FONT_PT = 10

#: The figures' rc settings.
STYLE = {
    "figure.dpi": 100,
    # readable on a projector: no text below 10 pt at the saved size
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "legend.title_fontsize": 10,
    "figure.titlesize": 12,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


#: The Japanese figures' font: IPAex Gothic, shipped by ``matplotlib-fontja``.
JAPANESE_FONT = "IPAexGothic"


@functools.cache
def _register_japanese_font() -> str:
    """Add IPAex Gothic to Matplotlib's font list (once); return its family name.

    The file is found without importing ``matplotlib_fontja``, whose import sets the
    global ``rcParams["font.family"]``: the user's settings are left alone.
    """
    from matplotlib import font_manager

    from freqbayes.i18n import japanese_font_file

    font = japanese_font_file()
    if font is None:
        raise RuntimeError("Japanese figures need matplotlib-fontja: pip install matplotlib-fontja")
    font_manager.fontManager.addfont(str(font))
    return JAPANESE_FONT


#: How each kind of confidence interval is named in a legend (translated where drawn).
KIND_NAMES = {
    "wald": "Wald",
    # TRANSLATORS: kinds of confidence interval (the sandwich, or robust, standard error)
    "sandwich": N_("sandwich"),
    "profile": N_("profile"),
    "bca": "BCa",
    "percentile": N_("percentile"),
}


@functools.cache
def _template_pattern(template: str) -> re.Pattern[str]:
    """A regular expression that matches ``template`` filled in, one group per field."""
    parts = []
    for literal, field, _spec, _conv in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if field is not None:
            parts.append(f"(?P<{field}>.+?)")
    return re.compile("".join(parts))


def label(text: str) -> str:
    """A name that comes as data (an interval's, a classifier's) in the language in force.

    The lessons keep such names in English, since tables and tests key on them; each is
    marked there with ``N_`` (or fills one of :data:`freqbayes.labels.TEMPLATES`) and is translated
    here, where it is drawn. A name the catalogue does not know is drawn as it is.
    """
    translated = _(text)
    if translated != text or get_language() == "en":
        return translated
    for template in TEMPLATES:
        match = _template_pattern(template).fullmatch(text)
        if match:
            return _(template).format(**match.groupdict())
    return text


def language_style() -> dict[str, Any]:
    """The rc settings of the language in force: Japanese text in IPAex Gothic.

    DejaVu Sans (Matplotlib's default) first, IPAex Gothic for the glyphs it lacks
    (kana, kanji, Japanese punctuation), glyph by glyph: Latin letters, digits and
    symbols look as in the English figures. IPAex Gothic first drew μ and σ full-width,
    the tilde of μ ~ N(3, 1) raised like an overline and the hat of r̂ beside its r.
    """
    if get_language() == "ja":
        return {"font.family": ["DejaVu Sans", _register_japanese_font()]}
    return {}


def styled_by(base: Mapping[str, Any]) -> Callable[[Any], Any]:
    """A decorator running a figure function under ``base`` and the language's font.

    Restores only the keys it sets. Not ``plt.rc_context``: that restores *every*
    rcParam on exit, including ``interactive``, which Jupyter's inline backend turns on
    when pyplot first draws inside the context; turned off again, no later figure of the
    notebook was shown.
    """

    def decorate(fn: Any) -> Any:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            style = {**base, **language_style()}
            saved = {key: plt.rcParams[key] for key in style}
            plt.rcParams.update(style)
            try:
                return fn(*args, **kwargs)
            finally:
                plt.rcParams.update(saved)

        return wrapper

    return decorate


#: Run a figure function under :data:`STYLE` (:func:`styled_by`).
styled = styled_by(STYLE)


def method_colour(method: str) -> str:
    """The colour of a method: its own, or a palette colour fixed by its name."""
    if method in METHOD_COLOURS:
        return METHOD_COLOURS[method]
    return _PALETTE[sum(map(ord, method)) % len(_PALETTE)]


def smallest_font(fig: Any) -> float:
    """The smallest font size (points) of any visible, non-empty text of a drawn figure."""
    from matplotlib.text import Text

    fig.canvas.draw()
    sizes = [
        t.get_fontsize()
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip() and t.get_window_extent().width > 0
    ]
    return float(min(sizes)) if sizes else float("inf")


@styled
def stamp(fig: Any, caveats: Mapping[str, str]) -> None:
    """Write across the top of ``fig`` which fits it draws are not to be trusted, and why.

    Styled as the figures are (it runs after the figure function has returned): in the
    Japanese font when the language is Japanese.

    ``caveats``: fit name → reason (:func:`~.diagnostics.caveat`); nothing when empty.
    """
    if not caveats:
        return
    import textwrap

    lines = [
        _("⚠ NOT TO BE TRUSTED: {name}: {why}").format(name=name, why=why)
        for name, why in caveats.items()
    ]
    width = 60 if get_language() == "ja" else 110  # a CJK character is two Latin ones wide
    text = "\n".join(textwrap.fill(line, width, subsequent_indent="    ") for line in lines)
    # above everything already drawn (titles, legends placed over the axes)
    top = fig.get_tightbbox(fig.canvas.get_renderer()).y1 / fig.get_figheight()
    fig.text(
        0.5,
        max(1.0, top) + 0.02,
        text,
        ha="center",
        va="bottom",
        fontsize=MIN_FONT_PT,
        color="#600000",
        bbox={"boxstyle": "square", "facecolor": "#fbe3e3", "edgecolor": "#b00000"},
        gid="untrusted-stamp",
    )
