"""Names the lessons build from a template and keep in English, as table keys.

They are translated where they are drawn (:func:`freqbayes.figures._style.label`, which
matches a filled-in name against :data:`TEMPLATES`). Kept apart from the lessons, which
import JAX, so that a saved fit's report in Japanese loads none of them.
"""

from __future__ import annotations

from freqbayes.i18n import N_

#: The name of :func:`~freqbayes.lessons.coverage.two_guarantees`' credible interval
#: (``loc`` and ``scale`` as ``:g``).
CREDIBLE_INTERVAL = N_("95% credible interval, prior N({loc}, {scale}²)")

#: The names of :func:`~freqbayes.lessons.sgd.step_cost`'s two gradients.
FULL_BATCH, MINIBATCH = N_("full batch"), N_("minibatch m′ = {m}")

#: The templates among these names.
TEMPLATES = (CREDIBLE_INTERVAL, MINIBATCH)
