"""The repository's import graph: function-local imports and import cycles, from the source alone.

Reads every module of the packages ``sim``, ``rewards``, ``planners`` and ``robolearn`` with ``ast``
(nothing is imported, so it runs in a bare interpreter) and prints two tables:

1. **Function-local imports** per package (of repository modules and of other packages): ``import`` statements inside a function or method body,
   excluding those under ``if TYPE_CHECKING:``. They hide a module's dependencies and, when they exist to
   dodge a cycle, the cycle too. ``--list`` prints each with its line's comment (the reason it stays).
2. **Import cycles** among the repository's modules (strongly connected components of the graph), at three
   levels: module-level imports that run (``runtime``); plus the ``if TYPE_CHECKING:`` ones
   (``+type_checking``: annotations only, harmless but a sign of tangled layers); plus the function-local
   ones (``+function_local``: the cycles that function-local imports hide).

``import a.b.c`` is an edge to ``a.b.c``; ``from a.b import c`` is an edge to ``a.b.c`` when that is a
module, else to ``a.b``. Parent packages' ``__init__`` modules are not counted as imported.

    python benchmarks/import_graph.py            # tables
    python benchmarks/import_graph.py --list     # ... and every function-local import
    python benchmarks/import_graph.py --root /tmp/other-checkout
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGES = ("sim", "rewards", "planners", "robolearn")
LEVELS = ("runtime", "type_checking", "function_local")


@dataclass(frozen=True)
class Import:
    """One import of a module: from ``source`` to ``target``, at a ``level`` of ``LEVELS``."""

    source: str
    target: str | None  # the repository module imported; None for the standard library and third parties
    level: str
    line: int
    text: str  # the source line, comment included


def module_name(root: Path, path: Path) -> str:
    """Dotted module name of ``path`` (``pkg/__init__.py`` → ``pkg``)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def find_modules(root: Path) -> dict[str, Path]:
    """Every module of ``PACKAGES`` under ``root``, by dotted name."""
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "conf" in path.relative_to(root).parts[1:2]:  # robolearn/conf holds YAML, no code
                continue
            found[module_name(root, path)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    """Whether an ``if`` test is ``TYPE_CHECKING`` or ``typing.TYPE_CHECKING``."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST, level: str) -> Iterator[tuple[ast.Import | ast.ImportFrom, str]]:
    """Every import under ``node`` with its level; a function body makes its imports function-local."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child, level
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            # TYPE_CHECKING inside a function stays type_checking: it never runs either.
            yield from _walk(child, "function_local" if level == "runtime" else level)
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for stmt in child.body:
                yield from _walk(ast.Module(body=[stmt], type_ignores=[]), "type_checking")
            for stmt in child.orelse:
                yield from _walk(ast.Module(body=[stmt], type_ignores=[]), level)
        else:
            yield from _walk(child, level)


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """``name`` or its nearest enclosing package that is a repository module (None: outside the repo)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    """The imports of one module: one per repository module imported, one per other import statement."""
    source = path.read_text()
    lines = source.splitlines()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node, level in _walk(ast.parse(source, str(path)), "runtime"):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:  # relative: climb level - 1 packages above this module's package
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        text = lines[node.lineno - 1].strip()
        resolved = {r for r in (_resolve(t, modules) for t in targets) if r is not None and r != module}
        if not resolved and not any(_resolve(t, modules) for t in targets):
            found.append(Import(module, None, level, node.lineno, text))
        found += [Import(module, r, level, node.lineno, text) for r in sorted(resolved)]
    return found


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
    return sorted(components)


def shortest_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One shortest cycle through the component's first module (breadth-first, inside the component)."""
    members = set(component)
    start = component[0]
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    return [*reversed(path), start]
                if child not in parents:
                    parents[child] = node
                    following.append(child)
        frontier = following
    return component  # pragma: no cover - a component always holds a cycle through each member


def table(rows: list[list[str]], header: list[str]) -> str:
    """A plain-text table, columns padded to their widest cell."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths)), "  ".join("-" * w for w in widths)]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(out)


def repository_imports(root: Path) -> tuple[dict[str, Path], list[Import]]:
    """Every module of the checkout at ``root`` and every import they make."""
    modules = find_modules(root)
    return modules, [e for m, p in modules.items() for e in imports_of(m, p, modules)]


def function_local(edges: list[Import]) -> list[Import]:
    """The function-local import statements, one per statement (``from a import b, c`` is one)."""
    return list({(e.source, e.line): e for e in edges if e.level == "function_local"}.values())


def import_graph(modules: dict[str, Path], edges: list[Import], level: str) -> dict[str, set[str]]:
    """Module → the repository modules it imports, counting imports up to ``level`` of ``LEVELS``."""
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for e in edges:
        if e.target is not None and LEVELS.index(e.level) <= LEVELS.index(level):
            graph[e.source].add(e.target)
    return graph


def import_cycles(modules: dict[str, Path], edges: list[Import], level: str) -> list[list[str]]:
    """The import cycles (strongly connected components) counting imports up to ``level`` of ``LEVELS``."""
    return strongly_connected(import_graph(modules, edges, level))


def main() -> None:
    """Print the function-local import counts and the import cycles of the checkout at ``--root``."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1], help="repository root")
    parser.add_argument("--list", action="store_true", help="print every function-local import")
    args = parser.parse_args()

    modules, edges = repository_imports(args.root)
    local = function_local(edges)

    def counts(group: list[Import]) -> list[str]:
        repo = sum(e.target is not None for e in group)
        return [str(len(group)), str(repo), str(len(group) - repo), str(sum("#" in e.text for e in group))]

    rows = [[p, *counts([e for e in local if e.source.split(".")[0] == p])] for p in PACKAGES]
    rows.append(["total", *counts(local)])
    print("Function-local import statements (not under TYPE_CHECKING)\n")
    print(table(rows, ["package", "statements", "of the repository", "of other packages", "with a comment"]))
    if args.list:
        print()
        print(
            table(
                [[f"{modules[e.source].relative_to(args.root)}:{e.line}", e.text] for e in local],
                ["where", "statement"],
            )
        )

    print("\nImport cycles among repository modules\n")
    rows = []
    for depth, level in enumerate(LEVELS):
        level_name = level if depth == 0 else f"+{level}"
        graph = import_graph(modules, edges, level)
        components = strongly_connected(graph)
        if not components:
            rows.append([level_name, "-", "-", "-"])
        for component in components:
            packages = ",".join(sorted({m.split(".")[0] for m in component}))
            cycle = " -> ".join(shortest_cycle(graph, component))
            rows.append([level_name, " ".join(component), packages, cycle])
    print(table(rows, ["imports counted", "modules in the cycle", "packages", "a shortest cycle"]))


if __name__ == "__main__":
    main()
