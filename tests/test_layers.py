"""Imports point one way: hrops -> workflows -> agents -> tools (leaf modules of hrops excepted)."""

from __future__ import annotations

import ast

from tests.conftest import REPO

ORDER = ["hrops", "workflows", "agents", "tools"]
LEAVES = {"hrops.settings", "hrops.clock", "hrops.logging"}


def _imports(path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_imports_point_one_way() -> None:
    wrong = []
    for layer_index, layer in enumerate(ORDER):
        for path in (REPO / layer).rglob("*.py"):
            for name in _imports(path):
                top = name.split(".")[0]
                if top in ORDER and ORDER.index(top) < layer_index and name not in LEAVES:
                    wrong.append(f"{path.relative_to(REPO)} imports {name}")
    assert wrong == []


def test_leaf_modules_import_nothing_of_ours() -> None:
    for leaf in LEAVES:
        path = REPO / (leaf.replace(".", "/") + ".py")
        ours = {n for n in _imports(path) if n.split(".")[0] in ORDER}
        assert ours <= LEAVES, f"{leaf} imports {ours - LEAVES}"
