"""The dependency rule of ARCHITECTURE.md, checked on the source: every
import points down the layers, and the three packages keep their distance
(dentare_spec imports neither of the others; mockserver and contract_tests
never import each other)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Layer of each part, lowest first; a module may import its own layer and those below.
LAYERS = {
    "mockserver": {
        "_exceptions": 0, "_resources": 0, "_signals": 0, "settings": 0,
        "domain": 1, "decisions": 2, "store": 2, "api": 3, "web": 4, "tools": 5, "cli": 6, "_workers": 6, "__init__": 6,
    },
    "contract_tests": {
        "_exceptions": 0, "_types": 0, "options": 0, "facts": 1, "transport": 1, "config": 1, "examples": 1,
        "provenance": 1, "expect": 2, "tracking": 2, "api": 3, "context": 4, "registry": 5, "checks": 6,
        "decisions": 6, "suite": 7, "report": 7, "calibrate": 8, "plugin": 8, "test_contract": 9, "conftest": 9,
        "cli": 9,
        "__init__": 9,
    },
}  # fmt: skip
KEEP_APART = {
    "dentare_spec": {"mockserver", "contract_tests"},
    "mockserver": {"contract_tests"},
    "contract_tests": {"mockserver"},
}


def _modules(package: str, root: Path = ROOT) -> Iterator[Path]:
    yield from sorted((root / package).rglob("*.py"))


def _part(package: str, module: Path, root: Path = ROOT) -> str:
    return module.relative_to(root / package).parts[0].removesuffix(".py")


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node but those under `if TYPE_CHECKING:` (a type named for the
    checker only is no dependency at run time)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in [child, *_runtime_nodes(child)])
            continue
        yield node
        yield from _runtime_nodes(node)


def _imports(package: str, module: Path, root: Path = ROOT) -> Iterator[tuple[str, int]]:
    """(absolute dotted name, line) of every run-time import in `module`."""
    here = module.relative_to(root).with_suffix("").parts
    tree = ast.parse(module.read_text(encoding="utf-8"))
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level]
                target = ".".join([*base, *([node.module] if node.module else [])])
                for alias in node.names if not node.module else [None]:
                    yield (f"{target}.{alias.name}" if alias else target), node.lineno
            elif node.module:
                yield node.module, node.lineno


def upward_imports(package: str, layers: dict[str, int], root: Path = ROOT) -> list[str]:
    wrong = []
    for module in _modules(package, root):
        part = _part(package, module, root)
        assert part in layers, f"{module.relative_to(root)}: add its part {part!r} to LAYERS (and ARCHITECTURE.md)"
        for name, line in _imports(package, module, root):
            pieces = name.split(".")
            if pieces[0] != package or len(pieces) < 2:
                continue
            target = pieces[1]
            if target in layers and layers[target] > layers[part]:
                wrong.append(
                    f"{module.relative_to(root)}:{line} ({part}, layer {layers[part]}) imports {name} "
                    f"({target}, layer {layers[target]})"
                )
    return wrong


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_imports_only_point_down(package: str) -> None:
    assert upward_imports(package, LAYERS[package]) == []


@pytest.mark.parametrize("package", sorted(KEEP_APART))
def test_packages_keep_their_distance(package: str) -> None:
    found = [
        f"{module.relative_to(ROOT)}:{line} imports {name}"
        for module in _modules(package)
        for name, line in _imports(package, module)
        if name.split(".")[0] in KEEP_APART[package]
    ]
    assert found == []


def test_the_rule_sees_a_wrong_way_import(tmp_path: Path) -> None:
    """The checker itself, on a tiny package: a store module importing the web
    layer (relatively or not) is reported; a type-only import is not."""
    package = tmp_path / "mockserver"
    for folder in ("store", "web"):
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").write_text("")
    (package / "web" / "app.py").write_text("from ..store import memory\n")
    (package / "store" / "memory.py").write_text(
        "from typing import TYPE_CHECKING\nfrom ..web import app\nimport mockserver.web.app\n"
        "if TYPE_CHECKING:\n    from ..web.app import create_app\n"
    )
    wrong = upward_imports("mockserver", {"store": 1, "web": 2}, tmp_path)
    assert [w.split(" imports ")[1].split(" ")[0] for w in wrong] == ["mockserver.web", "mockserver.web.app"]
