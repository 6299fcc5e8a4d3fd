"""Imports run one way: untangle <- archive <- indexer <- pipeline <- web <- publish <- cli.py; the MCP server (in web) is
used only by cli.py and web/app.py."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from tests.conftest import ROOT

ALLOWED = {
    "untangle": {"untangle"},
    "archive": {"untangle", "archive"},
    "indexer": {"untangle", "archive", "indexer"},
    "pipeline": {"untangle", "archive", "indexer", "pipeline"},
    "web": {"untangle", "archive", "indexer", "pipeline", "web"},
    "publish": {"untangle", "archive", "indexer", "pipeline", "web", "publish"},
}
LAYERS = {"untangle", "archive", "indexer", "pipeline", "web", "publish", "cli"}


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


# The MCP server is a surface like the viewer: only the CLI and the app's optional /mcp mount use it.
MCP_MODULES = {"web.mcp_server", "web.mcp_tools", "web.mcp_results", "web.mcp_digest", "web.mcp_transcripts"}
MCP_IMPORTERS = {
    "cli.py",
    "web/app.py",
    "web/mcp_server.py",
    "web/mcp_tools.py",
    "web/mcp_digest.py",
    "web/mcp_transcripts.py",
}


def _module_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_layers_only_the_cli_and_app_import_the_mcp_server() -> None:
    sources = [
        ROOT / "cli.py",
        *sorted(p for d in ("untangle", "archive", "indexer", "web") for p in (ROOT / d).rglob("*.py")),
    ]
    users = {str(p.relative_to(ROOT)) for p in sources if _module_imports(p) & MCP_MODULES}
    assert users == MCP_IMPORTERS
