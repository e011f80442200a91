"""How the dashboard reads a cleaned file: columns deferred until needed, never mixed from two versions.

On a large file the loader reads only the columns the page shows on every run
(app.data.SCREEN_COLUMNS) and reads the others (DEFERRED_COLUMNS, which only the
downloads hold) from the same file when they are first needed. These tests use
the real data/seizures.csv (and copies of it edited on disk) with the deferral
switched on, and compare with the careful reader and with the file's own bytes.
Not timed: `python -m etl bench --dashboard` measures speed.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app import data
from csv_records import file_records

REPO = Path(__file__).resolve().parents[1]
REAL_CSV = REPO / "data" / "seizures.csv"
DASHBOARD = str(REPO / "dashboard.py")


@pytest.fixture
def csv_path(tmp_path) -> Path:
    """A copy of the real data, so edits here never touch data/ (and a rebuild there never touches us)."""
    path = tmp_path / "seizures.csv"
    shutil.copy(REAL_CSV, path)
    return path


def careful(path: Path) -> pd.DataFrame:
    frame, warnings = data.read_seizures(path.read_bytes(), path.name)
    assert warnings == []
    return frame


def test_deferred_columns_give_the_same_frame_as_a_full_read(csv_path):
    dataset = data.read_dataset(csv_path, defer=True)
    assert dataset.screen.columns.tolist() == data.SCREEN_COLUMNS + [data.WHEN]
    assert not set(data.DEFERRED_COLUMNS) & set(dataset.screen.columns)
    full = dataset.frame  # reads the deferred columns now
    pd.testing.assert_frame_equal(full, careful(csv_path))
    pd.testing.assert_frame_equal(full, data.read_dataset(csv_path, defer=False).frame)
    assert dataset.frame is full  # read once
    assert dataset.warnings == ()
    # the screen's columns are shared, not copied, and the download is the file itself
    assert np.shares_memory(full["quantity_kg"].to_numpy(), dataset.screen["quantity_kg"].to_numpy())
    assert data.csv_download(full) == csv_path.read_bytes()


def test_the_page_reads_only_screen_columns(csv_path):
    """Everything a view computes comes from the screen frame: the deferred columns stay unread."""
    dataset = data.read_dataset(csv_path, defer=True)
    for filters in (data.Filters(), data.Filters(count_once=False), data.Filters(kinds=("price",))):
        mask = data.filter_mask(dataset.prep, filters)
        data.headline_fast(dataset.screen, dataset.prep, mask, filters.count_once)
        data.seizure_points_fast(dataset.screen, dataset.prep, mask)
        data.price_points_fast(dataset.screen, dataset.prep, mask, True)
        data.map_points_fast(dataset.screen, dataset.prep, mask, filters.count_once)
        data.usd_checks_fast(dataset.screen, dataset.prep, mask)
        data.source_count_and_head(dataset.screen, dataset.prep, mask)
        data.incident_choices_fast(dataset.screen, dataset.prep, mask)
        data.table_view(data._take(dataset.screen, np.flatnonzero(mask)[:50], data.TABLE_SOURCE_COLUMNS))
    incident = dataset.screen["incident_id"].iloc[0]
    assert data.incident_detail_fast(dataset.screen, dataset.prep, incident) is not None
    assert dataset.rest is not None and dataset.rest.full is None


def test_small_files_are_read_whole(csv_path):
    dataset = data.read_dataset(csv_path)  # a small file: no second pass
    assert csv_path.stat().st_size < data.READ_WHOLE_BELOW_BYTES
    assert dataset.rest is None and dataset.frame is dataset.screen
    pd.testing.assert_frame_equal(dataset.frame, careful(csv_path))


def test_a_file_changed_after_loading_is_never_mixed_in(csv_path):
    dataset = data.read_dataset(csv_path, defer=True)
    header, records = file_records(csv_path)
    # same rows and report ids, another number of arrests (a deferred column) in the first record
    fields = records[0].split(",")
    arrests = data.NAMES.index("arrests")
    fields[arrests] = "999"
    csv_path.write_text(header + ",".join(fields) + "".join(records[1:]), encoding="utf-8")
    with pytest.raises(data.DataFileError, match="changed after the page loaded it"):
        dataset.frame
    # the version the page loads next is read whole and holds the new value
    fresh = data.read_dataset(csv_path, defer=True)
    assert fresh.frame["arrests"].iloc[0] == 999


def swapped(path: Path) -> str:
    """The file's text with its first two records swapped: the same size, other rows."""
    header, records = file_records(path)
    return header + records[1] + records[0] + "".join(records[2:])


def test_a_file_rewritten_with_the_same_size_and_modification_time_is_detected(csv_path):
    dataset = data.read_dataset(csv_path, defer=True)
    stat = csv_path.stat()
    csv_path.write_text(swapped(csv_path), encoding="utf-8")
    os.utime(csv_path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (csv_path.stat().st_size, data.file_version(csv_path)) == (stat.st_size, stat.st_mtime_ns)
    with pytest.raises(data.DataFileError, match="changed after the page loaded it"):
        dataset.frame


def test_a_file_replaced_by_another_with_the_same_times_is_detected(csv_path, tmp_path):
    dataset = data.read_dataset(csv_path, defer=True)
    stat = csv_path.stat()
    other = tmp_path / "other.csv"
    other.write_text(swapped(csv_path), encoding="utf-8")
    os.utime(other, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(other, csv_path)  # another file (inode) under the same name, as a rebuild writes it
    assert data.file_version(csv_path) == stat.st_mtime_ns
    with pytest.raises(data.DataFileError, match="changed after the page loaded it"):
        dataset.frame


def test_a_bad_cell_in_a_deferred_column_is_read_carefully_with_a_warning(csv_path):
    header, records = file_records(csv_path)
    fields = records[1].split(",")
    fields[data.NAMES.index("arrests")] = "many"
    csv_path.write_text(header + records[0] + ",".join(fields) + "".join(records[2:]), encoding="utf-8")
    dataset = data.read_dataset(csv_path, defer=True)  # the screen columns are all well-formed
    assert dataset.rest is not None and dataset.warnings == ()
    expected, warnings = data.read_seizures(csv_path.read_bytes(), csv_path.name)
    pd.testing.assert_frame_equal(dataset.frame, expected)
    assert pd.isna(dataset.frame["arrests"].iloc[1])
    assert dataset.warnings == tuple(warnings) and "arrests" in warnings[0]


def test_prepared_codes_match_the_frame(csv_path):
    """Incident codes and the codes of the parts of totals (a part absent from the file gets its own code)."""
    header, records = file_records(csv_path)
    total = next(i for i, r in enumerate(records) if ",total," in r and ",total,," not in r)
    fields = records[total].split(",")
    parts = data.NAMES.index("incident_parts")
    fields[parts] = fields[parts] + " no-such-incident"
    records[total] = ",".join(fields)
    csv_path.write_text(header + "".join(records), encoding="utf-8")
    dataset = data.read_dataset(csv_path, defer=True)
    frame, prep = dataset.screen, dataset.prep
    assert prep.incident.values[prep.incident.codes].tolist() == frame["incident_id"].tolist()
    assert prep.incident.values.is_unique
    named = [p for text in frame["incident_parts"].iloc[prep.totals].fillna("") for p in text.split()]
    found = prep.incident.values.get_indexer(named)
    assert "no-such-incident" in named
    assert prep.part_code.tolist() == np.where(found < 0, len(prep.incident.values), found).tolist()
    for name, coded in (("kind", prep.kind), ("drug", prep.drug), ("country", prep.country),
                        ("nk_link", prep.link), ("source_id", prep.source)):
        assert coded.values[coded.codes].tolist() == frame[name].tolist(), name
        assert coded.values.tolist() == list(dict.fromkeys(frame[name])), name  # in order of first appearance
    assert prep.seizure.tolist() == (frame["kind"] == "seizure").tolist()


def test_combined_codes_number_each_combination_in_order_of_first_appearance():
    """The map's place codes: one int64 key when the combinations fit, else column by column."""
    rng = np.random.default_rng(7)
    for distinct in (3, 20_000):  # 20,000 values in each of 5 columns: more combinations than an int64 holds
        columns = [pd.factorize(rng.integers(0, distinct, 30_000), use_na_sentinel=False) for _ in range(5)]
        rows = list(zip(*(codes.tolist() for codes, _ in columns)))
        first: dict = {}
        expected = [first.setdefault(row, len(first)) for row in rows]
        assert data._combined_codes(columns).tolist() == expected


def test_masks_are_shared_per_selection_and_read_only(csv_path):
    dataset = data.read_dataset(csv_path, defer=True)
    filters = data.Filters(kinds=("seizure",))
    mask = data.filter_mask(dataset.prep, filters)
    assert data.filter_mask(dataset.prep, data.Filters(kinds=("seizure",))) is mask
    assert not mask.flags.writeable
    rows = data.apply_filters(dataset.screen, filters)
    assert np.flatnonzero(mask).tolist() == rows.index.tolist()


def test_taking_rows_from_chunked_columns_keeps_their_order(csv_path):
    """Text columns read in several chunks (as pyarrow reads a large file) give the rows asked for, in that order."""
    import pyarrow as pa

    dataset = data.read_dataset(csv_path, defer=True)
    frame = dataset.screen
    chunked = frame.copy()
    for name in ("report_id", "source_title", "notes", "place"):
        values = frame[name].array.__arrow_array__().combine_chunks()
        pieces = [values.slice(start, 7) for start in range(0, len(values), 7)]  # chunks of 7 rows
        chunked[name] = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array(pieces, type=values.type)),
                                  index=frame.index)
    assert data._chunks_of(chunked["notes"]).num_chunks > 5
    positions = np.array([len(frame) - 1, 3, 0, 20, 8, 3])
    columns = ["report_id", "source_title", "quantity_kg", "notes", "place", "year"]
    taken = data._take(chunked, positions, columns)
    pd.testing.assert_frame_equal(taken, frame.iloc[positions][columns])


def test_the_page_reads_a_file_replaced_by_one_with_the_same_modification_time(csv_path, tmp_path, monkeypatch):
    monkeypatch.setenv("SEIZURES_CSV", str(csv_path))
    at = AppTest.from_file(DASHBOARD, default_timeout=60).run()
    header, records = file_records(csv_path)
    assert any(c.value.startswith(f"{len(records)} figures from") for c in at.caption)
    stat = csv_path.stat()
    other = tmp_path / "other.csv"
    other.write_text(header + "".join(records[:10]), encoding="utf-8")
    os.utime(other, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(other, csv_path)
    assert data.file_version(csv_path) == stat.st_mtime_ns
    at.run()
    assert not at.exception
    assert any(c.value.startswith("10 figures from") for c in at.caption)
