"""The real public DCE exports in ../shared (read in place; skipped when absent)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from archive import ExportReader, Ingester
from tests.conftest import REAL, rows
from tests.ingesting import ingest_archive

Make = Callable[..., Ingester]
pytestmark = pytest.mark.skipif(not REAL.exists(), reason=f"real exports not found at {REAL}")

EXAMPLE = REAL / "slatinsky__DiscordChatExporter-frontend" / "example_guild"


def test_every_real_json_export_ingests(tmp_path: Path, conn: sqlite3.Connection, ingester: Make) -> None:
    summary = ingest_archive(ingester(), [REAL])
    summary.files = [f for f in summary.files if f.path.endswith(".json")]  # other formats: test_sources.py
    assert summary.files, "no JSON files found"
    # chat-analytics' hand-made test files use "100" as a message id: that message is skipped, named.
    assert [(Path(f.path).name, f.status, f.skipped) for f in summary.files if f.status != "ok"] == [
        ("DM_2A_2M.json", "partial", 1),
        ("GC_3A_5M.json", "partial", 1),
    ]
    assert [w.split(": ", 1)[1] for f in summary.files for w in f.warnings] == [
        "message id '100' is not a Discord snowflake",
        "message id '100' is not a Discord snowflake",
    ]
    for f in summary.files:
        with ExportReader(Path(f.path)) as reader:
            # messages counts distinct ids: a hand-edited file repeats one.
            assert f.messages + f.skipped == len({m[2]["id"] for b in reader.batches() for m in b})


def test_real_thread_links_to_its_parent_channel(
    tmp_path: Path, conn: sqlite3.Connection, ingester: Make
) -> None:
    ingest_archive(ingester(), [EXAMPLE])
    threads = rows(conn, "SELECT id, name, parent_id, parent_name FROM channels WHERE is_thread = 1")
    assert threads == [(1060927310439657577, "Thomas is Thomas", 1012224565567721552, "general")]
    # The parent's ThreadCreated message points at the thread, whose id is the starter message's id.
    created = rows(
        conn,
        "SELECT ref_channel_id FROM messages WHERE type = 'ThreadCreated' AND channel_id = ?",
        1012224565567721552,
    )
    assert (1060927310439657577,) in created


def test_real_reexport_without_a_message_merges(
    tmp_path: Path, conn: sqlite3.Connection, ingester: Make
) -> None:
    files = sorted(EXAMPLE.glob("*chill talk*.json"))
    assert len(files) == 2
    ing = ingester()
    ingest_archive(ing, files)
    # The file name says [1012224565567125544]; the header is the truth.
    total = rows(conn, "SELECT count(*) FROM messages WHERE channel_id = 1012224565567875236")[0][0]
    assert total == 6  # the union of both exports, nothing duplicated
    assert rows(
        conn,
        "SELECT count(*) FROM provenance p JOIN messages m ON m.id = p.message_id"
        " WHERE m.channel_id = 1012224565567875236",
    ) == [(11,)]
