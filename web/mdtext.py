"""Chat content and names inside the `.md` twins, escaped so they can never change the document's structure.

A message could otherwise forge `- Permalink:` lines or a whole `## Cite` block, define link references, or open
an HTML comment (`<!--`) that hides the real citation when the file is rendered. So:

- message bodies go into a fenced code block whose fence is longer than any backtick run in them;
- names and other one-line values have their line breaks folded and their Markdown punctuation backslash-escaped;
- quoted lines (the citation's blockquote) are escaped the same way, line by line, with line-start markers too;
- link targets from exports are used only when they are http(s), inside `<…>` with the breaking characters
  percent-encoded.
"""

from __future__ import annotations

import re
from urllib.parse import quote

# Punctuation that means something anywhere in a CommonMark/GFM line: emphasis, code, links and images (with
# the brackets escaped, `(`, `)` and `!` mean nothing), HTML and autolinks, entities, tables, strikethrough, escapes.
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")
# What starts a block at the beginning of a line: list items, quotes, headings, setext underlines, breaks.
_LINE_START = re.compile(r"^(\s*)([-+=>#]|\d{1,9}(?=[.)]))")
_CLOSING_HASHES = re.compile(r"(^|\s)(#+\s*)$")
_BREAKS = re.compile(r"[\r\n\v\f\x85\u2028\u2029]+")
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")
_BACKTICKS = re.compile(r"`+")
_SAFE_URL = re.compile(r"^https?://", re.IGNORECASE)
# Kept as they are in link targets; everything else (spaces, <, >, backslashes, controls) is percent-encoded.
_URL_SAFE = ":/?#@!$&'()*+,;=%~-._[]"


def escape_inline(value: str) -> str:
    """One line of literal text: line breaks become spaces, control characters go, punctuation is escaped
    (and a leading list, quote or heading marker, so the value can't start a block where a line begins)."""
    text = _CONTROLS.sub("", _BREAKS.sub(" ", value)).replace("\t", " ")
    text = _INLINE_SPECIAL.sub(r"\\\1", text)
    m = _LINE_START.match(text)
    if m is None:
        return text
    if m.group(2).isdigit():  # `1.` and `1)` start an ordered list
        end = m.end()
        return text[:end] + "\\" + text[end:]
    return text[: m.start(2)] + "\\" + text[m.start(2) :]


def escape_heading(value: str) -> str:
    """Literal text inside an ATX heading, where trailing `#`s would be taken as its closing sequence."""
    return _CLOSING_HASHES.sub(r"\1\\\2", escape_inline(value))


def escape_line(line: str) -> str:
    """A line that starts a Markdown line (e.g. after `> `): four leading spaces would start a code block."""
    text = escape_inline(line)
    return text.lstrip(" ") if text.startswith("    ") else text


def fenced(text: str, info: str = "text") -> str:
    """A fenced code block holding `text` verbatim: no line of it can close the fence."""
    body = text.replace("\x00", "\ufffd").replace("\r\n", "\n").replace("\r", "\n")
    longest = max((len(m.group(0)) for m in _BACKTICKS.finditer(body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{body}\n{fence}"


def quoted(text: str) -> str:
    """A blockquote of `text`, each line escaped (its words read as written, its markup shown, never applied)."""
    lines = _CONTROLS.sub("", text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join("> " + escape_line(line) if line.strip() else ">" for line in lines)


def link(label: str, url: str | None) -> str:
    """`[label](<url>)` for an http(s) URL, else the label alone (escaped either way)."""
    text = escape_inline(label)
    if not url or not _SAFE_URL.match(url):
        return text
    return f"[{text}](<{quote(url, safe=_URL_SAFE)}>)"


def autolink(url: str) -> str:
    """`<url>` for a URL the archive built (permalinks): characters that would end it are percent-encoded."""
    return "<" + quote(url, safe=_URL_SAFE) + ">"
