"""Rendering shared by every route: the Jinja environment, HTML/JSON/Markdown responses, timeline grouping."""

from __future__ import annotations

import functools
import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import nh3
from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from web import urls
from web.markdown import UserRef, render_content, render_inline
from web.settings import Settings

TEMPLATES_DIR = Path(__file__).parent / "templates"
GROUP_GAP_MS = 7 * 60 * 1000
THEME_COOKIE = "theme"
THEMES = ("dark", "light")
CONTENT_CACHE = 32_768  # rendered texts kept (a month of a large archive: its pages reuse them)
CONVERSATION_HUES = 12  # .conv-h0 … .conv-h11 in app.css
SYSTEM_LABELS = {
    "ThreadCreated": "started a thread",
    "ChannelPinnedMessage": "pinned a message",
    "GuildMemberJoin": "joined the server",
    "RecipientAdd": "added someone to the group",
    "RecipientRemove": "left the group",
    "ChannelNameChange": "changed the channel name",
    "ChannelIconChange": "changed the channel icon",
    "Call": "started a call",
    "8": "boosted the server",
    "12": "followed a channel into this one",
    "21": "started this thread",
}


class PageEnvironment(jinja2.Environment):
    """Jinja with `m.field` read as a key first when `m` is a dict (what every page builder gives).

    Jinja's own order is an attribute, then an item: on a dict that raises and catches an AttributeError for
    every field a template reads (1.4 µs a read, against 0.24 µs for the key). A name that isn't a key still
    falls back to Jinja's lookup, so what a template sees differs only for a key named like a dict method
    (`m.items`), where it now gets the key.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


def build_templates(settings: Settings) -> Jinja2Templates:
    """A Jinja environment with the URL builders and display helpers as globals and filters."""
    templates = Jinja2Templates(env=PageEnvironment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR))))
    env = templates.env
    env.autoescape = True
    env.trim_blocks = True
    env.lstrip_blocks = True
    env.globals.update(
        urls=urls,
        settings=settings,
        group_messages=group_messages,
        system_label=system_label,
        bars=bars,
        conversation_hue=conversation_hue,
    )
    env.filters.update(
        content=message_html,
        inline=lambda text: render_inline(text, user_url=None, emoji_url=no_emoji_image),
        when=when,
        day_label=day_label,
        size=human_size,
        snippet=snippet_html,
    )
    return templates


def message_html(message: dict[str, Any], content: str | None = None) -> Markup:
    """A message's content as sanitized HTML, with @mentions of known users linked to their pages."""
    text = message.get("content") if content is None else content
    if not text:
        return Markup("")
    return _content_html(text, tuple(mention_refs(message).values()))


@functools.lru_cache(maxsize=CONTENT_CACHE)
def _content_html(text: str, mentions: tuple[UserRef, ...]) -> Markup:
    """The HTML of one text with its mentions: a pure function of the two, so the same message shown on
    several pages (its timeline, its permalink and its neighbours', a person's page, a conversation, a feed)
    is rendered once while it stays among the most recently shown. A changed text or mention is another key."""
    return render_content(
        text, users={u.id: u for u in mentions}, user_url=urls.user_url, emoji_url=no_emoji_image
    )


def no_emoji_image(emoji_id: str, animated: bool) -> None:
    """Custom emoji in text show as `:name:`: their image would come from Discord's CDN (a third-party request
    the avatar policy avoids too), and the archive keeps no local copy of inline emoji."""
    return None


def mention_refs(message: dict[str, Any]) -> dict[str, UserRef]:
    """The users a message mentions, for resolving `<@id>` and `@Name`."""
    return {m["id"]: UserRef(m["id"], m["name"], m.get("nickname")) for m in message.get("mentions", [])}


def snippet_html(snippet: str | None) -> Markup:
    """A search snippet: already escaped by the index; sanitized again so only its <mark> highlights survive."""
    return Markup(nh3.clean(snippet or "", tags={"mark", "b"}, attributes={}))


def when(iso: str | None, style: str = "full") -> str:
    """An ISO UTC timestamp for people: `full` 2024-03-05 14:22 UTC, `time` 14:22, `date` 2024-03-05."""
    if not iso:
        return ""
    dt = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC)
    if style == "time":
        return dt.strftime("%H:%M")
    if style == "date":
        return dt.strftime("%Y-%m-%d")
    return dt.strftime("%Y-%m-%d %H:%M UTC")


def day_label(iso: str) -> str:
    """A day separator label, e.g. Tuesday, 5 March 2024."""
    dt = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return f"{dt:%A}, {dt.day} {dt:%B %Y}"


def human_size(size: int | None) -> str:
    """A file size for people (1.2 MB)."""
    if size is None:
        return "unknown size"
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            if unit == "bytes":
                return "1 byte" if size == 1 else f"{size} bytes"
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} bytes"


def bars(counts: list[dict[str, Any]], height: int = 24, key: str = "month") -> list[dict[str, Any]]:
    """Bar heights (0..height) for a small chart of `{key: label, "count": n}` items."""
    items = [(c[key], c["count"]) for c in counts]
    top = max((n for _, n in items), default=0) or 1
    return [{"label": k, "count": n, "h": max(1, round(n * height / top)) if n else 0} for k, n in items]


def conversation_hue(conversation_id: str | int) -> int:
    """One of CONVERSATION_HUES colour classes for a conversation: stable across pages, spread by a hash
    (neighbouring snowflakes would otherwise get neighbouring colours)."""
    digest = hashlib.blake2b(str(conversation_id).encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % CONVERSATION_HUES


def system_label(message: dict[str, Any]) -> str | None:
    """What a system message says (e.g. "pinned a message"), or None for ordinary messages."""
    if message["type"] in ("Default", "Reply", "0", "19", "20"):
        return None
    return SYSTEM_LABELS.get(message["type"])


def group_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages as days, and within each day as runs by one author (Discord's grouping)."""
    days: list[dict[str, Any]] = []
    previous: dict[str, Any] | None = None
    for m in messages:
        label = m["timestamp"][:10]
        if not days or days[-1]["date"] != label:
            days.append({"date": label, "label": day_label(m["timestamp"]), "groups": []})
            previous = None
        author_id = (m.get("author") or {}).get("id")
        starts = (
            previous is None
            or (previous.get("author") or {}).get("id") != author_id
            or m.get("reply_to")
            or system_label(m)
            or m.get("tombstone")
            or previous.get("tombstone")
            or _ms(m["timestamp"]) - _ms(previous["timestamp"]) > GROUP_GAP_MS
        )
        if starts:
            days[-1]["groups"].append({"author": m.get("author"), "messages": [m]})
        else:
            days[-1]["groups"][-1]["messages"].append(m)
        previous = m
    return days


def _ms(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000


def html(
    request: Request, template: str, page: dict[str, Any], *, status: int = 200, **extra: Any
) -> HTMLResponse:
    """Render a page's data object with its template."""
    templates: Jinja2Templates = request.app.state.templates
    theme = request.cookies.get(THEME_COOKIE)
    context = {"page": page, "theme": theme if theme in THEMES else "dark", **extra}
    return templates.TemplateResponse(request, template, context, status_code=status)


def json(page: dict[str, Any], *, status: int = 200) -> JSONResponse:
    """The `.json` twin: the same data object the HTML page renders."""
    return JSONResponse(page, status_code=status)


def markdown(text: str, *, status: int = 200) -> PlainTextResponse:
    """A `.md` twin."""
    return PlainTextResponse(text, status_code=status, media_type="text/markdown; charset=utf-8")
