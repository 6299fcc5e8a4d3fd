"""`publish_site`: the whole archive as files, every page from the viewer's own routes and templates.

Seeds are the home page, the search page, every channel page and every permalink; every internal link
on a rendered page is resolved to the file that holds its target, rendering that target the first time
it is seen (threads, conversations, people, revisions, media). Links to what the server doesn't have
either are dropped, so the site has no broken internal links by construction.
"""

from __future__ import annotations

import sqlite3
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit

import archive
from archive import conversation_views
from publish.cache import Entry, PageCache, replayable
from publish.inputs import Inputs
from publish.links import rewrite
from publish.paths import Target, digest_month_url
from publish.permalinks import BATCH, write_permalinks
from publish.plan import Plan
from publish.render import Rendered, Renderer
from publish.writer import Folder
from web import present, urls
from web.errors import PageError

STATIC_DIRS = (Path(__file__).parent / "static", Path(__file__).parents[1] / "web" / "static")
MAX_REDIRECTS = 3
MIN_CONVERSATION = 2  # messages: a conversation of one has no page of its own on the site
Progress = Callable[[str], None]


class SiteBuilder:
    """One build of the site into a folder."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        renderer: Renderer,
        plan: Plan,
        writer: Folder,
        inputs: Inputs,
        cache: PageCache,
    ) -> None:
        self.conn = conn
        self.inputs = inputs
        self.cache = cache
        self.today = datetime.now(tz=UTC).date().isoformat()
        self.bounds = {
            c: list(zip(plan.sitemap.chunk_starts[c], plan.sitemap.chunk_ends[c], strict=True))
            for c in plan.sitemap.chunk_starts
        }
        self.renderer = renderer
        self.plan = plan
        self.writer = writer
        self.base_url = renderer.settings.base_url
        self.messages = set(plan.messages)
        self.channels = set(plan.channels)
        self.split = bool(plan.part.folder)
        self.resolved: dict[str, str | None] = {}  # fetch URL → file (None: not on the site)
        self._paths: dict[str, str] = {}  # link → file
        self.replays: deque[Entry] = deque()  # kept pages whose links are still to follow
        self.queue: deque[tuple[Target, Rendered, str, str | None]] = deque()  # target, response, key, fp
        self.known: set[str] = set()  # files that will exist without a fetch (planned or already written)
        self.pages = 0  # rendered
        self.kept = 0  # pages not rendered: inputs unchanged

    # -- resolving links ---------------------------------------------------------------------

    def resolve(self, path: str) -> str | None:
        """The file (with query and fragment) a site path points to, or None when the site lacks it."""
        found = self._paths.get(path)
        if found is None:
            found = self._resolve(path)
            if found is not None:  # a file once found stays (most links repeat from page to page)
                self._paths[path] = found
        return found

    def _resolve(self, path: str) -> str | None:
        t = self.plan.sitemap.target(path)
        if t is None:
            return None
        file = self._file(t)
        if file is None:
            return None
        return file + (f"?{t.query}" if t.query else "") + (f"#{t.fragment}" if t.fragment else "")

    def _file(self, t: Target) -> str | None:
        if t.file in self.known or self.writer.has(t.file):
            return t.file
        if t.fetch in self.resolved:
            return self.resolved[t.fetch]
        if t.kind == "message" and "?v=" not in t.fetch:
            return t.file if int(t.file.split("/")[1]) in self.messages else None
        if t.kind == "cite":
            return None  # written with their permalink page, known from then on
        if t.kind == "static":
            return t.file if any((d / t.file.split("/", 1)[1]).is_file() for d in STATIC_DIRS) else None
        if not self._published(t) or (self.split and not self._in_part(t)):
            self.resolved[t.fetch] = None
            return None
        return self._fetch(t)

    def _published(self, t: Target) -> bool:
        """What the static copy leaves out to stay publishable at a million messages (links to it are
        dropped): a conversation of one message (its message is all of it, in its timeline), the
        conversation views at other confidence thresholds, and feeds of conversations and reply trees."""
        if t.kind == "feed" and t.file.startswith("conv/"):
            return False
        if t.kind == "feed" and t.file.startswith("t/") and int(t.file.split("/")[1]) not in self.inputs.runs:
            return False  # a reply tree's feed (a thread's own stays)
        if t.kind == "conversation":
            members = self.inputs.by_conversation.get(int(t.file.split("/")[1]), ())
            return "?" not in t.fetch and len(members) >= MIN_CONVERSATION
        return True

    def _in_part(self, t: Target) -> bool:
        """Whether a split site's part holds a channel, thread, feed or conversation (every other page
        kind is reached only from the part's own pages)."""
        if t.kind in ("channel", "thread") or (t.kind == "feed" and t.file.startswith(("c/", "t/"))):
            return int(t.file.split("/")[1]) in self.channels
        if t.kind == "conversation" or (t.kind == "feed" and t.file.startswith("conv/")):
            row = conversation_views.find_conversation(self.conn, int(t.file.split("/")[1]))
            if row is None or not any(c["id"] in self.channels for c in row["channels"]):
                return False
            period = self.plan.part.period
            if period is None:
                return True
            first, last = (present.iso(row[k]) or "" for k in ("first_ts", "last_ts"))
            return first[: len(period)] <= period <= last[: len(period)]
        return True

    def _fetch(self, t: Target) -> str | None:
        """Render a target now (it is written when the queue reaches it)."""
        self.resolved[t.fetch] = None
        if t.kind == "message":
            return self._message(t)
        fp = self.inputs.target(t, self.bounds)
        kept = self.keep_page(t.file, fp)
        if kept is not None:
            file = str(kept.facts.get("file", t.file))
            self.resolved[t.fetch] = file
            self.known.add(file)
            self.replay(kept)
            return file
        r = self.renderer.get(t.fetch)
        for _ in range(MAX_REDIRECTS):
            if r.status not in (301, 302, 303, 307, 308):
                break
            location = r.headers.get("location", "")
            moved = self.plan.sitemap.target(location)
            moved_file = self._file(moved) if moved is not None else None
            if moved_file is not None and moved is not None:
                self.resolved[t.fetch] = moved_file
                return moved_file + (f"#{moved.fragment}" if moved.fragment and "#" not in moved_file else "")
            return None
        if r.status != 200:
            return None
        file = t.file
        if t.kind == "media":
            name = r.filename() or "file"
            file = f"{t.file}/{name}"
        self.resolved[t.fetch] = file
        self.known.add(file)
        self.queue.append((Target(t.kind, file, t.fetch), r, t.file, fp))
        return file

    def _message(self, t: Target) -> str | None:
        """A revision of a permalink (`?v=N`): rendered at once, with its citation files."""
        parts = urlsplit(t.fetch)
        mid = int(parts.path.split("/")[2])
        v = int(parts.query.split("=", 1)[1])
        try:
            self.write_message(mid, v)
        except (archive.ArchiveError, PageError):  # no such message, or no such version
            return None
        self.resolved[t.fetch] = t.file
        return t.file

    # -- writing -------------------------------------------------------------------------------

    def keep_page(self, file: str, fp: str | None) -> Entry | None:
        """Keep a page of the previous build whose inputs are unchanged: its files stay, its links are
        followed. None when it must be rendered."""
        key = self.writer.prefix + file
        e = self.cache.fresh(key, fp, self.writer.had)
        if e is None:
            return None
        for f in e.files:  # (a media file's entry is under its link's name, its file has its own)
            self.writer.keep(f)
            self.known.add(f)
        self.cache.record(key, e)
        self.kept += file.endswith(".html")
        return e

    def replay(self, e: Entry) -> None:
        """Follow a kept page's links, as rendering it would have (from the queue: no recursion down
        long chains of kept pages)."""
        self.replays.append(e)

    def write_page(self, file: str, page: str, fp: str | None = None, **facts: object) -> None:
        """Rewrite a rendered page's links (rendering what they point to on first sight) and write it."""
        self.known.add(file)
        links: list[str] = []

        def resolve(path: str) -> str | None:
            if replayable(path):
                links.append(path)
            return self.resolve(path)

        html = rewrite(page, file, resolve, self.base_url, keep_canonical=bool(self.base_url))
        self.writer.write(file, html.encode())
        self.pages += 1
        if fp is not None:
            files = [file, *facts.pop("files", ())]  # type: ignore[misc]
            self.cache.record(self.writer.prefix + file, Entry(fp, sorted(set(links)), files, facts))

    def record(self, file: str, fp: str, files: list[str], **facts: object) -> None:
        """Note a page written without rendering (a permalink redirect) and its files, for the next build."""
        self.cache.record(self.writer.prefix + file, Entry(fp, [], [file, *files], facts))

    def write_message(self, message_id: int, v: int | None = None) -> None:
        """A permalink page and its citation files (kept as they are when its inputs didn't change)."""
        folder = f"m/{message_id}/" + (f"v/{v}/" if v else "")
        file = f"{folder}index.html"
        fp = self.inputs.permalink(message_id, v, self.renderer.settings.context_size)
        kept = self.keep_page(file, fp)
        if kept is not None:
            self._current(message_id, v, kept.facts.get("v"), folder)
            self.replay(kept)
            return
        # A citation's "accessed" date is the day this page was first published (kept from build to
        # build), so a republish on a later day leaves unchanged citations as they are.
        since = str(self.cache.facts(self.writer.prefix + file).get("since") or self.today)
        page, cites, data = self.renderer.message(self.conn, message_id, v, date.fromisoformat(since))
        self._current(message_id, v, data["version"], folder)
        for ext, body in cites.items():
            self.writer.write(f"{folder}cite.{ext}", body.encode())
            self.known.add(f"{folder}cite.{ext}")
        cite_files = [f"{folder}cite.{ext}" for ext in cites]
        self.write_page(file, page, fp, files=cite_files, v=data["version"], since=since)

    def _current(self, message_id: int, v: int | None, current: object, folder: str) -> None:
        """The current version pinned by number (`?v=N`) is the permalink's own page."""
        if v is None and current:
            self.resolved[f"/m/{message_id}?v={current}"] = f"{folder}index.html"
            for ext in ("bib", "json", "ris"):
                self.resolved[f"/m/{message_id}/cite.{ext}?v={current}"] = f"{folder}cite.{ext}"

    def drain(self) -> None:
        """Write everything rendered on the way, and follow the links of pages kept on the way."""
        while self.queue or self.replays:
            if not self.queue:
                for link in self.replays.popleft().links:
                    self.resolve(link)
                continue
            t, r, key, fp = self.queue.popleft()
            if r.headers.get("content-type", "").startswith("text/html"):
                self.write_page(t.file, r.body.decode(), fp)
            else:
                self.writer.write(t.file, r.body)
                if fp is not None:
                    self.cache.record(self.writer.prefix + key, Entry(fp, [], [t.file], {"file": t.file}))

    def fetch_page(self, t: Target, fp: str | None = None) -> None:
        """Render one seed page through the app and write it (unless its inputs are unchanged)."""
        kept = self.keep_page(t.file, fp)
        if kept is not None:
            self.replay(kept)
        else:
            r = self.renderer.get(t.fetch)
            if r.status == 200:
                self.write_page(t.file, r.body.decode(), fp)
        self.drain()

    def home(self) -> None:
        """The home page: the server's own, or in a guild's part the same page with only that guild."""
        guild = self.plan.part.guild
        if guild is None:
            self.fetch_page(Target("home", "index.html", "/"))
            return
        home = self.renderer.home(self.conn)
        page = {**home, "guilds": [g for g in home["guilds"] if g["id"] == str(guild)]}
        feed = urls.digest_feed_url()
        html = self.renderer.template("home.html", page, feed_url=feed, feed_title="Weekly digest (Atom)")
        self.write_page("index.html", html)
        self.drain()

    def build(self, progress: Progress) -> None:
        """Seeds first (home, search, static files), then channels, then permalinks."""
        sitemap = self.plan.sitemap
        for channel_id in self.plan.channels:
            for i in range(sitemap.page_count(channel_id)):
                self.known.add(sitemap.channel_page(channel_id, i).file)
        self.known.update(f"m/{mid}/index.html" for mid in self.messages)
        for folder in STATIC_DIRS:
            for path in sorted(folder.iterdir()):
                if path.is_file():
                    self.writer.write(f"static/{path.name}", path.read_bytes())
        code_css = self.renderer.get("/assets/code.css")
        self.writer.write("assets/code.css", code_css.body)
        months = sorted({r.timestamp[:7] for r in self.plan.records})
        self.known.update(("digest/index.html", "index.html"))
        self.write_page("search/index.html", self.renderer.template("publish_search.html", {"query": ""}))
        self.home()
        digests = [{"month": m, "url": digest_month_url(m)} for m in reversed(months)]
        self.write_page(
            "digest/index.html", self.renderer.template("publish_digests.html", {"months": digests})
        )
        self.drain()
        for month in months:  # digests per month
            digest = self.plan.sitemap.target(digest_month_url(month))
            if digest is not None:
                self.fetch_page(digest, self.inputs.target(digest, self.bounds))
        feed = self.plan.sitemap.target("/digest.atom")
        if feed is not None:
            self.resolve("/digest.atom")
            self.drain()
        progress(f"{len(self.plan.channels)} channels")
        for channel_id in self.plan.channels:
            for i in range(sitemap.page_count(channel_id)):
                page = sitemap.channel_page(channel_id, i)
                self.fetch_page(page, self.inputs.target(page, self.bounds))
        progress(f"{len(self.messages)} permalinks")
        started = time.monotonic()
        ids = self.plan.messages
        for n in range(0, len(ids), BATCH):
            write_permalinks(self, ids[n : n + BATCH])
            self.drain()
            if (n + BATCH) % 10_000 < BATCH:
                done = min(n + BATCH, len(ids))
                progress(f"  {done} permalinks ({done / (time.monotonic() - started):.0f}/s)")
