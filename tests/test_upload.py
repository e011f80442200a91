"""The "Check your own reports" page (app/page_upload.py).

`check_uploads` is tested on real bytes; the page itself is driven through
Streamlit's AppTest with real uploads (tests/upload_app_page.py runs
`render()`), so the uploader -> size check -> build -> tables and downloads
path is the one a visitor gets. Expected messages are the project's own,
read from etl/csvio.py and etl/normalise.py.
"""
from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path, PurePosixPath

import pandas as pd
import pytest
from streamlit.runtime.memory_media_file_storage import _calculate_file_id
from streamlit.testing.v1 import AppTest

from app.page_upload import DEFAULT_SOURCES_NAME, MAX_UPLOAD_BYTES, check_uploads, size_refusal
from etl.build import OUTPUT_NAME, build
from etl.errors import Problem

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "upload"
PAGE = REPO / "tests" / "upload_app_page.py"
HEADER_COLUMNS = ("report_id, incident_id, source_id, kind, event_date, country, place, drug, quantity, value, "
                  "currency, usd_stated, stated_rate, nk_link, arrests, notes")

ERRORS_EXPECTED = [  # tests/fixtures/upload/errors.csv, in file and line order
    "errors.csv:3: drug: unknown drug 'unobtainium' (add it to data/reference/drugs.csv)",
    "errors.csv:4: event_date: not a valid date '2010-13' (use YYYY, YYYY-MM or YYYY-MM-DD)",
    "errors.csv:4: quantity: cannot read '60 furlongs' as a mass: unknown unit 'furlongs'",
    "errors.csv:5: usd_stated: warning: our conversion gives US$100,000,000 but the source says US$200,000,000 "
    "(-50.0%, tolerance 5%)",
    "errors.csv:6: source_id: source_id 'no-such-source' is not in sources.csv",
]


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def build_directly(tmp_path: Path, reports: bytes, sources: bytes) -> bytes:
    """The normalised CSV the project's build gives for the same two files."""
    raw = tmp_path / "direct" / "raw"
    raw.mkdir(parents=True)
    (raw / "reports.csv").write_bytes(reports)
    (raw / "sources.csv").write_bytes(sources)
    return build(raw, REPO / "data" / "reference", tmp_path / "direct" / "out", keep_going=True).files[
        tmp_path / "direct" / "out" / OUTPUT_NAME]


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def media_id(button) -> str:
    """The id Streamlit gave the bytes behind a download button (a hash of data, MIME type and file name)."""
    return PurePosixPath(button.proto.url).stem


def page_with(reports: tuple[str, bytes], sources: tuple[str, bytes] | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.run()
    at.file_uploader(key="upload_reports").upload(reports[0], reports[1], "text/csv")
    if sources is not None:
        at.file_uploader(key="upload_sources").upload(sources[0], sources[1], "text/csv")
    at.run()
    assert not at.exception, at.exception
    return at


# ---------------------------------------------------------------------------
# check_uploads on real bytes


def test_valid_file_gives_the_builds_csv_and_converted_rows(tmp_path):
    reports, sources = fixture("valid.csv"), fixture("sources.csv")
    check = check_uploads(reports, sources, "valid.csv", "sources.csv")
    assert check.readable and check.problems == [] and not check.refused
    assert (check.input_rows, check.written_rows, check.rejected_rows) == (3, 3, 0)
    assert check.normalised_csv == build_directly(tmp_path, reports, sources)
    kg = dict(zip(check.frame["report_id"], check.frame["quantity_kg"]))
    assert kg["t1"] == 60.0 and kg["t2"] == 1.5 and pd.isna(kg["t3"])  # '60 kg', '1,500 grams', a price row
    assert csv_rows(check.rejects_csv) == []


def test_without_sources_the_projects_sources_are_used(tmp_path):
    reports = (REPO / "data" / "raw" / "reports.csv").read_bytes()
    check = check_uploads(reports, None, "reports.csv")
    assert check.sources_name == DEFAULT_SOURCES_NAME
    assert check.readable and check.errors == []
    assert check.normalised_csv == build_directly(tmp_path, reports, (REPO / "data" / "raw" / "sources.csv").read_bytes())
    # the fixture's own source ids are not in the project's sources.csv
    other = check_uploads(fixture("valid.csv"), None, "valid.csv")
    assert [str(p) for p in other.errors] == [
        f"valid.csv:{line}: source_id: source_id '{sid}' is not in sources.csv"
        for line, sid in ((2, "test-press-2011"), (3, "test-press-2011"), (4, "test-official-2009"))
    ]


def test_errors_are_listed_by_line_and_rejected_rows_are_downloadable():
    check = check_uploads(fixture("errors.csv"), fixture("sources.csv"), "errors.csv")
    assert check.readable
    assert [str(p) for p in check.problems] == ERRORS_EXPECTED
    assert [p.severity for p in check.problems] == ["error"] * 3 + ["warning", "error"]
    # input = normalised + rejected; the row with only a warning is kept
    assert (check.input_rows, check.written_rows, check.rejected_rows) == (5, 2, 3)
    assert list(check.frame["report_id"]) == ["e1", "e4"]
    rejects = csv_rows(check.rejects_csv)
    assert [(r["line"], r["report_id"], r["reasons"]) for r in rejects] == [
        ("3", "e2", "drug: unknown drug 'unobtainium' (add it to data/reference/drugs.csv)"),
        ("4", "e3", "event_date: not a valid date '2010-13' (use YYYY, YYYY-MM or YYYY-MM-DD) | "
                    "quantity: cannot read '60 furlongs' as a mass: unknown unit 'furlongs'"),
        ("6", "e5", "source_id: source_id 'no-such-source' is not in sources.csv"),
    ]
    # the rejected row's formula comes back neutralised in the rejects file
    assert rejects[2]["notes"] == "'=HYPERLINK(\"https://example.org/x\",\"rejected formula\")"


@pytest.mark.parametrize("data, message", [
    (b"", f"file is empty: expected a header line with the columns {HEADER_COLUMNS}"),  # nothing at all
    (b" \r\n\n", f"file is empty: expected a header line with the columns {HEADER_COLUMNS}"),  # blank lines only
    (fixture("valid.csv").split(b"\n")[0] + b"\n", "file has a header but no rows"),
])
def test_empty_files_are_one_file_level_problem(data, message):
    check = check_uploads(data, fixture("sources.csv"), "empty.csv")
    assert not check.readable and check.frame is None and check.normalised_csv is None
    assert check.problems == [Problem("empty.csv", 1, "-", message)]


def test_sources_file_problems_name_the_uploaded_sources_file():
    sources = fixture("sources.csv").replace(b"https://example.org/upload-test", b"ftp://example.org/x")
    check = check_uploads(fixture("valid.csv"), sources, "valid.csv", "my-sources.csv")
    assert not check.readable
    assert [str(p) for p in check.problems] == ["my-sources.csv:2: url: not an http(s) URL: 'ftp://example.org/x'"]


def test_over_the_cap_is_refused_with_the_limit_and_the_size():
    assert size_refusal("a.csv", MAX_UPLOAD_BYTES) is None
    message = ("big.csv is 5.0 MB (5,242,881 bytes); this page checks files of at most 5 MB (5,242,880 bytes). "
               "Split it into smaller files and check each one.")
    assert size_refusal("big.csv", MAX_UPLOAD_BYTES + 1) == message
    big = fixture("valid.csv") + b"\n" * (MAX_UPLOAD_BYTES + 1 - len(fixture("valid.csv")))
    check = check_uploads(big, None, "big.csv")
    assert check.refused == [message] and not check.readable and check.problems == []
    big_sources = check_uploads(fixture("valid.csv"), b" " * (6 * 1024 * 1024), "valid.csv", "s.csv")
    assert big_sources.refused == [
        "s.csv is 6.0 MB (6,291,456 bytes); this page checks files of at most 5 MB (5,242,880 bytes). "
        "Split it into smaller files and check each one."
    ]


def test_a_byte_order_mark_is_accepted():
    plain = check_uploads(fixture("valid.csv"), fixture("sources.csv"), "valid.csv")
    bom = check_uploads(b"\xef\xbb\xbf" + fixture("valid.csv"), fixture("sources.csv"), "valid.csv")
    assert bom.problems == [] and bom.written_rows == 3
    assert bom.normalised_csv == plain.normalised_csv


def test_a_latin1_file_is_refused_naming_the_line():
    latin1 = fixture("valid.csv").decode("utf-8").replace("grams, a won value", "grams, a café value").encode("latin-1")
    check = check_uploads(latin1, fixture("sources.csv"), "latin1.csv")
    assert not check.readable
    assert check.problems == [Problem("latin1.csv", 3, "notes", "file is not UTF-8 (byte 0xe9); save it as UTF-8")]


def test_formula_cells_come_back_neutralised_in_the_download():
    check = check_uploads(fixture("formula.csv"), fixture("sources.csv"), "formula.csv")
    assert check.problems == [] and check.written_rows == 2
    rows = {r["report_id"]: r for r in csv_rows(check.normalised_csv)}
    assert rows["f1"]["notes"] == "'=HYPERLINK(\"https://example.org/x\",\"click\")"
    assert rows["f2"]["notes"] == "'+1 more bag was found later (test fixture)"
    assert rows["f2"]["incident_id"] == "test-inc-2"  # an id cannot start with '@' any more (ids have a declared pattern)
    assert b"\n=HYPERLINK" not in check.normalised_csv and b",=HYPERLINK" not in check.normalised_csv
    assert b',"=HYPERLINK' not in check.normalised_csv


@pytest.mark.parametrize("reports, expected", [
    # a row with one field too many (an unquoted comma in the notes)
    (fixture("valid.csv").replace(b"a price per kilogram.", b"a price, per kilogram."),
     Problem("bad.csv", 4, "-", "expected 16 cells as in the header, found 17 (an unquoted comma?)")),
    # a quote that is never closed
    (fixture("valid.csv").replace(b"Test fixture: a price", b"\"Test fixture: a price"),
     Problem("bad.csv", 4, "notes", "cannot read the CSV from here: unexpected end of data (an unclosed quote?)")),
])
def test_malformed_csv_is_a_located_problem_not_a_crash(reports, expected):
    check = check_uploads(reports, fixture("sources.csv"), "bad.csv")
    assert not check.readable
    assert check.problems == [expected]


def test_problems_after_a_blank_line_name_the_right_line():
    lines = fixture("errors.csv").split(b"\n")
    with_blank = b"\n".join(lines[:2] + [b""] + lines[2:])  # blank line 3; unobtainium row moves to line 4
    check = check_uploads(with_blank, fixture("sources.csv"), "errors.csv")
    assert str(check.problems[0]) == "errors.csv:4: drug: unknown drug 'unobtainium' (add it to data/reference/drugs.csv)"


def test_checking_uploads_never_changes_data(tmp_path):
    def digest() -> dict[str, str]:
        return {p.relative_to(REPO).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted((REPO / "data").rglob("*")) if p.is_file()}

    before = digest()
    for name in ("valid.csv", "errors.csv", "formula.csv"):
        check_uploads(fixture(name), fixture("sources.csv"), name)
        check_uploads(fixture(name), None, name)  # the project's sources.csv is read, never written
    check_uploads((REPO / "data" / "raw" / "reports.csv").read_bytes(), None, "reports.csv")
    page_with(("errors.csv", fixture("errors.csv")))
    assert digest() == before


# ---------------------------------------------------------------------------
# The page, through AppTest with real uploads


def test_page_asks_for_a_file_first():
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.run()
    assert not at.exception
    assert [u.label for u in at.file_uploader] == [
        "Reports file (CSV, UTF-8, at most 5 MB)",
        "Sources file (optional; without it the project's data/raw/sources.csv is used)",
    ]
    assert [i.value for i in at.info] == ["Upload a reports file to check it."]
    assert len(at.dataframe) == 0 and len(at.download_button) == 0


def test_page_shows_a_valid_file_and_offers_the_builds_csv(tmp_path):
    reports, sources = fixture("valid.csv"), fixture("sources.csv")
    at = page_with(("valid.csv", reports), ("sources.csv", sources))
    assert [m.value for m in at.metric] == ["3", "3", "0"]
    assert at.caption[0].value.startswith("3 input rows = 3 normalised + 0 rejected")
    assert [s.value for s in at.success] == ["No problems found."]
    [rows] = at.dataframe
    assert list(rows.value["report_id"]) == ["t1", "t2", "t3"]
    assert list(rows.value["quantity_kg"].fillna(-1)) == [60.0, 1.5, -1]
    [download] = at.download_button  # nothing rejected, so no rejects button
    assert download.label == "Download the normalised rows (CSV)"
    expected = build_directly(tmp_path, reports, sources)
    assert media_id(download) == _calculate_file_id(expected, "text/csv", "valid.normalised.csv")


def test_page_lists_every_problem_and_offers_the_rejects():
    at = page_with(("errors.csv", fixture("errors.csv")), ("sources.csv", fixture("sources.csv")))
    assert [m.value for m in at.metric] == ["5", "2", "3"]
    assert "Problems: 4 error(s), 1 warning(s)" in [s.value for s in at.subheader]
    problems, rows = at.dataframe
    table = problems.value
    assert list(table.columns) == ["file", "line", "column", "message", "severity"]
    assert [f"{r.file}:{r.line}: {r.column}: {'warning: ' if r.severity == 'warning' else ''}{r.message}"
            for r in table.itertuples()] == ERRORS_EXPECTED
    assert at.code[0].value == "\n".join(ERRORS_EXPECTED)
    assert list(rows.value["report_id"]) == ["e1", "e4"]
    normalised, rejects = at.download_button
    check = check_uploads(fixture("errors.csv"), fixture("sources.csv"), "errors.csv")
    assert media_id(normalised) == _calculate_file_id(check.normalised_csv, "text/csv", "errors.normalised.csv")
    assert media_id(rejects) == _calculate_file_id(check.rejects_csv, "text/csv", "errors.rejects.csv")
    assert rejects.label == "Download the rejected rows (CSV)"


def test_page_download_carries_the_neutralised_formula():
    at = page_with(("formula.csv", fixture("formula.csv")), ("sources.csv", fixture("sources.csv")))
    [download] = at.download_button
    check = check_uploads(fixture("formula.csv"), fixture("sources.csv"), "formula.csv")
    assert b"'=HYPERLINK(" in check.normalised_csv
    assert media_id(download) == _calculate_file_id(check.normalised_csv, "text/csv", "formula.normalised.csv")


def test_page_refuses_a_file_over_the_cap():
    big = b"x" * (MAX_UPLOAD_BYTES + 1)
    at = page_with(("big.csv", big))
    assert [e.value for e in at.error] == [
        "big.csv is 5.0 MB (5,242,881 bytes); this page checks files of at most 5 MB (5,242,880 bytes). "
        "Split it into smaller files and check each one."
    ]
    assert len(at.dataframe) == 0 and len(at.metric) == 0 and len(at.download_button) == 0


def test_page_refuses_a_big_sources_file_and_shows_its_name_literally():
    # the name comes from the visitor: Markdown and $...$ (LaTeX) in it are shown as typed
    at = page_with(("valid.csv", fixture("valid.csv")), ("big_$x$.csv", b" " * (MAX_UPLOAD_BYTES + 1)))
    [error] = at.error
    assert error.value.startswith("big\\_\\$x\\$.csv is 5.0 MB (5,242,881 bytes)")
    assert len(at.dataframe) == 0


@pytest.mark.parametrize("name, data, expected", [
    ("empty.csv", b"", Problem("empty.csv", 1, "-", f"file is empty: expected a header line with the columns {HEADER_COLUMNS}")),
    ("bad.csv", fixture("valid.csv").replace(b"a price per kilogram.", b"a price, per kilogram."),
     Problem("bad.csv", 4, "-", "expected 16 cells as in the header, found 17 (an unquoted comma?)")),
])
def test_page_shows_file_level_problems_without_a_traceback(name, data, expected):
    at = page_with((name, data), ("sources.csv", fixture("sources.csv")))
    assert [e.value for e in at.error] == [
        "The files could not be checked: 1 problem(s) stopped the check before any row was normalised. "
        "Fix them and upload again."]
    [table] = at.dataframe
    assert table.value.to_dict("records") == [
        {"file": expected.file, "line": expected.line, "column": expected.column, "message": expected.message, "severity": "error"}]
    assert at.code[0].value == str(expected)
    assert len(at.download_button) == 0


def test_page_names_the_line_of_a_latin1_file():
    latin1 = fixture("valid.csv").decode("utf-8").replace("grams, a won value", "grams, a café value").encode("latin-1")
    at = page_with(("latin1.csv", latin1))
    [table] = at.dataframe
    assert table.value.to_dict("records") == [{"file": "latin1.csv", "line": 3, "column": "notes",
                                               "message": "file is not UTF-8 (byte 0xe9); save it as UTF-8", "severity": "error"}]


def test_page_accepts_a_byte_order_mark():
    at = page_with(("bom.csv", b"\xef\xbb\xbf" + fixture("valid.csv")), ("sources.csv", fixture("sources.csv")))
    assert [m.value for m in at.metric] == ["3", "3", "0"]
    assert [s.value for s in at.success] == ["No problems found."]



def test_a_price_per_an_unknown_unit_is_a_row_problem():  # once a TypeError that took the whole check down
    reports = fixture("valid.csv").replace(b"3 million pesos per kilo", b"3 million pesos per furlong")
    check = check_uploads(reports, fixture("sources.csv"), "valid.csv")
    assert [str(p) for p in check.errors] == [
        "valid.csv:4: value: cannot read '3 million pesos per furlong' as a price per mass: unknown unit 'furlong'"]
    assert (check.written_rows, check.rejected_rows) == (2, 1)
