"""Incidents: several reports of one incident, and a total over two incidents.

A small fixture built for the test: incident A has two reports that disagree
(a press report of 50 kg published first, an official 48 kg published later),
incident B has one report of 75 kg, and T is an operation total (125 kg) whose
parts are A and B. The rule says: official before press, so A's representative
is the official 48 kg; counting once, the kilograms are 48 + 75 = 123, and the
total is never added on top of its parts.
"""
import pandas as pd
import pytest

from etl.build import build
from etl.normalise import REPORT_COLUMNS
from etl_helpers import REFERENCE

SOURCES = """source_id,source_type,outlet,title,published,url,via,notes
press1,press,Wire One,First report of the find,2003-05-01,,,
official1,official,Police Gazette,Annual report,2004-03-01,,,
press2,press,Wire Two,Second find reported,2003-05-10,,,
blog1,secondary,A Blog,Roundup,2005-01-01,,,
"""
INCIDENTS = """incident_id,scope,parts,representative,notes
A,single,,,
B,single,,,
T,total,A B,,
"""


def report(rid, incident, source, quantity, value="", currency=""):
    cells = dict.fromkeys(REPORT_COLUMNS, "")
    cells.update(report_id=rid, incident_id=incident, source_id=source, kind="seizure", event_date="2003-04",
                 country="AU", place="Victoria", drug="heroin", quantity=quantity, value=value, currency=currency,
                 nk_link="nk_port_or_ship")
    return cells


@pytest.fixture
def built(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "sources.csv").write_text(SOURCES)
    (raw / "incidents.csv").write_text(INCIDENTS)
    rows = [
        report("a1", "A", "press1", "50 kg"),
        report("a2", "A", "official1", "48 kg"),
        report("b1", "B", "press2", "75 kg"),
        report("t1", "T", "press2", "nearly 125 kg", "A$160 million", "AUD"),
        report("t2", "T", "blog1", "150 kg"),
    ]
    pd.DataFrame(rows, columns=REPORT_COLUMNS).to_csv(raw / "reports.csv", index=False)
    result = build(raw, REFERENCE, tmp_path / "out")
    return result.frame.set_index("report_id"), raw, tmp_path


def test_representative_follows_the_rule(built):
    frame, _, _ = built
    assert frame["is_representative"].to_dict() == {"a1": False, "a2": True, "b1": True, "t1": True, "t2": False}
    # official beats press even though its figure is smaller and later; within T, press beats secondary


def test_every_report_is_kept_with_the_spread(built):
    frame, _, _ = built
    assert frame.loc[["a1", "a2"], "incident_reports"].tolist() == [2, 2]
    assert frame.loc["a1", "incident_kg_min"] == 48 and frame.loc["a1", "incident_kg_max"] == 50
    assert frame.loc["t2", "incident_kg_min"] == 125 and frame.loc["t2", "incident_kg_max"] == 150


def test_totals_are_marked_with_their_parts(built):
    frame, _, _ = built
    assert frame.loc["t1", "incident_scope"] == "total" and frame.loc["t1", "incident_parts"] == "A B"
    assert set(frame.loc[["a1", "a2", "b1"], "incident_scope"]) == {"single"}


def test_counting_once_sums_parts_and_leaves_the_total_out(built):
    """The dashboard's sums over this table (app/queries.py): each incident once, a total never on top of its parts."""
    import polars as pl

    from app.queries import Filters, counted, headline, with_helpers

    frame, _, _ = built
    rows = with_helpers(pl.from_pandas(frame.reset_index()))
    # one representative per incident (a2, b1, t1); the total's parts are present, so the total is left out
    assert sorted(counted(rows)["report_id"]) == ["a2", "b1"]
    h = headline(rows, Filters())
    assert (h.incidents, h.kg, h.totals_left_out) == (2, 48 + 75, 1)
    # a total is left out as soon as any of its parts is in the selection (never counted twice)
    without_b = rows.filter(pl.col("incident_id") != "B")
    assert sorted(counted(without_b)["report_id"]) == ["a2"]


def test_a_curator_override_wins(built, tmp_path):
    _, raw, root = built
    (raw / "incidents.csv").write_text(INCIDENTS.replace("A,single,,,", "A,single,,a1,the press figure is the one the court used"))
    frame = build(raw, REFERENCE, root / "out2").frame.set_index("report_id")
    assert frame.loc["a1", "is_representative"] and not frame.loc["a2", "is_representative"]
    assert frame.loc["b1", "is_representative"]  # other incidents untouched


def test_a_report_of_an_unknown_incident_is_rejected(built, tmp_path):
    _, raw, root = built
    reports = pd.read_csv(raw / "reports.csv", dtype=str, keep_default_na=False)
    reports.loc[len(reports)] = report("x1", "NOPE", "press1", "5 kg")
    reports.to_csv(raw / "reports.csv", index=False)
    result = build(raw, REFERENCE, root / "out3", keep_going=True)
    assert result.rejected_rows == 1
    assert [str(p).split(": ", 1)[1] for p in result.errors] == ["incident_id: incident_id 'NOPE' is not in incidents.csv"]


def test_the_rule_does_not_depend_on_the_order_of_the_rows():
    """Shuffled rows get the same representatives and spreads (the rule is a sort, ties broken by report_id)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from etl.incidents import KEY_COLUMNS, incident_columns
    from etl_helpers import DATA, RAW

    table = pd.read_csv(DATA / "seizures.csv", dtype={c: "string" for c in
                        ["incident_id", "kind", "source_type", "source_date", "report_id"]}, keep_default_na=False,
                        na_values={"quantity_kg": [""], "value_usd": [""], "quantity_count": [""]})
    keys = table[KEY_COLUMNS]
    incidents = pd.read_csv(RAW / "incidents.csv", dtype="string", keep_default_na=False)
    expected = incident_columns(keys, incidents).set_index(keys["report_id"])
    assert expected["is_representative"].tolist() == table["is_representative"].tolist()  # as published

    @settings(max_examples=25, deadline=None)
    @given(st.randoms(use_true_random=False))
    def shuffled(random):
        order = list(range(len(keys)))
        random.shuffle(order)
        moved = keys.iloc[order].reset_index(drop=True)
        got = incident_columns(moved, incidents).set_index(moved["report_id"]).loc[expected.index]
        pd.testing.assert_frame_equal(got, expected)

    shuffled()
