"""Data access for the dashboard: locate and load the cleaned CSV, filter it, add it up.

Everything the page shows is computed here or in `etl/`; the page itself does
no unit or currency arithmetic. Functions take and return plain DataFrames so
tests can call them without Streamlit.

- `data_path()`: which CSV to show (`--data PATH`, then `SEIZURES_CSV`, then data/seizures.csv).
- `load_dataset()`: the one cached loader, keyed on the file's path and modification time.
- `Filters` / `apply_filters()`: the sidebar's selection.
- `for_sums()`: the rows that may be added up (the "count each incident once" rule for totals).
- `headline()`, `kg_per_year()`, `seizure_points()`, `price_points()`, `map_points()`,
  `usd_checks()`: the numbers behind the headline and the charts.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pycountry
import streamlit as st

from etl.columns import COLUMNS, NAMES
from etl.csvio import csv_bytes

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CSV = REPO / "data" / "seizures.csv"
REFERENCE_DIR = REPO / "data" / "reference"
FX_TABLE = REFERENCE_DIR / "fx_annual_lcu_per_usd.csv"
FX_COLUMNS = ["currency", "year", "lcu_per_usd", "source", "source_url"]
ENV_VAR = "SEIZURES_CSV"
KINDS = ("seizure", "price", "cash")
WHEN = "_when"  # helper column: the event date as a timestamp (not part of the CSV)


class DataFileError(Exception):
    """The data file cannot be shown; the message says why and what to do."""


# --- Which file -------------------------------------------------------------

def data_path(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> Path:
    """The CSV to present: `--data PATH` after `--` on the command line, else $SEIZURES_CSV, else data/seizures.csv."""
    argv = sys.argv[1:] if argv is None else argv
    environ = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--data", type=Path)
    args, _ = parser.parse_known_args(argv)
    if args.data is not None:
        return args.data.expanduser().resolve()
    if environ.get(ENV_VAR):
        return Path(environ[ENV_VAR]).expanduser().resolve()
    return DEFAULT_CSV


def file_version(path: Path) -> int:
    """Modification time in nanoseconds, the cache key's second half; raises DataFileError when missing."""
    if not path.is_file():
        raise DataFileError(
            f"There is no data file at {path}. Build it with `make data`, or start the dashboard with "
            f"`streamlit run dashboard.py -- --data PATH` or the environment variable {ENV_VAR}."
        )
    return path.stat().st_mtime_ns


# --- Loading ----------------------------------------------------------------

@dataclass(frozen=True)
class Dataset:
    path: str
    frame: pd.DataFrame  # typed columns in etl.columns order, plus WHEN
    datapackage: dict = field(default_factory=dict)
    datapackage_bytes: bytes | None = None
    datapackage_path: str = ""
    fx: pd.DataFrame | None = None
    nk_links: pd.DataFrame | None = None
    source_types: pd.DataFrame | None = None
    warnings: tuple[str, ...] = ()

    @property
    def base_year(self) -> int | None:
        year = self.datapackage.get("constant_usd_base_year")
        return int(year) if year is not None else None


@st.cache_data(show_spinner="Loading the data…", max_entries=8)
def load_dataset(path: str, mtime_ns: int) -> Dataset:
    """Read the cleaned CSV at `path` (version `mtime_ns`) and what describes it.

    The data dictionary is the datapackage.json next to the CSV, or the
    project's own when the CSV has none beside it.
    """
    del mtime_ns  # only part of the cache key: a rebuilt file is read again
    csv_path = Path(path)
    try:
        raw = csv_path.read_bytes()
    except OSError as err:
        raise DataFileError(f"The data file {csv_path} cannot be read ({err.strerror or err}).") from None
    frame, warnings = read_seizures(raw, csv_path.name)
    package_path = csv_path.with_name("datapackage.json")
    if not package_path.is_file():
        package_path = DEFAULT_CSV.with_name("datapackage.json")
    package_bytes = package_path.read_bytes() if package_path.is_file() else None
    package = json.loads(package_bytes) if package_bytes else {}
    return Dataset(
        path=str(csv_path),
        frame=frame,
        datapackage=package,
        datapackage_bytes=package_bytes,
        datapackage_path=str(package_path) if package_bytes else "",
        fx=_read_reference(FX_TABLE),
        nk_links=_read_reference(REFERENCE_DIR / "nk_links.csv"),
        source_types=_read_reference(REFERENCE_DIR / "source_types.csv"),
        warnings=tuple(warnings),
    )


def read_seizures(raw: bytes, name: str = "seizures.csv") -> tuple[pd.DataFrame, list[str]]:
    """Parse the bytes of a cleaned CSV into typed columns (types from etl.columns).

    Raises DataFileError when the file is not a cleaned CSV at all; returns
    warnings for cells that should be numbers but are not.
    """
    try:
        text = raw.decode("utf-8-sig")
        table = pd.read_csv(io.StringIO(text, newline=""), dtype="string", keep_default_na=False, na_filter=False)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DataFileError(f"{name} is not a readable UTF-8 CSV file ({err.__class__.__name__}).") from None
    missing = [c for c in NAMES if c not in table.columns]
    if missing:
        raise DataFileError(
            f"{name} is not a cleaned seizures file: it lacks the column(s) {', '.join(missing)}. "
            "Give the dashboard a file written by `python -m etl build`."
        )
    out, warnings = {}, []
    for col in COLUMNS:
        if col.type == "string":
            out[col.name] = table[col.name]  # exactly as in the file
            continue
        text_cells = table[col.name].str.strip()
        blank = text_cells == ""
        if col.type == "boolean":
            lowered = text_cells.str.lower()
            values = lowered.isin(["true", "1", "yes"])
            bad = ~(blank | lowered.isin(["true", "false", "1", "0", "yes", "no"]))
            out[col.name] = values.astype(bool)
        else:
            numbers = pd.to_numeric(text_cells.where(~blank, None), errors="coerce")
            bad = numbers.isna() & ~blank
            if col.type == "integer":
                whole = numbers.isna() | (numbers == np.floor(numbers))
                bad |= ~whole
                numbers = numbers.where(whole).astype("Int64")
            else:
                numbers = numbers.astype("float64")
            out[col.name] = numbers
        if bad.any():
            warnings.append(f"{int(bad.sum())} cell(s) of column {col.name} are not valid {col.type}s and are shown as empty.")
    frame = pd.DataFrame(out, index=pd.RangeIndex(len(table)))
    frame[WHEN] = event_timestamps(frame["date"])
    return frame, warnings


def event_timestamps(dates: pd.Series) -> pd.Series:
    """Place partial ISO dates on a time axis: a year at 1 July, a month on its 15th, a day as is."""
    text = dates.fillna("").astype("string")
    filled = text.where(text.str.len() != 4, text + "-07-01")
    filled = filled.where(filled.str.len() != 7, filled + "-15")
    return pd.to_datetime(filled.where(filled != "", None), format="%Y-%m-%d", errors="coerce")


def _read_reference(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    return pd.read_csv(path, dtype="string", keep_default_na=False)


def fx_table(dataset: Dataset) -> pd.DataFrame | None:
    """The exchange-rate table with numeric year and rate, or None when it is missing."""
    if dataset.fx is None or any(c not in dataset.fx.columns for c in FX_COLUMNS):
        return None
    fx = dataset.fx[FX_COLUMNS].copy()
    fx["year"] = pd.to_numeric(fx["year"], errors="coerce").astype("Int64")
    fx["lcu_per_usd"] = pd.to_numeric(fx["lcu_per_usd"], errors="coerce")
    return fx


# --- Labels -----------------------------------------------------------------

def country_name(code: str) -> str:
    """Common name of an ISO 3166-1 alpha-2 code ('KP' -> 'North Korea'); the code itself if unknown."""
    if not code:
        return "Unknown"
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return getattr(country, "common_name", None) or _SHORT_NAMES.get(code) or country.name


_SHORT_NAMES = {"KP": "North Korea", "KR": "South Korea", "TW": "Taiwan", "VE": "Venezuela", "RU": "Russia",
                "VN": "Vietnam", "LA": "Laos", "IR": "Iran", "SY": "Syria", "TZ": "Tanzania", "BO": "Bolivia",
                "MD": "Moldova"}


def link_label(code: str) -> str:
    """A short reader-facing name for an nk_link code."""
    return _LINK_LABELS.get(code) or code.replace("_", " ").capitalize()


_LINK_LABELS = {
    "state_agents": "North Korean officials or diplomats",
    "nk_nationals": "North Korean nationals",
    "nk_port_or_ship": "North Korean ship or port",
    "nk_made_official": "Made in North Korea (authorities)",
    "nk_made_suspects": "Made in North Korea (suspects)",
    "border_inference": "Seized at the border",
    "unnamed_source": "Unnamed source",
    "in_north_korea": "Observed inside North Korea",
}


def source_label(frame: pd.DataFrame) -> pd.Series:
    """'Outlet: Title' for each row (the outlet alone when the title is empty)."""
    outlet = frame["source_outlet"].fillna("")
    title = frame["source_title"].fillna("")
    both = outlet + ": " + title
    return both.where((outlet != "") & (title != ""), outlet + title)


def safe_url(urls: pd.Series) -> pd.Series:
    """The URL when it is an http(s) address, else missing (never a javascript: or data: link)."""
    text = urls.fillna("").astype("string").str.strip()
    return text.where(text.str.match(r"(?i)^https?://[^\s]+$"), None)


# --- Filtering --------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    """The reader's selection. Empty tuples mean "all"."""

    years: tuple[int, int] | None = None
    include_undated: bool = True
    drugs: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    count_once: bool = True


def apply_filters(frame: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """The rows that match `filters`, in file order. With count_once, one report per incident and kind."""
    keep = pd.Series(True, index=frame.index)
    year = frame["year"]
    if filters.years is not None:
        low, high = filters.years
        in_range = (year >= low) & (year <= high)
        keep &= in_range.fillna(False).astype(bool) | (year.isna() & filters.include_undated)
    elif not filters.include_undated:
        keep &= year.notna()
    for column, chosen in (("drug", filters.drugs), ("country", filters.countries),
                           ("kind", filters.kinds), ("nk_link", filters.links)):
        if chosen:
            keep &= frame[column].isin(list(chosen))
    if filters.count_once:
        keep &= frame["is_representative"]
    return frame[keep]


def redundant_totals(rows: pd.DataFrame) -> pd.Series:
    """True for rows of scope 'total' that list at least one part also present in `rows`.

    Adding such a total to its parts would count the parts twice.
    """
    present = set(rows["incident_id"])
    is_total = rows["incident_scope"] == "total"
    parts = rows["incident_parts"].fillna("")
    overlaps = [bool(total) and any(p in present for p in text.split()) for total, text in zip(is_total, parts)]
    return pd.Series(overlaps, index=rows.index, dtype=bool)


def for_sums(rows: pd.DataFrame, count_once: bool) -> pd.DataFrame:
    """The rows to add up: with count_once, totals whose parts are in `rows` are left out."""
    if not count_once or rows.empty:
        return rows
    return rows[~redundant_totals(rows)]


# --- Headline numbers ---------------------------------------------------------

@dataclass(frozen=True)
class Headline:
    incidents: int
    reports: int
    kg: float
    kg_by_drug: dict[str, float]
    seizures_with_kg: int
    value_const_usd: float
    seizures_with_value: int
    median_price_const_usd_per_kg: float | None
    prices: int
    totals_left_out: int


def headline(rows: pd.DataFrame, count_once: bool) -> Headline:
    """Incidents, kilograms seized (by drug), value in constant dollars and median price per kg of `rows`."""
    summed = for_sums(rows, count_once)
    seizures = summed[summed["kind"] == "seizure"]
    with_kg = seizures[seizures["quantity_kg"].notna()]
    by_drug = with_kg.groupby("drug", sort=False)["quantity_kg"].sum().sort_values(ascending=False)
    with_value = seizures[seizures["value_usd_const"].notna()]
    prices = rows.loc[(rows["kind"] == "price") & rows["price_usd_per_kg_const"].notna(), "price_usd_per_kg_const"]
    return Headline(
        incidents=int(summed["incident_id"].nunique()),
        reports=len(rows),
        kg=float(with_kg["quantity_kg"].sum()),
        kg_by_drug={str(k): float(v) for k, v in by_drug.items()},
        seizures_with_kg=len(with_kg),
        value_const_usd=float(with_value["value_usd_const"].sum()),
        seizures_with_value=len(with_value),
        median_price_const_usd_per_kg=float(prices.median()) if len(prices) else None,
        prices=len(prices),
        totals_left_out=len(rows) - len(summed),
    )


# --- Chart data ---------------------------------------------------------------

def kg_per_year(rows: pd.DataFrame, count_once: bool) -> pd.DataFrame:
    """Kilograms seized per year and drug (columns year, drug, kg, seizures), from the rows that may be summed."""
    summed = for_sums(rows, count_once)
    seized = summed[(summed["kind"] == "seizure") & summed["quantity_kg"].notna() & summed["year"].notna()]
    table = (seized.groupby(["year", "drug"], sort=True)["quantity_kg"]
             .agg(kg="sum", seizures="size").reset_index())
    table["year"] = table["year"].astype(int)
    return table


def seizure_points(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per dated seizure with a mass: when, kg, the error-bar lengths and the kind of bound.

    bound is 'range' (both ends known), 'at most' (no low end: 'nearly', 'up to')
    or 'at least' (no high end: 'more than'). Open ends get no error bar on that side.
    """
    seized = rows[(rows["kind"] == "seizure") & rows["quantity_kg"].notna() & rows[WHEN].notna()].copy()
    low, high, kg = seized["quantity_kg_low"], seized["quantity_kg_high"], seized["quantity_kg"]
    seized["err_minus"] = (kg - low).clip(lower=0).fillna(0.0)
    seized["err_plus"] = (high - kg).clip(lower=0).fillna(0.0)
    seized["bound"] = np.select([low.isna() & high.notna(), high.isna() & low.notna()], ["at most", "at least"], "range")
    seized["source"] = source_label(seized)
    return seized


def price_points(rows: pd.DataFrame, constant: bool) -> pd.DataFrame:
    """Prices per kilogram over time: quoted prices and prices implied by seizures.

    Columns: when, country, country_name, drug, price_type ('quoted price' or
    'implied by a seizure'), usd_per_kg, low, high (bounds of quoted ranges; empty
    when the source gives one figure), reported, source, report_id.
    In constant dollars the bounds are deflated with the row's own factor
    (price_usd_per_kg_const / price_usd_per_kg), the same one the ETL used.
    """
    suffix = "_const" if constant else ""
    dated = rows[rows[WHEN].notna()]
    quoted = dated[(dated["kind"] == "price") & dated["price_usd_per_kg" + suffix].notna()]
    factor = (quoted["price_usd_per_kg_const"] / quoted["price_usd_per_kg"]) if constant else 1.0
    quoted_out = pd.DataFrame({
        "usd_per_kg": quoted["price_usd_per_kg" + suffix],
        "low": quoted["value_usd_low"] * factor,
        "high": quoted["value_usd_high"] * factor,
        "price_type": "quoted price",
    })
    implied = dated[(dated["kind"] == "seizure") & dated["implied_usd_per_kg" + suffix].notna()]
    implied_out = pd.DataFrame({
        "usd_per_kg": implied["implied_usd_per_kg" + suffix],
        "low": np.nan,
        "high": np.nan,
        "price_type": "implied by a seizure",
    })
    out = pd.concat([quoted_out, implied_out])
    if out.empty:
        return out.assign(when=pd.Series(dtype="datetime64[ns]"), country=pd.Series(dtype="string"))
    source = rows.loc[out.index]
    out["when"] = source[WHEN]
    out["country"] = source["country"]
    out["country_name"] = [country_name(c) for c in source["country"]]
    out["drug"] = source["drug"]
    out["reported"] = source["value_reported"]
    out["quantity_reported"] = source["quantity_reported"]
    out["date"] = source["date"]
    out["source"] = source_label(source)
    out["report_id"] = source["report_id"]
    # a range is drawn only when both ends are known and differ from the point
    ranged = out["low"].notna() & out["high"].notna() & (out["high"] > out["low"])
    out["err_minus"] = (out["usd_per_kg"] - out["low"]).where(ranged, 0.0).clip(lower=0)
    out["err_plus"] = (out["high"] - out["usd_per_kg"]).where(ranged, 0.0).clip(lower=0)
    return out.sort_values("when", kind="mergesort")


def map_points(rows: pd.DataFrame, count_once: bool) -> pd.DataFrame:
    """Seizures grouped by place and drug: lat, lon, kg (summable rows only), seizures, precision, label."""
    summed = for_sums(rows, count_once)
    seized = summed[(summed["kind"] == "seizure") & summed["lat"].notna() & summed["lon"].notna()].copy()
    if seized.empty:
        return pd.DataFrame(columns=["lat", "lon", "place", "country", "drug", "kg", "seizures", "with_kg",
                                     "location_precision", "label"])
    seized["place_label"] = seized["place"].where(seized["place"] != "", "(country only)")
    grouped = (seized.groupby(["lat", "lon", "place_label", "country", "drug", "location_precision"], sort=False)
               .agg(kg=("quantity_kg", "sum"), with_kg=("quantity_kg", "count"), seizures=("report_id", "size"))
               .reset_index().rename(columns={"place_label": "place"}))
    grouped["country_name"] = [country_name(c) for c in grouped["country"]]
    grouped["label"] = grouped["place"] + ", " + grouped["country_name"]
    return grouped.sort_values("kg", ascending=False, kind="mergesort")


def usd_checks(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows where the source states its own US dollar figure or rate, with our difference in percent."""
    checked = rows[rows["usd_check_pct"].notna()].copy()
    checked["label"] = (pd.Series([country_name(c) for c in checked["country"]], index=checked.index, dtype="string") + " " + checked["year"].astype("string").fillna("undated")
                        + " · " + checked["kind"] + " · " + checked["value_reported"])
    checked["basis"] = np.where(checked["usd_stated_amount"].notna(), "source's dollar figure", "source's exchange rate")
    return checked.sort_values("usd_check_pct", kind="mergesort")


# --- Downloads ----------------------------------------------------------------

def csv_download(rows: pd.DataFrame) -> bytes:
    """The rows as the project's CSV: the columns of data/seizures.csv, formula-safe (etl.csvio.csv_bytes)."""
    return csv_bytes(rows[NAMES])


# --- Table --------------------------------------------------------------------

TABLE_COLUMNS = {
    "date": "Date", "kind": "Kind", "drug": "Drug", "country_name": "Country", "place": "Place",
    "quantity_reported": "Quantity as reported", "quantity_kg": "Kilograms",
    "incident_kg_min": "Kg, lowest report", "incident_kg_max": "Kg, highest report",
    "value_reported": "Value as reported", "value_usd": "US$ (nominal)", "value_usd_const": "US$ (constant)",
    "usd_per_kg": "US$ per kg (nominal)", "source": "Source", "url": "Link", "link_label": "Link to North Korea",
    "source_type": "Source type", "incident_id": "Incident", "incident_reports": "Reports of it",
    "is_representative": "Representative", "incident_scope": "Scope", "report_id": "Report", "notes": "Notes",
}


def table_view(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows as the table shows them: reported figures beside normalised ones, readable labels.

    `usd_per_kg` is the quoted price for price rows and the implied price for seizures.
    """
    view = pd.DataFrame(index=rows.index)
    for col in ("date", "kind", "drug", "place", "quantity_reported", "quantity_kg", "incident_kg_min",
                "incident_kg_max", "value_reported",
                "value_usd", "value_usd_const", "source_type", "incident_id", "incident_reports",
                "is_representative", "incident_scope", "report_id", "notes"):
        view[col] = rows[col]
    view["country_name"] = pd.Series([country_name(c) for c in rows["country"]], index=rows.index, dtype="string")
    view["usd_per_kg"] = rows["price_usd_per_kg"].fillna(rows["implied_usd_per_kg"])
    view["link_label"] = pd.Series([link_label(c) for c in rows["nk_link"]], index=rows.index, dtype="string")
    view["source"] = source_label(rows)
    view["url"] = safe_url(rows["source_url"])
    return view[list(TABLE_COLUMNS)].rename(columns=TABLE_COLUMNS)


def sources(rows: pd.DataFrame) -> pd.DataFrame:
    """The source documents behind `rows`, once each: source_id, outlet, title, date, url (http(s) or empty), via."""
    docs = rows.drop_duplicates("source_id")[["source_id", "source_outlet", "source_title", "source_date",
                                               "source_url", "source_via", "source_type"]].copy()
    docs["source_url"] = safe_url(docs["source_url"])
    return docs.sort_values(["source_date", "source_outlet"], kind="mergesort", na_position="last")
