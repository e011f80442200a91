"""The measuring instruments: point counting, verdicts, the I/O floor child, the dashboard probe.

No timing is asserted here; the numbers come from `python -m devtools.bench`.
"""
from __future__ import annotations

import base64
import json
import textwrap

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from devtools import bench, synth
from devtools.bench import main as bench_main
from etl.columns import NAMES


def _fig_json(fig: go.Figure) -> dict:
    return json.loads(fig.to_json())


def test_count_points_decodes_plotly_typed_arrays():
    fig = go.Figure(go.Scatter(x=np.arange(1234), y=np.random.default_rng(0).random(1234), mode="markers",
                               marker={"size": np.ones(1234), "color": np.arange(1234)}))
    spec = _fig_json(fig)
    assert isinstance(spec["data"][0]["x"], dict) and "bdata" in spec["data"][0]["x"]  # plotly 7 encoding
    assert bench.count_points(spec) == 1234  # marker arrays are the same points, not more


def test_count_points_sums_traces_and_counts_every_heatmap_cell():
    fig = go.Figure([go.Histogram(x=np.arange(5000.0)), go.Bar(x=["a", "b", "c"], y=[1, 2, 3])])
    assert bench.count_points(_fig_json(fig)) == 5003
    heat = go.Figure(go.Heatmap(z=np.zeros((30, 40))))
    assert bench.count_points(_fig_json(heat)) == 1200
    maps = go.Figure(go.Scattergeo(lat=np.linspace(0, 1, 777), lon=np.linspace(0, 1, 777)))
    assert bench.count_points(_fig_json(maps)) == 777


def test_count_points_hand_written_bdata_with_shape():
    z = np.arange(6, dtype="int16").reshape(2, 3)
    spec = {"data": [{"type": "heatmap", "z": {"dtype": "i2", "bdata": base64.b64encode(z.tobytes()).decode(), "shape": "2, 3"}}]}
    assert bench.count_points(spec) == 6
    assert bench.count_points({"data": [{"type": "scatter", "x": [1, 2], "y": [[1], [2]]}]}) == 2
    rows = np.arange(12.0).reshape(4, 3)
    typed = {"dtype": "f8", "bdata": base64.b64encode(rows.tobytes()).decode(), "shape": "4, 3"}
    assert bench.count_points({"data": [{"type": "scatter", "x": [1, 2, 3, 4], "customdata": typed}]}) == 4


def test_customdata_rows_are_points_not_cells():
    fig = go.Figure(go.Scatter(x=np.arange(100), y=np.arange(100), customdata=np.zeros((100, 6)), mode="markers"))
    assert bench.count_points(_fig_json(fig)) == 100
    listed = go.Figure(go.Scatter(x=list(range(10)), y=list(range(10)), customdata=[[i, "a", "b"] for i in range(10)]))
    assert bench.count_points(_fig_json(listed)) == 10
    assert bench.count_points({"layout": {}}) == 0


def test_evaluate_targets():
    good = {100_000: {"polars": 0.3, "pandas": 3.0, "build": 0.7, "rss": 0.3e9},
            1_000_000: {"polars": 3.0, "pandas": 30.0, "build": 7.0, "rss": 0.9e9}}
    assert all(ok for _, ok in bench.evaluate(good))  # 2.33x the Polars floor, 0.9 GB, 10x the time
    bad = {100_000: {"polars": 0.3, "pandas": 3.0, "build": 0.7, "rss": 0.3e9},
           1_000_000: {"polars": 3.0, "pandas": 30.0, "build": 7.6, "rss": 1.1e9}}
    verdicts = [ok for _, ok in bench.evaluate(bad)]
    assert verdicts == [False, False, False]  # 2.53x the Polars floor, 1.1 GB, 10.9x the time for 10x the rows


def test_dashboard_missing_is_reported(tmp_path, capsys):
    assert bench_main(["--dashboard", "--rows", "100", "--app", str(tmp_path / "dashboard.py")]) == 1
    assert "dashboard.py not found" in capsys.readouterr().out


def test_floor_writes_the_output_shape(tmp_path):
    raw = tmp_path / "raw"
    synth.write(raw, synth.generate(500, seed=2))
    for engine in ("polars", "pandas"):
        result = bench._child_floor(engine, raw, tmp_path / f"floor-{engine}.csv")
        written = pd.read_csv(tmp_path / f"floor-{engine}.csv")
        assert result["rows"] == 500 and result["columns"] == len(NAMES)
        assert written.shape == (500, len(NAMES)) and list(written.columns) == NAMES


def test_child_process_reports_result_and_its_own_peak_memory(tmp_path):
    raw = tmp_path / "raw"
    synth.write(raw, synth.generate(200, seed=4))
    run = bench.run_child(["build", str(raw), str(tmp_path / "out")])
    assert run.returncode == 0, run.result
    assert run.result["rows"] == 200 and run.result["rejected"] == 0
    assert (tmp_path / "out" / "seizures.csv").exists()
    assert 50e6 < run.max_rss < 4e9  # an interpreter with pandas loaded, in bytes
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "datapackage.json", "seizures.csv", "seizures.parquet", "seizures.rejects.csv"]  # what `etl build --keep-going` writes


def test_dashboard_probe_times_runs_changes_a_filter_and_counts_points(tmp_path):
    app = tmp_path / "dashboard.py"
    app.write_text(textwrap.dedent("""
        import os
        import pandas as pd
        import plotly.graph_objects as go
        import streamlit as st

        df = pd.read_csv(os.environ["SEIZURES_CSV"])
        kinds = st.sidebar.multiselect("Kind", ["seizure", "price", "cash"], default=["seizure", "price"])
        view = df[df["kind"].isin(kinds)]
        st.plotly_chart(go.Figure(go.Scatter(x=view["year"], y=view["quantity_kg"], mode="markers")))
    """))
    data = tmp_path / "s.csv"
    pd.DataFrame({"kind": ["seizure"] * 30 + ["price"] * 20, "year": range(50), "quantity_kg": range(50)}).to_csv(data, index=False)
    run = bench.run_child(["dashboard", str(app), str(data)], cwd=tmp_path, env=None)
    d = run.result
    assert "first_s" in d, d
    assert d["exceptions"] == []
    assert d["changed"] == "multiselect 'Kind'"
    assert d["figures_first"] == [50]
    assert d["figures_rerun"] == [30]  # changes: ["seizure"], ["price"], ["seizure"] (30 rows)
    assert len(d["reruns_s"]) == bench.RERUNS and d["rerun_s"] in d["reruns_s"]
