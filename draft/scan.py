"""Find amounts in running text: masses, counts and money.

The scanner is one regular expression built from the ETL's own tables: the
qualifiers and scale words of `etl.amounts`, the prefix currency markers of
`etl.amounts.PREFIX_MARKERS`, the unit spellings of `data/reference/units.csv`
and the currency words of `data/reference/currency_markers.csv`. On top of
what the amount parser reads it accepts word numbers ("three tonnes",
"a kilo", "a quarter of a billion") and a European thousands separator
("4.100 kg"), and hands back each figure as numbers plus a canonical text in
the digits form that `etl.amounts.parse_amount` reads.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from draft.spans import Spans
from etl.amounts import (KO_LARGE_SCALES, KO_PREFIX_QUALIFIERS, KO_SMALL_SCALES, KO_SUFFIX_QUALIFIERS, NUMBER, PREFIX_MARKERS,
                         QUALIFIERS, SCALES, YEO, parse_amount)
from etl.reference import Reference

ONES = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
         "seventeen": 17, "eighteen": 18, "nineteen": 19}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
WORD_VALUES = {**ONES, **TEENS, **TENS}

_ONES = "|".join(ONES)
_W99 = rf"(?:(?:{'|'.join(TENS)})(?:[-\s](?:{_ONES}))?|{'|'.join(TEENS)}|{_ONES})"
_W999 = rf"(?:(?:{_W99}|a|one)\s+hundred(?:\s+(?:and\s+)?{_W99})?|{_W99})"
WORD_NUMBER = (
    rf"(?:(?:a|one)\s+)?(?:quarter|half)\s+(?:of\s+)?an?"  # "a quarter of a", "half a"
    rf"|{_W999}(?:\s+and\s+a\s+half)?"
    rf"|an?(?:\s+dozen)?"
)
DIGITS = r"\d[\d,.]*\d|\d"

# Written currency names the reference table does not list, mapped to a
# marker it does (so the output cell stays readable by the ETL) and the ISO code.
EXTRA_CURRENCY_WORDS = {
    "north korean won": ("won", "KPW"),
    "south korean won": ("won", "KRW"),
    "australian dollars": ("A$", "AUD"),
    "australian dollar": ("A$", "AUD"),
    "hong kong dollars": ("HK$", "HKD"),
    "hong kong dollar": ("HK$", "HKD"),
    "new taiwan dollars": ("NT$", "TWD"),
    "taiwan dollars": ("NT$", "TWD"),
    "philippine pesos": ("pesos", "PHP"),
    "chinese yuan": ("yuan", "CNY"),
    "japanese yen": ("yen", "JPY"),
    "thai baht": ("baht", "THB"),
}
# Ambiguous spellings of mass the reference table leaves out on purpose: a bare
# "tons" is written with the curator's annotation "tons [metric]" when units.csv
# has it (else "metric tons"), and the note says it was a guess.
EXTRA_UNIT_WORDS = {"ton": "metric tons", "tons": "metric tons"}
COMMA_DECIMAL_COUNTRIES = {"DE", "FR", "ES", "IT", "NL", "BE", "AT", "PT", "ID", "VN", "BR", "AR", "CO", "CL", "TR", "RU",
                           "PL", "CZ", "DK", "NO", "SE", "FI", "GR", "RO", "HU"}


@dataclass
class Figure:
    start: int
    end: int
    text: str
    kind: str  # "mass", "count", "money"
    low: float
    high: float
    point: float
    canonical: str  # digits form the ETL amount parser reads
    qualifier: str | None = None
    marker: str | None = None  # currency marker as the ETL reference knows it
    iso: str | None = None  # currency when the marker or word fixes it
    unit: str | None = None  # unit spelling as the ETL reference knows it
    per: str | None = None
    notes: list[str] = field(default_factory=list)
    is_article: bool = False  # "a kilo": the number is the article "a"
    conversion: "Figure | None" = None
    per_span: tuple[int, int] | None = None
    ext_end: int = -1  # end of the figure with its bracketed conversion and per unit
    stated_rate: str = ""  # "(US$1=W1,117)" right after the figure
    per_written: bool = False  # the per unit is part of `canonical` ("1그램당 130위안"): not appended again
    tied: bool = False  # the figure carries its own "value" words ("시가 ... 상당"): the value of a seizure
    per_currency: bool = False  # "달러당 1,100원": so much money per unit of another currency (a rate)


def _alt(words) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


@dataclass(frozen=True)
class Lexicon:
    figure: re.Pattern
    single: re.Pattern  # the same without ranges, to re-read "60 kg and 4.5 kg"
    per: re.Pattern
    units: dict[str, tuple[str, str]]  # spelling -> (pint unit, kind)
    markers: dict[str, frozenset[str]]
    currency_words: dict[str, tuple[str, str | None]]  # lower-case word -> (marker for output, ISO or None)
    unit_words: str  # regex alternation of unit spellings
    drugs: dict[str, str]
    drug_words: str
    ton_spelling: dict[str, str]  # "tons" -> the spelling written in the quantity cell
    korean: re.Pattern | None = None  # Korean (and CJK) figures: "70㎏ 가량", "시가 150억엔 상당", "1그램당 130위안"
    people: re.Pattern | None = None  # "3명": counts of people
    korean_drugs: re.Pattern | None = None  # the Hangul spellings of drugs.csv, longest first


_CACHE: dict[int, tuple[Reference, Lexicon]] = {}


def lexicon(ref: Reference) -> Lexicon:
    """The lexicon of `ref`, built once per Reference object."""
    hit = _CACHE.get(id(ref))
    if hit is None or hit[0] is not ref:
        hit = (ref, build_lexicon(ref))
        _CACHE[id(ref)] = hit
    return hit[1]


def build_lexicon(ref: Reference) -> Lexicon:
    units = {s: v for s, v in ref.units.items() if not s.endswith(".")}
    unit_spellings = list(units) + list(EXTRA_UNIT_WORDS)
    currency_words: dict[str, tuple[str, str | None]] = {}
    for marker, isos in ref.markers.items():
        if re.fullmatch(r"[a-z][a-z. ]+", marker):  # words and codes, not symbols or one-letter prefixes
            currency_words[marker] = (marker, next(iter(isos)) if len(isos) == 1 else None)
    for word, (marker, iso) in EXTRA_CURRENCY_WORDS.items():
        currency_words.setdefault(word, (marker, iso))
    # Words in the prefix list ("dollars") are read after the number here, with the other currency words.
    prefixes = [p for p in PREFIX_MARKERS if not re.fullmatch(r"[a-z][a-z. ]*", p)]
    letter_prefixes = [p for p in prefixes if re.fullmatch(r"[A-Z]", p)]
    code_prefixes = [p for p in prefixes if re.fullmatch(r"[A-Z]{2,}", p)]
    symbol_prefixes = [p for p in prefixes if p not in letter_prefixes and p not in code_prefixes]
    prefix = (rf"(?:(?P<{{n}}sym>{_alt(symbol_prefixes)})\s?"
              rf"|(?-i:(?P<{{n}}code>{_alt(code_prefixes)}))\s?"
              rf"|(?-i:(?P<{{n}}letter>{_alt(letter_prefixes)}))(?=\d))")
    quals = _alt(QUALIFIERS)
    scale_words = [s for s in SCALES if len(s) > 2] + ["mn", "mln", "bn"]
    scale = rf"(?:\s*(?P<{{n}}>{_alt(scale_words)})\b|(?-i:(?P<{{n}}a>m|bn|k))\b)"
    number = rf"(?P<{{n}}>{DIGITS}|\b(?:{WORD_NUMBER})\b)"
    word = rf"(?P<{{n}}>{_alt(list(currency_words) + unit_spellings)})(?![\w$])"

    def part(i: int) -> str:
        return (rf"(?:{prefix.format(n=f'c{i}')})?{number.format(n=f'n{i}')}(?:{scale.format(n=f's{i}')})?")

    head = rf"(?<![\w$€¥₩₱.,])(?:(?P<qual>{quals})\s+)?"
    first_word = rf"(?:\s*{word.format(n='w1')})?"
    rng = rf"(?:\s*(?P<sep>-|–|—|\bto\b|\band\b)\s*{part(2)})?"
    last_word = rf"(?:(?:\s*|-){word.format(n='w2')})?"  # "50 kg", "50kg", "a 50-kg bag"
    figure = re.compile(head + part(1) + first_word + rng + last_word, re.I)
    single = re.compile(head + part(1) + last_word.replace("w2", "w1"), re.I)
    mass_units = [s for s, (_, kind) in units.items()] + list(EXTRA_UNIT_WORDS)
    per = re.compile(rf"\s*(?:(?:per|a|an|each)\s+|/\s*)(?P<per>{_alt(mass_units)})(?![\w])", re.I)
    drugs = dict(ref.drugs)
    tons = {w: (f"{w} [metric]" if f"{w} [metric]" in units else default) for w, default in EXTRA_UNIT_WORDS.items()}
    korean, people = _korean_patterns(units, ref.markers)
    hangul = sorted((d for d in drugs if HANGUL.search(d)), key=len, reverse=True)
    korean_drugs = re.compile("|".join(map(re.escape, hangul))) if hangul else None
    return Lexicon(figure, single, per, units, dict(ref.markers), currency_words, _alt(unit_spellings), drugs, _alt(drugs), tons,
                   korean, people, korean_drugs)


NOT_ASCII = re.compile(r"[^\x00-\x7f]")
HANGUL = re.compile(r"[\uac00-\ud7a3]")
HANGUL_OR_CJK = re.compile(r"[\u3131-\u318e\uac00-\ud7a3\u3040-\u30ff\u4e00-\u9fff\u3380-\u33ff]")
# Korean unit words that begin other words: 정도 (about), 알려 (known) ...
KO_UNIT_GUARDS = {"정": "(?![도부책상확])", "알": "(?![려아았고게])", "원": "(?![인장료산])", "엔": "(?![진])"}
KO_LEAD = r"시가로?|중국\s?돈|북한\s?돈|한국\s?돈|미화|무려"
KO_TRAIL = r"상당|어치"


def _korean_patterns(units: dict, markers: dict) -> tuple[re.Pattern, re.Pattern]:
    """The regex of Korean figures, built from the units and currency markers that are not plain ASCII
    (plus the ASCII mass units kg, g, mg, t written next to Korean text); possessive, so linear."""
    ko_units = [u for u in units if NOT_ASCII.search(u)] + ["kg", "g", "mg", "kgs"]
    ko_money = [m for m in markers if HANGUL_OR_CJK.search(m)]
    words = sorted(set(ko_units) | set(ko_money), key=len, reverse=True)
    word = "|".join(re.escape(w) + KO_UNIT_GUARDS.get(w, "") for w in words)
    scale = "[" + "".join(KO_SMALL_SCALES) + "".join(KO_LARGE_SCALES) + "]"
    num = f"(?>{NUMBER})"
    knum = rf"(?>{num}(?:{YEO}(?={scale}))?+(?:[ ]?+{scale}++(?:[ ]?+{num}(?=[ ]?+{scale}))?+)*+{YEO}?+)"
    pre_q = "|".join(sorted(KO_PREFIX_QUALIFIERS, key=len, reverse=True))
    suf_q = "|".join(sorted(KO_SUFFIX_QUALIFIERS, key=len, reverse=True))
    pattern = (
        rf"(?<![0-9.,\w])"
        rf"(?:(?P<kpn>{num})?+[ ]?+(?P<kper>{word})당[ ]?+)?+"
        rf"(?:(?P<lead>{KO_LEAD})[ ]?+)?+"
        rf"(?:(?P<q>{pre_q})[ ]?+)?+"
        rf"(?P<n1>{knum})(?:[ ]?+(?P<sep>~|∼|〜|～|-)[ ]?+(?P<n2>{knum}))?+"
        rf"[ ]?+(?P<word>{word})"
        rf"(?:[ ]?+(?P<suf>{suf_q}))?+"
        rf"(?:[ ]?+(?P<trail>{KO_TRAIL}))?+"
    )
    people = re.compile(r"(?<![0-9.,])(?P<n>[0-9]{1,5})[ ]?+명")
    return re.compile(pattern, re.I), people


def scan_korean(text: str, lex: Lexicon) -> list[Figure]:
    """Korean figures, read with the ETL's amount grammar (`etl.amounts.parse_amount`) on the text as written."""
    if lex.korean is None or not HANGUL_OR_CJK.search(text):
        return []
    out = []
    for m in lex.korean.finditer(text):
        written = re.sub(r"\s+", " ", m.group(0).strip())
        amount = read_amount(written)
        if isinstance(amount, str):
            continue
        word = m["word"]
        wl = word.lower()
        isos = lex.markers.get(wl)
        if isos is not None:
            kind = "money"
        elif wl in lex.units:
            kind = lex.units[wl][1]
        else:
            continue
        low = amount.low if amount.low is not None else amount.point
        high = amount.high if amount.high is not None else amount.point
        per = amount.per
        fig = Figure(
            start=m.start(), end=m.end(), text=m.group(0), kind=kind, low=low, high=high, point=amount.point,
            canonical=written, qualifier=amount.qualifier, marker=None,
            iso=(next(iter(isos)) if isos and len(isos) == 1 else None), unit=word, per=per,
            per_written=per is not None, tied=bool(m["lead"] and m["lead"].startswith("시가") or m["trail"]),
            per_currency=bool(m["kper"] and m["kper"].lower() in lex.markers),
        )
        if amount.bound in ("lower", "upper"):
            fig.notes.append(f"'{written}': {'at least' if amount.bound == 'lower' else 'at most'} {fmt(amount.point)}")
        fig.ext_end = m.end()
        out.append(fig)
    return out


def word_number(text: str) -> float | None:
    """Value of a number written in words ("three", "twenty-five", "a", "half a", "a quarter of a")."""
    t = re.sub(r"[\s-]+", " ", text.lower()).strip()
    if t in ("a", "an"):
        return 1.0
    if t in ("a dozen", "an dozen"):
        return 12.0
    if re.fullmatch(r"(?:(?:a|one) )?quarter (?:of )?an?", t):
        return 0.25
    if re.fullmatch(r"(?:(?:a|one) )?half (?:of )?an?", t):
        return 0.5
    half = 0.0
    if t.endswith(" and a half"):
        half, t = 0.5, t[: -len(" and a half")]
    total = 0
    for token in t.replace(" and ", " ").split():
        if token in ("a", "one") and "hundred" in t and total == 0:
            total = 1
            continue
        if token == "hundred":
            total = max(total, 1) * 100
        elif token in WORD_VALUES:
            total += WORD_VALUES[token]
        else:
            return None
    return float(total) + half


def digits_number(text: str, comma_decimal: bool) -> tuple[float | None, str | None]:
    """Value of a digits number and a note when the reading is not plain English."""
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?", text) and not (comma_decimal and re.fullmatch(r"\d{1,3}\.\d{3}", text)):
        return float(text.replace(",", "")), None
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?", text):
        return float(text.replace(".", "").replace(",", ".")), f"'{text}' read with a European thousands separator"
    if comma_decimal and re.fullmatch(r"\d+,\d+", text):
        return float(text.replace(",", ".")), f"'{text}' read with a decimal comma"
    return None, None


def european_thousands(text: str) -> bool:
    """'4.100' (three decimals ending in 0, or several dot groups) reads as 4,100 rather than 4.1."""
    return bool(re.fullmatch(r"\d{1,3}(?:\.\d{3}){2,}", text) or re.fullmatch(r"\d{1,3}\.\d\d0", text))


def fmt(x: float) -> str:
    if x == int(x):
        return f"{int(x):,}"
    return f"{x:,.6f}".rstrip("0").rstrip(".")


def scan(text: str, lex: Lexicon, outlet_country: str | None = None) -> list[Figure]:
    """Every mass, count and money figure in `text`, in order."""
    comma_decimal = (outlet_country or "").upper() in COMMA_DECIMAL_COUNTRIES
    korean = scan_korean(text, lex)
    taken = Spans()
    for f in korean:
        taken.add(f.start, f.end)
    figures: list[Figure] = []
    pos = 0
    while True:
        m = lex.figure.search(text, pos)
        if not m:
            break
        if m["sep"] and (m["sep"].lower() == "and" and (m["qual"] or "").lower() != "between"
                         or m["w1"] and m["w2"] and m["w1"].lower() != m["w2"].lower()
                         or m["w1"] and not m["w2"]):
            m = lex.single.match(text, m.start())
        fig = _figure(m, text, lex, comma_decimal)
        if fig is not None and taken.overlaps(fig.start, fig.end):
            pos = max(m.end(), pos + 1)
            continue
        if fig is not None:
            figures.append(fig)
            pos = m.end()
        else:
            pos = m.start() + 1
    return sorted(figures + korean, key=lambda f: f.start)


def _num(m: re.Match, i: int, comma_decimal: bool) -> tuple[float | None, str | None, bool]:
    raw = m[f"n{i}"]
    if raw is None:
        return None, None, False
    if raw[0].isdigit():
        if european_thousands(raw) or comma_decimal:
            value, note = digits_number(raw, True)
            if value is not None and note is None and european_thousands(raw):
                value, note = float(raw.replace(".", "")), f"'{raw}' read with a European thousands separator"
        else:
            value, note = digits_number(raw, False)
        return value, note, False
    value = word_number(raw)
    return value, (f"'{raw}' written in words" if value is not None else None), True


def _scale(m: re.Match, i: int) -> tuple[float, str | None]:
    s = m[f"s{i}"] or m[f"s{i}a"]
    if not s:
        return 1.0, None
    s = s.lower()
    return SCALES[s], s


def _figure(m: re.Match, text: str, lex: Lexicon, comma_decimal: bool) -> Figure | None:
    n1, note1, word1 = _num(m, 1, comma_decimal)
    if n1 is None:
        return None
    is_range = "n2" in m.re.groupindex and m["n2"] is not None
    n2, note2, word2 = _num(m, 2, comma_decimal) if is_range else (None, None, False)
    if is_range and n2 is None:
        return None
    f1, s1 = _scale(m, 1)
    f2, s2 = _scale(m, 2) if is_range else (1.0, None)
    if is_range and s1 is None:
        f1 = f2
    marker = None
    for i in (1, 2):
        for kind in ("sym", "code", "letter"):
            key = f"c{i}{kind}"
            if key in m.re.groupindex and m[key]:
                marker = marker or m[key]
    word = (m["w2"] if "w2" in m.re.groupindex and m["w2"] else None) or m["w1"]
    article = word1 and re.fullmatch(r"an?", m["n1"].lower()) is not None
    if article and not (s1 or word):
        return None
    if article and is_range:
        return None
    wl = word.lower() if word else None
    kind = None
    unit = None
    iso = None
    notes = [n for n in (note1, note2) if n]
    if wl in lex.currency_words:
        out_marker, iso = lex.currency_words[wl]
        if marker and out_marker:
            notes.append(f"currency given twice ('{marker}' and '{word}')")
        kind = "money"
        if wl in EXTRA_CURRENCY_WORDS:
            notes.append(f"'{word}' written as '{out_marker}' (the currency table has no '{word}')")
            if out_marker.endswith("$"):
                marker, word = out_marker, None
            else:
                word = out_marker
    elif wl in lex.units or wl in EXTRA_UNIT_WORDS:
        if marker:
            return None
        if wl in EXTRA_UNIT_WORDS:
            unit = lex.ton_spelling[wl]
            notes.append(f"'{word}' is ambiguous (metric, short or long ton): read as metric ({unit}); check")
            kind = "mass"
        else:
            unit = word
            kind = lex.units[wl][1]
    elif marker:
        kind = "money"
        word = None
    else:
        return None
    letter = any(k in m.re.groupindex and m[k] for k in ("c1letter", "c2letter"))
    if letter and not (s1 or s2) and n1 < 100 and not re.search(r"[.,]", m["n1"]):
        return None  # "P3", "W7": a label more likely than 3 pesos
    if kind == "money" and marker:
        prefix_isos = lex.markers.get(marker.lower())
        if prefix_isos and len(prefix_isos) == 1:
            iso = iso or next(iter(prefix_isos))
    a = n1 * f1
    b = n2 * f2 if is_range else a
    if b < a or a <= 0:
        return None
    qual = m["qual"].lower() if m["qual"] else None
    canonical = _canonical(qual, marker, n1, s1, n2 if is_range else None, s2, word if kind == "money" else unit)
    expected_word = (word if kind == "money" else unit) or ""
    if not notes and not (wl in EXTRA_UNIT_WORDS) and _same_reading(m.group(0), a, b, marker, expected_word):
        canonical = re.sub(r"\s+", " ", m.group(0).strip())  # as written, when the ETL reads it the same way
    return Figure(
        start=m.start(), end=m.end(), text=m.group(0), kind=kind, low=a, high=b, point=(a + b) / 2, canonical=canonical,
        qualifier=qual, marker=marker, iso=iso, unit=unit if kind != "money" else (word or None),
        notes=notes, is_article=bool(article),
    )


@lru_cache(maxsize=4096)
def read_amount(text: str):
    """`etl.amounts.parse_amount(text)`, cached (one pandas pass per distinct text); the error text on failure."""
    try:
        return parse_amount(text)
    except Exception as err:  # noqa: BLE001 - any parser failure is reported to the curator
        return str(err)


def _same_reading(text: str, low: float, high: float, marker: str | None, word: str) -> bool:
    """True when the ETL parser reads `text` as these numbers, this marker and this unit or currency word."""
    a = read_amount(text)
    if isinstance(a, str):
        return False
    if (a.marker or "") != (marker or "") or (a.unit or "").lower() != word.lower():
        return False
    ok_low = a.low is None or abs(a.low - low) <= 1e-9 * max(1.0, low)
    ok_high = a.high is None or abs(a.high - high) <= 1e-9 * max(1.0, high)
    return ok_low and ok_high and abs(a.point - (low + high) / 2) <= 1e-9 * max(1.0, high) and a.per is None


def _canonical(qual, marker, n1, s1, n2, s2, word) -> str:
    def num(n, s):
        if s and n < 1 and s != "thousand" and _SCALE_WORD.get(s, s) in _SMALLER:
            n, s = n * 1000, _SMALLER[_SCALE_WORD.get(s, s)]  # "a quarter of a billion" -> "250 million"
        return fmt(n) + (f" {_SCALE_WORD.get(s, s)}" if s else "")

    body = num(n1, s1 if (n2 is None or s1 != s2 or not s1) else None)
    if n2 is not None:
        body = f"{body}-{num(n2, s2)}" if s1 in (None, s2) else f"{body} to {num(n2, s2)}"
    text = (f"{qual} " if qual else "") + (marker or "") + body + (f" {word}" if word else "")
    return text


_SMALLER = {"billion": "million", "million": "thousand", "trillion": "billion"}
_SCALE_WORD = {"m": "million", "k": "thousand", "mn": "million", "mln": "million", "bn": "billion"}


def check_canonical(fig: Figure) -> str | None:
    """None when the ETL parser reads `fig.canonical` (with its per unit) as the same numbers."""
    text = fig.canonical + (f" per {fig.per}" if fig.per and not fig.per_written else "")
    a = read_amount(text)
    if isinstance(a, str):
        return a
    if abs(a.point - fig.point) > 1e-6 * max(1.0, fig.point):
        return f"the ETL reads {text!r} as {a.point:g}, not {fig.point:g}"
    return None
