"""The "Check your own reports" page on hostile uploads: bounded output, RFC 4180 downloads, data/ untouched.

Real uploads through Streamlit's AppTest (tests/upload_app_page.py runs the page's
`render()`), and `check_uploads` on real bytes.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path, PurePosixPath

import pytest
from streamlit.runtime.memory_media_file_storage import _calculate_file_id
from streamlit.testing.v1 import AppTest

from app.page_upload import SHOWN_PROBLEMS, check_uploads
from etl.normalise import REPORT_COLUMNS

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "tests" / "upload_app_page.py"
FIXTURES = REPO / "tests" / "fixtures" / "upload"
HEADER = ",".join(REPORT_COLUMNS) + "\n"
# every checked cell of this row is wrong (notes is free text: it carries a formula instead)
ALL_WRONG = "r{i},,no-such-source,badkind,2011-13-40,XX,Atlantis,moon dust,3 sacks,5 bogus,XYZ,US$ lots,abc,bogus_link,three,=1+1\n"
ROWS = 300


def all_wrong(rows: int = ROWS) -> bytes:
    return (HEADER + "".join(ALL_WRONG.format(i=i) for i in range(rows))).encode()


def parse(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


@pytest.fixture(scope="module")
def page():
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    at.file_uploader(key="upload_reports").upload("allwrong.csv", all_wrong(), "text/csv")
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="module")
def check():
    return check_uploads(all_wrong(), None, "allwrong.csv")


def test_a_file_where_every_cell_is_wrong_gets_a_bounded_summary(page, check):
    total = len(check.problems)
    assert total == ROWS * 13 > SHOWN_PROBLEMS  # 13 checked columns wrong in each row (ids are unique, notes free text)
    assert f"{total:,} problems: the counts per column, then the first {SHOWN_PROBLEMS} by line. The download has every one." in \
        [m.value for m in page.markdown]
    counts, first, rows = page.dataframe
    assert counts.value.to_dict("records")[0] == {"file": "allwrong.csv", "column": "arrests", "severity": "error", "problems": ROWS}
    assert counts.value["problems"].sum() == total
    assert len(first.value) == SHOWN_PROBLEMS
    assert first.value.iloc[0].to_dict() == {"file": "allwrong.csv", "line": 2, "column": "incident_id",
                                             "message": "is empty", "severity": "error"}
    [text] = page.code
    assert text.value.splitlines() == [str(p) for p in check.problems[:SHOWN_PROBLEMS]]
    assert rows.value.empty  # nothing could be normalised


def test_the_full_problem_list_is_a_formula_safe_download(page, check):
    buttons = {b.label: b for b in page.download_button}
    full = buttons[f"Download all {len(check.problems):,} problems (CSV)"]
    data = check.problems_csv()
    assert PurePosixPath(full.proto.url).stem == _calculate_file_id(data, "text/csv", "allwrong.problems.csv")
    back = parse(data)
    assert [(r["file"], int(r["line"]), r["column"], r["message"], r["severity"]) for r in back] == \
        [(p.file, p.line, p.column, p.message, p.severity) for p in check.problems]


def test_a_visitor_named_file_that_looks_like_a_formula_is_neutralised_in_the_problem_list():
    check = check_uploads(all_wrong(20), None, "=cmd.csv")
    rows = parse(check.problems_csv())
    assert {r["file"] for r in rows} == {"'=cmd.csv"}


def test_rejected_rows_keep_every_input_row_and_stay_formula_safe(check):
    rejects = parse(check.rejects_csv)
    assert len(rejects) == ROWS == check.rejected_rows == check.input_rows
    assert [r["line"] for r in rejects] == [str(i + 2) for i in range(ROWS)]
    assert {r["notes"] for r in rejects} == {"'=1+1"}


def test_a_carriage_return_inside_a_quoted_cell_is_data_in_the_upload_and_the_downloads():
    valid = (FIXTURES / "valid.csv").read_bytes()
    header, first, *rest = valid.split(b"\n")
    cells = next(csv.reader([first.decode()]))
    cells[REPORT_COLUMNS.index("notes")] = "first part\r=1+1"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL).writerow(cells)
    reports = b"\n".join([header, out.getvalue().rstrip("\n").encode(), *rest])
    check = check_uploads(reports, (FIXTURES / "sources.csv").read_bytes(), "cr.csv")
    assert check.errors == [] and check.written_rows == 3  # no bogus record split at the CR
    [row] = [r for r in parse(check.normalised_csv) if r["report_id"] == cells[0]]
    assert row["notes"] == "first part\r=1+1"  # quoted in the download, so the part after the CR stays in its cell
    assert b'"first part\r=1+1"' in check.normalised_csv


def test_one_extra_field_in_the_first_data_row_is_located_and_nothing_is_checked():
    valid = (FIXTURES / "valid.csv").read_bytes()
    header, first, *rest = valid.split(b"\n")
    check = check_uploads(b"\n".join([header, first + b",extra", *rest]), (FIXTURES / "sources.csv").read_bytes(), "x.csv")
    assert not check.readable
    assert [str(p) for p in check.problems] == ["x.csv:2: -: expected 16 cells as in the header, found 17 (an unquoted comma?)"]


def test_a_nul_byte_is_located_not_written():
    valid = (FIXTURES / "valid.csv").read_bytes()
    check = check_uploads(valid.replace(b"Test fixture", b"Test\x00fixture", 1), (FIXTURES / "sources.csv").read_bytes(), "nul.csv")
    assert not check.readable
    assert [str(p) for p in check.problems] == ["nul.csv:2: notes: a NUL byte (0x00); a text file never holds one: remove it"]
