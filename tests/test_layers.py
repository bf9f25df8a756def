"""The import graph of ``src/bassin_kg``: no cycle, and no import from a lower layer to a higher one.

Read with :mod:`ast`, imports inside functions included: a lazy import hides a cycle from Python, not
from this test. The layers are those of ARCHITECTURE.md; a new top-level module or package must be
placed in :data:`LAYERS` before it can be imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "bassin_kg"

#: each top-level module or package of bassin_kg, by layer (0 is the ground); imports point down or sideways
LAYERS: dict[str, int] = {
    "": 0,  # bassin_kg/__init__.py (the version)
    "errors": 0,
    "french": 0,
    "french_csv": 0,
    "namespaces": 0,
    "progress": 0,
    "settings": 0,
    "store": 1,
    "extract": 2,
    "validate": 2,
    "queries": 2,
    "sources": 3,
    "release": 4,
    "web": 5,
    "publish": 6,
    "cli": 7,
}


def modules(src: Path) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its ``__init__``)."""
    found = {}
    for path in sorted((src / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def import_graph(src: Path) -> dict[str, set[str]]:
    """Module -> the modules of the package it imports anywhere in its body."""
    known = modules(src)

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, path in known.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        targets: set[str | None] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets.update(resolve(alias.name) for alias in node.names if alias.name.startswith(PACKAGE))
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    kept = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*kept, *([base] if base else [])])
                if base.split(".")[0] != PACKAGE:
                    continue
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    targets.add(full if full in known else resolve(base))
        graph[module] = {t for t in targets if t is not None and t != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import loops, each once, as a path that ends where it starts."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                found.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def layer_of(module: str) -> int:
    top = module.removeprefix(PACKAGE).removeprefix(".").split(".")[0]
    if top not in LAYERS:
        raise AssertionError(f"{module}: place {top!r} in a layer of LAYERS (tests/test_layers.py)")
    return LAYERS[top]


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """``a -> b`` for every import of a module from a higher layer."""
    return [
        f"{source} -> {target}"
        for source, targets in sorted(graph.items())
        for target in sorted(targets)
        if layer_of(target) > layer_of(source)
    ]


def test_no_import_cycle() -> None:
    assert cycles(import_graph(SRC)) == []


def test_no_import_from_a_higher_layer() -> None:
    assert upward_imports(import_graph(SRC)) == []


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A SYNTHETIC package with a lazy-import loop and an upward import, as the checks must see them."""
    package = tmp_path / PACKAGE
    (package / "sources").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sources" / "__init__.py").write_text("")
    (package / "sources" / "a.py").write_text("def f():\n    from bassin_kg.sources import b\n")
    (package / "sources" / "b.py").write_text("from . import a\nfrom bassin_kg.web.app import create_app\n")
    (package / "web").mkdir()
    (package / "web" / "__init__.py").write_text("")
    (package / "web" / "app.py").write_text("")
    return tmp_path


def test_a_lazy_import_loop_is_a_cycle(tree: Path) -> None:
    assert cycles(import_graph(tree)) == [
        ["bassin_kg.sources.a", "bassin_kg.sources.b", "bassin_kg.sources.a"],
    ]


def test_an_import_of_a_higher_layer_is_named(tree: Path) -> None:
    assert upward_imports(import_graph(tree)) == ["bassin_kg.sources.b -> bassin_kg.web.app"]


def test_a_module_outside_the_layers_must_be_placed(tree: Path) -> None:
    (tree / PACKAGE / "helpers.py").write_text("")
    (tree / PACKAGE / "web" / "app.py").write_text("from bassin_kg import helpers\n")
    with pytest.raises(AssertionError, match="place 'helpers' in a layer"):
        upward_imports(import_graph(tree))
