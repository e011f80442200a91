"""Readable numbers and safe text for the page (display only: no conversions)."""
from __future__ import annotations

import math
import re

_SCALES = ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"))
COUNT_UNITS = {"tablet": ("tablet", "tablets"), "capsule": ("capsule", "capsules"), "drug_bag": ("bag", "bags"),
               "drug_packet": ("packet", "packets"), "pill": ("pill", "pills"), "item": ("item", "items")}


def missing(value) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(value)
    except TypeError:
        return False


def number(value: float | None, digits: int = 0) -> str:
    """1234567.8 -> '1,234,568'; missing -> ''."""
    if missing(value):
        return ""
    return f"{value:,.{digits}f}"


def significant(value: float | None, digits: int = 3) -> float | None:
    """`value` rounded to `digits` significant digits (display only; downloads keep full precision)."""
    if missing(value):
        return None
    if value == 0:
        return 0.0
    return round(value, digits - 1 - int(math.floor(math.log10(abs(value)))))


def _plain(value: float) -> str:
    """3 significant digits, thousands separators, no trailing zeros: 1041.58 -> '1,040', 6.4 -> '6.4'."""
    v = significant(value, 3)
    if abs(v) >= 100 or v == 0:
        return f"{v:,.0f}"
    decimals = 2 - int(math.floor(math.log10(abs(v))))
    return f"{v:,.{decimals}f}".rstrip("0").rstrip(".")


def large(value: float | None) -> str:
    """'186 million', '1.17 million', '98,600'."""
    if missing(value):
        return ""
    for size, word in _SCALES:
        if abs(value) >= size:
            return f"{_plain(value / size)} {word}"
    return _plain(value)


def mass(kg: float | None) -> str:
    """Kilograms as a reader writes them: '0.685 g', '6.4 kg', '1,040 kg', '2.51 tonnes' never; never '0 kg'."""
    if missing(kg):
        return ""
    if kg == 0:
        return "0 kg"
    if abs(kg) < 1e-6:
        return f"{_plain(kg * 1e6)} mg"
    if abs(kg) < 1:
        return f"{_plain(kg * 1000)} g"
    return f"{large(kg)} kg"


def count(n: float | None, unit: str) -> str:
    """'1.17 million tablets', '198 packets'."""
    if missing(n):
        return ""
    one, many = COUNT_UNITS.get(unit, (unit, unit + "s"))
    return f"{large(n)} {one if n == 1 else many}"


def money(value: float | None) -> str:
    """'$20.9', '$98,600', '$463 million'."""
    if missing(value):
        return ""
    return ("-" if value < 0 else "") + "$" + large(abs(value))


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|$~:/=&@\"'^%])")


def md(text) -> str:
    """Text made inert for st.markdown: every markdown, HTML, LaTeX and link character is escaped, so an id
    such as '![i](http://host/p.png)' shows as typed and never loads or links anything."""
    if text is None or missing(text):
        return ""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def html(text) -> str:
    """Text safe inside a Plotly hover label (which reads a few HTML tags)."""
    import html as _html

    return "" if text is None else _html.escape(str(text))
