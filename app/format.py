"""Readable numbers for headlines and captions (display only: no conversions)."""
from __future__ import annotations

import math

_SCALES = ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"))


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value: float | None, digits: int = 0) -> str:
    """1234567.8 -> '1,234,568'; missing -> '–'."""
    if _missing(value):
        return "–"
    return f"{value:,.{digits}f}"


def large(value: float | None) -> str:
    """A number with a scale word when large: 186314249 -> '186.3 million'."""
    if _missing(value):
        return "–"
    for size, word in _SCALES:
        if abs(value) >= size:
            return f"{value / size:,.1f} {word}"
    return number(value)


def kg(value: float | None) -> str:
    """Kilograms for a headline: under 10 kg with one decimal, else whole kilograms with separators."""
    if _missing(value):
        return "–"
    if abs(value) < 10:
        return f"{value:,.2f}".rstrip("0").rstrip(".") + " kg"
    return f"{large(value)} kg"


def usd(value: float | None) -> str:
    """'$186.3 million', '$67,685'."""
    if _missing(value):
        return "–"
    return "$" + large(value)


def compact_usd(value: float | None) -> str:
    """'$463.4M', '$2.1B', '$98,614': short enough for a headline tile."""
    if _missing(value):
        return "–"
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
        if abs(value) >= size:
            return f"${value / size:,.1f}{suffix}"
    return "$" + number(value)


def percent(value: float | None, digits: int = 2) -> str:
    if _missing(value):
        return "–"
    return f"{value:+.{digits}f}%"
