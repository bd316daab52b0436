"""One compilation per fit: a repeated fit compiles nothing, a new process compiles little.

Counted with ``jax.monitoring`` (events of JAX's own compilation pipeline), not timed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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


#: A new process compiles one small program after importing the package (no fit needed).
_COMPILE_ONE = """
import os, sys
{before}
import freqbayes.models
import jax, jax.numpy as jnp
{after}
jax.jit(lambda x: x * 2.0 + 1.0)(jnp.ones(3)).block_until_ready()
print(jax.config.jax_compilation_cache_dir)
"""


def _compile_one(tmp_path, env: dict[str, str], before: str = "", after: str = "") -> str:
    base = {k: v for k, v in os.environ.items() if not k.startswith("JAX_COMPILATION_CACHE")}
    base.pop("FREQBAYES_COMPILATION_CACHE", None)
    out = subprocess.run(
        [sys.executable, "-c", _COMPILE_ONE.format(before=before, after=after)],
        capture_output=True,
        text=True,
        check=True,
        env={**base, "XDG_CACHE_HOME": str(tmp_path / "xdg"), **env},
    )
    return out.stdout.strip().splitlines()[-1]


def _entries(folder) -> int:
    return len(list(folder.glob("*"))) if folder.exists() else 0


def test_library_users_get_the_cache_in_their_user_cache_folder(tmp_path):
    used = _compile_one(tmp_path, {})
    assert used == str(tmp_path / "xdg" / "freqbayes" / "jax")
    assert _entries(tmp_path / "xdg" / "freqbayes" / "jax") > 0


def test_the_users_own_cache_folder_is_kept(tmp_path):
    mine = tmp_path / "mine"
    assert _compile_one(tmp_path, {"JAX_COMPILATION_CACHE_DIR": str(mine)}) == str(mine)
    set_in_config = f"import jax; jax.config.update('jax_compilation_cache_dir', {str(mine)!r})"
    assert _compile_one(tmp_path, {}, before=set_in_config) == str(mine)
    assert _entries(tmp_path / "xdg" / "freqbayes" / "jax") == 0


def test_the_cache_can_be_turned_off_or_moved(tmp_path):
    assert _compile_one(tmp_path, {"FREQBAYES_COMPILATION_CACHE": "off"}) in ("", "None")
    assert _entries(tmp_path / "xdg" / "freqbayes" / "jax") == 0
    there = tmp_path / "there"
    assert _compile_one(tmp_path, {"FREQBAYES_COMPILATION_CACHE": str(there)}) == str(there)
    assert _entries(there) > 0


def test_compiled_programs_hold_mappings_until_released_when_crowded(tmp_path, monkeypatch):
    """Each compiled program keeps memory mappings (Linux allows a process
    ``vm.max_map_count``; at the limit XLA's compiler segfaults): dropped beyond the share,
    kept below it."""
    import jax
    import jax.numpy as jnp

    from freqbayes.inference import compilation

    if compilation.memory_mappings() is None:
        pytest.skip("no /proc/self/maps here (not Linux)")
    functions = [jax.jit(lambda x, k=k: jnp.cumsum(x) * k) for k in range(40)]
    before = compilation.memory_mappings()[0]
    for f in functions:
        f(jnp.ones(3)).block_until_ready()
    held = compilation.memory_mappings()[0]
    assert held - before >= 40, (before, held)  # at least one mapping per program

    limit = tmp_path / "max_map_count"
    monkeypatch.setattr(compilation, "MAX_MAP_COUNT_FILE", limit)
    limit.write_text(f"{4 * held}\n")  # a quarter of the limit: not crowded
    assert not compilation.release_programs_if_crowded()
    assert all(f._cache_size() == 1 for f in functions)

    limit.write_text(f"{held}\n")  # all of it
    assert compilation.release_programs_if_crowded()
    assert all(f._cache_size() == 0 for f in functions)
    assert compilation.memory_mappings()[0] < held - 40

    limit.unlink()  # off Linux (or no /proc): nothing known, nothing dropped
    assert compilation.memory_mappings() is None
    assert not compilation.release_programs_if_crowded()


def test_the_suite_runs_with_its_own_persistent_cache_never_the_users():
    """tests/conftest.py chooses the suite's cache folder before freqbayes is imported
    (importing ``freqbayes.inference`` turns the cache on): with the order reversed, the
    suite's workers wrote to the user's own ``~/.cache/freqbayes/jax``."""
    import jax

    from .conftest import TEST_CACHE, USER_CACHE

    assert os.environ["FREQBAYES_TEST_CACHE"] == TEST_CACHE
    if TEST_CACHE == "off":
        assert not jax.config.jax_compilation_cache_dir
    else:
        assert jax.config.jax_compilation_cache_dir == TEST_CACHE
        assert Path(TEST_CACHE).is_absolute() and Path(TEST_CACHE) != Path(USER_CACHE)


def test_a_fit_first_drops_the_programs_of_a_crowded_process(monkeypatch):
    from freqbayes.inference import compilation

    calls = []
    monkeypatch.setattr(compilation, "release_programs_if_crowded", lambda: calls.append(1))
    fit("linear", D.diabetes(), "mle", seed=0)
    assert calls == [1]


def test_release_memory_drops_every_program_and_a_fit_gives_the_same_tree(monkeypatch):
    """``release_programs=True`` (what ``freqbayes run`` passes on big data) drops the
    programs once the kernel has run, before the DataTree's own programs: the tree is the
    same, every value of every group."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from freqbayes.inference import compilation
    from freqbayes.inference.probabilistic import method as method_module

    f = jax.jit(lambda x: x + 1)
    f(jnp.ones(2)).block_until_ready()
    assert f._cache_size() == 1
    compilation.release_memory()
    assert f._cache_size() == 0

    calls = []
    build = method_module.build_datatree

    def building(*args, **kwargs):
        calls.append("tree")
        return build(*args, **kwargs)

    monkeypatch.setattr(
        method_module,
        "release_memory",
        lambda: calls.append("release") or compilation.release_memory(),
    )
    monkeypatch.setattr(method_module, "build_datatree", building)
    kept = fit("linear", D.diabetes(), "map", seed=0)
    assert calls == ["tree"]
    calls.clear()
    released = fit("linear", D.diabetes(), "map", seed=0, release_programs=True)
    assert calls == ["release", "tree"]  # the kernel's programs go before the tree's run
    assert sorted(kept.children) == sorted(released.children)
    for group in kept.children:
        for name, value in kept[group].data_vars.items():
            assert np.array_equal(value.values, released[group][name].values), (group, name)


def test_the_prior_only_target_is_one_static_argument_and_the_priors_potential():
    """``Target.prior_only()`` (minibatch SVI, HMCECS, SGLD) is equal for equal targets, so
    its density is traced once per shapes, not once per call (NumPyro's ``block`` compares
    by identity); its potential is the program's with the observed site hidden."""
    import jax.numpy as jnp
    import numpy as np
    from numpyro.handlers import block
    from numpyro.infer.util import potential_energy

    from freqbayes.inference.probabilistic.problem import latent_shapes, prepare

    target = prepare("linear", D.diabetes()).target
    assert target.prior_only() == target.prior_only()
    assert hash(target.prior_only()) == hash(target.prior_only())
    assert target.prior_only() != target
    problem = prepare("linear", D.diabetes())
    s = problem.scaling
    shapes = latent_shapes(problem.program, problem.kwargs)
    u = {k: jnp.full(v.shape, 0.1, v.dtype) for k, v in shapes.items()}
    hidden = block(target.program, hide=[target.observed])
    expected = potential_energy(hidden, (), problem.kwargs, target.to_user(s, u))
    got = target.prior_only().potential(problem.kwargs, s, u)
    assert np.isclose(float(got), float(expected), rtol=1e-6)
    assert not np.isclose(float(got), float(target.potential(problem.kwargs, s, u)))
