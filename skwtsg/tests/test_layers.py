"""The layers of the package: a module never imports from a layer above its own.

Imports are read with :mod:`ast` from the source files (tests left out), so
that imports inside functions count as much as those at the top of a module.
``FORBIDDEN`` maps a package to the packages none of its modules may import;
extend it as more layers are pinned down.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # the skwtsg folder

#: The layers, bottom up: a module imports only from the layers below its own
#: (and from its own package). The package's ``__init__`` re-exports from all.
LAYERS = [
    ["skwtsg._utils", "skwtsg._roles"],
    ["skwtsg.heads"],
    ["skwtsg.featurizers"],
    ["skwtsg.datasets"],  # may use featurizers, never the reverse
    ["skwtsg.metrics"],
    ["skwtsg._diagnostics"],
    ["skwtsg._backends"],
    ["skwtsg._engine", "skwtsg._w2s", "skwtsg._classifier"],
    ["skwtsg.model_selection", "skwtsg.plot"],
    ["skwtsg.experiments", "skwtsg.__main__"],
]

#: package -> packages that no module of it (or of its subpackages) imports:
#: every package of a higher layer.
FORBIDDEN = {
    package: [above for layer in LAYERS[i + 1 :] for above in layer]
    for i, packages in enumerate(LAYERS)
    for package in packages
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources():
    """``{module name: path}`` of the package's modules, tests left out."""
    return {
        _module_name(path): path
        for path in sorted(PACKAGE_ROOT.rglob("*.py"))
        if "tests" not in path.relative_to(PACKAGE_ROOT).parts
        and path.name != "conftest.py"
    }


def imports(module: str, source: str) -> list[tuple[int, set[str]]]:
    """``(line, names)`` of each import statement of ``source`` (``module``'s text).

    The names are absolute. ``from . import x`` and ``from .a import x`` are
    resolved against the module's package (``module`` ends in ``.__init__``
    for a package's own file); ``from p import x`` names ``p`` and ``p.x``
    (``x`` may be a submodule).

    Examples
    --------
    >>> source = "import numpy, os; from ..metrics import fit_line"
    >>> [sorted(names) for _, names in imports("skwtsg.plot._base", source)]
    [['numpy', 'os'], ['skwtsg.metrics', 'skwtsg.metrics.fit_line']]
    """
    package = module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.append((node.lineno, {alias.name for alias in node.names}))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package[: len(package) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names = {base} | {f"{base}.{alias.name}" for alias in node.names}
            found.append((node.lineno, names))
    return sorted(found, key=lambda item: item[0])


def _inside(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _violations(sources: dict) -> list[str]:
    """One line per import statement that crosses a line of ``FORBIDDEN``."""
    out = []
    for module, path in sources.items():
        if path.name == "__init__.py":  # a package imports relative to itself
            module += ".__init__"
        statements = imports(module, path.read_text(encoding="utf-8"))
        for package, banned in FORBIDDEN.items():
            if not _inside(module, package):
                continue
            out.extend(
                f"{path}:{line}: {module} imports {above} "
                f"({package} must not import {above})"
                for line, names in statements
                for above in banned
                if any(_inside(name, above) for name in names)
            )
    return out


def test_no_module_imports_a_forbidden_layer():
    assert _violations(_sources()) == []


def test_every_module_has_a_layer():
    packages = [p for layer in LAYERS for p in layer]
    unplaced = [
        m
        for m in _sources()
        if m != "skwtsg" and not any(_inside(m, p) for p in packages)
    ]
    assert unplaced == []


def _graph(sources: dict) -> dict[str, set[str]]:
    """Module -> the package modules it imports (a package stands for its
    ``__init__``; a name resolves to the longest module it is inside)."""
    graph = {}
    for module, path in sources.items():
        own = module + ".__init__" if path.name == "__init__.py" else module
        edges = set()
        for _, names in imports(own, path.read_text(encoding="utf-8")):
            for name in names:
                while name and name not in sources:
                    name = name.rpartition(".")[0]
                if name and name != module:
                    edges.add(name)
        graph[module] = edges
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected sets of more than one module (Tarjan), leaving out
    a package's ``__init__`` re-exporting its own submodules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out = []

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
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            leaves = [
                c
                for c in component
                if not any(o.startswith(c + ".") for o in component)
            ]
            if len(leaves) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    assert _cycles(_graph(_sources())) == []


def test_the_cycle_check_sees_a_cycle(tmp_path):
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("def f():\n    from .b import g\n")
    b.write_text("from .a import f\n")
    graph = _graph({"skwtsg.metrics.a": a, "skwtsg.metrics.b": b})
    assert _cycles(graph) == [["skwtsg.metrics.a", "skwtsg.metrics.b"]]


@pytest.mark.parametrize(
    "module, source",
    [
        ("skwtsg.featurizers._x", "from ..datasets import fetch_esol"),
        ("skwtsg.featurizers._x", "def f():\n    import skwtsg.datasets._base\n"),
        ("skwtsg.plot._x", "from ..experiments._tables import selection_inputs"),
        ("skwtsg.plot._x", "from skwtsg import experiments"),
        ("skwtsg.plot.__init__", "from ..experiments import run_cases"),
    ],
)
def test_the_check_sees_a_forbidden_import(tmp_path, module, source):
    is_package = module.endswith(".__init__")
    path = tmp_path / ("__init__.py" if is_package else "module.py")
    path.write_text(source, encoding="utf-8")
    module = module.removesuffix(".__init__")
    assert len(_violations({module: path})) == 1


def test_allowed_imports_pass(tmp_path):
    path = tmp_path / "module.py"
    path.write_text("from ..metrics import fit_line\nfrom ._base import X\n")
    assert _violations({"skwtsg.plot._x": path}) == []
