"""The one place that sequences an ingest: policy, files into the archive, the index, conversation links.

CLI (`ingest`, `serve PATH`), tests and benchmarks call `run_ingest`; it reports through events
(pipeline/events.py) and returns an IngestReport. The archive has one writer (this process); the
index has one writer (the index worker process, fed commit by commit while files are still being
read); conversation links are computed in their own worker and stored here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import archive
from archive import FileResult, Ingester, Policy
from archive.ingest import skipped_status
from archive.link_worker import PendingLinks, remove_stale_link_files
from archive.policy_report import plural, unmatched_warnings
from indexer import IndexStats
from pipeline.events import (
    FileDone,
    Finished,
    Note,
    OnEvent,
    PhaseDone,
    PhaseStarted,
    Progress,
    Skipped,
    Started,
)
from pipeline.index_worker import WORKER_AFTER, IndexFollower


@dataclass
class IngestReport:
    """What one run did, phase by phase."""

    files: list[FileResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # paths not read, one line each
    warnings: list[str] = field(default_factory=list)
    missing: int = 0
    purged: int = 0
    index: IndexStats | None = None
    index_error: str | None = None
    linked: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # phase -> seconds since the run began

    @property
    def summary(self) -> archive.IngestSummary:
        """The archive phase's totals."""
        return archive.IngestSummary(self.files)

    @property
    def exit_code(self) -> int:
        """1 when a file failed, a path was missing, an export was left unread or the index failed."""
        return 1 if self.summary.failed or self.missing or self.index_error else 0

    def summary_line(self) -> str:
        """The archive phase's one-line summary."""
        s = self.summary
        ok = s.count("ok") + s.count("partial")
        skipped = s.count("unchanged") + s.count("excluded")
        return (
            f"{plural(len(self.files) + self.missing, 'file')}: {ok} ingested ({s.count('partial')} partial), "
            f"{skipped} skipped ({s.count('unchanged')} unchanged, {s.count('excluded')} excluded), "
            f"{s.failed + self.missing} failed; "
            f"messages: {s.added} added, {s.updated} updated, {s.deleted} deleted"
            + (f", {self.purged} purged by policy" if self.purged else "")
            + f" in {self.seconds.get('archive', 0.0):.2f}s"
        )


def _ignore(_event: object) -> None:
    pass


LINKS_WORKER_AFTER = 20_000
"""New messages before conversation links get their own process: below that, linking them takes less
time than the worker's start (a `python -c` that imports the archive and numpy, ~0.4 s of CPU)."""


class _LinksHere:
    """Conversation links computed in this process, after the index (when there are few to compute)."""

    error: str | None = None  # as PendingLinks: no worker, so nothing failed on the side

    def __init__(self, ingester: Ingester, data_dir: Path) -> None:
        self.ingester = ingester
        remove_stale_link_files(data_dir)  # a killed run's worker output, as the worker's start would

    def finish(self, progress: Callable[[int], None] | None = None) -> int:
        return self.ingester.update_conversations(progress)

    def close(self) -> None:
        pass


def run_ingest(
    paths: Iterable[Path],
    data_dir: Path,
    policy: Policy | None = None,
    on_event: OnEvent | None = None,
    *,
    salvage: bool = False,
    force: bool = False,
    conversations: bool = True,
    index_worker_after: int | None = WORKER_AFTER,
    links_worker_after: int | None = LINKS_WORKER_AFTER,
) -> IngestReport:
    """Ingest exports into the archive at data_dir, bring the index up to date and link conversations.

    `index_worker_after`: changed messages after which the index is built in a worker process while
    files are still being read (None: always here, after the archive). `links_worker_after`: new
    messages from which conversation links are computed in a worker process (None: always here). Never raises for bad input (the report and the events say what failed); raises ArchiveError when
    the archive itself cannot be opened.
    """
    emit = on_event or _ignore
    began = time.perf_counter()
    report = IngestReport()
    paths = list(paths)
    existing = [p for p in paths if p.exists()]
    found = list(archive.discover(existing))
    readable = [f for f in found if f.source is not None]
    emit(Started(len(readable)))
    for p in paths:
        if not p.exists():
            report.missing += 1
            report.notes.append(f"{p}: no such file or folder")
            emit(Skipped(report.notes[-1], True))
    for f in found:
        if f.source is None:
            status = skipped_status(f.sniff, f.named)
            report.notes.append(f.note)
            if status != "ignored":
                report.files.append(FileResult(str(f.path), status, error=f.note))
            emit(Skipped(f.note, status != "ignored"))
    data_dir.mkdir(parents=True, exist_ok=True)
    conn = archive.connect(data_dir / archive.ARCHIVE_FILE)
    pending: PendingLinks | _LinksHere | None = None
    try:
        ingester = Ingester(conn, policy, lambda text: emit(Note(text)))
        report.purged = ingester.apply_policy()
        follower = IndexFollower(data_dir, conn, worker_after=index_worker_after)
        follower.progress = lambda n: emit(Progress("index", n))
        try:
            emit(PhaseStarted("archive", len(readable)))
            # The index follows the archive file by file (in its worker), so its phase starts now.
            emit(PhaseStarted("index"))
            done = 0
            for f in readable:

                def tick(_path: str, count: int, before: int = done) -> None:
                    emit(Progress("archive", before + count))

                result = ingester.ingest_file(
                    f.path, salvage=salvage, force=force, progress=tick, source=f.source
                )
                report.files.append(result)
                done += result.messages
                follower.advance(result.added + result.updated + result.deleted)
                emit(FileDone(result))
            report.seconds["archive"] = time.perf_counter() - began
            ingester.release_memory()
            s = report.summary
            emit(PhaseDone("archive", s.added + s.updated, report.seconds["archive"], report.summary_line()))
            for warning in unmatched_warnings(conn, ingester.policy, ingester.secret, ingester.seen_channels):
                report.warnings.append(warning)
                emit(Note(f"warning: {warning}"))
            if conversations:
                # Few new messages: linking them here costs less than starting the worker process.
                few = links_worker_after is None or s.added < links_worker_after
                pending = _LinksHere(ingester, data_dir) if few else ingester.start_conversations()
                emit(PhaseStarted("conversations"))
            report.index, report.index_error = follower.finish()
        finally:
            follower.close()
        report.seconds["index"] = time.perf_counter() - began
        emit(
            PhaseDone(
                "index",
                report.index.indexed if report.index else 0,
                report.seconds["index"],
                _index_detail(report),
                report.index_error,
            )
        )
        if pending is not None:
            report.linked = pending.finish(lambda n: emit(Progress("conversations", n)))
            if pending.error is not None:  # the links were computed here instead
                report.warnings.append(f"{pending.error}; linked in this process instead")
                emit(Note(f"warning: {report.warnings[-1]}"))
            report.seconds["conversations"] = time.perf_counter() - began
            emit(
                PhaseDone(
                    "conversations",
                    report.linked,
                    report.seconds["conversations"],
                    f"conversations: {plural(report.linked, 'message')} linked in "
                    f"{report.seconds['conversations']:.2f}s",
                )
            )
        ingester.checkpoint()
    finally:
        if pending is not None:
            pending.close()  # an interrupted run: stop the worker, drop its file
        conn.close()
    emit(Finished(report.summary_line(), report.exit_code))
    return report


def _index_detail(report: IngestReport) -> str:
    st = report.index
    if report.index_error is not None:
        return f"Error: search index not updated: {report.index_error}"
    if st is None or st.mode == "unchanged":
        return ""
    why = f" ({st.reason})" if st.reason else ""
    return (
        f"index: {st.mode}{why}: {plural(st.indexed, 'message')} indexed; "
        f"searchable after {report.seconds['index']:.2f}s"
    )
