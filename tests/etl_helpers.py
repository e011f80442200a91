"""Shared helpers for the ETL tests (imported by name; pytest puts tests/ on sys.path); fixtures are in conftest.py."""
from __future__ import annotations

import csv
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
RAW = DATA / "raw"
REFERENCE = DATA / "reference"

from etl.normalise import REPORT_COLUMNS, normalise  # noqa: E402
from etl.reference import load_reference  # noqa: E402


@lru_cache(maxsize=1)
def reference():
    return load_reference(REFERENCE)


def sources_frame() -> pl.DataFrame:
    return pl.read_csv(RAW / "sources.csv", infer_schema=False).with_columns(pl.all().fill_null(""))


# A valid seizure row; tests override the cells they are about.
BASE_ROW = {
    "report_id": "t1", "incident_id": "i1", "source_id": "nkew-2011-02-07", "kind": "seizure",
    "event_date": "2011-02", "country": "KR", "place": "Busan", "drug": "methamphetamine",
    "quantity": "", "value": "", "currency": "", "usd_stated": "", "stated_rate": "",
    "nk_link": "nk_made_official", "arrests": "", "notes": "",
}


def normalise_one(**cells):
    """Normalise one report row (BASE_ROW with `cells` replaced): (output row, problems)."""
    row = {**BASE_ROW, **cells}
    frame = pl.DataFrame([row], schema={c: pl.String for c in REPORT_COLUMNS}, orient="row")
    result = normalise(frame, sources_frame(), reference())
    return result.frame.to_pandas().iloc[0], result.problems


def messages(problems, severity="error"):
    return [f"{p.column}: {p.message}" for p in problems if p.severity == severity]


def fx_rate(currency: str, year: int) -> float:
    """The rate straight from the CSV, read independently of the ETL."""
    with open(REFERENCE / "fx_annual_lcu_per_usd.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["currency"] == currency and int(row["year"]) == year:
                return float(row["lcu_per_usd"])
    raise KeyError((currency, year))


def cpi(year: int) -> float:
    with open(REFERENCE / "us_cpi_u_annual.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if int(row["year"]) == year:
                return float(row["cpi_u_annual_avg"])
    raise KeyError(year)


def cpi_base_year() -> int:
    with open(REFERENCE / "us_cpi_u_annual.csv", newline="") as fh:
        return max(int(r["year"]) for r in csv.DictReader(fh) if r["n_months"] == "12")


def run_etl(*args, cwd=ROOT):
    """Run the real CLI in a subprocess: (exit code, stdout, stderr)."""
    proc = subprocess.run([sys.executable, "-m", "etl", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr
