"""Text that looks identical is found identically: NFKC and invisible characters at index and query time."""

from __future__ import annotations

import sqlite3
import unicodedata
from collections.abc import Iterator

import pytest

import archive
import indexer
from archive import Ingester
from indexer.schema import normalize_text
from tests.factory import msg, write_export
from tests.ingesting import ingest_archive

NFD_CAFE = unicodedata.normalize("NFD", "café au lait")
TEXTS = [
    NFD_CAFE,  # decomposed é
    "café crème",  # composed é
    "gra\u200ddient descent",  # zero-width joiner inside the word
    "grad\u00adient boosting",  # soft hyphen
    "gradi\u200bent checkpointing",  # zero-width space
    "\ufb01nance report",  # the ﬁ ligature
    "ｆｕｌｌｗｉｄｔｈ letters",
]


@pytest.fixture(scope="module")
def ix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[indexer.SearchIndex]:
    tmp = tmp_path_factory.mktemp("unicode")
    write_export(tmp / "e.json", [msg(i, t) for i, t in enumerate(TEXTS)])
    conn: sqlite3.Connection = archive.connect(tmp / "data" / archive.ARCHIVE_FILE)
    ingest_archive(Ingester(conn), [tmp / "e.json"])
    indexer.update_index(tmp / "data", conn)
    yield indexer.open_index(tmp / "data")
    conn.close()


def _found(ix: indexer.SearchIndex, q: str) -> list[int]:
    return [
        TEXTS.index(next(t for t in TEXTS if normalize_text(t) == _plain(h.snippet)))
        for h in indexer.search(ix, q, sort="oldest", facets=False).hits
    ]


def _plain(snippet: str) -> str:
    return snippet.replace("<mark>", "").replace("</mark>", "")


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("café", [0, 1]),  # composed query finds the decomposed message
        (unicodedata.normalize("NFD", "café"), [0, 1]),  # and the other way round
        ('"café au lait"', [0]),
        ("gradient", [2, 3, 4]),
        ("gradi*", [2, 3, 4]),
        ('"gradient descent"', [2]),
        ("gra\u200bdient", [2, 3, 4]),  # an invisible character in the query too
        ("finance", [5]),
        ("fullwidth", [6]),
        ("ｆｉｎａｎｃｅ", [5]),
    ],
)
def test_search_finds_text_that_looks_identical(ix: indexer.SearchIndex, q: str, found: list[int]) -> None:
    assert _found(ix, q) == found


def test_snippet_marks_the_normalized_word(ix: indexer.SearchIndex) -> None:
    [hit] = indexer.search(ix, '"gradient descent"', facets=False).hits
    assert hit.snippet == "<mark>gradient</mark> <mark>descent</mark>"


def test_normalize_text() -> None:
    assert normalize_text("plain ascii") == "plain ascii"
    assert normalize_text(NFD_CAFE) == "café au lait"
    assert normalize_text("gra\u200ddi\u00adent\ufeff") == "gradient"
    assert normalize_text("\ufb01") == "fi"
