"""Errors raised by the indexer; each one reads as a one-line message for people."""

from __future__ import annotations


class IndexerError(Exception):
    """Root of every error the indexer raises on purpose."""


class IndexMissing(IndexerError):
    """There is no search index yet at the expected place."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"no search index at {path}: run `hallway reindex` (or `hallway ingest PATH`)")


class IndexSchemaMismatch(IndexerError):
    """The index on disk was written with another schema version."""

    def __init__(self, found: int | None) -> None:
        self.found = found
        super().__init__(f"index schema v{found} is out of date: run `hallway reindex`")


class IndexBusy(IndexerError):
    """Another process holds the index writer."""
