"""Two exports give one channel id two guilds: the later one is refused, naming both files; nothing moves and
nothing is tombstoned."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from archive import Ingester
from tests.conftest import rows
from tests.factory import msg, write_export
from tests.ingesting import ingest_archive

CHANNEL = "200000000000000001"


def _exports(tmp_path: Path) -> tuple[Path, Path]:
    real = write_export(tmp_path / "real.json", [msg(i, f"real {i}") for i in range(10)], channel_id=CHANNEL,
                        guild_id="300000000000000001", guild_name="Real Guild")  # fmt: skip
    odd = write_export(tmp_path / "odd.json", [msg(i, f"odd {i}") for i in (0, 9)], channel_id=CHANNEL,
                       guild_id="300000000000000002", guild_name="Other Guild")  # fmt: skip
    return real, odd


def test_channel_in_two_guilds_is_an_error_naming_both_files(
    tmp_path: Path, conn: sqlite3.Connection, ingester: Callable[..., Ingester]
) -> None:
    real, odd = _exports(tmp_path)
    results = ingest_archive(ingester(), [real, odd]).files
    assert [(Path(r.path).name, r.status) for r in results] == [("real.json", "ok"), ("odd.json", "failed")]
    assert results[1].error == (
        f"{odd} at channel: channel {CHANNEL} is in guild 300000000000000002 here but in guild "
        f"300000000000000001 in {real.resolve()}: one of the two exports is hand-made or damaged, so nothing was "
        "taken from this one (no message moved or tombstoned)"
    )
    assert rows(conn, "SELECT guild_id FROM channels WHERE id = ?", int(CHANNEL)) == [(300000000000000001,)]
    assert rows(conn, "SELECT count(*), sum(deleted) FROM messages") == [(10, 0)]
    assert rows(conn, "SELECT content FROM messages ORDER BY id LIMIT 1") == [("real 0",)]
    assert rows(conn, "SELECT count(*) FROM exports") == [(1,)]


def test_same_guild_again_still_merges(
    tmp_path: Path, conn: sqlite3.Connection, ingester: Callable[..., Ingester]
) -> None:
    real, _odd = _exports(tmp_path)
    again = write_export(tmp_path / "again.json", [msg(i, f"real {i}") for i in range(12)], channel_id=CHANNEL,
                         guild_id="300000000000000001", guild_name="Real Guild",
                         exported_at="2025-02-01T00:00:00.0000000+00:00")  # fmt: skip
    results = ingest_archive(ingester(), [real, again]).files
    assert [r.status for r in results] == ["ok", "ok"]
    assert rows(conn, "SELECT count(*) FROM messages WHERE deleted = 0") == [(12,)]
