"""The viewer's side of search: one `indexer.SearchIndex` per process, shaped into the /search page data.

The index may be missing (nothing indexed yet) or out of date; then the search page says so and every
other page keeps working. `SearchIndex` follows new commits and atomic rebuilds by itself, so a
long-running worker sees what `hallway ingest` adds elsewhere without a restart.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import indexer
from archive import conversation_views, views
from web import present, urls

SORTS = indexer.SORTS
RETRY_SECONDS = 2.0
MAX_PAGE = 200
MAX_FILLED_MONTHS = 1200  # 100 years: the histogram of any real archive
MAX_QUERY_CHARS = 1000  # as /search takes
NOTHING_MATCHED = "Nothing matched. Try fewer words, or remove a filter."


class SearchUnavailable(Exception):
    """Search can't run (no index yet, or an unreadable one); the message says what to do."""


class SearchBackend:
    """Opens the index lazily, once per process, and retries a missing one every few seconds."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._index: indexer.SearchIndex | None = None
        self._failed_at = 0.0
        self._reason = ""
        self._lock = threading.Lock()

    def index(self) -> indexer.SearchIndex:
        """The open index, or SearchUnavailable with the reason."""
        with self._lock:
            if self._index is not None:
                return self._index
            if self._reason and time.monotonic() - self._failed_at < RETRY_SECONDS:
                raise SearchUnavailable(self._reason)
            try:
                self._index = indexer.open_index(self.data_dir)
            except indexer.IndexerError as e:
                self._failed_at, self._reason = time.monotonic(), str(e)
                raise SearchUnavailable(self._reason) from None
            self._reason = ""
            return self._index

    def search(self, q: str, *, sort: str, limit: int, offset: int) -> indexer.SearchPage:
        """Run a query; index errors become SearchUnavailable (typing is never an error: see hints)."""
        index = self.index()
        try:
            return indexer.search(index, q, sort=sort, limit=limit, offset=offset)
        except indexer.IndexerError as e:
            raise SearchUnavailable(str(e)) from None


def refine(q: str, token: str) -> str:
    """The query with one more filter token appended (unless already there)."""
    return q if token.lower() in (t.lower() for t in q.split()) else f"{q} {token}".strip()


def remove(q: str, token: str) -> str:
    """The query without a filter token (compared case-insensitively)."""
    return " ".join(t for t in q.split() if t.lower() != token.lower())


def every_month(months: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """("YYYY-MM", count) for every month from the first to the last, the months without hits as 0, so the
    histogram's bars stand where their months are (a range over MAX_FILLED_MONTHS stays as it is)."""
    if not months:
        return []
    (y0, m0), (y1, m1) = (map(int, months[0][0].split("-")), map(int, months[-1][0].split("-")))
    span = (y1 - y0) * 12 + m1 - m0 + 1
    if span > MAX_FILLED_MONTHS or span < len(months):
        return months
    counts = dict(months)
    out = []
    for i in range(span):
        y, m = divmod(m0 - 1 + i, 12)
        key = f"{y0 + y:04d}-{m + 1:02d}"
        out.append((key, counts.get(key, 0)))
    return out


def empty_page(q: str, sort: str, page: int, page_size: int) -> dict[str, Any]:
    """A results page with nothing in it (no query yet, or no index)."""
    return {
        "query": q,
        "sort": sort,
        "sorts": list(SORTS),
        "page": page,
        "page_size": page_size,
        "total": 0,
        "hits": [],
        "facets": {"channels": [], "authors": [], "months": []},
        "hints": [],
        "filters": [],
        "available": True,
        "message": None,
        "prev_url": None,
        "next_url": None,
        "suggestion": None,
    }


def build_search_page(
    backend: SearchBackend, conn: sqlite3.Connection, q: str, sort: str, page: int, page_size: int
) -> dict[str, Any]:
    """Everything /search shows: hits (with tombstones checked in the archive), chips, facets, hints, paging."""
    q = q.strip()
    sort = sort if sort in SORTS else "relevance"
    page = min(max(page, 1), MAX_PAGE)
    data = empty_page(q, sort, page, page_size)
    # An empty query lists every message in the chosen order (as `hallway search ""` does).
    try:
        result, hits = search_hits(
            backend, conn, q, sort=sort, limit=page_size, offset=(page - 1) * page_size
        )
    except SearchUnavailable as e:
        data.update(available=False, message=f"Search is unavailable right now: {e}")
        return data
    facets = result.facets or indexer.Facets()
    data.update(
        total=result.total,
        hits=hits,
        hints=list(result.hints),
        suggestion={"query": result.suggestion, "url": urls.search_url(result.suggestion, sort=sort)}
        if result.suggestion
        else None,
        filters=[
            {"key": c.key, "value": c.value, "negated": c.negated, "text": str(c),
             "remove_url": urls.search_url(remove(q, str(c)), sort=sort)}
            for c in result.filters
        ],
        facets={
            "channels": [
                {"id": str(i), "label": f"#{name}", "count": n, "url": urls.search_url(refine(q, f"in:{i}"), sort=sort)}
                for i, name, n in facets.channels
            ],
            "authors": [
                {"id": str(i), "label": name, "count": n, "url": urls.search_url(refine(q, f"from:{i}"), sort=sort)}
                for i, name, n in facets.authors
            ],
            "months": [
                {"month": m, "count": n, "url": urls.search_url(refine(q, f"during:{m}"), sort=sort) if n else None}
                for m, n in every_month(facets.months)
            ],
        },
        prev_url=urls.search_url(q, sort=sort, page=page - 1) if page > 1 else None,
        next_url=urls.search_url(q, sort=sort, page=page + 1) if result.has_more and page < MAX_PAGE else None,
    )  # fmt: skip
    return data


def search_hits(
    backend: SearchBackend, conn: sqlite3.Connection, q: str, *, sort: str, limit: int, offset: int
) -> tuple[indexer.SearchPage, list[dict[str, Any]]]:
    """One run of a query and its hits as every search surface shows them (raises SearchUnavailable)."""
    result = backend.search(q, sort=sort, limit=limit, offset=offset)
    ids = [h.id for h in result.hits]
    rows = views.find_messages(conn, ids)
    conversations = conversation_views.conversation_ids(conn, ids)
    return result, [_hit(h, rows.get(h.id), conversations.get(h.id)) for h in result.hits]


def _hit(h: indexer.SearchHit, row: dict[str, Any] | None, conversation: int | None = None) -> dict[str, Any]:
    """One hit; the archive has the last word on tombstones (the index may lag behind a takedown)."""
    notice = present.tombstone(row) if row else None
    return {
        "id": str(h.id),
        "url": urls.message_url(h.id),
        "channel": {"id": str(h.channel_id), "name": h.channel, "url": urls.channel_url(h.channel_id)},
        "thread_id": str(h.thread_id) if h.thread_id else None,
        "author": {
            "id": str(h.author_id) if h.author_id else None,
            "display_name": h.author,
            "url": urls.user_url(h.author_id) if h.author_id else None,
        },
        "timestamp": h.timestamp,
        "snippet": "" if notice else h.snippet,
        "tombstone": notice,
        "reply_to": str(h.reply_to) if h.reply_to else None,
        "reactions": h.reactions,
        "conversation_id": str(conversation) if conversation is not None else None,
        "conversation_url": urls.conversation_url(conversation, focus=h.id)
        if conversation is not None
        else None,
    }
