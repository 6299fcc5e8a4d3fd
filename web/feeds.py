"""Atom feeds (RFC 4287): a feed from entries and a base URL, and the HTTP caching every feed answers with.

`render_atom(feed, base_url)` is the only Atom writer: the viewer's feed routes and the static site call it
with the same entries. Chat content is hostile input: every text goes through ElementTree (which escapes
`<`, `&` and quotes) after characters XML 1.0 forbids are dropped, and entry HTML is the sanitized HTML the
pages render, with site paths made absolute under the base URL.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from fastapi import Request
from fastapi.responses import Response

ATOM_NS = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"
FEED_SIZE = 50  # entries per feed, newest first
# A takedown must leave every feed within minutes: caches may keep a feed this long.
CACHE_CONTROL = "public, max-age=300, must-revalidate"
# Characters XML 1.0 does not allow (C0 controls but tab/newline/CR, C1 controls, non-characters).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]")
_SITE_PATH = re.compile(r'(\b(?:href|src)=")(/(?!/))')


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One entry: `id` and `link` are site paths or absolute URLs; times are ISO-8601 UTC."""

    id: str
    title: str
    link: str
    updated: str
    author: str
    content_html: str
    published: str | None = None


@dataclass(frozen=True, slots=True)
class Feed:
    """A feed: `link` is the page it follows, `self_link` the feed's own path; entries newest first."""

    id: str
    title: str
    link: str
    self_link: str
    updated: str
    subtitle: str | None = None
    entries: Sequence[FeedEntry] = field(default_factory=tuple)


def xml_text(value: object) -> str:
    """Text safe to put in XML 1.0: forbidden characters and lone surrogates removed."""
    text = str(value if value is not None else "")
    text = text.encode("utf-8", "replace").decode("utf-8")
    return _NOT_XML.sub("", text)


def absolute(base_url: str, path_or_url: str) -> str:
    """A site path made absolute under the base URL (absolute URLs pass through)."""
    if path_or_url.startswith("/") and not path_or_url.startswith("//"):
        return base_url.rstrip("/") + path_or_url
    return path_or_url


def absolute_html(base_url: str, html: str) -> str:
    """Sanitized page HTML with its site-relative href/src made absolute (a feed reader has no page URL)."""
    return _SITE_PATH.sub(lambda m: m.group(1) + base_url.rstrip("/") + m.group(2), html)


def render_atom(feed: Feed, base_url: str) -> bytes:
    """The feed as an Atom 1.0 document (UTF-8 bytes)."""
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", {k: xml_text(v) for k, v in attrs.items()})
        if text is not None:
            el.text = xml_text(text)
        return el

    root = ET.Element(f"{{{ATOM_NS}}}feed")
    root.set("{http://www.w3.org/XML/1998/namespace}base", xml_text(base_url.rstrip("/") + "/"))
    sub(root, "id", absolute(base_url, feed.id))
    sub(root, "title", feed.title)
    if feed.subtitle:
        sub(root, "subtitle", feed.subtitle)
    sub(root, "updated", feed.updated)
    sub(root, "link", rel="alternate", type="text/html", href=absolute(base_url, feed.link))
    sub(root, "link", rel="self", type="application/atom+xml", href=absolute(base_url, feed.self_link))
    sub(root, "generator", "Hallway")
    for e in feed.entries:
        entry = sub(root, "entry")
        sub(entry, "id", absolute(base_url, e.id))
        sub(entry, "title", e.title)
        sub(entry, "updated", e.updated)
        if e.published:
            sub(entry, "published", e.published)
        sub(entry, "link", rel="alternate", type="text/html", href=absolute(base_url, e.link))
        who = sub(entry, "author")
        sub(who, "name", e.author or "Unknown author")
        sub(entry, "content", absolute_html(base_url, e.content_html), type="html")
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


def etag(body: bytes) -> str:
    """A strong ETag of a feed body."""
    return '"' + hashlib.sha256(body).hexdigest()[:24] + '"'


def http_date(ms: int) -> str:
    """Unix ms as an HTTP date (whole seconds)."""
    return format_datetime(datetime.fromtimestamp(ms // 1000, tz=UTC), usegmt=True)


def _not_modified(request: Request, tag: str, modified_ms: int) -> bool:
    """RFC 9110: If-None-Match decides when present; otherwise If-Modified-Since."""
    match = request.headers.get("if-none-match")
    if match is not None:
        tags = {t.strip().removeprefix("W/") for t in match.split(",")}
        return "*" in tags or tag in tags
    since = request.headers.get("if-modified-since")
    if not since:
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError, IndexError):
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return modified_ms // 1000 <= int(when.timestamp())


def feed_response(request: Request, body: bytes, modified_ms: int) -> Response:
    """The feed with ETag, Last-Modified and Cache-Control, or a bodiless 304 when the client has it."""
    tag = etag(body)
    headers = {"ETag": tag, "Last-Modified": http_date(modified_ms), "Cache-Control": CACHE_CONTROL}
    if _not_modified(request, tag, modified_ms):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=MEDIA_TYPE, headers=headers)
