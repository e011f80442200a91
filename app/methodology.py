"""The "About the data" tab: how to cite, the licence, and the method in plain words (no code, no paths)."""
from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import streamlit as st

from app import format as fmt
from app import queries as q

REFERENCE = q.REPO / "data" / "reference"


def _reference(name: str) -> pd.DataFrame | None:
    path = REFERENCE / name
    if not path.is_file():
        return None
    with path.open(newline="", encoding="utf-8") as fh:
        return pd.DataFrame(list(csv.DictReader(fh)))


def render(ds: q.Dataset, citation: str) -> None:
    st.subheader("Cite this dataset")
    st.code(citation, language=None, wrap_lines=True)  # a code block: copyable, never read as markdown
    licences = ", ".join(ds.licenses) or "not stated in this file's data dictionary"
    st.text(f"Version: {ds.version}    Built: {ds.created}    Licence of the data: {licences}")

    base = ds.base_year
    st.subheader("What the figures are")
    st.markdown(
        "Each row of the data is one figure (a quantity, a value or a price) found in one document: a news "
        "article, an official statement, a court or UN document, or a compilation relaying earlier reports. "
        "The figure is kept exactly as the source wrote it, next to our conversion to kilograms and US dollars, "
        "and every row names its source so it can be checked.")
    st.subheader("Counting each incident once")
    st.markdown(
        "Several documents often describe the same seizure, sometimes with different figures. Reports of the "
        "same event are grouped into one *incident*. For each incident and kind of figure one report stands for "
        "it: the one with a figure, from the most authoritative kind of source (official before press before "
        "secondary), then the most recently published, then the most cautious figure. Some reports give the "
        "total of an operation or a year; such a total is never added to the seizures it sums when those are "
        "also in the selection. Every number, chart and table count on this page follows that rule. Where "
        "sources disagree, the charts draw the spread between them as a bar.")
    st.subheader("Quantities")
    st.markdown(
        "Masses are converted to kilograms. A range such as *6 to 8 tonnes* keeps both ends and uses the "
        "middle; *nearly 125 kg* is an upper bound and *more than 1 tonne* a lower bound, marked ▼ and ▲ in the "
        "charts. Seizures counted in tablets, bags or packets stay counts: they are never turned into "
        "kilograms, and the page says how many there are beside every sum of kilograms.")
    st.subheader("Values and prices")
    dollars = f"constant {base} US dollars" if base else "constant US dollars"
    st.markdown(
        "A value in another currency is converted with the annual average exchange rate of the year of the "
        "event (or of publication when the event is undated), then brought to "
        f"**{dollars}** with the US consumer price index, so that amounts from different years compare. "
        "A currency or year without a known rate is an error in the build, never a rate of one.\n\n"
        "Two kinds of money figures are kept apart: **market prices** that a source quotes for a gram or a "
        "kilogram on a market, and **values implied by seizures**, the value the authorities put on a seizure "
        "divided by its mass. Authorities often value drugs at street prices where they are seized, far above "
        "what they cost at source, so the two are drawn in separate charts.")
    links = _reference("nk_links.csv")
    if links is not None and {"code", "meaning"} <= set(links.columns):
        st.subheader("How each case is tied to North Korea")
        st.dataframe(pd.DataFrame({"Label in the filters": [q.link_label(c) for c in links["code"]],
                                   "Meaning": links["meaning"]}), hide_index=True, width="stretch")
    st.subheader("Caveats")
    st.markdown(
        "- **Reported, not measured.** Seizures nobody wrote about, or reported only in languages the curators "
        "do not read, are missing; years with more press attention look busier. Read the charts as a record of "
        "what was reported, not as a measure of trafficking.\n"
        "- **The North Korea link varies in strength**, from officials caught with drugs to an unnamed source's "
        "claim; the *Link to North Korea* filter keeps the kinds you trust.\n"
        "- **Places are approximate.** When a source names only a country, the point sits at its centre.\n"
        "- **Years without reports are gaps**, not zero seizures.\n"
        "- **Small numbers.** A handful of reports can dominate a year.")
    if ds.note:
        st.caption(fmt.md(ds.note))


__all__ = ["Path", "render"]
