"""The import graph: floors that only look down, and no circle anywhere.

Every ``import`` of the project's packages is read with `ast`, at module level and inside functions (a lazy
import is still a dependency) and under ``TYPE_CHECKING`` (an annotation is one too). Entry points
(``__main__.py``) obey the same rules.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("spectrum_suite", "dataset_cards", "metrics", "tuning", "bench")

#: The floors, lowest first: a module may import its own floor and the ones below, never one above. A module
#: belongs to the floor of the longest prefix that names it.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ground floor: what a task is and the build contract", ("spectrum_suite.task",)),
    (
        "the data: sources, fetching, episodes, builder, formats, k selection",
        ("spectrum_suite", "dataset_cards"),
    ),
    ("the measures: evaluate modules", ("metrics",)),
    ("the method: running models, evaluation, tuning", ("tuning",)),
    (
        "the data's command line and the lm-evaluation-harness export: the items tuning.eval scores, written for "
        "the harness, which then runs only the measures (metrics.harness)",
        ("spectrum_suite.__main__", "spectrum_suite.harness"),
    ),
    ("benchmarks", ("bench",)),
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in sorted((REPO / pkg).rglob("*.py"))}


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules ``name`` imports: ``from a import b`` is module ``a.b`` when that is one, else ``a``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            for alias in node.names:
                child = f"{origin}.{alias.name}"
                found.add(child if child in known else origin)
    return {m for m in found if m in known and m != name}


def graph() -> dict[str, set[str]]:
    modules = project_modules()
    known = set(modules)
    return {name: imported(name, path, known) for name, path in modules.items()}


def layer_of(module: str) -> int:
    best, floor = -1, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, floor = len(prefix), index
    if floor < 0:
        raise AssertionError(f"{module} belongs to no floor of LAYERS")
    return floor


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each a circle of imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_a_floor_above_its_own() -> None:
    edges = graph()
    upward = [
        f"{src} ({LAYERS[layer_of(src)][0]}) imports {dst} ({LAYERS[layer_of(dst)][0]})"
        for src, targets in sorted(edges.items())
        for dst in sorted(targets)
        if layer_of(dst) > layer_of(src)
    ]
    assert not upward, "\n".join(upward)


def test_the_ground_floor_imports_nothing_of_the_project() -> None:
    assert graph()["spectrum_suite.task"] == set()


def test_each_source_adapter_stands_on_its_own() -> None:
    """An adapter imports no other adapter: what several share lives in `spectrum_suite.sourcekit`."""
    edges = graph()
    adapters = {m for m in edges if m.startswith("spectrum_suite.sources.")}
    assert len(adapters) > 40
    assert {src: sorted(edges[src] & adapters) for src in adapters if edges[src] & adapters} == {}
    assert not [m for m in edges if m.startswith("spectrum_suite.sourcekit") and edges[m] & adapters]


def test_no_circle_of_imports() -> None:
    assert cycles(graph()) == []


def test_the_checks_can_fail() -> None:
    """The reader sees relative, lazy and type-only imports, and the two checks catch what they should."""
    edges = graph()
    assert "spectrum_suite.task" in edges["spectrum_suite.fetch"]  # from .task import (...)
    assert "spectrum_suite.builder" in edges["spectrum_suite.__main__"]  # a lazy import inside a function
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert layer_of("spectrum_suite.task") < layer_of("spectrum_suite.fetch") < layer_of("metrics.coverage")
    assert layer_of("metrics") < layer_of("tuning.eval.cli") < layer_of("spectrum_suite.harness.export")
    assert layer_of("metrics.harness") < layer_of("tuning")  # what the harness imports at run time
    with pytest.raises(AssertionError, match="no floor"):
        layer_of("elsewhere")
