"""The bundled sample community: every era and quirk, with the facts listed in sample_exports/README.md."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

import archive
from archive import Ingester
from tests.conftest import SAMPLES, rows
from tests.ingesting import ingest_archive

RESEARCH = 907543031316510423
GENERAL = 907354337968331041
THREAD = 1239970985717853624
FORUM = 1283084569804951307
POSTS = {1285903143825198254: 15, 1313580519186827391: 14, 1364277070477316834: 13}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite3.Connection]:
    path = tmp_path_factory.mktemp("samples") / archive.ARCHIVE_FILE
    conn = archive.connect(path)
    summary = ingest_archive(Ingester(conn), [SAMPLES])
    assert [(Path(f.path).name, f.error) for f in summary.files if f.status != "ok"] == []
    yield conn
    conn.close()


def test_sample_counts_per_channel(sample: sqlite3.Connection) -> None:
    assert rows(
        sample, "SELECT channel_id, count(*) FROM messages GROUP BY channel_id ORDER BY channel_id"
    ) == [
        (GENERAL, 251),
        (907357559193800260, 27),
        (907538753126598743, 74),
        (RESEARCH, 165),
        (908099447685166662, 25),
        (958773350891717723, 68),
        (THREAD, 36),
        (1285903143825198254, 15),
        (1313580519186827391, 14),
        (1364277070477316834, 13),
    ]
    assert rows(sample, "SELECT count(*) FROM messages") == [(688,)]


def test_sample_edit_becomes_a_revision(sample: sqlite3.Connection) -> None:
    assert rows(
        sample, "SELECT content, edited_ts FROM revisions WHERE message_id = 1171410726615682644"
    ) == [
        (
            "Sweep launched: 12 configs on 4 A100s (l1 x width x layer), ETA Friday. config in "
            "lens-kit/configs/sweep-nov.yaml",
            1699356576164,
        )
    ]
    assert rows(sample, "SELECT content, edited_ts FROM messages WHERE id = 1171410726615682644") == [
        (
            "Sweep launched: 12 configs on 8 A100s (l1 x width x layer), ETA Friday. config in "
            "lens-kit/configs/sweep-nov.yaml\n(edit: it was 8 GPUs, not 4 — the 2024 budget report quotes this message)",
            1719996077305,
        )
    ]
    assert rows(sample, "SELECT count(*) FROM revisions") == [(1,)]


def test_sample_deleted_message_is_a_tombstone_only(sample: sqlite3.Connection) -> None:
    assert rows(sample, "SELECT id FROM messages WHERE deleted = 1") == [(1151251275757880569,)]
    # It is attested by the older export only.
    assert rows(sample, "SELECT count(*) FROM provenance WHERE message_id = 1151251275757880569") == [(1,)]


def test_sample_partitions_are_one_channel(sample: sqlite3.Connection) -> None:
    assert rows(
        sample, "SELECT count(*), min(first_id), max(last_id) FROM exports WHERE channel_id = ?", GENERAL
    ) == [(3, 931880400416946168, 1326924651561203256)]


def test_sample_thread_and_forum_posts_link_to_parents(sample: sqlite3.Connection) -> None:
    assert rows(sample, "SELECT id, parent_id, is_thread FROM channels WHERE is_thread = 1 ORDER BY id") == [
        (THREAD, RESEARCH, 1),
        *[(p, FORUM, 1) for p in sorted(POSTS)],
    ]
    assert rows(sample, "SELECT id, ref_channel_id FROM messages WHERE type = 'ThreadCreated'") == [
        (1239971014398654619, THREAD)
    ]
    assert rows(sample, "SELECT ref_kind, ref_message_id FROM messages WHERE id = 1239971015153480579") == [
        ("starter", THREAD)
    ]


def test_sample_reference_kinds(sample: sqlite3.Connection) -> None:
    assert rows(sample, "SELECT ref_kind, reply_to FROM messages WHERE id = 1220405563930755673") == [
        ("reply", 1220103574072068556)
    ]
    assert rows(sample, "SELECT count(*) FROM messages WHERE id = 1220103574072068556") == [(0,)]
    assert rows(sample, "SELECT ref_kind, ref_message_id FROM messages WHERE id = 1315695123014769032") == [
        ("forward", 1315686896147499186)
    ]
    assert rows(sample, "SELECT ref_kind FROM messages WHERE id = 1212059065119916357") == [("crosspost",)]
    assert rows(sample, "SELECT id, ref_message_id FROM messages WHERE ref_kind = 'pin' ORDER BY id") == [
        (911677359566937908, 911677273273272077),
        (1125350389235959524, 1125350221576931000),
        (1315686958969814435, 1315686896147499186),
        (1318654071665797786, 1318653945924698188),
    ]
    assert rows(sample, "SELECT id FROM messages WHERE pinned = 1 ORDER BY id") == [
        (911677273273272077,),
        (959832080043421299,),
        (1062294732878693274,),
        (1125350221576931000,),
        (1315686896147499186,),
        (1318653945924698188,),
    ]


def test_sample_media_path_windows_separators(sample: sqlite3.Connection) -> None:
    (path,) = rows(sample, "SELECT a.path FROM attachments a WHERE a.message_id = 1239971344901391231")[0]
    assert path == (
        "Lanternfish Lab - research - Feature splitting at 16k vs 65k [1239970985717853624]"
        ".json_Files/diagram-4634A.png"
    )
    (export_path,) = rows(
        sample,
        "SELECT e.path FROM attachments a JOIN exports e ON e.id = a.export_id"
        " WHERE a.message_id = 1239971344901391231",
    )[0]
    assert (Path(str(export_path)).parent / str(path)).is_file()


def test_sample_dm_and_categories(sample: sqlite3.Connection) -> None:
    assert rows(sample, "SELECT id, guild_id, type FROM channels WHERE id = 908099447685166662") == [
        (908099447685166662, 0, "DirectTextChat")
    ]
    # DCE 2.40's fallback category "0"/"Text" means no category; 2.44 names the real one.
    assert rows(sample, "SELECT category_id, category FROM channels WHERE id = 958773350891717723") == [
        (None, None)
    ]
    assert rows(sample, "SELECT category FROM channels WHERE id = ?", RESEARCH) == [("Research",)]


def test_sample_every_message_has_a_conversation(sample: sqlite3.Connection) -> None:
    assert rows(
        sample,
        "SELECT count(*) FROM messages m LEFT JOIN links l ON l.message_id = m.id WHERE l.message_id IS NULL",
    ) == [(0,)]


def test_sample_threads_and_forum_posts_are_one_conversation_each(sample: sqlite3.Connection) -> None:
    for cid, count in [(THREAD, 36), *POSTS.items()]:
        assert rows(
            sample,
            "SELECT l.conversation_id, count(*) FROM messages m"
            " JOIN links l ON l.message_id = m.id WHERE m.channel_id = ? GROUP BY 1",
            cid,
        ) == [(cid, count)]
    # The thread's first message answers its starter (in #research) explicitly.
    assert rows(
        sample, "SELECT l.parent_id, l.explicit FROM links l WHERE l.message_id = 1239971015153480579"
    ) == [(THREAD, 1)]


def test_sample_replies_join_their_parents_conversation(sample: sqlite3.Connection) -> None:
    mismatched = rows(
        sample,
        "SELECT m.id FROM messages m JOIN links l ON l.message_id = m.id JOIN links p ON p.message_id = m.reply_to"
        " WHERE m.type = 'Reply' AND (l.conversation_id != p.conversation_id OR l.parent_id != m.reply_to"
        " OR l.explicit = 0)",
    )
    assert mismatched == []
    # The reply to a message in no export starts a conversation keyed by the missing id.
    assert rows(
        sample,
        "SELECT parent_id, conversation_id, explicit FROM links WHERE message_id = 1220405563930755673",
    ) == [(1220103574072068556, 1220103574072068556, 1)]


def test_sample_inferred_links_have_confidence(sample: sqlite3.Connection) -> None:
    (n, lo, hi) = rows(
        sample, "SELECT count(*), min(confidence), max(confidence) FROM links WHERE explicit = 0"
    )[0]
    assert n > 300
    assert 0.0 <= float(lo) <= float(hi) <= 1.0  # type: ignore[arg-type]
    # Within a channel, a message is in its parent's conversation. (A thread is its own conversation,
    # so its messages' links to the starter in the parent channel cross conversations.)
    bad = rows(
        sample,
        "SELECT l.message_id FROM links l JOIN links p ON p.message_id = l.parent_id"
        " JOIN messages m ON m.id = l.message_id JOIN messages pm ON pm.id = l.parent_id"
        " WHERE l.conversation_id != p.conversation_id AND m.channel_id = pm.channel_id",
    )
    assert bad == []
