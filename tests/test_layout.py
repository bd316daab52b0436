"""The package's shape: no import cycles, small modules, light imports, no global side effects."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Import name of each source folder (setuptools ``package-dir`` in pyproject.toml).
FOLDERS = {
    "freqbayes": "freqbayes",
    "models": "freqbayes.models",
    "inference": "freqbayes.inference",
}
MAX_LINES = 400
#: A longer module states why in its docstring, with this phrase.
LONG_REASON = "Longer than 400 lines:"


def modules() -> dict[str, Path]:
    """Every module of the package: import name → file."""
    out = {}
    for folder, prefix in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join([prefix, *parts])] = path
    return out


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_edges(name: str, path: Path, known: set[str]) -> set[str]:
    """Package modules that ``name`` imports anywhere: at module level or inside a function.

    An import inside a function still ties the two modules together (and makes a
    cycle when the other imports back); only ``if TYPE_CHECKING:`` blocks, which
    never run, are left out.
    """
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    skipped = {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and _is_type_checking(node)
        for stmt in node.body
        for child in ast.walk(stmt)
    }
    edges: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = alias.name
                while target and target not in known:
                    target = target.rpartition(".")[0]
                if target:
                    edges.add(target)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            for alias in node.names:
                target = f"{base}.{alias.name}"
                if target in known:
                    edges.add(target)
                elif base in known:
                    edges.add(base)
    if path.name == "__init__.py" and "." in name:
        edges |= lazy_edges(tree, package, known)
    edges.discard(name)
    return edges


def lazy_edges(tree: ast.Module, package: str, known: set[str]) -> set[str]:
    """A package's lazy names: the modules its module-level lookup tables name.

    ``_LAZY = {"forest": "forest", ...}`` with ``importlib.import_module`` in a
    ``__getattr__`` imports on first use what a plain import would import at once; the
    tie (and a cycle through it) is the same. A table's string values are read as
    module names, full or relative to the package.
    """
    edges: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Dict):
            for value in node.value.values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    for target in (value.value, f"{package}.{value.value}"):
                        if target in known:
                            edges.add(target)
    return edges


def graph() -> dict[str, set[str]]:
    """Every module → the package modules it imports (anywhere in it)."""
    mods = modules()
    return {name: import_edges(name, path, set(mods)) for name, path in mods.items()}


#: The core: what is assumed and how it is fitted (with its data, tables and diagnostics).
CORE = ("freqbayes.models", "freqbayes.inference")
#: Below everything: the package's own ``__init__`` (lazy names only) and the
#: translation layer; they import nothing of the package.
FOUNDATION = ("freqbayes", "freqbayes.i18n")


def in_core(module: str) -> bool:
    return any(module == c or module.startswith(c + ".") for c in CORE)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (a list of modules, first repeated last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = dfs(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = dfs(node)
            if found:
                return found
    return None


def test_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycles():
    """No cycle at all: not at import time, not through imports inside functions."""
    edges = graph()
    assert sum(len(e) for e in edges.values()) > 200  # the walk does see the imports
    assert find_cycle(edges) is None, " -> ".join(find_cycle(edges) or [])


def test_import_walk_sees_imports_inside_functions(tmp_path):
    source = tmp_path / "m.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import a.hidden\n"
        "def f():\n    from a import b\n    import a.c.d\n"
    )
    known = {"a", "a.b", "a.c", "a.c.d", "a.hidden", "m"}
    assert import_edges("m", source, known) == {"a.b", "a.c.d"}


def test_import_walk_sees_a_packages_lazy_names(tmp_path):
    init = tmp_path / "__init__.py"
    init.write_text('_LAZY = {"f": "b", "g": "p.c.d", "h": "not_a_module"}\n')
    known = {"p", "p.a", "p.a.b", "p.c", "p.c.d"}
    assert import_edges("p.a", init, known) == {"p.a.b", "p.c.d"}


def test_core_stands_below_the_application():
    """models and inference import neither the command line, nor the showcase, the
    lessons, the figures or the saved-fit commands; only the foundation below them."""
    edges = graph()
    up = sorted(
        f"{name} -> {target}"
        for name, targets in edges.items()
        if in_core(name)
        for target in targets
        if not in_core(target) and target not in FOUNDATION
    )
    assert not up, f"the core imports the application: {up}"
    assert {m for m in edges if in_core(m)} >= {"freqbayes.models.data", "freqbayes.models.tables"}
    foundation = sorted(f"{m} -> {t}" for m in FOUNDATION for t in edges[m])
    assert not foundation, f"the foundation imports the package: {foundation}"


def test_no_long_module_without_a_stated_reason():
    long = []
    for name, path in modules().items():
        lines = len(path.read_text().splitlines())
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        if lines > MAX_LINES and LONG_REASON not in doc:
            long.append(f"{name} ({lines} lines)")
    assert not long, f"over {MAX_LINES} lines without '{LONG_REASON} …' in the docstring: {long}"


def _run(code: str) -> dict:
    """Run ``code`` in a fresh interpreter (CPU JAX); it prints one JSON object."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "JAX_PLATFORMS": "cpu"},
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


HEAVY = (
    "numpyro",
    "arviz",
    "arviz_base",
    "arviz_plots",
    "matplotlib",
    "xarray",
    "sklearn",
    "pandas",
)


@pytest.mark.parametrize(
    "statement",
    [
        "from freqbayes import KMeans",
        "from freqbayes import SVC, LinearSVC, SGDClassifier, KNeighborsClassifier",
        "import freqbayes.models, freqbayes.inference",
    ],
)
def test_learners_import_without_numpyro_arviz_matplotlib_or_sklearn(statement):
    loaded = _run(f"import sys, json; {statement}; print(json.dumps(sorted(sys.modules)))")
    heavy = [m for m in HEAVY if m in loaded]
    assert not heavy, f"{statement!r} imported {heavy}"


def test_learners_without_lbfgs_import_no_optax():
    """Only LinearSVC (L-BFGS on its primal) needs optax; the dtype helpers live apart.

    Measured (median of 7 fresh interpreters, interleaved): `from freqbayes import KMeans`
    1.94 s, 2.24 s when optax came with it (its own import: 0.15 s).
    """
    statement = (
        "from freqbayes import KMeans, SVC, SGDClassifier, SGDRegressor, "
        "KNeighborsClassifier, KNeighborsRegressor"
    )
    loaded = _run(f"import sys, json; {statement}; print(json.dumps(sorted(sys.modules)))")
    assert "optax" not in loaded


def test_help_imports_no_jax_and_no_pandas():
    """``--help`` starts at once: 0.26 s with nothing heavy, 1.2 s with pandas (median of 5)."""
    loaded = _run(
        "import sys, json, contextlib, io\n"
        "from freqbayes import cli\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    cli.main(['--help'])\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    cli.main(['run', '--help'])\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    assert not {"jax", "pandas", "numpy"} & set(loaded), sorted(
        {"jax", "pandas", "numpy"} & set(loaded)
    )


def test_importing_everything_leaves_matplotlib_state_unchanged():
    """Figures apply their style per figure; importing sets no rcParams and no backend."""
    names = sorted(modules())
    changed = _run(
        "import json, importlib, matplotlib\n"
        "before = {k: repr(v) for k, v in matplotlib.rcParams.items()}\n"
        "backend = matplotlib.rcParams._get_backend_or_none()\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "after = {k: repr(v) for k, v in matplotlib.rcParams.items()}\n"
        "diff = sorted(k for k in before if before[k] != after[k])\n"
        "now = matplotlib.rcParams._get_backend_or_none()\n"
        "print(json.dumps({'changed': diff, 'backend': [backend, now]}))"
    )
    assert changed["changed"] == []
    assert changed["backend"][0] == changed["backend"][1]


def test_every_package_folder_is_in_the_distribution():
    """pyproject's package list (setuptools' package-dir maps models/ and inference/) names
    every folder with an ``__init__.py``: an installed wheel, not only the editable
    checkout, has them all (five were missing: the lessons, figures, showcase, slides and
    demos imported only from the checkout)."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {name: ROOT / path for name, path in config["package-dir"].items()}
    found = set()
    for name, folder in folders.items():
        for init in folder.rglob("__init__.py"):
            rel = init.parent.relative_to(folder).parts
            found.add(".".join((name, *rel)))
    assert found == set(config["packages"])
