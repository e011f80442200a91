"""Dates in article text, resolved against the publication date.

`find_dates(sentence, published)` returns every date expression in a piece of
text with the ISO partial date it stands for (YYYY, YYYY-MM or YYYY-MM-DD, as
precise as the words allow): "in August last year", "last Wednesday",
"early May", "Feb. 24", "on the 2nd", "In April 2003", "the same year".
Expressions that depend on an earlier date in the text ("the same year",
"next year") come back with `anaphor` set; the caller resolves them.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from draft.spans import Spans

MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}
WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}

# Month names are matched case-sensitively (capitalised) so "may" the verb and
# "march" the verb are not months.
_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
          r"|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?)")
_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_YEAR = r"(?:1[89]\d\d|20\d\d)"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_PART = r"(?:(?i:early|mid|late|the\s+end\s+of|the\s+beginning\s+of|the\s+middle\s+of)[\s-]+)"
_REPORTING = r"(?i:said|says|announced|reported|told|added|stated|confirmed|disclosed|revealed)"

# Korean dates: "2019년 5월 17일", "지난달 17일", "지난해 8월", "17일", "지난해", "최근", "같은 해", "이듬해"
_KM = r"(?:1[0-2]|0?[1-9])"
_KD = r"(?:[12][0-9]|3[01]|0?[1-9])"
_KO_REL_YEAR = r"지난해|작년|올해|금년|이듬해|그해|그 해|같은 해|전년"
_KO_REL_MONTH = r"지난달|지난 달|이달|이번 달|지난주|지난 주|이번 주|어제|오늘|최근"
_KO_REPORTING = re.compile(r"밝혔|발표|전했|말했|보도|알려졌|설명했")
KO_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("ko_full", re.compile(rf"(?<![0-9])(?P<y>{_YEAR})년(?:[ ]?(?P<m>{_KM})월(?:[ ]?(?P<d>{_KD})일)?)?(?!대)")),
    ("ko_relyear", re.compile(rf"(?P<rel>{_KO_REL_YEAR})[ ]?(?P<m>{_KM})월(?:[ ]?(?P<d>{_KD})일)?")),
    ("ko_relmonth_day", re.compile(rf"(?P<rel>지난달|지난 달|이달|이번 달)[ ]?(?P<d>{_KD})일")),
    ("ko_month_day", re.compile(rf"(?<![0-9])(?P<m>{_KM})월(?:[ ]?(?P<d>{_KD})일)?(?![ ]?(?:간|동안))")),
    ("ko_rel", re.compile(rf"(?P<rel>{_KO_REL_YEAR}|{_KO_REL_MONTH})")),
    ("ko_day", re.compile(rf"(?<![0-9.,월])(?P<d>{_KD})일(?![ ]?(?:간|동안|만에|째|분))")),
]

# Words after which a four-digit number is a year: "in 2009", "since 1998", "between 2001 and 2003", "of 2015"
YEAR_CONTEXT = re.compile(
    r"(?i:\b(?:in|since|by|from|during|until|till|before|after|of|between|and|to|through|around|circa|year|years"
    r"|spring|summer|autumn|fall|winter|late|early|mid|end|beginning|middle|as\s+of|back\s+in)\s*$|\b(?:19|20)\d\d\s*(?:-|–|and|to)\s*$)")

PATTERNS: list[tuple[str, re.Pattern]] = [
    ("iso", re.compile(rf"\b(?P<y>{_YEAR})-(?P<m>\d{{1,2}})-(?P<d>\d{{1,2}})\b")),
    # "21 August 2017", "3 March"
    ("day_month", re.compile(rf"\b(?P<d>{_DAY})\s+(?P<month>{_MONTH})(?![\w])(?:,?\s+(?P<y>{_YEAR})\b)?")),
    # "August 21, 2017", "Feb. 24", "early May", "in August last year", "May 2008"
    ("month", re.compile(
        rf"(?P<part>{_PART})?\b(?P<month>{_MONTH})(?![\w])(?:\s+(?P<d>{_DAY})\b)?"
        rf"(?:,?\s+(?P<y>{_YEAR})\b|\s+(?i:(?:of\s+)?(?P<rel>last|this|next)\s+year)\b)?")),
    ("weekday", re.compile(rf"(?i:\b(?P<lead>last|this|on|this\s+past|past)\s+)?\b(?P<wd>{_WEEKDAY})\b")),
    ("ordinal_day", re.compile(r"(?i:\bon\s+the\s+(?P<d>[12]\d|3[01]|[1-9])(?:st|nd|rd|th))\b")),
    ("relative", re.compile(
        r"(?i:\b(?P<rel>last\s+year|this\s+year|earlier\s+this\s+year|later\s+this\s+year|last\s+month|this\s+month|"
        r"earlier\s+this\s+month|last\s+week|this\s+week|yesterday|today|last\s+(?:summer|winter|spring|autumn|fall)|"
        r"the\s+previous\s+year|the\s+year\s+before)\b)")),
    ("anaphor", re.compile(
        r"(?i:\b(?P<ana>the\s+same\s+year|that\s+year|next\s+year|the\s+following\s+year|a\s+year\s+later|"
        r"the\s+next\s+year)\b)")),
    ("part_year", re.compile(rf"(?i:\b(?P<part>early|mid|late|the\s+end\s+of|the\s+beginning\s+of)[\s-]+)(?P<y>{_YEAR})\b(?!s)")),
    ("year", re.compile(rf"(?<![\w$€¥₩₱.,-])(?P<y>{_YEAR})(?![\w-]|[.,]\d|\s*(?:kg|kilo|gram|ton|pound|lb|%))")),
]


@dataclass(frozen=True)
class FoundDate:
    start: int
    end: int
    text: str
    value: str | None  # ISO partial date, or None when it cannot be resolved
    precision: str  # "day", "month", "year"
    note: str = ""
    anaphor: str | None = None  # "same" or "next" for "the same year" / "next year"
    reporting: bool = False  # "said Sunday": the date of a statement, not of the event


def parse_published(text: str | None) -> dt.date | None:
    if not text:
        return None
    return dt.date.fromisoformat(text)


def find_dates(text: str, published: dt.date | None) -> list[FoundDate]:
    """Every date expression in `text`, leftmost first, overlapping ones dropped."""
    found: list[FoundDate] = []
    taken = Spans()
    korean = _HANGUL.search(text) is not None
    for kind, pattern in (KO_PATTERNS + PATTERNS if korean else PATTERNS):
        for m in pattern.finditer(text):
            if taken.overlaps(m.start(), m.end()):
                continue
            date = (_resolve_ko if kind.startswith("ko_") else _resolve)(kind, m, text, published)
            if date is None:
                continue
            found.append(date)
            taken.add(m.start(), m.end())
    return sorted(found, key=lambda d: d.start)


def _iso(y: int, m: int | None = None, d: int | None = None) -> str:
    if m is None:
        return f"{y:04d}"
    if d is None:
        return f"{y:04d}-{m:02d}"
    return f"{y:04d}-{m:02d}-{d:02d}"


def _month_year(month: int, day: int | None, pub: dt.date) -> int:
    """Year of a month (and day) given without a year: the latest one not after publication."""
    if (month, day or 1) <= (pub.month, pub.day):
        return pub.year
    return pub.year - 1


def _resolve(kind: str, m: re.Match, text: str, pub: dt.date | None) -> FoundDate | None:
    g = m.groupdict()
    span = (m.start(), m.end(), m.group(0))
    before = text[max(0, m.start() - 40):m.start()]
    reporting = bool(re.search(rf"\b{_REPORTING}(?:\s+\w+)?\s*(?:on\s+)?$", before))
    need_pub = "needs the publication date"
    if kind == "iso":
        y, mo, d = int(g["y"]), int(g["m"]), int(g["d"])
        try:
            dt.date(y, mo, d)
        except ValueError:
            return None
        return FoundDate(*span, _iso(y, mo, d), "day", reporting=reporting)
    if kind in ("month", "day_month"):
        month = MONTHS[g["month"].rstrip(".").lower()]
        if kind == "month" and g["month"] == "May" and not (g.get("part") or g["d"] or g["y"] or g.get("rel")):
            # "May" alone: a month only after a preposition ("in May", "early May"), not the verb
            if not re.search(r"(?i:\b(?:in|of|since|until|by|from|during|last|this|next|early|late|mid))\s*$", before):
                return None
        day = int(re.sub(r"\D", "", g["d"])) if g["d"] else None
        part = (g.get("part") or "").strip().lower()
        note = f"'{part}' {g['month']}: month precision" if part and not day else ""
        if g["y"]:
            year = int(g["y"])
        elif g.get("rel"):
            if pub is None:
                return FoundDate(*span, None, "month", need_pub, reporting=reporting)
            year = pub.year + {"last": -1, "this": 0, "next": 1}[g["rel"].lower()]
        else:
            if pub is None:
                return FoundDate(*span, None, "month", need_pub, reporting=reporting)
            year = _month_year(month, day, pub)
            note = (note + "; " if note else "") + f"year {year} inferred from the publication date"
        if day:
            try:
                dt.date(year, month, day)
            except ValueError:
                return None
            return FoundDate(*span, _iso(year, month, day), "day", note, reporting=reporting)
        return FoundDate(*span, _iso(year, month), "month", note, reporting=reporting)
    if kind == "weekday":
        if pub is None:
            return FoundDate(*span, None, "day", need_pub, reporting=reporting)
        wd = WEEKDAYS[g["wd"].lower()]
        lead = (g.get("lead") or "").lower()
        back = (pub.weekday() - wd) % 7
        if lead == "last" and back == 0:
            back = 7
        day = pub - dt.timedelta(days=back)
        return FoundDate(*span, day.isoformat(), "day", f"{g['wd']} before the publication date {pub.isoformat()}",
                         reporting=reporting)
    if kind == "ordinal_day":
        if pub is None:
            return FoundDate(*span, None, "day", need_pub, reporting=reporting)
        d = int(g["d"])
        y, mo = (pub.year, pub.month) if d <= pub.day else ((pub.year, pub.month - 1) if pub.month > 1 else (pub.year - 1, 12))
        try:
            return FoundDate(*span, _iso(y, mo, d), "day", "month taken from the publication date", reporting=reporting)
        except ValueError:
            return None
    if kind == "relative":
        rel = re.sub(r"\s+", " ", g["rel"].lower())
        if pub is None:
            return FoundDate(*span, None, "year", need_pub, reporting=reporting)
        if rel in ("last year", "the previous year", "the year before") or rel.startswith("last ") and rel.split()[1] in (
                "summer", "winter", "spring", "autumn", "fall"):
            return FoundDate(*span, _iso(pub.year - 1), "year", reporting=reporting)
        if rel.endswith("this year"):
            return FoundDate(*span, _iso(pub.year), "year", reporting=reporting)
        if rel == "last month":
            first = pub.replace(day=1) - dt.timedelta(days=1)
            return FoundDate(*span, _iso(first.year, first.month), "month", reporting=reporting)
        if rel.endswith("this month"):
            return FoundDate(*span, _iso(pub.year, pub.month), "month", reporting=reporting)
        if rel in ("last week", "this week"):
            # the middle of the week meant (the 7 days before publication, or the days up to it), so a
            # week that straddles two months is dated by the month holding most of it
            day = pub - dt.timedelta(days=4 if rel == "last week" else 1)
            return FoundDate(*span, _iso(day.year, day.month), "month", "week: month precision", reporting=reporting)
        if rel == "yesterday":
            return FoundDate(*span, (pub - dt.timedelta(days=1)).isoformat(), "day", reporting=reporting)
        if rel == "today":
            return FoundDate(*span, pub.isoformat(), "day", reporting=reporting)
        return None
    if kind == "anaphor":
        ana = g["ana"].lower()
        which = "same" if ("same" in ana or ana == "that year") else "next"
        return FoundDate(*span, None, "year", anaphor=which)
    if kind == "year" and not YEAR_CONTEXT.search(before):
        return None  # a bare number ("1945 packets", "the 1945 building"): a year only in a date context
    if kind in ("year", "part_year"):
        y = int(g["y"])
        if pub is not None and y > pub.year:
            return None
        return FoundDate(*span, _iso(y), "year", reporting=reporting)
    return None


_HANGUL = re.compile(r"[가-힣]")


def _resolve_ko(kind: str, m: re.Match, text: str, pub: dt.date | None) -> FoundDate | None:
    """A Korean date expression (see KO_PATTERNS), as precise as its words."""
    g = m.groupdict()
    span = (m.start(), m.end(), m.group(0))
    need_pub = "needs the publication date"
    # "경찰은 17일 ... 밝혔다": a date right after the subject of a reporting verb is when it was told
    reporting = (kind == "ko_day" and bool(re.search(r"[은는][ ]?$", text[max(0, m.start() - 3):m.start()]))
                 and bool(_KO_REPORTING.search(text))
                 or bool(re.match(r"[ ]?(?:밝혔|발표했|전했|말했)", text[m.end():m.end() + 5])))  # "... 10일 밝혔다"
    month = int(g["m"]) if g.get("m") else None
    day = int(g["d"]) if g.get("d") else None
    rel = (g.get("rel") or "").replace(" ", "")
    if kind == "ko_full":
        y = int(g["y"])
        if pub is not None and y > pub.year:
            return None
        return _ko_date(span, y, month, day, "", reporting)
    if rel in ("그해", "같은해"):
        return FoundDate(*span, None, "year", anaphor="same")  # "그해 12월": the month is not kept
    if rel == "이듬해":
        return FoundDate(*span, None, "year", anaphor="next")
    if pub is None:
        return FoundDate(*span, None, "day" if day else "month" if month else "year", need_pub, reporting=reporting)
    if kind == "ko_relyear":
        year = pub.year - 1 if rel in ("지난해", "작년", "전년") else pub.year
        return _ko_date(span, year, month, day, "", reporting)
    if kind == "ko_relmonth_day":
        y, mo = (pub.year, pub.month) if rel in ("이달", "이번달") else _previous_month(pub)
        return _ko_date(span, y, mo, day, "", reporting)
    if kind == "ko_month_day":
        year = _month_year(month, day, pub)
        return _ko_date(span, year, month, day, f"year {year} inferred from the publication date", reporting)
    if kind == "ko_day":
        y, mo = (pub.year, pub.month) if day <= pub.day else _previous_month(pub)
        return _ko_date(span, y, mo, day, "month taken from the publication date", reporting)
    if kind == "ko_rel":
        if rel in ("지난해", "작년", "전년"):
            return FoundDate(*span, _iso(pub.year - 1), "year", reporting=reporting)
        if rel in ("올해", "금년", "올"):
            return FoundDate(*span, _iso(pub.year), "year", reporting=reporting)
        if rel == "지난달":
            return FoundDate(*span, _iso(*_previous_month(pub)), "month", reporting=reporting)
        if rel in ("이달", "이번달"):
            return FoundDate(*span, _iso(pub.year, pub.month), "month", reporting=reporting)
        if rel in ("지난주", "이번주"):
            d = pub - dt.timedelta(days=4 if rel == "지난주" else 1)
            return FoundDate(*span, _iso(d.year, d.month), "month", "week: month precision", reporting=reporting)
        if rel == "어제":
            return FoundDate(*span, (pub - dt.timedelta(days=1)).isoformat(), "day", reporting=reporting)
        if rel == "오늘":
            return FoundDate(*span, pub.isoformat(), "day", reporting=reporting)
        if rel == "최근":
            return FoundDate(*span, _iso(pub.year), "year", "'최근' (recently): the publication year; check", reporting=reporting)
    return None


def _previous_month(pub: dt.date) -> tuple[int, int]:
    first = pub.replace(day=1) - dt.timedelta(days=1)
    return first.year, first.month


def _ko_date(span, year: int, month: int | None, day: int | None, note: str, reporting: bool) -> FoundDate | None:
    if month is None:
        return FoundDate(*span, _iso(year), "year", note, reporting=reporting)
    if day is None:
        return FoundDate(*span, _iso(year, month), "month", note, reporting=reporting)
    try:
        dt.date(year, month, day)
    except ValueError:
        return None
    return FoundDate(*span, _iso(year, month, day), "day", note, reporting=reporting)


def shift_year(value: str, years: int) -> str:
    return _iso(int(value[:4]) + years)


POST_DATE_LINE = re.compile(
    rf"^[ \t]*(?:Date\s*:\s*)?(?:{_WEEKDAY},\s+)?(?P<month>{_MONTH})\s+(?P<d>{_DAY}),\s+(?P<y>{_YEAR})[ \t\r]*$", re.M)


def date_of_line(m: re.Match) -> dt.date:
    return dt.date(int(m["y"]), MONTHS[m["month"].rstrip(".").lower()], int(re.sub(r"\D", "", m["d"])))
