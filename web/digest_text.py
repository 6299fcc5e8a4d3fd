"""The digest as documents: Markdown (the `/digest.md` twin) and standalone HTML, from `build_digest`'s data."""

from __future__ import annotations

import html
from typing import Any

import jinja2

from web import mdtext as md
from web import urls
from web.feeds import absolute_html


def _who(m: dict[str, Any] | None) -> str:
    return md.escape_inline(m["author"]["display_name"]) if m and m.get("author") else "Unknown author"


def _link(base: str, path: str) -> str:
    return md.autolink(urls.absolute(base, path))


def _quote(m: dict[str, Any], label: str, base: str) -> list[str]:
    text = "\n".join((m.get("content") or "(no text)").strip().splitlines()[:12])
    head = f"{label} **{_who(m)}**, {m['timestamp']} {_link(base, m['url'])}".strip()
    return ["", *("    " + line for line in [head, "", *md.quoted(text).splitlines()]), ""]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def build_digest_markdown(d: dict[str, Any], base_url: str) -> str:
    """A digest for people and language models: per channel, ranked conversations with links.

    Chat content and names are escaped (`web.mdtext`): an export can't change the document's structure.
    """
    names = ", ".join(f"#{c['name']}" for c in d["channels_filter"])
    lines = [
        "# " + md.escape_heading(f"Digest {d['since']} – {d['until']}" + (f" in {names}" if names else "")),
        "",
        f"- {_plural(d['total_messages'], 'message')} in {_plural(d['total_conversations'], 'conversation')}"
        " (UTC days, both inclusive)",
        f"- Same messages in search: `{d['search_query']}` {_link(base_url, d['search_url'])}",
        f"- Permalink: {_link(base_url, d['url'])}",
        "",
    ]
    lines += [f"> {md.escape_inline(h)}" for h in d["hints"]]
    for s in d["channels"]:
        title = md.escape_heading(f"#{s['channel']['name']}")
        lines += [
            f"## {title} ({_plural(s['messages'], 'message')}, {_plural(s['conversation_count'], 'conversation')})",
            "",
        ]
        for n, c in enumerate(s["conversations"], 1):
            thread = f" (thread: {md.escape_inline(c['thread']['name'])})" if c.get("thread") else ""
            lines.append(
                f"{n}. **{md.escape_inline(c['title'])}**{thread}: {_plural(c['messages'], 'message')},"
                f" {_plural(c['participants'], 'participant')}, {_plural(c['reactions'], 'reaction')},"
                f" {c['start']} – {c['end']} {_link(base_url, c['url'])}"
            )
            if c.get("opening"):
                lines += _quote(c["opening"], "Opened by", base_url)
            if c.get("standout"):
                lines += _quote(c["standout"], "Most replied or reacted:", base_url)
        if s["more"]:
            lines += ["", f"…and {_plural(s['more'], 'more conversation')} (see the JSON twin)."]
        lines.append("")
    if d["new_threads"]:
        lines += ["## New threads and forum posts", ""]
        lines += [
            f"- {md.escape_inline(t['name'])} by {_who(t)}, {t['started']} {_link(base_url, t['url'])}"
            for t in d["new_threads"]
        ]
        lines.append("")
    for key, title in (("pinned", "Pinned"), ("announcements", "Announcements")):
        if d[key]:
            lines += [f"## {title}"]
            for m in d[key]:
                lines += [line[4:] if line.startswith("    ") else line for line in _quote(m, "", base_url)]
            lines.append("")
    return "\n".join(line.rstrip() for line in lines).rstrip() + "\n"


def build_digest_document(env: jinja2.Environment, d: dict[str, Any], base_url: str, site: str) -> str:
    """The digest as one standalone HTML document (links absolute), e.g. for `hallway digest --format html`."""
    body = str(env.get_template("_digest.html").module.digest_body(d))  # type: ignore[attr-defined]
    title = html.escape(f"Digest {d['since']} – {d['until']} · {site}")
    return (
        f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{title}</title>\n</head>\n'
        f"<body>\n<h1>{title}</h1>\n{absolute_html(base_url, body)}\n</body>\n</html>\n"
    )
