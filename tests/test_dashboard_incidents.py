"""The section "Reports behind an incident" on the table tab, in Streamlit's AppTest on the real data.

Expectations are computed here from data/seizures.csv with plain pandas, independently of app/.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app import data

REPO = Path(__file__).resolve().parents[1]
DASHBOARD = str(REPO / "dashboard.py")
REAL_CSV = REPO / "data" / "seizures.csv"
TIMEOUT = 60
PICK = "incident_pick"
PONG_SU = "au-2003-pong-su"
MOSCOW = "ru-1998-moscow-cocaine"


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    shutil.copy(REAL_CSV, folder / "seizures.csv")
    shutil.copy(REAL_CSV.with_name("datapackage.json"), folder / "datapackage.json")
    return folder / "seizures.csv"


@pytest.fixture(scope="module")
def table(csv_path) -> pd.DataFrame:
    return pd.read_csv(csv_path)


@pytest.fixture
def app(csv_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("SEIZURES_CSV", str(csv_path))
    return AppTest.from_file(DASHBOARD, default_timeout=TIMEOUT)


def no_problems(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def frame_with(at: AppTest, first_column: str) -> pd.DataFrame | None:
    """The shown dataframe whose first column is `first_column` (None when there is none)."""
    found = [d.value for d in at.dataframe if list(d.value.columns)[:1] == [first_column]]
    assert len(found) <= 1
    return found[0] if found else None


def reports_shown(at: AppTest) -> pd.DataFrame:
    shown = frame_with(at, "Report")
    assert shown is not None, "no table of the incident's reports"
    return shown


def choose(app: AppTest, incident_id: str) -> AppTest:
    at = app.run()
    no_problems(at)
    at.selectbox(key=PICK).set_value(incident_id).run()
    no_problems(at)
    return at


def test_nothing_is_chosen_by_default_and_every_incident_is_offered(app, table):
    at = app.run()
    no_problems(at)
    picker = at.selectbox(key=PICK)
    assert picker.value is None
    assert frame_with(at, "Report") is None
    # the default selection counts each incident once: every incident of the file is in it
    assert len(picker.options) == table["incident_id"].nunique()
    # most reported first
    per_incident = table.groupby("incident_id").size()
    counts = [int(label.rsplit(" · ", 1)[1].split()[0]) for label in picker.options]
    assert counts == sorted(counts, reverse=True)
    assert counts[0] == per_incident.max()
    label = next(o for o in picker.options if f" · {PONG_SU} " in o)
    assert label.startswith("2003 · Australia · heroin · ")
    assert "(total of 2 incidents)" in label
    assert label.endswith(f"{per_incident[PONG_SU]} reports")


def test_the_pong_su_total_shows_every_report_one_representative_and_its_parts(app, table):
    at = choose(app, PONG_SU)
    assert at.query_params["incident"] in (PONG_SU, [PONG_SU])  # the URL now names it
    shown = reports_shown(at)
    expected = table[table["incident_id"] == PONG_SU]
    assert sorted(shown["Report"]) == sorted(expected["report_id"])
    assert shown["Representative"].astype(bool).sum() == 1
    representative = shown.loc[shown["Representative"].astype(bool), "Report"].item()
    assert representative == expected.loc[expected["is_representative"].astype(bool), "report_id"].item()
    # the figures as reported and as converted, beside each report
    by_report = shown.set_index("Report")
    for row in expected.itertuples():
        assert by_report.at[row.report_id, "Quantity as reported"] == row.quantity_reported
        assert by_report.at[row.report_id, "Kilograms"] == pytest.approx(row.quantity_kg)
    # the parts it sums, each with its own representative report
    parts = frame_with(at, "Part")
    assert parts is not None
    named = str(expected["incident_parts"].iloc[0]).split()
    assert sorted(parts["Part"]) == sorted(named) == ["au-2003-pong-su-beach", "au-2003-pong-su-bushes"]
    reps = table[table["incident_id"].isin(named) & table["is_representative"].astype(bool)]
    assert dict(zip(parts["Part"], parts["Representative report"])) == dict(zip(reps["incident_id"], reps["report_id"]))
    # the spread between the sources
    text = " ".join(m.value for m in at.markdown)
    assert f"representative **{representative}**" in text
    assert f"from {expected['quantity_kg'].min():g} kg to {expected['quantity_kg'].max():g} kg" in text


def test_reports_left_out_by_the_filters_are_shown_too(app, table):
    # counting once shows only the representative; the incident's section shows them all
    at = app.run()
    main = at.dataframe[0].value
    assert (main["Incident"] == PONG_SU).sum() == 1
    at.selectbox(key=PICK).set_value(PONG_SU).run()
    assert len(reports_shown(at)) == (table["incident_id"] == PONG_SU).sum() > 1


def test_a_link_with_the_incident_restores_it(app, table):
    app.query_params["incident"] = PONG_SU
    at = app.run()
    no_problems(at)
    assert at.selectbox(key=PICK).value == PONG_SU
    assert sorted(reports_shown(at)["Report"]) == sorted(table.loc[table["incident_id"] == PONG_SU, "report_id"])


def test_a_link_to_an_incident_outside_the_selection_still_shows_it(app, table):
    country = table.loc[table["incident_id"] == MOSCOW, "country"].iloc[0]
    other = table.loc[table["country"] != country, "country"].iloc[0]
    app.query_params.update({"incident": MOSCOW, "country": [data.country_name(other)]})
    at = app.run()
    no_problems(at)
    assert at.selectbox(key=PICK).value == MOSCOW
    assert sorted(reports_shown(at)["Report"]) == sorted(table.loc[table["incident_id"] == MOSCOW, "report_id"])


def test_an_unknown_incident_in_a_link_is_ignored(app):
    app.query_params["incident"] = "no-such-incident"
    at = app.run()
    no_problems(at)
    assert at.selectbox(key=PICK).value is None
    assert "incident" not in at.query_params


def test_moscow_1998_shows_both_the_kilograms_and_the_pounds(app, table):
    at = choose(app, MOSCOW)
    shown = reports_shown(at)
    expected = table[table["incident_id"] == MOSCOW]
    assert sorted(shown["Report"]) == sorted(expected["report_id"])
    reported = set(shown["Quantity as reported"])
    assert any(q.startswith("35") for q in reported)
    assert "77 pounds" in reported
    assert shown["Representative"].astype(bool).sum() == 1
    assert frame_with(at, "Part") is None  # a single incident has no parts


def test_a_part_names_the_total_it_belongs_to(app):
    at = choose(app, "au-2003-pong-su-beach")
    assert any(PONG_SU in c.value for c in at.caption)


def test_the_list_is_capped_and_says_so(tmp_path, monkeypatch):
    real = pd.read_csv(REAL_CSV, dtype=str, keep_default_na=False)
    copies = []
    for i in range(data.INCIDENTS_OFFERED // real["incident_id"].nunique() + 2):
        copy = real.copy()
        suffix = f"-x{i}"
        copy["report_id"] += suffix
        copy["incident_id"] += suffix
        copy["incident_parts"] = [" ".join(p + suffix for p in text.split()) for text in copy["incident_parts"]]
        copies.append(copy)
    big = pd.concat(copies, ignore_index=True)
    path = tmp_path / "seizures.csv"
    big.to_csv(path, index=False, lineterminator="\n")
    shutil.copy(REAL_CSV.with_name("datapackage.json"), tmp_path / "datapackage.json")
    monkeypatch.setenv("SEIZURES_CSV", str(path))
    at = AppTest.from_file(DASHBOARD, default_timeout=TIMEOUT).run()
    no_problems(at)
    assert len(at.selectbox(key=PICK).options) == data.INCIDENTS_OFFERED
    total = big["incident_id"].nunique()
    assert any(f"{data.INCIDENTS_OFFERED:,} of {total:,} incidents" in c.value for c in at.caption)
