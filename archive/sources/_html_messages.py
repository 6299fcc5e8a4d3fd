"""One parsed stretch of a DCE HTML export (message groups) -> messages shaped like DCE JSON messages.

Both markup families are read: <= 2.33 (`chatlog__messages`, `chatlog__author-name`, `.markdown`,
`chatlog__reference*` replies) and 2.34+ (`chatlog__message-container`, `chatlog__header`,
`chatlog__markdown-preserve`, `chatlog__reply*` since 2.38). Times come from the snowflake: the
visible dates are locale strings.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archive.normalize import parse_snowflake
from archive.sources._html_text import html_to_markdown, plain
from archive.sources.base import SourceAttachment, SourceMessage, SourceReaction, SourceUser

_SCROLL_RE = re.compile(r"scrollToMessage\(\s*event\s*,\s*'(\d{1,20})'")
_RGB_RE = re.compile(r"rgb\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)")
_EMOJI_ID_RE = re.compile(r"/emojis/(\d{1,20})\.(png|gif|webp)")
# System notification text -> the message type DCE's JSON would carry (its fallback texts, any era).
_SYSTEM_KINDS = (
    ("pinned", "ChannelPinnedMessage"),
    ("started a thread", "ThreadCreated"),
    ("joined the server", "GuildMemberJoin"),
    ("started a call", "Call"),
    ("changed the channel name", "ChannelNameChange"),
    ("changed the channel icon", "ChannelIconChange"),
    ("added", "RecipientAdd"),
    ("left the group", "RecipientRemove"),
    ("removed", "RecipientRemove"),
)

Author = SourceUser


def _color(style: str | None) -> str | None:
    m = _RGB_RE.search(style or "")
    if m is None:
        return None
    return "#" + "".join(f"{min(int(x), 255):02X}" for x in m.groups())


def _author(node: LexborNode | None, bot: bool, avatar: str | None) -> Author | None:
    """The author of an author span (title = full name, text = display name, data-user-id)."""
    if node is None:
        return None
    uid = parse_snowflake(node.attributes.get("data-user-id"))
    if uid is None:
        return None
    full = node.attributes.get("title") or plain(node)
    name, _, disc = full.rpartition("#") if re.search(r"#\d{4}$", full) else (full, "", "0000")
    return SourceUser(
        id=uid,
        name=name,
        nickname=plain(node) or name,
        discriminator=disc,
        avatar_url=avatar,
        color=_color(node.attributes.get("style")),
        is_bot=bot,
    )


def group_author(group: LexborNode, carry: Author | None) -> Author | None:
    """The author a message group shows in its header, or the one carried from a split group."""
    node = group.css_first(".chatlog__author-name, .chatlog__author")
    if node is None:
        return carry
    bot = group.css_first(".chatlog__bot-tag, .chatlog__author-tag") is not None
    avatar = group.css_first("img.chatlog__author-avatar, img.chatlog__avatar")
    return _author(node, bot, avatar.attributes.get("src") if avatar else None)


def _file_name(url: str) -> str:
    tail = url.split("?", 1)[0].replace("\\", "/").rsplit("/", 1)[-1]
    return unquote(tail)


# The parts of a message, found in one pass (one selector query instead of one per part).
_PART_CLASSES = (
    "chatlog__system-notification-content",
    "chatlog__content",
    "chatlog__edited-timestamp",
    "chatlog__sticker",
    "chatlog__forwarded",
    "chatlog__attachment",
    "chatlog__reaction",
    "chatlog__embed",
    "chatlog__reply",
    "chatlog__reference",
)
_PARTS_SELECTOR = ", ".join("." + c for c in _PART_CLASSES)
_PART_SET = frozenset(_PART_CLASSES)
Parts = dict[str, list[LexborNode]]


def _parts(msg: LexborNode) -> Parts:
    found: Parts = {}
    for node in msg.css(_PARTS_SELECTOR):
        for cls in (node.attributes.get("class") or "").split():
            if cls in _PART_SET:
                found.setdefault(cls, []).append(node)
                break
    return found


def _first(parts: Parts, *classes: str) -> LexborNode | None:
    for cls in classes:
        if cls in parts:
            return parts[cls][0]
    return None


def _attachments(nodes: list[LexborNode]) -> list[SourceAttachment]:
    out: list[SourceAttachment] = []
    for att in nodes:
        link = att.css_first("a[href]")
        media = att.css_first("img[src], video[src], audio[src], source[src]")
        raw = (link.attributes.get("href") if link else None) or (
            media.attributes.get("src") if media else None
        )
        if not raw:
            continue
        # --media paths are URL-encoded in HTML (not in JSON): store them as JSON would.
        url = raw if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", raw) else unquote(raw)
        out.append(SourceAttachment(url=url, file_name=_file_name(url)))
    return out


def _embed(node: LexborNode) -> dict[str, Any]:
    def text(sel: str) -> str:
        return html_to_markdown(node.css_first(sel))

    def href(sel: str) -> str | None:
        found = node.css_first(sel)
        return found.attributes.get("href") if found is not None else None

    def src(sel: str) -> str | None:
        found = node.css_first(sel)
        return (found.attributes.get("src") or found.attributes.get("href")) if found is not None else None

    embed: dict[str, Any] = {
        "title": plain(node.css_first(".chatlog__embed-title")),  # its link is the embed's url
        "url": href(".chatlog__embed-title a, a.chatlog__embed-title-link"),
        "timestamp": None,
        "description": text(".chatlog__embed-description"),
    }
    pill = node.css_first(".chatlog__embed-color-pill")
    color = _color(pill.attributes.get("style")) if pill is not None else None
    if color:
        embed["color"] = color
    author = node.css_first(".chatlog__embed-author-name, .chatlog__embed-author")
    if author is not None and plain(author):
        embed["author"] = {
            "name": plain(author),
            "url": href(".chatlog__embed-author-link, .chatlog__embed-author-name-link"),
        }
    thumb = src("img.chatlog__embed-thumbnail, .chatlog__embed-thumbnail img")
    if thumb:
        embed["thumbnail"] = {"url": thumb}
    image = src("img.chatlog__embed-image, .chatlog__embed-image img, .chatlog__embed-image-container img")
    if image:
        embed["image"] = {"url": image}
    footer = node.css_first(".chatlog__embed-footer-text")
    if footer is not None:
        embed["footer"] = {"text": plain(footer)}
    embed["fields"] = [
        {
            "name": html_to_markdown(f.css_first(".chatlog__embed-field-name")),
            "value": html_to_markdown(f.css_first(".chatlog__embed-field-value")),
            "isInline": "inline" in (f.attributes.get("class") or ""),
        }
        for f in node.css(".chatlog__embed-field")
    ]
    return embed


def _reactions(nodes: list[LexborNode]) -> list[SourceReaction]:
    out: list[SourceReaction] = []
    for r in nodes:
        img = r.css_first("img")
        name = (img.attributes.get("alt") or "") if img is not None else plain(r)
        src = img.attributes.get("src") if img is not None else None
        m = _EMOJI_ID_RE.search(src or "")
        count_node = r.css_first(".chatlog__reaction-count")
        count_text = plain(count_node) if count_node is not None else "1"
        out.append(
            SourceReaction(
                name=name.strip(":") if m else name,
                count=int(count_text) if count_text.isdigit() else 1,
                emoji_id=int(m.group(1)) if m else None,
                image_url=src,
                animated=bool(m and m.group(2) == "gif"),
            )
        )
    return out


def _stickers(nodes: list[LexborNode]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for s in nodes:
        media = s.css_first("img[src], [data-source]")
        url = (media.attributes.get("src") or media.attributes.get("data-source")) if media else None
        out.append({"id": None, "name": s.attributes.get("title") or "", "format": None, "sourceUrl": url})
    return out


def _system_kind(text: str) -> str:
    low = text.lower()
    for phrase, kind in _SYSTEM_KINDS:
        if phrase in low:
            return kind
    return "Default"


def _reply_to(node: LexborNode | None) -> int | None:
    if node is None:
        return None
    link = node.css_first(".chatlog__reply-link, .chatlog__reference-link")
    onclick = (link.attributes.get("onclick") if link is not None else None) or ""
    m = _SCROLL_RE.search(onclick)
    return int(m.group(1)) if m else None


def _message(
    msg: LexborNode, parts: Parts, mid: int, author: Author | None, reply: int | None
) -> SourceMessage:
    classes = msg.attributes.get("class") or ""
    extra: dict[str, Any] = {}
    system = _first(parts, "chatlog__system-notification-content")
    if system is not None:
        text = html_to_markdown(system)
        kind = _system_kind(text)
        author = _author(msg.css_first(".chatlog__system-notification-author"), False, None)
    else:
        content = _first(parts, "chatlog__content")
        body = None
        if content is not None:
            body = content.css_first(".chatlog__markdown-preserve, .markdown") or content
        text, kind = html_to_markdown(body), "Default"
    if "chatlog__edited-timestamp" in parts:
        extra["editedInExport"] = True  # its time is only a locale string
    stickers = _stickers(parts.get("chatlog__sticker", []))
    if stickers:
        extra["stickers"] = stickers
    forwarded = _first(parts, "chatlog__forwarded")
    if forwarded is not None:
        extra["forwardedMessage"] = {"content": html_to_markdown(forwarded)}
    return SourceMessage(
        id=mid,
        content=text,
        author=author,
        type=kind,
        pinned="pinned" in classes,
        reply_to=reply,
        attachments=_attachments(parts.get("chatlog__attachment", [])),
        reactions=_reactions(parts.get("chatlog__reaction", [])),
        embeds=[_embed(e) for e in parts.get("chatlog__embed", [])],
        extra=extra,
    )


def parse_groups(html: str, carry: Author | None) -> tuple[list[SourceMessage | str], Author | None]:
    """Messages of one stretch of groups, in order (a bad id as its text); also the last author seen."""
    tree = LexborHTMLParser(html)
    root = tree.body or tree.root
    out: list[SourceMessage | str] = []
    if root is None:
        return out, carry
    groups = root.css(".chatlog__message-group") or [root]
    for group in groups:
        author = group_author(group, carry)
        carry = author
        group_reply = _reply_to(group.css_first(".chatlog__reference"))
        for pos, msg in enumerate(group.css("[data-message-id]")):
            value = msg.attributes.get("data-message-id") or ""
            mid = parse_snowflake(value)
            if mid is None:
                out.append(value)  # the normalizer names the bad id
                continue
            parts = _parts(msg)
            reply = _reply_to(_first(parts, "chatlog__reply", "chatlog__reference"))
            out.append(_message(msg, parts, mid, author, reply if reply is not None or pos else group_reply))
    return out, carry
