"""Property tests of the page's own query code (app/queries.py) and link code (app/state.py).

Hypothesis draws small sets of reports (incidents with several reports, totals
with parts, undated reports, tablets) and checks what must hold whatever the data.
"""
from __future__ import annotations

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import queries as q
from app import state
from etl.columns import NAMES

DRUGS = ("heroin", "methamphetamine", "cocaine")
COUNTRIES = ("KR", "JP", "CN", "KP")
KINDS = ("seizure", "price", "cash")


@st.composite
def datasets(draw) -> pl.DataFrame:
    n_incidents = draw(st.integers(1, 8))
    reports = []
    for i in range(n_incidents):
        kind = draw(st.sampled_from(KINDS))
        year = draw(st.one_of(st.none(), st.integers(2000, 2010)))
        country = draw(st.sampled_from(COUNTRIES))
        drug = draw(st.sampled_from(DRUGS))
        n = draw(st.integers(1, 3))
        rep = draw(st.integers(0, n - 1))
        for j in range(n):
            kg = draw(st.one_of(st.none(), st.floats(0.0001, 5000, allow_nan=False)))
            count = draw(st.one_of(st.none(), st.integers(1, 10**6))) if kg is None else None
            reports.append(dict(report_id=f"r{i}-{j}", incident_id=f"i{i}", incident_scope="single", incident_parts="",
                                is_representative=j == rep, kind=kind, year=year,
                                date=None if year is None else f"{year}-0{draw(st.integers(1, 9))}",
                                country=country, drug=drug, quantity_kg=kg, quantity_count=count,
                                quantity_count_unit="tablet" if count else None,
                                price_usd_per_kg_const=draw(st.floats(1, 1e6)) if kind == "price" else None))
    # a total over some of the incidents, with their kind
    if n_incidents >= 2 and draw(st.booleans()):
        parts = draw(st.lists(st.integers(0, n_incidents - 1), min_size=1, max_size=3, unique=True))
        kind = next(r["kind"] for r in reports if r["incident_id"] == f"i{parts[0]}")
        reports.append(dict(report_id="rT", incident_id="iT", incident_scope="total",
                            incident_parts=" ".join(f"i{p}" for p in parts), is_representative=True, kind=kind,
                            year=2005, date="2005", country="KR", drug="heroin", quantity_kg=10000.0,
                            quantity_count=None, quantity_count_unit=None, price_usd_per_kg_const=None))
    frame = pl.DataFrame(reports, infer_schema_length=None)
    # every other column of the output, empty; kg bounds and spread as the build would give them
    extra = [pl.lit(None, dtype=q.SCHEMA[c]).alias(c) for c in NAMES if c not in frame.columns]
    frame = frame.with_columns(extra).with_columns(
        incident_kg_min=pl.col("quantity_kg").min().over("incident_id", "kind"),
        incident_kg_max=pl.col("quantity_kg").max().over("incident_id", "kind"),
    )
    frame = frame.select([pl.col(c).cast(q.SCHEMA[c]) for c in NAMES])
    return q.with_helpers(frame)


@st.composite
def filters(draw) -> q.Filters:
    years = draw(st.one_of(st.none(), st.tuples(st.integers(1999, 2011), st.integers(1999, 2011)).map(
        lambda t: (min(t), max(t)))))
    return q.Filters(years=years, include_undated=draw(st.booleans()),
                     drugs=tuple(draw(st.sets(st.sampled_from(DRUGS), max_size=2))),
                     countries=tuple(draw(st.sets(st.sampled_from(COUNTRIES), max_size=2))),
                     kinds=tuple(draw(st.sets(st.sampled_from(KINDS), max_size=2))))


common = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@common
@given(datasets(), filters())
def test_counted_rows_are_one_per_incident_and_kind_and_no_total_beside_its_parts(frame, f):
    rows = q.select(frame, f)
    c = q.counted(rows)
    assert c.select("incident_id", "kind").is_duplicated().sum() == 0
    present = set(zip(c["incident_id"], c["kind"]))
    for incident, kind, parts in c.select("incident_id", "kind", "incident_parts").iter_rows():
        assert not any((p, kind) in present for p in (parts or "").split())
    # nothing is lost: every representative report of the selection is counted or is a total with a part counted
    reps = rows.filter(pl.col("is_representative"))
    assert len(reps) - len(c) == q.totals_left_out(rows)


@common
@given(datasets(), filters())
def test_a_year_range_never_holds_an_undated_report(frame, f):
    rows = q.select(frame, f)
    if f.years is not None or not f.include_undated:
        assert rows["year"].null_count() == 0
    if f.years is not None:
        assert rows.filter((pl.col("year") < f.years[0]) | (pl.col("year") > f.years[1])).is_empty()


@common
@given(datasets(), filters())
def test_headline_kilograms_are_the_bars_plus_the_undated(frame, f):
    h = q.headline(frame, f)
    rows = q.select(frame, f)
    bars = q.kg_per_year(rows)["kg"].sum()
    c = q.counted(rows)
    undated = c.filter((pl.col("kind") == "seizure") & pl.col("year").is_null())["quantity_kg"].sum()
    assert abs(h.kg - (bars + undated)) <= 1e-6 * max(1.0, h.kg)
    assert sum(h.kg_by_drug.values()) == __import__("pytest").approx(h.kg)
    assert h.incidents == c["incident_id"].n_unique() <= len(c)


@common
@given(datasets(), filters())
def test_every_seizure_point_sits_inside_its_range(frame, f):
    pts, total = q.seizure_points(q.select(frame, f))
    assert len(pts) == min(total, q.MAX_POINTS)
    for kg, low, high in pts.select("kg", "low", "high").iter_rows():
        assert low <= kg <= high


@common
@given(datasets(), filters())
def test_undated_left_out_counts_what_the_year_choice_removes(frame, f):
    h = q.headline(frame, f)
    everything = q.headline(frame, q.Filters(drugs=f.drugs, countries=f.countries, kinds=f.kinds, links=f.links))
    if f.years is None and f.include_undated:
        assert h.undated_left_out == 0
    else:
        dated = q.headline(frame, q.Filters(drugs=f.drugs, countries=f.countries, kinds=f.kinds,
                                            include_undated=False))
        if "total" not in frame["incident_scope"].to_list():  # a total can count or not with its undated part
            assert h.undated_left_out == everything.incidents - dated.incidents


@common
@given(datasets(), filters(), st.booleans(), st.sampled_from(state.TABS))
def test_a_link_reads_back_to_the_same_view(frame, f, every, tab):
    opts = q.options(frame)
    f = q.Filters(years=f.years if f.years and opts.years and opts.years[0] <= f.years[0] and f.years[1] <= opts.years[1]
                  and f.years != opts.years else None,
                  include_undated=f.include_undated if f.years is None else True,
                  drugs=tuple(d for d in f.drugs if d in opts.drugs),
                  countries=tuple(c for c in f.countries if c in opts.countries),
                  kinds=tuple(k for k in f.kinds if k in opts.kinds))
    view = state.View(f, every, tab, None)
    back, notices = state.parse(state.to_params(view, opts), opts)
    assert notices == []
    assert back.every_report == view.every_report and back.tab == view.tab
    assert back.filters.years == f.years and back.filters.include_undated == f.include_undated
    assert set(back.filters.drugs) == set(f.drugs) and set(back.filters.countries) == set(f.countries)
    assert set(back.filters.kinds) == set(f.kinds)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["years", "drug", "country", "kind", "link", "tab", "incident", "x"]),
                       st.lists(st.text(max_size=12), max_size=3), max_size=4))
def test_any_link_gives_a_view_and_a_notice_for_what_it_cannot_apply(params):
    opts = q.Options(years=(2000, 2010), drugs=DRUGS, countries=COUNTRIES, kinds=KINDS, links=("state_agents",),
                     undated=1)
    view, notices = state.parse(params, opts, incident_known=lambda v: v == "i1")
    f = view.filters
    assert set(f.drugs) <= set(DRUGS) and set(f.countries) <= set(COUNTRIES) and set(f.kinds) <= set(KINDS)
    given_values = sum(1 for k, vs in params.items() if k not in ("years",) for v in vs if v.strip())
    applied = len(f.drugs) + len(f.countries) + len(f.kinds) + len(f.links)
    if given_values > applied + (1 if view.incident else 0) + (1 if view.tab != state.TABS[0] else 0):
        assert notices  # something was not applied: it is said
