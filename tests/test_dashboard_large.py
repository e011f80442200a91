"""The dashboard on a large file: what goes to the browser is capped, and says so; downloads hold everything.

The file is the real data/seizures.csv repeated to 60,000 rows, each copy with
its own report_id and incident ids (so the incident rules hold per copy).
Expectations are computed here with plain pandas, not with app/. Not timed:
`python -m etl bench --dashboard` measures speed.
"""
from __future__ import annotations

import base64
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app import data
from csv_records import records_of
from devtools.bench import MAX_POINTS_PER_FIGURE, count_points

REPO = Path(__file__).resolve().parents[1]
DASHBOARD = str(REPO / "dashboard.py")
REAL_CSV = REPO / "data" / "seizures.csv"
ROWS = 60_000
TIMEOUT = 120


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("large")
    real = pd.read_csv(REAL_CSV, dtype=str, keep_default_na=False)
    copies = math.ceil(ROWS / len(real))
    parts = []
    for i in range(copies):
        copy = real.copy()
        suffix = f"-x{i}"
        copy["report_id"] = copy["report_id"] + suffix
        copy["incident_id"] = copy["incident_id"] + suffix
        copy["incident_parts"] = [" ".join(p + suffix for p in text.split()) for text in copy["incident_parts"]]
        parts.append(copy)
    big = pd.concat(parts, ignore_index=True).iloc[:ROWS]
    path = folder / "seizures.csv"
    big.to_csv(path, index=False, lineterminator="\n")
    shutil.copy(REAL_CSV.with_name("datapackage.json"), folder / "datapackage.json")
    return path


@pytest.fixture(scope="module")
def table(big_csv) -> pd.DataFrame:
    return pd.read_csv(big_csv)


@pytest.fixture
def app(big_csv, monkeypatch) -> AppTest:
    monkeypatch.setenv("SEIZURES_CSV", str(big_csv))
    return AppTest.from_file(DASHBOARD, default_timeout=TIMEOUT)


def representative(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["is_representative"].astype(bool)]


def decode(array) -> np.ndarray:
    """A plotly JSON array: a list, or a typed array {"dtype", "bdata"}."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
    return np.asarray(array, dtype=float)


def captions(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


@pytest.fixture
def clicks(monkeypatch) -> dict:
    """The callables of downloads written on click, by their placeholder id (AppTest's runtime ends with the run)."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    registered: dict = {}
    original = MediaFileManager.add_deferred

    def add_deferred(self, data_callable, *args, **kwargs):
        file_id = original(self, data_callable, *args, **kwargs)
        registered[file_id] = data_callable
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return registered


def download_bytes(at: AppTest, key: str, clicks: dict) -> bytes:
    """What the browser receives from a download button written on click."""
    button = next(b for b in at.get("download_button") if b.key == key)
    assert not button.proto.url, f"{key} was written eagerly"
    payload = clicks[button.proto.deferred_file_id]()
    return payload.encode("utf-8") if isinstance(payload, str) else payload


def test_every_figure_is_capped_and_its_caption_says_so(app, table):
    at = app.run()
    assert not at.exception, [e.value for e in at.exception]
    figures = {c.key: json.loads(c.proto.spec) for c in at.get("plotly_chart")}
    assert len(figures) == 5
    for key, spec in figures.items():
        assert count_points(spec) <= MAX_POINTS_PER_FIGURE, key
    rows = representative(table)
    seizures = rows[(rows["kind"] == "seizure") & rows["quantity_kg"].notna() & rows["date"].notna()]
    drawn = count_points(figures["chart_seizure_points"])
    assert drawn < len(seizures)
    text = captions(at)
    assert f"Showing {drawn:,} of {len(seizures):,} seizures" in text
    assert "random sample" in text
    # the largest seizures are always among the points drawn
    ys = np.concatenate([decode(t["y"]) for t in figures["chart_seizure_points"]["data"]])
    assert ys.max() == pytest.approx(seizures["quantity_kg"].max())
    assert f"of {len(seizures):,} seizures" in text
    dated = rows[rows["date"].notna()]
    prices = ((dated["kind"] == "price") & dated["price_usd_per_kg_const"].notna()).sum() + \
        ((dated["kind"] == "seizure") & dated["implied_usd_per_kg_const"].notna()).sum()
    assert f"of {prices:,} prices" in text
    # the dollar check becomes a distribution of the differences
    checked = rows["usd_check_pct"].notna().sum()
    assert f"{checked:,} figures are checked" in text
    assert count_points(figures["chart_usd_check"]) <= data.USD_CHECK_BINS
    # the map adds up by place, whatever the number of rows
    assert "one circle per place and drug" in text


def test_the_table_shows_the_first_rows_and_says_how_many_there_are(app, table):
    at = app.run()
    rows = representative(table)
    shown = at.dataframe[0].value
    assert len(shown) == data.TABLE_ROWS < len(rows)
    assert shown["Report"].tolist() == rows["report_id"].iloc[: data.TABLE_ROWS].tolist()
    notes = [i.value for i in at.info]
    assert f"Showing {data.TABLE_ROWS:,} of {len(rows):,} rows" in " ".join(notes)
    assert any("download for all" in n for n in notes)
    # the source list is capped too, and its label counts every document
    listing = next(e for e in at.expander if e.label.startswith("Sources of this selection"))
    assert listing.label == f"Sources of this selection ({rows['source_id'].nunique()})"


def test_downloads_hold_every_filtered_row(app, table, big_csv, clicks):
    header, records = records_of(big_csv.read_text(encoding="utf-8"))
    at = app.run()
    rows = representative(table)
    expected = (header + "".join(records[i] for i in rows.index)).encode("utf-8")
    assert download_bytes(at, "download_filtered", clicks) == expected
    assert download_bytes(at, "download_full", clicks) == (header + "".join(records)).encode("utf-8")
    country = rows["country"].value_counts().index[0]
    at.multiselect(key="country").set_value([country]).run()
    assert not at.exception
    chosen = rows[rows["country"] == country]
    assert len(chosen) > data.EAGER_DOWNLOAD_ROWS  # still a large selection, written on click
    expected = (header + "".join(records[i] for i in chosen.index)).encode("utf-8")
    assert download_bytes(at, "download_filtered", clicks) == expected


def test_fast_numbers_equal_the_reference_functions(big_csv):
    """On the large file, the page's mask-and-bincount path gives what the rows-in functions give."""
    dataset = data.load_dataset(str(big_csv), data.file_version(big_csv))
    frame, prep = dataset.frame, dataset.prep
    for filters in (data.Filters(), data.Filters(count_once=False),
                    data.Filters(kinds=("seizure",), years=(2015, 2022), include_undated=False)):
        mask = data.filter_mask(prep, filters)
        rows = data.apply_filters(frame, filters)
        assert np.flatnonzero(mask).tolist() == rows.index.tolist()
        fast, slow = data.headline_fast(frame, prep, mask, filters.count_once), data.headline(rows, filters.count_once)
        for name, value in vars(slow).items():  # sums agree up to the order of addition
            assert getattr(fast, name) == (pytest.approx(value) if value is not None else None), name
        pd.testing.assert_frame_equal(data.kg_per_year_fast(frame, prep, mask, filters.count_once),
                                      data.kg_per_year(rows, filters.count_once), check_dtype=False)
        fast = data.map_points_fast(frame, prep, mask, filters.count_once).frame
        slow = data.map_points(rows, filters.count_once)
        assert fast["kg"].tolist() == pytest.approx(slow["kg"].tolist())
        assert fast["label"].tolist() == slow["label"].tolist()
        assert fast["seizures"].tolist() == slow["seizures"].tolist()


def test_small_data_draws_every_point_and_notes_nothing(monkeypatch, tmp_path):
    shutil.copy(REAL_CSV, tmp_path / "seizures.csv")
    monkeypatch.setenv("SEIZURES_CSV", str(tmp_path / "seizures.csv"))
    at = AppTest.from_file(DASHBOARD, default_timeout=TIMEOUT).run()
    real = pd.read_csv(REAL_CSV)
    rows = representative(real)
    seizures = rows[(rows["kind"] == "seizure") & rows["quantity_kg"].notna() & rows["date"].notna()]
    spec = json.loads(next(c for c in at.get("plotly_chart") if c.key == "chart_seizure_points").proto.spec)
    assert count_points(spec) == len(seizures)
    assert "Showing" not in captions(at)
    assert not any("download for all" in i.value for i in at.info)
    assert len(at.dataframe[0].value) == len(rows)
