"""The `hallway` command line: exit codes, summaries, stats, redact."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
from typer.testing import CliRunner

from cli import app
from tests.conftest import ROOT
from tests.factory import ALICE, BOB, msg, sf, write_export

runner = CliRunner()


def _stats(data: Path) -> dict[str, int]:
    result = runner.invoke(app, ["stats", "--json", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


def test_ingest_reports_summary_and_fails_with_exit_1_on_a_bad_file(tmp_path: Path) -> None:
    write_export(tmp_path / "in" / "good.json", [msg(1, "one"), msg(2, "two", BOB)])
    (tmp_path / "in" / "bad.json").write_text("{nope")
    data = tmp_path / "data"
    result = runner.invoke(app, ["ingest", str(tmp_path / "in"), "--data-dir", str(data)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert (
        lines[0]
        == f"error: {tmp_path / 'in' / 'bad.json'} at byte 1: not valid JSON (unexpected character, expected a string key)"
    )
    summary = [line for line in lines if line.startswith("2 files: ")]
    assert len(summary) == 1
    assert summary[0].startswith(
        "2 files: 1 ingested (0 partial), 0 skipped (0 unchanged, 0 excluded), 1 failed; "
        "messages: 2 added, 0 updated, 0 deleted in "
    )
    stats = _stats(data)
    assert {
        k: stats[k] for k in ("messages", "deleted", "revisions", "channels", "threads", "users", "exports")
    } == {
        "messages": 2,
        "deleted": 0,
        "revisions": 0,
        "channels": 1,
        "threads": 0,
        "users": 2,
        "exports": 1,
    }


def test_ingest_twice_exits_0_and_skips(tmp_path: Path) -> None:
    write_export(tmp_path / "e.json", [msg(1, "one")])
    args = ["ingest", str(tmp_path / "e.json"), "--data-dir", str(tmp_path / "d")]
    assert runner.invoke(app, args).exit_code == 0
    again = runner.invoke(app, args)
    assert again.exit_code == 0
    assert "1 skipped (1 unchanged, 0 excluded)" in again.stderr


def test_missing_path_is_reported_and_others_still_ingest(tmp_path: Path) -> None:
    write_export(tmp_path / "e.json", [msg(1, "one")])
    result = runner.invoke(
        app, ["ingest", str(tmp_path / "nope"), str(tmp_path / "e.json"), "--data-dir", str(tmp_path / "d")]
    )
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == f"error: {tmp_path / 'nope'}: no such file or folder"
    assert _stats(tmp_path / "d")["messages"] == 1


def test_stats_without_archive_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["stats", "--data-dir", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"Error: no archive at {tmp_path / 'none' / 'archive.sqlite'}: run `hallway ingest PATH` first"
    )


def test_data_dir_from_environment(tmp_path: Path) -> None:
    write_export(tmp_path / "e.json", [msg(1, "one")])
    env = {"HALLWAY_DATA_DIR": str(tmp_path / "envdata")}
    assert runner.invoke(app, ["ingest", str(tmp_path / "e.json")], env=env).exit_code == 0
    assert (tmp_path / "envdata" / "archive.sqlite").exists()


def test_redact_message_and_user_purge_and_persist(tmp_path: Path) -> None:
    write_export(
        tmp_path / "e.json", [msg(1, "keep me", ALICE), msg(2, "secret-walrus", BOB), msg(3, "drop-me")]
    )
    data = str(tmp_path / "d")
    assert runner.invoke(app, ["ingest", str(tmp_path / "e.json"), "--data-dir", data]).exit_code == 0
    result = runner.invoke(
        app, ["redact", "--message", sf(3), "--reason", "asked", "--user", BOB["id"], "--data-dir", data]
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.strip().splitlines() == [
        f"message {sf(3)}: withheld (1 message)",
        f"user {BOB['id']}: withheld (1 message)",
        f"policy saved to {tmp_path / 'd' / 'policy.toml'}; 2 messages purged; removed from search",
    ]
    stats = _stats(tmp_path / "d")
    assert (stats["messages"], stats["deleted"]) == (1, 2)
    policy = (tmp_path / "d" / "policy.toml").read_text()
    assert f'drop = ["{BOB["id"]}"]' in policy
    assert f'message = "{sf(3)}"\nreason = "asked"' in policy
    # Re-ingesting with --force keeps them out.
    assert (
        runner.invoke(app, ["ingest", str(tmp_path / "e.json"), "--force", "--data-dir", data]).exit_code == 0
    )
    assert _stats(tmp_path / "d")["messages"] == 1


def test_redact_rejects_non_ids(tmp_path: Path) -> None:
    result = runner.invoke(app, ["redact", "--message", "abc", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: --message 'abc' is not a Discord id (digits 0-9 only)"
    # A superscript two is a digit to str.isdigit(), but no id: one line, not a traceback.
    result = runner.invoke(app, ["redact", "--message", "²", "--data-dir", str(tmp_path)])
    assert (result.exit_code, result.stderr.strip()) == (
        1,
        "Error: --message '²' is not a Discord id (digits 0-9 only)",
    )


def test_redact_reports_true_counts_unknown_and_already_withheld(tmp_path: Path) -> None:
    write_export(
        tmp_path / "e.json", [msg(1, "keep me", ALICE), msg(2, "by bob", BOB), msg(3, "more bob", BOB)]
    )
    data = str(tmp_path / "d")
    assert runner.invoke(app, ["ingest", str(tmp_path / "e.json"), "--data-dir", data]).exit_code == 0
    unknown = "123456789012345678"
    first = runner.invoke(app, ["redact", "--user", BOB["id"], "--message", unknown, "--data-dir", data])
    assert first.exit_code == 0, first.output
    assert first.stderr.strip().splitlines()[:2] == [
        f"message {unknown}: not in the archive; recorded, so a later export of it stays withheld",
        f"user {BOB['id']}: withheld (2 messages)",
    ]
    again = runner.invoke(app, ["redact", "--user", BOB["id"], "--data-dir", data])
    assert again.stderr.strip().splitlines() == [
        f"user {BOB['id']}: already withheld",
        f"policy saved to {tmp_path / 'd' / 'policy.toml'}; 0 messages purged; removed from search",
    ]


def test_python_cli_py_works_as_a_script(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert "ingest" in result.stdout and "stats" in result.stdout


def test_ingest_starts_without_the_viewer_stack(tmp_path: Path) -> None:
    # Every `hallway ingest` paid ~0.8 s importing FastAPI, uvicorn, Jinja and the publisher it never uses.
    probe = (
        "import sys; sys.argv = ['hallway', 'ingest', sys.argv[1], '--data-dir', sys.argv[2], '-q']\n"
        "import cli\n"
        "try:\n    cli.app()\nexcept SystemExit:\n    pass\n"
        "heavy = ('fastapi', 'starlette', 'uvicorn', 'jinja2', 'publish', 'web', 'mcp')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(ROOT / "sample_exports"), str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert _stats(tmp_path / "data")["messages"] > 0
