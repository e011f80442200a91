"""The readers' page: caveat, headline, charts, table and downloads, about the data.

Numbers come from app/queries.py, figures from app/charts.py, the link and the
filter widgets from app/state.py. Text from the data (ids, places, outlets,
titles) is shown only through components that never interpret it (tables,
st.text, chart hovers) or escaped with `fmt.md` before st.markdown.
"""
from __future__ import annotations

import io
import re
from dataclasses import replace

import pandas as pd
import polars as pl
import streamlit as st

from app import charts, export, methodology, state
from app import format as fmt
from app import queries as q
from etl.csvio import csv_bytes

TITLE = "Drug seizures and prices linked to North Korea"
CAVEAT = ("**Reported figures, not a measure of trafficking:** seizures nobody wrote about are missing, and years "
          "with more press attention look busier (see *About the data*).")
EMPTY = "Nothing in this selection. Widen the year range, clear a filter in the sidebar, or press **Reset filters**."
BOM = b"\xef\xbb\xbf"


@st.cache_resource(show_spinner=False, max_entries=4)
def _load(key: tuple[str, int, int], note: str) -> q.Dataset:
    return q.load(q.Source(q.Path(key[0]), note))


@st.cache_resource(show_spinner=False, max_entries=4)
def _options(key: tuple[str, int, int], _ds: q.Dataset) -> q.Options:
    return q.options(_ds.frame)


def render() -> None:
    try:
        source = q.data_source()
        key = q.file_key(source.path)
        ds = _load(key, source.note)
    except q.DataFileError as err:
        st.title(TITLE)
        st.error(str(err))
        return
    frame = ds.frame
    opts = _options(key, ds)
    ids = set()  # filled lazily: the incident ids of the file

    def incident_known(incident_id: str) -> bool:
        if not ids:
            ids.update(frame["incident_id"].unique().to_list())
        return incident_id in ids

    view = state.start(opts, incident_known)
    filters = state.sidebar(opts)
    colours = charts.drug_colours(ds.drugs)
    base = str(ds.base_year or "constant")

    st.html(CSS)
    st.title(TITLE)
    st.markdown(CAVEAT)
    for notice in state.notices(filters):
        st.warning(fmt.md(notice), icon=":material/link_off:")

    h = _built("headline", key, filters, lambda: q.headline(frame, filters))
    rows = q.select(frame.lazy(), filters)  # lazy: each view reads only the columns it needs
    _headline(h, filters, base, ds.note)

    tabs = st.tabs(list(state.TABS), key=state.W[state.TAB], on_change="rerun")
    tab = st.session_state.get(state.W[state.TAB]) or state.TABS[0]
    incident, every = view.incident, view.every_report
    context = _Context(ds, filters, view, base)
    charts_of = {state.TABS[0]: _seizure_charts, state.TABS[1]: _price_charts, state.TABS[2]: _map_chart}
    for container, name in zip(tabs, state.CHART_TABS):
        with container:
            if container.open is not False:  # only the open tab runs (None: no state, e.g. in a test)
                if h.reports == 0:
                    st.info(EMPTY)
                else:
                    charts_of[name](key, frame, rows, filters, colours, base, h, context)
    with tabs[3]:
        if tabs[3].open:
            every = st.toggle("List every report, not only one per incident", key=state.W[state.REPORTS],
                              help="The sums and charts always count each incident once; this only changes the "
                                   "table.")
            incident = _table(frame, rows, every, context)
    with tabs[4]:
        if tabs[4].open:
            methodology.render(ds, _citation(context))
    state.finish(state.View(filters, bool(every), tab, incident), opts)


class _Context:
    """What downloads and exports need to name: data version and date, filters, the page address."""

    def __init__(self, ds: q.Dataset, filters: q.Filters, view: state.View, base: str):
        self.ds, self.filters, self.base = ds, filters, base
        self.view = replace(view, filters=filters)

    @property
    def url(self) -> str:
        try:
            page = st.context.url or "http://127.0.0.1:8501/"
        except Exception:  # noqa: BLE001 - no browser context (tests)
            page = "http://127.0.0.1:8501/"
        page = page.split("?")[0]
        params = state.to_params(replace(self.view, tab=state.TABS[0], incident=None), None)
        if not params:
            return page
        from urllib.parse import urlencode

        return page + "?" + urlencode([(k, v) for k, vs in params.items() for v in vs])

    def file_stem(self, what: str) -> str:
        """'nk-drug-seizures_v1.2_country-South-Korea_years-2005-2010_chart-map'."""
        f = self.filters
        bits = []
        if f.years:
            bits.append(f"years-{f.years[0]}-{f.years[1]}")
        elif not f.include_undated:
            bits.append("dated")
        for name, values in (("drug", f.drugs), ("country", [q.country_name(c) for c in f.countries]),
                             ("kind", f.kinds), ("link", f.links)):
            if values:
                bits.append(name + "-" + "+".join(values))
        slug = "_".join(bits) or "all"
        stem = f"nk-drug-seizures_v{self.ds.version}_{slug}" + (f"_{what}" if what else "")
        return re.sub(r"[^A-Za-z0-9+._-]+", "-", stem)[:180]


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def _headline(h: q.Headline, filters: q.Filters, base: str, note: str) -> None:
    if h.reports == 0:
        text = "**No report** matches this selection."
    else:
        kg = f"**{fmt.mass(h.kg)}** seized in {_n(h.seizures_with_kg, 'seizure')} with a stated mass"
        if h.tablets:
            kg += ", plus " + ", ".join(fmt.count(n, u) for u, n in h.tablets.items()) + " not in kg"
        parts = [f"**{_n(h.incidents, 'incident')}** from {_n(h.reports, 'report')}", kg]
        if h.seizures_with_value:
            parts.append(f"stated value **{fmt.md(fmt.money(h.value_usd_const))}** ({base} US{fmt.md('$')})")
        parts.append(_n(h.price_quotes, "market price quote"))
        text = " · ".join(parts) + "."
    extra = ["Each incident counted once."]
    if h.undated_left_out:
        why = (f"the years {filters.years[0]}–{filters.years[1]}" if filters.years else "this choice")
        extra.append(f"{_n(h.undated_left_out, 'incident')} without a date {'is' if h.undated_left_out == 1 else 'are'}"
                     f" left out: {why} cannot include undated reports.")
    if h.totals_left_out:
        extra.append(f"{_n(h.totals_left_out, 'operation total')} not added to the seizures {'it sums' if h.totals_left_out == 1 else 'they sum'}.")
    if note:
        extra.append(fmt.md(note))
    with st.container(key="headline"):
        st.markdown(text)
        st.caption(" ".join(extra))


CSS = """<style>
[data-testid="stMainBlockContainer"] { padding-top: 3rem; }
@media (max-width: 640px) {
  [data-testid="stMainBlockContainer"] { padding-top: 3.2rem; }
  h1 { font-size: 1.65rem !important; padding-top: 0.25rem !important; padding-bottom: 0.25rem !important; }
  h5 { font-size: 1.05rem !important; }
}
</style>"""


# --------------------------------------------------------------------------- charts


@st.cache_resource(show_spinner=False, max_entries=64)
def _built(name: str, key: tuple, filters: q.Filters, _build):
    """A chart built once per file version and selection, shared by every visitor (figures are not changed)."""
    return _build()


def _pair(items, ctx: _Context) -> None:
    """Charts side by side; `items` are (build, text when empty). Each chart is built when its turn comes and
    sent at once, so the first is on screen while the next is still being computed."""
    columns = st.columns(len(items), gap="large") if len(items) > 1 else [st.container()]
    for column, (build, empty) in zip(columns, items):
        with column:
            _show(build(), empty, ctx)


def _seizure_charts(key, frame, rows, filters, colours, base, h: q.Headline, ctx: _Context) -> None:
    def kg():
        undated = q.counted(rows).filter((pl.col("kind") == "seizure") & pl.col("year").is_null()
                                         & pl.col("quantity_kg").is_not_null()).select(pl.len()).collect().item()
        return charts.kg_per_year(q.kg_per_year(rows), colours, filters.years, h.tablets, undated)

    _pair([(lambda: _built("kg", key, filters, kg), "No seizure with a stated mass and a year in this selection."),
           (lambda: _built("points", key, filters, lambda: charts.seizure_points(*q.seizure_points(rows), colours)),
            "No dated seizure with a stated mass in this selection.")], ctx)


def _price_charts(key, frame, rows, filters, colours, base, h: q.Headline, ctx: _Context) -> None:
    def meth():
        return _built("meth", key, q.Filters(years=filters.years), lambda: charts.nk_meth_prices(
            *q.nk_meth_prices(frame, filters.years), colours.get("methamphetamine", charts.PALETTE[0]), base))

    _pair([(meth, "No quoted price of methamphetamine inside North Korea in these years.")], ctx)
    st.caption("This chart follows the year range only: it is the series of quotes from inside the country, "
               "whatever the other filters.")
    _pair([(lambda: _built("market", key, filters, lambda: charts.market_prices(*q.market_prices(rows), colours, base)),
            "No quoted market price in this selection."),
           (lambda: _built("implied", key, filters, lambda: charts.implied_values(*q.implied_values(rows), colours,
                                                                                     base)),
            "No seizure in this selection states both a mass and a value.")], ctx)


def _map_chart(key, frame, rows, filters, colours, base, h: q.Headline, ctx: _Context) -> None:
    _pair([(lambda: _built("map", key, filters, lambda: charts.seizure_map(*q.map_points(rows), colours)),
            "No seizure with a location in this selection.")], ctx)


def _show(chart: charts.Chart | None, empty: str, ctx: _Context) -> None:
    if chart is None:
        st.info(empty)
        return
    st.markdown(f"##### {fmt.md(chart.title)}")
    st.caption(fmt.md(chart.subtitle))
    st.plotly_chart(chart.fig, key=f"chart_{chart.key}", config=chart.config, width="stretch", theme=None,
                    alt=f"{chart.title}. {chart.subtitle}")
    line = chart.source + "." + (f" {chart.note}" if chart.note else "")
    st.caption(fmt.md(line))
    with st.popover("Download chart", icon=":material/download:", key=f"pop_{chart.key}"):
        stem = ctx.file_stem(chart.key)
        if export.available():
            for kind, mime in (("png", "image/png"), ("svg", "image/svg+xml")):
                st.download_button(f"Image ({kind.upper()}) with title and source", _image(chart, ctx, kind),
                                   file_name=f"{stem}.{kind}", mime=mime, key=f"dl_{chart.key}_{kind}",
                                   on_click="ignore", width="stretch")
        else:
            st.caption("Images need Chromium on the server (/usr/bin/chromium), which is not installed.")
        st.download_button("This chart's data (CSV)", lambda: excel_csv(chart.data), file_name=f"{stem}.csv",
                           mime="text/csv", key=f"dl_{chart.key}_csv", on_click="ignore", width="stretch")


def _image(chart: charts.Chart, ctx: _Context, kind: str):
    def make() -> bytes:
        fig = charts.export_figure(chart, ctx.url, ctx.ds.version, ctx.ds.created)
        return export.render(fig, kind, chart.config)
    return make


# --------------------------------------------------------------------------- table


def table_frame(shown: pl.DataFrame, base: str) -> pd.DataFrame:
    """The table as readers see it: id, date, place, figure as reported, kg, US$, source first; blanks for
    missing values; rounded for display (downloads keep full precision)."""
    def figure(qr, vr):
        return " · ".join(x for x in (qr, vr) if x)

    t = shown
    where = [", ".join(x for x in (p, c) if x) for p, c in zip(t["place"].fill_null("").to_list(),
                                                                 t["country_name"].fill_null("").to_list())]
    kg = [fmt.mass(v) if v is not None else (fmt.count(n, u or "item") if n is not None else "")
          for v, n, u in zip(t["quantity_kg"].to_list(), t["quantity_count"].to_list(),
                             t["quantity_count_unit"].to_list())]
    usd = [fmt.money(p if k == "price" else v) + (" per kg" if k == "price" and p is not None else "")
           for k, v, p in zip(t["kind"].to_list(), t["value_usd_const"].to_list(),
                              t["price_usd_per_kg_const"].to_list())]
    urls = [u if isinstance(u, str) and re.match(r"(?i)^https?://\S+$", u) else None
            for u in t["source_url"].to_list()]
    return pd.DataFrame({
        "Report": t["report_id"].to_list(),
        "Date": t["date"].fill_null("").to_list(),
        "Place": where,
        "As reported": [figure(a, b) for a, b in zip(t["quantity_reported"].fill_null("").to_list(),
                                                     t["value_reported"].fill_null("").to_list())],
        "Quantity": kg,
        f"US$ ({base})": usd,
        "Source": t["source_label"].fill_null("").to_list(),
        "Link": urls,
        "Drug": t["drug"].fill_null("").to_list(),
        "Kind": [q.KIND_LABELS.get(k, k) for k in t["kind"].fill_null("").to_list()],
        "Incident": t["incident_id"].fill_null("").to_list(),
        "Notes": t["notes"].fill_null("").to_list(),
    })


def _table(frame: pl.DataFrame, rows: pl.DataFrame, every: bool, ctx: _Context) -> str | None:
    shown, total = q.table(rows, every)
    if total == 0:
        st.info(EMPTY)
    else:
        what = "report(s)" if every else "incident(s), one report each"
        st.caption(f"{total:,} {what}, sorted by date (undated last). Quantities and dollars are rounded here; "
                   "the downloads keep every digit.")
        if len(shown) < total:
            st.info(f"Showing the first {len(shown):,} of {total:,} rows; the downloads hold them all.")
        st.dataframe(table_frame(shown, ctx.base), hide_index=True, width="stretch", key="table",
                     height=min(560, 38 + 35 * len(shown)),
                     column_config={
                         "Link": st.column_config.LinkColumn(display_text=r"https?://(?:www\.)?([^/]+)"),
                         "As reported": st.column_config.TextColumn(width="medium"),
                         "Source": st.column_config.TextColumn(width="medium"),
                         "Notes": st.column_config.TextColumn(width="large"),
                     })
        n_sources = rows.select(pl.col("source_id").n_unique()).collect().item()
        with st.expander(f"Sources of this selection ({n_sources:,})"):
            src = q.sources(rows).head(2_000)
            st.dataframe(pd.DataFrame({
                "Published": src["source_date"].fill_null("").to_list(),
                "Outlet": src["source_outlet"].fill_null("").to_list(),
                "Title": src["source_title"].fill_null("").to_list(),
                "Relays": src["source_via"].fill_null("").to_list(),
                "Link": [u if isinstance(u, str) and re.match(r"(?i)^https?://\S+$", u) else None
                         for u in src["source_url"].to_list()],
                "Reports": src["reports"].to_list(),
            }), hide_index=True, width="stretch", key="sources",
                column_config={"Link": st.column_config.LinkColumn(display_text=r"https?://(?:www\.)?([^/]+)")})
    incident = _incident(frame, rows, ctx)
    _downloads(frame, rows, every, ctx)
    return incident


def _incident(frame: pl.DataFrame, rows: pl.DataFrame, ctx: _Context) -> str | None:
    st.subheader("Reports behind an incident")
    ids, total = q.incident_choices(rows, frame)
    wanted = ctx.view.incident
    if wanted and wanted not in ids:
        ids = [wanted, *ids]
    key = state.W[state.INCIDENT]
    if st.session_state.get(key) not in ids:
        st.session_state[key] = None
    note = ("Every report of one incident in the file, including those the filters leave out: the figure as each "
            "source wrote it, our conversion, and which report stands for the incident.")
    if total > len(ids):
        note += f" The list offers the {len(ids):,} of {total:,} incidents with most reports; narrow the filters."
    st.caption(note)
    chosen = st.selectbox("Incident", ids, key=key, placeholder="Choose an incident (type to search)",
                          disabled=not ids)
    if not chosen:
        return None
    reports = q.incident_reports(frame, chosen)
    scope = reports["incident_scope"][0] if len(reports) else "single"
    low, high = reports["incident_kg_min"].min(), reports["incident_kg_max"].max()
    summary = [f"Incident {chosen}: " + ("an operation or annual total" if scope == "total" else
                                         "a single seizure or observation")
               + f", {len(reports):,} report(s) in the file."]
    if low is not None and high is not None:
        summary.append(f"Sources give {fmt.mass(low)} to {fmt.mass(high)}." if high > low
                       else f"Every report with a mass gives {fmt.mass(low)}.")
    st.text(" ".join(summary))  # st.text: ids are shown as typed, never as markdown
    t = table_frame(reports, ctx.base)
    t.insert(1, "Represents the incident", reports["is_representative"].fill_null(False).to_list())
    st.dataframe(t, hide_index=True, width="stretch", key="incident_reports",
                 column_config={"Link": st.column_config.LinkColumn(display_text=r"https?://(?:www\.)?([^/]+)")})
    if scope == "total":
        parts = q.incident_parts(frame, chosen)
        if len(parts):
            st.text(f"Its parts ({parts['incident_id'].n_unique()}), each by its representative report. "
                    "A total is never added to its parts.")
            st.dataframe(table_frame(parts, ctx.base), hide_index=True, width="stretch", key="incident_parts")
    return chosen


def _downloads(frame: pl.DataFrame, rows: pl.DataFrame, every: bool, ctx: _Context) -> None:
    st.subheader("Downloads")
    st.caption("CSV files open in Excel and any spreadsheet (UTF-8 with a byte-order mark); cells a spreadsheet "
               "would run as a formula start with an apostrophe. Parquet keeps the column types. File names say "
               "the filters and the data version. Every column is described in the data dictionary.")
    columns = list(q.NAMES)
    selection = rows.select(columns)  # lazy: written only when a button is clicked
    n = int(selection.select(pl.len()).collect().item())
    stem, full = ctx.file_stem(""), ctx.file_stem("").split("_v")[0] + f"_v{ctx.ds.version}_all"
    c1, c2 = st.columns(2)
    c1.download_button(f"Selection, {n:,} reports (CSV)", lambda: excel_csv(selection.collect()),
                       file_name=f"{stem}.csv", mime="text/csv", key="download_selection_csv", on_click="ignore",
                       icon=":material/download:", width="stretch", disabled=n == 0)
    c2.download_button("Selection (Parquet)", lambda: parquet_bytes(selection.collect()), file_name=f"{stem}.parquet",
                       mime="application/vnd.apache.parquet", key="download_selection_parquet", on_click="ignore",
                       icon=":material/download:", width="stretch", disabled=n == 0)
    c1.download_button(f"All {len(frame):,} reports (CSV)", lambda: excel_csv(frame.select(columns)),
                       file_name=f"{full}.csv", mime="text/csv", key="download_full_csv", on_click="ignore",
                       icon=":material/download:", width="stretch")
    c2.download_button("All reports (Parquet)", lambda: parquet_bytes(frame.select(columns)), file_name=f"{full}.parquet",
                       mime="application/vnd.apache.parquet", key="download_full_parquet", on_click="ignore",
                       icon=":material/download:", width="stretch")
    if ctx.ds.package:
        import json

        st.download_button("Data dictionary (datapackage.json)", json.dumps(ctx.ds.package, indent=2).encode(),
                           file_name="datapackage.json", mime="application/json", key="download_dictionary",
                           on_click="ignore", icon=":material/download:")
    else:
        st.caption("No data dictionary (datapackage.json) was found next to the data file.")


def excel_csv(frame: pl.DataFrame | pd.DataFrame) -> bytes:
    """CSV that Excel opens as UTF-8 (a byte-order mark first), formula-safe, every digit kept."""
    return BOM + csv_bytes(frame.to_pandas() if isinstance(frame, pl.DataFrame) else frame)


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


def _citation(ctx: _Context) -> str:
    ds = ctx.ds
    title = ds.package.get("title") or "Reported drug seizures and street prices linked to North Korea"
    return (f"{title}. Data set, version {ds.version}, built {ds.created}. "
            f"Licence: {', '.join(ds.licenses) or 'not stated'}. {ctx.url.split('?')[0]}")
