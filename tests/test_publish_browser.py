"""The static site in Chromium, served by `python -m http.server`: search → permalink, filters, conversation,
feed link; and the XSS corpus of the hardening tests rendered as static pages, with 0 script executions.
"""

from __future__ import annotations

import itertools
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


def _all_hits(pg: Any) -> list[tuple[str, str, str]]:
    """(message id, author, channel) of every hit, pressing "More results" until there are no more."""
    while pg.locator("#search-more").is_visible():
        n = pg.locator("#search-results .hit").count()
        pg.click("#search-more")
        pg.wait_for_function(
            "(n) => document.querySelectorAll('#search-results .hit').length > n"
            " || document.getElementById('search-more').hidden",
            arg=n,
        )
    return [
        tuple(h)
        for h in pg.evaluate("""() => [...document.querySelectorAll('#search-results .hit')]
        .map((li) => [li.querySelector('a.hit-link').getAttribute('href').split('/').at(-2),
                      li.querySelector('.author').textContent,
                      /in #(.*) · /.exec(li.querySelector('.hit-meta').textContent)[1]])""")
    ]


@pytest.fixture(scope="module")
def records(sample_site: tuple[Path, Path, object]) -> list[Any]:
    """The site's search records, as the build made them from the archive."""
    import archive
    from publish.plan import Part, build_plan, walk

    conn = archive.connect(sample_site[0] / archive.ARCHIVE_FILE, readonly=True)
    try:
        return build_plan(walk(conn), 50, Part()).records
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("query", "wanted"),
    [
        ('from:"Odile Marr-Ruiz"', lambda r: r.author == "Odile Marr-Ruiz"),
        ("has:link", lambda r: "link" in r.has),
        ('from:"Sunniva Falk" has:code', lambda r: r.author == "Sunniva Falk" and "code" in r.has),
        ("in:research during:2023", lambda r: r.channel == "research" and r.timestamp.startswith("2023")),
    ],
    ids=["from", "has", "from+has", "in+during"],
)
def test_static_filters_are_exact_per_message(
    chromium: Any, site_url: str, records: list[Any], query: str, wanted: Any
) -> None:
    # Pagefind filters whole groups of messages; the search page keeps only the messages that pass.
    v = Visit(chromium, site_url)
    expected = sorted(r.id for r in records if wanted(r))
    assert expected
    _search(v.page, query)
    hits = _all_hits(v.page)
    assert sorted(h[0] for h in hits) == expected
    assert (
        v.page.locator("#results-h").inner_text()
        == f"{len(expected)} result{'s' if len(expected) > 1 else ''}"
    )
    assert (v.problems, v.other_hosts) == ([], [])
    v.context.close()


def test_static_words_and_author_keep_only_that_authors_matching_messages(
    chromium: Any, site_url: str, records: list[Any]
) -> None:
    v = Visit(chromium, site_url)
    _search(v.page, "tokenizer")
    everyone = _all_hits(v.page)
    _search(v.page, 'tokenizer from:"Zinnia Oduya"')
    hers = _all_hits(v.page)
    texts = {r.id: r.text.lower() for r in records}
    assert {h[1] for h in everyone} > {"Zinnia Oduya"}  # others wrote it too, in the same groups
    assert hers and {h[1] for h in hers} == {"Zinnia Oduya"}
    assert sorted(hers) == sorted(h for h in everyone if h[1] == "Zinnia Oduya")
    # every message of hers with the word is found (stemming may find more: "tokenizers")
    assert {r.id for r in records if r.author == "Zinnia Oduya" and "tokenizer" in texts[r.id]} <= {
        h[0] for h in hers
    }
    marks = v.page.locator("#search-results .hit mark").all_inner_texts()
    assert marks and all("token" in m.lower() for m in marks)  # a word, or a word holding it (a URL)
    option = v.page.locator('#filter-author option[value="Odile Marr-Ruiz"]').inner_text()
    assert option == f"Odile Marr-Ruiz ({sum(1 for r in records if r.author == 'Odile Marr-Ruiz')})"
    assert (v.problems, v.other_hosts) == ([], [])
    v.context.close()


def test_static_words_must_all_be_in_the_message_not_just_in_its_page(
    chromium: Any, site_url: str, records: list[Any]
) -> None:
    # Pagefind matches the words anywhere in a page of messages; the page keeps the messages with both.
    v = Visit(chromium, site_url)
    _search(v.page, "tokenizer whitespace")
    hits = {h[0] for h in _all_hits(v.page)}
    both = {
        r.id
        for r in records
        if re.search(r"\btoken", r.text, re.I) and re.search(r"\bwhitespac", r.text, re.I)
    }
    either = {r.id for r in records if re.search(r"\btoken|\bwhitespac", r.text, re.I)}
    assert hits == both and len(either) > len(both) > 0
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


def _searched(pg: Any, query: str) -> None:
    """Search and wait until the search has finished, found or not."""
    pg.goto(f"search/index.html?q={query}")
    pg.wait_for_selector("body[data-searches]")


def test_static_phrase_must_be_whole_in_one_message_not_run_on_into_the_next(
    chromium: Any, site_url: str, records: list[Any]
) -> None:
    # A page of messages is one text for Pagefind: the last word of one message and the first of the next
    # are a phrase to it. The page shows a phrase only where one message holds all of it.
    from publish.search_index import group

    def words(text: str) -> list[str]:
        return re.findall(r"[a-z]+", text.lower())

    texts = [" " + " ".join(words(r.text)) + " " for r in records]
    pairs = [
        (a, b)
        for g in group(records)
        for a, b in itertools.pairwise(g)
        if re.search(r"[a-z]{4,}[.!?]?$", a.text.lower()) and re.match(r"[a-z]{4,}\b", b.text.lower())
    ]
    a, b = next(
        (a, b) for a, b in pairs if not any(f" {words(a.text)[-1]} {words(b.text)[0]} " in t for t in texts)
    )
    v = Visit(chromium, site_url)
    _searched(v.page, f'"{words(a.text)[-1]} {words(b.text)[0]}"')
    assert v.page.locator("#search-results .hit").count() == 0
    assert (
        v.page.locator("#search-status").inner_text()
        == "Nothing matched. Try fewer words, or remove a filter."
    )
    inside = " ".join(words(a.text)[-2:])  # the end of the first message: a phrase it holds
    _searched(v.page, f'"{inside}"')
    found = {h[0] for h in _all_hits(v.page)}
    assert a.id in found and b.id not in found
    assert found == {r.id for r, t in zip(records, texts, strict=True) if f" {inside} " in t}
    _searched(v.page, f'"{words(a.text)[-1]} {words(b.text)[0]}" {words(a.text)[0]}')  # with a word
    assert v.page.locator("#search-results .hit").count() == 0
    assert (v.problems, v.other_hosts) == ([], [])
    v.context.close()


@pytest.mark.parametrize("sort", ["newest", "oldest"])
@pytest.mark.parametrize("query", ["during:2022", "has:code"])
def test_static_sort_by_date_is_exact_across_pages_of_results(
    chromium: Any, site_url: str, records: list[Any], sort: str, query: str
) -> None:
    # Groups of different channels overlap in time, and a page of hits is shown before every group is
    # read: each page must still hold exactly the next messages by date.
    kind, value = query.split(":")
    wanted = [r for r in records if (r.timestamp.startswith(value) if kind == "during" else value in r.has)]
    # (the same date twice is ordered by id)
    expected = sorted(wanted, key=lambda r: (r.timestamp, r.id), reverse=sort == "newest")
    assert len(expected) > 20 and len({r.channel for r in expected}) > 1
    v = Visit(chromium, site_url)
    v.page.goto(f"search/index.html?q={query}&sort={sort}")
    v.page.wait_for_selector("body[data-searches]")
    first = [h[0] for h in _all_hits(v.page)][:20]
    v.page.goto(f"search/index.html?q={query}&sort={sort}")  # a first page alone, before any "More"
    v.page.wait_for_selector("body[data-searches]")
    shown = v.page.eval_on_selector_all(
        "#search-results a.hit-link", "els => els.map((a) => a.getAttribute('href').split('/').at(-2))"
    )
    assert shown == [r.id for r in expected[:20]]
    assert first == shown
    assert [h[0] for h in _all_hits(v.page)] == [r.id for r in expected]
    assert (v.problems, v.other_hosts) == ([], [])
    v.context.close()
