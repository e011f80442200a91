"""The declared schema of the output table, checked with pandera before writing.

Validation is lazy: every failing column and row is reported at once.
"""
from __future__ import annotations

import pandera.pandas as pa

from etl.columns import COLUMNS

_DTYPES = {"string": "string", "number": "float64", "integer": "Int64", "boolean": bool}

_CHECKS = {
    "incident_scope": [pa.Check.isin(["single", "total"])],
    "incident_reports": [pa.Check.ge(1)],
    "source_type": [pa.Check.isin(["official", "press", "secondary", ""])],
    "kind": [pa.Check.isin(["seizure", "price", "cash"])],
    "date_precision": [pa.Check.isin(["day", "month", "year", "none"])],
    "lat": [pa.Check.in_range(-90, 90)],
    "lon": [pa.Check.in_range(-180, 180)],
    "quantity_kg": [pa.Check.gt(0)],
    "quantity_kg_low": [pa.Check.gt(0)],
    "quantity_kg_high": [pa.Check.gt(0)],
    "quantity_count": [pa.Check.gt(0)],
    "value_amount": [pa.Check.gt(0)],
    "value_usd": [pa.Check.gt(0)],
    "value_usd_const": [pa.Check.gt(0)],
    "fx_lcu_per_usd": [pa.Check.gt(0)],
    "fx_year": [pa.Check.in_range(1900, 2100)],
    "year": [pa.Check.in_range(1900, 2100)],
    "price_usd_per_kg": [pa.Check.gt(0)],
    "implied_usd_per_kg": [pa.Check.gt(0)],
    "arrests": [pa.Check.ge(0)],
    "fx_year_basis": [pa.Check.isin(["event", "published", ""])],
}

OUTPUT_SCHEMA = pa.DataFrameSchema(
    {
        c.name: pa.Column(_DTYPES[c.type], checks=_CHECKS.get(c.name, []), nullable=c.type != "boolean")
        for c in COLUMNS
    },
    checks=[
        # a range never runs backwards, and the point estimate lies inside it
        pa.Check(lambda df: ~(df["quantity_kg_low"] > df["quantity_kg_high"]), name="quantity range ordered"),
        pa.Check(lambda df: ~(df["value_usd_low"] > df["value_usd_high"]), name="value range ordered"),
        pa.Check(lambda df: ~((df["kind"] == "price") & df["price_usd_per_kg"].isna()), name="every price has a price per kg"),
    ],
    unique=["report_id"],
    strict=True,
    ordered=True,
)
