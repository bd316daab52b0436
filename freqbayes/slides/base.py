"""A slide of the deck: its title, one figure, at most three bullets, speaker notes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: At most this many bullets on a slide.
MAX_BULLETS = 3


@dataclass
class Slide:
    """One content slide of the seminar's deck.

    Attributes
    ----------
    key : str
        File stem of its figure (``figures/KEY.png``).
    outline : str
        The outline's slide number(s) it follows (``"10–11"``).
    title : str
        Translated title.
    bullets : list of str
        Translated bullets; every number in them computed in this run.
    notes : str
        Translated speaker notes: the derivation, with the book's equation numbers.
    draw : callable
        Draws the slide's one figure (:mod:`freqbayes.figures.slides`) from the numbers
        already computed: into a new figure, or into a page's subfigure
        (:func:`freqbayes.figures.slides.drawn_into`).
    section : str
        The report's section that shows the same contrast (its anchor in report.html).
    numbers : dict
        The computed values the bullets print (for checking them against a recomputation).
    """

    key: str
    outline: str
    title: str
    bullets: list[str]
    notes: str
    draw: Callable[[], Any]
    section: str
    numbers: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.bullets) > MAX_BULLETS:
            raise ValueError(f"slide {self.key}: {len(self.bullets)} bullets (at most 3)")
