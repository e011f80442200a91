"""The readers' page in Streamlit's AppTest, on the project's real data (and on edited copies of it).

One test (or a few) per defect of issue 13 and per page-safety item of issue 15;
expected numbers are worked out here from the CSV by hand, not by the page's code.
"""
from __future__ import annotations

import csv
import io
import re
import shutil
from datetime import date

import polars as pl
import pytest
from dash_helpers import (
    DATA_CSV,
    REPO,
    all_figures,
    counted_rows,
    figures,
    points,
    rows,
    run,
    texts,
    warnings,
)

from app import format as fmt
from app import charts, page_dashboard, queries

BOM = b"\xef\xbb\xbf"


def headline(at) -> str:
    return next(m.value for m in at.markdown if "incident" in m.value or "No report" in m.value)


def frame_with(at, column: str):
    """The first table on the page with this column (st.dataframe is not addressed by key in AppTest)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def param(at, key: str) -> list[str]:
    value = at.query_params.get(key, [])
    return [value] if isinstance(value, str) else list(value)


def number_before(text: str, word: str) -> float:
    return float(re.search(r"([\d,.]+)\** " + word, text).group(1).replace(",", ""))


# --------------------------------------------------------------------------- 1. link values


@pytest.mark.parametrize("value", ["KR", "kor", "South Korea", "south korea"])
def test_link_country_accepts_iso_codes_and_names_in_any_case(monkeypatch, tmp_path, value):
    at = run(monkeypatch, tmp_path, {"country": value})
    expected = {r["incident_id"] for r in counted_rows([r for r in rows() if r["country"] == "KR"])}
    assert number_before(headline(at), "incident") == len(expected) < 40
    assert not warnings(at)
    assert param(at, "country") == ["South Korea"]  # the address bar shows what is applied


def test_link_country_japan_in_lower_case(monkeypatch, tmp_path):
    at = run(monkeypatch, tmp_path, {"country": "japan"})
    expected = {r["incident_id"] for r in counted_rows([r for r in rows() if r["country"] == "JP"])}
    assert number_before(headline(at), "incident") == len(expected)
    assert not warnings(at)


def test_link_drug_and_kind_in_other_case_are_applied(monkeypatch, tmp_path):
    at = run(monkeypatch, tmp_path, {"drug": "Heroin", "kind": "seizure"})
    mine = [r for r in rows() if r["drug"] == "heroin" and r["kind"] == "seizure"]
    assert number_before(headline(at), "incident") == len({r["incident_id"] for r in counted_rows(mine)})
    assert not warnings(at)


@pytest.mark.parametrize("params, value, instead", [
    ({"country": "Atlantis"}, "Atlantis", "all countrys are shown"),
    ({"drug": "unobtainium"}, "unobtainium", "all drugs are shown"),
    ({"kind": "seizures-ish"}, "seizures-ish", "all kind of figures are shown"),
    ({"years": "abc"}, "abc", "all years are shown"),
    ({"years": "1800"}, "1800", "all years are shown"),
    ({"incident": "nope"}, "nope", "no incident is shown"),
    ({"tab": "Nowhere"}, "Nowhere", "the Seizures tab is shown"),
    ({"colour": "red"}, "colour", "ignored"),
])
def test_link_value_not_understood_is_said_with_what_is_used_instead(monkeypatch, tmp_path, params, value, instead):
    at = run(monkeypatch, tmp_path, params)
    notices = " ".join(w.replace("\\", "") for w in warnings(at))
    assert value in notices and instead in notices
    # and the page shows the whole data, as the notice says
    assert number_before(headline(at), "incident") == len({r["incident_id"] for r in counted_rows(rows())})


def test_link_with_one_known_and_one_unknown_country_applies_the_known(monkeypatch, tmp_path):
    at = run(monkeypatch, tmp_path, {"country": ["JP", "Narnia"]})
    expected = {r["incident_id"] for r in counted_rows([r for r in rows() if r["country"] == "JP"])}
    assert number_before(headline(at), "incident") == len(expected)
    assert any("Narnia" in w and "other countrys of the link are applied" in w for w in warnings(at))


def test_link_year_range_outside_the_data_is_clamped_and_said(monkeypatch, tmp_path):
    at = run(monkeypatch, tmp_path, {"years": ["1990", "2100"]})
    last = max(int(r["year"]) for r in rows() if r["year"])
    assert any(f"shown as 1990–{last}" in w for w in warnings(at))
    assert param(at, "years") == ["1990", str(last)]


def test_link_notice_goes_once_the_reader_changes_the_view(monkeypatch, tmp_path):
    at = run(monkeypatch, tmp_path, {"drug": "unobtainium"})
    assert warnings(at)
    at.sidebar.multiselect[0].select("heroin").run()
    assert not warnings(at)


# --------------------------------------------------------------------------- 2. undated reports and year ranges


def test_year_range_never_holds_undated_reports_and_says_how_many_it_leaves_out(monkeypatch, tmp_path):
    years = sorted({int(r["year"]) for r in rows() if r["year"]})
    low = next(y for y in range(years[0], years[-1]) if y not in years and y + 1 not in years)  # two years, no event
    at = run(monkeypatch, tmp_path, {"years": [str(low), str(low + 1)]})
    dated = [r for r in counted_rows(rows()) if r["year"] and low <= int(r["year"]) <= low + 1]
    undated = [r for r in counted_rows(rows()) if not r["year"]]
    assert not dated and len(undated) >= 3
    assert "No report" in headline(at)
    assert any(f"{len(undated)} incidents without a date are left out" in c.value for c in at.caption)


def test_all_years_include_undated_reports_by_default(monkeypatch, tmp_path):
    at = run(monkeypatch, tmp_path)
    assert number_before(headline(at), "incident") == len({r["incident_id"] for r in counted_rows(rows())})
    at2 = run(monkeypatch, tmp_path, {"undated": "false"})
    dated = {r["incident_id"] for r in counted_rows(rows()) if r["year"]}
    assert number_before(headline(at2), "incident") == len(dated)


# --------------------------------------------------------------------------- 3. count once everywhere


def test_pong_su_total_is_never_drawn_beside_its_parts(monkeypatch, tmp_path):
    at = run(monkeypatch, tmp_path)
    figs = figures(at)
    kg = points(figs["seizure_points"])
    assert 50.0 in kg and 75.0 in kg and 125.0 not in kg
    # 2003 heroin bar: the parts only
    heroin = next(t for t in figs["kg_per_year"]["data"] if t["name"] == "heroin")
    by_year = dict(zip(heroin["x"] if isinstance(heroin["x"], list) else points({"data": [heroin]}, "x"),
                       points({"data": [heroin]})))
    expected = sum(float(r["quantity_kg"]) for r in counted_rows(rows())
                   if r["kind"] == "seizure" and r["drug"] == "heroin" and r["year"] == "2003" and r["quantity_kg"])
    assert by_year[2003] == pytest.approx(expected) and expected == pytest.approx(125.0)


def test_headline_kilograms_count_each_incident_once(monkeypatch, tmp_path):
    at = run(monkeypatch, tmp_path)
    expected = sum(float(r["quantity_kg"]) for r in counted_rows(rows()) if r["kind"] == "seizure" and r["quantity_kg"])
    every_report = sum(float(r["quantity_kg"]) for r in rows() if r["kind"] == "seizure" and r["quantity_kg"])
    assert fmt.mass(expected) in headline(at)
    assert fmt.mass(every_report) not in headline(at)
    # the bars add up to the headline, minus the undated seizures that cannot be placed in a year
    bars = sum(points(figures(at)["kg_per_year"]))
    undated = sum(float(r["quantity_kg"]) for r in counted_rows(rows())
                  if r["kind"] == "seizure" and r["quantity_kg"] and not r["year"])
    assert bars + undated == pytest.approx(expected)


def test_table_counts_each_incident_once_and_lists_every_report_on_request(monkeypatch, tmp_path):
    at = run(monkeypatch, tmp_path, {"tab": "Table and downloads"})
    table = frame_with(at, "Incident")
    assert len(table) == len(counted_rows(rows()))
    assert "au-2003-pong-su" not in set(table["Incident"])
    at = run(monkeypatch, tmp_path, {"tab": "Table and downloads", "reports": "all"})
    assert len(frame_with(at, "Incident")) == len(rows())


# --------------------------------------------------------------------------- 4. prices split


def test_market_prices_and_seizure_valuations_are_separate_charts_per_drug(monkeypatch, tmp_path):
    figs = all_figures(monkeypatch, tmp_path)
    quotes = [r for r in counted_rows(rows()) if r["kind"] == "price" and r["price_usd_per_kg_const"] and r["date"]]
    implied = [r for r in counted_rows(rows()) if r["kind"] == "seizure" and r["implied_usd_per_kg_const"] and r["date"]]
    assert sorted(points(figs["market_prices"])) == pytest.approx(sorted(float(r["price_usd_per_kg_const"]) for r in quotes))
    assert sorted(points(figs["implied_values"])) == pytest.approx(sorted(float(r["implied_usd_per_kg_const"]) for r in implied))
    for key, chosen in (("market_prices", quotes), ("implied_values", implied)):
        names = sorted(t["name"] for t in figs[key]["data"])
        per_drug = {}
        for r in chosen:
            per_drug[r["drug"]] = per_drug.get(r["drug"], 0) + 1
        assert names == sorted(f"{d} (n={n})" for d, n in per_drug.items())


def test_nk_methamphetamine_price_chart_is_per_gram_with_sources(monkeypatch, tmp_path):
    figs = figures(run(monkeypatch, tmp_path, {"tab": "Prices"}))
    quotes = [r for r in counted_rows(rows()) if r["kind"] == "price" and r["country"] == "KP"
              and r["drug"] == "methamphetamine" and r["price_usd_per_kg_const"] and r["date"]]
    assert quotes
    assert sorted(points(figs["nk_meth_prices"])) == pytest.approx(sorted(float(r["price_usd_per_kg_const"]) / 1000 for r in quotes))
    hover = str(figs["nk_meth_prices"]["data"][0]["customdata"])
    for r in quotes:
        assert r["source_outlet"] in hover


# --------------------------------------------------------------------------- 5. uncertainty


def test_spread_between_sources_is_drawn_as_a_range(monkeypatch, tmp_path):
    fig = figures(run(monkeypatch, tmp_path))["seizure_points"]
    spans = []
    for trace in fig["data"]:
        ys = points({"data": [trace]})
        up = points({"data": [{"y": trace["error_y"]["array"]}]})
        down = points({"data": [{"y": trace["error_y"]["arrayminus"]}]})
        spans += [(y - d, y + u) for y, u, d in zip(ys, up, down)]
    for low, high in ((564, 616), (700, 741)):  # Kagoshima and Subic Bay: sources disagree
        assert any(lo == pytest.approx(low) and hi == pytest.approx(high) for lo, hi in spans), spans
    hovers = " ".join(str(t["customdata"]) for t in fig["data"])
    assert "sources report 564 kg to 616 kg" in hovers
    assert "; range" not in hovers


# --------------------------------------------------------------------------- 6. tablets, small masses


def test_tablets_are_counted_beside_the_kilograms(monkeypatch, tmp_path):
    at = run(monkeypatch, tmp_path)
    tablets = sum(float(r["quantity_count"]) for r in counted_rows(rows())
                  if r["kind"] == "seizure" and not r["quantity_kg"] and r["quantity_count_unit"] == "tablet")
    assert tablets > 1e6
    assert f"plus {fmt.count(tablets, 'tablet')} not in kg" in headline(at)
    assert fmt.count(tablets, "tablet") == "1.17 million tablets"
    hovers = " ".join(str(t["customdata"]) for t in figures(run(monkeypatch, tmp_path, {"tab": "Map"}))["map"]["data"])
    assert "506,000 tablets" in hovers and "amount not stated" not in hovers.split("506,000 tablets")[0][-40:]


def test_a_fraction_of_a_gram_is_not_shown_as_zero_kg(monkeypatch, tmp_path):
    assert fmt.mass(0.000685) == "0.685 g"
    assert fmt.mass(0.0000005) == "0.5 mg"
    hovers = " ".join(str(t["customdata"]) for t in figures(run(monkeypatch, tmp_path))["seizure_points"]["data"])
    assert "0.685 g" in hovers and "'0 kg'" not in hovers


# --------------------------------------------------------------------------- 7. axes, gaps, colours


def test_one_point_gets_a_time_axis_of_years(monkeypatch, tmp_path):
    figs = figures(run(monkeypatch, tmp_path, {"country": "KP", "tab": "Prices"}))
    axis = figs["nk_meth_prices"]["layout"]["xaxis"]
    start, end = (date.fromisoformat(x[:10]) for x in axis["range"])
    assert (end - start).days > 365 and axis["tickformat"] == "%Y"


def test_years_without_reports_are_gaps_not_zero_bars(monkeypatch, tmp_path):
    fig = figures(run(monkeypatch, tmp_path))["kg_per_year"]
    years = set(points(fig, "x"))
    with_mass = {int(r["year"]) for r in counted_rows(rows()) if r["kind"] == "seizure" and r["quantity_kg"] and r["year"]}
    assert years == with_mass
    assert 0 not in points(fig)
    assert fig["layout"]["barmode"] == "stack" and fig["layout"]["yaxis"].get("type") != "log"


def test_one_colour_per_drug_in_every_chart(monkeypatch, tmp_path):
    figs = all_figures(monkeypatch, tmp_path)
    seen: dict[str, set] = {}
    for fig in figs.values():
        for trace in fig["data"]:
            drug = trace["name"].split(" (n=")[0]
            seen.setdefault(drug, set()).add(trace["marker"]["color"])
    assert seen and all(len(colours) == 1 for colours in seen.values()), seen
    assert len({next(iter(c)) for d, c in seen.items() if d != "unspecified"}) == len([d for d in seen if d != "unspecified"])


@pytest.mark.parametrize("tab, count", [("Seizures", 2), ("Prices", 3), ("Map", 1)])
def test_every_chart_has_a_title_unit_and_source(monkeypatch, tmp_path, tab, count):
    at = run(monkeypatch, tmp_path, {"tab": tab})
    titles = [m.value for m in at.markdown if m.value.startswith("##### ")]
    assert len(titles) == len(figures(at)) == count
    assert sum("Source: reports in news" in c.value.replace("\\", "") for c in at.caption) == count
    assert all(fig["layout"]["yaxis"].get("title", {}).get("text") for k, fig in figures(at).items() if k != "map")


def test_no_figure_sends_more_points_than_the_cap(tmp_path):
    frame = queries.load(queries.Source(DATA_CSV), tmp_path).frame
    big = pl.concat([frame] * 300).with_columns(report_id=pl.col("report_id") + pl.int_range(pl.len()).cast(pl.String),
                                                  incident_id=pl.col("incident_id") + pl.int_range(pl.len()).cast(pl.String))
    pts, total = queries.seizure_points(big)
    assert total > queries.MAX_POINTS and len(pts) == queries.MAX_POINTS
    eligible = big.filter(pl.col("is_representative") & (pl.col("kind") == "seizure") & pl.col("quantity_kg").is_not_null()
                          & pl.col("date").is_not_null())
    assert total == len(eligible)
    assert pts["kg"].sort().to_list() == eligible["quantity_kg"].sort(descending=True).head(queries.MAX_POINTS).sort().to_list()



def test_the_price_series_inside_north_korea_is_capped_one_quote_in_k_and_says_so(tmp_path):
    frame = queries.load(queries.Source(DATA_CSV), tmp_path).frame
    big = pl.concat([frame] * 50).with_columns(report_id=pl.col("report_id") + pl.int_range(pl.len()).cast(pl.String),
                                                 incident_id=pl.col("incident_id") + pl.int_range(pl.len()).cast(pl.String))
    eligible = big.filter(pl.col("is_representative") & (pl.col("kind") == "price") & (pl.col("country") == "KP")
                          & (pl.col("drug") == "methamphetamine") & pl.col("price_usd_per_kg_const").is_not_null()
                          & pl.col("date").is_not_null())
    every, total, k = queries.nk_meth_prices(big)
    assert total == len(every) == len(eligible) > 3 and k == 1
    assert every["when"].is_sorted()
    limit = total // 3 + 1  # three quotes would not fit: one in every 3 is kept
    shown, n, k = queries.nk_meth_prices(big, limit=limit)
    assert n == total and len(shown) <= limit and k == 3
    assert shown["report_id"].to_list() == every["report_id"].to_list()[::3]
    chart = charts.nk_meth_prices(shown, n, k, "#000", "2024")
    assert f"({total:,} quotes)" in chart.title
    assert chart.note == f"Showing {len(shown):,} of {total:,} quotes: one in every 3, in date order."
    assert len(chart.fig.data[0].y) == len(shown)


# --------------------------------------------------------------------------- 9. table


def test_table_starts_with_id_date_place_figure_kg_dollars_source_sorted_by_date(monkeypatch, tmp_path):
    at = run(monkeypatch, tmp_path, {"tab": "Table and downloads"})
    table = frame_with(at, "Incident")
    assert list(table.columns[:7]) == ["Report", "Date", "Place", "As reported", "Quantity", "US$ (2024)", "Source"]
    dates = [d for d in table["Date"] if d]
    mid = {4: "-07-01", 7: "-15", 10: ""}  # a year sorts at its middle, a month at the 15th
    assert dates == sorted(dates, key=lambda d: d + mid[len(d)]) and table["Date"].iloc[-1] == ""  # undated last
    assert not table.isin(["None", "nan", "<NA>"]).any().any()
    pong = table[table["Report"] == "r0004"]  # "60 million U.S. dollars": shown rounded, not to the cent
    assert list(pong["US$ (2024)"]) == ["$86.3 million"]


# --------------------------------------------------------------------------- 10. downloads


def test_downloads_open_in_excel_keep_every_digit_and_name_filters_and_version(tmp_path):
    frame = queries.load(queries.Source(DATA_CSV), tmp_path).frame.select(queries.NAMES)
    data = page_dashboard.excel_csv(frame)
    assert data.startswith(BOM)
    back = list(csv.DictReader(io.StringIO(data[3:].decode("utf-8"))))
    assert [r["value_usd_const"] for r in back] == [r["value_usd_const"] for r in rows()]
    parquet = pl.read_parquet(io.BytesIO(page_dashboard.parquet_bytes(frame)))
    assert parquet.equals(frame)
    ds = queries.Dataset(frame=frame, file_name="x", note="", package={"version": "1.2.0"})
    from app import state
    ctx = page_dashboard._Context(ds, queries.Filters(years=(2005, 2010), countries=("KR",), drugs=("heroin",)),
                                  state.View(), "2024")
    assert ctx.file_stem("map") == "nk-drug-seizures_v1.2.0_years-2005-2010_drug-heroin_country-South-Korea_map"


# --------------------------------------------------------------------------- 11, 12. reader-first layout


def test_caveat_comes_first_and_about_the_data_has_no_code_or_paths(monkeypatch, tmp_path):
    at = run(monkeypatch, tmp_path, {"tab": "About the data"})
    assert "not a measure of trafficking" in at.markdown[0].value
    prose = " ".join(m.value for m in at.markdown)
    assert "`" not in prose and "python" not in prose and "/" not in prose.replace("\\/", "")
    assert str(REPO) not in " ".join(texts(at))
    assert at.code and "version" in at.code[0].value


def test_curator_pages_sit_under_a_curate_section():
    from app.pages import CURATE, CURATOR_PAGES, READ, all_pages, optional_render

    sections = all_pages()
    assert list(sections) == [READ, CURATE] and len(sections[READ]) == 1 and len(sections[CURATE]) == 2
    assert all(callable(optional_render(module)) for module, _, _ in CURATOR_PAGES)


# --------------------------------------------------------------------------- issue 15, item 6: escaping


def edited_copy(tmp_path, **changes) -> tuple:
    """A copy of the data with the first seizure row's cells changed."""
    with DATA_CSV.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields, data = reader.fieldnames, list(reader)
    target = next(r for r in data if r["kind"] == "seizure" and r["is_representative"] == "True" and r["quantity_kg"])
    old = dict(target)
    for key, value in changes.items():
        if key == "incident_id":
            for r in data:
                if r["incident_id"] == old["incident_id"]:
                    r["incident_id"] = value
        target[key] = value
    out = tmp_path / "data" / "seizures.csv"
    out.parent.mkdir()
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(data)
    shutil.copy(DATA_CSV.parent / "datapackage.json", out.parent / "datapackage.json")
    return out, target


IMAGE_ID = "![i](http://host.example/p.png)"
FORMULA_OUTLET = '=HYPERLINK("http://evil.example/x")'


def test_incident_id_with_image_markup_fetches_nothing(monkeypatch, tmp_path):
    data, target = edited_copy(tmp_path, incident_id=IMAGE_ID, report_id="[r](http://host.example/)")
    at = run(monkeypatch, tmp_path, {"tab": "Table and downloads", "incident": IMAGE_ID}, data=data)
    assert at.selectbox(key="w_incident").value == IMAGE_ID
    for text in texts(at):
        assert "](http" not in text and "http://host" not in text, text
    assert any(IMAGE_ID in t.value for t in at.text)  # shown as typed, by st.text
    table = frame_with(at, "Represents the incident")
    assert "[r](http://host.example/)" in set(table["Report"])


def test_unknown_incident_markup_in_a_link_notice_is_escaped(monkeypatch, tmp_path):
    at = run(monkeypatch, tmp_path, {"incident": IMAGE_ID})
    (notice,) = warnings(at)
    assert "](http" not in notice and "http://host" not in notice
    assert notice.replace("\\", "").count(IMAGE_ID) == 1


def test_outlet_hyperlink_formula_is_not_a_link(monkeypatch, tmp_path):
    data, target = edited_copy(tmp_path, source_outlet=FORMULA_OUTLET)
    at = run(monkeypatch, tmp_path, {"tab": "Table and downloads"}, data=data)
    for text in texts(at):
        assert "http://evil" not in text, text
    sources = frame_with(at, "Outlet")
    assert FORMULA_OUTLET in set(sources["Outlet"])
    assert not any(isinstance(u, str) and "evil" in u for u in sources["Link"])
    # and the downloads neutralise it for spreadsheets
    frame = queries.load(queries.Source(data), tmp_path / "c").frame.select(queries.NAMES)
    assert b"'=HYPERLINK" in page_dashboard.excel_csv(frame)


# --------------------------------------------------------------------------- which file is shown


def test_foreign_csv_is_converted_once_to_a_parquet_named_by_its_hash(tmp_path):
    cache = tmp_path / "cache"
    csv_copy = tmp_path / "mine.csv"
    shutil.copy(DATA_CSV, csv_copy)
    first = queries.parquet_for(csv_copy, cache)
    assert first.name == queries.sha256_of(csv_copy) + ".parquet"
    stamp = first.stat().st_mtime_ns
    assert queries.parquet_for(csv_copy, cache) == first and first.stat().st_mtime_ns == stamp
    csv_copy.write_bytes(csv_copy.read_bytes().replace(b"Daily NK", b"Daily NK!", 1))
    assert queries.parquet_for(csv_copy, cache) != first
    assert len(list(cache.glob("*.parquet"))) == 2 and not list(cache.glob(".convert-*"))


def test_parquet_and_csv_show_the_same_rows(tmp_path):
    from_csv = queries.load(queries.Source(DATA_CSV), tmp_path / "c").frame
    parquet = tmp_path / "seizures.parquet"
    queries.read_csv(DATA_CSV).write_parquet(parquet)
    from_parquet = queries.load(queries.Source(parquet), tmp_path / "c").frame
    assert from_parquet.equals(from_csv)
    assert from_csv.schema["year"] == pl.Int64 and from_csv.schema["is_representative"] == pl.Boolean


def test_a_bad_cell_names_file_line_and_column(tmp_path):
    data, target = edited_copy(tmp_path, quantity_kg="twelve")
    line = 2 + next(i for i, r in enumerate(csv.DictReader(data.open(encoding="utf-8"))) if r["quantity_kg"] == "twelve")
    with pytest.raises(queries.DataFileError, match=rf"seizures.csv, line {line}, column {queries.NAMES.index('quantity_kg') + 1} \(quantity_kg\)"):
        queries.read_csv(data)


def test_missing_parquet_falls_back_to_the_csv_and_says_so(monkeypatch, tmp_path):
    # the page as it starts where the build's Parquet file is missing (the path points at nothing)
    monkeypatch.setattr(queries, "DEFAULT_PARQUET", tmp_path / "absent" / "seizures.parquet")
    at = run(monkeypatch, tmp_path)
    assert any("seizures.parquet was not found" in c.value.replace("\\", "") for c in at.caption)


def test_version_and_build_date_are_unknown_when_the_dictionary_lacks_them(monkeypatch, tmp_path):
    data, _ = edited_copy(tmp_path)
    (data.parent / "datapackage.json").write_text("{}")
    at = run(monkeypatch, tmp_path, {"tab": "About the data"}, data=data)
    assert "version unknown, built unknown" in at.code[0].value


def test_pong_su_parts_say_what_the_sources_give_for_the_whole(monkeypatch, tmp_path):
    fig = figures(run(monkeypatch, tmp_path))["seizure_points"]
    hovers = " ".join(str(t["customdata"]) for t in fig["data"])
    assert hovers.count("part of au-2003-pong-su: sources give 125 kg to 150 kg for the whole") == 2


def test_markup_in_hover_labels_is_escaped(monkeypatch, tmp_path):
    data, target = edited_copy(tmp_path, place='<a href="http://host.example/">x</a>',
                               quantity_reported="<b>5 kg</b>")
    fig = figures(run(monkeypatch, tmp_path, data=data))["seizure_points"]
    hovers = " ".join(str(t["customdata"]) for t in fig["data"])
    assert "<a href" not in hovers and "&lt;a href=&quot;http://host.example/&quot;&gt;" in hovers
    assert "&lt;b&gt;5 kg&lt;/b&gt;" in hovers
