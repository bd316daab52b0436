"""Step-through demos for the report: one self-contained HTML page per demo.

Each page is rendered by Jinja2 from ``templates/<name>.html`` (which extends
``templates/base.html``) with its script (``static/common.js`` and
``static/<name>.js``) and its data (JSON, computed by :mod:`.payloads` from the
lessons) inlined: nothing is fetched when it is viewed, no server, no network. Every
visible text comes from :mod:`.text` in the language in force (:mod:`freqbayes.i18n`),
and the page says its language (``<html lang=...>``). A page exposes its state as
``window.demoState`` (the tests drive it in headless Chromium).

=============  ======================================  ==========================
demo           what the reader does                    report section
=============  ======================================  ==========================
``kmeans``     k-means / k-means++ seeding and steps   k-means (slides 18–19)
``prior``      prior strength: MLE → MAP → prior mean  MAP = weight decay
``coverage``   one more data set, two intervals each   the two guarantees
``sgd``        m′ and ε over precomputed SGD paths     SGD (§5.9)
``curse``      d against neighbour distances           the curse (§5.11)
=============  ======================================  ==========================
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from freqbayes._io import write_text
from freqbayes.demos import payloads, text
from freqbayes.i18n import get_language, html_font, language

#: The demos, in the report's order.
DEMOS = ("prior", "coverage", "kmeans", "sgd", "curse")

_HERE = Path(__file__).resolve().parent

_INTRO_FIELDS = {
    "coverage": lambda p: {"n": p["n"], "sigma": f"{p['sigma']:g}", "m0": f"{p['m0']:g}",
                           "s0": f"{p['s0']:g}"},
    "sgd": lambda p: {"n": p["n"], "w0": _minus(p["start"][0]), "b0": _minus(p["start"][1]),
                      "touched": f"{p['touched']:,}", "keep": p["keep"]},
    "curse": lambda p: {"n": f"{p['n']:,}", "queries": p["queries"]},
}  # fmt: skip


def _minus(x: float) -> str:
    """``x`` as the page writes numbers: a true minus sign (−), not a hyphen."""
    return f"{x:g}".replace("-", "−")


def _json(value: Any) -> str:
    """JSON safe inside ``<script>``: no ``<``, ``>`` or ``&`` left to end the element."""
    s = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render(name: str, seed: int = 0) -> str:
    """The HTML page of demo ``name`` in the language in force."""
    import jinja2
    from markupsafe import Markup

    if name not in DEMOS:
        raise ValueError(f"demo {name!r} is not one of {', '.join(DEMOS)}")
    data = getattr(payloads, name)(**({} if name == "coverage" else {"seed": seed}))
    strings = {**text.common(), **getattr(text, name)()}
    if name in _INTRO_FIELDS:
        strings["intro"] = strings["intro"].format(**_INTRO_FIELDS[name](data))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    scripts = [
        (_HERE / "static" / f).read_text(encoding="utf-8") for f in ("common.js", f"{name}.js")
    ]
    if any("</script" in s.lower() for s in scripts):
        raise AssertionError("a demo script contains '</script'")
    return env.get_template(f"{name}.html").render(
        lang=get_language(),
        name=name,
        t=strings,
        css=Markup((_HERE / "static" / "demo.css").read_text(encoding="utf-8")),
        # a Japanese page carries its font, cut to its text (the reader may have none)
        font=Markup(html_font(" ".join(map(str, strings.values())))),
        payload=Markup(_json({"name": name, "t": strings, "data": data})),
        scripts=[Markup(s) for s in scripts],
    )


def write_demo(out: Path | str, name: str, seed: int = 0, lang: str | None = None) -> str:
    """Write ``out/demos/<name>.html`` (atomically); return its path relative to ``out``.

    ``lang``: ``"en"`` or ``"ja"``; None keeps the language in force (``--lang``).
    """
    rel = f"demos/{name}.html"
    with language(lang):
        write_text(Path(out) / rel, render(name, seed))
    return rel


def write_demos(
    out: Path | str, lang: str | None = None, seed: int = 0, names: Sequence[str] = DEMOS
) -> list[Path]:
    """Write every demo of ``names`` under ``out/demos/``; return the files written."""
    return [Path(out) / write_demo(out, name, seed, lang) for name in names]
