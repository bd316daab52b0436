"""EM for the spherical Gaussian mixture: moved to :mod:`freqbayes.inference.probabilistic.em`.

EM is a probabilistic model's maximum-likelihood fit, so it lives with the probabilistic
methods (the registered method ``em``). This name is kept for the lessons and notebooks
that import it (``from freqbayes.inference.learners import mixture as M``).
"""

from freqbayes.inference.probabilistic.em import (
    EMState,
    e_step,
    em,
    init,
    labels,
    log_joint,
    m_step,
    step,
)

__all__ = ["EMState", "e_step", "em", "init", "labels", "log_joint", "m_step", "step"]
