"""Reading curated CSV files strictly and writing outputs safely.

- Input: UTF-8 (a byte-order mark is accepted), LF or CRLF line ends, every
  cell read as text. Other encodings are an error naming the line.
- Output: text cells a spreadsheet would run as a formula are neutralised,
  and files are replaced atomically (temporary file in the same folder, then
  `os.replace`), so a failed or interrupted run leaves the old file intact.
"""
from __future__ import annotations

import csv
import hashlib
import io
import os
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow.compute as pc

from etl.errors import Problem

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class CsvFile:
    """A CSV read as text, with the row -> physical line mapping on demand."""

    def __init__(self, path: Path, display: str, raw: bytes, original: pd.DataFrame):
        self.path = path
        self.display = display
        self.sha256 = hashlib.sha256(raw).hexdigest()  # for the data package; the bytes are not kept
        self.original = original  # cells exactly as in the file (for rejects)
        # cells with outer blanks removed; columns without any share the original's memory
        self.frame = pd.DataFrame({c: _strip(original[c]) for c in original.columns}, copy=False)
        self._lines: list[int] | None = None

    def line_of(self, row: int) -> int:
        """1-based line where data row `row` (0-based) starts (the file is read again, only when asked)."""
        if self._lines is None:
            reader = csv.reader(io.StringIO(self.path.read_bytes().decode("utf-8-sig"), newline=""))
            starts, line = [], 1
            for record in reader:
                if record:  # pandas skips blank lines, so they are not data rows
                    starts.append(line)
                line = reader.line_num + 1
            self._lines = starts[1:]  # skip the header
        return self._lines[row] if row < len(self._lines) else 0


def _strip(column: pd.Series) -> pd.Series:
    """The column without outer blanks; the same object when no cell has any (no copy)."""
    cells = column.array.__arrow_array__()  # the column's Arrow data, without a copy
    padded = pc.any(pc.match_substring_regex(cells, r"^\s|\s$")).as_py()
    return column.str.strip() if padded else column


def read_csv(path: Path, display: str, expected: list[str], optional: tuple[str, ...] = ()) -> tuple[CsvFile | None, list[Problem]]:
    """Read `path` as all-text columns; return the file and any file-level problems."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, [Problem(display, 0, "-", "file not found")]
    try:
        text = raw.decode("utf-8-sig")  # validates the encoding; parsed below from the bytes
    except UnicodeDecodeError as err:
        line, column = _locate_byte(raw, err.start)
        byte = raw[err.start : err.start + 1].hex()
        return None, [Problem(display, line, column, f"file is not UTF-8 (byte 0x{byte}); save it as UTF-8")]
    if text.isspace() or not text:
        return None, [Problem(display, 1, "-", "file is empty: expected a header line with the columns " + ", ".join(expected))]
    try:
        frame = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", dtype="string", keep_default_na=False, na_filter=False, skip_blank_lines=True)
    except pd.errors.ParserError:
        return None, _structure_problems(text, display)
    del text
    header = list(frame.columns)
    problems = []
    missing = [c for c in expected if c not in header]
    extra = [c for c in header if c not in expected and c not in optional]
    if missing:
        problems.append(Problem(display, 1, "-", "missing required column(s): " + ", ".join(missing)))
    if extra:
        problems.append(Problem(display, 1, "-", "unexpected column(s): " + ", ".join(extra)))
    if len(set(header)) != len(header):
        problems.append(Problem(display, 1, "-", "duplicate column names in the header"))
    if not problems and frame.empty:
        problems.append(Problem(display, 1, "-", "file has a header but no rows"))
    if problems:
        return None, problems
    return CsvFile(path, display, raw, frame.astype("string")), []


def _structure_problems(text: str, display: str) -> list[Problem]:
    """Every line whose number of cells differs from the header's, or an unclosed quote."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    problems: list[Problem] = []
    width, line = None, 1
    try:
        for record in reader:
            if width is None:
                width = len(record)
            elif record and len(record) != width:
                problems.append(Problem(display, line, "-", f"expected {width} cells as in the header, found {len(record)} (an unquoted comma?)"))
            line = reader.line_num + 1
    except csv.Error as err:
        problems.append(Problem(display, line, "-", f"cannot read the CSV from here: {err} (an unclosed quote?)"))
    return problems or [Problem(display, 1, "-", "cannot read the file as CSV")]


def _locate_byte(raw: bytes, offset: int) -> tuple[int, str]:
    """Line number and column name of the byte at `offset` (the file read as Latin-1 for this)."""
    line = raw[:offset].count(b"\n") + 1
    start = raw.rfind(b"\n", 0, offset) + 1
    header = next(csv.reader([raw.split(b"\n", 1)[0].decode("latin-1").lstrip("\ufeff").rstrip("\r")]), [])
    fields_before = next(csv.reader([raw[start:offset].decode("latin-1")]), [""])
    index = len(fields_before) - 1
    return line, header[index] if 0 <= index < len(header) else "-"


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that start like a spreadsheet formula with a quote.

    Only text columns are touched: numbers stay numbers. The input is not changed
    (a shallow copy gets the replaced columns).
    """
    out = frame.copy(deep=False)
    for col in out.columns:
        if pd.api.types.is_string_dtype(out[col]) or out[col].dtype == object:
            s = out[col].astype("string")
            risky = s.str.startswith(FORMULA_PREFIXES).fillna(False)
            if risky.any():
                out[col] = s.where(~risky, "'" + s)
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The bytes of `frame` as a safe, deterministic CSV (written in chunks, never as one big str)."""
    buffer = io.BytesIO()
    with io.TextIOWrapper(buffer, encoding="utf-8", newline="", write_through=True) as text:
        neutralise_formulas(frame).to_csv(text, index=False, lineterminator="\n", chunksize=100_000)
        text.flush()
        return buffer.getvalue()


def write_atomic(files: dict[Path, bytes]) -> None:
    """Write every file to a temporary sibling first, then move all into place."""
    temps: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            temps.append((tmp, path))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        for tmp, path in temps:
            os.replace(tmp, path)
    finally:
        for tmp, _ in temps:
            if os.path.exists(tmp):
                os.unlink(tmp)
