"""The build: raw reports + reference tables -> seizures.csv + datapackage.json.

Reads every input, reports every problem at once, validates the output
against the declared schema, and returns the bytes to write. Writing is the
caller's job (atomic, see `etl.csvio.write_atomic`), so `check` can compare
the same bytes without touching the disk.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from etl.columns import COLUMNS, NAMES
from etl.incidents import INCIDENT_COLUMNS, check_incidents, reconcile
from etl.csvio import CsvFile, csv_bytes, read_csv
from etl.errors import InputProblems, Problem
from etl.progress import stage
from etl.normalise import REPORT_COLUMNS, RowProblem, SOURCE_COLUMNS, SOURCE_OPTIONAL, USD_CHECK_TOLERANCE_PCT, normalise, validate_sources
from etl.reference import Reference, load_reference
from etl.schema import OUTPUT_SCHEMA

OUTPUT_NAME = "seizures.csv"
DATAPACKAGE_NAME = "datapackage.json"
REJECTS_NAME = "seizures.rejects.csv"


@dataclass
class BuildResult:
    files: dict[Path, bytes]
    frame: pd.DataFrame
    warnings: list[Problem] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    input_rows: int = 0
    rejected_rows: int = 0
    rejects_path: Path | None = None

    @property
    def written_rows(self) -> int:
        return len(self.frame)


def build(raw: Path, reference: Path, out: Path, keep_going: bool = False, rejects: Path | None = None,
          today: dt.date | None = None) -> BuildResult:
    """Run the whole build in memory; raise `InputProblems` unless it can write.

    With `keep_going`, rows with errors go to a rejects file (each input row
    unchanged plus its reasons) and the valid rows are still written.
    """
    with stage("reading inputs"):
        ref = load_reference(reference)
        sources, reports, incidents = _read_inputs(raw)

    with stage("normalising rows (amounts, units, FX, CPI)"):
        result = normalise(reports.frame, sources.frame, ref, today=today, line_of=reports.line_of)
    if incidents is not None:
        known = pd.Index(incidents.frame["incident_id"].unique()).get_indexer(reports.frame["incident_id"]) >= 0
        unknown = ~known & (reports.frame["incident_id"] != "").to_numpy()
        result.problems += [
            RowProblem(int(i), "incident_id", f"incident_id {reports.frame['incident_id'].iat[i]!r} is not in incidents.csv")
            for i in np.flatnonzero(unknown)
        ]
    problems = [
        Problem(reports.display, reports.line_of(p.row), p.column, p.message, p.severity) for p in result.problems
    ]
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    if errors and not keep_going:
        raise InputProblems(errors + warnings)

    rejected = result.rejected
    frame = result.frame.drop(index=rejected).reset_index(drop=True) if len(rejected) else result.frame
    with stage("reconciling incidents"):
        frame = reconcile(frame, incidents.frame if incidents is not None else None)[NAMES]
    with stage("validating the output schema"):
        _validate_output(frame, out / OUTPUT_NAME)

    with stage("formatting seizures.csv and datapackage.json"):
        data = csv_bytes(frame)
        files = {out / OUTPUT_NAME: data, out / DATAPACKAGE_NAME: datapackage_bytes(ref, [sources, reports, incidents], out, data)}
    rejects_path = None
    if keep_going:
        rejects_path = rejects or out / REJECTS_NAME
        files[rejects_path] = _rejects_bytes(reports, rejected, result.problems)
    return BuildResult(files, frame, warnings, errors, len(reports.frame), len(rejected), rejects_path)


def _read_inputs(raw: Path) -> tuple[CsvFile, CsvFile, CsvFile | None]:
    """Read sources.csv, reports.csv and (optional) incidents.csv; file-level faults are fatal."""
    sources, p1 = read_csv(raw / "sources.csv", str(raw / "sources.csv"), SOURCE_COLUMNS, SOURCE_OPTIONAL)
    reports, p2 = read_csv(raw / "reports.csv", str(raw / "reports.csv"), REPORT_COLUMNS)
    incidents, p3 = None, []
    if (raw / "incidents.csv").exists():
        incidents, p3 = read_csv(raw / "incidents.csv", str(raw / "incidents.csv"), INCIDENT_COLUMNS)
    if p1 or p2 or p3:
        raise InputProblems(p1 + p2 + p3)
    fatal = [Problem(sources.display, sources.line_of(p.row), p.column, p.message) for p in validate_sources(sources.frame)]
    if incidents is not None:
        fatal += [Problem(incidents.display, incidents.line_of(row), col, msg) for row, col, msg in check_incidents(incidents.frame)]
    if fatal:
        raise InputProblems(fatal)
    return sources, reports, incidents


def _validate_output(frame: pd.DataFrame, path: Path) -> None:
    try:
        OUTPUT_SCHEMA.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        problems = []
        for case in cases.itertuples(index=False):
            line = int(case.index) + 2 if pd.notna(case.index) else 0
            column = case.column if isinstance(case.column, str) else "-"
            problems.append(Problem(str(path), line, column, f"output check {case.check!s} failed ({case.failure_case!r})"))
        raise InputProblems(problems) from None


def _rejects_bytes(reports: CsvFile, rejected, problems) -> bytes:
    reasons: dict[int, list[str]] = {}
    for p in problems:
        if p.severity == "error":
            reasons.setdefault(p.row, []).append(f"{p.column}: {p.message}")
    frame = reports.original.iloc[rejected].copy()
    frame.insert(0, "line", [reports.line_of(int(i)) for i in rejected])
    frame["reasons"] = [" | ".join(reasons[int(i)]) for i in rejected]
    return csv_bytes(frame)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def datapackage_bytes(ref: Reference, inputs: list[CsvFile], out: Path, data: bytes) -> bytes:
    """The Frictionless data package describing `seizures.csv` (deterministic)."""
    fx_sources = ref.fx_sources
    input_hashes = [(f.path, f.sha256) for f in inputs if f is not None]
    input_hashes += [(p, sha256(p.read_bytes())) for p in ref.paths.values()]
    package = {
        "profile": "tabular-data-package",
        "name": "nk-drug-seizures",
        "title": "Reported drug seizures and street prices linked to North Korea",
        "description": (
            "One row per figure reported in a source document, normalised to kilograms and US dollars "
            "(nominal and constant). Built by `python -m etl build` from data/raw and data/reference."
        ),
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
                "bytes": len(data),
                "hash": f"sha256:{sha256(data)}",
                "schema": {
                    "fields": [_field(c) for c in COLUMNS],
                    "primaryKey": ["report_id"],
                    "missingValues": [""],
                },
            }
        ],
        "exchange_rates": {
            "table": _rel(ref.paths["fx"], out),
            "meaning": "annual average, units of local currency per US dollar; USD is 1 by definition",
            "sources": [
                {"currency": r.currency, "source": r.source, "url": r.source_url, "years": f"{r.first_year}-{r.last_year}"}
                for r in fx_sources.itertuples(index=False)
            ],
        },
        "price_index": {
            "table": _rel(ref.paths["cpi"], out),
            "series": "US CPI-U, all items, U.S. city average, annual average (BLS CUUR0000SA0)",
            "base_year": ref.base_year,
            "base_year_rule": "the latest year of the table with all 12 monthly values",
            "sources": sorted({f"{s} {u}" for s, u in ref.cpi[["source", "source_url"]].itertuples(index=False)}),
        },
        "sources": [
            {"title": f"{r.currency} exchange rate: {r.source}", "path": r.source_url} for r in fx_sources.itertuples(index=False)
        ] + [{"title": "US CPI-U annual average (BLS)", "path": "https://data.bls.gov/timeseries/CUUR0000SA0"}],
        "inputs": [{"path": _rel(path, out), "hash": f"sha256:{digest}"} for path, digest in input_hashes],
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
    return Path(os.path.relpath(path.resolve(), out.resolve())).as_posix()


