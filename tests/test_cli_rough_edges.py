"""The command line's first-contact edges: ports, flags, --version, one-line errors."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import orjson
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


def test_search_on_a_missing_data_dir_says_what_works(tmp_path: Path) -> None:
    where = tmp_path / "nothing"
    result = runner.invoke(app, ["search", "x", "--data-dir", str(where)])
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: no archive at {where}: ingest exports first (`hallway ingest PATH --data-dir {where}`), "
        "or point --data-dir (or HALLWAY_DATA_DIR) at the folder you ingested into\n",
    )


def test_ingest_summary_says_1_file_and_1_message(tmp_path: Path) -> None:
    path = write_export(tmp_path / "one.json", [msg(0, "only one")])
    result = runner.invoke(app, ["ingest", str(path), "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert "1 file: 1 ingested (0 partial)" in result.stderr
    assert "1 message indexed" in result.stderr
    assert "1 files" not in result.stderr and "1 messages" not in result.stderr


def test_stats_table_shows_human_sizes_and_no_internals(tmp_path: Path) -> None:
    path = write_export(tmp_path / "one.json", [msg(0, "only one")])
    assert runner.invoke(app, ["ingest", str(path), "--data-dir", str(tmp_path / "d")]).exit_code == 0
    table = runner.invoke(app, ["stats", "--data-dir", str(tmp_path / "d")], env={"COLUMNS": "100"}).stdout
    assert "generation" not in table and "size bytes" not in table
    assert "tombstones (deleted or withheld)" in table
    assert re.search(r"archive size on disk\s*│\s*\d+\.\d (KB|MB)", table), table
    counts = orjson.loads(runner.invoke(app, ["stats", "--json", "--data-dir", str(tmp_path / "d")]).stdout)
    assert {"generation", "size_bytes"} <= set(counts)  # the JSON keeps every count for programs


HOSTILE = "clear\x1b[2J\x1b[H screen \x1b]52;c;ZXZpbCBjbGlwYm9hcmQ=\x07 and \u202eright-to-left\x9b31m"


def test_search_strips_terminal_control_characters_from_chat_content(tmp_path: Path) -> None:
    path = write_export(tmp_path / "e.json", [msg(0, HOSTILE)], channel_name="evil\x1b[31m-chan")
    assert runner.invoke(app, ["ingest", str(path), "--data-dir", str(tmp_path / "d")]).exit_code == 0
    result = runner.invoke(
        app, ["search", "screen", "--data-dir", str(tmp_path / "d")], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0
    shown = result.stdout
    assert "screen" in shown and "[2J" in shown  # the text stays; the escape character that arms it goes
    assert not [c for c in shown if (ord(c) < 32 and c not in "\n") or 0x7F <= ord(c) <= 0x9F], repr(shown)
    assert "\u202e" not in shown


def test_ingest_summary_quotes_file_names_that_hold_line_breaks(tmp_path: Path) -> None:
    bad = tmp_path / "x\nerror: forged.json"
    bad.write_text("{not json")
    result = runner.invoke(app, ["ingest", str(bad), "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert not [line for line in lines if line.startswith("error: forged")], lines
    assert any("x\\nerror: forged.json" in line for line in lines), lines
