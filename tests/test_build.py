"""End to end: the real data rebuilds exactly, the data dictionary is complete, the CLI explains itself."""
import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from etl_helpers import DATA, RAW, REFERENCE, cpi_base_year, fx_rate, run_etl

from etl.build import build
from etl.cli import main
from etl.columns import NAMES


def test_golden_rebuild_is_byte_identical_to_the_committed_csv(real_build):
    result, out = real_build
    assert result.files[out / "seizures.csv"] == (DATA / "seizures.csv").read_bytes()


def test_build_is_deterministic(real_build, tmp_path):
    result, out = real_build
    again = build(RAW, REFERENCE, out)
    assert again.files == result.files


def test_every_report_becomes_a_row(real_build):
    result, _ = real_build
    reports = pd.read_csv(RAW / "reports.csv", dtype=str, keep_default_na=False)
    table = pd.read_csv(DATA / "seizures.csv", dtype={"report_id": str})
    assert list(table.columns) == NAMES
    assert table["report_id"].tolist() == reports["report_id"].tolist()
    assert result.rejected_rows == 0


def test_seed_figures_come_out_right():
    table = pd.read_csv(DATA / "seizures.csv").set_index("report_id")
    busan = table.loc["r0017"]
    assert busan["quantity_kg"] == 5.95
    assert busan["value_usd"] == pytest.approx(19.8e9 / fx_rate("KRW", 2011), abs=0.01)
    assert abs(busan["usd_check_pct"]) < 1
    pong_su = table.loc["r0003"]
    assert pong_su["quantity_kg"] == 125 and pd.isna(pong_su["quantity_kg_low"]) and pong_su["approximate"]
    dandong = table.loc["r0008"]
    assert dandong["quantity_kg"] == 0.45
    subic = table.loc["r0016"]
    assert subic["implied_usd_per_kg"] == pytest.approx(1e8 / 700, abs=0.01)
    ph = table.loc["r0014"]
    assert ph["price_usd_per_kg"] == pytest.approx(3e6 / fx_rate("PHP", int(ph["fx_year"])), abs=0.01)


def test_datapackage_describes_every_column_and_input(real_build):
    _, out = real_build
    package = json.loads((DATA / "datapackage.json").read_text())
    resource = package["resources"][0]
    fields = resource["schema"]["fields"]
    assert [f["name"] for f in fields] == NAMES
    assert all(f["description"] and f["type"] in {"string", "number", "integer", "boolean"} for f in fields)
    units = {f["name"]: f.get("unit") for f in fields}
    assert units["quantity_kg"] == "kg" and units["value_usd"] == "USD" and units["price_usd_per_kg"] == "USD/kg"
    assert package["constant_usd_base_year"] == cpi_base_year()
    assert resource["hash"] == "sha256:" + hashlib.sha256((DATA / "seizures.csv").read_bytes()).hexdigest()
    hashes = {i["path"]: i["hash"] for i in package["inputs"]}
    for name in ("raw/reports.csv", "raw/sources.csv", "reference/fx_annual_lcu_per_usd.csv", "reference/us_cpi_u_annual.csv"):
        assert hashes[name] == "sha256:" + hashlib.sha256((DATA / name).read_bytes()).hexdigest()
    sources = {s["source"] for s in package["exchange_rates"]["sources"]}
    assert sources == set(pd.read_csv(REFERENCE / "fx_annual_lcu_per_usd.csv")["source"])


def test_check_passes_on_the_repository():
    assert main(["check", "--raw", str(RAW), "--reference", str(REFERENCE), "--out", str(DATA)]) == 0


def test_check_reports_a_stale_file(tmp_path, capsys):
    assert main(["build", "--out", str(tmp_path)]) == 0
    stale = tmp_path / "seizures.csv"
    stale.write_bytes(stale.read_bytes().replace(b"5.95", b"5.96"))
    capsys.readouterr()
    assert main(["check", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{stale}: differs from a fresh build (first difference on line" in err
    assert "datapackage.json: differs" not in err  # only the CSV was touched
    lines = (DATA / "seizures.csv").read_bytes().splitlines(keepends=True)
    stale.write_bytes(b"".join(lines[:10]))  # cut short after line 10
    assert main(["check", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{stale}: differs from a fresh build (on disk ends after line 10; fresh build goes on with " in err
    assert lines[10].decode()[:40] in err
    (tmp_path / "datapackage.json").unlink()
    assert main(["check", "--out", str(tmp_path)]) == 1
    assert f"{tmp_path / 'datapackage.json'}: missing" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seizures.csv", "seizures.parquet"]  # check leaves no temporary files


@pytest.mark.parametrize("args", [["--help"], ["build", "--help"], ["check", "--help"]])
def test_help_explains_itself(args):
    code, out, _ = run_etl(*args)
    assert code == 0
    assert "usage: python -m etl" in out
    if args == ["--help"]:
        assert "build" in out and "check" in out
    else:
        assert "--raw DIR" in out and "--reference DIR" in out and "--out DIR" in out


def test_bad_usage_exits_2():
    code, _, err = run_etl("build", "--no-such-option")
    assert code == 2 and "unrecognized arguments: --no-such-option" in err


# ---------------------------------------------------------------------------
# Hostile input (issue 15): each case is a regression test named after it


def _raw_with(raw, **cells_of_row):
    """`raw` (a copy of data/raw) with cells of data rows replaced: {"r<row index>": {column: text}}."""
    reports = pd.read_csv(raw / "reports.csv", dtype="string", keep_default_na=False)
    for row, cells in cells_of_row.items():
        for column, text in cells.items():
            reports.loc[int(row.lstrip("r")), column] = text
    reports.to_csv(raw / "reports.csv", index=False, lineterminator="\n")
    return raw


def test_a_year_1899_with_keep_going_rejects_that_row_with_its_input_line(tmp_path, raw_copy, capsys):
    raw = _raw_with(raw_copy, r4={"event_date": "1899-05"})
    out = tmp_path / "out"
    assert main(["build", "--raw", str(raw), "--out", str(out), "--keep-going"]) == 0
    captured = capsys.readouterr()
    assert f"{raw / 'reports.csv'}:6: event_date: year 1899 is outside 1900-2100" in captured.err
    assert "input rows 187 = written 186 + rejected 1" in captured.out
    rejects = pd.read_csv(out / "seizures.rejects.csv", dtype=str, keep_default_na=False)
    assert rejects["line"].tolist() == ["6"] and rejects["event_date"].tolist() == ["1899-05"]
    # without --keep-going: the same problem, located on the input line, and nothing written
    assert main(["build", "--raw", str(raw), "--out", str(tmp_path / "strict")]) == 1
    assert f"{raw / 'reports.csv'}:6: event_date: year 1899 is outside 1900-2100" in capsys.readouterr().err
    assert not (tmp_path / "strict").exists()


def test_an_overflow_to_infinity_is_a_row_problem_never_an_output_cell(tmp_path, raw_copy, capsys):
    huge = "US$" + "9" * 285 + " trillion"  # 1e297 dollars, within the 300-character limit
    tiny = "US$0." + "0" * 290 + "1"  # the source's own figure: 1e-291 dollars
    raw = _raw_with(raw_copy, r16={"value": huge, "usd_stated": tiny, "currency": "USD", "stated_rate": ""})
    out = tmp_path / "out"
    assert main(["build", "--raw", str(raw), "--out", str(out), "--keep-going"]) == 0
    err = capsys.readouterr().err
    assert f"{raw / 'reports.csv'}:18: value: a figure is too large to compute (usd_check_pct would be infinite)" in err
    table = pd.read_csv(out / "seizures.csv")
    numbers = table.select_dtypes("number").to_numpy()
    assert not np.isinf(numbers).any()
    assert pd.read_csv(out / "seizures.rejects.csv", dtype=str)["line"].tolist() == ["18"]


@pytest.mark.parametrize("column, bad", [("report_id", "![i](http://host/p.png)"), ("incident_id", "a b"),
                                         ("source_id", "=HYPERLINK(1)"), ("report_id", "x" * 81)])
def test_ids_have_a_declared_pattern_checked_on_input(column, bad):
    from etl_helpers import normalise_one

    _, problems = normalise_one(**{column: bad})
    assert f"{column}: {bad!r} is not an identifier (letters, digits, '.', '_', '-'; starting with a letter or digit; " \
           "at most 80 characters)" in [f"{p.column}: {p.message}" for p in problems]


def test_every_existing_id_matches_the_pattern():
    import re

    from etl.normalise import ID_PATTERN

    for name, columns in (("reports.csv", ["report_id", "incident_id", "source_id"]), ("sources.csv", ["source_id"]),
                          ("incidents.csv", ["incident_id"])):
        frame = pd.read_csv(RAW / name, dtype=str, keep_default_na=False)
        for column in columns:
            assert all(re.match(ID_PATTERN, x) for x in frame[column]), (name, column)


@pytest.mark.parametrize("target", ["raw/reports.csv", "raw/sources.csv", "raw/new.csv", "out/seizures.csv",
                                    "out/datapackage.json", "out/seizures.parquet"])
def test_rejects_may_not_point_at_an_input_file_or_an_output(tmp_path, capsys, target):
    import shutil

    raw, out = tmp_path / "raw", tmp_path / "out"
    shutil.copytree(RAW, raw)
    before = (raw / "reports.csv").read_bytes()
    code = main(["build", "--raw", str(raw), "--out", str(out), "--keep-going", "--rejects", str(tmp_path / target)])
    assert code == 2
    assert "--rejects" in capsys.readouterr().err
    assert (raw / "reports.csv").read_bytes() == before and not out.exists()


def test_check_needs_no_write_access_and_never_creates_a_missing_output_folder(tmp_path, capsys):
    missing = tmp_path / "nowhere" / "out"
    assert main(["check", "--out", str(missing)]) == 1
    assert f"{missing / 'seizures.csv'}: missing" in capsys.readouterr().err
    assert not (tmp_path / "nowhere").exists()
    # on a complete folder: nothing is created or touched (no lock file, no temporary file)
    out = tmp_path / "out"
    assert main(["build", "--out", str(out)]) == 0
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.iterdir()}
    out.chmod(0o555)
    try:
        assert main(["check", "--out", str(out)]) == 0
    finally:
        out.chmod(0o755)
    assert {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.iterdir()} == before


@pytest.mark.parametrize("signal_name, code, word", [("SIGINT", 130, "interrupted"), ("SIGTERM", 143, "terminated")])
def test_ctrl_c_and_sigterm_exit_with_one_line_and_no_traceback(tmp_path, signal_name, code, word):
    """The build waits on reports.csv (a named pipe nobody writes), then gets the signal."""
    import os
    import shutil
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    raw, out = tmp_path / "raw", tmp_path / "out"
    shutil.copytree(RAW, raw)
    (raw / "reports.csv").unlink()
    os.mkfifo(raw / "reports.csv")
    proc = subprocess.Popen([sys.executable, "-m", "etl", "build", "--raw", str(raw), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=DATA.parent,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as in a terminal
    wchan = Path(f"/proc/{proc.pid}/wchan")
    deadline = time.monotonic() + 120
    waiting = ("wait_for_partner", "fifo_open")  # the kernel function a reader waits in, opening a pipe with no writer
    while (wchan.read_text() if wchan.exists() else "") not in waiting and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)  # imports, reference tables, then blocked opening the pipe
    assert wchan.read_text() in waiting
    proc.send_signal(getattr(signal, signal_name))
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == code
    assert err.strip().count("\n") == 0 and word in err and "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())
