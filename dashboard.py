"""Streamlit dashboard of reported drug seizures and street prices linked to North Korea.

    make run                                  # on http://127.0.0.1:8501
    python dashboard.py [-- --data PATH]      # the same, from any folder
    streamlit run dashboard.py -- --data PATH # another cleaned file (Parquet or CSV), or set SEIZURES_DATA=PATH

This file applies the safety settings (app/settings.py), sets the page up and
starts the navigation: the readers' page (app/page_dashboard.py) and, under
"Curate", the curators' tools (app/page_upload.py, app/page_draft.py).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent
if str(REPO) not in sys.path:  # `streamlit run` does this already; other runners may not
    sys.path.insert(0, str(REPO))

from app import settings

if __name__ == "__main__" and "streamlit" not in sys.modules:
    # `python dashboard.py [-- --data PATH]`: start Streamlit with the safe settings, from any folder
    # (under `streamlit run` or AppTest, streamlit is already imported and this is skipped)
    args = sys.argv[1:]
    os.execv(sys.executable, [sys.executable, "-m", "streamlit", "run", str(Path(__file__).resolve()),
                              *settings.flags(), "--server.headless", "true",
                              *(["--", *args[1:]] if args[:1] == ["--"] else (["--", *args] if args else []))])

import streamlit as st

refusal = settings.apply()
st.set_page_config(page_title="NK drug seizures", page_icon="📈", layout="wide", initial_sidebar_state="auto")
if refusal:
    st.error(refusal)
    st.stop()

from app.pages import all_pages

st.navigation(all_pages(), position="sidebar").run()
