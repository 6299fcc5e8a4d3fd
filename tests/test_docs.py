"""The README stays true: its two commands, every CLI command documented, CI runs its test command."""

from __future__ import annotations

import re

from typer.main import get_command

from cli import app
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _bash_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)```", README, flags=re.S)


def test_readme_opens_with_run_and_test_commands() -> None:
    first, second = _bash_blocks()[:2]
    run = [line for line in first.splitlines() if not line.startswith("#")]
    test = [line for line in second.splitlines() if not line.startswith("#")]
    assert run == [
        "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/hallway serve sample_exports/"
    ]
    assert test == [
        "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/python -m pytest"
    ]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    test = next(line for line in _bash_blocks()[1].splitlines() if not line.startswith("#"))
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test in ci.splitlines()


def test_every_command_has_help_and_is_in_the_readme() -> None:
    group = get_command(app)
    names = sorted(group.commands)  # type: ignore[attr-defined]
    assert names == [
        "digest",
        "ingest",
        "mcp",
        "policy",
        "publish",
        "redact",
        "reindex",
        "search",
        "serve",
        "stats",
    ]
    for name in names:
        command = group.commands[name]  # type: ignore[attr-defined]
        assert command.help, name
        assert f"`hallway {name}" in README, name


def test_every_search_filter_is_documented() -> None:
    for token in (
        "from:",
        "mentions:",
        "in:",
        "has:",
        "before:",
        "after:",
        "during:",
        "pinned:true",
        "edited:true",
        "is:reply",
        "author:bot",
        '"exact phrase"',
        "tok*",
        "~",
        "OR",
        "NOT",
    ):
        assert token in README, token
