"""The dashboard in a real browser: `streamlit run` on a free localhost port, driven by Debian's Chromium.

Saves docs/dashboard.png. Skipped (with the reason) where /usr/bin/chromium is
missing; Playwright never downloads a browser of its own.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
import pytest

from browser_helpers import CHROMIUM, CHROMIUM_ARGS, REPO, STEP_TIMEOUT_MS, needs_chromium, streamlit_server
from csv_records import file_records

SCREENSHOT = REPO / "docs" / "dashboard.png"
CHARTS = 5

pytestmark = needs_chromium


@pytest.fixture
def server(tmp_path):
    """`streamlit run dashboard.py` on a snapshot of the real data; stopped however the test ends."""
    shutil.copy(REPO / "data" / "seizures.csv", tmp_path / "seizures.csv")
    shutil.copy(REPO / "data" / "datapackage.json", tmp_path / "datapackage.json")
    with streamlit_server(tmp_path / "streamlit.log", ["--data", str(tmp_path / "seizures.csv")]) as url:
        yield url, tmp_path / "seizures.csv"


def expected_download(csv_path: Path) -> bytes:
    """The rows of the default view (one report per incident), exactly as the file spells them."""
    header, records = file_records(csv_path)
    keep = pd.read_csv(csv_path)["is_representative"].astype(bool)
    return (header + "".join(r for r, k in zip(records, keep) if k)).encode("utf-8")

def test_dashboard_in_chromium(server):
    from playwright.sync_api import sync_playwright

    url, csv_path = server
    outside: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
                                     timeout=STEP_TIMEOUT_MS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 2050}, accept_downloads=True)
            page = context.new_page()
            page.set_default_timeout(STEP_TIMEOUT_MS)
            page.on("request", lambda r: outside.append(r.url)
                    if urlparse(r.url).scheme in ("http", "https", "ws", "wss")
                    and urlparse(r.url).hostname != "127.0.0.1" else None)
            page.goto(url + "/")

            # every chart renders an SVG, and each drew its marks
            page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {CHARTS}")
            page.wait_for_function("document.querySelectorAll('.geo .countries path, .geo .land path').length > 0")
            assert page.locator(".js-plotly-plot").count() == CHARTS
            assert page.locator(".js-plotly-plot .barlayer .point").count() > 0        # kilograms per year
            assert page.locator(".js-plotly-plot .scatterlayer .point").count() > 0    # points, prices, USD check
            assert page.locator(".js-plotly-plot .scattergeo .point").count() > 0      # map markers
            assert page.get_by_text("Incidents").first.is_visible()
            page.wait_for_timeout(500)  # let the last transitions finish before the picture
            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), animations="disabled")

            # the filtered download in the browser holds exactly the rows of the view
            page.get_by_role("tab", name="Table and downloads").click()
            with page.expect_download() as download:
                page.get_by_role("button", name="Filtered rows (CSV)").click()
            assert Path(download.value.path()).read_bytes() == expected_download(csv_path)

            # a filter change lands in the address bar, and that address reopens the view
            sidebar = page.get_by_test_id("stSidebarUserContent")
            sidebar.get_by_text("Count each incident once", exact=True).click()
            page.wait_for_url("**once=false**")
            shared = page.url
            page.goto(shared)
            page.wait_for_function("document.querySelectorAll('[data-testid=\"stDataFrame\"]').length > 0")
            toggle = page.get_by_test_id("stSidebarUserContent").get_by_role("switch", name="Count each incident once", exact=True)
            assert toggle.is_checked() is False
        finally:
            browser.close()
    assert SCREENSHOT.stat().st_size > 50_000
    assert not outside, f"the page contacted outside hosts: {sorted(set(outside))}"
