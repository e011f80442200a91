"""The dashboard's figures, built from the views of app/queries.py.

Each chart is a `Chart`: a title that says what is shown, a subtitle with the
unit, a source line, the Plotly figure drawn on screen (no title of its own:
the page writes title and subtitle above it, where they wrap on a phone), and
the chart's own data for its CSV download. `export_figure` adds the title,
subtitle, source, date and address to a copy of the figure for the PNG and SVG
downloads (rendered by app/export.py).

One colour per drug everywhere (`drug_colours`, keyed by the file's drug list).
"""
from __future__ import annotations

import base64
import copy
import functools
import gzip
import math
import textwrap
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import polars as pl

from app import format as fmt

TOPOLOGY = Path(__file__).resolve().parent / "assets" / "world_110m.json.gz"
FONT = dict(family="Source Sans Pro, Helvetica, Arial, sans-serif", size=13, color="#333")
GREY = "#9a9a9a"
# Our World in Data's categorical colours (their grapher's default scheme), in order.
PALETTE = ("#6D3E91", "#C05917", "#58AC8C", "#286BBB", "#883039", "#BC8E5A", "#00295B", "#C15065",
           "#18470F", "#9A5129", "#E56E5A", "#A2559C", "#38AABA", "#578145", "#970046", "#00847E")
SOURCE_LINE = "Source: reports in news and official documents, compiled in this dataset"
CONFIG = {"displayModeBar": False, "responsive": True}  # downloads are under each chart


@dataclass
class Chart:
    key: str
    title: str
    subtitle: str
    fig: go.Figure
    data: pd.DataFrame
    source: str = SOURCE_LINE
    note: str = ""                      # said under the chart (a cap, points left out)
    config: dict = field(default_factory=lambda: dict(CONFIG))


def drug_colours(drugs: tuple[str, ...]) -> dict[str, str]:
    """One colour per drug of the file, the same in every chart and whatever the filters."""
    out, i = {}, 0
    for drug in drugs:
        if drug in ("unspecified", ""):
            out[drug] = GREY
        else:
            out[drug] = PALETTE[i % len(PALETTE)]
            i += 1
    return out


def _layout(height: int = 380, **extra) -> dict:
    layout = dict(
        font=FONT, height=height, margin=dict(l=8, r=8, t=8, b=8), paper_bgcolor="white", plot_bgcolor="white",
        hoverlabel=dict(font=dict(family=FONT["family"], size=13)), separators=".,",
        # below the plot: on a phone a legend above it would push the chart below the fold
        legend=dict(orientation="h", yanchor="top", xanchor="left", x=0, title=None, traceorder="normal",
                    font=dict(size=12), itemclick="toggleothers"),
    )
    layout.update(extra)
    return layout


def _yaxis(title: str, log: bool = False, **extra) -> dict:
    axis = dict(title=dict(text=title, font=dict(size=12)), gridcolor="#e5e5e5", zeroline=False,
                linecolor="#999", ticks="", automargin=True)
    if log:
        axis.update(type="log", exponentformat="none", dtick=1, minor=dict(showgrid=False))
    else:
        axis.update(rangemode="tozero", separatethousands=True)
    axis.update(extra)
    return axis


def date_axis(dates: pd.Series) -> dict:
    """A time axis with at least two years shown (one point would otherwise get a millisecond axis)."""
    first, last = pd.Timestamp(dates.min()), pd.Timestamp(dates.max())
    start = date(first.year, 1, 1) - timedelta(days=120)
    end = date(last.year, 12, 31) + timedelta(days=120)
    years = last.year - first.year + 1
    axis = dict(type="date", range=[start.isoformat(), end.isoformat()], showgrid=False, linecolor="#999",
                ticks="outside", tickformat="%Y", automargin=True)
    if years <= 12:
        axis["dtick"] = "M12"
    return axis


def year_axis(low: int, high: int) -> dict:
    axis = dict(type="linear", range=[low - 0.6, high + 0.6], tickformat="d", showgrid=False, linecolor="#999",
                ticks="outside", automargin=True)
    if high - low <= 12:
        axis["dtick"] = 1
    return axis


def _h(values: pd.Series) -> list[str]:
    """Text from the data, escaped for Plotly's hover labels (which read <a>, <b>, <br> ...)."""
    return [fmt.html(v) if isinstance(v, str) else "" for v in _l(values)]


def _pd(frame: pl.DataFrame) -> pd.DataFrame:
    return frame.to_pandas()


def _cd(*columns) -> np.ndarray:
    """Hover fields, one row per point, as one object array. Plotly copies and sends an array as a whole,
    while a list of tuples is validated and deep-copied cell by cell in Python (at 5,000 points that was
    most of a chart's time, and part of every rerun)."""
    columns = [list(c) for c in columns]
    out = np.empty((len(columns[0]) if columns else 0, len(columns)), dtype=object)
    for i, column in enumerate(columns):
        out[:, i] = column
    return out


def _a(values) -> np.ndarray:
    """A column as a numpy array (Plotly sends numbers and dates from an array without a Python loop)."""
    return values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)


def _l(values) -> list:
    """A pandas column as a Python list: iterating an Arrow-backed string column value by value is slow."""
    return values.tolist() if isinstance(values, pd.Series) else list(values)


def _symbols(names: np.ndarray) -> str | list[str]:
    """Marker symbols of a trace: one name when every point has the same (plotly.js then draws all markers
    from one path: at 5,000 points several times faster in the browser than a per-point array), else one
    name per point."""
    if len(names) and (names == names[0]).all():
        return str(names[0])
    return names.tolist()


def _present(colours: dict[str, str], frame: pd.DataFrame) -> list[str]:
    """The drugs of `frame`, in legend order."""
    present = set(_l(frame["drug"]))
    return [d for d in colours if d in present]


def _memo(func):
    """`func` evaluated once per distinct value (masses and prices repeat across the points of a chart)."""
    seen: dict = {}

    def call(value):
        try:
            return seen[value]
        except KeyError:
            out = seen[value] = func(value)
            return out
        except TypeError:  # unhashable
            return func(value)
    return call


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


# --------------------------------------------------------------------------- 1. kilograms per year


def kg_per_year(table: pl.DataFrame, colours: dict[str, str], span: tuple[int, int] | None,
                tablets: dict[str, float], undated: int) -> Chart | None:
    if table.is_empty():
        return None
    t = _pd(table)
    low, high = int(t["year"].min()), int(t["year"].max())
    if span is not None:
        low, high = min(low, span[0]), max(high, span[1])
    traces = []
    for drug in _present(colours, t):
        part = t[t["drug"] == drug]
        traces.append(go.Bar(
            x=_a(part["year"]), y=_a(part["kg"]), name=drug, marker_color=colours[drug],
            customdata=_cd(part["kg"].map(fmt.mass), part["seizures"].map(lambda n: _n(int(n), "seizure"))),
            hovertemplate="%{x} · " + fmt.html(drug) + "<br>%{customdata[0]} in %{customdata[1]}<extra></extra>"))
    fig = go.Figure(traces, layout=_layout(barmode="stack", xaxis=year_axis(low, high),
                                           yaxis=_yaxis("kilograms"), bargap=0.25))
    years_with = t["year"].nunique()
    notes = [f"Years without a bar ({high - low + 1 - years_with} of {high - low + 1}) have no report of a seizure "
             "with a stated mass: no data, not zero."]
    if tablets:
        notes.append("Not in kilograms: " + ", ".join(fmt.count(n, unit) for unit, n in tablets.items()) + ".")
    if undated:
        notes.append(f"{_n(undated, 'seizure')} without a date cannot be placed in a year.")
    return Chart("kg_per_year", "Kilograms seized per year, by drug",
                 "Sum of the reported masses in kilograms, each incident counted once, stacked by drug.",
                 fig, t.rename(columns={"kg": "kilograms"}), note=" ".join(notes))


# --------------------------------------------------------------------------- 2. each seizure


def seizure_points(points: pl.DataFrame, total: int, colours: dict[str, str]) -> Chart | None:
    if points.is_empty():
        return None
    p = _pd(points)
    mass, html = _memo(fmt.mass), _memo(fmt.html)
    text = _memo(lambda v: fmt.html(v) if isinstance(v, str) else "")  # as _h: blank when missing
    traces = []
    for drug in _present(colours, p):
        part = p[p["drug"] == drug]
        symbol = _symbols(np.where(_a(part["open_low"]), "triangle-down",
                                   np.where(_a(part["open_high"]), "triangle-up", "circle")))
        spread = [f"sources report {mass(a)} to {mass(b)}" if pd.notna(a) and pd.notna(b) and b > a
                  else "one figure for this incident"
                  for a, b in zip(_l(part["incident_kg_min"]), _l(part["incident_kg_max"]))]
        spread = [s + (f"<br>{html(w)}" if isinstance(w, str) and w else "") for s, w in zip(spread, _l(part["part_of"]))]
        where = [", ".join(x for x in (pl_, c) if isinstance(x, str) and x)
                 for pl_, c in zip(_l(part["place"]), _l(part["country_name"]))]
        traces.append(go.Scatter(
            x=_a(part["when"]), y=_a(part["kg"]), mode="markers", name=drug,
            marker=dict(color=colours[drug], size=9, symbol=symbol, line=dict(color="white", width=0.5)),
            error_y=dict(type="data", symmetric=False, array=_a(part["high"] - part["kg"]),
                         arrayminus=_a(part["kg"] - part["low"]), color=colours[drug], thickness=1.2, width=3),
            customdata=_cd(map(text, _l(part["date"])), map(html, where), map(text, _l(part["quantity_reported"])),
                           spread, map(mass, _l(part["kg"])), map(text, _l(part["report_id"]))),
            hovertemplate=("<b>%{customdata[4]}</b> " + fmt.html(drug) + "<br>%{customdata[0]} · %{customdata[1]}"
                           "<br>as reported: %{customdata[2]}<br>%{customdata[3]}<br>report %{customdata[5]}"
                           "<extra></extra>")))
    fig = go.Figure(traces, layout=_layout(xaxis=date_axis(p["when"]), yaxis=_yaxis("kilograms (log scale)", log=True)))
    note = (f"Showing the {len(p):,} largest of {total:,} seizures." if total > len(p) else "")
    data = p.drop(columns=["open_low", "open_high"]).rename(columns={"kg": "kilograms", "low": "kilograms_low",
                                                                      "high": "kilograms_high"})
    return Chart("seizure_points", "Each reported seizure, by date and mass",
                 "Kilograms, log scale; one dot per incident. Bars span the reported range and the spread "
                 "between sources; ▼ means at most, ▲ at least.", fig, data, note=note)


# --------------------------------------------------------------------------- 3-5. prices


def _price_chart(key: str, title: str, subtitle: str, p: pd.DataFrame, total: int, colours: dict[str, str],
                 y: str, ytitle: str, hover_lines: list[str], per: str) -> Chart:
    traces = []
    for drug in _present(colours, p):
        part = p[p["drug"] == drug]
        where = [", ".join(x for x in (a, b) if isinstance(x, str) and x)
                 for a, b in zip(_l(part["place"]), _l(part["country_name"]))]
        traces.append(go.Scatter(
            x=_a(part["when"]), y=_a(part[y]), mode="markers", name=f"{drug} (n={len(part)})",
            marker=dict(color=colours[drug], size=10, line=dict(color="white", width=0.5)),
            customdata=_cd(_h(part["date"]), map(fmt.html, where), part[y].map(lambda v: fmt.money(v) + per),
                           *[_h(part[c]) for c in hover_lines]),
            hovertemplate=("<b>%{customdata[2]}</b> " + fmt.html(drug) + "<br>%{customdata[0]} · %{customdata[1]}"
                           + "".join(f"<br>%{{customdata[{3 + i}]}}" for i in range(len(hover_lines)))
                           + "<extra></extra>")))
    values = p[y]
    log = len(values) > 1 and values.max() / max(values.min(), 1e-9) > 20
    fig = go.Figure(traces, layout=_layout(xaxis=date_axis(p["when"]), yaxis=_yaxis(ytitle, log=log),
                                           showlegend=True))
    note = f"Showing {len(p):,} of {total:,} observations." if total > len(p) else ""
    return Chart(key, title, subtitle, fig, p, note=note)


def market_prices(prices: pl.DataFrame, total: int, colours: dict[str, str], base: str) -> Chart | None:
    if prices.is_empty():
        return None
    p = _pd(prices)
    p["as reported"] = "as reported: " + p["value_reported"].fillna("")
    p["source"] = p["source_label"].fillna("")
    return _price_chart("market_prices", f"Market prices quoted in sources, per kilogram ({_n(len(p), 'quote')})",
                        f"US$ per kilogram in constant {base} dollars; prices quoted for a market, not seizure "
                        "valuations. n = quotes per drug.", p, total, colours, "usd_per_kg",
                        f"{base} US$ per kg", ["as reported", "source"], " per kg")


def implied_values(values: pl.DataFrame, total: int, colours: dict[str, str], base: str) -> Chart | None:
    if values.is_empty():
        return None
    p = _pd(values)
    p["as reported"] = "as reported: " + p["quantity_reported"].fillna("") + " worth " + p["value_reported"].fillna("")
    p["source"] = p["source_label"].fillna("")
    return _price_chart("implied_values", f"Value per kilogram implied by seizures ({_n(len(p), 'seizure')})",
                        f"Stated value of a seizure divided by its mass, in constant {base} US$ per kilogram; "
                        "authorities' valuations, often at street prices where seized. n = seizures per drug.",
                        p, total, colours, "usd_per_kg", f"{base} US$ per kg", ["as reported", "source"], " per kg")


def nk_meth_prices(prices: pl.DataFrame, total: int, every: int, colour: str, base: str) -> Chart | None:
    """`prices` as `app.queries.nk_meth_prices` gives them: one in every `every` of `total` quotes."""
    if prices.is_empty():
        return None
    p = _pd(prices)
    source = [", ".join(x for x in (o, f"“{t}”" if t else "", d) if x) for o, t, d in
              zip(p["source_outlet"].fillna(""), p["source_title"].fillna(""), p["source_date"].fillna(""))]
    rate = [f"converted at {fmt.number(r, 2)} {c} per US$" if c and c != "USD" and pd.notna(r) else ""
            for c, r in zip(p["currency"].fillna(""), p["fx_lcu_per_usd"])]
    fig = go.Figure([go.Scatter(
        x=_a(p["when"]), y=_a(p["usd_per_gram"]), mode="lines+markers" if len(p) > 1 else "markers",
        name="methamphetamine", line=dict(color=colour, width=1.5, dash="dot"),
        marker=dict(color=colour, size=10), connectgaps=False,
        customdata=_cd(p["date"], p["usd_per_gram"].map(fmt.money), p["usd_per_gram_nominal"].map(fmt.money),
                       _h(p["value_reported"]), map(fmt.html, source), rate),
        hovertemplate=("<b>%{customdata[1]} per gram</b> (" + base + " US$)<br>%{customdata[2]} in dollars of "
                       "the year · %{customdata[0]}<br>as reported: %{customdata[3]} %{customdata[5]}"
                       "<br>%{customdata[4]}<extra></extra>"))])
    values = p["usd_per_gram"]
    log = len(values) > 1 and values.max() / max(values.min(), 1e-9) > 20
    fig.update_layout(**_layout(xaxis=date_axis(p["when"]), yaxis=_yaxis(f"{base} US$ per gram", log=log),
                                showlegend=False))
    data = p.drop(columns=["when"])
    note = f"Showing {len(p):,} of {total:,} quotes: one in every {every:,}, in date order." if every > 1 else ""
    return Chart("nk_meth_prices", f"Price of methamphetamine inside North Korea ({_n(total, 'quote')})",
                 f"US$ per gram in constant {base} dollars, as quoted in reports from inside the country; each "
                 "dot is one quote.", fig, data, note=note)


# --------------------------------------------------------------------------- 6. map


def seizure_map(points: pl.DataFrame, total: int, colours: dict[str, str]) -> Chart | None:
    if points.is_empty():
        return None
    p = _pd(points)
    biggest = float(p["kg"].max() or 0)
    traces = []
    for drug in _present(colours, p):
        part = p[p["drug"] == drug]
        weighed = part["with_kg"] > 0
        amount = []
        for kg, w, n, unit in zip(part["kg"], weighed, part["count"], part["count_unit"]):
            bits = [fmt.mass(kg)] if w else []
            if n and n > 0:
                bits.append(fmt.count(n, unit or "item"))
            amount.append(" and ".join(bits) or "amount not stated")
        label = [", ".join(x for x in (a, b) if x) for a, b in zip(part["place"], part["country_name"])]
        traces.append(go.Scattergeo(
            lat=_a(part["lat"]), lon=_a(part["lon"]), mode="markers", name=drug,
            marker=dict(color=colours[drug], opacity=0.75, line=dict(color=colours[drug], width=1.5),
                        size=np.array([max(7.0, 34 * math.sqrt(k / biggest)) if w and biggest > 0 else 8
                                       for k, w in zip(part["kg"], weighed)]),
                        symbol=_symbols(np.where(_a(weighed), "circle", "circle-open"))),
            customdata=_cd(map(fmt.html, label), amount, part["seizures"].map(lambda n: _n(int(n), "seizure")),
                           part["location_precision"].fillna("")),
            hovertemplate=("<b>%{customdata[0]}</b><br>" + fmt.html(drug) + ": %{customdata[1]} in %{customdata[2]}"
                           "<br>position: %{customdata[3]}<extra></extra>")))
    geo = dict(projection=dict(type="natural earth"), showcountries=True, countrycolor="#b5b5b5", countrywidth=0.5,
               showland=True, landcolor="#f2f2ee", showocean=True, oceancolor="#eaf2f8", showlakes=False,
               coastlinecolor="#9a9a9a", showframe=False, resolution=110, lataxis=dict(range=[-58, 85]))
    fig = go.Figure(traces, layout=_layout(height=420, geo=geo))
    note = f"Showing the {len(p):,} largest of {total:,} places." if total > len(p) else ""
    return Chart("map", "Where the seizures were reported",
                 "One circle per place and drug, its area proportional to the kilograms seized; hollow circles: "
                 "counted in tablets or amount not stated. A source naming only a country puts it at the centre.",
                 fig, p, note=note, config=map_config())


@functools.lru_cache(maxsize=1)
def _topology_data_url() -> str:
    # '#' at the end: plotly.js appends "/world_110m.json", which then lands in the fragment
    return "data:application/json;base64," + base64.b64encode(gzip.decompress(TOPOLOGY.read_bytes())).decode() + "#"


def map_config() -> dict:
    """plotly.js config for the map: the world outlines inline, so nothing is fetched from the internet."""
    return {**CONFIG, "topojsonURL": _topology_data_url()}


# --------------------------------------------------------------------------- export


def export_figure(chart: Chart, url: str, version: str, created: str, width: int = 1000) -> go.Figure:
    """A copy of the chart's figure with its title, subtitle, source, date and address drawn in."""
    fig = go.Figure(copy.deepcopy(chart.fig.to_dict()))
    chars = width // 8
    title = textwrap.wrap(chart.title, int(chars / 1.45))
    subtitle = textwrap.wrap(chart.subtitle, chars)
    foot = [chart.source + "."] + ([chart.note] if chart.note else []) + [
        f"Data version {version}, built {created}. {url}"]
    foot = [line for text in foot for line in textwrap.wrap(text, int(chars * 1.15))]
    title_px, sub_px, foot_px = 26 * len(title), 19 * len(subtitle), 16 * len(foot)
    top, bottom = 20 + title_px + 8 + sub_px + 20, 40 + foot_px
    plot_h = fig.layout.height or 380
    height = plot_h + top + bottom
    legend_right = len(fig.data) > 1
    fig.update_layout(width=width, height=height, title=None,
                      margin=dict(l=60, r=230 if legend_right else 30, t=top, b=bottom),
                      legend=dict(orientation="v", x=1.02, xanchor="left", y=1, yanchor="top", itemsizing="constant"))

    def note(text: str, y_px: float, size: int, colour: str, anchor: str = "top") -> None:
        # y_px: distance from the top of the picture
        fig.add_annotation(text=text, xref="paper", yref="paper", x=0, xanchor="left",
                           y=1 + (top - y_px) / plot_h, yanchor=anchor, align="left", showarrow=False,
                           font=dict(size=size, color=colour, family=FONT["family"]), xshift=-50)

    note("<b>" + "<br>".join(title) + "</b>", 16, 21, "#222")
    note("<br>".join(subtitle), 16 + title_px + 8, 14, "#555")
    note("<br>".join(foot), height - 10, 11, "#555", anchor="bottom")
    return fig
