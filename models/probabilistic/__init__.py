"""The probabilistic models: NumPyro programs, their priors and their closed forms.

NumPyro is loaded whole first (see :mod:`freqbayes.models._numpyro`).
"""

import freqbayes.models._numpyro  # noqa: F401  (first: loads NumPyro whole; see that module)
