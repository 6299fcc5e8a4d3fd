"""Conversation links in the archive: incremental, chunked, explicit structure respected."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from archive import Ingester, links
from tests.conftest import rows
from tests.factory import ALICE, BOB, CAROL, msg, sf, write_export
from tests.ingesting import ingest_archive

Make = Callable[..., Ingester]
GUILD = "300000000000000001"
CHANNEL = "200000000000000001"


def _reply(offset: float, text: str, target: float, author: dict[str, object]) -> dict[str, object]:
    return msg(
        offset,
        text,
        author,
        type="Reply",
        reference={"messageId": sf(target), "channelId": CHANNEL, "guildId": GUILD},
    )


def test_second_export_links_only_new_messages_and_keeps_old_links(
    tmp_path: Path, conn: sqlite3.Connection, ingester: Make
) -> None:
    first = [msg(i * 60, f"topic {i % 3} discussion line {i}", [ALICE, BOB, CAROL][i % 3]) for i in range(30)]
    write_export(tmp_path / "a.json", first, exported_at="2024-01-01T00:00:00Z")
    ing = ingester()
    ingest_archive(ing, [tmp_path / "a.json"])
    before = rows(conn, "SELECT message_id, parent_id, conversation_id FROM links ORDER BY 1")
    assert len(before) == 30
    second = [
        *first,
        _reply(40 * 60, "answering the very first line", 0, BOB),
        msg(41 * 60, "unrelated", CAROL),
    ]
    write_export(tmp_path / "b.json", second, exported_at="2024-02-01T00:00:00Z")
    ingest_archive(ing, [tmp_path / "b.json"])
    after = rows(conn, "SELECT message_id, parent_id, conversation_id FROM links ORDER BY 1")
    assert after[:30] == before
    first_conv = before[0][2]
    assert after[30] == (int(sf(40 * 60)), int(sf(0)), first_conv)
    assert len(after) == 32


def test_chunked_computation_keeps_explicit_links_across_chunks(
    tmp_path: Path, conn: sqlite3.Connection, ingester: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(links, "CHUNK", 7)
    msgs = [msg(i * 30, f"line {i}", [ALICE, BOB][i % 2]) for i in range(40)]
    msgs.append(_reply(40 * 30, "reply to line 2", 2 * 30, CAROL))  # target far back, in an earlier chunk
    write_export(tmp_path / "a.json", msgs)
    ingest_archive(ingester(), [tmp_path / "a.json"])
    assert rows(conn, "SELECT count(*) FROM links") == [(41,)]
    target_conv = rows(conn, "SELECT conversation_id FROM links WHERE message_id = ?", int(sf(60)))[0][0]
    assert rows(
        conn,
        "SELECT parent_id, conversation_id, explicit, confidence FROM links WHERE message_id = ?",
        int(sf(1200)),
    ) == [(int(sf(60)), target_conv, 1, 1.0)]


def test_worker_process_links_match_in_process_links(tmp_path: Path, ingester: Make) -> None:
    import archive

    msgs = [
        msg(i * 45, f"worker check {i} about {'loss' if i % 2 else 'tokenizers'}", [ALICE, BOB, CAROL][i % 3])
        for i in range(60)
    ]
    write_export(tmp_path / "a.json", msgs)
    results = []
    for name in ("inproc", "worker"):
        c = archive.connect(tmp_path / name / "a.sqlite")
        ing = Ingester(c)
        for f in archive.iter_export_files([tmp_path / "a.json"]):
            ing.ingest_file(f)
        if name == "inproc":
            ing.update_conversations()
        else:
            assert ing.start_conversations().finish() == 60
        results.append(
            rows(c, "SELECT message_id, parent_id, conversation_id, confidence FROM links ORDER BY 1")
        )
    assert results[0] == results[1]
    assert len(results[0]) == 60


def test_chunk_starting_with_replies_uses_context_links_safely(
    tmp_path: Path, conn: sqlite3.Connection, ingester: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Regression: when a chunk begins with explicit replies, the model's batch starts inside the
    # context, and known links pointing before it must not wrap around (was a KeyError at 1M messages).
    monkeypatch.setattr(links, "CHUNK", 10)
    msgs = []
    for i in range(130):
        if 110 <= i < 113:
            msgs.append(_reply(i * 20, f"reply {i}", (i - 5) * 20, BOB))
        else:
            msgs.append(msg(i * 20, f"chatter {i} {'gpu' if i % 3 else 'loss'}", [ALICE, BOB, CAROL][i % 3]))
    write_export(tmp_path / "a.json", msgs)
    ingest_archive(ingester(), [tmp_path / "a.json"])
    assert rows(conn, "SELECT count(*) FROM links") == [(130,)]
    assert rows(conn, "SELECT parent_id, explicit FROM links WHERE message_id = ?", int(sf(110 * 20))) == [
        (int(sf(105 * 20)), 1)
    ]
