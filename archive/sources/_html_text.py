"""Rendered DCE message HTML back to Discord markdown: the text the index and the viewer's renderer use.

DCE's HTML holds markdown already rendered. Turning it back into markdown (bold, code, quotes,
links, emoji, mentions) lets the viewer render it through the same renderer and nh3 policy as a JSON
export's content, and gives the index the same text a JSON export of the message would give.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborNode

_CUSTOM_EMOJI_RE = re.compile(r"/emojis/(\d{1,20})\.(png|gif|webp)")
_WRAP = {
    "strong": "**",
    "b": "**",
    "em": "*",
    "i": "*",
    "u": "__",
    "s": "~~",
    "del": "~~",
}
_BLOCKS = frozenset({"div", "p", "blockquote", "h1", "h2", "h3", "ul", "ol", "li"})


def _classes(node: LexborNode) -> str:
    return node.attributes.get("class") or ""


def _emoji(node: LexborNode) -> str:
    """An emoji image as Discord writes it: the Unicode character, or <:name:id> for a custom one."""
    alt = (node.attributes.get("alt") or node.attributes.get("title") or "").strip()
    src = node.attributes.get("src") or ""
    m = _CUSTOM_EMOJI_RE.search(src)
    if m and alt:
        name = alt.strip(":")
        return f"<{'a' if m.group(2) == 'gif' else ''}:{name}:{m.group(1)}>"
    return alt


def html_to_markdown(node: LexborNode | None) -> str:
    """The markdown a rendered content node came from (as close as the markup tells)."""
    if node is None:
        return ""
    out: list[str] = []
    _walk(node, out)
    text = "".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _walk(node: LexborNode, out: list[str]) -> None:
    child = node.child
    while child is not None:
        _emit(child, out)
        child = child.next


def _emit(node: LexborNode, out: list[str]) -> None:
    tag = node.tag
    if tag == "-text":
        out.append(node.text_content or "")
        return
    if tag in ("-comment", "script", "style", "svg"):
        return
    cls = _classes(node)
    if tag == "br":
        out.append("\n")
    elif tag == "img":
        if "emoji" in cls or node.attributes.get("alt"):
            out.append(_emoji(node))
    elif "chatlog__edited-timestamp" in cls:
        return
    elif "pre--multiline" in cls or "markdown-pre--multiline" in cls or tag == "pre":
        lang = ""
        for c in cls.split():
            if c.startswith("language-"):
                lang = c[len("language-") :]
        out.append(f"```{lang}\n{node.text(deep=True)}\n```")
    elif "pre--inline" in cls or "markdown-pre--inline" in cls or tag == "code":
        out.append(f"`{node.text(deep=True)}`")
    elif "spoiler" in cls and "spoiler-text" not in cls and tag == "span" and "spoiler-" not in cls:
        out.append("||")
        _walk(node, out)
        out.append("||")
    elif "quote" in cls or tag == "blockquote":
        inner: list[str] = []
        _walk(node, inner)
        lines = "".join(inner).strip("\n").split("\n")
        out.append("\n".join("> " + line for line in lines) + "\n")
    elif tag == "a":
        href = node.attributes.get("href") or ""
        label = node.text(deep=True)
        if href.startswith(("http://", "https://")) and label and label != href:
            out.append(f"[{label}]({href})")
        else:
            _walk(node, out)
    elif tag in _WRAP:
        mark = _WRAP[tag]
        out.append(mark)
        _walk(node, out)
        out.append(mark)
    elif tag in _BLOCKS and out and not "".join(out[-1:]).endswith("\n"):
        out.append("\n")
        _walk(node, out)
    else:
        _walk(node, out)


def plain(node: LexborNode | None) -> str:
    """The visible text of a node, whitespace collapsed (names, titles, counts)."""
    if node is None:
        return ""
    return " ".join(node.text(deep=True).split())
