"""The dashboard's one query layer: the data file, the selection, the count-once rule, one function per view.

Every number the page shows comes from a function here, and the property tests
run these same functions. Frames are Polars; the page converts a view to pandas
only where Streamlit or Plotly want it.

Which file is shown (`data_source`):
  1. `--data PATH` after `--` on the command line, else $SEIZURES_DATA or $SEIZURES_CSV;
  2. else data/seizures.parquet (the build's typed artifact);
  3. else data/seizures.csv (said on screen).
A Parquet file is read as is. A CSV is converted once to a Parquet file in a
cache folder, named by the SHA-256 of the CSV's bytes, and read from there.

The count-once rule (`counted`) lives here and nowhere else: among the selected
reports keep the one the build marked representative for its incident and kind
(`is_representative`), then leave out an operation or annual total when one of
the incidents it sums is also selected. Charts, headline and table counts all
go through it.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from etl.columns import COLUMNS, NAMES

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = REPO / "data"
DEFAULT_PARQUET = DATA_DIR / "seizures.parquet"
DEFAULT_CSV = DATA_DIR / "seizures.csv"
ENV_VARS = ("SEIZURES_DATA", "SEIZURES_CSV")
CACHE_ENV = "SEIZURES_CACHE_DIR"
KINDS = ("seizure", "price", "cash")

MAX_POINTS = 1_000       # markers per scatter chart, the largest kept: more cannot be told apart, and plotly.js
                         # takes about a second to draw 5,000 with their ranges (browser limit: 50,000 per figure)
MAX_PLACES = 2_000       # circles on the map (place and drug), the largest kept
TABLE_ROWS = 1_000       # rows shown in the table (downloads hold them all)
INCIDENTS_OFFERED = 500  # incidents in the picker (those with most reports)

_POLARS_TYPES = {"string": pl.String, "number": pl.Float64, "integer": pl.Int64, "boolean": pl.Boolean}
SCHEMA = {c.name: _POLARS_TYPES[c.type] for c in COLUMNS}


class DataFileError(Exception):
    """The data file cannot be shown; the message names the file (and line and column when it can)."""


# --------------------------------------------------------------------------- which file


@dataclass(frozen=True)
class Source:
    path: Path           # the file the reader asked for (or the default)
    note: str = ""       # said on screen when the file shown is not the default Parquet


def data_source(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> Source:
    argv = sys.argv[1:] if argv is None else argv
    environ = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--data", type=Path)
    args, _ = parser.parse_known_args(argv)
    if args.data is not None:
        return Source(args.data.expanduser().resolve(), f"Showing the file {args.data.name} given at start-up.")
    for var in ENV_VARS:
        if environ.get(var):
            path = Path(environ[var]).expanduser().resolve()
            return Source(path, f"Showing the file {path.name} given at start-up.")
    if DEFAULT_PARQUET.is_file():
        return Source(DEFAULT_PARQUET)
    return Source(DEFAULT_CSV, "Showing seizures.csv: the typed file seizures.parquet was not found next to it.")


def file_key(path: Path) -> tuple[str, int, int]:
    """What the load cache is keyed on: the path, its size and modification time (DataFileError if missing)."""
    try:
        st = path.stat()
    except OSError:
        raise DataFileError(f"{path.name}: there is no data file at this place. Build it with `make data`, or "
                            "start the dashboard with `-- --data PATH`.") from None
    return str(path), st.st_size, st.st_mtime_ns


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_dir(environ: dict[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    if environ.get(CACHE_ENV):
        return Path(environ[CACHE_ENV])
    base = Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "nk-drug-seizures"


def parquet_for(path: Path, cache: Path | None = None) -> Path:
    """The Parquet file to read for `path`: itself, or the cached conversion of a CSV (made if missing)."""
    if path.suffix.lower() == ".parquet":
        return path
    cache = cache or cache_dir()
    target = cache / f"{sha256_of(path)}.parquet"
    if target.is_file():
        return target
    frame = read_csv(path)
    cache.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache, prefix=".convert-", suffix=".parquet")
    os.close(fd)
    try:
        frame.write_parquet(tmp)
        os.replace(tmp, target)  # readers see the whole file or none
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def read_csv(path: Path) -> pl.DataFrame:
    """A cleaned seizures CSV, typed by etl/columns.py. A cell that is not of its column's type is an error
    naming the file, line and column."""
    try:
        raw = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except Exception as err:  # noqa: BLE001 - polars raises several kinds for unreadable files
        raise DataFileError(f"{path.name}: not a readable CSV file ({err}).") from None
    missing = [n for n in NAMES if n not in raw.columns]
    if missing:
        raise DataFileError(f"{path.name}, line 1: the header lacks the column(s) {', '.join(missing)} "
                            "of a cleaned seizures file (see datapackage.json).")
    out = []
    for name in NAMES:
        text = raw[name]
        kind = SCHEMA[name]
        if kind is pl.String:
            out.append(text)
            continue
        if kind is pl.Boolean:
            lowered = text.str.to_lowercase()
            typed = pl.Series(name, [None] * len(text), dtype=pl.Boolean).set(lowered == "true", True)
            typed = typed.set(lowered == "false", False)
        else:
            typed = text.str.strip_chars().cast(kind, strict=False)
        bad = typed.is_null() & text.is_not_null() & (text.str.strip_chars() != "")
        if bad.any():
            row = int(bad.arg_true()[0])
            column = NAMES.index(name) + 1
            raise DataFileError(f"{path.name}, line {row + 2}, column {column} ({name}): {text[row]!r} is not "
                                f"a {COLUMNS[column - 1].type}.")
        out.append(typed)
    return pl.DataFrame(out)


# --------------------------------------------------------------------------- the loaded data


@dataclass(frozen=True)
class Dataset:
    frame: pl.DataFrame          # every row, typed, plus the helper columns of `with_helpers`
    file_name: str               # the file shown, as the reader knows it
    note: str                    # said on screen when not the default file
    package: dict = field(default_factory=dict)   # datapackage.json next to the file ({} if none)
    drugs: tuple[str, ...] = ()  # every drug in the file, in legend order (colours follow it)

    @property
    def version(self) -> str:
        return str(self.package.get("version") or "unknown")

    @property
    def created(self) -> str:
        return str(self.package.get("created") or "unknown")

    @property
    def base_year(self) -> int | None:
        year = self.package.get("constant_usd_base_year")
        return int(year) if isinstance(year, (int, float)) else None

    @property
    def licenses(self) -> list[str]:
        out = []
        for lic in self.package.get("licenses") or []:
            if isinstance(lic, dict):
                out.append(str(lic.get("title") or lic.get("name") or lic.get("path") or ""))
            else:
                out.append(str(lic))
        return [x for x in out if x]


def load(source: Source, cache: Path | None = None) -> Dataset:
    """Read the file (Parquet, or a CSV through the cached Parquet) and add the helper columns."""
    file_key(source.path)
    parquet = parquet_for(source.path, cache)
    try:
        frame = pl.read_parquet(parquet)
    except Exception as err:  # noqa: BLE001
        raise DataFileError(f"{source.path.name}: not a readable Parquet file ({err}).") from None
    missing = [n for n in NAMES if n not in frame.columns]
    if missing:
        raise DataFileError(f"{source.path.name}: lacks the column(s) {', '.join(missing)} of a cleaned seizures file.")
    frame = frame.select([pl.col(n).cast(SCHEMA[n]) for n in NAMES])
    package = read_package(source.path.parent / "datapackage.json")
    frame = with_helpers(frame)
    return Dataset(frame=frame, file_name=source.path.name, note=source.note, package=package,
                   drugs=drug_order(frame))


def read_package(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def with_helpers(frame: pl.DataFrame) -> pl.DataFrame:
    """Add `when` (the event date as a Date: the 1st of July for a year, the 15th for a month),
    `country_name`, `source_label` and `row` (file order)."""
    d = pl.col("date")
    when = (pl.when(d.str.len_chars() == 4).then(d + "-07-01")
            .when(d.str.len_chars() == 7).then(d + "-15")
            .otherwise(d)).str.to_date("%Y-%m-%d", strict=False)
    dates = frame.select(d.unique().drop_nulls())  # each distinct date parsed once (few, however many rows)
    dates = dates.with_columns(when=when)
    codes = frame["country"].unique().drop_nulls().to_list()
    names = {c: country_name(c) for c in codes}
    outlet, title = pl.col("source_outlet").fill_null(""), pl.col("source_title").fill_null("")
    label = (pl.when((outlet != "") & (title != "")).then(outlet + ": " + title).otherwise(outlet + title))
    return frame.with_columns(
        when=d.replace_strict(dates["date"], dates["when"], default=None, return_dtype=pl.Date),
        country_name=pl.col("country").replace_strict(names, default="Unknown", return_dtype=pl.String),
        source_label=label,
        row=pl.int_range(pl.len(), dtype=pl.Int64),
    )


def drug_order(frame: pl.DataFrame) -> tuple[str, ...]:
    """Drugs by number of reports (most first), 'unspecified' last: the legend order and colour key."""
    counts = frame.group_by("drug").len().drop_nulls("drug").sort(["len", "drug"], descending=[True, False])
    drugs = [d for d in counts["drug"].to_list() if d and d != "unspecified"]
    return tuple(drugs + (["unspecified"] if "unspecified" in counts["drug"].to_list() else []))


# --------------------------------------------------------------------------- names


_SHORT_NAMES = {"KP": "North Korea", "KR": "South Korea", "TW": "Taiwan", "VE": "Venezuela", "RU": "Russia",
                "VN": "Vietnam", "LA": "Laos", "IR": "Iran", "SY": "Syria", "TZ": "Tanzania", "BO": "Bolivia",
                "MD": "Moldova", "CZ": "Czechia", "TR": "Turkey"}


def country_name(code: str) -> str:
    """'KP' -> 'North Korea'; the code itself when unknown."""
    import pycountry

    if not code:
        return "Unknown"
    if code in _SHORT_NAMES:
        return _SHORT_NAMES[code]
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return getattr(country, "common_name", None) or country.name


def country_code(text: str, known: tuple[str, ...]) -> str | None:
    """The code among `known` that `text` names: an ISO alpha-2 or alpha-3 code, or a name (any case)."""
    import pycountry

    wanted = text.strip().casefold()
    if not wanted:
        return None
    for code in known:
        if wanted == code.casefold() or wanted == country_name(code).casefold():
            return code
    try:
        found = pycountry.countries.lookup(text.strip())
    except LookupError:
        return None
    return found.alpha_2 if found.alpha_2 in known else None


LINK_LABELS = {
    "state_agents": "North Korean officials or diplomats",
    "nk_nationals": "North Korean nationals",
    "nk_port_or_ship": "North Korean ship or port",
    "nk_made_official": "Made in North Korea (authorities)",
    "nk_made_suspects": "Made in North Korea (suspects)",
    "border_inference": "Seized at the border",
    "unnamed_source": "Unnamed source",
    "in_north_korea": "Observed inside North Korea",
}
KIND_LABELS = {"seizure": "Seizures", "price": "Prices", "cash": "Cash seized"}


def link_label(code: str) -> str:
    return LINK_LABELS.get(code) or code.replace("_", " ").capitalize()


# --------------------------------------------------------------------------- the selection


@dataclass(frozen=True)
class Filters:
    """The reader's selection. Empty tuples mean "all". `years` None means every year, and then
    `include_undated` says whether reports without a date are in; a year range never holds them."""

    years: tuple[int, int] | None = None
    include_undated: bool = True
    drugs: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    links: tuple[str, ...] = ()


@dataclass(frozen=True)
class Options:
    years: tuple[int, int] | None
    drugs: tuple[str, ...]
    countries: tuple[str, ...]
    kinds: tuple[str, ...]
    links: tuple[str, ...]
    undated: int


def options(frame: pl.DataFrame) -> Options:
    years = frame["year"].drop_nulls()
    return Options(
        years=(int(years.min()), int(years.max())) if len(years) else None,
        drugs=tuple(sorted(frame["drug"].drop_nulls().unique().to_list())),
        countries=tuple(sorted(frame["country"].drop_nulls().unique().to_list(), key=country_name)),
        kinds=tuple(k for k in KINDS if k in set(frame["kind"].drop_nulls().unique().to_list())),
        links=tuple(sorted(frame["nk_link"].drop_nulls().unique().to_list(), key=link_label)),
        undated=int(frame["year"].null_count()),
    )


def _others(filters: Filters) -> pl.Expr:
    keep = pl.lit(True)
    for column, chosen in (("drug", filters.drugs), ("country", filters.countries),
                           ("kind", filters.kinds), ("nk_link", filters.links)):
        if chosen:
            keep &= pl.col(column).is_in(pl.Series(list(chosen), dtype=pl.String).implode())
    return keep


def _years(filters: Filters) -> pl.Expr:
    year = pl.col("year")
    if filters.years is not None:
        low, high = filters.years
        return year.is_not_null() & (year >= low) & (year <= high)
    return pl.lit(True) if filters.include_undated else year.is_not_null()


Rows = pl.DataFrame | pl.LazyFrame


def _lf(rows: Rows) -> pl.LazyFrame:
    return rows.lazy() if isinstance(rows, pl.DataFrame) else rows


def _like(rows: Rows, out: pl.LazyFrame) -> Rows:
    """`out` eager when `rows` was (tests and downloads), lazy otherwise (the page: Polars then reads only
    the columns a view needs, which on a million rows is the difference between seconds and milliseconds)."""
    return out.collect() if isinstance(rows, pl.DataFrame) else out


def select(frame: Rows, filters: Filters) -> Rows:
    """Every report that matches the filters (all reports of an incident, not yet counted once)."""
    return _like(frame, _lf(frame).filter(_others(filters) & _years(filters)))


def undated_left_out(frame: Rows, filters: Filters) -> int:
    """Incidents without a date that match the other filters but not the year choice (counted once)."""
    if filters.years is None and filters.include_undated:
        return 0
    rows = counted(_lf(frame).filter(_others(filters)))
    return int(rows.filter(pl.col("year").is_null()).select(pl.col("incident_id").n_unique()).collect().item())


def counted(rows: Rows) -> Rows:
    """THE count-once rule: the representative report of each incident and kind, without the totals
    whose parts are also among `rows`. Every sum, count and chart of the page is made of these rows."""
    rep = _lf(rows).filter(pl.col("is_representative").fill_null(False))
    is_total = pl.col("incident_scope") == "total"
    totals = rep.filter(is_total).join(redundant_totals(rep), on=["incident_id", "kind"], how="anti",
                                       nulls_equal=True)
    return _like(rows, pl.concat([rep.filter(~is_total.fill_null(False)), totals]))


def redundant_totals(rep: Rows) -> pl.LazyFrame:
    """(incident_id, kind) of the totals in `rep` that list a part also in `rep` with the same kind."""
    rep = _lf(rep)
    totals = rep.filter((pl.col("incident_scope") == "total") & (pl.col("incident_parts").fill_null("") != ""))
    parts = (totals.select("incident_id", "kind", part=pl.col("incident_parts").str.split(" "))
             .explode("part").filter(pl.col("part") != ""))
    present = rep.select(part="incident_id", kind="kind")
    return parts.join(present, on=["part", "kind"], how="semi").select("incident_id", "kind").unique()


def part_of_totals(rows: Rows, incidents: pl.Series | None = None) -> pl.DataFrame:
    """incident_id -> part_of: for a seizure whose total is left out (its parts are counted), what the
    sources give for the whole ('part of au-2003-pong-su: sources give 125 to 150 kg for the whole').
    `incidents`: only for these parts."""
    from app.format import mass

    rep = _lf(rows).filter(pl.col("is_representative").fill_null(False) & (pl.col("kind") == "seizure"))
    totals = rep.join(redundant_totals(rep), on=["incident_id", "kind"], how="semi")
    parts = totals.select(total="incident_id", low="incident_kg_min", high="incident_kg_max",
                          incident_id=pl.col("incident_parts").str.split(" ")).explode("incident_id")
    if incidents is not None:
        parts = parts.filter(pl.col("incident_id").is_in(incidents.implode()))
    parts = parts.collect()
    lines = []
    for total, low, high, part in parts.select("total", "low", "high", "incident_id").iter_rows():
        spread = ("" if low is None else f": sources give {mass(low)} to {mass(high)} for the whole" if high > low
                  else f": {mass(low)} for the whole")
        lines.append((part, f"part of {total}{spread}"))
    return (pl.DataFrame(lines, schema={"incident_id": pl.String, "part_of": pl.String}, orient="row")
            .group_by("incident_id").agg(pl.col("part_of").str.join("; ")))


def totals_left_out(rows: Rows) -> int:
    rep = _lf(rows).filter(pl.col("is_representative").fill_null(False))
    return int(redundant_totals(rep).select(pl.len()).collect().item())


# --------------------------------------------------------------------------- headline


@dataclass(frozen=True)
class Headline:
    incidents: int            # distinct incidents counted once
    reports: int              # reports selected (every report of every incident)
    seizures: int             # seizure incidents counted
    seizures_with_kg: int
    kg: float
    tablets: dict[str, float]  # counted unit -> count, for seizures given only as counts
    kg_by_drug: dict[str, float]
    value_usd_const: float
    seizures_with_value: int
    price_quotes: int
    implied_values: int
    undated_left_out: int
    totals_left_out: int


HEADLINE_COLUMNS = ["incident_id", "kind", "drug", "quantity_kg", "quantity_count", "quantity_count_unit",
                    "value_usd_const", "price_usd_per_kg_const", "implied_usd_per_kg_const"]


def headline(frame: Rows, filters: Filters) -> Headline:
    rows = select(_lf(frame), filters)
    reports = int(rows.select(pl.len()).collect().item())
    # the counted rows are collected once (9 columns); the sums over them are then one lazy query, which
    # Polars runs in parallel (eager, the distinct count alone took longer than the count-once rule)
    c = counted(rows).select(HEADLINE_COLUMNS).collect().lazy()
    is_seizure = pl.col("kind") == "seizure"
    kg = pl.col("quantity_kg")
    sums = c.select(
        incidents=pl.col("incident_id").n_unique(),
        seizures=is_seizure.sum(),
        seizures_with_kg=(is_seizure & kg.is_not_null()).sum(),
        kg=kg.filter(is_seizure).sum(),
        value_usd_const=pl.col("value_usd_const").filter(is_seizure).sum(),
        seizures_with_value=(is_seizure & pl.col("value_usd_const").is_not_null()).sum(),
        price_quotes=((pl.col("kind") == "price") & pl.col("price_usd_per_kg_const").is_not_null()).sum(),
        implied_values=(is_seizure & pl.col("implied_usd_per_kg_const").is_not_null()).sum(),
    )
    counts = (c.filter(is_seizure & kg.is_null() & pl.col("quantity_count").is_not_null())
              .group_by("quantity_count_unit").agg(pl.col("quantity_count").sum()).sort("quantity_count_unit"))
    by_drug = (c.filter(is_seizure & kg.is_not_null()).group_by("drug").agg(kg.sum())
               .sort("quantity_kg", descending=True))
    sums, counts, by_drug = pl.collect_all([sums, counts, by_drug])
    n = sums.row(0, named=True)
    return Headline(
        incidents=int(n["incidents"]),
        reports=reports,
        seizures=int(n["seizures"]),
        seizures_with_kg=int(n["seizures_with_kg"]),
        kg=float(n["kg"] or 0),
        tablets={str(u or "item"): float(k) for u, k in counts.iter_rows()},
        kg_by_drug={str(d): float(k) for d, k in by_drug.iter_rows()},
        value_usd_const=float(n["value_usd_const"] or 0),
        seizures_with_value=int(n["seizures_with_value"]),
        price_quotes=int(n["price_quotes"]),
        implied_values=int(n["implied_values"]),
        undated_left_out=undated_left_out(frame, filters),
        totals_left_out=totals_left_out(rows),
    )


# --------------------------------------------------------------------------- chart views


def kg_per_year(rows: pl.DataFrame) -> pl.DataFrame:
    """year, drug, kg, seizures: counted seizures with a mass and a year. Years without any are absent."""
    seiz = counted(_lf(rows)).filter((pl.col("kind") == "seizure") & pl.col("quantity_kg").is_not_null()
                                     & pl.col("year").is_not_null())
    return (seiz.group_by("year", "drug").agg(kg=pl.col("quantity_kg").sum(), seizures=pl.len())
            .sort("year", "drug").collect())


_POINT_COLUMNS = ("report_id", "incident_id", "when", "date", "drug", "country_name", "place", "quantity_reported",
                  "incident_reports", "source_label", "incident_kg_min", "incident_kg_max", "quantity_kg",
                  "quantity_kg_low", "quantity_kg_high")


def seizure_points(rows: pl.DataFrame, limit: int = MAX_POINTS) -> tuple[pl.DataFrame, int]:
    """One point per counted seizure with a mass and a date; `low`/`high` span both the reported
    range and the spread between the incident's sources. Returns (points, how many there were)."""
    seiz = counted(_lf(rows)).filter((pl.col("kind") == "seizure") & pl.col("quantity_kg").is_not_null()
                                     & pl.col("when").is_not_null())
    total = int(seiz.select(pl.len()).collect().item())
    # the columns shown, chosen before collecting: the largest `limit` rows are then gathered for 15 columns,
    # not all 60 (at a million rows that was most of this view's time)
    seiz = seiz.select(*_POINT_COLUMNS).top_k(limit, by="quantity_kg").collect()
    seiz = seiz.join(part_of_totals(rows, seiz["incident_id"]), on="incident_id", how="left")
    kg = pl.col("quantity_kg")
    low = pl.min_horizontal(kg, pl.col("quantity_kg_low"), pl.col("incident_kg_min"))
    high = pl.max_horizontal(kg, pl.col("quantity_kg_high"), pl.col("incident_kg_max"))
    out = seiz.select(
        "report_id", "incident_id", "when", "date", "drug", "country_name", "place", "quantity_reported",
        "incident_reports", "source_label", "incident_kg_min", "incident_kg_max", "part_of",
        kg=kg, low=low, high=high,
        open_low=pl.col("quantity_kg_low").is_null() & pl.col("quantity_kg_high").is_not_null(),
        open_high=pl.col("quantity_kg_high").is_null() & pl.col("quantity_kg_low").is_not_null(),
    )
    return out.sort("when"), total


def market_prices(rows: pl.DataFrame, limit: int = MAX_POINTS) -> tuple[pl.DataFrame, int]:
    """Quoted market prices per kg (kind=price), counted once, with a date."""
    p = counted(_lf(rows)).filter((pl.col("kind") == "price") & pl.col("price_usd_per_kg_const").is_not_null()
                                  & pl.col("when").is_not_null())
    total = int(p.select(pl.len()).collect().item())
    p = p.head(limit).select("report_id", "when", "date", "drug", "country_name", "place", "value_reported",
                             "source_label", "source_url", usd_per_kg=pl.col("price_usd_per_kg_const"),
                             usd_per_kg_nominal=pl.col("price_usd_per_kg")).collect()
    return p.sort("when"), total


def implied_values(rows: pl.DataFrame, limit: int = MAX_POINTS) -> tuple[pl.DataFrame, int]:
    """Values per kg implied by seizures (stated value / mass), counted once, with a date."""
    s = counted(_lf(rows)).filter((pl.col("kind") == "seizure") & pl.col("implied_usd_per_kg_const").is_not_null()
                                  & pl.col("when").is_not_null())
    total = int(s.select(pl.len()).collect().item())
    s = s.top_k(limit, by="quantity_kg").select(
        "report_id", "when", "date", "drug", "country_name", "place", "quantity_reported", "value_reported",
        "source_label", usd_per_kg=pl.col("implied_usd_per_kg_const"),
        usd_per_kg_nominal=pl.col("implied_usd_per_kg")).collect()
    return s.sort("when"), total


def nk_meth_prices(frame: pl.DataFrame, years: tuple[int, int] | None = None,
                   limit: int = MAX_POINTS) -> tuple[pl.DataFrame, int, int]:
    """Quoted prices of methamphetamine inside North Korea, per gram in constant US$, counted once, in date
    order; (quotes, how many there were, k). Beyond `limit` quotes, one in every k is kept (k as small as fits;
    else k is 1)."""
    p = counted(_lf(frame).filter((pl.col("kind") == "price") & (pl.col("country") == "KP")
                                  & (pl.col("drug") == "methamphetamine")))
    p = p.filter(pl.col("price_usd_per_kg_const").is_not_null() & pl.col("when").is_not_null())
    if years is not None:
        p = p.filter(pl.col("year").is_between(years[0], years[1]))
    p = p.select("report_id", "when", "date", "year", "place", "value_reported", "currency", "fx_lcu_per_usd",
                 "source_outlet", "source_title", "source_date", "source_url",
                 usd_per_gram=pl.col("price_usd_per_kg_const") / 1000,
                 usd_per_gram_nominal=pl.col("price_usd_per_kg") / 1000).sort("when", "report_id").collect()
    total = len(p)
    every = -(-total // limit) if total > limit else 1
    return (p.gather_every(every) if every > 1 else p), total, every


def map_points(rows: pl.DataFrame, limit: int = MAX_PLACES) -> tuple[pl.DataFrame, int]:
    """One circle per place and drug: kg summed over counted seizures, counts of tablets kept apart."""
    s = counted(_lf(rows)).filter((pl.col("kind") == "seizure") & pl.col("lat").is_not_null()
                                  & pl.col("lon").is_not_null())
    place = pl.coalesce(pl.col("place"), pl.lit("")).alias("place")
    g = (s.with_columns(place)
         .group_by("lat", "lon", "country_name", "place", "drug", "location_precision")
         .agg(kg=pl.col("quantity_kg").sum(), with_kg=pl.col("quantity_kg").count(),
              count=pl.col("quantity_count").filter(pl.col("quantity_kg").is_null()).sum(),
              count_unit=pl.col("quantity_count_unit").filter(pl.col("quantity_kg").is_null()).drop_nulls().first(),
              seizures=pl.len())
         .sort("kg", descending=True)).collect()
    total = len(g)
    return g.head(limit), total


# --------------------------------------------------------------------------- table, sources, incidents


def table(rows: pl.DataFrame, every_report: bool, limit: int = TABLE_ROWS) -> tuple[pl.DataFrame, int]:
    """The rows for the table, sorted by date (undated last), report id first; (rows, how many)."""
    t = _lf(rows) if every_report else counted(_lf(rows))
    total = int(t.select(pl.len()).collect().item())
    return t.sort(["when", "report_id"], nulls_last=True).head(limit).collect(), total


def sources(rows: Rows) -> pl.DataFrame:
    return (_lf(rows).group_by("source_id")
            .agg(pl.col("source_outlet").first(), pl.col("source_title").first(), pl.col("source_date").first(),
                 pl.col("source_url").first(), pl.col("source_via").first(), reports=pl.len())
            .sort(["source_date", "source_id"], nulls_last=True).collect())


def incident_choices(rows: pl.DataFrame, frame: pl.DataFrame, limit: int = INCIDENTS_OFFERED) -> tuple[list[str], int]:
    """Incidents of the selection, those with most reports in the whole file first; (ids, how many)."""
    ids = _lf(rows).select("incident_id").unique()
    sizes = _lf(frame).join(ids, on="incident_id", how="semi").group_by("incident_id").len()
    sizes = sizes.sort(["len", "incident_id"], descending=[True, False]).collect()
    return sizes["incident_id"].head(limit).to_list(), len(sizes)


def incident_reports(frame: pl.DataFrame, incident_id: str) -> pl.DataFrame:
    """Every report of one incident in the file, representative first."""
    return (frame.filter(pl.col("incident_id") == incident_id)
            .sort(["kind", "is_representative", "report_id"], descending=[False, True, False]))


def incident_parts(frame: pl.DataFrame, incident_id: str) -> pl.DataFrame:
    """The representative reports of the incidents a total sums."""
    rows = frame.filter(pl.col("incident_id") == incident_id)
    if rows.is_empty():
        return rows
    parts = [p for p in (rows["incident_parts"][0] or "").split() if p]
    return frame.filter(pl.col("incident_id").is_in(pl.Series(parts, dtype=pl.String).implode())
                        & pl.col("is_representative").fill_null(False)).sort("incident_id")
