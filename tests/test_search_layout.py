"""The search page at 1280 px: long URLs in snippets wrap (no sideways scroll, the facet column stays whole),
and the month histogram draws every month of the range, months without hits included."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.factory import msg, write_export
from tests.live import build_data_dir, serve
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS
from web.app import create_app
from web.settings import Settings

DAY = 86400
LONG_URL = "https://example.org/" + "abcdefghij" * 40 + "?q=" + "x" * 200  # no break opportunity


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp: Path = tmp_path_factory.mktemp("layout")
    # November 2023, then nothing in December and January, then February 2024.
    messages = [msg(0, f"layout check {LONG_URL}"), msg(DAY, "layout again"), msg(95 * DAY, "layout later")]
    build_data_dir(tmp / "data", [write_export(tmp / "e.json", messages)], conversations=False)
    return tmp / "data"


@pytest.fixture(scope="module")
def client(data_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=data_dir))) as c:
        yield c


def test_histogram_draws_every_month_of_the_range(client: TestClient) -> None:
    months = client.get("/search.json", params={"q": "layout"}).json()["facets"]["months"]
    assert [(m["month"], m["count"], m["url"] is not None) for m in months] == [
        ("2023-11", 2, True), ("2023-12", 0, False), ("2024-01", 0, False), ("2024-02", 1, True),
    ]  # fmt: skip
    html = client.get("/search", params={"q": "layout"}).text
    assert 'viewBox="0 0 32 48"' in html
    assert re.findall(r'<rect x="(\d+)"', html) == ["0", "24"]


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium")
@pytest.mark.timeout(120)
def test_search_page_fits_1280px_with_long_urls(data_dir: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    with serve(data_dir) as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{url}/search?q=layout")
        width = page.evaluate("document.documentElement.scrollWidth")
        facets = page.locator(".facets").bounding_box()
        browser.close()
    assert width <= 1280
    assert facets is not None and facets["x"] + facets["width"] <= 1280
