"""The amount grammar over a column (etl.amount_table) reads every text exactly as etl.amounts does.

The column reader runs Polars' regex engine on the texts it covers and hands the
rest to the Python grammar. Every test here compares it with the Python grammar
run on the same texts, column by column and value by value (floats bit for bit).
"""
from __future__ import annotations

import inspect
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tests.test_amounts as amount_tests
from devtools.synth import generate
from etl import amount_table as at
from etl.amounts import MAX_CHARS

REPO = Path(__file__).resolve().parent.parent


def python_grammar(texts: list[str]) -> pl.DataFrame:
    """The Python grammar's columns, one row per text (empty texts: nulls, as in the build)."""
    series = pl.Series("text", texts, dtype=pl.String)
    given_texts = series.filter(series.is_not_null() & (series != "")).unique(maintain_order=True)
    table = at._python(given_texts) if len(given_texts) else pl.DataFrame(schema={"text": pl.String, **at.COLUMNS})
    return pl.DataFrame({"text": series}).join(table, on="text", how="left", maintain_order="left").drop("text")


def differences(texts: list[str]) -> list[tuple[str, str, object, object]]:
    """(text, column, Python grammar's value, column reader's value) wherever the two differ."""
    expected = python_grammar(texts)
    got = at.amount_columns(pl.Series("text", texts, dtype=pl.String))
    assert got.columns == list(at.COLUMNS) and got.height == len(texts)
    out = []
    for column in at.COLUMNS:
        for text, e, g in zip(texts, expected[column].to_list(), got[column].to_list()):
            if e != g and not (e is None and g is None):
                out.append((text, column, e, g))
    return out


def read_here(texts: list[str]) -> list[bool]:
    """Which texts the compiled pattern reads itself (not routed to, nor left to, the Python grammar)."""
    series = pl.Series("text", texts, dtype=pl.String)
    routed = series.str.contains(at.ROUTE_TO_PYTHON) | (series.str.len_chars() > MAX_CHARS)
    fast = at._fast(series.zip_with(~routed, pl.Series([None] * len(texts), dtype=pl.String)))
    return (~routed & fast["n1"].is_not_null()).to_list()


def suite_texts() -> list[str]:
    """Every text of tests/test_amounts.py's parametrised cases."""
    texts = []
    for _, function in inspect.getmembers(amount_tests, inspect.isfunction):
        for mark in getattr(function, "pytestmark", []):
            if mark.name == "parametrize":
                for case in mark.args[1]:
                    values = case.values if hasattr(case, "values") else case
                    first = values[0] if isinstance(values, (tuple, list)) else values
                    if isinstance(first, str):
                        texts.append(first)
    return texts


def test_the_suite_cases_read_alike():
    texts = suite_texts()
    assert len(texts) > 100
    assert differences(texts) == []
    assert sum(read_here(texts)) > 50  # the compiled pattern is used, not only the Python grammar


def test_the_curated_data_reads_alike():
    reports = pl.read_csv(REPO / "data" / "raw" / "reports.csv", infer_schema=False)
    texts = pl.concat([reports[c] for c in ("quantity", "value", "usd_stated")]).fill_null("").to_list()
    assert differences(texts) == []


def test_synthetic_reports_read_alike():
    tables = generate(20_000, seed=7)
    reports = tables["reports.csv"]
    texts = [t for c in ("quantity", "value", "usd_stated") for t in reports[c].fillna("").tolist()]
    assert differences(texts) == []
    assert sum(read_here(texts)) > 0.9 * sum(1 for t in texts if t)


@pytest.mark.parametrize("text, here", [
    ("about 5.2 kg", True),
    ("US$1,200 per gram", True),
    ("6-8 million pesos per kilo", True),
    ("70㎏ 가량", True),
    ("100원대", True),
    ("for a 350-gram pack", False),  # no number before the unit words: nothing to read
    ("130 yuan for a 350-gram pack", True),
    ("2억 7천만원", False),  # Korean number characters: the Python grammar
    ("약 70㎏", False),  # a Korean qualifier before the number
    ("1그램당 130위안", False),  # a Korean per-unit before the price
    ("5 kg\nmore", False),  # a line break
    ("5 kg 3", False),  # a digit in the unit words
    ("5 \u212a", False),  # the Kelvin sign folds to k
])
def test_what_the_compiled_pattern_reads_itself(text, here):
    assert read_here([text]) == [here]
    assert differences([text]) == []


def test_blanks_between_a_qualifiers_words_name_the_same_qualifier():
    """'a  total of' once crashed the Python grammar (KeyError): both readers now take it as 'a total of'."""
    texts = ["a  total of 5 kg", "A\ttotal of 5 kg", "atotalof 5 kg", "no  more than 3 kg"]
    assert differences(texts) == []
    got = at.amount_columns(pl.Series(texts))
    assert got["point"].to_list() == [5.0, 5.0, 5.0, 3.0]
    assert got["approximate"].to_list() == [False, False, False, True]
    assert got["low"].to_list() == [5.0, 5.0, 5.0, None]


# Generated texts: pieces of the grammar's vocabulary, numbers of every shape, odd blanks and characters,
# joined in any order. Most are nonsense; the two readers must still agree on every one.
NUMBERS = ["0", "5", "12", "1,234", "12,3456", "1,23", "1,234,567.89", ".5", "1.2.3", "007", "3.", "9" * 40,
           "1" + "0" * 320]
WORDS = ["about", "Nearly", "a total of", "a  total", "between", "more than", "up to", "US$", "U.S. $", "$", "W",
         "₩", "¥", "P", "₱", "€", "RMB", "dollars", "million", "m", "bn", "k", "Thousand", "kg", "kgs", "kg.",
         "grams", "㎏", "그램", "キロ", "公斤", "알", "tons [metric]", "pesos", "won", "원", "엔", "per", "a", "an",
         "for", "for a", "for an", "/", "pack", "package", "-", "–", "—", "to", "and", "~", "〜", "가량", "이상",
         "미만", "대", "상당", "어치", "여", "만", "억", "천", "약", "당", "에", "約", "시가"]
ODD = [" ", "  ", "\t", "\xa0", "\u3000", "\u2028", "\x1c", "\n", "\u0301", "\u200d", "\u212a", "\u017f", "²", "‿",
       "Ⓐ", "_", ".", ",", "-"]
piece = st.one_of(st.sampled_from(NUMBERS), st.sampled_from(WORDS), st.sampled_from(ODD),
                  st.text(alphabet=st.characters(codec="utf-8"), max_size=3))
texts = st.lists(piece, min_size=1, max_size=9).map(lambda parts: "".join(parts))
spaced = st.lists(piece, min_size=1, max_size=9).map(lambda parts: " ".join(parts))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(texts, spaced), min_size=1, max_size=40))
def test_generated_texts_read_alike(batch):
    assert differences(batch) == []
