"""Shared by the static-site tests: build a site from exports, check its links, serve it with http.server."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

import archive
import indexer
from archive import Ingester, Policy
from tests.live import free_port

ATTR = re.compile(r'\s(href|src|action)="([^"]*)"')


def link_problems(out: Path) -> tuple[list[str], list[str], int]:
    """Broken internal links and references to other hosts over every HTML page; and the page count."""
    broken, external = [], []
    pages = sorted(out.rglob("*.html"))
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for attr, raw in ATTR.findall(text):
            value = html.unescape(raw)
            parts = urlsplit(value)
            if parts.scheme or value.startswith("//"):
                # Links to other hosts are fine (Discord, a URL someone posted); loading from them is not.
                loads = re.search(
                    rf'<link rel="(?:stylesheet|icon|preload|modulepreload)"[^>]*href="{re.escape(raw)}"',
                    text,
                )
                if attr == "src" or (attr == "href" and loads):
                    external.append(f"{page.relative_to(out)}: {value}")
                continue
            if not parts.path:
                continue
            if value.startswith("/"):
                broken.append(f"{page.relative_to(out)}: site-absolute {value}")
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file() or out.resolve() not in target.parents:
                broken.append(f"{page.relative_to(out)}: {value}")
    return broken, external, len(pages)


@contextmanager
def http_server(folder: Path) -> Iterator[str]:
    """`python -m http.server` over a folder on 127.0.0.1; yields its URL."""
    port = free_port()
    cmd = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(folder)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import time
        import urllib.request

        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def copy_site(data: Path, out: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of a data dir and its published site, to change and republish without touching the fixture."""
    data2, out2 = tmp_path / "data", tmp_path / "site"
    shutil.copytree(data, data2)
    shutil.copytree(out, out2)
    return data2, out2


def exclude_channel(data: Path, channel: str) -> None:
    """Exclude a channel by policy: the archive purges it and the index follows, as `hallway ingest --policy`."""
    conn = archive.connect(data / archive.ARCHIVE_FILE)
    try:
        Ingester(conn, Policy(exclude=(channel,))).apply_policy()
        indexer.update_index(data, conn)
    finally:
        conn.close()


def archive_ids(data: Path, sql: str) -> list[int]:
    """The first column of a query on a data dir's archive (read-only)."""
    conn = archive.connect(data / archive.ARCHIVE_FILE, readonly=True)
    try:
        return [r[0] for r in conn.execute(sql)]
    finally:
        conn.close()
