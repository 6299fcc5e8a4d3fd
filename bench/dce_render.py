"""Render DCE JSON messages as DCE's other formats: HTML (2.4x minified or <= 2.33 markup, dark/light), CSV, TXT.

Follows the markup and layouts in ../shared/docs/dce-format.md (section 4) closely enough for the
readers in archive/sources/ to be tested and benchmarked on the same messages as JSON. Content is
escaped, mentions become mention spans, code fences become pre blocks, URLs links, and Unicode
reaction emoji images with their character as alt text, as DCE does.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

_BARE = re.compile(r"[^\s\"'=<>`]+")
_FENCE = re.compile(r"```(\w*)\n(.*?)\n?```", re.S)
_URL = re.compile(r"https?://[^\s<]+")
RULE = "=" * 62


def _attr(name: str, value: str, minified: bool) -> str:
    if minified and _BARE.fullmatch(value):
        return f"{name}={value}"
    return f'{name}="{html.escape(value, quote=True)}"'


def _date(ms: int) -> str:
    """en-US "g" format, as DCE 2.41+ writes by default: 5/16/2023 8:50 PM."""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    hour = dt.hour % 12 or 12
    return f"{dt.month}/{dt.day}/{dt.year} {hour}:{dt.minute:02d} {'AM' if dt.hour < 12 else 'PM'}"


def _ms(message: dict[str, Any]) -> int:
    return (int(message["id"]) >> 22) + 1420070400000


def full_name(user: dict[str, Any]) -> str:
    disc = user.get("discriminator") or "0000"
    return user["name"] if disc == "0000" else f"{user['name']}#{disc}"


def _content_html(message: dict[str, Any], minified: bool, modern: bool) -> str:
    text = message.get("content") or ""
    mentions = {f"@{m.get('nickname') or m['name']}": m for m in message.get("mentions") or ()}
    out: list[str] = []
    pos = 0
    pre = "chatlog__markdown-pre" if modern else "pre"
    for fence in _FENCE.finditer(text):
        out.append(_inline(text[pos : fence.start()], mentions, minified, modern))
        cls = (
            f"{pre} {pre}--multiline language-{fence.group(1)}"
            if fence.group(1)
            else f"{pre} {pre}--multiline"
        )
        out.append(f"<div {_attr('class', cls, minified)}>{html.escape(fence.group(2), quote=False)}</div>")
        pos = fence.end()
    out.append(_inline(text[pos:], mentions, minified, modern))
    return "".join(out)


def _inline(text: str, mentions: dict[str, dict[str, Any]], minified: bool, modern: bool) -> str:
    escaped = html.escape(text, quote=False)
    escaped = _URL.sub(
        lambda m: f"<a {_attr('href', html.unescape(m.group(0)), minified)}>{m.group(0)}</a>", escaped
    )
    cls = "chatlog__markdown-mention" if modern else "mention"
    for label, user in mentions.items():
        span = f"<span {_attr('class', cls, minified)} {_attr('title', full_name(user), minified)}>{html.escape(label)}</span>"
        escaped = escaped.replace(html.escape(label, quote=False), span, 1)
    return escaped


def _extras(message: dict[str, Any], minified: bool) -> str:
    a = lambda n, v: _attr(n, v, minified)  # noqa: E731
    out = []
    for att in message.get("attachments") or ():
        url = att["url"]
        out.append(
            f"<div {a('class', 'chatlog__attachment')}><a {a('href', url)}>{html.escape(att.get('fileName') or '')}</a></div>"
        )
    for e in message.get("embeds") or ():
        title = (
            f"<div {a('class', 'chatlog__embed-title')}>{html.escape(e.get('title') or '')}</div>"
            if e.get("title")
            else ""
        )
        desc = (
            f"<div {a('class', 'chatlog__embed-description')}>{html.escape(e.get('description') or '')}</div>"
        )
        out.append(f"<div {a('class', 'chatlog__embed')}>{title}{desc}</div>")
    for s in message.get("stickers") or ():
        out.append(
            f"<div {a('class', 'chatlog__sticker')} {a('title', s['name'])}><img {a('src', s['sourceUrl'])}></div>"
        )
    if message.get("reactions"):
        out.append(f"<div {a('class', 'chatlog__reactions')}>")
        for r in message["reactions"]:
            emoji = r["emoji"]
            out.append(
                f"<div {a('class', 'chatlog__reaction')} {a('title', emoji.get('code') or emoji['name'])}>"
                f"<img {a('class', 'chatlog__emoji chatlog__emoji--small')} {a('alt', emoji['name'])} "
                f"{a('src', emoji.get('imageUrl') or '')} loading=lazy><span {a('class', 'chatlog__reaction-count')}>{r['count']}</span></div>"
            )
        out.append("</div>")
    return "".join(out)


def _modern_message(message: dict[str, Any], first: bool, minified: bool) -> str:
    a = lambda n, v: _attr(n, v, minified)  # noqa: E731
    mid = message["id"]
    author = message["author"]
    cls = "chatlog__message-container" + (
        " chatlog__message-container--pinned" if message.get("isPinned") else ""
    )
    parts = [
        f"<div {a('id', 'chatlog__message-container-' + mid)} {a('class', cls)} {a('data-message-id', mid)}><div {a('class', 'chatlog__message')}>"
    ]
    ref = message.get("reference")
    if message.get("type") == "Reply" and ref:
        parts.append(
            f"<div {a('class', 'chatlog__reply')}><div {a('class', 'chatlog__reply-content')}>"
            f"<span {a('class', 'chatlog__reply-link')} onclick=\"scrollToMessage(event, '{ref['messageId']}')\">…</span></div></div>"
        )
    if first:
        tag = f"<span {a('class', 'chatlog__author-tag')}>BOT</span>" if author.get("isBot") else ""
        parts.append(
            f"<div {a('class', 'chatlog__message-aside')}><img {a('class', 'chatlog__avatar')} {a('src', author.get('avatarUrl') or '')} alt=Avatar loading=lazy></div>"
            f"<div {a('class', 'chatlog__message-primary')}><div {a('class', 'chatlog__header')}>"
            f"<span {a('class', 'chatlog__author')} {a('title', full_name(author))} {a('data-user-id', author['id'])}>{html.escape(author.get('nickname') or author['name'])}</span>{tag}"
            f"<span {a('class', 'chatlog__timestamp')} {a('title', _date(_ms(message)))}><a {a('href', '#chatlog__message-container-' + mid)}>{_date(_ms(message))}</a></span></div>"
        )
    else:
        parts.append(
            f"<div {a('class', 'chatlog__message-aside')}><div {a('class', 'chatlog__short-timestamp')}>{_date(_ms(message))[-8:]}</div></div>"
            f"<div {a('class', 'chatlog__message-primary')}>"
        )
    edited = (
        f"<span {a('class', 'chatlog__edited-timestamp')} title=edited>(edited)</span>"
        if message.get("timestampEdited")
        else ""
    )
    if message.get("content"):
        parts.append(
            f"<div {a('class', 'chatlog__content chatlog__markdown')}><span {a('class', 'chatlog__markdown-preserve')}>"
            f"{_content_html(message, minified, True)}</span>{edited}</div>"
        )
    parts.append(_extras(message, minified) + "</div></div></div>")
    return "".join(parts)


def _old_group(group: list[dict[str, Any]]) -> str:
    author = group[0]["author"]
    parts = [
        '<div class="chatlog__message-group"><div class="chatlog__author-avatar-container">'
        f'<img class="chatlog__author-avatar" src="{html.escape(author.get("avatarUrl") or "")}" /></div>'
        f'<div class="chatlog__messages"><span class="chatlog__author-name" title="{html.escape(full_name(author))}"'
        f' data-user-id="{author["id"]}">{html.escape(author.get("nickname") or author["name"])}</span>'
        f'<span class="chatlog__timestamp">{_date(_ms(group[0]))}</span>'
    ]
    for m in group:
        pinned = " chatlog__message--pinned" if m.get("isPinned") else ""
        parts.append(
            f'<div class="chatlog__message{pinned}" data-message-id="{m["id"]}" id="message-{m["id"]}">'
            f'<div class="chatlog__content"><span class="markdown">{_content_html(m, False, False)}</span></div>'
            f"{_extras(m, False)}</div>"
        )
    parts.append("</div></div>")
    return "\n".join(parts)


def _groups(messages: Iterable[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    """DCE's grouping: consecutive messages of one author within 7 minutes; a reply starts a group."""
    group: list[dict[str, Any]] = []
    for m in messages:
        if group and (
            m["author"]["id"] != group[-1]["author"]["id"]
            or _ms(m) - _ms(group[-1]) > 7 * 60_000
            or m.get("type") == "Reply"
        ):
            yield group
            group = []
        group.append(m)
    if group:
        yield group


def write_html(
    out: TextIO,
    header: dict[str, Any],
    messages: Iterable[dict[str, Any]],
    *,
    theme: str = "Dark",
    era: str = "2.4x",
) -> int:
    """Write an HTML export; return the number of messages."""
    guild, channel = header["guild"], header["channel"]
    modern = era != "2.33"
    minified = modern
    name = f"{channel.get('category')} / {channel['name']}" if channel.get("category") else channel["name"]
    out.write(
        f"<!DOCTYPE html><html lang=en><head><title>{html.escape(guild['name'])} - {html.escape(channel['name'])}</title>"
    )
    out.write(
        f"<meta charset=utf-8><style>/* {theme} theme */ .chatlog__message-group{{margin:0}}</style></head><body>"
    )
    if modern:
        out.write(
            f'<div class=preamble><div class=preamble__guild-icon-container><img class=preamble__guild-icon src={guild.get("iconUrl") or ""} alt="Guild icon"></div>'
            f"<div class=preamble__entries-container><div class=preamble__entry>{html.escape(guild['name'])}</div>"
            f"<div class=preamble__entry>{html.escape(name)}</div></div></div><div class=chatlog>"
        )
    else:
        out.write(
            f'<div class="info"><div class="info__guild-name">{html.escape(guild["name"])}</div>'
            f'<div class="info__channel-name">{html.escape(channel["name"])}</div></div>\n<div class="chatlog">\n'
        )
    n = 0
    for group in _groups(messages):
        n += len(group)
        if modern:
            body = "".join(_modern_message(m, i == 0, minified) for i, m in enumerate(group))
            out.write(f"<div class=chatlog__message-group>{body}</div>")
        else:
            out.write(_old_group(group) + "\n")
    if modern:
        out.write(
            f"</div><div class=postamble><div class=postamble__entry>Exported {n:,} message(s)</div></div></body></html>"
        )
    else:
        out.write("</div></body></html>")
    return n


def write_csv(out: TextIO, messages: Iterable[dict[str, Any]], *, legacy: bool = False) -> int:
    """Write a CSV export (2.16+, or the 2.12-2.15 semicolon dialect); return the number of messages."""
    sep = ";" if legacy else ","
    out.write(
        sep.join(["AuthorID", "Author", "Date", "Content", "Attachments", "Reactions"])
        + (sep if legacy else "")
        + "\n"
    )
    n = 0
    for m in messages:
        buf = io.StringIO()
        reactions = ",".join(f"{r['emoji']['name']} ({r['count']})" for r in m.get("reactions") or ())
        row = [
            m["author"]["id"],
            full_name(m["author"]),
            _date(_ms(m)),
            m.get("content") or "",
            ",".join(a["url"] for a in m.get("attachments") or ()),
            reactions,
        ]
        csv.writer(buf, delimiter=sep, quoting=csv.QUOTE_ALL, lineterminator="").writerow(row)
        out.write(buf.getvalue() + (sep if legacy else "") + "\n")
        n += 1
    return n


def write_txt(out: TextIO, header: dict[str, Any], messages: Iterable[dict[str, Any]]) -> int:
    """Write a plain-text export (2.20+ layout); return the number of messages."""
    channel = header["channel"]
    name = f"{channel.get('category')} / {channel['name']}" if channel.get("category") else channel["name"]
    out.write(f"{RULE}\nGuild: {header['guild']['name']}\nChannel: {name}\n{RULE}\n\n")
    n = 0
    for m in messages:
        pinned = " (pinned)" if m.get("isPinned") else ""
        out.write(f"[{_date(_ms(m))}] {full_name(m['author'])}{pinned}\n")
        if m.get("content"):
            out.write(m["content"] + "\n")
        out.write("\n")
        if m.get("attachments"):
            out.write("{Attachments}\n" + "".join(a["url"] + "\n" for a in m["attachments"]) + "\n")
        if m.get("reactions"):
            text = " ".join(
                r["emoji"]["name"] + (f" ({r['count']})" if r["count"] > 1 else "") for r in m["reactions"]
            )
            out.write("{Reactions}\n" + text + "\n\n")
        out.write("\n")
        n += 1
    out.write(f"{RULE}\nExported {n:,} message(s)\n{RULE}\n")
    return n


def write_all(base: Path, header: dict[str, Any], messages: list[dict[str, Any]]) -> dict[str, Path]:
    """Write the same messages as every format next to `base` (no suffix); return format -> path."""
    paths = {
        "html": base.with_name(base.name + ".html"),
        "html-light": base.with_name(base.name + " (light).html"),
        "html-2.33": base.with_name(base.name + " (2.33).html"),
        "csv": base.with_name(base.name + ".csv"),
        "txt": base.with_name(base.name + ".txt"),
    }
    with paths["html"].open("w", encoding="utf-8") as fh:
        write_html(fh, header, messages)
    with paths["html-light"].open("w", encoding="utf-8") as fh:
        write_html(fh, header, messages, theme="Light")
    with paths["html-2.33"].open("w", encoding="utf-8") as fh:
        write_html(fh, header, messages, era="2.33")
    with paths["csv"].open("w", encoding="utf-8", newline="") as fh:
        write_csv(fh, messages)
    with paths["txt"].open("w", encoding="utf-8") as fh:
        write_txt(fh, header, messages)
    return paths
