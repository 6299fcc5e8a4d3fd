"""What each page reads, fingerprinted before it is rendered, so a rebuild renders only pages whose inputs
changed.

The walk gives every message a digest of all the archive holds on it as a timeline shows it (its row
with author, attachments, embeds, reactions, mentions and conversation link), and one of when and in
which exports it was seen (shown on its permalink only: a re-export re-renders permalinks, not timelines). A message as a timeline
shows it also depends on its conversation's size, the message it replies to, its reply count and the
thread it started; that is its `shown` digest. A page's fingerprint is the digest of the `shown` digests of
the messages it can display, with what else it reads (a channel's directory entry: topic, date range,
threads), under a global key: the code and templates, the settings, the part, the policy's withheld
digests and the directory's names. Pages that read everything (home, search, digest list, weekly feed)
have no fingerprint and are rendered every time.
"""

from __future__ import annotations

import bisect
import hashlib
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

import archive
from archive import views
from publish.paths import Target
from publish.plan import Plan, Run
from web.routes.home import build_home

ROOT = Path(__file__).resolve().parents[1]
CODE = ("publish", "web", "archive/views.py", "archive/conversation_views.py", "archive/digest_views.py")
MAX_TREE = 1000


def code_version() -> str:
    """A digest of the renderer's code and templates (a change re-renders every page)."""
    h = hashlib.blake2b(digest_size=16)
    for entry in CODE:
        base = ROOT / entry
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for f in files:
            if f.suffix in (".py", ".html", ".css", ".js"):
                h.update(f.relative_to(ROOT).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def _digest(*parts: object) -> str:
    return hashlib.blake2b(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS), digest_size=16).hexdigest()


class Archive:
    """What every part's fingerprints read of the whole archive: the walk's indexes (where each message
    is, its replies, each person's and each conversation's messages), the directory and the policy. Made
    once per build, before the parts are built (side by side, each forked process inherits it)."""

    def __init__(
        self, conn: sqlite3.Connection, runs: dict[int, Run], directory: list[dict[str, Any]] | None = None
    ) -> None:
        self.runs = runs
        self.directory = views.guild_directory(conn) if directory is None else directory
        self.channel_meta: dict[int, bytes] = {}
        self.names: list[tuple[object, ...]] = []
        for g in self.directory:
            self.names.append((g["id"], g["name"], g["icon_url"]))
            for c in g["channels"]:
                self.names.append(
                    (c["id"], c["name"], c["topic"], c["category"], c["type"], c.get("parent_name"))
                )
                self.names += [(t["id"], t["name"], t["type"]) for t in c["threads"]]
                self.channel_meta[c["id"]] = orjson.dumps(c, option=orjson.OPT_SORT_KEYS)
                for t in c["threads"]:
                    self.channel_meta[t["id"]] = orjson.dumps(t, option=orjson.OPT_SORT_KEYS)
        self.policy = views.policy_rows(conn)
        # The home page's data: the same for every part, and a scan of the archive to build (seconds at a
        # million messages), so made once here and given to each part's renderer.
        self.home = (archive.generation(conn), build_home(conn, self.directory))
        self.code = code_version()
        self.sig: dict[int, bytes] = {}
        self.where: dict[int, tuple[int, int]] = {}
        self.children: dict[int, list[int]] = {}
        self.by_author: dict[int, list[int]] = {}
        self.by_conversation: dict[int, list[int]] = {}
        for cid, run in runs.items():
            for i, mid in enumerate(run.ids):
                self.sig[mid] = run.sigs[i]
                self.where[mid] = (cid, i)
                if run.reply_to[i]:
                    self.children.setdefault(run.reply_to[i], []).append(mid)  # type: ignore[arg-type]
                if run.authors[i] is not None:
                    self.by_author.setdefault(run.authors[i], []).append(mid)  # type: ignore[arg-type]
                if run.conversations[i] is not None:
                    self.by_conversation.setdefault(run.conversations[i], []).append(mid)  # type: ignore[arg-type]
        self._shown: dict[int, bytes] = {}
        self._authors: dict[int, str] = {}

    def prime(self) -> None:
        """Digest every person's messages now, so that parts built side by side inherit the digests
        instead of each making them again (a month's people post in most months: at a million
        messages, each part would otherwise digest most of the archive)."""
        for user_id in self.by_author:
            self.author(user_id)

    def shown(self, mid: int) -> bytes:
        """The digest of a message as a timeline shows it."""
        got = self._shown.get(mid)
        if got is not None:
            return got
        where = self.where.get(mid)
        if where is None:
            return b"-"
        run = self.runs[where[0]]
        i = where[1]
        conv = run.conversations[i]
        started = [(t, len(self.runs[t].ids), self.runs[t].sigs[-1] if self.runs[t].ids else b"")
                   for t in (mid, run.threads[i]) if t is not None and t in self.runs]  # fmt: skip
        parent = run.reply_to[i]
        h = hashlib.blake2b(run.sigs[i], digest_size=12)
        h.update(orjson.dumps([len(self.by_conversation.get(conv, ())) if conv else 0,
                               len(self.children.get(mid, ())), [(t, n, s.hex()) for t, n, s in started]]))  # fmt: skip
        h.update(self.sig.get(parent, b"-") if parent else b"")
        got = self._shown[mid] = h.digest()
        return got

    def of(self, ids: Iterable[int]) -> list[str]:
        """The `shown` digests of messages, as text."""
        return [self.shown(m).hex() for m in ids]

    def author(self, user_id: int) -> str:
        """A digest of every message of a person as shown, once per person (not once per page of theirs)."""
        got = self._authors.get(user_id)
        if got is None:
            got = self._authors[user_id] = _digest(self.of(sorted(self.by_author.get(user_id, []))))
        return got

    def tree(self, root: int) -> list[int]:
        """A reply tree: the message and its replies, theirs and so on (at most `MAX_TREE`)."""
        out, todo = [root], [root]
        while todo and len(out) < MAX_TREE:
            kids = self.children.get(todo.pop(), [])
            out += kids
            todo += kids
        return sorted(out)[:MAX_TREE]


class Inputs:
    """Fingerprints of the pages of one part."""

    def __init__(self, shared: Archive, plan: Plan, settings: tuple[object, ...]) -> None:
        self.shared = shared
        self.runs = shared.runs
        self.by_conversation = shared.by_conversation
        self.channel_meta = shared.channel_meta
        self.sig, self.where, self.children = shared.sig, shared.where, shared.children
        self._of = shared.of
        part = plan.part
        self.months: dict[str, list[int]] = {}  # the part's live messages by month, for its digests
        for r in plan.records:
            self.months.setdefault(r.timestamp[:7], []).append(int(r.id))
        self.key = _digest(shared.code, settings, part.folder, part.guild, part.period,
                           shared.policy, shared.names)  # fmt: skip

    def permalink(self, mid: int, v: int | None, context: int) -> str | None:
        """A permalink (or one of its versions) with its citation files."""
        where = self.where.get(mid)
        if where is None:
            return None
        run = self.runs[where[0]]
        i = where[1]
        near = run.ids[max(i - context, 0) : i + context + 1]
        replies = sorted(self.children.get(mid, ()))[:200]
        return _digest(self.key, "m", mid, v, run.attested[i].hex(), self._of(near), self._of(replies))

    def channel_of(self, mid: int) -> int:
        """The channel (or thread) a message of the walk is in."""
        return self.where[mid][0]

    def stub(self, mid: int, where: str) -> str | None:
        """A permalink redirect and its citation files: the message and where its timeline shows it."""
        return _digest(self.key, "stub", mid, self.sig[mid].hex(), where) if mid in self.sig else None

    def target(self, t: Target, pages: dict[int, list[tuple[int, int]]]) -> str | None:
        """The fingerprint of a page reached by a link or listed by the plan, or None (render it)."""
        head = t.file.split("/")
        if t.kind in ("channel", "feed") and head[0] in ("c", "t") and int(head[1]) in self.runs:
            cid = int(head[1])
            run = self.runs[cid]
            if t.kind == "feed":
                return _digest(
                    self.key, t.file, self._of(run.ids[-100:]), self.channel_meta.get(cid, b"").hex()
                )
            bounds = pages.get(cid, [])
            return _digest(self.key, t.file, t.fetch, bounds, self.channel_meta.get(cid, b"").hex(),
                           self._of(_within(run.ids, t.fetch, bounds)))  # fmt: skip
        if t.kind == "thread" or (t.kind == "feed" and head[0] == "t"):  # a thread, or a reply tree
            tid = int(head[1])
            ids = self.runs[tid].ids[:MAX_TREE] if tid in self.runs else self.shared.tree(tid)
            return _digest(self.key, t.file, self._of(ids), self.channel_meta.get(tid, b"").hex())
        if t.kind == "conversation" or (t.kind == "feed" and head[0] == "conv"):
            members = self.by_conversation.get(int(head[1]), [])
            return _digest(self.key, t.file, t.fetch, self._of(sorted(members)))
        if t.kind == "user":  # any page shows the person's counts: it depends on all their messages
            return _digest(self.key, t.file, t.fetch, self.shared.author(int(head[1])))
        if t.kind == "digest":
            return _digest(self.key, t.file, t.fetch, self._of(sorted(self.months.get(head[1], []))))
        if t.kind == "media":
            mid = int(head[1])
            return _digest(self.key, t.file, self.sig[mid].hex()) if mid in self.sig else None
        return None


def _within(ids: list[int], fetch: str, bounds: list[tuple[int, int]]) -> list[int]:
    """The messages of a channel (`ids`, oldest first) that a channel page fetched as `?after=N` can show:
    its page's span (the newest page also whatever came after it, up to `&before=M` if it says so). Cut by
    bisection: a page costs its own messages, not the channel's."""
    q = dict(parse_qsl(urlsplit(fetch).query))
    after = int(q.get("after", -1))
    for k, (first, last) in enumerate(bounds):
        if first == after + 1:
            lo = bisect.bisect_left(ids, first)
            if k < len(bounds) - 1:
                return ids[lo : bisect.bisect_right(ids, last)]
            return ids[lo : bisect.bisect_left(ids, int(q["before"]))] if "before" in q else ids[lo:]
    return ids
