"""Hallway's search index: a tantivy index derived from the archive, queried with Discord's filter language."""

from indexer.errors import IndexBusy, IndexerError, IndexMissing, IndexSchemaMismatch
from indexer.layout import INDEX_DIR
from indexer.query import FilterChip, ParsedQuery, QueryBuilder
from indexer.schema import SCHEMA_VERSION
from indexer.searcher import SORTS, Facets, SearchHit, SearchIndex, SearchPage, open_index, search
from indexer.writer import IndexStats, rebuild_index, update_index, withhold_now

__all__ = [
    "INDEX_DIR",
    "SCHEMA_VERSION",
    "SORTS",
    "Facets",
    "FilterChip",
    "IndexBusy",
    "IndexMissing",
    "IndexSchemaMismatch",
    "IndexStats",
    "IndexerError",
    "ParsedQuery",
    "QueryBuilder",
    "SearchHit",
    "SearchIndex",
    "SearchPage",
    "open_index",
    "rebuild_index",
    "search",
    "update_index",
    "withhold_now",
]
