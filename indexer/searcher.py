"""Open the index for reading and run searches: the one entry point the CLI and the web viewer share."""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tantivy

from archive.conversation_views import conversation_message_ids
from archive.errors import ArchiveError
from archive.names import normalize_name, suggest_names
from archive.normalize import iso_utc
from archive.records import withheld_since
from archive.store import ARCHIVE_FILE, connect
from indexer import schema as f
from indexer.errors import IndexerError, IndexMissing, IndexSchemaMismatch
from indexer.layout import CURRENT_FILE, STATE_FILE, index_root, read_current, read_state
from indexer.query import MAX_QUERY_CHARS, FilterChip, ParsedQuery, QueryBuilder
from indexer.snippets import build_snippet
from indexer.suggest import FEW_RESULTS, suggest_query

SORTS = ("relevance", "newest", "oldest")
MAX_LIMIT = 100
FACET_SIZE = 10
MAX_MONTHS = 2400
MAX_NAMES = 20_000  # channel names compared with an unknown `in:` (most messages first)
# Relevance ties go newest first: fetch a few hits past the page so ties at its edge can be reordered by id.
TIE_PAD = 32


@dataclass(frozen=True)
class SearchHit:
    """One matching message."""

    id: int
    channel_id: int
    channel: str
    guild_id: int | None
    guild: str
    parent_id: int | None
    thread_id: int | None
    author_id: int | None
    author: str  # display name (pseudonym for pseudonymized users)
    author_username: str
    ts: int  # Unix ms UTC
    snippet: str  # HTML: escaped text with <mark> around matches
    score: float | None  # BM25 score when sorted by relevance with free text
    reply_to: int | None
    reactions: int

    @property
    def timestamp(self) -> str:
        """ISO-8601 UTC, e.g. 2024-03-05T14:22:07.123Z."""
        return iso_utc(self.ts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ids as strings (snowflakes exceed JavaScript's safe integers)."""

        def sid(v: int | None) -> str | None:
            return None if v is None else str(v)

        return {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "channel": self.channel,
            "guild_id": sid(self.guild_id),
            "guild": self.guild,
            "parent_id": sid(self.parent_id),
            "thread_id": sid(self.thread_id),
            "author_id": sid(self.author_id),
            "author": self.author,
            "author_username": self.author_username,
            "timestamp": self.timestamp,
            "snippet": self.snippet,
            "score": self.score,
            "reply_to": sid(self.reply_to),
            "reactions": self.reactions,
        }


@dataclass(frozen=True)
class Facets:
    """Counts over all matches: top channels and authors as (id, name, count), messages per month ("2024-03", n)."""

    channels: list[tuple[int, str, int]] = field(default_factory=list)
    authors: list[tuple[int, str, int]] = field(default_factory=list)
    months: list[tuple[str, int]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "channels": [{"id": str(i), "name": n, "count": c} for i, n, c in self.channels],
            "authors": [{"id": str(i), "name": n, "count": c} for i, n, c in self.authors],
            "months": [{"month": m, "count": c} for m, c in self.months],
        }


@dataclass(frozen=True)
class SearchPage:
    """One page of results for a query."""

    query: str
    sort: str
    offset: int
    limit: int
    total: int
    hits: list[SearchHit]
    facets: Facets | None
    hints: list[str]  # plain-language notes about what was ignored or changed in the query
    filters: list[FilterChip]  # the filters that were applied
    suggestion: str | None = None  # "did you mean": the query with close, commoner spellings (finds more)

    @property
    def has_more(self) -> bool:
        """Whether a later page exists."""
        return self.offset + len(self.hits) < self.total

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (used by `hallway search --json` and the web API)."""
        return {
            "query": self.query,
            "sort": self.sort,
            "offset": self.offset,
            "limit": self.limit,
            "total": self.total,
            "hits": [h.to_dict() for h in self.hits],
            "facets": self.facets.to_dict() if self.facets is not None else None,
            "hints": self.hints,
            "filters": [
                {"key": c.key, "value": c.value, "negated": c.negated, "text": str(c)} for c in self.filters
            ],
            "suggestion": self.suggestion,
        }


class SearchIndex:
    """A read-only handle on <data-dir>/index that follows new commits and atomic rebuilds by itself.

    Thread-safe: each `searcher()` call returns a consistent snapshot. Cheap freshness check per call (two stats).
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.root = index_root(data_dir)
        self._lock = threading.Lock()
        self._index: tantivy.Index | None = None
        self._builder: QueryBuilder | None = None
        self._current_key: tuple[int, int, int] | None = None
        self._meta_key: int | None = None
        self._version_dir: Path | None = None
        # Facet labels: names of channel/author ids, read once per index version and commit.
        self.names: dict[tuple[str, int], str] = {}
        self._archive: sqlite3.Connection | None = None
        self._guard_key: tuple[object, ...] | None = None
        self._guard: list[int] = []
        with self._lock:
            self._refresh()

    def _stat_current(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.root / CURRENT_FILE)
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def _stat_meta(self) -> int | None:
        if self._version_dir is None:
            return None
        try:
            return os.stat(self._version_dir / "meta.json").st_mtime_ns
        except OSError:
            return None

    def _open_current(self) -> None:
        last: Exception | None = None
        for _attempt in range(3):
            key = self._stat_current()
            name = read_current(self.root)
            if name is None:
                raise IndexMissing(str(self.root))
            version_dir = self.root / name
            state = read_state(version_dir)
            if state is None and not version_dir.exists():
                last = IndexMissing(str(self.root))
                continue  # swapped and collected under our feet: read CURRENT again
            if state is None or state.schema_version != f.SCHEMA_VERSION:
                raise IndexSchemaMismatch(state.schema_version if state else 0)
            try:
                index = tantivy.Index.open(str(version_dir))
            except (ValueError, OSError) as e:
                last = e
                continue
            self._index, self._version_dir, self._current_key = index, version_dir, key
            self._builder = QueryBuilder(index.schema)
            self._meta_key = self._stat_meta()
            self.names = {}
            return
        if isinstance(last, IndexerError):
            raise last
        raise IndexerError(f"cannot open the search index at {self.root}: {last}")

    def _refresh(self) -> None:
        if self._index is None or self._stat_current() != self._current_key:
            try:
                self._open_current()
            except IndexerError:
                if self._index is None:
                    raise
                # Keep answering from the version we have; the next call tries again.
            return
        meta = self._stat_meta()
        if meta != self._meta_key:
            self._meta_key = meta
            self._index.reload()
            self.names = {}

    def searcher(self) -> tuple[tantivy.Searcher, QueryBuilder]:
        """A snapshot searcher of the live version (reopened or reloaded when it changed) and its query builder."""
        with self._lock:
            self._refresh()
            assert self._index is not None and self._builder is not None
            return self._index.searcher(), self._builder

    def withheld_guard(self) -> list[int]:
        """Ids the archive withheld after the generation this index reflects (a purge not yet applied to the
        index: `redact` in progress, or a crash before the index caught up). Searches leave them out, so what
        was withheld is never served, whatever state the index files are in. Usually empty (one meta read)."""
        with self._lock:
            version_dir = self._version_dir
            if version_dir is None:
                return []
            try:
                st = os.stat(version_dir / STATE_FILE)
                if self._archive is None:
                    self._archive = connect(self.data_dir / ARCHIVE_FILE, readonly=True)
                row = self._archive.execute(
                    "SELECT value FROM meta WHERE key IN ('withheld_generation', 'generation') ORDER BY key"
                ).fetchall()
            except (OSError, ArchiveError, sqlite3.Error):
                return self._guard
            key = (str(version_dir), st.st_mtime_ns, tuple(r[0] for r in row))
            if key != self._guard_key:
                state = read_state(version_dir)
                try:
                    self._guard = withheld_since(self._archive, state.generation) if state else []
                except sqlite3.Error:
                    return self._guard
                self._guard_key = key
            return self._guard

    def guarded(self, query: tantivy.Query) -> tantivy.Query:
        """The query minus whatever the archive withheld since the index's generation."""
        ids = self.withheld_guard()
        if not ids:
            return query
        return tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Must, query),
                (tantivy.Occur.MustNot, tantivy.Query.term_set_query(self.schema, f.ID, ids)),
            ]
        )

    @property
    def schema(self) -> tantivy.Schema:
        """The live version's schema."""
        assert self._index is not None
        return self._index.schema

    def conversation_members(self, conversation_id: int) -> list[int] | None:
        """The message ids of a conversation, read from the archive beside the index (empty when there is no
        such conversation; None when the archive can't be read)."""
        try:
            conn = connect(self.data_dir / ARCHIVE_FILE, readonly=True)
        except (ArchiveError, sqlite3.Error):
            return None
        try:
            return conversation_message_ids(conn, conversation_id)
        except sqlite3.Error:
            return None
        finally:
            conn.close()

    @property
    def version(self) -> str | None:
        """The version directory being read (for diagnostics)."""
        return self._version_dir.name if self._version_dir else None


def open_index(data_dir: Path) -> SearchIndex:
    """Open <data-dir>/index for searching; raises IndexMissing or IndexSchemaMismatch."""
    return SearchIndex(data_dir)


def _first(doc: tantivy.Document, name: str) -> Any:
    return doc.get_first(name)


def _hit(doc: tantivy.Document, score: float | None, parsed: ParsedQuery, builder: QueryBuilder) -> SearchHit:
    texts = [_first(doc, f.CONTENT) or "", _first(doc, f.EMBED) or "", " · ".join(doc.get_all(f.FILES))]
    return SearchHit(
        id=int(_first(doc, f.ID)),
        channel_id=int(_first(doc, f.CHANNEL_ID)),
        channel=_first(doc, f.CHANNEL) or "",
        guild_id=_first(doc, f.GUILD_ID),
        guild=_first(doc, f.GUILD) or "",
        parent_id=_first(doc, f.PARENT_ID),
        thread_id=_first(doc, f.THREAD_ID),
        author_id=_first(doc, f.AUTHOR_ID),
        author=_first(doc, f.AUTHOR) or "",
        author_username=_first(doc, f.AUTHOR_USERNAME) or "",
        ts=int(_first(doc, f.TS)),
        snippet=build_snippet(texts, parsed.highlight, builder.plain, builder.stemmed),
        score=score,
        reply_to=_first(doc, f.REPLY_TO),
        reactions=int(_first(doc, f.REACTIONS) or 0),
    )


def _top_ids(result: dict[str, Any]) -> list[tuple[int, int]]:
    return [(int(b["key"]), int(b["doc_count"])) for b in result.get("buckets", [])]


def _name_of(
    searcher: tantivy.Searcher, schema: tantivy.Schema, id_field: str, name_field: str, key: int
) -> str:
    """The stored name on one document with this id (a term lookup: microseconds)."""
    hits = searcher.search(tantivy.Query.term_query(schema, id_field, key), 1, count=False).hits
    if not hits:
        return ""
    values = searcher.doc(hits[0][1]).to_dict().get(name_field) or [""]
    return str(values[0])


def compute_facets(
    searcher: tantivy.Searcher,
    query: tantivy.Query,
    schema: tantivy.Schema,
    names: dict[tuple[str, int], str] | None = None,
) -> Facets:
    """Top channels, top authors and messages per month over every match of `query`.

    The aggregation counts ids only; the names of the top ids are then read from one document each.
    (A name sub-aggregation per bucket cost 3.5 of 4.4 ms at 1M messages.)
    """
    result = searcher.aggregate(
        query,
        {
            "channels": {"terms": {"field": f.CHANNEL_ID, "size": FACET_SIZE}},
            "authors": {"terms": {"field": f.AUTHOR_ID, "size": FACET_SIZE}},
            "months": {"terms": {"field": f.MONTH, "size": MAX_MONTHS}},
        },
    )
    months = sorted((int(b["key"]), int(b["doc_count"])) for b in result.get("months", {}).get("buckets", []))

    cache = names if names is not None else {}

    def label(id_field: str, name_field: str, key: int) -> str:
        name = cache.get((id_field, key))
        if name is None:
            name = cache[(id_field, key)] = _name_of(searcher, schema, id_field, name_field, key)
        return name

    def named(key: str, id_field: str, name_field: str) -> list[tuple[int, str, int]]:
        return [(i, label(id_field, name_field, i), n) for i, n in _top_ids(result.get(key, {}))]

    return Facets(
        channels=named("channels", f.CHANNEL_ID, f.CHANNEL),
        authors=named("authors", f.AUTHOR_ID, f.AUTHOR),
        months=[(f"{m // 100:04d}-{m % 100:02d}", n) for m, n in months],
    )


_NAME_FIELDS = {
    "from": (f.AUTHOR_KEY, "person"),
    "mentions": (f.MENTION_KEY, "person"),
    "in": (f.CHANNEL_KEY, "channel"),
}


def _unknown_name_hints(searcher: tantivy.Searcher, chips: list[FilterChip]) -> list[str]:
    """Say so when from:/mentions:/in: names nobody in the index (instead of a silent empty result), and
    suggest the closest channel names to an unknown `in:`."""
    hints = []
    for chip in chips:
        field = _NAME_FIELDS.get(chip.key)
        if field is None:
            continue
        name = chip.value.strip().lower().lstrip("@#")
        if not name or name.isdigit() or name.startswith(("<", "conversation:")):
            continue
        if searcher.doc_freq(field[0], name):
            continue
        if chip.key == "in" and searcher.doc_freq(f.CHANNEL_NORM, normalize_name(chip.value)):
            continue
        hint = f"No {field[1]} called {chip.value!r} is in the archive, so {chip} matches nothing."
        if chip.key == "in":
            close = suggest_names(chip.value, channel_names(searcher))
            if close:
                hint += (
                    " Did you mean "
                    + " or ".join(str(FilterChip("in", n, chip.negated)) for n in close)
                    + "?"
                )
        hints.append(hint)
    return hints


def channel_names(searcher: tantivy.Searcher) -> list[str]:
    """Every channel, thread and forum name in the index, normalized, most messages first."""
    terms = searcher.terms_with_prefix(f.CHANNEL_NORM, "", limit=MAX_NAMES)
    return [str(t) for t, _n in terms]


def search(
    index: SearchIndex,
    q: str,
    *,
    sort: str = "relevance",
    limit: int = 20,
    offset: int = 0,
    facets: bool = True,
) -> SearchPage:
    """Run a search-box query; never raises for what a person types (problems come back as `hints`).

    sort: relevance (BM25 with field boosts, newest first on ties), newest or oldest.
    """
    hints: list[str] = []
    if sort not in SORTS:
        hints.append(f"Unknown sort {sort!r}: sorted by relevance (choose relevance, newest or oldest).")
        sort = "relevance"
    if limit > MAX_LIMIT:
        hints.append(f"At most {MAX_LIMIT} results are shown per page.")
    limit = max(1, min(int(limit), MAX_LIMIT))
    offset = max(0, int(offset))
    searcher, builder = index.searcher()
    parsed = builder.parse(q, conversations=index.conversation_members, doc_freq=searcher.doc_freq)
    hints = parsed.hints + _unknown_name_hints(searcher, parsed.filters) + hints
    query = index.guarded(parsed.query)
    offset = min(offset, searcher.num_docs)  # paging past the end is empty, and never allocates for it
    try:
        ranked: list[tuple[float | None, tantivy.DocAddress]]
        if sort == "relevance" and parsed.has_text:
            res = searcher.search(query, offset + limit + TIE_PAD, count=True)
            addrs = [a for _s, a in res.hits]
            ids = searcher.fast_field_values(f.ID, addrs)
            order = sorted(zip(res.hits, ids, strict=True), key=lambda t: (-float(t[0][0]), -int(t[1] or 0)))[
                offset : offset + limit
            ]
            ranked = [(float(h[0]), h[1]) for h, _id in order]
        else:
            order_dir = tantivy.Order.Asc if sort == "oldest" else tantivy.Order.Desc
            res = searcher.search(
                query, limit, count=True, order_by_field=f.ID, offset=offset, order=order_dir
            )
            ranked = [(None, a) for _k, a in res.hits]
        total = int(getattr(res, "count", 0) or 0)
        hits = [_hit(searcher.doc(a), score, parsed, builder) for score, a in ranked]
        page_facets = None
        if facets:
            page_facets = compute_facets(searcher, query, builder.schema, index.names) if total else Facets()
        suggestion = _did_you_mean(index, searcher, builder, q, total) if parsed.has_text else None
    except ValueError as e:  # tantivy refused something the builder made: report, don't crash the caller
        raise IndexerError(f"search failed for {q!r}: {e}") from None
    return SearchPage(q, sort, offset, limit, total, hits, page_facets, hints, parsed.filters, suggestion)


def _did_you_mean(
    index: SearchIndex, searcher: tantivy.Searcher, builder: QueryBuilder, q: str, total: int
) -> str | None:
    """A respelled query when this one finds little and the respelling finds more."""
    if total > FEW_RESULTS:
        return None
    # As the parser does: lone surrogates (possible in argv) cannot cross into Rust.
    q = q.encode("utf-8", "replace").decode("utf-8")[:MAX_QUERY_CHARS]
    better = suggest_query(searcher, builder.plain, q)
    if better is None:
        return None
    parsed = builder.parse(better, conversations=index.conversation_members, doc_freq=searcher.doc_freq)
    # Guarded: a respelling found only in what was withheld (terms linger until the rebuild) is never offered.
    found = int(getattr(searcher.search(index.guarded(parsed.query), 1, count=True), "count", 0) or 0)
    return better if found > total else None
