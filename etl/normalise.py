"""Turn raw reports into the tidy table: kilograms, US dollars, dates, places.

`normalise()` checks every cell of every row and returns the output rows plus
every problem found, each tied to a row and column. It never guesses: an
unknown unit, currency, drug, place or year is a problem, never a factor of 1.
Everything is a Polars column operation; what needs Python (the amount grammar,
partial dates, pint) runs once per distinct value and is joined back.
"""
from __future__ import annotations

import datetime as dt
import math
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
    frame: pl.DataFrame  # every input row (with kept_only: those without an error), in input order, with the output columns (incident columns excepted)
    problems: list[Problem] = field(default_factory=list)
    rejected: pl.Series = field(default_factory=lambda: pl.Series("rejected", [], dtype=pl.Boolean))  # per input row
    incident_row: pl.Series | None = None  # with known_incidents: each input row's incident, by its row there (else null)


class _Collector:
    """Problems of a table checked column by column (sources.csv, incidents.csv), located by the physical line of each row."""

    def __init__(self, n: int, display: str, lines: list[int] | None):
        self.display = display
        self.lines = lines if lines is not None else list(range(2, n + 2))
        self.found: list[tuple[int, int, str, str, str]] = []  # (row, column order, column, message, severity)

    def flag(self, mask: pl.Series, column: str, message: str | Callable[[int], str], severity: str = "error") -> None:
        """Record a problem for each row where `mask` holds; `message` is a text or a function of the row."""
        rows = mask.fill_null(False).arg_true().to_list()
        order = REPORT_COLUMNS.index(column) if column in REPORT_COLUMNS else 99
        for row in rows:
            self.found.append((row, order, column, message(row) if callable(message) else message, severity))

    def problems(self) -> list[Problem]:
        return [Problem(self.display, self.lines[row], column, message, severity)
                for row, _, column, message, severity in sorted(self.found, key=lambda p: (p[0], p[1]))]


# Rows normalised at a time: bounds the memory of the intermediate columns. Each batch has a fixed cost: one call of
# the amount grammar (about 30 ms whatever its size, most of it the plan of its per-shape query) and the plan of the
# normalising query.
BATCH_ROWS = 250_000


@dataclass
class _Shared:
    """What every batch of rows is checked against: computed once per call of `normalise`."""

    sources: pl.DataFrame  # one row per source_id (the first), its columns as src.*, its publication date as pub.*
    source_cols: list[str]
    dates: pl.DataFrame  # every event date and publication date text of the call, parsed (`_date_table`)
    places: pl.DataFrame
    first_line: dict[str, int]  # the line where each duplicated report_id is first used


def normalise(reports: pl.DataFrame, sources: pl.DataFrame, ref: Reference, today: dt.date | None = None,
              display: str = "reports.csv", lines: list[int] | None = None,
              known_incidents: pl.Series | None = None, kept_only: bool = False,
              batch_rows: int | None = None) -> Result:
    """Normalise `reports` (the text columns of reports.csv) against `sources` and `ref`.

    `lines[row]` is the physical line where each row starts (default: row + 2).
    With `known_incidents` (unique ids), an incident_id outside it is a problem.
    With `kept_only`, `Result.frame` holds only the rows without an error (the
    build's output rows); `Result.rejected` still has one value per input row.

    The work is a few Polars queries over the rows, `batch_rows` (default `BATCH_ROWS`) rows at a time
    (the checks that compare rows with each other, such as a repeated
    report_id, look at every row first): each check is a boolean column,
    collected together with the output columns; only the rows where a check
    holds (normally none) are materialised to word their problems.
    """
    today = today or dt.date.today()
    reports, sources = _polars(reports), _polars(sources)
    r = reports.select(  # the text columns as they are (no copy) unless a cell is missing
        pl.col(c).cast(pl.String).fill_null("") if reports[c].null_count() or reports[c].dtype != pl.String else pl.col(c)
        for c in REPORT_COLUMNS)
    col, lit = pl.col, pl.lit

    def line(row: int) -> int:
        return lines[row] if lines is not None else row + 2

    # Sources (each with its publication date parsed) and event dates: parsed per distinct text, joined by key
    source_cols = [name for name in ("published", "source_type", "outlet", "via", "title", "url") if name in sources.columns]
    source_table = sources.unique("source_id", keep="first", maintain_order=True).select(
        col("source_id").alias("src.id"), *(col(name).alias(f"src.{name}") for name in source_cols), lit(True).alias("src.found"))
    date_texts = pl.concat([r["event_date"].unique(), source_table["src.published"].fill_null("").unique(),
                            pl.Series([""])]).unique(maintain_order=True)
    dates = _date_table(date_texts)
    source_table = source_table.join(dates.select(pl.all().name.prefix("pub.")), left_on=col("src.published").fill_null(""),
                                     right_on="pub.text", how="left", maintain_order="left")
    places = pl.DataFrame([(k[0], k[1], *v) for k, v in ref.places.items()],
                          schema={"place.country": pl.String, "place.place": pl.String, "lat": pl.Float64, "lon": pl.Float64,
                                  "location_precision": pl.String}, orient="row").unique(["place.country", "place.place"],
                                                                                         keep="first", maintain_order=True)
    # A report_id used on an earlier row, and the line where each such id is first used
    repeated = _repeated(r["report_id"]).alias("repeated")
    first_line: dict[str, int] = {}
    if repeated.any():
        ids = r["report_id"].filter(repeated).unique().implode()
        firsts = (r.select("report_id").with_row_index("row").filter(col("report_id").is_in(ids))
                  .group_by("report_id").agg(col("row").min()))
        first_line.update((rid, line(row)) for rid, row in firsts.iter_rows())
    known = None if known_incidents is None else incident_rows(r["incident_id"], known_incidents)
    shared = _Shared(source_table, source_cols, dates, places, first_line)

    frames, problems, rejected = [], [], []
    batch_rows = batch_rows or BATCH_ROWS
    for start in range(0, max(r.height, 1), batch_rows):
        part = _normalise_rows(r.slice(start, batch_rows), repeated.slice(start, batch_rows),
                               None if known is None else known.slice(start, batch_rows), shared, ref, today, display,
                               lambda row, start=start: line(start + row))
        frames.append(part.frame.filter(~part.rejected) if kept_only and part.rejected.any() else part.frame)
        problems += part.problems
        rejected.append(part.rejected)
    frame = frames[0] if len(frames) == 1 else pl.concat(frames)
    return Result(frame, problems, pl.concat(rejected), known)


def _normalise_rows(r: pl.DataFrame, repeated: pl.Series, known: pl.Series | None, shared: _Shared, ref: Reference,
                    today: dt.date, display: str, line: Callable[[int], int]) -> Result:
    """`normalise` of the rows `r` (REPORT_COLUMNS as text); `line(row)` is the physical line of each."""
    checks = _Checks()
    flag = checks.add
    col, lit = pl.col, pl.lit
    source_cols, first_line = shared.source_cols, shared.first_line

    def empty(name: str) -> pl.Expr:
        return col(name) == ""

    # Field lengths (nothing longer is parsed); what is parsed of the cells that the grammar reads
    limits = {name: MAX_LENGTH.get(name, DEFAULT_MAX_LENGTH) for name in REPORT_COLUMNS}
    parsed = ("event_date", "quantity", "value", "usd_stated", "stated_rate")
    long = r.select(*(col(name).str.len_chars().gt(limit).alias(f"long.{name}") for name, limit in limits.items()))
    usable = pl.concat([r.select(parsed), long.select(f"long.{name}" for name in parsed)], how="horizontal").select(
        pl.when(col(f"long.{name}")).then(lit("")).otherwise(col(name)).alias(f"use.{name}") for name in parsed)
    # the three amount columns read in one call (each call has a fixed cost of some 30 ms), then split again
    figures = (("q", "quantity"), ("v", "value"), ("s", "usd_stated"))
    read = _amounts(pl.concat([usable[f"use.{name}"] for _, name in figures]))
    amounts = [read.slice(i * r.height, r.height).select(pl.all().name.prefix(f"{key}.")) for i, (key, _) in enumerate(figures)]

    # Units: the pint unit, kind and kilogram factor of each spelling used (one pint call per distinct unit)
    q_spellings = amounts[0]["q.unit"].unique().drop_nulls().str.to_lowercase().unique().to_list()
    per_spellings = amounts[1]["v.per"].unique().drop_nulls().str.to_lowercase().unique().to_list()
    pint_of = {k: v[0] for k, v in ref.units.items()}
    kind_of = {k: v[1] for k, v in ref.units.items()}
    q_factor = {s: units.kg_factor(pint_of[s]) for s in q_spellings if kind_of.get(s) == "mass"}
    per_factor_of = {s: units.kg_factor(pint_of[s]) for s in per_spellings if kind_of.get(s) == "mass"}
    markers = {k: " ".join(sorted(s)) for k, s in ref.markers.items()}

    def lookup(expr: pl.Expr, mapping: dict, default, dtype) -> pl.Expr:
        if not mapping:  # (replace_strict would not keep the type)
            return pl.repeat(pl.lit(default, dtype=dtype), pl.len())
        return expr.replace_strict(mapping, default=default, return_dtype=dtype)

    lf = (pl.concat([r, long, usable, *amounts, *([] if known is None else [known.to_frame()]), repeated.to_frame()],
                    how="horizontal").lazy()
          .join(shared.sources.lazy(), left_on="source_id", right_on="src.id", how="left", maintain_order="left")
          .join(shared.dates.lazy().select(pl.all().name.prefix("date.")), left_on="use.event_date", right_on="date.text",
                how="left", maintain_order="left")
          .join(shared.places.lazy(), left_on=["country", "place"], right_on=["place.country", "place.place"], how="left",
                maintain_order="left"))

    # Layer 1: everything that reads only the cells, the joins and the grammar's columns
    is_kpw = col("currency") == MARKET_CURRENCY
    lf = lf.with_columns(
        published=col("src.published").fill_null(""),
        pub_ok=~col("pub.invalid").fill_null(True) & (col("src.published").fill_null("") != ""),
        has_date=~empty("event_date"),
        country_ok=col("country").is_in(sorted(COUNTRIES)),
        drug_name=lookup(col("drug").str.to_lowercase(), ref.drugs, None, pl.String),
        q_unit=col("q.unit").fill_null("").str.to_lowercase(),
        per_unit=col("v.per").fill_null("").str.to_lowercase(),
        word=col("v.unit").fill_null(""),
        prefix=col("v.marker").fill_null(""),
        s_cur=lookup(col("s.marker").fill_null(col("s.unit")).fill_null("").str.to_lowercase(), markers, None, pl.String),
        rate_text=col("use.stated_rate").str.extract_groups(RATE_FORM).struct.field("n"),
        whole=col("arrests").str.contains(r"^[0-9]{1,6}$"),  # digits only: no floats, no overflow
        known_cur=col("currency").is_in(sorted(CURRENCIES)),
        is_price=col("kind") == "price",
    )
    # Layer 2: dates, units, currencies
    has_date = col("has_date")
    ok_date = has_date & ~col("date.invalid")
    out_of_range = ok_date & ((col("date.year") < YEARS[0]) | (col("date.year") > YEARS[1]))
    ok_date = ok_date & ~out_of_range
    future = ok_date & (col("date.start") > today)
    after_pub = ok_date & ~future & col("pub_ok") & (col("date.start") > col("pub.start"))
    lf = lf.with_columns(
        out_of_range=out_of_range, future=future, after_pub=after_pub,
        ok_date=ok_date & ~future & ~after_pub,
        pint_unit=lookup(col("q_unit"), pint_of, "", pl.String),
        unit_kind=lookup(col("q_unit"), kind_of, "", pl.String),
        q_factor=lookup(col("q_unit"), q_factor, None, pl.Float64),
        per_pint=lookup(col("per_unit"), pint_of, "", pl.String),
        per_kind=lookup(col("per_unit"), kind_of, "", pl.String),
        per_mass_factor=lookup(col("per_unit"), per_factor_of, None, pl.Float64),
        word_currencies=lookup(col("word").str.to_lowercase(), markers, None, pl.String),
        prefix_currencies=lookup(col("prefix").str.to_lowercase(), markers, None, pl.String),
        has_q=~empty("quantity") & ~col("long.quantity"),
        has_v=~empty("value") & ~col("long.value"),
        has_s=~empty("usd_stated") & ~col("long.usd_stated"),
        has_r=~empty("stated_rate") & ~col("long.stated_rate"),
        stated_rate_n=col("rate_text").str.replace_all(",", "", literal=True).cast(pl.Float64, strict=False),
    )
    # Layer 3: the year used to convert, and the market rate's inputs
    year = pl.when(col("ok_date")).then(col("date.year"))
    pub_year = pl.when(col("pub_ok")).then(col("pub.year"))
    # the date a won amount belongs to: the event date, or the publication date when the event is undated (KPW rows only)
    kpw_dated = is_kpw & (has_date & col("ok_date") | ~has_date)
    start = pl.when(kpw_dated).then(pl.when(has_date).then(col("date.start")).otherwise(col("pub.start")))
    end = pl.when(kpw_dated).then(pl.when(has_date).then(col("date.end")).otherwise(col("pub.start")))
    precision = pl.when(has_date).then(col("date.precision")).otherwise(lit("year"))
    lf = lf.with_columns(
        year=year.cast(pl.Int64),
        fx_year0=pl.when(has_date).then(year).otherwise(pub_year).cast(pl.Int64),
        q_ok=col("has_q") & col("q.error").is_null(),
        v_ok=col("has_v") & col("v.error").is_null(),
        s_ok=col("has_s") & col("s.error").is_null(),
        is_mass=col("has_q") & col("q.error").is_null() & (col("unit_kind") == "mass"),
        is_count=col("has_q") & col("q.error").is_null() & (col("unit_kind") == "count"),
        per_factor=pl.when(col("v.per").is_not_null())
        .then(pl.when(col("per_kind") == "mass").then(col("per_mass_factor")).fill_null(1.0)).otherwise(lit(1.0)),
        m_start=start, m_end=end,
        m_month=pl.when(precision.is_in(["month", "day"])).then(start.dt.strftime("%Y-%m")),
        m_year_text=start.dt.year().cast(pl.String),
    )
    # Layer 4: official and market rates
    if ref.kpw is None:
        kpw = pl.DataFrame(schema={"period": pl.String, "kpw_per_usd": pl.Float64})
    else:
        kpw = ref.kpw.filter(col("kpw_per_usd").is_not_null()).select("period", "kpw_per_usd")
    kpw_rate = dict(kpw.iter_rows())
    kpw_new = {p: p[:7] >= "2009-12" for p in kpw_rate}  # a period's won: new from 2009-12 on; 2009 and 2009-11 are old won
    straddles = (col("m_start") < REDENOMINATION) & (col("m_end") >= REDENOMINATION)
    new_won = col("m_start") >= REDENOMINATION
    month_rate = lookup(col("m_month"), kpw_rate, None, pl.Float64)
    year_rate = lookup(col("m_year_text"), kpw_rate, None, pl.Float64)
    lf = (lf.with_columns(
        amount=col("v.point") / col("per_factor"),
        amount_low=col("v.low") / col("per_factor"),
        amount_high=col("v.high") / col("per_factor"),
        month_ok=month_rate.is_not_null() & ~straddles & (lookup(col("m_month"), kpw_new, None, pl.Boolean) == new_won),
        year_ok=year_rate.is_not_null() & ~straddles & (lookup(col("m_year_text"), kpw_new, None, pl.Boolean) == new_won),
        month_rate=month_rate, year_rate=year_rate,
        wanted=pl.coalesce(col("m_month"), col("m_year_text"), lit("an undated figure")),
    ).join(ref.fx.lazy().select(col("currency").alias("fx.currency"), col("year").alias("fx.year"), "lcu_per_usd"),
           left_on=["currency", "fx_year0"], right_on=["fx.currency", "fx.year"], how="left", maintain_order="left"))
    market_rate = (pl.when(col("country") != MARKET_COUNTRY).then(None).when(col("month_ok")).then(col("month_rate"))
                   .when(col("year_ok")).then(col("year_rate")))
    lf = lf.with_columns(
        official=pl.when(~((col("currency") == BASE_CURRENCY) & col("fx_year0").is_not_null()))
        .then(col("lcu_per_usd")).otherwise(lit(1.0)),
        market_rate=market_rate,
        market_year=col("m_start").dt.year().cast(pl.Int64),
        market_basis=pl.when(col("month_ok")).then(lit("market_month"))
        .when(col("year_ok") & has_date).then(lit("market_year"))
        .when(col("year_ok")).then(lit("market_year_published")).otherwise(lit("")),
        basis=pl.when(col("year").is_not_null()).then(lit("event"))
        .when(col("fx_year0").is_not_null()).then(lit("published")).otherwise(lit("")),
        need_rate=col("v_ok") & col("known_cur") & col("fx_year0").is_not_null(),
    )
    # Layer 5: the rate used (KPW: the market rate, inside North Korea only), its year and CPI
    by_market = is_kpw & col("market_rate").is_not_null()
    base_cpi = float(ref.cpi.filter(col("year") == ref.base_year)["cpi_u_annual_avg"][0])
    cpi_of = dict(ref.cpi.select(col("year").cast(pl.Int64), "cpi_u_annual_avg").iter_rows())
    lf = lf.with_columns(
        rate=pl.when(~is_kpw).then(col("official")).otherwise(col("market_rate")),
        fx_year=pl.when(~by_market).then(col("fx_year0")).otherwise(col("market_year")),
        basis=pl.when(~by_market).then(col("basis")).otherwise(col("market_basis")),
        q_kg=col("q.point") * col("q_factor"),
        q_kg_low=col("q.low") * col("q_factor"),
        q_kg_high=col("q.high") * col("q_factor"),
        not_usd=col("s_ok") & ~col("s_cur").str.split(" ").list.contains(lit(BASE_CURRENCY)).fill_null(False),
        value_count=pl.when(col("s.per").is_null()).then(col("v.per_count").fill_null(1.0)).otherwise(lit(1.0)),
    )
    lf = lf.with_columns(
        cpi=lookup(col("fx_year"), cpi_of, None, pl.Float64),
        usd=col("amount") / col("rate"),
        usd_low=col("amount_low") / col("rate"),
        usd_high=col("amount_high") / col("rate"),
        stated_usd=pl.when(col("s_ok") & ~col("not_usd")).then(col("s.point") / col("value_count") / col("per_factor")),
    )
    deflator = base_cpi / col("cpi")
    implied = pl.when((col("kind") == "seizure") & col("is_mass") & col("v_ok")).then(col("usd") / col("q_kg"))
    lf = lf.with_columns(
        usd_const=col("usd") * deflator,
        deflator=deflator,
        implied=implied,
        reference_usd=col("stated_usd").fill_null(col("amount") / pl.when(col("stated_rate_n") > 0).then(col("stated_rate_n"))),
    ).with_columns(check_pct=(col("usd") / col("reference_usd") - 1) * 100)

    # The checks, in the order their problems are listed within a row and column
    for name, limit in limits.items():
        flag(col(f"long.{name}"), name, lambda v, j, name=name, limit=limit: f"is {len(v[name][j]):,} characters long (limit {limit:,})",
             needs=[name])
    for name in ("report_id", "incident_id", "source_id", "kind", "country", "drug", "nk_link"):
        flag(empty(name), name, "is empty")
    for name in REPORT_COLUMNS:
        flag(col(name).str.contains("\x00", literal=True), name, "holds a NUL character (a binary file, or a broken export?)")
    for name in ID_COLUMNS:
        flag(~empty(name) & ~col(f"long.{name}") & ~col(name).str.contains(ID_PATTERN), name,
             lambda v, j, name=name: f"{v[name][j]!r} is not an identifier (letters, digits, '.', '_', '-'; "
             "starting with a letter or digit; at most 80 characters)", needs=[name])
    flag(~empty("report_id") & col("repeated"), "report_id",
         lambda v, j: f"duplicate report_id {v['report_id'][j]!r} (first used on line {first_line[v['report_id'][j]]})",
         needs=["report_id"])
    flag(col("src.found").is_null() & ~empty("source_id"), "source_id",
         lambda v, j: f"source_id {v['source_id'][j]!r} is not in sources.csv", needs=["source_id"])
    if known is not None:
        flag(col("incident_row").is_null() & ~empty("incident_id"), "incident_id",
             lambda v, j: f"incident_id {v['incident_id'][j]!r} is not in incidents.csv", needs=["incident_id"])
    flag(~col("kind").is_in(list(ref.kinds)) & ~empty("kind"), "kind",
         lambda v, j: f"kind must be one of {', '.join(ref.kinds)}, not {v['kind'][j]!r}", needs=["kind"])
    flag(~col("nk_link").is_in(list(ref.nk_links)) & ~empty("nk_link"), "nk_link",
         lambda v, j: f"unknown nk_link {v['nk_link'][j]!r} (see data/reference/nk_links.csv)", needs=["nk_link"])

    # Dates
    flag(has_date & ~col("long.event_date") & col("date.invalid"), "event_date",
         lambda v, j: f"not a valid date {v['event_date'][j]!r} (use YYYY, YYYY-MM or YYYY-MM-DD)", needs=["event_date"])
    flag(col("out_of_range"), "event_date", lambda v, j: f"year {v['date.year'][j]} is outside {YEARS[0]}-{YEARS[1]}",
         needs=["date.year"])
    flag(col("future"), "event_date", lambda v, j: f"date {v['event_date'][j]!r} is in the future", needs=["event_date"])
    flag(col("after_pub"), "event_date",
         lambda v, j: f"date {v['event_date'][j]!r} is after the source's publication date {v['published'][j]}",
         needs=["event_date", "published"])

    # Where, drug
    flag(~col("country_ok") & ~empty("country"), "country",
         lambda v, j: f"unknown country code {v['country'][j]!r} (use ISO 3166-1 alpha-2, e.g. KR)", needs=["country"])
    flag(col("lat").is_null() & col("country_ok"), "place",
         lambda v, j: f"place {v['place'][j]!r} in {v['country'][j]} is not in data/reference/places.csv", needs=["place", "country"])
    flag(col("drug_name").is_null() & ~empty("drug"), "drug",
         lambda v, j: f"unknown drug {v['drug'][j]!r} (add it to data/reference/drugs.csv)", needs=["drug"])

    # Quantity
    def mass(v, j, why):
        return f"cannot read {v['quantity'][j]!r} as a mass: {why}"

    q_ok, q_unit = col("q_ok"), col("q_unit")
    bare_ton = q_ok & q_unit.is_in(["ton", "tons"])
    no_unit = q_ok & (q_unit == "")
    flag(col("has_q") & col("q.error").is_not_null(), "quantity", lambda v, j: mass(v, j, v["q.error"][j]),
         needs=["quantity", "q.error"])
    flag(bare_ton, "quantity", lambda v, j: mass(v, j, "a bare 'tons' may be metric, short (US) or long; write "
                                                   "'tons [metric]', 'tons [short]' or 'tons [long]'"), needs=["quantity"])
    flag(no_unit & col("q.marker").is_null(), "quantity", lambda v, j: mass(v, j, "no unit"), needs=["quantity"])
    flag(q_ok & col("q.marker").is_not_null(), "quantity", lambda v, j: mass(v, j, "it is money"), needs=["quantity"])
    flag(q_ok & (col("pint_unit") == "") & ~bare_ton & ~no_unit & col("q.marker").is_null(), "quantity",
         lambda v, j: mass(v, j, f"unknown unit {v['q.unit'][j]!r}"), needs=["quantity", "q.unit"])
    flag(q_ok & col("q.per").is_not_null(), "quantity", lambda v, j: mass(v, j, "a quantity is not quoted per unit"),
         needs=["quantity"])
    flag(col("has_q") & col("is_price"), "quantity", "price rows take no quantity: the unit goes in the value ('per kilo')")

    # Value
    v_ok, is_price, per = col("v_ok"), col("is_price"), col("v.per")
    flag(col("has_v") & col("v.error").is_not_null(), "value",
         lambda v, j: f"cannot read {v['value'][j]!r} as money: {v['v.error'][j]}", needs=["value", "v.error"])
    flag(~empty("value") & empty("currency"), "currency", "is empty but the row has a value")
    flag(~empty("currency") & empty("value"), "currency", "is set but the row has no value")
    flag(~empty("currency") & ~col("known_cur"), "currency",
         lambda v, j: f"unknown currency {v['currency'][j]!r} (use an ISO 4217 code, e.g. KRW)", needs=["currency"])
    flag(v_ok & (col("word") != "") & col("word_currencies").is_null(), "value",
         lambda v, j: f"cannot read {v['value'][j]!r} as money: unknown currency word {v['word'][j]!r}", needs=["value", "word"])
    for name, allowed, text in (("symbol", "prefix_currencies", "prefix"), ("word", "word_currencies", "word")):
        flag(v_ok & col("known_cur") & col(allowed).is_not_null()
             & ~col(allowed).str.split(" ").list.contains(col("currency")).fill_null(False), "currency",
             lambda v, j, allowed=allowed, text=text, name=name: (
                 f"{v['currency'][j]} contradicts the currency {name} {v[text][j]!r} in the value "
                 f"(it means {' or '.join(v[allowed][j].split())})"), needs=["currency", allowed, text])
    flag(v_ok & is_price & per.is_null(), "value",
         lambda v, j: f"a price needs a unit it is quoted per ('per kilo', 'a gram'): {v['value'][j]!r}", needs=["value"])
    flag(v_ok & ~is_price & per.is_not_null() & ~empty("kind"), "value",
         lambda v, j: f"{v['value'][j]!r} is a price per unit; use kind 'price'", needs=["value"])
    flag(v_ok & per.is_not_null() & (col("per_kind") == ""), "value",
         lambda v, j: f"cannot read {v['value'][j]!r} as a price per mass: unknown unit {v['v.per'][j]!r}", needs=["value", "v.per"])
    flag(v_ok & per.is_not_null() & (col("per_kind") == "count"), "value",
         lambda v, j: f"cannot read {v['value'][j]!r} as a price per mass: {v['v.per'][j]!r} is counted, not weighed",
         needs=["value", "v.per"])
    flag(is_price & empty("value"), "value", "a price row needs a value")
    flag((col("kind") == "cash") & empty("value"), "value", "a cash row needs a value")

    # Exchange rates and CPI
    need_rate = col("need_rate")
    flag(col("has_v") & col("fx_year0").is_null() & ~has_date, "event_date",
         "no year to convert the value: the event date and the source's publication date are both empty")
    flag(need_rate & is_kpw & (col("country") != MARKET_COUNTRY), "currency",
         f"no exchange rate for {MARKET_CURRENCY} outside North Korea: it is converted only for figures inside "
         f"North Korea (country {MARKET_COUNTRY}), with the market rate")
    flag(need_rate & is_kpw & (col("country") == MARKET_COUNTRY) & col("market_rate").is_null(), "currency",
         lambda v, j: f"no documented market rate for KPW in {v['wanted'][j]}", needs=["wanted"])
    flag(need_rate & ~is_kpw & col("rate").is_null(), "currency",
         lambda v, j: f"no exchange rate for {v['currency'][j]} in {v['fx_year'][j]} ({_coverage(ref, v['currency'][j])})",
         needs=["currency", "fx_year"])
    flag(need_rate & col("rate").is_not_null() & col("cpi").is_null(), "event_date",
         lambda v, j: f"no US CPI for {v['fx_year'][j]} (data/reference/us_cpi_u_annual.csv covers "
                      f"{ref.cpi['year'].min()}-{ref.cpi['year'].max()})", needs=["fx_year"])

    # The source's own USD figure and rate
    flag(col("has_s") & col("s.error").is_not_null(), "usd_stated",
         lambda v, j: f"cannot read {v['usd_stated'][j]!r} as money: {v['s.error'][j]}", needs=["usd_stated", "s.error"])
    flag(col("not_usd"), "usd_stated", lambda v, j: f"{v['usd_stated'][j]!r} is not in US dollars", needs=["usd_stated"])
    flag(col("has_r") & col("rate_text").is_null(), "stated_rate",
         lambda v, j: f"cannot read {v['stated_rate'][j]!r} as an exchange rate (write it like 'US$1=W1,117')",
         needs=["stated_rate"])
    flag(col("has_r") & (col("stated_rate_n") <= 0).fill_null(False), "stated_rate", "the rate must be positive")
    flag((col("check_pct").abs() > USD_CHECK_TOLERANCE_PCT).fill_null(False), "usd_stated", lambda v, j: (
        f"our conversion gives US${v['usd'][j]:,.0f} but the source says US${v['reference_usd'][j]:,.0f} "
        f"({v['check_pct'][j]:+.1f}%, tolerance {USD_CHECK_TOLERANCE_PCT:g}%)"), severity="warning",
        needs=["usd", "reference_usd", "check_pct"])

    # Arrests; figures too small for the output's precision (1 mg, 1 US cent) would print as 0
    bad_arrests = ~empty("arrests") & ~col("whole")
    flag(bad_arrests, "arrests", lambda v, j: f"not a whole number of people (0 to 999,999): {v['arrests'][j]!r}",
         needs=["arrests"])
    flag(col("is_mass") & (col("q_kg").round(6) == 0), "quantity",
         lambda v, j: f"{v['quantity'][j]!r} is less than 1 mg, below the precision of quantity_kg", needs=["quantity"])
    flag(v_ok & col("rate").is_not_null() & ((col("usd").round(2) == 0).fill_null(False)
                                               | (col("implied").round(2) == 0).fill_null(False)), "value",
         lambda v, j: f"{v['value'][j]!r} is less than one US cent (per kg), below the precision of the dollar columns",
         needs=["value"])

    def where(expr: pl.Expr, mask: pl.Expr) -> pl.Expr:
        return pl.when(mask).then(expr)

    is_mass, is_count = col("is_mass"), col("is_count")
    price_usd = where(col("usd"), is_price)
    output = {
        "report_id": col("report_id"),
        "incident_id": col("incident_id"),
        "kind": col("kind"),
        "date": pl.when(col("ok_date")).then(col("event_date")).otherwise(lit("")),
        "date_precision": pl.when(col("ok_date")).then(col("date.precision")).otherwise(lit("none")),
        "year": col("year"),
        "country": col("country"),
        "place": col("place"),
        "lat": col("lat"),
        "lon": col("lon"),
        "location_precision": col("location_precision"),
        "drug": col("drug_name"),
        "drug_reported": col("drug"),
        "quantity_reported": col("quantity"),
        "quantity_kg": where(col("q_kg"), is_mass).round(6),
        "quantity_kg_low": where(col("q_kg_low"), is_mass).round(6),
        "quantity_kg_high": where(col("q_kg_high"), is_mass).round(6),
        "quantity_count": where(col("q.point"), is_count),
        "quantity_count_unit": where(col("pint_unit"), is_count),
        "value_reported": col("value"),
        "currency": col("currency"),
        "value_amount": where(col("amount"), v_ok).round(2),
        "value_amount_low": where(col("amount_low"), v_ok).round(2),
        "value_amount_high": where(col("amount_high"), v_ok).round(2),
        "value_usd": where(col("usd"), v_ok).round(2),
        "value_usd_low": where(col("usd_low"), v_ok).round(2),
        "value_usd_high": where(col("usd_high"), v_ok).round(2),
        "value_usd_const": where(col("usd_const"), v_ok).round(2),
        "fx_lcu_per_usd": where(col("rate"), v_ok),
        "fx_year": where(col("fx_year"), v_ok),
        "fx_year_basis": pl.when(v_ok).then(col("basis")).otherwise(lit("")),
        "price_usd_per_kg": price_usd.round(2),
        "price_usd_per_kg_const": (price_usd * col("deflator")).round(2),
        "implied_usd_per_kg": col("implied").round(2),
        "implied_usd_per_kg_const": (col("implied") * col("deflator")).round(2),
        "usd_stated": col("usd_stated"),
        "usd_stated_amount": where(col("s.point"), col("s_ok")),
        "stated_lcu_per_usd": col("stated_rate_n"),
        "usd_check_pct": col("check_pct").round(2),
        "approximate": col("q.approximate").fill_null(False) | col("v.approximate").fill_null(False),
        "nk_link": col("nk_link"),
        "arrests": where(col("arrests"), col("whole") & ~bad_arrests).cast(pl.Int64),
        "source_id": col("source_id"),
        "source_type": col("src.source_type") if "source_type" in source_cols else lit(""),
        "source_outlet": col("src.outlet"),
        "source_via": col("src.via"),
        "source_title": col("src.title"),
        "source_date": col("published"),
        "source_url": col("src.url"),
        "notes": col("notes"),
    }
    names = [name for name in NAMES if name not in INCIDENT_DERIVED]
    typed = []
    for name in names:
        expr = output[name].cast(POLARS_TYPES[name])
        typed.append((expr.fill_null("") if POLARS_TYPES[name] == pl.String else expr).alias(name))
    needs = sorted({need for check in checks.items for need in check.needs})
    frame = lf.select(*typed, *checks.masks(), *(col(need).alias(f"need.{need}") for need in needs)).collect(engine="in-memory")
    out = frame.select(names)

    # A number that overflowed (or a rate of zero) is a row problem, never an output cell
    numeric = [c.name for c in COLUMNS if c.type == "number" and c.name not in INCIDENT_DERIVED]
    for column, group in (("quantity", [x for x in numeric if x.startswith("quantity")]),
                          ("value", [x for x in numeric if not x.startswith("quantity")])):
        infinite = out.select(pl.any_horizontal(col(x).is_infinite().fill_null(False) for x in group)).to_series()
        if infinite.any():
            frame = frame.with_columns(infinite.alias(checks.mask_name(len(checks.items))))
            flag(None, column, lambda v, j, group=group: "a figure is too large to compute ({} would be infinite)".format(
                ", ".join(x for x in group if v[f"out.{x}"][j] is not None and math.isinf(v[f"out.{x}"][j]))))
            out = out.with_columns(pl.when(col(x).is_infinite()).then(None).otherwise(col(x)).alias(x) for x in group)

    values = frame.select(*(col(f"need.{need}").alias(need) for need in needs), *(col(x).alias(f"out.{x}") for x in numeric))
    problems, rejected = checks.problems(frame, values, display, line)
    return Result(out, problems, rejected)


def _repeated(ids: pl.Series) -> pl.Series:
    """True for each id already used on an earlier row."""
    if ids.is_sorted():  # (as written by hand or by a tool) a repeat follows the id it repeats: no hashing
        return (ids == ids.shift(1)).fill_null(False)
    return ~ids.is_first_distinct()


def incident_rows(ids: pl.Series, incident_ids: pl.Series) -> pl.Series:
    """`incident_row`: the row in `incident_ids` (unique) of each of `ids`, null for an id not there."""
    table = pl.DataFrame({"id": incident_ids}).with_row_index("incident_row")
    rows = pl.DataFrame({"id": ids}).join(table, on="id", how="left", maintain_order="left")["incident_row"]
    if len(rows) != len(ids):
        raise ValueError("incident ids must be unique (etl.incidents.check_incidents says which are not)")
    return rows




class _Checks:
    """The row checks of `normalise`: each a boolean expression, a column and a message.

    A message is a text, or a function of the problem rows' values (`v[name][j]`,
    `name` one of the check's `needs`) and the row's position `j` among them.
    """

    @dataclass
    class Check:
        mask: pl.Expr | None
        column: str
        message: str | Callable[[dict, int], str]
        severity: str
        needs: tuple[str, ...]

    def __init__(self):
        self.items: list[_Checks.Check] = []

    def add(self, mask: pl.Expr | None, column: str, message, severity: str = "error", needs=()) -> None:
        self.items.append(self.Check(mask, column, message, severity, tuple(needs)))

    @staticmethod
    def mask_name(i: int) -> str:
        return f"problem.{i}"

    def masks(self) -> list[pl.Expr]:
        return [c.mask.fill_null(False).alias(self.mask_name(i)) for i, c in enumerate(self.items)]

    def problems(self, frame: pl.DataFrame, values: pl.DataFrame, display: str,
                 line: Callable[[int], int]) -> tuple[list[Problem], pl.Series]:
        """Every problem, by row then column (REPORT_COLUMNS order) then check; the rows with an error."""
        names = [self.mask_name(i) for i in range(len(self.items))]
        errors = [name for name, c in zip(names, self.items) if c.severity == "error"]
        flagged = frame.select(pl.any_horizontal(names).alias("any"), pl.any_horizontal(errors).alias("rejected"))
        rejected = flagged["rejected"]
        rows = flagged["any"].arg_true()
        if rows.is_empty():
            return [], rejected
        masks = frame.select(names)[rows]
        v = values[rows].to_dict(as_series=False)
        rows = rows.to_list()
        found = []
        for i, (name, c) in enumerate(zip(names, self.items)):
            order = REPORT_COLUMNS.index(c.column) if c.column in REPORT_COLUMNS else 99
            found += [(rows[j], order, i, j) for j in masks[name].arg_true().to_list()]
        found.sort()
        return [Problem(display, line(row), self.items[i].column,
                        self.items[i].message(v, j) if callable(self.items[i].message) else self.items[i].message,
                        self.items[i].severity) for row, _, i, j in found], rejected


def _polars(frame: pl.DataFrame | pd.DataFrame) -> pl.DataFrame:
    """Text columns as Polars (a pandas frame of text, as the drafter's tests hand in, is converted)."""
    if isinstance(frame, pd.DataFrame):
        frame = pl.DataFrame({str(c): pl.Series(str(c), frame[c].astype("string").fillna("").tolist(), dtype=pl.String)
                              for c in frame.columns})
    return frame


def _left_join(keys: pl.DataFrame, table: pl.DataFrame, on) -> pl.DataFrame:
    """Columns of `table` for every row of `keys`, in the order of `keys` (missing keys give nulls)."""
    return keys.join(table, on=on, how="left", maintain_order="left", nulls_equal=False)


def validate_sources(sources: pl.DataFrame, ref: Reference, display: str = "sources.csv",
                     lines: list[int] | None = None) -> list[Problem]:
    """Check sources.csv: unique ids of the declared pattern, ISO publication dates, http(s) URLs."""
    c = _Collector(sources.height, display, lines)
    ids = sources["source_id"]
    c.flag(ids == "", "source_id", "is empty")
    c.flag(_repeated(ids) & (ids != ""), "source_id", lambda i: f"duplicate source_id {ids[i]!r}")
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
    return _left_join(keys, _date_table(keys["text"].unique(maintain_order=True)), "text")


def _date_table(distinct: pl.Series) -> pl.DataFrame:
    """`text` (each of `distinct`, once) and its start, end, year, precision and validity."""
    rows = [(t, *_one_date(t)) for t in distinct.to_list()]
    return pl.DataFrame(rows, schema={"text": pl.String, "start": pl.Date, "end": pl.Date, "year": pl.Int64,
                                      "precision": pl.String, "invalid": pl.Boolean}, orient="row")


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


def _coverage(ref: Reference, currency: str) -> str:
    years = ref.fx.filter(pl.col("currency") == currency)["year"]
    if years.is_empty():
        return f"data/reference/fx_annual_lcu_per_usd.csv has no {currency} rates"
    return f"data/reference/fx_annual_lcu_per_usd.csv covers {currency} {years.min()}-{years.max()}"
