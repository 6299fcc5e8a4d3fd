from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import archive
from archive import Ingester, Policy

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_exports"
SHARED = ROOT.parent / "shared"
REAL = SHARED / "data" / "dce-real"


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    c = archive.connect(tmp_path / "data" / archive.ARCHIVE_FILE)
    yield c
    c.close()


@pytest.fixture
def ingester(conn: sqlite3.Connection) -> Callable[..., Ingester]:
    def make(policy: Policy | None = None) -> Ingester:
        return Ingester(conn, policy)

    return make


def rows(conn: sqlite3.Connection, sql: str, *args: object) -> list[tuple[object, ...]]:
    return [tuple(r) for r in conn.execute(sql, args).fetchall()]


@pytest.fixture(scope="session")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, object]:
    """The sample community's data dir and its static site, built once for all static-site tests."""
    from publish import publish_site
    from tests.live import build_data_dir

    if not any(SAMPLES.glob("*-export")):
        pytest.skip("sample_exports/ has no exports yet")
    tmp = tmp_path_factory.mktemp("publish")
    build_data_dir(tmp / "data", [SAMPLES])
    report = publish_site(tmp / "data", tmp / "site", base_url="https://lab.example/archive")
    return tmp / "data", tmp / "site", report
