"""One compilation per fit: a repeated fit compiles nothing, a new process compiles little.

Counted with ``jax.monitoring`` (events of JAX's own compilation pipeline), not timed.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from freqbayes.inference import fit
from freqbayes.models import data as D

#: JAX's event for lowering a program to XLA: one per compilation or cache lookup.
LOWER = "/jax/core/compile/jaxpr_to_mlir_module_duration"
#: JAX's event for an XLA compilation (not served by any cache).
COMPILE = "/jax/core/compile/backend_compile_duration"


SETTINGS = {
    "nuts": {"num_chains": 2, "num_warmup": 100, "num_samples": 100},
    "map": {},
    "mle": {},
    "laplace": {},
    "svi": {"num_chains": 2, "num_samples": 100},
}


@pytest.mark.parametrize("method", list(SETTINGS))
def test_a_second_fit_of_the_same_shapes_compiles_nothing(method, compile_events):
    data = D.diabetes()
    fit("linear", data, method, seed=0, **SETTINGS[method])
    compile_events.clear()
    tree = fit("linear", data, method, seed=1, **SETTINGS[method])
    assert tree.attrs["method"].startswith(method)
    assert compile_events[COMPILE] == 0, dict(compile_events)
    assert compile_events[LOWER] == 0, dict(compile_events)


def test_a_map_fit_in_a_new_process_lowers_at_most_15_programs():
    code = f"""
import collections, json
from jax import monitoring
counts = collections.Counter()
monitoring.register_event_duration_secs_listener(lambda e, d, **k: counts.update([e]))
from freqbayes import data, inference
inference.fit("linear", "map", data.diabetes())
print(json.dumps({{"lowered": counts["{LOWER}"]}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lowered = json.loads(out.stdout.strip().splitlines()[-1])["lowered"]
    assert 0 < lowered <= 15, lowered
