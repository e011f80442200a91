"""The Methodology tab: how figures are normalised, the reference tables, the incident rule, caveats."""
from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pandas as pd
import streamlit as st

from app import data

INCIDENTS_MODULE = Path(data.__file__).resolve().parent.parent / "etl" / "incidents.py"


def md_escape(text: str) -> str:
    """Text safe to put inside Markdown: no accidental links, emphasis, LaTeX ($) or HTML."""
    return re.sub(r"([\\`*_{}\[\]()<>#+\-.!|$~])", r"\\\1", text or "")


@functools.lru_cache(maxsize=1)
def incident_rule() -> str:
    """The representative-report rule exactly as etl/incidents.py documents it (its module docstring).

    Read from the source, not imported: importing etl.incidents loads the whole
    build (pint, a quarter of a second) for one paragraph of text.
    """
    tree = ast.parse(INCIDENTS_MODULE.read_text(encoding="utf-8"))
    return (ast.get_docstring(tree, clean=False) or "").strip()


def render(dataset: data.Dataset) -> None:
    package = dataset.datapackage
    base_year = dataset.base_year
    index = package.get("price_index", {})
    tolerance = package.get("usd_check_tolerance_pct")

    st.subheader("Where the figures come from")
    st.markdown(
        "Each row of the data is one figure (a quantity, a value or a price) found in one source document: "
        "a news article, an official statement, a court or UN document, or a compilation relaying earlier "
        "reports. The curators copy the figure exactly as written (the *as reported* columns) and the build "
        "(`python -m etl build`) turns it into kilograms and US dollars. The dashboard shows the built file "
        "and does no conversion of its own."
    )

    st.subheader("Quantities")
    st.markdown(
        "- Masses are converted to **kilograms** with a unit table (`data/reference/units.csv`); an unknown "
        "unit is an error, never silently taken as kilograms.\n"
        "- A range such as *6-8 tonnes* keeps both ends (`quantity_kg_low`, `quantity_kg_high`) and uses the "
        "midpoint as the point estimate. Qualified figures keep one open end: *nearly 125 kg* has no low end, "
        "*more than 1 tonne* no high end. The charts draw ranges as error bars and mark open-ended figures "
        "with a triangle (▼ at most, ▲ at least).\n"
        "- Counted items (tablets, bags) stay counts in `quantity_count`; they are never turned into "
        "kilograms, so they do not appear in the kilogram totals."
    )

    st.subheader("Values and prices")
    dollars = f"constant {base_year} US dollars" if base_year else "constant US dollars"
    st.markdown(
        "- A value in another currency is divided by the **annual average exchange rate** (units of the "
        "currency per US dollar) of the event year, or of the publication year when the event year is "
        "unknown (`fx_year`, `fx_year_basis`). That gives nominal dollars (`value_usd`).\n"
        f"- Nominal dollars are brought to **{dollars}** with the US consumer price index "
        f"({md_escape(index.get('series', 'US CPI-U'))}); the base year is "
        f"{base_year if base_year else 'given in datapackage.json'} "
        f"({md_escape(index.get('base_year_rule', ''))}).\n"
        "- Prices quoted per gram, per kilogram or per other mass are expressed **per kilogram** "
        "(`price_usd_per_kg`). For a seizure that states both a mass and a value, the value divided by the "
        "mass is shown as an *implied* price (`implied_usd_per_kg`); it is the seizing authority's valuation, "
        "often at destination street prices, not a market quote.\n"
        "- Where the source gives its own dollar equivalent or exchange rate, the build compares it with its "
        "own conversion (`usd_check_pct`)"
        + (f"; differences beyond ±{tolerance:g}% are flagged." if tolerance else ".")
    )

    st.markdown("**Exchange rates used** (`data/reference/fx_annual_lcu_per_usd.csv`)")
    fx = data.fx_table(dataset)
    rate_sources = pd.DataFrame(package.get("exchange_rates", {}).get("sources", []))
    if not rate_sources.empty:
        st.dataframe(rate_sources, hide_index=True, width="stretch",
                     column_config={"url": st.column_config.LinkColumn("url"),
                                    "currency": "Currency", "source": "Source", "years": "Years"})
    if fx is None:
        st.info("The exchange-rate table is not available on this machine.")
    else:
        currencies = dataset.prep.currencies if dataset.prep is not None else dataset.screen["currency"].unique()
        used = sorted(c for c in currencies if c and c != "USD")
        shown = st.multiselect("Currencies in the table below", sorted(fx["currency"].unique()),
                               default=[c for c in used if c in set(fx["currency"])], key="fx_currencies",
                               help="By default the currencies that occur in the data.")
        table = fx[fx["currency"].isin(shown)] if shown else fx
        st.dataframe(table, hide_index=True, width="stretch", height=260,
                     column_config={"lcu_per_usd": st.column_config.NumberColumn("Units per US$", format="%.4f"),
                                    "year": st.column_config.NumberColumn("Year", format="%d"),
                                    "source_url": st.column_config.LinkColumn("Source link"),
                                    "currency": "Currency", "source": "Source"})

    st.subheader("One figure per incident")
    st.markdown(
        "Several documents often describe the same seizure, sometimes with different figures. Reports of "
        "the same event share an `incident_id`. With **Count each incident once** switched on (the default), "
        "the dashboard keeps only the representative report of each incident and kind of figure, and leaves "
        "out of every sum an operation or annual total (`incident_scope` = total) whose parts are also in the "
        "selection. The rule, as the build documents it (`etl/incidents.py`):"
    )
    st.code(incident_rule(), language=None, wrap_lines=True)

    st.subheader("How each case is tied to North Korea")
    if dataset.nk_links is not None:
        links = dataset.nk_links.rename(columns={"code": "nk_link", "meaning": "Meaning"})
        links.insert(1, "Label in the filters", [data.link_label(c) for c in links["nk_link"]])
        st.dataframe(links, hide_index=True, width="stretch")
    if dataset.source_types is not None:
        st.markdown("Source types, in the order the representative rule prefers them:")
        st.dataframe(dataset.source_types, hide_index=True, width="stretch")

    st.subheader("Caveats")
    st.markdown(
        "- **Reported, not measured.** Every figure comes from a document, mostly press reports. Seizures "
        "that nobody wrote about, or that were reported only in languages the curators do not read, are "
        "missing; years with more press attention look busier.\n"
        "- **The North Korea link varies in strength.** It ranges from officials caught with drugs to an "
        "unnamed source's claim; filter by *Link to North Korea* to keep only the kinds you trust.\n"
        "- **Values are valuations.** Authorities often price seizures at destination retail prices, which "
        "can be far above what the drugs cost at source; implied prices inherit that.\n"
        "- **Places are approximate.** When a source names only a country, the point sits at the country's "
        "centre (`location_precision` = country).\n"
        "- **Totals overlap.** Annual and operation totals include individual seizures; keep *Count each "
        "incident once* on when adding things up.\n"
        "- **Small numbers.** A handful of reports can dominate a year; read the charts as a record of what "
        "was reported, not as a measure of trafficking."
    )
    if dataset.datapackage_path:
        st.caption(f"Data dictionary: {dataset.datapackage_path}. Data file: {dataset.path}.")
