"""The imports of bot/ and domain/, read from the code with ast: every import statement of a
file, those that run when it is imported, and the graph of modules they make."""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BOT = ROOT / "bot"
DOMAIN = ROOT / "domain"


@dataclass(frozen=True, repr=False)
class Import:
    """One import statement: where it is, as written, and the dotted names it may bring in
    (``from a.b import c`` may mean the module ``a.b`` or its submodule ``a.b.c``)."""

    path: Path
    line: int
    statement: str
    targets: tuple[str, ...]

    def reaches(self, package: str) -> bool:
        return any(t == package or t.startswith(package + ".") for t in self.targets)

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}: {self.statement}"

    __repr__ = __str__


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def python_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "migrations" not in p.parts)


@cache
def parsed(path: Path) -> tuple[ast.Module, str]:
    source = path.read_text(encoding="utf-8")
    return ast.parse(source), source


def as_import(path: Path, node: ast.Import | ast.ImportFrom) -> Import:
    _, source = parsed(path)
    written = " ".join((ast.get_source_segment(source, node) or "").split())
    statement = written.replace("( ", "(").replace(", )", ")").replace(" )", ")")
    if isinstance(node, ast.Import):
        return Import(path, node.lineno, statement, tuple(a.name for a in node.names))
    base = node.module or ""
    if node.level:  # relative: from the importing module's package upwards
        package = module_name(path).split(".")
        if path.name != "__init__.py":
            package = package[:-1]
        up = package[: len(package) - node.level + 1]
        base = ".".join([*up, base] if base else up)
    targets = (base, *(f"{base}.{a.name}" for a in node.names))
    return Import(path, node.lineno, statement, targets)


def all_imports(path: Path) -> list[Import]:
    """Every import in the file: module level, inside functions, under TYPE_CHECKING."""
    tree, _ = parsed(path)
    return [
        as_import(path, node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]


def runtime_imports(path: Path) -> list[Import]:
    """The imports that run when the module is imported: module level, not inside a
    function, not under ``if TYPE_CHECKING:``."""
    tree, _ = parsed(path)
    return [as_import(path, node) for node in _import_time_statements(tree.body)]


def _import_time_statements(body: Iterable[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if "TYPE_CHECKING" not in ast.unparse(node.test):
                yield from _import_time_statements(node.body)
            yield from _import_time_statements(node.orelse)
        elif isinstance(node, ast.Try | ast.TryStar):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _import_time_statements(block)
            for handler in node.handlers:
                yield from _import_time_statements(handler.body)
        elif isinstance(node, ast.With | ast.AsyncWith | ast.ClassDef):
            yield from _import_time_statements(node.body)


def import_graph() -> dict[str, dict[str, Import]]:
    """module -> {module it imports at import time: the import statement}, for bot/ and
    domain/; an import of the module's own package (its ``__init__`` re-exports) is left out."""
    paths = {module_name(p): p for folder in (BOT, DOMAIN) for p in python_files(folder)}
    graph: dict[str, dict[str, Import]] = {}
    for name, path in paths.items():
        edges = graph.setdefault(name, {})
        for found in runtime_imports(path):
            for target in found.targets:
                while target and target not in paths:
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(target + "."):
                    edges.setdefault(target, found)
    return graph


def strongly_connected(graph: dict[str, dict[str, Import]]) -> list[list[str]]:
    """Tarjan's algorithm: the groups of two or more modules that reach each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while (w := stack.pop()) != v:
                group.append(w)
            if group:
                groups.append(sorted([v, *group]))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


def shortest_cycle(graph: dict[str, dict[str, Import]], group: list[str]) -> list[Import]:
    """The imports of one shortest circle through the group's first module."""
    start, members = group[0], set(group)
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        v = queue.popleft()
        for w in sorted(graph[v]):
            if w not in members or w in came_from:
                continue
            came_from[w] = v
            if w == start:
                path, at = [], start
                while True:
                    path.append(graph[came_from[at]][at])
                    at = came_from[at]
                    if at == start:
                        return path[::-1]
            queue.append(w)
    raise AssertionError(f"no circle through {start}")
