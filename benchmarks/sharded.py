"""Full-data NUTS with the rows on one device, sharded over two devices, over two processes.

A synthetic logistic regression (n rows × d features, float32), NUTS 4 chains ×
(500 + 500), ``pointwise="none"``, no prior draws; each set-up in a fresh process:

- ``one``: one CPU device;
- ``chains2``: two CPU devices, the chains split over them (the default on CPUs);
- ``rows2``: two CPU devices, the rows sharded (``FREQBAYES_SHARD_ROWS=on``), the chains
  one after another;
- ``proc2``: two processes of one device each on 127.0.0.1 (``jax.distributed``, gloo),
  each holding half the rows.

Printed per set-up: the NUTS call's wall time, the part spent compiling (JAX's
monitoring events: ``count_compilations``), the sampling time (the difference), the
smallest bulk ESS, ESS per second of sampling, seconds per gradient (leapfrog steps
summed over the chains' draws and warm-up are not recorded, so the draws' steps × 2),
the peak resident memory of the process (process 0 for ``proc2``), and the ratio of
ESS/s to ``one``. Run: ``.venv/bin/python benchmarks/sharded.py [--n 100000 --d 20]
[--warmup 500 --samples 500]`` (fewer iterations for the issue's 10⁶ × 100 on few cores).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

SETUPS = ("one", "chains2", "rows2", "proc2")


def data(n: int, d: int):
    """The same synthetic logistic regression in every process."""
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d)).astype(np.float32)
    w = rng.normal(size=d) / np.sqrt(d)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(X @ w)))).astype(np.float32)
    return X, y


def worker(n: int, d: int, warmup: int, samples: int) -> None:
    """One set-up's fit (its devices and processes come from the environment)."""
    from freqbayes import launch

    launch.initialize()
    import arviz as az
    import jax
    import numpy as np

    from freqbayes import inference
    from freqbayes.inference.compilation import count_compilations

    X, y = data(n, d)
    settings = dict(num_chains=4, num_warmup=warmup, num_samples=samples)
    start = time.perf_counter()
    with count_compilations() as seen:
        tree = inference.fit(
            "logistic", "nuts", (X, y), seed=0, pointwise="none", prior_draws=0, **settings
        )
    wall = time.perf_counter() - start
    compile_s = sum(s for _, s in seen.programs)
    ess = float(az.summary(tree, kind="diagnostics", round_to="none")["ess_bulk"].min())
    steps = int(np.sum(tree.sample_stats["n_steps"].values))
    out = {
        "wall_s": wall,
        "compile_s": compile_s,
        "sampling_s": wall - compile_s,
        "ess_min": ess,
        "steps": steps,
        "devices": jax.device_count(),
        "processes": jax.process_count(),
        "chain_method": json.loads(tree.attrs["settings"])["chain_method"],
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if jax.process_index() == 0:
        print(json.dumps(out), flush=True)


def run(setup: str, n: int, d: int, warmup: int, samples: int) -> dict:
    """One set-up in fresh processes; what process 0 printed."""
    from freqbayes import launch

    env = {k: v for k, v in os.environ.items() if not k.startswith(("FREQBAYES_", "XLA_"))}
    env |= {"JAX_PLATFORMS": "cpu", "FREQBAYES_COMPILATION_CACHE": "off"}
    command = [sys.executable, __file__, "--worker", "--n", str(n), "--d", str(d)]
    command += ["--warmup", str(warmup), "--samples", str(samples)]
    if setup in ("chains2", "rows2"):
        env["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
        env["FREQBAYES_SHARD_ROWS"] = "on" if setup == "rows2" else "off"
    if setup != "proc2":
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])
    env |= {launch.COORDINATOR: f"127.0.0.1:{launch.free_port()}", launch.NUM_PROCESSES: "2"}
    children = [
        subprocess.Popen(
            command,
            env={**env, launch.PROCESS_ID: str(i)},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for i in range(2)
    ]
    outs = [c.communicate(timeout=7200)[0] for c in children]
    if any(c.returncode for c in children):
        raise RuntimeError(f"proc2 failed: {[c.returncode for c in children]}")
    return json.loads(outs[0].strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--d", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--setups", default=",".join(SETUPS))
    args = parser.parse_args()
    if args.worker:
        return worker(args.n, args.d, args.warmup, args.samples)
    print(
        f"NUTS 4 × ({args.warmup} + {args.samples}), logistic {args.n:,} × {args.d}, "
        f"float32; {os.cpu_count()} cores"
    )
    head = f"{'set-up':8} {'wall s':>7} {'compile':>7} {'sample':>7} {'ESS min':>8} "
    print(head + f"{'ESS/s':>7} {'ms/grad':>8} {'RSS MB':>7} {'ratio':>6}  chains")
    base = None
    for setup in args.setups.split(","):
        r = run(setup, args.n, args.d, args.warmup, args.samples)
        rate = r["ess_min"] / r["sampling_s"]
        base = base or rate
        per_grad = 1e3 * r["sampling_s"] / max(1, 2 * r["steps"])
        print(
            f"{setup:8} {r['wall_s']:7.1f} {r['compile_s']:7.1f} {r['sampling_s']:7.1f} "
            f"{r['ess_min']:8.0f} {rate:7.1f} {per_grad:8.3f} {r['maxrss_mb']:7.0f} "
            f"{rate / base:6.2f}  {r['chain_method']}",
            flush=True,
        )


if __name__ == "__main__":
    main()
