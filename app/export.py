"""PNG and SVG of a chart, drawn by plotly.js itself in Debian's headless Chromium.

Plotly's own exporter (kaleido) is not installed and would download a browser.
Here the plotly.js bundled with the plotly package draws the figure in
/usr/bin/chromium (no network: every request is refused) and `Plotly.toImage`
returns the picture, so the download shows exactly what the page draws, with
the title, source, date and address that `charts.export_figure` adds.
"""
from __future__ import annotations

import base64
import concurrent.futures
import functools
import json
import threading
import urllib.parse
from pathlib import Path

import plotly
import plotly.graph_objects as go

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
_LOCK = threading.Lock()  # one browser at a time


class ExportError(Exception):
    pass


def available() -> bool:
    return CHROMIUM.exists() and PLOTLY_JS.exists()


@functools.lru_cache(maxsize=1)
def _plotly_js() -> str:
    return PLOTLY_JS.read_text(encoding="utf-8")


def render(fig: go.Figure, fmt: str, config: dict | None = None, scale: float = 2) -> bytes:
    """The figure as 'png' or 'svg' bytes (its layout's width and height, PNG at `scale`)."""
    if fmt not in ("png", "svg"):
        raise ValueError(f"unknown image format {fmt!r}")
    if not available():
        raise ExportError("Chromium is not installed on this server (/usr/bin/chromium).")
    spec = json.loads(fig.to_json())
    # Playwright's sync API must not run inside an event loop: a fresh thread has none.
    with _LOCK, concurrent.futures.ThreadPoolExecutor(1) as pool:
        url = pool.submit(_draw, spec, fmt, config or {}, scale).result(timeout=120)
    head, _, body = url.partition(",")
    if head.endswith(";base64"):
        return base64.b64decode(body)
    return urllib.parse.unquote(body).encode("utf-8")


def _draw(spec: dict, fmt: str, config: dict, scale: float) -> str:
    from playwright.sync_api import sync_playwright

    layout = spec.get("layout", {})
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = browser.new_page()
            page.route("**/*", lambda route: route.abort())  # nothing leaves the machine
            page.set_content("<!doctype html><html><body><div id='g'></div></body></html>")
            page.add_script_tag(content=_plotly_js())
            return page.evaluate(
                """async ([spec, fmt, config, scale]) => {
                    const gd = document.getElementById('g');
                    await Plotly.newPlot(gd, spec.data, spec.layout, Object.assign({staticPlot: true}, config));
                    return await Plotly.toImage(gd, {format: fmt, width: spec.layout.width,
                                                     height: spec.layout.height, scale: fmt === 'png' ? scale : 1});
                }""",
                [{"data": spec.get("data", []), "layout": layout}, fmt, config, scale],
            )
        finally:
            browser.close()
