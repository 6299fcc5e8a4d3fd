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
