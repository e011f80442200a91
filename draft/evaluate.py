"""Recall, precision and event-date accuracy of the drafter on the seed documents and on our own texts.

The seed documents (../shared/seeds, read at run time) are the articles the
curated rows of data/raw/reports.csv come from. For each document this runs
the extractor, keeps the rows it marks import = yes, and matches them one to
one with the curated rows of the same source that record a figure, on
normalised numbers: kind, kilograms (or count), amount per kilogram and
currency. Strings are never compared. For every matched figure the event
date is compared too: exactly, and by its year (the year is what puts a
figure on the timeline).

`evaluate_texts` does the same on the project's own evaluation texts
(tests/fixtures/eval: stories written for the project in English and Korean,
with the figures a curator would import in expected.csv).
"""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from etl.amounts import parse_amount
from draft.extract import _rates, extract, guess_published
from etl.reference import Reference, load_reference
from etl.units import kg_factor

# Seed file prefix -> the source_ids of data/raw/sources.csv it was curated
# from. "posts": a blog archive page, split on its post date lines, each post
# mapped to the nkew-YYYY-MM-DD source of that date.
SEED_SOURCES: dict[str, list[str] | str] = {
    "000": ["dailynk-escort-command"],
    "001": ["unknown-2011-10-10"],
    "002": "posts",
    "003": ["dw-2017-08-21"],
    "004": ["rfa-relay-changbai"],
}
POST_PREFIX = "nkew-"
TOLERANCE = 0.005  # relative, on kilograms and amounts


@dataclass
class DocResult:
    name: str
    source_ids: list[str]
    curated: int  # curated rows with a quantity or value
    reported: int  # extracted rows marked import = yes
    matched: int
    rates_as_seizures: int
    dates_agree: int
    years_agree: int = 0  # matched figures whose event year is right (both empty counts as right)
    language: str = ""
    not_imported: int = 0  # figures listed with import = no (rates, fines, equipment ...)
    stated_checked: int = 0  # matched rows where the curated row has usd_stated or stated_rate
    stated_agree: int = 0  # ... and the draft gives the same number
    missed: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float | None:
        return self.matched / self.curated if self.curated else None

    @property
    def precision(self) -> float | None:
        return self.matched / self.reported if self.reported else None


@dataclass(frozen=True)
class Key:
    kind: str
    kg: float | None
    count: float | None
    amount: float | None  # per kilogram for prices quoted per unit mass
    currency: str


def figure_key(row, ref: Reference) -> Key:
    """Normalised numbers of a reports.csv-shaped row (curated or drafted)."""
    kg = count = amount = None
    if row["quantity"]:
        a = parse_amount(row["quantity"])
        pint_unit, kind = ref.units.get((a.unit or "").lower(), (None, None))
        if kind == "mass":
            kg = a.point * kg_factor(pint_unit)
        elif kind == "count":
            count = a.point
    if row["value"]:
        a = parse_amount(row["value"])
        per = 1.0
        if a.per:
            pint_unit, kind = ref.units.get(a.per.lower(), (None, None))
            per = kg_factor(pint_unit) if kind == "mass" else math.nan
        amount = a.point / per
    return Key(row["kind"], kg, count, amount, row["currency"] if row["value"] else "")


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= TOLERANCE * max(abs(a), abs(b))


def same_figure(a: Key, b: Key) -> bool:
    return (a.kind == b.kind and a.currency == b.currency and _close(a.kg, b.kg) and _close(a.count, b.count)
            and _close(a.amount, b.amount))


def _figures(reports: pd.DataFrame, ids: list[str], drafts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The curated rows of `ids` that hold a figure, and the drafted rows marked for import."""
    curated = reports[reports["source_id"].isin(ids) & ((reports["quantity"] != "") | (reports["value"] != ""))]
    return curated, drafts[drafts["import"] == "yes"].fillna("")


def _match(curated: pd.DataFrame, reported: pd.DataFrame, ref: Reference) -> tuple[list[tuple], list]:
    """Each curated row (in order) with the first drafted row not yet taken that holds the same figure, or
    None; and the drafted rows left over. Rows are given by their index labels."""
    c_keys = [(i, figure_key(r, ref)) for i, r in curated.iterrows()]
    r_keys = [(i, figure_key(r, ref)) for i, r in reported.iterrows()]
    used: set = set()
    pairs = []
    for ci, ck in c_keys:
        hit = next((ri for ri, rk in r_keys if ri not in used and same_figure(ck, rk)), None)
        if hit is not None:
            used.add(hit)
        pairs.append((ci, hit))
    return pairs, [ri for ri, _ in r_keys if ri not in used]


def _describe(row) -> str:
    parts = [row["kind"], row["quantity"], row["value"], row["currency"]]
    return " / ".join(p for p in parts if p)


def evaluate_document(path: Path, spec, reports: pd.DataFrame, sources: pd.DataFrame, ref: Reference) -> DocResult:
    text = path.read_text(encoding="utf-8")
    if spec == "posts":
        ids = sorted(s for s in sources["source_id"] if s.startswith(POST_PREFIX))
        by_date = {dt.date.fromisoformat(sources.set_index("source_id").at[s, "published"]): s for s in ids}
        drafts = extract(text, ref, posts=True, source_ids=by_date)
    else:
        ids = list(spec)
        published = sources.set_index("source_id")["published"].get(ids[0], "")
        pub = dt.date.fromisoformat(published) if published else guess_published(text)[0]
        drafts = extract(text, ref, published=pub, source_id=ids[0])
    curated, reported = _figures(reports, ids, drafts)
    pairs, unused = _match(curated, reported, ref)
    matched = dates = years = stated_checked = stated_agree = 0
    missed = []
    for ci, hit in pairs:
        if hit is None:
            missed.append(f"{curated.at[ci, 'report_id']}: {_describe(curated.loc[ci])}")
            continue
        matched += 1
        dates += curated.at[ci, "event_date"] == reported.at[hit, "event_date"]
        years += curated.at[ci, "event_date"][:4] == reported.at[hit, "event_date"][:4]
        for col in ("usd_stated", "stated_rate"):
            if curated.at[ci, col]:
                stated_checked += 1
                stated_agree += _number(curated.at[ci, col]) == _number(reported.at[hit, col])
    extra = [f"{reported.at[ri, 'report_id']}: {_describe(reported.loc[ri])}" for ri in unused]
    rate_spans = _rates(text, 0, len(text))
    rates_as_seizures = sum(
        1 for _, r in reported.iterrows()
        if r["kind"] in ("seizure", "price", "cash")
        and any(s < int(r["char_end"]) and int(r["char_start"]) < e for s, e, _ in rate_spans))
    return DocResult(path.name, ids, len(curated), len(reported), matched, rates_as_seizures, dates,
                     years, "", int((drafts["import"] == "no").sum()), stated_checked, stated_agree, missed, extra)


def evaluate_texts(folder: Path, reference: Path) -> list[DocResult]:
    """Score the drafter on the evaluation texts of `folder` (docs.csv, expected.csv and the texts)."""
    ref = load_reference(reference)
    docs = pd.read_csv(folder / "docs.csv", dtype=str, keep_default_na=False)
    expected = pd.read_csv(folder / "expected.csv", dtype=str, keep_default_na=False)
    for col in ("usd_stated", "stated_rate"):
        expected[col] = ""
    expected["source_id"] = expected["file"]
    expected["report_id"] = [f"{f}#{i}" for i, f in enumerate(expected["file"])]
    results = []
    for doc in docs.itertuples(index=False):
        path = folder / doc.file
        text = path.read_text(encoding="utf-8")
        pub = dt.date.fromisoformat(doc.published) if doc.published else None
        drafts = extract(text, ref, published=pub, outlet_country=doc.outlet_country or None, source_id=doc.file)
        result = _score(path.name, [doc.file], text, drafts, expected, ref)
        result.language = doc.language
        results.append(result)
    return results


def _score(name: str, ids: list[str], text: str, drafts: pd.DataFrame, reports: pd.DataFrame, ref: Reference) -> DocResult:
    curated, reported = _figures(reports, ids, drafts)
    pairs, unused = _match(curated, reported, ref)
    matched = dates = years = 0
    missed = []
    for ci, hit in pairs:
        if hit is None:
            missed.append(f"{_describe(curated.loc[ci])} ({curated.at[ci, 'event_date'] or 'no date'})")
            continue
        matched += 1
        want, got = curated.at[ci, "event_date"], reported.at[hit, "event_date"]
        dates += want == got
        years += want[:4] == got[:4]
        if want[:4] != got[:4]:
            missed.append(f"date: {_describe(curated.loc[ci])}: drafted {got or 'no date'}, expected {want or 'no date'}")
    extra = [f"{_describe(reported.loc[ri])}" for ri in unused]
    return DocResult(name, ids, len(curated), len(reported), matched, 0, dates, years, "",
                     int((drafts["import"] == "no").sum()), 0, 0, missed, extra)


def _number(text: str) -> float | None:
    """The amount of a usd_stated cell, or the rate of a stated_rate cell ('US$1=W1,117' -> 1117)."""
    if not text:
        return None
    if "=" in text:
        text = text.split("=", 1)[1]
    digits = re.sub(r"[^\d.]", "", text.replace(",", ""))
    scale = 1e6 if "million" in text else 1e9 if "billion" in text else 1.0
    return float(digits) * scale if digits else None


def evaluate(seeds: Path, raw: Path, reference: Path) -> list[DocResult]:
    ref = load_reference(reference)
    reports = pd.read_csv(raw / "reports.csv", dtype=str, keep_default_na=False)
    sources = pd.read_csv(raw / "sources.csv", dtype=str, keep_default_na=False)
    results = []
    for prefix, spec in SEED_SOURCES.items():
        paths = sorted(seeds.glob(f"{prefix}_*.txt"))
        if not paths:
            continue
        results.append(evaluate_document(paths[0], spec, reports, sources, ref))
    return results


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def format_report(results: list[DocResult], title: str = "seed documents") -> str:
    if not results:
        return f"no {title} found"
    lines = [title,
             f"{'document':<28} {'curated':>7} {'drafted':>7} {'matched':>7} {'recall':>6} {'precision':>9} "
             f"{'rates as seizures':>17} {'not imported':>12} {'dates agree':>11} {'years right':>11} {'usd/rate agree':>14}"]
    for r in results:
        lines.append(f"{r.name:<28} {r.curated:>7} {r.reported:>7} {r.matched:>7} {_pct(r.recall):>6} "
                     f"{_pct(r.precision):>9} {r.rates_as_seizures:>17} {r.not_imported:>12} {r.dates_agree:>5}/{r.matched:<5} "
                     f"{r.years_agree:>5}/{r.matched:<5} {r.stated_agree:>7}/{r.stated_checked:<6}")
    c = sum(r.curated for r in results)
    d = sum(r.reported for r in results)
    m = sum(r.matched for r in results)
    lines.append(f"{'all':<28} {c:>7} {d:>7} {m:>7} {_pct(m / c if c else None):>6} {_pct(m / d if d else None):>9} "
                 f"{sum(r.rates_as_seizures for r in results):>17} {sum(r.not_imported for r in results):>12} "
                 f"{sum(r.dates_agree for r in results):>5}/{m:<5} {sum(r.years_agree for r in results):>5}/{m:<5} "
                 f"{sum(r.stated_agree for r in results):>7}/{sum(r.stated_checked for r in results):<6}")
    for lang in sorted({r.language for r in results if r.language}):
        part = [r for r in results if r.language == lang]
        c, d, m = (sum(r.curated for r in part), sum(r.reported for r in part), sum(r.matched for r in part))
        y = sum(r.years_agree for r in part)
        lines.append(f"{'  ' + lang:<28} {c:>7} {d:>7} {m:>7} {_pct(m / c if c else None):>6} {_pct(m / d if d else None):>9}"
                     f" {'':>17} {'':>12} {sum(r.dates_agree for r in part):>5}/{m:<5} {y:>5}/{m:<5}")
    for r in results:
        for x in r.missed:
            lines.append(f"missed   {r.name}: {x}")
        for x in r.extra:
            lines.append(f"extra    {r.name}: {x}")
    lines.append("recall = matched / curated rows with a figure; precision = matched / drafted rows marked import=yes; "
                 "matched on kind, kilograms, amount per kg and currency; dates agree = same event_date; "
                 "years right = same event year, among matched figures")
    return "\n".join(lines)
