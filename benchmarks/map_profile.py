"""Where the time and memory of a logistic MAP go: L-BFGS, its evaluations, the Newton polish.

Run: ``.venv/bin/python benchmarks/map_profile.py [--rows 2e5]`` (``--rows 1e6`` holds
0.4 GB of features; a few minutes on a loaded 2-core machine). Synthetic logistic data,
``rows`` × 100 float32 features (the generator of ``benchmarks/big_logistic.py``), priors
β ~ N(0, 2.5²), intercept N(0, 1000²), against ``LogisticRegression(solver="lbfgs",
C=2.5²)`` on the same array, in one process (compiled first; the second call timed):

* the whole point estimate (L-BFGS, then the Newton certificate), and L-BFGS alone: the
  polish's share is the difference;
* L-BFGS iterations and objective evaluations (value and gradient, counted by a host
  callback in a separate run) against scikit-learn's ``n_iter_``;
* seconds per evaluation (all rows at once, and by blocks of rows as L-BFGS takes them
  where the code has :meth:`Target.objective`) against one NumPy ``X @ w`` plus
  ``X.T @ r``; seconds per Hessian;
* the peak resident memory of a new process that makes the data and fits (its own
  ``VmHWM``: ``ru_maxrss`` of a child started by this process includes this process's
  peak, since Linux carries it over ``exec``), with its peak before the fit.

Works on the code before issue 27's MAP work too (it calls only what both have), so that
before → after is one script run twice (the old tree first on ``PYTHONPATH``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import numpy as np

WIDTH = 100
SCALE = 2.5


def data(rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic logistic data as ``benchmarks/big_logistic.py`` writes it (one block)."""
    rng = np.random.default_rng(0)
    beta = rng.normal(0.0, 0.3, WIDTH).astype(np.float32)
    X = rng.standard_normal((rows, WIDTH), dtype=np.float32)
    y = (rng.random(rows) < 1.0 / (1.0 + np.exp(-(X @ beta + 0.3)))).astype(np.float32)
    return X, y


def seconds(fn, reps: int = 2) -> float:
    """Mean seconds of ``fn()`` over ``reps`` calls after a first (compiling) one."""
    fn()
    start = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - start) / reps


def resident_peak() -> float:
    """This process's peak resident MiB (``VmHWM``: unlike ``ru_maxrss``, not inherited
    from the parent that started it)."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def peak(rows: int, pointwise: str) -> None:
    """In a child: make the data, fit, print the fit's seconds and the process's peak MiB."""
    X, y = data(rows)
    from freqbayes import inference
    from freqbayes.models.probabilistic import priors as P

    priors = {"beta_prior": P.Normal(0.0, SCALE), "intercept_prior": P.Normal(0.0, 1e3)}
    before = resident_peak()
    start = time.perf_counter()
    inference.fit("logistic", "map", (X, y), priors=priors, pointwise=pointwise)
    after = resident_peak()
    print(f"{time.perf_counter() - start:.2f} {before:.0f} {after:.0f}")


def profile(rows: int) -> None:
    """The profile, in this process; the peaks in children."""
    import jax
    import jax.numpy as jnp
    from jax.flatten_util import ravel_pytree
    from sklearn.linear_model import LogisticRegression

    from freqbayes.inference import optim
    from freqbayes.inference.probabilistic import optimize
    from freqbayes.inference.probabilistic.problem import Target, prepare
    from freqbayes.models.probabilistic import priors as P

    X, y = data(rows)
    priors = {"beta_prior": P.Normal(0.0, SCALE), "intercept_prior": P.Normal(0.0, 1e3)}
    problem = prepare("logistic", (X, y), priors)
    target, kwargs, s = problem.target, problem.kwargs, problem.scaling
    u0 = problem.zeros()
    gtol = optim.default_gtol(jnp.float32, problem.n)

    def negative(u):
        return -target.log_density(kwargs, s, u, include_prior=True)

    blocks = negative  # the objective L-BFGS minimises: by blocks of rows where the code has them
    if hasattr(target, "objective"):
        blocks = target.objective(
            lambda u, kw: -target.log_density(kw, s, u, include_prior=True), kwargs
        )

    t_fit = seconds(lambda: jax.block_until_ready(optimize.point_estimate(problem)))
    _, _, info = optimize.point_estimate(problem)
    lbfgs = jax.jit(lambda u: optim.minimize(blocks, u, gtol=gtol))
    t_lbfgs = seconds(lambda: jax.block_until_ready(lbfgs(u0)))
    u, lbfgs_info = lbfgs(u0)

    count = [0]
    plain = Target.log_density

    def counted(self, *args, **kw):
        jax.debug.callback(lambda: count.__setitem__(0, count[0] + 1))
        return plain(self, *args, **kw)

    Target.log_density = counted
    try:
        counting = jax.jit(
            lambda u: optim.minimize(
                lambda v: -target.log_density(kwargs, s, v, include_prior=True), u, gtol=gtol
            )
        )
        jax.block_until_ready(counting(u0))
        jax.effects_barrier()
        count[0] = 0
        jax.block_until_ready(counting(u0))
        jax.effects_barrier()
    finally:
        Target.log_density = plain
    evaluations = count[0]

    value_and_grad = jax.jit(jax.value_and_grad(negative))
    t_eval = seconds(lambda: jax.block_until_ready(value_and_grad(u)), 5)
    by_blocks = jax.jit(jax.value_and_grad(blocks))
    t_blocks = seconds(lambda: jax.block_until_ready(by_blocks(u)), 5)
    w = np.zeros(WIDTH, np.float32)

    def numpy_eval() -> np.ndarray:
        r = 1.0 / (1.0 + np.exp(-(X @ w))) - y
        return X.T @ r

    t_numpy = seconds(numpy_eval, 5)
    flat, unravel = ravel_pytree(u)
    full = jax.jit(jax.hessian(lambda v: negative(unravel(v))))
    t_full = seconds(lambda: jax.block_until_ready(full(flat)))
    t_blocked = float("nan")
    if hasattr(target, "hessian"):
        blocked = jax.jit(
            lambda v: target.hessian(
                lambda w, kw: -target.log_density(kw, s, unravel(w), include_prior=True),
                v,
                kwargs,
            )
        )
        t_blocked = seconds(lambda: jax.block_until_ready(blocked(flat)))

    start = time.perf_counter()
    sk = LogisticRegression(solver="lbfgs", C=SCALE**2, max_iter=1000).fit(X, y)
    t_sk = time.perf_counter() - start

    print(f"{rows:,} x {WIDTH} float32 ({X.nbytes / 2**20:.0f} MiB)")
    print("| quantity | freqbayes | scikit-learn |")
    print("|---|---|---|")
    print(f"| fit seconds (point estimate) | {t_fit:.2f} | {t_sk:.2f} |")
    print(f"| ratio | {t_fit / t_sk:.2f} | 1 |")
    print(f"| L-BFGS seconds | {t_lbfgs:.2f} | |")
    print(f"| polish seconds (difference) | {t_fit - t_lbfgs:.2f} | |")
    print(f"| L-BFGS iterations | {int(lbfgs_info.iterations)} | {int(sk.n_iter_[0])} |")
    print(f"| evaluations (value + gradient) | {evaluations} | |")
    print(
        f"| ms per evaluation, all rows at once | {1e3 * t_eval:.1f} "
        f"| {1e3 * t_numpy:.1f} (NumPy) |"
    )
    block = "none: all rows at once"
    if hasattr(target, "objective"):
        from freqbayes.inference.probabilistic import rows as R

        block = R._gradient_block(u, kwargs, target.rows, None) or block
    print(
        f"| ms per evaluation, as L-BFGS takes it (rows a block: {block}) "
        f"| {1e3 * t_blocks:.1f} | |"
    )
    print(f"| Hessian seconds: jax.hessian, blocked | {t_full:.2f}, {t_blocked:.2f} | |")
    print(f"| Newton decrement reported | {float(info.newton_decrement):.2e} | |")
    for pointwise in ("none", "auto"):
        child = subprocess.run(
            [sys.executable, __file__, "--rows", str(rows), "--peak", pointwise],
            capture_output=True,
            text=True,
            check=True,
        )
        said = child.stdout.split()
        print(
            f"| new process, fit with pointwise={pointwise} (compiles) | {float(said[0]):.2f} s, "
            f"peak {said[2]} MiB (before the fit {said[1]} MiB) | |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="2e5", help="rows (default 2e5)")
    parser.add_argument("--peak", choices=("none", "auto"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peak:
        peak(int(float(args.rows)), args.peak)
    else:
        profile(int(float(args.rows)))
