"""Turn raw reports into the tidy table: kilograms, US dollars, dates, places.

`normalise()` checks every cell of every row and returns the output rows plus
every problem found, each tied to a row and column. It never guesses: an
unknown unit, currency, drug, place or year is a problem, never a factor of 1.
Everything is a Polars column operation; what needs Python (the amount grammar,
partial dates, pint) runs once per distinct value and is joined back.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Callable

import pandas as pd
import polars as pl
import pycountry

from etl import units
from etl.amount_table import amount_columns
from etl.amounts import NUMBER
from etl.columns import COLUMNS, INCIDENT_DERIVED, NAMES, POLARS_TYPES
from etl.errors import Problem
from etl.reference import BASE_CURRENCY, MARKET_COUNTRY, MARKET_CURRENCY, Reference

REPORT_COLUMNS = [
    "report_id", "incident_id", "source_id", "kind", "event_date", "country", "place", "drug",
    "quantity", "value", "currency", "usd_stated", "stated_rate", "nk_link", "arrests", "notes",
]
SOURCE_COLUMNS = ["source_id", "outlet", "title", "published", "url", "via"]
SOURCE_OPTIONAL = ("source_type", "notes")
USD_CHECK_TOLERANCE_PCT = 5.0
MAX_LENGTH = {"notes": 2000, "title": 500}
DEFAULT_MAX_LENGTH = 300
# Identifiers: letters, digits, dot, underscore, hyphen; no blanks, no markup, at most 80 characters.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$"
ID_COLUMNS = ("report_id", "incident_id", "source_id")
YEARS = (1900, 2100)  # the years an event or a source may carry (the output schema declares the same range)
REDENOMINATION = dt.date(2009, 11, 30)  # 100 old won = 1 new won from this day

COUNTRIES = frozenset(c.alpha_2 for c in pycountry.countries)
CURRENCIES = frozenset(c.alpha_3 for c in pycountry.currencies) | {"DEM"}
DATE_FORM = re.compile(r"^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?$")
RATE_FORM = rf"(?i)^\s*(?:US\$|U\.S\.\$|\$|USD)\s*1\s*=\s*(?P<marker>[^0-9\s]*)\s*(?P<n>{NUMBER})\s*(?P<word>[^0-9]*?)\s*$"


@dataclass
class Result:
    frame: pl.DataFrame  # every input row, in input order, with the output columns (incident columns excepted)
    problems: list[Problem] = field(default_factory=list)
    rejected: pl.Series = field(default_factory=lambda: pl.Series("rejected", [], dtype=pl.Boolean))  # per input row


class _Collector:
    """Problems of one input table, located by the physical line of each row."""

    def __init__(self, n: int, display: str, lines: list[int] | None):
        self.display = display
        self.lines = lines if lines is not None else list(range(2, n + 2))
        self.found: list[tuple[int, int, str, str, str]] = []  # (row, column order, column, message, severity)
        self.n = n

    def flag(self, mask: pl.Series, column: str, message: str | Callable[[int], str], severity: str = "error") -> None:
        """Record a problem for each row where `mask` holds; `message` is a text or a function of the row."""
        rows = mask.fill_null(False).arg_true().to_list()
        order = REPORT_COLUMNS.index(column) if column in REPORT_COLUMNS else 99
        for row in rows:
            self.found.append((row, order, column, message(row) if callable(message) else message, severity))

    def problems(self) -> list[Problem]:
        return [Problem(self.display, self.lines[row], column, message, severity)
                for row, _, column, message, severity in sorted(self.found, key=lambda p: (p[0], p[1]))]

    def rejected(self) -> pl.Series:
        mask = [False] * self.n
        for row, _, _, _, severity in self.found:
            if severity == "error":
                mask[row] = True
        return pl.Series("rejected", mask, dtype=pl.Boolean)


def normalise(reports: pl.DataFrame, sources: pl.DataFrame, ref: Reference, today: dt.date | None = None,
              display: str = "reports.csv", lines: list[int] | None = None,
              known_incidents: pl.Series | None = None) -> Result:
    """Normalise `reports` (the text columns of reports.csv) against `sources` and `ref`.

    `lines[row]` is the physical line where each row starts (default: row + 2).
    With `known_incidents`, an incident_id outside it is a problem.
    """
    today = today or dt.date.today()
    reports, sources = _polars(reports), _polars(sources)
    r = reports.select(  # the text columns as they are (no copy) unless a cell is missing
        pl.col(c).cast(pl.String).fill_null("") if reports[c].null_count() or reports[c].dtype != pl.String else pl.col(c)
        for c in REPORT_COLUMNS)
    n = r.height
    c = _Collector(n, display, lines)
    raw = {col: r[col] for col in REPORT_COLUMNS}
    empty = {col: raw[col] == "" for col in REPORT_COLUMNS}

    # Field lengths (nothing longer is parsed) and required cells
    too_long = {}
    for col in REPORT_COLUMNS:
        limit = MAX_LENGTH.get(col, DEFAULT_MAX_LENGTH)
        lengths = raw[col].str.len_chars()
        too_long[col] = lengths > limit
        c.flag(too_long[col], col, lambda i, col=col, limit=limit: f"is {lengths[i]:,} characters long (limit {limit:,})")
    # what is parsed: nothing of a cell over the limit (a column without one is used as it is, no copy)
    usable = {col: _const("", n, pl.String).zip_with(too_long[col], raw[col]) if too_long[col].any() else raw[col]
              for col in REPORT_COLUMNS}
    for col in ("report_id", "incident_id", "source_id", "kind", "country", "drug", "nk_link"):
        c.flag(empty[col], col, "is empty")
    nul = {col: raw[col].str.contains("\x00", literal=True) for col in REPORT_COLUMNS}
    for col in REPORT_COLUMNS:
        c.flag(nul[col], col, "holds a NUL character (a binary file, or a broken export?)")

    # Identity and sources
    for col in ID_COLUMNS:
        bad_id = ~empty[col] & ~too_long[col] & ~raw[col].str.contains(ID_PATTERN)
        c.flag(bad_id, col, lambda i, col=col: f"{raw[col][i]!r} is not an identifier (letters, digits, '.', '_', '-'; "
               "starting with a letter or digit; at most 80 characters)")
    ids = raw["report_id"]
    first_row = (pl.DataFrame({"id": ids}).with_row_index("row")
                 .select(pl.col("row").first().over("id")).to_series())
    duplicate = ~empty["report_id"] & (first_row != pl.Series(range(n), dtype=first_row.dtype))
    c.flag(duplicate, "report_id", lambda i: f"duplicate report_id {ids[i]!r} (first used on line {c.lines[first_row[i]]})")
    c.flag(~raw["source_id"].is_in(sources["source_id"].implode()) & ~empty["source_id"], "source_id",
           lambda i: f"source_id {raw['source_id'][i]!r} is not in sources.csv")
    if known_incidents is not None:
        c.flag(~raw["incident_id"].is_in(known_incidents.implode()) & ~empty["incident_id"], "incident_id",
               lambda i: f"incident_id {raw['incident_id'][i]!r} is not in incidents.csv")
    c.flag(~raw["kind"].is_in(list(ref.kinds)) & ~empty["kind"], "kind",
           lambda i: f"kind must be one of {', '.join(ref.kinds)}, not {raw['kind'][i]!r}")
    c.flag(~raw["nk_link"].is_in(list(ref.nk_links)) & ~empty["nk_link"], "nk_link",
           lambda i: f"unknown nk_link {raw['nk_link'][i]!r} (see data/reference/nk_links.csv)")

    source_cols = [col for col in ("published", "source_type", "outlet", "via", "title", "url") if col in sources.columns]
    source = _left_join(pl.DataFrame({"source_id": raw["source_id"]}), sources.unique("source_id", keep="first", maintain_order=True)
                        .select("source_id", *source_cols), "source_id")
    published = source["published"].fill_null("")

    # Dates (each distinct text parsed once)
    date = _dates(usable["event_date"])
    pub = _dates(published)
    has_date = ~empty["event_date"]
    c.flag(has_date & ~too_long["event_date"] & date["invalid"], "event_date",
           lambda i: f"not a valid date {raw['event_date'][i]!r} (use YYYY, YYYY-MM or YYYY-MM-DD)")
    ok_date = has_date & ~date["invalid"]
    out_of_range = ok_date & ((date["year"] < YEARS[0]) | (date["year"] > YEARS[1]))
    c.flag(out_of_range, "event_date", lambda i: f"year {date['year'][i]} is outside {YEARS[0]}-{YEARS[1]}")
    ok_date = ok_date & ~out_of_range
    future = ok_date & (date["start"] > today)
    c.flag(future, "event_date", lambda i: f"date {raw['event_date'][i]!r} is in the future")
    pub_ok = ~pub["invalid"] & (published != "")
    after_pub = ok_date & ~future & pub_ok & (date["start"] > pub["start"])
    c.flag(after_pub, "event_date",
           lambda i: f"date {raw['event_date'][i]!r} is after the source's publication date {published[i]}")
    ok_date = ok_date & ~future & ~after_pub
    year = date["year"].zip_with(ok_date, _const(None, n, pl.Int64))
    pub_year = pub["year"].zip_with(pub_ok, _const(None, n, pl.Int64))
    fx_year = year.zip_with(has_date, pub_year)  # the publication year only when no event date is given
    basis = (pl.DataFrame({"y": year, "f": fx_year})
             .select(pl.when(pl.col("y").is_not_null()).then(pl.lit("event"))
                     .when(pl.col("f").is_not_null()).then(pl.lit("published")).otherwise(pl.lit(""))).to_series())

    # Where
    country_ok = raw["country"].is_in(sorted(COUNTRIES))
    c.flag(~country_ok & ~empty["country"], "country",
           lambda i: f"unknown country code {raw['country'][i]!r} (use ISO 3166-1 alpha-2, e.g. KR)")
    places = pl.DataFrame([(k[0], k[1], *v) for k, v in ref.places.items()],
                          schema={"country": pl.String, "place": pl.String, "lat": pl.Float64, "lon": pl.Float64,
                                  "precision": pl.String}, orient="row").unique(["country", "place"], keep="first", maintain_order=True)
    place = _left_join(pl.DataFrame({"country": raw["country"], "place": raw["place"]}), places, ["country", "place"])
    c.flag(place["lat"].is_null() & country_ok, "place",
           lambda i: f"place {raw['place'][i]!r} in {raw['country'][i]} is not in data/reference/places.csv")

    # Drug
    drug = raw["drug"].str.to_lowercase().replace_strict(ref.drugs, default=None, return_dtype=pl.String)
    c.flag(drug.is_null() & ~empty["drug"], "drug", lambda i: f"unknown drug {raw['drug'][i]!r} (add it to data/reference/drugs.csv)")

    kind = raw["kind"]
    is_price = kind == "price"
    # Quantity
    q = _amounts(usable["quantity"])
    has_q = ~empty["quantity"] & ~too_long["quantity"]
    c.flag(has_q & q["error"].is_not_null(), "quantity", lambda i: f"cannot read {raw['quantity'][i]!r} as a mass: {q['error'][i]}")
    q_ok = has_q & q["error"].is_null()
    q_unit = q["unit"].fill_null("").str.to_lowercase()
    pint_unit, unit_kind = _unit_columns(q_unit, ref)
    bare_ton = q_ok & q_unit.is_in(["ton", "tons"])
    c.flag(bare_ton, "quantity", lambda i: f"cannot read {raw['quantity'][i]!r} as a mass: a bare 'tons' may be metric, "
           "short (US) or long; write 'tons [metric]', 'tons [short]' or 'tons [long]'")
    no_unit = q_ok & (q_unit == "")
    c.flag(no_unit & q["marker"].is_null(), "quantity", lambda i: f"cannot read {raw['quantity'][i]!r} as a mass: no unit")
    c.flag(q_ok & q["marker"].is_not_null(), "quantity", lambda i: f"cannot read {raw['quantity'][i]!r} as a mass: it is money")
    unknown_unit = q_ok & (pint_unit == "") & ~bare_ton & ~no_unit & q["marker"].is_null()
    c.flag(unknown_unit, "quantity", lambda i: f"cannot read {raw['quantity'][i]!r} as a mass: unknown unit {q['unit'][i]!r}")
    c.flag(q_ok & q["per"].is_not_null(), "quantity",
           lambda i: f"cannot read {raw['quantity'][i]!r} as a mass: a quantity is not quoted per unit")
    c.flag(has_q & is_price, "quantity", "price rows take no quantity: the unit goes in the value ('per kilo')")
    factor = _factors(pint_unit.zip_with(unit_kind == "mass", _const(None, n, pl.String)))
    is_mass = q_ok & (unit_kind == "mass")
    is_count = q_ok & (unit_kind == "count")
    q_kg, q_kg_low, q_kg_high = (q[k] * factor for k in ("point", "low", "high"))

    # Value
    v = _amounts(usable["value"])
    has_v = ~empty["value"] & ~too_long["value"]
    cur = raw["currency"]
    c.flag(has_v & v["error"].is_not_null(), "value", lambda i: f"cannot read {raw['value'][i]!r} as money: {v['error'][i]}")
    v_ok = has_v & v["error"].is_null()
    c.flag(~empty["value"] & empty["currency"], "currency", "is empty but the row has a value")
    c.flag(~empty["currency"] & empty["value"], "currency", "is set but the row has no value")
    known_cur = cur.is_in(sorted(CURRENCIES))
    c.flag(~empty["currency"] & ~known_cur, "currency", lambda i: f"unknown currency {cur[i]!r} (use an ISO 4217 code, e.g. KRW)")
    prefix = v["marker"].fill_null("")
    word = v["unit"].fill_null("")
    markers = {k: " ".join(sorted(s)) for k, s in ref.markers.items()}
    word_currencies = word.str.to_lowercase().replace_strict(markers, default=None, return_dtype=pl.String)
    prefix_currencies = prefix.str.to_lowercase().replace_strict(markers, default=None, return_dtype=pl.String)
    c.flag(v_ok & (word != "") & word_currencies.is_null(), "value",
           lambda i: f"cannot read {raw['value'][i]!r} as money: unknown currency word {word[i]!r}")
    for name, allowed, text in (("symbol", prefix_currencies, prefix), ("word", word_currencies, word)):
        clash = v_ok & known_cur & allowed.is_not_null() & ~_member(cur, allowed)
        c.flag(clash, "currency", lambda i, allowed=allowed, text=text, name=name: (
            f"{cur[i]} contradicts the currency {name} {text[i]!r} in the value (it means {' or '.join(allowed[i].split())})"))
    per = v["per"]
    per_unit, per_kind = _unit_columns(per.fill_null("").str.to_lowercase(), ref)
    c.flag(v_ok & is_price & per.is_null(), "value",
           lambda i: f"a price needs a unit it is quoted per ('per kilo', 'a gram'): {raw['value'][i]!r}")
    c.flag(v_ok & ~is_price & per.is_not_null() & ~empty["kind"], "value",
           lambda i: f"{raw['value'][i]!r} is a price per unit; use kind 'price'")
    c.flag(v_ok & per.is_not_null() & (per_kind == ""), "value",
           lambda i: f"cannot read {raw['value'][i]!r} as a price per mass: unknown unit {per[i]!r}")
    c.flag(v_ok & per.is_not_null() & (per_kind == "count"), "value",
           lambda i: f"cannot read {raw['value'][i]!r} as a price per mass: {per[i]!r} is counted, not weighed")
    c.flag(is_price & empty["value"], "value", "a price row needs a value")
    c.flag((kind == "cash") & empty["value"], "value", "a cash row needs a value")
    per_factor = _factors(per_unit.zip_with(per_kind == "mass", _const(None, n, pl.String))).fill_null(1.0)
    per_factor = per_factor.zip_with(per.is_not_null(), _const(1.0, n, pl.Float64))
    amount, amount_low, amount_high = (v[k] / per_factor for k in ("point", "low", "high"))

    # Exchange rates and CPI: one join each (KPW: the market rate, inside North Korea only)
    c.flag(has_v & fx_year.is_null() & ~has_date, "event_date",
           "no year to convert the value: the event date and the source's publication date are both empty")
    need_rate = v_ok & known_cur & fx_year.is_not_null()
    rate = _official_rates(cur, fx_year, ref)
    is_kpw = cur == MARKET_CURRENCY
    market = _market_rates(raw["country"], date, ok_date, pub, has_date, ref)
    c.flag(need_rate & is_kpw & (raw["country"] != MARKET_COUNTRY), "currency",
           f"no exchange rate for {MARKET_CURRENCY} outside North Korea: it is converted only for figures inside "
           f"North Korea (country {MARKET_COUNTRY}), with the market rate")
    c.flag(need_rate & is_kpw & (raw["country"] == MARKET_COUNTRY) & market["rate"].is_null(), "currency",
           lambda i: f"no documented market rate for KPW in {market['wanted'][i]}")
    rate = rate.zip_with(~is_kpw, market["rate"])
    fx_year = fx_year.zip_with(~(is_kpw & market["rate"].is_not_null()), market["year"])
    basis = basis.zip_with(~(is_kpw & market["rate"].is_not_null()), market["basis"])
    c.flag(need_rate & ~is_kpw & rate.is_null(), "currency",
           lambda i: f"no exchange rate for {cur[i]} in {fx_year[i]} ({_coverage(ref, cur[i])})")
    cpi = _left_join(pl.DataFrame({"year": fx_year}), ref.cpi.select("year", "cpi_u_annual_avg"), "year")["cpi_u_annual_avg"]
    base_cpi = float(ref.cpi.filter(pl.col("year") == ref.base_year)["cpi_u_annual_avg"][0])
    c.flag(need_rate & rate.is_not_null() & cpi.is_null(), "event_date",
           lambda i: f"no US CPI for {fx_year[i]} (data/reference/us_cpi_u_annual.csv covers "
                     f"{ref.cpi['year'].min()}-{ref.cpi['year'].max()})")
    usd, usd_low, usd_high = amount / rate, amount_low / rate, amount_high / rate
    deflator = base_cpi / cpi
    usd_const = usd * deflator

    # The source's own USD figure and rate
    s = _amounts(usable["usd_stated"])
    has_s = ~empty["usd_stated"] & ~too_long["usd_stated"]
    s_cur = s["marker"].fill_null(s["unit"]).fill_null("").str.to_lowercase().replace_strict(markers, default=None, return_dtype=pl.String)
    c.flag(has_s & s["error"].is_not_null(), "usd_stated", lambda i: f"cannot read {raw['usd_stated'][i]!r} as money: {s['error'][i]}")
    s_ok = has_s & s["error"].is_null()
    not_usd = s_ok & ~_member(_const(BASE_CURRENCY, n, pl.String), s_cur)
    c.flag(not_usd, "usd_stated", lambda i: f"{raw['usd_stated'][i]!r} is not in US dollars")
    # the source's dollar figure is for the quantity its price is for ("US$1.63" for a 0.1 g package)
    # (a dollar figure written with its own per-unit is already per one unit)
    value_count = v["per_count"].fill_null(1.0).zip_with(s["per"].is_null(), _const(1.0, n, pl.Float64))
    stated_usd = _where(s["point"] / value_count / per_factor, s_ok & ~not_usd)
    rate_m = usable["stated_rate"].str.extract_groups(RATE_FORM)
    has_r = ~empty["stated_rate"] & ~too_long["stated_rate"]
    c.flag(has_r & rate_m.struct.field("n").is_null(), "stated_rate",
           lambda i: f"cannot read {raw['stated_rate'][i]!r} as an exchange rate (write it like 'US$1=W1,117')")
    stated_rate = rate_m.struct.field("n").str.replace_all(",", "", literal=True).cast(pl.Float64, strict=False)
    c.flag(has_r & (stated_rate <= 0).fill_null(False), "stated_rate", "the rate must be positive")
    reference_usd = stated_usd.fill_null(amount / _where(stated_rate, stated_rate > 0))
    check_pct = (usd / reference_usd - 1) * 100
    off = (check_pct.abs() > USD_CHECK_TOLERANCE_PCT).fill_null(False)
    c.flag(off, "usd_stated", lambda i: (
        f"our conversion gives US${usd[i]:,.0f} but the source says US${reference_usd[i]:,.0f} "
        f"({check_pct[i]:+.1f}%, tolerance {USD_CHECK_TOLERANCE_PCT:g}%)"), severity="warning")

    # Arrests
    whole = raw["arrests"].str.contains(r"^[0-9]{1,6}$")  # digits only: no floats, no overflow
    bad_arrests = ~empty["arrests"] & ~whole
    c.flag(bad_arrests, "arrests", lambda i: f"not a whole number of people (0 to 999,999): {raw['arrests'][i]!r}")
    arrests = _where(raw["arrests"], whole).cast(pl.Int64)

    # Derived prices
    price_usd = _where(usd, is_price)
    implied = _where(usd / q_kg, (kind == "seizure") & is_mass & v_ok)

    # Figures too small for the output's precision (1 mg, 1 US cent) would print as 0
    c.flag(is_mass & (q_kg.round(6) == 0), "quantity",
           lambda i: f"{raw['quantity'][i]!r} is less than 1 mg, below the precision of quantity_kg")
    too_small = v_ok & rate.is_not_null() & ((usd.round(2) == 0).fill_null(False) | (implied.round(2) == 0).fill_null(False))
    c.flag(too_small, "value", lambda i: f"{raw['value'][i]!r} is less than one US cent (per kg), below the precision of the dollar columns")

    out = pl.DataFrame({
        "report_id": raw["report_id"],
        "incident_id": raw["incident_id"],
        "kind": kind,
        "date": raw["event_date"].zip_with(ok_date, _const("", n, pl.String)),
        "date_precision": date["precision"].zip_with(ok_date, _const("none", n, pl.String)),
        "year": year,
        "country": raw["country"],
        "place": raw["place"],
        "lat": place["lat"],
        "lon": place["lon"],
        "location_precision": place["precision"],
        "drug": drug,
        "drug_reported": raw["drug"],
        "quantity_reported": raw["quantity"],
        "quantity_kg": _where(q_kg, is_mass).round(6),
        "quantity_kg_low": _where(q_kg_low, is_mass).round(6),
        "quantity_kg_high": _where(q_kg_high, is_mass).round(6),
        "quantity_count": _where(q["point"], is_count),
        "quantity_count_unit": _where(pint_unit, is_count),
        "value_reported": raw["value"],
        "currency": cur,
        "value_amount": _where(amount, v_ok).round(2),
        "value_amount_low": _where(amount_low, v_ok).round(2),
        "value_amount_high": _where(amount_high, v_ok).round(2),
        "value_usd": _where(usd, v_ok).round(2),
        "value_usd_low": _where(usd_low, v_ok).round(2),
        "value_usd_high": _where(usd_high, v_ok).round(2),
        "value_usd_const": _where(usd_const, v_ok).round(2),
        "fx_lcu_per_usd": _where(rate, v_ok),
        "fx_year": _where(fx_year, v_ok),
        "fx_year_basis": basis.zip_with(v_ok, _const("", n, pl.String)),
        "price_usd_per_kg": price_usd.round(2),
        "price_usd_per_kg_const": (price_usd * deflator).round(2),
        "implied_usd_per_kg": implied.round(2),
        "implied_usd_per_kg_const": (implied * deflator).round(2),
        "usd_stated": raw["usd_stated"],
        "usd_stated_amount": _where(s["point"], s_ok),
        "stated_lcu_per_usd": stated_rate,
        "usd_check_pct": check_pct.round(2),
        "approximate": (q["approximate"].fill_null(False) | v["approximate"].fill_null(False)),
        "nk_link": raw["nk_link"],
        "arrests": _where(arrests, ~bad_arrests),
        "source_id": raw["source_id"],
        "source_type": source["source_type"] if "source_type" in source.columns else _const("", n, pl.String),
        "source_outlet": source["outlet"],
        "source_via": source["via"],
        "source_title": source["title"],
        "source_date": published,
        "source_url": source["url"],
        "notes": raw["notes"],
    })
    out = out.select(_typed(out[name]) for name in NAMES if name not in INCIDENT_DERIVED)

    # A number that overflowed (or a rate of zero) is a row problem, never an output cell
    numeric = [col.name for col in COLUMNS if col.type == "number" and col.name not in INCIDENT_DERIVED]
    for column, names in (("quantity", [x for x in numeric if x.startswith("quantity")]),
                          ("value", [x for x in numeric if not x.startswith("quantity")])):
        infinite = out.select(pl.any_horizontal(pl.col(x).is_infinite().fill_null(False) for x in names)).to_series()
        if infinite.any():
            which = out.select(pl.concat_list(pl.when(pl.col(x).is_infinite()).then(pl.lit(x)) for x in names)
                               .list.drop_nulls().list.join(", ")).to_series()
            c.flag(infinite, column, lambda i, which=which: f"a figure is too large to compute ({which[i]} would be infinite)")
            out = out.with_columns(pl.when(pl.col(x).is_infinite()).then(None).otherwise(pl.col(x)).alias(x) for x in names)
    return Result(out, c.problems(), c.rejected())


def _polars(frame: pl.DataFrame | pd.DataFrame) -> pl.DataFrame:
    """Text columns as Polars (a pandas frame of text, as the drafter's tests hand in, is converted)."""
    if isinstance(frame, pd.DataFrame):
        frame = pl.DataFrame({str(c): pl.Series(str(c), frame[c].astype("string").fillna("").tolist(), dtype=pl.String)
                              for c in frame.columns})
    return frame


def _typed(column: pl.Series) -> pl.Expr:
    """The column as etl.columns declares it; missing text becomes "" (a column without any is not copied)."""
    dtype = POLARS_TYPES[column.name]
    expr = pl.col(column.name) if column.dtype == dtype else pl.col(column.name).cast(dtype)
    return expr.fill_null("") if dtype == pl.String and column.null_count() else expr


def _const(value, n: int, dtype) -> pl.Series:
    """A column of `n` copies of `value` (None for a missing value)."""
    return pl.repeat(value, n, dtype=dtype, eager=True)


def _where(values: pl.Series, mask: pl.Series) -> pl.Series:
    """`values` where `mask` holds, null elsewhere."""
    return values.zip_with(mask.fill_null(False), _const(None, len(values), values.dtype))


def _left_join(keys: pl.DataFrame, table: pl.DataFrame, on) -> pl.DataFrame:
    """Columns of `table` for every row of `keys`, in the order of `keys` (missing keys give nulls)."""
    return keys.join(table, on=on, how="left", maintain_order="left", nulls_equal=False)


def validate_sources(sources: pl.DataFrame, ref: Reference, display: str = "sources.csv",
                     lines: list[int] | None = None) -> list[Problem]:
    """Check sources.csv: unique ids of the declared pattern, ISO publication dates, http(s) URLs."""
    c = _Collector(sources.height, display, lines)
    ids = sources["source_id"]
    c.flag(ids == "", "source_id", "is empty")
    c.flag(ids.is_duplicated() & ~ids.is_first_distinct() & (ids != ""), "source_id", lambda i: f"duplicate source_id {ids[i]!r}")
    c.flag((ids != "") & ~ids.str.contains(ID_PATTERN), "source_id",
           lambda i: f"{ids[i]!r} is not an identifier (letters, digits, '.', '_', '-'; starting with a letter or digit; at most 80 characters)")
    for col in ("outlet", "title"):
        c.flag(sources[col] == "", col, "is empty")
    for col in SOURCE_COLUMNS + [x for x in SOURCE_OPTIONAL if x in sources.columns]:
        limit = MAX_LENGTH.get(col, DEFAULT_MAX_LENGTH)
        lengths = sources[col].str.len_chars()
        c.flag(lengths > limit, col, lambda i, lengths=lengths, limit=limit: f"is {lengths[i]:,} characters long (limit {limit:,})")
        c.flag(sources[col].str.contains("\x00", literal=True), col, "holds a NUL character (a binary file, or a broken export?)")
    if "source_type" in sources.columns:
        st = sources["source_type"]
        types = list(ref.source_types)
        c.flag(~st.is_in(types), "source_type", lambda i: f"source_type must be one of {', '.join(types)}, not {st[i]!r}")
    pub = sources["published"]
    d = _dates(pub)
    full_date = pub.str.contains(r"^\d{4}-\d{2}-\d{2}$")
    bad = (pub != "") & (d["invalid"] | ~full_date)
    c.flag(bad, "published", lambda i: f"not a valid date {pub[i]!r} (use YYYY-MM-DD, or leave empty when the copy is undated)")
    c.flag(~bad & (pub != "") & ((d["year"] < YEARS[0]) | (d["year"] > YEARS[1])), "published",
           lambda i: f"year {d['year'][i]} is outside {YEARS[0]}-{YEARS[1]}")
    url = sources["url"]
    c.flag((url != "") & ~url.str.contains(r"^https?://\S+$"), "url", lambda i: f"not an http(s) URL: {url[i]!r}")
    return c.problems()


def _dates(texts: pl.Series) -> pl.DataFrame:
    """Parse ISO partial dates per distinct value: start date, end date, year, precision, validity."""
    keys = pl.DataFrame({"text": texts.fill_null("")})
    distinct = keys["text"].unique(maintain_order=True).to_list()
    rows = [(t, *_one_date(t)) for t in distinct]
    table = pl.DataFrame(rows, schema={"text": pl.String, "start": pl.Date, "end": pl.Date, "year": pl.Int64,
                                       "precision": pl.String, "invalid": pl.Boolean}, orient="row")
    return _left_join(keys, table, "text")


def _one_date(text: str):
    m = DATE_FORM.match(text)
    if not m:
        return (None, None, None, "none", True)
    y, mo, d = m.group(1), m.group(2), m.group(3)
    try:
        start = dt.date(int(y), int(mo or 1), int(d or 1))
        if d:
            end = start
        elif mo:
            end = (dt.date(start.year + (start.month == 12), start.month % 12 + 1, 1) - dt.timedelta(days=1))
        else:
            end = dt.date(start.year, 12, 31)
    except ValueError:
        return (None, None, None, "none", True)
    return (start, end, int(y), "day" if d else "month" if mo else "year", False)


def _amounts(texts: pl.Series) -> pl.DataFrame:
    """The amount grammar's columns for every text (etl.amount_table: Polars' regex engine, the Python grammar
    for what it does not cover); an empty text gives nulls."""
    table = amount_columns(texts)
    # A number too large for a float64 is an error here, never an infinite figure downstream
    infinite = pl.any_horizontal(pl.col(c).is_infinite() for c in ("low", "high", "point")).fill_null(False)
    return table.with_columns(
        pl.when(infinite).then(pl.lit("the number is too large")).otherwise(pl.col("error")).alias("error"),
        *(pl.when(~infinite).then(pl.col(c)).alias(c) for c in ("low", "high", "point")))


def _member(items: pl.Series, sets: pl.Series) -> pl.Series:
    """Element-wise: is `item` one of the blank-separated codes of `set` (a null set holds nothing)."""
    return (pl.DataFrame({"item": items, "set": sets})
            .select(pl.col("set").str.split(" ").list.contains(pl.col("item")).fill_null(False)).to_series())


def _unit_columns(spellings: pl.Series, ref: Reference) -> tuple[pl.Series, pl.Series]:
    """Pint unit and kind ("mass" | "count") of each spelling; "" for spellings the table lacks."""
    pint_unit = spellings.replace_strict({k: v[0] for k, v in ref.units.items()}, default="", return_dtype=pl.String)
    unit_kind = spellings.replace_strict({k: v[1] for k, v in ref.units.items()}, default="", return_dtype=pl.String)
    return pint_unit, unit_kind


def _factors(pint_units: pl.Series) -> pl.Series:
    """One pint call per distinct unit, broadcast to every row."""
    distinct = [u for u in pint_units.unique(maintain_order=True).to_list() if u is not None]
    return pint_units.replace_strict({u: units.kg_factor(u) for u in distinct}, default=None, return_dtype=pl.Float64)


def _official_rates(currency: pl.Series, year: pl.Series, ref: Reference) -> pl.Series:
    keys = pl.DataFrame({"currency": currency, "year": year})
    rate = _left_join(keys, ref.fx.select("currency", "year", "lcu_per_usd"), ["currency", "year"])["lcu_per_usd"]
    usd = (currency == BASE_CURRENCY) & year.is_not_null()
    return rate.zip_with(~usd, _const(1.0, len(rate), pl.Float64))


def _market_rates(country: pl.Series, date: pl.DataFrame, ok_date: pl.Series, pub: pl.DataFrame, has_date: pl.Series,
                  ref: Reference) -> pl.DataFrame:
    """The KPW market rate for each row inside North Korea: the event month's, else the event year's
    (the publication year's when the event date is empty).

    A rate is used only when the period and the date lie on the same side of the
    redenomination (30 Nov 2009): the year 2009 and the month 2009-11 are in old won,
    so they never serve a date from 30 Nov 2009 on, and a date that straddles the day
    (2009, 2009-11) gets no rate at all.
    """
    n = len(country)
    # the date the won amount belongs to: the event date, or the publication date when the event is undated
    start = date["start"].zip_with(has_date, pub["start"]).zip_with(has_date & ok_date | ~has_date, _const(None, n, pl.Date))
    end = date["end"].zip_with(has_date, pub["start"]).zip_with(has_date & ok_date | ~has_date, _const(None, n, pl.Date))
    precision = date["precision"].zip_with(has_date, _const("year", n, pl.String))
    frame = pl.DataFrame({"country": country, "start": start, "end": end, "precision": precision, "event": has_date})
    frame = frame.with_columns(
        month=pl.when(pl.col("precision").is_in(["month", "day"])).then(pl.col("start").dt.strftime("%Y-%m")),
        year_text=pl.col("start").dt.year().cast(pl.String),
        straddles=(pl.col("start") < REDENOMINATION) & (pl.col("end") >= REDENOMINATION),
        new_won=pl.col("start") >= REDENOMINATION,
    )
    if ref.kpw is None:
        table = pl.DataFrame(schema={"period": pl.String, "kpw_per_usd": pl.Float64})
    else:
        table = ref.kpw.filter(pl.col("kpw_per_usd").is_not_null()).select("period", "kpw_per_usd")
    # a period's won: new from 2009-12 on; the year 2009 and 2009-11 count as old won
    table = table.with_columns(period_new_won=pl.col("period").str.slice(0, 7) >= "2009-12")
    by_month = frame.join(table.rename({"period": "month", "kpw_per_usd": "month_rate", "period_new_won": "month_new"}),
                          on="month", how="left", maintain_order="left")
    both = by_month.join(table.rename({"period": "year_text", "kpw_per_usd": "year_rate", "period_new_won": "year_new"}),
                         on="year_text", how="left", maintain_order="left")
    result = both.select(
        month_ok=pl.col("month_rate").is_not_null() & ~pl.col("straddles") & (pl.col("month_new") == pl.col("new_won")),
        year_ok=pl.col("year_rate").is_not_null() & ~pl.col("straddles") & (pl.col("year_new") == pl.col("new_won")),
        month_rate=pl.col("month_rate"), year_rate=pl.col("year_rate"), event=pl.col("event"),
        year=pl.col("start").dt.year().cast(pl.Int64), month=pl.col("month"), year_text=pl.col("year_text"),
        inside=pl.col("country") == MARKET_COUNTRY,
    ).select(
        rate=pl.when(~pl.col("inside")).then(None).when(pl.col("month_ok")).then(pl.col("month_rate"))
        .when(pl.col("year_ok")).then(pl.col("year_rate")),
        year=pl.col("year"),
        basis=pl.when(pl.col("month_ok")).then(pl.lit("market_month"))
        .when(pl.col("year_ok") & pl.col("event")).then(pl.lit("market_year"))
        .when(pl.col("year_ok")).then(pl.lit("market_year_published")).otherwise(pl.lit("")),
        wanted=pl.coalesce(pl.col("month"), pl.col("year_text"), pl.lit("an undated figure")),
    )
    return result


def _coverage(ref: Reference, currency: str) -> str:
    years = ref.fx.filter(pl.col("currency") == currency)["year"]
    if years.is_empty():
        return f"data/reference/fx_annual_lcu_per_usd.csv has no {currency} rates"
    return f"data/reference/fx_annual_lcu_per_usd.csv covers {currency} {years.min()}-{years.max()}"
