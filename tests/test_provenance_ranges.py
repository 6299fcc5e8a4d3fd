"""Provenance by id range answers exactly as per-message provenance did: same exports per message, same
tombstones, same last-seen times, in any ingest order; and a v4 archive migrates with its answers kept."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

import archive
from archive import Ingester, Policy, views
from archive.schema import MIGRATIONS
from archive.seen_ranges import seen_sql
from tests.conftest import rows
from tests.factory import msg, sf, write_export
from tests.ingesting import ingest_archive

CID = "200000000000000001"


def _exports(folder: Path) -> dict[str, Path]:
    base = [msg(i * 10, f"message {i}") for i in range(1, 61)]
    edited = msg(300, "message 30, edited", timestampEdited="2025-01-15T00:00:00+00:00")
    newer = [m for m in base if m["id"] != sf(200)]  # message 20 was deleted from Discord
    newer = [edited if m["id"] == sf(300) else m for m in newer]
    newer += [msg(i * 10, f"new message {i}") for i in range(61, 66)]
    # An older partial export: 15 to 25, with a message (205 s) that no later export has any more.
    older = [m for m in base if sf(150) <= m["id"] <= sf(250)] + [msg(205, "soon deleted")]
    older.sort(key=lambda m: int(m["id"]))
    return {
        "e1": write_export(folder / "e1.json", base, exported_at="2025-01-01T00:00:00+00:00"),
        "e2": write_export(folder / "e2.json", newer, exported_at="2025-02-01T00:00:00+00:00"),
        "e3": write_export(folder / "e3.json", older, exported_at="2024-12-01T00:00:00+00:00"),
        "e4": write_export(
            folder / "e4.json", [*newer, msg(670, "newest")], exported_at="2025-03-01T00:00:00+00:00"
        ),
    }


def _state(conn: sqlite3.Connection, files: dict[str, Path]) -> dict[str, Any]:
    names = {str(p.resolve()): k for k, p in files.items()}
    ids = [r[0] for r in rows(conn, "SELECT id FROM messages ORDER BY id")]
    return {
        "provenance": sorted(
            (mid, names[path])
            for mid, path in rows(
                conn, "SELECT p.message_id, e.path FROM provenance p JOIN exports e ON e.id = p.export_id"
            )
        ),
        "messages": rows(
            conn,
            f"SELECT m.id, m.deleted, m.content, m.edited_ts, {seen_sql('m')} FROM messages m ORDER BY m.id",
        ),
        "shown_seen": rows(conn, "SELECT id, seen_ts FROM messages WHERE deleted = 1 ORDER BY id"),
        "revisions": rows(conn, "SELECT message_id, edited_ts, content FROM revisions ORDER BY 1, 2"),
        "per_message": {mid: [names[r["path"]] for r in views.provenance(conn, mid)] for mid in ids},
        "paths": {mid: [names[p] for p in views.export_paths(conn, mid)] for mid in ids},
        "batch": views.provenance_ids(conn, ids),
    }


def _run(tmp: Path, order: list[str], monkeypatch: pytest.MonkeyPatch, *, ranges: bool) -> dict[str, Any]:
    files = _exports(tmp / "in")
    with monkeypatch.context() as m:
        if not ranges:
            m.setattr("archive.merge.MIN_RUN", 10**9)  # every unchanged message gets its own row
        conn = archive.connect(tmp / "data" / archive.ARCHIVE_FILE)
        ing = Ingester(conn)
        for name in order:
            assert ing.ingest_file(files[name]).status == "ok"
        assert ing.ingest_file(files["e2"], force=True).status == "ok"  # its provenance is replaced
        state = _state(conn, files)
        state["ranges"] = rows(conn, "SELECT count(*) FROM provenance_ranges")[0][0]
        conn.close()
    return state


@pytest.mark.parametrize(
    "order", [["e1", "e2", "e3", "e4"], ["e3", "e4", "e1", "e2"], ["e4", "e1", "e3", "e2"]], ids="-".join
)
def test_ranges_answer_as_per_message_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, order: list[str]
) -> None:
    with_ranges = _run(tmp_path / "a", order, monkeypatch, ranges=True)
    per_message = _run(tmp_path / "b", order, monkeypatch, ranges=False)
    assert with_ranges.pop("ranges") > 0 and per_message.pop("ranges") == 0
    assert with_ranges == per_message
    # The readers look ids up by key, not through the view: they answer as the view does.
    from_view = {
        mid: sorted(e for m, e in with_ranges["provenance"] if m == mid)
        for mid, _ in with_ranges["provenance"]
    }
    assert {mid: sorted(v) for mid, v in with_ranges["per_message"].items() if v} == from_view
    assert {mid: sorted(v) for mid, v in with_ranges["paths"].items() if v} == from_view
    assert sorted(with_ranges["batch"]) == sorted(from_view)
    # The facts themselves: message 20 and the 205 s message are tombstones, the rest live.
    dead = [m[0] for m in with_ranges["messages"] if m[1]]
    assert dead == [int(sf(200)), int(sf(205))]
    assert with_ranges["per_message"][int(sf(205))] == ["e3"]
    assert sorted(with_ranges["per_message"][int(sf(100))]) == ["e1", "e2", "e4"]
    assert with_ranges["per_message"][int(sf(670))] == ["e4"]


def test_a_re_export_is_one_range_and_a_message_new_to_its_span_splits_it(tmp_path: Path) -> None:
    base = [msg(i * 10, f"message {i}") for i in range(1, 41)]
    v1 = write_export(tmp_path / "v1.json", base, exported_at="2025-01-01T00:00:00+00:00")
    v2 = write_export(tmp_path / "v2.json", base, exported_at="2025-02-01T00:00:00+00:00")
    # Older, with a message between 20 and 21 that the newer exports no longer have.
    old = write_export(
        tmp_path / "old.json", [msg(205, "gone later")], exported_at="2024-06-01T00:00:00+00:00"
    )
    conn = archive.connect(tmp_path / "data" / archive.ARCHIVE_FILE)
    ing = Ingester(conn)
    ing.ingest_file(v1)
    ing.ingest_file(v2)
    v2_id = rows(conn, "SELECT id FROM exports WHERE path = ?", str(v2.resolve()))[0][0]
    assert rows(conn, "SELECT channel_id, lo, hi, export_id FROM provenance_ranges") == [
        (int(CID), int(sf(10)), int(sf(400)), v2_id)
    ]
    assert rows(conn, "SELECT count(*) FROM provenance_rows WHERE export_id = ?", v2_id) == [(0,)]
    ing.ingest_file(old)
    assert rows(conn, "SELECT lo, hi FROM provenance_ranges ORDER BY lo") == [
        (int(sf(10)), int(sf(200))),
        (int(sf(210)), int(sf(400))),
    ]
    gone = int(sf(205))
    assert [r["path"] for r in views.provenance(conn, gone)] == [str(old.resolve())]
    assert rows(conn, "SELECT deleted FROM messages WHERE id = ?", gone) == [(1,)]
    conn.close()


def test_an_excluded_channel_leaves_no_range(tmp_path: Path) -> None:
    base = [msg(i * 10, f"message {i}") for i in range(1, 41)]
    write_export(tmp_path / "in" / "v1.json", base, exported_at="2025-01-01T00:00:00+00:00")
    write_export(tmp_path / "in" / "v2.json", base, exported_at="2025-02-01T00:00:00+00:00")
    conn = archive.connect(tmp_path / "data" / archive.ARCHIVE_FILE)
    ingest_archive(Ingester(conn), [tmp_path / "in"])
    assert rows(conn, "SELECT count(*) FROM provenance_ranges") == [(1,)]
    Ingester(conn, Policy(exclude=("general",))).apply_policy()
    assert rows(conn, "SELECT count(*) FROM provenance_ranges") == [(0,)]
    assert rows(conn, "SELECT count(*) FROM provenance") == [(0,)]
    conn.close()


def test_a_v4_archive_migrates_with_its_provenance(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite"
    old = sqlite3.connect(path, isolation_level=None)
    for version in range(1, 5):
        old.executescript("BEGIN;" + MIGRATIONS[version] + f"PRAGMA user_version = {version}; COMMIT;")
    old.execute(
        "INSERT INTO exports(id, sha256, path, size, mtime_ns, status, generation, ingested_at)"
        " VALUES (7, 'x', '/e.json', 1, 1, 'ok', 1, 1)"
    )
    old.execute(
        "INSERT INTO messages(id, channel_id, type, ts, seen_ts, generation) VALUES (5, 1, 'Default', 1, 1, 1)"
    )
    old.execute("INSERT INTO provenance(message_id, export_id) VALUES (5, 7)")
    old.close()
    conn = archive.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 5
    assert rows(conn, "SELECT message_id, export_id FROM provenance") == [(5, 7)]
    assert [r["path"] for r in views.provenance(conn, 5)] == ["/e.json"]
    conn.close()
