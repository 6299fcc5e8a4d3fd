"""The shared top of a split site: a landing page linking each part, and a redirect at every `/m/<id>/`.

A split site keeps each message's permalink inside its part (`OUT/<part>/m/<id>/`), so each part is a
whole site of its own. So that a permalink written against the server (or an unsplit copy) still
resolves, `OUT/m/<id>/index.html` is a small redirect: a `<meta http-equiv="refresh">` to the part's page
and a plain link, under a CSP that allows nothing at all (no script is needed to redirect).
"""

from __future__ import annotations

import html

from publish.links import redirect_page, rewrite
from publish.plan import Plan
from publish.render import Renderer
from publish.site import STATIC_DIRS
from publish.writer import SiteWriter


def stub(part: str, message_id: int, canonical: str) -> bytes:
    """The redirect page at `m/<id>/index.html` to the permalink in its part."""
    note = f" (in the {html.escape(part)} part of this archive)"
    return redirect_page(message_id, f"../../{part}/m/{message_id}/index.html", canonical, note)


def write_landing(renderer: Renderer, plans: list[Plan], by: str, writer: SiteWriter) -> None:
    """OUT/index.html listing the parts, the files it needs, and a redirect for every permalink."""
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
    for p in plans:
        for mid in p.messages:
            writer.write(f"m/{mid}/index.html", stub(p.part.folder, mid, f"{base}/m/{mid}" if base else ""))
