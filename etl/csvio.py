"""Reading curated CSV files strictly (RFC 4180) and writing formula-safe CSV.

Reading (`read_csv`)
--------------------
- Input is UTF-8 (a leading byte-order mark is accepted and dropped). Records end
  with LF or CRLF. Every cell is text (`pl.String`); nothing is inferred.
- RFC 4180 in full: a cell in double quotes may hold commas, doubled quotes, LF,
  CR and CRLF; all of that is data, never a record break.
- The file's *structure* is checked before any cell is used, by one vectorised
  scan over the bytes (`_scan`): every record must have exactly as many cells as
  the header; a quote may only open a cell (right after a comma, a record break
  or the start of the file) and only close it (right before a comma, a record
  break or the end of the file), doubled quotes inside a quoted cell are one
  quote; a carriage return outside quotes that is not part of a CRLF, a NUL byte
  and a byte that is not UTF-8 are problems. Each problem names the file, the
  physical line and the column. Rows are never padded, truncated or shifted, and
  the first data row is not special (there is no index column).
- Blank lines (nothing between two record breaks) are skipped; they still count
  as lines.
- Physical lines are counted as an editor counts them: LF, CRLF and a lone CR
  each end one line, inside quoted cells too. `CsvTable.lines` holds, for each
  data row, the 1-based line where the row starts.
- Only when the structure is sound are the cells used; they are parsed by Polars
  (in a thread, while the scan runs, and thrown away if the scan finds a fault).
  A file with any structural problem is not read at all: `read_csv` returns
  every such problem (every ragged line; a broken quote ends the scan because
  nothing after it can be trusted) and no table.

**Rule for structurally broken rows (also under `--keep-going`):** a row whose
cells cannot be told apart (wrong number of cells, a broken quote, a NUL byte, a
stray CR, bytes that are not UTF-8) is not a data row that can be rejected on its
own, because its neighbours may be part of it. The build refuses the whole file
and lists every such line; `--keep-going` does not change that. Rows that are
structurally sound but hold bad values are rejected one by one as before, each
kept unchanged in the rejects file.

**Outer whitespace rule:** `CsvTable.frame` holds every cell with leading and
trailing whitespace removed, where whitespace is exactly the characters with the
Unicode White_Space property (Polars' `str.strip_chars()` with no argument: space,
TAB, LF, VT, FF, CR, NEL, NO-BREAK SPACE U+00A0, the U+2000-U+200A spaces, U+2028,
U+2029, U+202F, U+205F, U+3000, ...). The rule is applied to each cell on its own:
what other rows hold never changes it. `CsvTable.original` keeps the cells exactly
as written (for the rejects file).

Writing (`csv_bytes`, `write_csv`)
----------------------------------
One format for every CSV the project writes: UTF-8 without a byte-order mark, LF
record ends, RFC 4180 quoting (a cell is quoted when it holds a comma, a double
quote, LF or CR; quotes are doubled), header first. Text cells go through
`neutralise_formulas` first. Numbers are written by Polars (shortest round-trip
digits), booleans as `True`/`False`, missing values and empty text as nothing (a
one-column table writes empty text as `""` so no record becomes a blank line). A
NUL character is never written, in a cell or a column name: it becomes U+FFFD.
`write_csv` streams the file (Polars' `sink_csv`); only the columns that need a
change (guard, empty text, booleans) are changed, a batch at a time.

Formula guard: a text cell that starts with `=`, `+`, `-`, `@`, TAB, CR or LF
(the characters spreadsheets treat as the start of a formula, plus the line
breaks) gets a leading apostrophe. A line break inside a cell never starts a new
cell: such a cell is always quoted, so an RFC 4180 reader (Excel, LibreOffice,
Google Sheets, pandas, Polars, Python's csv) keeps the text after the break in the
same cell, where it is not at the start of a cell and cannot run as a formula.
"""
from __future__ import annotations

import csv
import hashlib
import io
import mmap
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa

from etl.errors import Problem

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
_FORMULA_PATTERN = r"^[=+\-@\t\r\n]"

_BOM = b"\xef\xbb\xbf"
_QUOTE, _COMMA, _LF, _CR, _NUL = 0x22, 0x2C, 0x0A, 0x0D, 0x00
_BLOCK = 1 << 24  # bytes scanned at a time (bounds the scan's memory)
MAX_LOCATED = 100  # faults of one kind located to their column; more are counted
MAX_LISTED_HEADER_NAMES = 20  # a header of 100,000 names is summarised, not listed


@dataclass
class CsvTable:
    """A CSV file read as text.

    `original` holds the cells exactly as in the file, `frame` the same cells with
    outer whitespace removed (the rule is in the module docstring), both with
    every column `pl.String` and one row per data record. `lines[i]` is the
    1-based physical line where data row `i` starts.
    """

    path: Path
    display: str
    sha256: str
    header: list[str]
    original: pl.DataFrame
    frame: pl.DataFrame
    lines: pl.Series

    def line_of(self, row: int) -> int:
        """The line where data row `row` (0-based) starts; 0 for a row that does not exist."""
        return int(self.lines[row]) if 0 <= row < len(self.lines) else 0


# ---------------------------------------------------------------------------
# Reading


def read_csv(path: Path, display: str, expected: list[str], optional: tuple[str, ...] = ()
             ) -> tuple[CsvTable | None, list[Problem]]:
    """Read `path` strictly as all-text columns.

    Returns the table and no problems, or None and every file-level problem
    (missing file, encoding, structure, header). `expected` columns must all be
    present, `optional` ones may be; any other column is a problem.
    """
    path = Path(path)
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed by the `with fh` below, after the two early answers
    except FileNotFoundError:
        return None, [Problem(display, 0, "-", "file not found")]
    except IsADirectoryError:
        return None, [Problem(display, 0, "-", "is a folder, not a file")]
    with fh:
        if os.fstat(fh.fileno()).st_size == 0:
            return None, [_empty(display, expected)]
        # While the structure is scanned here, two threads hash the file and have Polars parse it (all three
        # release the GIL); the parse is used only if the scan finds the file sound.
        parser = _Background(lambda: _read_polars(path))
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            hasher = _Background(lambda: hashlib.sha256(mm).hexdigest())
            data = np.frombuffer(mm, dtype=np.uint8)
            try:
                outcome = _check(display, expected, optional, mm, data)
            finally:
                del data  # the mmap cannot close while a view of it is alive
                digest = hasher.result()
    parsed = parser.result()
    if isinstance(outcome, list):
        return None, outcome
    header, scan = outcome
    original = _parse_cells(path, header, scan, parsed)
    frame = _strip(original)
    lines = pl.Series("line", scan.data_lines, dtype=pl.UInt32)
    return CsvTable(path, display, digest, header, original, frame, lines), []


class _Background(threading.Thread):
    """`work()` run in a thread; `result()` waits for it and gives its value (or raises its exception)."""

    def __init__(self, work):
        super().__init__(daemon=True)
        self.work, self.value, self.error = work, None, None
        self.start()

    def run(self) -> None:
        try:
            self.value = self.work()
        except BaseException as err:  # handed to the caller by result()
            self.error = err

    def result(self):
        self.join()
        if self.error is not None:
            raise self.error
        return self.value


def _empty(display: str, expected: list[str]) -> Problem:
    return Problem(display, 1, "-", "file is empty: expected a header line with the columns " + ", ".join(expected))


def _check(display: str, expected: list[str], optional: tuple[str, ...], mm: mmap.mmap, data: np.ndarray
           ) -> list[Problem] | tuple[list[str], _Scan]:
    """Every file-level problem, or the header and the scan when there is none."""
    start = 3 if bytes(mm[:3]) == _BOM else 0
    scan = _scan(data, start, mm)
    if _only_whitespace(mm, data, scan, start):
        return [_empty(display, expected)]
    header = _header(mm, scan)
    problems = _structure_problems(display, mm, data, scan, header)
    problems += _header_problems(display, header, expected, optional)
    if problems:
        return problems
    if scan.data_rows == 0:
        return [Problem(display, 1, "-", "file has a header but no rows")]
    return header, scan


class _Scan:
    """What the structural scan found (offsets are into the whole file, BOM included)."""

    def __init__(self):
        self.starts = np.zeros(0, np.int64)  # where each record starts
        self.ends = np.zeros(0, np.int64)  # where each record's content ends (before CR LF / LF)
        self.fields = np.zeros(0, np.int64)  # cells per record
        self.line_breaks = np.zeros(0, np.int64)  # offset of every LF, and of every CR not followed by LF
        self.bad_quotes: list[tuple[int, str]] = []  # (offset, message), the first one ends the trustworthy part
        self.lone_crs = np.zeros(0, np.int64)  # CR outside quotes not followed by LF
        self.nuls = np.zeros(0, np.int64)
        self.bad_utf8: int | None = None  # offset of the first byte that is not UTF-8
        self.blank = np.zeros(0, bool)
        self.data_lines = np.zeros(0, np.int64)

    def line_at(self, offsets: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.line_breaks, offsets, side="left") + 1

    @property
    def data_rows(self) -> int:
        return int((~self.blank[1:]).sum()) if len(self.blank) > 1 else 0


def _only_whitespace(mm: mmap.mmap, data: np.ndarray, scan: _Scan, start: int) -> bool:
    """True when the file holds nothing but spaces, tabs and line breaks (checked only if its first line is blank)."""
    if bytes(mm[scan.starts[0] : scan.ends[0]]).strip(b" \t\r\n"):
        return False
    return bool(np.isin(data[start:], np.frombuffer(b" \t\r\n", np.uint8)).all())


def _scan(data: np.ndarray, start: int, mm: mmap.mmap | None = None) -> _Scan:
    """One vectorised pass over the bytes: record boundaries, cells per record, line breaks and faults.

    `mm` (the file `data` views) lets a block without a CR or a NUL, the usual case, be told by a byte search
    (memchr) instead of a comparison of every byte.
    """
    n = len(data)

    def where(block: np.ndarray, lo: int, byte: int) -> np.ndarray:
        if mm is not None and mm.find(bytes([byte]), lo, lo + len(block)) < 0:
            return _NONE
        return np.flatnonzero(block == byte)

    scan = _Scan()
    inside = False  # within a quoted cell at the end of the previous block
    record_ends: list[np.ndarray] = []  # offset of the LF ending each record (outside quotes)
    comma_counts: list[np.ndarray] = []
    open_commas = 0  # commas of the record still open at the end of the previous block
    line_breaks, lone_crs, nuls, quotes = [], [], [], []
    for lo in range(start, n, _BLOCK):
        block = data[lo : lo + _BLOCK]
        q = np.flatnonzero(block == _QUOTE)
        if len(q):
            # a byte is within quotes when an odd number of quotes precede it (counting itself) in the file
            closes = (np.arange(1, len(q) + 1) % 2 == 0) != inside  # this quote leaves the quoted cell
            quotes.append((q + lo, closes))
            outside = _Outside(q, inside)
            inside = inside != (len(q) % 2 == 1)
        else:
            outside = None if not inside else False
        lf = np.flatnonzero(block == _LF)
        cr = where(block, lo, _CR)
        # a CR followed by LF is one line break (the LF's); a lone CR is a line break of its own
        if len(cr):
            nxt = cr + 1
            followed = np.zeros(len(cr), bool)
            inside_block = nxt < len(block)
            followed[inside_block] = block[nxt[inside_block]] == _LF
            at_edge = ~inside_block
            if at_edge.any():
                followed[at_edge] = (lo + nxt[at_edge] < n) & (data[min(lo + len(block), n - 1)] == _LF)
            lone = cr[~followed]
        else:
            lone = cr
        line_breaks.append((np.sort(np.concatenate([lf, lone])) if len(lone) else lf) + lo)
        if outside is None:  # no quote anywhere in this block, and it started outside quotes
            lf_out, lone_out = lf, lone
        elif outside is False:  # the whole block is inside one quoted cell
            lf_out = lone_out = np.zeros(0, np.int64)
        else:
            lf_out, lone_out = lf[outside(lf)], lone[outside(lone)]
        # commas per record: all commas between two record breaks (the last count is the record still open at the
        # block's end), less those within quoted cells; counted by bisecting the commas' offsets
        if outside is False:
            counts = np.zeros(1, np.int64)
        else:
            commas = np.flatnonzero(block == _COMMA)
            counts = np.diff(np.searchsorted(commas, lf_out), prepend=0, append=len(commas))
        if isinstance(outside, _Outside):
            bounds = np.concatenate([[0] if outside.inside_at_start else [], q]).astype(np.int64)
            if len(bounds) % 2:
                bounds = np.concatenate([bounds, [len(block)]])
            opens = bounds[0::2]  # each quoted stretch is [open, close): commas there are text
            quoted = np.searchsorted(commas, bounds[1::2]) - np.searchsorted(commas, opens)
            if quoted.any():
                record = np.searchsorted(lf_out, opens)
                counts -= np.bincount(record, weights=quoted, minlength=len(counts)).astype(np.int64)
        lone_crs.append(lone_out + lo)
        nul = where(block, lo, _NUL)
        if len(nul):
            nuls.append(nul + lo)
        counts[0] += open_commas
        open_commas = int(counts[-1])
        comma_counts.append(counts[:-1])
        record_ends.append(lf_out + lo)
    scan.bad_utf8 = _first_bad_utf8(data, start)
    ends_lf = np.concatenate(record_ends) if record_ends else np.zeros(0, np.int64)
    counts = np.concatenate(comma_counts) if comma_counts else np.zeros(0, np.int64)
    starts = np.concatenate([[start], ends_lf + 1]).astype(np.int64)
    ends = ends_lf.astype(np.int64)
    if starts[-1] < n:  # the last record has no line break after it
        ends = np.concatenate([ends, [n]])
        counts = np.concatenate([counts, [open_commas]])
    else:
        starts = starts[:-1]
    # a record's content stops before its CR LF
    has_cr = np.zeros(len(ends), bool)
    ok = ends > starts
    has_cr[ok] = data[ends[ok] - 1] == _CR
    content_end = ends - has_cr
    scan.starts, scan.ends = starts, content_end
    scan.fields = counts + 1
    scan.blank = content_end == starts
    scan.line_breaks = np.concatenate(line_breaks) if line_breaks else np.zeros(0, np.int64)
    scan.lone_crs = np.concatenate(lone_crs) if lone_crs else np.zeros(0, np.int64)
    scan.nuls = np.concatenate(nuls) if nuls else np.zeros(0, np.int64)
    scan.bad_quotes = _quote_faults(data, start, quotes, inside)
    lines = scan.line_at(starts)
    scan.data_lines = lines[1:][~scan.blank[1:]] if len(lines) > 1 else np.zeros(0, np.int64)
    return scan


_NONE = np.zeros(0, np.int64)


class _Outside:
    """Which of some positions in a block are outside quotes, from the block's quote positions."""

    def __init__(self, quotes: np.ndarray, inside_at_start: bool):
        self.quotes, self.inside_at_start = quotes, inside_at_start

    def __call__(self, positions: np.ndarray) -> np.ndarray:
        odd = np.searchsorted(self.quotes, positions, side="right") % 2 == 1  # quotes at or before each position
        return odd if self.inside_at_start else ~odd


def _first_bad_utf8(data: np.ndarray, start: int) -> int | None:
    """The offset of the first byte that is not UTF-8, or None (validated by Polars in blocks, located by Python)."""
    n, lo = len(data), start
    while lo < n:
        hi = min(lo + _BLOCK, n)
        while hi < n and data[hi] & 0xC0 == 0x80:  # do not cut a character in two
            hi += 1
        block = data[lo:hi]
        if block.max(initial=0) >= 0x80:
            try:
                pl.Series([block.tobytes()], dtype=pl.Binary).cast(pl.String)
            except pl.exceptions.ComputeError:
                try:
                    block.tobytes().decode("utf-8")
                except UnicodeDecodeError as err:
                    return lo + err.start
        lo = hi
    return None


def _quote_faults(data: np.ndarray, start: int, quotes: list, still_open: bool) -> list[tuple[int, str]]:
    """The quotes that break RFC 4180, in file order (vectorised over every quote)."""
    if not quotes:
        return []
    n = len(data)
    pos = np.concatenate([q for q, _ in quotes])
    closes = np.concatenate([c for _, c in quotes])
    prev = np.where(pos > start, data[np.maximum(pos - 1, 0)], _LF)
    nxt = np.where(pos + 1 < n, data[np.minimum(pos + 1, n - 1)], _LF)
    bad_open = ~closes & ~np.isin(prev, [_COMMA, _LF, _QUOTE])
    bad_open |= ~closes & (prev == _QUOTE) & ~np.roll(closes, 1)  # a doubled quote follows a closing one
    bad_close = closes & ~np.isin(nxt, [_COMMA, _LF, _CR, _QUOTE])
    faults = [(int(p), "a double quote inside a cell that does not start with one (quote the whole cell and double the quote)")
              for p in pos[bad_open]]
    faults += [(int(p), "text after the closing quote of a quoted cell (double the quote if it is part of the text)")
               for p in pos[bad_close]]
    if still_open:
        opens = pos[~closes]
        faults.append((int(opens[-1]) if len(opens) else n, "unexpected end of data (an unclosed quote?)"))
    return sorted(faults)[:1]  # after the first broken quote nothing can be trusted


def _header(mm: mmap.mmap, scan: _Scan) -> list[str]:
    """The header's names (the first record), parsed by Python's csv module."""
    raw = bytes(mm[scan.starts[0] : scan.ends[0]])
    text = raw.decode("utf-8", errors="replace").lstrip("\ufeff")
    return next(csv.reader(io.StringIO(text, newline="")), [])


def _structure_problems(display: str, mm: mmap.mmap, data: np.ndarray, scan: _Scan, header: list[str]) -> list[Problem]:
    problems: list[Problem] = []
    limit = scan.bad_quotes[0][0] if scan.bad_quotes else len(data)
    if scan.bad_utf8 is not None:
        offset = scan.bad_utf8
        line, column = _locate(mm, scan, header, offset)
        problems.append(Problem(display, line, column, f"file is not UTF-8 (byte 0x{mm[offset]:02x}); save it as UTF-8"))
    problems += _located(display, mm, scan, header, scan.nuls, "a NUL byte (0x00); a text file never holds one: remove it",
                         "NUL bytes")
    problems += _located(display, mm, scan, header, scan.lone_crs[scan.lone_crs < limit],
                         "a carriage return (CR) outside quotes: end lines with LF or CR LF, and quote a cell that "
                         "holds a line break", "carriage returns outside quotes")
    width = len(header)
    if scan.blank[0]:
        problems.append(Problem(display, 1, "-", "line 1 is blank: the header must be on the first line"))
    wrong = np.flatnonzero((scan.fields != width) & ~scan.blank & (scan.ends < limit))
    wrong = wrong[wrong > 0]
    lines = scan.line_at(scan.starts[wrong])
    for line, found in zip(lines.tolist(), scan.fields[wrong].tolist()):
        hint = "an unquoted comma?" if found > width else "a missing cell or an unquoted line break?"
        problems.append(Problem(display, line, "-", f"expected {width} cells as in the header, found {found} ({hint})"))
    for offset, message in scan.bad_quotes:
        line, column = _locate(mm, scan, header, offset)
        problems.append(Problem(display, line, column, f"cannot read the CSV from here: {message}"))
    return sorted(problems, key=lambda p: p.line)


def _located(display: str, mm: mmap.mmap, scan: _Scan, header: list[str], offsets: np.ndarray, message: str,
             what: str) -> list[Problem]:
    """A problem at each of the first MAX_LOCATED offsets, then one line saying how many more there are."""
    problems = []
    for offset in offsets[:MAX_LOCATED].tolist():
        line, column = _locate(mm, scan, header, offset)
        problems.append(Problem(display, line, column, message))
    if len(offsets) > MAX_LOCATED:
        line = int(scan.line_at(offsets[MAX_LOCATED : MAX_LOCATED + 1])[0])
        problems.append(Problem(display, line, "-", f"{len(offsets) - MAX_LOCATED:,} more {what} from here on "
                                                    f"(only the first {MAX_LOCATED} are listed one by one)"))
    return problems


def _locate(mm: mmap.mmap, scan: _Scan, header: list[str], offset: int) -> tuple[int, str]:
    """The physical line of byte `offset` and the name of the column it is in ("-" when unknown)."""
    line = int(scan.line_at(np.array([offset]))[0])
    record = int(np.searchsorted(scan.starts, offset, side="right")) - 1
    before = bytes(mm[scan.starts[max(record, 0)] : offset]).decode("utf-8", errors="replace").lstrip("\ufeff")
    try:
        fields = next(csv.reader(io.StringIO(before + "x", newline="")), [])
        index = len(fields) - 1
    except csv.Error:
        index = -1
    return line, header[index] if record > 0 and 0 <= index < len(header) else "-"


def _header_problems(display: str, header: list[str], expected: list[str], optional: tuple[str, ...]) -> list[Problem]:
    problems = []
    missing = [c for c in expected if c not in header]
    extra = [c for c in dict.fromkeys(header) if c not in expected and c not in optional]
    if missing:
        problems.append(Problem(display, 1, "-", "missing required column(s): " + _names(missing)))
    if extra:
        problems.append(Problem(display, 1, "-", "unexpected column(s): " + _names(extra)))
    if len(set(header)) != len(header):
        problems.append(Problem(display, 1, "-", "duplicate column names in the header"))
    return problems


def _names(names: list[str]) -> str:
    shown = ", ".join(repr(n) if (not n or n != n.strip()) else n for n in names[:MAX_LISTED_HEADER_NAMES])
    more = len(names) - MAX_LISTED_HEADER_NAMES
    return shown + (f" and {more:,} more" if more > 0 else "")


def _read_polars(path: Path) -> pl.DataFrame | None:
    """Every record of `path` as text cells, parsed by Polars (header names as Polars reads them); None if it cannot."""
    try:
        return pl.read_csv(path, has_header=True, infer_schema=False, empty_string_is_null=False, quote_char='"',
                           raise_if_empty=False)
    except pl.exceptions.PolarsError:
        return None


def _parse_cells(path: Path, header: list[str], scan: _Scan, parsed: pl.DataFrame | None) -> pl.DataFrame:
    """The data rows' cells as text (blank lines dropped): `parsed` (`_read_polars`) checked against the scan.

    When Polars could not read the file, named the columns otherwise than the
    header, or split the records otherwise than RFC 4180, the exact reader is used.
    """
    blank_after_header = scan.blank[1:]
    if parsed is not None and parsed.columns == header and parsed.height == len(blank_after_header):
        return parsed.filter(pl.Series(~blank_after_header)) if blank_after_header.any() else parsed
    if parsed is not None and parsed.columns == header and parsed.height == scan.data_rows:
        return parsed
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        return _parse_exactly(mm, header, scan)


def _parse_exactly(mm: mmap.mmap, header: list[str], scan: _Scan) -> pl.DataFrame:
    """The slow exact path: Python's csv module, record by record, on the scan's boundaries."""
    rows = []
    for s, e, blank in zip(scan.starts[1:], scan.ends[1:], scan.blank[1:]):
        if not blank:
            rows.append(next(csv.reader(io.StringIO(bytes(mm[s:e]).decode("utf-8"), newline=""))))
    columns = list(zip(*rows)) if rows else [()] * len(header)
    return pl.DataFrame({name: pl.Series(name, list(col), dtype=pl.String) for name, col in zip(header, columns)})


def _strip(original: pl.DataFrame) -> pl.DataFrame:
    """Every cell without outer Unicode whitespace; a column with none keeps the original's memory.

    Columns are stripped a few at a time (in parallel), so at most that many
    stripped copies exist at once.
    """
    columns: list[pl.Series] = []
    for at in range(0, original.width, _STRIP_COLUMNS):
        names = original.columns[at : at + _STRIP_COLUMNS]
        stripped = original.select(pl.col(names).str.strip_chars())
        columns += [original[n] if stripped[n].equals(original[n]) else stripped[n] for n in names]
        del stripped
    return pl.DataFrame(columns)


_STRIP_COLUMNS = 4


# ---------------------------------------------------------------------------
# Writing


def neutralise_formulas(frame: pl.DataFrame | pd.DataFrame) -> pl.DataFrame | pd.DataFrame:
    """`frame` with a leading apostrophe on every text cell a spreadsheet would run as a formula.

    Only text columns are touched: numbers stay numbers. Returns the same type;
    the input is not changed.
    """
    if isinstance(frame, pl.DataFrame):
        texts = [c for c, t in frame.schema.items() if t == pl.String]
        return frame.with_columns(_guarded(pl.col(c)).alias(c) for c in texts) if texts else frame
    out = frame.copy(deep=False)
    for col in out.columns:
        if pd.api.types.is_string_dtype(out[col]) or out[col].dtype == object:
            s = out[col].astype("string")
            risky = s.str.startswith(FORMULA_PREFIXES).fillna(False)
            if risky.any():
                out[col] = s.where(~risky, "'" + s)
    return out


def _guarded(col: pl.Expr) -> pl.Expr:
    return pl.when(col.str.contains(_FORMULA_PATTERN)).then(pl.lit("'") + col).otherwise(col)


def csv_bytes(frame: pl.DataFrame | pd.DataFrame, header: bool = True) -> bytes:
    """`frame` as the project's CSV (format in the module docstring), formula-safe; a pandas index is not written."""
    buffer = io.BytesIO()
    frame = _as_polars(frame)
    _prepared(frame).sink_csv(buffer, include_header=header, **_WRITE_OPTIONS)
    data = buffer.getvalue()
    if b"\x00" in data:  # a NUL somewhere in the text: write it again with every NUL replaced
        buffer = io.BytesIO()
        _prepared(frame, nul=True).sink_csv(buffer, include_header=header, **_WRITE_OPTIONS)
        data = buffer.getvalue()
    return data


def write_csv(frame: pl.DataFrame | pd.DataFrame, path: Path, header: bool = True) -> tuple[int, str]:
    """Write `frame` to `path` in exactly the bytes `csv_bytes` gives (streamed by Polars, straight to the file);
    return the file's size and sha256.

    The changed columns (formula guard, empty text, booleans) are made a batch at
    a time while the file is written: no second copy of the table is built. The
    file is read back once, for its hash and a NUL check together.
    """
    frame = _as_polars(frame)
    _prepared(frame).sink_csv(path, include_header=header, **_WRITE_OPTIONS)
    size, digest, nul = file_facts(path)
    if nul:  # a NUL somewhere in the text (rare): write the file again with every NUL replaced
        _prepared(frame, nul=True).sink_csv(path, include_header=header, **_WRITE_OPTIONS)
        size, digest, _ = file_facts(path)
    return size, digest


_WRITE_OPTIONS = {"separator": ",", "line_terminator": "\n", "quote_char": '"', "quote_style": "necessary",
                  "null_value": "", "include_bom": False}


def file_facts(path: Path) -> tuple[int, str, bool]:
    """Size, sha256 and whether it holds a NUL byte, of the file at `path`: one read, a block at a time into one
    buffer (not mapped: a mapped file's pages would count in the process's resident memory)."""
    digest = hashlib.sha256()
    size, nul = 0, False
    buffer = bytearray(1 << 22)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(buffer):
            digest.update(view[:n])  # releases the GIL
            nul = nul or buffer.find(b"\x00", 0, n) >= 0
            size += n
    return size, digest.hexdigest(), nul


def _as_polars(frame: pl.DataFrame | pd.DataFrame) -> pl.DataFrame:
    return _from_pandas(frame) if isinstance(frame, pd.DataFrame) else frame


def _prepared(frame: pl.DataFrame, nul: bool = False) -> pl.LazyFrame:
    """The frame to write, as a lazy plan: formula guard, booleans as True/False, empty text as missing.

    Only the columns that need it are changed: a text column is guarded when one
    of its cells starts with a formula character (`_risky_columns`), and turned
    from "" to missing when it holds "". A NUL in a name becomes U+FFFD; with `nul`,
    every NUL in the text does too (the writers check their output for NUL and only
    then ask for this, so the usual case pays nothing for it).
    """
    names = [_safe_name(c) for c in frame.columns]
    if names != frame.columns:
        frame = frame.rename(dict(zip(frame.columns, names)))
    casts = [pl.col(n).cast(pl.String) for n, t in frame.schema.items() if isinstance(t, (pl.Categorical, pl.Enum))]
    if casts:
        frame = frame.with_columns(casts)
    texts = [n for n, t in frame.schema.items() if t == pl.String]
    risky = _risky_columns(frame, texts) if not nul else set(texts)
    blank = set()
    if frame.width > 1 and texts and frame.height:  # a lone column keeps "" so no record is a blank line
        found = frame.select(pl.col(texts).eq("").any()).row(0)
        blank = {name for name, has in zip(texts, found) if has}
    exprs = []
    for name in texts:
        if name not in risky and name not in blank:
            continue
        col = pl.col(name)
        if nul:
            col = col.str.replace_all("\x00", "\ufffd", literal=True)
        if name in risky:
            col = _guarded(col)
        if name in blank:
            col = pl.when(col != "").then(col)
        exprs.append(col.alias(name))
    for name, dtype in frame.schema.items():
        if dtype == pl.Boolean:
            col = pl.col(name)
            exprs.append(pl.when(col).then(pl.lit("True")).when(~col).then(pl.lit("False")).alias(name))
    lazy = frame.lazy()
    return lazy.with_columns(exprs) if exprs else lazy


def _safe_name(name: str) -> str:
    name = name.replace("\x00", "\ufffd")
    return ("'" + name) if name.startswith(FORMULA_PREFIXES) else name


_RISKY_FIRST_BYTE = np.zeros(256, bool)
_RISKY_FIRST_BYTE[[ord(c) for c in FORMULA_PREFIXES]] = True


def _risky_columns(frame: pl.DataFrame, texts: list[str]) -> set[str]:
    """The text columns with a cell that may start with a formula character.

    Read from the first byte of each cell, which an Arrow string view holds in
    place (bytes 4 to 7 of its 16-byte view are the first four bytes of the text,
    whatever its length): no pass over the text itself. The answer may include a
    column with no such cell (a missing cell's view is not read apart), never
    miss one; a column not held as string views is checked with a regex.
    """
    if not texts or not frame.height:
        return set()
    table = frame.select(texts).to_arrow(compat_level=pl.CompatLevel.newest())
    risky = set()
    for name, column in zip(texts, table.columns):
        for chunk in column.chunks:
            if not len(chunk):
                continue
            if chunk.type != pa.string_view() or chunk.buffers()[1] is None:
                if frame.select(pl.col(name).str.contains(_FORMULA_PATTERN).any()).item():
                    risky.add(name)
                break
            views = np.frombuffer(chunk.buffers()[1], np.uint8, count=16 * (chunk.offset + len(chunk)))
            if _RISKY_FIRST_BYTE[views[16 * chunk.offset + 4 :: 16]].any():
                risky.add(name)
                break
    return risky


def _from_pandas(frame: pd.DataFrame) -> pl.DataFrame:
    """A pandas frame as Polars (index dropped); text-like columns become text, NaN becomes missing."""
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    text = {c: "string[pyarrow]" for c in frame.columns
            if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c].dtype)}
    if text:
        frame = frame.astype(text)
    return pl.from_pandas(frame, nan_to_null=True)
