"""The amount grammar on real spellings from news reports."""
import math

import pandas as pd
import pytest

from etl.amounts import parse_amount, parse_amounts
from etl.errors import AmountError

N = None  # an open bound


@pytest.mark.parametrize(
    "text, low, high, point, approximate, unit, per",
    [
        ("450 grams", 450, 450, 450, False, "grams", N),
        ("15 kgs", 15, 15, 15, False, "kgs", N),
        ("5.95 kg", 5.95, 5.95, 5.95, False, "kg", N),
        ("35㎏", 35, 35, 35, False, "㎏", N),  # the one-character kilogram sign
        ("0.685 gram", 0.685, 0.685, 0.685, False, "gram", N),
        ("150,000 yuan", 150_000, 150_000, 150_000, False, "yuan", N),  # thousands separator
        ("506,000 tablets", 506_000, 506_000, 506_000, False, "tablets", N),
        # qualifiers: one-sided ones leave the open side empty, all are approximate
        ("nearly 125 kilograms", N, 125, 125, True, "kilograms", N),
        ("almost 125 kg", N, 125, 125, True, "kg", N),
        ("up to 8 kg", N, 8, 8, True, "kg", N),
        ("less than 1 kg", N, 1, 1, True, "kg", N),
        ("more than 700 kg", 700, N, 700, True, "kg", N),
        ("over 150 kg", 150, N, 150, True, "kg", N),
        ("at least 110 pounds", 110, N, 110, True, "pounds", N),
        ("about 15 kg", 15, 15, 15, True, "kg", N),
        ("around 4 kg", 4, 4, 4, True, "kg", N),
        ("some 100 kg", 100, 100, 100, True, "kg", N),
        ("A total 616 kg", 616, 616, 616, False, "kg", N),
        # scale words and abbreviations
        ("W19.8 billion", 19.8e9, 19.8e9, 19.8e9, False, "", N),
        ("US$100 million", 1e8, 1e8, 1e8, False, "", N),
        ("60 million U.S. dollars", 6e7, 6e7, 6e7, False, "U.S. dollars", N),
        ("around T$200m", 2e8, 2e8, 2e8, True, "", N),
        ("1.5bn yen", 1.5e9, 1.5e9, 1.5e9, False, "yen", N),
        ("2 thousand baht", 2000, 2000, 2000, False, "baht", N),
        # ranges: a scale word on the high end applies to the low end too
        ("6-8 million pesos per kilo", 6e6, 8e6, 7e6, False, "pesos", "kilo"),
        ("6–8 million pesos", 6e6, 8e6, 7e6, False, "pesos", N),  # en dash
        ("2 million to 5 million baht", 2e6, 5e6, 3.5e6, False, "baht", N),
        ("between 2 and 5 million pesos", 2e6, 5e6, 3.5e6, False, "pesos", N),
        ("6-8 kg", 6, 8, 7, False, "kg", N),  # not a subtraction
        # prices per unit
        ("$15 per gram", 15, 15, 15, False, "", "gram"),
        ("about $15 a gram", 15, 15, 15, True, "", "gram"),
        ("3 million pesos per kilo", 3e6, 3e6, 3e6, False, "pesos", "kilo"),
        ("US$2,000/kg", 2000, 2000, 2000, False, "", "kg"),
    ],
)
def test_reads_real_spellings(text, low, high, point, approximate, unit, per):
    amount = parse_amount(text)
    for got, want in ((amount.low, low), (amount.high, high), (amount.point, point)):
        assert (got is None) if want is None else math.isclose(got, want, rel_tol=1e-12)
    assert amount.approximate is approximate
    assert (amount.unit or "") == unit
    assert amount.per == per


@pytest.mark.parametrize(
    "text, marker",
    [("W19.8 billion", "W"), ("US$100 million", "US$"), ("₱3 million", "₱"), ("A$160 million", "A$"),
     ("HK$5 million", "HK$"), ("NT$9 million", "NT$"), ("about Y36.96 billion", "Y"), ("€2m", "€")],
)
def test_prefix_currency_markers(text, marker):
    assert parse_amount(text).marker == marker


@pytest.mark.parametrize(
    "text, reason",
    [
        ("0 kg", "amounts must be greater than zero"),
        ("-5 kg", "amounts must be positive"),
        ("8-6 kg", "the low end of the range exceeds the high end"),
        ("kg", "no number found"),
        ("a large amount", "no number found"),
        ("between 5 kg", "'between' needs two numbers"),
        ("", "empty text"),
    ],
)
def test_rejects_with_reason(text, reason):
    with pytest.raises(AmountError) as info:
        parse_amount(text)
    assert info.value.reason == reason
    assert str(info.value) == f"cannot read {text!r} as an amount: {reason}"


def test_vectorised_parse_keeps_row_order_and_index():
    texts = pd.Series(["5 kg", "", "6-8 kg", "5 kg", "junk"], index=[10, 11, 12, 13, 14])
    out = parse_amounts(texts)
    assert list(out.index) == [10, 11, 12, 13, 14]
    assert out["point"].tolist()[0] == 5 and out["point"].tolist()[3] == 5
    assert pd.isna(out.at[11, "point"]) and pd.isna(out.at[11, "error"])  # empty is not an error
    assert out.at[12, "point"] == 7
    assert out.at[14, "error"] == "no number found"


@pytest.mark.parametrize("text", ["５ kg", "٣ kg", "US$٣"])
def test_digits_of_other_scripts_are_not_numbers(text):
    with pytest.raises(AmountError, match="no number found"):
        parse_amount(text)


@pytest.mark.parametrize("text, unit", [("500 A$", "A$"), ("5 million A$", "A$"), ("20 an hour", "")])
def test_a_trailing_marker_or_word_is_not_a_per_unit(text, unit):
    amount = parse_amount(text)
    if unit:
        assert amount.unit == unit and amount.per is None
    else:
        assert amount.per == "hour"  # "an" followed by a blank does introduce a unit
