"""The dashboard's view state and the URL: which filters exist, their query parameters, their defaults.

Every filter widget is bound to a query parameter (Streamlit's
`bind="query-params"`), so the address bar always holds the current view and a
copied link reopens it; `persist_state="session"` keeps the filters while the
reader visits another page. A parameter equal to its default is left out of
the URL; an unknown value in a link is ignored. Parameters:

    years=FROM&years=TO   year range (inclusive)
    undated=false         leave out reports whose event date is unknown
    drug=NAME             repeat for several drugs (default: all)
    country=NAME          country name as shown, e.g. South+Korea (default: all)
    kind=Seizures|Prices|Cash+seized
    link=LABEL            how the report ties the case to North Korea, label as shown
    once=false            show every report instead of one per incident
    log=true              log scale for kilograms per year
    dollars=Nominal       prices in nominal instead of constant dollars
    tab=Table+and+downloads|Methodology   the open tab
    incident=ID           the incident shown under "Reports behind an incident" (its incident_id)

Values are the labels the widgets show (Streamlit binds labels, not codes), except
`incident`: its picker's labels hold counts that change with the file, so the
parameter holds the incident_id and is kept in step by the picker itself.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from app import data

YEARS, UNDATED, DRUG, COUNTRY, KIND, LINK, ONCE = "years", "undated", "drug", "country", "kind", "link", "once"
LOG, DOLLARS, TAB = "log", "dollars", "tab"
INCIDENT, INCIDENT_PICK = "incident", "incident_pick"  # the URL parameter, the picker's widget key
TABS = ("Charts", "Table and downloads", "Methodology")
DOLLAR_CHOICES = ("constant", "nominal")
KIND_LABELS = {"seizure": "Seizures", "price": "Prices", "cash": "Cash seized"}


@dataclass(frozen=True)
class Options:
    """What the filters can choose from, taken from the whole file (so links stay valid while filtering)."""

    years: tuple[int, int] | None
    drugs: tuple[str, ...]
    countries: tuple[str, ...]
    kinds: tuple[str, ...]
    links: tuple[str, ...]
    has_undated: bool


def options(frame: pd.DataFrame, prep: data.Prepared | None = None) -> Options:
    """The choices, from the frame, or (fast, on a million rows) from the loader's prepared codes."""
    if prep is not None:
        return _options_from(prep)
    years = frame["year"].dropna()
    return Options(
        years=(int(years.min()), int(years.max())) if len(years) else None,
        drugs=tuple(sorted(v for v in frame["drug"].unique() if v)),
        countries=tuple(sorted((v for v in frame["country"].unique() if v), key=data.country_name)),
        kinds=tuple(k for k in data.KINDS if k in set(frame["kind"])),
        links=tuple(sorted((v for v in frame["nk_link"].unique() if v), key=data.link_label)),
        has_undated=bool(frame["year"].isna().any()),
    )


def _options_from(prep: data.Prepared) -> Options:
    known = prep.year[~np.isnan(prep.year)]
    return Options(
        years=(int(known.min()), int(known.max())) if len(known) else None,
        drugs=tuple(sorted(v for v in prep.drug.values if isinstance(v, str) and v)),
        countries=tuple(sorted((v for v in prep.country.values if isinstance(v, str) and v), key=data.country_name)),
        kinds=tuple(k for k in data.KINDS if k in set(prep.kind.values)),
        links=tuple(sorted((v for v in prep.link.values if isinstance(v, str) and v), key=data.link_label)),
        has_undated=bool(len(known) < prep.n),
    )


def sidebar(opts: Options) -> data.Filters:
    """Draw the filter widgets in the sidebar and return the selection they hold."""
    sb = st.sidebar
    sb.header("Filters")
    years = None
    if opts.years and opts.years[0] < opts.years[1]:
        years = sb.slider("Years", opts.years[0], opts.years[1], opts.years, step=1, key=YEARS,
                          bind="query-params", persist_state="session", help="Year of the seizure or price observation.")
    include_undated = sb.toggle("Include reports without a date", value=True, key=UNDATED, bind="query-params", persist_state="session",
                                disabled=not opts.has_undated,
                                help="Some sources do not say when the seizure happened; they cannot be placed "
                                     "on a time axis but count in the headline numbers and the table.")
    drugs = sb.multiselect("Drug", opts.drugs, key=DRUG, bind="query-params", persist_state="session", placeholder="All drugs")
    countries = sb.multiselect("Country", opts.countries, format_func=data.country_name, key=COUNTRY,
                               bind="query-params", persist_state="session", placeholder="All countries",
                               help="Where the seizure or price observation happened.")
    kinds = sb.multiselect("Kind of figure", opts.kinds, format_func=lambda k: KIND_LABELS.get(k, k), key=KIND,
                           bind="query-params", persist_state="session", placeholder="Seizures, prices and cash",
                           help="Seizures (quantities and their value), prices quoted per unit on a market, "
                                "or cash seized together with drugs.")
    links = sb.multiselect("Link to North Korea", opts.links, format_func=data.link_label, key=LINK,
                           bind="query-params", persist_state="session", placeholder="Any link",
                           help="How the source ties the case to North Korea (see Methodology).")
    count_once = sb.toggle("Count each incident once", value=True, key=ONCE, bind="query-params", persist_state="session",
                           help="When several reports describe the same seizure or price, keep only the "
                                "representative report (rule in Methodology), and never add an operation "
                                "or annual total on top of the seizures it sums.")
    return data.Filters(
        years=tuple(years) if years is not None else None,
        include_undated=bool(include_undated),
        drugs=tuple(drugs), countries=tuple(countries), kinds=tuple(kinds), links=tuple(links),
        count_once=bool(count_once),
    )


def defaults(opts: Options) -> dict:
    """The value of every filter widget when nothing is chosen (and its parameter is absent from the URL)."""
    out = {UNDATED: True, DRUG: [], COUNTRY: [], KIND: [], LINK: [], ONCE: True}
    if opts.years and opts.years[0] < opts.years[1]:
        out[YEARS] = opts.years
    return out


def reset_button(opts: Options) -> None:
    """A button that puts every filter back to its default, which also clears them from the URL."""
    def _reset() -> None:
        for key, value in defaults(opts).items():
            st.session_state[key] = value
    st.sidebar.button("Reset filters", on_click=_reset, key="reset_filters", width="stretch")


def incident_picker(choices: data.IncidentChoices, label_of: Callable[[str], str | None]) -> str | None:
    """A select box over the offered incidents, kept in step with the `incident` URL parameter.

    An incident named by the URL is offered even when it is not among `choices`
    (outside the selection, or beyond the cap), as long as `label_of` knows it
    (None: not in the file; the parameter is then dropped).
    """
    ids, labels = list(choices.ids), dict(choices.labels)
    wanted = st.query_params.get(INCIDENT)
    if wanted and wanted not in labels:
        label = label_of(wanted)
        if label is None:
            del st.query_params[INCIDENT]
            wanted = None
        else:
            ids.insert(0, wanted)
            labels[wanted] = label + " (outside this list)"

    def _sync() -> None:
        chosen = st.session_state.get(INCIDENT_PICK)
        if chosen:
            st.query_params[INCIDENT] = chosen
        elif INCIDENT in st.query_params:
            del st.query_params[INCIDENT]

    return st.selectbox(
        "Incident", ids, index=ids.index(wanted) if wanted else None, format_func=labels.__getitem__,
        key=INCIDENT_PICK, on_change=_sync, placeholder="Choose an incident (type to search)",
        disabled=not ids,
        help="Year · country · drug · incident id · reports of it in the whole file. A copied link keeps "
             "the chosen incident.")
