"""The upload page in a real browser: `streamlit run dashboard.py`, Chromium uploads a file, downloads the results.

Covers what AppTest cannot: the page registered by the dashboard at /check,
the browser's file input, and the bytes a visitor actually downloads.
Skipped (with the reason) where /usr/bin/chromium is missing.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from app.page_upload import check_uploads

from browser_helpers import CHROMIUM, CHROMIUM_ARGS, REPO, STEP_TIMEOUT_MS, needs_chromium, streamlit_server

FIXTURES = REPO / "tests" / "fixtures" / "upload"

pytestmark = needs_chromium


@pytest.fixture
def server(tmp_path):
    """`streamlit run dashboard.py` with the project's .streamlit/config.toml; stopped however the test ends."""
    with streamlit_server(tmp_path / "streamlit.log") as url:
        yield url


def data_digest() -> dict[str, str]:
    return {p.relative_to(REPO).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((REPO / "data").rglob("*")) if p.is_file()}


def test_upload_check_and_download_in_chromium(server):
    from playwright.sync_api import sync_playwright

    reports, sources = FIXTURES / "errors.csv", FIXTURES / "sources.csv"
    expected = check_uploads(reports.read_bytes(), sources.read_bytes(), "errors.csv")
    before = data_digest()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
                                     timeout=STEP_TIMEOUT_MS)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 1800}, accept_downloads=True).new_page()
            page.set_default_timeout(STEP_TIMEOUT_MS)
            page.goto(server + "/check")
            page.get_by_text("Upload a reports file to check it.").wait_for()
            inputs = page.locator("[data-testid='stFileUploaderDropzoneInput']")
            inputs.nth(0).set_input_files(str(reports))
            inputs.nth(1).set_input_files(str(sources))
            page.get_by_text("Problems: 4 error(s), 1 warning(s)").wait_for()
            page.get_by_text("5 input rows = 2 normalised + 3 rejected").wait_for()

            with page.expect_download() as normalised:
                page.get_by_role("button", name="Download the normalised rows (CSV)").click()
            assert normalised.value.suggested_filename == "errors.normalised.csv"
            assert Path(normalised.value.path()).read_bytes() == expected.normalised_csv

            with page.expect_download() as rejects:
                page.get_by_role("button", name="Download the rejected rows (CSV)").click()
            rejected = Path(rejects.value.path()).read_bytes()
            assert rejected == expected.rejects_csv
            assert b"\"'=HYPERLINK(" in rejected  # the formula in a rejected row arrives neutralised
        finally:
            browser.close()
    assert data_digest() == before
