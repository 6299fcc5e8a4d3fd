"""The archive database: opening it (WAL, schema, secret) and the queries every reader shares."""

from __future__ import annotations

import os
import secrets
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from archive.errors import ArchiveBusy, ArchiveError, SchemaTooNewError
from archive.schema import SCHEMA_VERSION, ensure_schema

ARCHIVE_FILE = "archive.sqlite"


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open the archive at `path`; writers get the schema created or migrated."""
    if readonly:
        if not path.exists():
            raise ArchiveError(f"no archive at {path}: run `hallway ingest PATH` first")
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        conn.execute("PRAGMA query_only = ON")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        # A new archive gets 8 KB pages (no effect on an existing one): messages of many channels interleave
        # by id, so each file's inserts split pages all over the table; at 1M messages 8 KB pages cut the
        # insert and commit CPU by a sixth against 4 KB (12.5 s vs 15.1 s).
        conn.execute("PRAGMA page_size = 8192")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        # A big file is one big transaction, so the WAL grows to its size; let checkpoints shrink it back.
        conn.execute("PRAGMA journal_size_limit = 67108864")
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA cache_size = -65536")
    conn.execute("PRAGMA temp_store = MEMORY")
    if readonly:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise SchemaTooNewError(
                f"the archive has schema v{version}, but this Hallway only knows up to v{SCHEMA_VERSION}: "
                "upgrade Hallway to read it"
            )
    else:
        ensure_schema(conn)
    return conn


def get_meta(conn: sqlite3.Connection, key: str, default: str | None = None) -> str | None:
    """Read one value from the meta table."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else default


def set_meta(conn: sqlite3.Connection, key: str, value: Any) -> None:
    """Write one value to the meta table (inside the caller's transaction)."""
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, str(value)),
    )


WRITE_WAIT_S = 600.0


def begin_write(
    conn: sqlite3.Connection, notice: Callable[[str], None] | None = None, wait_s: float = WRITE_WAIT_S
) -> None:
    """BEGIN IMMEDIATE: the archive's one write lock. While another process holds it, wait (saying so once
    through `notice`), and after `wait_s` give up with a one-line ArchiveBusy instead of SQLite's error."""
    deadline = time.monotonic() + wait_s
    told = False
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) and "busy" not in str(e):
                raise
            if time.monotonic() >= deadline:
                raise ArchiveBusy(
                    "the archive is busy: another hallway ingest or redact is writing it; "
                    "try again when it finishes (nothing was changed)"
                ) from None
            if notice is not None and not told:
                notice("waiting for another hallway process to finish writing the archive…")
                told = True
            time.sleep(0.05)


def ensure_secret(conn: sqlite3.Connection) -> bytes:
    """The archive's random secret, used to key pseudonyms (created on first use)."""
    value = get_meta(conn, "secret")
    if value is None:
        begin_write(conn)
        value = get_meta(conn, "secret") or secrets.token_hex(32)  # another writer may have made it
        set_meta(conn, "secret", value)
        conn.execute("COMMIT")
    return bytes.fromhex(value)


def ensure_secret_readonly(conn: sqlite3.Connection) -> bytes:
    """The archive's secret from a read-only connection (empty when the archive has none yet)."""
    value = get_meta(conn, "secret")
    return bytes.fromhex(value) if value else b""


def generation(conn: sqlite3.Connection) -> int:
    """The archive's change counter: every committed change bumps it."""
    return int(get_meta(conn, "generation", "0") or 0)


def stats(conn: sqlite3.Connection) -> dict[str, int]:
    """Counts for `hallway stats`."""

    def one(sql: str) -> int:
        return int(conn.execute(sql).fetchone()[0])

    return {
        "messages": one("SELECT count(*) FROM messages WHERE deleted = 0 AND redacted IS NULL"),
        "deleted": one("SELECT count(*) FROM messages WHERE deleted = 1 OR redacted IS NOT NULL"),
        "revisions": one("SELECT count(*) FROM revisions"),
        "channels": one("SELECT count(*) FROM channels WHERE is_thread = 0"),
        "threads": one("SELECT count(*) FROM channels WHERE is_thread = 1"),
        "guilds": one("SELECT count(*) FROM guilds"),
        "users": one("SELECT count(*) FROM users"),
        "exports": one("SELECT count(*) FROM exports"),
        "partial_exports": one("SELECT count(*) FROM exports WHERE status = 'partial'"),
        "attachments": one("SELECT count(*) FROM attachments"),
        "reactions": one("SELECT count(*) FROM reactions"),
        "generation": generation(conn),
        "size_bytes": _db_size(conn),
    }


def _db_size(conn: sqlite3.Connection) -> int:
    row = conn.execute("PRAGMA database_list").fetchone()
    path = row[2] if row else ""
    total = 0
    for suffix in ("", "-wal"):
        try:
            total += os.path.getsize(path + suffix)
        except OSError:
            pass
    return total
