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


# --- Korean-language figures (texts written for these tests) ---------------------------------

@pytest.mark.parametrize(
    "text, low, high, point, approximate, qualifier, unit, per",
    [
        # masses in every Korean spelling of the units table, and counts
        ("35㎏", 35, 35, 35, False, N, "㎏", N),
        ("12kg", 12, 12, 12, False, N, "kg", N),
        ("3킬로그램", 3, 3, 3, False, N, "킬로그램", N),
        ("450그램", 450, 450, 450, False, N, "그램", N),
        ("0.5g", 0.5, 0.5, 0.5, False, N, "g", N),
        ("5,000정", 5000, 5000, 5000, False, N, "정", N),
        ("200알", 200, 200, 200, False, N, "알", N),
        ("30봉지", 30, 30, 30, False, N, "봉지", N),
        # 만/억/조 and mixed forms
        ("4백20만달러", 4_200_000, 4_200_000, 4_200_000, False, N, "달러", N),
        ("2억 7천만원", 270_000_000, 270_000_000, 270_000_000, False, N, "원", N),
        ("3,000만원", 30_000_000, 30_000_000, 30_000_000, False, N, "원", N),
        ("1조 2천억원", 1.2e12, 1.2e12, 1.2e12, False, N, "원", N),
        ("1.5억 엔", 1.5e8, 1.5e8, 1.5e8, False, N, "엔", N),
        ("시가 150억엔 상당", 1.5e10, 1.5e10, 1.5e10, False, N, "엔", N),
        ("5천만 원 어치", 5e7, 5e7, 5e7, False, N, "원", N),  # 어치 (worth) is skipped
        # qualifiers: 약/가량/정도 approximate; 이상 a lower bound; 미만/이하 an upper bound
        ("70㎏ 가량", 70, 70, 70, True, "가량", "㎏", N),
        ("약 70㎏", 70, 70, 70, True, "약", "㎏", N),
        ("약70kg", 70, 70, 70, True, "약", "kg", N),
        ("10kg 정도", 10, 10, 10, True, "정도", "kg", N),
        ("1억원 이상", 1e8, N, 1e8, True, "이상", "원", N),
        ("3만원 미만", N, 30_000, 30_000, True, "미만", "원", N),
        # 여 ("twenty-odd"): read as more than 20, approximate
        ("20여㎏", 20, N, 20, True, "여", "㎏", N),
        ("20여만원", 200_000, N, 200_000, True, "여", "원", N),
        # ranges: a Korean scale on the high end applies to the low end
        ("3~4만원", 30_000, 40_000, 35_000, False, N, "원", N),
        ("5∼7㎏", 5, 7, 6, False, N, "㎏", N),
        # prices: 1그램당 in front, the currency word after; "중국 돈" (Chinese money) is skipped
        ("1그램당 중국 돈 130위안", 130, 130, 130, False, N, "위안", "그램"),
        ("kg당 3만원", 30_000, 30_000, 30_000, False, N, "원", "kg"),
        ("10그램당 1,000위안", 100, 100, 100, False, N, "위안", "그램"),  # per ONE gram
        # Japanese and Chinese basics
        ("3キロ", 3, 3, 3, False, N, "キロ", N),
        ("9億円", 9e8, 9e8, 9e8, False, N, "円", N),
        ("50公斤", 50, 50, 50, False, N, "公斤", N),
        ("5千克", 5000, 5000, 5000, False, N, "克", N),  # 千克 is "thousand grams": 5,000 g, the same 5 kg
        # a particle after the per-unit: "1 gram is / also / for / if a gram" (은/는/도/에/이면/면)
        ("1그램은 30달러", 30, 30, 30, False, N, "달러", "그램"),
        ("1kg는 2만위안", 20_000, 20_000, 20_000, False, N, "위안", "kg"),
        ("1그램도 9달러 수준", 9, 9, 9, True, "수준", "달러", "그램"),  # 수준 (at the level of) = about
        ("2g에 6000원", 3000, 3000, 3000, False, N, "원", "g"),  # per ONE gram
        ("1kg이면 40만원", 400_000, 400_000, 400_000, False, N, "원", "kg"),
        ("1킬로면 3천달러", 3000, 3000, 3000, False, N, "달러", "킬로"),
        ("1그람에 7달러", 7, 7, 7, False, N, "달러", "그람"),  # 그람: another spelling of 그램
        ("1그람", 1, 1, 1, False, N, "그람", N),
        # currency words before the number: 미화 (US money), 인민폐 (renminbi), 중국 돈 (Chinese money)
        ("1그램은 미화 40달러", 40, 40, 40, False, N, "달러", "그램"),
        ("1그램당 인민폐 90위안", 90, 90, 90, False, N, "위안", "그램"),
        ("1g이면 중국 돈 80위안", 80, 80, 80, False, N, "위안", "g"),
        ("싯가 3억원 상당", 3e8, 3e8, 3e8, False, N, "원", N),  # 싯가: older spelling of 시가
        ("5백억원대", 5e10, 5e10, 5e10, True, "대", "원", N),  # 대: in the range of
        ("5천만원 정도", 5e7, 5e7, 5e7, True, "정도", "원", N),
        # a last number after a scale character
        ("6백12g", 612, 612, 612, False, N, "g", N),
        ("2만 5000원", 25_000, 25_000, 25_000, False, N, "원", N),
        ("3백20만원", 3_200_000, 3_200_000, 3_200_000, False, N, "원", N),
        # Japanese: 約 (about) before, 相当 (worth) after, 現金 (cash) before, ドル
        ("約35キロ", 35, 35, 35, True, "約", "キロ", N),
        ("約8億円相当", 8e8, 8e8, 8e8, True, "約", "円", N),
        ("現金5万ドル", 50_000, 50_000, 50_000, False, N, "ドル", N),
    ],
)
def test_reads_korean_forms(text, low, high, point, approximate, qualifier, unit, per):
    amount = parse_amount(text)
    for got, want in ((amount.low, low), (amount.high, high), (amount.point, point)):
        assert (got is None) if want is None else math.isclose(got, want, rel_tol=1e-12), (got, want)
    assert amount.approximate is approximate
    assert amount.qualifier == qualifier
    assert (amount.unit or "") == unit
    assert amount.per == per


def test_english_price_per_a_number_of_units_is_per_one_unit():
    amount = parse_amount("130 yuan per 0.8 gram")
    assert amount.point == pytest.approx(162.5) and amount.per == "gram" and amount.unit == "yuan"


@pytest.mark.parametrize(
    "text, point, unit, per, per_count",
    [
        ("30 RMB for 0.5 gram", 60, "RMB", "gram", 0.5),
        ("90,000 yen for a 300-gram pack", 300, "yen", "gram", 300),
        ("about 5,000 won in North Korean currency for a 0.2-gram package", 25_000, "won in North Korean currency", "gram", 0.2),
        ("12 dollars for a gram", 12, "dollars", "gram", 1),
        ("40 Chinese yuan per gram", 40, "Chinese yuan", "gram", 1),
        ("2 yuan a packet", 2, "yuan", "packet", 1),  # without a number, "packet" is the unit itself
        ("5 kg", 5, "kg", N, N),
    ],
)
def test_english_price_for_a_quantity_is_per_one_unit(text, point, unit, per, per_count):
    out = parse_amounts([text]).iloc[0]
    assert out["point"] == pytest.approx(point) and out["unit"] == unit and (out["per"] if per else None) == per
    assert (pd.isna(out["per_count"]) if per_count is None else out["per_count"] == pytest.approx(per_count))


@pytest.mark.parametrize(
    "text, reason",
    [
        ("8백350g", "unreadable number"),  # the number after 백 must be below 100
        ("1만 12000원", "unreadable number"),  # and after 만 below 10,000
        ("5만억원", "unreadable number"),  # scales out of order
        ("최소 5kg 미만", "two qualifiers that disagree (at least / at most)"),
        ("0그램당 5위안", "a price per zero units"),
    ],
)
def test_korean_forms_rejected_with_reason(text, reason):
    with pytest.raises(AmountError) as info:
        parse_amount(text)
    assert info.value.reason == reason


def test_korean_number_values():
    from etl.amounts import korean_number

    assert korean_number("4백20만") == 4_200_000
    assert korean_number("2억 7천만") == 270_000_000
    assert korean_number("1만2천") == 12_000
    assert korean_number("천") == 1000
    assert korean_number("5천6천") is None
    assert korean_number("5 6") is None


# --- hostile input (issue 15, item 1) ----------------------------------------------------------

def test_a_300_character_amount_does_not_freeze_the_parser():
    # "5", blanks, then "x\ny": the old grammar backtracked about n^5 times on this (hours at n=295);
    # the possessive grammar reads it in one pass and says it is not an amount
    out = parse_amounts(pd.Series(["5" + " " * 295 + "x\ny", "5 " + "a " * 148 + "x", "1" + "만" * 299]))
    assert out["error"].iloc[0] == "no number found"
    assert out["error"].iloc[2] == "unreadable number"
    assert out["point"].iloc[1] == 5 and out["per"].iloc[1].startswith("a a")  # "5 a <unit>": a price per unit


def test_a_text_over_the_length_limit_is_an_error_and_not_parsed():
    texts = pd.Series(["5 kg", "5" + " " * 300 + "kg", "x" * 10_000])
    out = parse_amounts(texts)
    assert out["point"].iloc[0] == 5
    assert out["error"].iloc[1] == "longer than 300 characters"
    assert out["error"].iloc[2] == "longer than 300 characters"
    assert out["point"].iloc[1:].isna().all()
    # exactly at the limit is still read
    assert parse_amounts(pd.Series(["5" + " " * 297 + "kg"]))["point"].iloc[0] == 5


def test_parse_amounts_takes_a_plain_list_of_distinct_texts():
    out = parse_amounts(["2억 7천만원", None, "5 kg"])
    assert out["point"].iloc[0] == 270_000_000 and pd.isna(out["point"].iloc[1]) and out["point"].iloc[2] == 5
