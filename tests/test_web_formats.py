"""The viewer on CSV/TXT records: flagged, cited with a note, and 301 to the real message once merged."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

import archive
from tests.live import build_data_dir
from tests.test_formats import _corpus
from web.app import create_app
from web.cite import LOW_FIDELITY_NOTE
from web.settings import Settings

BASE_URL = "https://hallway.example"


def _client(data_dir: Path) -> TestClient:
    return TestClient(create_app(Settings(data_dir=data_dir, base_url=BASE_URL)))


def _ids(data_dir: Path, sql: str) -> list[int]:
    conn = archive.connect(data_dir / archive.ARCHIVE_FILE)
    try:
        return [r[0] for r in conn.execute(sql)]
    finally:
        conn.close()


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _corpus(tmp_path_factory.mktemp("formats"))[2]


@pytest.fixture(scope="module")
def csv_only(
    tmp_path_factory: pytest.TempPathFactory, exports: dict[str, Path]
) -> Iterator[tuple[Path, TestClient]]:
    data = tmp_path_factory.mktemp("csv-data")
    assert [r.status for r in build_data_dir(data, [exports["csv"]])] == ["ok"]
    with _client(data) as client:
        yield data, client


def test_csv_record_is_flagged_in_api_and_page(csv_only: tuple[Path, TestClient]) -> None:
    data, client = csv_only
    mid = _ids(data, "SELECT id FROM messages ORDER BY id LIMIT 1")[0]
    page = client.get(f"/m/{mid}.json").json()
    assert page["low_fidelity"] is True
    assert page["discord_url"] is None  # the id is the archive's own: Discord has nothing under it
    assert page["citation"]["source_note"] == LOW_FIDELITY_NOTE
    html = client.get(f"/m/{mid}").text
    assert 'class="badge badge-lowfi"' in html
    assert str(escape(LOW_FIDELITY_NOTE)) in html
    assert "Original on discord.com" not in html
    bib = client.get(f"/m/{mid}/cite.bib").text
    assert "The text comes from a DiscordChatExporter CSV or TXT export" in bib


def test_merged_record_urls_answer_301_to_the_real_permalink(
    tmp_path: Path, exports: dict[str, Path]
) -> None:
    data = tmp_path / "data"
    build_data_dir(data, [exports["csv"]])
    old = _ids(data, "SELECT id FROM messages ORDER BY id")
    build_data_dir(data, [exports["html"]])
    conn = archive.connect(data / archive.ARCHIVE_FILE)
    aliases = dict(conn.execute("SELECT alias_id, message_id FROM aliases").fetchall())
    conn.close()
    assert sorted(aliases) == old  # every record merged, none left over
    first = old[0]
    real = aliases[first]
    with _client(data) as client:
        for suffix, query in (("", ""), (".json", ""), (".md", ""), ("/cite.bib", "?v=1")):
            r = client.get(f"/m/{first}{suffix}{query}", follow_redirects=False)
            assert (r.status_code, r.headers["location"]) == (301, f"/m/{real}{suffix}{query}"), suffix
        page = client.get(f"/m/{first}.json").json()
        assert page["id"] == str(real) and page["low_fidelity"] is False
        assert [p["file"] for p in page["provenance"]] == [exports["csv"].name, exports["html"].name]
        assert client.get("/m/1100000000000000001").status_code == 404


def test_index_drops_merged_records(tmp_path: Path, exports: dict[str, Path]) -> None:
    import indexer

    data = tmp_path / "data"
    build_data_dir(data, [exports["txt"]])
    before = indexer.search(indexer.open_index(data), "").total
    build_data_dir(data, [exports["html"]])
    assert indexer.search(indexer.open_index(data), "").total == before == 60
    conn: sqlite3.Connection = archive.connect(data / archive.ARCHIVE_FILE)
    assert conn.execute("SELECT count(*), min(fidelity) FROM messages").fetchone() == (60, 3)
    conn.close()
