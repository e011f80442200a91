"""Reading curated CSV files strictly and writing outputs safely.

- Input: UTF-8 (a byte-order mark is accepted), LF or CRLF line ends, every
  cell read as text. Other encodings are an error naming the line.
- Output: text cells a spreadsheet would run as a formula are neutralised,
  and files are replaced atomically (temporary file in the same folder, then
  `os.replace`), so a failed or interrupted run leaves the old file intact.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from etl.errors import InputProblems, Problem

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class LineIndex:
    """Data row (0-based) -> the 1-based line where it starts; the file is read again, only when first asked."""

    def __init__(self, path: Path):
        self.path = path
        self._lines: list[int] | None = None

    def __call__(self, row: int) -> int:
        if self._lines is None:
            starts, line = [], 1
            with open(self.path, encoding="utf-8-sig", newline="") as fh:
                reader = csv.reader(fh)
                for record in reader:
                    if record:  # pandas skips blank lines, so they are not data rows
                        starts.append(line)
                    line = reader.line_num + 1
            self._lines = starts[1:]  # skip the header
        return self._lines[row] if 0 <= row < len(self._lines) else 0


class CsvFile:
    """A CSV read as text, with the row -> physical line mapping on demand."""

    def __init__(self, path: Path, display: str, sha256: str, original: pd.DataFrame):
        self.path = path
        self.display = display
        self.sha256 = sha256  # for the data package; the bytes are not kept
        self.original = original  # cells exactly as in the file (for rejects)
        # cells with outer blanks removed; columns without any share the original's memory
        self.frame = pd.DataFrame({c: _strip(original[c]) for c in original.columns}, copy=False)
        self.line_of = LineIndex(path)


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
        frame = pd.read_csv(io.BytesIO(raw), **_READ_OPTIONS)
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
    return CsvFile(path, display, hashlib.sha256(raw).hexdigest(), frame.astype("string")), []


CHUNK_ROWS = 100_000  # rows per chunk when a large CSV is streamed


class CsvChunk:
    """`rows` consecutive data rows of a streamed CSV, starting at data row `row0` (0-based)."""

    def __init__(self, row0: int, original: pd.DataFrame):
        self.row0 = row0
        self.original = original.reset_index(drop=True)  # cells exactly as in the file (for rejects)
        self.frame = pd.DataFrame({c: _strip(self.original[c]) for c in self.original.columns}, copy=False)

    def __len__(self) -> int:
        return len(self.original)


class CsvChunks:
    """A CSV too big to hold twice, read as text in chunks of rows, as strictly as `read_csv`.

    `open()` streams through the file once in blocks (hashing it and checking
    that it is UTF-8) and checks the header; a file with any file-level fault is
    read again whole by `read_csv`, so the problems are exactly the ones it
    reports. Iterating then yields `CsvChunk`s; a row that breaks the CSV
    structure (a ragged row, an unclosed quote) raises `InputProblems` naming
    every such line. `line_of` maps a data row to its line in the file.
    """

    def __init__(self, path: Path, display: str, expected: list[str], optional: tuple[str, ...] = (), rows: int = CHUNK_ROWS):
        self.path, self.display, self.expected, self.optional, self.rows = path, display, expected, optional, rows
        self.sha256 = ""
        self.header: list[str] = []  # the column names, as in the file (known once `open()` found no problem)
        self.line_of = LineIndex(path)

    def open(self) -> list[Problem]:
        digest = hashlib.sha256()
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            with open(self.path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 22), b""):
                    digest.update(block)
                    decoder.decode(block)  # raises at the first byte that is not UTF-8
                decoder.decode(b"", final=True)
            head = pd.read_csv(self.path, nrows=1, **_READ_OPTIONS)
            self.header = list(head.columns)
            sound = (list(head.columns) == [c for c in head.columns if c in self.expected or c in self.optional]
                     and all(c in head.columns for c in self.expected) and len(head) == 1)
        except (FileNotFoundError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError):
            sound = False
        if not sound:  # let the strict whole-file reader say what is wrong, exactly as for small files
            whole, problems = read_csv(self.path, self.display, self.expected, self.optional)
            if problems:
                return problems
            self.header = list(whole.original.columns)
        self.sha256 = digest.hexdigest()
        return []

    def __iter__(self):
        row0 = 0
        try:
            with pd.read_csv(self.path, chunksize=self.rows, **_READ_OPTIONS) as reader:
                for frame in reader:
                    yield CsvChunk(row0, frame.astype("string"))
                    row0 += len(frame)
        except pd.errors.ParserError:
            raise InputProblems(_structure_problems(self.path.read_bytes().decode("utf-8-sig"), self.display)) from None


_READ_OPTIONS = dict(encoding="utf-8-sig", dtype="string", keep_default_na=False, na_filter=False, skip_blank_lines=True)


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
    """The bytes of `frame` as a safe, deterministic CSV: formula-safe cells, then `csv_text`."""
    return csv_text(neutralise_formulas(frame))


FAST_ROWS = 100_000  # rows formatted at a time (bounds the memory of the Arrow strings)
_FIXED_LOW, _FIXED_HIGH = 1e-4, 1e10  # where Arrow and Python both write a float in fixed notation


def csv_text(frame: pd.DataFrame, header: bool = True) -> bytes:
    """`frame.to_csv(index=False, header=header, lineterminator="\n")` encoded as UTF-8, byte for byte,
    but formatted by Arrow's compute kernels instead of Python's csv module (several times faster).

    Cells are written as pandas writes them: floats as Python's `repr` (NaN empty),
    nullable integers as digits (NA empty), booleans as True/False, text as is
    (NA empty), quoted only when it holds a comma, a double quote or a line feed,
    with quotes doubled. A frame with a column of any other type, or a single
    column (the csv module quotes an empty lone cell), is written by pandas itself.
    """
    if frame.shape[1] < 2 or not all(_fast_kind(frame[c]) for c in frame.columns):
        return frame.to_csv(index=False, header=header, lineterminator="\n").encode("utf-8")
    parts = [(",".join(_quote_py(str(c)) for c in frame.columns) + "\n").encode("utf-8")] if header else []
    for start in range(0, len(frame), FAST_ROWS):
        part = frame.iloc[start : start + FAST_ROWS]
        cells = [_cells(part[c]) for c in part.columns]
        cells[-1] = pc.binary_join_element_wise(cells[-1], _text(""), _text("\n"))  # z + "\n" + ""
        lines = pc.binary_join_element_wise(*cells, _text(","))  # "a,b,...,z\n"
        parts.append(_joined_bytes(lines))
    return b"".join(parts)


def _fast_kind(column: pd.Series) -> bool:
    dtype = column.dtype
    return (dtype == "float64" or dtype == "bool" or isinstance(dtype, pd.Int64Dtype)
            or (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"))


def _cells(column: pd.Series) -> pa.Array:
    """The column's cells as CSV text (large_string, no nulls)."""
    dtype = column.dtype
    if dtype == "bool":
        return pc.if_else(pa.array(column.to_numpy()), _text("True"), _text("False"))
    if isinstance(dtype, pd.Int64Dtype):
        return pc.cast(pa.array(column.array), pa.large_string()).fill_null("")
    if dtype == "float64":
        return _float_cells(column.to_numpy())
    cells = column.array.__arrow_array__()
    cells = (cells.combine_chunks() if isinstance(cells, pa.ChunkedArray) else cells).cast(pa.large_string()).fill_null("")
    data = _joined_bytes(cells)
    if b"," not in data and b'"' not in data and b"\n" not in data:
        return cells  # not one comma, quote or line feed in the whole column (a fast search of its bytes)
    needs = pc.or_(pc.or_(pc.match_substring(cells, ","), pc.match_substring(cells, '"')), pc.match_substring(cells, "\n"))
    quoted = pc.binary_join_element_wise(_text('"'), pc.replace_substring(cells, '"', '""'), _text('"'), _text(""))
    return pc.if_else(needs, quoted, cells)


def _float_cells(values: np.ndarray) -> pa.Array:
    """Floats as Python's repr writes them (NaN -> "").

    Arrow writes the same shortest digits; it differs only in notation: no ".0"
    on whole numbers (added here) and exponents outside [1e-4, 1e10), where
    Python's repr is used instead (such values are few).
    """
    text = pc.cast(pa.array(values, from_pandas=True), pa.large_string())
    magnitude = np.abs(values)
    with np.errstate(invalid="ignore"):
        whole = (values == np.trunc(values)) & (magnitude < _FIXED_HIGH)  # Arrow writes "100", Python "100.0"
        other = np.isfinite(values) & (((magnitude < _FIXED_LOW) & (magnitude > 0)) | (magnitude >= _FIXED_HIGH))
    if whole.any():
        text = pc.if_else(pa.array(whole), pc.binary_join_element_wise(text, _text(".0"), _text("")), text)
    if other.any():
        text = pc.replace_with_mask(text, pa.array(other), pa.array([repr(v) for v in values[other].tolist()], pa.large_string()))
    return text.fill_null("")


def _joined_bytes(strings: pa.Array) -> bytes:
    """The UTF-8 bytes of every string of `strings` (large_string, no nulls), back to back."""
    strings = strings.combine_chunks() if isinstance(strings, pa.ChunkedArray) else strings
    if len(strings) == 0:
        return b""
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int64, count=len(strings) + 1, offset=strings.offset * 8)
    return memoryview(strings.buffers()[2])[offsets[0] : offsets[-1]].tobytes()


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, pa.large_string())


def _quote_py(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if any(ch in cell for ch in ',"\n') else cell


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
