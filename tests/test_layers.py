"""The package's layers: every import at any depth (deferred and type-only ones too) goes down or sideways, never up,
and no modules import each other in a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gtask"

# Lowest first. A module may import its own layer and those below it. The package's `__init__` (the public
# names) and `__main__` stand above all layers.
LAYERS = (
    ("gtask.errors", "gtask.faults", "gtask.fsutil", "gtask.version"),
    ("gtask.core", "gtask.importers"),
    ("gtask.gitio",),
    ("gtask.store",),
    ("gtask.gitstate",),
    ("gtask.plan",),
    ("gtask.protocol",),
    ("gtask.output",),
    ("gtask.mcp",),
    ("gtask.cli",),
)
MAX_LINES = 450


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Every gtask module that `path` imports, wherever the import statement stands."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in known else base)
    return {module for module in found if module in known and module != name}


def layer_of(module: str) -> int | None:
    for rank, prefixes in enumerate(LAYERS):
        if any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes):
            return rank
    return None


def import_graph() -> nx.DiGraph:
    found = modules()
    graph = nx.DiGraph()
    for name, path in found.items():
        graph.add_node(name)
        for target in imports_of(name, path, set(found)):
            graph.add_edge(name, target)
    return graph


def test_every_module_belongs_to_a_layer() -> None:
    outside = [m for m in modules() if layer_of(m) is None and m not in ("gtask", "gtask.__main__")]
    assert outside == [], f"modules in no layer (add them to a sub-package): {outside}"


def test_every_sub_package_says_what_it_holds() -> None:
    for init in PACKAGE.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and len(doc.splitlines()) == 1, f"{init}: a one-line docstring"


def test_imports_never_go_up_a_layer() -> None:
    upward = []
    for source, target in import_graph().edges:
        low, high = layer_of(target), layer_of(source)
        if low is not None and high is not None and low > high:
            upward.append(f"{source} -> {target}")
    assert upward == []


def test_no_import_cycles() -> None:
    graph = import_graph()
    graph.remove_nodes_from(["gtask", "gtask.__main__"])
    cycles = list(nx.simple_cycles(graph))
    assert cycles == [], cycles


@pytest.mark.parametrize("name", sorted(modules()))
def test_modules_stay_readable_in_one_sitting(name: str) -> None:
    lines = modules()[name].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{name} has {lines} lines"


def test_the_layer_test_sees_an_upward_import(tmp_path: Path) -> None:
    """The checker itself: an upward import, a relative one and a deferred one are all found."""
    source = tmp_path / "gtask" / "core" / "x.py"
    source.parent.mkdir(parents=True)
    source.write_text("def f():\n    from ..cli import main\n    import gtask.plan.planning\n")
    found = imports_of("gtask.core.x", source, {"gtask.cli.main", "gtask.cli", "gtask.plan.planning"})
    assert found == {"gtask.cli.main", "gtask.plan.planning"}
