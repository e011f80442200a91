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

from etl.normalise import take_by_key

INCIDENT_COLUMNS = ["incident_id", "scope", "parts", "representative", "notes"]
SCOPES = ("single", "total")
SOURCE_RANK = {"official": 1, "press": 2, "secondary": 3}


def reconcile(frame: pd.DataFrame, incidents: pd.DataFrame | None) -> pd.DataFrame:
    """Add incident_scope, incident_parts, is_representative, incident_reports, incident_kg_min/max."""
    out = frame.copy(deep=False)
    if incidents is None or incidents.empty:
        incidents = pd.DataFrame(columns=INCIDENT_COLUMNS, dtype="string")
    table = incidents.set_index("incident_id")
    found = take_by_key(out["incident_id"], incidents, "incident_id", ["scope", "parts"])
    out["incident_scope"] = found["scope"].astype("string").fillna("single")
    out["incident_parts"] = found["parts"].astype("string").fillna("")

    has_figure = out["quantity_kg"].notna() | out["value_usd"].notna() | out["quantity_count"].notna()
    order = pd.DataFrame({
        "incident_id": out["incident_id"],
        "kind": out["kind"],
        "no_figure": ~has_figure,
        "rank": out["source_type"].map(SOURCE_RANK).fillna(9),
        "published": out["source_date"].replace("", "0000"),
        "kg": out["quantity_kg"].fillna(np.inf),
        "usd": out["value_usd"].fillna(np.inf),
        "report_id": out["report_id"],
    })
    ranked = order.sort_values(
        ["incident_id", "kind", "no_figure", "rank", "published", "kg", "usd", "report_id"],
        ascending=[True, True, True, True, False, True, True, True],
        kind="mergesort",
    )
    first = ~ranked.duplicated(["incident_id", "kind"], keep="first")
    representative = pd.Series(False, index=out.index)
    representative[ranked.index[first.to_numpy()]] = True

    # Curator's overrides: one vectorised pass, whatever the number of overrides
    chosen = table["representative"][table["representative"].fillna("") != ""] if "representative" in table else pd.Series(dtype="string")
    if len(chosen):
        wanted = pd.Series(chosen.index, index=chosen.to_numpy())  # report_id -> incident_id
        picked = out["report_id"].isin(wanted.index)
        picked &= out["incident_id"].where(picked).eq(wanted.reindex(out["report_id"].where(picked)).to_numpy()).fillna(False)
        group_key = out["incident_id"] + "\x1f" + out["kind"]
        reset = group_key.isin(group_key[picked])
        representative = (representative & ~reset) | picked
    out["is_representative"] = representative.astype(bool)

    groups = out.groupby(["incident_id", "kind"], sort=False)
    out["incident_reports"] = groups["report_id"].transform("size").astype("Int64")
    out["incident_kg_min"] = groups["quantity_kg"].transform("min")
    out["incident_kg_max"] = groups["quantity_kg"].transform("max")
    return out


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
