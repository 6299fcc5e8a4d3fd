"""XSS in a real browser: a corpus of vectors, ingested as a DCE export, rendered by `hallway serve` in Chromium.

Every vector tries to run `console.log("XSS-FIRED"); window.__xss = 1; alert(1)`. The vectors sit in every
place an export can carry text: message content, embed title/description/fields/author/footer/urls,
attachment names and urls, mention names, reaction emoji, sticker names, channel name/topic, category,
guild name, author names, thread names, revisions and replies. The test crawls every page type (home,
search with hits on the vectors, channels, permalinks and revisions, threads and reply trees, users, error
pages, and any other internal link it finds, such as conversation pages) twice: once as served, and once
with the CSP bypassed, so that escaping alone must hold. It fails on any dialog, console marker, page error,
CSP violation report, `window.__xss`, live markup in the DOM (event-handler attributes, `javascript:` URLs,
scripts other than /static/app.js, frames), request to an unexpected host, or a response without the CSP.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from tests.factory import ALICE, BOB, sf, write_export
from tests.factory import msg as base_msg
from tests.live import build_data_dir, serve
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium (apt-get install chromium)"
    ),
    pytest.mark.timeout(240),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

MARKER = "XSS-FIRED"
JS = f"console.log('{MARKER}');window.__xss=1;alert(1)"
EVIL_HOST = "evil.example"
# Hosts an archive page may legitimately reference (avatars, CDN images): requested, never reached (aborted).
EXPECTED_HOSTS = {"127.0.0.1", "cdn.discordapp.com", "media.discordapp.net"}
MAX_PAGES = 130
GUILD_ID = "300000000000000777"
CHANNEL_ID = "200000000000000771"
THREAD_ID = sf(500)  # thread id = its starter message id

VECTORS: list[str] = [
    f"<script>{JS}</script>",
    f'<img src=x onerror="{JS}">',
    f'<svg onload="{JS}">',
    f"<svg><script>{JS}</script></svg>",
    f'<svg><animate onbegin="{JS}" attributeName=x dur=1s>',
    f'<iframe src="javascript:{JS}"></iframe>',
    f'<iframe srcdoc="<script>{JS}</script>"></iframe>',
    f'<a href="javascript:{JS}">html link</a>',
    f"[md link](javascript:{JS})",
    f"[md link](JaVaScRiPt:{JS})",
    f"[md link](javascript&colon;{JS})",
    f"[md link](<javascript:{JS}>)",
    f"[md link](%6Aavascript:{JS})",
    f"[md link](\tjavascript:{JS})",
    "[md link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[md link](vbscript:msgbox(1))",
    f'[md link](https://ok.test "t\\" onmouseover=\\"{JS}")',
    f'![image](x" onerror="{JS})',
    f"![image](https://{EVIL_HOST}/pixel.png)",
    f'<https://ok.test/"onmouseover="{JS}>',
    f'https://ok.test/"><script>{JS}</script>',
    f"https://ok.test/?q=<img/src/onerror={JS}>",
    f'<style>@import url(https://{EVIL_HOST}/x.css);body{{background:url("javascript:{JS}")}}</style>',
    f'<div style="background-image:url(javascript:{JS})">styled</div>',
    f'<body onload="{JS}">',
    f'<object data="javascript:{JS}"></object>',
    f'<embed src="javascript:{JS}">',
    f'<math><mtext><table><mglyph><style><img src=x onerror="{JS}">',
    f'<noscript><p title="</noscript><img src=x onerror={JS}>">',
    f"`inline <script>{JS}</script>`",
    f'```html\n<script>{JS}</script>\n<img src=x onerror="{JS}">\n```',
    f'<@{ALICE["id"]}><img src=x onerror="{JS}">',
    f'<:evil" onerror="{JS}:123456789012345678>',
    f"<a:x onerror={JS}:1>",
    f'<t:1700000000:R" onmouseover="{JS}>',
    f'<#{CHANNEL_ID}" onclick="{JS}>',
    f'||<img src=x onerror="{JS}">||',
    f"> <script>{JS}</script>",
    f"# <svg/onload={JS}>",
    f'<details open ontoggle="{JS}">x</details>',
    f'<input autofocus onfocus="{JS}">',
    f'<form action="javascript:{JS}"><button>go</button></form>',
    f'<meta http-equiv="refresh" content="0;url=javascript:{JS}">',
    f'<base href="javascript:{JS}//">',
    f'<link rel=stylesheet href="https://{EVIL_HOST}/x.css">',
    f'"><script>{JS}</script>',
    f"'><img src=x onerror={JS}>",
    f"</textarea><script>{JS}</script>",
    f"</title><script>{JS}</script>",
    f'<!--<img src="--><img src=x onerror="{JS}//">',
    f"<scr<script>ipt>{JS}</scr</script>ipt>",
    "&lt;script&gt;alert(1)&lt;/script&gt; &#60;img src=x onerror=alert(1)&#62;",
    f'<video><source onerror="{JS}"></video>',
    f'<marquee onstart="{JS}">m</marquee>',
    f'*<img src=x onerror="{JS}">* __<b onmouseover="{JS}">b</b>__ ~~<i onclick="{JS}">i</i>~~',
    f'[<img src=x onerror="{JS}">](https://ok.test)',
    f"[https://ok.test](javascript:{JS})",
    f'<img src="https://{EVIL_HOST}/beacon.gif">',
]

# Markup for the names an export carries (people, channel, guild, thread, emoji, files).
NAME_IMG = f'<img src=x onerror="{JS}">'
NAME_SVG = f'"><svg onload="{JS}">'
NAME_SCRIPT = f"</title><script>{JS}</script>"

EVIL_USER: dict[str, Any] = {
    "id": "100000000000000666",
    "name": NAME_IMG,
    "discriminator": "0000",
    "nickname": NAME_SVG,
    "color": "red;background:url(javascript:alert(1))",
    "isBot": False,
    "roles": [],
    "avatarUrl": f"javascript:{JS}",
}
EVIL_MENTION: dict[str, Any] = {**BOB, "name": f'<svg onload="{JS}">', "nickname": NAME_SCRIPT}


def _msg(offset: float, content: str, author: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    return base_msg(offset, content, author, **kw)


def _embed(n: int) -> dict[str, Any]:
    return {
        "title": f"embed title xssvec{n} {NAME_IMG} [t](javascript:{JS})",
        "url": f"javascript:{JS}",
        "timestamp": None,
        "description": f"embed description xssvec{n} <script>{JS}</script> [d](javascript:{JS})",
        "color": f"#fff;background:url(javascript:{JS})",
        "author": {"name": f'<svg onload="{JS}">', "url": f"javascript:{JS}", "iconUrl": f"javascript:{JS}"},
        "thumbnail": {"url": f"javascript:{JS}", "width": 1, "height": 1},
        "image": {"url": f'" onerror="{JS}', "width": 1, "height": 1},
        "images": [],
        "fields": [
            {
                "name": f'<b onmouseover="{JS}">field</b>',
                "value": f"[v](javascript:{JS}) {NAME_IMG}",
                "isInline": True,
            },
            {"name": NAME_SCRIPT, "value": f"<iframe src=javascript:{JS}>", "isInline": False},
        ],
        "footer": {"text": f'<iframe src="javascript:{JS}"></iframe>', "iconUrl": f"javascript:{JS}"},
        "inlineEmojis": [],
    }


def build_corpus(root: Path) -> dict[str, Any]:
    """Write the vector exports; return the ids the crawl starts from."""
    messages = [
        _msg(10 + n, f"xsscorpus xssvec{n} {v}", ALICE if n % 2 else EVIL_USER) for n, v in enumerate(VECTORS)
    ]
    base = 10 + len(VECTORS)
    rich = _msg(
        base + 1,
        f"xsscorpus richvec hi <@{BOB['id']}> and @{EVIL_MENTION['name']} {NAME_IMG}",
        EVIL_USER,
        mentions=[EVIL_MENTION],
        embeds=[_embed(999)],
        attachments=[
            {"id": "1", "url": f"javascript:{JS}", "fileName": f"<svg onload=\"{JS}\">.txt", "fileSizeBytes": 10},
            {"id": "2", "url": f"vectors_Files/{NAME_IMG}.png", "fileName": f"{NAME_SVG}.png", "fileSizeBytes": 20},
            {"id": "3", "url": f"https://{EVIL_HOST}/{NAME_IMG}.png", "fileName": "x\" onerror=\"alert(1).png", "fileSizeBytes": 5},
        ],
        stickers=[{"id": "9", "name": NAME_IMG, "format": "Png", "sourceUrl": f"javascript:{JS}"}],
        reactions=[
            {"emoji": {"id": "123456789012345678", "name": NAME_IMG, "code": NAME_SVG, "isAnimated": False,
                       "imageUrl": f"javascript:{JS}"}, "count": 2, "users": [ALICE, EVIL_USER]},
            {"emoji": {"id": "", "name": NAME_SCRIPT, "code": NAME_SCRIPT, "isAnimated": False,
                       "imageUrl": f"https://{EVIL_HOST}/e.svg"}, "count": 1, "users": [BOB]},
        ],
        interaction={"id": "5", "name": NAME_IMG, "user": EVIL_USER},
    )  # fmt: skip
    reply = _msg(
        base + 2,
        f"xsscorpus replyvec {NAME_SVG}",
        ALICE,
        type="Reply",
        reference={"messageId": sf(10), "channelId": CHANNEL_ID, "guildId": GUILD_ID},
    )
    edited_id = sf(base + 3)
    v1 = _msg(base + 3, f"xsscorpus editvec first <script>{JS}</script>", EVIL_USER)
    v2 = {
        **v1,
        "content": f"xsscorpus editvec second {NAME_IMG}",
        "timestampEdited": "2023-11-14T23:00:00.000+00:00",
    }
    starter = _msg(500, f"xsscorpus threadstart {NAME_IMG}", EVIL_USER, type="Default")
    chan: dict[str, Any] = {
        "channel_id": CHANNEL_ID,
        "channel_name": f"vectors{NAME_SVG}",
        "guild_id": GUILD_ID,
        "guild_name": f"Guild {NAME_SCRIPT}",
        "category_id": "200000000000000770",
        "category": f"cat <iframe src=javascript:{JS}>",
    }
    doc_old = write_export(
        root / "old" / "vectors.json", [v1], exported_at="2023-11-14T22:00:00.000+00:00", **chan
    )
    write_export(root / "new" / "vectors.json", [*messages, rich, reply, v2, starter], **chan)
    for path in (doc_old, root / "new" / "vectors.json"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        doc["channel"]["topic"] = f'topic <svg onload="{JS}"> [x](javascript:{JS})'
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    write_export(
        root / "new" / "thread.json",
        [
            _msg(501, f"xsscorpus inthread {NAME_SCRIPT}", ALICE),
            _msg(502, "xsscorpus inthread two", EVIL_USER),
        ],
        channel_id=THREAD_ID,
        channel_name=f"thread {NAME_IMG}",
        channel_type="GuildPublicThread",
        guild_id=GUILD_ID,
        guild_name=f"Guild {NAME_SCRIPT}",
        category_id=CHANNEL_ID,
        category=f"vectors{NAME_SVG}",
    )
    return {"rich": sf(base + 1), "edited": edited_id, "reply_target": sf(10), "thread": THREAD_ID}


@pytest.fixture(scope="module")
def xss_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any]]]:
    """A real `hallway serve` over the vector corpus."""
    tmp = tmp_path_factory.mktemp("xss")
    ids = build_corpus(tmp / "exports")
    data_dir = tmp / "data"
    # old before new: the newer export must arrive second for the revision and tombstone
    results = build_data_dir(data_dir, [tmp / "exports" / "old", tmp / "exports" / "new"])
    assert [r.status for r in results] == ["ok"] * len(results), results
    with serve(data_dir) as url:
        yield url, ids


def seed_paths(ids: dict[str, Any]) -> list[str]:
    """Every page type, with the vectors on them; the crawl adds whatever else these pages link to."""
    evil = EVIL_USER["id"]
    vector_queries = [
        "xsscorpus",
        "richvec",
        "editvec",
        VECTORS[0],
        NAME_SVG,
        f'from:"{NAME_IMG}"',
        f"in:{NAME_SVG} xsscorpus",
        f"has:<script>{JS}</script>",
        f"javascript:{JS}",
    ]
    paths = [
        "/",
        "/index.json",
        f"/c/{CHANNEL_ID}",
        f"/c/{CHANNEL_ID}.json",
        f"/c/{CHANNEL_ID}?date=2023-11-14",
        f"/c/{CHANNEL_ID}?date=2019-01-01",  # an empty day: the notice names the channel and its neighbours
        "/digest?since=2023-11-01&until=2023-12-31",  # every vector, as titles, openings and standouts
        f"/digest?since=2023-11-01&in={quote(NAME_IMG)}",  # the hint echoes an unknown channel name
    ]
    paths += [f"/search?q={quote(q)}" for q in vector_queries]
    paths += [f"/search.json?q={quote(q)}" for q in vector_queries[:3]]
    # A permalink shows 8 messages of context on each side, so every third one puts each vector on 3+ pages.
    paths += [f"/m/{sf(10 + n)}" for n in range(0, len(VECTORS), 3)]
    rich, edited = ids["rich"], ids["edited"]
    paths += [
        f"/m/{rich}",
        f"/m/{rich}.json",
        f"/m/{edited}?v=1",
        f"/m/{edited}?v=2",
        f"/m/{edited}.json?v=1",
    ]
    paths += [
        f"/t/{ids['thread']}",
        f"/t/{ids['thread']}.json",
        f"/t/{ids['reply_target']}",
        f"/c/{ids['thread']}",
    ]
    paths += [f"/u/{evil}", f"/u/{evil}.json", f"/u/{ALICE['id']}"]
    # Error pages reflect what was asked for.
    paths += [
        f"/m/{quote(VECTORS[0])}",
        f"/c/{quote(NAME_IMG)}",
        f"/nowhere/{quote(NAME_SVG)}",
        f"/m/{rich}?v={quote(NAME_IMG)}",
        f"/c/{CHANNEL_ID}?date={quote(NAME_IMG)}",
        f"/theme?set=light&next={quote('javascript:' + JS)}",
        f"/theme?next={quote('//' + EVIL_HOST + '/x')}",
    ]
    return paths


TEXT_TWINS = (".md", "/cite.bib", "/cite.ris", "/cite.json")


def _normalized(url: str) -> str | None:
    """An internal page path+query worth visiting, or None (static files, media, fragments, other hosts)."""
    parts = urlsplit(url)
    if parts.hostname not in (None, "127.0.0.1") or not parts.path.startswith("/"):
        return None
    if parts.path.startswith(("/static/", "/assets/", "/media/", "/docs", "/openapi")):
        return None
    if parts.path.endswith(TEXT_TWINS):  # served as downloads/text: checked over HTTP below
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


DOM_PROBE = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      const name = a.name.toLowerCase();
      const value = (a.value || '').replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase();
      if (name.startsWith('on')) bad.push(el.tagName + ' ' + name);
      if (['href', 'src', 'action', 'formaction', 'data', 'srcdoc', 'xlink:href', 'poster', 'background'].includes(name)
          && (value.startsWith('javascript:') || value.startsWith('vbscript:') || value.startsWith('data:text/html')))
        bad.push(el.tagName + ' ' + name + '=' + a.value.slice(0, 40));
      if (name === 'style' && el.closest('main') && /url\\(|expression/.test(value)) bad.push(el.tagName + ' style');
    }
  }
  for (const s of document.querySelectorAll('script')) {
    if (s.getAttribute('src') !== '/static/app.js' || s.textContent.trim()) bad.push('SCRIPT ' + (s.src || s.textContent.slice(0, 40)));
  }
  for (const t of ['iframe', 'object', 'embed', 'frame', 'base', 'form:not([role=search]):not([action^="/"])', 'meta[http-equiv]', 'main style', 'main link', 'main svg script', 'main math'])
    for (const el of document.querySelectorAll(t)) bad.push('ELEMENT ' + t);
  for (const a of document.querySelectorAll('a[href]')) {
    const h = a.getAttribute('href');
    if (!/^(\\/|#|https?:|mailto:)/i.test(h) && h !== '') bad.push('HREF ' + h.slice(0, 40));
  }
  return {bad: bad, fired: window.__xss === 1, links: Array.from(document.querySelectorAll('a[href]')).map(a => new URL(a.getAttribute('href'), location.href).href)};
}"""


class Crawl:
    """Visits pages in one browser context and collects everything that counts as a failure."""

    def __init__(self, browser: Any, base: str, *, bypass_csp: bool) -> None:
        self.base = base
        self.failures: list[str] = []
        self.blocked: list[str] = []
        self.responses = 0
        self.context = browser.new_context(base_url=base, bypass_csp=bypass_csp, java_script_enabled=True)
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.current = ""
        self.page.on("dialog", self._dialog)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.failures.append(f"{self.current}: page error {e}"))
        self.page.on("response", self._response)

    def _route(self, route: Any) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if host == "127.0.0.1":
            route.continue_()
            return
        if host not in EXPECTED_HOSTS:
            self.failures.append(f"{self.current}: request to unexpected host {route.request.url[:120]}")
        self.blocked.append(route.request.url)
        route.abort()

    def _dialog(self, dialog: Any) -> None:
        self.failures.append(f"{self.current}: dialog {dialog.type} {dialog.message!r}")
        dialog.dismiss()

    def _console(self, message: Any) -> None:
        text = message.text
        if MARKER in text or "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.failures.append(f"{self.current}: console {text[:200]!r}")

    def _response(self, response: Any) -> None:
        if urlsplit(response.url).hostname != "127.0.0.1":
            return
        self.responses += 1
        headers = response.headers
        if "content-security-policy" not in headers:
            self.failures.append(f"{response.url}: no Content-Security-Policy header")
        if headers.get("x-content-type-options") != "nosniff":
            self.failures.append(f"{response.url}: no X-Content-Type-Options: nosniff")

    def visit(self, path: str) -> list[str]:
        """Load one page, wait for deferred script, probe the DOM; return the internal links it has."""
        self.current = path
        response = self.page.goto(path, wait_until="load")
        assert response is not None, path
        if response.status >= 500:
            self.failures.append(f"{path}: HTTP {response.status}")
        # Give timers, autofocus and animations (onbegin, onstart, ontoggle) a chance to fire.
        self.page.wait_for_timeout(20)
        probe = self.page.evaluate(DOM_PROBE)
        if probe["fired"]:
            self.failures.append(f"{path}: window.__xss was set")
        self.failures += [f"{path}: {b}" for b in probe["bad"]]
        if "text/html" not in response.headers.get("content-type", ""):
            return []
        return [p for p in (_normalized(u) for u in probe["links"]) if p]

    def crawl(self, seeds: list[str], limit: int) -> list[str]:
        """Breadth-first over internal links, seeds first, at most `limit` pages; return the pages visited."""
        queue, seen = list(seeds), set(seeds)
        visited: list[str] = []
        while queue and len(visited) < limit:
            path = queue.pop(0)
            visited.append(path)
            for link in self.visit(path):
                if link not in seen and not link.startswith("/theme"):
                    seen.add(link)
                    queue.append(link)
        return visited

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def chromium(xss_server: tuple[str, dict[str, Any]]) -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _page_kinds(visited: list[str]) -> set[str]:
    return {p.split("?")[0].split("/")[1] or "/" for p in visited}


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["with-csp", "csp-bypassed"])
def test_xss_vectors_never_run_on_any_page(
    chromium: Any, xss_server: tuple[str, dict[str, Any]], bypass_csp: bool
) -> None:
    base, ids = xss_server
    crawl = Crawl(chromium, base, bypass_csp=bypass_csp)
    started = time.monotonic()
    try:
        visited = crawl.crawl(seed_paths(ids), MAX_PAGES)
    finally:
        crawl.close()
    elapsed = time.monotonic() - started
    print(
        f"\nxss[{'csp-bypassed' if bypass_csp else 'with-csp'}]: {len(VECTORS)} content vectors + names/embeds/"
        f"attachments/reactions/stickers; {len(visited)} pages, {crawl.responses} responses, "
        f"{len(crawl.blocked)} external requests aborted, {elapsed:.1f}s"
    )
    print("page kinds:", sorted(_page_kinds(visited)))
    assert crawl.failures == []
    assert {"/", "search", "search.json", "c", "m", "t", "u", "index.json"} <= _page_kinds(visited)
    assert not any(EVIL_HOST in u for u in crawl.blocked)


def test_xss_text_twins_and_citations_are_never_html(xss_server: tuple[str, dict[str, Any]]) -> None:
    """.md twins and citation files carry the vectors verbatim, but as text a browser won't render as HTML."""
    import httpx

    base, ids = xss_server
    rich, edited = ids["rich"], ids["edited"]
    paths = [f"/m/{rich}{suffix}" for suffix in TEXT_TWINS]
    paths += [f"/m/{edited}{suffix}?v=1" for suffix in TEXT_TWINS]
    paths += [f"/m/{sf(10 + n)}.md" for n in range(len(VECTORS))]
    with httpx.Client(base_url=base, timeout=10) as client:
        for path in paths:
            r = client.get(path)
            assert r.status_code == 200, path
            ctype = r.headers["content-type"]
            assert "html" not in ctype and "svg" not in ctype and "xml" not in ctype, (path, ctype)
            assert r.headers.get("x-content-type-options") == "nosniff", path
            assert "default-src 'none'" in r.headers.get("content-security-policy", ""), path
    assert len(paths) >= len(VECTORS)


def test_xss_harness_catches_a_vector_that_gets_through(
    chromium: Any, xss_server: tuple[str, dict[str, Any]]
) -> None:
    """Control: the same probes flag raw (unescaped) vectors, so a pass above means something."""
    crawl = Crawl(chromium, xss_server[0], bypass_csp=True)
    try:
        crawl.current = "control"
        crawl.page.set_content("".join(VECTORS[:3]) + f'<a href="javascript:{JS}">x</a>')
        crawl.page.wait_for_timeout(50)
        probe = crawl.page.evaluate(DOM_PROBE)
    finally:
        crawl.close()
    assert probe["fired"]
    assert any("console" in f and MARKER in f for f in crawl.failures)
    assert any("dialog alert" in f for f in crawl.failures)
    assert any(b.startswith("SCRIPT") for b in probe["bad"]) and any("onerror" in b for b in probe["bad"])
