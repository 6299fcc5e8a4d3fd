"""GET / (the guild directory) and its twin /index.json; GET /healthz."""

from __future__ import annotations

import sqlite3
import threading
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

import archive
from archive import views
from web import pages, present, urls
from web.deps import ConnDep
from web.markdown import pygments_css

router = APIRouter()
_LOCK = threading.Lock()
MAX_BARS = 24


def _month_index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def _month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def activity_bars(months: dict[str, int], max_bars: int = MAX_BARS) -> list[dict[str, Any]]:
    """Monthly counts over the channel's own active range (first to last month with a message), as at most
    `max_bars` bars: a long-lived channel gets bars of several months each (labelled first – last month)."""
    active = [m for m, n in months.items() if n]
    if not active:
        return []
    first, last = min(map(_month_index, active)), max(map(_month_index, active))
    width = -(-(last - first + 1) // max_bars)  # months per bar, rounded up
    bars = []
    for start in range(first, last + 1, width):
        end = min(start + width - 1, last)
        count = sum(months.get(_month_label(i), 0) for i in range(start, end + 1))
        label = _month_label(start) if start == end else f"{_month_label(start)} – {_month_label(end)}"
        bars.append({"month": label, "count": count})
    return bars


def _channel(c: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(c["id"]),
        "name": c["name"],
        "type": c["type"],
        "topic": c.get("topic"),
        "url": urls.channel_url(c["id"]) if c["id"] else None,
        "message_count": c["count"],
        "last_activity": present.iso(c["last_ts"]),
        "activity": activity_bars(c["months"]),
        "threads": [
            {
                "id": str(t["id"]),
                "name": t["name"],
                "type": t["type"],
                "url": urls.thread_url(t["id"]),
                "message_count": t["count"],
                "last_activity": present.iso(t["last_ts"]),
            }
            for t in c["threads"]
        ],
    }


def build_home(conn: sqlite3.Connection, directory: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Guilds → categories → channels (with threads and forum posts), counts, last activity, monthly activity;
    from `directory` when the caller already has `views.guild_directory(conn)` (it is not changed)."""
    guilds = views.guild_directory(conn) if directory is None else directory
    out = []
    for g in guilds:
        categories: dict[str, list[dict[str, Any]]] = {}
        for c in g["channels"]:
            categories.setdefault(c["category"] or "", []).append(_channel(c))
        out.append(
            {
                "id": str(g["id"]),
                "name": g["name"],
                "icon_url": present.safe_url(g["icon_url"]),
                "categories": [
                    {"name": name or None, "channels": chans} for name, chans in categories.items()
                ],
            }
        )
    _, newest = views.archive_span(conn)
    last_day = present.day(newest) if newest else None
    return {
        "guilds": out,
        "stats": archive.stats(conn),
        "last_day": last_day,
        # "What's new": the week up to the newest message, until a reader picks (or a script remembers) a day
        "digest_since": (date.fromisoformat(last_day) - timedelta(days=6)).isoformat() if last_day else None,
    }


def cached_home(request: Request, conn: sqlite3.Connection) -> dict[str, Any]:
    """The directory, rebuilt only when the archive's generation changes (ingest bumps it)."""
    gen = archive.generation(conn)
    cache: dict[int, dict[str, Any]] = request.app.state.home_cache
    with _LOCK:
        if gen in cache:
            return cache[gen]
    data = build_home(conn)
    with _LOCK:
        cache.clear()
        cache[gen] = data
    return data


def seed_home(app: FastAPI, generation: int, data: dict[str, Any]) -> None:
    """Give an app the directory of `generation` built elsewhere (a static build makes an app per part of the
    site, over one archive: built once, not once per app). Another generation rebuilds it as usual."""
    with _LOCK:
        app.state.home_cache.clear()
        app.state.home_cache[generation] = data


@router.get("/index.json", summary="Guilds, channels, threads, counts and activity", tags=["directory"])
def home_json(request: Request, conn: ConnDep) -> JSONResponse:
    """The guild directory as JSON."""
    return pages.json(cached_home(request, conn))


@router.get("/", include_in_schema=False)
def home_html(request: Request, conn: ConnDep) -> HTMLResponse:
    """The guild directory."""
    return pages.html(
        request, "home.html", cached_home(request, conn), feed_url=urls.digest_feed_url(),
        feed_title="Weekly digest (Atom)",
    )  # fmt: skip


@router.get("/healthz", summary="Liveness and archive readability", tags=["meta"])
def healthz(request: Request) -> JSONResponse:
    """`{"status": "ok", "archive": true|false}`; 200 even when nothing is ingested yet."""
    settings = request.app.state.settings
    path = settings.data_dir / archive.ARCHIVE_FILE
    ok = True
    try:
        conn = archive.connect(path, readonly=True)
        conn.execute("SELECT 1 FROM messages LIMIT 1").fetchall()
        conn.close()
    except (archive.ArchiveError, sqlite3.Error):
        ok = False
    return JSONResponse({"status": "ok", "archive": ok})


@router.get("/theme", include_in_schema=False)
def set_theme(set: str = "dark", next: str = "/") -> RedirectResponse:
    """Remember a theme in a cookie (the no-JavaScript theme switch) and go back to a local page."""
    target = next if next.startswith("/") and not next.startswith("//") and "\\" not in next else "/"
    response = RedirectResponse(target, status_code=303)
    if set in pages.THEMES:
        response.set_cookie(pages.THEME_COOKIE, set, max_age=365 * 86400, samesite="lax", httponly=False)
    return response


@router.get("/assets/code.css", include_in_schema=False)
def code_css() -> Response:
    """Pygments colours for code blocks: dark by default, light under [data-theme="light"]."""
    css = pygments_css("dark", '[data-theme="dark"]') + pygments_css("light", '[data-theme="light"]')
    return Response(css, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})
