"""Reconcile reports of the same incident: one representative figure, the spread.

Rule (documented in the README and the dashboard's methodology tab): within an
incident, separately for each kind of figure (seizure, price, cash), the
representative report is the first after sorting by
  1. reports that carry a figure before reports that carry none;
  2. the source's standing: official, then press, then secondary;
  3. the latest-published source (the figure most likely corrected);
  4. the most conservative figure (smallest kilograms, then smallest US dollars);
  5. report_id, so the choice is deterministic.
A curator can override the rule for an incident in data/raw/incidents.csv
(column `representative`). Incidents with scope `total` sum other incidents
(an operation total, an annual total); they are never added on top of their parts.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from etl.normalise import isin_text, take_by_key

INCIDENT_COLUMNS = ["incident_id", "scope", "parts", "representative", "notes"]
SCOPES = ("single", "total")
SOURCE_RANK = {"official": 1, "press": 2, "secondary": 3}


# The columns of the output that the incident rule reads: all it needs of a row.
KEY_COLUMNS = ["incident_id", "kind", "quantity_kg", "value_usd", "quantity_count", "source_type", "source_date", "report_id"]


def reconcile(frame: pd.DataFrame, incidents: pd.DataFrame | None) -> pd.DataFrame:
    """`frame` with incident_scope, incident_parts, is_representative, incident_reports, incident_kg_min/max added."""
    out = frame.copy(deep=False)
    derived = incident_columns(frame[KEY_COLUMNS], incidents)
    for column in derived.columns:
        out[column] = derived[column]
    return out


def incident_columns(keys: pd.DataFrame, incidents: pd.DataFrame | None) -> pd.DataFrame:
    """The incident columns (INCIDENT_DERIVED) of every row of `keys` (the KEY_COLUMNS of all output rows).

    It needs every row of the build at once (an incident's reports can be
    anywhere in the input), but only these few columns of each.
    """
    if incidents is None or incidents.empty:
        incidents = pd.DataFrame(columns=INCIDENT_COLUMNS, dtype="string")
    table = incidents.set_index("incident_id")
    out = pd.DataFrame(index=keys.index)
    found = take_by_key(keys["incident_id"], incidents, "incident_id", ["scope", "parts"])
    out["incident_scope"] = found["scope"].astype("string").fillna("single")
    out["incident_parts"] = found["parts"].astype("string").fillna("")

    # The rule as one lexicographic sort of integer codes (sorting the text columns themselves is slow).
    n = len(keys)
    incident = pd.factorize(keys["incident_id"], sort=False)[0]
    kind, kinds = pd.factorize(keys["kind"], sort=False)
    group = incident.astype(np.int64) * max(len(kinds), 1) + kind  # one code per (incident, kind)
    has_figure = (keys["quantity_kg"].notna() | keys["value_usd"].notna() | keys["quantity_count"].notna()).to_numpy()
    standing, types = pd.factorize(keys["source_type"], sort=False)
    rank = np.array([SOURCE_RANK.get(t, 9) for t in types] + [9])[standing]  # code -1 (missing) -> 9
    published = _rank(keys["source_date"].replace("", "0000"))
    kg = keys["quantity_kg"].fillna(np.inf).to_numpy(dtype="float64")
    usd = keys["value_usd"].fillna(np.inf).to_numpy(dtype="float64")
    report = _rank(keys["report_id"])
    # np.lexsort: the last key sorts first
    order = np.lexsort((report, usd, kg, -published, rank, ~has_figure, group))
    first = np.ones(n, dtype=bool)
    first[1:] = group[order][1:] != group[order][:-1]
    representative = np.zeros(n, dtype=bool)
    representative[order[first]] = True

    # Curator's overrides: one vectorised pass, whatever the number of overrides
    chosen = table["representative"][table["representative"].fillna("") != ""] if "representative" in table else pd.Series(dtype="string")
    if len(chosen):
        # rows whose report is chosen, and chosen for the row's own incident
        rows = np.flatnonzero(isin_text(keys["report_id"], pd.Series(chosen.to_numpy(), dtype="string")).to_numpy())
        wanted = set(zip(chosen.to_numpy().tolist(), chosen.index.tolist()))  # (report_id, incident_id)
        pairs = zip(keys["report_id"].iloc[rows].tolist(), keys["incident_id"].iloc[rows].tolist())
        picked = np.zeros(n, dtype=bool)
        picked[rows[np.fromiter((pair in wanted for pair in pairs), dtype=bool, count=len(rows))]] = True
        reset = np.isin(group, group[picked])
        representative = (representative & ~reset) | picked
    out["is_representative"] = representative

    sizes = np.bincount(group, minlength=1)
    out["incident_reports"] = pd.array(sizes[group], dtype="Int64")
    by_group = pd.Series(keys["quantity_kg"].to_numpy(dtype="float64"), index=keys.index).groupby(group, sort=False)
    out["incident_kg_min"] = by_group.transform("min")
    out["incident_kg_max"] = by_group.transform("max")
    return out


def _rank(texts: pd.Series) -> np.ndarray:
    """Each text's place in sorted order (equal texts get equal places), computed by Arrow."""
    cells = texts.astype("string").array.__arrow_array__()
    return pc.rank(cells, sort_keys="ascending", tiebreaker="dense").to_numpy().astype(np.int64)


def check_incidents(incidents: pd.DataFrame) -> list[tuple[int, str, str]]:
    """Problems in incidents.csv as (row, column, message)."""
    problems = []
    ids = incidents["incident_id"]
    known = set(ids)
    for row in np.flatnonzero(ids.duplicated().to_numpy()):
        problems.append((int(row), "incident_id", f"duplicate incident_id {ids.iat[row]!r}"))
    for row in np.flatnonzero(~incidents["scope"].isin(SCOPES).to_numpy()):
        problems.append((int(row), "scope", f"scope must be single or total, not {incidents['scope'].iat[row]!r}"))
    for row in np.flatnonzero((incidents["parts"] != "").to_numpy()):
        parts = incidents["parts"].iat[row]
        for part in parts.split():
            if part not in known:
                problems.append((row, "parts", f"part {part!r} is not an incident in incidents.csv"))
        if parts and incidents["scope"].iat[row] != "total":
            problems.append((row, "parts", "only incidents with scope 'total' have parts"))
    return problems
