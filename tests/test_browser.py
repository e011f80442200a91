"""The dashboard in a real browser: `streamlit run` on a free localhost port, driven by Debian's Chromium.

At 1440x900 and at a 390x844 phone: the first chart is on the first screen and
nothing covers a chart title (not the sidebar, not a toolbar shown on hover).
Every chart draws, with no request to any other host; the PNG and SVG
downloads carry the title and source. Skipped (with the reason) where
/usr/bin/chromium is missing. This test never writes docs/: `make screenshot` does.
"""
from __future__ import annotations

import shutil
from urllib.parse import urlparse

import pytest
from browser_helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    REPO,
    STEP_TIMEOUT_MS,
    needs_chromium,
    streamlit_server,
    wait_for_first_chart,
)

CHARTS = {"Seizures": 2, "Prices": 3, "Map": 1}  # charts per tab (only the open tab is drawn)
pytestmark = needs_chromium

COVERED = """(el) => {
    // the element drawn on top at points of the title's text; anything but the title itself covers it
    const range = document.createRange();
    range.selectNodeContents(el);
    const out = [];
    for (const r of range.getClientRects()) {
        for (const [x, y] of [[r.left + 3, r.top + r.height / 2], [r.left + r.width / 2, r.top + r.height / 2],
                              [r.right - 3, r.top + r.height / 2], [r.right - 3, r.top + 2], [r.left + 3, r.bottom - 2]]) {
            if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) continue;
            const top = document.elementFromPoint(x, y);
            if (top && !el.contains(top)) out.push(top.tagName + '.' + (top.className || '') + ' ' +
                                                    (top.getAttribute('data-testid') || ''));
        }
    }
    return out;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`streamlit run dashboard.py` on a snapshot of the real data; stopped however the tests end."""
    tmp = tmp_path_factory.mktemp("browser")
    shutil.copy(REPO / "data" / "seizures.csv", tmp / "seizures.csv")
    shutil.copy(REPO / "data" / "datapackage.json", tmp / "datapackage.json")
    env = dict(__import__("os").environ, SEIZURES_CACHE_DIR=str(tmp / "cache"))
    with streamlit_server(tmp / "streamlit.log", ["--data", str(tmp / "seizures.csv")], env=env) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
                               timeout=STEP_TIMEOUT_MS)
        try:
            yield b
        finally:
            b.close()


def open_page(browser, url: str, width: int, height: int, outside: list[str] | None = None, query: str = ""):
    phone = width < 500
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone,
                                  accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(STEP_TIMEOUT_MS)
    if outside is not None:
        page.on("request", lambda r: outside.append(r.url)
                if urlparse(r.url).scheme in ("http", "https", "ws", "wss")
                and urlparse(r.url).hostname != "127.0.0.1" else None)
    page.goto(url + "/" + query)
    wait_for_first_chart(page)
    return page


@pytest.mark.parametrize("width, height", [(1440, 900), (390, 844)], ids=["desktop", "phone"])
def test_first_chart_is_on_the_first_screen_and_no_title_is_covered(server, browser, width, height):
    page = open_page(browser, server, width, height)
    try:
        chart = page.locator(".js-plotly-plot").first
        box = chart.bounding_box()
        assert box["y"] >= 0 and box["y"] + 150 <= height, f"first chart starts at {box['y']:.0f}px of {height}px"
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1
        titles = page.locator("[data-testid='stMarkdownContainer'] h5")
        assert titles.count() == CHARTS["Seizures"]
        for i in range(titles.count()):
            title = titles.nth(i)
            title.scroll_into_view_if_needed()
            page.locator(".js-plotly-plot").nth(i).hover()  # shows the element toolbars
            page.wait_for_timeout(200)
            covered = title.evaluate(COVERED)
            assert not covered, f"title {i + 1} ({title.inner_text()!r}) is covered by {covered}"
        if width < 500:  # the filters are one tap away, and their panel does not cover the page on arrival
            sidebar = page.get_by_test_id("stSidebar").bounding_box()
            assert sidebar is None or sidebar["x"] + sidebar["width"] <= 1, f"the sidebar covers the page: {sidebar}"
    finally:
        page.context.close()


@pytest.mark.parametrize("tab", list(CHARTS))
def test_every_chart_draws_offline(server, browser, tab):
    outside: list[str] = []
    page = open_page(browser, server, 1440, 2400, outside, query=f"?tab={tab}")
    try:
        page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {CHARTS[tab]}")
        assert page.locator(".js-plotly-plot").count() == CHARTS[tab]
        if tab == "Seizures":
            assert page.locator(".js-plotly-plot .barlayer .point").count() > 0
        if tab == "Map":
            page.wait_for_function("document.querySelectorAll('.geo .countries path, .geo .land path').length > 0")
            assert page.locator(".js-plotly-plot .scattergeo .point").count() > 0
        else:
            assert page.locator(".js-plotly-plot .scatterlayer .point").count() > 0
    finally:
        page.context.close()
    assert not outside, f"the page contacted outside hosts: {sorted(set(outside))}"


def test_chart_downloads_carry_title_and_source(server, browser):
    page = open_page(browser, server, 1440, 900, query="?country=Japan")
    try:
        page.get_by_role("button", name="Download chart").first.click()
        got = {}
        for kind in ("PNG", "SVG"):
            with page.expect_download(timeout=90_000) as download:
                page.get_by_role("button", name=f"Image ({kind}) with title and source").click()
            got[kind] = (download.value.suggested_filename, open(download.value.path(), "rb").read())
        with page.expect_download() as download:
            page.get_by_role("button", name="This chart's data (CSV)").click()
        got["CSV"] = (download.value.suggested_filename, open(download.value.path(), "rb").read())
    finally:
        page.context.close()
    name, png = got["PNG"]
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000
    assert name.endswith("_country-Japan_kg_per_year.png") and "_v" in name
    name, svg = got["SVG"]
    text = svg.decode("utf-8")
    assert text.startswith("<svg") and "Kilograms seized per year, by drug" in text and "Source: reports" in text
    assert "country=Japan" in text  # the address of the view is drawn in
    name, data = got["CSV"]
    assert data.startswith(b"\xef\xbb\xbfyear,drug,kilograms,seizures")
