"""Reference tables and vocabularies: exchange rates, CPI, the KPW market rate,
unit spellings, currency markers, drug synonyms, places, and the code lists
(kinds, source types, incident scopes, North Korea links).

Each table lives in `data/reference/` with its source columns; this module is
the one place that reads them, so no vocabulary is a literal elsewhere in the
build. Loading checks each table's shape and values and fails loudly.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from etl import units
from etl.csvio import CsvTable, read_csv
from etl.errors import InputProblems, Problem

FILES = {
    "fx": ("fx_annual_lcu_per_usd.csv", ["currency", "year", "lcu_per_usd", "source", "source_url"]),
    "cpi": ("us_cpi_u_annual.csv", ["year", "cpi_u_annual_avg", "source", "source_url", "n_months", "note"]),
    "units": ("units.csv", ["spelling", "pint_unit", "kind", "note"]),
    "markers": ("currency_markers.csv", ["marker", "currencies", "note"]),
    "drugs": ("drugs.csv", ["synonym", "drug", "note"]),
    "places": ("places.csv", ["place", "country", "lat", "lon", "precision", "source"]),
    "nk_links": ("nk_links.csv", ["code", "meaning"]),
    "source_types": ("source_types.csv", ["code", "rank", "meaning"]),
    "kinds": ("kinds.csv", ["code", "meaning"]),
    "scopes": ("incident_scopes.csv", ["code", "meaning"]),
}
# Optional: without it every KPW amount is a row problem (never the official rate, never a factor of 1).
KPW_FILE = ("kpw_market_rate.csv", ["period", "kpw_per_usd", "kpw_per_cny", "source", "source_url", "note"])

BASE_CURRENCY = "USD"  # rates are units of currency per US dollar, so USD is 1 by definition
MARKET_CURRENCY = "KPW"  # converted only inside North Korea, with the market rate (kpw_market_rate.csv)
MARKET_COUNTRY = "KP"
PERIOD_FORM = re.compile(r"^[0-9]{4}(-(0[1-9]|1[0-2]))?$")


@dataclass
class Reference:
    directory: Path
    fx: pl.DataFrame  # currency, year (Int64), lcu_per_usd (Float64), source, source_url
    cpi: pl.DataFrame  # year (Int64), cpi_u_annual_avg (Float64), source, source_url, n_months
    base_year: int
    units: dict[str, tuple[str, str]]  # lower-case spelling -> (pint unit, "mass" | "count")
    markers: dict[str, frozenset[str]]  # lower-case marker -> currencies it can mean
    drugs: dict[str, str]  # lower-case synonym -> drug
    places: dict[tuple[str, str], tuple[float, float, str]]  # (country, place) -> (lat, lon, precision)
    nk_links: dict[str, str]  # code -> meaning
    source_types: dict[str, int]  # code -> rank in the representative rule (1 = strongest)
    kinds: tuple[str, ...]
    scopes: tuple[str, ...]
    kpw: pl.DataFrame | None = None  # period, kpw_per_usd (Float64), source, source_url; None when the file is absent
    paths: dict[str, Path] = field(default_factory=dict)

    @property
    def fx_sources(self) -> pl.DataFrame:
        return (self.fx.group_by(["currency", "source", "source_url"], maintain_order=True)
                .agg(first_year=pl.col("year").min(), last_year=pl.col("year").max())
                .sort(["currency", "source", "source_url"]))


def load_reference(directory: Path) -> Reference:
    """Load every reference table from `directory`; raise `InputProblems` on any fault."""
    problems: list[Problem] = []
    tables: dict[str, CsvTable] = {}
    files = dict(FILES)
    if (directory / KPW_FILE[0]).exists():
        files["kpw"] = KPW_FILE
    for key, (name, columns) in files.items():
        path = directory / name
        table, file_problems = read_csv(path, str(path), columns)
        problems += file_problems
        if table is not None:
            tables[key] = table
    if problems:
        raise InputProblems(problems)

    fx = _numeric(tables["fx"], {"year": pl.Int64, "lcu_per_usd": pl.Float64}, problems)
    cpi = _numeric(tables["cpi"], {"year": pl.Int64, "cpi_u_annual_avg": pl.Float64, "n_months": pl.Int64}, problems)
    places_frame = _numeric(tables["places"], {"lat": pl.Float64, "lon": pl.Float64}, problems)
    ranks = _numeric(tables["source_types"], {"rank": pl.Int64}, problems)
    kpw = None
    if "kpw" in tables:
        kpw_table = tables["kpw"]
        kpw = _numeric(kpw_table, {"kpw_per_usd": pl.Float64}, problems, allow_empty=("kpw_per_usd",))
        _positive(kpw_table, kpw, "kpw_per_usd", problems)
        bad_period = [i for i, p in enumerate(kpw["period"].to_list()) if not PERIOD_FORM.match(p)]
        problems += [_at(kpw_table, i, "period", f"not a period {kpw['period'][i]!r} (use YYYY or YYYY-MM)") for i in bad_period]
        problems += _duplicates(kpw_table, kpw, ["period"], "period", "second market rate for {period}")
    if problems:
        raise InputProblems(problems)

    problems += _duplicates(tables["fx"], fx, ["currency", "year"], "year", "second rate for {currency} {year}")
    _positive(tables["fx"], fx, "lcu_per_usd", problems)
    problems += [_at(tables["fx"], i, "currency", f"{MARKET_CURRENCY} has no official rate here: it is converted with "
                     f"the market rate of {KPW_FILE[0]}") for i in (fx["currency"] == MARKET_CURRENCY).arg_true().to_list()]
    full_years = cpi.filter(pl.col("n_months") == 12)["year"]
    if full_years.is_empty():
        problems.append(Problem(tables["cpi"].display, 0, "-", "no full year (n_months = 12) to use as the constant-dollar base"))

    unit_map: dict[str, tuple[str, str]] = {}
    uf = tables["units"]
    for row, (spelling, pint_unit, kind) in enumerate(uf.frame.select("spelling", "pint_unit", "kind").iter_rows()):
        problem = _check_unit(pint_unit, kind)
        if problem:
            problems.append(_at(uf, row, "pint_unit", problem))
        unit_map[spelling.lower()] = (pint_unit, kind)

    vocabularies = {}
    for key in ("nk_links", "source_types", "kinds", "scopes"):
        table = tables[key]
        problems += _duplicates(table, table.frame, ["code"], "code", "code {code!r} is listed twice")
        vocabularies[key] = table.frame["code"].to_list()

    # a spelling or place listed twice would let the later row silently win: an error instead
    for key, columns, shown in (("units", ["spelling"], "spelling"), ("markers", ["marker"], "marker"),
                                ("drugs", ["synonym"], "synonym"), ("places", ["place", "country"], "place")):
        table = tables[key]
        keyed = table.frame.with_columns(pl.col(c).str.to_lowercase() for c in columns if c != "country")
        problems += _duplicates(table, keyed, columns, shown, f"{{{shown}!r}} is listed twice (letter case aside)")
    markers = {m.lower(): frozenset(c.split()) for m, c in tables["markers"].frame.select("marker", "currencies").iter_rows()}
    drugs = {s.lower(): d for s, d in tables["drugs"].frame.select("synonym", "drug").iter_rows()}
    places = {(c, p): (lat, lon, prec) for p, c, lat, lon, prec in
              places_frame.select("place", "country", "lat", "lon", "precision").iter_rows()}
    if problems:
        raise InputProblems(problems)
    return Reference(
        directory=directory,
        fx=fx.select("currency", "year", "lcu_per_usd", "source", "source_url"),
        cpi=cpi,
        base_year=int(full_years.max()),
        units=unit_map,
        markers=markers,
        drugs=drugs,
        places=places,
        nk_links=dict(tables["nk_links"].frame.select("code", "meaning").iter_rows()),
        source_types=dict(ranks.select("code", "rank").iter_rows()),
        kinds=tuple(vocabularies["kinds"]),
        scopes=tuple(vocabularies["scopes"]),
        kpw=kpw,
        paths={key: directory / name for key, (name, _) in files.items()},
    )


def _at(table: CsvTable, row: int, column: str, message: str) -> Problem:
    return Problem(table.display, int(table.lines[row]), column, message)


def _duplicates(table: CsvTable, frame: pl.DataFrame, keys: list[str], column: str, message: str) -> list[Problem]:
    dup = frame.select(pl.struct(keys).is_duplicated() & ~pl.struct(keys).is_first_distinct()).to_series()
    return [_at(table, i, column, message.format(**frame.row(i, named=True))) for i in dup.arg_true().to_list()]


def _positive(table: CsvTable, frame: pl.DataFrame, column: str, problems: list[Problem]) -> None:
    bad = (frame[column] <= 0).fill_null(False)
    problems += [_at(table, i, column, "rate must be positive") for i in bad.arg_true().to_list()]


def _check_unit(pint_unit: str, kind: str) -> str | None:
    try:
        if kind == "mass":
            units.kg_factor(pint_unit)
        elif kind == "count":
            if not units.is_counted(pint_unit):
                return f"{pint_unit!r} is not a counted unit in etl/units.txt"
        else:
            return f"kind must be mass or count, not {kind!r}"
    except Exception as err:  # pint raises several types; each becomes one problem line
        return f"pint cannot use {pint_unit!r} as a {kind}: {err}"
    return None


def _numeric(table: CsvTable, columns: dict[str, type], problems: list[Problem], allow_empty=()) -> pl.DataFrame:
    """The table with `columns` as numbers; every cell that is not one (or not finite) is a problem."""
    frame = table.frame
    for col, dtype in columns.items():
        text = frame[col]
        values = text.cast(pl.Float64, strict=False)
        bad = values.is_null() | ~values.is_finite().fill_null(False)
        if dtype == pl.Int64:
            bad = bad | (values.round(0) != values).fill_null(False)
        if col in allow_empty:
            bad = bad & (text != "")
        problems += [_at(table, i, col, f"not a number: {text[i]!r}") for i in bad.arg_true().to_list()]
        frame = frame.with_columns(values.cast(dtype, strict=False).alias(col))
    return frame
