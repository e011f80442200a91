"""Korean-language cells read end to end by the real build (`python -m etl build`) on a fixture raw folder."""
import math

import pandas as pd

from etl_helpers import ROOT, fx_rate, run_etl

KOREAN_RAW = ROOT / "tests" / "fixtures" / "korean_raw"


def test_build_reads_korean_quantities_values_and_prices(tmp_path):
    code, out, err = run_etl("build", "--raw", KOREAN_RAW, "--out", tmp_path, "--keep-going")
    assert code == 0, err
    table = pd.read_csv(tmp_path / "seizures.csv", dtype={"report_id": str}).set_index("report_id")
    # 70㎏ 가량: 70 kg, approximate; 2억 7천만원 in KRW
    assert table.at["k1", "quantity_kg"] == 70 and bool(table.at["k1", "approximate"])
    assert table.at["k1", "value_amount"] == 270_000_000 and table.at["k1", "currency"] == "KRW"
    assert math.isclose(table.at["k1", "value_usd"], 270_000_000 / fx_rate("KRW", 2019), rel_tol=1e-6)
    # 20여㎏: at least 20 kg, the high end open; 시가 150억엔 상당 = 15 billion yen
    assert table.at["k2", "quantity_kg_low"] == 20 and pd.isna(table.at["k2", "quantity_kg_high"])
    assert table.at["k2", "value_amount"] == 15_000_000_000 and table.at["k2", "currency"] == "JPY"
    # 1그램당 중국 돈 130위안: 130 yuan a gram = 130,000 yuan a kilogram
    assert table.at["k3", "value_amount"] == 130_000 and table.at["k3", "currency"] == "CNY"
    assert math.isclose(table.at["k3", "price_usd_per_kg"], 130_000 / fx_rate("CNY", 2019), rel_tol=1e-4)
    # 4백20만달러 cash; 약 5,000정 a count of tablets; 3킬로그램
    assert table.at["k4", "value_usd"] == 4_200_000
    assert table.at["k5", "quantity_count"] == 5000 and table.at["k5", "quantity_count_unit"] == "tablet"
    assert table.at["k6", "quantity_kg"] == 3
    # money written in the quantity column is rejected with its line, never read as a mass
    rejects = pd.read_csv(tmp_path / "seizures.rejects.csv", dtype=str)
    assert rejects["report_id"].tolist() == ["k7"] and rejects["line"].tolist() == ["8"]
    assert "cannot read '1억원 이상' as a mass" in rejects["reasons"].iloc[0]
