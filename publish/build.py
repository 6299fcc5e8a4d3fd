"""`publish_site(data_dir, out)`: plan, render, index, sync; and the report of what it wrote."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import archive
from archive import views
from publish.cache import PageCache
from publish.errors import PublishError
from publish.inputs import Archive, Inputs
from publish.jobs import PartResult, Task, run_tasks
from publish.landing import write_landing
from publish.plan import Plan, build_plan, split_parts, walk
from publish.render import Renderer
from publish.search_index import documents, write_bundle
from publish.site import SiteBuilder
from publish.writer import Folder, SiteWriter, WriteCounts
from web.settings import Settings

SPLITS = ("guild", "year", "month")
SIZE_LIMIT = 1_000_000_000  # GitHub Pages: a published site may be no larger than 1 GB
FILE_LIMIT = 20_000  # the smallest per-site file count among common static hosts
CONTEXT_SIZE = 2  # messages either side on a static permalink (the server shows 8; pages stay small)


@dataclass
class PartReport:
    """One site of a split build (or the landing folder, named "(landing)"): its size and host warnings."""

    folder: str
    label: str
    messages: int
    pages: int
    files: int
    bytes: int
    warnings: list[str]


@dataclass
class PublishReport:
    """Sizes, counts and timings of one build, and warnings about host limits."""

    out: Path
    parts: list[PartReport] = field(default_factory=list)
    messages: int = 0
    pages: int = 0  # rendered by this build
    kept: int = 0  # pages whose inputs didn't change: not rendered
    indexed: bool = False  # whether Pagefind ran (it doesn't when no search record changed)
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
    split_by: str | None = None,
    context_size: int = CONTEXT_SIZE,
    progress: Callable[[str], None] | None = None,
    jobs: int = 1,
) -> PublishReport:
    """Write (or update) the static site of the archive in `data_dir` into `out`; with `split_by`
    ("guild", "year" or "month"), one site per part in `out/<part>/` and a landing page at the top, the parts
    built by up to `jobs` processes side by side."""
    say = progress or (lambda _: None)
    path = data_dir / archive.ARCHIVE_FILE
    if not path.exists():
        raise PublishError(f"{path}: no archive here; run `hallway ingest` first")
    if split_by is not None and split_by not in SPLITS:
        raise PublishError(f"--split-by {split_by}: choose guild, year or month")
    settings = Settings(data_dir=data_dir, base_url=base_url, context_size=context_size)
    out.mkdir(parents=True, exist_ok=True)
    writer = SiteWriter(out, force=force)
    cache = PageCache(writer.pages, force=force)
    report = PublishReport(out=out)
    conn = archive.connect(path, readonly=True)
    try:  # the plan is read once here; each part opens a connection of its own
        clock = time.monotonic()
        directory = views.guild_directory(conn)
        runs = walk(conn, directory)
        shared = Archive(conn, runs, directory)
        names = {g["id"]: g["name"] for g in shared.directory}
        parts = split_parts(runs, split_by, names)
        plans = [build_plan(runs, settings.page_size, part) for part in parts]
        report.seconds["plan"] = time.monotonic() - clock
    finally:
        conn.close()
    clock = time.monotonic()
    part = _Part(path, settings, shared, writer, cache, force, split_by, say)
    tasks = [Task(p.part.label, len(p.messages), partial(part.build, p)) for p in plans]
    if split_by is not None:
        # a redirect per message: about a third of the work of rendering a part as large
        tasks.append(Task("landing page", _message_count(plans) // 3, partial(part.landing, plans)))
    if split_by is not None and jobs > 1 and len(tasks) > 1:
        shared.prime()  # (made once here, not once in each process)
        writer.index_old()
        results = run_tasks(tasks, jobs, writer, cache)
        report.seconds["parts"] = time.monotonic() - clock  # on the clock, the parts side by side
    else:
        results = [t.run() for t in tasks]
    report.seconds["pages"] = sum(r.seconds.get("pages", 0.0) for r in results)
    report.seconds["search"] = sum(r.seconds.get("search", 0.0) for r in results)
    search = {r.prefix: r.search for r in results if r.search}
    landing = next((r.landing for r in results if r.landing), "")
    report.counts = writer.finish(cache.dump(), search, landing)
    report.pages = sum(r.pages for r in results)
    report.kept = sum(r.kept for r in results)
    report.indexed = any(r.indexed for r in results)
    report.messages = _message_count(plans)
    report.records = sum(len(p.records) for p in plans)
    report.sizes = writer.sizes()
    report.changed = writer.changed
    report.files = len(writer.new)
    report.bytes = sum(report.sizes.values())
    report.parts = _part_reports(writer, plans, split_by)
    report.warnings = [w for p in report.parts for w in p.warnings]
    return report


def _message_count(plans: list[Plan]) -> int:
    """How many messages the parts hold."""
    return sum(len(p.messages) for p in plans)


@dataclass
class _Part:
    """Builds one part of the site (or the landing folder of a split site), in this process or in one
    of its own: it opens its own connection to the archive and its own renderer."""

    path: Path
    settings: Settings
    shared: Archive
    writer: SiteWriter
    cache: PageCache
    force: bool
    split_by: str | None
    say: Callable[[str], None]

    def build(self, plan: Plan) -> PartResult:
        prefix = f"{plan.part.folder}/" if plan.part.folder else ""
        result = PartResult(prefix)
        name = plan.part.folder or "site"
        self.say(f"{name}: {len(plan.messages)} messages in {len(plan.channels)} channels")

        def say(line: str) -> None:  # (parts built side by side print their lines in turns)
            self.say(f"{name}: {line.strip()}")

        clock = time.monotonic()
        conn = archive.connect(self.path, readonly=True)
        renderer = Renderer(self.settings, self.shared.home)
        try:
            folder = Folder(self.writer, prefix)
            s = self.settings
            key = (s.base_url, s.context_size, s.page_size, self.split_by)
            inputs = Inputs(self.shared, plan, key)
            builder = SiteBuilder(conn, renderer, plan, folder, inputs, self.cache)
            builder.build(say)
        finally:
            renderer.close()
            conn.close()
        result.pages, result.kept = builder.pages, builder.kept
        result.seconds["pages"] = time.monotonic() - clock
        clock = time.monotonic()
        result.search = _records_digest(plan)
        if (
            not self.force
            and self.writer.search.get(prefix) == result.search
            and _keep_bundle(self.writer, prefix)
        ):
            say(f"search index unchanged ({len(plan.records)} messages)")
        else:
            say(f"indexing {len(plan.records)} messages for search")
            _sync_bundle(plan, self.writer.out, folder)
            result.indexed = True
        result.seconds["search"] = time.monotonic() - clock
        return result

    def landing(self, plans: list[Plan]) -> PartResult:
        assert self.split_by is not None
        renderer = Renderer(self.settings, self.shared.home)
        try:
            digest = write_landing(renderer, plans, self.split_by, self.writer, self.shared.code)
        finally:
            renderer.close()
        return PartResult("", landing=digest)


def _part_reports(writer: SiteWriter, plans: list[Plan], split_by: str | None) -> list[PartReport]:
    """Size and file count of every site written (each part, and the landing folder of a split)."""
    split = split_by is not None
    # a part too big is not helped by the split it already is: the other split may help, or another host
    advice = SPLIT_ADVICE if split_by is None else part_advice(split_by)
    tally = writer.tally()  # (one pass over the files, not one per part)
    if not split:
        size, files = sum(n for n, _ in tally.values()), sum(f for _, f in tally.values())
        plan = plans[0]
        return [PartReport("", plan.part.label, len(plan.messages), 0, files, size,
                           limit_warnings(size, files, "", advice))]  # fmt: skip
    out = []
    for plan in plans:
        name = plan.part.folder
        size, files = tally.pop(name, (0, 0))
        warnings = limit_warnings(size, files, name, advice)
        out.append(PartReport(name, plan.part.label, len(plan.messages), 0, files, size, warnings))
    size, files = sum(n for n, _ in tally.values()), sum(f for _, f in tally.values())
    out.append(PartReport("(landing)", "landing page and redirects", 0, 0, files, size,
                          limit_warnings(size, files, "the landing folder", LANDING_ADVICE)))  # fmt: skip
    return out


def _records_digest(plan: Plan) -> str:
    """A digest of every search page of a part, in order: Pagefind runs again only when it changes."""
    h = hashlib.blake2b(digest_size=16)
    for name, text in documents(plan.records):
        h.update(name.encode() + b"\0" + text.encode())
    return h.hexdigest()


def _keep_bundle(writer: SiteWriter, prefix: str) -> bool:
    """Keep the part's search index of the previous build, if all its files are still there."""
    files = writer.old_under(f"{prefix}pagefind/")
    if not files or not all(writer.had(f) for f in files):
        return False
    for f in files:
        writer.keep(f)
    return True


def _sync_bundle(plan: Plan, out: Path, writer: Folder) -> None:
    """Build the Pagefind bundle aside, then write only the files whose bytes changed."""
    staging = Path(tempfile.mkdtemp(prefix=".search-", dir=out))
    try:
        bundle = write_bundle(plan.records, staging)
        for file in sorted(p for p in bundle.rglob("*") if p.is_file()):
            writer.write(f"pagefind/{file.relative_to(bundle).as_posix()}", file.read_bytes())
    finally:
        shutil.rmtree(staging, ignore_errors=True)


SPLIT_ADVICE = "publish with --split-by guild, year or month for one site per part"


def part_advice(split_by: str) -> str:
    """What helps a part of a split site that is still over a host's limit."""
    finer = {
        "guild": "--split-by year or month",
        "year": "--split-by month or guild",
        "month": "--split-by guild",
    }
    return f"it is already one {split_by}: {finer[split_by]} may cut it further, or host it where this limit doesn't apply"


LANDING_ADVICE = "one redirect per message: host the parts without it, or where file counts aren't limited"


def limit_warnings(size: int, files: int, name: str = "", advice: str = SPLIT_ADVICE) -> list[str]:
    """What common static hosts would refuse (`name`: which part of a split site)."""
    site = name if name.startswith("the ") else f"the site {name}" if name else "the site"
    out = []
    if size > SIZE_LIMIT:
        out.append(f"{site} is {size / 1e9:.2f} GB; GitHub Pages publishes at most 1 GB ({advice})")
    if files > FILE_LIMIT:
        out.append(
            f"{site} has {files:,} files; some hosts accept at most {FILE_LIMIT:,} per site ({advice})"
        )
    return out
