"""Make a page rendered by the server work as a file: relative links, no server-only links, a CSP meta tag.

The viewer's templates and sanitizer always write attributes double-quoted and HTML-escaped, so one
pattern finds every link. A site-absolute link (or one under `--base-url`) becomes a relative path to the
file that holds its target; a link to something the static copy doesn't have (a JSON twin, the API docs,
a message that isn't archived) loses its attribute, so nothing on the site points at a missing file.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from publish.paths import INDEX, relative

# Only what the pages and Pagefind need: scripts from the site itself (Pagefind compiles WebAssembly),
# index fetches from the site, and no images, frames or fonts from other hosts.
CSP = (
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:;"
    " media-src 'self'; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'"
)
STUB_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'"  # a redirect page needs nothing
CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
_ATTR = re.compile(r'(\s(href|src|action)=")([^"]*)(")')
_REMOTE = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)
_CANONICAL = re.compile(r'<link rel="canonical" href="[^"]*">\n?')

Resolver = Callable[[str], str | None]


def site_path(value: str, base_url: str) -> str | None:
    """The site-absolute path of a link, or None when it points elsewhere (another host, an anchor)."""
    if base_url and (
        value == base_url or value.startswith(base_url + "/") or value.startswith(base_url + "?")
    ):
        value = value[len(base_url) :] or "/"
    if value.startswith("/") and not value.startswith("//"):
        return value
    return None


def rewrite(page: str, from_file: str, resolve: Resolver, base_url: str, *, keep_canonical: bool) -> str:
    """The page with internal links relative to `from_file`, dead ones removed and the CSP meta added."""

    def one(m: re.Match[str]) -> str:
        raw = html.unescape(m.group(3))
        path = site_path(raw, base_url)
        if path is None:
            # The site loads nothing from other hosts (a reader's visit is nobody else's business);
            # links to them stay links.
            return "" if m.group(2) == "src" and _REMOTE.match(raw) else m.group(0)
        target = resolve(path)
        if target is None:
            return ""
        return f"{m.group(1)}{html.escape(link_to(from_file, target), quote=True)}{m.group(4)}"

    head, sep, body = page.partition("</head>")
    if not sep:
        return _ATTR.sub(one, page)
    canonical = _CANONICAL.search(head)
    head = _ATTR.sub(one, _CANONICAL.sub("", head))
    kept = canonical.group(0) if canonical and keep_canonical else ""  # absolute on purpose: the public URL
    head = head.replace('<meta charset="utf-8">', '<meta charset="utf-8">\n' + CSP_META + "\n" + kept, 1)
    return head + sep + _ATTR.sub(one, body)


def link_to(from_file: str, target: str) -> str:
    """A relative link to `target` ("file[?query][#fragment]") from `from_file`."""
    file, hashmark, fragment = target.partition("#")
    file, qmark, query = file.partition("?")
    rel = relative(from_file, file) if file else ""
    if rel == INDEX and not query and fragment:
        rel = ""
    return rel + qmark + query + hashmark + fragment


def internal_links(page: str, base_url: str) -> list[str]:
    """Every site-absolute link on a page (unescaped), in order."""
    found = []
    for m in _ATTR.finditer(page):
        path = site_path(html.unescape(m.group(3)), base_url)
        if path is not None:
            found.append(path)
    return found


def redirect_page(message_id: int, to: str, canonical: str, note: str, extra: str = "") -> bytes:
    """A page at `m/<id>/index.html` that sends the browser on to `to` (relative): a `<meta http-equiv=
    "refresh">` and a plain link, with `note` after the link and `extra` (trusted HTML) below; no script,
    under a CSP that allows nothing."""
    e = html.escape
    head = f'<link rel="canonical" href="{e(canonical, quote=True)}">' if canonical else ""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{STUB_CSP}">'
        f'<meta http-equiv="refresh" content="0; url={e(to, quote=True)}">{head}'
        f"<title>Message {message_id}</title></head>"
        f'<body><p><a href="{e(to, quote=True)}">Message {message_id}</a>{note}</p>{extra}'
        "</body></html>\n"
    ).encode()
