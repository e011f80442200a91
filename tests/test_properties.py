"""Property tests (hypothesis) for the amount parser and the normaliser.

- Any text: `parse_amount` returns an `Amount` or raises the project's
  `AmountError`; `parse_amounts` never raises; `normalise` turns any text in
  the quantity, value, currency and event_date cells into output or
  `Problem`s, never another exception.
- A number written the way reports write it (thousands separators, a scale
  word, a range, a qualifier, a unit) parses back to that number.
- The same mass written in two units ('<n> kg' and '<1000 n> g', ...) gives
  the same kilograms through `normalise`.

The real reference tables and sources.csv are loaded once.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pandas as pd
import polars as pl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from etl.amounts import QUALIFIERS, Amount, parse_amount, parse_amounts
from etl.errors import AmountError, Problem
from etl.normalise import REPORT_COLUMNS, normalise
from etl.reference import load_reference

REPO = Path(__file__).resolve().parents[1]
REF = load_reference(REPO / "data" / "reference")
SOURCES = pl.read_csv(REPO / "data" / "raw" / "sources.csv", infer_schema=False).with_columns(pl.all().fill_null(""))
SOURCE_ID = SOURCES.filter(pl.col("published") != "")["source_id"][0]  # a dated source: the FX year can fall back on it
TODAY = dt.date(2026, 1, 1)  # fixed, so "in the future" does not depend on the day the tests run

BASE_ROW = {
    "report_id": "p1", "incident_id": "p1", "source_id": SOURCE_ID, "kind": "seizure", "event_date": "",
    "country": "CN", "place": "", "drug": "methamphetamine", "quantity": "", "value": "", "currency": "",
    "usd_stated": "", "stated_rate": "", "nk_link": sorted(REF.nk_links)[0], "arrests": "", "notes": "",
}

# normalise() costs ~70 ms a call whatever the number of rows, so its
# properties check a batch of rows per example and run fewer examples.
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FRAME_SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def normalise_rows(rows: list[dict[str, str]]):
    """Normalise BASE_ROW with each dict's cells (outer blanks removed as etl.csvio does); ids p0, p1, ..."""
    cells = [{**BASE_ROW, **{k: v.strip() for k, v in row.items()}, "report_id": f"p{i}", "incident_id": f"p{i}"}
             for i, row in enumerate(rows)]
    frame = pl.DataFrame(cells, schema={c: pl.String for c in REPORT_COLUMNS}, orient="row")
    result = normalise(frame, SOURCES, REF, today=TODAY)
    problems = [RowProblem(p.line - 2, p.column, p.message, p.severity) for p in result.problems]  # default lines: row + 2
    return Rows(result.frame.to_pandas(), problems, result)


@dataclass
class RowProblem:
    row: int
    column: str
    message: str
    severity: str


@dataclass
class Rows:
    """normalise()'s result with the frame in pandas and each problem's row (the tests index rows)."""
    frame: pd.DataFrame
    problems: list[RowProblem]
    raw: object


def normalise_row(**cells: str):
    return normalise_rows([cells])


# ---------------------------------------------------------------------------
# Strategies

SCALES = {"thousand": 1e3, "million": 1e6, "Million": 1e6, "billion": 1e9, "bn": 1e9, "mn": 1e6}
UNITS = ["", "kg", "kilograms", "grams", "tablets", "U.S. dollars", "won", "yuan"]
SEPARATORS = ["-", " - ", "–", " to ", " and "]


@st.composite
def written_numbers(draw, min_value=1):
    """(text, value): a positive number as reports write it: '1,234.5', '1234', '0.75'."""
    whole = draw(st.integers(min_value=0, max_value=10**12))
    decimals = draw(st.one_of(st.just(""), st.text("0123456789", min_size=1, max_size=4)))
    value = Decimal(f"{whole}.{decimals}" if decimals else str(whole))
    if value < min_value:
        value = Decimal(min_value)
        whole, decimals = min_value, ""
    separated = draw(st.booleans())
    head = f"{whole:,}" if separated else str(whole)
    return (f"{head}.{decimals}" if decimals else head), value


amount_fragments = st.sampled_from(
    ["about ", "nearly ", "more than ", "between ", "up to ", "US$", "W", "$", "₩", "HK$", "1", "25", "0", "0.5", ".5",
     "1,000", "12,34", ",", ".", "-", "–", " to ", " and ", "million", "bn", "m", "k", " kg", " grams", " tons",
     " per ", " a ", "/", "kilo", " ", "\t", "(", ")", "'", '"', "=", "½", "٣", "５", "e5", "−"]
)
amount_like = st.lists(amount_fragments, max_size=8).map("".join)
any_text = st.one_of(st.text(max_size=40), amount_like)

CURRENCIES = sorted(set(REF.fx["currency"])) + ["USD"]
currency_text = st.one_of(st.sampled_from(CURRENCIES + ["", "usd", "XXX", "KRW "]), st.text(max_size=5))
date_text = st.one_of(
    st.sampled_from(["", "2010", "2010-08", "2010-08-31", "2011-02-29", "2010-13", "1850", "2099", "2010/08", "20100"]),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)).map(dt.date.isoformat),
    st.text(max_size=12),
)


# ---------------------------------------------------------------------------
# Arbitrary text never crashes


@SETTINGS
@given(any_text)
def test_parse_amount_returns_an_amount_or_raises_amount_error(text):
    try:
        amount = parse_amount(text)
    except AmountError as err:
        assert err.text == text and err.reason
        return
    assert isinstance(amount, Amount)


@settings(SETTINGS, max_examples=40)
@given(st.lists(any_text, max_size=6))
def test_parse_amounts_never_raises_and_keeps_one_row_per_text(texts):
    series = pd.Series(texts, dtype="string", index=pd.RangeIndex(len(texts)) * 3)
    parsed = parse_amounts(series)
    assert list(parsed.index) == list(series.index)
    for text, row in zip(texts, parsed.itertuples()):
        if isinstance(row.error, str):  # an error leaves every number empty
            assert pd.isna(row.low) and pd.isna(row.high) and pd.isna(row.point)
        one = parsed.loc[[row.Index]]
        assert one.equals(parse_amounts(pd.Series([text], dtype="string", index=[row.Index])))  # per text, not per batch


def cells(value_text):
    return st.fixed_dictionaries({"quantity": any_text, "value": value_text, "currency": currency_text,
                                  "event_date": date_text, "kind": st.sampled_from(["seizure", "price", "cash"])})


def check_problems(rows, result):
    assert len(result.frame) == len(rows)
    for problem in result.raw.problems:
        assert isinstance(problem, Problem)
        assert 2 <= problem.line < len(rows) + 2 and problem.column in REPORT_COLUMNS
        assert problem.severity in ("error", "warning") and problem.message


# The examples once crashed normalise() with "boolean value of NA is ambiguous"
# (a price per a unit units.csv does not know).
@FRAME_SETTINGS
@example([{"value": "US$5 per furlong", "currency": "USD", "kind": "price", "event_date": "2010"}])
@example([{"value": "1/:", "currency": "AUD"}])
@given(st.lists(cells(any_text), min_size=1, max_size=8))
def test_normalise_turns_any_text_into_rows_or_row_problems(rows):
    check_problems(rows, normalise_rows(rows))


# A text that parses must carry its number: the parser may reject a text, but
# it must never accept one and lose the figure (as it once did for '５ kg':
# non-ASCII digits matched the grammar but not pandas.to_numeric).
@SETTINGS
@example("５ kg")
@example("٣ kg")
@given(any_text)
def test_an_accepted_amount_has_a_positive_finite_point(text):
    try:
        amount = parse_amount(text)
    except AmountError:
        return
    assert amount.point is not None and math.isfinite(amount.point) and amount.point > 0
    assert amount.low is None or amount.low <= amount.point
    assert amount.high is None or amount.point <= amount.high


@FRAME_SETTINGS
@example([("５ kg", "")])
@example([("", "US$٣")])
@given(st.lists(st.tuples(any_text, any_text), min_size=1, max_size=8))
def test_a_row_without_errors_keeps_its_figures(pairs):
    rows = [{"quantity": q, "value": v, "currency": "USD" if v.strip() else "", "event_date": "2010"} for q, v in pairs]
    result = normalise_rows(rows)
    rejected = {p.row for p in result.problems if p.severity == "error"}
    for i, (quantity, value) in enumerate(pairs):
        if i in rejected:
            continue
        out = result.frame.iloc[i]
        if quantity.strip():
            assert out["quantity_kg"] > 0 or out["quantity_count"] > 0, (quantity, out["quantity_kg"])
        if value.strip():
            assert out["value_usd"] > 0, (value, out["value_usd"])


# ---------------------------------------------------------------------------
# A written number parses back to itself


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9)


@SETTINGS
@given(written_numbers(), st.sampled_from([None, *SCALES]), st.sampled_from(UNITS))
def test_a_written_number_parses_back(number, scale, unit):
    text, value = number
    written = " ".join(x for x in (text, scale, unit) if x)
    expected = float(value) * (SCALES[scale] if scale else 1)
    amount = parse_amount(written)
    assert (amount.low, amount.high, amount.point) == pytest.approx((expected,) * 3, rel=1e-9)
    assert amount.approximate is False and amount.bound == "exact" and amount.qualifier is None
    assert amount.unit == unit and amount.per is None


@SETTINGS
@given(written_numbers(), written_numbers(), st.sampled_from(SEPARATORS), st.sampled_from([None, *SCALES]),
       st.booleans(), st.sampled_from(UNITS))
def test_a_written_range_parses_back(first, second, separator, scale, scale_both, unit):
    (a_text, a), (b_text, b) = sorted([first, second], key=lambda n: n[1])
    low_text = f"{a_text} {scale}" if scale and scale_both else a_text  # '6-8 million' scales both ends
    high_text = f"{b_text} {scale}" if scale else b_text
    written = f"{low_text}{separator}{high_text}" + (f" {unit}" if unit else "")
    factor = SCALES[scale] if scale else 1
    amount = parse_amount(written)
    assert close(amount.low, float(a) * factor) and close(amount.high, float(b) * factor)
    assert close(amount.point, (float(a) * factor + float(b) * factor) / 2)
    assert amount.approximate is False and amount.unit == unit


@SETTINGS
@given(st.sampled_from(sorted(QUALIFIERS)), written_numbers(), st.sampled_from([None, "million", "billion"]),
       st.sampled_from(["", "US$", "W"]), st.sampled_from(UNITS[:4]))
def test_a_qualified_number_parses_back(qualifier, number, scale, marker, unit):
    text, value = number
    if qualifier == "between":
        return  # needs two numbers: tested below
    written = f"{qualifier} {marker}{text}" + (f" {scale}" if scale else "") + (f" {unit}" if unit else "")
    x = float(value) * (SCALES[scale] if scale else 1)
    bound = QUALIFIERS[qualifier]
    amount = parse_amount(written)
    assert amount.qualifier == qualifier and amount.bound == bound
    assert amount.approximate is (bound != "exact")
    assert close(amount.point, x)
    assert close(amount.low, None if bound == "upper" else x)
    assert close(amount.high, None if bound == "lower" else x)
    assert amount.marker == (marker or None) and amount.unit == unit


@SETTINGS
@given(written_numbers(), written_numbers(), st.sampled_from(["about", "between", "up to"]), st.sampled_from(["-", " and ", " to "]))
def test_a_qualified_range_parses_back(first, second, qualifier, separator):
    (a_text, a), (b_text, b) = sorted([first, second], key=lambda n: n[1])
    amount = parse_amount(f"{qualifier} {a_text}{separator}{b_text} kg")
    assert close(amount.low, float(a)) and close(amount.high, float(b)) and close(amount.point, (float(a) + float(b)) / 2)
    assert amount.approximate is (QUALIFIERS[qualifier] != "exact") and amount.unit == "kg"


@SETTINGS
@given(written_numbers(), st.sampled_from(["per kilo", "a gram", "/kg", "per kilogram"]))
def test_a_price_per_unit_parses_back(number, per):
    text, value = number
    amount = parse_amount(f"US${text} {per}")
    assert close(amount.point, float(value))
    assert amount.marker == "US$" and amount.per == per.removeprefix("/").split()[-1]


@pytest.mark.parametrize("text", ["0", "0 kg", "0.000 kg", "0-0", "about 0"])
def test_zero_is_refused(text):
    with pytest.raises(AmountError) as err:
        parse_amount(text)
    assert err.value.reason == "amounts must be greater than zero"


# ---------------------------------------------------------------------------
# Units agree through normalise


def spellings(pint_unit: str) -> list[str]:
    return sorted(s for s, (unit, kind) in REF.units.items() if unit == pint_unit and kind == "mass")


@FRAME_SETTINGS
@given(st.integers(min_value=1, max_value=10**9), st.sampled_from(spellings("kilogram")), st.sampled_from(spellings("gram")),
       st.booleans(), st.integers(min_value=1, max_value=10**6), st.sampled_from(spellings("metric_ton")),
       st.sampled_from(spellings("pound")), st.sampled_from(spellings("ounce")), st.sampled_from(["about", "nearly", "more than"]))
def test_the_same_mass_in_two_units_gives_the_same_kilograms(grams, kg, g, separated, n, t, lb, oz, qualifier):
    quantities = [
        f"{grams // 1000}.{grams % 1000:03d} {kg}",  # 0: '<n> kg'
        f"{grams:,} {g}" if separated else f"{grams} {g}",  # 1: '<1000 n> g'
        f"{n} {t}",  # 2: tonnes
        f"{n * 1000:,} {kg}",  # 3: the same in kilograms
        f"{n} {lb}",  # 4: pounds
        f"{n * 16} {oz}",  # 5: the same in ounces
        f"{grams}-{grams * 3} {g}",  # 6: a range
        f"{qualifier} {grams} {g}",  # 7: a qualified figure
    ]
    result = normalise_rows([{"quantity": q} for q in quantities])
    assert result.problems == []
    out = result.frame
    kg_of = out["quantity_kg"].tolist()
    assert kg_of[0] == kg_of[1] == round(grams / 1000, 6)
    assert kg_of[2] == kg_of[3] == n * 1000
    assert math.isclose(kg_of[4], kg_of[5], rel_tol=1e-9) and math.isclose(kg_of[4], round(n * 0.45359237, 6), rel_tol=1e-9)
    assert (out.at[6, "quantity_kg_low"], out.at[6, "quantity_kg_high"], kg_of[6]) == (
        round(grams / 1000, 6), round(grams * 3 / 1000, 6), round(grams * 2 / 1000, 6))
    assert kg_of[7] == round(grams / 1000, 6) and bool(out.at[7, "approximate"])


# ---------------------------------------------------------------------------
# Arrests: a whole number of people, or a problem

def accepted_arrests(texts: list[str]):
    """(text, output value) for each arrests text normalise accepts without a problem on that row."""
    result = normalise_rows([{"arrests": t} for t in texts])
    flagged = {p.row for p in result.problems}
    return [(t, result.frame.at[i, "arrests"]) for i, t in enumerate(texts) if i not in flagged]


@FRAME_SETTINGS
@example(["99999999999999999999"])
@example(["1e20"])
@given(st.lists(st.one_of(st.integers(min_value=0, max_value=10**25).map(str), st.text("0123456789e.+-", max_size=8),
                          st.text(max_size=8)), min_size=1, max_size=8))
def test_accepted_arrests_are_the_whole_number_written(texts):
    for text, arrests in accepted_arrests(texts):
        if not text.strip():
            assert pd.isna(arrests)
            continue
        written = Decimal(text.strip())
        assert written == written.to_integral_value() and written >= 0
        assert arrests == int(written), (text, arrests)


@FRAME_SETTINGS
@given(st.lists(st.one_of(st.integers(min_value=0, max_value=2**53).map(str), st.text(max_size=8)), min_size=1, max_size=8))
def test_arrests_up_to_2_to_the_53_are_kept_exactly(texts):
    """The same property where it holds today: whole numbers a float holds exactly come back exactly."""
    for text, arrests in accepted_arrests(texts):
        if text.strip().isdecimal() and text.strip().isascii():
            assert arrests == int(text.strip())
