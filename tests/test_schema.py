"""Archive schema: versioned, migrated forward, and refused when newer than this Hallway."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

import archive
from archive import SchemaTooNewError
from archive.schema import MIGRATIONS, SCHEMA_VERSION
from cli import app


def test_new_archive_has_current_version(tmp_path: Path) -> None:
    conn = archive.connect(tmp_path / "a.sqlite")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == max(MIGRATIONS)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_v1_archive_is_migrated_forward(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    raw = sqlite3.connect(path)
    raw.executescript(MIGRATIONS[1] + "PRAGMA user_version = 1;")
    raw.execute("INSERT INTO meta(key, value) VALUES ('generation', '7')")
    raw.commit()
    raw.close()
    conn = archive.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("SELECT count(*) FROM links").fetchone()[0] == 0
    assert archive.generation(conn) == 7


def test_newer_archive_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "data" / archive.ARCHIVE_FILE
    archive.connect(path).close()
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    raw.commit()
    raw.close()
    message = (
        f"the archive has schema v{SCHEMA_VERSION + 5}, but this Hallway only knows up to v{SCHEMA_VERSION}: "
        "upgrade Hallway to read it"
    )
    for readonly in (False, True):
        with pytest.raises(SchemaTooNewError) as exc:
            archive.connect(path, readonly=readonly)
        assert str(exc.value) == message
    result = CliRunner().invoke(app, ["stats", "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {message}"
