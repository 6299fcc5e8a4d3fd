"""`from:` finds people the way newcomers type them: username, display name, or one word of it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

import archive
import indexer
from archive import Ingester
from tests.factory import msg, write_export

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
    Ingester(conn).ingest([tmp / "e.json"])
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
        ("in:genral", "No channel called 'genral' is in the archive, so in:genral matches nothing."),
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
