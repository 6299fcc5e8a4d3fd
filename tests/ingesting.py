"""Archive-only ingest for tests of the archive layer: policy, files, conversation links; no index.

Production code has one sequencer, `pipeline.run_ingest`; tests that check what the archive stores use
this helper on their own connection instead of a data dir.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from archive import FileResult, Ingester, IngestSummary
from archive.ingest import Progress, skipped_status
from archive.sources import discover


def ingest_archive(
    ingester: Ingester,
    paths: Iterable[Path],
    *,
    salvage: bool = False,
    force: bool = False,
    progress: Progress | None = None,
) -> IngestSummary:
    """Ingest every export under `paths` into the ingester's archive; a failing file is reported."""
    ingester.apply_policy()
    summary = IngestSummary()
    for found in discover(paths):
        if found.source is None:
            status = skipped_status(found.sniff, found.named)
            if status == "ignored":
                summary.ignored.append(found.note)
            else:
                summary.files.append(FileResult(str(found.path), status, error=found.note))
            continue
        summary.files.append(
            ingester.ingest_file(
                found.path, salvage=salvage, force=force, progress=progress, source=found.source
            )
        )
    ingester.update_conversations()
    return summary
