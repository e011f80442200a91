"""Read amounts as written in news reports, in English and Korean.

"nearly 125 kilograms", "6-8 million pesos per kilo", "W19.8 billion",
"about $15 a gram", "2 million to 5 million baht", "70㎏ 가량",
"2억 7천만원", "시가 150억엔 상당", "1그램당 중국 돈 130위안" all become a
number (or a range), an approximate flag, the unit or currency words around
it, and the unit a price is quoted per. Units and currencies are *not*
interpreted here: `etl.normalise` looks them up in the reference tables
(data/reference/units.csv and currency_markers.csv, which hold the Korean
spellings too).

The grammar is one regular expression applied with pandas' vectorised
`str.extract` to the distinct texts of a column. Every repetition in it is
possessive or atomic, so the regex engine never backtracks into it: a text is
read in time linear in its length. Texts longer than `MAX_CHARS` are not
parsed at all (they get an error).

Korean numbers ("4백20만", "2억 7천만", "150억", "20여") are captured by
the same regular expression and their value computed by `korean_number`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from etl.errors import AmountError

MAX_CHARS = 300  # the longest amount text the grammar reads; longer texts are an error, never parsed

# Qualifier -> what the stated number is: "approx" (a point, roughly), "upper"
# (the true figure is at most this), "lower" (at least this), "exact".
# English qualifiers come before the number and are followed by a blank.
QUALIFIERS = {
    "about": "approx",
    "around": "approx",
    "approximately": "approx",
    "approx.": "approx",
    "roughly": "approx",
    "some": "approx",
    "an estimated": "approx",
    "estimated": "approx",
    "nearly": "upper",
    "almost": "upper",
    "just under": "upper",
    "under": "upper",
    "less than": "upper",
    "up to": "upper",
    "no more than": "upper",
    "more than": "lower",
    "over": "lower",
    "at least": "lower",
    "upwards of": "lower",
    "in excess of": "lower",
    "a total of": "exact",
    "a total": "exact",
    "between": "exact",
}
# A qualifier's words may be written with any blanks between them, or none ("a  total of", "atotal of"):
# the form without blanks names the qualifier.
QUALIFIER_FORMS = {word.replace(" ", ""): word for word in QUALIFIERS}
# Korean qualifiers written before the number ("약 70㎏", "약70㎏"); no blank needed.
KO_PREFIX_QUALIFIERS = {
    "약": "approx",
    "대략": "approx",
    "최소": "lower",
    "최대": "upper",
    "총": "exact",
    "約": "approx",  # Japanese: about ("約200キロ")
}
# Korean qualifiers written after the figure ("70㎏ 가량", "1억원 이상", "3만원 미만").
# "여" right after a number ("20여㎏", "20여만원": twenty-odd) is read as "more than 20", approximate.
KO_SUFFIX_QUALIFIERS = {
    "가량": "approx",
    "정도": "approx",
    "쯤": "approx",
    "안팎": "approx",
    "내외": "approx",
    "남짓": "lower",
    "이상": "lower",
    "넘는": "lower",
    "이하": "upper",
    "미만": "upper",
    "수준": "approx",  # "at the level of": "15달러 수준"
}
# 대 right after the currency word, ending the text: "1천억원대" (in the hundred-billion-won range), about.
# Kept apart from the list above, which the article drafter also scans running text with ("대북" is not it).
KO_RANGE_SUFFIXES = {"대": "approx"}
YEO = "여"  # the "-odd" suffix of a Korean number: a lower bound, approximate
# Words that say "value" or "worth" around a figure without changing it: "시가 150억엔 상당",
# "중국 돈 130위안" (Chinese money), "1억원 어치". They are skipped.
# 싯가 is an older spelling of 시가; 인민폐 (renminbi) and 미화 (US currency) name the money, as 중국 돈 does,
# and the currency word after the number says it again. Japanese: 現金 (cash) before, 相当 (worth) after.
KO_LEAD_WORDS = ["시가", "시가로", "싯가", "중국 돈", "중국돈", "인민폐", "북한 돈", "북한돈", "한국 돈", "한국돈", "미화", "무려",
                 "現金"]
KO_TRAIL_WORDS = ["상당", "상당의", "어치", "규모", "相当"]
# Korean particles between a per-unit and the price: "1그램은 20달러", "1g에 5000원", "1g이면 100위안"
# (a gram is / a gram also / for a gram / if a gram). The per-unit needs its number here.
KO_PER_PARTICLES = ["은", "는", "도", "에", "에는", "이면", "면"]
# English: "for a 350-gram pack", "for a 0.1-gram package": a price per that many units. The container
# word after the unit is dropped, only when the unit has a number.
PER_CONTAINERS = ["pack", "package", "packet"]

SCALES = {
    "thousand": 1e3,
    "k": 1e3,
    "million": 1e6,
    "mn": 1e6,
    "mln": 1e6,
    "m": 1e6,
    "billion": 1e9,
    "bn": 1e9,
    "trillion": 1e12,
}
# Number characters of Korean (and the Chinese/Japanese ones, which Korean papers and the
# Japanese/Chinese press share): small ones multiply within a group of four digits,
# large ones close a group ("2억 7천만" = 2 x 10^8 + 7,000 x 10^4).
KO_SMALL_SCALES = {"십": 10, "백": 100, "천": 1000, "十": 10, "百": 100, "千": 1000}
KO_LARGE_SCALES = {"만": 1e4, "억": 1e8, "조": 1e12, "万": 1e4, "萬": 1e4, "億": 1e8, "亿": 1e8, "兆": 1e12}
_KO_SCALE_CHARS = "".join(KO_SMALL_SCALES) + "".join(KO_LARGE_SCALES)

# ASCII digits only: Python's \d also matches other scripts' digits, which to_numeric cannot read
NUMBER = r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?|\.[0-9]+"
RANGE_SEPARATORS = r"-|–|—|to|and|~|∼|〜|～"
PER = r"per|an|a|for(?>[^\S\n]++an?+(?=[^\S\n]))?+"  # words, followed by a blank ("a gram", "for 0.8 gram",
# "for a 0.1-gram package"); "/" needs none ("US$2,000/kg")


def _alternation(words) -> str:
    return "|".join(re.escape(w).replace(r"\ ", r"\s*+") for w in sorted(words, key=len, reverse=True))


def _atomic(pattern: str) -> str:
    return f"(?>{pattern})"


@dataclass(frozen=True)
class Grammar:
    """The compiled amount pattern for a given set of prefix currency markers.

    Every quantifier is possessive and every alternation of numbers atomic, so
    a failed match gives up instead of trying other splits of the text.
    """

    pattern: str

    @classmethod
    def build(cls, prefix_markers) -> "Grammar":
        q = _alternation(QUALIFIERS)
        kq = _alternation(KO_PREFIX_QUALIFIERS)
        ks = _alternation({**KO_SUFFIX_QUALIFIERS, **KO_RANGE_SUFFIXES})
        lead = _alternation(KO_LEAD_WORDS)
        trail = _alternation(KO_TRAIL_WORDS)
        s = _alternation(SCALES)
        c = _alternation(prefix_markers)
        num = _atomic(NUMBER)
        sc = f"[{_KO_SCALE_CHARS}]"
        # 70 | 20여 | 4백20만 | 2억 7천만 | 150억 | 20여만 : a number, then Korean scale characters,
        # each possibly followed by another number that is itself followed by a scale character
        # a last number after a scale character: "8백35" (835), "1만 8000" (18,000); korean_number checks it is
        # smaller than that scale
        knum = _atomic(rf"{num}(?:{YEO}(?={sc}))?+(?:[ ]?+{sc}++(?:[ ]?+{num}(?=[ ]?+{sc}))?+)*+"
                       rf"(?:(?<={sc})[ ]?+{num})?+{YEO}?+")
        kpart = _alternation(KO_PER_PARTICLES)
        ws = r"[^\S\n]"  # blanks inside the unit words: a line break there is not an amount
        pn_end = rf"(?>-|{ws}*+)"  # "0.8 gram", "350-gram"
        per_start = rf"(?:\b(?:{PER}){ws}++|/{ws}*+)(?:{num}{pn_end})?+[^\s0-9]"
        suffix_end = rf"(?:{ks}|{trail})(?:{ws}*+(?:{ks}|{trail}))?+\s*+$"
        # unit words: any run of characters up to a per-unit clause, a trailing Korean qualifier, or the end
        unit_tok = rf"(?!{per_start}|{suffix_end})[^\s]|{ws}++(?=\S)(?!{per_start}|{suffix_end})"
        pattern = (
            rf"(?i)^\s*+"
            # Korean price unit in front: "1그램당", "kg당"
            rf"(?:(?P<kpn>{num})?+\s*+(?P<kper>(?:(?!당[\s0-9])[^\s0-9])++)당\s*+"
            # or with a particle: "1그램은", "1g에", "1g이면"
            rf"|(?P<kpn2>{num})\s*+(?P<kper2>(?:(?!(?:{kpart})\s)[^\s0-9])++)(?:{kpart})\s++)?+"
            rf"(?:(?:{lead})\s*+)?+"
            rf"(?:(?P<qual>{q})\s++|(?P<kqual>{kq})\s*+)?+"
            rf"(?:(?:{lead})\s*+)?+"
            rf"(?P<cur1>{c})?+\s*+(?P<n1>{knum})\s*+(?:(?P<s1>{s})\b)?+"
            rf"(?:\s*+(?P<sep>{RANGE_SEPARATORS})\s*+(?P<cur2>{c})?+\s*+(?P<n2>{knum})\s*+(?:(?P<s2>{s})\b)?+)?+"
            rf"\s*+(?P<unit>(?:{unit_tok})*+)"
            rf"\s*+(?:(?:\b(?:{PER}){ws}++|/{ws}*+)(?:(?P<pn>{num}){pn_end})?+(?P<per>[^\s0-9](?:{ws}*+\S)*+))?+"
            rf"\s*+(?:(?P<ksuf>{ks})|(?:{trail}))?+(?:{ws}*+(?:(?P<ksuf2>{ks})|(?:{trail})))?+"
            rf"\s*+$"
        )
        return cls(pattern)


# Markers written in front of a number ("US$100", "W19.8", "₱3"). Kept here as
# well as in currency_markers.csv because the grammar needs them to split
# "W19.8" into marker and number; which currencies they stand for is data.
PREFIX_MARKERS = ["US$", "U.S.$", "U.S. $", "A$", "AU$", "AUD$", "HK$", "NT$", "T$", "$", "₩", "W", "¥", "Y", "₱", "P", "€", "RMB", "USD", "AUD", "dollars"]
DEFAULT_GRAMMAR = Grammar.build(PREFIX_MARKERS)
_COMPILED: dict[str, re.Pattern] = {}

COLUMNS = ["low", "high", "point", "approximate", "qualifier", "bound", "marker", "unit", "per", "error"]
# The errors of a text's form or numbers (also used by etl.amount_table, which must word them the same)
ERRORS = {
    "unreadable": "unreadable number",
    "zero": "amounts must be greater than zero",
    "range": "the low end of the range exceeds the high end",
    "between": "'between' needs two numbers",
    "conflict": "two qualifiers that disagree (at least / at most)",
    "per_zero": "a price per zero units",
    "markers": "the two ends of the range name different currencies",
}


def korean_number(text: str) -> float | None:
    """Value of a number written with Korean (or CJK) scale characters: "4백20만" -> 4,200,000.

    Digits may carry thousands separators ("3,000만"); "여" (the "-odd" suffix) is ignored here.
    None when the characters are out of order ("만억", "5천6천").
    """
    total = 0.0
    section = 0.0  # the group below the current large scale
    current: float | None = None
    last_large = float("inf")
    last_small = float("inf")
    limit = float("inf")  # a number after a scale character is below it: "8백35", not "8백350"
    for token in re.findall(rf"[0-9][0-9,]*(?:\.[0-9]+)?|\.[0-9]+|[{_KO_SCALE_CHARS}]", text.replace(YEO, "")):
        if token in KO_SMALL_SCALES:
            mult = KO_SMALL_SCALES[token]
            if mult >= last_small:
                return None
            section += (1.0 if current is None else current) * mult
            current, last_small, limit = None, mult, mult
        elif token in KO_LARGE_SCALES:
            mult = KO_LARGE_SCALES[token]
            if mult >= last_large:
                return None
            group = section + (current or 0.0)
            total += (group if group else 1.0) * mult
            section, current, last_large, last_small, limit = 0.0, None, mult, float("inf"), 1e4
        else:
            if current is not None:
                return None  # two numbers with no scale between them
            current = float(token.replace(",", ""))
            if current >= limit:
                return None
    return total + section + (current or 0.0)


def parse_amounts(texts, grammar: Grammar = DEFAULT_GRAMMAR, max_chars: int = MAX_CHARS) -> pd.DataFrame:
    """Parse amount texts (a pandas Series, or any sequence of str/None); one output row per input row.

    Empty or missing texts give all-missing rows with no error. Texts that do
    not parse get `error` set (the reason) and missing numbers; texts longer
    than `max_chars` get "longer than N characters" without being parsed.
    `low`, `high` and `point` are per ONE unit of `per` ("130 yuan per 0.8 gram" gives 162.5 per gram).
    `per_count` is the number of units the source's price is for (0.8 there; 1 when not written), so a
    figure stated for the same quantity (the source's own dollar figure) can be put per one unit too.
    """
    if not isinstance(texts, pd.Series):
        texts = pd.Series(list(texts.to_list() if hasattr(texts, "to_list") else texts), dtype="object")
    texts = texts.astype("string").fillna("")
    codes, uniques = pd.factorize(texts, sort=False)
    parsed = _parse_unique(pd.Series(uniques, dtype="string"), grammar, max_chars)
    out = parsed.iloc[codes].reset_index(drop=True)
    out.index = texts.index
    return out


def parse_amount(text: str, grammar: Grammar = DEFAULT_GRAMMAR) -> "Amount":
    """Parse one text; raises `AmountError` when it cannot be read."""
    row = parse_amounts(pd.Series([text]), grammar).iloc[0]
    if isinstance(row["error"], str):
        raise AmountError(text, row["error"])
    if not text.strip():
        raise AmountError(text, "empty text")
    def clean(key):
        value = row[key]
        if pd.isna(value):
            return None
        if key in ("low", "high", "point"):
            return float(value)
        return bool(value) if key == "approximate" else str(value)

    return Amount(**{k: clean(k) for k in COLUMNS if k != "error"})


@dataclass(frozen=True)
class Amount:
    low: float | None
    high: float | None
    point: float
    approximate: bool
    qualifier: str | None
    bound: str
    marker: str | None
    unit: str | None
    per: str | None


def _number(col: pd.Series) -> np.ndarray:
    """Values of the captured numbers: digits with thousands separators, or Korean numbers."""
    plain = pd.to_numeric(col.str.replace(",", "", regex=False), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    korean = col.str.contains(f"[{_KO_SCALE_CHARS}{YEO}]", regex=True).fillna(False).to_numpy(dtype=bool)
    if korean.any():
        codes, uniques = pd.factorize(col[korean], sort=False)
        values = np.array([korean_number(u) if korean_number(u) is not None else np.nan for u in uniques], dtype="float64")
        plain[korean] = values[codes]
    return plain


def _lookup(col: pd.Series, table: dict[str, float], default: float) -> np.ndarray:
    """Vectorised dict look-up through factorize (fast on pandas' string dtype)."""
    codes, uniques = pd.factorize(col.str.lower(), sort=False)
    values = np.array([table.get(u, default) for u in uniques] + [default], dtype="float64")
    return values[codes]  # code -1 (missing) picks the trailing default


def _range_factor(n1: pd.Series, n2: pd.Series) -> np.ndarray:
    """"3~4만원": a Korean scale on the high end only applies to the low end too (3만 to 4만)."""
    out = np.ones(len(n1), dtype="float64")
    lead = n2.str.extract(rf"^({NUMBER})[{_KO_SCALE_CHARS}]+$")[0]
    plain_low = n1.str.fullmatch(NUMBER).fillna(False).to_numpy(dtype=bool)
    use = lead.notna().to_numpy(dtype=bool) & plain_low
    if use.any():
        out[use] = _number(n2[use]) / _number(lead[use])
    return out


def _parse_unique(texts: pd.Series, grammar: Grammar, max_chars: int = MAX_CHARS) -> pd.DataFrame:
    too_long = (texts.str.len() > max_chars).fillna(False).to_numpy(dtype=bool)
    compiled = _COMPILED.get(grammar.pattern)
    if compiled is None:
        compiled = _COMPILED.setdefault(grammar.pattern, re.compile(grammar.pattern))
    # the regex never sees a text over the limit
    m = texts.where(~too_long, "").str.extract(compiled)
    stripped = texts.str.strip()
    empty = (stripped == "").to_numpy()
    matched = m["n1"].notna().to_numpy() & ~too_long

    n1 = _number(m["n1"])
    n2 = _number(m["n2"])
    is_range = ~np.isnan(n2) & m["n2"].notna().to_numpy()
    f2 = _lookup(m["s2"], SCALES, 1.0)
    f1 = np.where(m["s1"].isna().to_numpy() & is_range, f2, _lookup(m["s1"], SCALES, 1.0))
    f1 = f1 * np.where(is_range, _range_factor(m["n1"].fillna(""), m["n2"].fillna("")), 1.0)
    per_n = _number(m["pn"].fillna(m["kpn"]).fillna(m["kpn2"]))
    per_n = np.where(np.isnan(per_n), 1.0, per_n)
    per_div = np.where(per_n > 0, per_n, np.nan)
    a = n1 * f1 / per_div
    b = n2 * f2 / per_div

    # the qualifier as listed in QUALIFIERS, whatever blanks the text had between its words ("a  total of")
    qual = (m["qual"].str.lower().str.replace(r"\s+", "", regex=True).map(QUALIFIER_FORMS).astype("string")
            .fillna(m["kqual"]))
    suffix = m["ksuf2"].fillna(m["ksuf"])
    yeo = m["n1"].str.contains(YEO, regex=False).fillna(False).to_numpy(dtype=bool)
    table = {**QUALIFIERS, **KO_PREFIX_QUALIFIERS, **KO_SUFFIX_QUALIFIERS, **KO_RANGE_SUFFIXES}
    bound_codes, bound_uniques = pd.factorize(qual, sort=False)
    bound = np.array([table[u] for u in bound_uniques] + ["exact"], dtype=object)[bound_codes]
    suf_codes, suf_uniques = pd.factorize(suffix, sort=False)
    suf_bound = np.array([table[u] for u in suf_uniques] + [""], dtype=object)[suf_codes]
    conflict = (suf_bound != "") & np.isin(bound, ["upper", "lower"]) & (suf_bound != bound) & (suf_bound != "approx")
    bound = np.where((suf_bound != "") & ~np.isin(bound, ["upper", "lower"]), suf_bound, bound)
    conflict |= yeo & (bound == "upper")
    bound = np.where(yeo & ~is_range, "lower", bound)
    qual = qual.fillna(suffix)
    qual = qual.where(~pd.Series(yeo, index=qual.index) | qual.notna(), YEO)

    point = np.where(is_range, (a + b) / 2, a)
    low = np.where(is_range, a, np.where(bound == "upper", np.nan, a))
    high = np.where(is_range, b, np.where(bound == "lower", np.nan, a))
    approximate = np.isin(bound, ["approx", "upper", "lower"])

    error = np.full(len(texts), None, dtype=object)
    negative = stripped.str.match(r"^[-−–]\s*\S*[0-9]").fillna(False).to_numpy() & ~too_long
    error[~matched & ~empty] = "no number found"
    error[matched & np.isnan(point)] = ERRORS["unreadable"]  # e.g. Korean scale characters out of order
    error[negative] = "amounts must be positive"
    error[matched & (point <= 0) & ~negative] = ERRORS["zero"]
    error[matched & is_range & (a > b)] = ERRORS["range"]
    bare_range_word = (qual == "between").fillna(False).to_numpy() & ~is_range
    error[matched & bare_range_word] = ERRORS["between"]
    error[matched & conflict] = ERRORS["conflict"]
    per_zero = matched & ~(per_n > 0)
    error[per_zero] = ERRORS["per_zero"]
    two_pers = ((m["kper"].notna() | m["kper2"].notna()) & m["per"].notna()).to_numpy()
    error[matched & two_pers] = "two units the price is quoted per"

    marker = m["cur1"].fillna(m["cur2"])
    two_markers = m["cur1"].notna() & m["cur2"].notna() & (m["cur1"].str.lower() != m["cur2"].str.lower())
    error[two_markers.to_numpy() & matched] = ERRORS["markers"]
    error[too_long] = f"longer than {max_chars:,} characters"

    ok = matched & (error == None)  # noqa: E711 - element-wise comparison on an object array
    nan = np.nan
    # "gram pack" after a number ("for a 350-gram pack") is per gram; the container word is dropped
    containers = _alternation(PER_CONTAINERS)
    per = m["per"].where(m["pn"].isna(), m["per"].str.replace(rf"(?i)[^\S\n]++(?:{containers})$", "", regex=True))
    per = per.fillna(m["kper"]).fillna(m["kper2"])
    out = pd.DataFrame(
        {
            "low": np.where(ok, low, nan),
            "high": np.where(ok, high, nan),
            "point": np.where(ok, point, nan),
            "approximate": pd.array(np.where(ok, approximate, False), dtype="boolean"),
            "qualifier": qual.where(ok),
            "bound": pd.Series(np.where(ok, bound, None), dtype="string"),
            "marker": marker.where(ok),
            "unit": m["unit"].str.strip().str.replace(r"\s+", " ", regex=True).where(ok),
            "per": per.str.strip().str.lower().where(ok),
            "per_count": np.where(ok & per.notna().to_numpy(), per_n, nan),  # "for 0.8 gram": 0.8
            "error": pd.Series(error, dtype="string"),
        }
    )
    out.loc[empty, "approximate"] = pd.NA
    return out
