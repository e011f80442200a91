"""The build: raw reports + reference tables -> seizures.csv + datapackage.json.

Reads every input, reports every problem at once, validates the output
against the declared schema, and only then lets the outputs replace the old
ones. It streams: reports.csv is read and normalised in chunks of rows, so
memory stays flat however many rows there are.

1. Small inputs (reference tables, sources.csv, incidents.csv) are read whole
   and checked; any fault there stops the build.
2. reports.csv, chunk by chunk: normalise, collect problems, send rejected rows
   to the rejects file, set the kept rows aside (`Store.spill`) and keep the
   few columns the incident rule reads (`KEY_COLUMNS`).
3. The incident columns are computed over all kept rows at once.
4. The set-aside chunks come back one at a time, get their incident columns,
   are validated against the schema and appended to seizures.csv, which is
   hashed as it is written.

Where the outputs go is the `Store`'s business: `build()` keeps everything in
memory and returns bytes (the upload page, tests); `build_files()` writes
temporary files beside the outputs, set-aside chunks in a temporary folder on
disk, and `BuildResult.commit()` moves the outputs into place atomically.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterator

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow.feather as feather

from etl.columns import COLUMNS, INCIDENT_DERIVED, NAMES
from etl.incidents import INCIDENT_COLUMNS, KEY_COLUMNS, check_incidents, incident_columns
from etl.csvio import CHUNK_ROWS, CsvChunk, CsvChunks, CsvFile, csv_bytes
from etl.csvio import read_csv_pandas as read_csv
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
    """What a build produced.

    From `build()`: `files` holds each output's bytes and `frame` the output table.
    From `build_files()`: `staged` maps each output to the temporary file holding
    it; `commit()` moves them into place, `discard()` deletes them.
    """
    files: dict[Path, bytes]
    frame: pd.DataFrame | None
    warnings: list[Problem] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    input_rows: int = 0
    rejected_rows: int = 0
    rejects_path: Path | None = None
    written_rows: int = 0
    staged: dict[Path, Path] = field(default_factory=dict)

    def commit(self) -> None:
        """Move every staged output into place (each an atomic rename on the same file system)."""
        for path, temp in list(self.staged.items()):
            os.replace(temp, path)
            del self.staged[path]

    def discard(self) -> None:
        for temp in self.staged.values():
            if temp.exists():
                temp.unlink()
        self.staged.clear()


def build(raw: Path, reference: Path, out: Path, keep_going: bool = False, rejects: Path | None = None,
          today: dt.date | None = None, chunk_rows: int = CHUNK_ROWS) -> BuildResult:
    """Run the whole build in memory and return the outputs' bytes; raise `InputProblems` unless it can write.

    With `keep_going`, rows with errors go to a rejects file (each input row
    unchanged plus its reasons) and the valid rows are still written.
    """
    store = MemoryStore()
    result = _build(raw, reference, out, keep_going, rejects, today, chunk_rows, store)
    result.files = store.contents()
    result.frame = store.output_frame()
    return result


def build_files(raw: Path, reference: Path, out: Path, keep_going: bool = False, rejects: Path | None = None,
                today: dt.date | None = None, chunk_rows: int = CHUNK_ROWS) -> BuildResult:
    """Run the build writing to temporary files beside the outputs; call `commit()` on the result to keep them.

    On any failure the temporary files are gone and the old outputs untouched.
    """
    store = DiskStore(out)
    try:
        result = _build(raw, reference, out, keep_going, rejects, today, chunk_rows, store)
    except BaseException:
        store.discard()
        raise
    finally:
        store.close_spill()
    result.staged = store.finish()
    return result


def _build(raw: Path, reference: Path, out: Path, keep_going: bool, rejects: Path | None, today: dt.date | None,
           chunk_rows: int, store: "Store") -> BuildResult:
    with stage("reading reference tables, sources and incidents"):
        ref = load_reference(reference)
        sources, reports, incidents = _read_inputs(raw, chunk_rows)
    known_incidents = pd.Index(incidents.frame["incident_id"].unique()) if incidents is not None else None
    rejects_path = (rejects or out / REJECTS_NAME) if keep_going else None
    rejects_out = _RejectsWriter(store.open(rejects_path)) if rejects_path else None

    problems: list[Problem] = []
    keys: list[pd.DataFrame] = []
    seen_ids: dict[str, int] = {}
    input_rows = rejected_rows = 0
    failing = False  # an error without --keep-going: go on finding problems, set nothing aside
    with stage("normalising reports.csv"):
        for chunk in _chunks(reports):
            with stage(f"rows {chunk.row0 + 1:,}-{chunk.row0 + len(chunk):,}", announce=False):
                result = normalise(chunk.frame, sources.frame, ref, today=today, line_of=reports.line_of,
                                   seen_ids=seen_ids, row0=chunk.row0)
                result.problems += _unknown_incidents(chunk.frame["incident_id"], known_incidents)
                problems += [Problem(reports.display, reports.line_of(chunk.row0 + p.row), p.column, p.message, p.severity)
                             for p in result.problems]
                rejected = result.rejected
                input_rows += len(chunk)
                rejected_rows += len(rejected)
                failing = failing or (len(rejected) > 0 and not keep_going)
                if failing:
                    continue
                if rejects_out is not None and len(rejected):
                    rejects_out.write(chunk, rejected, result.problems, reports.line_of)
                kept = result.frame.drop(index=rejected).reset_index(drop=True) if len(rejected) else result.frame
                keys.append(kept[KEY_COLUMNS])
                _spill(store, kept)  # even when empty: the output keeps its column types
                del result, kept
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    if failing:
        raise InputProblems(errors + warnings)
    if rejects_out is not None:
        rejects_out.close(reports.header)

    with stage("reconciling incidents"):
        keys_all = pd.concat(keys, ignore_index=True) if keys else pd.DataFrame(columns=KEY_COLUMNS)
        del keys
        derived = incident_columns(keys_all, incidents.frame if incidents is not None else None)
        del keys_all

    data_path = out / OUTPUT_NAME
    writer = _CsvWriter(store.open(data_path))
    invalid: list[Problem] = []
    with stage(f"validating and writing {OUTPUT_NAME}"):
        row0 = 0
        parts = store.unspill()
        while (part := _read_back(parts)) is not None:
            part = _with_incident_columns(part, derived, row0)
            invalid += _validate_output(part, data_path)
            store.keep_output(part)
            writer.write(part)
            row0 += len(part)
        writer.close(NAMES)
    if invalid:
        raise InputProblems(invalid)
    with stage(f"writing {DATAPACKAGE_NAME}"):
        with store.open(out / DATAPACKAGE_NAME) as fh:
            fh.write(datapackage_bytes(ref, [sources, reports, incidents], out, writer.size, writer.sha256))
    return BuildResult({}, None, warnings, errors, input_rows, rejected_rows, rejects_path, row0)


def _read_inputs(raw: Path, chunk_rows: int = CHUNK_ROWS) -> tuple[CsvFile, CsvChunks, CsvFile | None]:
    """Read sources.csv and (optional) incidents.csv, open reports.csv for streaming; file-level faults are fatal."""
    sources, p1 = read_csv(raw / "sources.csv", str(raw / "sources.csv"), SOURCE_COLUMNS, SOURCE_OPTIONAL)
    reports = CsvChunks(raw / "reports.csv", str(raw / "reports.csv"), REPORT_COLUMNS, rows=chunk_rows)
    p2 = reports.open()
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


def _chunks(reports: CsvChunks) -> Iterator[CsvChunk]:
    """The chunks of reports.csv, each read when asked for (a function so the bench can time the reading)."""
    chunks = iter(reports)
    while (chunk := _read_chunk(chunks)) is not None:
        yield chunk


def _read_chunk(chunks: Iterator[CsvChunk]) -> CsvChunk | None:
    return next(chunks, None)


def _unknown_incidents(incident_ids: pd.Series, known: pd.Index | None) -> list[RowProblem]:
    if known is None:
        return []
    unknown = (known.get_indexer(incident_ids) < 0) & (incident_ids != "").to_numpy()
    return [RowProblem(int(i), "incident_id", f"incident_id {incident_ids.iat[i]!r} is not in incidents.csv")
            for i in np.flatnonzero(unknown)]


def _spill(store: "Store", frame: pd.DataFrame) -> None:
    store.spill(frame)


def _read_back(parts: Iterator[pd.DataFrame]) -> pd.DataFrame | None:
    return next(parts, None)


def _with_incident_columns(part: pd.DataFrame, derived: pd.DataFrame, row0: int) -> pd.DataFrame:
    """The set-aside rows `row0`.. with their incident columns, in output order, indexed by output row."""
    index = pd.RangeIndex(row0, row0 + len(part))
    part = part.set_axis(index)
    extra = derived.iloc[row0 : row0 + len(part)].set_axis(index)
    for column in INCIDENT_DERIVED:
        part[column] = extra[column]
    return part[NAMES]


def _validate_output(frame: pd.DataFrame, path: Path) -> list[Problem]:
    """Every schema failure of `frame` (indexed by output row), as problems at the line of seizures.csv."""
    try:
        OUTPUT_SCHEMA.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        problems = []
        for case in cases.itertuples(index=False):
            line = int(case.index) + 2 if pd.notna(case.index) else 0
            column = case.column if isinstance(case.column, str) else "-"
            problems.append(Problem(str(path), line, column, f"output check {case.check!s} failed ({case.failure_case!r})"))
        return problems
    return []


def _csv_text(frame: pd.DataFrame, header: bool) -> bytes:
    """`frame` as formula-safe CSV text (UTF-8, LF line ends)."""
    return csv_bytes(frame, header=header)


class _CsvWriter:
    """Appends frames to one CSV file, header first, hashing and counting the bytes as they go."""

    def __init__(self, fh: BinaryIO):
        self.fh = fh
        self.digest = hashlib.sha256()
        self.size = 0
        self.started = False

    def _put(self, data: bytes) -> None:
        self.digest.update(data)
        self.size += len(data)
        self.fh.write(data)

    def write(self, frame: pd.DataFrame) -> None:
        self._put(_csv_text(frame, header=not self.started))
        self.started = True

    def close(self, columns: list[str]) -> None:
        if not self.started:  # no rows: the header alone
            self._put(_csv_text(pd.DataFrame(columns=columns), header=True))
        self.fh.close()

    @property
    def sha256(self) -> str:
        return self.digest.hexdigest()


class _RejectsWriter:
    """The rejects file: each rejected input row as it was, its line, and every reason."""

    def __init__(self, fh: BinaryIO):
        self.csv = _CsvWriter(fh)

    def write(self, chunk: CsvChunk, rejected: np.ndarray, problems: list[RowProblem], line_of) -> None:
        reasons: dict[int, list[str]] = {}
        for p in problems:
            if p.severity == "error":
                reasons.setdefault(p.row, []).append(f"{p.column}: {p.message}")
        frame = chunk.original.iloc[rejected].copy()
        frame.insert(0, "line", [line_of(chunk.row0 + int(i)) for i in rejected])
        frame["reasons"] = [" | ".join(reasons[int(i)]) for i in rejected]
        self.csv.write(frame)

    def close(self, header: list[str]) -> None:
        self.csv.close(["line", *header, "reasons"])


class Store:
    """Where a build puts its outputs and the chunks it sets aside between passes."""

    def open(self, path: Path) -> BinaryIO:
        raise NotImplementedError

    def spill(self, frame: pd.DataFrame) -> None:
        raise NotImplementedError

    def unspill(self) -> Iterator[pd.DataFrame]:
        raise NotImplementedError

    def keep_output(self, frame: pd.DataFrame) -> None:
        """Offered each finished output chunk (only an in-memory build keeps them)."""


class _Unclosable(io.BytesIO):
    def close(self) -> None:  # the bytes stay readable after the writer is done
        pass


class MemoryStore(Store):
    """Everything in memory: for small inputs (tests, the upload page)."""

    def __init__(self):
        self.buffers: dict[Path, _Unclosable] = {}
        self.spilled: list[pd.DataFrame] = []
        self.outputs: list[pd.DataFrame] = []

    def open(self, path: Path) -> BinaryIO:
        self.buffers[path] = _Unclosable()
        return self.buffers[path]

    def spill(self, frame: pd.DataFrame) -> None:
        self.spilled.append(frame)

    def unspill(self) -> Iterator[pd.DataFrame]:
        while self.spilled:
            yield self.spilled.pop(0)

    def keep_output(self, frame: pd.DataFrame) -> None:
        self.outputs.append(frame)

    def contents(self) -> dict[Path, bytes]:
        return {path: buffer.getvalue() for path, buffer in self.buffers.items()}

    def output_frame(self) -> pd.DataFrame:
        return pd.concat(self.outputs, ignore_index=True) if len(self.outputs) > 1 else self.outputs[0].reset_index(drop=True)


class DiskStore(Store):
    """Outputs as temporary siblings of their final paths; set-aside chunks as Arrow files in a temporary folder."""

    def __init__(self, out: Path):
        self.temps: dict[Path, Path] = {}
        self.handles: list[BinaryIO] = []
        self.spill_dir: Path | None = None
        self.spilled: list[Path] = []
        self.out = out

    def open(self, path: Path) -> BinaryIO:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        self.temps[path] = Path(temp)
        fh = _SyncedFile(fd)
        self.handles.append(fh)
        return fh

    def spill(self, frame: pd.DataFrame) -> None:
        if self.spill_dir is None:
            self.out.mkdir(parents=True, exist_ok=True)
            self.spill_dir = Path(tempfile.mkdtemp(prefix=".build-", dir=self.out))
        path = self.spill_dir / f"{len(self.spilled):06d}.arrow"
        feather.write_feather(frame, path, compression="uncompressed")
        self.spilled.append(path)

    def unspill(self) -> Iterator[pd.DataFrame]:
        for path in self.spilled:
            frame = feather.read_feather(path, memory_map=False)
            path.unlink()
            yield frame

    def close_spill(self) -> None:
        if self.spill_dir is not None:
            shutil.rmtree(self.spill_dir, ignore_errors=True)

    def finish(self) -> dict[Path, Path]:
        for fh in self.handles:
            fh.close()
        return dict(self.temps)

    def discard(self) -> None:
        for fh in self.handles:
            fh.close()
        for temp in self.temps.values():
            if temp.exists():
                temp.unlink()


class _SyncedFile(io.FileIO):
    """A file that is flushed to disk when closed, so a rename after it never exposes a half-written file."""

    def __init__(self, fd: int):
        super().__init__(fd, "wb")

    def close(self) -> None:
        if not self.closed:
            os.fsync(self.fileno())
        super().close()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def datapackage_bytes(ref: Reference, inputs: list, out: Path, data_bytes: int, data_sha256: str) -> bytes:
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
                "bytes": data_bytes,
                "hash": f"sha256:{data_sha256}",
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


