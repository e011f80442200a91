"""Streamlit dashboard of reported drug seizures and street prices linked to North Korea.

    make run                                  # data/seizures.csv on http://127.0.0.1:8501
    streamlit run dashboard.py -- --data PATH # another cleaned CSV (or set SEIZURES_CSV=PATH)

This file only sets the page up and starts the navigation. The main page is
app/page_dashboard.py; app/pages.py adds the optional pages app/page_upload.py
("Check your own reports") and app/page_draft.py ("Draft from an article")
when those modules exist.
"""
from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

REPO = Path(__file__).resolve().parent
if str(REPO) not in sys.path:  # `streamlit run` does this already; other runners may not
    sys.path.insert(0, str(REPO))

from app.pages import all_pages  # noqa: E402

st.set_page_config(page_title="NK drug seizures", page_icon="📈", layout="wide", initial_sidebar_state="expanded")
pages = all_pages()
st.navigation(pages, position="sidebar" if len(pages) > 1 else "hidden").run()
