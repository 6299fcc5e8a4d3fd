"""`from:` finds people the way newcomers type them: username, display name, or one word of it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

import archive
import indexer
from archive import Ingester
from tests.factory import msg, write_export
from tests.ingesting import ingest_archive

HARLOW = {
    "id": "100000000000000041",
    "name": "hbex",
    "discriminator": "0000",
    "nickname": "Harlow Bexley",
    "color": None,
    "isBot": False,
    "roles": [],
    "avatarUrl": "a.png",
}
HARPER = {
    "id": "100000000000000042",
    "name": "harper",
    "discriminator": "0000",
    "nickname": "Harper Lee",
    "color": None,
    "isBot": False,
    "roles": [],
    "avatarUrl": "b.png",
}


@pytest.fixture(scope="module")
def ix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[indexer.SearchIndex]:
    tmp = tmp_path_factory.mktemp("names")
    write_export(
        tmp / "e.json",
        [msg(1, "grokking curves", HARLOW), msg(2, "grokking too", HARPER), msg(3, "unrelated", HARLOW)],
    )
    conn: sqlite3.Connection = archive.connect(tmp / "data" / archive.ARCHIVE_FILE)
    ingest_archive(Ingester(conn), [tmp / "e.json"])
    indexer.update_index(tmp / "data", conn)
    yield indexer.open_index(tmp / "data")
    conn.close()


@pytest.mark.parametrize(
    "q", ["from:harlow", "from:Bexley", 'from:"Harlow Bexley"', "from:hbex", "from:100000000000000041"]
)
def test_from_matches_username_display_name_or_one_word(ix: indexer.SearchIndex, q: str) -> None:
    page = indexer.search(ix, q, sort="oldest", facets=False)
    assert [h.author for h in page.hits] == ["Harlow Bexley", "Harlow Bexley"]


def test_from_word_does_not_match_a_prefix(ix: indexer.SearchIndex) -> None:
    assert indexer.search(ix, "from:har", facets=False).total == 0
    assert [h.author for h in indexer.search(ix, "grokking -from:harlow", facets=False).hits] == [
        "Harper Lee"
    ]


@pytest.mark.parametrize(
    ("q", "hint"),
    [
        ("from:harlw grokking", "No person called 'harlw' is in the archive, so from:harlw matches nothing."),
        (
            "in:genral",
            "No channel called 'genral' is in the archive, so in:genral matches nothing. Did you mean in:general?",
        ),
        (
            "mentions:nobody x",
            "No person called 'nobody' is in the archive, so mentions:nobody matches nothing.",
        ),
    ],
)
def test_unknown_names_say_so(ix: indexer.SearchIndex, q: str, hint: str) -> None:
    page = indexer.search(ix, q, facets=False)
    assert (page.total, page.hints) == (0, [hint])


def test_known_names_give_no_hint(ix: indexer.SearchIndex) -> None:
    assert indexer.search(ix, "from:harlow in:general", facets=False).hints == []


# -- in: as people type channel names ---------------------------------------------------------------

GUILD_KW = {"guild_id": "300000000000000001", "guild_name": "Test Guild"}
DECORATED = {
    "200000000000000011": "💻-lcars-terminal-27",
    "200000000000000012": "👋｜welcome-and-hellos",
    "200000000000000013": "⚖｜rules",
    "200000000000000014": "general",
    "200000000000000015": "💬-general",
}


@pytest.fixture(scope="module")
def decorated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[indexer.SearchIndex]:
    tmp = tmp_path_factory.mktemp("decorated")
    paths = []
    for n, (cid, name) in enumerate(DECORATED.items()):
        paths.append(write_export(tmp / f"{cid}.json", [msg(10 * n, f"note in {cid}")], channel_id=cid,
                                  channel_name=name, **GUILD_KW))  # fmt: skip
    # A thread of the terminal channel, itself with a decorated name.
    paths.append(write_export(tmp / "thread.json", [msg(100, "note in thread")], channel_id="200000000000000016",
                              channel_name="🧵 Warp Core Diagnostics", channel_type="GuildPublicThread",
                              category_id="200000000000000011", category="💻-lcars-terminal-27", **GUILD_KW))  # fmt: skip
    conn: sqlite3.Connection = archive.connect(tmp / "data" / archive.ARCHIVE_FILE)
    ingest_archive(Ingester(conn), paths)
    indexer.update_index(tmp / "data", conn)
    yield indexer.open_index(tmp / "data")
    conn.close()


def _contents(ix: indexer.SearchIndex, q: str) -> list[str]:
    page = indexer.search(ix, q, sort="oldest", facets=False)
    assert page.hints == [], page.hints
    return [h.snippet for h in page.hits]


@pytest.mark.parametrize(
    "q",
    ["in:lcars-terminal-27", "in:LCARS-Terminal-27", 'in:"lcars terminal 27"', "in:💻-lcars-terminal-27"],
)
def test_in_matches_decorated_channel_names_as_typed(decorated: indexer.SearchIndex, q: str) -> None:
    # The channel's own message and its thread's (a thread is in its parent channel).
    assert _contents(decorated, q) == ["note in 200000000000000011", "note in thread"]


@pytest.mark.parametrize(
    ("q", "cid"), [("in:rules", "200000000000000013"), ("in:Welcome-and-Hellos", "200000000000000012")]
)
def test_in_ignores_emoji_and_separators(decorated: indexer.SearchIndex, q: str, cid: str) -> None:
    assert _contents(decorated, q) == [f"note in {cid}"]


def test_in_matches_thread_names_without_decoration(decorated: indexer.SearchIndex) -> None:
    assert _contents(decorated, "in:warp-core-diagnostics") == ["note in thread"]
    assert _contents(decorated, 'in:"warp core diagnostics"') == ["note in thread"]


def test_in_exact_name_wins_over_normalized(decorated: indexer.SearchIndex) -> None:
    assert _contents(decorated, "in:general") == ["note in 200000000000000014"]
    assert _contents(decorated, "in:💬-general") == ["note in 200000000000000015"]


def test_in_unknown_channel_suggests_closest_names(decorated: indexer.SearchIndex) -> None:
    page = indexer.search(decorated, "in:lcars-terminl", facets=False)
    assert (page.total, page.hints) == (
        0,
        [
            "No channel called 'lcars-terminl' is in the archive, so in:lcars-terminl matches nothing. "
            "Did you mean in:lcars-terminal-27?"
        ],
    )
    page = indexer.search(decorated, "in:rulez", facets=False)
    assert page.hints == [
        "No channel called 'rulez' is in the archive, so in:rulez matches nothing. Did you mean in:rules?"
    ]


def test_in_unknown_channel_with_nothing_close_has_no_suggestion(decorated: indexer.SearchIndex) -> None:
    assert indexer.search(decorated, "in:zzzqqq", facets=False).hints == [
        "No channel called 'zzzqqq' is in the archive, so in:zzzqqq matches nothing."
    ]
