"""Data access for the dashboard: locate and load the cleaned CSV, filter it, add it up.

Everything the page shows is computed here or in `etl/`; the page itself does
no unit or currency arithmetic. Functions take and return plain DataFrames so
tests can call them without Streamlit.

- `data_path()`: which CSV to show (`--data PATH`, then `SEIZURES_CSV`, then data/seizures.csv).
- `load_dataset()`: the one cached loader, keyed on the file's path and `file_key()`. On a
  large file it reads the columns the page shows (`Dataset.screen`) and leaves the rest, which only
  the downloads hold, until `Dataset.frame` is first asked for (see "Loading").
- `Filters` / `apply_filters()`: the sidebar's selection.
- `for_sums()`: the rows that may be added up (the "count each incident once" rule for totals).
- `headline()`, `kg_per_year()`, `seizure_points()`, `price_points()`, `map_points()`,
  `usd_checks()`: the numbers behind the headline and the charts.
- `view()`: the same numbers for the page, computed on a million rows in a fraction of a second
  (see "Large files" at the end of this module): the selection is a boolean mask over per-row
  arrays prepared once by the loader, and what goes to the browser is capped (points per chart,
  rows in the table, documents in the source list), saying so when it is.
"""
from __future__ import annotations

import argparse
import functools
import io
import json
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
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
    """Modification time in nanoseconds; raises DataFileError when missing."""
    if not path.is_file():
        raise DataFileError(
            f"There is no data file at {path}. Build it with `make data`, or start the dashboard with "
            f"`streamlit run dashboard.py -- --data PATH` or the environment variable {ENV_VAR}."
        )
    return path.stat().st_mtime_ns


def file_key(path: Path) -> int:
    """The cached computations' second key: changes whenever the file does (raises DataFileError when missing).

    Not only the modification time: a file replaced by another with the same time
    (a copy that keeps it) has another inode or change time, and is read again.
    The deferred columns of a large file (see "Loading") rely on this.
    """
    mtime_ns = file_version(path)
    identity = file_identity(path)
    return hash(identity) & (2**63 - 1) if identity is not None else mtime_ns


# --- Loading ----------------------------------------------------------------
#
# A cleaned file is read with pyarrow, typed by etl.columns. On a large file only the
# columns the page reads on every run are read at load (SCREEN_COLUMNS: every row,
# all but DEFERRED_COLUMNS); the others, which only the downloads hold, are read from
# the same file the first time `Dataset.frame` is asked for. The file's identity
# (device, inode, size, modification and change times) is noted before the first
# read and checked around the second, so the two halves always come from the same
# bytes: a file that changed in between is never mixed in (DataFileError instead;
# the next rerun loads the new version). Small files are read whole at once.

DEFERRED_COLUMNS = ("date_precision", "drug_reported", "quantity_count", "quantity_count_unit", "value_amount",
                    "value_amount_low", "value_amount_high", "fx_lcu_per_usd", "fx_year", "fx_year_basis",
                    "usd_stated", "approximate", "arrests")
SCREEN_COLUMNS = [n for n in NAMES if n not in DEFERRED_COLUMNS]
READ_WHOLE_BELOW_BYTES = 8 * 2**20  # a second pass over a file this small costs more than it saves


@dataclass(frozen=True, eq=False)
class Dataset:
    path: str
    screen: pd.DataFrame  # every row; SCREEN_COLUMNS (or every column) in etl.columns order, plus WHEN
    prep: "Prepared | None" = None  # per-row arrays for fast filtering (see Large files)
    datapackage: dict = field(default_factory=dict)
    datapackage_bytes: bytes | None = None
    datapackage_path: str = ""
    fx: pd.DataFrame | None = None
    nk_links: pd.DataFrame | None = None
    source_types: pd.DataFrame | None = None
    load_warnings: tuple[str, ...] = ()
    rest: "_Deferred | None" = None  # how to read DEFERRED_COLUMNS when `screen` lacks them

    @property
    def base_year(self) -> int | None:
        year = self.datapackage.get("constant_usd_base_year")
        return int(year) if year is not None else None

    @property
    def frame(self) -> pd.DataFrame:
        """Every column, typed, in etl.columns order, plus WHEN (the deferred columns are read on first use)."""
        return self.screen if self.rest is None else self.rest.frame(self.screen)

    @property
    def warnings(self) -> tuple[str, ...]:
        """Cells that are not of their column's type (found at load, or when the deferred columns were read)."""
        return self.load_warnings + (self.rest.warnings if self.rest is not None else ())


@st.cache_resource(show_spinner="Loading the data…", max_entries=4)
def load_dataset(path: str, version: int) -> Dataset:
    """Read the cleaned CSV at `path` (`version`: file_key(), or file_version()) and what describes it.

    The data dictionary is the datapackage.json next to the CSV, or the
    project's own when the CSV has none beside it.

    Cached as a resource, not as data: every rerun gets the same object instead
    of an unpickled copy (a copy of a million rows would cost seconds per rerun).
    Nothing may modify the returned Dataset or its frames.
    """
    del version  # only part of the cache key: a rebuilt file is read again
    return read_dataset(Path(path))


def read_dataset(csv_path: Path, defer: bool | None = None) -> Dataset:
    """load_dataset() without the cache. `defer`: read DEFERRED_COLUMNS only when needed (default: large files)."""
    screen, warnings, rest = _read_screen(csv_path, defer)
    package_path = csv_path.with_name("datapackage.json")
    if not package_path.is_file():
        package_path = DEFAULT_CSV.with_name("datapackage.json")
    package_bytes = package_path.read_bytes() if package_path.is_file() else None
    package = json.loads(package_bytes) if package_bytes else {}
    return Dataset(
        path=str(csv_path),
        screen=screen,
        datapackage=package,
        datapackage_bytes=package_bytes,
        datapackage_path=str(package_path) if package_bytes else "",
        fx=_read_reference(FX_TABLE),
        nk_links=_read_reference(REFERENCE_DIR / "nk_links.csv"),
        source_types=_read_reference(REFERENCE_DIR / "source_types.csv"),
        load_warnings=tuple(warnings),
        rest=rest,
        prep=prepare(screen),
    )


def _read_screen(csv_path: Path, defer: bool | None) -> tuple[pd.DataFrame, list[str], "_Deferred | None"]:
    """The frame the page reads (all rows), the load's warnings, and the reader of the rest (None: nothing left)."""
    for _ in range(3):  # a file replaced while it was being read is read again
        before = file_identity(csv_path)
        if defer is None:
            defer = before is not None and before[2] >= READ_WHOLE_BELOW_BYTES
        columns = SCREEN_COLUMNS if defer else NAMES
        table = _read_table(csv_path, columns)
        if table is not None and file_identity(csv_path) != before:
            continue
        if table is None:
            break
        frame = _frame_of(table, columns)
        return frame, [], (_Deferred(csv_path, before) if defer else None)
    # not a plain cleaned file (or one that keeps changing): the careful reader says what is wrong with it
    try:
        raw = csv_path.read_bytes()
    except OSError as err:
        raise DataFileError(f"The data file {csv_path} cannot be read ({err.strerror or err}).") from None
    frame, warnings = read_seizures(raw, csv_path.name)
    return frame, warnings, None


def file_identity(path: Path) -> tuple[int, ...] | None:
    """What changes whenever the file's bytes do: device, inode, size, modification and change times."""
    try:
        st_ = os.stat(path)
    except OSError:
        return None
    return (st_.st_dev, st_.st_ino, st_.st_size, st_.st_mtime_ns, st_.st_ctime_ns)


class _Deferred:
    """Reads DEFERRED_COLUMNS of the file a screen frame came from, once, when first asked (thread-safe)."""

    def __init__(self, path: Path, identity: tuple[int, ...] | None) -> None:
        self.path, self.identity = path, identity
        self.lock = threading.Lock()
        self.full: pd.DataFrame | None = None
        self.warnings: tuple[str, ...] = ()

    def frame(self, screen: pd.DataFrame) -> pd.DataFrame:
        with self.lock:
            if self.full is None:
                self.full, self.warnings = self._complete(screen)
            return self.full

    def _unchanged(self) -> None:
        if self.identity is None or file_identity(self.path) != self.identity:
            raise DataFileError(
                f"The data file {self.path} changed after the page loaded it; reload the page to see the new version.")

    def _complete(self, screen: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
        self._unchanged()
        table = _read_table(self.path, ["report_id", *DEFERRED_COLUMNS])
        self._unchanged()
        if table is not None:
            self._same_rows(screen, table.column("report_id"))
            rest = _frame_of(table, list(DEFERRED_COLUMNS))
            columns = {name: screen[name] if name in screen.columns else rest[name] for name in NAMES}
            return pd.DataFrame({**columns, WHEN: screen[WHEN]}, index=screen.index, copy=False), ()
        # a deferred column holds a cell that is not of its type: the careful reader, as for the whole file
        raw = self.path.read_bytes()
        self._unchanged()
        frame, warnings = read_seizures(raw, self.path.name)
        self._same_rows(screen, _arrow_column(frame["report_id"]))
        return frame, tuple(warnings)

    def _same_rows(self, screen: pd.DataFrame, report_ids) -> None:
        """A last check that the second read found the rows of the first (same report ids, same order)."""
        if len(report_ids) != len(screen) or not report_ids.equals(_arrow_column(screen["report_id"])):
            raise DataFileError(
                f"The data file {self.path} changed after the page loaded it; reload the page to see the new version.")


def _arrow_column(column: pd.Series):
    import pyarrow as pa

    return pa.chunked_array(column.array.__arrow_array__())


_ARROW_TYPES = {"string": "large_string", "number": "float64", "integer": "int64", "boolean": "bool_"}
_TYPES = {c.name: c.type for c in COLUMNS}


def _read_arrow(path: Path) -> pd.DataFrame | None:
    """The fast reader (pyarrow, typed by etl.columns): the same frame as read_seizures, or None.

    None whenever the file is anything but a well-formed cleaned CSV (unreadable,
    not UTF-8, a missing column, a cell that is not of its column's type, a
    number with spaces around it, ...): read_seizures then reads it the careful
    way and explains or warns.
    """
    table = _read_table(path, NAMES)
    return None if table is None else _frame_of(table, NAMES)


def _read_table(path: Path, columns: list[str]):
    """`columns` of the cleaned CSV at `path` as a pyarrow Table, typed by etl.columns; None when not clean."""
    import pyarrow as pa
    from pyarrow import csv as pacsv

    types = {name: getattr(pa, _ARROW_TYPES[_TYPES[name]])() for name in columns}
    try:
        return pacsv.read_csv(
            str(path),
            read_options=pacsv.ReadOptions(use_threads=True, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=types, include_columns=columns, null_values=[""], strings_can_be_null=False,
                quoted_strings_can_be_null=True, true_values=["true", "True", "TRUE", "1", "yes", "Yes", "YES"],
                false_values=["false", "False", "FALSE", "0", "no", "No", "NO"]),
        )
    except (pa.ArrowException, OSError, ValueError):
        return None


def _frame_of(table, columns: list[str]) -> pd.DataFrame:
    """The pandas frame of `columns` of a table from _read_table (plus WHEN when it has `date`).

    Each column keeps a block of its own (no copy into one 2-D block per type);
    text stays in Arrow memory.
    """
    import pyarrow as pa

    def convert(name: str):
        values = table.column(name)
        kind = _TYPES[name]
        if kind == "string":
            return pd.Series(pd.arrays.ArrowStringArray(values), copy=False)
        if kind == "boolean":
            return values.fill_null(False).to_numpy().astype(bool)
        if kind == "integer":
            return values.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
        return values.to_numpy()  # NaN where empty: a copy, made outside the GIL

    with ThreadPoolExecutor(max_workers=2) as pool:  # numbers are copied two columns at a time
        out = dict(zip(columns, pool.map(convert, columns)))
    frame = pd.DataFrame(out, index=pd.RangeIndex(table.num_rows), copy=False)
    if "date" in columns:
        frame[WHEN] = event_timestamps(frame["date"])
    return frame


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
    codes, distinct = pd.factorize(dates.fillna("").astype("string"))  # few distinct dates in many rows
    stamps = _timestamps(pd.Series(distinct, dtype="string")).to_numpy()
    return pd.Series(stamps[codes] if len(codes) else stamps[:0], index=dates.index)


def _timestamps(text: pd.Series) -> pd.Series:
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

@functools.lru_cache(maxsize=4096)
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


# --- Large files: the page's fast path ----------------------------------------------
#
# The page never copies the selected rows. The loader prepares per-row arrays once
# (codes of the filter columns, years, dates, the parts of every total); a selection
# is a boolean mask over them; sums are bincounts. Only what is shown is taken from
# the frame: at most MAX_POINTS points per chart, TABLE_ROWS table rows, SOURCES_SHOWN
# documents. The functions above (rows in, numbers out) stay the reference: on a
# selection that fits under the caps, the page shows exactly what they compute.

MAX_POINTS = 3_000  # markers per scatter chart (the browser limit is 50,000 points per figure)
TOP_BY_KG = 500  # of those, for the seizures chart: the largest seizures, always shown
MAX_PLACES = 5_000  # groups (place and drug) on the map
USD_CHECK_ROWS = 60  # beyond this many checked figures, the check chart shows their distribution
TABLE_ROWS = 1_000  # rows of the selection shown in the table (downloads hold them all)
SOURCES_SHOWN = 300  # documents listed under "Sources of this selection"
EAGER_DOWNLOAD_ROWS = 5_000  # larger downloads are written when clicked, not on every run
SAMPLE_SEED = 20240501


@dataclass(frozen=True, eq=False)
class Coded:
    """A text column as integer codes into its distinct values (in order of first appearance)."""

    codes: np.ndarray
    values: pd.Index  # not a tuple: half a million incident ids stay in Arrow memory

    @classmethod
    def of(cls, column: pd.Series) -> "Coded":
        codes, uniques = pd.factorize(column, use_na_sentinel=False)
        return cls(np.asarray(codes, dtype=np.int64), pd.Index(uniques))

    def isin(self, chosen) -> np.ndarray:
        lut = np.asarray(self.values.isin(list(chosen)), dtype=bool)
        return lut[self.codes] if len(lut) else np.zeros(len(self.codes), dtype=bool)

    def eq(self, value) -> np.ndarray:
        return self.isin([value])


@dataclass(frozen=True, eq=False)
class Prepared:
    """Per-row arrays of a frame, computed once by the loader (read-only)."""

    n: int
    year: np.ndarray  # float64, NaN when unknown
    dated: np.ndarray  # bool: the event date is on the time axis
    representative: np.ndarray
    kind: Coded
    drug: Coded
    country: Coded
    link: Coded
    incident: Coded
    source: Coded
    place: Coded  # (lat, lon, place, country, location_precision) as one code: the map's places
    totals: np.ndarray  # positions of rows with incident_scope 'total'
    part_code: np.ndarray  # incident codes of their parts (len(incident.values) when absent from the file)
    part_owner: np.ndarray  # index into `totals` of each part
    sample_key: np.ndarray  # a fixed random number per row: deterministic samples
    seizure: np.ndarray  # kind == 'seizure'
    price: np.ndarray  # kind == 'price'
    currencies: tuple[str, ...]
    cache: dict = field(default_factory=dict)  # lazily computed helpers (masks per selection, document ranks)


def prepare(frame: pd.DataFrame) -> Prepared:
    """The per-row arrays of `frame` (the text columns are factorized two at a time: Arrow releases the GIL)."""
    n = len(frame)
    totals = np.flatnonzero(np.asarray(frame["incident_scope"] == "total", dtype=bool))
    parts = frame["incident_parts"].iloc[totals].fillna("").astype(str).str.split()
    owner = np.repeat(np.arange(len(totals)), [len(p) for p in parts]) if len(totals) else np.zeros(0, np.int64)
    flat = [p for ps in parts for p in ps]
    with ThreadPoolExecutor(max_workers=2) as pool:
        # incident ids and the parts named by totals in one pass: the ids come first, so their codes are the
        # incident codes, and a part absent from the file gets a code past the last incident
        incident_job = pool.submit(_incidents_and_parts, frame["incident_id"], flat)
        jobs = {name: pool.submit(pd.factorize, frame[name], use_na_sentinel=False)
                for name in ("source_id", "kind", "drug", "country", "nk_link", "currency", "place", "lat", "lon",
                             "location_precision")}
        factorized = {name: job.result() for name, job in jobs.items()}
        incident, part_code = incident_job.result()
    coded = {name: Coded(np.asarray(codes, dtype=np.int64), pd.Index(uniques))
             for name, (codes, uniques) in factorized.items()}
    place_key = _combined_codes([factorized[col] for col in ("lat", "lon", "place", "country", "location_precision")])
    kind = coded["kind"]
    return Prepared(
        n=n,
        year=frame["year"].to_numpy(dtype="float64", na_value=np.nan),
        dated=np.asarray(frame[WHEN].notna(), dtype=bool),
        representative=np.asarray(frame["is_representative"], dtype=bool),
        kind=kind, drug=coded["drug"], country=coded["country"],
        link=coded["nk_link"], incident=incident, source=coded["source_id"],
        place=Coded(place_key, pd.Index([])),
        totals=totals, part_code=part_code, part_owner=np.asarray(owner, dtype=np.int64),
        sample_key=np.random.default_rng(SAMPLE_SEED).random(n),
        seizure=kind.eq("seizure"),
        price=kind.eq("price"),
        currencies=tuple(c for c in coded["currency"].values if isinstance(c, str)),
    )


def _combined_codes(factorized: list[tuple[np.ndarray, pd.Index]]) -> np.ndarray:
    """One code per distinct combination of the factorized columns, in order of first appearance."""
    sizes = [len(uniques) + 1 for _, uniques in factorized]
    key = np.zeros(len(factorized[0][0]), dtype=np.int64)
    if float(np.prod(sizes, dtype=np.float64)) < 2.0**62:  # one key for the whole combination
        for (codes, _), size in zip(factorized, sizes):
            key = key * size + codes
        return np.asarray(pd.factorize(key)[0], dtype=np.int64)
    for (codes, _), size in zip(factorized, sizes):  # too many combinations for one int64: one column at a time
        key, _ = pd.factorize(key * size + codes)
    return np.asarray(key, dtype=np.int64)


def _incidents_and_parts(ids: pd.Series, parts: list[str]) -> tuple[Coded, np.ndarray]:
    """Coded.of(ids), and the code of each part (len(values) when no row has that incident id)."""
    if not parts:
        return Coded.of(ids), np.zeros(0, np.int64)
    both = pd.concat([ids, pd.Series(parts, dtype=ids.dtype)], ignore_index=True)
    codes, uniques = pd.factorize(both, use_na_sentinel=False)
    codes = np.asarray(codes, dtype=np.int64)
    count = int(codes[: len(ids)].max()) + 1 if len(ids) else 0
    part_code = codes[len(ids):]
    return Coded(codes[: len(ids)], pd.Index(uniques[:count])), np.where(part_code >= count, count, part_code)


def filter_mask(prep: Prepared, filters: Filters) -> np.ndarray:
    """apply_filters as a boolean mask over the prepared rows.

    The same read-only array for the same selection (the view, the price chart and
    the incident picker of one rerun share it, and what is memoised per mask).
    """
    masks = prep.cache.setdefault("masks", {})
    mask = masks.get(filters)
    if mask is None:
        mask = _filter_mask(prep, filters)
        mask.flags.writeable = False
        while len(masks) >= 8:
            masks.pop(next(iter(masks)), None)
        masks[filters] = mask
    return mask


def _positions(prep: Prepared, mask: np.ndarray) -> np.ndarray:
    """np.flatnonzero(mask), computed once per mask (read-only)."""
    memo = prep.cache.get("positions")
    if memo is not None and memo[0] is mask:
        return memo[1]
    positions = np.flatnonzero(mask)
    positions.flags.writeable = False
    prep.cache["positions"] = (mask, positions)
    return positions


def _filter_mask(prep: Prepared, filters: Filters) -> np.ndarray:
    keep = np.ones(prep.n, dtype=bool)
    year = prep.year
    if filters.years is not None:
        low, high = filters.years
        with np.errstate(invalid="ignore"):
            keep &= ((year >= low) & (year <= high)) | (np.isnan(year) & filters.include_undated)
    elif not filters.include_undated:
        keep &= ~np.isnan(year)
    for coded, chosen in ((prep.drug, filters.drugs), (prep.country, filters.countries),
                          (prep.kind, filters.kinds), (prep.link, filters.links)):
        if chosen:
            keep &= coded.isin(chosen)
    if filters.count_once:
        keep &= prep.representative
    return keep


def summable_mask(prep: Prepared, mask: np.ndarray, count_once: bool) -> np.ndarray:
    """for_sums as a mask: with count_once, totals whose parts are selected are left out."""
    memo = prep.cache.get("summable")
    if memo is not None and memo[0] is mask and memo[1] == count_once:
        return memo[2]
    out = _summable(prep, mask, count_once)
    prep.cache["summable"] = (mask, count_once, out)
    return out


def _summable(prep: Prepared, mask: np.ndarray, count_once: bool) -> np.ndarray:
    if not count_once or not len(prep.totals):
        return mask
    present = np.zeros(len(prep.incident.values) + 1, dtype=bool)
    present[prep.incident.codes[mask]] = True
    present[-1] = False  # parts that are not in the file
    hit = np.bincount(prep.part_owner, weights=present[prep.part_code], minlength=len(prep.totals)) > 0
    redundant = prep.totals[hit & mask[prep.totals]]
    if not len(redundant):
        return mask
    out = mask.copy()
    out[redundant] = False
    return out


# the columns each capped piece needs (taking rows of a wide text frame costs per column)
SEIZURE_POINT_COLUMNS = ["kind", "quantity_kg", "quantity_kg_low", "quantity_kg_high", WHEN, "date", "drug",
                         "country", "place", "quantity_reported", "source_outlet", "source_title", "report_id"]
PRICE_POINT_COLUMNS = ["kind", WHEN, "price_usd_per_kg", "price_usd_per_kg_const", "implied_usd_per_kg",
                       "implied_usd_per_kg_const", "value_usd_low", "value_usd_high", "country", "drug",
                       "value_reported", "quantity_reported", "date", "source_outlet", "source_title", "report_id"]
TABLE_SOURCE_COLUMNS = ["date", "kind", "drug", "place", "quantity_reported", "quantity_kg", "incident_kg_min",
                        "incident_kg_max", "value_reported", "value_usd", "value_usd_const", "source_type",
                        "incident_id", "incident_reports", "is_representative", "incident_scope", "report_id", "notes",
                        "country", "price_usd_per_kg", "implied_usd_per_kg", "nk_link", "source_outlet",
                        "source_title", "source_url"]
SOURCE_COLUMNS = ["source_id", "source_outlet", "source_title", "source_date", "source_url", "source_via",
                  "source_type"]


def _take(frame: pd.DataFrame, positions: np.ndarray, columns: list[str]) -> pd.DataFrame:
    """Rows at `positions` (original labels kept), only `columns`.

    Text columns read by pyarrow come in chunks (one per block of the file); taking
    a few rows through pandas joins the chunks of the whole column first
    (milliseconds per column on a million rows), so they are taken chunk by chunk
    here, all text columns of a chunk in one call.
    """
    positions = np.asarray(positions, dtype=np.int64)
    index = frame.index[positions]
    texts = {c: _chunks_of(frame[c]) for c in columns}
    texts = {c: chunked for c, chunked in texts.items() if chunked is not None}
    taken = _take_chunked(texts, positions) if texts and len(positions) else {}
    out = {}
    for c in columns:
        if c in taken:
            out[c] = pd.Series(pd.arrays.ArrowStringArray(taken[c]), index=index, name=c)
        else:
            out[c] = pd.Series(frame[c].array.take(positions), index=index, name=c)
    return pd.DataFrame(out, index=index)


def _chunks_of(column: pd.Series):
    """The pyarrow ChunkedArray behind a text column read in several chunks, else None."""
    array = column.array
    if not isinstance(array, pd.arrays.ArrowStringArray):
        return None
    chunked = array.__arrow_array__()
    return chunked if getattr(chunked, "num_chunks", 0) > 1 else None


def _take_chunked(columns: dict, positions: np.ndarray) -> dict:
    """Elements at `positions` of chunked columns; columns chunked alike are taken together."""
    import pyarrow as pa

    layouts: dict[tuple, list[str]] = {}
    for name, chunked in columns.items():
        layouts.setdefault(tuple(len(c) for c in chunked.chunks), []).append(name)
    order = np.argsort(positions, kind="stable")
    ordered = positions[order]
    inverse = None
    if not np.array_equal(order, np.arange(len(order))):
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
    out = {}
    for lengths, names in layouts.items():
        starts = np.cumsum((0,) + lengths)
        which = np.searchsorted(starts, ordered, side="right") - 1
        bounds = np.searchsorted(which, np.arange(len(lengths) + 1))
        pieces = []
        for k in range(len(lengths)):
            if bounds[k + 1] > bounds[k]:
                batch = pa.RecordBatch.from_arrays([columns[n].chunk(k) for n in names], names=names)
                pieces.append(batch.take(pa.array(ordered[bounds[k]:bounds[k + 1]] - starts[k])))
        taken = pa.concat_batches(pieces)
        if inverse is not None:
            taken = taken.take(pa.array(inverse))
        out.update({n: taken.column(i) for i, n in enumerate(names)})
    return out


def _num(frame: pd.DataFrame, column: str) -> np.ndarray:
    return frame[column].to_numpy(dtype="float64", na_value=np.nan)


def _known(prep: Prepared, column: str, values: np.ndarray, kind: str) -> np.ndarray:
    """Rows of a kind ('seizure' or 'price') whose `column` (`values`) is known: computed once per file."""
    key = ("known", column, kind)
    known = prep.cache.get(key)
    if known is None:
        known = prep.cache[key] = getattr(prep, kind) & ~np.isnan(values)
    return known


def headline_fast(frame: pd.DataFrame, prep: Prepared, mask: np.ndarray, count_once: bool) -> Headline:
    """headline() of the masked rows."""
    summed = summable_mask(prep, mask, count_once)
    kg, value, price = (_num(frame, c) for c in ("quantity_kg", "value_usd_const", "price_usd_per_kg_const"))
    with_kg = summed & _known(prep, "quantity_kg", kg, "seizure")
    kg_taken, drugs = kg[with_kg], prep.drug.codes[with_kg]
    by_drug = np.bincount(drugs, weights=kg_taken, minlength=len(prep.drug.values))
    has = np.bincount(drugs, minlength=len(prep.drug.values)) > 0
    order = sorted(np.flatnonzero(has), key=lambda i: -by_drug[i])
    with_value = summed & _known(prep, "value_usd_const", value, "seizure")
    prices = price[mask & _known(prep, "price_usd_per_kg_const", price, "price")]
    reports, kept = int(mask.sum()), int(summed.sum())
    return Headline(
        incidents=int(np.count_nonzero(np.bincount(prep.incident.codes[summed], minlength=1))),
        reports=reports,
        kg=float(kg_taken.sum()),
        kg_by_drug={str(prep.drug.values[i]): float(by_drug[i]) for i in order},
        seizures_with_kg=int(with_kg.sum()),
        value_const_usd=float(value[with_value].sum()),
        seizures_with_value=int(with_value.sum()),
        median_price_const_usd_per_kg=float(np.median(prices)) if len(prices) else None,
        prices=len(prices),
        totals_left_out=reports - kept,
    )


def kg_per_year_fast(frame: pd.DataFrame, prep: Prepared, mask: np.ndarray, count_once: bool) -> pd.DataFrame:
    """kg_per_year() of the masked rows (bincount over year and drug)."""
    kg = _num(frame, "quantity_kg")
    keep = summable_mask(prep, mask, count_once) & _known(prep, "quantity_kg", kg, "seizure") & ~np.isnan(prep.year)
    if not keep.any():
        return pd.DataFrame({"year": pd.Series(dtype=int), "drug": pd.Series(dtype="string"),
                             "kg": pd.Series(dtype=float), "seizures": pd.Series(dtype=int)})
    years = prep.year[keep].astype(np.int64)
    low, drugs = years.min(), len(prep.drug.values)
    key = (years - low) * drugs + prep.drug.codes[keep]
    sums = np.bincount(key, weights=kg[keep])
    counts = np.bincount(key)
    found = np.flatnonzero(counts)
    table = pd.DataFrame({"year": (found // drugs + low).astype(int),
                          "drug": pd.Series([prep.drug.values[i] for i in found % drugs], dtype="string"),
                          "kg": sums[found], "seizures": counts[found].astype(int)})
    return table.sort_values(["year", "drug"], kind="mergesort", ignore_index=True)


def _smallest(keys: np.ndarray, count: int) -> np.ndarray:
    """Indices of the `count` smallest keys (any order)."""
    if count >= len(keys):
        return np.arange(len(keys))
    return np.argpartition(keys, count)[:count]


def sample_positions(prep: Prepared, candidates: np.ndarray, limit: int,
                     largest: np.ndarray | None = None, top: int = 0) -> np.ndarray:
    """At most `limit` of the `candidates` (row positions), in file order, the same ones on every run.

    With `largest` (a value per candidate), the `top` largest are always kept; the
    rest is a fixed random sample (rows with the smallest prepared sample key).
    """
    if len(candidates) <= limit:
        return candidates
    chosen = np.zeros(len(candidates), dtype=bool)
    if largest is not None and top:
        values = np.nan_to_num(largest, nan=-np.inf)
        chosen[_smallest(-values, top)] = True
    rest = np.flatnonzero(~chosen)
    chosen[rest[_smallest(prep.sample_key[candidates[rest]], limit - int(chosen.sum()))]] = True
    return candidates[chosen]


@dataclass(frozen=True)
class Shown:
    """What a chart draws and how much of the selection that is."""

    frame: pd.DataFrame
    total: int  # points (rows, or groups for the map) the selection has
    how: str = ""  # '' when every point is drawn; otherwise a sentence for the caption

    @property
    def capped(self) -> bool:
        return bool(self.how)


def seizure_points_fast(frame: pd.DataFrame, prep: Prepared, mask: np.ndarray) -> Shown:
    kg = _num(frame, "quantity_kg")
    candidates = np.flatnonzero(mask & _known(prep, "quantity_kg", kg, "seizure") & prep.dated)
    chosen = sample_positions(prep, candidates, MAX_POINTS, kg[candidates], TOP_BY_KG)
    points = seizure_points(_take(frame, chosen, SEIZURE_POINT_COLUMNS))
    how = ""
    if len(chosen) < len(candidates):
        how = (f"Showing {len(chosen):,} of {len(candidates):,} seizures: the {TOP_BY_KG:,} largest and a fixed "
               "random sample of the rest (the same on every visit); the headline and the download count them all.")
    return Shown(points, len(candidates), how)


def price_points_fast(frame: pd.DataFrame, prep: Prepared, mask: np.ndarray, constant: bool) -> Shown:
    suffix = "_const" if constant else ""
    price, implied = _num(frame, "price_usd_per_kg" + suffix), _num(frame, "implied_usd_per_kg" + suffix)
    dated = mask & prep.dated
    candidates = np.flatnonzero(dated & (_known(prep, "price_usd_per_kg" + suffix, price, "price")
                                         | _known(prep, "implied_usd_per_kg" + suffix, implied, "seizure")))
    chosen = sample_positions(prep, candidates, MAX_POINTS)
    points = price_points(_take(frame, chosen, PRICE_POINT_COLUMNS), constant)
    how = ""
    if len(chosen) < len(candidates):
        how = (f"Showing a fixed random sample of {len(chosen):,} of {len(candidates):,} prices (the same on every "
               "visit); the median in the headline and the download use them all.")
    return Shown(points, len(candidates), how)


def map_points_fast(frame: pd.DataFrame, prep: Prepared, mask: np.ndarray, count_once: bool) -> Shown:
    """map_points() of the masked rows: seizures summed by place and drug (bincount over prepared codes)."""
    lat, lon = _num(frame, "lat"), _num(frame, "lon")
    keep = (summable_mask(prep, mask, count_once) & prep.seizure & ~np.isnan(lat) & ~np.isnan(lon))
    positions = np.flatnonzero(keep)
    if not len(positions):
        return Shown(map_points(frame.iloc[:0], count_once), 0)
    key = prep.place.codes[positions] * len(prep.drug.values) + prep.drug.codes[positions]
    if int(key.max()) < 4 * prep.n + 1_000:  # bincount over the key space; else sort the keys
        inverse = key
    else:
        inverse = np.unique(key, return_inverse=True)[1]
    seizures = np.bincount(inverse)
    groups = np.flatnonzero(seizures)
    first_at = np.full(len(seizures), -1, dtype=np.int64)
    first_at[inverse[::-1]] = np.arange(len(inverse))[::-1]  # first occurrence of each group
    first = first_at[groups]
    kg = _num(frame, "quantity_kg")[positions]
    weighed = ~np.isnan(kg)
    sums = np.bincount(inverse, weights=np.where(weighed, kg, 0.0), minlength=len(seizures))[groups]
    with_kg = np.bincount(inverse, weights=weighed, minlength=len(seizures))[groups].astype(int)
    seizures = seizures[groups].astype(int)
    order = np.argsort(first, kind="stable")  # groups in order of first appearance, as groupby(sort=False)
    order = order[np.argsort(-sums[order], kind="stable")]  # then by kilograms, largest first
    total = len(order)
    how = ""
    if total > MAX_PLACES:
        order = order[:MAX_PLACES]
        how = (f"Showing the {MAX_PLACES:,} places (by drug) with the most kilograms of {total:,}; "
               "the headline and the download count them all.")
    sample = _take(frame, positions[first[order]], ["lat", "lon", "place", "country", "drug", "location_precision"])
    place = sample["place"].fillna("")
    grouped = pd.DataFrame({
        "lat": sample["lat"].to_numpy(), "lon": sample["lon"].to_numpy(),
        "place": place.where(place != "", "(country only)").to_numpy(),
        "country": sample["country"].to_numpy(), "drug": sample["drug"].to_numpy(),
        "location_precision": sample["location_precision"].to_numpy(),
        "kg": sums[order], "with_kg": with_kg[order], "seizures": seizures[order],
    })
    names = {c: country_name(c) for c in set(grouped["country"])}
    grouped["country_name"] = [names[c] for c in grouped["country"]]
    grouped["label"] = grouped["place"] + ", " + grouped["country_name"]
    return Shown(grouped, total, how)


USD_CHECK_BINS = 41


def usd_checks_fast(frame: pd.DataFrame, prep: Prepared, mask: np.ndarray) -> Shown:
    """usd_checks() of the masked rows; beyond USD_CHECK_ROWS, a histogram of the differences instead.

    The histogram frame has columns low, high (bin edges, percent), inside (count
    within tolerance is decided by the chart) and count.
    """
    pct = _num(frame, "usd_check_pct")
    candidates = np.flatnonzero(mask & ~np.isnan(pct))
    if len(candidates) <= USD_CHECK_ROWS:
        return Shown(usd_checks(frame.iloc[candidates]), len(candidates))
    values = pct[candidates]
    return Shown(pd.DataFrame({"pct": values}), len(candidates),
                 f"{len(candidates):,} figures are checked: the chart shows how many fall in each band of difference "
                 "(one bar per band) instead of one row per figure; the download lists every one.")


def source_count_and_head(frame: pd.DataFrame, prep: Prepared, mask: np.ndarray,
                          limit: int = SOURCES_SHOWN) -> tuple[int, pd.DataFrame]:
    """How many documents the masked rows cite, and the first `limit` of them as sources() lists them."""
    positions = _positions(prep, mask)
    codes = prep.source.codes[positions]
    first = np.full(len(prep.source.values), -1, dtype=np.int64)
    first[codes[::-1]] = positions[::-1]  # the last write wins: the first position of each document
    firsts = np.sort(first[first >= 0])
    if len(firsts) <= limit:
        return len(firsts), sources(_take(frame, firsts, SOURCE_COLUMNS))
    ranks = _document_ranks(frame, prep)
    key = ranks[prep.source.codes[firsts]].astype(np.float64) * (prep.n + 1) + firsts
    chosen = np.sort(firsts[_smallest(key, limit)])
    return len(firsts), sources(_take(frame, chosen, SOURCE_COLUMNS)).head(limit)


def _document_ranks(frame: pd.DataFrame, prep: Prepared) -> np.ndarray:
    """Per document code: its rank in the order of sources() (publication date, then outlet; ties share one)."""
    cached = prep.cache.get("document_ranks")
    if cached is not None:
        return cached
    first = np.full(len(prep.source.values), -1, dtype=np.int64)
    first[prep.source.codes[::-1]] = np.arange(prep.n)[::-1]
    docs = _take(frame, first, ["source_date", "source_outlet"])
    date_rank = pd.factorize(docs["source_date"], sort=True, use_na_sentinel=True)[0]
    date_rank = np.where(date_rank < 0, date_rank.max() + 1, date_rank)  # missing dates last
    outlet_rank = pd.factorize(docs["source_outlet"], sort=True, use_na_sentinel=True)[0]
    outlet_rank = np.where(outlet_rank < 0, outlet_rank.max() + 1, outlet_rank)
    order = np.lexsort((outlet_rank, date_rank))
    d, o = date_rank[order], outlet_rank[order]
    dense = np.cumsum(np.r_[True, (d[1:] != d[:-1]) | (o[1:] != o[:-1])]) - 1
    ranks = np.empty(len(first), dtype=np.int64)
    ranks[order] = dense
    prep.cache["document_ranks"] = ranks
    return ranks


def rows_at(frame: pd.DataFrame, mask: np.ndarray, limit: int | None = None) -> pd.DataFrame:
    """The masked rows (the first `limit` of them) as a frame."""
    positions = np.flatnonzero(mask)
    return frame.iloc[positions[:limit] if limit is not None else positions]


@dataclass(frozen=True)
class View:
    """Everything the page shows for one selection (cached per file version and selection)."""

    reports: int
    headline: Headline
    totals_added_as_single: int  # totals kept in the sums because their parts are not selected
    undated: int
    kg_per_year: pd.DataFrame
    seizure_points: Shown
    map: Shown
    usd_check: Shown
    table: pd.DataFrame  # table_view() of the first TABLE_ROWS rows
    documents: int
    sources: pd.DataFrame  # the first SOURCES_SHOWN of sources()
    download: bytes | None  # the filtered CSV when it is small; None: written on click


@st.cache_resource(max_entries=32, show_spinner=False)
def view(path: str, version: int, filters: Filters) -> View:
    """The numbers, chart inputs, table head and source list of one selection of the file at `path`.

    Cached per file version and selection, as a resource: a rerun that changes no
    filter (log scale, dollars, tab) reuses it without unpickling a copy. Read-only.
    """
    dataset = load_dataset(path, version)
    frame, prep = dataset.screen, dataset.prep
    mask = filter_mask(prep, filters)
    summed = summable_mask(prep, mask, True)
    reports = int(mask.sum())
    documents, docs = source_count_and_head(frame, prep, mask)
    return View(
        reports=reports,
        headline=headline_fast(frame, prep, mask, filters.count_once),
        totals_added_as_single=int(summed[prep.totals].sum()) if len(prep.totals) else 0,
        undated=int((mask & np.isnan(prep.year)).sum()),
        kg_per_year=kg_per_year_fast(frame, prep, mask, filters.count_once),
        seizure_points=seizure_points_fast(frame, prep, mask),
        map=map_points_fast(frame, prep, mask, filters.count_once),
        usd_check=usd_checks_fast(frame, prep, mask),
        table=table_view(_take(frame, _positions(prep, mask)[:TABLE_ROWS], TABLE_SOURCE_COLUMNS)),
        documents=documents,
        sources=docs,
        download=csv_download(rows_at(dataset.frame, mask)) if eager_downloads(dataset, reports) else None,
    )


@st.cache_resource(max_entries=32, show_spinner=False)
def price_view(path: str, version: int, filters: Filters, constant: bool) -> Shown:
    """The price chart's points of one selection, in constant or nominal dollars."""
    dataset = load_dataset(path, version)
    return price_points_fast(dataset.screen, dataset.prep, filter_mask(dataset.prep, filters), constant)


def eager_downloads(dataset: Dataset, rows: int) -> bool:
    """Whether a download of `rows` rows is written on every run (else when clicked).

    Only small ones, and only when the file was read whole: a download on click
    reads the deferred columns when the reader asks for it, never on a rerun.
    """
    return rows <= EAGER_DOWNLOAD_ROWS and dataset.rest is None


def filtered_csv(path: str, version: int, filters: Filters) -> bytes:
    """The filtered download, written when the reader clicks (large selections)."""
    dataset = load_dataset(path, version)
    return csv_download(rows_at(dataset.frame, filter_mask(dataset.prep, filters)))


def full_csv_now(path: str, version: int) -> bytes:
    """The full download (formula-safe), written when the reader clicks (large files)."""
    return csv_download(load_dataset(path, version).frame)


@st.cache_data(max_entries=4, show_spinner=False)
def full_csv(path: str, version: int) -> bytes:
    """The full download (formula-safe), cached per file version (small files)."""
    return full_csv_now(path, version)


# --- Reports behind an incident ---------------------------------------------------
#
# The reader picks one incident of the selection and sees every report of it in the
# whole file (not only the selected or representative ones), its spread and, for a
# total, the parts it sums. The picker offers at most INCIDENTS_OFFERED incidents
# (those with most reports); the rows of the chosen one are found with one comparison
# over the prepared incident codes, only when an incident is chosen.

INCIDENTS_OFFERED = 500
INCIDENT_LABEL_COLUMNS = ["incident_id", "year", "country", "drug", "incident_scope", "incident_parts"]
INCIDENT_REPORT_COLUMNS = ["report_id", "incident_id", "kind", "is_representative", "date", "year", "drug", "country", "place",
                           "quantity_reported", "quantity_kg", "value_reported", "value_usd", "value_usd_const",
                           "incident_kg_min", "incident_kg_max", "incident_reports", "incident_scope",
                           "incident_parts", "source_outlet", "source_title", "source_date", "source_type",
                           "source_url", "notes"]
INCIDENT_REPORT_TABLE = {
    "report_id": "Report", "kind": "Kind", "is_representative": "Representative",
    "quantity_reported": "Quantity as reported", "value_reported": "Value as reported",
    "quantity_kg": "Kilograms", "value_usd": "US$ (nominal)", "value_usd_const": "US$ (constant)",
    "source": "Source", "source_date": "Published", "source_type": "Source type", "url": "Link",
    "notes": "Notes",
}
INCIDENT_PART_TABLE = {
    "incident_id": "Part", "kind": "Kind", "report_id": "Representative report",
    "quantity_reported": "Quantity as reported", "quantity_kg": "Kilograms",
    "value_reported": "Value as reported", "value_usd": "US$ (nominal)",
    "incident_kg_min": "Kg, lowest report", "incident_kg_max": "Kg, highest report",
    "incident_reports": "Reports of it", "source": "Source",
}


@dataclass(frozen=True)
class IncidentChoices:
    """The incidents a selection touches, as offered to the reader (most reported first, capped)."""

    ids: tuple[str, ...]
    labels: dict[str, str]  # incident_id -> readable label
    total: int  # incidents in the selection (may exceed len(ids))


def incident_reports_per_code(prep: Prepared) -> np.ndarray:
    """Reports in the whole file per incident code (all kinds), computed once."""
    counts = prep.cache.get("incident_counts")
    if counts is None:
        counts = prep.cache["incident_counts"] = np.bincount(prep.incident.codes,
                                                             minlength=len(prep.incident.values))
    return counts


def incident_choices_fast(frame: pd.DataFrame, prep: Prepared, mask: np.ndarray,
                          limit: int = INCIDENTS_OFFERED) -> IncidentChoices:
    """The incidents of the masked rows: the `limit` with most reports in the file, then by incident_id."""
    positions = _positions(prep, mask)
    codes = prep.incident.codes[positions]
    first = np.full(len(prep.incident.values), -1, dtype=np.int64)
    first[codes[::-1]] = positions[::-1]  # the first selected row of each incident
    present = np.flatnonzero(first >= 0)
    counts = incident_reports_per_code(prep)[present]
    if len(present) > limit:
        keep = _smallest(-counts.astype(np.float64), limit)
        present, counts = present[keep], counts[keep]
    rows = _take(frame, first[present], INCIDENT_LABEL_COLUMNS)
    rows["reports"] = counts
    rows = rows.sort_values(["reports", "incident_id"], ascending=[False, True], kind="mergesort")
    labels = {r.incident_id: incident_label(r.incident_id, r.year, r.country, r.drug, r.incident_scope,
                                            r.incident_parts, r.reports)
              for r in rows.itertuples(index=False)}
    return IncidentChoices(ids=tuple(labels), labels=labels, total=int((first >= 0).sum()))


def incident_label(incident_id: str, year, country: str, drug: str, scope: str, parts: str, reports: int) -> str:
    """'2003 · Australia · heroin · au-2003-pong-su (total of 2 incidents) · 5 reports'."""
    bits = ["undated" if year is None or pd.isna(year) else str(int(year))]
    bits += [country_name(country) if isinstance(country, str) and country else "place unknown",
             drug if isinstance(drug, str) and drug else "drug unknown"]
    name = str(incident_id)
    if scope == "total":
        n = len(parts.split()) if isinstance(parts, str) else 0
        name += f" (total of {n} incident{'' if n == 1 else 's'})" if n else " (total)"
    bits += [name, f"{reports:,} report{'' if reports == 1 else 's'}"]
    return " · ".join(bits)


@dataclass(frozen=True)
class IncidentDetail:
    """Every report of one incident in the whole file, and the parts it sums when it is a total."""

    incident_id: str
    reports: pd.DataFrame  # INCIDENT_REPORT_COLUMNS, representative first within each kind
    scope: str
    parts: pd.DataFrame  # the representative report of each part (one row per part and kind)
    missing_parts: tuple[str, ...]  # parts named by the total but absent from the file
    part_of: tuple[str, ...]  # totals that list this incident among their parts


def _positions_of(prep: Prepared, incident_ids) -> np.ndarray:
    found = prep.incident.values.get_indexer(list(incident_ids))
    found = found[found >= 0]
    if not len(found):
        return np.zeros(0, dtype=np.int64)
    if len(found) == 1:
        return np.flatnonzero(prep.incident.codes == found[0])
    return np.flatnonzero(np.isin(prep.incident.codes, found))


def incident_detail_fast(frame: pd.DataFrame, prep: Prepared, incident_id: str) -> IncidentDetail | None:
    """The reports of `incident_id` (None when the file has no such incident)."""
    positions = _positions_of(prep, [incident_id])
    if not len(positions):
        return None
    rows = _take(frame, positions, INCIDENT_REPORT_COLUMNS)
    rows = _incident_order(rows)
    scope = str(rows["incident_scope"].iloc[0])
    named = [p for text in rows["incident_parts"].dropna().unique() for p in str(text).split()]
    named = list(dict.fromkeys(named))
    parts = pd.DataFrame(columns=INCIDENT_REPORT_COLUMNS)
    missing: tuple[str, ...] = ()
    if scope == "total" and named:
        part_rows = _take(frame, _positions_of(prep, named), INCIDENT_REPORT_COLUMNS)
        parts = part_rows[part_rows["is_representative"].astype(bool)]
        rank = {p: i for i, p in enumerate(named)}
        parts = parts.assign(_rank=parts["incident_id"].map(rank)).sort_values(["_rank", "kind"], kind="mergesort")
        parts = parts.drop(columns="_rank")
        missing = tuple(p for p in named if p not in set(part_rows["incident_id"]))
    code = prep.incident.values.get_indexer([incident_id])[0]
    owners = prep.part_owner[prep.part_code == code]
    part_of = tuple(dict.fromkeys(prep.incident.values[prep.incident.codes[prep.totals[owners]]])) if len(owners) else ()
    return IncidentDetail(incident_id=incident_id, reports=rows, scope=scope, parts=parts,
                          missing_parts=missing, part_of=part_of)


def _incident_order(rows: pd.DataFrame) -> pd.DataFrame:
    """By kind (file order), the representative first, then the latest-published (undated last), then report_id."""
    kinds = {k: i for i, k in enumerate(dict.fromkeys(rows["kind"]))}
    key = pd.DataFrame({
        "kind": rows["kind"].map(kinds),
        "rep": ~rows["is_representative"].astype(bool),
        "published": rows["source_date"].fillna(""),
        "report": rows["report_id"],
    }, index=rows.index)
    order = key.sort_values(["kind", "rep", "published", "report"], ascending=[True, True, False, True],
                            kind="mergesort").index
    return rows.loc[order]


def incident_report_table(rows: pd.DataFrame) -> pd.DataFrame:
    """The reports of an incident as the page shows them: reported figures, normalised ones, the source."""
    out = rows.copy()
    out["is_representative"] = out["is_representative"].astype(bool)
    out["source"] = source_label(rows)
    out["url"] = safe_url(rows["source_url"])
    return out[list(INCIDENT_REPORT_TABLE)].rename(columns=INCIDENT_REPORT_TABLE)


def incident_part_table(parts: pd.DataFrame) -> pd.DataFrame:
    """The parts of a total, one row per part and kind: its representative figure and spread."""
    out = parts.copy()
    out["source"] = source_label(parts)
    return out[list(INCIDENT_PART_TABLE)].rename(columns=INCIDENT_PART_TABLE)


@st.cache_resource(max_entries=32, show_spinner=False)
def incident_choices(path: str, version: int, filters: Filters) -> IncidentChoices:
    """The incidents offered for one selection (cached per file version and selection; read-only)."""
    dataset = load_dataset(path, version)
    return incident_choices_fast(dataset.screen, dataset.prep, filter_mask(dataset.prep, filters))


@st.cache_resource(max_entries=64, show_spinner=False)
def incident_detail(path: str, version: int, incident_id: str) -> IncidentDetail | None:
    """Every report of one incident (cached per file version and incident; read-only)."""
    dataset = load_dataset(path, version)
    return incident_detail_fast(dataset.screen, dataset.prep, incident_id)


def incident_label_of(path: str, version: int, incident_id: str) -> str:
    """The picker's label of an incident that is not among those offered (e.g. named by a link)."""
    detail = incident_detail(path, version, incident_id)
    if detail is None:
        return incident_id
    r = detail.reports.iloc[0]
    return incident_label(incident_id, r["year"], r["country"], r["drug"], detail.scope, r["incident_parts"],
                          len(detail.reports))
