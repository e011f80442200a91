"""The dashboard page "Draft from an article" (app/page_draft.py) through Streamlit's AppTest."""
from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from app.page_draft import FRAGMENT_NAME, draft_frame, fragment_csv
from etl.normalise import REPORT_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
STORY = ("Australian police found 50 kg of methamphetamine worth $40 million last Tuesday. "
         "The court fined the courier $5,000.")


def _page(repo: str) -> None:
    import sys

    if repo not in sys.path:
        sys.path.insert(0, repo)
    from app.page_draft import render

    render()


def page() -> AppTest:
    at = AppTest.from_function(_page, args=(str(ROOT),), default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    return at


def test_page_asks_for_text_first():
    at = page()
    assert [t.label for t in at.text_area] == ["Article text"]
    assert [i.body for i in at.info] == ["Paste an article to see draft rows."]
    assert len(at.get("arrow_data_frame")) == 0 or not at.dataframe


def test_page_drafts_rows_in_an_editable_table_and_offers_the_ticked_ones():
    at = page()
    at.text_area(key="draft_text").input(STORY)
    at.date_input(key="draft_published").set_value(dt.date(2023, 11, 20))
    at.text_input(key="draft_outlet").input("AU")
    at.text_input(key="draft_source").input("test-source")
    at.run()
    assert not at.exception, at.exception
    table = at.data_editor[0].value
    got = [(r["kind"], r["event_date"], r["quantity"], r["value"], r["currency"], bool(r["import"]))
           for _, r in table.iterrows()]
    assert got == [
        ("seizure", "2023-11-14", "50 kg", "$40 million", "AUD", True),
        ("", "", "", "$5,000", "AUD", False),
    ]
    assert set(table["source_id"]) == {"test-source"}
    button = at.get("download_button")[0]
    assert "Download 1 ticked row(s)" in button.proto.label
    assert "2 figure(s) found; 1 ticked for import." in [m.value for m in at.markdown]


def test_page_without_a_date_warns_and_leaves_relative_dates_empty():
    at = page()
    at.text_area(key="draft_text").input("Police seized 3 kg of heroin last year.")
    at.run()
    assert not at.exception
    assert any("No publication date" in w.value for w in at.warning)
    assert list(at.data_editor[0].value["event_date"]) == [""]


def test_page_refuses_a_bad_outlet_code():
    at = page()
    at.text_area(key="draft_text").input(STORY)
    at.text_input(key="draft_outlet").input("A1")
    at.run()
    assert [e.value for e in at.error] == ["Outlet country 'A1' is not a two-letter ISO code (e.g. AU, KR, PH)."]


def test_fragment_has_the_reports_columns_and_only_ticked_rows():
    frame = draft_frame(STORY, dt.date(2023, 11, 20), "AU", "test-source")
    frame.loc[0, "notes"] = "checked by hand"
    data = fragment_csv(frame)
    back = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    assert list(back.columns) == REPORT_COLUMNS
    assert back[["kind", "quantity", "value", "currency", "notes"]].values.tolist() == [
        ["seizure", "50 kg", "$40 million", "AUD", "checked by hand"]]
    frame["import"] = False
    assert pd.read_csv(io.BytesIO(fragment_csv(frame)), dtype=str).empty
    assert FRAGMENT_NAME.endswith(".csv")


def test_fragment_ignores_rows_added_without_a_tick():
    frame = draft_frame(STORY, dt.date(2023, 11, 20), "AU", "test-source")
    added = pd.concat([frame, pd.DataFrame([{"kind": "seizure", "quantity": "1 kg", "import": None}])], ignore_index=True)
    back = pd.read_csv(io.BytesIO(fragment_csv(added)), dtype=str, keep_default_na=False)
    assert back["quantity"].tolist() == ["50 kg"]
