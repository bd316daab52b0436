"""The test runner itself: ``make test``'s two workers keep each test file together.

``--dist loadgroup`` (tests/conftest.py marks every test with its file's group) is what
keeps a module's fixtures (the quick showcase, a fitted model) built once; pytest 9.2
silently broke it (pytest-dev/pytest-xdist#1386): the tests were dealt out one by one
and the showcase's module fixture ran on both workers.
"""

from __future__ import annotations

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
