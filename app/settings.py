"""The Streamlit settings that matter for safety, applied however the dashboard is started.

`make run` passes them as flags (`flags()`), `.streamlit/config.toml` next to
dashboard.py holds them (Streamlit reads the config folder beside the main
script from any working directory), `python dashboard.py` starts Streamlit with
the flags, and `apply()` at the top of dashboard.py sets the ones Streamlit
reads while running. The bind address cannot change once the server listens:
when it is not the local machine, `apply()` says so and the page refuses to
serve data (unless SEIZURES_ALLOW_REMOTE=1 says that is intended).
"""
from __future__ import annotations

import logging
import os
import sys

SAFE = {
    "server.address": "127.0.0.1",      # only this machine can connect
    "client.showErrorDetails": "none",  # visitors never see a traceback
    "server.maxUploadSize": 5,          # MB
    "browser.gatherUsageStats": False,  # nothing is sent to Streamlit's servers
}
RUNTIME = ("client.showErrorDetails", "server.maxUploadSize", "browser.gatherUsageStats")
ALLOW_REMOTE = "SEIZURES_ALLOW_REMOTE"
LOCAL = {"127.0.0.1", "localhost", "::1"}
log = logging.getLogger(__name__)
_said = False


def flags() -> list[str]:
    """The command-line flags of `streamlit run` for the safe settings."""
    out = []
    for key, value in SAFE.items():
        out += [f"--{key}", str(value).lower() if isinstance(value, bool) else str(value)]
    return out


def apply() -> str | None:
    """Set the settings Streamlit reads at run time; return a refusal text when the server listens beyond
    this machine (None when all is well)."""
    from streamlit import config

    for key in RUNTIME:
        if config.get_option(key) != SAFE[key]:
            config.set_option(key, SAFE[key], "dashboard.py")
    global _said
    if not _said:  # once per process, on the server's log (the tests read it)
        print(f"dashboard settings: {effective()}", file=sys.stderr, flush=True)
        _said = True
    address = config.get_option("server.address") or ""
    if address not in LOCAL and os.environ.get(ALLOW_REMOTE) != "1" and _serving():
        return (f"This dashboard was started to listen on “{address or 'every network interface'}”, not only on "
                f"this machine. Start it with `make run` or `python dashboard.py` (which listen on 127.0.0.1), or "
                f"set {ALLOW_REMOTE}=1 if serving other machines is intended.")
    return None


def effective() -> dict:
    from streamlit import config

    return {key: config.get_option(key) for key in SAFE}


def _serving() -> bool:
    """True inside a running Streamlit server (not in AppTest or a bare import)."""
    try:
        from streamlit.runtime import Runtime

        return Runtime.exists() and type(Runtime._instance) is Runtime  # AppTest runs on a mock
    except Exception:  # noqa: BLE001
        return False
