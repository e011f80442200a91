"""The streaming build: chunks of reports.csv give exactly what one pass over the whole file gives.

The build reads reports.csv in chunks, sets the kept rows aside and writes
them in a second pass with their incident columns. These tests shrink the
chunk to a few rows so the real data crosses many chunk boundaries, and check
that nothing depends on where the boundaries fall: the bytes written, the
problems found (with their lines), the rejects, and the files left on disk.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from etl.build import build, build_files
from etl.errors import InputProblems
from etl_helpers import DATA, RAW, REFERENCE

OUTPUTS = ("seizures.csv", "datapackage.json")


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    """The build with one chunk holding every row."""
    out = tmp_path_factory.mktemp("whole")
    return build(RAW, REFERENCE, out, chunk_rows=10**6), out


@pytest.mark.parametrize("chunk_rows", [1, 4, 7, 68, 69, 70])
def test_any_chunk_size_gives_the_committed_bytes(chunk_rows, whole, tmp_path):
    result, out = whole
    chunked = build(RAW, REFERENCE, out, chunk_rows=chunk_rows)
    assert chunked.files == result.files
    assert chunked.files[out / "seizures.csv"] == (DATA / "seizures.csv").read_bytes()
    pd.testing.assert_frame_equal(chunked.frame, result.frame)


def test_build_files_writes_what_build_returns_and_leaves_no_temporary_files(whole, tmp_path):
    result, _ = whole
    out = tmp_path / "out"
    staged = build_files(RAW, REFERENCE, out, chunk_rows=9)
    assert sorted(p.name for p in out.iterdir()) == sorted(t.name for t in staged.staged.values())  # nothing in place yet
    assert all(t.name.startswith(".") and t.name.endswith(".tmp") for t in staged.staged.values())
    staged.commit()
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS)  # the set-aside chunks are gone too
    whole_out = next(iter(result.files)).parent
    assert (out / "seizures.csv").read_bytes() == result.files[whole_out / "seizures.csv"]
    assert staged.written_rows == len(result.frame)


def test_discard_removes_the_temporary_outputs(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "seizures.csv").write_bytes(b"old\n")
    staged = build_files(RAW, REFERENCE, out, chunk_rows=20)
    staged.discard()
    assert [p.name for p in out.iterdir()] == ["seizures.csv"]
    assert (out / "seizures.csv").read_bytes() == b"old\n"


def _raw_copy(tmp_path, edit) -> Path:
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    reports = pd.read_csv(raw / "reports.csv", dtype="string", keep_default_na=False)
    reports = edit(reports)
    reports.to_csv(raw / "reports.csv", index=False, lineterminator="\n")
    return raw


def _problems(raw, out, chunk_rows, **kwargs) -> list[str]:
    with pytest.raises(InputProblems) as err:
        build_files(raw, REFERENCE, out, chunk_rows=chunk_rows, **kwargs)
    return [str(p) for p in err.value.problems]


def test_a_duplicate_in_a_later_chunk_names_the_line_of_the_first_use(tmp_path):
    def duplicate_first_id_at_the_end(reports):
        extra = reports.iloc[[10]].copy()
        extra["report_id"] = reports["report_id"].iat[2]  # first used on line 4 (header is line 1)
        return pd.concat([reports, extra], ignore_index=True)

    raw = _raw_copy(tmp_path, duplicate_first_id_at_the_end)
    last_line = len(pd.read_csv(raw / "reports.csv", dtype="string")) + 1
    expected = [f"{raw / 'reports.csv'}:{last_line}: report_id: duplicate report_id "
                f"{pd.read_csv(RAW / 'reports.csv', dtype='string')['report_id'].iat[2]!r} (first used on line 4)"]
    for chunk_rows in (5, 1000):  # the first use in an earlier chunk, or in the same one
        assert _problems(raw, tmp_path / f"out{chunk_rows}", chunk_rows) == expected
        assert not (tmp_path / f"out{chunk_rows}").exists() or not any((tmp_path / f"out{chunk_rows}").iterdir())


def test_problems_in_several_chunks_are_all_reported_in_line_order(tmp_path):
    def break_three_rows(reports):
        reports.loc[[3, 30, 60], "country"] = "XX"
        return reports

    raw = _raw_copy(tmp_path, break_three_rows)
    problems = _problems(raw, tmp_path / "out", chunk_rows=8)
    assert [p.split(": ", 1)[0].rsplit(":", 1)[1] for p in problems] == ["5", "32", "62"]
    assert all("unknown country code 'XX'" in p for p in problems)


def test_keep_going_across_chunks_rejects_each_bad_row_once_and_keeps_the_rest(tmp_path):
    def break_rows(reports):
        reports.loc[[0, 7, 8, 40], "quantity"] = "lots of kg"
        reports.loc[[8], "currency"] = "ZZZ"
        return reports

    raw = _raw_copy(tmp_path, break_rows)
    kinds = pd.read_csv(raw / "reports.csv", dtype="string", keep_default_na=False)
    out = tmp_path / "out"
    result = build_files(raw, REFERENCE, out, keep_going=True, chunk_rows=6)
    result.commit()
    rejects = pd.read_csv(out / "seizures.rejects.csv", dtype="string", keep_default_na=False)
    written = pd.read_csv(out / "seizures.csv", dtype="string", keep_default_na=False)
    assert rejects["line"].tolist() == ["2", "9", "10", "42"]
    assert rejects["report_id"].tolist() == kinds["report_id"].iloc[[0, 7, 8, 40]].tolist()
    assert "currency: unknown currency 'ZZZ'" in rejects["reasons"].iat[2] and "quantity:" in rejects["reasons"].iat[2]
    assert result.input_rows == len(kinds) == len(written) + len(rejects)
    assert set(written["report_id"]).isdisjoint(rejects["report_id"])
    # the same rows and rejects as one chunk gives
    one = build(raw, REFERENCE, tmp_path / "one", keep_going=True)
    assert (out / "seizures.csv").read_bytes() == one.files[tmp_path / "one" / "seizures.csv"]
    assert (out / "seizures.rejects.csv").read_bytes() == one.files[tmp_path / "one" / "seizures.rejects.csv"]


def test_a_broken_row_in_a_late_chunk_stops_the_build_and_writes_nothing(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    lines = (raw / "reports.csv").read_text("utf-8").splitlines(keepends=True)
    lines[50] = lines[50].rstrip("\n") + ",one cell too many\n"  # line 51 of the file
    (raw / "reports.csv").write_text("".join(lines), "utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "seizures.csv").write_bytes(b"previous\n")
    problems = _problems(raw, out, chunk_rows=4)
    assert problems == [f"{raw / 'reports.csv'}:51: -: expected 16 cells as in the header, found 17 (an unquoted comma?)"]
    assert [p.name for p in out.iterdir()] == ["seizures.csv"]  # no temporary or set-aside files left
    assert (out / "seizures.csv").read_bytes() == b"previous\n"


def test_an_incident_split_across_chunks_is_reconciled_as_a_whole(whole, tmp_path):
    """Reports of one incident far apart in the file still share one representative and one spread."""
    result, _ = whole
    frame = result.frame
    multi = frame.groupby(["incident_id", "kind"]).filter(lambda g: len(g) > 1)
    assert len(multi), "the real data has incidents with several reports"
    chunked = build(RAW, REFERENCE, tmp_path, chunk_rows=1).frame
    columns = ["report_id", "is_representative", "incident_reports", "incident_kg_min", "incident_kg_max"]
    pd.testing.assert_frame_equal(chunked[columns], frame[columns])
    per_group = chunked.groupby(["incident_id", "kind"])["is_representative"].sum()
    assert (per_group == 1).all()


def test_when_every_row_is_rejected_the_output_is_the_header_alone(tmp_path):
    def break_every_row(reports):
        reports["country"] = "XX"
        return reports

    raw = _raw_copy(tmp_path, break_every_row)
    out = tmp_path / "out"
    result = build_files(raw, REFERENCE, out, keep_going=True, chunk_rows=10)
    result.commit()
    assert (out / "seizures.csv").read_bytes() == (DATA / "seizures.csv").read_bytes().split(b"\n", 1)[0] + b"\n"
    rejects = pd.read_csv(out / "seizures.rejects.csv", dtype="string", keep_default_na=False)
    assert result.written_rows == 0 and len(rejects) == result.input_rows == result.rejected_rows
    assert sorted(p.name for p in out.iterdir()) == ["datapackage.json", "seizures.csv", "seizures.rejects.csv"]
