"""Dashboard page "Check your own reports": run the project's checks on an upload.

A visitor uploads a file in the reports.csv format (and, optionally, their own
sources.csv). The page copies the uploads into a fresh temporary folder, runs
the same build as `python -m etl build --keep-going` there, and shows every
problem, the row accounting, the normalised rows and the two CSV downloads.
Nothing is ever written under data/: the build only returns bytes, and the
page never publishes outputs (`etl.commit`). A file with very many problems
is shown as a bounded summary: counts per file, column and severity, the first
`SHOWN_PROBLEMS` problems, and the whole list as a formula-safe CSV download.

`check_uploads` is a plain function (bytes in, `UploadCheck` out) so it can be
tested without a browser; `render_check` draws an `UploadCheck`.
"""
from __future__ import annotations

import logging
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import streamlit as st

from etl.errors import InputProblems, Problem

# etl.build and etl.normalise (pandera, pint: half a second) are imported when this page runs, not when
# the dashboard registers it

REPO = Path(__file__).resolve().parent.parent
REFERENCE_DIR = REPO / "data" / "reference"
DEFAULT_SOURCES = REPO / "data" / "raw" / "sources.csv"
DEFAULT_SOURCES_NAME = "data/raw/sources.csv"

MAX_UPLOAD_MB = 5
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024

PROBLEM_COLUMNS = ["file", "line", "column", "message", "severity"]
SHOWN_PROBLEMS = 200  # problems listed on the page; the rest are counted, and all are in the download
log = logging.getLogger(__name__)


@dataclass
class UploadCheck:
    """What checking one upload found; `readable` is False when a file-level fault stopped the build."""

    reports_name: str
    sources_name: str
    refused: list[str] = field(default_factory=list)  # why the upload was not checked at all (size)
    readable: bool = False
    problems: list[Problem] = field(default_factory=list)  # errors and warnings, in file and line order
    input_rows: int = 0
    written_rows: int = 0
    rejected_rows: int = 0
    frame: pd.DataFrame | None = None  # the normalised rows
    normalised_csv: bytes | None = None  # formula-safe CSV, exactly as the build produced it
    rejects_csv: bytes | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def problem_frame(self, limit: int | None = None) -> pd.DataFrame:
        rows = [(p.file, p.line, p.column, p.message, p.severity) for p in self.problems[:limit]]
        return pd.DataFrame(rows, columns=PROBLEM_COLUMNS).astype({"line": "int64"})

    def problem_counts(self) -> pd.DataFrame:
        """How many problems each file and column has, by severity (most first)."""
        counts: dict[tuple[str, str, str], int] = {}
        for p in self.problems:
            key = (p.file, p.column, p.severity)
            counts[key] = counts.get(key, 0) + 1
        rows = sorted(((f, c, s, n) for (f, c, s), n in counts.items()), key=lambda r: (-r[3], r[0], r[1], r[2]))
        return pd.DataFrame(rows, columns=["file", "column", "severity", "problems"])

    def problems_csv(self) -> bytes:
        """Every problem as CSV (formula-safe, RFC 4180), for the download."""
        from etl.csvio import csv_bytes

        return csv_bytes(self.problem_frame())


def size_refusal(name: str, size: int) -> str | None:
    """The message refusing a file over the cap, or None when it is small enough."""
    if size <= MAX_UPLOAD_BYTES:
        return None
    return (
        f"{name} is {size / 1024 / 1024:.1f} MB ({size:,} bytes); this page checks files of at most "
        f"{MAX_UPLOAD_MB} MB ({MAX_UPLOAD_BYTES:,} bytes). Split it into smaller files and check each one."
    )


def check_uploads(reports: bytes, sources: bytes | None = None, name: str = "reports.csv",
                  sources_name: str = "sources.csv") -> UploadCheck:
    """Run the build on uploaded bytes in a temporary folder and collect what it says.

    Without `sources`, the project's data/raw/sources.csv is used. Problems
    name the uploaded files (`name`, `sources_name`), not the temporary copies.
    """
    from etl.build import OUTPUT_NAME, build

    shown_sources = sources_name if sources is not None else DEFAULT_SOURCES_NAME
    check = UploadCheck(name, shown_sources)
    check.refused = [m for m in (size_refusal(name, len(reports)),
                                 size_refusal(sources_name, len(sources)) if sources is not None else None) if m]
    if check.refused:
        return check

    with tempfile.TemporaryDirectory(prefix="nk-upload-") as tmp:
        raw, out = Path(tmp) / "raw", Path(tmp) / "out"
        raw.mkdir()
        (raw / "reports.csv").write_bytes(reports)
        if sources is None:
            shutil.copyfile(DEFAULT_SOURCES, raw / "sources.csv")
        else:
            (raw / "sources.csv").write_bytes(sources)
        names = {str(raw / "reports.csv"): name, str(raw / "sources.csv"): shown_sources,
                 str(out / OUTPUT_NAME): f"{OUTPUT_NAME} (output check)"}

        try:
            result = build(raw, REFERENCE_DIR, out, keep_going=True)
        except InputProblems as err:
            check.problems = _renamed(err.problems, names)
            return check

        check.readable = True
        check.problems = _renamed(result.errors + result.warnings, names)
        check.input_rows, check.written_rows, check.rejected_rows = result.input_rows, result.written_rows, result.rejected_rows
        check.frame = result.frame
        check.normalised_csv = result.files[out / OUTPUT_NAME]
        check.rejects_csv = result.files[result.rejects_path]
    return check


def _renamed(problems: list[Problem], names: dict[str, str]) -> list[Problem]:
    """Problems with temporary paths replaced by the names the visitor knows, in file and line order."""
    renamed = [Problem(names.get(p.file, _repo_relative(p.file)), p.line, p.column, p.message, p.severity) for p in problems]
    return sorted(renamed, key=lambda p: (p.file, p.line))  # stable: columns keep the build's order within a line


def _repo_relative(path: str) -> str:
    try:
        return Path(path).resolve().relative_to(REPO).as_posix()
    except ValueError:
        return path


# ---------------------------------------------------------------------------
# Drawing


def render() -> None:
    """The page: two uploaders, then the check of what was uploaded."""
    from etl.normalise import REPORT_COLUMNS

    st.title("Check your own reports")
    st.markdown(
        "Upload a file in the format of the project's `data/raw/reports.csv` (one row per figure "
        f"reported, with the columns {', '.join(f'`{c}`' for c in REPORT_COLUMNS)}). The page runs the "
        "same checks and conversions as the project's build and shows every problem with its line, "
        "the rows it could normalise to kilograms and US dollars, and the rows it had to reject. "
        "Incident ids are taken as written (they are not looked up in the project's incidents). "
        "Your files are checked in a temporary folder and are not kept or added to the dataset."
    )
    reports = st.file_uploader(f"Reports file (CSV, UTF-8, at most {MAX_UPLOAD_MB} MB)", type=["csv"], key="upload_reports")
    sources = st.file_uploader(
        f"Sources file (optional; without it the project's {DEFAULT_SOURCES_NAME} is used)", type=["csv"], key="upload_sources"
    )
    if reports is None:
        st.info("Upload a reports file to check it.")
        return
    render_uploads(reports, sources)


def render_uploads(reports, sources) -> None:
    """Check uploaded files (objects with .name, .size and .getvalue(), as st.file_uploader returns)."""
    refusals = [m for f in (reports, sources) if f is not None for m in [size_refusal(f.name, f.size)] if m]
    if refusals:
        for message in refusals:
            st.error(_escape(message))
        return
    try:
        check = check_uploads(reports.getvalue(), sources.getvalue() if sources is not None else None, reports.name,
                              sources.name if sources is not None else "sources.csv")
    except Exception as err:  # a bug in the checker must not show the visitor a traceback
        log.exception("checking the upload %r failed", reports.name)
        st.error(_escape(f"The checker itself failed on this file ({type(err).__name__}: {err}). ")
                 + "This is a fault in the project's code, not necessarily in your file; please report it.")
        return
    render_check(check)


def render_check(check: UploadCheck) -> None:
    """Draw the outcome of `check_uploads`."""
    if check.refused:
        for message in check.refused:
            st.error(_escape(message))
        return
    if not check.readable:
        st.error(f"The files could not be checked: {len(check.problems)} problem(s) stopped the check "
                 "before any row was normalised. Fix them and upload again.")
        _problems(check)
        return

    st.subheader("Rows")
    left, middle, right = st.columns(3)
    left.metric("Input rows", check.input_rows)
    middle.metric("Normalised", check.written_rows)
    right.metric("Rejected", check.rejected_rows)
    st.caption(f"{check.input_rows} input rows = {check.written_rows} normalised + {check.rejected_rows} rejected "
               "(a row with any error is rejected; warnings do not reject).")

    st.subheader(f"Problems: {len(check.errors)} error(s), {len(check.warnings)} warning(s)")
    if check.problems:
        _problems(check)
    else:
        st.success("No problems found.")

    stem = Path(check.reports_name).stem or "reports"
    st.subheader("Normalised rows")
    st.dataframe(check.frame, hide_index=True)
    st.download_button("Download the normalised rows (CSV)", data=check.normalised_csv,
                       file_name=f"{stem}.normalised.csv", mime="text/csv", on_click="ignore", key="download_normalised")
    if check.rejected_rows:
        st.subheader("Rejected rows")
        st.markdown("Each rejected row as it was in your file, with its line number and the reasons.")
        st.download_button("Download the rejected rows (CSV)", data=check.rejects_csv,
                           file_name=f"{stem}.rejects.csv", mime="text/csv", on_click="ignore", key="download_rejects")


def _escape(text: str) -> str:
    """Text with Markdown (and $ for LaTeX) made literal: file names come from the visitor."""
    return re.sub(r"([\\`*_\[\]<>|~$])", r"\\\1", text)


def _problems(check: UploadCheck) -> None:
    """The problems: all of them when they are few; otherwise counts, the first SHOWN_PROBLEMS and a download."""
    total = len(check.problems)
    if total > SHOWN_PROBLEMS:
        st.markdown(f"{total:,} problems: the counts per column, then the first {SHOWN_PROBLEMS} by line. "
                    "The download has every one.")
        st.dataframe(check.problem_counts(), hide_index=True)
    shown = check.problems[:SHOWN_PROBLEMS]
    st.dataframe(check.problem_frame(SHOWN_PROBLEMS), hide_index=True)
    label = "The same problems as plain text (FILE:LINE: COLUMN: message)" if total <= SHOWN_PROBLEMS else \
        f"The first {SHOWN_PROBLEMS} problems as plain text (FILE:LINE: COLUMN: message)"
    with st.expander(label):
        st.code("\n".join(str(p) for p in shown), language=None)
    if total > SHOWN_PROBLEMS:
        stem = Path(check.reports_name).stem or "reports"
        st.download_button(f"Download all {total:,} problems (CSV)", data=check.problems_csv(),
                           file_name=f"{stem}.problems.csv", mime="text/csv", on_click="ignore", key="download_problems")
