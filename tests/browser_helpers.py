"""Shared by the browser tests: Debian's Chromium and a real `streamlit run dashboard.py` on a free port."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
START_TIMEOUT_S = 45
STEP_TIMEOUT_MS = 30_000

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="browser test skipped: no Chromium at /usr/bin/chromium (install it with `apt-get install chromium`)",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(log_path: Path, app_args: list[str] = (), command: list[str] | None = None,
                     cwd: Path = REPO, env: dict | None = None):
    """Run `streamlit run dashboard.py` on 127.0.0.1 until it answers; stop it however the block ends.

    `command` replaces the whole command (then the port is passed as STREAMLIT_SERVER_PORT)."""
    port = free_port()
    log = log_path.open("w")
    env = dict(os.environ if env is None else env, STREAMLIT_SERVER_PORT=str(port))
    process = subprocess.Popen(
        command or
        [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none",  # edits elsewhere in the tree must not put a banner in the picture
         *(["--", *app_args] if app_args else [])],
        cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"streamlit exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer within {START_TIMEOUT_S}s")
            time.sleep(0.3)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        log.close()


def wait_for_first_chart(page) -> None:
    """Wait until the first Plotly chart of the page has drawn its marks."""
    page.wait_for_selector(".js-plotly-plot .main-svg", state="attached")
    page.wait_for_function("(() => { const p = document.querySelector('.js-plotly-plot');"
                           " return p && p.querySelectorAll('.point, .trace path, .bars path').length > 0; })()")
