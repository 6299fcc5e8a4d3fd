"""Render Discord message content (as exported by DiscordChatExporter) to safe HTML.

Pipeline: markdown-it-py (CommonMark core, trimmed and extended to Discord's
dialect) -> HTML -> nh3 sanitiser with a strict allowlist -> ``markupsafe.Markup``.

Public API
----------
``render_content(text, *, users=None, channels=None, roles=None, user_url=..., channel_url=None,
emoji_url=None) -> Markup``
    Full message body (block + inline markdown).
``render_inline(text, **same_keywords) -> Markup``
    Inline-only markdown (embed titles, field names, author names...).
``to_plain_text(text, **same_keywords) -> str``
    Markdown stripped, whitespace collapsed (snippets, meta descriptions).
``pygments_css(theme="dark", scope="") -> str``
    Pygments token CSS scoped under ``f"{scope} .codehilite"``.

Discord dialect summary (anything not listed stays literal text):
``**bold**``, ``*italic*``/``_italic_``, ``__underline__``, ``~~strike~~``, ``||spoiler||``,
``` `code` ```, fenced ```` ```lang ```` blocks (also one-line and closing on the last
content line), ``> quote`` (no lazy continuation, no nesting), ``>>> quote-to-end``,
``#``/``##``/``###`` headers, ``-``/``*`` and ``1.`` lists, ``-# subtext``, masked links
``[text](https://...)``, bare and ``<https://...>`` autolinks, hard line breaks on every
newline, raw mentions ``<@id>``, ``<@!id>``, ``<#id>``, ``<@&id>``, ``</cmd:id>``, custom
emoji ``<:name:id>``/``<a:name:id>``, timestamps ``<t:unix[:tTdDfFR]>`` and resolved
mentions (``@Display Name``/``#channel-name``) when the referenced user/channel is known.
"""

from __future__ import annotations

import contextvars
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markupsafe import Markup
from pygments import highlight as _pyg_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.token import STANDARD_TYPES
from pygments.util import ClassNotFound

from web.masked_links import masked_url_labels

__all__ = [
    "ChannelRef",
    "UserRef",
    "default_emoji_url",
    "default_user_url",
    "pygments_css",
    "render_content",
    "render_inline",
    "to_plain_text",
]


# --------------------------------------------------------------------------- references


@dataclass(frozen=True, slots=True)
class UserRef:
    """A user that may be mentioned.  ``name`` is the account username, ``nickname`` the
    display/guild name DCE prints (``mentions[].nickname`` in the JSON export)."""

    id: str
    name: str
    nickname: str | None = None

    @property
    def display(self) -> str:
        return self.nickname or self.name


@dataclass(frozen=True, slots=True)
class ChannelRef:
    id: str
    name: str


def default_user_url(user_id: str) -> str:
    return f"/u/{user_id}"


def default_emoji_url(emoji_id: str, animated: bool) -> str:
    return f"https://cdn.discordapp.com/emojis/{emoji_id}.{'gif' if animated else 'png'}"


UserUrl = Callable[[str], str]
ChannelUrl = Callable[[str], str]
EmojiUrl = Callable[[str, bool], str | None]  # None: no image for this emoji, show its :name:


# --------------------------------------------------------------------------- render context

# first character of a label -> ((label, ref), ...) longest label first
_LabelIndex = Mapping[str, tuple[tuple[str, Any], ...]]


def _label_index(refs: Iterable[Any], labels: Callable[[Any], Iterable[str | None]]) -> _LabelIndex:
    seen: dict[str, Any] = {}
    for ref in refs:
        for label in labels(ref):
            if label and label not in seen:
                seen[label] = ref
    buckets: dict[str, list[tuple[str, Any]]] = {}
    for label, ref in sorted(seen.items(), key=lambda kv: -len(kv[0])):
        buckets.setdefault(label[0], []).append((label, ref))
    return {first: tuple(items) for first, items in buckets.items()}


# Small identity cache so that a caller passing the same (large) mapping for every
# message of a page does not pay for re-indexing it each time.  We keep a strong
# reference to the mapping so its id() cannot be recycled while cached.
_INDEX_CACHE: dict[tuple[str, int], tuple[object, int, _LabelIndex]] = {}
_INDEX_CACHE_MAX = 16


def _cached_index(
    kind: str, mapping: Mapping[str, Any], labels: Callable[[Any], Iterable[str | None]]
) -> _LabelIndex:
    if len(mapping) <= 8:
        return _label_index(mapping.values(), labels)
    key = (kind, id(mapping))
    hit = _INDEX_CACHE.get(key)
    if hit is not None and hit[0] is mapping and hit[1] == len(mapping):
        return hit[2]
    index = _label_index(mapping.values(), labels)
    if len(_INDEX_CACHE) >= _INDEX_CACHE_MAX:
        try:  # tolerate concurrent eviction from another thread
            _INDEX_CACHE.pop(next(iter(_INDEX_CACHE)), None)
        except (RuntimeError, StopIteration):
            pass
    _INDEX_CACHE[key] = (mapping, len(mapping), index)
    return index


def _user_labels(u: UserRef) -> tuple[str | None, ...]:
    return (u.nickname, u.name)


def _channel_labels(c: ChannelRef) -> tuple[str | None, ...]:
    return (c.name,)


@dataclass(slots=True)
class _Ctx:
    users: Mapping[str, UserRef]
    user_index: _LabelIndex
    channels: Mapping[str, ChannelRef]
    channel_index: _LabelIndex
    roles: Mapping[str, str]
    user_url: UserUrl | None
    channel_url: ChannelUrl | None
    emoji_url: EmojiUrl
    emoji_srcs: set[str]
    jumbo: bool = False


_EMPTY: Mapping[str, Any] = {}


def _make_ctx(
    users: Mapping[str, UserRef] | Iterable[UserRef] | None,
    channels: Mapping[str, ChannelRef] | Iterable[ChannelRef] | None,
    roles: Mapping[str, str] | None,
    user_url: UserUrl | None,
    channel_url: ChannelUrl | None,
    emoji_url: EmojiUrl | None,
) -> _Ctx:
    if users is None:
        users = _EMPTY
    elif not isinstance(users, Mapping):
        users = {u.id: u for u in users}
    if channels is None:
        channels = _EMPTY
    elif not isinstance(channels, Mapping):
        channels = {c.id: c for c in channels}
    return _Ctx(
        users=users,
        user_index=_cached_index("u", users, _user_labels) if users else _EMPTY,
        channels=channels,
        channel_index=_cached_index("c", channels, _channel_labels) if channels else _EMPTY,
        roles=roles or _EMPTY,
        user_url=user_url,
        channel_url=channel_url,
        emoji_url=emoji_url or default_emoji_url,
        emoji_srcs=set(),
    )


def _ctx(state: StateInline | StateBlock) -> _Ctx:
    return state.env["ctx"]  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- links

_ALLOWED_URL_RE = re.compile(r"(?:https?://[^\s]|mailto:[^\s])", re.IGNORECASE)


def _validate_link(url: str) -> bool:
    return _ALLOWED_URL_RE.match(url) is not None


_LINK_DEST_RE = re.compile(r"\([ \t\n]*<?(?:https?://|mailto:)", re.IGNORECASE)


def _wrap_link_rule(orig: Callable[[StateInline, bool], bool]) -> Callable[[StateInline, bool], bool]:
    """Masked links: only ``[text](http(s)/mailto URL)``; no images, no references."""

    def discord_link(state: StateInline, silent: bool) -> bool:
        pos = state.pos
        if state.src[pos] != "[":
            return False
        if pos > 0 and state.src[pos - 1] == "!":  # would be an image: keep literal
            return False
        label_end = state.md.helpers.parseLinkLabel(state, pos, True)
        if label_end < 0 or not _LINK_DEST_RE.match(state.src, label_end + 1, state.posMax):
            return False
        return orig(state, silent)

    return discord_link


def _wrap_autolink_rule(orig: Callable[[StateInline, bool], bool]) -> Callable[[StateInline, bool], bool]:
    def discord_autolink(state: StateInline, silent: bool) -> bool:
        if state.linkLevel > 0:
            return False
        return orig(state, silent)

    return discord_autolink


_SCHEME_TAIL_RE = re.compile(r"(?:^|[^A-Za-z0-9])(https?)$", re.IGNORECASE)
_URL_REST_RE = re.compile(r"://[^\s<>\"]+")
_URL_TRAILING = set(".,:;\"'!?*_~|")


def _trim_url(url: str) -> str:
    while url:
        c = url[-1]
        if (
            c in _URL_TRAILING
            or (c == ")" and url.count("(") < url.count(")"))
            or (c == "]" and url.count("[") < url.count("]"))
        ):
            url = url[:-1]
            continue
        break
    return url


def bare_url_rule(state: StateInline, silent: bool) -> bool:
    """Bare ``http(s)://`` URLs.  Fires on ':' and takes the scheme back from pending text."""
    pos = state.pos
    if state.linkLevel > 0 or not state.src.startswith("://", pos):
        return False
    m = _SCHEME_TAIL_RE.search(state.pending)
    if m is None:
        return False
    scheme = m.group(1)
    rest = _URL_REST_RE.match(state.src, pos, state.posMax)
    if rest is None:
        return False
    url = scheme + _trim_url(rest.group(0))
    if len(url) <= len(scheme) + 3:
        return False
    href = state.md.normalizeLink(url)
    if not _validate_link(href):
        return False
    if not silent:
        state.pending = state.pending[: -len(scheme)]
        tok = state.push("link_open", "a", 1)
        tok.attrs = {"href": href}
        tok.markup = "linkify"
        tok.info = "auto"
        tok = state.push("text", "", 0)
        tok.content = url
        tok = state.push("link_close", "a", -1)
        tok.markup = "linkify"
        tok.info = "auto"
    state.pos += len(url) - len(scheme)
    return True


# --------------------------------------------------------------------------- spoilers


def spoiler_rule(state: StateInline, silent: bool) -> bool:
    src = state.src
    start = state.pos
    if not src.startswith("||", start):
        return False
    end = src.find("||", start + 2, state.posMax)
    if end < 0 or end == start + 2:
        return False
    if not silent:
        old_max = state.posMax
        state.push("spoiler_open", "span", 1).markup = "||"
        state.pos = start + 2
        state.posMax = end
        state.md.inline.tokenize(state)
        state.posMax = old_max
        state.push("spoiler_close", "span", -1).markup = "||"
    state.pos = end + 2
    return True


# --------------------------------------------------------------------------- <...> entities

_ANGLE_RE = re.compile(
    r"<(?:"
    r"@(?P<user_bang>!?)(?P<user>\d{1,20})"
    r"|@&(?P<role>\d{1,20})"
    r"|#(?P<channel>\d{1,20})"
    r"|(?P<anim>a?):(?P<ename>[A-Za-z0-9_~]{1,32}):(?P<eid>\d{1,20})"
    r"|t:(?P<ts>-?\d{1,15})(?::(?P<tsfmt>[tTdDfFR]))?"
    r"|/(?P<cmd>[\w-]{1,32}(?: [\w-]{1,32}){0,2}):(?P<cmdid>\d{1,20})"
    r")>"
)

_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _format_ts(dt: datetime, fmt: str) -> str:
    hm = f"{dt.hour:02d}:{dt.minute:02d}"
    long_date = f"{dt.day} {_MONTHS[dt.month - 1]} {dt.year}"
    if fmt == "t":
        return f"{hm} UTC"
    if fmt == "T":
        return f"{hm}:{dt.second:02d} UTC"
    if fmt == "d":
        return f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}"
    if fmt == "D":
        return long_date
    if fmt == "F":
        return f"{_WEEKDAYS[dt.weekday()]}, {long_date} {hm} UTC"
    return f"{long_date} {hm} UTC"  # "f", "R" and the default


def _push_mention(state: StateInline, kind: str, text: str, href: str | None) -> None:
    tok = state.push("discord_mention", "", 0)
    tok.content = text
    tok.meta = {"kind": kind, "href": href if state.linkLevel == 0 else None}


def angle_rule(state: StateInline, silent: bool) -> bool:
    """``<@id>``, ``<@!id>``, ``<@&id>``, ``<#id>``, ``<:e:id>``, ``<a:e:id>``, ``<t:..>``, ``</c:id>``."""
    if state.src[state.pos] != "<":
        return False
    m = _ANGLE_RE.match(state.src, state.pos, state.posMax)
    if m is None:
        return False
    ts: datetime | None = None
    if m.group("ts") is not None:
        try:
            ts = datetime.fromtimestamp(int(m.group("ts")), tz=UTC)
        except (OverflowError, ValueError, OSError):
            return False  # out of range: stays literal
    if silent:
        state.pos = m.end()
        return True
    ctx = _ctx(state)
    if (uid := m.group("user")) is not None:
        user = ctx.users.get(uid)
        if user is not None:
            _push_mention(state, "user", "@" + user.display, ctx.user_url(uid) if ctx.user_url else None)
        else:
            _push_mention(state, "user", "@unknown-user", None)
    elif (rid := m.group("role")) is not None:
        _push_mention(state, "role", "@" + ctx.roles.get(rid, "unknown-role"), None)
    elif (cid := m.group("channel")) is not None:
        chan = ctx.channels.get(cid)
        if chan is not None:
            _push_mention(
                state, "channel", "#" + chan.name, ctx.channel_url(cid) if ctx.channel_url else None
            )
        else:
            _push_mention(state, "channel", "#unknown-channel", None)
    elif (eid := m.group("eid")) is not None:
        animated = m.group("anim") == "a"
        src = ctx.emoji_url(eid, animated)
        if src is None:
            tok = state.push("text", "", 0)
            tok.content = f":{m.group('ename')}:"
        else:
            ctx.emoji_srcs.add(src)
            tok = state.push("discord_emoji", "img", 0)
            tok.content = f":{m.group('ename')}:"
            tok.meta = {"src": src}
    elif ts is not None:
        fmt = m.group("tsfmt") or "f"
        tok = state.push("discord_time", "time", 0)
        tok.content = _format_ts(ts, fmt)
        tok.meta = {
            "iso": ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "title": _format_ts(ts, "F"),
            "relative": fmt == "R",
        }
    else:
        _push_mention(state, "command", "/" + m.group("cmd"), None)
    state.pos = m.end()
    return True


# --------------------------------------------------------------------------- resolved mentions


def _is_word_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def resolved_mention_rule(state: StateInline, silent: bool) -> bool:
    """``@Display Name`` / ``#channel-name`` already resolved by DCE, plus @everyone/@here."""
    src = state.src
    pos = state.pos
    marker = src[pos]
    if marker not in "@#":
        return False
    if pos > 0 and _is_word_char(src[pos - 1]):
        return False
    ctx = _ctx(state)
    end_max = state.posMax
    if marker == "@":
        for word in ("everyone", "here"):
            end = pos + 1 + len(word)
            if src.startswith(word, pos + 1) and (end >= end_max or not _is_word_char(src[end])):
                if not silent:
                    _push_mention(state, "everyone", "@" + word, None)
                state.pos = end
                return True
        index = ctx.user_index
    else:
        index = ctx.channel_index
    if pos + 1 >= end_max:
        return False
    for label, ref in index.get(src[pos + 1], ()):
        end = pos + 1 + len(label)
        if end > end_max or not src.startswith(label, pos + 1):
            continue
        if end < end_max and _is_word_char(src[end]) and _is_word_char(label[-1]):
            continue
        if not silent:
            if marker == "@":
                href = ctx.user_url(ref.id) if ctx.user_url else None
                _push_mention(state, "user", "@" + label, href)
            else:
                href = ctx.channel_url(ref.id) if ctx.channel_url else None
                _push_mention(state, "channel", "#" + label, href)
        state.pos = end
        return True
    return False


# --------------------------------------------------------------------------- block rules


def _line_start(state: StateBlock, line: int) -> tuple[int, int]:
    return state.bMarks[line] + state.tShift[line], state.eMarks[line]


def _wrap_heading_rule(
    orig: Callable[[StateBlock, int, int, bool], bool],
) -> Callable[[StateBlock, int, int, bool], bool]:
    def discord_heading(state: StateBlock, startLine: int, endLine: int, silent: bool) -> bool:
        pos, maximum = _line_start(state, startLine)
        src = state.src
        if src.startswith("####", pos) or not src[pos:maximum].strip("# \t"):
            return False  # deeper levels and empty headers stay literal
        return orig(state, startLine, endLine, silent)

    return discord_heading


def _wrap_list_rule(
    orig: Callable[[StateBlock, int, int, bool], bool],
) -> Callable[[StateBlock, int, int, bool], bool]:
    """Discord lists use '-', '*' or 'N.' markers only ('+' and 'N)' stay literal)."""

    def discord_list(state: StateBlock, startLine: int, endLine: int, silent: bool) -> bool:
        pos, maximum = _line_start(state, startLine)
        m = _LIST_MARKER_RE.match(state.src, pos, maximum)
        if m is None or m.group(1) is not None:
            return False
        return orig(state, startLine, endLine, silent)

    return discord_list


_LIST_MARKER_RE = re.compile(r"(?:[-*]|\d{1,9}\.)[ \t]+\S|(\+|\d{1,9}\))")


def subtext_rule(state: StateBlock, startLine: int, endLine: int, silent: bool) -> bool:
    if state.sCount[startLine] - state.blkIndent >= 4:
        return False
    pos, maximum = _line_start(state, startLine)
    if not state.src.startswith("-# ", pos, maximum):
        return False
    content = state.src[pos + 3 : maximum].strip()
    if not content:
        return False
    if silent:
        return True
    state.line = startLine + 1
    tok = state.push("subtext_open", "p", 1)
    tok.markup = "-#"
    tok.map = [startLine, state.line]
    tok = state.push("inline", "", 0)
    tok.content = content
    tok.map = [startLine, state.line]
    tok.children = []
    state.push("subtext_close", "p", -1).markup = "-#"
    return True


_FENCE_LANG_RE = re.compile(r"[A-Za-z0-9_+\-.#]{1,32}")


def fence_rule(state: StateBlock, startLine: int, endLine: int, silent: bool) -> bool:
    """Discord code blocks: start at a line beginning with ```, end at the next ``` anywhere
    (same line or a later one); text after the closing fence becomes a paragraph."""
    if state.sCount[startLine] - state.blkIndent >= 4:
        return False
    src = state.src
    pos, maximum = _line_start(state, startLine)
    if not src.startswith("```", pos, maximum):
        return False
    first = src[pos + 3 : maximum]
    close_line = -1
    trailing = ""
    idx = first.find("```")
    if idx >= 0:
        body = first[:idx]
        trailing = first[idx + 3 :]
        close_line = startLine
    else:
        parts = [first]
        line = startLine + 1
        while line < endLine:
            lpos, lmax = _line_start(state, line)
            if lpos < lmax and state.sCount[line] < state.blkIndent:
                break  # left the enclosing container (e.g. list item)
            text = state.getLines(line, line + 1, state.blkIndent, False)
            idx = text.find("```")
            if idx >= 0:
                parts.append(text[:idx])
                trailing = text[idx + 3 :]
                close_line = line
                break
            parts.append(text)
            line += 1
        if close_line < 0:
            return False
        body = "\n".join(parts)
    if not body.strip():
        return False
    if silent:
        return True

    lang = ""
    head, nl, rest = body.partition("\n")
    if nl and rest.strip():
        if _FENCE_LANG_RE.fullmatch(head.strip()):
            lang, body = head.strip(), rest
        elif not head.strip():
            body = rest
    code = body.strip("\n").rstrip()

    state.line = close_line + 1
    tok = state.push("fence", "code", 0)
    tok.info = lang
    tok.content = code
    tok.markup = "```"
    tok.map = [startLine, state.line]
    trailing = trailing.strip()
    if trailing:
        state.push("paragraph_open", "p", 1)
        tok = state.push("inline", "", 0)
        tok.content = trailing
        tok.map = [close_line, state.line]
        tok.children = []
        state.push("paragraph_close", "p", -1)
    return True


def _quote_marker(src: str, pos: int, maximum: int) -> int:
    """Length of the quote marker at pos: 4 for '>>> ', 3 for '>>>' at EOL, 2 for '> ',
    1 for '>' at EOL, -1 for '>>>'-style multi markers, 0 for no marker."""
    if pos >= maximum or src[pos] != ">":
        return 0
    if src.startswith(">>>", pos, maximum):
        if pos + 3 == maximum:
            return -3
        if src[pos + 3] == " ":
            return -4
        return 0
    if pos + 1 == maximum:
        return 1
    if src[pos + 1] == " ":
        return 2
    return 0


def _strip_marker(
    state: StateBlock, line: int, new_begin: int, saved: list[tuple[int, int, int, int, int]]
) -> None:
    saved.append((line, state.bMarks[line], state.tShift[line], state.sCount[line], state.bsCount[line]))
    src = state.src
    maximum = state.eMarks[line]
    q = new_begin
    offset = 0
    while q < maximum and src[q] in " \t":
        offset += 4 - offset % 4 if src[q] == "\t" else 1
        q += 1
    state.bsCount[line] = state.sCount[line] + (new_begin - state.bMarks[line] - state.tShift[line])
    state.bMarks[line] = new_begin
    state.tShift[line] = q - new_begin
    state.sCount[line] = offset


def blockquote_rule(state: StateBlock, startLine: int, endLine: int, silent: bool) -> bool:
    """``> line`` quotes (each line needs its own marker, no nesting) and ``>>> rest``."""
    env = state.env
    if env.get("in_quote") or state.sCount[startLine] - state.blkIndent >= 4:
        return False
    src = state.src
    pos, maximum = _line_start(state, startLine)
    marker = _quote_marker(src, pos, maximum)
    if marker == 0 or marker == 1:
        return False
    if marker < 0 and state.blkIndent != 0:
        return False
    if marker == 2 and not src[pos + 2 : maximum].strip():
        return False
    if marker < 0 and not src[pos - marker : state.eMarks[endLine - 1]].strip():
        return False
    if silent:
        return True

    saved: list[tuple[int, int, int, int, int]] = []
    if marker < 0:
        next_line = endLine
        _strip_marker(state, startLine, pos + (-marker), saved)
    else:
        next_line = startLine
        while next_line < endLine:
            lpos, lmax = _line_start(state, next_line)
            if state.sCount[next_line] < state.blkIndent or state.sCount[next_line] - state.blkIndent >= 4:
                break
            mk = _quote_marker(src, lpos, lmax)
            if mk <= 0:
                break
            _strip_marker(state, next_line, lpos + mk, saved)
            next_line += 1

    old_line_max = state.lineMax
    old_parent = state.parentType
    old_indent = state.blkIndent
    state.lineMax = next_line
    state.parentType = "blockquote"
    state.blkIndent = 0
    env["in_quote"] = True
    try:
        tok = state.push("blockquote_open", "blockquote", 1)
        tok.markup = ">>>" if marker < 0 else ">"
        tok.map = [startLine, next_line]
        state.md.block.tokenize(state, startLine, next_line)
        state.push("blockquote_close", "blockquote", -1).markup = tok.markup
    finally:
        env["in_quote"] = False
        state.lineMax = old_line_max
        state.parentType = old_parent
        state.blkIndent = old_indent
        for line, b, t, s, bs in saved:
            state.bMarks[line] = b
            state.tShift[line] = t
            state.sCount[line] = s
            state.bsCount[line] = bs
    state.line = next_line
    return True


# --------------------------------------------------------------------------- code highlighting

_FORMATTER = HtmlFormatter(nowrap=True)
_MAX_HIGHLIGHT_CHARS = 20_000
_ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@functools.lru_cache(maxsize=256)
def _lexer(lang: str) -> Any:
    try:
        return get_lexer_by_name(lang, stripnl=False, ensurenl=False, stripall=False)
    except (ClassNotFound, ValueError, TypeError):
        return None


def _highlight(code: str, lang: str) -> str:
    lang = lang.lower()
    if lang == "ansi":
        return escapeHtml(_ANSI_RE.sub("", code))
    lexer = _lexer(lang) if lang else None
    if lexer is None or len(code) > _MAX_HIGHLIGHT_CHARS:
        return escapeHtml(code)
    try:
        html: str = _pyg_highlight(code, lexer, _FORMATTER)
        return html.rstrip("\n")
    except Exception:  # a misbehaving third-party lexer must not break rendering
        return escapeHtml(code)


PYGMENTS_STYLES = {"dark": "github-dark", "light": "default"}


def pygments_css(theme: str = "dark", scope: str = "", *, style: str | None = None) -> str:
    """CSS for highlighted code blocks, every selector under ``f"{scope} .codehilite"``.

    ``theme`` is "dark" or "light" (mapped via PYGMENTS_STYLES) unless ``style`` names a
    pygments style explicitly.  Emit e.g. ``pygments_css("light")`` plus
    ``pygments_css("dark", '[data-theme="dark"]')`` to switch themes with an attribute.
    """
    name = style or PYGMENTS_STYLES[theme]
    selector = f"{scope} .codehilite".strip()
    css = HtmlFormatter(style=name).get_style_defs(selector)
    # drop the unscoped helper rules pygments adds (pre line-height, line numbers)
    return "\n".join(line for line in css.splitlines() if line.startswith(selector)) + "\n"


# --------------------------------------------------------------------------- renderer rules


def _render_fence(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    tok = tokens[idx]
    lang = tok.info
    attr = f' data-lang="{escapeHtml(lang)}"' if lang else ""
    return f'<pre class="codehilite"{attr}><code>{_highlight(tok.content, lang)}</code></pre>\n'


def _render_strong_open(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    return "<u>" if tokens[idx].markup == "__" else "<strong>"


def _render_strong_close(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    return "</u>" if tokens[idx].markup == "__" else "</strong>"


_HEADING_TAGS = {"h1": "h3", "h2": "h4", "h3": "h5"}


def _render_heading_open(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    tag = tokens[idx].tag
    return f'<{_HEADING_TAGS[tag]} class="md-{tag}">'


def _render_heading_close(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    return f"</{_HEADING_TAGS[tokens[idx].tag]}>\n"


def _render_mention(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    tok = tokens[idx]
    kind = tok.meta["kind"]
    href = tok.meta["href"]
    text = escapeHtml(tok.content)
    if href:
        return f'<a class="mention mention-{kind}" href="{escapeHtml(href)}">{text}</a>'
    return f'<span class="mention mention-{kind}">{text}</span>'


def _render_emoji(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    tok = tokens[idx]
    name = escapeHtml(tok.content)
    cls = "emoji jumbo" if env["ctx"].jumbo else "emoji"
    return f'<img class="{cls}" alt="{name}" title="{name}" src="{escapeHtml(tok.meta["src"])}">'


def _render_time(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    tok = tokens[idx]
    cls = "timestamp timestamp-relative" if tok.meta["relative"] else "timestamp"
    return (
        f'<time class="{cls}" datetime="{tok.meta["iso"]}" title="{escapeHtml(tok.meta["title"])}">'
        f"{escapeHtml(tok.content)}</time>"
    )


def _static(html: str) -> Callable[..., str]:
    def rule(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
        return html

    return rule


# --------------------------------------------------------------------------- parser setup


def _build_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "breaks": True, "xhtmlOut": False, "linkify": False})
    md.disable(["code", "hr", "lheading", "reference", "html_block", "html_inline", "image", "entity"])
    md.enable(["strikethrough"])
    md.validateLink = _validate_link  # type: ignore[method-assign]

    block = md.block.ruler
    block.at("blockquote", blockquote_rule, {"alt": ["paragraph", "reference", "blockquote", "list"]})
    block.at("fence", fence_rule, {"alt": ["paragraph", "reference", "blockquote", "list"]})
    block.at("heading", _wrap_heading_rule(block.__rules__[block.__find__("heading")].fn),
             {"alt": ["paragraph", "reference", "blockquote"]})  # fmt: skip
    block.at("list", _wrap_list_rule(block.__rules__[block.__find__("list")].fn),
             {"alt": ["paragraph", "reference", "blockquote"]})  # fmt: skip
    block.before(
        "heading", "subtext", subtext_rule, {"alt": ["paragraph", "reference", "blockquote", "list"]}
    )

    inline = md.inline.ruler
    inline.at("link", _wrap_link_rule(inline.__rules__[inline.__find__("link")].fn))
    inline.at("autolink", _wrap_autolink_rule(inline.__rules__[inline.__find__("autolink")].fn))
    inline.before("autolink", "discord_angle", angle_rule)
    inline.before("emphasis", "spoiler", spoiler_rule)
    inline.before("emphasis", "bare_url", bare_url_rule)
    inline.before("emphasis", "resolved_mention", resolved_mention_rule)
    md.inline.add_terminator_char("|")
    md.core.ruler.push("masked_url_labels", masked_url_labels)

    md.add_render_rule("fence", _render_fence)
    md.add_render_rule("strong_open", _render_strong_open)
    md.add_render_rule("strong_close", _render_strong_close)
    md.add_render_rule("heading_open", _render_heading_open)
    md.add_render_rule("heading_close", _render_heading_close)
    md.add_render_rule("spoiler_open", _static('<span class="spoiler" tabindex="0">'))
    md.add_render_rule("spoiler_close", _static("</span>"))
    md.add_render_rule("subtext_open", _static('<p class="subtext">'))
    md.add_render_rule("subtext_close", _static("</p>\n"))
    md.add_render_rule("discord_mention", _render_mention)
    md.add_render_rule("discord_emoji", _render_emoji)
    md.add_render_rule("discord_time", _render_time)
    return md


_MD = _build_parser()


# --------------------------------------------------------------------------- sanitiser

PYGMENTS_CLASSES = frozenset(c for c in STANDARD_TYPES.values() if c) | {"hll"}
MENTION_CLASSES = frozenset(
    {"mention", "mention-user", "mention-channel", "mention-role", "mention-everyone", "mention-command"}
)

ALLOWED_TAGS = frozenset(
    {"p", "br", "strong", "em", "u", "s", "code", "pre", "span", "a", "blockquote",
     "ul", "ol", "li", "h3", "h4", "h5", "img", "time"}
)  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "time": {"datetime", "title"},
    "ol": {"start"},
    "pre": {"data-lang"},
}
ALLOWED_CLASSES: dict[str, set[str]] = {
    "span": {"spoiler", *MENTION_CLASSES, *PYGMENTS_CLASSES},
    "a": {"mention", "mention-user", "mention-channel"},
    "img": {"emoji", "jumbo"},
    "pre": {"codehilite"},
    "p": {"subtext"},
    "h3": {"md-h1"},
    "h4": {"md-h2"},
    "h5": {"md-h3"},
    "time": {"timestamp", "timestamp-relative"},
}
LINK_REL = "nofollow noopener noreferrer ugc"

# The set of emoji URLs produced by the render currently in progress: the only
# acceptable values for <img src>.
_EMOJI_SRCS: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "emoji_srcs", default=frozenset()
)
_DEFAULT_EMOJI_SRC_RE = re.compile(r"https://cdn\.discordapp\.com/emojis/\d{1,20}\.(?:png|gif|webp)")


def _attribute_filter(element: str, attribute: str, value: str) -> str | None:
    if element == "img" and attribute == "src":
        if value in _EMOJI_SRCS.get() or _DEFAULT_EMOJI_SRC_RE.fullmatch(value):
            return value
        return None
    return value


_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    attributes=ALLOWED_ATTRIBUTES,
    tag_attribute_values={"span": {"tabindex": {"0"}}},
    allowed_classes=ALLOWED_CLASSES,
    attribute_filter=_attribute_filter,
    url_schemes={"http", "https", "mailto"},
    link_rel=LINK_REL,
    strip_comments=True,
)


def _sanitize(html: str, ctx: _Ctx) -> Markup:
    token = _EMOJI_SRCS.set(frozenset(ctx.emoji_srcs))
    try:
        return Markup(_CLEANER.clean(html).strip())
    finally:
        _EMOJI_SRCS.reset(token)


# --------------------------------------------------------------------------- public API

_JUMBO_RE = re.compile(r"\s*(?:<a?:[A-Za-z0-9_~]{1,32}:\d{1,20}>\s*){1,30}")
_MAX_INPUT = 100_000  # Discord caps content at 4000 chars; keep hostile inputs bounded


def render_content(
    text: str | None,
    *,
    users: Mapping[str, UserRef] | Iterable[UserRef] | None = None,
    channels: Mapping[str, ChannelRef] | Iterable[ChannelRef] | None = None,
    roles: Mapping[str, str] | None = None,
    user_url: UserUrl | None = default_user_url,
    channel_url: ChannelUrl | None = None,
    emoji_url: EmojiUrl | None = None,
) -> Markup:
    """Render a Discord message body to sanitised HTML.

    users:       id -> UserRef.  Pass the message's ``mentions[]``: raw ``<@id>`` is looked up
                 by id, resolved ``@Name`` text is matched against nickname and username.
    channels:    id -> ChannelRef, for ``<#id>`` and resolved ``#name``.
    roles:       id -> role name, for ``<@&id>``.
    user_url:    builds a user page URL (default ``/u/<id>``); None renders mentions as spans.
    channel_url: builds a channel page URL; None (default) renders channel mentions as spans.
    emoji_url:   (emoji_id, animated) -> image URL; default is the Discord CDN.
    """
    if not text:
        return Markup("")
    text = text[:_MAX_INPUT]
    ctx = _make_ctx(users, channels, roles, user_url, channel_url, emoji_url)
    ctx.jumbo = _JUMBO_RE.fullmatch(text) is not None
    env = {"ctx": ctx}
    html = _MD.renderer.render(_MD.parse(text, env), _MD.options, env)
    return _sanitize(html, ctx)


def render_inline(
    text: str | None,
    *,
    users: Mapping[str, UserRef] | Iterable[UserRef] | None = None,
    channels: Mapping[str, ChannelRef] | Iterable[ChannelRef] | None = None,
    roles: Mapping[str, str] | None = None,
    user_url: UserUrl | None = default_user_url,
    channel_url: ChannelUrl | None = None,
    emoji_url: EmojiUrl | None = None,
) -> Markup:
    """Inline-only rendering (no paragraphs, lists, quotes, headers or code blocks)."""
    if not text:
        return Markup("")
    text = text[:_MAX_INPUT]
    ctx = _make_ctx(users, channels, roles, user_url, channel_url, emoji_url)
    env = {"ctx": ctx}
    html = _MD.renderer.render(_MD.parseInline(text, env), _MD.options, env)
    return _sanitize(html, ctx)


_WS_RE = re.compile(r"\s+")


def _collect_text(tokens: list[Token], out: list[str]) -> None:
    for tok in tokens:
        t = tok.type
        if t == "inline":
            _collect_text(tok.children or [], out)
        elif t in ("text", "text_special", "code_inline", "discord_mention", "discord_emoji", "discord_time"):
            out.append(tok.content)
        elif t in ("softbreak", "hardbreak"):
            out.append(" ")
        elif t == "fence":
            out.append(" " + tok.content + " ")
        elif tok.block and tok.nesting != 0:
            out.append(" ")


def to_plain_text(
    text: str | None,
    *,
    users: Mapping[str, UserRef] | Iterable[UserRef] | None = None,
    channels: Mapping[str, ChannelRef] | Iterable[ChannelRef] | None = None,
    roles: Mapping[str, str] | None = None,
) -> str:
    """Markdown-stripped text with whitespace collapsed (for snippets / meta descriptions).
    The result is NOT HTML-escaped."""
    if not text:
        return ""
    ctx = _make_ctx(users, channels, roles, None, None, None)
    out: list[str] = []
    _collect_text(_MD.parse(text[:_MAX_INPUT], {"ctx": ctx}), out)
    return _WS_RE.sub(" ", "".join(out)).strip()
