"""`in:conversation:ID`: search inside one conversation, checked against the archive's `links` table."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

import archive
import indexer
from archive.conversation_views import find_conversation_id
from indexer.query import QueryBuilder
from indexer.schema import build_schema
from tests.conftest import SAMPLES
from tests.ingesting import ingest_archive
from tests.test_search import all_ids, live, oracle

THREAD = 1239970985717853624
FORUM_POSTS = (1285903143825198254, 1313580519186827391, 1364277070477316834)
MISSING_ROOT = 1220103574072068556  # a reply's target that no export has: the conversation keeps its id
GENERAL = 907354337968331041


@pytest.fixture(scope="module")
def env(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[sqlite3.Connection, indexer.SearchIndex, Path]]:
    data = tmp_path_factory.mktemp("search-conv") / "data"
    conn = archive.connect(data / archive.ARCHIVE_FILE)
    ingest_archive(archive.Ingester(conn), [SAMPLES])  # it also links conversations
    indexer.update_index(data, conn)
    yield conn, indexer.open_index(data), data
    conn.close()


@pytest.fixture(scope="module")
def conn(env: tuple[sqlite3.Connection, indexer.SearchIndex, Path]) -> sqlite3.Connection:
    return env[0]


@pytest.fixture(scope="module")
def ix(env: tuple[sqlite3.Connection, indexer.SearchIndex, Path]) -> indexer.SearchIndex:
    return env[1]


def members(conn: sqlite3.Connection, conversation_id: int) -> set[int]:
    """The conversation's searchable messages, straight from SQL."""
    return oracle(conn, "m.id IN (SELECT message_id FROM links WHERE conversation_id = ?)", conversation_id)


def some_conversations(conn: sqlite3.Connection) -> list[int]:
    """The thread, the forum posts, the missing-root conversation, and a few inferred channel conversations."""
    inferred = [
        r[0]
        for r in conn.execute(
            "SELECT conversation_id FROM links GROUP BY conversation_id"
            " HAVING count(*) >= 3 AND sum(explicit) < count(*) - 1 ORDER BY conversation_id LIMIT 5"
        )
    ]
    assert len(inferred) == 5
    return [THREAD, *FORUM_POSTS, MISSING_ROOT, *inferred]


def test_search_in_conversation_matches_links(ix: indexer.SearchIndex, conn: sqlite3.Connection) -> None:
    for cid in some_conversations(conn):
        expected = members(conn, cid)
        assert expected, cid
        got = all_ids(ix, f"in:conversation:{cid}", sort="oldest")
        assert got == sorted(expected), cid
        page = indexer.search(ix, f"in:conversation:{cid}")
        assert page.hints == []
        assert [str(c) for c in page.filters] == [f"in:conversation:{cid}"]


def test_search_in_conversation_known_sizes(ix: indexer.SearchIndex, conn: sqlite3.Connection) -> None:
    # sample_exports/README.md: the forum posts have 15, 14 and 13 messages, each one conversation.
    for cid, size in zip(FORUM_POSTS, (15, 14, 13), strict=True):
        in_post = oracle(conn, "m.channel_id = ?", cid)
        assert len(all_ids(ix, f"in:conversation:{cid}")) == len(in_post) == size
        assert set(all_ids(ix, f"in:conversation:{cid}")) == in_post
    # The thread's 36 messages are all in the thread's conversation (with its starter in #research).
    thread = set(all_ids(ix, f"in:conversation:{THREAD}"))
    assert (
        oracle(conn, "m.channel_id = ?", THREAD) <= thread
        and len(oracle(conn, "m.channel_id = ?", THREAD)) == 36
    )
    assert THREAD in thread
    # A reply to a message no export has: the conversation is named after the missing message.
    assert 1220405563930755673 in set(all_ids(ix, f"in:conversation:{MISSING_ROOT}"))


def test_search_in_conversation_combines_with_words_and_filters(
    ix: indexer.SearchIndex, conn: sqlite3.Connection
) -> None:
    expected = members(conn, THREAD) & oracle(conn, "m.channel_id = ?", THREAD)
    assert (
        set(all_ids(ix, f"in:conversation:{THREAD} in:{THREAD}")) == expected
    )  # ANDed, unlike two in:CHANNEL
    words = set(all_ids(ix, f"feature in:conversation:{THREAD}"))
    assert words and words == set(all_ids(ix, "feature")) & members(conn, THREAD)
    # Several conversations mean any of them.
    both = set(all_ids(ix, f"in:conversation:{FORUM_POSTS[0]} in:conversation:{FORUM_POSTS[1]}"))
    assert both == members(conn, FORUM_POSTS[0]) | members(conn, FORUM_POSTS[1])


def test_search_not_in_conversation_is_the_rest(ix: indexer.SearchIndex, conn: sqlite3.Connection) -> None:
    for q in (f"-in:conversation:{THREAD}", f"NOT in:conversation:{THREAD}"):
        assert set(all_ids(ix, q)) == live(conn) - members(conn, THREAD), q
    page = indexer.search(ix, f"-in:conversation:{THREAD}")
    assert [str(c) for c in page.filters] == [f"-in:conversation:{THREAD}"]


def test_search_unknown_conversation_finds_nothing_with_a_hint(ix: indexer.SearchIndex) -> None:
    page = indexer.search(ix, "in:conversation:42")
    assert (page.total, page.hits) == (0, [])
    assert page.hints == [
        "There is no conversation 42 in the archive: nothing matches in:conversation:42. "
        "A conversation is named after its first message, or a thread or forum post."
    ]
    assert [str(c) for c in page.filters] == ["in:conversation:42"]  # still shown, so it can be removed


@pytest.mark.parametrize(
    ("q", "shown"),
    [
        ("in:conversation:", "in:conversation:"),
        ("in:conversation:abc", "in:conversation:abc"),
        ("in:conversation:-5", "in:conversation:-5"),
        ("in:conversation:99999999999999999999", "in:conversation:99999999999999999999"),
        ("in:conversation:²", "in:conversation:²"),  # str.isdigit() says yes, int() says no
    ],
)
def test_search_bad_conversation_id_is_ignored_with_a_hint(
    ix: indexer.SearchIndex, q: str, shown: str
) -> None:
    page = indexer.search(ix, q)
    assert page.total == 0 and page.filters == []
    assert page.hints == [
        f"{shown} needs a conversation id (digits), e.g. in:conversation:1239970985717853624; it was ignored."
    ]


def test_search_in_conversation_is_case_insensitive(
    ix: indexer.SearchIndex, conn: sqlite3.Connection
) -> None:
    assert set(all_ids(ix, f"IN:Conversation:{THREAD}")) == members(conn, THREAD)


def test_search_in_conversation_without_an_archive_finds_nothing(
    env: tuple[sqlite3.Connection, indexer.SearchIndex, Path], tmp_path: Path
) -> None:
    # An index whose archive is gone (copied elsewhere): the filter can't be resolved, so nothing matches.
    copy = tmp_path / "data"
    shutil.copytree(env[2] / indexer.INDEX_DIR, copy / indexer.INDEX_DIR)
    page = indexer.search(indexer.open_index(copy), f"in:conversation:{THREAD}")
    assert page.total == 0
    assert page.hints == [
        f"in:conversation:{THREAD} needs the archive, which could not be read: nothing can match it."
    ]


def test_query_builder_without_a_resolver_never_raises() -> None:
    parsed = QueryBuilder(build_schema()).parse(f"grokking in:conversation:{THREAD}")
    assert [str(c) for c in parsed.filters] == [f"in:conversation:{THREAD}"]
    assert parsed.hints == [
        f"in:conversation:{THREAD} needs the archive, which could not be read: nothing can match it."
    ]


def test_search_in_conversation_of_a_general_channel_message(
    ix: indexer.SearchIndex, conn: sqlite3.Connection
) -> None:
    """From a message to its conversation (as the viewer's link does) and back: the message is among the hits."""
    mid = conn.execute(
        "SELECT l.message_id FROM links l JOIN messages m ON m.id = l.message_id"
        " WHERE m.channel_id = ? AND l.explicit = 0 AND l.parent_id IS NOT NULL ORDER BY l.message_id LIMIT 1",
        (GENERAL,),
    ).fetchone()[0]
    cid = find_conversation_id(conn, mid)
    assert cid is not None
    assert mid in all_ids(ix, f"in:conversation:{cid}")
