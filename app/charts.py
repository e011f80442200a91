"""Plotly figures of the dashboard. Each builder takes the filtered rows and returns a Figure,
or None when the rows hold nothing to draw (the page then says so).

The numbers come from `app.data`; these functions only arrange them.
"""
from __future__ import annotations

import base64
import functools
import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

from app import data
from app import format as fmt

TOPOLOGY = Path(__file__).resolve().parent / "assets" / "world_110m.json.gz"
UNKNOWN_GREY = "#9a9a9a"
SYMBOLS = {"range": "circle", "at most": "triangle-down", "at least": "triangle-up"}
PRICE_SYMBOLS = {"quoted price": "circle", "implied by a seizure": "diamond-open"}
FONT = dict(family="Source Sans Pro, sans-serif", size=13)


# --- Colours that stay the same whatever the filter -------------------------------

def palette(values: list[str], grey: tuple[str, ...] = ("unspecified", "")) -> dict[str, str]:
    """A colour per value, assigned in sorted order so a value keeps its colour across filters."""
    colours = [c for c in qualitative.Safe + qualitative.Vivid if c not in ("#888888", "rgb(136, 136, 136)", "rgb(165, 170, 153)")]
    named = [v for v in sorted(set(values)) if v not in grey]
    out = {v: colours[i % len(colours)] for i, v in enumerate(named)}
    out.update({v: UNKNOWN_GREY for v in grey})
    return out


def _layout(fig: go.Figure, title: str, height: int = 420) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left", font=dict(size=15)),
        height=height,
        margin=dict(l=10, r=10, t=50, b=10),
        legend=dict(orientation="h", yanchor="top", y=-0.12, xanchor="left", x=0, title_text="", traceorder="normal",
                    itemsizing="constant"),
        font=FONT,
        hoverlabel=dict(align="left"),
    )
    return fig


def _unvalidated(traces: list) -> go.Figure:
    """A figure of scatter traces built without plotly's per-element validation.

    Validating thousands of marker symbols and hover texts costs more than a
    rerun may take; the builders pass arrays of the right types, and the JSON sent
    to the browser is the same.
    """
    return go.Figure(traces, _validate=False)


def _country_names(codes: pd.Series) -> np.ndarray:
    names = {c: data.country_name(c) for c in set(codes)}
    return np.array([names[c] for c in codes], dtype=object)


def _text(values: pd.Series) -> np.ndarray:
    """Text cells for hover labels: empty instead of missing."""
    return values.astype("string").fillna("").to_numpy(dtype=object)


# --- 1. Kilograms per year, stacked by drug -------------------------------------------

def kg_per_year(rows: pd.DataFrame, count_once: bool, log: bool, colours: dict[str, str]) -> go.Figure | None:
    return kg_per_year_figure(data.kg_per_year(rows, count_once), log, colours)


def kg_per_year_figure(table: pd.DataFrame, log: bool, colours: dict[str, str]) -> go.Figure | None:
    """The figure of a data.kg_per_year() table (one bar per year and drug: never many points)."""
    if table.empty:
        return None
    fig = go.Figure()
    order = table.groupby("drug")["kg"].sum().sort_values(ascending=False).index
    for drug in order:
        part = table[table["drug"] == drug]
        fig.add_trace(go.Bar(
            x=part["year"].to_numpy(), y=part["kg"].to_numpy(), name=str(drug),
            marker_color=colours.get(drug, UNKNOWN_GREY),
            customdata=part["seizures"].to_numpy(),
            hovertemplate="%{x}: %{y:,.4~f} kg of " + str(drug) + " in %{customdata} seizure(s)<extra></extra>",
        ))
    fig.update_layout(barmode="stack")
    span = int(table["year"].max() - table["year"].min())
    fig.update_xaxes(title_text=None, dtick=1 if span < 8 else None, tickformat="d")
    fig.update_yaxes(title_text="Kilograms seized" + (" (log scale)" if log else ""),
                     type="log" if log else "linear", tickformat=",~g")
    return _layout(fig, "Kilograms seized per year, by drug")


# --- 2. Each seizure as a point -----------------------------------------------------

def seizure_points(rows: pd.DataFrame, colours: dict[str, str]) -> go.Figure | None:
    return seizure_points_figure(data.seizure_points(rows), colours)


def seizure_points_figure(points: pd.DataFrame, colours: dict[str, str]) -> go.Figure | None:
    """The figure of data.seizure_points() (or of the capped sample the page passes)."""
    if points.empty:
        return None
    biggest = float(points["quantity_kg"].max())
    traces = []
    for drug in sorted(points["drug"].unique()):
        part = points[points["drug"] == drug]
        traces.append(go.Scatter(
            x=part[data.WHEN].to_numpy(), y=part["quantity_kg"].to_numpy(), mode="markers", name=str(drug),
            marker=dict(
                size=part["quantity_kg"].to_numpy(), sizemode="area", sizemin=6,
                sizeref=2.0 * biggest / (36.0 ** 2) if biggest > 0 else 1,
                symbol=[SYMBOLS[b] for b in part["bound"]],
                color=colours.get(drug, UNKNOWN_GREY), opacity=0.8, line=dict(width=1, color="white"),
            ),
            error_y=dict(type="data", symmetric=False, array=part["err_plus"].to_numpy(),
                         arrayminus=part["err_minus"].to_numpy(), thickness=1.5, width=4),
            customdata=np.stack([_text(part["quantity_reported"]), _text(part["date"]), _text(part["place"]),
                                 _country_names(part["country"]), _text(part["bound"]), _text(part["source"])],
                                axis=-1),
            hovertemplate=("<b>%{customdata[2]} %{customdata[3]}</b>, %{customdata[1]}<br>"
                           "%{y:,.4~f} kg (reported: %{customdata[0]}; %{customdata[4]})<br>"
                           "%{customdata[5]}<extra>" + str(drug) + "</extra>"),
            _validate=False,
        ))
    fig = _unvalidated(traces)
    fig.update_xaxes(title_text=None)
    fig.update_yaxes(title_text="Kilograms (log scale)", type="log", tickformat=",~g")
    return _layout(fig, "Each seizure: kilograms and reported range")


# --- 3. Prices per kilogram -----------------------------------------------------------

def prices(rows: pd.DataFrame, constant: bool, base_year: int | None, colours: dict[str, str]) -> go.Figure | None:
    return prices_figure(data.price_points(rows, constant), constant, base_year, colours)


def prices_figure(points: pd.DataFrame, constant: bool, base_year: int | None,
                  colours: dict[str, str]) -> go.Figure | None:
    """The figure of data.price_points() (or of the capped sample the page passes)."""
    if points.empty:
        return None
    dollars = f"constant {base_year} US$" if constant and base_year else ("constant US$" if constant else "nominal US$")
    hover = np.stack([_text(points["reported"]), _text(points["quantity_reported"]), _text(points["date"]),
                      _text(points["drug"]), _text(points["source"])], axis=-1)
    traces = []
    groups = points.groupby(["country", "price_type"], sort=True).indices
    for (country, kind), at in sorted(groups.items(), key=lambda item: item[0]):
        part = points.iloc[at]
        traces.append(go.Scatter(
            x=part["when"].to_numpy(), y=part["usd_per_kg"].to_numpy(), mode="markers",
            name=f"{data.country_name(country)} · {kind}", legendgroup=str(country),
            marker=dict(symbol=PRICE_SYMBOLS[kind], size=12, color=colours.get(country, UNKNOWN_GREY),
                        line=dict(width=2, color=colours.get(country, UNKNOWN_GREY))),
            error_y=dict(type="data", symmetric=False, array=part["err_plus"].to_numpy(),
                         arrayminus=part["err_minus"].to_numpy(), thickness=1.5, width=5),
            customdata=hover[at],
            hovertemplate=("<b>%{customdata[3]}</b>, %{customdata[2]}<br>"
                           "$%{y:,.0f} per kg (" + dollars + ")<br>"
                           "reported: %{customdata[0]} %{customdata[1]}<br>%{customdata[4]}"
                           "<extra>" + kind + "</extra>"),
            _validate=False,
        ))
    fig = _unvalidated(traces)
    fig.update_xaxes(title_text=None)
    fig.update_yaxes(title_text="US$ per kg (log scale)", type="log", tickformat="$,~s")
    return _layout(fig, f"Prices per kilogram ({dollars})")


# --- 4. Map -------------------------------------------------------------------------

def seizure_map(rows: pd.DataFrame, count_once: bool, colours: dict[str, str]) -> go.Figure | None:
    return map_figure(data.map_points(rows, count_once), colours)


def map_figure(points: pd.DataFrame, colours: dict[str, str]) -> go.Figure | None:
    """The figure of data.map_points(): one circle per place and drug."""
    if points.empty:
        return None
    biggest = float(points["kg"].max())
    fig = go.Figure()
    for drug in sorted(points["drug"].unique()):
        part = points[points["drug"] == drug]
        weighed = part["with_kg"] > 0
        colour = colours.get(drug, UNKNOWN_GREY)
        kg_text = np.where(weighed, [fmt.kg(v) for v in part["kg"]], "amount not stated")
        fig.add_trace(go.Scattergeo(
            lat=part["lat"].to_numpy(), lon=part["lon"].to_numpy(), name=str(drug), mode="markers",
            marker=dict(
                size=np.where(weighed, part["kg"].to_numpy(), 0.0), sizemode="area", sizemin=7,
                sizeref=2.0 * biggest / (40.0 ** 2) if biggest > 0 else 1,
                symbol=np.where(weighed, "circle", "circle-open").tolist(),
                color=colour, opacity=0.75, line=dict(width=1.5, color=colour),
            ),
            customdata=np.stack([_text(part["label"]), kg_text, part["seizures"].to_numpy(),
                                 _text(part["location_precision"])], axis=-1),
            hovertemplate=("<b>%{customdata[0]}</b><br>%{customdata[1]} in %{customdata[2]} seizure(s)<br>"
                           "position: %{customdata[3]}<extra>" + str(drug) + "</extra>"),
        ))
    fig.update_geos(
        projection_type="natural earth", showcountries=True, countrycolor="#b5b5b5", countrywidth=0.5,
        showland=True, landcolor="#f2f2ee", showocean=True, oceancolor="#eaf2f8", showlakes=False,
        coastlinecolor="#9a9a9a", showframe=False, resolution=110,
    )
    return _layout(fig, "Where seizures were reported", height=460)


@functools.lru_cache(maxsize=1)
def _topology_data_url() -> str:
    # '#' at the end: plotly.js appends "/world_110m.json", which then lands in the fragment
    return "data:application/json;base64," + base64.b64encode(_gunzip(TOPOLOGY)).decode("ascii") + "#"


def _gunzip(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes())


def map_config() -> dict:
    """plotly.js config for the map: the world outlines inline, so nothing is fetched from the internet."""
    return {"topojsonURL": _topology_data_url(), "displaylogo": False}


CONFIG = {"displaylogo": False}


# --- 5. Our conversion against the source's own dollar figure ---------------------------

def usd_check(rows: pd.DataFrame, tolerance_pct: float | None) -> go.Figure | None:
    return usd_check_figure(data.usd_checks(rows), tolerance_pct)


def usd_check_figure(checked: pd.DataFrame, tolerance_pct: float | None) -> go.Figure | None:
    """One row per checked figure (data.usd_checks()); a histogram when given only a `pct` column."""
    if checked.empty:
        return None
    if "label" not in checked.columns:
        return usd_check_histogram(checked["pct"].to_numpy(dtype=float), tolerance_pct)
    fig = go.Figure()
    if tolerance_pct:
        fig.add_vrect(x0=-tolerance_pct, x1=tolerance_pct, fillcolor="#2ca02c", opacity=0.08, line_width=0,
                      annotation_text=f"±{tolerance_pct:g}% tolerance", annotation_position="top left")
    fig.add_vline(x=0, line_color="#777", line_width=1)
    stated = np.where(checked["usd_stated_amount"].notna(),
                      ["$" + fmt.number(v) for v in checked["usd_stated_amount"]], "–")
    rate = np.where(checked["stated_lcu_per_usd"].notna(),
                    [fmt.number(v, 2) for v in checked["stated_lcu_per_usd"]], "–")
    fig.add_trace(go.Scatter(
        x=checked["usd_check_pct"].to_numpy(), y=_text(checked["label"]), mode="markers",
        marker=dict(size=12, color=np.where(checked["usd_check_pct"].abs() <= (tolerance_pct or np.inf),
                                            "#1f77b4", "#d62728").tolist()),
        customdata=np.stack([["$" + fmt.number(v) for v in checked["value_usd"]], stated, rate,
                             _text(checked["basis"])], axis=-1),
        hovertemplate=("<b>%{y}</b><br>ours: %{customdata[0]}<br>source: %{customdata[1]} "
                       "(rate %{customdata[2]} per US$)<br>difference: %{x:+.2f}% against the %{customdata[3]}"
                       "<extra></extra>"),
        showlegend=False,
    ))
    widest = float(max(checked["usd_check_pct"].abs().max(), tolerance_pct or 0)) * 1.3 or 1.0
    fig.update_xaxes(title_text="Our US$ figure minus the source's, in % of the source's", range=[-widest, widest],
                     ticksuffix="%", zeroline=False)
    fig.update_yaxes(title_text="", automargin=True)
    return _layout(fig, "Our dollar conversion against the source's own figure",
                   height=max(260, 90 + 40 * len(checked)))


def usd_check_histogram(pct: np.ndarray, tolerance_pct: float | None) -> go.Figure:
    """How many checked figures fall in each band of difference (for selections with many of them).

    At most data.USD_CHECK_BINS bars; the outermost bars collect everything beyond the axis.
    """
    widest = float(max(np.nanpercentile(np.abs(pct), 99) if len(pct) else 0, tolerance_pct or 0)) * 1.3 or 1.0
    edges = np.linspace(-widest, widest, data.USD_CHECK_BINS + 1)
    counts, _ = np.histogram(np.clip(pct, -widest, widest), bins=edges)
    centres = (edges[:-1] + edges[1:]) / 2
    inside = np.abs(centres) <= (tolerance_pct or np.inf)
    fig = go.Figure()
    if tolerance_pct:
        fig.add_vrect(x0=-tolerance_pct, x1=tolerance_pct, fillcolor="#2ca02c", opacity=0.08, line_width=0,
                      annotation_text=f"±{tolerance_pct:g}% tolerance", annotation_position="top left")
    fig.add_trace(go.Bar(
        x=centres, y=counts, width=edges[1] - edges[0],
        marker_color=np.where(inside, "#1f77b4", "#d62728").tolist(),
        customdata=np.stack([edges[:-1], edges[1:]], axis=-1),
        hovertemplate="%{customdata[0]:+.1f}% to %{customdata[1]:+.1f}%: %{y:,} figure(s)<extra></extra>",
        showlegend=False,
    ))
    fig.update_xaxes(title_text="Our US$ figure minus the source's, in % of the source's", range=[-widest, widest],
                     ticksuffix="%", zeroline=False)
    fig.update_yaxes(title_text="Figures checked", tickformat=",d")
    return _layout(fig, "Our dollar conversion against the source's own figure", height=360)
