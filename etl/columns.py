"""The output contract of `data/seizures.csv`: every column, its type, unit and meaning.

One list drives the column order of the CSV, the Frictionless schema in
`datapackage.json`, the output validation and the README's column table test.
"""
from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # Frictionless type: string, number, integer, boolean
    description: str
    unit: str = ""


COLUMNS: list[Column] = [
    Column("report_id", "string", "Identifier of the raw report row (data/raw/reports.csv) this row comes from."),
    Column("incident_id", "string", "Identifier shared by every report of the same seizure or price observation."),
    Column("incident_scope", "string", "single (one seizure) or total (an operation or annual total that sums other incidents; never add it to its parts)."),
    Column("incident_parts", "string", "For totals: the incident_ids it sums, space-separated, when they are in the data."),
    Column("is_representative", "boolean", "True for the one report per incident and kind whose figure represents the incident (rule in the README)."),
    Column("incident_reports", "integer", "Number of reports of the same kind describing this incident."),
    Column("incident_kg_min", "number", "Smallest quantity_kg among the incident's reports of this kind (spread between sources).", "kg"),
    Column("incident_kg_max", "number", "Largest quantity_kg among the incident's reports of this kind (spread between sources).", "kg"),
    Column("kind", "string", "seizure, price (a quoted market price per unit) or cash (money seized with the drugs, not their value)."),
    Column("date", "string", "Event date as an ISO partial date (YYYY, YYYY-MM or YYYY-MM-DD); empty when the source gives none."),
    Column("date_precision", "string", "day, month, year, or none when the event date is unknown."),
    Column("year", "integer", "Year of the event; empty when unknown."),
    Column("country", "string", "ISO 3166-1 alpha-2 code of where the seizure or price observation happened."),
    Column("place", "string", "Place as named in the source (city, port, province); empty when not named."),
    Column("lat", "number", "Latitude of the place (or of the country when no place is named), WGS84.", "degree"),
    Column("lon", "number", "Longitude of the place (or of the country when no place is named), WGS84.", "degree"),
    Column("location_precision", "string", "What lat/lon stand for: city, locality, county, province, state, region or country."),
    Column("drug", "string", "Normalised drug name (data/reference/drugs.csv)."),
    Column("drug_reported", "string", "Drug as the source names it."),
    Column("quantity_reported", "string", "Quantity exactly as written in the source."),
    Column("quantity_kg", "number", "Point estimate of the mass: the stated number, or the midpoint of a range.", "kg"),
    Column("quantity_kg_low", "number", "Low bound of the mass; empty when the source gives only an upper bound ('nearly', 'up to').", "kg"),
    Column("quantity_kg_high", "number", "High bound of the mass; empty when the source gives only a lower bound ('more than', 'at least').", "kg"),
    Column("quantity_count", "number", "Counted quantity (tablets, bags) when the source counts instead of weighing; never converted to kilograms.", "count"),
    Column("quantity_count_unit", "string", "What quantity_count counts (tablet, capsule, drug_bag, drug_packet)."),
    Column("value_reported", "string", "Value or price exactly as written in the source."),
    Column("currency", "string", "ISO 4217 code of value_reported."),
    Column("value_amount", "number", "Point estimate of the value in the reported currency (per kilogram for prices quoted per unit mass: see price_usd_per_kg).", "currency"),
    Column("value_amount_low", "number", "Low bound of value_amount; empty when open-ended.", "currency"),
    Column("value_amount_high", "number", "High bound of value_amount; empty when open-ended.", "currency"),
    Column("value_usd", "number", "value_amount in US dollars of fx_year (nominal): value_amount / fx_lcu_per_usd.", "USD"),
    Column("value_usd_low", "number", "Low bound of value_usd.", "USD"),
    Column("value_usd_high", "number", "High bound of value_usd.", "USD"),
    Column("value_usd_const", "number", "value_usd in constant US dollars of the CPI base year (see datapackage.json: constant_usd_base_year).", "USD (constant)"),
    Column("fx_lcu_per_usd", "number", "Exchange rate used: units of the reported currency per US dollar, annual average of fx_year (for KPW inside North Korea: the market rate that fx_year_basis names).", "currency per USD"),
    Column("fx_year", "integer", "Year whose exchange rate and CPI were used."),
    Column("fx_year_basis", "string", "Which rate was used: event (annual rate of the event year), published (annual rate of the source's publication year, the event year being unknown); for KPW inside North Korea, the market rate (data/reference/kpw_market_rate.csv) of the event month (market_month), the event year (market_year) or the publication year (market_year_published)."),
    Column("price_usd_per_kg", "number", "For price rows: the price per kilogram in nominal US dollars ($15 per gram = 15,000).", "USD/kg"),
    Column("price_usd_per_kg_const", "number", "price_usd_per_kg in constant US dollars of the CPI base year.", "USD (constant)/kg"),
    Column("implied_usd_per_kg", "number", "For seizures with both a mass and a value: value_usd / quantity_kg.", "USD/kg"),
    Column("implied_usd_per_kg_const", "number", "implied_usd_per_kg in constant US dollars of the CPI base year.", "USD (constant)/kg"),
    Column("usd_stated", "string", "The source's own US dollar equivalent, as written."),
    Column("usd_stated_amount", "number", "usd_stated as a number (point estimate).", "USD"),
    Column("stated_lcu_per_usd", "number", "The source's own exchange rate, when it gives one ('US$1=W1,117' = 1117).", "currency per USD"),
    Column("usd_check_pct", "number", "Our value_usd against the source's own USD figure: 100 * (value_usd / usd_stated_amount - 1); when the source gives only a rate, against value_amount / stated_lcu_per_usd.", "percent"),
    Column("approximate", "boolean", "True when the quantity or value is qualified (about, nearly, more than, ...) in the source."),
    Column("nk_link", "string", "How the source ties the case to North Korea (vocabulary in data/reference/nk_links.csv)."),
    Column("arrests", "integer", "Number of people arrested or held, when the source says."),
    Column("source_id", "string", "Identifier of the source document (data/raw/sources.csv)."),
    Column("source_type", "string", "official, press or secondary (data/reference/source_types.csv); used by the representative rule."),
    Column("source_outlet", "string", "Outlet that published the source document."),
    Column("source_via", "string", "Original outlet(s) the source document relays, if any."),
    Column("source_title", "string", "Title of the source document."),
    Column("source_date", "string", "Publication date of the source document (ISO); empty when the copy is undated."),
    Column("source_url", "string", "URL of the source document; empty when the document names none."),
    Column("notes", "string", "Curator's notes, in the curator's own words."),
]

NAMES = [c.name for c in COLUMNS]
INCIDENT_DERIVED = ["incident_scope", "incident_parts", "is_representative", "incident_reports", "incident_kg_min", "incident_kg_max"]
BY_NAME = {c.name: c for c in COLUMNS}

_POLARS = {"string": pl.String, "number": pl.Float64, "integer": pl.Int64, "boolean": pl.Boolean}
POLARS_TYPES = {c.name: _POLARS[c.type] for c in COLUMNS}  # the types of data/seizures.parquet
