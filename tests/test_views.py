"""archive.views: the viewer's read-only queries."""

from __future__ import annotations

import archive
from archive import views
from tests import test_web_app
from tests.test_web_app import GENERAL, Community

community = test_web_app.community  # the shared fixture


def test_views_revisions_are_oldest_first(community: Community) -> None:
    conn = archive.connect(community.data_dir / archive.ARCHIVE_FILE, readonly=True)
    assert [r["content"] for r in views.revisions(conn, int(community.edited))] == [
        "original text",
        "second text",
    ]
    assert views.find_message(conn, int(community.edited))["content"] == "final text"  # type: ignore[index]


def test_views_channel_page_cursors_are_clamped(community: Community) -> None:
    conn = archive.connect(community.data_dir / archive.ARCHIVE_FILE, readonly=True)
    rows, older, newer = views.channel_page(conn, int(GENERAL), before=1 << 80, limit=2)
    assert (
        [r["id"] for r in rows] == [int(community.hostile), int(community.taken_down)] and older and not newer
    )
    rows, older, newer = views.channel_page(conn, int(GENERAL), after=-5, limit=1)
    assert [r["id"] for r in rows] == [int(community.hello)] and not older and newer


def test_views_reply_tree_has_depths(community: Community) -> None:
    conn = archive.connect(community.data_dir / archive.ARCHIVE_FILE, readonly=True)
    tree = views.reply_tree(conn, int(community.hello))
    assert [(r["id"], r["depth"]) for r in tree] == [
        (int(community.hello), 0), (int(community.reply), 1), (int(community.nested), 2)
    ]  # fmt: skip


def test_views_threads_started_by_messages(community: Community) -> None:
    conn = archive.connect(community.data_dir / archive.ARCHIVE_FILE, readonly=True)
    starter = views.find_message(conn, int(community.starter))
    assert starter is not None
    thread = views.thread_of(conn, starter)
    assert thread is not None and (thread["name"], thread["count"]) == ("deep dive", 2)


def test_views_guild_directory_nests_threads(community: Community) -> None:
    conn = archive.connect(community.data_dir / archive.ARCHIVE_FILE, readonly=True)
    (guild,) = views.guild_directory(conn)
    (general,) = guild["channels"]
    assert general["count"] == 7 and [t["id"] for t in general["threads"]] == [int(community.starter)]


def test_views_first_and_last_times_are_those_of_the_oldest_and_newest_messages(community: Community) -> None:
    # Read at the ends of the id index; they must agree with min(ts)/max(ts) over every message.
    conn = archive.connect(community.data_dir / archive.ARCHIVE_FILE, readonly=True)
    channels = [r[0] for r in conn.execute("SELECT DISTINCT channel_id FROM messages")]
    authors = [
        r[0] for r in conn.execute("SELECT DISTINCT author_id FROM messages JOIN users u ON u.id = author_id")
    ]
    assert len(channels) > 1 and len(authors) > 1
    for c in channels:
        expected = conn.execute("SELECT min(ts), max(ts) FROM messages WHERE channel_id = ?", (c,)).fetchone()
        assert views.channel_span(conn, c) == tuple(expected)
    for a in authors:
        user = views.find_user(conn, a)
        expected = conn.execute("SELECT min(ts), max(ts) FROM messages WHERE author_id = ?", (a,)).fetchone()
        assert user is not None and (user["first_ts"], user["last_ts"]) == tuple(expected)
    assert views.channel_span(conn, 1) == (None, None)
