"""No import cycles among metarl's modules, counting every import: at module level, inside functions
and under TYPE_CHECKING alike (a late import only hides a cycle, as ``rl2/learner.py`` <->
``oracle.py`` and ``classic/evaluate.py`` <-> ``bandit.py`` were)."""

from __future__ import annotations

import ast
from pathlib import Path

import metarl

ROOT = Path(metarl.__file__).parent


def _module_name(path: Path) -> str:
    parts = ["metarl", *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.Module, modules: set[str]) -> list[str]:
    """What the module imports; ``from pkg import sub`` counts as importing ``pkg.sub`` only."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in modules]
            out += subs if len(subs) == len(node.names) else [node.module, *subs]
    return out


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        targets = {t for t in _imports(ast.parse(path.read_text()), set(modules)) if t in modules and t != name}
        graph[name] = targets
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_graph_finds_a_cycle_when_there_is_one():
    assert _cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_metarl_has_no_import_cycle():
    assert _cycle(_graph()) is None
