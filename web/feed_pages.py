"""The feeds' data: a channel, a thread or forum post, a conversation, a saved search and the weekly digest
as `web.feeds.Feed`s, built from the same page data and read layer as the pages (newest entries first).

Only live messages become entries: a deleted or withheld message is left out, never shown as a tombstone.
Entry HTML comes from the page templates' own macros (`FeedHtml`), so a feed shows what the page shows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import jinja2

from archive import ChannelNotFound, conversation_views, digest_views, views
from web import urls
from web.digest import build_digest, resolve_channels
from web.errors import not_found
from web.feeds import FEED_SIZE, Feed, FeedEntry
from web.markdown import to_plain_text
from web.pages import mention_refs, system_label
from web.search import SearchBackend
from web.timeline import enrich

TITLE_CHARS = 80
DIGEST_WEEKS = 4
EPOCH_ISO = "1970-01-01T00:00:00Z"


@dataclass(frozen=True)
class FeedHtml:
    """Entry HTML from the page templates: a message's body as timelines show it, a digest as its page."""

    env: jinja2.Environment

    def message(self, m: dict[str, Any]) -> str:
        """The message body macro of `_message.html`."""
        return str(self.env.get_template("_message.html").module.body(m))  # type: ignore[attr-defined]

    def digest(self, d: dict[str, Any]) -> str:
        """The digest body macro of `_digest.html`."""
        return str(self.env.get_template("_digest.html").module.digest_body(d))  # type: ignore[attr-defined]


def _title(m: dict[str, Any], where: str) -> str:
    who = m["author"]["display_name"] if m["author"] else "Unknown author"
    label = system_label(m)
    text = label or " ".join(to_plain_text(m.get("content") or "", users=mention_refs(m)).split())
    if not text:
        text = "(attachment)" if m["attachments"] else "(no text)"
    if len(text) > TITLE_CHARS:
        text = text[: TITLE_CHARS - 1].rstrip() + "…"
    return f"{who} in {where}: {text}"


def message_entries(
    html: FeedHtml, messages: Sequence[dict[str, Any]], names: dict[str, str]
) -> list[FeedEntry]:
    """Entries for public messages (newest first; tombstones left out); `names` maps channel id to a label."""
    out = []
    for m in sorted(messages, key=lambda m: int(m["id"]), reverse=True):
        if m["tombstone"]:
            continue
        out.append(
            FeedEntry(
                id=m["url"],
                title=_title(m, names.get(m["channel_id"], "#" + m["channel_id"])),
                link=m["url"],
                updated=m["edited_timestamp"] or m["timestamp"],
                published=m["timestamp"],
                author=m["author"]["display_name"] if m["author"] else "Unknown author",
                content_html=html.message(m),
            )
        )
    return out[:FEED_SIZE]


def _feed(id_: str, title: str, link: str, self_link: str, entries: list[FeedEntry], subtitle: str) -> Feed:
    updated = max((e.updated for e in entries), default=EPOCH_ISO)
    return Feed(id=id_, title=title, link=link, self_link=self_link, updated=updated, subtitle=subtitle,
                entries=entries)  # fmt: skip


def _names(conn: sqlite3.Connection, rows: list[dict[str, Any]]) -> dict[str, str]:
    """Where each row was written, as entry titles say it: #channel, or ↳ thread."""
    found = views.find_channels(conn, {r["channel_id"] for r in rows})
    return {str(c["id"]): ("↳ " if c["is_thread"] else "#") + c["name"] for c in found.values()}


def _live(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if not r.get("deleted") and r.get("redacted") is None]


def channel_feed(conn: sqlite3.Connection, html: FeedHtml, channel_id: int, site: str) -> Feed:
    """A channel's newest messages; a forum (which has none of its own) gives its posts' opening messages."""
    row = views.find_channel(conn, channel_id) or views.find_forum(conn, channel_id)
    if row is None:
        raise ChannelNotFound(channel_id)
    rows, _, _ = views.channel_page(conn, channel_id, limit=FEED_SIZE)
    name = f"#{row['name']}"
    if rows or row["is_thread"]:
        entries = message_entries(html, enrich(conn, _live(rows)), {str(channel_id): name})
        return _feed(urls.channel_url(channel_id), f"{name} · {site}", urls.channel_url(channel_id),
                     urls.feed_url("channel", channel_id), entries, row.get("topic") or f"New messages in {name}")  # fmt: skip
    posts = digest_views.thread_ids_under(conn, [channel_id])
    firsts = digest_views.first_message_ids(conn, posts)
    found = views.find_messages(conn, firsts.values())
    threads = views.find_channels(conn, posts)
    messages = enrich(conn, sorted(found.values(), key=lambda r: r["id"]), threads=False)
    entries = []
    for m in message_entries(html, messages, {}):
        post = threads[int(next(x["channel_id"] for x in messages if x["url"] == m.id))]
        entries.append(FeedEntry(id=urls.thread_url(post["id"]), title=post["name"], link=urls.thread_url(post["id"]),
                                 updated=m.updated, published=m.published, author=m.author,
                                 content_html=m.content_html))  # fmt: skip
    return _feed(urls.channel_url(channel_id), f"{name} · {site}", urls.channel_url(channel_id),
                 urls.feed_url("channel", channel_id), entries, f"New posts in {name}")  # fmt: skip


def thread_feed(conn: sqlite3.Connection, html: FeedHtml, thread_id: int, site: str) -> Feed:
    """A thread's or forum post's newest messages, or the newest replies under a message."""
    channel = views.find_channel(conn, thread_id)
    if channel is not None and channel["is_thread"]:
        rows, _, _ = views.channel_page(conn, thread_id, limit=FEED_SIZE)
        title = channel["name"]
    else:
        root = views.find_message(conn, thread_id)
        if root is None:
            raise not_found("thread or message", str(thread_id))
        rows = views.reply_tree(conn, thread_id)[-FEED_SIZE:]
        title = "Replies to a message"
    names = _names(conn, rows)
    entries = message_entries(html, enrich(conn, _live(rows), threads=False), names)
    return _feed(urls.thread_url(thread_id), f"{title} · {site}", urls.thread_url(thread_id),
                 urls.feed_url("thread", thread_id), entries, f"New messages in {title}")  # fmt: skip


def conversation_feed(conn: sqlite3.Connection, html: FeedHtml, conversation_id: int, site: str) -> Feed:
    """A conversation's newest messages."""
    ids = conversation_views.conversation_message_ids(conn, conversation_id)
    if not ids:
        raise not_found("conversation", str(conversation_id))
    rows = sorted(views.find_messages(conn, ids[-FEED_SIZE * 2 :]).values(), key=lambda r: r["id"])
    names = _names(conn, rows)
    entries = message_entries(html, enrich(conn, _live(rows)), names)
    title = f"Conversation {conversation_id}"
    return _feed(urls.conversation_url(conversation_id), f"{title} · {site}", urls.conversation_url(conversation_id),
                 urls.feed_url("conversation", conversation_id), entries, "New messages in this conversation")  # fmt: skip


def search_feed(conn: sqlite3.Connection, html: FeedHtml, backend: SearchBackend, q: str, site: str) -> Feed:
    """The newest messages a query finds (the search page's language; raises SearchUnavailable)."""
    q = q.strip()
    rows: list[dict[str, Any]] = []
    if q:
        result = backend.search(q, sort="newest", limit=FEED_SIZE, offset=0)
        found = views.find_messages(conn, [h.id for h in result.hits])
        rows = _live(sorted(found.values(), key=lambda r: r["id"]))
    names = _names(conn, rows)
    entries = message_entries(html, enrich(conn, rows), names)
    return _feed(urls.search_url(q), f"Search: {q} · {site}", urls.search_url(q, sort="newest"),
                 urls.feed_url("search", q), entries, f"New messages matching {q}")  # fmt: skip


def newest_day(conn: sqlite3.Connection, channels: Sequence[str]) -> date | None:
    """The UTC day of the newest message (in some channels and their threads), or None when there is none."""
    ms = digest_views.newest_ts(conn, channels_scope(conn, channels))
    return datetime.fromtimestamp(ms / 1000, tz=UTC).date() if ms is not None else None


def channels_scope(conn: sqlite3.Connection, channels: Sequence[str]) -> list[int] | None:
    """Channel ids (with their threads) that `in=` values name, or None for all channels."""
    if not channels:
        return None
    ids = [r["id"] for r in resolve_channels(conn, channels)[0]]
    return ids + digest_views.thread_ids_under(conn, ids)


def digest_feed(
    conn: sqlite3.Connection,
    html: FeedHtml,
    channels: Sequence[str],
    site: str,
    *,
    build: Callable[[sqlite3.Connection, date, date, Sequence[str]], dict[str, Any]] = build_digest,
) -> Feed:
    """One entry per ISO week (Monday to Sunday) for the last DIGEST_WEEKS weeks up to the newest message;
    `build` makes each week's digest (`build_digest`, or a cache's `get`)."""
    last = newest_day(conn, channels)
    entries = []
    if last is not None:
        monday = last - timedelta(days=last.weekday())
        for n in range(DIGEST_WEEKS):
            since = monday - timedelta(weeks=n)
            d = build(conn, since, since + timedelta(days=6), channels)
            if not d["total_messages"]:
                continue
            entries.append(
                FeedEntry(id=d["url"], title=f"Week of {since}: {d['total_messages']} messages in "
                          f"{d['total_conversations']} conversations", link=d["url"],
                          updated=d["last_activity"], published=d["start"], author=site, content_html=html.digest(d))
            )  # fmt: skip
    label = "Weekly digest" + (f" of {', '.join(channels)}" if channels else "")
    page = entries[0].link if entries else urls.home_url()
    return _feed(urls.digest_feed_url(list(channels)), f"{label} · {site}", page,
                 urls.digest_feed_url(list(channels)), entries, "What happened each week, by channel")  # fmt: skip
