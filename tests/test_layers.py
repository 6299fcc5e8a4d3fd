"""Imports run one way: untangle <- archive <- indexer <- web <- cli.py."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from tests.conftest import ROOT

ALLOWED = {
    "untangle": {"untangle"},
    "archive": {"untangle", "archive"},
    "indexer": {"untangle", "archive", "indexer"},
    "web": {"untangle", "archive", "indexer", "web"},
}
LAYERS = {"untangle", "archive", "indexer", "web", "cli"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & LAYERS


def test_layers_import_only_downwards() -> None:
    bad = []
    for package, allowed in ALLOWED.items():
        for path in sorted((ROOT / package).rglob("*.py")):
            for name in sorted(_imports(path) - allowed):
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert bad == []


def test_layers_checker_catches_an_upward_import(tmp_path: Path) -> None:
    p = tmp_path / "x.py"
    p.write_text("import web.app\nfrom indexer import search\nfrom . import sibling\n")
    assert _imports(p) == {"web", "indexer"}


def test_untangle_needs_only_the_standard_library_and_numpy() -> None:
    outside = set()
    for path in sorted((ROOT / "untangle").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in {"numpy", "untangle", "__future__"}:
                    outside.add(f"{path.relative_to(ROOT)} imports {top}")
    assert sorted(outside) == []
