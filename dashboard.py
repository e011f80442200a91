"""Streamlit dashboard of reported drug seizures and street prices linked to North Korea.

    make run                                  # data/seizures.csv on http://127.0.0.1:8501
    streamlit run dashboard.py -- --data PATH # another cleaned CSV (or set SEIZURES_CSV=PATH)

This file only sets the page up and registers the pages; the main page lives
in app/page_dashboard.py. Optional pages written elsewhere are added when their
module exists and exposes render(): app/page_upload.py ("Check your own
reports") and app/page_draft.py ("Draft from an article").
"""
from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path

import streamlit as st

REPO = Path(__file__).resolve().parent
if str(REPO) not in sys.path:  # `streamlit run` does this already; AppTest and other runners may not
    sys.path.insert(0, str(REPO))

from app import page_dashboard  # noqa: E402

OPTIONAL_PAGES = (  # module, title, icon, url path
    ("app.page_upload", "Check your own reports", "✅", "check"),
    ("app.page_draft", "Draft from an article", "📝", "draft"),
)
log = logging.getLogger(__name__)


def optional_page(module_name: str, title: str, icon: str, url_path: str) -> st.Page | None:
    """The page of `module_name` if the module exists and has render(); None otherwise.

    A module that exists but fails to import is logged and left out, so a broken
    extra page never takes the dashboard down.
    """
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name == module_name:
            return None
        log.exception("page %s needs a module that is missing; page left out", module_name)
        return None
    except Exception:  # noqa: BLE001 - any import-time failure of a colleague's page
        log.exception("page %s failed to import; page left out", module_name)
        return None
    render = getattr(module, "render", None)
    if not callable(render):
        return None
    return st.Page(render, title=title, icon=icon, url_path=url_path)


# Icons are emoji: Streamlit draws them as inline SVG, while a ":material/...:" favicon is fetched from Google.
st.set_page_config(page_title="NK drug seizures", page_icon="📈", layout="wide",
                   initial_sidebar_state="expanded")
pages = [st.Page(page_dashboard.render, title="Seizures and prices", icon="📈", default=True)]
pages += [p for p in (optional_page(*spec) for spec in OPTIONAL_PAGES) if p is not None]
st.navigation(pages, position="sidebar" if len(pages) > 1 else "hidden").run()
