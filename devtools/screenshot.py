"""`make screenshot`: the dashboard in Debian's Chromium at 1440x900 and 390x844, saved under docs/.

    python devtools/screenshot.py [--out DIR]

Starts `streamlit run dashboard.py` on a free local port (with the real data),
waits until the first chart has drawn, and saves docs/dashboard.png (desktop)
and docs/dashboard-phone.png (phone). Only this command writes those files.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from browser_helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    STEP_TIMEOUT_MS,
    streamlit_server,
    wait_for_first_chart,
)

SIZES = {"dashboard.png": (1440, 900), "dashboard-phone.png": (390, 844)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs")
    parser.add_argument("--full", action="store_true", help="the whole page, not only the first screen")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"no Chromium at {CHROMIUM}: install it with `apt-get install chromium`", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, streamlit_server(Path(tmp) / "streamlit.log") as url, \
            sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            for name, (width, height) in SIZES.items():
                page = browser.new_page(viewport={"width": width, "height": height},
                                        is_mobile=width < 500, has_touch=width < 500,
                                        device_scale_factor=2 if width < 500 else 1)
                page.set_default_timeout(STEP_TIMEOUT_MS)
                page.goto(url + "/")
                wait_for_first_chart(page)
                page.wait_for_timeout(1500)  # let fonts and the remaining charts settle
                page.screenshot(path=str(args.out / name), full_page=args.full)
                print(f"saved {args.out / name} ({width}x{height})")
                page.close()
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
