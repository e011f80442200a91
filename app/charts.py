"""Plotly figures of the dashboard. Each builder takes the filtered rows and returns a figure,
or None when the rows hold nothing to draw (the page then says so).

The numbers come from `app.data`; these functions only arrange them.

The page's builders (`*_figure`) write the figure directly in plotly.js's JSON form
(a `PlotlySpec`: the dicts and arrays plotly's own `Figure.to_dict()` would give,
key for key): plotly's object model validates every property, parses every
path and deep-copies every array twice on the way to the browser, which on a
million rows costs more than a rerun may take. `PlotlySpec.figure()` gives the
validated `go.Figure` of the same spec; the functions that take rows
(`kg_per_year()`, `seizure_points()`, ...) return that.
"""
from __future__ import annotations

import base64
import functools
import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from _plotly_utils.basevalidators import is_homogeneous_array
from _plotly_utils.utils import is_skipped_key, to_typed_array_spec
from plotly.colors import qualitative

from app import data
from app import format as fmt

TOPOLOGY = Path(__file__).resolve().parent / "assets" / "world_110m.json.gz"
UNKNOWN_GREY = "#9a9a9a"
SYMBOLS = {"range": "circle", "at most": "triangle-down", "at least": "triangle-up"}
PRICE_SYMBOLS = {"quoted price": "circle", "implied by a seizure": "diamond-open"}
FONT = dict(family="Source Sans Pro, sans-serif", size=13)


class PlotlySpec(go.Figure):
    """A figure already in plotly.js's JSON form: {"data": [trace dicts], "layout": {...}}.

    `st.plotly_chart` takes any plotly Figure and sends `figure.to_dict()`; this one
    answers with its spec (numpy arrays as plotly's typed arrays, as `Figure.to_dict()`
    writes them), without building plotly objects. Only `to_dict()`, `to_plotly_json()`
    and `figure()` are meant to be used: the rest of go.Figure's interface is not set up.
    """

    def __init__(self, spec: dict) -> None:  # noqa: D107 - deliberately not go.Figure.__init__
        self._spec = spec

    @property
    def spec(self) -> dict:
        return self._spec

    def to_dict(self) -> dict:
        return _with_typed_arrays(self.spec)

    def to_plotly_json(self) -> dict:
        return self.to_dict()

    def figure(self) -> go.Figure:
        """The validated plotly Figure of this spec (slow: for tests and notebooks)."""
        spec = _copy_tree(self.spec)  # plotly keeps what it is given: never the spec's own dicts
        return go.Figure(data=spec.get("data", []), layout=spec.get("layout", {}))

    def __repr__(self) -> str:
        return f"PlotlySpec({len(self.spec.get('data', []))} traces)"


def _with_typed_arrays(value):
    """A copy of a spec with numpy arrays as plotly's typed arrays: what convert_to_base64 makes of it.

    Plain numeric arrays are encoded here (as plotly's to_typed_array_spec does, without
    its per-array conversions); anything else goes through plotly's own functions.
    """
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if is_skipped_key(key):
                out[key] = item
            elif isinstance(item, np.ndarray):
                out[key] = _typed_array(item)
            elif isinstance(item, (dict, list, tuple)):
                out[key] = _with_typed_arrays(item)
            elif isinstance(item, (str, int, float, bool)) or item is None or not is_homogeneous_array(item):
                out[key] = item
            else:
                out[key] = to_typed_array_spec(item)
        return out
    if isinstance(value, (list, tuple)):
        return type(value)(_with_typed_arrays(item) for item in value)
    return value


_SHORT_TYPES = {"int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2", "int32": "i4", "uint32": "u4",
                "float32": "f4", "float64": "f8"}


def _typed_array(array: np.ndarray):
    """plotly's to_typed_array_spec() for a numpy array: {"dtype", "bdata"(, "shape")} for numbers."""
    if array.dtype.kind not in "iuf" or not array.size:
        return to_typed_array_spec(array)
    array = np.ascontiguousarray(array)
    if array.dtype == np.int64 or array.dtype == np.uint64:  # plotly.js has no 64-bit integers
        low, high = int(array.min()), int(array.max())
        signed = array.dtype == np.int64
        for small in ((np.int8, np.int16, np.int32) if signed else (np.uint8, np.uint16, np.uint32)):
            info = np.iinfo(small)
            if info.min <= low and high <= info.max:
                array = array.astype(small)
                break
        else:
            return to_typed_array_spec(array)
    short = _SHORT_TYPES.get(str(array.dtype))
    if short is None:
        return to_typed_array_spec(array)
    out = {"dtype": short, "bdata": base64.b64encode(array).decode("ascii")}
    if array.ndim > 1:
        out["shape"] = str(array.shape)[1:-1]
    return out


def _copy_tree(value):
    """Dicts and lists copied, anything else (arrays, text, numbers) shared."""
    if isinstance(value, dict):
        return {k: _copy_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_tree(v) for v in value]
    return value


@functools.lru_cache(maxsize=8)
def _template_of(name) -> dict | None:
    """The default template (named `name`, the cache key) as go.Figure() writes it into a figure's layout."""
    return go.Figure().to_dict()["layout"].get("template")


def _spec(traces: list[dict], layout: dict) -> PlotlySpec:
    """A figure of `traces` with `layout`, under plotly's default template (as go.Figure() would put it)."""
    template = _template_of(pio.templates.default)
    head = {"template": template} if template is not None else {}
    return PlotlySpec({"data": traces, "layout": {**head, **layout}})


def _layout(title: str, height: int = 420) -> dict:
    """The layout every chart shares (what update_layout writes for these settings, in its order)."""
    return {
        "title": {"font": {"size": 15}, "text": title, "x": 0, "xanchor": "left"},
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
        "legend": {"title": {"text": ""}, "orientation": "h", "yanchor": "top", "y": -0.12, "xanchor": "left", "x": 0,
                   "traceorder": "normal", "itemsizing": "constant"},
        "font": dict(FONT),
        "hoverlabel": {"align": "left"},
    }


def _height_last(layout: dict) -> dict:
    """The shared layout with height last (the order plotly writes it in for validated figures)."""
    height = layout.pop("height")
    layout["height"] = height
    return layout


# --- Colours that stay the same whatever the filter -------------------------------

def palette(values: list[str], grey: tuple[str, ...] = ("unspecified", "")) -> dict[str, str]:
    """A colour per value, assigned in sorted order so a value keeps its colour across filters."""
    colours = [c for c in qualitative.Safe + qualitative.Vivid if c not in ("#888888", "rgb(136, 136, 136)", "rgb(165, 170, 153)")]
    named = [v for v in sorted(set(values)) if v not in grey]
    out = {v: colours[i % len(colours)] for i, v in enumerate(named)}
    out.update({v: UNKNOWN_GREY for v in grey})
    return out


def _country_names(codes: pd.Series) -> np.ndarray:
    names = {c: data.country_name(c) for c in set(codes)}
    return np.array([names[c] for c in codes], dtype=object)


def _text(values: pd.Series) -> np.ndarray:
    """Text cells for hover labels: empty instead of missing."""
    return values.astype("string").fillna("").to_numpy(dtype=object)


# --- 1. Kilograms per year, stacked by drug -------------------------------------------

def kg_per_year(rows: pd.DataFrame, count_once: bool, log: bool, colours: dict[str, str]) -> go.Figure | None:
    spec = kg_per_year_figure(data.kg_per_year(rows, count_once), log, colours)
    return spec.figure() if spec is not None else None


def kg_per_year_figure(table: pd.DataFrame, log: bool, colours: dict[str, str]) -> PlotlySpec | None:
    """The figure of a data.kg_per_year() table (one bar per year and drug: never many points)."""
    if table.empty:
        return None
    traces = []
    order = table.groupby("drug")["kg"].sum().sort_values(ascending=False).index
    for drug in order:
        part = table[table["drug"] == drug]
        traces.append({
            "customdata": part["seizures"].to_numpy(),
            "hovertemplate": "%{x}: %{y:,.4~f} kg of " + str(drug) + " in %{customdata} seizure(s)<extra></extra>",
            "marker": {"color": colours.get(drug, UNKNOWN_GREY)},
            "name": str(drug),
            "x": part["year"].to_numpy(),
            "y": part["kg"].to_numpy(),
            "type": "bar",
        })
    span = int(table["year"].max() - table["year"].min())
    xaxis = {"dtick": 1, "tickformat": "d"} if span < 8 else {"tickformat": "d"}
    yaxis = {"title": {"text": "Kilograms seized" + (" (log scale)" if log else "")},
             "type": "log" if log else "linear", "tickformat": ",~g"}
    layout = {"barmode": "stack", "xaxis": xaxis, "yaxis": yaxis,
              **_height_last(_layout("Kilograms seized per year, by drug"))}
    return _spec(traces, layout)


# --- 2. Each seizure as a point -----------------------------------------------------

def seizure_points(rows: pd.DataFrame, colours: dict[str, str]) -> go.Figure | None:
    spec = seizure_points_figure(data.seizure_points(rows), colours)
    return spec.figure() if spec is not None else None


def seizure_points_figure(points: pd.DataFrame, colours: dict[str, str]) -> PlotlySpec | None:
    """The figure of data.seizure_points() (or of the capped sample the page passes)."""
    if points.empty:
        return None
    biggest = float(points["quantity_kg"].max())
    hover = np.stack([_text(points["quantity_reported"]), _text(points["date"]), _text(points["place"]),
                      _country_names(points["country"]), _text(points["bound"]), _text(points["source"])], axis=-1)
    symbols = np.array([SYMBOLS[b] for b in points["bound"]], dtype=object)
    traces = []
    for drug, at in sorted(_groups(points["drug"]).items()):
        part = points.iloc[at]
        traces.append({
            "customdata": hover[at],
            "error_y": {"type": "data", "symmetric": False, "array": part["err_plus"].to_numpy(),
                        "arrayminus": part["err_minus"].to_numpy(), "thickness": 1.5, "width": 4},
            "hovertemplate": ("<b>%{customdata[2]} %{customdata[3]}</b>, %{customdata[1]}<br>"
                              "%{y:,.4~f} kg (reported: %{customdata[0]}; %{customdata[4]})<br>"
                              "%{customdata[5]}<extra>" + str(drug) + "</extra>"),
            "marker": {
                "size": part["quantity_kg"].to_numpy(), "sizemode": "area", "sizemin": 6,
                "sizeref": 2.0 * biggest / (36.0 ** 2) if biggest > 0 else 1,
                "symbol": symbols[at].tolist(),
                "color": colours.get(drug, UNKNOWN_GREY), "opacity": 0.8, "line": {"width": 1, "color": "white"},
            },
            "mode": "markers",
            "name": str(drug),
            "x": part[data.WHEN].to_numpy(),
            "y": part["quantity_kg"].to_numpy(),
            "type": "scatter",
        })
    layout = {"yaxis": {"title": {"text": "Kilograms (log scale)"}, "type": "log", "tickformat": ",~g"},
              **_layout("Each seizure: kilograms and reported range")}
    return _spec(traces, layout)


def _groups(values: pd.Series) -> dict:
    """Positions (in order) of each distinct value (as groupby(...).indices, missing values left out)."""
    codes, uniques = pd.factorize(values)
    if not len(uniques):
        return {}
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    return {uniques[i]: order[bounds[i]:bounds[i + 1]] for i in range(len(uniques))}


# --- 3. Prices per kilogram -----------------------------------------------------------

def prices(rows: pd.DataFrame, constant: bool, base_year: int | None, colours: dict[str, str]) -> go.Figure | None:
    spec = prices_figure(data.price_points(rows, constant), constant, base_year, colours)
    return spec.figure() if spec is not None else None


def prices_figure(points: pd.DataFrame, constant: bool, base_year: int | None,
                  colours: dict[str, str]) -> PlotlySpec | None:
    """The figure of data.price_points() (or of the capped sample the page passes)."""
    if points.empty:
        return None
    dollars = f"constant {base_year} US$" if constant and base_year else ("constant US$" if constant else "nominal US$")
    hover = np.stack([_text(points["reported"]), _text(points["quantity_reported"]), _text(points["date"]),
                      _text(points["drug"]), _text(points["source"])], axis=-1)
    traces = []
    groups = points.groupby(["country", "price_type"], sort=True).indices
    when, usd = points["when"].to_numpy(), points["usd_per_kg"].to_numpy()
    err_plus, err_minus = points["err_plus"].to_numpy(), points["err_minus"].to_numpy()
    for (country, kind), at in sorted(groups.items(), key=lambda item: item[0]):
        colour = colours.get(country, UNKNOWN_GREY)
        traces.append({
            "customdata": hover[at],
            "error_y": {"type": "data", "symmetric": False, "array": err_plus[at], "arrayminus": err_minus[at],
                        "thickness": 1.5, "width": 5},
            "hovertemplate": ("<b>%{customdata[3]}</b>, %{customdata[2]}<br>"
                              "$%{y:,.0f} per kg (" + dollars + ")<br>"
                              "reported: %{customdata[0]} %{customdata[1]}<br>%{customdata[4]}"
                              "<extra>" + kind + "</extra>"),
            "legendgroup": str(country),
            "marker": {"symbol": PRICE_SYMBOLS[kind], "size": 12, "color": colour,
                       "line": {"width": 2, "color": colour}},
            "mode": "markers",
            "name": f"{data.country_name(country)} · {kind}",
            "x": when[at],
            "y": usd[at],
            "type": "scatter",
        })
    layout = {"yaxis": {"title": {"text": "US$ per kg (log scale)"}, "type": "log", "tickformat": "$,~s"},
              **_layout(f"Prices per kilogram ({dollars})")}
    return _spec(traces, layout)


# --- 4. Map -------------------------------------------------------------------------

def seizure_map(rows: pd.DataFrame, count_once: bool, colours: dict[str, str]) -> go.Figure | None:
    spec = map_figure(data.map_points(rows, count_once), colours)
    return spec.figure() if spec is not None else None


def map_figure(points: pd.DataFrame, colours: dict[str, str]) -> PlotlySpec | None:
    """The figure of data.map_points(): one circle per place and drug."""
    if points.empty:
        return None
    biggest = float(points["kg"].max())
    traces = []
    for drug in sorted(points["drug"].unique()):
        part = points[points["drug"] == drug]
        weighed = part["with_kg"] > 0
        colour = colours.get(drug, UNKNOWN_GREY)
        kg_text = np.where(weighed, [fmt.kg(v) for v in part["kg"]], "amount not stated")
        traces.append({
            "customdata": np.stack([_text(part["label"]), kg_text, part["seizures"].to_numpy(),
                                    _text(part["location_precision"])], axis=-1),
            "hovertemplate": ("<b>%{customdata[0]}</b><br>%{customdata[1]} in %{customdata[2]} seizure(s)<br>"
                              "position: %{customdata[3]}<extra>" + str(drug) + "</extra>"),
            "lat": part["lat"].to_numpy(),
            "lon": part["lon"].to_numpy(),
            "marker": {
                "color": colour, "line": {"color": colour, "width": 1.5}, "opacity": 0.75,
                "size": np.where(weighed, part["kg"].to_numpy(), 0.0), "sizemin": 7, "sizemode": "area",
                "sizeref": 2.0 * biggest / (40.0 ** 2) if biggest > 0 else 1,
                "symbol": np.where(weighed, "circle", "circle-open").tolist(),
            },
            "mode": "markers",
            "name": str(drug),
            "type": "scattergeo",
        })
    geo = {"projection": {"type": "natural earth"}, "showcountries": True, "countrycolor": "#b5b5b5",
           "countrywidth": 0.5, "showland": True, "landcolor": "#f2f2ee", "showocean": True,
           "oceancolor": "#eaf2f8", "showlakes": False, "coastlinecolor": "#9a9a9a", "showframe": False,
           "resolution": 110}
    return _spec(traces, {"geo": geo, **_height_last(_layout("Where seizures were reported", height=460))})


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
    spec = usd_check_figure(data.usd_checks(rows), tolerance_pct)
    return spec.figure() if spec is not None else None


def _tolerance(tolerance_pct: float | None) -> tuple[list, list]:
    """The shaded band of the tolerance and its label (what add_vrect writes), or nothing."""
    if not tolerance_pct:
        return [], []
    band = {"fillcolor": "#2ca02c", "line": {"width": 0}, "opacity": 0.08, "type": "rect", "x0": -tolerance_pct,
            "x1": tolerance_pct, "xref": "x", "y0": 0, "y1": 1, "yref": "y domain"}
    label = {"showarrow": False, "text": f"±{tolerance_pct:g}% tolerance", "x": -tolerance_pct, "xanchor": "left",
             "xref": "x", "y": 1, "yanchor": "top", "yref": "y domain"}
    return [band], [label]


def usd_check_figure(checked: pd.DataFrame, tolerance_pct: float | None) -> PlotlySpec | None:
    """One row per checked figure (data.usd_checks()); a histogram when given only a `pct` column."""
    if checked.empty:
        return None
    if "label" not in checked.columns:
        return usd_check_histogram(checked["pct"].to_numpy(dtype=float), tolerance_pct)
    shapes, annotations = _tolerance(tolerance_pct)
    shapes.append({"line": {"color": "#777", "width": 1}, "type": "line", "x0": 0, "x1": 0, "xref": "x",
                   "y0": 0, "y1": 1, "yref": "y domain"})
    stated = np.where(checked["usd_stated_amount"].notna(),
                      ["$" + fmt.number(v) for v in checked["usd_stated_amount"]], "–")
    rate = np.where(checked["stated_lcu_per_usd"].notna(),
                    [fmt.number(v, 2) for v in checked["stated_lcu_per_usd"]], "–")
    trace = {
        "customdata": np.stack([["$" + fmt.number(v) for v in checked["value_usd"]], stated, rate,
                                _text(checked["basis"])], axis=-1),
        "hovertemplate": ("<b>%{y}</b><br>ours: %{customdata[0]}<br>source: %{customdata[1]} "
                          "(rate %{customdata[2]} per US$)<br>difference: %{x:+.2f}% against the %{customdata[3]}"
                          "<extra></extra>"),
        "marker": {"color": np.where(checked["usd_check_pct"].abs() <= (tolerance_pct or np.inf),
                                     "#1f77b4", "#d62728").tolist(), "size": 12},
        "mode": "markers",
        "showlegend": False,
        "x": checked["usd_check_pct"].to_numpy(),
        "y": _text(checked["label"]),
        "type": "scatter",
    }
    widest = float(max(checked["usd_check_pct"].abs().max(), tolerance_pct or 0)) * 1.3 or 1.0
    layout = {"shapes": shapes, **({"annotations": annotations} if annotations else {}),
              "xaxis": {"title": {"text": "Our US$ figure minus the source's, in % of the source's"},
                        "range": [-widest, widest], "ticksuffix": "%", "zeroline": False},
              "yaxis": {"title": {"text": ""}, "automargin": True},
              **_height_last(_layout("Our dollar conversion against the source's own figure",
                                     height=max(260, 90 + 40 * len(checked))))}
    return _spec([trace], layout)


def usd_check_histogram(pct: np.ndarray, tolerance_pct: float | None) -> PlotlySpec:
    """How many checked figures fall in each band of difference (for selections with many of them).

    At most data.USD_CHECK_BINS bars; the outermost bars collect everything beyond the axis.
    """
    widest = float(max(np.nanpercentile(np.abs(pct), 99) if len(pct) else 0, tolerance_pct or 0)) * 1.3 or 1.0
    edges = np.linspace(-widest, widest, data.USD_CHECK_BINS + 1)
    counts, _ = np.histogram(np.clip(pct, -widest, widest), bins=edges)
    centres = (edges[:-1] + edges[1:]) / 2
    inside = np.abs(centres) <= (tolerance_pct or np.inf)
    shapes, annotations = _tolerance(tolerance_pct)
    trace = {
        "customdata": np.stack([edges[:-1], edges[1:]], axis=-1),
        "hovertemplate": "%{customdata[0]:+.1f}% to %{customdata[1]:+.1f}%: %{y:,} figure(s)<extra></extra>",
        "marker": {"color": np.where(inside, "#1f77b4", "#d62728").tolist()},
        "showlegend": False,
        "width": float(edges[1] - edges[0]),
        "x": centres,
        "y": counts,
        "type": "bar",
    }
    layout = {**({"shapes": shapes, "annotations": annotations} if shapes else {}),
              "xaxis": {"title": {"text": "Our US$ figure minus the source's, in % of the source's"},
                        "range": [-widest, widest], "ticksuffix": "%", "zeroline": False},
              "yaxis": {"title": {"text": "Figures checked"}, "tickformat": ",d"},
              **_height_last(_layout("Our dollar conversion against the source's own figure", height=360))}
    return _spec([trace], layout)
