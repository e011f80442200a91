"""Dashboard page "Draft from an article": paste a story, review draft rows, check them, download them.

The curator names the source (an existing `source_id` of data/raw/sources.csv, or the fields of a new
source), pastes the text, and gets the draft rows of `draft.extract.extract` in an editable table.
For every ticked row the page says what the project's checker still needs (nk_link, a place in
places.csv, a drug in drugs.csv, ...), and before offering the download it runs the checker itself:
`etl.build.build(..., keep_going=True)` on a temporary copy of data/raw with the fragment added (the
same build the upload page and `make data` run), and says which rows would be rejected and why.
Nothing is written under data/: the curator pastes the fragments into data/raw.

`draft_frame`, `fragment_csv`, `missing_for_checker` and `check_fragment` are plain functions so they
can be tested without a browser; `render` draws the page.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from etl.csvio import csv_bytes

# draft.extract, etl.build, etl.normalise and etl.reference (pint: a quarter of a second) are imported when
# this page runs, not when the dashboard registers it
if TYPE_CHECKING:
    from etl.reference import Reference

REPO = Path(__file__).resolve().parent.parent
RAW_DIR = REPO / "data" / "raw"
REFERENCE_DIR = REPO / "data" / "reference"
MAX_CHARS = 200_000
FRAGMENT_NAME = "draft_reports.csv"
SOURCE_FRAGMENT_NAME = "draft_sources.csv"
INCIDENT_FRAGMENT_NAME = "draft_incidents.csv"
READ_ONLY = ["char_start", "char_end", "sentence", "confidence"]
SOURCE_COLUMNS = ["source_id", "source_type", "outlet", "title", "published", "url", "via", "notes"]
INCIDENT_COLUMNS = ["incident_id", "scope", "parts", "representative", "notes"]
NEW_SOURCE = "a new source"


@st.cache_resource(show_spinner=False)
def _reference(directory: str) -> Reference:
    from etl.reference import load_reference

    return load_reference(Path(directory))


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def draft_frame(text: str, published: dt.date | None, outlet_country: str = "", source_id: str = "",
                ref: Reference | None = None) -> pd.DataFrame:
    """Draft rows for `text`, with `import` as a True/False column for the table's tick boxes."""
    from draft.extract import extract

    ref = ref or _reference(str(REFERENCE_DIR))
    frame = extract(text, ref, published=published, outlet_country=outlet_country or None, source_id=source_id)
    frame = frame.astype(object).where(frame.notna(), "")
    frame["import"] = frame["import"] == "yes"
    return frame


def _ticked(edited: pd.DataFrame) -> pd.DataFrame:
    return edited[edited["import"].eq(True)] if len(edited) else edited  # rows added in the table start unticked


def fragment_csv(edited: pd.DataFrame) -> bytes:
    """The ticked rows in the reports.csv columns, as CSV bytes."""
    from etl.normalise import REPORT_COLUMNS

    rows = _ticked(edited).reindex(columns=REPORT_COLUMNS).astype(object)
    rows = rows.where(rows.notna(), "").astype(str)
    return csv_bytes(rows.reset_index(drop=True))


def new_incidents(edited: pd.DataFrame, known: set[str], source_id: str) -> pd.DataFrame:
    """One incidents.csv row (a single seizure) for each ticked row whose incident_id is not known yet."""
    ids = [i for i in dict.fromkeys(_ticked(edited).get("incident_id", pd.Series(dtype=str)).astype(str)) if i and i not in known]
    note = f"drafted from {source_id or 'an article'}; check whether it is a report of an incident already recorded"
    return pd.DataFrame([{"incident_id": i, "scope": "single", "parts": "", "representative": "", "notes": note} for i in ids],
                        columns=INCIDENT_COLUMNS)


def missing_for_checker(edited: pd.DataFrame, ref: Reference, source_ids: set[str]) -> list[list[str]]:
    """For each row, what the project's checker still needs before it accepts the row."""
    out = []
    for _, row in edited.iterrows():
        cell = {k: str(row.get(k, "") if pd.notna(row.get(k, "")) else "").strip() for k in
                ("source_id", "kind", "nk_link", "country", "place", "drug", "quantity", "value", "currency")}
        need = []
        if not cell["source_id"]:
            need.append("source_id: choose the source above")
        elif cell["source_id"] not in source_ids:
            need.append(f"source_id {cell['source_id']!r} is not in sources.csv (enter it as a new source)")
        if cell["kind"] not in ("seizure", "price", "cash"):
            need.append("kind: seizure, price or cash")
        if not cell["nk_link"]:
            need.append("nk_link: choose how the figure is linked to North Korea")
        elif cell["nk_link"] not in ref.nk_links:
            need.append(f"nk_link {cell['nk_link']!r} is not in nk_links.csv")
        if not cell["country"]:
            need.append("country: the ISO code of where it happened")
        elif (cell["country"], cell["place"]) not in ref.places:
            need.append(f"place {cell['place']!r} in {cell['country']} is not in places.csv (leave it empty or add the place)")
        if not cell["drug"]:
            need.append("drug: name the drug")
        elif cell["drug"].lower() not in ref.drugs:
            need.append(f"drug {cell['drug']!r} is not in drugs.csv")
        if not cell["quantity"] and not cell["value"]:
            need.append("a quantity or a value")
        if cell["value"] and not cell["currency"]:
            need.append("currency: the ISO code of the value")
        out.append(need)
    return out


@dataclass
class FragmentCheck:
    """What the project's checker says about a fragment added to data/raw."""

    rows: int = 0  # fragment rows checked
    rejected: dict[str, list[str]] = field(default_factory=dict)  # report_id -> reasons
    warnings: dict[str, list[str]] = field(default_factory=dict)
    file_problems: list[str] = field(default_factory=list)  # problems that stopped the build

    @property
    def accepted(self) -> int:
        return self.rows - len(self.rejected)


def check_fragment(reports: bytes, sources_row: dict | None = None, incidents: pd.DataFrame | None = None,
                   raw_dir: Path = RAW_DIR, reference_dir: Path = REFERENCE_DIR) -> FragmentCheck:
    """Run the project's build with --keep-going on data/raw plus the fragment, in a temporary folder.

    The only call into the build: if its signature changes, this is the one place to adapt.
    """
    from etl.build import build
    from etl.errors import InputProblems

    fragment = pd.read_csv(io.BytesIO(reports), dtype=str, keep_default_na=False)
    check = FragmentCheck(rows=len(fragment))
    if fragment.empty:
        return check
    with tempfile.TemporaryDirectory(prefix="nk-draft-") as tmp:
        raw, out = Path(tmp) / "raw", Path(tmp) / "out"
        shutil.copytree(raw_dir, raw)
        starts = _append_rows(raw / "reports.csv", fragment)
        if sources_row is not None:
            _append_rows(raw / "sources.csv", pd.DataFrame([sources_row]))
        if incidents is not None and len(incidents):
            _append_rows(raw / "incidents.csv", incidents)
        lines = dict(zip(starts, fragment["report_id"]))
        try:
            result = build(raw, reference_dir, out, keep_going=True)
        except InputProblems as err:
            check.file_problems = [f"{Path(p.file).name}:{p.line}: {p.column}: {p.message}" for p in err.problems]
            return check
        for p in result.errors + result.warnings:
            if Path(p.file).name == "reports.csv" and p.line in lines:
                target = check.rejected if p.severity == "error" else check.warnings
                target.setdefault(lines[p.line], []).append(f"{p.column}: {p.message}")
            elif p.severity == "error":
                check.file_problems.append(f"{Path(p.file).name}:{p.line}: {p.column}: {p.message}")
    return check


def _append_rows(path: Path, rows: pd.DataFrame) -> list[int]:
    """Append `rows` to a CSV file in its own column order; the physical line each appended row starts on."""
    header = next(csv.reader(io.StringIO(path.read_text(encoding="utf-8").split("\n", 1)[0])))
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        data += b"\n"
    line = data.count(b"\n") + 1
    starts = []
    chunks = [data]
    for _, row in rows.reindex(columns=header).fillna("").astype(str).iterrows():
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(row.tolist())
        chunk = buffer.getvalue().encode("utf-8")
        starts.append(line)
        line += chunk.count(b"\n")  # a quoted cell with a line break spans several physical lines
        chunks.append(chunk)
    path.write_bytes(b"".join(chunks))
    return starts


@st.cache_data(show_spinner=False, max_entries=16)
def _checked(reports: bytes, sources_row: tuple | None, incidents_csv: bytes) -> FragmentCheck:
    incidents = pd.read_csv(io.BytesIO(incidents_csv), dtype=str, keep_default_na=False) if incidents_csv else None
    return check_fragment(reports, dict(sources_row) if sources_row else None, incidents)


def _source_section() -> tuple[str, dict | None, dt.date | None]:
    """Ask for the source: (source_id, a new sources.csv row or None, its publication date)."""
    sources = _read(RAW_DIR / "sources.csv")
    labels = {sid: f"{sid} — {outlet}: {title}"[:120] for sid, outlet, title in sources[["source_id", "outlet", "title"]].values}
    choice = st.selectbox("Source of the article", [NEW_SOURCE, *labels], key="draft_source_pick",
                          format_func=lambda s: labels.get(s, s),
                          help="Pick the source_id of data/raw/sources.csv, or enter the fields of a new source.")
    if choice != NEW_SOURCE:
        published = sources.set_index("source_id").at[choice, "published"]
        if published:
            st.caption(f"Published {published} (from data/raw/sources.csv).")
            return choice, None, dt.date.fromisoformat(published)
        return choice, None, st.date_input("Publication date (the source has none recorded)", value=None,
                                           key="draft_published_known", min_value=dt.date(1950, 1, 1), max_value=dt.date.today())
    types = _read(REFERENCE_DIR / "source_types.csv")["code"].tolist()
    c1, c2, c3 = st.columns(3)
    sid = c1.text_input("New source_id", key="draft_new_id", help="Lower-case letters, digits and hyphens, e.g. yonhap-2019-06-10").strip()
    outlet = c2.text_input("Outlet", key="draft_new_outlet").strip()
    stype = c3.selectbox("Source type", types, index=types.index("press") if "press" in types else 0, key="draft_new_type")
    title = st.text_input("Title", key="draft_new_title").strip()
    c4, c5 = st.columns(2)
    url = c4.text_input("URL", key="draft_new_url").strip()
    via = c5.text_input("Via (the outlet it relays, if any)", key="draft_new_via").strip()
    published = st.date_input("Publication date", value=None, key="draft_published", min_value=dt.date(1950, 1, 1),
                              max_value=dt.date.today(), help="Resolves 'last year', 'last Wednesday', '지난달 17일'. Leave empty if unknown.")
    if not sid:
        return "", None, published
    row = {"source_id": sid, "source_type": stype, "outlet": outlet, "title": title,
           "published": published.isoformat() if published else "", "url": url, "via": via, "notes": ""}
    return sid, row, published


def render() -> None:
    from etl.normalise import REPORT_COLUMNS

    st.title("Draft from an article")
    st.caption(
        "Name the source, then paste the text of a news story, in English or Korean. Every mass, value and price "
        "in it comes back as a draft row in the reports.csv columns, dated against the publication date and "
        "paired with its seizure where the text ties them. Exchange rates, fines, rewards, budgets and counts of "
        "people are listed with import unticked. Check every row against its sentence and fill what the checker "
        "still needs; the page runs the project's checker on the ticked rows before you download them. "
        "Nothing is saved by this page.")
    source_id, new_source, published = _source_section()
    text = st.text_area("Article text", key="draft_text", height=280, max_chars=MAX_CHARS,
                        placeholder="Paste the article here")
    outlet = st.text_input("Outlet country (ISO code)", key="draft_outlet", max_chars=2,
                           help="A bare $ in an Australian paper (AU) is read as AUD; in HK as HKD.").strip().upper()
    if not text.strip():
        st.info("Paste an article to see draft rows.")
        return
    if outlet and not re.fullmatch(r"[A-Z]{2}", outlet):
        st.error(f"Outlet country {outlet!r} is not a two-letter ISO code (e.g. AU, KR, PH).")
        return
    if published is None:
        st.warning("No publication date: relative dates ('last year', 'last Wednesday', '지난해') are left empty.")
    if not source_id:
        st.warning("No source yet: pick one above or enter a new source_id; the checker rejects rows without one.")
    frame = draft_frame(text, published, outlet, source_id)
    if frame.empty:
        st.warning("No masses, values or prices found in the text.")
        return
    ref = _reference(str(REFERENCE_DIR))
    links = sorted(ref.nk_links)
    link_all = st.selectbox("nk_link for the ticked rows that have none", ["", *links], key="draft_link_all",
                            help="How the figures are linked to North Korea (data/reference/nk_links.csv); "
                                 "set it per row in the table where rows differ.")
    if link_all:
        frame.loc[frame["import"] & frame["nk_link"].eq(""), "nk_link"] = link_all
    n_import = int(frame["import"].sum())
    st.write(f"{len(frame)} figure(s) found; {n_import} ticked for import.")
    edited = st.data_editor(
        frame,
        key="draft_editor",
        hide_index=True,
        num_rows="dynamic",
        disabled=READ_ONLY,
        column_config={
            "import": st.column_config.CheckboxColumn("import", help="Untick rows that are not seizures or prices"),
            "kind": st.column_config.SelectboxColumn("kind", options=["seizure", "price", "cash", ""]),
            "nk_link": st.column_config.SelectboxColumn("nk_link", options=["", *links]),
            "confidence": st.column_config.NumberColumn("confidence", format="%.2f"),
            "sentence": st.column_config.TextColumn("sentence", width="large"),
            "notes": st.column_config.TextColumn("notes", width="large"),
        },
    )
    ticked = _ticked(edited)
    sources = _read(RAW_DIR / "sources.csv")
    known_sources = set(sources["source_id"]) | ({source_id} if new_source else set())
    if new_source and source_id in set(sources["source_id"]):
        st.error(f"source_id {source_id!r} is already in data/raw/sources.csv: pick it from the list instead.")
        new_source = None
    needs = missing_for_checker(ticked, ref, known_sources)
    todo = pd.DataFrame({"report_id": ticked["report_id"].astype(str).tolist(),
                         "still needed for the checker": ["; ".join(n) if n else "nothing" for n in needs]})
    st.subheader("What the checker still needs")
    st.dataframe(todo, hide_index=True, key="draft_todo")
    if not len(ticked):
        st.info("No row ticked for import.")
        return
    incidents = new_incidents(edited, set(_read(RAW_DIR / "incidents.csv")["incident_id"]), source_id)
    reports = fragment_csv(edited)
    incidents_csv = csv_bytes(incidents.reset_index(drop=True)) if len(incidents) else b""
    with st.spinner("Running the project's checker on the ticked rows ..."):
        check = _checked(reports, tuple(new_source.items()) if new_source else None, incidents_csv)
    if check.file_problems:
        st.error("The checker could not read the fragment: " + " | ".join(check.file_problems[:5]))
    elif check.rejected:
        st.error(f"The checker would reject {len(check.rejected)} of {check.rows} ticked row(s):")
        st.dataframe(pd.DataFrame([(rid, "; ".join(r)) for rid, r in check.rejected.items()],
                                  columns=["report_id", "why it would be rejected"]), hide_index=True, key="draft_rejected")
    else:
        st.success(f"The checker accepts all {check.rows} ticked row(s).")
    if check.warnings:
        st.warning("Warnings (rows are kept): " + " | ".join(f"{rid}: {'; '.join(w)}" for rid, w in check.warnings.items()))
    st.download_button(
        f"Download {len(ticked)} ticked row(s) as a reports.csv fragment",
        data=reports,
        file_name=FRAGMENT_NAME,
        mime="text/csv",
        key="draft_download",
    )
    if len(incidents):
        st.download_button(f"Download {len(incidents)} new incident(s) as an incidents.csv fragment",
                           data=incidents_csv, file_name=INCIDENT_FRAGMENT_NAME, mime="text/csv", key="draft_download_incidents")
    if new_source:
        st.download_button("Download the new source as a sources.csv fragment",
                           data=csv_bytes(pd.DataFrame([new_source], columns=SOURCE_COLUMNS)),
                           file_name=SOURCE_FRAGMENT_NAME, mime="text/csv", key="draft_download_source")
    st.caption(f"Paste the fragments into data/raw ({', '.join(REPORT_COLUMNS[:3])} ...), then run `make data`.")
