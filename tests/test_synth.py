"""`python -m devtools.synth`: deterministic, valid, labelled synthetic, and covering the grammar."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from devtools import synth
from devtools.synth import main as synth_main
from etl.amounts import DEFAULT_GRAMMAR, PREFIX_MARKERS, QUALIFIERS, SCALES, parse_amounts
from etl.build import build

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference"
ROWS = 2000


def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / name, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    raw = tmp_path_factory.mktemp("synth")
    tables = synth.generate(ROWS, seed=7)
    synth.write(raw, tables)
    return raw, tables


@pytest.fixture(scope="module")
def built(synthetic, tmp_path_factory):
    raw, _ = synthetic
    return build(raw, REFERENCE, tmp_path_factory.mktemp("out"), keep_going=True)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        synth.write(tmp_path / name, synth.generate(300, seed=seed))
    for file in ("reports.csv", "sources.csv", "incidents.csv"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()
    assert (tmp_path / "a" / "reports.csv").read_bytes() != (tmp_path / "c" / "reports.csv").read_bytes()


def test_every_row_is_valid(built):
    assert built.errors == []
    assert built.warnings == []  # the stated USD figures and rates agree with the FX table
    assert built.rejected_rows == 0
    assert built.written_rows == ROWS


def test_labelled_synthetic(synthetic):
    _, tables = synthetic
    sources, reports = tables["sources.csv"], tables["reports.csv"]
    assert sources["source_id"].str.startswith("SYNTHETIC").all()
    assert sources["outlet"].str.contains("SYNTHETIC").all()
    assert sources["title"].str.contains("SYNTHETIC").all()
    assert reports["source_id"].str.startswith("SYNTHETIC").all()
    assert reports["notes"].str.contains("SYNTHETIC").all()


def test_shapes_and_variety(synthetic, built):
    _, tables = synthetic
    reports = tables["reports.csv"]
    out = built.frame.to_pandas()
    assert set(out["kind"]) == {"seizure", "price", "cash"}
    assert set(out["date_precision"]) == {"day", "month", "year", "none"}
    assert set(out["fx_year_basis"]) == {"event", "published", ""}
    assert out["year"].min() <= 1980 and out["year"].max() >= 2020
    assert out["quantity_kg"].notna().sum() > ROWS / 3
    assert out["quantity_count"].notna().sum() > 0
    assert out["price_usd_per_kg"].notna().sum() > ROWS / 10
    assert out["usd_check_pct"].notna().sum() > 10  # rows with the source's own USD figure or rate
    assert (out["usd_check_pct"].dropna().abs() <= 5).all()
    assert (out["incident_scope"] == "total").any()
    assert (out["incident_reports"] > 1).any()
    # Distinct numbers on almost every row (the parser works per distinct text).
    quantities = reports.loc[reports["quantity"] != "", "quantity"]
    values = reports.loc[reports["value"] != "", "value"]
    assert quantities.nunique() >= 0.98 * len(quantities)
    assert values.nunique() >= 0.98 * len(values)
    places = set(map(tuple, _csv("places.csv")[["country", "place"]].values))
    assert set(zip(reports["country"], reports["place"])) <= places


def test_every_unit_spelling(synthetic):
    _, tables = synthetic
    reports = tables["reports.csv"]
    units = _csv("units.csv")
    q = parse_amounts(reports["quantity"])
    v = parse_amounts(reports["value"])
    quantity_units = set(q["unit"].dropna().str.lower())
    per_units = set(v["per"].dropna())
    mass = set(units.loc[units["kind"] == "mass", "spelling"].str.lower())
    counted = set(units.loc[units["kind"] == "count", "spelling"].str.lower())
    assert mass <= quantity_units, sorted(mass - quantity_units)
    assert counted <= quantity_units, sorted(counted - quantity_units)
    assert mass <= per_units, sorted(mass - per_units)


def test_every_currency_marker_form(synthetic):
    _, tables = synthetic
    reports = tables["reports.csv"]
    v = parse_amounts(reports["value"])
    fx = _csv("fx_annual_lcu_per_usd.csv")
    covered = set(fx["currency"]) | {"USD"}  # currencies the rows can be in
    markers = _csv("currency_markers.csv")
    usable = {m for m, cs in markers[["marker", "currencies"]].values if set(cs.split()) & covered}
    prefixes_seen = set(v["marker"].dropna())
    words_seen = set(v["unit"].dropna())
    missing = {m for m in usable if m not in prefixes_seen and m not in words_seen}
    assert not missing, sorted(missing)
    prefix_usable = {p for p in PREFIX_MARKERS if p in usable or p == "U.S.$"}
    assert prefix_usable <= prefixes_seen, sorted(prefix_usable - prefixes_seen)
    # a marker only a currency without exchange rates can mean (KPW) is left out on purpose
    assert usable != set(markers["marker"]) or covered >= {c for cs in markers["currencies"] for c in cs.split()}


def test_every_qualifier_scale_and_range_form(synthetic):
    _, tables = synthetic
    reports = tables["reports.csv"]
    texts = pd.concat([reports["quantity"], reports["value"]])
    texts = texts[texts != ""].astype("string")
    parsed = texts.str.extract(DEFAULT_GRAMMAR.pattern)
    qualifiers = set(parsed["qual"].dropna().str.lower())
    assert set(QUALIFIERS) <= qualifiers, sorted(set(QUALIFIERS) - qualifiers)
    scales = set(parsed["s1"].dropna().str.lower()) | set(parsed["s2"].dropna().str.lower())
    assert set(SCALES) <= scales, sorted(set(SCALES) - scales)
    separators = set(parsed["sep"].dropna().str.lower())
    assert {"-", "–", "—", "to", "and"} <= separators
    amounts = parse_amounts(texts)
    ranges = amounts["low"].notna() & amounts["high"].notna() & (amounts["low"] < amounts["high"])
    assert ranges.sum() > 50
    assert set(amounts["bound"].dropna()) == {"approx", "upper", "lower", "exact"}
    both_scaled = parsed["s1"].notna() & parsed["s2"].notna()
    second_only = parsed["s1"].isna() & parsed["s2"].notna()
    assert both_scaled.any() and second_only.any()  # "2 million to 5 million" and "6-8 million"


@pytest.mark.parametrize("where", ["data", "data/raw", "data/synthetic/big"])
def test_refuses_to_write_under_data(where, tmp_path, capsys):
    target = ROOT / where
    existed = target.exists()
    assert synth_main(["--rows", "20", "--out", str(target)]) == 2
    assert "refusing" in capsys.readouterr().err
    assert target.exists() == existed  # no folder made
    for name in ("reports.csv", "sources.csv", "incidents.csv"):
        written = target / name
        assert not written.exists() or "SYNTHETIC" not in written.read_text(encoding="utf-8", errors="replace")
    with pytest.raises(synth.SynthError):
        synth.write(target, {})


def test_refuses_relative_data_folder_of_the_working_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert synth_main(["--rows", "20", "--out", "data/raw"]) == 2
    assert not (tmp_path / "data").exists()


def test_does_not_overwrite_real_sources(tmp_path, capsys):
    (tmp_path / "sources.csv").write_text("source_id,outlet\nreal,Real Outlet\n")
    assert synth_main(["--rows", "20", "--out", str(tmp_path)]) == 2
    assert (tmp_path / "sources.csv").read_text().startswith("source_id,outlet\nreal")


def test_command_line_writes_the_three_files(tmp_path, capsys):
    assert synth_main(["--rows", "50", "--out", str(tmp_path / "s"), "--seed", "3"]) == 0
    assert "SYNTHETIC" in capsys.readouterr().out
    assert len(pd.read_csv(tmp_path / "s" / "reports.csv")) == 50
    assert {p.name for p in (tmp_path / "s").iterdir()} == {"reports.csv", "sources.csv", "incidents.csv"}
