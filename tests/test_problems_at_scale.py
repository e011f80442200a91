"""Many problems in one file, and the incident rule on many rows: what normalise and incident_columns promise at scale.

normalise() evaluates every check as a column and words a problem only for the
rows where a check holds; these tests pin what that must keep: every problem,
in line order and, within a line, in column order, on the physical line where
its row starts (multi-line quoted cells in between), the duplicate's first line,
and --keep-going's rejects. The incident rule is checked against an independent
pandas oracle (sort by the rule, first of each group) on thousands of rows in
shuffled orders, with and without incidents.csv.
"""
from __future__ import annotations

import csv
import random
import shutil

import pandas as pd
import polars as pl
import pytest
from etl_helpers import RAW, REFERENCE

from etl import build
from etl.build import run
from etl.errors import InputProblems
from etl.incidents import KEY_COLUMNS, incident_columns
from etl.normalise import incident_rows

BAD_COUNTRY = "unknown country code 'XX' (use ISO 3166-1 alpha-2, e.g. KR)"
BAD_DRUG = "unknown drug 'moon dust' (add it to data/reference/drugs.csv)"


def _start_lines(path) -> list[int]:
    """The physical line where each record of a CSV file starts (the header is line 1), read with the csv module."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        starts, previous_end = [], reader.line_num
        for _ in reader:
            starts.append(previous_end + 1)
            previous_end = reader.line_num
    return starts


@pytest.mark.parametrize("batch_rows", [None, 97], ids=["one batch", "batches of 97 rows"])
def test_many_problems_come_in_line_then_column_order_on_their_physical_lines(tmp_path, monkeypatch, batch_rows):
    """Also with the rows normalised 97 at a time: a repeat and the row it repeats then often sit in different batches."""
    if batch_rows:
        monkeypatch.setattr("etl.normalise.BATCH_ROWS", batch_rows)
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    real = pd.read_csv(RAW / "reports.csv", dtype="string", keep_default_na=False)
    reports = pd.concat([real] * 12, ignore_index=True)  # 2,220 rows
    reports["report_id"] = [f"r{i:05d}" for i in range(len(reports))]
    rng = random.Random(12)
    multi_line = set(rng.sample(range(len(reports)), 300))
    not_won = [i for i in range(len(reports)) if reports.loc[i, "currency"] != "KPW"]  # (KPW is converted in KP only)
    bad_country = set(rng.sample(not_won, 150))
    bad_drug = set(rng.sample(range(len(reports)), 150))
    repeated = sorted(rng.sample(range(1000, len(reports)), 40))
    for i in multi_line:
        reports.loc[i, "notes"] = f"first line\nsecond line, row {i}\n\nafter a blank line"
    for i in bad_country:
        reports.loc[i, ["country", "place"]] = ["XX", ""]
    for i in bad_drug:
        reports.loc[i, "drug"] = "moon dust"
    first_use = {i: rng.randrange(0, 1000) for i in repeated}
    for i, j in first_use.items():
        reports.loc[i, "report_id"] = reports.loc[j, "report_id"]
    reports.to_csv(raw / "reports.csv", index=False, lineterminator="\n")
    starts = _start_lines(raw / "reports.csv")
    assert len(starts) == len(reports) and starts[-1] > len(reports) + 1 + 600  # the notes moved the lines

    expected = []
    for i in range(len(reports)):  # within a row: report_id, then country, then drug (the order of reports.csv)
        if i in first_use:
            rid = reports.loc[i, "report_id"]
            expected.append(f"{starts[i]}: report_id: duplicate report_id {rid!r} (first used on line {starts[first_use[i]]})")
        if i in bad_country:
            expected.append(f"{starts[i]}: country: {BAD_COUNTRY}")
        if i in bad_drug:
            expected.append(f"{starts[i]}: drug: {BAD_DRUG}")
    with pytest.raises(InputProblems) as err:
        run(raw, REFERENCE, tmp_path / "out")
    got = [str(p).split(":", 1)[1].lstrip() for p in err.value.problems if p.severity == "error"]
    assert got == expected
    assert len(got) > 300

    result = run(raw, REFERENCE, tmp_path / "out", keep_going=True)
    bad = sorted(bad_country | bad_drug | set(first_use))
    assert result.rejects["line"].to_list() == [starts[i] for i in bad]
    assert result.rejects["report_id"].to_list() == reports["report_id"].iloc[bad].tolist()
    assert result.written_rows + result.rejected_rows == len(reports)
    assert result.frame["report_id"].to_list() == reports["report_id"].drop(index=bad).tolist()
    if batch_rows:  # the same output, byte for byte, as from one batch
        monkeypatch.setattr("etl.normalise.BATCH_ROWS", 10**9)
        whole = run(raw, REFERENCE, tmp_path / "out", keep_going=True)
        assert result.frame.equals(whole.frame) and result.rejects.equals(whole.rejects)
        assert result.frame.get_column("report_id").n_chunks() > 1  # (it was indeed made in batches)
        assert whole.frame.get_column("report_id").n_chunks() == 1
        assert [str(p) for p in result.errors + result.warnings] == [str(p) for p in whole.errors + whole.warnings]
        files = [build.csv_bytes(r.frame) + build.parquet_bytes(r.frame) for r in (result, whole)]
        assert files[0] == files[1]  # the written files do not depend on how the rows were batched


def _keys(n: int, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """n report rows over n/12 incidents with many ties (same source type, same date, same or no figure)."""
    rng = random.Random(seed)
    incidents = [f"inc-{i:05d}" for i in range(n // 12)]
    rows = []
    for i in range(n):
        kg = rng.choice([None, 1.0, 2.0, 2.0, 5.5])
        usd = rng.choice([None, 100.0, 100.0, 250.0])
        rows.append({
            "incident_id": rng.choice(incidents), "kind": rng.choice(["seizure", "seizure", "price", "cash"]),
            "quantity_kg": kg, "value_usd": usd, "quantity_count": rng.choice([None] * 9 + [3.0]),
            "source_type": rng.choice(["official", "press", "press", "secondary", ""]),
            "source_date": rng.choice(["", "2011-01-02", "2012-05-06", "2012-05-06"]),
            "report_id": f"r{rng.randrange(10**9):09d}-{i}",
        })
    keys = pl.DataFrame(rows, schema={c: (pl.Float64 if c in ("quantity_kg", "value_usd", "quantity_count") else pl.String)
                                      for c in KEY_COLUMNS})
    chosen = {incidents[i]: "" for i in range(len(incidents))}
    for row in rng.sample(rows, 200):  # curator overrides
        chosen[row["incident_id"]] = row["report_id"]
    table = pl.DataFrame({"incident_id": incidents, "scope": ["single"] * len(incidents), "parts": [""] * len(incidents),
                          "representative": [chosen[i] for i in incidents], "notes": [""] * len(incidents)})
    return keys, table


def _oracle(keys: pl.DataFrame, table: pl.DataFrame | None, ranks: dict[str, int]) -> pd.DataFrame:
    """The rule, computed with pandas: sort by the rule, first of each (incident, kind); an override wins."""
    frame = keys.to_pandas()
    frame["has_figure"] = frame[["quantity_kg", "value_usd", "quantity_count"]].notna().any(axis=1)
    frame["rank"] = frame["source_type"].map(ranks).fillna(max(ranks.values()) + 1)
    frame["published"] = frame["source_date"].replace("", "0000")
    frame["kg"] = frame["quantity_kg"].fillna(float("inf"))
    frame["usd"] = frame["value_usd"].fillna(float("inf"))
    ordered = frame.sort_values(["incident_id", "kind", "has_figure", "rank", "published", "kg", "usd", "report_id"],
                                ascending=[True, True, False, True, False, True, True, True], kind="stable")
    rule = set(ordered.groupby(["incident_id", "kind"]).head(1)["report_id"])
    chosen = dict(zip(table["incident_id"], table["representative"])) if table is not None else {}
    frame["picked"] = [chosen.get(i, "") == r for i, r in zip(frame["incident_id"], frame["report_id"])]
    overridden = frame.groupby(["incident_id", "kind"])["picked"].transform("any")
    frame["is_representative"] = frame["picked"].where(overridden, frame["report_id"].isin(rule))
    group = frame.groupby(["incident_id", "kind"])
    frame["incident_reports"] = group["report_id"].transform("size")
    frame["incident_kg_min"] = group["quantity_kg"].transform("min")
    frame["incident_kg_max"] = group["quantity_kg"].transform("max")
    return frame.set_index("report_id")[["is_representative", "incident_reports", "incident_kg_min", "incident_kg_max"]]


@pytest.mark.parametrize("with_incidents", [True, False], ids=["incidents.csv", "no incidents.csv"])
def test_the_rule_matches_a_pandas_oracle_in_any_row_order(reference, with_incidents):
    keys, table = _keys(20_000, seed=5)
    table = table if with_incidents else None
    expected = _oracle(keys, table, reference.source_types)
    assert 0 < expected["is_representative"].sum() < len(keys) / 2
    assert (expected["incident_reports"] > 1).mean() > 0.5  # most groups have several reports
    for seed in range(3):
        order = list(range(keys.height))
        random.Random(seed).shuffle(order)
        moved = keys[order]
        rows = None if table is None else incident_rows(moved["incident_id"], table["incident_id"])
        got = incident_columns(moved, table, reference.source_types, rows)
        assert got.equals(incident_columns(moved, table, reference.source_types))  # the same without `rows`
        got = got.to_pandas().set_index(pd.Index(moved["report_id"].to_list())).loc[expected.index]
        assert got["is_representative"].tolist() == expected["is_representative"].tolist()
        assert got["incident_reports"].tolist() == expected["incident_reports"].tolist()
        pd.testing.assert_series_equal(got["incident_kg_min"], expected["incident_kg_min"], check_names=False)
        pd.testing.assert_series_equal(got["incident_kg_max"], expected["incident_kg_max"], check_names=False)
        assert got["incident_scope"].eq("single").all() and got["incident_parts"].eq("").all()


def test_incident_rows_refuses_repeated_incident_ids():
    with pytest.raises(ValueError, match="unique"):
        incident_rows(pl.Series(["a", "b"]), pl.Series(["a", "a"]))
    assert incident_rows(pl.Series(["b", "x", "a"]), pl.Series(["a", "b"])).to_list() == [1, None, 0]


@pytest.mark.parametrize("shuffle", [False, True], ids=["sorted ids", "unsorted ids"])
def test_a_repeated_id_is_found_whether_or_not_the_ids_are_sorted(tmp_path, reference, shuffle):
    from etl.incidents import check_incidents
    from etl.normalise import validate_sources

    ids = ["a", "a", "b", "c", "c", "c", "d"]
    order = [3, 0, 6, 4, 1, 5, 2] if shuffle else list(range(len(ids)))
    ids = [ids[i] for i in order]
    repeated_lines = [line for line, i in enumerate(ids, start=2) if i in ids[:line - 2]]
    incidents = pl.DataFrame({"incident_id": ids, "scope": ["single"] * 7, "parts": [""] * 7, "representative": [""] * 7,
                              "notes": [""] * 7})
    assert [(p.line, p.message) for p in check_incidents(incidents, ("single", "total"))] == [
        (line, f"duplicate incident_id {ids[line - 2]!r}") for line in repeated_lines]
    sources = pl.DataFrame({"source_id": ids, "source_type": ["press"] * 7, "outlet": ["o"] * 7, "title": ["t"] * 7,
                            "published": ["2011-01-01"] * 7, "url": [""] * 7, "via": [""] * 7})
    assert [(p.line, p.message) for p in validate_sources(sources, reference)] == [
        (line, f"duplicate source_id {ids[line - 2]!r}") for line in repeated_lines]

    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    reports = pd.read_csv(RAW / "reports.csv", dtype="string", keep_default_na=False)
    if shuffle:
        reports = reports.sample(frac=1, random_state=1).reset_index(drop=True)
    reports.loc[11, "report_id"] = reports.loc[10, "report_id"]  # line 13 repeats line 12
    reports.to_csv(raw / "reports.csv", index=False, lineterminator="\n")
    assert pl.Series(reports["report_id"].tolist()).is_sorted() == (not shuffle)
    with pytest.raises(InputProblems) as err:
        run(raw, REFERENCE, tmp_path / "out")
    assert [str(p).split(":", 1)[1] for p in err.value.problems if p.severity == "error"] == [
        f"13: report_id: duplicate report_id {reports.loc[10, 'report_id']!r} (first used on line 12)"]
