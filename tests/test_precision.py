"""The library's programs choose full float32 matrix products, whatever the user's default.

On GPUs JAX's default float32 product is TF32 (issue 27: a logistic MAP at 10⁶ × 100 did
not converge on an H200 until products were full precision). The CPU computes float32
products in full precision whatever the setting, so these tests read the programs
themselves: every ``dot_general`` the library compiles must say ``HIGHEST``, with the
user's own default set to ``bfloat16``, and the user's setting must be left as it was.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FITS = textwrap.dedent(
    """
    import jax
    import numpy as np
    import pandas as pd
    import freqbayes.inference.probabilistic as P
    from freqbayes.inference.learners.kmeans import KMeans
    from freqbayes.inference.learners.linear_svm import LinearSVC

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = (X @ [1.0, -1.0, 0.5] + rng.normal(size=120) > 0).astype(float)
    frame = pd.DataFrame({"x1": X[:, 0], "x2": X[:, 1], "x3": X[:, 2], "y": y})
    P.fit("logistic", data=frame, method="map")
    P.fit("logistic", data=frame, method="laplace")
    P.fit("logistic", data=frame, method="nuts", num_warmup=20, num_samples=20, num_chains=1)
    LinearSVC().fit(X, y)
    KMeans(3, n_init=1).fit(X)
    print(jax.config.jax_default_matmul_precision)
    """
)


def test_every_product_the_library_compiles_is_full_precision(tmp_path):
    dump = tmp_path / "ir"
    env = {
        **os.environ,
        "JAX_PLATFORMS": "cpu",
        "JAX_DEFAULT_MATMUL_PRECISION": "bfloat16",
        "JAX_DUMP_IR_TO": str(dump),
    }
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", FITS],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1] == "bfloat16", "the user's own setting was changed"
    ops = [
        line
        for path in sorted(dump.glob("*.mlir"))
        for line in path.read_text().splitlines()
        if "stablehlo.dot_general" in line
    ]
    assert len(ops) > 50, f"too few products seen ({len(ops)}): the dump did not work"
    other = [re.search(r"precision = \[[A-Z, ]*\]", op) for op in ops]
    reduced = sorted(
        {m.group(0) if m else "no precision" for m in other} - {"precision = [HIGHEST, HIGHEST]"}
    )
    assert not reduced, f"products compiled at another precision: {reduced}"


def test_the_core_compiles_through_the_precise_jit():
    """``jax.jit`` called directly would compile at the user's default precision."""
    core = [*ROOT.joinpath("inference").rglob("*.py"), *ROOT.joinpath("models").rglob("*.py")]
    direct = [
        f"{p.relative_to(ROOT)}:{i}"
        for p in core
        if p.name != "precision.py"
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if re.search(r"\bjax\.jit\b", line.split("#")[0]) and "``jax.jit``" not in line
    ]
    assert not direct, f"jax.jit used directly (use freqbayes.inference.precision.jit): {direct}"
