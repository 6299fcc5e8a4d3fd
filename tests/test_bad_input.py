"""Bad input: one clear line naming the file and place; other files go on; nothing partial is kept."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from archive import Ingester
from tests.conftest import rows
from tests.factory import msg, write_export
from tests.ingesting import ingest_archive

Make = Callable[..., Ingester]


def _truncated(tmp_path: Path, n: int = 10) -> tuple[Path, int]:
    path = write_export(tmp_path / "cut.json", [msg(i, f"message number {i}") for i in range(n)])
    data = path.read_bytes()
    cut = data.index(b'"message number 7"')
    path.write_bytes(data[:cut])
    return path, cut


def test_truncated_file_fails_whole_with_place(
    tmp_path: Path, conn: sqlite3.Connection, ingester: Make
) -> None:
    path, _cut = _truncated(tmp_path)
    good = write_export(tmp_path / "good.json", [msg(100, "fine")], channel_id="200000000000000002")
    results = {Path(f.path).name: f for f in ingest_archive(ingester(), [path, good]).files}
    assert results["good.json"].status == "ok"
    failed = results["cut.json"]
    assert failed.status == "failed"
    assert failed.error is not None
    assert failed.error.startswith(f"{path} at byte ")
    assert failed.error.endswith(
        "(message 8): truncated: the file ends inside message 8 (after 7 complete messages); "
        "`hallway ingest --salvage` keeps the complete messages before the damage"
    )
    assert "\n" not in failed.error
    assert rows(conn, "SELECT count(*) FROM messages WHERE channel_id = 200000000000000001") == [(0,)]
    assert rows(conn, "SELECT count(*) FROM exports") == [(1,)]


def test_salvage_keeps_complete_messages_and_marks_partial(
    tmp_path: Path, conn: sqlite3.Connection, ingester: Make
) -> None:
    path, _ = _truncated(tmp_path)
    result = ingest_archive(ingester(), [path], salvage=True).files[0]
    assert (result.status, result.added) == ("partial", 7)
    assert rows(conn, "SELECT status, message_count FROM exports") == [("partial", 7)]
    assert rows(conn, "SELECT content FROM messages ORDER BY id")[-1] == ("message number 6",)


def test_salvage_after_truncation_at_every_offset_never_raises(tmp_path: Path, ingester: Make) -> None:
    path = write_export(tmp_path / "src.json", [msg(i, f"m{i}") for i in range(4)])
    data = path.read_bytes()
    ing = ingester()
    kept = set()
    for i, cut in enumerate(range(1, len(data), max(1, len(data) // 120))):
        p = tmp_path / f"t{i}.json"
        p.write_bytes(data[:cut])
        result = ing.ingest_file(p, salvage=True)
        assert result.status in {"failed", "partial", "ok", "unchanged"}, result
        if result.status == "failed":
            assert result.error is not None and result.error.startswith(str(p)), result.error
        kept.add(result.messages)
    assert max(kept) >= 3


def test_error_lines_for_each_kind(tmp_path: Path, ingester: Make) -> None:
    cases = {
        "empty.json": b"",
        "binary.json": b"\x00\x01\x02\xff" * 10,
        "text.json": b"hello world",
        "array.json": b"[1, 2, 3]",
        "nodce.json": b'{"foo": 1}',
        "msgnull.json": b'{"channel": {"id": "1"}, "messages": null}',
        "badutf8.json": b'{"channel": {"id": "1"}, "messages": [\n  {\n    "id": "5", "content": "\xff\xfe"\n  }\n]}',
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    results = {Path(f.path).name: f.error for f in ingest_archive(ingester(), [tmp_path]).files}
    p = str(tmp_path)
    assert results == {
        "array.json": f"{p}/array.json at byte 0: not JSON: a DCE export starts with '{{'",
        "badutf8.json": f"{p}/badutf8.json at byte 70 (message 1): invalid UTF-8 (invalid start byte)",
        "binary.json": f"{p}/binary.json at byte 0: not JSON: the file is binary",
        "empty.json": f"{p}/empty.json at byte 0: the file is empty",
        "msgnull.json": f'{p}/msgnull.json at byte 25: "messages" is not an array',
        "nodce.json": f'{p}/nodce.json at byte 0: not a DCE export: no "messages" array',
        "text.json": f"{p}/text.json at byte 0: not JSON: a DCE export starts with '{{'",
    }


def test_wrong_field_types_name_the_message(tmp_path: Path, ingester: Make) -> None:
    m = msg(1, "ok")
    bad = msg(2, "x", author="not an object")
    write_export(tmp_path / "types.json", [m, bad])
    result = ingest_archive(ingester(), [tmp_path / "types.json"]).files[0]
    assert (result.status, result.messages, result.skipped) == ("partial", 1, 1)
    assert len(result.warnings) == 1
    assert result.warnings[0].endswith(f"(message 2): message {bad['id']}: author is not an object")
