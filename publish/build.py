"""`publish_site(data_dir, out)`: plan, render, index, sync; and the report of what it wrote."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import archive
from publish.errors import PublishError
from publish.plan import Plan, build_plan
from publish.render import Renderer
from publish.search_index import write_bundle
from publish.site import SiteBuilder
from publish.writer import SiteWriter, WriteCounts
from web.settings import Settings

SIZE_LIMIT = 1_000_000_000  # GitHub Pages: a published site may be no larger than 1 GB
FILE_LIMIT = 20_000  # the smallest per-site file count among common static hosts
CONTEXT_SIZE = 2  # messages either side on a static permalink (the server shows 8; pages stay small)


@dataclass
class PublishReport:
    """Sizes, counts and timings of one build, and warnings about host limits."""

    out: Path
    messages: int = 0
    pages: int = 0
    records: int = 0
    files: int = 0
    bytes: int = 0
    sizes: dict[str, int] = field(default_factory=dict)
    counts: WriteCounts = field(default_factory=WriteCounts)
    changed: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def publish_site(
    data_dir: Path,
    out: Path,
    *,
    base_url: str = "",
    force: bool = False,
    context_size: int = CONTEXT_SIZE,
    progress: Callable[[str], None] | None = None,
) -> PublishReport:
    """Write (or update) the static site of the archive in `data_dir` into `out`."""
    say = progress or (lambda _: None)
    path = data_dir / archive.ARCHIVE_FILE
    if not path.exists():
        raise PublishError(f"{path}: no archive here; run `hallway ingest` first")
    settings = Settings(data_dir=data_dir, base_url=base_url, context_size=context_size)
    out.mkdir(parents=True, exist_ok=True)
    writer = SiteWriter(out, force=force)
    report = PublishReport(out=out)
    conn = archive.connect(path, readonly=True)
    renderer = Renderer(settings)
    try:
        clock = time.monotonic()
        plan = build_plan(conn, settings.page_size)
        report.seconds["plan"] = time.monotonic() - clock
        say(f"planned {len(plan.messages)} messages in {len(plan.channels)} channels")
        clock = time.monotonic()
        builder = SiteBuilder(conn, renderer, plan, writer)
        builder.build(say)
        report.seconds["pages"] = time.monotonic() - clock
        clock = time.monotonic()
        say(f"indexing {len(plan.records)} messages for search")
        _sync_bundle(plan, out, writer)
        report.seconds["search"] = time.monotonic() - clock
    finally:
        renderer.close()
        conn.close()
    report.counts = writer.finish()
    report.messages, report.pages, report.records = len(plan.messages), builder.pages, len(plan.records)
    report.sizes = writer.sizes()
    report.changed = writer.changed
    report.files = len(writer.new)
    report.bytes = sum(report.sizes.values())
    report.warnings = limit_warnings(report.bytes, report.files)
    return report


def _sync_bundle(plan: Plan, out: Path, writer: SiteWriter) -> None:
    """Build the Pagefind bundle aside, then write only the files whose bytes changed."""
    staging = Path(tempfile.mkdtemp(prefix=".search-", dir=out))
    try:
        bundle = write_bundle(plan.records, staging)
        for file in sorted(p for p in bundle.rglob("*") if p.is_file()):
            writer.write(f"pagefind/{file.relative_to(bundle).as_posix()}", file.read_bytes())
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def limit_warnings(size: int, files: int) -> list[str]:
    """What common static hosts would refuse."""
    out = []
    if size > SIZE_LIMIT:
        out.append(
            f"the site is {size / 1e9:.2f} GB; GitHub Pages publishes at most 1 GB "
            "(splitting a site by guild or year is not built yet: choose a host without this limit)"
        )
    if files > FILE_LIMIT:
        out.append(
            f"the site has {files:,} files; some hosts accept at most {FILE_LIMIT:,} per site "
            "(splitting a site by guild or year is not built yet: choose a host without this limit)"
        )
    return out
