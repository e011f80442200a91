"""Reference tables: exchange rates, CPI, unit spellings, currency markers,
drug synonyms, places and the North Korea link vocabulary.

Each table lives in `data/reference/` with its source columns; nothing here is
a literal in code. Loading checks each table's shape and fails loudly.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from etl import units
from etl.csvio import CsvFile
from etl.csvio import read_csv_pandas as read_csv
from etl.errors import InputProblems, Problem

FILES = {
    "fx": ("fx_annual_lcu_per_usd.csv", ["currency", "year", "lcu_per_usd", "source", "source_url"]),
    "cpi": ("us_cpi_u_annual.csv", ["year", "cpi_u_annual_avg", "source", "source_url", "n_months", "note"]),
    "units": ("units.csv", ["spelling", "pint_unit", "kind", "note"]),
    "markers": ("currency_markers.csv", ["marker", "currencies", "note"]),
    "drugs": ("drugs.csv", ["synonym", "drug", "note"]),
    "places": ("places.csv", ["place", "country", "lat", "lon", "precision", "source"]),
    "nk_links": ("nk_links.csv", ["code", "meaning"]),
}

BASE_CURRENCY = "USD"  # rates are units of currency per US dollar, so USD is 1 by definition


@dataclass
class Reference:
    directory: Path
    fx: pd.DataFrame
    cpi: pd.DataFrame
    base_year: int
    units: dict[str, tuple[str, str]]  # lower-case spelling -> (pint unit, "mass" | "count")
    markers: dict[str, frozenset[str]]  # lower-case marker -> currencies it can mean
    drugs: dict[str, str]  # lower-case synonym -> drug
    places: dict[tuple[str, str], tuple[float, float, str]]  # (country, place) -> (lat, lon, precision)
    nk_links: dict[str, str]
    paths: dict[str, Path] = field(default_factory=dict)

    @property
    def fx_sources(self) -> pd.DataFrame:
        return self.fx.groupby(["currency", "source", "source_url"], as_index=False).agg(
            first_year=("year", "min"), last_year=("year", "max")
        )


def load_reference(directory: Path) -> Reference:
    """Load every reference table from `directory`; raise `InputProblems` on any fault."""
    problems: list[Problem] = []
    frames: dict[str, CsvFile] = {}
    for key, (name, columns) in FILES.items():
        path = directory / name
        csv_file, file_problems = read_csv(path, str(path), columns)
        problems += file_problems
        if csv_file is not None:
            frames[key] = csv_file
    if problems:
        raise InputProblems(problems)

    fx = _numeric(frames["fx"], {"year": "int", "lcu_per_usd": "float"}, problems)
    cpi = _numeric(frames["cpi"], {"year": "int", "cpi_u_annual_avg": "float", "n_months": "int"}, problems)
    places_frame = _numeric(frames["places"], {"lat": "float", "lon": "float"}, problems)
    if problems:
        raise InputProblems(problems)

    dup = fx.duplicated(["currency", "year"], keep="first")
    for row in fx.index[dup]:
        problems.append(Problem(frames["fx"].display, frames["fx"].line_of(row), "year", f"second rate for {fx.at[row, 'currency']} {fx.at[row, 'year']}"))
    bad_rate = fx["lcu_per_usd"] <= 0
    for row in fx.index[bad_rate]:
        problems.append(Problem(frames["fx"].display, frames["fx"].line_of(row), "lcu_per_usd", "rate must be positive"))

    full_years = cpi.loc[cpi["n_months"] == 12, "year"]
    if full_years.empty:
        problems.append(Problem(frames["cpi"].display, 0, "-", "no full year (n_months = 12) to use as the constant-dollar base"))

    unit_map: dict[str, tuple[str, str]] = {}
    uf = frames["units"]
    for row, (spelling, pint_unit, kind) in enumerate(uf.frame[["spelling", "pint_unit", "kind"]].itertuples(index=False)):
        problem = _check_unit(pint_unit, kind)
        if problem:
            problems.append(Problem(uf.display, uf.line_of(row), "pint_unit", problem))
        unit_map[spelling.lower()] = (pint_unit, kind)

    markers = {
        m.lower(): frozenset(c.split())
        for m, c in frames["markers"].frame[["marker", "currencies"]].itertuples(index=False)
    }
    drugs = {s.lower(): d for s, d in frames["drugs"].frame[["synonym", "drug"]].itertuples(index=False)}
    places = {
        (c, p): (lat, lon, prec)
        for p, c, lat, lon, prec in places_frame[["place", "country", "lat", "lon", "precision"]].itertuples(index=False)
    }
    nk_links = dict(frames["nk_links"].frame[["code", "meaning"]].itertuples(index=False))
    if problems:
        raise InputProblems(problems)
    return Reference(
        directory=directory,
        fx=fx,
        cpi=cpi,
        base_year=int(full_years.max()),
        units=unit_map,
        markers=markers,
        drugs=drugs,
        places=places,
        nk_links=nk_links,
        paths={key: directory / name for key, (name, _) in FILES.items()},
    )


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


def _numeric(csv_file: CsvFile, columns: dict[str, str], problems: list[Problem]) -> pd.DataFrame:
    frame = csv_file.frame.copy()
    for col, kind in columns.items():
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna() | ((values % 1 != 0) if kind == "int" else False)
        for row in frame.index[bad]:
            problems.append(Problem(csv_file.display, csv_file.line_of(row), col, f"not a number: {frame.at[row, col]!r}"))
        frame[col] = values.astype("Int64" if kind == "int" else "float64") if not bad.any() else values
    return frame
