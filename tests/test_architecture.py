"""The shape of the source: small modules and functions, no import cycles, WeasyPrint behind one door.

Read from the source with ``ast``, without importing it, so these run in a blink. That importing
every module leaves WeasyPrint's ``make_margin_boxes`` its own is tested in test_weasy_internals.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "zinepress"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60
WEASYPRINT_DOOR = "zinepress.paged.weasy"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
TREES = {name: ast.parse(path.read_text(encoding="utf-8"), str(path)) for name, path in MODULES.items()}


def imported_names(name: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The full names an import statement of module ``name`` asks for (``from . import x`` → ``pkg.x``)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        package = name.split(".") if MODULES[name].name == "__init__.py" else name.split(".")[:-1]
        base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else []))
    else:
        base = node.module or ""
    return [base] + [f"{base}.{alias.name}" for alias in node.names]


def own_module(full_name: str) -> str | None:
    """The zinepress module a name lives in (the longest prefix that is one), or None."""
    while full_name and full_name not in MODULES:
        full_name = full_name.rpartition(".")[0]
    return full_name or None


def top_level_imports(tree: ast.Module):
    """The imports run when the module is imported: at top level, in ``try`` and ``if`` blocks
    (not ``if TYPE_CHECKING:``), not inside functions."""
    pending = list(tree.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If):
            if not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
                pending += node.body + node.orelse
        elif isinstance(node, ast.Try):
            pending += node.body + node.orelse + node.finalbody + [n for h in node.handlers for n in h.body]


def import_graph() -> dict[str, set[str]]:
    """Module → the zinepress modules its import runs first, with the packages they are in
    (but the root package, which is always imported first)."""
    graph = {}
    for name, tree in TREES.items():
        needed = set()
        for node in top_level_imports(tree):
            for full in imported_names(name, node):
                module = own_module(full)
                while module and module != "zinepress":
                    needed.add(module)
                    module = module.rpartition(".")[0]
        graph[name] = needed - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_is_over_500_lines():
    lines = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in MODULES.items()}
    long = [f"{name} ({count} lines)" for name, count in lines.items() if count > MAX_MODULE_LINES]
    assert not long, f"modules over {MAX_MODULE_LINES} lines: " + "; ".join(long)


def test_no_function_is_over_60_lines():
    long = [f"{MODULES[name].relative_to(PACKAGE.parent)}:{node.lineno} {node.name} "
            f"({node.end_lineno - node.lineno + 1} lines)"
            for name, tree in TREES.items() for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: " + "; ".join(long)


def test_no_import_cycles():
    found = cycles(import_graph())
    assert not found, "import cycles: " + "; ".join(" ↔ ".join(group) for group in found)


def test_only_the_adapter_imports_weasyprint():
    importers = sorted(f"{MODULES[name].relative_to(PACKAGE.parent)}:{node.lineno}"
                       for name, tree in TREES.items() if name != WEASYPRINT_DOOR
                       for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                       and not getattr(node, "level", 0)
                       and any(full.split(".")[0] == "weasyprint" for full in imported_names(name, node)))
    assert not importers, f"only {WEASYPRINT_DOOR} may import WeasyPrint; also: " + ", ".join(importers)


@pytest.mark.parametrize("source, expected", [
    ("import zinepress.b\n", [["zinepress.a", "zinepress.b"]]),
    ("def later():\n    import zinepress.b\n", []),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import b\n", []),
])
def test_the_cycle_finder_sees_only_imports_that_run(source, expected, monkeypatch):
    """A cycle through module-level imports is found; a deferred or type-checking import is none."""
    monkeypatch.setitem(MODULES, "zinepress.a", PACKAGE / "a.py")
    monkeypatch.setitem(MODULES, "zinepress.b", PACKAGE / "b.py")
    trees = {"zinepress.a": ast.parse(source), "zinepress.b": ast.parse("from . import a\n")}
    monkeypatch.setattr(f"{__name__}.TREES", trees)
    assert cycles(import_graph()) == expected
