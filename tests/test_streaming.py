"""Publishing the outputs: what `write()` puts on disk is what `build()` returns, all files or none.

The build reads reports.csv real_build (Polars) and writes seizures.csv, seizures.parquet
and datapackage.json through etl.commit.staged_outputs. These tests run the real
build on copies of the real data: the bytes published, the problems found (with
their lines), the rejects, the typed Parquet file and the files left on disk.
"""
from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path

import pandas as pd
import polars as pl
import pytest
from etl_helpers import DATA, RAW, REFERENCE

from etl.build import build, parquet_bytes, run, write
from etl.columns import NAMES, POLARS_TYPES
from etl.errors import InputProblems

OUTPUTS = ("datapackage.json", "seizures.csv", "seizures.parquet")


def test_write_publishes_what_build_returns_and_leaves_no_temporary_files(tmp_path):
    out = tmp_path / "out"
    expected = build(RAW, REFERENCE, out)  # in memory: creates nothing
    assert not out.exists()
    write(run(RAW, REFERENCE, out))
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS)  # no lock, staging or temporary file left
    for name in OUTPUTS:
        assert (out / name).read_bytes() == expected.files[out / name], name


def test_the_parquet_file_holds_the_csv_rows_typed_as_declared(real_build):
    result, out = real_build
    parquet = pl.read_parquet(DATA / "seizures.parquet")
    assert parquet.columns == NAMES
    assert dict(parquet.schema) == POLARS_TYPES
    assert parquet.equals(result.frame)
    # the same values as the CSV, read independently with pandas
    csv = pd.read_csv(DATA / "seizures.csv", keep_default_na=False, na_values={c: [""] for c in NAMES
                      if POLARS_TYPES[c] != pl.String})
    frame = parquet.to_pandas()
    assert len(csv) == len(frame) == 187
    for name in NAMES:
        if POLARS_TYPES[name] == pl.String:
            assert csv[name].astype(str).str.lstrip("'").tolist() == frame[name].str.lstrip("'").tolist(), name
        elif POLARS_TYPES[name] == pl.Boolean:
            assert csv[name].tolist() == frame[name].tolist(), name
        else:
            pd.testing.assert_series_equal(csv[name].astype("float64"), frame[name].astype("float64"), check_names=False)


def test_the_datapackage_records_both_files_and_is_deterministic(real_build):
    result, out = real_build
    package = json.loads(result.files[out / "datapackage.json"])
    resources = {r["path"]: r for r in package["resources"]}
    for name in ("seizures.csv", "seizures.parquet"):
        data = result.files[out / name]
        assert resources[name]["bytes"] == len(data)
        assert resources[name]["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
    assert package["licenses"][0]["name"] == "CC-BY-4.0"
    release = pd.read_csv(RAW / "release.csv", dtype=str)
    assert package["version"].startswith(release["version"].iat[0] + "+")
    assert package["created"] == release["created"].iat[0] + "T00:00:00Z"
    again = build(RAW, REFERENCE, out)
    assert again.files == result.files


def test_the_version_changes_when_the_data_changes(tmp_path, real_build):
    result, out = real_build
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    with open(raw / "reports.csv", "a", encoding="utf-8") as fh:
        fh.write("\n")  # a blank line: same rows, different input bytes
    changed = build(raw, REFERENCE, out)
    version = json.loads(result.files[out / "datapackage.json"])["version"]
    assert json.loads(changed.files[out / "datapackage.json"])["version"] != version
    assert changed.files[out / "seizures.csv"] == result.files[out / "seizures.csv"]


def test_a_failed_publication_leaves_the_previous_files(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "seizures.csv").write_bytes(b"previous\n")
    (out / "datapackage.json").mkdir()  # cannot be replaced by a file
    (out / "datapackage.json" / "x").write_text("blocks the rename")
    with pytest.raises(OSError):
        write(run(RAW, REFERENCE, out))
    assert (out / "seizures.csv").read_bytes() == b"previous\n"
    assert not (out / "seizures.parquet").exists()
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".build.lock")) == ["datapackage.json", "seizures.csv"]


def _raw_copy(tmp_path, edit) -> Path:
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)  # not the raw_copy fixture: each test edits its copy in its own way
    reports = pd.read_csv(raw / "reports.csv", dtype="string", keep_default_na=False)
    reports = edit(reports)
    reports.to_csv(raw / "reports.csv", index=False, lineterminator="\n")
    return raw


def _problems(raw, out, **kwargs) -> list[str]:
    with pytest.raises(InputProblems) as err:
        run(raw, REFERENCE, out, **kwargs)
    # the errors; not the real data's one warning (r0081, where the source's own dollar figure implies another rate)
    return [str(p) for p in err.value.problems if p.severity == "error"]


def test_a_duplicate_names_the_line_of_the_first_use(tmp_path):
    def duplicate_an_early_id_at_the_end(reports):
        extra = reports.iloc[[10]].copy()
        extra["report_id"] = reports["report_id"].iat[2]  # first used on line 4 (header is line 1)
        return pd.concat([reports, extra], ignore_index=True)

    raw = _raw_copy(tmp_path, duplicate_an_early_id_at_the_end)
    last_line = len(pd.read_csv(raw / "reports.csv", dtype="string")) + 1
    original_id = pd.read_csv(RAW / "reports.csv", dtype="string")["report_id"].iat[2]
    assert _problems(raw, tmp_path / "out") == [
        f"{raw / 'reports.csv'}:{last_line}: report_id: duplicate report_id {original_id!r} (first used on line 4)"]
    assert not (tmp_path / "out").exists()


def test_problems_are_all_reported_in_line_order(tmp_path):
    def break_three_rows(reports):
        reports.loc[[60, 3, 30], "country"] = "XX"
        return reports

    raw = _raw_copy(tmp_path, break_three_rows)
    problems = _problems(raw, tmp_path / "out")
    assert [p.split(": ", 1)[0].rsplit(":", 1)[1] for p in problems] == ["5", "32", "62"]
    assert all("unknown country code 'XX'" in p for p in problems)


def test_keep_going_rejects_each_bad_row_once_and_keeps_the_rest(tmp_path):
    def break_rows(reports):
        reports.loc[[0, 7, 8, 40], "quantity"] = "lots of kg"
        reports.loc[[8], "currency"] = "ZZZ"
        return reports

    raw = _raw_copy(tmp_path, break_rows)
    kinds = pd.read_csv(raw / "reports.csv", dtype="string", keep_default_na=False)
    out = tmp_path / "out"
    result = run(raw, REFERENCE, out, keep_going=True)
    write(result)
    rejects = pd.read_csv(out / "seizures.rejects.csv", dtype="string", keep_default_na=False)
    written = pd.read_csv(out / "seizures.csv", dtype="string", keep_default_na=False)
    assert rejects["line"].tolist() == ["2", "9", "10", "42"]
    assert rejects["report_id"].tolist() == kinds["report_id"].iloc[[0, 7, 8, 40]].tolist()
    assert "currency: unknown currency 'ZZZ'" in rejects["reasons"].iat[2] and "quantity:" in rejects["reasons"].iat[2]
    assert result.input_rows == len(kinds) == len(written) + len(rejects)
    assert set(written["report_id"]).isdisjoint(rejects["report_id"])
    again = build(raw, REFERENCE, tmp_path / "again", keep_going=True)
    assert (out / "seizures.csv").read_bytes() == again.files[tmp_path / "again" / "seizures.csv"]
    assert (out / "seizures.rejects.csv").read_bytes() == again.files[tmp_path / "again" / "seizures.rejects.csv"]


def test_a_broken_row_stops_the_build_and_writes_nothing(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    lines = (raw / "reports.csv").read_text("utf-8").splitlines(keepends=True)
    lines[50] = lines[50].rstrip("\n") + ",one cell too many\n"  # line 51 of the file
    (raw / "reports.csv").write_text("".join(lines), "utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "seizures.csv").write_bytes(b"previous\n")
    problems = _problems(raw, out, keep_going=True)
    assert len(problems) == 1 and problems[0].startswith(f"{raw / 'reports.csv'}:51: ")
    assert [p.name for p in out.iterdir()] == ["seizures.csv"]
    assert (out / "seizures.csv").read_bytes() == b"previous\n"


def test_an_incident_far_apart_in_the_file_is_reconciled_as_a_real_build(real_build):
    """Reports of one incident anywhere in the file share one representative and one spread."""
    result, _ = real_build
    frame = result.frame.to_pandas()
    multi = frame.groupby(["incident_id", "kind"]).filter(lambda g: len(g) > 1)
    assert len(multi), "the real data has incidents with several reports"
    per_group = frame.groupby(["incident_id", "kind"])["is_representative"].sum()
    assert (per_group == 1).all()
    spread = multi.groupby(["incident_id", "kind"])["quantity_kg"].agg(["min", "max", "size"])
    got = multi.groupby(["incident_id", "kind"])[["incident_kg_min", "incident_kg_max", "incident_reports"]].first()
    assert got["incident_reports"].tolist() == spread["size"].tolist()
    pd.testing.assert_series_equal(got["incident_kg_min"], spread["min"], check_names=False)
    pd.testing.assert_series_equal(got["incident_kg_max"], spread["max"], check_names=False)


def test_when_every_row_is_rejected_the_output_is_the_header_alone(tmp_path):
    def break_every_row(reports):
        reports["country"] = "XX"
        return reports

    raw = _raw_copy(tmp_path, break_every_row)
    out = tmp_path / "out"
    result = run(raw, REFERENCE, out, keep_going=True)
    write(result)
    assert (out / "seizures.csv").read_bytes() == (DATA / "seizures.csv").read_bytes().split(b"\n", 1)[0] + b"\n"
    rejects = pd.read_csv(out / "seizures.rejects.csv", dtype="string", keep_default_na=False)
    assert result.written_rows == 0 and len(rejects) == result.input_rows == result.rejected_rows
    empty = pl.read_parquet(out / "seizures.parquet")
    assert empty.height == 0 and dict(empty.schema) == POLARS_TYPES
    assert sorted(p.name for p in out.iterdir()) == ["datapackage.json", "seizures.csv", "seizures.parquet", "seizures.rejects.csv"]


def test_published_files_keep_a_normal_mode(tmp_path):
    """Outputs and the rejects file are readable by others (0644 under umask 022), never 0600."""
    import os
    import stat

    out = tmp_path / "out"
    previous = os.umask(0o022)
    try:
        write(run(RAW, REFERENCE, out, keep_going=True))
    finally:
        os.umask(previous)
    for name in (*OUTPUTS, "seizures.rejects.csv"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o644, name


def test_the_parquet_bytes_depend_on_the_rows_alone_not_on_their_chunks():
    # etl check compares a rebuild with the published file byte for byte: how Polars happened to split the frame in
    # memory (joins, concatenations, thread count) must not show in the file
    frame = pl.DataFrame({"id": [f"r{i:05d}" for i in range(3000)], "kg": [i / 7 for i in range(3000)],
                          "flag": [i % 3 == 0 for i in range(3000)]})
    chunked = pl.concat([frame.slice(0, 1), frame.slice(1, 1234), frame.slice(1235)], rechunk=False)
    assert chunked.n_chunks() == 3
    assert parquet_bytes(chunked) == parquet_bytes(frame)
    assert pl.read_parquet(io.BytesIO(parquet_bytes(chunked))).equals(frame)
