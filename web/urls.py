"""Every path the viewer links to is formatted here, and nowhere else."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from urllib.parse import urlencode, urlsplit

STATIC_PREFIX = "/static"


def _query(path: str, **params: object) -> str:
    kept = {k: v for k, v in params.items() if v is not None and v != ""}
    return f"{path}?{urlencode(kept)}" if kept else path


def home_url(fmt: str = "") -> str:
    """The guild directory (`fmt` is "" or ".json")."""
    return "/index.json" if fmt == ".json" else "/"


def message_url(message_id: int | str, *, v: int | None = None, fmt: str = "") -> str:
    """The permalink of a message, optionally pinned to revision `v`; `fmt` is "", ".json" or ".md"."""
    return _query(f"/m/{message_id}{fmt}", v=v)


def message_anchor(message_id: int | str) -> str:
    """The fragment id a message carries on every page."""
    return f"m{message_id}"


def cite_url(message_id: int | str, ext: str, *, v: int | None = None) -> str:
    """A citation file: `ext` is bib, json or ris."""
    return _query(f"/m/{message_id}/cite.{ext}", v=v)


def channel_url(
    channel_id: int | str,
    *,
    before: int | None = None,
    after: int | None = None,
    around: int | None = None,
    date: str | None = None,
    conversation: int | str | None = None,
    fmt: str = "",
) -> str:
    """A channel timeline page, at a cursor or a date, optionally showing one conversation only."""
    path = _query(
        f"/c/{channel_id}{fmt}",
        before=before,
        after=after,
        around=around,
        date=date,
        conversation=conversation,
    )
    return path + (f"#{message_anchor(around)}" if around is not None and not fmt else "")


def thread_url(thread_id: int | str, *, fmt: str = "") -> str:
    """A thread, forum post or reply tree."""
    return f"/t/{thread_id}{fmt}"


def conversation_url(
    conversation_id: int | str,
    *,
    focus: int | str | None = None,
    min_confidence: float | None = None,
    fmt: str = "",
) -> str:
    """A conversation top to bottom, optionally scrolled to message `focus` and hiding uncertain members."""
    if focus is None and not min_confidence:  # the plain link, formatted for every item of a digest
        return f"/conv/{conversation_id}{fmt}"
    path = _query(f"/conv/{conversation_id}{fmt}", min_confidence=min_confidence or None)
    return path + (f"#{message_anchor(focus)}" if focus is not None and not fmt else "")


def conversation_search_url(conversation_id: int | str) -> str:
    """A search restricted to one conversation (the query language's `in:conversation:ID`)."""
    return search_url(f"in:conversation:{conversation_id}", sort="oldest")


def user_url(
    user_id: int | str, *, before: int | None = None, after: int | None = None, fmt: str = ""
) -> str:
    """A person's messages (older than `before`, and only those newer than `after`)."""
    return _query(f"/u/{user_id}{fmt}", before=before, after=after)


def search_url(q: str = "", *, sort: str | None = None, page: int | None = None, fmt: str = "") -> str:
    """A search results page."""
    sort = None if sort == "relevance" else sort  # the default stays out of URLs
    return _query(f"/search{fmt}", q=q, sort=sort, page=page if page and page > 1 else None)


def digest_url(
    since: date | str, until: date | str | None = None, channels: Sequence[str] = (), *, fmt: str = ""
) -> str:
    """A digest of a window of days (both inclusive), optionally for some channels; `fmt` "", ".json", ".md"."""
    params: list[tuple[str, str]] = [("since", str(since))]
    if until is not None:
        params.append(("until", str(until)))
    params += [("in", str(c)) for c in channels]
    return f"/digest{fmt}?{urlencode(params)}"


def digest_feed_url(channels: Sequence[str] = ()) -> str:
    """The weekly digest as an Atom feed, optionally for some channels."""
    params = [("in", str(c)) for c in channels]
    return f"/digest.atom?{urlencode(params)}" if params else "/digest.atom"


def feed_url(kind: str, value: int | str) -> str:
    """The Atom feed of a page: `kind` is channel, thread, conversation or search (value = the query)."""
    if kind == "search":
        return f"/search.atom?{urlencode({'q': value})}"
    prefix = {"channel": "/c", "thread": "/t", "conversation": "/conv"}[kind]
    return f"{prefix}/{value}.atom"


def media_url(message_id: int | str, pos: int, *, kind: str = "attachment") -> str:
    """A local `--media` file: an attachment, a sticker, or an embed's thumbnail/image."""
    if kind == "attachment":
        return f"/media/{message_id}/{pos}"
    return f"/media/{message_id}/{kind}/{pos}"


def static_url(name: str) -> str:
    """A file under web/static."""
    return f"{STATIC_PREFIX}/{name}"


LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "0.0.0.0", "::")


def base_url_warning(base_url: str) -> str | None:
    """What to tell people when permalinks and citations would point at this machine only, or None."""
    host = (urlsplit(base_url).hostname or "").lower()
    if host not in LOCAL_HOSTS and not host.startswith("127.") and not host.endswith(".localhost"):
        return None
    return (
        f"Permalinks and citations use {base_url}, which works only on this machine: "
        "start the viewer with `hallway serve --base-url https://your.public.address` before citing."
    )


def absolute(base_url: str, path: str) -> str:
    """An absolute URL for a path, under the configured base URL."""
    return base_url.rstrip("/") + path


def discord_url(guild_id: int | None, channel_id: int, message_id: int | None = None) -> str:
    """The original on discord.com (needs a login; guild 0 means direct messages)."""
    guild = str(guild_id) if guild_id else "@me"
    tail = f"/{message_id}" if message_id is not None else ""
    return f"https://discord.com/channels/{guild}/{channel_id}{tail}"
