"""Bad input: every problem reported as FILE:LINE: COLUMN, nothing lost, no half-written files.

Each case runs the real command line on real files in a scratch project and
checks the exact message, the exit code, that the previous outputs are
byte-identical afterwards, and (with --keep-going) the row accounting.
"""
import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from etl.cli import main
from etl.normalise import REPORT_COLUMNS
from etl_helpers import REFERENCE

SOURCES = (
    "source_id,source_type,outlet,title,published,url,via,notes\n"
    "s1,press,Test Wire,Seizure round-up written for the tests,2011-06-30,https://example.org/roundup,,\n"
)
HEADER = ",".join(REPORT_COLUMNS)
GOOD_ROWS = [
    'r1,i1,s1,seizure,2011-02,KR,Busan,methamphetamine,5.95 kg,W19.8 billion,KRW,,,nk_made_official,13,',
    'r2,i2,s1,price,2011,PH,,methamphetamine,,3 million pesos per kilo,PHP,"US$68,000",,nk_made_official,,',
    'r3,i3,s1,seizure,2011-06,CN,Dandong,ice,450 grams,,,,,border_inference,10,',
]
BAD_LINE = len(GOOD_ROWS) + 2  # the appended row's line in reports.csv


class Project:
    """A scratch project: raw/ with sources.csv and reports.csv, out/ with a previous good build."""

    def __init__(self, root: Path):
        self.raw = root / "raw"
        self.out = root / "out"
        self.raw.mkdir()
        (self.raw / "sources.csv").write_text(SOURCES)
        self.write_reports(GOOD_ROWS)
        assert self.build() == 0
        self.before = self.snapshot()

    @property
    def reports(self) -> Path:
        return self.raw / "reports.csv"

    def write_reports(self, rows, header=HEADER, newline="\n", encoding="utf-8"):
        self.reports.write_bytes((newline.join([header, *rows]) + newline).encode(encoding))

    def build(self, *extra) -> int:
        return main(["build", "--raw", str(self.raw), "--reference", str(REFERENCE), "--out", str(self.out), *extra])

    def snapshot(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(self.out.iterdir())}

    def where(self, line=BAD_LINE) -> str:
        return f"{self.reports}:{line}"


@pytest.fixture
def project(tmp_path, capsys):
    p = Project(tmp_path)
    capsys.readouterr()
    return p


def row(**cells) -> str:
    base = dict(zip(REPORT_COLUMNS, next(csv.reader([GOOD_ROWS[0]]))))
    base.update({"report_id": "r4", "incident_id": "i4", **cells})
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow([base[c] for c in REPORT_COLUMNS])
    return buf.getvalue()


# (case, the bad row, the exact message after FILE:LINE: )
ROW_CASES = [
    ("unknown unit", row(quantity="3 sacks"), "quantity: cannot read '3 sacks' as a mass: unknown unit 'sacks'"),
    ("bare tons", row(quantity="5 tons"), "quantity: cannot read '5 tons' as a mass: a bare 'tons' may be metric, short (US) or long; write 'tons [metric]', 'tons [short]' or 'tons [long]'"),
    ("unknown currency", row(currency="XYZ"), "currency: unknown currency 'XYZ' (use an ISO 4217 code, e.g. KRW)"),
    ("currency contradicts the word", row(value="5 million pesos", currency="KRW"), "currency: KRW contradicts the currency word 'pesos' in the value (it means MXN or PHP)"),
    ("currency contradicts the symbol", row(value="₱5 million", currency="KRW"), "currency: KRW contradicts the currency symbol '₱' in the value (it means PHP)"),
    ("year without a rate", row(event_date="1965"), "currency: no exchange rate for KRW in 1965 (data/reference/fx_annual_lcu_per_usd.csv covers KRW 1970-2025)"),
    ("year without CPI", row(event_date="1965", value="US$5 million", currency="USD"), "event_date: no US CPI for 1965 (data/reference/us_cpi_u_annual.csv covers 1970-2025)"),
    ("negative amount", row(quantity="-5 kg"), "quantity: cannot read '-5 kg' as a mass: amounts must be positive"),
    ("zero amount", row(value="W0"), "value: cannot read 'W0' as money: amounts must be greater than zero"),
    ("range runs backwards", row(quantity="8-6 kg"), "quantity: cannot read '8-6 kg' as a mass: the low end of the range exceeds the high end"),
    ("impossible date", row(event_date="2011-13-40"), "event_date: not a valid date '2011-13-40' (use YYYY, YYYY-MM or YYYY-MM-DD)"),
    ("future date", row(event_date="2099-01"), "event_date: date '2099-01' is in the future"),
    ("date after publication", row(event_date="2011-07-01"), "event_date: date '2011-07-01' is after the source's publication date 2011-06-30"),
    ("duplicate report_id", row(report_id="r2"), "report_id: duplicate report_id 'r2' (first used on line 3)"),
    ("unknown source", row(source_id="nope"), "source_id: source_id 'nope' is not in sources.csv"),
    ("very long field", row(notes="x" * 5000), "notes: is 5,000 characters long (limit 2,000)"),
    ("unknown drug", row(drug="moon dust"), "drug: unknown drug 'moon dust' (add it to data/reference/drugs.csv)"),
    ("unknown place", row(place="Atlantis"), "place: place 'Atlantis' in KR is not in data/reference/places.csv"),
]


@pytest.mark.parametrize("case, bad, message", ROW_CASES, ids=[c[0] for c in ROW_CASES])
def test_row_problem_fails_with_exact_message_and_leaves_outputs(project, capsys, case, bad, message):
    project.write_reports(GOOD_ROWS + [bad])
    assert project.build() == 1
    err = capsys.readouterr().err
    assert f"{project.where()}: {message}" in err.splitlines()
    assert err.splitlines()[-1] == "1 error(s); nothing was written."
    assert "Traceback" not in err
    assert project.snapshot() == project.before


@pytest.mark.parametrize("case, bad, message", ROW_CASES, ids=[c[0] for c in ROW_CASES])
def test_keep_going_writes_valid_rows_and_rejects(project, capsys, case, bad, message):
    project.write_reports(GOOD_ROWS + [bad])
    assert project.build("--keep-going") == 0
    out = capsys.readouterr().out
    assert "input rows 4 = written 3 + rejected 1" in out
    written = pd.read_csv(project.out / "seizures.csv", dtype=str, keep_default_na=False)
    assert written["report_id"].tolist() == ["r1", "r2", "r3"]
    rejects = pd.read_csv(project.out / "seizures.rejects.csv", dtype=str, keep_default_na=False)
    assert rejects.columns.tolist() == ["line", *REPORT_COLUMNS, "reasons"]
    assert rejects["line"].tolist() == [str(BAD_LINE)]
    original = dict(zip(REPORT_COLUMNS, next(csv.reader([bad]))))
    # the input row unchanged, but for the quote that neutralises a cell a spreadsheet would run
    safe = {k: ("'" + v if v.startswith(("=", "+", "-", "@")) else v) for k, v in original.items()}
    assert rejects.iloc[0][REPORT_COLUMNS].to_dict() == safe
    assert message in rejects.at[0, "reasons"].split(" | ")


def test_every_problem_is_reported_at_once(project, capsys):
    project.write_reports(GOOD_ROWS + [row(quantity="3 sacks", currency="XYZ"), row(report_id="r5", event_date="2011-13-40")])
    assert project.build() == 1
    lines = capsys.readouterr().err.splitlines()
    assert f"{project.where()}: quantity: cannot read '3 sacks' as a mass: unknown unit 'sacks'" in lines
    assert f"{project.where()}: currency: unknown currency 'XYZ' (use an ISO 4217 code, e.g. KRW)" in lines
    assert f"{project.where(BAD_LINE + 1)}: event_date: not a valid date '2011-13-40' (use YYYY, YYYY-MM or YYYY-MM-DD)" in lines
    assert lines[-1] == "3 error(s); nothing was written."


def test_keep_going_accounts_for_every_row(project, capsys):
    bad = [row(quantity="3 sacks"), row(report_id="r5", event_date="2099"), row(report_id="r6", currency="XYZ")]
    project.write_reports(GOOD_ROWS + bad)
    assert project.build("--keep-going", "--rejects", str(project.out / "mine.csv")) == 0
    assert "input rows 6 = written 3 + rejected 3" in capsys.readouterr().out
    rejects = pd.read_csv(project.out / "mine.csv", dtype=str)
    assert rejects["report_id"].tolist() == ["r4", "r5", "r6"]


def test_counts_stay_counts_never_kilograms(project):
    project.write_reports(GOOD_ROWS + [row(quantity="2,000 tablets", value="", currency="")])
    assert project.build() == 0
    table = pd.read_csv(project.out / "seizures.csv").set_index("report_id")
    assert table.at["r4", "quantity_count"] == 2000
    assert table.at["r4", "quantity_count_unit"] == "tablet"
    assert pd.isna(table.at["r4", "quantity_kg"])


def test_usd_disagreement_is_a_warning_not_an_error(project, capsys):
    project.write_reports(GOOD_ROWS + [row(usd_stated="US$25 million")])
    assert project.build() == 0
    err = capsys.readouterr().err
    [line] = [x for x in err.splitlines() if "warning:" in x]
    assert line.startswith(f"{project.where()}: usd_stated: warning: our conversion gives US$17,866,")
    assert line.endswith("but the source says US$25,000,000 (-28.5%, tolerance 5%)")


@pytest.mark.parametrize(
    "header, message",
    [
        (HEADER.replace(",notes", ""), "missing required column(s): notes"),
        (HEADER + ",colour", "unexpected column(s): colour"),
    ],
)
def test_wrong_columns(project, capsys, header, message):
    rows = GOOD_ROWS if "colour" not in header else [r + ",red" for r in GOOD_ROWS]
    if "notes" not in header:
        rows = [r.rsplit(",", 1)[0] for r in GOOD_ROWS]
    project.write_reports(rows, header=header)
    assert project.build("--keep-going") == 1  # a file-level fault stops even --keep-going
    assert f"{project.reports}:1: -: {message}" in capsys.readouterr().err.splitlines()
    assert project.snapshot() == project.before


def test_empty_file(project, capsys):
    project.reports.write_bytes(b"")
    assert project.build() == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"{project.reports}:1: -: file is empty: expected a header line with the columns " + ", ".join(REPORT_COLUMNS)
    assert project.snapshot() == project.before


def test_header_only(project, capsys):
    project.write_reports([])
    assert project.build() == 1
    assert f"{project.reports}:1: -: file has a header but no rows" in capsys.readouterr().err.splitlines()
    assert project.snapshot() == project.before


def test_byte_order_mark_and_crlf_give_the_same_output(project):
    project.reports.write_bytes(b"\xef\xbb\xbf" + ("\r\n".join([HEADER, *GOOD_ROWS]) + "\r\n").encode())
    assert project.build() == 0
    after = project.snapshot()
    assert after["seizures.csv"] == project.before["seizures.csv"]
    assert after["datapackage.json"] != project.before["datapackage.json"]  # it records the input file's new hash


def test_latin1_bytes_are_located(project, capsys):
    project.write_reports(GOOD_ROWS + [row(notes="café")], encoding="latin-1")
    assert project.build() == 1
    assert f"{project.where()}: notes: file is not UTF-8 (byte 0xe9); save it as UTF-8" in capsys.readouterr().err.splitlines()
    assert project.snapshot() == project.before


def test_bad_sources_file_is_reported(project, capsys):
    (project.raw / "sources.csv").write_text(SOURCES + "s1,blog,X,Y,2011-02-30,ftp://x,,\n")
    assert project.build() == 1
    lines = capsys.readouterr().err.splitlines()
    where = f"{project.raw / 'sources.csv'}:3"
    assert f"{where}: source_id: duplicate source_id 's1'" in lines
    assert f"{where}: source_type: source_type must be one of official, press, secondary, not 'blog'" in lines
    assert f"{where}: published: not a valid date '2011-02-30' (use YYYY-MM-DD, or leave empty when the copy is undated)" in lines
    assert f"{where}: url: not an http(s) URL: 'ftp://x'" in lines


def test_formula_cells_are_neutralised_in_outputs_and_rejects(project):
    project.write_reports(GOOD_ROWS + [row(notes='=HYPERLINK("http://evil")'), row(report_id="r5", notes="+1", quantity="3 sacks")])
    assert project.build("--keep-going") == 0
    table = pd.read_csv(project.out / "seizures.csv", dtype={"report_id": str}).set_index("report_id")
    assert table.at["r4", "notes"] == "'=HYPERLINK(\"http://evil\")"
    assert table.at["r4", "quantity_kg"] == 5.95  # numbers stay numbers
    rejects = pd.read_csv(project.out / "seizures.rejects.csv", dtype=str)
    assert rejects.at[0, "notes"] == "'+1"


def test_failed_write_leaves_previous_outputs_and_no_temporary_files(project, capsys):
    blocker = project.out / "not-a-folder"
    blocker.write_text("")
    before = project.snapshot()
    assert project.build("--keep-going", "--rejects", str(blocker / "rejects.csv")) == 1
    err = capsys.readouterr().err
    assert "error: cannot write the outputs" in err and "the previous files are unchanged" in err
    assert project.snapshot() == before  # nothing replaced, no .tmp left behind


def test_ragged_row_and_unclosed_quote_are_located(project, capsys):
    project.write_reports(GOOD_ROWS + [GOOD_ROWS[0].replace("r1,", "r4,") + ",extra", 'r5,i5,s1,seizure,"2011'])
    assert project.build("--keep-going") == 1  # the file's structure is broken: nothing can be trusted
    lines = capsys.readouterr().err.splitlines()
    assert f"{project.where()}: -: expected 16 cells as in the header, found 17 (an unquoted comma?)" in lines
    assert f"{project.where(BAD_LINE + 1)}: event_date: cannot read the CSV from here: unexpected end of data (an unclosed quote?)" in lines
    assert "Traceback" not in "\n".join(lines)
    assert project.snapshot() == project.before


def test_blank_lines_do_not_shift_line_numbers(project, capsys):
    project.write_reports(GOOD_ROWS[:1] + [""] + GOOD_ROWS[1:] + [row(quantity="3 sacks")])
    assert project.build() == 1
    assert f"{project.where(BAD_LINE + 1)}: quantity: cannot read '3 sacks' as a mass: unknown unit 'sacks'" in capsys.readouterr().err.splitlines()


@pytest.mark.parametrize("arrests", ["99999999999999999999", "1e20", "2.5", "-3", "three"])
def test_arrests_must_be_a_plausible_whole_number(project, capsys, arrests):
    project.write_reports(GOOD_ROWS + [row(arrests=arrests)])
    assert project.build() == 1
    assert f"{project.where()}: arrests: not a whole number of people (0 to 999,999): {arrests!r}" in capsys.readouterr().err.splitlines()


def test_outer_blanks_are_ignored_but_rejects_keep_the_row_as_written(project, capsys):
    padded = row(report_id=" r4 ", quantity="  5.95 kg ", place="Busan ")
    padded_bad = row(report_id="r5", quantity=" 3 sacks ")
    project.write_reports(GOOD_ROWS + [padded, padded_bad])
    assert project.build("--keep-going") == 0
    table = pd.read_csv(project.out / "seizures.csv", dtype={"report_id": str}).set_index("report_id")
    assert table.at["r4", "quantity_kg"] == 5.95 and table.at["r4", "place"] == "Busan"
    rejects = pd.read_csv(project.out / "seizures.rejects.csv", dtype=str, keep_default_na=False)
    assert rejects.at[0, "quantity"] == " 3 sacks "
    assert "quantity: cannot read '3 sacks' as a mass: unknown unit 'sacks'" in rejects.at[0, "reasons"]
