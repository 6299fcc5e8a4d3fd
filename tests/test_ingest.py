"""Ingest and merge: idempotency, revisions, tombstones, provenance, eras and quirks."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import orjson

from archive import Ingester
from tests.conftest import rows
from tests.factory import ALICE, BOB, CAROL, export_doc, iso, msg, sf, write_export, write_json
from tests.ingesting import ingest_archive

Make = Callable[..., Ingester]


def test_ingest_stores_message_fields(tmp_path: Path, conn: sqlite3.Connection, ingester: Make) -> None:
    m = msg(
        10,
        "hello https://example.org `code`",
        ALICE,
        isPinned=True,
        attachments=[
            {
                "id": sf(10, 1),
                "url": "exp.json_Files\\img-1A2B3.png",
                "fileName": "img.png",
                "fileSizeBytes": 1234,
            }
        ],
        reactions=[
            {
                "emoji": {
                    "id": "",
                    "name": "\U0001f44d",
                    "code": "thumbsup",
                    "isAnimated": False,
                    "imageUrl": "x.svg",
                },
                "count": 2,
                "users": [BOB, CAROL],
            }
        ],
        mentions=[BOB],
        futureField={"a": 1},
    )
    write_export(tmp_path / "e.json", [m])
    summary = ingest_archive(ingester(), [tmp_path / "e.json"])
    assert [(f.status, f.added) for f in summary.files] == [("ok", 1)]
    assert rows(
        conn,
        "SELECT id, channel_id, author_id, type, content, pinned, flags, reaction_count, deleted,"
        " redacted FROM messages",
    ) == [
        (
            int(m["id"]),
            200000000000000001,
            100000000000000001,
            "Default",
            "hello https://example.org `code`",
            1,
            1 | 4 | 8 | 128,
            2,
            0,
            None,
        )
    ]
    # Unmodeled keys are kept verbatim; null ones (callEndedTimestamp here) say nothing and are not stored.
    assert orjson.loads(rows(conn, "SELECT extra FROM messages")[0][0]) == {"futureField": {"a": 1}}
    assert rows(conn, "SELECT path, file_name, size FROM attachments") == [
        ("exp.json_Files/img-1A2B3.png", "img.png", 1234)
    ]
    assert rows(conn, "SELECT emoji_id, emoji_name, count, users FROM reactions") == [
        (None, "\U0001f44d", 2, b"[100000000000000002,100000000000000003]")
    ]
    assert rows(conn, "SELECT user_id FROM mentions") == [(100000000000000002,)]
    assert rows(conn, "SELECT id, name, nickname FROM users ORDER BY id") == [
        (100000000000000001, "alice", "Alice A"),
        (100000000000000002, "bob", "Bob B"),
        (100000000000000003, "carol", "Carol C"),
    ]


def test_ingest_twice_is_a_noop_and_recognises_a_renamed_copy(
    tmp_path: Path, conn: sqlite3.Connection, ingester: Make
) -> None:
    write_export(tmp_path / "a" / "e.json", [msg(i, f"m{i}") for i in range(50)])
    ing = ingester()
    assert [f.status for f in ingest_archive(ing, [tmp_path / "a"]).files] == ["ok"]
    before = rows(conn, "SELECT * FROM messages ORDER BY id")
    assert [f.status for f in ingest_archive(ing, [tmp_path / "a"]).files] == ["unchanged"]
    shutil.copy(tmp_path / "a" / "e.json", tmp_path / "renamed copy.json")
    assert [f.status for f in ingest_archive(ing, [tmp_path / "renamed copy.json"]).files] == ["unchanged"]
    assert rows(conn, "SELECT * FROM messages ORDER BY id") == before
    assert rows(conn, "SELECT count(*) FROM exports") == [(1,)]


def _two_exports(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    ids = [sf(i) for i in range(5)]
    old = [msg(i, f"text {i}") for i in range(5)]
    new = [msg(i, f"text {i}") for i in range(5) if i != 2]
    new[0]["content"] = "text 0, edited"
    new[0]["timestampEdited"] = iso(1000, "-04:00")
    new[1]["reactions"] = [{"emoji": {"id": None, "name": "x"}, "count": 5}]
    new.append(msg(10, "brand new"))
    a = write_export(tmp_path / "old" / "general.json", old, exported_at="2024-01-01T00:00:00+00:00")
    b = write_export(tmp_path / "new" / "general.json", new, exported_at="2024-06-01T00:00:00.1234567+02:00")
    return a, b, ids


def _merge_state(conn: sqlite3.Connection) -> list[list[tuple[object, ...]]]:
    return [
        rows(conn, "SELECT id, content, edited_ts, deleted, reaction_count FROM messages ORDER BY id"),
        rows(conn, "SELECT message_id, edited_ts, content FROM revisions ORDER BY message_id, edited_ts"),
        rows(conn, "SELECT message_id, count(*) FROM provenance GROUP BY message_id ORDER BY message_id"),
    ]


def test_newer_export_adds_revision_tombstone_and_new_messages(
    tmp_path: Path, conn: sqlite3.Connection, ingester: Make
) -> None:
    a, b, ids = _two_exports(tmp_path)
    ing = ingester()
    ingest_archive(ing, [a])
    result = ingest_archive(ing, [b]).files[0]
    assert (result.added, result.deleted) == (1, 1)
    edited_ms = 1_700_000_000_000 + 1_000_000
    state = _merge_state(conn)
    assert state[0] == [
        (int(ids[0]), "text 0, edited", edited_ms, 0, 0),
        (int(ids[1]), "text 1", None, 0, 5),
        (int(ids[2]), "text 2", None, 1, 0),
        (int(ids[3]), "text 3", None, 0, 0),
        (int(ids[4]), "text 4", None, 0, 0),
        (int(sf(10)), "brand new", None, 0, 0),
    ]
    assert state[1] == [(int(ids[0]), None, "text 0")]
    assert state[2] == [
        (int(ids[0]), 2),
        (int(ids[1]), 2),
        (int(ids[2]), 1),
        (int(ids[3]), 2),
        (int(ids[4]), 2),
        (int(sf(10)), 1),
    ]


def test_merge_result_does_not_depend_on_ingest_order(tmp_path: Path, ingester: Make) -> None:
    import archive

    a, b, _ = _two_exports(tmp_path)
    states = []
    for order in ([a, b], [b, a]):
        c = archive.connect(tmp_path / f"db{len(states)}.sqlite")
        ingest_archive(Ingester(c), order)
        states.append(_merge_state(c))
    assert states[0] == states[1]


def test_message_outside_newer_export_range_is_not_a_tombstone(
    tmp_path: Path, conn: sqlite3.Connection, ingester: Make
) -> None:
    write_export(tmp_path / "a.json", [msg(i, f"t{i}") for i in range(6)], exported_at="2024-01-01T00:00:00Z")
    # The newer export starts later (e.g. --after): messages 0-2 are outside its range and stay.
    write_export(
        tmp_path / "b.json", [msg(i, f"t{i}") for i in range(3, 6)], exported_at="2024-02-01T00:00:00Z"
    )
    ingest_archive(ingester(), [tmp_path / "a.json", tmp_path / "b.json"])
    assert rows(conn, "SELECT count(*) FROM messages WHERE deleted = 1") == [(0,)]


def test_partitions_group_by_channel_id_not_file_name(
    tmp_path: Path, conn: sqlite3.Connection, ingester: Make
) -> None:
    msgs = [msg(i, f"p{i}") for i in range(9)]
    write_export(tmp_path / "x.json", msgs[:3])
    write_export(tmp_path / "renamed [part 2].json", msgs[3:6])
    write_export(tmp_path / "zzz.json", msgs[6:])
    summary = ingest_archive(ingester(), [tmp_path])
    assert [f.added for f in summary.files] == [3, 3, 3]
    assert rows(conn, "SELECT channel_id, count(*), sum(deleted) FROM messages GROUP BY channel_id") == [
        (200000000000000001, 9, 0)
    ]


def test_reference_kinds_and_threads(tmp_path: Path, conn: sqlite3.Connection, ingester: Make) -> None:
    parent = "200000000000000001"
    starter = msg(1, "let's discuss tokenizers")
    created = msg(
        2,
        "Started a thread.",
        type="ThreadCreated",
        reference={"messageId": None, "channelId": starter["id"], "guildId": "300000000000000001"},
    )
    reply = msg(
        3,
        "agreed",
        BOB,
        type="Reply",
        reference={"messageId": starter["id"], "channelId": parent, "guildId": "300000000000000001"},
    )
    pin = msg(
        4,
        "Pinned a message.",
        type="ChannelPinnedMessage",
        reference={"messageId": starter["id"], "channelId": parent, "guildId": None},
    )
    fwd = msg(
        5,
        "",
        type="Default",
        reference={"type": "Forward", "messageId": "9", "channelId": "8", "guildId": "7"},
        forwardedMessage={"content": "forwarded words", "timestamp": iso(0)},
    )
    xpost = msg(6, "news", reference={"messageId": "11", "channelId": "12", "guildId": "13"})
    missing = msg(
        7,
        "replying to the void",
        type="Reply",
        reference={"messageId": sf(-100), "channelId": parent, "guildId": "300000000000000001"},
    )
    write_export(tmp_path / "general.json", [starter, created, reply, pin, fwd, xpost, missing])
    in_thread = [
        msg(8, "", type="21", reference={"messageId": starter["id"], "channelId": parent}),
        msg(9, "inside the thread", CAROL),
    ]
    write_export(
        tmp_path / "thread.json",
        in_thread,
        channel_id=starter["id"],
        channel_name="tokenizers",
        channel_type="GuildPublicThread",
        category_id=parent,
        category="general",
    )
    ingest_archive(ingester(), [tmp_path])
    assert rows(
        conn, "SELECT type, reply_to, ref_kind, ref_message_id, ref_channel_id FROM messages ORDER BY id"
    ) == [
        ("Default", None, None, None, None),
        ("ThreadCreated", None, "thread", None, int(starter["id"])),
        ("Reply", int(starter["id"]), "reply", int(starter["id"]), int(parent)),
        ("ChannelPinnedMessage", None, "pin", int(starter["id"]), int(parent)),
        ("Default", None, "forward", 9, 8),
        ("Default", None, "crosspost", 11, 12),
        ("Reply", int(sf(-100)), "reply", int(sf(-100)), int(parent)),
        ("21", None, "starter", int(starter["id"]), int(parent)),
        ("Default", None, None, None, None),
    ]
    assert rows(conn, "SELECT id, type, parent_id, parent_name, is_thread FROM channels ORDER BY id") == [
        (int(parent), "GuildTextChat", None, None, 0),
        (int(starter["id"]), "GuildPublicThread", int(parent), "general", 1),
    ]


def test_old_era_quirks(tmp_path: Path, conn: sqlite3.Connection, ingester: Make) -> None:
    """DCE 2.25/2.26: no categoryId, numeric discriminators, emoji id null, local offsets, few fraction digits."""
    doc = {
        "guild": {"id": "300000000000000001", "name": "Old Guild", "iconUrl": None},
        "channel": {
            "id": "200000000000000009",
            "type": "GuildTextChat",
            "category": "Text",
            "name": "old",
            "topic": None,
        },
        "dateRange": {"after": None, "before": None},
        "messages": [
            {
                "id": sf(1),
                "type": "Default",
                "timestamp": "2023-11-14T22:13:21.48+00:00",
                "timestampEdited": "2023-11-14T19:00:00.1+01:00",
                "isPinned": False,
                "content": "old msg",
                "author": {
                    "id": "100000000000000001",
                    "name": "alice",
                    "discriminator": "1234",
                    "isBot": False,
                    "avatarUrl": "a.png",
                },
                "attachments": [],
                "embeds": [],
                "reactions": [
                    {
                        "emoji": {"id": None, "name": "\U0001f525", "isAnimated": False, "imageUrl": "f.svg"},
                        "count": 1,
                    }
                ],
                "mentions": [
                    {
                        "id": "100000000000000002",
                        "name": "bob",
                        "discriminator": 42,
                        "nickname": None,
                        "isBot": False,
                    }
                ],
            },
            {
                "id": sf(2),
                "type": "8",
                "timestamp": "2023-11-14T22:13:22+00:00",
                "timestampEdited": None,
                "isPinned": False,
                "content": "",
                "author": {"id": "100000000000000002", "name": "bob"},
            },
        ],
        "messageCount": 2,
    }
    write_json(tmp_path / "old.json", doc)
    ingest_archive(ingester(), [tmp_path / "old.json"])
    assert rows(conn, "SELECT type, edited_ts, content FROM messages ORDER BY id") == [
        ("Default", 1_699_984_800_100, "old msg"),
        ("8", None, ""),
    ]
    assert rows(conn, "SELECT id, discriminator FROM users ORDER BY id") == [
        (100000000000000001, "1234"),
        (100000000000000002, "0042"),
    ]
    assert rows(conn, "SELECT emoji_id, emoji_name, users FROM reactions") == [(None, "\U0001f525", None)]
    assert rows(conn, "SELECT category_id, category FROM channels") == [(None, None)]


def test_fallback_category_zero_means_none(tmp_path: Path, conn: sqlite3.Connection, ingester: Make) -> None:
    write_export(tmp_path / "a.json", [msg(1, "x")], category_id="0", category="Text")
    write_export(
        tmp_path / "b.json",
        [msg(2, "y")],
        channel_id="200000000000000002",
        category_id="400000000000000001",
        category="Research",
    )
    ingest_archive(ingester(), [tmp_path])
    assert rows(conn, "SELECT id, category_id, category FROM channels ORDER BY id") == [
        (200000000000000001, None, None),
        (200000000000000002, 400000000000000001, "Research"),
    ]


def test_dm_export_has_guild_zero(tmp_path: Path, conn: sqlite3.Connection, ingester: Make) -> None:
    write_export(
        tmp_path / "dm.json",
        [msg(1, "hi")],
        guild_id="0",
        guild_name="Direct Messages",
        channel_type="DirectTextChat",
        channel_name="bob",
        category_id="0",
        category="Private",
    )
    ingest_archive(ingester(), [tmp_path])
    assert rows(conn, "SELECT g.id, g.name, c.type FROM channels c JOIN guilds g ON g.id = c.guild_id") == [
        (0, "Direct Messages", "DirectTextChat")
    ]


def test_minified_export_uses_the_event_parser(
    tmp_path: Path, conn: sqlite3.Connection, ingester: Make
) -> None:
    write_export(tmp_path / "min.json", [msg(i, f"m{i}") for i in range(3)], indent=None)
    write_export(tmp_path / "four.json", [msg(i, f"m{i}") for i in range(3, 6)], indent=4)
    summary = ingest_archive(ingester(), [tmp_path])
    assert sorted((Path(f.path).name, f.status, f.added) for f in summary.files) == [
        ("four.json", "ok", 3),
        ("min.json", "ok", 3),
    ]


def test_unicode_surrogates_and_nul(tmp_path: Path, conn: sqlite3.Connection, ingester: Make) -> None:
    path = tmp_path / "e.json"
    write_export(path, [msg(1, "PLACEHOLDER")])
    text = path.read_text().replace("PLACEHOLDER", "thumbs \\uD83D\\uDC4D and nul \\u0000 end")
    path.write_text(text)
    ingest_archive(ingester(), [path])
    assert rows(conn, "SELECT content FROM messages") == [("thumbs \U0001f44d and nul \ufffd end",)]


def test_same_edit_time_different_rendering_is_not_a_revision(
    tmp_path: Path, conn: sqlite3.Connection, ingester: Make
) -> None:
    old = msg(1, "hi @bob", mentions=[BOB])
    new = msg(1, "hi @Bob B", mentions=[BOB])
    write_export(tmp_path / "a.json", [old], exported_at="2023-01-01T00:00:00Z")
    write_export(tmp_path / "b.json", [new], exported_at="2024-01-01T00:00:00Z")
    ingest_archive(ingester(), [tmp_path / "b.json", tmp_path / "a.json"])
    assert rows(conn, "SELECT content FROM messages") == [("hi @Bob B",)]
    assert rows(conn, "SELECT count(*) FROM revisions") == [(0,)]


def test_export_doc_helper_counts(tmp_path: Path) -> None:
    assert export_doc([msg(1, "a")])["messageCount"] == 1
