"""Request dependencies: the settings, and one read-only archive connection per request."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

import archive
from web.settings import Settings


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def get_conn(request: Request) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the archive, closed after the response (cheap; SQLite's WAL lets ingest run)."""
    settings = get_settings(request)
    conn = archive.connect(settings.data_dir / archive.ARCHIVE_FILE, readonly=True)
    try:
        yield conn
    finally:
        conn.close()


SettingsDep = Annotated[Settings, Depends(get_settings)]
ConnDep = Annotated[sqlite3.Connection, Depends(get_conn)]
