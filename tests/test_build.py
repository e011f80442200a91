"""End to end: the real data rebuilds exactly, the data dictionary is complete, the CLI explains itself."""
import hashlib
import json

import pandas as pd
import pytest

from etl.build import build
from etl.cli import main
from etl.columns import NAMES
from etl_helpers import DATA, RAW, REFERENCE, cpi_base_year, fx_rate, run_etl


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    result = build(RAW, REFERENCE, out)
    return result, out


def test_golden_rebuild_is_byte_identical_to_the_committed_csv(rebuilt):
    result, out = rebuilt
    assert result.files[out / "seizures.csv"] == (DATA / "seizures.csv").read_bytes()


def test_build_is_deterministic(rebuilt, tmp_path):
    result, out = rebuilt
    again = build(RAW, REFERENCE, out)
    assert again.files == result.files


def test_every_report_becomes_a_row(rebuilt):
    result, _ = rebuilt
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


def test_datapackage_describes_every_column_and_input(rebuilt):
    _, out = rebuilt
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
