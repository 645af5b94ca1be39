"""No import cycles between dlexpert's modules, counting every import that runs (function-level ones included).

The graph is built from the source with `ast`, one node per module: `from .x import y` is an edge to the submodule
`x.y` when `y` is one, else to `x`; `import dlexpert.a.b` is an edge to `dlexpert.a.b` only (Python also runs
`dlexpert/a/__init__.py`, but counting that would make every package one cycle). Imports under
`if TYPE_CHECKING:` do not run and are skipped.
"""

from __future__ import annotations

import ast
from pathlib import Path

import dlexpert

SRC = Path(dlexpert.__file__).parent
PACKAGE = "dlexpert"


def _modules() -> dict[str, Path]:
    """Module name -> file, for every module under src/dlexpert (a package is its `__init__.py`)."""
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement at any depth except in the body of an `if TYPE_CHECKING:` block."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, modules: set[str]) -> set[str]:
    """The dlexpert modules one import statement names."""
    if isinstance(node, ast.Import):
        return {a.name for a in node.names if a.name in modules}
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if target.split(".")[0] != PACKAGE:
        return set()
    out = set()
    for alias in node.names:
        sub = f"{target}.{alias.name}"
        if sub in modules:
            out.add(sub)  # `from .pkg import submodule`
        elif target in modules:
            out.add(target)
    return out


def import_graph() -> dict[str, set[str]]:
    """Module -> the dlexpert modules it imports at run time."""
    modules = _modules()
    names = set(modules)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        edges: set[str] = set()
        for node in _runtime_imports(tree):
            edges |= _targets(node, name, is_package, names)
        graph[name] = edges - {name}
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (as a closed path) per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def strongconnect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                components.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    return [_a_cycle(graph, comp) for comp in components]


def _a_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A shortest closed path through the component's first module (breadth-first), for the failure message."""
    start, members = component[0], set(component)
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & members):
                if w == start:  # walk back from v to start
                    path = [v]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return [*reversed(path), start]
                if w not in parent:
                    parent[w] = v
                    nxt.append(w)
        frontier = nxt
    return component  # unreachable for a strongly connected component


def test_the_graph_sees_runtime_imports() -> None:
    graph = import_graph()
    assert "dlexpert._registry" in graph["dlexpert.data._registry"]
    # a function-level import counts: create_monitors imports AutoRemedy when called
    assert "dlexpert.monitor.remedy" in graph["dlexpert.monitor._registry"]


def test_find_cycles_reports_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": {"a"}}) == [["a", "b", "a"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_edges_follow_the_rules_of_the_module_docstring(tmp_path: Path) -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "from . import _registry, errors\n"  # submodules of the package
        "from .deploy import file_size\n"  # a name from a package: its __init__
        "import dlexpert.deploy.bench\n"  # the module named, not its parent packages
        "if TYPE_CHECKING:\n    from .report import card\n"  # does not run
        "def f():\n    from .compress import _compress\n"  # runs when f is called
    )
    modules = set(_modules())
    found = set()
    for node in _runtime_imports(tree):
        found |= _targets(node, "dlexpert.pipeline", False, modules)
    assert found == {
        "dlexpert._registry",
        "dlexpert.errors",
        "dlexpert.deploy",
        "dlexpert.deploy.bench",
        "dlexpert.compress._compress",
    }


def test_no_import_cycles() -> None:
    # Break a cycle by moving what both sides share into a module both import (as deploy/variants.py does for
    # compress and bench), or by passing a function in (report.html takes `render_card` from report.card).
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles between dlexpert modules:\n" + "\n".join(" -> ".join(c) for c in cycles)
