"""Turn raw reports into the tidy table: kilograms, US dollars, dates, places.

`normalise()` checks every cell of every row and returns the output rows plus
every problem found, each tied to a row and column. It never guesses: an
unknown unit, currency, drug, place or year is a problem, never a factor of 1.
All conversions are vectorised: one pint factor per distinct unit, one
exchange-rate join, one CPI join.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pycountry

from etl import units
from etl.amounts import NUMBER, parse_amounts
from etl.columns import COLUMNS, INCIDENT_DERIVED, NAMES
from etl.reference import BASE_CURRENCY, Reference

REPORT_COLUMNS = [
    "report_id", "incident_id", "source_id", "kind", "event_date", "country", "place", "drug",
    "quantity", "value", "currency", "usd_stated", "stated_rate", "nk_link", "arrests", "notes",
]
SOURCE_COLUMNS = ["source_id", "outlet", "title", "published", "url", "via"]
SOURCE_OPTIONAL = ("source_type", "notes")
SOURCE_TYPES = ("official", "press", "secondary")
KINDS = ("seizure", "price", "cash")
USD_CHECK_TOLERANCE_PCT = 5.0
MAX_LENGTH = {"notes": 2000, "title": 500}
DEFAULT_MAX_LENGTH = 300

COUNTRIES = frozenset(c.alpha_2 for c in pycountry.countries)
CURRENCIES = frozenset(c.alpha_3 for c in pycountry.currencies) | {"DEM"}
DATE_FORM = re.compile(r"^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?$")
# a pattern string, not a compiled re, so pandas can run it with pyarrow's vectorised regex
RATE_FORM = rf"(?i)^\s*(?:US\$|U\.S\.\$|\$|USD)\s*1\s*=\s*(?P<marker>[^0-9\s]*)\s*(?P<n>{NUMBER})\s*(?P<word>[^0-9]*?)\s*$"


@dataclass(frozen=True)
class RowProblem:
    row: int  # 0-based position in the input frame
    column: str
    message: str
    severity: str = "error"


@dataclass
class Result:
    frame: pd.DataFrame  # every input row, in input order, with the output columns
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def rejected(self) -> np.ndarray:
        bad = sorted({p.row for p in self.problems if p.severity == "error"})
        return np.array(bad, dtype=int)


class _Collector:
    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self.problems: list[RowProblem] = []

    def flag(self, mask, column: str, message, severity: str = "error") -> None:
        """Record a problem for each row where `mask` holds.

        `message` is a string, or a function of the row position giving one.
        """
        rows = np.flatnonzero(np.asarray(mask, dtype=bool))
        for row in rows:
            text = message(row) if callable(message) else message
            self.problems.append(RowProblem(int(row), column, text, severity))


def normalise(reports: pd.DataFrame, sources: pd.DataFrame, ref: Reference, today: dt.date | None = None,
              line_of=lambda row: row + 2, seen_ids: dict[str, int] | None = None, row0: int = 0) -> Result:
    """Normalise `reports` (all-text columns of reports.csv) against `sources` and `ref`.

    `line_of(row)` gives the file line of a row, used in messages that point at another row.
    For a file read in chunks, `reports` holds the rows from data row `row0` on, and
    `seen_ids` (report_id -> first data row, updated here) carries the ids of the
    chunks before, so a duplicate is found wherever its first use was.
    """
    today = today or dt.date.today()
    r = reports.reset_index(drop=True)
    c = _Collector(r)
    n = len(r)
    raw = {col: r[col].fillna("").astype("string") for col in REPORT_COLUMNS}

    # Field lengths and required cells
    for col in REPORT_COLUMNS:
        limit = MAX_LENGTH.get(col, DEFAULT_MAX_LENGTH)
        lengths = raw[col].str.len().to_numpy()
        c.flag(lengths > limit, col, lambda i, col=col: f"is {len(raw[col].iat[i]):,} characters long (limit {limit:,})")
    for col in ("report_id", "incident_id", "source_id", "kind", "country", "drug", "nk_link"):
        c.flag(raw[col] == "", col, "is empty")

    # Identity and sources
    seen_ids = {} if seen_ids is None else seen_ids
    ids = raw["report_id"]
    id_list = ids.tolist()
    used_before = np.fromiter((i in seen_ids for i in id_list), dtype=bool, count=n) if seen_ids else np.zeros(n, dtype=bool)
    used_here = ids.duplicated(keep="first").to_numpy()
    named = (ids != "").to_numpy()
    first_use = named & ~used_before & ~used_here
    seen_ids.update(zip(ids[first_use].tolist(), (np.flatnonzero(first_use) + row0).tolist()))
    c.flag(named & (used_before | used_here), "report_id",
           lambda i: f"duplicate report_id {id_list[i]!r} (first used on line {line_of(seen_ids[id_list[i]])})")
    known_source = isin_text(raw["source_id"], sources["source_id"])
    c.flag(~known_source & (raw["source_id"] != ""), "source_id", lambda i: f"source_id {raw['source_id'].iat[i]!r} is not in sources.csv")
    c.flag(~isin_text(raw["kind"], KINDS) & (raw["kind"] != ""), "kind", lambda i: f"kind must be one of {', '.join(KINDS)}, not {raw['kind'].iat[i]!r}")
    c.flag(~isin_text(raw["nk_link"], ref.nk_links) & (raw["nk_link"] != ""), "nk_link",
           lambda i: f"unknown nk_link {raw['nk_link'].iat[i]!r} (see data/reference/nk_links.csv)")

    source_cols = [col for col in ("published", "source_type", "outlet", "via", "title", "url") if col in sources.columns]
    source = take_by_key(raw["source_id"], sources, "source_id", source_cols)
    published = source["published"].fillna("").astype("string")

    # Dates
    date = _dates(raw["event_date"])
    pub = _dates(published)
    has_date = raw["event_date"] != ""
    c.flag(has_date & date["invalid"], "event_date", lambda i: f"not a valid date {raw['event_date'].iat[i]!r} (use YYYY, YYYY-MM or YYYY-MM-DD)")
    ok_date = has_date & ~date["invalid"]
    future = ok_date & (date["start"] > pd.Timestamp(today))
    c.flag(future, "event_date", lambda i: f"date {raw['event_date'].iat[i]!r} is in the future")
    after_pub = ok_date & ~future & ~pub["invalid"] & (published != "") & (date["start"] > pub["start"])
    c.flag(after_pub, "event_date", lambda i: f"date {raw['event_date'].iat[i]!r} is after the source's publication date {published.iat[i]}")
    year = date["year"].where(ok_date & ~future & ~after_pub)
    pub_year = pub["year"].where(~pub["invalid"] & (published != ""))
    fx_year = year.where(has_date, pub_year)  # the publication year only when no event date is given
    fx_basis = pd.Series(np.where(year.notna(), "event", np.where(fx_year.notna(), "published", "")), dtype="string")

    # Where
    country_ok = isin_text(raw["country"], COUNTRIES)
    c.flag(~country_ok & (raw["country"] != ""), "country", lambda i: f"unknown country code {raw['country'].iat[i]!r} (use ISO 3166-1 alpha-2, e.g. KR)")
    place_key = raw["country"] + "\x1f" + raw["place"]
    places = pd.DataFrame(
        [(f"{country}\x1f{place}", *hit) for (country, place), hit in ref.places.items()],
        columns=["key", "lat", "lon", "precision"],
    )
    place_hit = take_by_key(place_key, places, "key", ["lat", "lon", "precision"])  # one join for all three
    no_place = place_hit["lat"].isna() & country_ok
    c.flag(no_place, "place", lambda i: f"place {raw['place'].iat[i]!r} in {raw['country'].iat[i]} is not in data/reference/places.csv")
    lat = place_hit["lat"].astype("float64")
    lon = place_hit["lon"].astype("float64")
    precision = place_hit["precision"].astype("string")

    # Drug
    drug = _lookup(raw["drug"].str.lower(), ref.drugs)
    c.flag(drug.isna() & (raw["drug"] != ""), "drug", lambda i: f"unknown drug {raw['drug'].iat[i]!r} (add it to data/reference/drugs.csv)")

    kind = raw["kind"]
    # Quantity
    q = parse_amounts(raw["quantity"])
    has_q = raw["quantity"] != ""
    c.flag(has_q & q["error"].notna(), "quantity", lambda i: f"cannot read {raw['quantity'].iat[i]!r} as a mass: {q['error'].iat[i]}")
    q_ok = has_q & q["error"].isna()
    q_unit = q["unit"].fillna("").str.lower()
    pint_unit, unit_kind = _unit_columns(q_unit, ref)
    bare_ton = q_ok & isin_text(q_unit, ["ton", "tons"])
    c.flag(bare_ton, "quantity", lambda i: f"cannot read {raw['quantity'].iat[i]!r} as a mass: a bare 'tons' may be metric, short (US) or long; write 'tons [metric]', 'tons [short]' or 'tons [long]'")
    no_unit = q_ok & (q_unit == "")
    c.flag(no_unit & q["marker"].isna(), "quantity", lambda i: f"cannot read {raw['quantity'].iat[i]!r} as a mass: no unit")
    c.flag(q_ok & q["marker"].notna(), "quantity", lambda i: f"cannot read {raw['quantity'].iat[i]!r} as a mass: it is money")
    unknown_unit = q_ok & (pint_unit == "") & ~bare_ton & ~no_unit & q["marker"].isna()
    c.flag(unknown_unit, "quantity", lambda i: f"cannot read {raw['quantity'].iat[i]!r} as a mass: unknown unit {q['unit'].iat[i]!r}")
    c.flag(q_ok & q["per"].notna(), "quantity", lambda i: f"cannot read {raw['quantity'].iat[i]!r} as a mass: a quantity is not quoted per unit")
    c.flag(has_q & (kind == "price"), "quantity", "price rows take no quantity: the unit goes in the value ('per kilo')")
    factor = _factors(pint_unit.where(unit_kind == "mass"), units.kg_factor)
    is_mass = q_ok & (unit_kind == "mass")
    is_count = q_ok & (unit_kind == "count")
    q_kg = q["point"] * factor
    q_kg_low = q["low"] * factor
    q_kg_high = q["high"] * factor

    # Value
    v = parse_amounts(raw["value"])
    has_v = raw["value"] != ""
    cur = raw["currency"]
    c.flag(has_v & v["error"].notna(), "value", lambda i: f"cannot read {raw['value'].iat[i]!r} as money: {v['error'].iat[i]}")
    v_ok = has_v & v["error"].isna()
    c.flag(has_v & (cur == ""), "currency", "is empty but the row has a value")
    c.flag((cur != "") & ~has_v, "currency", "is set but the row has no value")
    known_cur = isin_text(cur, CURRENCIES)
    c.flag((cur != "") & ~known_cur, "currency", lambda i: f"unknown currency {cur.iat[i]!r} (use an ISO 4217 code, e.g. KRW)")
    prefix = v["marker"].fillna("")
    word = v["unit"].fillna("")
    word_currencies = _lookup(word.str.lower(), ref.markers)
    prefix_currencies = _lookup(prefix.str.lower(), ref.markers)
    c.flag(v_ok & (word != "") & word_currencies.isna(), "value", lambda i: f"cannot read {raw['value'].iat[i]!r} as money: unknown currency word {word.iat[i]!r}")
    for name, allowed, text in (("symbol", prefix_currencies, prefix), ("word", word_currencies, word)):
        clash = v_ok & known_cur & allowed.notna() & ~_contains(allowed, cur)
        c.flag(clash, "currency", lambda i, allowed=allowed, text=text, name=name: (
            f"{cur.iat[i]} contradicts the currency {name} {text.iat[i]!r} in the value (it means {' or '.join(sorted(allowed.iat[i]))})"))
    per = v["per"]
    per_unit, per_kind = _unit_columns(per.fillna("").str.lower(), ref)
    is_price = kind == "price"
    c.flag(v_ok & is_price & per.isna(), "value", lambda i: f"a price needs a unit it is quoted per ('per kilo', 'a gram'): {raw['value'].iat[i]!r}")
    c.flag(v_ok & ~is_price & per.notna() & (kind != ""), "value", lambda i: f"{raw['value'].iat[i]!r} is a price per unit; use kind 'price'")
    c.flag(v_ok & per.notna() & (per_kind == ""), "value", lambda i: f"cannot read {raw['value'].iat[i]!r} as a price per mass: unknown unit {per.iat[i]!r}")
    c.flag(v_ok & per.notna() & (per_kind == "count"), "value", lambda i: f"cannot read {raw['value'].iat[i]!r} as a price per mass: {per.iat[i]!r} is counted, not weighed")
    c.flag(is_price & ~has_v, "value", "a price row needs a value")
    c.flag((kind == "cash") & ~has_v, "value", "a cash row needs a value")
    per_factor = _factors(per_unit.where(per_kind == "mass"), units.kg_factor).fillna(1.0).where(per.notna(), 1.0)
    amount = v["point"] / per_factor
    amount_low = v["low"] / per_factor
    amount_high = v["high"] / per_factor

    # Exchange rates and CPI: one join each
    c.flag(has_v & fx_year.isna() & ~has_date, "event_date",
           "no year to convert the value: the event date and the source's publication date are both empty")
    rate = _rates(cur, fx_year, ref)
    need_rate = v_ok & known_cur & fx_year.notna()
    c.flag(need_rate & rate.isna(), "currency", lambda i: f"no exchange rate for {cur.iat[i]} in {int(fx_year.iat[i])} ({_coverage(ref, cur.iat[i])})")
    cpi_table = ref.cpi[["year", "cpi_u_annual_avg"]].astype({"year": "float64"})
    cpi = take_by_key(fx_year, cpi_table, "year", ["cpi_u_annual_avg"])["cpi_u_annual_avg"].astype("float64")
    base_cpi = float(ref.cpi.loc[ref.cpi["year"] == ref.base_year, "cpi_u_annual_avg"].iloc[0])
    c.flag(need_rate & rate.notna() & cpi.isna(), "event_date", lambda i: f"no US CPI for {int(fx_year.iat[i])} (data/reference/us_cpi_u_annual.csv covers {ref.cpi['year'].min()}-{ref.cpi['year'].max()})")
    usd = amount / rate
    usd_low = amount_low / rate
    usd_high = amount_high / rate
    deflator = base_cpi / cpi
    usd_const = usd * deflator

    # The source's own USD figure and rate
    s = parse_amounts(raw["usd_stated"])
    has_s = raw["usd_stated"] != ""
    s_cur = _lookup(s["marker"].fillna(s["unit"]).fillna("").str.lower(), ref.markers)
    c.flag(has_s & s["error"].notna(), "usd_stated", lambda i: f"cannot read {raw['usd_stated'].iat[i]!r} as money: {s['error'].iat[i]}")
    s_ok = has_s & s["error"].isna()
    not_usd = s_ok & ~_contains(s_cur, pd.Series([BASE_CURRENCY] * n, dtype="string"))
    c.flag(not_usd, "usd_stated", lambda i: f"{raw['usd_stated'].iat[i]!r} is not in US dollars")
    stated_usd = (s["point"] / per_factor).where(s_ok & ~not_usd)
    rate_m = raw["stated_rate"].str.extract(RATE_FORM)
    has_r = raw["stated_rate"] != ""
    c.flag(has_r & rate_m["n"].isna(), "stated_rate", lambda i: f"cannot read {raw['stated_rate'].iat[i]!r} as an exchange rate (write it like 'US$1=W1,117')")
    stated_rate = pd.to_numeric(rate_m["n"].str.replace(",", "", regex=False), errors="coerce").astype("float64")
    c.flag(has_r & (stated_rate <= 0).fillna(False), "stated_rate", "the rate must be positive")
    reference_usd = stated_usd.fillna(amount / stated_rate.where(stated_rate > 0))
    check_pct = (usd / reference_usd - 1) * 100
    off = check_pct.abs() > USD_CHECK_TOLERANCE_PCT
    c.flag(off.fillna(False), "usd_stated", lambda i: (
        f"our conversion gives US${usd.iat[i]:,.0f} but the source says US${reference_usd.iat[i]:,.0f} "
        f"({check_pct.iat[i]:+.1f}%, tolerance {USD_CHECK_TOLERANCE_PCT:g}%)"), severity="warning")

    # Arrests
    whole = raw["arrests"].str.fullmatch(r"[0-9]{1,6}").fillna(False)  # digits only: no floats, no overflow
    bad_arrests = (raw["arrests"] != "") & ~whole
    c.flag(bad_arrests, "arrests", lambda i: f"not a whole number of people (0 to 999,999): {raw['arrests'].iat[i]!r}")
    arrests = pd.to_numeric(raw["arrests"].where(whole), errors="coerce")

    # Derived prices
    price_usd = usd.where(is_price)
    implied = (usd / q_kg).where((kind == "seizure") & is_mass & v_ok)

    # Figures too small for the output's precision (1 mg, 1 US cent) would print as 0
    c.flag(is_mass & (q_kg.round(6) == 0), "quantity", lambda i: f"{raw['quantity'].iat[i]!r} is less than 1 mg, below the precision of quantity_kg")
    too_small = v_ok & rate.notna() & ((usd.round(2) == 0) | (implied.round(2) == 0).fillna(False))
    c.flag(too_small, "value", lambda i: f"{raw['value'].iat[i]!r} is less than one US cent (per kg), below the precision of the dollar columns")

    out = pd.DataFrame({
        "report_id": raw["report_id"],
        "incident_id": raw["incident_id"],
        "kind": kind,
        "date": raw["event_date"].where(ok_date, ""),
        "date_precision": date["precision"].where(ok_date, "none"),
        "year": year.astype("Int64"),
        "country": raw["country"],
        "place": raw["place"],
        "lat": lat,
        "lon": lon,
        "location_precision": precision,
        "drug": drug,
        "drug_reported": raw["drug"],
        "quantity_reported": raw["quantity"],
        "quantity_kg": q_kg.where(is_mass).round(6),
        "quantity_kg_low": q_kg_low.where(is_mass).round(6),
        "quantity_kg_high": q_kg_high.where(is_mass).round(6),
        "quantity_count": q["point"].where(is_count),
        "quantity_count_unit": pint_unit.where(is_count),
        "value_reported": raw["value"],
        "currency": cur,
        "value_amount": amount.where(v_ok).round(2),
        "value_amount_low": amount_low.where(v_ok).round(2),
        "value_amount_high": amount_high.where(v_ok).round(2),
        "value_usd": usd.where(v_ok).round(2),
        "value_usd_low": usd_low.where(v_ok).round(2),
        "value_usd_high": usd_high.where(v_ok).round(2),
        "value_usd_const": usd_const.where(v_ok).round(2),
        "fx_lcu_per_usd": rate.where(v_ok),
        "fx_year": fx_year.where(v_ok).astype("Int64"),
        "fx_year_basis": fx_basis.where(v_ok, ""),
        "price_usd_per_kg": price_usd.round(2),
        "price_usd_per_kg_const": (price_usd * deflator).round(2),
        "implied_usd_per_kg": implied.round(2),
        "implied_usd_per_kg_const": (implied * deflator).round(2),
        "usd_stated": raw["usd_stated"],
        "usd_stated_amount": s["point"].where(s_ok),
        "stated_lcu_per_usd": stated_rate,
        "usd_check_pct": check_pct.round(2),
        "approximate": (q["approximate"].fillna(False) | v["approximate"].fillna(False)).astype(bool),
        "nk_link": raw["nk_link"],
        "arrests": arrests.where(~bad_arrests).astype("Int64"),
        "source_id": raw["source_id"],
        "source_type": source["source_type"] if "source_type" in source else "",
        "source_outlet": source["outlet"],
        "source_via": source["via"],
        "source_title": source["title"],
        "source_date": published,
        "source_url": source["url"],
        "notes": raw["notes"],
    })
    for column in COLUMNS:
        if column.name in INCIDENT_DERIVED:
            continue
        if column.type == "number":
            out[column.name] = pd.to_numeric(out[column.name]).astype("float64")
        elif column.type == "string":
            out[column.name] = out[column.name].astype("string").fillna("")
    assert list(out.columns) == [x for x in NAMES if x not in INCIDENT_DERIVED], "normalise() and etl.columns disagree"
    problems = sorted(c.problems, key=lambda p: (p.row, REPORT_COLUMNS.index(p.column) if p.column in REPORT_COLUMNS else 99))
    return Result(out, problems)


def validate_sources(sources: pd.DataFrame) -> list[RowProblem]:
    """Check sources.csv: unique ids, ISO publication dates, http(s) URLs."""
    c = _Collector(sources)
    ids = sources["source_id"]
    c.flag(ids == "", "source_id", "is empty")
    c.flag(ids.duplicated(keep="first") & (ids != ""), "source_id", lambda i: f"duplicate source_id {ids.iat[i]!r}")
    for col in ("outlet", "title"):
        c.flag(sources[col] == "", col, "is empty")
    for col in SOURCE_COLUMNS + [x for x in SOURCE_OPTIONAL if x in sources.columns]:
        limit = MAX_LENGTH.get(col, DEFAULT_MAX_LENGTH)
        c.flag(sources[col].str.len() > limit, col, lambda i, col=col: f"is {len(sources[col].iat[i]):,} characters long (limit {limit:,})")
    if "source_type" in sources.columns:
        st = sources["source_type"]
        c.flag(~st.isin(SOURCE_TYPES), "source_type", lambda i: f"source_type must be one of {', '.join(SOURCE_TYPES)}, not {st.iat[i]!r}")
    pub = sources["published"]
    d = _dates(pub)
    full_date = pub.str.fullmatch(r"\d{4}-\d{2}-\d{2}").fillna(False)
    c.flag((pub != "") & (d["invalid"] | ~full_date), "published", lambda i: f"not a valid date {pub.iat[i]!r} (use YYYY-MM-DD, or leave empty when the copy is undated)")
    url = sources["url"]
    c.flag((url != "") & ~url.str.match(r"^https?://\S+$").fillna(False), "url", lambda i: f"not an http(s) URL: {url.iat[i]!r}")
    return c.problems


def _dates(texts: pd.Series) -> pd.DataFrame:
    """Parse ISO partial dates per distinct value: start timestamp, year, precision, validity."""
    codes, uniques = pd.factorize(texts.fillna(""), sort=False)
    rows = [_one_date(u) for u in uniques] + [(pd.NaT, np.nan, "none", True)]
    table = pd.DataFrame(rows, columns=["start", "year", "precision", "invalid"])
    out = table.iloc[codes].reset_index(drop=True)
    out.index = texts.index
    out["precision"] = out["precision"].astype("string")
    out["invalid"] = out["invalid"].astype(bool)
    return out


def _one_date(text: str):
    m = DATE_FORM.match(text)
    if not m:
        return (pd.NaT, np.nan, "none", True)
    y, mo, d = m.group(1), m.group(2), m.group(3)
    try:
        start = dt.date(int(y), int(mo or 1), int(d or 1))
    except ValueError:
        return (pd.NaT, np.nan, "none", True)
    return (pd.Timestamp(start), float(y), "day" if d else "month" if mo else "year", False)


def take_by_key(keys: pd.Series, table: pd.DataFrame, key: str, columns: list[str]) -> pd.DataFrame:
    """Columns of `table` for each of `keys` (a vectorised left join; missing keys give NA).

    The first row of a duplicated key wins, so the result always has one row per key.
    """
    unique = table.drop_duplicates(key, keep="first")
    positions = _positions(keys, unique[key])
    out = {
        col: pd.api.extensions.take(unique[col].array, positions, allow_fill=True)
        for col in columns
    }
    return pd.DataFrame(out, index=keys.index)


def _arrow(texts: pd.Series) -> pa.Array:
    """The column's text as one Arrow array (no copy when it is already Arrow-backed)."""
    cells = texts.astype("string").array.__arrow_array__()
    return cells.combine_chunks() if isinstance(cells, pa.ChunkedArray) else cells


def _positions(keys: pd.Series, index: pd.Series) -> np.ndarray:
    """Position of each key in `index` (unique texts), -1 when absent; Arrow's hash join, not pandas'."""
    found = pc.index_in(_arrow(keys), value_set=_arrow(index))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.intp)


def isin_text(texts: pd.Series, values) -> pd.Series:
    """`texts.isin(values)` for text, run by Arrow (pandas converts `values` one scalar at a time)."""
    value_set = _arrow(values) if isinstance(values, pd.Series) else pa.array(sorted(values), type=pa.string())
    found = pc.is_in(_arrow(texts), value_set=value_set)
    return pd.Series(found.to_numpy(zero_copy_only=False), index=texts.index, dtype=bool)


def _lookup(keys: pd.Series, table: dict) -> pd.Series:
    """Look keys up in `table` via factorize; missing keys give NA."""
    codes, uniques = pd.factorize(keys.fillna(""), sort=False)
    values = np.empty(len(uniques) + 1, dtype=object)  # filled one by one: numpy would unpack tuples
    for i, key in enumerate(uniques):
        values[i] = table.get(key)
    return pd.Series(values[codes], index=keys.index, dtype=object)


def _contains(sets: pd.Series, items: pd.Series) -> pd.Series:
    """Element-wise `item in set` for a Series of frozensets (NA set -> False), per distinct pair."""
    set_codes, set_uniques = pd.factorize(sets, sort=False)
    item_codes, item_uniques = pd.factorize(items.astype("string").fillna(""), sort=False)
    answer = np.zeros((len(set_uniques) + 1, len(item_uniques) + 1), dtype=bool)
    for i, allowed in enumerate(set_uniques):
        for j, item in enumerate(item_uniques):
            answer[i, j] = isinstance(allowed, frozenset) and item in allowed
    return pd.Series(answer[set_codes, item_codes], index=sets.index)


def _unit_columns(spellings: pd.Series, ref: Reference) -> tuple[pd.Series, pd.Series]:
    """Pint unit and kind ("mass" | "count") of each spelling; "" for spellings the table lacks."""
    pint_unit = _lookup(spellings, {k: v[0] for k, v in ref.units.items()}).astype("string").fillna("")
    unit_kind = _lookup(spellings, {k: v[1] for k, v in ref.units.items()}).astype("string").fillna("")
    return pint_unit, unit_kind


def _factors(pint_units: pd.Series, factor_of) -> pd.Series:
    """One pint call per distinct unit, broadcast to every row."""
    codes, uniques = pd.factorize(pint_units, sort=False)
    values = np.array([factor_of(u) for u in uniques] + [np.nan], dtype="float64")
    return pd.Series(values[codes], index=pint_units.index)


def _rates(currency: pd.Series, year: pd.Series, ref: Reference) -> pd.Series:
    keys = pd.DataFrame({"currency": currency.astype("string"), "year": year.astype("Int64")})
    table = ref.fx[["currency", "year", "lcu_per_usd"]].astype({"currency": "string", "year": "Int64"})
    merged = keys.merge(table, on=["currency", "year"], how="left", validate="many_to_one")
    rate = pd.Series(merged["lcu_per_usd"].to_numpy(dtype="float64", na_value=np.nan), index=currency.index)
    return rate.mask((currency == BASE_CURRENCY) & year.notna(), 1.0)


def _coverage(ref: Reference, currency: str) -> str:
    years = ref.fx.loc[ref.fx["currency"] == currency, "year"]
    if years.empty:
        return f"data/reference/fx_annual_lcu_per_usd.csv has no {currency} rates"
    return f"data/reference/fx_annual_lcu_per_usd.csv covers {currency} {years.min()}-{years.max()}"
