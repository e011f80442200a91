"""Read amounts as written in news reports.

"nearly 125 kilograms", "6-8 million pesos per kilo", "W19.8 billion",
"about $15 a gram", "2 million to 5 million baht" all become a number (or a
range), an approximate flag, the unit or currency words around it, and the
unit a price is quoted per. Units and currencies are *not* interpreted here:
`etl.normalise` looks them up in the reference tables.

The grammar is one regular expression applied with pandas' vectorised
`str.extract` to the distinct texts of a column, so a million rows cost one
pass of a compiled regex, not a Python call per row.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from etl.errors import AmountError

# Qualifier -> what the stated number is: "approx" (a point, roughly), "upper"
# (the true figure is at most this), "lower" (at least this), "exact".
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

# ASCII digits only: Python's \d also matches other scripts' digits, which to_numeric cannot read
NUMBER = r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?|\.[0-9]+"
RANGE_SEPARATORS = r"-|–|—|to|and"
PER = r"per|a|an"  # words, followed by a blank ("a gram"); "/" needs none ("US$2,000/kg")


def _alternation(words) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@dataclass(frozen=True)
class Grammar:
    """The compiled amount pattern for a given set of prefix currency markers."""

    pattern: str

    @classmethod
    def build(cls, prefix_markers) -> "Grammar":
        q = _alternation(QUALIFIERS)
        s = _alternation(SCALES)
        c = _alternation(prefix_markers)
        pattern = (
            rf"(?i)^\s*(?:(?P<qual>{q})\s+)?"
            rf"(?P<cur1>{c})?\s*(?P<n1>{NUMBER})\s*(?:(?P<s1>{s})\b)?\s*"
            rf"(?:(?P<sep>{RANGE_SEPARATORS})\s*(?P<cur2>{c})?\s*(?P<n2>{NUMBER})\s*(?:(?P<s2>{s})\b)?)?"
            rf"\s*(?P<unit>.*?)\s*(?:(?:\b(?:{PER})\s+|/\s*)(?P<per>[^\s0-9].*?))?\s*$"
        )
        return cls(pattern)


# Markers written in front of a number ("US$100", "W19.8", "₱3"). Kept here as
# well as in currency_markers.csv because the grammar needs them to split
# "W19.8" into marker and number; which currencies they stand for is data.
PREFIX_MARKERS = ["US$", "U.S.$", "U.S. $", "A$", "AU$", "AUD$", "HK$", "NT$", "T$", "$", "₩", "W", "¥", "Y", "₱", "P", "€", "RMB", "USD", "AUD", "dollars"]
DEFAULT_GRAMMAR = Grammar.build(PREFIX_MARKERS)

COLUMNS = ["low", "high", "point", "approximate", "qualifier", "bound", "marker", "unit", "per", "error"]


def parse_amounts(texts: pd.Series, grammar: Grammar = DEFAULT_GRAMMAR) -> pd.DataFrame:
    """Parse a Series of amount texts; one output row per input row.

    Empty or missing texts give all-missing rows with no error. Texts that do
    not parse get `error` set (the reason) and missing numbers.
    """
    texts = texts.astype("string").fillna("")
    codes, uniques = pd.factorize(texts, sort=False)
    parsed = _parse_unique(pd.Series(uniques, dtype="string"), grammar)
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
    return pd.to_numeric(col.str.replace(",", "", regex=False), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _lookup(col: pd.Series, table: dict[str, float], default: float) -> np.ndarray:
    """Vectorised dict look-up through factorize (fast on pandas' string dtype)."""
    codes, uniques = pd.factorize(col.str.lower(), sort=False)
    values = np.array([table.get(u, default) for u in uniques] + [default], dtype="float64")
    return values[codes]  # code -1 (missing) picks the trailing default


def _parse_unique(texts: pd.Series, grammar: Grammar) -> pd.DataFrame:
    m = texts.str.extract(grammar.pattern)
    stripped = texts.str.strip()
    empty = (stripped == "").to_numpy()
    matched = m["n1"].notna().to_numpy()

    n1 = _number(m["n1"])
    n2 = _number(m["n2"])
    is_range = ~np.isnan(n2)
    f2 = _lookup(m["s2"], SCALES, 1.0)
    f1 = np.where(m["s1"].isna().to_numpy() & is_range, f2, _lookup(m["s1"], SCALES, 1.0))
    a = n1 * f1
    b = n2 * f2

    qual = m["qual"].str.lower()
    bound_codes, bound_uniques = pd.factorize(qual, sort=False)
    bound_of = np.array([QUALIFIERS[u] for u in bound_uniques] + ["exact"], dtype=object)
    bound = bound_of[bound_codes]

    point = np.where(is_range, (a + b) / 2, a)
    low = np.where(is_range, a, np.where(bound == "upper", np.nan, a))
    high = np.where(is_range, b, np.where(bound == "lower", np.nan, a))
    approximate = np.isin(bound, ["approx", "upper", "lower"])

    error = np.full(len(texts), None, dtype=object)
    negative = stripped.str.match(r"^[-−–]\s*\S*[0-9]").fillna(False).to_numpy()
    error[~matched & ~empty] = "no number found"
    error[matched & np.isnan(point)] = "unreadable number"  # a safety net: a match must give a number
    error[negative] = "amounts must be positive"
    error[matched & (point <= 0) & ~negative] = "amounts must be greater than zero"
    error[matched & is_range & (a > b)] = "the low end of the range exceeds the high end"
    bare_range_word = (m["qual"].str.lower() == "between").fillna(False).to_numpy() & ~is_range
    error[matched & bare_range_word] = "'between' needs two numbers"

    marker = m["cur1"].fillna(m["cur2"])
    two_markers = m["cur1"].notna() & m["cur2"].notna() & (m["cur1"].str.lower() != m["cur2"].str.lower())
    error[two_markers.to_numpy() & matched] = "the two ends of the range name different currencies"

    ok = matched & (error == None)  # noqa: E711 - element-wise comparison on an object array
    nan = np.nan
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
            "per": m["per"].str.strip().str.lower().where(ok),
            "error": pd.Series(error, dtype="string"),
        }
    )
    out.loc[empty, "approximate"] = pd.NA
    return out
