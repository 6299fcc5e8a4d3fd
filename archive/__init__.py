"""Hallway's source of truth: DCE exports parsed into a SQLite archive with revisions, tombstones and provenance."""

from archive.errors import (
    ArchiveError,
    ChannelNotFound,
    ExportFormatError,
    MessageNotFound,
    PolicyError,
    SchemaTooNewError,
    UserNotFound,
)
from archive.ingest import Ingester, file_sha256
from archive.lowfi import find_alias
from archive.models import FileResult, IndexRecord, IngestSummary
from archive.names import normalize_name, normalize_pattern, suggest_names
from archive.policy import POLICY_FILE, Policy, load_policy, save_policy
from archive.records import iter_index_records
from archive.sources import SOURCES, ExportHeader, Found, Source, discover, iter_export_files
from archive.sources.dce_json import ExportReader
from archive.store import ARCHIVE_FILE, connect, generation, stats

__all__ = [
    "ARCHIVE_FILE",
    "POLICY_FILE",
    "SOURCES",
    "ArchiveError",
    "ChannelNotFound",
    "ExportFormatError",
    "ExportHeader",
    "ExportReader",
    "FileResult",
    "Found",
    "IndexRecord",
    "IngestSummary",
    "Ingester",
    "MessageNotFound",
    "Policy",
    "PolicyError",
    "SchemaTooNewError",
    "Source",
    "UserNotFound",
    "connect",
    "discover",
    "file_sha256",
    "find_alias",
    "generation",
    "iter_export_files",
    "iter_index_records",
    "load_policy",
    "normalize_name",
    "normalize_pattern",
    "save_policy",
    "stats",
    "suggest_names",
]
