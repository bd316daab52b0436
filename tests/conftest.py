"""Test set-up: JAX on the CPU, seeded everything, x64 tests in their own run.

Tests whose name ends in ``_x64`` run only when JAX_ENABLE_X64=1 (``make test``
runs them in a second pytest process); the others run only without it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("JAX_PLATFORMS", "cpu")
# JAX reads its cache folder from the environment when imported: the suite's own (below)
os.environ.pop("JAX_COMPILATION_CACHE_DIR", None)

import jax
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
#: One line per time a worker dropped its compiled programs (:func:`pytest_runtest_logfinish`).
RELEASED = ROOT / ".cache" / "tests" / "released.txt"
SHARED = ROOT.parent / "shared"

#: The suite's own persistent compilation cache, outside the checkout so that the next run
#: (from a fresh clone too) starts warm; never the user's own (``~/.cache/freqbayes/jax``).
#: ``FREQBAYES_TEST_CACHE``: another folder, or ``off``. Four test files on two workers,
#: 2026-12-05: 151 s without a cache, 169 s filling an empty one, 63 s with it warm; the
#: programs are the same (the cache's key is the program, JAX's version and XLA's flags).
#: This process, the command line run in process, subprocesses and notebook kernels
#: inherit it through FREQBAYES_COMPILATION_CACHE. XDG_CACHE_HOME then stays inside the
#: checkout, so that nothing else of the suite lands in the user's ~/.cache.
_USER_CACHES = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
#: The user's own cache of fits (``freqbayes.inference.compilation.default_cache_dir``).
USER_CACHE = os.environ.get("_FREQBAYES_TESTS_USER_CACHE") or str(
    _USER_CACHES / "freqbayes" / "jax"
)
_chosen = os.environ.get("FREQBAYES_TEST_CACHE") or str(_USER_CACHES / "freqbayes-tests" / "jax")
TEST_CACHE = (
    "off"
    if _chosen.strip().lower() in ("off", "0", "no", "false")
    else str(Path(_chosen).expanduser().resolve())  # kernels and subprocesses run elsewhere
)
# pytest-xdist's workers, notebook kernels and subprocesses: the same folder, the same user's
os.environ["FREQBAYES_TEST_CACHE"] = TEST_CACHE
os.environ["_FREQBAYES_TESTS_USER_CACHE"] = USER_CACHE
os.environ["XDG_CACHE_HOME"] = str(ROOT / ".cache")
os.environ["FREQBAYES_COMPILATION_CACHE"] = TEST_CACHE

# after the two lines above: importing freqbayes.inference turns the cache on for the process
from freqbayes.inference import compilation  # noqa: E402

X64 = bool(jax.config.jax_enable_x64)

#: Test files that take longest, longest first (worker-seconds in a fresh-clone run on
#: 2026-12-05 at 11:43: the showcase 546, the notebooks 274 in all, then 151 down to 41;
#: at 13:34, this order in place: 626, 332, then 107 down to 45), scheduled
#: first so that neither worker is left with a long one at the end. ``make test`` passes
#: ``--no-loadscope-reorder``: pytest-xdist otherwise orders files by how many tests they
#: have, which started the showcase minutes into the run, on a worker already busy.
FIRST = [
    "test_showcase",
    "test_notebooks",
    "test_programs",
    "test_groups",
    "test_frequentist",
    "test_svm",
    "test_sharded",
    "test_families",
    "test_method_contract",
    "test_existence",
    "test_cli",
    "test_units",
    "test_slides",
]


def pytest_report_header(config: pytest.Config) -> str:
    mode = "x64 run: only *_x64 tests" if X64 else "float32 run: *_x64 tests deselected"
    return f"freqbayes: JAX {jax.__version__} on {jax.devices()[0].platform}; {mode}"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("freqbayes")
    group.addoption(
        "--done-file",
        type=Path,
        help="write the id of every test that passed, skipped or xfailed to this file as it "
        "ends, and a 'crash' line for each test during which a pytest-xdist worker died",
    )
    group.addoption(
        "--resume",
        type=Path,
        help="deselect the tests a --done-file lists: after a native crash (a segfault or "
        "abort inside XLA, seen about once in a run of the suite: README), run only what the "
        "crash left, in fresh workers (the Makefile does, up to three times); with "
        "--done-file the same file, this run's ends are added to it",
    )


#: This process's XLA compilations, counted from its start (:func:`pytest_configure`).
_COUNTING = contextlib.ExitStack()
_SEEN: list[compilation.Compilations] = []
#: :func:`_compiled` when the running test started.
_AT_START = (0.0, 0, 0)


def _compiled() -> tuple[float, int, int]:
    """Seconds, programs and persistent-cache hits of this process's compilations so far."""
    seen = _SEEN[-1]
    return seen.seconds, seen.count, seen.cache_hits


def pytest_runtest_logstart(nodeid: str, location: object) -> None:
    global _AT_START
    _AT_START = _compiled()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    """The compilations of a test's set-up and call travel with its report (the done-file)."""
    outcome = yield
    report = outcome.get_result()
    if call.when in ("setup", "call"):
        seconds, programs, hits = (
            now - then for now, then in zip(_compiled(), _AT_START, strict=True)
        )
        report.user_properties.append(("compiled", (round(seconds, 3), programs, hits)))


class _DoneFile:
    """``--done-file``: what ended well, and what a crashed worker was running.

    A line per test that ended well: ``done``, its id, its seconds (set-up + call), the
    worker, and the seconds, programs and persistent-cache hits of the XLA compilations
    in its set-up and call.

    Registered in the reporting process only (pytest-xdist workers report to it). The
    seconds show where a run's time goes (a test's set-up holds its module fixtures'
    compilations): ``sort -t$'\\t' -k2 -rn .cache/tests/done-float32.txt | head``.
    """

    def __init__(self, path: Path, resuming: bool) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        if not resuming:  # a resumed run adds to the record of the runs before it
            path.write_text("")
        self._setup: dict[str, float] = {}

    def _write(self, line: str) -> None:
        with self.path.open("a") as file:
            file.write(line + "\n")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "setup":
            self._setup[report.nodeid] = report.duration
        # a failure is never run again: make test stops at once (a crashed worker's
        # report, when "???", is a crash, run again)
        if report.failed and report.when in ("setup", "call", "teardown"):
            self._write(f"fail {_plain(report.nodeid)}")
        passed = report.when == "call" and not report.failed
        if passed or (report.when == "setup" and report.skipped):
            seconds = self._setup.pop(report.nodeid, 0.0) + (report.duration if passed else 0.0)
            # the worker: which tests shared a process before a crash (README, "Native crashes")
            worker = getattr(getattr(report, "node", None), "gateway", None)
            compiled = dict(report.user_properties).get("compiled", (0.0, 0, 0))
            self._write(
                f"done {_plain(report.nodeid)}\t{seconds:.2f}\t"
                f"{worker.id if worker is not None else '-'}\t"
                f"{compiled[0]:.2f}\t{compiled[1]}\t{compiled[2]}"
            )

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem: str, report: object, sched: object) -> None:
        self._write(f"crash {_plain(crashitem)}")


def kept_for_the_run(
    name: str, tmp_path_factory: pytest.TempPathFactory, build: Callable[[Path], Any]
) -> tuple[Path, Any]:
    """A folder that ``build`` fills once per ``make test``, kept for its resumed runs.

    After a native crash ``make test`` runs again the tests that had not ended, in new
    workers; a module fixture that takes minutes (the quick showcase) would be built again
    from nothing. ``make test`` sets ``FREQBAYES_TEST_RUN`` to one value for all its runs:
    with it, the folder is ``.cache/tests/kept/NAME-RUN`` and is built only when no earlier
    run of this ``make test`` completed it (the code cannot have changed in between);
    folders of other runs are removed. Without it (pytest run by hand): a fresh temporary
    folder, built every time.

    Returns the folder and what ``build`` returned (kept as JSON in the completion mark).
    """
    run = os.environ.get("FREQBAYES_TEST_RUN", "")
    if not re.fullmatch(r"[0-9A-Za-z_-]+", run):
        out = tmp_path_factory.mktemp(name)
        return out, build(out)
    root = ROOT / ".cache" / "tests" / "kept"
    out, complete = root / f"{name}-{run}", root / f"{name}-{run}.json"
    for old in root.glob(f"{name}-*"):
        if old not in (out, complete):
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    if not complete.exists():
        shutil.rmtree(out, ignore_errors=True)  # what a crashed build left
        out.mkdir(parents=True)
        complete.write_text(json.dumps(build(out)))
    return out, json.loads(complete.read_text())


def _plain(nodeid: str) -> str:
    """A node id without the ``@group`` suffix that ``--dist loadgroup`` gives it."""
    return nodeid.split("@test_", 1)[0]


def pytest_configure(config: pytest.Config) -> None:
    _SEEN.append(_COUNTING.enter_context(compilation.count_compilations()))
    done = config.getoption("done_file")
    if done is not None and not hasattr(config, "workerinput"):  # not an xdist worker
        resuming = config.getoption("resume") is not None
        config.pluginmanager.register(_DoneFile(done, resuming), "freqbayes-done-file")


def pytest_unconfigure(config: pytest.Config) -> None:
    _COUNTING.close()


def _resumed(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect what ``--resume``'s file lists as done."""
    resume = config.getoption("resume")
    if resume is None:
        return
    lines = resume.read_text().splitlines() if resume.exists() else []
    done = {
        line.removeprefix("done ").partition("\t")[0] for line in lines if line.startswith("done ")
    }
    drop = [item for item in items if item.nodeid in done]
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = [item for item in items if item.nodeid not in done]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _resumed(config, items)
    # pytest-xdist (``make test`` runs two workers with --dist loadgroup): a test file's
    # tests share module-scoped fixtures, so they stay on one worker; each notebook is
    # its own group (they are independent and the slowest tests).
    # The longest files first, so that neither worker is left with one at the end.
    items.sort(key=lambda item: FIRST.index(item.path.stem) if item.path.stem in FIRST else 99)
    for item in items:
        module = item.path.stem
        group = f"{module}::{item.name}" if module == "test_notebooks" else module
        item.add_marker(pytest.mark.xdist_group(group))
    keep, drop = [], []
    for item in items:
        is_x64 = item.originalname.endswith("_x64") if hasattr(item, "originalname") else False
        (keep if is_x64 == X64 else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


#: The share of the mapping limit beyond which a worker drops its programs between tests:
#: below the 0.5 at which ``fit`` drops them, so that no test's second fit finds its first
#: one's programs gone (the compile-budget tests count them).
BETWEEN_TESTS = 0.4


def pytest_runtest_logfinish(nodeid: str, location: object) -> None:
    """After a test and its teardown (a module's fixtures released with its last test):
    drop JAX's compiled programs once the worker holds 40 % of the memory mappings Linux
    allows it; each program keeps a few, and at the limit XLA's compiler segfaults
    (:func:`freqbayes.inference.compilation.release_programs_if_crowded`)."""
    if compilation.release_programs_if_crowded(BETWEEN_TESTS):
        RELEASED.parent.mkdir(parents=True, exist_ok=True)
        with RELEASED.open("a") as log:  # which run released, in which worker, after what
            run = os.environ.get("FREQBAYES_TEST_RUN", "-")
            log.write(f"{run}\t{os.getpid()}\t{_plain(nodeid)}\n")


@pytest.fixture
def strict_promotion():
    """Strict dtype and rank promotion (as equinox tests do) for our own pure-JAX code.

    Not global: NumPyro's samplers rely on implicit rank promotion internally.
    """
    with jax.numpy_rank_promotion("raise"), jax.numpy_dtype_promotion("strict"):
        yield


@pytest.fixture
def compile_events():
    """Counts of JAX's compilation-pipeline events (``jax.monitoring``) during the test."""
    import collections

    from jax import monitoring

    counts: collections.Counter[str] = collections.Counter()

    def listener(event: str, duration: float, **kwargs: object) -> None:
        counts[event] += 1

    monitoring.register_event_duration_secs_listener(listener)
    yield counts
    monitoring.unregister_event_duration_listener(listener)


@pytest.fixture
def thread_pools(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the thread pools started during the test (``map_in_threads``'s), in order."""
    import concurrent.futures

    sizes: list[int] = []

    class Pool(concurrent.futures.ThreadPoolExecutor):
        def __init__(self, workers: int, **kw: Any) -> None:
            sizes.append(workers)
            super().__init__(workers, **kw)

    monkeypatch.setattr(concurrent.futures, "ThreadPoolExecutor", Pool)
    return sizes


@pytest.fixture
def gradient_blocks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Gradients by blocks of 100 rows (``rows.blocked_value_and_grad``, as for big data).

    For MAP, MLE and NUTS fits of small data; yields the list of the terms summed.

    The block sizes are read when a program is traced, so the point estimate's and the
    sampler's compiled programs are dropped before (else one of an earlier test with the
    same shapes would run without blocks) and after (later tests get their own).
    """
    from freqbayes.inference.probabilistic import mcmc, optimize
    from freqbayes.inference.probabilistic import rows as R

    terms: list[Any] = []
    block_sum = R._block_sum

    def counted(term: Any, *args: Any) -> Any:
        terms.append(term)
        return block_sum(term, *args)

    monkeypatch.setenv(R.GRADIENT_BLOCKS, "on")  # whatever the machine's cores
    monkeypatch.setattr(R, "GRADIENT_BLOCK_ROWS", 100)  # 442 or 569 rows: a last block overlaps
    monkeypatch.setattr(R, "GRADIENT_BLOCK_ELEMENTS", 1)
    monkeypatch.setattr(R, "_block_sum", counted)
    programs = (optimize._optimise, mcmc.run_chains)
    for program in programs:
        program.clear_cache()
    yield terms
    for program in programs:
        program.clear_cache()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261128)


def shared_file(*parts: str) -> Path:
    """A file under ../shared: skip where it is absent, fail under CI (CI=true)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        msg = f"{path} is absent (shared reference data lives beside the checkout)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg + "; under CI it must be present")
        pytest.skip(msg)
    return path


def write_csv(path: Path, y: np.ndarray, x: np.ndarray) -> Path:
    """A two-column CSV file (y, x) for the command-line tests."""
    path.write_text("y,x\n" + "\n".join(f"{a:.6g},{b:.6g}" for a, b in zip(y, x, strict=True)))
    return path


@pytest.fixture
def raw_csv(tmp_path: Path) -> Path:
    """y = 20 + 0.6 x + noise with x ~ N(100, 15): raw units, OLS slope near 0.6."""
    rng = np.random.default_rng(7)
    x = rng.normal(100, 15, 300)
    return write_csv(tmp_path / "raw.csv", 20 + 0.6 * x + rng.normal(0, 18, 300), x)


#: Hiragana, katakana or a CJK ideograph: Japanese text.
JAPANESE_TEXT = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def font_misses(page: str) -> set[str]:
    """The Japanese characters of ``page`` that the font it carries has no glyph for."""
    import base64
    import io

    from fontTools.ttLib import TTFont

    found = re.search(r"data:font/ttf;base64,([^)]+)\)", page)
    assert found, "the page carries no Japanese font"
    cmap = TTFont(io.BytesIO(base64.b64decode(found.group(1)))).getBestCmap()
    text = re.sub(r"<style>.*?</style>|<script>.*?</script>|<[^>]*>", "", page, flags=re.S)
    return {c for c in JAPANESE_TEXT.findall(text) if ord(c) not in cmap}
