"""Browser tests: Playwright drives Debian's headless Chromium against a live `hallway serve`.

Flows: search → click a hit → the permalink shows the message highlighted in context; open a thread;
switch revision; copy a citation; keyboard `/`. Screenshots go to tests/screenshots/ (gitignored);
HALLWAY_UPDATE_SCREENSHOT=1 also refreshes docs/screenshot.png for the README.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live import build_data_dir, serve

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_exports"
SHOTS = ROOT / "tests" / "screenshots"
README_SHOT = ROOT / "docs" / "screenshot.png"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]  # fmt: skip
EDITED = "1171410726615682644"  # sample_exports/README.md FACTS: the edited message in #research
THREAD = "1239970985717853624"  # the #research thread (id = its starter message)
IN_THREAD_INFERRED = "1239971279310936025"  # a thread message whose parent was inferred

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium (apt-get install chromium)"
    ),
    pytest.mark.timeout(180),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `hallway serve` (uvicorn, one worker) over the sample community, on a free port."""
    if not any(SAMPLES.glob("*-export")):
        pytest.skip("sample_exports/ has no exports yet: run `python sample_exports/generate.py`")
    data_dir = tmp_path_factory.mktemp("browser") / "data"
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
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=server)  # type: ignore[attr-defined]
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    assert errors == [], errors  # no script errors, nothing blocked by the CSP
    context.close()


def shoot(pg: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"))  # type: ignore[attr-defined]


def test_browser_search_click_hit_shows_permalink_in_context(page: object) -> None:
    pg = page
    pg.goto("/search?q=tokenizer")  # type: ignore[attr-defined]
    first = pg.locator("a.hit-link").first  # type: ignore[attr-defined]
    href = first.get_attribute("href")
    assert href and href.startswith("/m/")
    shoot(pg, "search")
    first.click()
    pg.wait_for_url(f"**{href}")  # type: ignore[attr-defined]
    focus = pg.locator(".msg.is-focus")  # type: ignore[attr-defined]
    assert focus.count() == 1 and focus.get_attribute("id") == "m" + href.rsplit("/", 1)[1]
    assert focus.is_visible()
    assert pg.locator(".context .msg").count() > 1  # type: ignore[attr-defined]
    shoot(pg, "permalink")
    # The README's screenshot is refreshed on request only, so a test run leaves the checkout clean.
    if os.environ.get("HALLWAY_UPDATE_SCREENSHOT"):
        README_SHOT.parent.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(README_SHOT))  # type: ignore[attr-defined]


def test_browser_open_thread(page: object) -> None:
    pg = page
    pg.goto(f"/m/{THREAD}")  # type: ignore[attr-defined]
    pg.locator(f'.toolbar a[href="/t/{THREAD}"]').click()  # type: ignore[attr-defined]
    pg.wait_for_url(f"**/t/{THREAD}")  # type: ignore[attr-defined]
    assert pg.locator("h1").inner_text().endswith("Feature splitting at 16k vs 65k")  # type: ignore[attr-defined]
    assert pg.locator(".conversation .msg").count() == 36  # type: ignore[attr-defined]
    assert pg.locator(".turn.depth-1").count() > 0  # type: ignore[attr-defined]
    shoot(pg, "thread")


def test_browser_show_this_conversation_highlights_the_message(page: object) -> None:
    pg = page
    mid = IN_THREAD_INFERRED
    pg.goto(f"/m/{mid}")  # type: ignore[attr-defined]
    pg.get_by_role("link", name="Show this conversation").first.click()  # type: ignore[attr-defined]
    pg.wait_for_url(f"**/conv/{THREAD}#m{mid}")  # type: ignore[attr-defined]
    assert pg.locator("h1").inner_text().endswith("Feature splitting at 16k vs 65k")  # type: ignore[attr-defined]
    assert pg.locator(".conv-page .msg").count() >= 36  # the thread, plus its starter in #research  # type: ignore[attr-defined]
    assert pg.evaluate("document.querySelector(':target').id") == f"m{mid}"  # type: ignore[attr-defined]
    target = pg.locator(f"#m{mid}")  # type: ignore[attr-defined]
    assert target.is_visible() and target.evaluate(
        "e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }"
    )
    highlight = target.evaluate("e => getComputedStyle(e).boxShadow")
    assert highlight != "none"  # the :target bar, as on the permalink
    # It continues its author's run: the run says how it joined once, on its first line; this line adds nothing.
    run = target.locator("xpath=ancestor::div[contains(concat(' ', @class, ' '), ' group ')]")
    assert target.locator(".link-ref").count() == 0 and target.locator(".meta").count() == 0
    assert run.locator(".link-ref").first.inner_text().strip().endswith("linked by thread")
    shoot(pg, "conversation")
    pg.get_by_role("link", name="Only this conversation in #research").click()  # type: ignore[attr-defined]
    pg.wait_for_url(f"**/c/907543031316510423?conversation={THREAD}")  # type: ignore[attr-defined]
    assert pg.locator(".timeline .msg").count() == 2  # type: ignore[attr-defined]
    assert "Showing one conversation" in pg.locator(".conv-filter").inner_text()  # type: ignore[attr-defined]
    pg.goto("/c/907354337968331041")  # type: ignore[attr-defined]
    assert pg.locator(".timeline .conv-mark").count() == pg.locator(".timeline .msg").count()  # type: ignore[attr-defined]
    shoot(pg, "channel-conversations")


def test_browser_switch_revision(page: object) -> None:
    pg = page
    pg.goto(f"/m/{EDITED}")  # type: ignore[attr-defined]
    assert "8 A100s" in pg.locator(".msg.is-focus .content").inner_text()  # type: ignore[attr-defined]
    pg.get_by_role("link", name="Version 1").click()  # type: ignore[attr-defined]
    pg.wait_for_url(f"**/m/{EDITED}?v=1")  # type: ignore[attr-defined]
    assert "4 A100s" in pg.locator(".msg.is-focus .content").inner_text()  # type: ignore[attr-defined]
    assert f"/m/{EDITED}?v=1" in pg.locator("#cite-bibtex").inner_text()  # type: ignore[attr-defined]
    shoot(pg, "revision")


def test_browser_copy_citation(page: object) -> None:
    pg = page
    pg.goto(f"/m/{EDITED}")  # type: ignore[attr-defined]
    button = pg.get_by_role("button", name="Copy BibTeX")  # type: ignore[attr-defined]
    assert button.is_visible()
    button.click()
    pg.wait_for_selector('button.copy[data-copied="true"]')  # type: ignore[attr-defined]
    copied = pg.evaluate("navigator.clipboard.readText()")  # type: ignore[attr-defined]
    assert copied == pg.locator("#cite-bibtex").text_content()  # type: ignore[attr-defined]
    assert copied.startswith(f"@misc{{hallway-{EDITED}-v2,")
    pg.locator("#cite").scroll_into_view_if_needed()  # type: ignore[attr-defined]
    shoot(pg, "cite")


def test_browser_slash_focuses_search(page: object) -> None:
    pg = page
    pg.goto("/")  # type: ignore[attr-defined]
    pg.keyboard.press("/")  # type: ignore[attr-defined]
    assert pg.evaluate("document.activeElement.id") == "q"  # type: ignore[attr-defined]
    pg.keyboard.type("grokking")  # type: ignore[attr-defined]
    pg.keyboard.press("Enter")  # type: ignore[attr-defined]
    pg.wait_for_url("**/search?q=grokking")  # type: ignore[attr-defined]
    pg.goto("/")  # type: ignore[attr-defined]
    shoot(pg, "home")


def test_browser_pages_light_theme_and_phone(page: object, browser: object, server: str) -> None:
    pg = page
    pg.goto(f"/c/{THREAD}")  # type: ignore[attr-defined]
    shoot(pg, "channel")
    pg.get_by_role("button", name="Switch to light theme").click()  # type: ignore[attr-defined]
    assert pg.evaluate("document.documentElement.dataset.theme") == "light"  # type: ignore[attr-defined]
    pg.reload()  # type: ignore[attr-defined]
    assert pg.evaluate("document.documentElement.dataset.theme") == "light"  # type: ignore[attr-defined]
    shoot(pg, "channel-light")
    pg.goto("/u/908099447685166662")  # type: ignore[attr-defined]
    pg.goto("/no/such/page")  # type: ignore[attr-defined]
    assert "Page not found" in pg.locator("h1").inner_text()  # type: ignore[attr-defined]
    shoot(pg, "not-found")
    phone = browser.new_page(viewport={"width": 390, "height": 844}, base_url=server)  # type: ignore[attr-defined]
    phone.goto(f"/m/{EDITED}")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the permalink page scrolls sideways on a phone ({width}px)"
    SHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SHOTS / "permalink-phone.png"))
    phone.close()
