"""Issue 15: the safety settings hold however and wherever the dashboard is started.

Starts the real server from a folder outside the repository, with an empty home
folder (no user config), opens the page in Chromium so the script runs, and
reads the settings the running server reports on its log.
"""
from __future__ import annotations

import ast
import os
import subprocess
import sys

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

from app import settings


def reported_settings(log: str) -> dict:
    line = next(x for x in log.splitlines() if x.startswith("dashboard settings: "))
    return ast.literal_eval(line.removeprefix("dashboard settings: "))


@needs_chromium
@pytest.mark.parametrize("how", ["streamlit run", "python dashboard.py"])
def test_settings_hold_when_started_from_another_folder(tmp_path, how):
    from playwright.sync_api import sync_playwright

    elsewhere, home = tmp_path / "elsewhere", tmp_path / "home"
    elsewhere.mkdir(), home.mkdir()
    script = str(REPO / "dashboard.py")
    command = ([sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true"] if how == "streamlit run"
               else [sys.executable, script])
    env = dict(os.environ, HOME=str(home), SEIZURES_CACHE_DIR=str(tmp_path / "cache"))
    log = tmp_path / "streamlit.log"
    with streamlit_server(log, command=command, cwd=elsewhere, env=env) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(STEP_TIMEOUT_MS)
            page.goto(url + "/")
            wait_for_first_chart(page)
        finally:
            browser.close()
        text = log.read_text()
    assert reported_settings(text) == settings.SAFE
    assert "0.0.0.0" not in text and "Network URL" not in text


def test_make_run_passes_every_safety_setting():
    # under `make test` the outer make's flags would add "Entering/Leaving directory" lines: run it plainly
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    out = subprocess.run(["make", "--no-print-directory", "-n", "run"], cwd=REPO, capture_output=True, text=True,
                         check=True, env=env).stdout
    [command] = [line for line in out.splitlines() if "streamlit run" in line]
    assert "streamlit run dashboard.py" in command
    assert " ".join(settings.flags()) in command


def test_config_file_beside_the_script_holds_the_same_settings():
    import tomllib

    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    flat = {f"{section}.{key}": value for section, values in config.items() for key, value in values.items()}
    for key, value in settings.SAFE.items():
        assert flat[key] == value, key
