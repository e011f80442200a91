"""The view a link asks for, the notices about what it could not apply, and the filter widgets.

The address bar always holds the current view, so a copied link reopens it.
The page reads the parameters itself (`parse`) instead of binding widgets to
them, so that a value it cannot apply is said on screen, naming the value and
what was used instead, rather than dropped in silence. Parameters (defaults are
left out of the address):

    years=FROM&years=TO   year range, inclusive (one `years` value: that year alone);
                          a year range never holds reports without a date
    undated=false         leave out reports without a date (when no year range is chosen)
    drug=NAME             repeatable; any case
    country=NAME|CODE     repeatable; a name as shown (any case) or an ISO 3166 code (KR, KOR)
    kind=Seizures|Prices|Cash+seized   (or seizure, price, cash); repeatable
    link=LABEL|CODE       how the report ties the case to North Korea; repeatable
    reports=all           the table lists every report, not one per incident (the sums never change)
    tab=Prices|Map|Table+and+downloads|About+the+data
    incident=ID           the incident shown under "Reports behind an incident"
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import streamlit as st

from app import queries as q
from app.queries import Filters, Options

YEARS, UNDATED, DRUG, COUNTRY, KIND, LINK, REPORTS, TAB, INCIDENT = (
    "years", "undated", "drug", "country", "kind", "link", "reports", "tab", "incident")
TABS = ("Seizures", "Prices", "Map", "Table and downloads", "About the data")
CHART_TABS = TABS[:3]
KNOWN = {YEARS, UNDATED, DRUG, COUNTRY, KIND, LINK, REPORTS, TAB, INCIDENT, "once"}
FALSE, TRUE = {"false", "no", "0", "off"}, {"true", "yes", "1", "on"}
VIEW_KEY = "_view"  # the current view, kept across pages (widget state is dropped on another page)
NOTICE_KEY = "_notices"


@dataclass(frozen=True)
class View:
    filters: Filters = field(default_factory=Filters)
    every_report: bool = False
    tab: str = TABS[0]
    incident: str | None = None


def _one_of(value: str, choices: tuple[str, ...], label: Callable[[str], str] = str) -> str | None:
    wanted = value.strip().casefold()
    for choice in choices:
        if wanted in (choice.casefold(), label(choice).casefold()):
            return choice
    return None


def parse(params: Mapping[str, list[str]], opts: Options,
          incident_known: Callable[[str], bool] = lambda _: True) -> tuple[View, list[str]]:
    """The view a link asks for, and a notice for every value it cannot apply (saying what is used instead)."""
    notices: list[str] = []
    span = opts.years

    years = None
    raw = [v for v in params.get(YEARS, []) if v.strip()]
    if raw:
        try:
            numbers = [int(v.strip()) for v in raw]
        except ValueError:
            numbers = None
        if numbers is None or len(numbers) > 2:
            notices.append(f"The link's years “{', '.join(raw)}” are not one year or two (from, to): "
                           "all years are shown.")
        elif span is None:
            notices.append("The link asks for years, but no report in this file has a date: all reports are shown.")
        else:
            low, high = min(numbers), max(numbers)
            cl, ch = max(low, span[0]), min(high, span[1])
            if cl > ch:
                notices.append(f"No report is dated {low}–{high} (the data span {span[0]}–{span[1]}): "
                               "all years are shown.")
            else:
                if (cl, ch) != (low, high):
                    notices.append(f"The data span {span[0]}–{span[1]}; the link's years {low}–{high} are "
                                   f"shown as {cl}–{ch}.")
                years = (cl, ch) if (cl, ch) != span else None

    include_undated = True
    for value in params.get(UNDATED, [])[:1]:
        if value.strip().casefold() in FALSE:
            include_undated = False
        elif value.strip().casefold() not in TRUE:
            notices.append(f"The link's undated=“{value}” is neither true nor false: reports without a date "
                           "are included.")

    def many(key: str, choices: tuple[str, ...], what: str, label: Callable[[str], str] = str,
             lookup: Callable[[str], str | None] | None = None) -> tuple[str, ...]:
        chosen, unknown = [], []
        for value in params.get(key, []):
            if not value.strip():
                continue
            found = lookup(value) if lookup else _one_of(value, choices, label)
            if found is None:
                unknown.append(value)
            elif found not in chosen:
                chosen.append(found)
        if unknown:
            names = ", ".join(f"“{v}”" for v in unknown)
            instead = ("the other " + what + "s of the link are applied" if chosen else "all " + what + "s are shown")
            notices.append(f"The link's {what} {names} is not in this data ({key}=): {instead}.")
        return tuple(chosen)

    drugs = many(DRUG, opts.drugs, "drug")
    countries = many(COUNTRY, opts.countries, "country",
                     lookup=lambda v: q.country_code(v, opts.countries))
    kinds = many(KIND, opts.kinds, "kind of figure", label=lambda k: q.KIND_LABELS.get(k, k))
    links = many(LINK, opts.links, "link to North Korea", label=q.link_label)

    every = False
    for key, all_when in ((REPORTS, {"all", "every"}), ("once", FALSE)):
        for value in params.get(key, [])[:1]:
            v = value.strip().casefold()
            if v in all_when:
                every = True
            elif not (key == "once" and v in TRUE):
                notices.append(f"The link's {key}=“{value}” is not understood: the table lists one report "
                               "per incident.")

    tab = TABS[0]
    for value in params.get(TAB, [])[:1]:
        found = _one_of(value, TABS)
        if found is None and value.strip().casefold() == "methodology":
            found = TABS[4]
        if found is None and value.strip().casefold() == "charts":
            found = TABS[0]
        if found is None:
            notices.append(f"The link's tab “{value}” does not exist: the {TABS[0]} tab is shown.")
        else:
            tab = found

    incident = None
    for value in params.get(INCIDENT, [])[:1]:
        if incident_known(value):
            incident = value
        else:
            notices.append(f"The link's incident “{value}” is not in this data: no incident is shown.")

    for key in params:
        if key not in KNOWN:
            notices.append(f"The link's parameter “{key}” is not one this page uses; it is ignored.")

    filters = Filters(years=years, include_undated=include_undated, drugs=drugs, countries=countries,
                      kinds=kinds, links=links)
    return View(filters, every, tab, incident), notices


def to_params(view: View, opts: Options) -> dict[str, list[str]]:
    """The address-bar parameters of a view (defaults left out); `parse` reads them back to the same view."""
    f = view.filters
    out: dict[str, list[str]] = {}
    if f.years is not None:
        out[YEARS] = [str(f.years[0]), str(f.years[1])]
    elif not f.include_undated:
        out[UNDATED] = ["false"]
    if f.drugs:
        out[DRUG] = list(f.drugs)
    if f.countries:
        out[COUNTRY] = [q.country_name(c) for c in f.countries]
    if f.kinds:
        out[KIND] = [q.KIND_LABELS.get(k, k) for k in f.kinds]
    if f.links:
        out[LINK] = [q.link_label(k) for k in f.links]
    if view.every_report:
        out[REPORTS] = ["all"]
    if view.tab != TABS[0]:
        out[TAB] = [view.tab]
    if view.incident:
        out[INCIDENT] = [view.incident]
    return out


# --------------------------------------------------------------------------- Streamlit glue

W = {k: "w_" + k for k in (YEARS, UNDATED, DRUG, COUNTRY, KIND, LINK, REPORTS, TAB, INCIDENT)}


def current_params() -> dict[str, list[str]]:
    return {k: st.query_params.get_all(k) for k in st.query_params.keys()}


def start(opts: Options, incident_known: Callable[[str], bool]) -> View:
    """The view of this run. On a session's first run, the link's; afterwards the one kept in the session.
    Puts the view into the widgets' state (where a widget has none, e.g. back from another page)."""
    ss = st.session_state
    if VIEW_KEY not in ss:
        view, notices = parse(current_params(), opts, incident_known)
        ss[VIEW_KEY], ss[NOTICE_KEY] = view, (notices, view)
    view = ss[VIEW_KEY]
    f = view.filters
    initial = {
        YEARS: f.years or opts.years, UNDATED: f.include_undated, DRUG: list(f.drugs),
        COUNTRY: list(f.countries), KIND: list(f.kinds), LINK: list(f.links), REPORTS: view.every_report,
        TAB: view.tab, INCIDENT: view.incident,
    }
    for key, value in initial.items():
        if W[key] not in ss:
            ss[W[key]] = value
    return view


def notices(filters: Filters) -> list[str]:
    """The link's notices, while the filters are still those the link produced."""
    kept = st.session_state.get(NOTICE_KEY)
    if not kept:
        return []
    texts, view = kept
    return texts if view.filters == filters else []


def sidebar(opts: Options) -> Filters:
    """The filter widgets (in the sidebar); returns the selection they hold."""
    sb = st.sidebar
    sb.header("Filters")
    years = None
    if opts.years and opts.years[0] < opts.years[1]:
        chosen = sb.slider("Years", opts.years[0], opts.years[1], step=1, key=W[YEARS],
                           help="Year of the seizure or price observation. A year range never includes reports "
                                "without a date.")
        years = tuple(int(y) for y in chosen) if tuple(chosen) != opts.years else None
    include = sb.toggle("Include reports without a date", key=W[UNDATED],
                        disabled=years is not None or not opts.undated,
                        help="Only when all years are shown: reports without a date cannot be in a year range.")
    drugs = sb.multiselect("Drug", opts.drugs, key=W[DRUG], placeholder="All drugs")
    countries = sb.multiselect("Country", opts.countries, format_func=q.country_name, key=W[COUNTRY],
                               placeholder="All countries", help="Where the seizure or price observation happened.")
    kinds = sb.multiselect("Kind of figure", opts.kinds, format_func=lambda k: q.KIND_LABELS.get(k, k), key=W[KIND],
                           placeholder="Seizures, prices and cash",
                           help="Seizures (quantities and their value), prices quoted on a market, or cash "
                                "seized with drugs.")
    links = sb.multiselect("Link to North Korea", opts.links, format_func=q.link_label, key=W[LINK],
                           placeholder="Any link", help="How the source ties the case to North Korea.")
    sb.button("Reset filters", on_click=_reset, args=(opts,), key="reset_filters", width="stretch")
    return Filters(years=years, include_undated=bool(include) if years is None else True,
                   drugs=tuple(drugs), countries=tuple(countries), kinds=tuple(kinds), links=tuple(links))


def _reset(opts: Options) -> None:
    ss = st.session_state
    ss[W[YEARS]] = opts.years
    ss[W[UNDATED]] = True
    for key in (DRUG, COUNTRY, KIND, LINK):
        ss[W[key]] = []


def finish(view: View, opts: Options) -> None:
    """Keep the view for the session and put it in the address bar."""
    st.session_state[VIEW_KEY] = view
    wanted = to_params(view, opts)
    if wanted != current_params():
        st.query_params.from_dict(wanted)


def with_incident(view: View, incident: str | None) -> View:
    return replace(view, incident=incident)
