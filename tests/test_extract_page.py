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
    at.text_input(key="draft_new_id").input("test-source")
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


# --- the curator flow: source, what the checker still needs, the checker before the download -------------

KNOWN_SOURCE = "dw-2017-08-21"  # in data/raw/sources.csv, published 2017-08-21
KOREAN = "부산지검은 지난달 17일 부산항에서 필로폰 20㎏을 압수했다고 밝혔다."


TABLES = {"draft_todo": "still needed for the checker", "draft_rejected": "why it would be rejected"}


def _rows(at, key):
    """The rows of the page's table `key` (AppTest does not keep st.dataframe keys: found by its column)."""
    [table] = [d.value for d in at.dataframe if TABLES[key] in d.value.columns]
    return [tuple(r) for r in table.values.tolist()]


def test_picking_an_existing_source_fills_source_id_and_the_publication_date():
    at = page()
    at.selectbox(key="draft_source_pick").set_value(KNOWN_SOURCE)
    at.text_area(key="draft_text").input(KOREAN)
    at.run()
    assert not at.exception, at.exception
    table = at.data_editor[0].value
    assert table[["source_id", "quantity", "event_date"]].values.tolist() == [[KNOWN_SOURCE, "20㎏", "2017-07-17"]]
    assert any("Published 2017-08-21" in c.value for c in at.caption)


def test_the_page_says_what_each_row_still_needs_and_what_the_checker_would_reject():
    at = page()
    at.selectbox(key="draft_source_pick").set_value(KNOWN_SOURCE)
    at.text_area(key="draft_text").input("Police seized 12 kg of heroin in Narnia Port last Monday.")
    at.run()
    assert not at.exception, at.exception
    [(report_id, needed)] = _rows(at, "draft_todo")
    assert report_id == "draft-001"
    assert "nk_link: choose how the figure is linked to North Korea" in needed
    assert "country: the ISO code of where it happened" in needed
    rejected = dict(_rows(at, "draft_rejected"))
    assert "nk_link: is empty" in rejected["draft-001"] and "country: is empty" in rejected["draft-001"]
    assert any("would reject 1 of 1 ticked row(s)" in e.value for e in at.error)
    # the download is still offered, under the checker's verdict
    assert "Download 1 ticked row(s)" in at.get("download_button")[0].proto.label


def test_a_complete_korean_row_is_accepted_by_the_checker_with_its_new_incident():
    at = page()
    at.selectbox(key="draft_source_pick").set_value(KNOWN_SOURCE)
    at.text_area(key="draft_text").input(KOREAN)
    at.run()
    at.selectbox(key="draft_link_all").set_value("nk_made_official")
    at.run()
    assert not at.exception, at.exception
    assert _rows(at, "draft_todo") == [("draft-001", "nothing")]
    assert [s.value for s in at.success] == ["The checker accepts all 1 ticked row(s)."]
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download 1 new incident(s) as an incidents.csv fragment" in labels


def test_a_new_source_is_checked_with_the_fragment_and_offered_for_download():
    at = page()
    at.text_input(key="draft_new_id").input("test-new-2019")
    at.text_input(key="draft_new_outlet").input("Test outlet")
    at.text_input(key="draft_new_title").input("A test story")
    at.date_input(key="draft_published").set_value(dt.date(2019, 6, 10))
    at.text_area(key="draft_text").input(KOREAN)
    at.run()
    at.selectbox(key="draft_link_all").set_value("nk_made_official")
    at.run()
    assert not at.exception, at.exception
    table = at.data_editor[0].value
    assert table[["source_id", "event_date"]].values.tolist() == [["test-new-2019", "2019-05-17"]]
    assert [s.value for s in at.success] == ["The checker accepts all 1 ticked row(s)."]
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download the new source as a sources.csv fragment" in labels


def test_without_a_source_the_page_warns_and_the_checker_rejects():
    at = page()
    at.text_area(key="draft_text").input(KOREAN)
    at.run()
    at.selectbox(key="draft_link_all").set_value("nk_made_official")
    at.run()
    assert any("No source yet" in w.value for w in at.warning)
    rejected = dict(_rows(at, "draft_rejected"))
    assert "source_id: is empty" in rejected["draft-001"]


def test_check_fragment_reports_only_the_fragments_rows_by_report_id():
    from app.page_draft import check_fragment, new_incidents

    frame = draft_frame("Police seized 12 kg of heroin in Busan last Monday. They also found 3 kg of opium.",
                        dt.date(2017, 8, 21), "KR", KNOWN_SOURCE)
    frame["nk_link"] = "nk_made_official"
    frame.loc[1, "drug"] = "moon dust"
    incidents = new_incidents(frame, set(), KNOWN_SOURCE)
    assert incidents["incident_id"].tolist() == ["draft-001", "draft-002"]
    check = check_fragment(fragment_csv(frame), None, incidents)
    assert check.rows == 2 and check.accepted == 1
    assert list(check.rejected) == ["draft-002"]
    assert any("unknown drug 'moon dust'" in r for r in check.rejected["draft-002"])
