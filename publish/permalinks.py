"""Permalinks of the static copy: `m/<id>/index.html` and its citation files, written a batch at a time.

A message's own page on the server shows it with a few neighbours, its replies and its history. The static
copy shows the message where its timeline has it (the channel page, at its anchor, highlighted by
`:target`), so `m/<id>/index.html` is a small redirect there, with a plain link and the links to its
citation files: a page of a few hundred bytes instead of a rendered page of ~15 KB (what makes a million
messages publishable). A message with more than one version keeps a rendered page, and one per
revision, because only there is its history shown. Citations are the server's (`build_citations`), a
few queries per batch; each says it was accessed on the day its permalink was first published.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from archive import views
from publish.links import link_to, redirect_page
from publish.render import CITE_BUILDERS
from web import urls
from web.routes.messages import build_citations

if TYPE_CHECKING:
    from publish.site import SiteBuilder

BATCH = 500


def write_permalinks(b: SiteBuilder, ids: list[int]) -> None:
    """The permalinks (and citation files) of a batch of messages; pages whose inputs didn't change are
    kept."""
    versions = views.version_counts(b.conn, ids)
    base = b.renderer.settings.base_url
    todo: dict[int, tuple[str, str, str | None]] = {}  # id → file, where it points, fingerprint
    for mid in ids:
        if versions.get(mid, 1) > 1:
            b.write_message(mid)  # its history: a rendered page (and one per revision)
            continue
        file = f"m/{mid}/index.html"
        where = b.resolve(urls.channel_url(b.inputs.channel_of(mid), around=mid))
        if where is None:
            continue
        fp = b.inputs.stub(mid, where)
        kept = b.keep_page(file, fp)
        if kept is not None:
            b.replay(kept)
            continue
        todo[mid] = (file, where, fp)
    if not todo:
        return
    since = {
        mid: str(b.cache.facts(b.writer.prefix + f).get("since") or b.today)
        for mid, (f, _, _) in todo.items()
    }
    cites = build_citations(
        b.conn, b.renderer.settings, list(todo), {m: date.fromisoformat(d) for m, d in since.items()}
    )
    for mid, (file, where, fp) in todo.items():
        files = []
        if mid in cites:
            citation = cites[mid]
            for ext, build in CITE_BUILDERS.items():
                name = f"m/{mid}/cite.{ext}"
                b.writer.write(name, build(citation).encode())
                b.known.add(name)
                files.append(name)
        page = stub(mid, link_to(file, where), f"{base}/m/{mid}" if base else "", bool(files))
        b.writer.write(file, page)
        b.known.add(file)
        b.pages += 1
        if fp is not None:
            b.record(file, fp, files, since=since[mid], v=versions.get(mid, 1))


def stub(message_id: int, to: str, canonical: str, cites: bool) -> bytes:
    """The page at `m/<id>/index.html`: a redirect to the message in its timeline (`to`, relative), with a
    plain link there and to the citation files."""
    links = '<p>Cite: <a href="cite.bib">BibTeX</a> · <a href="cite.json">CSL-JSON</a> · <a href="cite.ris">RIS</a></p>'
    return redirect_page(message_id, to, canonical, ", in its timeline.", links if cites else "")
