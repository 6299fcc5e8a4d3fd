"""/docs works offline: Swagger UI comes from the installed package, checked in Chromium with the network cut."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.factory import msg, write_export
from tests.live import build_data_dir, serve
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium"),
    pytest.mark.timeout(120),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp: Path = tmp_path_factory.mktemp("apidocs")
    build_data_dir(tmp / "data", [write_export(tmp / "e.json", [msg(0, "hello")])], conversations=False)
    with serve(tmp / "data") as url:
        yield url


def test_docs_render_with_the_network_blocked(server: str) -> None:
    outside: list[str] = []
    problems: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=server)

        def only_local(route: object) -> None:
            url = route.request.url  # type: ignore[attr-defined]
            if urlsplit(url).hostname == "127.0.0.1":
                route.continue_()  # type: ignore[attr-defined]
            else:
                outside.append(url)
                route.abort()  # type: ignore[attr-defined]

        context.route("**/*", only_local)
        page = context.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        response = page.goto("/docs")
        assert response is not None and response.status == 200
        try:
            page.wait_for_selector(".opblock-summary-path", timeout=30_000)
        except sync_api.TimeoutError:
            raise AssertionError(f"{outside} {problems} {page.inner_text('body')[:500]}") from None
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert "/search.json" in [t.replace("\u200b", "") for t in paths]
        assert page.locator(".info .title").inner_text().startswith("Hallway")
        browser.close()
    assert (outside, problems) == ([], [])
