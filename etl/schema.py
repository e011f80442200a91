"""The declared schema of the output table, checked with pandera's Polars support before writing.

Validation is lazy: every failing column and row is reported at once. The
vocabularies (kinds, source types, scopes) come from the reference tables.
Every range here is also checked on the input rows (etl.normalise), so a bad
input row is rejected with its line and this check can only fail on a bug.
"""
from __future__ import annotations

import pandera.polars as pa
import polars as pl

from etl.columns import COLUMNS, POLARS_TYPES
from etl.normalise import YEARS
from etl.reference import Reference


def _frame_check(expr: pl.Expr, name: str) -> pa.Check:
    return pa.Check(lambda data: data.lazyframe.select(expr), name=name)


def output_schema(ref: Reference) -> pa.DataFrameSchema:
    checks = {
        "incident_scope": [pa.Check.isin(list(ref.scopes))],
        "incident_reports": [pa.Check.ge(1)],
        "source_type": [pa.Check.isin([*ref.source_types, ""])],
        "kind": [pa.Check.isin(list(ref.kinds))],
        "nk_link": [pa.Check.isin(list(ref.nk_links))],
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
        "fx_year": [pa.Check.in_range(*YEARS)],
        "year": [pa.Check.in_range(*YEARS)],
        "price_usd_per_kg": [pa.Check.gt(0)],
        "implied_usd_per_kg": [pa.Check.gt(0)],
        "arrests": [pa.Check.ge(0)],
        "fx_year_basis": [pa.Check.isin(["event", "published", "market_month", "market_year", "market_year_published", ""])],
    }
    for c in COLUMNS:  # no infinite number anywhere
        if c.type == "number":
            checks.setdefault(c.name, []).append(pa.Check(lambda data: data.lazyframe.select(~pl.col(data.key).is_infinite()),
                                                          name="finite"))
    return pa.DataFrameSchema(
        {c.name: pa.Column(POLARS_TYPES[c.name], checks=checks.get(c.name, []), nullable=c.type != "boolean")
         for c in COLUMNS},
        checks=[
            # a range never runs backwards, and every price has a price per kg
            _frame_check(~(pl.col("quantity_kg_low") > pl.col("quantity_kg_high")).fill_null(False), "quantity range ordered"),
            _frame_check(~(pl.col("value_usd_low") > pl.col("value_usd_high")).fill_null(False), "value range ordered"),
            _frame_check(~((pl.col("kind") == "price") & pl.col("price_usd_per_kg").is_null()), "every price has a price per kg"),
        ],
        unique=["report_id"],
        strict=True,
        ordered=True,
    )
