"""Lint, format and type checks run with the suite, so CI enforces them."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.skipif(
    shutil.which("ruff") is None and not (ROOT / ".venv/bin/ruff").exists(), reason="ruff missing"
)
def test_ruff_lint_and_format_are_clean() -> None:
    lint = _run(sys.executable, "-m", "ruff", "check", ".")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = _run(sys.executable, "-m", "ruff", "format", "--check", ".")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy_strict_on_archive_and_indexer() -> None:
    pytest.importorskip("mypy")
    result = _run(sys.executable, "-m", "mypy", "archive", "indexer", "pipeline", "web", "publish", "cli.py")
    assert result.returncode == 0, result.stdout + result.stderr
