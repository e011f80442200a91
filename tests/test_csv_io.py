"""etl/csvio.py on real files: strict RFC 4180 reading with physical lines, and the one CSV format the project writes.

Expected values come from the files the tests write and from independent readers
(Python's csv module, pandas, Polars), never from csvio itself.
"""
from __future__ import annotations

import csv
import io
import os
import tracemalloc
from pathlib import Path

import pandas as pd
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl import csvio
from etl.csvio import csv_bytes, neutralise_formulas, read_csv, write_csv
from etl.errors import Problem

COLUMNS = ["a", "b", "c"]
# Unicode's White_Space property (PropList.txt): exactly what the outer-whitespace rule removes
WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"


def read(tmp_path: Path, data: bytes, columns=COLUMNS, name="in.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return read_csv(path, name, columns)


def problems_of(tmp_path, data: bytes, columns=COLUMNS) -> list[str]:
    table, problems = read(tmp_path, data, columns)
    assert table is None
    return [str(p) for p in problems]


def oracle(text: str) -> tuple[list[list[str]], list[int]]:
    """The data records of CSV text and the line each starts on, by Python's csv module (blank lines skipped).

    Its reader counts LF, CRLF and a lone CR as line ends, as csvio does.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    records, lines, line = [], [], 1
    for record in reader:
        if record:
            records.append(record)
            lines.append(line)
        line = reader.line_num + 1
    return records[1:], lines[1:]


# ---------------------------------------------------------------------------
# Reading: RFC 4180 in full, physical lines


def test_carriage_return_inside_a_quoted_cell_is_data_not_a_new_record(tmp_path):
    data = b'a,b,c\n1,"note\r=1+1",x\n2,y,z\n'
    table, problems = read(tmp_path, data)
    assert problems == []
    assert table.original.rows() == [("1", "note\r=1+1", "x"), ("2", "y", "z")]
    assert table.lines.to_list() == [2, 4]  # the CR inside the cell ends line 2 as an editor shows it


def test_line_breaks_inside_quoted_cells_keep_the_lines_of_later_rows(tmp_path):
    text = 'a,b,c\r\n1,"two\r\nlines",x\r\n\r\n2,"lf\nonly",y\n3,"cr\ronly\r\r",z\n4,,\n'
    table, problems = read(tmp_path, text.encode())
    assert problems == []
    records, lines = oracle(text)
    assert [list(r) for r in table.original.rows()] == records
    assert table.lines.to_list() == lines == [2, 5, 7, 11]
    assert table.lines.dtype == pl.UInt32


def test_byte_order_mark_is_dropped_and_the_header_is_read(tmp_path):
    table, problems = read(tmp_path, b"\xef\xbb\xbfa,b,c\n1,2,3\n")
    assert problems == [] and table.header == COLUMNS and table.original.rows() == [("1", "2", "3")]


def test_last_record_without_a_line_break_and_trailing_blank_lines(tmp_path):
    assert read(tmp_path, b"a,b,c\n1,2,3")[0].original.rows() == [("1", "2", "3")]
    table, _ = read(tmp_path, b"a,b,c\n1,2,3\n\n\r\n\n")
    assert table.original.rows() == [("1", "2", "3")] and table.lines.to_list() == [2]


def test_every_cell_is_text_exactly_as_written(tmp_path):
    table, _ = read(tmp_path, b'a,b,c\n007,1e3,"NA"\nnull,,"""q"""\n')
    assert table.original.schema == {c: pl.String for c in COLUMNS}
    assert table.original.rows() == [("007", "1e3", "NA"), ("null", "", '"q"')]


# ---------------------------------------------------------------------------
# Reading: structure checked before any cell is used


def test_one_extra_field_in_the_first_data_row_is_reported_and_shifts_nothing(tmp_path):
    # pandas took the first column as an index here and misattributed every later cell
    assert problems_of(tmp_path, b"a,b,c\n1,2,3,4\n5,6,7\n8,9,10\n") == [
        "in.csv:2: -: expected 3 cells as in the header, found 4 (an unquoted comma?)"]


def test_short_rows_are_never_padded_silently(tmp_path):
    assert problems_of(tmp_path, b"a,b,c\n1,2,3\n4,5\n6,7,8\n9\n") == [
        "in.csv:3: -: expected 3 cells as in the header, found 2 (a missing cell or an unquoted line break?)",
        "in.csv:5: -: expected 3 cells as in the header, found 1 (a missing cell or an unquoted line break?)"]


def test_every_ragged_line_is_listed_with_its_physical_line(tmp_path):
    text = 'a,b,c\n1,"x\ny",3\n4,5\n6,"p\r\nq",7,8\n'
    assert problems_of(tmp_path, text.encode()) == [
        "in.csv:4: -: expected 3 cells as in the header, found 2 (a missing cell or an unquoted line break?)",
        "in.csv:5: -: expected 3 cells as in the header, found 4 (an unquoted comma?)"]


def test_a_first_row_of_100000_commas_is_reported_with_bounded_memory(tmp_path):
    data = b"a,b,c\n" + b"," * 100_000 + b"\n1,2,3\n"
    tracemalloc.start()
    try:
        problems = problems_of(tmp_path, data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert problems == ["in.csv:2: -: expected 3 cells as in the header, found 100001 (an unquoted comma?)"]
    assert peak < 20 * 1024 * 1024  # pandas took 2.3 GB on this row


def test_a_header_of_100000_names_is_summarised(tmp_path):
    header = ",".join(["a", "b", "c"] + [f"x{i}" for i in range(100_000)])
    [problem] = problems_of(tmp_path, (header + "\n").encode())
    assert problem.startswith("in.csv:1: -: unexpected column(s): x0, x1, ")
    assert problem.endswith(" and 99,980 more") and len(problem) < 300


def test_nul_byte_is_a_problem_with_line_and_column(tmp_path):
    assert problems_of(tmp_path, b'a,b,c\n1,2,3\n4,"5\n\x006",7\n') == [
        "in.csv:4: b: a NUL byte (0x00); a text file never holds one: remove it"]


def test_many_nul_bytes_are_counted_not_listed_one_by_one(tmp_path):
    problems = problems_of(tmp_path, b"a,b,c\n" + b"1,\x00,3\n" * 500)
    assert len(problems) == csvio.MAX_LOCATED + 1
    assert problems[0] == "in.csv:2: b: a NUL byte (0x00); a text file never holds one: remove it"
    assert problems[-1] == (f"in.csv:{csvio.MAX_LOCATED + 2}: -: 400 more NUL bytes from here on "
                            f"(only the first {csvio.MAX_LOCATED} are listed one by one)")


def test_carriage_return_outside_quotes_is_a_problem(tmp_path):
    assert problems_of(tmp_path, b"a,b,c\n1,2\r,3\n") == [
        "in.csv:2: b: a carriage return (CR) outside quotes: end lines with LF or CR LF, and quote a cell that holds a line break"]


@pytest.mark.parametrize("data, expected", [
    (b'a,b,c\n1,x"y,3\n4,5,6\n', ("in.csv:2: b: cannot read the CSV from here: a double quote inside a cell that does not "
                                  "start with one (quote the whole cell and double the quote)")),
    (b'a,b,c\n1,"x"y,3\n', ("in.csv:2: b: cannot read the CSV from here: text after the closing quote of a quoted cell "
                            "(double the quote if it is part of the text)")),
    (b'a,b,c\n1,2,3\n4,5,"6\n7,8,9\n', "in.csv:3: c: cannot read the CSV from here: unexpected end of data (an unclosed quote?)"),
])
def test_a_broken_quote_is_located_and_nothing_after_it_is_trusted(tmp_path, data, expected):
    assert problems_of(tmp_path, data) == [expected]


def test_bytes_that_are_not_utf8_are_located(tmp_path):
    assert problems_of(tmp_path, b'a,b,c\n1,"caf\xc3\xa9",3\n4,x\xe9,6\n') == [
        "in.csv:3: b: file is not UTF-8 (byte 0xe9); save it as UTF-8"]


def test_header_faults_are_file_level_problems(tmp_path):
    assert problems_of(tmp_path, b"a,b,b,d\n1,2,3,4\n") == [
        "in.csv:1: -: missing required column(s): c", "in.csv:1: -: unexpected column(s): d",
        "in.csv:1: -: duplicate column names in the header"]
    assert problems_of(tmp_path, b"\na,b,c\n1,2,3\n")[0] == "in.csv:1: -: line 1 is blank: the header must be on the first line"
    assert problems_of(tmp_path, b" \r\n\n\t\n") == ["in.csv:1: -: file is empty: expected a header line with the columns a, b, c"]
    assert problems_of(tmp_path, b"a,b,c\r\n\r\n") == ["in.csv:1: -: file has a header but no rows"]
    assert read_csv(tmp_path / "nope.csv", "nope.csv", COLUMNS) == (None, [Problem("nope.csv", 0, "-", "file not found")])


def test_optional_columns_may_be_absent(tmp_path):
    path = tmp_path / "o.csv"
    path.write_bytes(b"a,b,c\n1,2,3\n")
    assert read_csv(path, "o.csv", ["a", "b"], optional=("c", "d"))[1] == []


# ---------------------------------------------------------------------------
# Reading: the outer-whitespace rule


def test_no_break_space_is_stripped_whatever_other_rows_hold(tmp_path):
    alone, _ = read(tmp_path, "a,b,c\n1,\u00a0x\u00a0,3\n".encode(), name="alone.csv")
    mixed, _ = read(tmp_path, "a,b,c\n1,\u00a0x\u00a0,3\n2, y ,4\n".encode(), name="mixed.csv")
    assert alone.frame["b"].to_list() == ["x"]
    assert mixed.frame["b"].to_list() == ["x", "y"]
    assert alone.original["b"].to_list() == ["\u00a0x\u00a0"]  # the rejects file keeps it as written


def test_outer_whitespace_rule_is_unicode_white_space_exactly(tmp_path):
    not_space = "\x1c\x1d\x1e\x1f\u200b\ufeff"  # Python's str.strip removes the first four; none is White_Space
    cell = WHITE_SPACE.replace("\r", "").replace("\n", "") + "v" + not_space
    table, problems = read(tmp_path, f'a,b,c\n1,"{cell}",3\n'.encode())
    assert problems == []
    assert table.frame["b"].to_list() == ["v" + not_space]


# A cell: any text, including the characters RFC 4180 quoting is about and Unicode spaces
CELL = st.lists(st.sampled_from(list('ab,"\r\n =+- ') + ["\r\n", "\u00a0", "é", "\u3000", "\x1f", "\t"]),
                max_size=8).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELL, min_size=3, max_size=3), min_size=1, max_size=12),
       newline=st.sampled_from(["\n", "\r\n"]), blanks=st.lists(st.booleans(), min_size=12, max_size=12),
       quote_all=st.booleans())
def test_any_valid_csv_reads_back_its_cells_and_lines(tmp_path, rows, newline, blanks, quote_all):
    # RFC 4180 by hand: Python's csv writer leaves a lone CR unquoted unless it is in the line terminator
    def record(cells):
        return ",".join('"' + c.replace('"', '""') + '"' if quote_all or any(ch in c for ch in ',"\r\n') else c
                        for c in cells) + newline

    out = io.StringIO(newline="")
    out.write(record(COLUMNS))
    for row, blank in zip(rows, blanks):
        if row == ["", "", ""] and not quote_all:
            row = ['""', "", ""]  # a row of empty cells is ",," which no writer confuses with a blank line
        out.write(record(row))
        if blank:
            out.write(newline)
    text = out.getvalue()
    table, problems = read(tmp_path, text.encode())
    assert problems == []
    records, lines = oracle(text)
    assert [list(r) for r in table.original.rows()] == records
    assert table.lines.to_list() == lines
    assert [list(r) for r in table.frame.rows()] == [[c.strip(WHITE_SPACE) for c in r] for r in records]


@pytest.mark.parametrize("block", [1, 2, 3, 7, 64])
def test_the_scan_gives_the_same_answer_whatever_its_block_size(tmp_path, monkeypatch, block):
    # block edges fall inside quoted cells, between CR and LF, and inside multi-byte characters
    text = 'a,b,c\r\n"x,\r\ny",é\u3000,"q""\r"\r\n\r\n1,2,3\n4,5\n"6\n",\u00a07,8\n'
    expected = [str(p) for p in read(tmp_path, text.encode())[1]]
    monkeypatch.setattr(csvio, "_BLOCK", block)
    table, problems = read(tmp_path, text.encode())
    assert [str(p) for p in problems] == expected == [
        "in.csv:7: -: expected 3 cells as in the header, found 2 (a missing cell or an unquoted line break?)"]
    good = text.replace("4,5\n", "4,5,\u00e9\n")
    table, problems = read(tmp_path, good.encode())
    records, lines = oracle(good)
    assert problems == [] and [list(r) for r in table.original.rows()] == records and table.lines.to_list() == lines


def test_the_exact_reader_agrees_with_polars(tmp_path):
    text = 'a,b,c\r\n"x,\r\ny",é,"q""\r"\r\n\r\n1,2,3\n"6\n",7,8\n'
    path = tmp_path / "in.csv"
    path.write_text(text, newline="")
    table, _ = read_csv(path, "in.csv", COLUMNS)
    import mmap

    import numpy as np
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        data = np.frombuffer(mm, np.uint8)
        scan = csvio._scan(data, 0)
        del data
        exact = csvio._parse_exactly(mm, COLUMNS, scan)
    assert exact.rows() == table.original.rows()


# ---------------------------------------------------------------------------
# Writing: RFC 4180, formula-safe, one format


def parse_back(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def test_a_lone_carriage_return_is_quoted_on_write():
    data = csv_bytes(pl.DataFrame({"id": ["r1", "r2"], "notes": ["before\rafter", "plain"]}))
    assert data == b'id,notes\nr1,"before\rafter"\nr2,plain\n'
    assert parse_back(data) == [["id", "notes"], ["r1", "before\rafter"], ["r2", "plain"]]


def test_text_after_an_embedded_line_break_stays_in_its_cell():
    # a spreadsheet would start a new cell only if the break were outside quotes; the writer always quotes it
    cells = ["x\r=1+1", "x\n@SUM(A1)", "x\r\n+1", "=2\r-3"]
    data = csv_bytes(pl.DataFrame({"id": ["1", "2", "3", "4"], "notes": cells}))
    for reader in (parse_back(data)[1:], pl.read_csv(data, infer_schema=False).rows(),
                   pd.read_csv(io.BytesIO(data), dtype=str).itertuples(index=False)):
        assert [tuple(r) for r in reader] == [("1", cells[0]), ("2", cells[1]), ("3", cells[2]), ("4", "'" + cells[3])]


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "\n=1", '=HYPERLINK("http://x")'])
def test_formula_guard_prefixes_every_risky_text_cell(cell):
    frame = pl.DataFrame({"id": ["1"], "text": [cell], "n": [-5.5]})
    rows = parse_back(csv_bytes(frame))
    assert rows[1] == ["1", "'" + cell, "-5.5"]  # numbers stay numbers
    assert parse_back(csv_bytes(frame.to_pandas())) == rows  # the same for a pandas frame
    assert neutralise_formulas(frame)["text"].to_list() == ["'" + cell]
    assert neutralise_formulas(frame.to_pandas())["text"].tolist() == ["'" + cell]


def test_safe_text_is_left_alone():
    frame = pl.DataFrame({"a": ["plain", " =not at start", "1-2", "'quoted"]})
    assert neutralise_formulas(frame).equals(frame)


def test_nul_is_never_written():
    data = csv_bytes(pl.DataFrame({"a": ["x\x00y"], "b": ["1"]}))
    assert b"\x00" not in data and parse_back(data)[1] == ["x\ufffdy", "1"]


def test_one_format_for_polars_pandas_and_files(tmp_path):
    frame = pl.DataFrame({
        "text": ["a,b", 'say "hi"', "", None, "=x"],
        "kg": [5.95, 100.0, None, 1e-05, 0.1 + 0.2],
        "count": pl.Series([1, None, 3, 4, 5], dtype=pl.Int64),
        "flag": [True, False, None, True, False],
    })
    data = csv_bytes(frame)
    assert data.decode("utf-8").splitlines() == [
        "text,kg,count,flag", '"a,b",5.95,1,True', '"say ""hi""",100.0,,False', ",,3,", ",0.00001,4,True",
        "'=x,0.30000000000000004,5,False"]
    write_csv(frame, tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_bytes() == data
    as_pandas = pd.DataFrame({
        "text": pd.array(frame["text"].to_list(), dtype="string"), "kg": frame["kg"].to_numpy(),
        "count": pd.array(frame["count"].to_list(), dtype="Int64"), "flag": pd.array(frame["flag"].to_list(), dtype="boolean"),
    }, index=[10, 11, 12, 13, 14])  # an index is never written
    assert csv_bytes(as_pandas) == data
    assert not data.startswith(b"\xef\xbb\xbf")
    back = pl.read_csv(data, schema_overrides={"kg": pl.Float64})
    assert back["kg"].to_list()[:2] == [5.95, 100.0]


def test_a_lone_text_column_keeps_empty_cells_as_records():
    data = csv_bytes(pl.DataFrame({"a": ["x", "", "y"]}))
    assert data == b'a\nx\n""\ny\n'
    assert parse_back(data) == [["a"], ["x"], [""], ["y"]]


def test_header_names_are_formula_safe_too():
    assert csv_bytes(pl.DataFrame({"=cmd": ["x"], "b": ["y"]})).splitlines()[0] == b"'=cmd,b"


def test_written_file_has_a_normal_mode(tmp_path):
    old = os.umask(0o022)
    try:
        write_csv(pl.DataFrame({"a": ["x"], "b": ["y"]}), tmp_path / "o.csv")
    finally:
        os.umask(old)
    assert (tmp_path / "o.csv").stat().st_mode & 0o777 == 0o644


def test_written_csv_reads_back_through_read_csv(tmp_path):
    frame = pl.DataFrame({"a": ["x\r\ny", "1,2", ' "q" '], "b": ["\u00a0", "", "é"], "c": ["3", "4", "5"]})
    write_csv(frame, tmp_path / "round.csv")
    table, problems = read_csv(tmp_path / "round.csv", "round.csv", COLUMNS)
    assert problems == []
    assert table.original.rows() == [("x\r\ny", "\u00a0", "3"), ("1,2", "", "4"), (' "q" ', "é", "5")]
    assert table.lines.to_list() == [2, 4, 5]


# A record of 2 to 4 cells (the header has 3): the scan counts the cells of each record, whatever its block size
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELL, min_size=2, max_size=4), min_size=1, max_size=10),
       block=st.integers(min_value=1, max_value=48))
def test_ragged_records_are_found_at_any_block_size(tmp_path, monkeypatch, rows, block):
    def record(cells):
        return ",".join('"' + c.replace('"', '""') + '"' if any(ch in c for ch in ',"\r\n') or not c else c
                        for c in cells) + "\n"

    text = record(COLUMNS) + "".join(record(r) for r in rows)
    records, lines = oracle(text)
    expected = [f"in.csv:{line}: -: expected 3 cells as in the header, found {len(r)} "
                f"({'an unquoted comma?' if len(r) > 3 else 'a missing cell or an unquoted line break?'})"
                for r, line in zip(records, lines) if len(r) != 3]
    monkeypatch.setattr(csvio, "_BLOCK", block)
    table, problems = read(tmp_path, text.encode())
    assert [str(p) for p in problems] == expected
    if not expected:
        assert [list(r) for r in table.original.rows()] == records and table.lines.to_list() == lines


# Writing: which columns get the formula guard is read from each cell's first byte in Polars' string views; cells of
# up to 12 bytes live in the view itself, longer ones in a data buffer, and a column can be in several chunks
WRITE_CELL = st.one_of(st.none(), st.sampled_from(["", "=1+1", "-2", "@A1", "\tx", "\n=x", "plain", "é=x", " =x",
                                                   "=" + "x" * 20, "+" + "long text " * 3, "x" * 13 + "=",
                                                   "메스암페타민 =1"]))


@settings(max_examples=150, deadline=None)
@given(cells=st.lists(WRITE_CELL, min_size=1, max_size=30), cuts=st.lists(st.integers(0, 30), max_size=4),
       offset=st.integers(0, 3))
def test_the_formula_guard_finds_risky_cells_in_any_chunk_and_length(cells, cuts, offset):
    ids = [str(i) for i in range(len(cells))]
    whole = pl.DataFrame({"id": ["pad"] * offset + ids, "text": [None] * offset + cells}).slice(offset)
    bounds = sorted({0, len(cells), *[min(c, len(cells)) for c in cuts]})
    chunked = pl.concat([whole.slice(lo, hi - lo) for lo, hi in zip(bounds, bounds[1:])], rechunk=False)
    expected = [["id", "text"]] + [[i, "" if c is None else ("'" + c if c[:1] in ("=", "+", "-", "@", "\t", "\r", "\n") else c)]
                                   for i, c in zip(ids, cells)]
    for frame in (whole, chunked):
        assert parse_back(csv_bytes(frame)) == expected


def test_nul_is_never_written_to_a_file_either(tmp_path):
    frame = pl.DataFrame({"id": ["1", "2"], "a\x00b": ["x\x00y", "=\x00"], "n": [1.5, None]})
    write_csv(frame, tmp_path / "out.csv")
    data = (tmp_path / "out.csv").read_bytes()
    assert b"\x00" not in data and data == csv_bytes(frame)
    assert parse_back(data) == [["id", "a\ufffdb", "n"], ["1", "x\ufffdy", "1.5"], ["2", "'=\ufffd", ""]]
