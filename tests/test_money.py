"""Currency conversion with the fixed annual tables, and constant dollars with CPI-U."""
import math

import pandas as pd
import pytest
from etl_helpers import cpi, cpi_base_year, fx_rate, messages, normalise_one


def test_busan_case_matches_the_documents_own_rate():
    """5.95 kg, W19.8 billion in February 2011, with the article's US$1=W1,117."""
    row, problems = normalise_one(quantity="5.95 kg", value="W19.8 billion", currency="KRW", stated_rate="US$1=W1,117")
    assert messages(problems) == []
    expected = 19.8e9 / fx_rate("KRW", 2011)
    assert row["value_usd"] == pytest.approx(expected, abs=0.01)
    assert 17.8e6 < row["value_usd"] < 18.0e6
    documents_own = 19.8e9 / 1117
    assert abs(row["value_usd"] / documents_own - 1) < 0.01
    assert row["usd_check_pct"] == pytest.approx(round((expected / documents_own - 1) * 100, 2))
    assert row["stated_lcu_per_usd"] == 1117
    assert row["fx_year"] == 2011 and row["fx_year_basis"] == "event"
    assert row["implied_usd_per_kg"] == pytest.approx(expected / 5.95, abs=0.01)


def test_peso_price_per_kilo():
    row, problems = normalise_one(kind="price", country="PH", place="", event_date="2011", quantity="",
                                  value="3 million pesos per kilo", currency="PHP", usd_stated="US$68,000")
    assert messages(problems) == []
    assert row["price_usd_per_kg"] == pytest.approx(3e6 / fx_rate("PHP", 2011), abs=0.01)
    assert 68_500 < row["price_usd_per_kg"] < 69_500  # near US$69,000 per kg at the 2011 average
    assert row["usd_check_pct"] == pytest.approx(round((3e6 / fx_rate("PHP", 2011) / 68_000 - 1) * 100, 2))


def test_price_per_gram_becomes_per_kilogram():
    row, problems = normalise_one(kind="price", country="KP", place="", event_date="2011", value="$15 per gram", currency="USD")
    assert messages(problems) == []
    assert row["price_usd_per_kg"] == 15_000
    assert row["value_usd"] == 15_000 and row["fx_lcu_per_usd"] == 1


def test_price_range_keeps_bounds():
    row, _ = normalise_one(kind="price", country="PH", place="", event_date="2008", value="6-8 million pesos per kilo", currency="PHP")
    rate = fx_rate("PHP", 2008)
    assert row["value_usd_low"] == pytest.approx(6e6 / rate, abs=0.01)
    assert row["value_usd_high"] == pytest.approx(8e6 / rate, abs=0.01)
    assert row["price_usd_per_kg"] == pytest.approx(7e6 / rate, abs=0.01)


def test_constant_dollars_use_cpi_of_the_base_year():
    row, _ = normalise_one(value="US$100 million", currency="USD", event_date="2008-05-28", country="PH", place="Subic Bay", quantity="700 kg")
    base = cpi_base_year()
    assert row["value_usd_const"] == pytest.approx(1e8 * cpi(base) / cpi(2008), abs=0.01)
    assert row["implied_usd_per_kg_const"] == pytest.approx(1e8 / 700 * cpi(base) / cpi(2008), abs=0.01)


def test_cash_with_stated_usd_equivalent():
    row, problems = normalise_one(kind="cash", source_id="nkew-2011-06-04", country="CN", place="Dandong", event_date="2011-06", value="150,000 yuan", currency="CNY", usd_stated="$23,150")
    assert messages(problems) == []
    assert row["value_usd"] == pytest.approx(150_000 / fx_rate("CNY", 2011), abs=0.01)
    assert row["usd_stated_amount"] == 23_150
    assert math.isnan(row["implied_usd_per_kg"])  # cash is not the value of the drugs


def test_publication_year_is_used_when_the_event_date_is_unknown():
    row, problems = normalise_one(event_date="", value="W1 billion", currency="KRW")
    assert messages(problems) == []
    assert row["fx_year"] == 2011 and row["fx_year_basis"] == "published"  # source published 2011-02-07
    assert row["value_usd"] == pytest.approx(1e9 / fx_rate("KRW", 2011), abs=0.01)
    assert row["date_precision"] == "none" and row["date"] == ""


@pytest.mark.parametrize(
    "cells, message",
    [
        ({"value": "5 million", "currency": "XYZ"}, "currency: unknown currency 'XYZ' (use an ISO 4217 code, e.g. KRW)"),
        ({"value": "5 million", "currency": "GBP"}, "currency: no exchange rate for GBP in 2011 (data/reference/fx_annual_lcu_per_usd.csv has no GBP rates)"),
        ({"value": "W5 million", "currency": "KRW", "event_date": "1965"}, "currency: no exchange rate for KRW in 1965 (data/reference/fx_annual_lcu_per_usd.csv covers KRW 1970-2025)"),
        ({"value": "5 million pesos", "currency": "KRW"}, "currency: KRW contradicts the currency word 'pesos' in the value (it means MXN or PHP)"),
        ({"value": "W5 million", "currency": "PHP"}, "currency: PHP contradicts the currency symbol 'W' in the value (it means KPW or KRW)"),
        ({"value": "5 million bricks", "currency": "KRW"}, "value: cannot read '5 million bricks' as money: unknown currency word 'bricks'"),
        ({"value": "W5 million", "currency": ""}, "currency: is empty but the row has a value"),
        ({"value": "$15 per gram", "currency": "USD"}, "value: '$15 per gram' is a price per unit; use kind 'price'"),
        ({"kind": "price", "value": "$15", "currency": "USD"}, "value: a price needs a unit it is quoted per ('per kilo', 'a gram'): '$15'"),
        ({"value": "W5 million", "currency": "KRW", "usd_stated": "W3 million"}, "usd_stated: 'W3 million' is not in US dollars"),
        ({"value": "W5 million", "currency": "KRW", "stated_rate": "about a thousand"}, "stated_rate: cannot read 'about a thousand' as an exchange rate (write it like 'US$1=W1,117')"),
    ],
)
def test_money_errors(cells, message):
    _, problems = normalise_one(**cells)
    assert message in messages(problems)


def test_kpw_outside_north_korea_is_an_error_not_a_factor_of_one():
    row, problems = normalise_one(value="W5 million", currency="KPW")  # BASE_ROW is a seizure in Busan (KR)
    assert messages(problems) == ["currency: no exchange rate for KPW outside North Korea: it is converted only for "
                                  "figures inside North Korea (country KP), with the market rate"]
    assert pd.isna(row["value_usd"]) and pd.isna(row["fx_lcu_per_usd"])


def test_disagreement_with_the_stated_usd_is_a_warning_with_both_numbers():
    row, problems = normalise_one(value="W19.8 billion", currency="KRW", usd_stated="US$25 million")
    assert messages(problems) == []
    ours = 19.8e9 / fx_rate("KRW", 2011)
    pct = (ours / 25e6 - 1) * 100
    assert messages(problems, "warning") == [
        f"usd_stated: our conversion gives US${ours:,.0f} but the source says US$25,000,000 ({pct:+.1f}%, tolerance 5%)"
    ]
    assert row["value_usd"] == pytest.approx(ours, abs=0.01)  # the row is kept


@pytest.mark.parametrize(
    "value, message",
    [
        ("US$5 per furlong", "value: cannot read 'US$5 per furlong' as a price per mass: unknown unit 'furlong'"),
        ("US$5 per tablet", "value: cannot read 'US$5 per tablet' as a price per mass: 'tablet' is counted, not weighed"),
    ],
)
def test_price_per_a_unit_that_is_not_a_mass(value, message):
    _, problems = normalise_one(kind="price", country="KP", place="", event_date="2011", value=value, currency="USD")
    assert messages(problems) == [message]


@pytest.mark.parametrize(
    "cells, message",
    [
        ({"quantity": "0.4 mg"}, "quantity: '0.4 mg' is less than 1 mg, below the precision of quantity_kg"),
        ({"kind": "cash", "value": "W5", "currency": "KRW"}, "value: 'W5' is less than one US cent (per kg), below the precision of the dollar columns"),
        ({"quantity": "3 tonnes", "value": "$10", "currency": "USD"}, "value: '$10' is less than one US cent (per kg), below the precision of the dollar columns"),
    ],
)
def test_figures_below_the_output_precision_are_row_problems(cells, message):
    _, problems = normalise_one(**cells)
    assert messages(problems) == [message]


def test_a_trailing_dollar_marker_is_a_currency():
    row, problems = normalise_one(country="AU", place="", value="5 million A$", currency="AUD", event_date="2003")
    assert messages(problems) == []
    assert row["value_usd"] == pytest.approx(5e6 / fx_rate("AUD", 2003), abs=0.01)


# ---------------------------------------------------------------------------
# KPW: the market rate, inside North Korea only, never across the redenomination
#
# The rates below are invented for the tests (the real table comes from
# data/reference/kpw_market_rate.csv, curated with its sources); they are
# round numbers so each expected dollar figure is obvious.

KPW_FIXTURE = """period,kpw_per_usd,kpw_per_cny,source,source_url,note
2009,3000,,TEST FIXTURE,,invented value for tests (old won)
2009-11,4000,,TEST FIXTURE,,invented value for tests (old won)
2010,100,,TEST FIXTURE,,invented value for tests (new won)
2010-03,125,,TEST FIXTURE,,invented value for tests (new won)
"""


def _reference_with(folder, kpw_table: str | None):
    """The project's reference tables in `folder`, with `kpw_table` as kpw_market_rate.csv (None: no such file)."""
    import shutil

    from etl_helpers import REFERENCE

    from etl.reference import load_reference

    for path in REFERENCE.iterdir():
        if path.name != "kpw_market_rate.csv":
            shutil.copy(path, folder / path.name)
    if kpw_table is not None:
        (folder / "kpw_market_rate.csv").write_text(kpw_table, encoding="utf-8")
    return load_reference(folder)


@pytest.fixture(scope="module")
def kpw_reference(tmp_path_factory):
    return _reference_with(tmp_path_factory.mktemp("reference"), KPW_FIXTURE)


def kp_price(ref, event_date, value="50,000 won per gram", country="KP"):
    """Normalise one KPW price row inside North Korea with `ref` (the source is published 2012-01-01)."""
    import polars as pl
    from etl_helpers import BASE_ROW, reference

    from etl.normalise import REPORT_COLUMNS, normalise

    sources = pl.DataFrame([{"source_id": "kp-test", "outlet": "Test", "title": "t", "published": "2012-01-01",
                             "url": "", "via": "", "source_type": "press", "notes": ""}])
    row = {**BASE_ROW, "source_id": "kp-test", "kind": "price", "event_date": event_date, "country": country,
           "place": "", "value": value, "currency": "KPW", "nk_link": "in_north_korea"}
    frame = pl.DataFrame([row], schema={c: pl.String for c in REPORT_COLUMNS}, orient="row")
    result = normalise(frame, sources, ref or reference())
    return result.frame.row(0, named=True), [f"{p.column}: {p.message}" for p in result.problems if p.severity == "error"]


@pytest.mark.parametrize("event_date, rate, basis", [
    ("2010-03-15", 125, "market_month"),  # the month's rate first
    ("2010-07", 100, "market_year"),  # no rate for July: the year's
    ("2009-05-01", 3000, "market_year"),  # old won, the 2009 rate in old won
    ("2009-11-15", 4000, "market_month"),  # before 30 November: old won, the month's rate
])
def test_kpw_inside_north_korea_uses_the_market_rate_of_the_month_else_the_year(kpw_reference, event_date, rate, basis):
    row, problems = kp_price(kpw_reference, event_date)
    assert problems == []
    assert row["fx_lcu_per_usd"] == rate and row["fx_year_basis"] == basis
    assert row["price_usd_per_kg"] == pytest.approx(50_000 * 1000 / rate, abs=0.01)
    assert row["fx_year"] == int(event_date[:4])


@pytest.mark.parametrize("event_date, wanted", [
    ("2009-12", "2009-12"),  # new won: the 2009 rate is in old won
    ("2009-11-30", "2009-11"),  # the day of the redenomination: new won; 2009-11 and 2009 are old won
    ("2009", "2009"),  # a year that straddles the redenomination: no rate can be right
    ("2009-11", "2009-11"),  # a month that holds the day
    ("2011-05", "2011-05"),  # no rate at all
])
def test_kpw_redenomination_guard_never_uses_a_rate_from_the_other_side(kpw_reference, event_date, wanted):
    row, problems = kp_price(kpw_reference, event_date)
    assert problems == [f"currency: no documented market rate for KPW in {wanted}"]
    assert row["price_usd_per_kg"] is None and row["fx_lcu_per_usd"] is None


def test_kpw_outside_north_korea_is_refused_even_with_a_market_rate(kpw_reference):
    row, problems = kp_price(kpw_reference, "2010-03", country="CN")
    assert problems == ["currency: no exchange rate for KPW outside North Korea: it is converted only for figures "
                        "inside North Korea (country KP), with the market rate"]
    assert row["price_usd_per_kg"] is None


def test_kpw_without_the_market_rate_table_is_a_row_problem_never_a_factor_of_one(tmp_path):
    row, problems = kp_price(_reference_with(tmp_path, None), "2010-03")
    assert problems == ["currency: no documented market rate for KPW in 2010-03"]
    assert row["price_usd_per_kg"] is None


# ---------------------------------------------------------------------------
# An independent oracle: a few output columns recomputed from the raw files with plain pandas
# (its own small reading of the simple spellings, its own unit factors, the rate and CPI tables
# read directly), compared with the committed seizures.csv.

_ORACLE_UNITS = {"kg": 1.0, "kgs": 1.0, "kg.": 1.0, "kilograms": 1.0, "kilo": 1.0, "㎏": 1.0, "gram": 0.001,
                 "grams": 0.001, "pounds": 0.45359237}
_ORACLE_SCALES = {"": 1.0, "million": 1e6, "billion": 1e9, "m": 1e6}


def test_an_independent_pandas_oracle_agrees_on_kilograms_and_dollars():
    import re

    from etl_helpers import DATA, RAW, REFERENCE

    reports = pd.read_csv(RAW / "reports.csv", dtype=str, keep_default_na=False)
    sources = pd.read_csv(RAW / "sources.csv", dtype=str, keep_default_na=False).set_index("source_id")
    fx = pd.read_csv(REFERENCE / "fx_annual_lcu_per_usd.csv").set_index(["currency", "year"])["lcu_per_usd"]
    cpi = pd.read_csv(REFERENCE / "us_cpi_u_annual.csv")
    base = cpi.loc[cpi["n_months"] == 12, "year"].max()
    cpi = cpi.set_index("year")["cpi_u_annual_avg"]
    table = pd.read_csv(DATA / "seizures.csv", dtype={"report_id": str}).set_index("report_id")

    mass = re.compile(r"^(?:about |some |nearly |almost |more than |at least |over )?([0-9][0-9,]*(?:\.[0-9]+)?) ?(\S+)$")
    money = re.compile(r"^(?:about |almost |nearly |around |approximately )?(?:US\$|\$|W|U\.S\. \$)?"
                       r"([0-9][0-9,]*(?:\.[0-9]+)?) ?(million|billion|m)?(?: won| U\.S\. dollars| yen)?$")
    checked_kg = checked_usd = 0
    for r in reports.itertuples(index=False):
        out = table.loc[r.report_id]
        m = mass.match(r.quantity)
        if m and m.group(2) in _ORACLE_UNITS:
            kg = float(m.group(1).replace(",", "")) * _ORACLE_UNITS[m.group(2)]
            assert out["quantity_kg"] == pytest.approx(round(kg, 6), abs=1e-6), r.report_id
            checked_kg += 1
        v = money.match(r.value)
        if v and r.kind != "price" and r.currency in ("USD", "KRW", "JPY"):
            year = int(r.event_date[:4]) if r.event_date else int(sources.at[r.source_id, "published"][:4])
            amount = float(v.group(1).replace(",", "")) * _ORACLE_SCALES[v.group(2) or ""]
            usd = amount / (1.0 if r.currency == "USD" else fx[(r.currency, year)])
            assert out["value_usd"] == pytest.approx(usd, abs=0.01), r.report_id
            assert out["value_usd_const"] == pytest.approx(usd * cpi[base] / cpi[year], rel=1e-9, abs=0.01), r.report_id
            checked_usd += 1
    assert checked_kg >= 30 and checked_usd >= 5  # the oracle covers a real sample, not a handful
