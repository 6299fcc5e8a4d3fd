"""Browser tests of catching up: a past week's digest → a conversation; a channel's feed link → a valid feed;
"what's new since your last visit" remembered in the browser's own storage. Real Chromium, real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest

from tests.live import build_data_dir, serve
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, SAMPLES, shoot

RESEARCH = "907543031316510423"
THREAD = "1239970985717853624"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium"),
    pytest.mark.timeout(180),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir: Path = tmp_path_factory.mktemp("browser-digest") / "data"
    build_data_dir(data_dir, [SAMPLES])
    with serve(data_dir) as url:
        yield url


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: object, server: str) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server)  # type: ignore[attr-defined]
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    assert errors == [], errors
    context.close()


def test_browser_digest_of_a_past_week_leads_to_a_conversation(page: object) -> None:
    pg = page
    pg.goto("/digest?since=2024-05-13&until=2024-05-19")  # type: ignore[attr-defined]
    assert pg.locator("h1").inner_text() == "What happened, 2024-05-13 to 2024-05-19"  # type: ignore[attr-defined]
    first = pg.locator(".digest-channel").first  # type: ignore[attr-defined]
    assert first.locator("h2 a").inner_text() == "#research"
    title = first.locator(".digest-conv-title a").first
    assert title.inner_text() == "Feature splitting at 16k vs 65k"
    shoot(pg, "digest-week")
    title.click()
    pg.wait_for_url(f"**/conv/{THREAD}")  # type: ignore[attr-defined]
    assert "Feature splitting at 16k vs 65k" in pg.locator("h1").inner_text()  # type: ignore[attr-defined]
    pg.go_back()  # type: ignore[attr-defined]
    pg.locator("a[rel=next]").click()  # type: ignore[attr-defined]
    pg.wait_for_url("**/digest?since=2024-05-20&until=2024-05-26")  # type: ignore[attr-defined]


def test_browser_channel_feed_link_fetches_a_valid_feed(page: object, server: str) -> None:
    pg = page
    pg.goto(f"/c/{RESEARCH}")  # type: ignore[attr-defined]
    href = pg.locator('link[rel=alternate][type="application/atom+xml"]').get_attribute("href")  # type: ignore[attr-defined]
    assert href == f"/c/{RESEARCH}.atom"
    link = pg.locator("a.subscribe-link")  # type: ignore[attr-defined]
    assert link.is_visible() and link.get_attribute("href") == href
    response = pg.request.get(server + href)  # type: ignore[attr-defined]
    assert response.status == 200
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(response.body())
    assert feed.bozo == 0 and feed.feed.title == "#research · Hallway" and len(feed.entries) == 50
    again = pg.request.get(server + href, headers={"If-None-Match": response.headers["etag"]})  # type: ignore[attr-defined]
    assert again.status == 304


def test_browser_whats_new_remembers_the_last_visit_in_local_storage(page: object) -> None:
    pg = page
    pg.goto("/")  # type: ignore[attr-defined]
    box = pg.locator("#since-visit")  # type: ignore[attr-defined]
    assert box.input_value() == "2025-12-13"  # first visit: the week up to the newest message
    assert pg.locator("[data-last-visit]").is_hidden()  # type: ignore[attr-defined]
    pg.evaluate("window.localStorage.setItem('hallway.visitDay', '2024-05-13')")  # type: ignore[attr-defined]
    pg.reload()  # type: ignore[attr-defined]
    assert box.input_value() == "2024-05-13"
    note = pg.locator("[data-last-visit]")  # type: ignore[attr-defined]
    assert (
        note.inner_text() == "Your last visit in this browser was on 2024-05-13: what’s new since 2024-05-13"
    )
    assert pg.evaluate("window.localStorage.getItem('hallway.lastVisit')") == "2024-05-13"  # type: ignore[attr-defined]
    pg.locator(".whats-new button").click()  # type: ignore[attr-defined]
    pg.wait_for_url("**/digest?since=2024-05-13")  # type: ignore[attr-defined]
    assert pg.locator("h1").inner_text().startswith("What happened, 2024-05-13 to ")  # type: ignore[attr-defined]
    cookies = pg.context.cookies()  # type: ignore[attr-defined]
    assert [c["name"] for c in cookies] == []  # nothing about visits is sent to the server
