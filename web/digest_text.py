"""The digest as documents: Markdown (the `/digest.md` twin) and standalone HTML, from `build_digest`'s data."""

from __future__ import annotations

import html
from typing import Any

import jinja2

from web import urls
from web.feeds import absolute_html


def _who(m: dict[str, Any] | None) -> str:
    return m["author"]["display_name"] if m and m.get("author") else "Unknown author"


def _quote(m: dict[str, Any], label: str, base: str) -> list[str]:
    text = (m.get("content") or "*(no text)*").strip()
    lines = [f"  > {label} **{_who(m)}**, {m['timestamp']} <{urls.absolute(base, m['url'])}>"]
    lines += [f"  > {line}" for line in text.splitlines()[:12]]
    return lines


def build_digest_markdown(d: dict[str, Any], base_url: str) -> str:
    """A digest for people and language models: per channel, ranked conversations with links."""
    where = (
        (" in " + ", ".join(f"#{c['name']}" for c in d["channels_filter"])) if d["channels_filter"] else ""
    )
    lines = [
        f"# Digest {d['since']} – {d['until']}{where}",
        "",
        f"- {d['total_messages']} messages in {d['total_conversations']} conversations (UTC days, both inclusive)",
        f"- Same messages in search: `{d['search_query']}` <{urls.absolute(base_url, d['search_url'])}>",
        f"- Permalink: <{urls.absolute(base_url, d['url'])}>",
        "",
    ]
    lines += [f"> {h}" for h in d["hints"]]
    for s in d["channels"]:
        lines += [
            f"## #{s['channel']['name']} ({s['messages']} messages, {s['conversation_count']} conversations)",
            "",
        ]
        for n, c in enumerate(s["conversations"], 1):
            thread = f" (thread: {c['thread']['name']})" if c.get("thread") else ""
            lines.append(
                f"{n}. **{c['title']}**{thread}: {c['messages']} messages, {c['participants']} participants,"
                f" {c['reactions']} reactions, {c['start']} – {c['end']} <{urls.absolute(base_url, c['url'])}>"
            )
            if c.get("opening"):
                lines += _quote(c["opening"], "Opened by", base_url)
            if c.get("standout"):
                lines += _quote(c["standout"], "Most replied or reacted:", base_url)
        if s["more"]:
            lines.append(f"\n…and {s['more']} more conversations (see the JSON twin).")
        lines.append("")
    if d["new_threads"]:
        lines += ["## New threads and forum posts", ""]
        lines += [
            f"- {t['name']} by {_who(t)}, {t['started']} <{urls.absolute(base_url, t['url'])}>"
            for t in d["new_threads"]
        ]
        lines.append("")
    for key, title in (("pinned", "Pinned"), ("announcements", "Announcements")):
        if d[key]:
            lines += [f"## {title}", ""]
            for m in d[key]:
                lines += _quote(m, "", base_url)
                lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def build_digest_document(env: jinja2.Environment, d: dict[str, Any], base_url: str, site: str) -> str:
    """The digest as one standalone HTML document (links absolute), e.g. for `hallway digest --format html`."""
    body = str(env.get_template("_digest.html").module.digest_body(d))  # type: ignore[attr-defined]
    title = html.escape(f"Digest {d['since']} – {d['until']} · {site}")
    return (
        f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{title}</title>\n</head>\n'
        f"<body>\n<h1>{title}</h1>\n{absolute_html(base_url, body)}\n</body>\n</html>\n"
    )
