""" "Did you mean …?" from the index's own words when a query finds nothing or very little."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import archive
import indexer
from archive import Ingester
from cli import app
from tests.factory import msg, write_export
from tests.ingesting import ingest_archive
from web.app import create_app
from web.settings import Settings

TEXTS = [f"herculaneum scroll {n} unrolled" for n in range(12)] + ["the herculanium typo once", "papyrus"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    tmp = tmp_path_factory.mktemp("suggest")
    write_export(tmp / "e.json", [msg(i, t) for i, t in enumerate(TEXTS)])
    conn: sqlite3.Connection = archive.connect(tmp / "data" / archive.ARCHIVE_FILE)
    ingest_archive(Ingester(conn), [tmp / "e.json"])
    indexer.update_index(tmp / "data", conn)
    conn.close()
    yield tmp / "data"


@pytest.fixture(scope="module")
def ix(data_dir: Path) -> indexer.SearchIndex:
    return indexer.open_index(data_dir)


@pytest.mark.parametrize(
    ("q", "total", "suggestion"),
    [
        ("herculanium", 1, "herculaneum"),  # the typo is in the index once; the right spelling 12 times
        ("hercolaneum", 0, "herculaneum"),
        ("Herculanium scroll", 0, "herculaneum scroll"),
        ("herculanium from:alice", 1, "herculaneum from:alice"),  # filters are kept as typed
        ("papyrus", 1, None),  # a word found as typed with nothing commoner nearby
        ("herculaneum", 12, None),  # enough results: no suggestion
        ("zzyzxqqq", 0, None),  # nothing close
        ('"herculanium typo"', 1, None),  # phrases are taken as meant
        ("herculanium~", 13, None),
    ],
)
def test_search_suggests_close_commoner_spelling(
    ix: indexer.SearchIndex, q: str, total: int, suggestion: str | None
) -> None:
    page = indexer.search(ix, q, facets=False)
    assert (page.total, page.suggestion) == (total, suggestion)
    assert page.to_dict()["suggestion"] == suggestion


def test_search_page_links_the_suggestion(data_dir: Path) -> None:
    with TestClient(create_app(Settings(data_dir=data_dir))) as c:
        text = c.get("/search", params={"q": "hercolaneum", "sort": "newest"}).text
        assert (
            '<p class="did-you-mean" role="status">Did you mean '
            '<a href="/search?q=herculaneum&amp;sort=newest"><em>herculaneum</em></a>?</p>'
        ) in text
        assert c.get("/search.json", params={"q": "hercolaneum"}).json()["suggestion"] == {
            "query": "herculaneum",
            "url": "/search?q=herculaneum",
        }
        assert "did-you-mean" not in c.get("/search", params={"q": "herculaneum"}).text


def test_cli_search_prints_the_suggestion(data_dir: Path) -> None:
    result = CliRunner().invoke(app, ["search", "hercolaneum", "--data-dir", str(data_dir)])
    assert result.exit_code == 0
    assert "did you mean: herculaneum" in result.stderr
