"""Dashboard page "Draft from an article": paste a story, review draft rows, download them.

The page runs `draft.extract.extract` on the pasted text (with the publication
date, outlet country and source_id the curator gives), shows the draft rows
in an editable table, and offers the rows ticked "import" as a reports.csv
fragment (the reports.csv columns only, formula-safe CSV). Nothing is written
under data/: the curator pastes the fragment into data/raw/reports.csv.

`draft_frame` and `fragment_csv` are plain functions so they can be tested
without a browser; `render` draws the page.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from etl.csvio import csv_bytes

# draft.extract, etl.normalise and etl.reference (pint: a quarter of a second) are imported when this page
# runs, not when the dashboard registers it
if TYPE_CHECKING:
    from etl.reference import Reference

REPO = Path(__file__).resolve().parent.parent
REFERENCE_DIR = REPO / "data" / "reference"
MAX_CHARS = 200_000
FRAGMENT_NAME = "draft_reports.csv"
READ_ONLY = ["char_start", "char_end", "sentence", "confidence"]


@st.cache_resource(show_spinner=False)
def _reference(directory: str) -> Reference:
    from etl.reference import load_reference

    return load_reference(Path(directory))


def draft_frame(text: str, published: dt.date | None, outlet_country: str = "", source_id: str = "",
                ref: Reference | None = None) -> pd.DataFrame:
    """Draft rows for `text`, with `import` as a True/False column for the table's tick boxes."""
    from draft.extract import extract

    ref = ref or _reference(str(REFERENCE_DIR))
    frame = extract(text, ref, published=published, outlet_country=outlet_country or None, source_id=source_id)
    frame = frame.astype(object).where(frame.notna(), "")
    frame["import"] = frame["import"] == "yes"
    return frame


def fragment_csv(edited: pd.DataFrame) -> bytes:
    """The ticked rows in the reports.csv columns, as CSV bytes."""
    from etl.normalise import REPORT_COLUMNS

    ticked = edited[edited["import"].eq(True)] if len(edited) else edited  # rows added in the table start unticked
    rows = ticked.reindex(columns=REPORT_COLUMNS).astype(object)
    rows = rows.where(rows.notna(), "").astype(str)
    return csv_bytes(rows.reset_index(drop=True))


def render() -> None:
    st.title("Draft from an article")
    st.caption(
        "Paste the text of a news story. Every mass, value and price in it comes back as a draft row in the "
        "reports.csv columns, dated against the publication date and paired with its seizure where the text "
        "ties them. Exchange rates, fines, budgets and market estimates are listed with import unticked. "
        "Check every row against the sentence, fill nk_link, then download the ticked rows and paste them "
        "into data/raw/reports.csv. Nothing is saved by this page.")
    text = st.text_area("Article text", key="draft_text", height=280, max_chars=MAX_CHARS,
                        placeholder="Paste the article here")
    c1, c2, c3 = st.columns(3)
    published = c1.date_input("Publication date", value=None, key="draft_published",
                              min_value=dt.date(1950, 1, 1), max_value=dt.date.today(),
                              help="Resolves 'last year', 'last Wednesday', 'early May'. Leave empty if unknown.")
    outlet = c2.text_input("Outlet country (ISO code)", key="draft_outlet", max_chars=2,
                           help="A bare $ in an Australian paper (AU) is read as AUD; in HK as HKD.").strip().upper()
    source_id = c3.text_input("source_id", key="draft_source", help="Put in every row (see data/raw/sources.csv).").strip()
    if not text.strip():
        st.info("Paste an article to see draft rows.")
        return
    if outlet and not re.fullmatch(r"[A-Z]{2}", outlet):
        st.error(f"Outlet country {outlet!r} is not a two-letter ISO code (e.g. AU, KR, PH).")
        return
    if published is None:
        st.warning("No publication date: relative dates ('last year', 'last Wednesday') are left empty.")
    frame = draft_frame(text, published, outlet, source_id)
    if frame.empty:
        st.warning("No masses, values or prices found in the text.")
        return
    n_import = int(frame["import"].sum())
    st.write(f"{len(frame)} figure(s) found; {n_import} ticked for import.")
    edited = st.data_editor(
        frame,
        key="draft_editor",
        hide_index=True,
        num_rows="dynamic",
        disabled=READ_ONLY,
        column_config={
            "import": st.column_config.CheckboxColumn("import", help="Untick rows that are not seizures or prices"),
            "kind": st.column_config.SelectboxColumn("kind", options=["seizure", "price", "cash", ""]),
            "confidence": st.column_config.NumberColumn("confidence", format="%.2f"),
            "sentence": st.column_config.TextColumn("sentence", width="large"),
            "notes": st.column_config.TextColumn("notes", width="large"),
        },
    )
    ticked = int(edited["import"].eq(True).sum()) if len(edited) else 0
    st.download_button(
        f"Download {ticked} ticked row(s) as a reports.csv fragment",
        data=fragment_csv(edited),
        file_name=FRAGMENT_NAME,
        mime="text/csv",
        key="draft_download",
        disabled=ticked == 0,
    )
