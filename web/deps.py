"""Request dependencies: the settings, and a read-only archive connection per request (pooled)."""

from __future__ import annotations

import queue
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

import archive
from web.settings import Settings


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


class ConnectionPool:
    """Read-only archive connections kept between requests (opening one and reading the schema cost ~1 ms).

    Each request takes a connection for itself and gives it back; reads run in autocommit, so every
    statement sees the latest commit of `hallway ingest` (SQLite's WAL lets it write meanwhile).
    """

    def __init__(self, path: Path, keep: int = 16) -> None:
        self.path = path
        self.keep = keep
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()

    def take(self) -> sqlite3.Connection:
        """An idle connection, or a new one (raises ArchiveError when there is no archive)."""
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return archive.connect(self.path, readonly=True)

    def give(self, conn: sqlite3.Connection) -> None:
        """Return a connection after the request (closed when enough are idle)."""
        if self._idle.qsize() < self.keep:
            self._idle.put(conn)
        else:
            conn.close()


async def get_conn(request: Request) -> AsyncIterator[sqlite3.Connection]:
    """A read-only connection for this request. Async so taking one costs no thread hop."""
    pool: ConnectionPool = request.app.state.connections
    conn = pool.take()
    try:
        yield conn
    finally:
        pool.give(conn)


SettingsDep = Annotated[Settings, Depends(get_settings)]
ConnDep = Annotated[sqlite3.Connection, Depends(get_conn)]
