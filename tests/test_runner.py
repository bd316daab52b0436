"""The test runner itself: ``make test``'s two workers keep each test file together.

``--dist loadgroup`` (tests/conftest.py marks every test with its file's group) is what
keeps a module's fixtures (the quick showcase, a fitted model) built once; pytest 9.2
silently broke it (pytest-dev/pytest-xdist#1386): the tests were dealt out one by one
and the showcase's module fixture ran on both workers.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

CONFTEST = """
import pytest

@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        item.add_marker(pytest.mark.xdist_group(item.path.stem))
"""


def test_loadgroup_keeps_each_file_on_one_worker(tmp_path: Path):
    (tmp_path / "conftest.py").write_text(CONFTEST)
    for name in ("a", "b"):
        tests = "".join(f"def test_{i}():\n    pass\n" for i in range(6))
        (tmp_path / f"test_{name}.py").write_text(tests)
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "2",
         "--dist", "loadgroup", "-v", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout[-2000:]
    workers: dict[str, set[str]] = defaultdict(set)
    for worker, module in re.findall(r"\[(gw\d)\].*PASSED (test_[ab])\.py", out.stdout):
        workers[module].add(worker)
    assert set(workers) == {"test_a", "test_b"}, out.stdout[-2000:]
    split = {module: sorted(w) for module, w in workers.items() if len(w) > 1}
    assert not split, f"a test file's tests ran on more than one worker: {split}"


def test_the_done_file_names_worker_and_compilations_and_resume_reads_it(tmp_path: Path):
    """``--done-file`` (tests/conftest.py) in a pytest-xdist run: a line per test with its
    seconds, worker and the seconds, programs and cache hits of its compilations (sent
    from the worker with the report); ``--resume`` deselects what the file lists; a
    second run reads the program from the suite's persistent cache."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "conftest.py").write_text(
        Path(__file__).with_name("conftest.py").read_text()
    )
    (tmp_path / "tests" / "test_one.py").write_text(
        "import jax, jax.numpy as jnp\n"
        "def test_compiles():\n"
        "    jax.jit(lambda x: jnp.sin(x) * 3)(jnp.ones(3)).block_until_ready()\n"
        "def test_plain():\n"
        "    pass\n"
    )
    done = tmp_path / "done.txt"

    cache = {**os.environ, "FREQBAYES_TEST_CACHE": str(tmp_path / "cache")}  # empty: its own

    def run(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "1",
             "--dist", "loadgroup", "--done-file", str(done), *extra, "tests"],
            capture_output=True, text=True, cwd=tmp_path, env=cache,
        )  # fmt: skip

    out = run()
    assert out.returncode == 0, out.stdout[-2000:]
    lines = {line.split("\t")[0]: line.split("\t")[1:] for line in done.read_text().splitlines()}
    compiles = lines["done tests/test_one.py::test_compiles"]
    assert len(compiles) == 5 and compiles[1] == "gw0", compiles
    assert float(compiles[2]) > 0 and int(compiles[3]) >= 1 and compiles[4] == "0", compiles
    assert lines["done tests/test_one.py::test_plain"][2:] == ["0.00", "0", "0"]
    again = run("--resume", str(done))
    assert again.returncode == 5, again.stdout[-2000:]  # nothing left to run
    assert "[0 items]" in again.stdout, again.stdout[-2000:]
    done.unlink()  # a new run: its program comes from the suite's cache (tests/conftest.py)
    assert run().returncode == 0
    hits = {line.split("\t")[0]: line.split("\t")[5] for line in done.read_text().splitlines()}
    assert int(hits["done tests/test_one.py::test_compiles"]) >= 1, hits
