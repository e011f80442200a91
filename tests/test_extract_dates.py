"""The drafter's event dates, one test per class of mistake (texts written for these tests)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from draft.dates import find_dates
from draft.extract import extract
from etl.reference import load_reference

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ref():
    return load_reference(ROOT / "data" / "reference")


def dates(ref, text, published=None, outlet=None):
    out = extract(text, ref, published=published, outlet_country=outlet)
    out = out[out["import"] == "yes"]
    return dict(zip(out["quantity"].where(out["quantity"] != "", out["value"]), out["event_date"])), out


def test_a_date_stated_once_is_carried_to_the_same_operation(ref):
    text = ("Coast guards boarded a trawler on Thursday, Sept. 10. They found 30 kg of heroin in the hold.\n\n"
            "A second team searching the crew's cabins found another 4 kg of heroin.")
    got, out = dates(ref, text, dt.date(2020, 9, 14))
    assert got == {"30 kg": "2020-09-10", "4 kg": "2020-09-10"}
    assert "earlier in the story" in out["notes"].iloc[1]


def test_the_story_date_is_not_carried_past_a_separate_case(ref):
    text = ("Police raided a flat on Tuesday, May 5 and seized 9 kg of cocaine.\n\n"
            "In a separate case, 2 kg of heroin turned up at the airport.")
    got, _ = dates(ref, text, dt.date(2015, 5, 8))
    assert got == {"9 kg": "2015-05-05", "2 kg": ""}


def test_an_earlier_case_cited_for_comparison_keeps_its_own_date(ref):
    text = "Officers seized 700 kg of cocaine on Sunday, beating the previous record of 450 kg set in March 2009."
    got, out = dates(ref, text, dt.date(2018, 7, 3))
    assert got == {"700 kg": "2018-07-01", "450 kg": "2009-03"}
    assert "cited for comparison" in out["notes"].iloc[1]


def test_a_comparison_without_a_date_of_its_own_gets_none(ref):
    text = "On Friday police seized 80 kg of heroin. It was more than the previous record of 60 kg of heroin."
    got, out = dates(ref, text, dt.date(2011, 4, 18))
    assert got["80 kg"] == "2011-04-15"
    assert got["60 kg"] == ""  # never the main event's date
    assert "its own words give no date" in out["notes"].iloc[1]


def test_last_years_total_is_dated_last_year(ref):
    got, _ = dates(ref, "Police seized 900 kg of heroin on Monday. Last year's national total was 2.5 tonnes of heroin.",
                   dt.date(2012, 2, 8))
    assert got == {"900 kg": "2012-02-06", "2.5 tonnes": "2011"}


def test_a_national_total_published_early_in_the_year_is_the_previous_year(ref):
    got, out = dates(ref, "The police agency said on Thursday that 640 kg of methamphetamine was seized nationwide.",
                     dt.date(2007, 2, 1))
    assert got == {"640 kg": "2006"}
    assert "a total with no period" in out["notes"].iloc[0]


def test_a_total_named_with_its_period_keeps_the_period(ref):
    got, _ = dates(ref, "Customs seized 1.5 tonnes of drugs nationwide so far this year, officials said on Tuesday.",
                   dt.date(2009, 11, 20))
    assert got == {"1.5 tonnes": "2009"}


@pytest.mark.parametrize("text", [
    "Agents found 1945 packets of heroin in a truck.",
    "Police seized 12 kg of heroin near a 1998 model car.",
])
def test_a_bare_number_is_not_a_year(ref, text):
    got, _ = dates(ref, text)
    assert set(got.values()) == {""}


def test_a_year_in_a_date_context_is_read(ref):
    got, _ = dates(ref, "Police seized 12 kg of heroin in 1998.")
    assert got == {"12 kg": "1998"}


def test_a_dateline_is_publication_context_not_the_event(ref):
    text = "TOKYO, Oct. 12 (Wire) -- Police seized 60 kg of stimulants from a yacht last week, officials said."
    got, _ = dates(ref, text, dt.date(2004, 10, 12))
    assert got == {"60 kg": "2004-10"}  # the week before 12 October, not 12 October


@pytest.mark.parametrize("text, value", [
    ("경찰은 지난달 17일 필로폰을 압수했다", "2019-05-17"),
    ("2018년 3월 5일 적발됐다", "2018-03-05"),
    ("지난해 8월 밀수됐다", "2018-08"),
    ("지난해 압수됐다", "2018"),
    ("최근 압수됐다", "2019"),
    ("5월 압수됐다", "2019-05"),
    ("2017년 적발됐다", "2017"),
    ("지난해에는 1그램당 90위안", "2018"),
])
def test_korean_dates(text, value):
    found = [d for d in find_dates(text, dt.date(2019, 6, 10)) if d.value and not d.reporting]
    assert [d.value for d in found] == [value]


def test_korean_reporting_dates_are_not_events():
    for text in ("부산지검은 17일 밝혔다", "압수했다고 10일 밝혔다"):
        [found] = find_dates(text, dt.date(2019, 6, 10))
        assert found.reporting
    assert find_dates("3일간 조사했다", dt.date(2019, 6, 10)) == []
    [same] = find_dates("그해 12월", dt.date(2019, 6, 10))
    assert same.anaphor == "same"
