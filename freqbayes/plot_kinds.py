"""The plots ``freqbayes plot --kind`` draws of saved fits (kept light: ``--help`` lists them).

:func:`freqbayes.saved.plot` draws them; the command line names them.
"""

from __future__ import annotations

#: ``freqbayes plot --kind``: name → (arviz_plots function, groups it needs, needs draws);
#: ``forest`` is the report's own (:func:`freqbayes.figures.forest`), not ArviZ's.
PLOT_KINDS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "trace": ("plot_trace_dist", ("posterior",), True),
    "rank": ("plot_rank", ("posterior",), True),
    "forest": ("forest", ("posterior",), False),
    "pair": ("plot_pair", ("posterior",), True),
    "ppc": ("plot_ppc_dist", ("posterior_predictive", "observed_data"), False),
    "prior-posterior": ("plot_prior_posterior", ("prior", "posterior"), True),
    "energy": ("plot_energy", ("sample_stats",), True),
}
