"""The index as derived data: incremental updates, rebuilds swapped in under readers, policy purges, versions."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import archive
import indexer
from archive import Ingester, Policy
from indexer.layout import IndexState, index_root, read_current, read_state, write_state
from indexer.schema import SCHEMA_CHANGES, SCHEMA_VERSION
from tests.factory import ALICE, BOB, msg, sf, write_export

M1, M2, M3, M4 = (int(sf(t)) for t in (10, 20, 30, 40))


def ingest(conn: sqlite3.Connection, paths: list[Path], policy: Policy | None = None) -> None:
    """Ingest exports message by message (the index needs no conversation pass)."""
    ingester = Ingester(conn, policy)
    ingester.apply_policy()
    for path in archive.iter_export_files(paths):
        assert ingester.ingest_file(path).status in ("ok", "unchanged"), path


def first_export(tmp: Path) -> Path:
    return write_export(
        tmp / "exports" / "a" / "general.json",
        [
            msg(10, "the original wording about lanterns"),
            msg(20, "goodbye forever message", BOB),
            msg(30, "secretive takedown candidate", BOB),
        ],
    )


def second_export(tmp: Path) -> Path:
    edited = msg(10, "completely new phrasing", timestampEdited="2023-11-15T00:00:00.000+00:00")
    return write_export(
        tmp / "exports" / "b" / "general.json",
        [
            edited,
            msg(30, "secretive takedown candidate", BOB),
            msg(40, "a fresh arrival with a clip", **_clip()),
        ],
        exported_at="2025-02-01T00:00:00.0000000+00:00",
    )


def _clip() -> dict[str, Any]:
    return {
        "attachments": [
            {"id": "1", "url": "clip.mp4", "fileName": "holiday clip.mp4", "fileSizeBytes": 10},
            {"id": "2", "url": "tune.mp3", "fileName": "tune.mp3", "fileSizeBytes": 10},
        ]
    }


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def conn(data: Path) -> Iterator[sqlite3.Connection]:
    c = archive.connect(data / archive.ARCHIVE_FILE)
    yield c
    c.close()


def ids(ix: indexer.SearchIndex, q: str) -> list[int]:
    return [h.id for h in indexer.search(ix, q, sort="oldest", limit=100).hits]


def test_index_missing_error(data: Path) -> None:
    with pytest.raises(indexer.IndexMissing, match="run `hallway reindex`"):
        indexer.open_index(data)


def test_update_builds_then_follows_edits_tombstones_and_new_messages(
    tmp_path: Path, data: Path, conn: sqlite3.Connection
) -> None:
    ingest(conn, [first_export(tmp_path)])
    st = indexer.update_index(data, conn)
    assert (st.mode, st.indexed, st.reason) == ("rebuild", 3, "no index yet")
    ix = indexer.open_index(data)
    assert ids(ix, "lanterns") == [M1]
    assert ids(ix, "goodbye") == [M2]

    ingest(conn, [second_export(tmp_path)])
    st = indexer.update_index(data, conn)
    assert st.mode == "update" and st.generation == archive.generation(conn)
    # The same open handle sees the commit at once.
    assert ids(ix, "lanterns") == []  # the old words of the edited message are gone
    assert ids(ix, "phrasing") == [M1]  # found by its new words
    assert ids(ix, "edited:true") == [M1]
    assert ids(ix, "goodbye") == []  # tombstoned
    assert ids(ix, "") == [M1, M3, M4]
    assert ids(ix, "has:video") == [M4] and ids(ix, "has:sound") == [M4] and ids(ix, "has:file") == [M4]
    assert ids(ix, "holiday") == [M4]  # attachment file names are searchable
    assert indexer.update_index(data, conn).mode == "unchanged"


def test_policy_takedown_rebuilds_and_leaves_no_trace(
    tmp_path: Path, data: Path, conn: sqlite3.Connection
) -> None:
    ingest(conn, [first_export(tmp_path)])
    indexer.update_index(data, conn)
    ix = indexer.open_index(data)
    assert ids(ix, "secretive") == [M3]
    files = [p for p in index_root(data).rglob("*") if p.is_file()]
    assert any(b"secretive" in p.read_bytes() for p in files)  # so the check below means something
    Ingester(conn, Policy(takedowns={M3: "asked"})).apply_policy()
    st = indexer.update_index(data, conn)
    assert (st.mode, st.reason) == ("rebuild", "the privacy policy changed")
    assert ids(ix, "secretive") == [] and ids(ix, "takedown") == []
    assert ids(ix, "") == [M1, M2]
    root = index_root(data)
    assert [p.name for p in root.iterdir() if p.is_dir()] == [read_current(root)]  # old versions deleted
    for path in root.rglob("*"):
        if path.is_file():
            assert b"secretive" not in path.read_bytes(), path


def test_pseudonymized_author_is_indexed_under_the_pseudonym_only(
    tmp_path: Path, data: Path, conn: sqlite3.Connection
) -> None:
    ingest(conn, [first_export(tmp_path)])
    indexer.update_index(data, conn)
    ix = indexer.open_index(data)
    assert ids(ix, "from:alice") == [M1]
    Ingester(conn, Policy(pseudonymize_users=frozenset({int(ALICE["id"])}))).apply_policy()
    indexer.update_index(data, conn)
    assert (
        ids(ix, "from:alice") == []
        and ids(ix, f"from:{ALICE['id']}") == []
        and ids(ix, 'from:"Alice A"') == []
    )
    hit = indexer.search(ix, "lanterns").hits[0]
    assert hit.author.startswith("anon-") and hit.author_id != int(ALICE["id"])
    assert ids(ix, f"from:{hit.author}") == [M1] and ids(ix, f"from:{hit.author_id}") == [M1]


def test_crash_between_archive_and_index_commits_is_repaired(
    tmp_path: Path, data: Path, conn: sqlite3.Connection
) -> None:
    ingest(conn, [first_export(tmp_path)])
    indexer.update_index(data, conn)
    ix = indexer.open_index(data)
    root = index_root(data)
    before = read_state(root / str(read_current(root)))
    assert before is not None
    # Crash after the archive commit, before the index ran: the next run catches up.
    ingest(conn, [second_export(tmp_path)])
    assert ids(ix, "goodbye") == [M2]
    indexer.update_index(data, conn)
    assert ids(ix, "goodbye") == [] and ids(ix, "") == [M1, M3, M4]
    # Crash after the index commit, before its state file: re-applying the same changes is idempotent.
    write_state(root / str(read_current(root)), before)
    st = indexer.update_index(data, conn)
    assert st.mode == "update"
    assert ids(ix, "") == [M1, M3, M4] and indexer.search(ix, "").total == 3


def test_schema_version_mismatch(tmp_path: Path, data: Path, conn: sqlite3.Connection) -> None:
    ingest(conn, [first_export(tmp_path)])
    indexer.update_index(data, conn)
    root = index_root(data)
    version_dir = root / str(read_current(root))
    old = read_state(version_dir)
    assert old is not None
    write_state(version_dir, IndexState(0, old.generation, old.policy, old.archive_id))
    with pytest.raises(indexer.IndexSchemaMismatch) as e:
        indexer.open_index(data)
    assert str(e.value) == "index schema v0 is out of date: run `hallway reindex`"
    st = indexer.update_index(data, conn)  # ingest repairs it by rebuilding
    why = f"v{SCHEMA_VERSION}: {SCHEMA_CHANGES[SCHEMA_VERSION]}"
    assert (st.mode, st.reason) == ("rebuild", f"index schema v0 is out of date ({why})")
    assert indexer.search(indexer.open_index(data), "").total == 3


def test_rebuild_swaps_in_atomically_while_searching(
    tmp_path: Path, data: Path, conn: sqlite3.Connection
) -> None:
    messages = [msg(i, f"lantern number {i} glows {'odd' if i % 2 else 'even'}") for i in range(1, 400)]
    ingest(conn, [write_export(tmp_path / "big.json", messages)])
    indexer.update_index(data, conn)
    ix = indexer.open_index(data)
    errors: list[BaseException] = []
    seen: set[tuple[int, int]] = set()
    versions: set[str | None] = set()
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                page = indexer.search(ix, "odd lantern", limit=5)
                seen.add((page.total, len(page.hits)))
                versions.add(ix.version)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for _ in range(3):
            indexer.rebuild_index(data)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == []
    assert seen == {(200, 5)}
    assert len(versions) >= 2  # the readers moved on to rebuilt versions
    root = index_root(data)
    assert [p.name for p in root.iterdir() if p.is_dir()] == [read_current(root)]
