"""A generated corpus of damaged exports: each gives one clear line naming the file and the place;
the good file beside it is ingested; the archive stays intact (integrity check, exact counts)."""

from __future__ import annotations

import codecs
import gzip
import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import archive
from archive import Ingester
from tests.conftest import rows
from tests.factory import export_doc, msg, sf
from tests.ingesting import ingest_archive

Make = Callable[..., Ingester]


def _doc_bytes(messages: list[dict[str, Any]], **kw: Any) -> bytes:
    return json.dumps(export_doc(messages, **kw), indent=2, ensure_ascii=False).encode()


def _good_messages() -> list[dict[str, Any]]:
    return [msg(i, f"fine message {i}") for i in range(5)]


def _with(field: str, value: Any) -> bytes:
    bad = msg(3, "bad one")
    bad[field] = value
    return _doc_bytes([*_good_messages()[:3], bad])


def _truncated(at: float) -> bytes:
    data = _doc_bytes(_good_messages())
    return data[: int(len(data) * at)]


# kind -> (file bytes, expected status, text the one-line message must contain)
FILE_KINDS: dict[str, tuple[bytes, str, str]] = {
    "empty": (b"", "failed", "at byte 0: the file is empty"),
    "binary": (bytes(range(256)) * 4, "failed", "not JSON: the file is binary"),
    "gzip": (gzip.compress(b'{"messages": []}'), "failed", "not JSON"),
    "plain text": (b"just some words\n", "failed", "not JSON: a DCE export starts with '{'"),
    "json array": (b"[1, 2]", "failed", "not JSON: a DCE export starts with '{'"),
    "json object not dce": (b'{"hello": "world"}', "failed", 'not a DCE export: no "messages" array'),
    "messages null": (b'{"channel": {"id": "5"}, "messages": null}', "failed", '"messages" is not an array'),
    "messages object": (b'{"channel": {"id": "5"}, "messages": {}}', "failed", '"messages" is not an array'),
    "no channel header": (b'{"guild": {}, "messages": []}', "failed", 'no "channel" object'),
    "channel id not snowflake": (
        _doc_bytes(_good_messages(), channel_id="general"),
        "failed",
        "channel id 'general' is not a snowflake",
    ),
    "guild not object": (
        b'{"guild": 5, "channel": {"id": "5"}, "messages": []}',
        "failed",
        '"guild" is not an object',
    ),
    "utf16": (codecs.BOM_UTF16_LE + '{"messages": []}'.encode("utf-16-le"), "failed", "the file is UTF-16"),
    "invalid utf8": (
        _doc_bytes(_good_messages()).replace(b"fine message 2", b"fine \xff\xfe 2"),
        "failed",
        "invalid UTF-8",
    ),
    "latin1": (
        _doc_bytes([msg(1, "caf\u00e9")]).replace("caf\u00e9".encode(), b"caf\xe9"),
        "failed",
        "invalid UTF-8",
    ),
    "raw nul byte": (
        _doc_bytes(_good_messages()).replace(b"fine message 1", b"fine \x00 1"),
        "failed",
        "invalid JSON",
    ),
    "NaN literal": (
        _doc_bytes(_good_messages()).replace(b'"isPinned": false', b'"isPinned": NaN', 1),
        "failed",
        "invalid JSON",
    ),
    "deep nesting": (
        _with("content", "X").replace(b'"X"', b"[" * 5000 + b"]" * 5000),
        "failed",
        "invalid JSON",
    ),
    "trailing garbage": (
        _doc_bytes(_good_messages()) + b" trailing",
        "failed",
        "truncated: the file ends after the messages array",
    ),
    "garbage between messages": (
        _doc_bytes(_good_messages()).replace(b"},\n    {", b"}, oops,\n    {", 1),
        "failed",
        "unexpected data between messages",
    ),
    "truncated in header": (_truncated(0.05), "failed", "not "),
    "truncated at 30%": (_truncated(0.3), "failed", "truncated"),
    "truncated at 60%": (_truncated(0.6), "failed", "truncated"),
    "truncated at 99%": (_truncated(0.99), "failed", "truncated"),
    "truncated minified": (
        json.dumps(export_doc(_good_messages())).encode()[:-40],
        "failed",
        "truncated",
    ),
    # One invalid message is skipped and named; the rest of the file is kept.
    "id not a snowflake": (_with("id", "12"), "partial", "message id '12' is not a Discord snowflake"),
    "id text": (_with("id", "abc"), "partial", "message id 'abc' is not a Discord snowflake"),
    "id negative": (_with("id", -5), "partial", "message id -5 is not a Discord snowflake"),
    "id missing": (
        _doc_bytes([*_good_messages()[:2], {"type": "Default", "content": "x"}]),
        "partial",
        "message id missing",
    ),
    "id too large": (_with("id", "99999999999999999999"), "partial", "is not a Discord snowflake"),
    "content wrong type": (_with("content", 12), "partial", "content is int, not a string"),
    "content list": (_with("content", ["a"]), "partial", "content is list, not a string"),
    "type wrong type": (_with("type", ["Default"]), "partial", "type is list, not a string"),
    "author string": (_with("author", "alice"), "partial", "author is not an object"),
    "attachments object": (_with("attachments", {}), "partial", "attachments is not a list"),
    "reactions number": (_with("reactions", 3), "partial", "reactions is not a list"),
    "mentions string": (_with("mentions", "@x"), "partial", "mentions is not a list"),
    "embeds null ok": (_with("embeds", None), "ok", ""),
    "timestamp number": (_with("timestamp", 1700000000), "partial", "timestamp '1700000000' is not a date"),
    "date out of range": (_with("timestamp", "9999-01-01T00:00:00+00:00"), "partial", "is not a date"),
    "edited date garbage": (
        _with("timestampEdited", "yesterday"),
        "partial",
        "timestampEdited 'yesterday' is not a date",
    ),
    "message not object": (
        _doc_bytes([*_good_messages()[:2]]).replace(b"\n  ],", b',\n    "oops"\n  ],'),
        "failed",
        "",
    ),
}


@pytest.mark.parametrize("kind", sorted(FILE_KINDS))
def test_bad_file_gives_one_line_and_spares_the_rest(kind: str, tmp_path: Path, ingester: Make) -> None:
    data, status, text = FILE_KINDS[kind]
    bad = tmp_path / "in" / "bad.json"
    bad.parent.mkdir()
    bad.write_bytes(data)
    good = tmp_path / "in" / "good.json"
    good.write_bytes(
        _doc_bytes([msg(100 + i, f"other {i}") for i in range(3)], channel_id="200000000000000077")
    )
    ing = ingester()
    results = {Path(f.path).name: f for f in ingest_archive(ing, [tmp_path / "in"]).files}
    assert results["good.json"].status == "ok"
    result = results["bad.json"]
    assert result.status == status, (kind, result)
    lines = [result.error] if status == "failed" else list(result.warnings)
    if status != "ok":
        assert len(lines) >= 1
        line = lines[0]
        assert line is not None
        assert "\n" not in line
        assert line.startswith(f"{bad} "), line  # names the file, then the place
        assert any(p in line for p in (" at byte ", " at about byte ", " at message ", " at header:")), line
        assert text in line, line
    conn = ing.conn
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert rows(conn, "SELECT count(*) FROM messages WHERE channel_id = 200000000000000077") == [(3,)]
    kept = rows(conn, "SELECT count(*) FROM messages WHERE channel_id = 200000000000000001")[0][0]
    if status == "failed":
        assert kept == 0  # nothing partial from a failed file
    elif status == "partial":
        assert int(kept) >= 2  # type: ignore[call-overload]


def test_bad_corpus_has_at_least_30_kinds() -> None:
    assert len(FILE_KINDS) >= 30


def test_duplicate_ids_with_different_content_keep_one(tmp_path: Path, ingester: Make) -> None:
    a, b = msg(1, "first version"), msg(1, "second version")
    path = tmp_path / "dup.json"
    path.write_bytes(_doc_bytes([a, msg(2, "x"), b]))
    result = ingest_archive(ingester(), [path]).files[0]
    assert (result.status, result.messages) == ("ok", 2)
    assert rows(ingester().conn, "SELECT content FROM messages WHERE id = ?", int(sf(1))) == [
        ("second version",)
    ]


def test_huge_string_message(tmp_path: Path, ingester: Make) -> None:
    path = tmp_path / "big.json"
    data = _doc_bytes([msg(1, "a" * (100 * 1024 * 1024)), msg(2, "after")])
    path.write_bytes(data)
    result = ingest_archive(ingester(), [path]).files[0]
    assert result.status == "failed"
    start = data.index(b"[") + 1  # the place named is where the oversized message begins
    assert (
        result.error == f"{path} at byte {start} (message 1): message 1 is over 64 MB: not a Discord message"
    )


def test_directory_loop_is_walked_once(tmp_path: Path, ingester: Make) -> None:
    root = tmp_path / "loop"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "e.json").write_bytes(_doc_bytes([msg(1, "looped")]))
    os.symlink(root, root / "sub" / "back")
    os.symlink(root / "sub" / "e.json", root / "alias.json")
    summary = ingest_archive(ingester(), [root])
    assert [(Path(f.path).name, f.status) for f in summary.files] == [("alias.json", "ok")]


def test_failed_file_leaves_no_trace(tmp_path: Path, ingester: Make) -> None:
    path = tmp_path / "cut.json"
    path.write_bytes(_truncated(0.7))
    ing = ingester()
    ing.apply_policy()
    conn: sqlite3.Connection = ing.conn
    before = archive.stats(conn)["generation"]
    ingest_archive(ing, [path])
    for table in ("messages", "exports", "provenance", "users", "channels", "revisions", "links"):
        assert rows(conn, f"SELECT count(*) FROM {table}") == [(0,)], table
    assert archive.stats(conn)["generation"] == before
