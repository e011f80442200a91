"""Shared by the dashboard tests: run dashboard.py in Streamlit's AppTest, read its charts, independent sums."""
from __future__ import annotations

import csv
import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[1]
DATA_CSV = REPO / "data" / "seizures.csv"
TEXT_ELEMENTS = ("markdown", "caption", "warning", "info", "error", "success", "title", "subheader", "header")


def run(monkeypatch, tmp_path, params: dict | None = None, data: Path | None = None) -> AppTest:
    """dashboard.py in AppTest with the link `params`, on `data` (default: the project's data)."""
    monkeypatch.setenv("SEIZURES_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SEIZURES_CSV", raising=False)
    if data is not None:
        monkeypatch.setenv("SEIZURES_DATA", str(data))
    else:
        monkeypatch.delenv("SEIZURES_DATA", raising=False)
    at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=90)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def figures(at: AppTest) -> dict[str, dict]:
    """The Plotly figures the page sent, by chart key (kg_per_year, seizure_points, ...)."""
    out = {}
    for el in at.get("plotly_chart"):
        out[el.proto.id.rsplit("chart_", 1)[-1]] = json.loads(el.proto.spec)
    return out


def texts(at: AppTest) -> list[str]:
    """Every markdown source the page sent (markdown, captions, alerts, titles)."""
    out = []
    for kind in TEXT_ELEMENTS:
        out.extend(str(e.value) for e in getattr(at, kind))
    return out


def warnings(at: AppTest) -> list[str]:
    return [str(w.value) for w in at.warning]


def points(fig: dict, axis: str = "y") -> list[float]:
    """Every value on `axis` over the traces of a figure (Plotly may send typed arrays)."""
    import base64

    import numpy as np

    values = []
    for trace in fig["data"]:
        v = trace.get(axis)
        if isinstance(v, dict) and "bdata" in v:
            v = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"])).tolist()
        values.extend(v or [])
    return values


def rows() -> list[dict]:
    with DATA_CSV.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def counted_rows(selected: list[dict]) -> list[dict]:
    """The count-once rule written out by hand, row by row (independent of app/queries.py)."""
    rep = [r for r in selected if r["is_representative"] == "True"]
    present = {(r["incident_id"], r["kind"]) for r in rep}
    out = []
    for r in rep:
        parts = r["incident_parts"].split()
        if r["incident_scope"] == "total" and any((p, r["kind"]) in present for p in parts):
            continue
        out.append(r)
    return out


CHART_TABS = ("Seizures", "Prices", "Map")


def all_figures(monkeypatch, tmp_path, params: dict | None = None) -> dict[str, dict]:
    """The figures of every chart tab (only the open tab runs, so the page is run once per tab)."""
    out = {}
    for tab in CHART_TABS:
        out.update(figures(run(monkeypatch, tmp_path, {**(params or {}), "tab": tab})))
    return out
