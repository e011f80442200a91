"""The page's figures are written directly as plotly.js JSON (app.charts.PlotlySpec): they must be what
plotly itself makes of them.

For each chart, on the real data and on several selections, the spec sent to the
browser is compared with the same spec passed through plotly's validated object
model (`go.Figure`), which rejects unknown properties and normalises values.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
import streamlit.elements.plotly_chart  # noqa: F401 - registers Streamlit's default template, as in the app

from app import charts, data

REPO = Path(__file__).resolve().parents[1]
REAL_CSV = REPO / "data" / "seizures.csv"


@pytest.fixture(scope="module")
def dataset() -> data.Dataset:
    return data.read_dataset(REAL_CSV)


def sent(figure) -> dict:
    """What st.plotly_chart sends for a figure: plotly.io.to_json of figure.to_dict()."""
    return json.loads(pio.to_json(figure.to_dict(), validate=False))


def specs(dataset: data.Dataset):
    frame, prep = dataset.screen, dataset.prep
    drugs = charts.palette(list(prep.drug.values))
    countries = charts.palette(list(prep.country.values))
    for filters in (data.Filters(), data.Filters(count_once=False), data.Filters(years=(2010, 2013)),
                    data.Filters(kinds=("price",))):
        mask = data.filter_mask(prep, filters)
        for log in (False, True):
            yield charts.kg_per_year_figure(data.kg_per_year_fast(frame, prep, mask, filters.count_once), log, drugs)
        yield charts.seizure_points_figure(data.seizure_points_fast(frame, prep, mask).frame, drugs)
        for constant in (True, False):
            yield charts.prices_figure(data.price_points_fast(frame, prep, mask, constant).frame, constant, 2024,
                                       countries)
        yield charts.map_figure(data.map_points_fast(frame, prep, mask, filters.count_once).frame, drugs)
        checked = data.usd_checks_fast(frame, prep, mask).frame
        for tolerance in (5.0, None):
            yield charts.usd_check_figure(checked, tolerance)
    yield charts.usd_check_histogram(np.array([-12.0, -1.0, 0.5, 3.0, 40.0]), 5.0)


def test_every_spec_is_what_plotly_makes_of_it(dataset):
    shown = [spec for spec in specs(dataset) if spec is not None]
    assert len(shown) > 25
    for spec in shown:
        assert isinstance(spec, charts.PlotlySpec)
        figure = spec.figure()  # validated: an unknown or misspelt property raises here
        assert isinstance(figure, go.Figure)
        assert sent(spec) == sent(figure)


def test_sending_a_spec_twice_sends_the_same(dataset):
    """to_dict() converts arrays in a copy: the spec itself keeps its arrays."""
    spec = next(s for s in specs(dataset) if s is not None and len(s.spec["data"]) > 1)
    first, second = pio.to_json(spec.to_dict(), validate=False), pio.to_json(spec.to_dict(), validate=False)
    assert first == second
    assert isinstance(spec.spec["data"][0]["y"], np.ndarray)


def test_the_functions_taking_rows_return_plotly_figures(dataset):
    rows = data.apply_filters(dataset.frame, data.Filters())
    colours = charts.palette(list(rows["drug"].unique()))
    figure = charts.seizure_points(rows, colours)
    assert isinstance(figure, go.Figure) and not isinstance(figure, charts.PlotlySpec)
    assert sum(len(t.y) for t in figure.data) == len(data.seizure_points(rows))
