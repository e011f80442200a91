"""The build: raw reports + reference tables -> seizures.csv, seizures.parquet, datapackage.json.

1. Read every input (reference tables, sources.csv, incidents.csv, reports.csv)
   as text; any file-level fault, and any fault in sources or incidents, stops
   the build.
2. Normalise reports.csv (etl.normalise): every problem of every row at once,
   located by file and physical line.
3. Without --keep-going any error stops the build; with it, rejected rows go to
   the rejects file (each input row as written, its line and its reasons).
4. The incident columns (etl.incidents) over the kept rows, the output
   validated against the declared schema (etl.schema), then written: the CSV
   and the typed Parquet file, and the data package that records both hashes.

`build()` returns everything in memory (the upload page, tests); `write()`
publishes the outputs of a build atomically (all or nothing).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandera.polars as pa
import polars as pl

from etl.columns import COLUMNS, NAMES
from etl.commit import publish_mode, staged_outputs
from etl.csvio import CsvTable, file_facts, read_csv, write_csv
from etl.csvio import csv_bytes as _csv_bytes
from etl.errors import InputProblems, Problem
from etl.incidents import INCIDENT_COLUMNS, KEY_COLUMNS, check_incidents, incident_columns
from etl.normalise import REPORT_COLUMNS, SOURCE_COLUMNS, SOURCE_OPTIONAL, USD_CHECK_TOLERANCE_PCT, normalise, validate_sources
from etl.reference import Reference, load_reference
from etl.schema import output_schema

OUTPUT_NAME = "seizures.csv"
PARQUET_NAME = "seizures.parquet"
DATAPACKAGE_NAME = "datapackage.json"
REJECTS_NAME = "seizures.rejects.csv"
OUTPUT_NAMES = [OUTPUT_NAME, PARQUET_NAME, DATAPACKAGE_NAME]
RELEASE_NAME = "release.csv"  # data/raw/release.csv: the release version and date the data package states
RELEASE_COLUMNS = ["version", "created", "note"]
DATA_LICENSE = {"name": "CC-BY-4.0", "title": "Creative Commons Attribution 4.0 International",
                "path": "https://creativecommons.org/licenses/by/4.0/"}


@dataclass
class BuildResult:
    """What a build produced: the output table, the rejected rows, every problem, and the counts."""

    frame: pl.DataFrame  # the output table, typed as etl.columns declares
    rejects: pl.DataFrame | None  # with --keep-going: line, the input cells as written, reasons
    ref: Reference
    inputs: list[tuple[Path, str]]  # every input file and its sha256, for the data package
    release: tuple[str, str | None]  # (version, created)
    out: Path
    warnings: list[Problem] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    input_rows: int = 0
    rejected_rows: int = 0
    rejects_path: Path | None = None
    files: dict[Path, bytes] = field(default_factory=dict)  # build(): each output's bytes (and the rejects file's)

    @property
    def written_rows(self) -> int:
        return self.frame.height


def build(raw: Path, reference: Path, out: Path, keep_going: bool = False, rejects: Path | None = None,
          today: dt.date | None = None) -> BuildResult:
    """Run the whole build in memory; raise `InputProblems` unless it can write.

    `files` maps each output path (and the rejects path, with `keep_going`) to its bytes.
    """
    result = run(raw, reference, out, keep_going, rejects, today)
    with ThreadPoolExecutor(1) as pool:  # the two files are made at the same time (each writer releases the GIL)
        parquet = pool.submit(parquet_bytes, result.frame)
        csv_data = csv_bytes(result.frame)
        parquet_data = parquet.result()
    result.files = {
        out / OUTPUT_NAME: csv_data,
        out / PARQUET_NAME: parquet_data,
        out / DATAPACKAGE_NAME: datapackage_bytes(result, {OUTPUT_NAME: _digest(csv_data), PARQUET_NAME: _digest(parquet_data)}),
    }
    if result.rejects is not None:
        result.files[result.rejects_path] = rejects_bytes(result.rejects)
    return result


def run(raw: Path, reference: Path, out: Path, keep_going: bool = False, rejects: Path | None = None,
        today: dt.date | None = None) -> BuildResult:
    """Read, normalise, reconcile and validate; the outputs' contents, nothing written."""
    ref = load_reference(reference)
    sources, reports, incidents = _read_inputs(raw, ref)
    result = normalise(reports.frame, sources.frame, ref, today=today, display=reports.display,
                       lines=reports.lines.to_list(), kept_only=True,
                       known_incidents=incidents.frame["incident_id"] if incidents is not None else None)
    errors = [p for p in result.problems if p.severity == "error"]
    warnings = [p for p in result.problems if p.severity == "warning"]
    if errors and not keep_going:
        raise InputProblems(errors + warnings)

    rejected = result.rejected
    rejects_frame = _rejects(reports, rejected, result.problems) if keep_going else None
    input_rows, rejected_rows = reports.frame.height, int(rejected.sum())
    inputs = [(t.path, t.sha256) for t in (sources, reports, incidents) if t is not None]
    reports = sources = None  # the input cells are not needed from here on (the output still shares the columns
    # it passes through as written, such as the ids and notes; the rest of the input's memory goes back)
    kept = result.frame  # the rows without an error
    rows = None if result.incident_row is None else (
        result.incident_row.filter(~rejected) if rejected_rows else result.incident_row)
    result = None
    derived = incident_columns(kept.select(KEY_COLUMNS), incidents.frame if incidents is not None else None,
                               ref.source_types, rows)
    frame = _beside(kept, derived).select(NAMES)
    del kept, derived
    _validate(frame, ref, out / OUTPUT_NAME)

    inputs += [(p, _digest(p.read_bytes())[1]) for p in ref.paths.values()]
    release = _release(raw, inputs)
    if release[2] is not None:
        inputs.append(release[2])
    return BuildResult(frame, rejects_frame, ref, inputs, release[:2], out, warnings, errors, input_rows,
                       rejected_rows, (rejects or out / REJECTS_NAME) if keep_going else None)


def _beside(left: pl.DataFrame, right: pl.DataFrame) -> pl.DataFrame:
    """`left` and `right` (one chunk) side by side, without a copy: `right` is cut where `left`'s chunks end.

    (A horizontal concat of frames chunked differently would copy every column into one chunk.)
    """
    lengths = left.get_column(left.columns[0]).chunk_lengths()
    if len(lengths) <= 1:
        return pl.concat([left, right], how="horizontal")
    parts, start = [], 0
    for length in lengths:
        parts.append(pl.concat([left.slice(start, length), right.slice(start, length)], how="horizontal"))
        start += length
    return pl.concat(parts)


def _read_inputs(raw: Path, ref: Reference) -> tuple[CsvTable, CsvTable, CsvTable | None]:
    """Read sources.csv, reports.csv and (optional) incidents.csv; file-level faults are fatal."""
    sources, p1 = read_csv(raw / "sources.csv", str(raw / "sources.csv"), SOURCE_COLUMNS, SOURCE_OPTIONAL)
    reports, p2 = read_csv(raw / "reports.csv", str(raw / "reports.csv"), REPORT_COLUMNS)
    incidents, p3 = None, []
    if (raw / "incidents.csv").exists():
        incidents, p3 = read_csv(raw / "incidents.csv", str(raw / "incidents.csv"), INCIDENT_COLUMNS)
    if p1 or p2 or p3:
        raise InputProblems(p1 + p2 + p3)
    fatal = validate_sources(sources.frame, ref, sources.display, sources.lines.to_list())
    if incidents is not None:
        fatal += check_incidents(incidents.frame, ref.scopes, incidents.display, incidents.lines.to_list())
    if fatal:
        raise InputProblems(fatal)
    return sources, reports, incidents


def _rejects(reports: CsvTable, rejected: pl.Series, problems: list[Problem]) -> pl.DataFrame:
    """Each rejected input row as it was written, its line first and every reason last."""
    reasons: dict[int, list[str]] = {}
    for p in problems:
        if p.severity == "error":
            reasons.setdefault(p.line, []).append(f"{p.column}: {p.message}")
    lines = reports.lines.filter(rejected)
    return pl.concat([
        pl.DataFrame({"line": lines.cast(pl.Int64)}),
        reports.original.filter(rejected),
        pl.DataFrame({"reasons": [" | ".join(reasons[line]) for line in lines.to_list()]}, schema={"reasons": pl.String}),
    ], how="horizontal")


def _validate(frame: pl.DataFrame, ref: Reference, path: Path) -> None:
    """Every schema failure of the output; the input checks make this a safety net that only a bug can trip."""
    try:
        output_schema(ref).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        problems = []
        for case in cases.iter_rows(named=True):
            line = int(case["index"]) + 2 if case.get("index") is not None else 0
            column = case["column"] if isinstance(case.get("column"), str) else "-"
            problems.append(Problem(f"{path} (output check)", line, column,
                                    f"output check {case['check']!s} failed ({case['failure_case']!r}); this is a bug in the build"))
        raise InputProblems(problems) from None


# ---------------------------------------------------------------------------
# Writing


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """The output (or rejects) table as CSV: etl.csvio's one format (formula-safe, True/False, empty text as nothing)."""
    return _csv_bytes(frame)


rejects_bytes = csv_bytes


# LZ4 (Parquet's LZ4_RAW codec) costs about a fifth less time to write than zstd level 1 and about a third less than
# zstd level 3 (the earlier choice), for a file about a quarter larger than zstd level 1's. A fixed row-group size
# makes the bytes depend on the rows alone, not on how the frame happens to be split in memory.
PARQUET_OPTIONS = dict(compression="lz4", statistics=True, row_group_size=262_144)


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    """The output table as Parquet, in exactly the bytes `write` puts in the file."""
    buffer = io.BytesIO()
    _write_parquet(frame, buffer)
    return buffer.getvalue()


def _write_parquet(frame: pl.DataFrame, target: Path | io.BytesIO) -> None:
    frame.lazy().sink_parquet(target, **PARQUET_OPTIONS)  # row groups encoded in parallel


def write(result: BuildResult) -> None:
    """Publish the outputs of `result`: all together or none (and the rejects file, if any, just before).

    The CSV and the Parquet file are written at the same time, each hashed as soon
    as it is complete; the data package, which records both hashes, comes last.
    """
    out = result.out
    if result.rejects is not None:
        _write_rejects(result.rejects, result.rejects_path)
    with staged_outputs(out, OUTPUT_NAMES) as temps:
        csv_path, parquet_path = temps[OUTPUT_NAME], temps[PARQUET_NAME]
        with ThreadPoolExecutor(1) as pool:  # leaving the block waits for the thread, also after an error
            parquet = pool.submit(_parquet_file, result.frame, parquet_path)
            digests = {OUTPUT_NAME: write_csv(result.frame, csv_path)}
            digests[PARQUET_NAME] = parquet.result()
        temps[DATAPACKAGE_NAME].write_bytes(datapackage_bytes(result, digests))


def _parquet_file(frame: pl.DataFrame, path: Path) -> tuple[int, str]:
    """Write `frame` as Parquet to `path`; the file's size and sha256."""
    _write_parquet(frame, path)
    return file_facts(path)[:2]


def _write_rejects(rejects: pl.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write_csv(rejects, Path(temp))
        os.chmod(temp, publish_mode(path))  # the mode of the file it replaces, else 0666 minus the umask
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def _digest(data: bytes) -> tuple[int, str]:
    return len(data), hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------
# The data package


def _release(raw: Path, inputs: list[tuple[Path, str]]) -> tuple[str, str | None, tuple[Path, str] | None]:
    """(version, created, release file input) from data/raw/release.csv and the inputs' hashes.

    The version is the curator's release number (release.csv) with the first 8 hex
    digits of a hash over every input's hash as semver build metadata, so any change
    to the data changes the version; `created` is the release date in release.csv.
    Both depend on the inputs alone, so a rebuild gives the same bytes.
    """
    combined = hashlib.sha256("".join(sorted(f"{_name(p)}={h}\n" for p, h in inputs)).encode()).hexdigest()[:8]
    path = raw / RELEASE_NAME
    if not path.exists():
        return f"0.0.0+{combined}", None, None
    table, problems = read_csv(path, str(path), RELEASE_COLUMNS)
    if problems:
        raise InputProblems(problems)
    if table.frame.height != 1:
        raise InputProblems([Problem(str(path), 0, "-", "holds one row: the version and date of the current release")])
    version, created = table.frame.row(0)[:2]
    problems = []
    if not _semver(version):
        problems.append(Problem(str(path), int(table.lines[0]), "version", f"not a version MAJOR.MINOR.PATCH: {version!r}"))
    try:
        dt.date.fromisoformat(created)
    except ValueError:
        problems.append(Problem(str(path), int(table.lines[0]), "created", f"not a date YYYY-MM-DD: {created!r}"))
    if problems:
        raise InputProblems(problems)
    return f"{version}+{combined}", f"{created}T00:00:00Z", (path, table.sha256)


def _semver(text: str) -> bool:
    parts = text.split(".")
    return len(parts) == 3 and all(p.isdigit() and (p == "0" or not p.startswith("0")) for p in parts)


def _name(path: Path) -> str:
    return Path(path).name


def datapackage_bytes(result: BuildResult, digests: dict[str, tuple[int, str]]) -> bytes:
    """The Frictionless data package describing both output files (deterministic: inputs only)."""
    ref, out = result.ref, result.out
    version, created = result.release
    schema = {"fields": [_field(c) for c in COLUMNS], "primaryKey": ["report_id"], "missingValues": [""]}
    package = {
        "profile": "tabular-data-package",
        "name": "nk-drug-seizures",
        "title": "Reported drug seizures and street prices linked to North Korea",
        "description": (
            "One row per figure reported in a source document, normalised to kilograms and US dollars "
            "(nominal and constant). Built by `python -m etl build` from data/raw and data/reference; "
            "seizures.parquet holds the same rows and columns as seizures.csv, typed."
        ),
        "version": version,
        **({"created": created} if created else {}),
        "licenses": [DATA_LICENSE],
        "constant_usd_base_year": ref.base_year,
        "usd_check_tolerance_pct": USD_CHECK_TOLERANCE_PCT,
        "resources": [
            {
                "name": "seizures",
                "path": OUTPUT_NAME,
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "bytes": digests[OUTPUT_NAME][0],
                "hash": f"sha256:{digests[OUTPUT_NAME][1]}",
                "schema": schema,
            },
            {
                "name": "seizures-parquet",
                "path": PARQUET_NAME,
                "profile": "tabular-data-resource",
                "format": "parquet",
                "mediatype": "application/vnd.apache.parquet",
                "bytes": digests[PARQUET_NAME][0],
                "hash": f"sha256:{digests[PARQUET_NAME][1]}",
                "schema": schema,
            },
        ],
        "exchange_rates": {
            "table": _rel(ref.paths["fx"], out),
            "meaning": "annual average, units of local currency per US dollar; USD is 1 by definition",
            "sources": [
                {"currency": r["currency"], "source": r["source"], "url": r["source_url"], "years": f"{r['first_year']}-{r['last_year']}"}
                for r in ref.fx_sources.iter_rows(named=True)
            ],
            **({"kpw_market_rate": {
                "table": _rel(ref.paths["kpw"], out),
                "meaning": ("North Korean won per US dollar on the market, by month or year, in the won of the period "
                            "(old won before December 2009); used only for figures inside North Korea"),
                "sources": sorted({f"{r['source']} {r['source_url']}".strip() for r in ref.kpw.iter_rows(named=True)}),
            }} if ref.kpw is not None else {}),
        },
        "price_index": {
            "table": _rel(ref.paths["cpi"], out),
            "series": "US CPI-U, all items, U.S. city average, annual average (BLS CUUR0000SA0)",
            "base_year": ref.base_year,
            "base_year_rule": "the latest year of the table with all 12 monthly values",
            "sources": sorted({f"{s} {u}" for s, u in ref.cpi.select("source", "source_url").iter_rows()}),
        },
        "sources": [
            {"title": f"{r['currency']} exchange rate: {r['source']}", "path": r["source_url"]}
            for r in ref.fx_sources.iter_rows(named=True)
        ] + [{"title": "US CPI-U annual average (BLS)", "path": "https://data.bls.gov/timeseries/CUUR0000SA0"}],
        "inputs": [{"path": _rel(path, out), "hash": f"sha256:{digest}"} for path, digest in result.inputs],
    }
    return (json.dumps(package, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _field(c) -> dict:
    field = {"name": c.name, "type": c.type, "description": c.description}
    if c.unit:
        field["unit"] = c.unit
    if c.type == "boolean":
        field["trueValues"] = ["True"]
        field["falseValues"] = ["False"]
    return field


def _rel(path: Path, out: Path) -> str:
    return Path(os.path.relpath(Path(path).resolve(), out.resolve())).as_posix()

