"""The main dashboard page: filters, headline numbers, charts, table, downloads, methodology.

This module only lays the page out: numbers come from `app.data`, figures from
`app.charts`, the filter widgets and their URL parameters from `app.state`.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from app import charts, data, methodology, state
from app import format as fmt

EMPTY_MESSAGE = ("No reports match this selection. Widen the year range, clear a filter in the sidebar, "
                 "or press **Reset filters**.")


def render() -> None:
    # --- Load -----------------------------------------------------------------
    path = data.data_path()
    try:
        version = data.file_key(path)
        dataset = data.load_dataset(str(path), version)
    except data.DataFileError as err:
        st.title("Drug seizures and prices linked to North Korea")
        st.error(str(err))
        return
    frame, prep = dataset.screen, dataset.prep  # every row; the columns the page reads
    for warning in dataset.warnings:
        st.warning(warning)

    # --- Filters ----------------------------------------------------------------
    opts = state.options(frame, prep)
    filters = state.sidebar(opts)
    state.reset_button(opts)
    # one cached computation per selection: numbers, chart inputs (capped), table head, sources
    view = data.view(str(path), version, filters)
    colours = charts.palette(list(prep.drug.values))
    country_colours = charts.palette(list(prep.country.values))
    where = Where(str(path), version, filters)

    # --- Headline -----------------------------------------------------------------
    st.title("Drug seizures and prices linked to North Korea")
    st.caption(
        f"{len(frame):,} figures from {len(prep.source.values):,} source documents, "
        f"{_year_span(opts)}. Choose what to show in the sidebar; the address bar keeps your choice, "
        "so a copied link opens the same view."
    )
    if not view.reports:
        st.info(EMPTY_MESSAGE)
    else:
        _headline(view, filters, dataset.base_year)

    # --- Tabs -----------------------------------------------------------------------
    tab_charts, tab_table, tab_method = st.tabs(list(state.TABS), key=state.TAB, bind="query-params")
    with tab_charts:
        if not view.reports:
            st.info(EMPTY_MESSAGE)
        else:
            _charts(view, where, dataset, colours, country_colours)
    with tab_table:
        _table(view, where, dataset)
    with tab_method:
        methodology.render(dataset)


@dataclass(frozen=True)
class Where:
    """The file version and selection a view belongs to (the key of the cached computations)."""

    path: str
    version: int
    filters: data.Filters


def _year_span(opts: state.Options) -> str:
    if opts.years is None:
        return "no dated events"
    return f"events from {opts.years[0]} to {opts.years[1]}"


def _headline(view: data.View, filters: data.Filters, base_year: int | None) -> None:
    h = view.headline
    dollars = f"constant {base_year} US$" if base_year else "constant US$"
    short = f"{base_year} US$" if base_year else "constant US$"
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Incidents", f"{h.incidents:,}", border=True,
              help=f"Distinct incidents among the {h.reports:,} report(s) selected.")
    c2.metric("Kilograms seized", fmt.kg(h.kg), border=True,
              help=f"Sum of the point estimates of {h.seizures_with_kg:,} seizure report(s) that give a mass.")
    c3.metric(f"Value seized, {short}", fmt.compact_usd(h.value_const_usd) if h.seizures_with_value else "–", border=True,
              help=f"Sum of the stated values of {h.seizures_with_value:,} seizure(s), converted to {dollars} "
                   f"({fmt.usd(h.value_const_usd)}). "
                   "Cash seized and prices per kilogram are not included.")
    c4.metric(f"Median price, {short}/kg", fmt.compact_usd(h.median_price_const_usd_per_kg), border=True,
              help=f"Median of {h.prices:,} quoted market price(s) per kilogram, in {dollars}; prices implied by seizure "
                   "values are not included.")
    if h.kg_by_drug:
        st.caption("Kilograms by drug: " + " · ".join(f"{drug} {fmt.kg(kg)}" for drug, kg in h.kg_by_drug.items()))
    st.caption(_counting_note(view, filters, h))


def _counting_note(view: data.View, filters: data.Filters, h: data.Headline) -> str:
    if filters.count_once:
        note = ("Counting each incident once: one representative report per incident and kind of figure"
                f" ({h.reports:,} report(s) shown).")
        if h.totals_left_out:
            note += (f" {h.totals_left_out} operation or annual total(s) are shown in the table but left out of "
                     "the sums, because the seizures they add up are also in this selection.")
        if view.totals_added_as_single:
            note += (f" {view.totals_added_as_single} total(s) whose parts are not in this "
                     "selection are added like single seizures.")
        return note
    return (f"Counting every report ({h.reports:,}): an incident described by several reports is added once "
            "per report, and totals are added on top of their parts. Switch on *Count each incident once* "
            "for sums you can quote.")


def _charts(view: data.View, where: Where, dataset: data.Dataset, colours, country_colours) -> None:
    base_year = dataset.base_year
    undated = view.undated
    undated_note = f" {undated} undated report(s) cannot be placed in time." if undated else ""

    left, right = st.columns(2, gap="medium")
    with left:
        log = st.toggle("Log scale", value=False, key=state.LOG, bind="query-params",
                        help="A logarithmic axis shows small years next to very large ones.")
        _show(charts.kg_per_year_figure(view.kg_per_year, log, colours), "kg_per_year",
              "No seizure with a known mass and year in this selection.",
              "Kilograms seized per year (kg), stacked by drug; sums of the point estimates, "
              "counted as the sidebar says." + undated_note)
    with right:
        _show(charts.seizure_points_figure(view.seizure_points.frame, colours), "seizure_points",
              "No dated seizure with a known mass in this selection.",
              "Each dot is one seizure report, placed at its date and sized by kilograms (kg, log axis); "
              "bars span the reported range, ▼ marks an upper bound (*nearly*, *up to*), "
              "▲ a lower bound (*more than*).", note=view.seizure_points.how)

    left, right = st.columns(2, gap="medium")
    with left:
        dollars = st.segmented_control(
            "Dollars", state.DOLLAR_CHOICES, default="constant", key=state.DOLLARS, bind="query-params",
            format_func=str.capitalize, required=True,
            help=f"Constant dollars (of {base_year or 'the base year'}) remove US inflation, so prices from "
                 "different years compare; nominal dollars are those of the year of each price.")
        constant = dollars != "nominal"
        prices = data.price_view(where.path, where.version, where.filters, constant)
        _show(charts.prices_figure(prices.frame, constant, base_year, country_colours), "prices",
              "No price per kilogram in this selection.",
              "Prices in US$ per kilogram (log axis), coloured by country: ● prices quoted on a market, "
              "◇ prices implied by a seizure's stated value; bars span quoted ranges. "
              + (f"Constant dollars of {base_year}." if constant and base_year else "Nominal dollars of each year."),
              note=prices.how)
    with right:
        _show(charts.map_figure(view.map.frame, colours), "map",
              "No seizure with a location in this selection.",
              "Seizure locations: one circle per place and drug, sized by the kilograms seized there (kg); "
              "hollow circles mark seizures "
              "without a stated mass. A source naming only a country puts the point at its centre.",
              config=charts.map_config(), note=view.map.how)

    _show(charts.usd_check_figure(view.usd_check.frame, dataset.datapackage.get("usd_check_tolerance_pct")), "usd_check",
          "No report in this selection states its own dollar figure or exchange rate.",
          "Our conversion against the source's own figure, in percent (our US$ value minus the source's, "
          "relative to the source's) for reports that state a dollar equivalent or an exchange rate.",
          note=view.usd_check.how)


def _show(fig, key: str, empty: str, caption: str, config: dict | None = None, note: str = "") -> None:
    """The chart and its caption (also its text alternative), or a note when there is nothing to draw.

    `note` says when the chart draws a sample or an aggregate of the selection (large files).
    """
    if fig is None:
        st.info(empty)
        return
    if note:
        caption = f"{caption} **{note}**"
    st.plotly_chart(fig, key=f"chart_{key}", config=config or charts.CONFIG, width="stretch",
                    alt=caption.replace("*", ""))
    st.caption(caption)


def _table(view: data.View, where: Where, dataset: data.Dataset) -> None:
    frame = dataset.screen
    if not view.reports:
        st.info(EMPTY_MESSAGE)
    else:
        shown = len(view.table)
        st.caption(f"{view.reports:,} of {len(frame):,} rows. Figures as the source wrote them stand beside the "
                   "normalised ones; kilograms and dollars come from the build. Empty cells: not stated.")
        if shown < view.reports:
            st.info(f"Showing {shown:,} of {view.reports:,} rows (the first of the selection, in file order); "
                    "download for all.", icon=":material/table_rows:")
        st.dataframe(
            view.table, hide_index=True, width="stretch", height=min(600, 38 + 35 * shown),
            key="table",
            column_config={
                "Quantity as reported": st.column_config.TextColumn(width="medium"),
                "Value as reported": st.column_config.TextColumn(width="medium"),
                "Kilograms": st.column_config.NumberColumn(format="localized", help="Point estimate, kg"),
                "Kg, lowest report": st.column_config.NumberColumn(
                    format="localized", help="Smallest mass among the reports of the same incident (kg)"),
                "Kg, highest report": st.column_config.NumberColumn(
                    format="localized", help="Largest mass among the reports of the same incident (kg)"),
                "US$ (nominal)": st.column_config.NumberColumn(format="localized", help="US dollars of the year"),
                "US$ (constant)": st.column_config.NumberColumn(
                    format="localized", help=f"Constant {dataset.base_year or ''} US dollars"),
                "US$ per kg (nominal)": st.column_config.NumberColumn(
                    format="localized", help="Quoted price per kg, or the value divided by the mass for seizures"),
                "Source": st.column_config.TextColumn(width="medium", help="Outlet: title of the source document"),
                "Link": st.column_config.LinkColumn(display_text=r"https?://(?:www\.)?([^/]+)",
                                                    help="Open the source document (empty when it has no URL)"),
                "Reports of it": st.column_config.NumberColumn(format="%d"),
                "Notes": st.column_config.TextColumn(width="large"),
            },
        )
        _sources(view)
    _incident(view, where, dataset)

    st.subheader("Downloads")
    st.caption("CSV files have the columns of data/seizures.csv (described in the data dictionary). Cells that a "
               "spreadsheet would run as a formula are prefixed with an apostrophe.")
    # small files are written on every run; large ones only when the button is clicked
    filtered = (view.download if view.download is not None
                else functools.partial(data.filtered_csv, where.path, where.version, where.filters))
    full = (data.full_csv(where.path, where.version) if data.eager_downloads(dataset, len(frame))
            else functools.partial(data.full_csv_now, where.path, where.version))
    c1, c2, c3 = st.columns(3)
    c1.download_button("Filtered rows (CSV)", filtered, file_name="nk-drug-seizures-filtered.csv",
                       mime="text/csv", key="download_filtered", on_click="ignore", disabled=not view.reports,
                       icon=":material/download:", width="stretch",
                       help=f"The {view.reports:,} row(s) of the current selection.")
    c2.download_button("Full data (CSV)", full, file_name="nk-drug-seizures.csv",
                       mime="text/csv", key="download_full", on_click="ignore", icon=":material/download:",
                       width="stretch", help=f"All {len(frame):,} rows.")
    if dataset.datapackage_bytes:
        c3.download_button("Data dictionary (datapackage.json)", dataset.datapackage_bytes,
                           file_name="datapackage.json", mime="application/json", key="download_dictionary",
                           on_click="ignore", icon=":material/download:", width="stretch",
                           help="Frictionless Data Package: every column's meaning and unit, the exchange-rate "
                                "and price-index sources.")
    else:
        c3.caption("No data dictionary (datapackage.json) was found next to the data file.")


REPORT_COLUMNS = {
    "Representative": st.column_config.CheckboxColumn(
        help="The report whose figure stands for the incident when each incident is counted once (rule in "
             "Methodology); one per kind of figure"),
    "Quantity as reported": st.column_config.TextColumn(width="medium"),
    "Value as reported": st.column_config.TextColumn(width="medium"),
    "Kilograms": st.column_config.NumberColumn(format="localized", help="Point estimate, kg"),
    "US$ (nominal)": st.column_config.NumberColumn(format="localized", help="US dollars of the year"),
    "US$ (constant)": st.column_config.NumberColumn(format="localized", help="Constant US dollars"),
    "Source": st.column_config.TextColumn(width="medium", help="Outlet: title of the source document"),
    "Link": st.column_config.LinkColumn(display_text=r"https?://(?:www\.)?([^/]+)",
                                        help="Open the source document (empty when it has no URL)"),
    "Notes": st.column_config.TextColumn(width="large"),
}
PART_COLUMNS = {
    "Kilograms": st.column_config.NumberColumn(format="localized", help="The part's representative figure, kg"),
    "US$ (nominal)": st.column_config.NumberColumn(format="localized", help="US dollars of the year"),
    "Kg, lowest report": st.column_config.NumberColumn(format="localized"),
    "Kg, highest report": st.column_config.NumberColumn(format="localized"),
    "Reports of it": st.column_config.NumberColumn(format="%d"),
}


def _incident(view: data.View, where: Where, dataset: data.Dataset) -> None:
    """Every report behind one incident the reader picks, from the whole file, and the parts of a total."""
    st.subheader("Reports behind an incident")
    choices = data.incident_choices(where.path, where.version, where.filters)
    note = ("Choose an incident of this selection to see every report of it in the file, including those the "
            "filters or *Count each incident once* leave out: the figure as each source wrote it, our "
            "conversion, and which report represents the incident.")
    if choices.total > len(choices.ids):
        note += (f" **The list offers the {len(choices.ids):,} of {choices.total:,} incidents of this selection "
                 "with most reports**; narrow the filters to reach the others.")
    st.caption(note)

    def label_of(incident_id: str) -> str | None:
        if data.incident_detail(where.path, where.version, incident_id) is None:
            return None
        return data.incident_label_of(where.path, where.version, incident_id)

    chosen = state.incident_picker(choices, label_of)
    if chosen is None:
        if not choices.ids:
            st.info("No incident in this selection.")
        return
    detail = data.incident_detail(where.path, where.version, chosen)
    if detail is None:
        return
    rows = detail.reports
    st.markdown(_incident_summary(detail))
    st.dataframe(data.incident_report_table(rows), hide_index=True, width="stretch",
                 height=min(600, 38 + 35 * len(rows)), key="incident_reports", column_config=REPORT_COLUMNS)
    if detail.scope == "total":
        if len(detail.parts):
            kg = detail.parts.loc[detail.parts["kind"] == "seizure", "quantity_kg"].dropna()
            adds = f" Their representative figures add up to {fmt.kg(kg.sum())}." if len(kg) else ""
            st.markdown(f"**Parts of this total** ({detail.parts['incident_id'].nunique()}), each with its "
                        "representative report. With *Count each incident once*, the total is left out of the "
                        f"sums whenever one of its parts is in the selection.{adds}")
            st.dataframe(data.incident_part_table(detail.parts), hide_index=True, width="stretch",
                         key="incident_parts", column_config=PART_COLUMNS)
        if detail.missing_parts:
            st.caption("Parts named but not in the file: " + ", ".join(detail.missing_parts) + ".")
    if detail.part_of:
        st.caption("This incident is a part of the total(s) " + ", ".join(f"`{t}`" for t in detail.part_of)
                   + "; choose one to see the reports of the whole.")


def _incident_summary(detail: data.IncidentDetail) -> str:
    rows = detail.reports
    scope = "an operation or annual total" if detail.scope == "total" else "a single seizure or observation"
    lines = [f"**{detail.incident_id}** is {scope}, described by {len(rows):,} report(s) in the file."]
    for kind, group in rows.groupby("kind", sort=False):
        rep = group[group["is_representative"].astype(bool)]
        text = f"- {kind.capitalize()}: {len(group):,} report(s)"
        if len(rep):
            r = rep.iloc[0]
            figure = " / ".join(str(v) for v in (r["quantity_reported"], r["value_reported"])
                                if isinstance(v, str) and v)
            text += f"; representative **{r['report_id']}**" + (f" ({methodology.md_escape(figure)})" if figure else "")
        low, high = group["incident_kg_min"].iloc[0], group["incident_kg_max"].iloc[0]
        if pd.notna(low) and pd.notna(high):
            text += (f"; reports range from {fmt.kg(low)} to {fmt.kg(high)}" if high > low
                     else f"; every report with a mass gives {fmt.kg(low)}")
        lines.append(text + ".")
    return "\n".join(lines)


def _sources(view: data.View) -> None:
    docs = view.sources
    with st.expander(f"Sources of this selection ({view.documents})"):
        lines = []
        for doc in docs.itertuples(index=False):
            title = methodology.md_escape(doc.source_title or doc.source_id)
            outlet = methodology.md_escape(doc.source_outlet)
            when = methodology.md_escape(doc.source_date or "undated")
            via = f", relaying {methodology.md_escape(doc.source_via)}" if doc.source_via else ""
            url = doc.source_url if isinstance(doc.source_url, str) else ""
            head = f"[{title}](<{url.replace('<', '%3C').replace('>', '%3E')}>)" if url else title
            lines.append(f"- {head}. {outlet}, {when}{via}." + ("" if url else " *(no link)*"))
        if len(docs) < view.documents:
            lines.append(f"\n*Showing the first {len(docs):,} of {view.documents:,} documents (by publication "
                         "date); the download's source columns name them all.*")
        st.markdown("\n".join(lines))
