"""Reconcile reports of the same incident: one representative figure, the spread.

Rule (documented in the README and the dashboard's methodology tab): within an
incident, separately for each kind of figure (seizure, price, cash), the
representative report is the first after sorting by
  1. reports that carry a figure before reports that carry none;
  2. the source's standing (data/reference/source_types.csv: official, then press, then secondary);
  3. the latest-published source (the figure most likely corrected);
  4. the most conservative figure (smallest kilograms, then smallest US dollars);
  5. report_id, so the choice is deterministic.
A curator can override the rule for an incident in data/raw/incidents.csv
(column `representative`). Incidents with scope `total` sum other incidents
(an operation total, an annual total); they are never added on top of their parts.

The rule is one sort of integer group numbers and the rule's keys, read off in runs.
"""
from __future__ import annotations

import polars as pl

from etl.errors import Problem
from etl.normalise import ID_PATTERN, _Collector, _repeated, incident_rows

INCIDENT_COLUMNS = ["incident_id", "scope", "parts", "representative", "notes"]
# The columns of the output that the incident rule reads: all it needs of a row.
KEY_COLUMNS = ["incident_id", "kind", "quantity_kg", "value_usd", "quantity_count", "source_type", "source_date", "report_id"]
DERIVED = ["incident_scope", "incident_parts", "is_representative", "incident_reports", "incident_kg_min", "incident_kg_max"]


def incident_columns(keys: pl.DataFrame, incidents: pl.DataFrame | None, source_ranks: dict[str, int],
                     rows: pl.Series | None = None) -> pl.DataFrame:
    """The incident columns (DERIVED) of every row of `keys` (the KEY_COLUMNS of all output rows), in row order.

    `rows`: each key row's incident as its row in `incidents` (etl.normalise.incident_rows; the build has it from
    normalise), else looked up here.

    Each group (incident and kind) gets an integer number; one sort by that number
    and the rule's keys puts each group's representative first, the group's
    figures are read off the sorted runs, and the results go back to row order
    (no sort of the output).
    """
    if incidents is None:
        incidents = pl.DataFrame(schema={c: pl.String for c in INCIDENT_COLUMNS})
    if rows is None:
        rows = incident_rows(keys["incident_id"], incidents["incident_id"])
    table = incidents.select("scope", "parts", pl.col("representative").fill_null("").alias("chosen"))[rows]
    unknown_rank = max(source_ranks.values(), default=0) + 1
    frame = pl.concat([keys.select(KEY_COLUMNS), table, pl.DataFrame({"incident": rows})], how="horizontal")
    # the group's number: from the incident's row in incidents.csv (else its first row here) and the kind
    if frame["incident"].null_count():
        frame = frame.with_row_index("row")
        incident = pl.col("row").first().over("incident_id").cast(pl.Int64)
    else:
        incident = pl.col("incident").cast(pl.Int64)
    kinds = {kind: i for i, kind in enumerate(frame["kind"].unique().sort().to_list())} or {"": 0}  # (no rows: {"": 0})
    frame = frame.with_columns(
        group=incident * len(kinds) + pl.col("kind").replace_strict(kinds, return_dtype=pl.Int64),
        has_figure=pl.any_horizontal(pl.col(c).is_not_null() for c in ("quantity_kg", "value_usd", "quantity_count")),
        rank=pl.col("source_type").replace_strict(source_ranks, default=unknown_rank, return_dtype=pl.Int64),
        published=pl.col("source_date").replace("", "0000"),
        kg=pl.col("quantity_kg").fill_null(float("inf")),
        usd=pl.col("value_usd").fill_null(float("inf")),
        picked=(pl.col("report_id") == pl.col("chosen")).fill_null(False),
    )
    order = frame.select(pl.arg_sort_by(["group", "has_figure", "rank", "published", "kg", "usd", "report_id"],
                                        descending=[False, True, False, True, False, False, False],
                                        maintain_order=True)).to_series()
    back = order.arg_sort()  # sorted position -> row
    ranked = frame.select("group", "quantity_kg")[order]
    first = (ranked["group"] != ranked["group"].shift(1)).fill_null(True)  # the rule's pick: first of its group
    run = first.cast(pl.Int64).cum_sum() - 1  # the group's number in sorted order
    groups = ranked.with_columns(picked=frame["picked"][order], run=run.set_sorted()).group_by("run", maintain_order=True).agg(
        override=pl.col("picked").any(),
        incident_reports=pl.len().cast(pl.Int64),
        incident_kg_min=pl.col("quantity_kg").min(),
        incident_kg_max=pl.col("quantity_kg").max(),
    )[run[back]]  # each row's group, in row order
    return pl.concat([frame.select("picked", incident_scope=pl.col("scope").fill_null("single"),
                                   incident_parts=pl.col("parts").fill_null("")), groups,
                      pl.DataFrame({"first": first[back]})], how="horizontal").select(
        pl.col("incident_scope", "incident_parts"),
        is_representative=pl.when(pl.col("override")).then(pl.col("picked")).otherwise(pl.col("first")),
        incident_reports=pl.col("incident_reports"), incident_kg_min=pl.col("incident_kg_min"),
        incident_kg_max=pl.col("incident_kg_max")).select(DERIVED)


def check_incidents(incidents: pl.DataFrame, scopes: tuple[str, ...], display: str = "incidents.csv",
                    lines: list[int] | None = None) -> list[Problem]:
    """Problems in incidents.csv, located by line."""
    c = _Collector(incidents.height, display, lines)
    ids = incidents["incident_id"]
    c.flag(ids == "", "incident_id", "is empty")
    c.flag((ids != "") & ~ids.str.contains(ID_PATTERN), "incident_id",
           lambda i: f"{ids[i]!r} is not an identifier (letters, digits, '.', '_', '-'; starting with a letter or digit; at most 80 characters)")
    c.flag(_repeated(ids), "incident_id", lambda i: f"duplicate incident_id {ids[i]!r}")
    scope = incidents["scope"]
    c.flag(~scope.is_in(list(scopes)), "scope", lambda i: f"scope must be {' or '.join(scopes)}, not {scope[i]!r}")
    with_parts = incidents.select("parts", "scope").with_row_index("row").filter(pl.col("parts") != "")
    parts = with_parts.select("row", "scope", pl.col("parts").str.split(" ").alias("part")).explode("part").filter(pl.col("part") != "")
    unknown = parts.filter(~pl.col("part").is_in(ids.implode()))
    for row, part in unknown.select("row", "part").iter_rows():
        c.found.append((row, 0, "parts", f"part {part!r} is not an incident in incidents.csv", "error"))
    for row in parts.filter(pl.col("scope") != "total")["row"].unique(maintain_order=True).to_list():
        c.found.append((row, 1, "parts", "only incidents with scope 'total' have parts", "error"))
    return c.problems()
