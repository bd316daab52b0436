"""Processes sharing JAX's persistent compilation cache: are broken entries read?

Four processes compile the same 300 small programs into one fresh cache folder at once,
in rounds; a round counts when any process warns "Error reading persistent compilation
cache entry" (it read another's half-written file). ``--unlocked`` runs JAX's default
cache (no size limit: no lock); the default runs ``enable_persistent_cache``'s.

    python benchmarks/cache_race.py [--unlocked] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

CHILD = """
import sys, warnings
import jax, jax.numpy as jnp
from freqbayes.inference.compilation import enable_persistent_cache
enable_persistent_cache(sys.argv[1])
if sys.argv[2] == "unlocked":
    jax.config.update("jax_compilation_cache_max_size", -1)
warnings.simplefilter("always")
for i in range(300):
    n = i % 60 + 1
    f = jax.jit(lambda x, n=n: jnp.sin(x) @ jnp.cos(x).T + n)
    f(jnp.ones((n, 7))).block_until_ready()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unlocked", action="store_true", help="JAX's default: no lock")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--processes", type=int, default=4)
    args = parser.parse_args()
    mode = "unlocked" if args.unlocked else "locked"
    broken = 0
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="freqbayes-cache-race-") as folder:
            procs = [
                subprocess.Popen(
                    [sys.executable, "-c", CHILD, folder, mode],
                    stderr=subprocess.PIPE,
                    text=True,
                    env={"JAX_PLATFORMS": "cpu", **os.environ},
                )
                for _ in range(args.processes)
            ]
            errors = [p.communicate()[1] for p in procs]
            broken += any("Error reading persistent compilation cache" in e for e in errors)
    print(f"{mode}: {broken} of {args.rounds} rounds read a broken cache entry")


if __name__ == "__main__":
    main()
