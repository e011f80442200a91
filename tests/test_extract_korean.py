"""The drafter on Korean-language stories (texts written for these tests, invented figures)."""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from draft.extract import extract
from etl.normalise import REPORT_COLUMNS
from etl.reference import load_reference
from etl_helpers import run_etl

ROOT = Path(__file__).resolve().parents[1]
PUB = dt.date(2020, 9, 14)


@pytest.fixture(scope="module")
def ref():
    return load_reference(ROOT / "data" / "reference")


def draft(ref, text, published=PUB):
    return extract(text, ref, published=published, outlet_country="KR", source_id="ko-src").fillna("")


@pytest.mark.parametrize("text, quantity, value, currency", [
    ("세관은 필로폰 3킬로그램을 압수했다.", "3킬로그램", "", ""),
    ("경찰은 필로폰 500그램을 적발했다.", "500그램", "", ""),
    ("경찰은 필로폰 12kg을 적발했다.", "12kg", "", ""),
    ("경찰은 엑스터시 1,200정을 압수했다.", "1,200정", "", ""),
    ("경찰은 마약 300알을 압수했다.", "300알", "", ""),
    ("경찰은 대마 40봉지를 압수했다.", "40봉지", "", ""),
    ("검찰은 시가 2억 7천만원 상당의 필로폰 9㎏을 압수했다.", "9㎏", "시가 2억 7천만원 상당", "KRW"),
    ("세관은 필로폰 70㎏ 가량을 밀수하려던 일당을 검거했다.", "70㎏ 가량", "", ""),
    ("경찰은 필로폰 20여㎏을 압수했다.", "20여㎏", "", ""),
    ("해경은 헤로인 약 15㎏을 적발했다.", "약 15㎏", "", ""),
    ("해경은 코카인 100㎏ 이상을 압수했다.", "100㎏ 이상", "", ""),
])
def test_korean_seizures_are_drafted_as_written(ref, text, quantity, value, currency):
    out = draft(ref, text)
    rows = out[out["import"] == "yes"]
    assert rows[["kind", "quantity", "value", "currency"]].values.tolist() == [["seizure", quantity, value, currency]]


def test_korean_money_forms_and_currencies(ref):
    text = ("일본 경찰은 시가 150억엔 상당의 각성제를 압수했다. 밀수 조직은 현금 4백20만달러를 갖고 있었다. "
            "혜산 장마당에서 빙두는 1그램당 중국 돈 130위안에 팔린다.")
    out = draft(ref, text)
    got = out[["kind", "value", "currency", "import"]].values.tolist()
    assert ["cash", "4백20만달러", "USD", "yes"] in got
    assert ["price", "1그램당 중국 돈 130위안", "CNY", "yes"] in got
    yen = out[out["value"] == "시가 150억엔 상당"]
    assert yen["currency"].tolist() == ["JPY"]


def test_korean_prices_inside_north_korea_are_read_as_north_korean_won(ref):
    out = draft(ref, "북한 장마당에서 필로폰 1g이 북한 돈 15만원에 팔린다.")
    [row] = out[out["import"] == "yes"].to_dict("records")
    assert (row["kind"], row["value"], row["currency"], row["country"]) == ("price", "북한 돈 15만원 per g", "KPW", "KP")


@pytest.mark.parametrize("text, reason", [
    ("법원은 밀수범에게 벌금 3천만원을 선고했다.", "a fine or penalty"),
    ("신고자에게 포상금 500만원이 지급됐다.", "wages, bribes or rewards"),
    ("당시 환율은 1달러에 1,100원이었다.", "an exchange rate"),
    ("시장에서는 달러당 8,000원에 거래됐다.", "an exchange rate"),
])
def test_korean_non_seizure_figures_are_listed_not_imported(ref, text, reason):
    out = draft(ref, text)
    assert len(out) >= 1 and set(out["import"]) == {"no"}
    assert any(reason in n for n in out["notes"])


def test_counts_of_people_are_listed_and_fill_arrests(ref):
    out = draft(ref, "경찰은 필로폰 2㎏을 밀반입한 혐의로 중국인 3명을 검거했다.")
    seizure = out[out["import"] == "yes"].iloc[0]
    assert seizure["quantity"] == "2㎏" and seizure["arrests"] == "3"
    people = out[out["notes"].str.contains("a count of people")]
    assert people["import"].tolist() == ["no"]


def test_korean_relative_dates_and_drug_words(ref):
    out = draft(ref, "세관은 지난달 17일 인천항에서 필로폰 6㎏을 적발했다. 지난해에도 필로폰 2㎏이 압수됐다.")
    rows = out[out["import"] == "yes"]
    # the drug as written: drugs.csv lists the Korean spelling, so the ETL reads the drafted cell as it is
    assert rows[["quantity", "event_date", "drug"]].values.tolist() == [["6㎏", "2020-08-17", "필로폰"],
                                                                     ["2㎏", "2019", "필로폰"]]


def test_a_korean_seizure_word_is_needed_for_full_confidence(ref):
    with_verb = draft(ref, "경찰은 필로폰 5㎏을 압수했다.")
    without = draft(ref, "필로폰 5㎏이 있었다.")
    assert with_verb["confidence"].iloc[0] > without["confidence"].iloc[0]
    assert "no seizure verb" in without["notes"].iloc[0]


def test_korean_rows_to_import_pass_the_project_checker(ref, tmp_path):
    """The drafted Korean cells, pasted as they are, are read by `python -m etl build`."""
    text = ("검찰은 지난달 17일 부산항에서 시가 660억원 상당의 필로폰 20㎏을 압수했다. 밀수 조직은 현금 4백20만달러를 갖고 있었다. "
            "혜산 장마당에서 빙두는 1그램당 중국 돈 130위안에 팔린다. 경찰은 엑스터시 1,200정을 압수했다.")
    out = draft(ref, text)
    rows = out[out["import"] == "yes"].copy()
    assert len(rows) == 4
    rows["nk_link"] = "border_inference"
    rows["country"] = rows["country"].where(rows["country"] != "", "KR")
    raw = tmp_path / "raw"
    raw.mkdir()
    rows[REPORT_COLUMNS].to_csv(raw / "reports.csv", index=False)
    with open(raw / "sources.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["source_id", "source_type", "outlet", "title", "published", "url", "via", "notes"])
        w.writerow(["ko-src", "press", "Test", "Korean test story", PUB.isoformat(), "", "", ""])
    code, _, err = run_etl("build", "--raw", raw, "--out", tmp_path / "out")
    assert code == 0, err
    table = pd.read_csv(tmp_path / "out" / "seizures.csv")
    assert sorted(table["quantity_kg"].dropna().tolist()) == [20.0]
    assert sorted(table["value_amount"].dropna().tolist()) == [130_000, 4_200_000, 66_000_000_000]
    assert table["quantity_count"].dropna().tolist() == [1200]
