"""Imports run one way: archive <- indexer <- pipeline <- web <- cli.py."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

ALLOWED = {
    "archive": {"archive"},
    "indexer": {"archive", "indexer"},
    "pipeline": {"archive", "indexer", "pipeline"},
    "web": {"archive", "indexer", "pipeline", "web"},
}
LAYERS = {"archive", "indexer", "pipeline", "web", "cli"}


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
