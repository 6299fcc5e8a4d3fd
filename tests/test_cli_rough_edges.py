"""The command line's first-contact edges: ports, flags, --version, one-line errors."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from tests.factory import msg, write_export
from tests.live import ROOT, build_data_dir, free_port

runner = CliRunner()
COMMANDS = [
    "ingest",
    "stats",
    "redact",
    "reindex",
    "search",
    "serve",
    "digest",
    "mcp",
    "policy",
    "policy show",
]


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert (result.exit_code, result.stdout) == (0, "hallway 0.1.0\n")


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_shows_flags_without_a_bool_placeholder(command: str) -> None:
    result = runner.invoke(app, [*command.split(), "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0 and "--help" in result.stdout
    assert "<bool>" not in result.stdout


@pytest.mark.parametrize("word", ["true", "false", "yes"])
def test_ingest_flag_with_a_value_is_one_clear_line(tmp_path: Path, word: str) -> None:
    result = runner.invoke(app, ["ingest", "--salvage", word, "--data-dir", str(tmp_path / "d")])
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: '{word}' is not an export: --salvage, --force and --quiet take no value "
        f"(write `--salvage`, not `--salvage {word}`)\n",
    )


@pytest.mark.parametrize("port", ["99999", "0", "-1"])
def test_serve_bad_port_is_one_line(tmp_path: Path, port: str) -> None:
    result = runner.invoke(app, ["serve", "--port", port, "--data-dir", str(tmp_path)])
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: --port {port} is not a TCP port: choose one from 1 to 65535\n",
    )


def test_serve_port_taken_is_one_line_and_says_nothing_about_serving(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["serve", "--port", str(port), "--data-dir", str(tmp_path)])
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: cannot listen on 127.0.0.1:{port}: the port is in use (another server?); choose another --port\n",
    )


def test_serve_without_base_url_warns_that_citations_point_here(tmp_path: Path) -> None:
    build_data_dir(
        tmp_path / "data", [write_export(tmp_path / "e.json", [msg(0, "hi")])], conversations=False
    )
    port = free_port()
    cmd = [
        sys.executable,
        str(ROOT / "cli.py"),
        "serve",
        "--data-dir",
        str(tmp_path / "data"),
        "--port",
        str(port),
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        first, second = proc.stderr.readline(), proc.stderr.readline()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert first == (
        f"warning: Permalinks and citations use http://127.0.0.1:{port}, which works only on this machine: "
        "start the viewer with `hallway serve --base-url https://your.public.address` before citing.\n"
    )
    assert second.startswith("serving ")
