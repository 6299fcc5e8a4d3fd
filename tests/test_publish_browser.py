"""The static site in Chromium, served by `python -m http.server`: search → permalink, filters, conversation,
feed link; and the XSS corpus of the hardening tests rendered as static pages, with 0 script executions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from publish import publish_site
from tests.live import build_data_dir
from tests.publish_site import http_server
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium"),
    pytest.mark.timeout(300),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
PHRASE = "the tokenizer ate our whitespace again"  # sample_exports/README.md: distinctive phrases
RESEARCH = "907543031316510423"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Visit:
    """A browser context that records script errors, CSP reports and requests to other hosts."""

    def __init__(self, browser: Any, base: str, *, bypass_csp: bool = False) -> None:
        self.problems: list[str] = []
        self.other_hosts: list[str] = []
        self.context = browser.new_context(base_url=base, bypass_csp=bypass_csp)
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.problems.append(f"page error {e}"))
        self.page.on("dialog", lambda d: (self.problems.append(f"dialog {d.message!r}"), d.dismiss()))
        self.page.on("console", self._console)

    def _route(self, route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            self.other_hosts.append(route.request.url)
            route.abort()

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text or "XSS-FIRED" in message.text:
            self.problems.append(message.text[:200])


@pytest.fixture(scope="module")
def site_url(sample_site: tuple[Path, Path, object]) -> Iterator[str]:
    with http_server(sample_site[1].parent) as url:  # served from a sub-path: /site/
        yield url + "/site/"


def _search(pg: Any, query: str) -> None:
    pg.goto(f"search/index.html?q={query}")
    pg.wait_for_selector("body[data-search-ready]")
    pg.wait_for_function("() => document.querySelectorAll('#search-results .hit').length > 0")


def test_static_search_phrase_then_permalink_highlights_it(chromium: Any, site_url: str) -> None:
    v = Visit(chromium, site_url)
    pg = v.page
    _search(pg, f'"{PHRASE}"')
    first = pg.locator("#search-results a.hit-link").first
    assert PHRASE.split()[1] in first.inner_text().lower()
    href = first.get_attribute("href") or ""
    assert re.fullmatch(r"/site/m/\d+/index\.html(#m\d+)?", href), href  # the permalink
    mid = href.split("/")[3]
    first.click()  # … which leads to the message in its timeline, highlighted
    pg.wait_for_url(f"**/c/**#m{mid}")
    focus = pg.locator(".msg:target")
    assert focus.count() == 1 and PHRASE in focus.inner_text().lower()
    assert focus.get_attribute("id") == f"m{mid}"
    assert urlsplit(pg.url).path.startswith("/site/c/")
    assert (v.problems, v.other_hosts) == ([], [])
    v.context.close()


def test_static_search_filter_by_channel_and_hint(chromium: Any, site_url: str) -> None:
    v = Visit(chromium, site_url)
    pg = v.page
    _search(pg, "tokenizer before:2024-01-01")
    assert "before: can't be used" in pg.locator("#search-hints").inner_text()
    done = pg.get_attribute("body", "data-searches")
    pg.select_option("#filter-channel", value="research")
    pg.wait_for_function("(d) => document.body.getAttribute('data-searches') !== d", arg=done)
    assert "in:research" in pg.input_value("#search-q")
    metas = pg.locator("#search-results .hit-meta").all_inner_texts()
    assert metas and all(" in #research · " in m for m in metas)
    assert "in%3Aresearch" in pg.url or "in:research" in pg.url
    assert (v.problems, v.other_hosts) == ([], [])
    v.context.close()


def test_static_conversation_and_feed_links(chromium: Any, site_url: str) -> None:
    v = Visit(chromium, site_url)
    pg = v.page
    pg.goto(f"c/{RESEARCH}/index.html")
    dead = pg.locator(".msg a.conv-link:not([href])").first  # a one-message conversation: no page, no link
    dead.locator("xpath=ancestor::article[1]").hover()
    assert not dead.is_visible()
    link = pg.locator(".msg a.conv-link[href]").first  # a conversation of more than one message
    link.locator("xpath=ancestor::article[1]").hover()  # its actions show on hover
    link.click()
    pg.wait_for_url("**/conv/*/index.html*")
    assert pg.locator("article.msg").count() > 0 and pg.locator("h1").inner_text()
    pg.goto(f"c/{RESEARCH}/index.html")
    feed = pg.locator("a.subscribe-link")
    assert feed.count() == 1
    feed.click()
    pg.wait_for_url("**/feed.atom")
    assert "<feed" in pg.content() or "feed" in pg.content()
    response = pg.request.get(pg.url)
    assert response.status == 200 and b"<feed" in response.body()
    assert (v.problems, v.other_hosts) == ([], [])
    v.context.close()


@pytest.fixture(scope="module")
def xss_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    from tests.test_xss_browser import build_corpus

    tmp = tmp_path_factory.mktemp("xss-site")
    build_corpus(tmp / "exports")
    build_data_dir(tmp / "data", [tmp / "exports" / "old", tmp / "exports" / "new"])
    # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(publish_site, tmp / "data", tmp / "site").result()
    pages, stubs = [], []
    for p in sorted((tmp / "site").rglob("*.html")):
        text = p.read_text(encoding="utf-8")
        # A permalink redirect (publish/permalinks.py) holds ids and fixed words only: opened in the browser
        # it goes on at once to the timeline page, which is visited in its own right.
        stub = '<meta http-equiv="refresh"' in text.partition("</head>")[0]
        (stubs if stub else pages).append(p.relative_to(tmp / "site").as_posix())
        if stub:
            assert "<script" not in text and "xss" not in text.lower() and "onerror" not in text, p
    assert len(stubs) > 10
    with http_server(tmp / "site") as url:
        yield url + "/", pages


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["with-csp", "csp-bypassed"])
def test_static_xss_corpus_never_runs(
    chromium: Any, xss_site: tuple[str, list[str]], bypass_csp: bool
) -> None:
    url, pages = xss_site
    v = Visit(chromium, url, bypass_csp=bypass_csp)
    fired = []
    for path in [*pages, "search/index.html?q=xsscorpus"]:
        v.page.goto(path, wait_until="load")
        if "?q=" in path:
            v.page.wait_for_selector("#search-results .hit")
            assert v.page.locator("#search-results .hit").count() > 5
        v.page.wait_for_timeout(10)
        if v.page.evaluate("() => window.__xss === 1"):
            fired.append(path)
    assert len(pages) > 10 and {p.split("/")[0] for p in pages} >= {"c", "conv", "digest", "u"}
    assert fired == []
    assert [p for p in v.problems if "XSS" in p or "dialog" in p] == []
    if not bypass_csp:
        assert v.problems == [] and v.other_hosts == []
    v.context.close()
