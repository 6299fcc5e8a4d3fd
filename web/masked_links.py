"""Masked links whose text is itself a URL: show where they really go.

`[https://archive.example/m/123](https://elsewhere.example)` reads as one address and leads to another (so does a
label with such a URL among other words). Discord refuses to send such messages; an export can still carry them (older clients, bots, hand-made files). The
rendered link keeps its real target and shows that target as its text.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from markdown_it.rules_core import StateCore
from markdown_it.token import Token

_URL_IN_LABEL = re.compile(r"(?:https?://|www\.)[^\s<>]+", re.IGNORECASE)
_AUTO_MARKUPS = ("linkify", "autolink")


def _same_target(label: str, href: str) -> bool:
    def norm(url: str) -> tuple[str, str, str]:
        url = unquote(url.strip())
        if url.lower().startswith("www."):
            url = "https://" + url
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        rest = (parts.path.rstrip("/") or "") + (f"?{parts.query}" if parts.query else "")
        return host, rest, parts.fragment

    return norm(label) == norm(href)


def _label_text(tokens: list[Token]) -> str:
    return "".join(t.content for t in tokens if t.type in ("text", "text_special", "code_inline"))


def _fix(children: list[Token]) -> list[Token]:
    out: list[Token] = []
    i = 0
    while i < len(children):
        tok = children[i]
        out.append(tok)
        i += 1
        if tok.type != "link_open" or tok.markup in _AUTO_MARKUPS or tok.info == "auto":
            continue
        depth, j = 1, i
        while j < len(children) and depth:
            depth += {"link_open": 1, "link_close": -1}.get(children[j].type, 0)
            j += 1
        inner = children[i : j - 1]
        href = str(tok.attrs.get("href") or "")
        label = _label_text(inner)
        urls = _URL_IN_LABEL.findall(label)
        if href and urls and not all(_same_target(u, href) for u in urls):
            text = Token("text", "", 0)
            text.content = href
            inner = [text]
        out.extend(inner)
        i = j - 1
    return out


def masked_url_labels(state: StateCore) -> None:
    """Core rule: a masked link whose text shows a URL other than its target gets its target as its text."""
    for tok in state.tokens:
        if tok.type == "inline" and tok.children:
            tok.children = _fix(tok.children)
