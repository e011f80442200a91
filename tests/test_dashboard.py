"""The dashboard in Streamlit's AppTest, on a copy of the real data/seizures.csv.

Expectations are computed here from the CSV with plain pandas (and, for the
downloads, from the file's own bytes), independently of app/.
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from streamlit.runtime.memory_media_file_storage import _calculate_file_id
from streamlit.testing.v1 import AppTest

from app import charts, data, state
from app import format as fmt
from csv_records import file_records

REPO = Path(__file__).resolve().parents[1]
DASHBOARD = str(REPO / "dashboard.py")
REAL_CSV = REPO / "data" / "seizures.csv"
CHART_KEYS = ["chart_kg_per_year", "chart_seizure_points", "chart_prices", "chart_map", "chart_usd_check"]
TIMEOUT = 60


# --- Fixtures -------------------------------------------------------------------

@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    """A snapshot of the real data, so a colleague rebuilding data/ mid-run cannot change the expectations."""
    folder = tmp_path_factory.mktemp("data")
    shutil.copy(REAL_CSV, folder / "seizures.csv")
    shutil.copy(REAL_CSV.with_name("datapackage.json"), folder / "datapackage.json")
    return folder


@pytest.fixture(scope="session")
def csv_path(data_dir) -> Path:
    return data_dir / "seizures.csv"


@pytest.fixture(scope="session")
def table(csv_path) -> pd.DataFrame:
    """The CSV read by pandas with its default type inference (not by app.data)."""
    return pd.read_csv(csv_path)


@pytest.fixture
def app(csv_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("SEIZURES_CSV", str(csv_path))
    return AppTest.from_file(DASHBOARD, default_timeout=TIMEOUT)


# --- Independent expectations -------------------------------------------------------

def select(df: pd.DataFrame, *, once: bool = True, countries=(), kinds=(), drugs=(), years=None,
           undated: bool = True) -> pd.DataFrame:
    keep = pd.Series(True, index=df.index)
    if years is not None:
        keep &= df["year"].between(*years) | (df["year"].isna() & undated)
    elif not undated:
        keep &= df["year"].notna()
    if countries:
        keep &= df["country"].isin(countries)
    if kinds:
        keep &= df["kind"].isin(kinds)
    if drugs:
        keep &= df["drug"].isin(drugs)
    if once:
        keep &= df["is_representative"].astype(bool)
    return df[keep]


def summable(rows: pd.DataFrame, once: bool = True) -> pd.DataFrame:
    if not once:
        return rows
    present = set(rows["incident_id"])
    drop = [scope == "total" and any(p in present for p in str(parts).split())
            for scope, parts in zip(rows["incident_scope"], rows["incident_parts"].fillna(""))]
    return rows[~np.array(drop, dtype=bool)]


def download_id(at: AppTest, key: str) -> str:
    button = next(b for b in at.get("download_button") if b.key == key)
    return Path(button.proto.url).stem


def file_id(payload: bytes, filename: str, mime: str = "text/csv") -> str:
    """The id Streamlit gives a download: a hash of its bytes, type and file name."""
    return _calculate_file_id(payload, mime, filename)


def metric(at: AppTest, label_start: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label_start))


def table_reports(at: AppTest) -> list[str]:
    return at.dataframe[0].value["Report"].tolist()


def charts_by_key(at: AppTest) -> dict:
    return {c.key: c for c in at.get("plotly_chart")}


def no_problems(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


# --- The page on the real data --------------------------------------------------------

def test_page_runs_and_draws_every_chart(app, table):
    at = app.run()
    no_problems(at)
    assert not at.warning, [w.value for w in at.warning]
    found = charts_by_key(at)
    assert sorted(found) == sorted(CHART_KEYS)
    for key, chart in found.items():
        spec = json.loads(chart.proto.spec)
        assert spec["data"], f"{key} has no traces"
        assert spec["layout"]["title"]["text"], f"{key} has no title"
    # each chart has a caption right after it that names its unit
    captions = " ".join(c.value for c in at.caption)
    for unit in ("per year (kg)", "kilograms (kg", "US$ per kilogram", "sized by kilograms", "in percent"):
        assert unit in captions
    # the map carries its own outlines and points nowhere on the internet
    config = json.loads(found["chart_map"].proto.config)
    assert config["topojsonURL"].startswith("data:application/json;base64,")


def test_headline_numbers_match_the_csv(app, table):
    at = app.run()
    rows = select(table)
    summed = summable(rows)
    seizures = summed[summed["kind"] == "seizure"]
    assert metric(at, "Incidents") == f"{summed['incident_id'].nunique():,}"
    assert metric(at, "Kilograms seized") == fmt.kg(seizures["quantity_kg"].sum())
    assert metric(at, "Value seized") == fmt.compact_usd(seizures["value_usd_const"].sum())
    prices = rows.loc[rows["kind"] == "price", "price_usd_per_kg_const"].dropna()
    assert metric(at, "Median price") == (fmt.compact_usd(prices.median()) if len(prices) else "–")
    assert sorted(table_reports(at)) == sorted(rows["report_id"])
    # the caption says how many totals were kept out of the sums
    left_out = len(rows) - len(summed)
    note = next(c.value for c in at.caption if c.value.startswith("Counting each incident once"))
    assert (f"{left_out} operation or annual total(s)" in note) == (left_out > 0)


def test_counting_every_report_shows_all_rows(app, table):
    at = app.run()
    at.toggle(key="once").set_value(False).run()
    no_problems(at)
    assert sorted(table_reports(at)) == sorted(table["report_id"])
    assert any(c.value.startswith("Counting every report") for c in at.caption)
    kg_all = table.loc[table["kind"] == "seizure", "quantity_kg"].sum()
    assert metric(at, "Kilograms seized") == fmt.kg(kg_all)


def test_a_country_filter_changes_table_and_headline(app, table):
    at = app.run()
    before = (table_reports(at), [m.value for m in at.metric])
    # the country with the most representative seizure reports, chosen from the data
    country = select(table, kinds=["seizure"])["country"].value_counts().index[0]
    at.multiselect(key="country").set_value([country]).run()
    no_problems(at)
    rows = select(table, countries=[country])
    assert sorted(table_reports(at)) == sorted(rows["report_id"])
    assert set(at.dataframe[0].value["Country"]) == {data.country_name(country)}
    summed = summable(rows)
    assert metric(at, "Incidents") == f"{summed['incident_id'].nunique():,}"
    assert metric(at, "Kilograms seized") == fmt.kg(summed.loc[summed["kind"] == "seizure", "quantity_kg"].sum())
    assert (table_reports(at), [m.value for m in at.metric]) != before


def test_year_range_filter(app, table):
    at = app.run()
    years = table["year"].dropna()
    low, high = int(years.min()), int(years.median())
    at.slider(key="years").set_value((low, high)).run()
    at.toggle(key="undated").set_value(False).run()
    no_problems(at)
    rows = select(table, years=(low, high), undated=False)
    assert sorted(table_reports(at)) == sorted(rows["report_id"])


def test_filtered_download_is_the_filtered_rows(app, table, csv_path):
    header, records = file_records(csv_path)
    assert len(records) == len(table)
    at = app.run()
    # unfiltered: the full file, byte for byte
    full = (header + "".join(records)).encode("utf-8")
    assert download_id(at, "download_full") == file_id(full, "nk-drug-seizures.csv")
    country = table["country"].value_counts().index[0]
    at.multiselect(key="country").set_value([country]).run()
    rows = select(table, countries=[country])
    expected = (header + "".join(records[i] for i in rows.index)).encode("utf-8")
    assert download_id(at, "download_filtered") == file_id(expected, "nk-drug-seizures-filtered.csv")
    assert download_id(at, "download_filtered") != file_id(full, "nk-drug-seizures-filtered.csv")
    # the same bytes, parsed: the columns of data/seizures.csv and exactly the filtered rows
    parsed = pd.read_csv(io.BytesIO(data.csv_download(data.apply_filters(
        data.read_seizures(csv_path.read_bytes())[0], data.Filters(countries=(country,))))))
    assert parsed.columns.tolist() == table.columns.tolist()
    assert parsed["report_id"].tolist() == rows["report_id"].tolist()
    # the data dictionary is the datapackage.json next to the data
    package = csv_path.with_name("datapackage.json").read_bytes()
    assert download_id(at, "download_dictionary") == file_id(package, "datapackage.json", "application/json")


def test_downloads_neutralise_formulas(tmp_path, csv_path, monkeypatch):
    """A text cell that a spreadsheet would run comes out with a leading apostrophe; numbers stay numbers."""
    frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    frame.loc[0, "notes"] = '=HYPERLINK("http://example.com","x")'
    frame.loc[0, "place"] = "@SUM(A1)"
    frame.loc[0, "source_url"] = "javascript:alert(1)"
    frame.loc[0, "is_representative"] = "True"
    path = tmp_path / "seizures.csv"
    frame.to_csv(path, index=False, lineterminator="\n")
    monkeypatch.setenv("SEIZURES_CSV", str(path))
    at = AppTest.from_file(DASHBOARD, default_timeout=TIMEOUT).run()
    no_problems(at)
    # the table never offers a javascript: link
    shown = at.dataframe[0].value.set_index("Report")
    assert pd.isna(shown.loc[frame.loc[0, "report_id"], "Link"])
    header, records = file_records(path)
    first = next(csv.reader([records[0]]))
    names = header.strip().split(",")
    first[names.index("notes")] = "'" + first[names.index("notes")]
    first[names.index("place")] = "'" + first[names.index("place")]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(first)
    expected = (header + out.getvalue() + "".join(records[1:])).encode("utf-8")
    assert download_id(at, "download_full") == file_id(expected, "nk-drug-seizures.csv")


def test_sources_are_listed_with_links_where_they_have_one(app, table):
    at = app.run()
    listing = next(e for e in at.expander if e.label.startswith("Sources of this selection"))
    text = listing.markdown[0].value
    docs = select(table).drop_duplicates("source_id")
    assert listing.label == f"Sources of this selection ({len(docs)})"
    for url in docs["source_url"].dropna():
        assert f"](<{url}>)" in text
    assert text.count("*(no link)*") == docs["source_url"].isna().sum()
    links = at.dataframe[0].value["Link"]
    assert links.notna().sum() == select(table)["source_url"].notna().sum()


def test_query_parameters_restore_a_view(app, table):
    country = table["country"].value_counts().index[0]
    years = table["year"].dropna()
    low, high = int(years.min()), int(years.max()) - 1
    app.query_params.update({
        "country": [data.country_name(country)], "once": "false", "undated": "false",
        "years": [str(low), str(high)], "tab": "Table and downloads", "dollars": "Nominal", "log": "true",
    })
    at = app.run()
    no_problems(at)
    assert at.multiselect(key="country").value == [country]
    assert at.toggle(key="once").value is False
    assert at.slider(key="years").value == (low, high)
    assert at.toggle(key="log").value is True
    assert at.session_state["dollars"] == "nominal"
    rows = select(table, countries=[country], once=False, years=(low, high), undated=False)
    assert sorted(table_reports(at)) == sorted(rows["report_id"])
    # the figures follow the view: log axis for kilograms, nominal dollars for prices
    found = charts_by_key(at)
    assert json.loads(found["chart_kg_per_year"].proto.spec)["layout"]["yaxis"]["type"] == "log"
    if "chart_prices" in found:
        assert "nominal" in json.loads(found["chart_prices"].proto.spec)["layout"]["title"]["text"]


def test_unknown_query_values_are_ignored(app, table):
    app.query_params.update({"country": ["Atlantis"], "kind": ["rumour"]})
    at = app.run()
    no_problems(at)
    assert at.multiselect(key="country").value == []
    assert sorted(table_reports(at)) == sorted(select(table)["report_id"])


def test_an_empty_selection_is_explained(app, table):
    # a country with no price report, found in the data
    with_price = set(table.loc[table["kind"] == "price", "country"])
    country = next(c for c in table["country"].unique() if c not in with_price)
    app.query_params.update({"country": [data.country_name(country)], "kind": [state.KIND_LABELS["price"]]})
    at = app.run()
    no_problems(at)
    assert any("No reports match" in i.value for i in at.info)
    assert not at.get("plotly_chart")
    assert not at.metric
    filtered = next(b for b in at.get("download_button") if b.key == "download_filtered")
    assert filtered.proto.disabled


def test_missing_data_file_is_a_message(tmp_path, monkeypatch):
    monkeypatch.setenv("SEIZURES_CSV", str(tmp_path / "nothing.csv"))
    at = AppTest.from_file(DASHBOARD, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "There is no data file" in at.error[0].value


def test_a_folder_instead_of_a_file_is_a_message(tmp_path, monkeypatch):
    monkeypatch.setenv("SEIZURES_CSV", str(tmp_path))
    at = AppTest.from_file(DASHBOARD, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "There is no data file" in at.error[0].value


def test_a_file_with_a_header_and_no_rows_is_explained(tmp_path, csv_path, monkeypatch):
    header, _ = file_records(csv_path)
    path = tmp_path / "seizures.csv"
    path.write_text(header, encoding="utf-8")
    monkeypatch.setenv("SEIZURES_CSV", str(path))
    at = AppTest.from_file(DASHBOARD, default_timeout=TIMEOUT).run()
    no_problems(at)
    assert any("No reports match" in i.value for i in at.info)


def test_a_file_that_is_not_utf8_is_a_message(tmp_path, monkeypatch):
    path = tmp_path / "seizures.csv"
    path.write_bytes("report_id,place\nr1,K\xf6ln\n".encode("latin-1"))
    monkeypatch.setenv("SEIZURES_CSV", str(path))
    at = AppTest.from_file(DASHBOARD, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "not a readable UTF-8 CSV" in at.error[0].value


def test_a_file_that_is_not_a_cleaned_csv_is_a_message(tmp_path, monkeypatch):
    path = tmp_path / "reports.csv"
    path.write_text("report_id,quantity\nr1,5 kg\n", encoding="utf-8")
    monkeypatch.setenv("SEIZURES_CSV", str(path))
    at = AppTest.from_file(DASHBOARD, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "lacks the column(s)" in at.error[0].value


def test_methodology_shows_rates_base_year_and_incident_rule(app, csv_path):
    import etl.incidents

    at = app.run()
    package = json.loads(csv_path.with_name("datapackage.json").read_text(encoding="utf-8"))
    text = " ".join(m.value for m in at.markdown)
    assert f"constant {package['constant_usd_base_year']} US dollars" in text
    assert etl.incidents.__doc__.strip() in [c.value for c in at.code]
    fx = pd.read_csv(REPO / "data" / "reference" / "fx_annual_lcu_per_usd.csv")
    shown = [d.value for d in at.dataframe if "lcu_per_usd" in d.value.columns]
    assert shown, "exchange-rate table missing"
    used = set(pd.read_csv(csv_path)["currency"].dropna()) - {"USD"}
    assert set(shown[0]["currency"]) == used & set(fx["currency"])


# --- Loader, paths and chart builders (plain functions) ---------------------------------

def test_loader_reads_every_row_and_round_trips(csv_path, table):
    dataset = data.load_dataset(str(csv_path), data.file_version(csv_path))
    assert len(dataset.frame) == len(table)
    assert dataset.frame.columns[: len(table.columns)].tolist() == table.columns.tolist()
    # written back through etl.csvio.csv_bytes, the file is unchanged
    assert data.csv_download(dataset.frame) == csv_path.read_bytes()


def test_loader_reads_a_rebuilt_file_again(tmp_path, csv_path):
    path = tmp_path / "seizures.csv"
    shutil.copy(csv_path, path)
    first = data.load_dataset(str(path), data.file_version(path))
    header, records = file_records(csv_path)
    path.write_text(header + "".join(records[:3]), encoding="utf-8")
    os.utime(path, ns=(data.file_version(path) + 10**9, data.file_version(path) + 10**9))
    second = data.load_dataset(str(path), data.file_version(path))
    assert len(first.frame) == len(records) and len(second.frame) == 3


def test_data_path_precedence(tmp_path):
    assert data.data_path([], {}) == data.DEFAULT_CSV
    assert data.data_path([], {"SEIZURES_CSV": str(tmp_path / "a.csv")}) == tmp_path / "a.csv"
    assert data.data_path(["--data", str(tmp_path / "b.csv")], {"SEIZURES_CSV": str(tmp_path / "a.csv")}) == \
        tmp_path / "b.csv"
    assert data.data_path(["--dat", "x.csv"], {}) == data.DEFAULT_CSV  # no abbreviations of other tools' options


@pytest.fixture(scope="session")
def frame(csv_path) -> pd.DataFrame:
    return data.read_seizures(csv_path.read_bytes())[0]


def test_kg_per_year_chart_adds_up_per_year(frame, table):
    colours = charts.palette(list(frame["drug"].unique()))
    fig = charts.kg_per_year(frame[frame["is_representative"]], True, False, colours)
    drawn = pd.concat([pd.Series(t.y, index=t.x) for t in fig.data]).groupby(level=0).sum()
    rows = summable(select(table))
    seized = rows[(rows["kind"] == "seizure") & rows["year"].notna()]
    expected = seized.groupby(seized["year"].astype(int))["quantity_kg"].sum()
    expected = expected[seized.groupby(seized["year"].astype(int))["quantity_kg"].count() > 0]
    pd.testing.assert_series_equal(drawn.sort_index(), expected.sort_index(), check_names=False)
    assert fig.layout.barmode == "stack"
    log = charts.kg_per_year(frame[frame["is_representative"]], True, True, colours)
    assert log.layout.yaxis.type == "log"


def test_seizure_points_draw_reported_ranges(frame, table):
    fig = charts.seizure_points(frame, charts.palette(list(frame["drug"].unique())))
    seized = table[(table["kind"] == "seizure") & table["quantity_kg"].notna() & table["date"].notna()]
    ys = np.concatenate([t.y for t in fig.data])
    assert len(ys) == len(seized)
    plus = np.concatenate([t.error_y.array for t in fig.data])
    minus = np.concatenate([t.error_y.arrayminus for t in fig.data])
    order = np.concatenate([seized.loc[seized["drug"] == d].index for d in sorted(seized["drug"].unique())])
    ordered = seized.loc[order]
    np.testing.assert_allclose(ys, ordered["quantity_kg"])
    np.testing.assert_allclose(plus, (ordered["quantity_kg_high"] - ordered["quantity_kg"]).fillna(0).clip(lower=0))
    np.testing.assert_allclose(minus, (ordered["quantity_kg"] - ordered["quantity_kg_low"]).fillna(0).clip(lower=0))
    symbols = np.concatenate([t.marker.symbol for t in fig.data])
    upper_only = (ordered["quantity_kg_low"].isna() & ordered["quantity_kg_high"].notna()).to_numpy()
    assert (symbols[upper_only] == "triangle-down").all()
    assert fig.layout.yaxis.type == "log"


@pytest.mark.parametrize("constant", [True, False])
def test_price_chart_marks_quoted_and_implied_prices(frame, table, constant):
    fig = charts.prices(frame, constant, 2024, charts.palette(list(frame["country"].unique())))
    suffix = "_const" if constant else ""
    dated = table[table["date"].notna()]
    quoted = dated.loc[dated["kind"] == "price", "price_usd_per_kg" + suffix].dropna()
    implied = dated.loc[dated["kind"] == "seizure", "implied_usd_per_kg" + suffix].dropna()
    by_symbol = {"circle": [], "diamond-open": []}
    for trace in fig.data:
        by_symbol[trace.marker.symbol].extend(trace.y)
    np.testing.assert_allclose(sorted(by_symbol["circle"]), sorted(quoted))
    np.testing.assert_allclose(sorted(by_symbol["diamond-open"]), sorted(implied))
    assert fig.layout.yaxis.type == "log"
    # a quoted range spans value_usd_low..high (per kg), deflated like the point in constant dollars
    ranged = dated[(dated["kind"] == "price") & (dated["value_usd_high"] > dated["value_usd_low"])]
    for _, row in ranged.iterrows():
        factor = row["price_usd_per_kg_const"] / row["price_usd_per_kg"] if constant else 1.0
        point = row["price_usd_per_kg" + suffix]
        trace = next(t for t in fig.data if np.isclose(t.y, point, rtol=1e-12).any())
        i = int(np.flatnonzero(np.isclose(trace.y, point, rtol=1e-12))[0])
        assert trace.error_y.array[i] == pytest.approx(row["value_usd_high"] * factor - point)
        assert trace.error_y.arrayminus[i] == pytest.approx(point - row["value_usd_low"] * factor)


def test_map_sizes_by_kilograms_and_needs_no_network(frame, table):
    fig = charts.seizure_map(frame[frame["is_representative"]], True, charts.palette(list(frame["drug"].unique())))
    rows = summable(select(table))
    seized = rows[(rows["kind"] == "seizure") & rows["lat"].notna()]
    assert sum(np.nansum(t.marker.size) for t in fig.data) == pytest.approx(seized["quantity_kg"].sum())
    assert fig.layout.geo.projection.type == "natural earth"
    assert "http" not in charts.map_config()["topojsonURL"]


def test_usd_check_chart_shows_every_checked_figure(frame, table):
    fig = charts.usd_check(frame, 5.0)
    expected = table["usd_check_pct"].dropna()
    np.testing.assert_allclose(sorted(fig.data[0].x), sorted(expected))


def test_empty_rows_give_no_figure(frame):
    none = frame.iloc[0:0]
    colours = charts.palette([])
    assert charts.kg_per_year(none, True, False, colours) is None
    assert charts.seizure_points(none, colours) is None
    assert charts.prices(none, True, 2024, colours) is None
    assert charts.seizure_map(none, True, colours) is None
    assert charts.usd_check(none, 5.0) is None


def test_totals_are_not_added_to_their_parts(frame):
    """A total whose part is present is left out of sums when counting once, and counted otherwise."""
    rows = frame.iloc[:2].copy()
    rows["incident_id"] = ["part-a", "all-of-it"]
    rows["incident_scope"] = ["single", "total"]
    rows["incident_parts"] = ["", "part-a part-b"]
    rows["kind"] = "seizure"
    rows["quantity_kg"] = [10.0, 25.0]
    assert data.headline(rows, count_once=True).kg == 10.0
    assert data.headline(rows, count_once=True).totals_left_out == 1
    assert data.headline(rows, count_once=False).kg == 35.0
    assert data.headline(rows.iloc[[1]], count_once=True).kg == 25.0  # its parts are not in the selection


# --- Configuration ----------------------------------------------------------------------

def test_streamlit_config_is_private_and_safe():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["address"] == "127.0.0.1"
    assert config["server"]["headless"] is True
    assert config["server"]["enableXsrfProtection"] is True
    assert 0 < config["server"]["maxUploadSize"] <= 10
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["showErrorDetails"] in ("none", False)


def test_optional_pages_are_added_only_when_present(tmp_path, monkeypatch):
    import importlib.util

    from app.pages import optional_render

    assert optional_render("app.page_that_does_not_exist") is None
    # a page module that breaks on import is left out instead of breaking the dashboard
    (tmp_path / "broken_page_for_test.py").write_text("raise RuntimeError('half-written page')\n")
    (tmp_path / "renderless_page_for_test.py").write_text("TITLE = 'no render here'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert optional_render("broken_page_for_test") is None
    assert optional_render("renderless_page_for_test") is None
    for name in ("app.page_upload", "app.page_draft"):
        if importlib.util.find_spec(name) is not None:
            assert callable(optional_render(name))


# --- Any selection: the page's numbers equal the ones computed here ----------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pick=hs.data())
def test_any_selection_gives_the_independent_rows_and_sums(frame, table, pick):
    def subset(column):
        values = sorted(table[column].dropna().unique())
        return tuple(pick.draw(hs.lists(hs.sampled_from(values), unique=True, max_size=3)))

    years = table["year"].dropna().astype(int)
    low = pick.draw(hs.integers(years.min(), years.max()))
    high = pick.draw(hs.integers(low, years.max()))
    once, undated = pick.draw(hs.booleans()), pick.draw(hs.booleans())
    countries, kinds, drugs = subset("country"), subset("kind"), subset("drug")
    filters = data.Filters(years=(low, high), include_undated=undated, countries=countries, kinds=kinds,
                           drugs=drugs, count_once=once)
    rows = data.apply_filters(frame, filters)
    expected = select(table, once=once, countries=countries, kinds=kinds, drugs=drugs, years=(low, high),
                      undated=undated)
    assert rows["report_id"].tolist() == expected["report_id"].tolist()
    summed = summable(expected, once)
    seized = summed[summed["kind"] == "seizure"]
    h = data.headline(rows, once)
    assert h.incidents == summed["incident_id"].nunique()
    assert h.kg == pytest.approx(seized["quantity_kg"].sum())
    assert h.value_const_usd == pytest.approx(seized["value_usd_const"].sum())
    assert sum(h.kg_by_drug.values()) == pytest.approx(h.kg)


def test_reset_puts_every_filter_back(app, table):
    app.query_params.update({"country": [data.country_name(table["country"].iloc[0])], "once": "false"})
    at = app.run()
    assert at.multiselect(key="country").value
    at.button(key="reset_filters").click().run()
    no_problems(at)
    assert at.multiselect(key="country").value == []
    assert at.toggle(key="once").value is True
    assert sorted(table_reports(at)) == sorted(select(table)["report_id"])
