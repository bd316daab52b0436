"""Load NumPyro whole, once, before any of its submodules is imported.

arviz_base registers NumPyro in ``sys.modules`` as a lazy_loader stub. When the
first NumPyro import after that is of a submodule (``import numpyro.optim``),
Python executes NumPyro's ``__init__`` (which imports ``numpyro.optim`` itself)
and then executes ``numpyro/optim.py`` a second time: SVI then rejects every
optimiser ("Expected either an instance of numpyro.optim._NumPyroOptim ...").
Reading an attribute of the top-level module loads it whole first. Both
``freqbayes.models`` and ``freqbayes.inference`` import this module first.
"""

import numpyro

numpyro.__version__  # noqa: B018  (an attribute read: loads a lazy stub whole, see above)
