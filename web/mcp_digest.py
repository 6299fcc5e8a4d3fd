"""The MCP `digest` tool: a window of days through the digest page builder (`web.digest.build_digest`)."""

from __future__ import annotations

from datetime import date

from web import urls
from web.digest import DigestError, build_digest, parse_day
from web.digest_text import build_digest_markdown
from web.mcp_results import DigestChannel, DigestConversation, DigestResult, Place
from web.mcp_tools import ArchiveReader, ToolInputError

MAX_DAYS = 366  # a window as long as a year; longer ones are better asked as several
MAX_CHANNELS = 20
CONVERSATIONS_PER_CHANNEL = 5
MAX_NEW_THREADS = 50
MAX_MARKDOWN_CHARS = 60_000


def _day(value: str | None, name: str) -> date | None:
    try:
        return parse_day(value, name) if value else None
    except DigestError as e:
        raise ToolInputError(f"{e}.") from None


def _cut_markdown(text: str) -> tuple[str, bool]:
    """The Markdown, cut at a line end before MAX_MARKDOWN_CHARS (with a note) when longer."""
    if len(text) <= MAX_MARKDOWN_CHARS:
        return text, False
    head = text[: text.rfind("\n", 0, MAX_MARKDOWN_CHARS) + 1]
    return head + "\n*(cut: ask for a shorter window or one channel for the rest)*\n", True


def digest(reader: ArchiveReader, since: str, until: str | None, channels: list[str]) -> DigestResult:
    """The digest of [since, until] (UTC days, inclusive; until defaults to today), for some channels or all."""
    first = _day(since, "since")
    if first is None:
        raise ToolInputError("since is required: the first day of the window, YYYY-MM-DD.")
    last = _day(until, "until")
    if last is not None and (last - first).days + 1 > MAX_DAYS:
        raise ToolInputError(
            f"The window is {(last - first).days + 1} days; ask for at most {MAX_DAYS} at a time."
        )
    with reader.conn() as conn:
        try:
            d = build_digest(conn, first, last, channels)
        except DigestError as e:
            raise ToolInputError(f"{e}.") from None
    if channels and not d["channels_filter"]:
        raise ToolInputError(" ".join(d["hints"]) or "None of these channels is in the archive.")
    if d["days"] > MAX_DAYS:
        raise ToolInputError(f"The window is {d['days']} days; ask for at most {MAX_DAYS} at a time.")
    base = reader.settings.base_url
    markdown, cut = _cut_markdown(build_digest_markdown(d, base))
    sections = d["channels"][:MAX_CHANNELS]
    cut = cut or len(d["channels"]) > MAX_CHANNELS or len(d["new_threads"]) > MAX_NEW_THREADS
    cut = cut or any(s["conversation_count"] > CONVERSATIONS_PER_CHANNEL for s in sections)
    return DigestResult(
        since=d["since"],
        until=d["until"],
        days=d["days"],
        total_messages=d["total_messages"],
        total_conversations=d["total_conversations"],
        search_query=d["search_query"],
        hints=d["hints"],
        channels=[
            DigestChannel(
                id=s["channel"]["id"],
                name=s["channel"]["name"],
                messages=s["messages"],
                conversation_count=s["conversation_count"],
                conversations=[
                    DigestConversation(
                        id=c["id"],
                        title=c["title"],
                        thread=c["thread"]["name"] if c.get("thread") else None,
                        messages=c["messages"],
                        participants=c["participants"],
                        reactions=c["reactions"],
                        start=c["start"],
                        end=c["end"],
                        permalink=urls.absolute(base, c["url"]),
                    )
                    for c in s["conversations"][:CONVERSATIONS_PER_CHANNEL]
                ],
            )
            for s in sections
        ],
        new_threads=[Place(id=t["id"], name=t["name"]) for t in d["new_threads"][:MAX_NEW_THREADS]],
        permalink=urls.absolute(base, d["url"]),
        cut=cut,
        markdown=markdown,
    )
