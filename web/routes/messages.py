"""GET /m/{id}: the permalink (+ .json and .md twins) and its citations /m/{id}/cite.{bib,json,ris}."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from archive import MessageNotFound, find_alias, views
from web import cite, pages, present, reading, urls
from web import mdtext as md
from web.deps import ConnDep, SettingsDep
from web.errors import MessageMoved, PageError, parse_id
from web.markdown import to_plain_text
from web.pages import mention_refs
from web.settings import Settings
from web.timeline import enrich

router = APIRouter()
VERSION_QUERY = Query(
    None, ge=1, description="Revision number: 1 is the original text, the highest is current"
)


def _versions(row: dict[str, Any], revs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every known version, oldest first: the superseded revisions, then the current text."""
    texts = [(r["edited_ts"], r["content"]) for r in revs] + [(row["edited_ts"], row["content"] or "")]
    total = len(texts)
    return [
        {
            "n": n,
            "edited_timestamp": present.iso(edited),
            "content": text,
            "current": n == total,
            "url": urls.message_url(row["id"], v=n),
        }
        for n, (edited, text) in enumerate(texts, start=1)
    ]


def _accessed() -> datetime:
    return datetime.now(tz=UTC)


def build_citation(settings: Settings, page: dict[str, Any], accessed: date | None = None) -> cite.Citation:
    """The citation of the version a page shows, accessed today (or on the day given: a static copy says
    when the page was first published)."""
    return citation_of(
        settings,
        page,
        version=page["version"],
        versions=len(page["revisions"]),
        guild=page["guild"]["name"],
        channel=page["channel"]["name"] if page["channel"] else page["channel_id"],
        timestamp_ms=page["timestamp_ms"],
        accessed=accessed,
    )


def citation_of(
    settings: Settings,
    message: dict[str, Any],
    *,
    version: int,
    versions: int,
    guild: str | None,
    channel: str,
    timestamp_ms: int,
    accessed: date | None = None,
) -> cite.Citation:
    """The citation of one version of a message (its public shape, `web.present.message`, at that version)."""
    return cite.Citation(
        message_id=int(message["id"]),
        version=version,
        versions=versions,
        author=message["author"]["display_name"] if message["author"] else "Unknown author",
        guild=guild or "Unknown guild",
        channel=channel,
        timestamp_ms=timestamp_ms,
        content=message["content"] or "",
        permalink=urls.absolute(settings.base_url, urls.message_url(message["id"], v=version)),
        accessed=accessed or _accessed().date(),
        plain_text=to_plain_text(message["content"] or "", users=mention_refs(message)),
        low_fidelity=message["low_fidelity"],
    )


def build_citations(
    conn: sqlite3.Connection, settings: Settings, ids: list[int], accessed: dict[int, date]
) -> dict[int, cite.Citation]:
    """The citations of many messages at their current version, as their permalinks give them (a few
    queries for all of them: a static copy writes one per message).
    Tombstones and unknown ids are left out; `accessed` gives the day each was accessed (default today)."""
    rows = views.find_messages(conn, ids)
    extras = views.details(conn, list(rows))
    versions = views.version_counts(conn, rows)
    channels = views.find_channels(conn, {r["channel_id"] for r in rows.values()})
    out: dict[int, cite.Citation] = {}
    for mid, row in rows.items():
        message = present.message(row, extras.get(mid))
        if message["tombstone"] is not None:
            continue
        c = channels.get(row["channel_id"])
        n = versions[mid]
        out[mid] = citation_of(
            settings,
            message,
            version=n,
            versions=n,
            guild=c["guild_name"] if c else None,
            channel=present.channel(c)["name"] if c else str(row["channel_id"]),
            timestamp_ms=row["ts"],
            accessed=accessed.get(mid),
        )
    return out


def build_message_page(
    conn: sqlite3.Connection,
    settings: Settings,
    message_id: int,
    v: int | None = None,
    accessed: date | None = None,
) -> dict[str, Any]:
    """The permalink's data: the message (at revision v), context, reply target, replies, thread, citations."""
    row = views.find_message(conn, message_id)
    if row is None:
        moved = find_alias(conn, message_id)
        if moved is not None:
            raise MessageMoved(message_id, moved)
        raise MessageNotFound(message_id)
    channel = views.find_channel(conn, row["channel_id"])
    message = enrich(conn, [row])[0]
    live = message["tombstone"] is None
    versions = _versions(row, views.revisions(conn, message_id)) if live else []
    if live:
        n = v if v is not None else len(versions)
        if not 1 <= n <= len(versions):
            raise PageError(
                404,
                f"Message {message_id} has no version {v}",
                f"It has {len(versions)} version(s): ?v=1 is the original, ?v={len(versions)} the current text.",
            )
        message["content"] = versions[n - 1]["content"]
        message["edited_timestamp"] = versions[n - 1]["edited_timestamp"]
    else:
        n = None
    before, after = views.context(conn, row, size=settings.context_size)
    started = views.thread_of(conn, row)
    in_thread = channel if channel and channel["is_thread"] else None
    thread = started or in_thread
    guild_id = channel["guild_id"] if channel else row["ref_guild_id"]
    page: dict[str, Any] = {
        **message,
        "timestamp_ms": row["ts"],
        "version": n,
        "revisions": [
            {k: r[k] for k in ("n", "edited_timestamp", "content", "current", "url")} for r in versions
        ],
        "replies": enrich(conn, views.replies_to(conn, message_id), threads=False),
        "thread_id": str(thread["id"]) if thread else None,
        "thread": {"id": str(thread["id"]), "name": thread["name"], "url": urls.thread_url(thread["id"])}
        if thread
        else None,
        "reply_tree_url": urls.thread_url(message_id) if message["reply_count"] else None,
        "missing_thread": None if started else reading.missing_thread(conn, row),
        "context": {"before": enrich(conn, before), "after": enrich(conn, after)},
        "channel": present.channel(channel) if channel else None,
        "guild": {
            "id": str(guild_id) if guild_id else None,
            "name": channel["guild_name"] if channel else None,
        },
        "provenance": [
            {"file": os.path.basename(e["path"]), "sha256": e["sha256"], "as_of": present.iso(e["as_of"])}
            for e in views.provenance(conn, message_id)
        ],
        "permalink": urls.absolute(
            settings.base_url, urls.message_url(message_id, v=n if v is not None else None)
        ),
        # A CSV/TXT record's id is made up: Discord has no message under it.
        "discord_url": None
        if message["low_fidelity"]
        else urls.discord_url(guild_id, row["channel_id"], message_id),
        "context_url": urls.channel_url(row["channel_id"], around=message_id),
        "citation": None,
    }
    if live:
        c = build_citation(settings, page, accessed)
        page["citation"] = {
            "sha256": c.sha256,
            "permalink": c.permalink,
            "accessed": c.accessed.isoformat(),
            "formats": cite.build_all(c),
            "files": {ext: urls.cite_url(message_id, ext, v=n) for ext in cite.FORMATS},
            "source_note": cite.LOW_FIDELITY_NOTE if c.low_fidelity else None,
            "base_url_warning": urls.base_url_warning(settings.base_url),
        }
    return page


def build_message_markdown(settings: Settings, page: dict[str, Any]) -> str:
    """The `.md` twin: metadata, content, attachments, replies and the citation, as Markdown.

    Everything from the export is escaped (web.mdtext): the body sits in a code fence, names on one line.
    """
    base = settings.base_url
    author = page["author"]["display_name"] if page["author"] else "Unknown author"
    channel = page["channel"]["name"] if page["channel"] else page["channel_id"]
    guild = page["guild"]["name"] or "unknown guild"
    lines = [
        f"# Message by {md.escape_heading(author)} in #{md.escape_heading(str(channel))} ({md.escape_heading(guild)})",
        "",
        f"- Posted: {page['timestamp']}",
    ]
    if page.get("edited_timestamp"):
        lines.append(
            f"- Edited: {page['edited_timestamp']} (version {page['version']} of {len(page['revisions'])})"
        )
    lines.append(f"- Permalink: {md.autolink(page['permalink'])}")
    if page["discord_url"]:
        lines.append(f"- On Discord: {md.autolink(page['discord_url'])}")
    if page["citation"] and page["citation"]["source_note"]:
        lines.append(f"- Source: {md.escape_inline(page['citation']['source_note'])}")
    if page.get("reply_to"):
        lines.append(f"- Replying to: {md.autolink(urls.absolute(base, urls.message_url(page['reply_to'])))}")
    if page.get("thread"):
        thread_url = md.autolink(urls.absolute(base, page["thread"]["url"]))
        lines.append(f"- Thread: {md.escape_inline(page['thread']['name'])} {thread_url}")
    lines.append("")
    if page["tombstone"]:
        lines += [f"*{md.escape_inline(page['tombstone'])}*", ""]
    elif page["content"]:
        lines += [md.fenced(page["content"]), ""]
    else:
        lines += ["*(no text)*", ""]
    if page["attachments"]:
        lines += ["## Attachments", ""]
        for a in page["attachments"]:
            target = urls.absolute(base, a["url"]) if a["local"] and a["url"] else a["url"]
            note = "; file not in the export, Discord CDN link" if a.get("missing") else ""
            lines.append(f"- {md.link(a['file_name'], target)} ({pages.human_size(a['size'])}{note})")
        lines.append("")
    if page["replies"]:
        lines += [f"## Replies ({len(page['replies'])})", ""]
        for r in page["replies"]:
            who = r["author"]["display_name"] if r["author"] else "Unknown"
            lines.append(
                f"- {md.escape_inline(who)}, {r['timestamp']}: {md.autolink(urls.absolute(base, r['url']))}"
            )
        lines.append("")
    if page["citation"]:
        lines += ["## Cite", "", page["citation"]["formats"]["markdown"]]
    return "\n".join(lines).rstrip() + "\n"


@router.get("/m/{message_id}.json", summary="A message with context, replies, thread, revisions and citations",
            tags=["pages"])  # fmt: skip
def message_json(
    conn: ConnDep, settings: SettingsDep, message_id: str, v: int | None = VERSION_QUERY
) -> JSONResponse:
    """The same data as the permalink page."""
    return pages.json(build_message_page(conn, settings, parse_id(message_id, "message"), v))


@router.get(
    "/m/{message_id}.md", summary="A message as Markdown", tags=["pages"], response_class=PlainTextResponse
)
def message_md(
    conn: ConnDep, settings: SettingsDep, message_id: str, v: int | None = VERSION_QUERY
) -> Response:
    """The permalink as Markdown (for people and language models)."""
    page = build_message_page(conn, settings, parse_id(message_id, "message"), v)
    return pages.markdown(build_message_markdown(settings, page))


@router.get("/m/{message_id}/cite.{ext}", summary="A citation file: bib (BibTeX), json (CSL-JSON) or ris (RIS)",
            tags=["citations"], response_class=PlainTextResponse)  # fmt: skip
def message_cite(
    conn: ConnDep, settings: SettingsDep, message_id: str, ext: str, v: int | None = VERSION_QUERY
) -> Response:
    """One citation format; a tombstone answers 410 (its content can't be cited)."""
    mid = parse_id(message_id, "message")
    if ext not in cite.FORMATS:
        raise PageError(404, f"No citation format {ext!r}", "Use cite.bib, cite.json or cite.ris.")
    page = build_message_page(conn, settings, mid, v)
    if page["citation"] is None:
        raise PageError(410, f"Message {mid} can't be cited", page["tombstone"] or "")
    c = build_citation(settings, page)
    body = cite.build(c, cite.EXTENSION_STYLES[ext])
    return Response(
        body,
        media_type=cite.FORMATS[ext],
        headers={"Content-Disposition": f'inline; filename="{c.key}.{ext}"'},
    )


@router.get("/m/{message_id}", include_in_schema=False)
def message_html(
    request: Request, conn: ConnDep, settings: SettingsDep, message_id: str, v: int | None = None
) -> HTMLResponse:
    """The permalink page."""
    mid = parse_id(message_id, "message")
    page = build_message_page(conn, settings, mid, v)
    canonical = urls.message_url(mid, v=v)
    return pages.html(request, "message.html", page, canonical=canonical)
