"""The shared top of a split site: a landing page linking each part, and a redirect at every `/m/<id>/`.

A split site keeps each message's permalink inside its part (`OUT/<part>/m/<id>/`), so each part is a
whole site of its own. So that a permalink written against the server (or an unsplit copy) still
resolves, `OUT/m/<id>/index.html` is a small redirect: a `<meta http-equiv="refresh">` to the part's page
and a plain link, under a CSP that allows nothing at all (no script is needed to redirect).

What the redirects hold depends only on which part each message is in, the base URL and the code: when
their digest is the previous build's, the redirects are kept as they are, not made and compared again
(at a million messages, a million files).
"""

from __future__ import annotations

import hashlib
import html

import orjson

from publish.links import redirect_page, rewrite
from publish.plan import Plan
from publish.render import Renderer
from publish.site import STATIC_DIRS
from publish.writer import SiteWriter


def stub(part: str, message_id: int, canonical: str) -> bytes:
    """The redirect page at `m/<id>/index.html` to the permalink in its part."""
    note = f" (in the {html.escape(part)} part of this archive)"
    return redirect_page(message_id, f"../../{part}/m/{message_id}/index.html", canonical, note)


def redirects_digest(plans: list[Plan], base_url: str, code: str) -> str:
    """A digest of everything the landing folder's redirects are made of."""
    h = hashlib.blake2b(orjson.dumps([code, base_url]), digest_size=16)
    for p in plans:
        h.update(orjson.dumps([p.part.folder, p.messages]))
    return h.hexdigest()


def write_landing(renderer: Renderer, plans: list[Plan], by: str, writer: SiteWriter, code: str) -> str:
    """OUT/index.html listing the parts, the files it needs, and a redirect for every permalink; the
    redirects' digest, for the next build."""
    base = renderer.settings.base_url
    page = {
        "title": renderer.settings.site_name,
        "by": by,
        "parts": [
            {"label": p.part.label, "href": f"{p.part.folder}/index.html", "messages": f"{len(p.records):,}"}
            for p in plans
        ],
    }
    files = {"/": "index.html", "/assets/code.css": "assets/code.css"}
    for folder in STATIC_DIRS:
        for path in sorted(folder.iterdir()):
            if path.is_file():
                files[f"/static/{path.name}"] = f"static/{path.name}"
                writer.write(f"static/{path.name}", path.read_bytes())
    writer.write("assets/code.css", renderer.get("/assets/code.css").body)
    landing = renderer.template("publish_landing.html", page)
    writer.write("index.html", rewrite(landing, "index.html", files.get, base, keep_canonical=False).encode())
    digest = redirects_digest(plans, base, code)
    same = not writer.force and digest == writer.landing
    for p in plans:
        for mid in p.messages:
            file = f"m/{mid}/index.html"
            if same and writer.had(file):
                writer.keep(file)
            else:
                writer.write(file, stub(p.part.folder, mid, f"{base}/m/{mid}" if base else ""))
    return digest
