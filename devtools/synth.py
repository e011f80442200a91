"""`python -m devtools.synth`: a large, valid, clearly synthetic input for load tests.

Writes PATH/reports.csv, PATH/sources.csv and PATH/incidents.csv. Every row
is valid against the reference tables (so `python -m etl build --raw PATH`
rejects nothing), and together the rows use every form the amount grammar
supports:

- every unit spelling of data/reference/units.csv (mass and counted), in
  quantities and (mass ones) after "per", "a", "an" and "/" in prices;
- every currency marker of currency_markers.csv whose currencies have
  exchange rates, as a prefix ("US$5", "W19.8") where the grammar allows it and
  as a word ("5 million won"), plus the prefix-only "U.S.$";
- every qualifier ("about", "nearly", "more than", ...), every scale word
  ("k", "mn", "billion", ...) and every range separator ("-", "–", "—",
  "to", "and" with "between");
- dates 1976-2025 at day, month and year precision (and some undated rows
  whose source's publication year is used), only in currency-years that the FX
  table covers, and only places listed in places.csv;
- the source's own USD figure and exchange rate on some rows, consistent with
  the FX table, so the usd check passes.

Numbers are drawn from continuous distributions and written with five
significant digits, so almost every row has a distinct amount text (the
realistic worst case for the parser, which works per distinct text).

Everything is labelled synthetic: source ids start "SYNTHETIC-", outlets and
titles say SYNTHETIC, notes say how the row was made. The output is a pure
function of --rows and --seed. Writing into the repository's data/ folder
(or ./data) is refused.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl

from etl.amounts import PREFIX_MARKERS, QUALIFIERS, SCALES
from etl.incidents import INCIDENT_COLUMNS
from etl.normalise import REPORT_COLUMNS, SOURCE_COLUMNS

HELP = "write a large synthetic reports.csv/sources.csv/incidents.csv for load tests"
DESCRIPTION = (
    "Generate N valid, clearly synthetic reports (with matching sources.csv and incidents.csv) "
    "that use every unit spelling, currency marker, range and qualifier form the parser supports. "
    "Deterministic for a given --seed. Refuses to write under data/."
)

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "data" / "reference"
FIRST_DAY = dt.date(1976, 1, 1)
LAST_DAY = dt.date(2025, 12, 31)
SYNTHETIC_NOTE = "SYNTHETIC row made by `python -m devtools.synth`; not a real report."

# Markers the grammar reads in front of a number but currency_markers.csv does
# not list (so the build does not cross-check them): what they mean.
PREFIX_ONLY = {"U.S.$": {"USD"}}
RANGE_FORMS = ["-", "–", " – ", " — ", " to ", "and"]  # "and" is written as "between X and Y"
SPACED_SCALES = {"thousand", "million", "billion", "trillion"}


class SynthError(Exception):
    pass


# --------------------------------------------------------------------------- reference


def _reference(reference: Path) -> dict:
    read = lambda name: pd.read_csv(reference / name, dtype=str, keep_default_na=False)  # noqa: E731
    units = read("units.csv")
    markers = read("currency_markers.csv")
    fx = read("fx_annual_lcu_per_usd.csv")
    fx["year"] = fx["year"].astype(int)
    fx["lcu_per_usd"] = fx["lcu_per_usd"].astype(float)
    rates = {(c, y): r for c, y, r in fx[["currency", "year", "lcu_per_usd"]].itertuples(index=False)}
    years = {}
    for c, y in rates:
        years.setdefault(c, set()).add(y)
    years["USD"] = set(range(FIRST_DAY.year, LAST_DAY.year + 1))
    currencies = sorted(c for c in years if years[c] & set(range(FIRST_DAY.year, LAST_DAY.year + 1)))
    meaning = {m: set(c.split()) for m, c in markers[["marker", "currencies"]].itertuples(index=False)}
    # Symbols and one-letter markers ("$", "A$", "W", "P") are written in front of
    # the number; words and codes after it ("won", "USD", "Deutsche Marks").
    # ("500 A$" would read as "500 a $" = per "$": see the performance notes.)
    words = {c: sorted(m for m, cs in meaning.items() if c in cs and (m not in PREFIX_MARKERS or (m.isalpha() and len(m) > 1)))
             for c in currencies}
    prefixes = {
        c: sorted(p for p in PREFIX_MARKERS if c in meaning.get(p, PREFIX_ONLY.get(p, set())))
        for c in currencies
    }
    places = read("places.csv")
    return {
        "mass": units.loc[units["kind"] == "mass", ["spelling", "pint_unit"]].values.tolist(),
        "count": units.loc[units["kind"] == "count", "spelling"].tolist(),
        "currencies": currencies,
        "years": years,
        "rates": rates,
        "words": words,
        "prefixes": prefixes,
        "places": places[["country", "place"]].values.tolist(),
        "drugs": read("drugs.csv")["synonym"].tolist(),
        "nk_links": read("nk_links.csv")["code"].tolist(),
        "source_types": read("source_types.csv")["code"].tolist(),
    }


def _kg(pint_unit: str) -> float:
    """Kilograms per unit: one pint look-up per distinct unit (cached in etl.units)."""
    from etl.units import kg_factor

    return kg_factor(pint_unit)


# --------------------------------------------------------------------------- formatting


def _digits(values: np.ndarray, sig: int) -> np.ndarray:
    """Decimals that give `sig` significant digits (0 for large numbers)."""
    with np.errstate(divide="ignore"):
        mag = np.floor(np.log10(np.abs(values)))
    return np.clip(sig - 1 - mag, 0, 12).astype(int)


def _numbers(values: np.ndarray, commas: np.ndarray, sig: int = 5) -> np.ndarray:
    """Numbers as a reporter writes them: five significant digits, commas or not."""
    d = _digits(values, sig)
    out = [f"{v:,.{k}f}" if c else f"{v:.{k}f}" for v, k, c in zip(values.tolist(), d.tolist(), commas.tolist())]
    return np.array(out, dtype=object)


def _pick(rng, options, n, p=None) -> np.ndarray:
    arr = np.empty(len(options), dtype=object)
    arr[:] = options
    return arr[rng.choice(len(options), size=n, p=p)]


def _cover(rng, options, n) -> np.ndarray:
    """`n` picks that contain every option at least once (when n allows), then shuffled."""
    picks = _pick(rng, options, n)
    k = min(len(options), n)
    picks[:k] = options[:k]
    return picks[rng.permutation(n)]


def _cover_subset(rng, options, where: np.ndarray) -> np.ndarray:
    """Picks for every row; the rows where `where` holds contain every option at least once (if enough)."""
    picks = _pick(rng, options, len(where))
    rows = np.flatnonzero(where)
    rows = rows[rng.permutation(len(rows))][: len(options)]
    picks[rows] = np.array(options, dtype=object)[: len(rows)]
    return picks


def _days(d: np.ndarray) -> list[dt.date]:
    base = FIRST_DAY.toordinal()
    return [dt.date.fromordinal(base + int(x)) for x in d]


# --------------------------------------------------------------------------- amounts


def _amount_texts(rng, n: int, values: np.ndarray, *, prefixes: np.ndarray, words: np.ndarray,
                  allow_scale: bool, scale_p: float, range_p: float, qual_p: float) -> tuple[np.ndarray, np.ndarray]:
    """Texts for `values` (in the unit/currency being written) and the point value they parse to.

    `prefixes`/`words` are per-row marker strings ("" for none). Returns the
    texts and the number the parser will read as the point (for consistency
    checks such as usd_stated).
    """
    is_range = rng.random(n) < range_p
    ratio = rng.uniform(1.15, 3.0, n)
    lo = values.copy()
    hi = np.where(is_range, values * ratio, np.nan)

    scale_names = sorted(SCALES, key=lambda s: SCALES[s])
    scale = np.full(n, "", dtype=object)
    if allow_scale:
        use = (rng.random(n) < scale_p) & (values >= 2000)
        pick = _pick(rng, scale_names, n)
        factor = np.array([SCALES[s] for s in pick])
        ok = use & (values / factor >= 0.5)  # "0.5 million" is fine; "0.00002 billion" is not
        scale[ok] = pick[ok]
    factor = np.array([SCALES.get(s, 1.0) for s in scale])
    commas = rng.random(n) < 0.7
    n1 = _numbers(lo / factor, commas)
    n2 = _numbers(np.where(is_range, hi, lo) / factor, commas)
    # Read back what we wrote, so derived figures match the parser exactly.
    lo_read = np.array([float(s.replace(",", "")) for s in n1]) * factor
    hi_read = np.array([float(s.replace(",", "")) for s in n2]) * factor
    both_scaled = rng.random(n) < 0.5  # "2 million to 5 million" vs "6-8 million"
    tight = rng.random(n) < 0.5  # "5m", "2bn" as well as "5 m", "2 bn"
    sp = np.array(["" if s == "" or (t and s not in SPACED_SCALES) else " " for s, t in zip(scale, tight)], dtype=object)
    s_txt = sp + scale
    form = _pick(rng, RANGE_FORMS, n)
    repeat_prefix = rng.random(n) < 0.5

    qual_names = [q for q in QUALIFIERS if q != "between"]
    qual = np.where(rng.random(n) < qual_p, _pick(rng, qual_names, n), "")
    cap = rng.random(n) < 0.15
    qual = np.array([q.capitalize() if c and q else q for q, c in zip(qual, cap)], dtype=object)

    texts = []
    for i in range(n):
        p, w, q = prefixes[i], words[i], qual[i]
        head = p + n1[i]
        if is_range[i]:
            f = form[i]
            first = head + (s_txt[i] if both_scaled[i] else "")
            second = (p if repeat_prefix[i] else "") + n2[i] + s_txt[i]
            if f == "and":
                body = f"between {first} and {second}"
                q = ""
            else:
                body = first + f + second
        else:
            body = head + s_txt[i]
        text = (q + " " if q else "") + body + (" " + w if w else "")
        texts.append(text)
    point = np.where(is_range, (lo_read + hi_read) / 2, lo_read)
    return np.array(texts, dtype=object), point


# --------------------------------------------------------------------------- the tables


def generate(rows: int, seed: int = 0, reference: Path = REFERENCE) -> dict[str, pd.DataFrame]:
    """The three synthetic tables as all-text DataFrames (deterministic in rows and seed)."""
    if rows < 1:
        raise SynthError("--rows must be at least 1")
    ref = _reference(reference)
    rng = np.random.default_rng(seed)
    n = rows
    span = (LAST_DAY - FIRST_DAY).days

    # Sources: about one per eight reports; 3% undated.
    n_src = max(20, n // 8)
    pub_day = rng.integers(0, span + 1, n_src)
    undated = rng.random(n_src) < 0.03
    src_ids = np.array([f"SYNTHETIC-{seed}-s{i:07d}" for i in range(n_src)], dtype=object)
    pub_dates = _days(pub_day)
    sources = pd.DataFrame({
        "source_id": src_ids,
        "source_type": _pick(rng, ref["source_types"], n_src, p=_norm([1, 3, 2][: len(ref["source_types"])])),
        "outlet": np.array([f"SYNTHETIC outlet {k}" for k in rng.integers(1, 60, n_src)], dtype=object),
        "title": np.array([f"SYNTHETIC report {i} (generated, not real)" for i in range(n_src)], dtype=object),
        "published": np.where(undated, "", np.array([d.isoformat() for d in pub_dates], dtype=object)),
        "url": np.where(rng.random(n_src) < 0.6, np.array([f"https://example.org/synthetic/{seed}/{i}" for i in range(n_src)], dtype=object), ""),
        "via": np.where(rng.random(n_src) < 0.2, "SYNTHETIC wire", ""),
        "notes": "SYNTHETIC source made by `python -m devtools.synth`; not a real document.",
    })[SOURCE_COLUMNS[:1] + ["source_type"] + SOURCE_COLUMNS[1:] + ["notes"]]

    # Reports: source, dates (never after the source's publication date).
    src = rng.integers(0, n_src, n)
    src_undated = undated[src]
    lag = np.minimum(rng.exponential(250, n).astype(int), span)
    event_day = np.where(src_undated, rng.integers(0, span + 1, n), np.maximum(pub_day[src] - lag, 0))
    precision = _pick(rng, ["day", "month", "year", "none"], n, p=[0.6, 0.25, 0.1, 0.05])
    precision[src_undated & (precision == "none")] = "day"  # an undated row needs a dated source
    days = _days(event_day)
    event_date = np.array(
        [d.isoformat() if p == "day" else f"{d.year:04d}-{d.month:02d}" if p == "month" else f"{d.year:04d}" if p == "year" else ""
         for d, p in zip(days, precision)], dtype=object)
    event_year = np.array([d.year for d in days])
    pub_year = np.array([d.year for d in pub_dates])[src]
    fx_year = np.where(precision == "none", pub_year, event_year)

    kind = _pick(rng, ["seizure", "price", "cash"], n, p=[0.7, 0.2, 0.1])
    place = np.array(ref["places"], dtype=object)[rng.integers(0, len(ref["places"]), n)]

    # Currency valid for the row's FX year (DEM before 1999, EUR from 1999, ...).
    currency = _cover(rng, ref["currencies"], n)
    for i in np.flatnonzero([fx_year[i] not in ref["years"][c] for i, c in enumerate(currency)]):
        ok = [c for c in ref["currencies"] if fx_year[i] in ref["years"][c]]
        currency[i] = ok[(i * 7 + seed) % len(ok)]
    rate = np.array([1.0 if c == "USD" else ref["rates"][(c, int(y))] for c, y in zip(currency, fx_year)])

    has_value = (kind != "seizure") | (rng.random(n) < 0.4)
    has_qty = (kind == "seizure") & (rng.random(n) < 0.85)

    # Quantity: mass (every spelling) or counted units.
    qty = np.full(n, "", dtype=object)
    qi = np.flatnonzero(has_qty)
    counted = rng.random(len(qi)) < 0.12
    mass = _cover_subset(rng, [s for s, _ in ref["mass"]], ~counted)
    kg_of = {s: _kg(u) for s, u in ref["mass"]}
    per_unit = np.array([kg_of[s] for s in mass])
    # So many of the unit: 0.5 to 2,000 (at least 10 mg, so kilograms rounded to 6 places stay > 0).
    smallest = np.maximum(0.5, 1e-5 / per_unit)
    amount_q = np.exp(rng.uniform(np.log(smallest), np.log(2000)))
    count_unit = _cover_subset(rng, ref["count"], counted)
    n_count = np.exp(rng.uniform(np.log(5), np.log(2e6), len(qi)))
    unit_word = np.where(counted, count_unit, mass)
    q_values = np.where(counted, n_count, amount_q)
    empty = np.full(len(qi), "", dtype=object)
    q_txt, _ = _amount_texts(rng, len(qi), q_values, prefixes=empty, words=unit_word.astype(object),
                             allow_scale=True, scale_p=0.08, range_p=0.1, qual_p=0.25)
    qty[qi] = q_txt
    row_kg = np.full(n, np.nan)
    row_kg[qi] = np.where(counted, np.nan, amount_q * per_unit)

    # Value: prefix marker, word marker, or both; prices quoted per mass unit.
    value = np.full(n, "", dtype=object)
    usd_stated = np.full(n, "", dtype=object)
    stated_rate = np.full(n, "", dtype=object)
    vi = np.flatnonzero(has_value)
    m = len(vi)
    cur_v = currency[vi]
    is_price = kind[vi] == "price"
    usd_equiv = np.exp(rng.uniform(np.log(200), np.log(5e8), m))
    usd_per_kg = np.exp(rng.uniform(np.log(2e3), np.log(5e5), m))
    # Prices are mostly quoted per gram or kilo; per milligram or ton now and then.
    spellings = [s for s, _ in ref["mass"]]
    weights = _norm([0.1 if kg_of[s] < 1e-4 or kg_of[s] > 100 else 1.0 for s in spellings])
    per_spelling = _pick(rng, spellings, m, p=weights)
    rows = np.flatnonzero(is_price)
    rows = rows[rng.permutation(len(rows))][: len(spellings)]
    per_spelling[rows] = np.array(spellings, dtype=object)[: len(rows)]
    per_kg = np.array([kg_of[s] for s in per_spelling])
    # A seizure's value is its mass times a street price (at least US$50), so implied prices are plausible.
    kg_v = row_kg[vi]
    usd_equiv = np.where(np.isnan(kg_v), usd_equiv, np.maximum(kg_v * usd_per_kg, 50.0))
    lcu = np.where(is_price, usd_per_kg * per_kg, usd_equiv) * rate[vi]

    style = rng.random(m)  # < .45 prefix only, < .9 word only, < .97 both, else no marker
    keys = rng.integers(0, 1 << 30, m)
    pref = np.full(m, "", dtype=object)
    word = np.full(m, "", dtype=object)
    for j in range(m):
        c = cur_v[j]
        ps, ws = ref["prefixes"][c], ref["words"][c]
        k, st = int(keys[j]), style[j]
        if st >= 0.97:
            continue
        if ps and (st < 0.45 or st >= 0.9 or not ws):
            pref[j] = ps[k % len(ps)]
        if ws and (st >= 0.45 or not pref[j]):
            word[j] = ws[(k >> 8) % len(ws)]
    pref = np.array([p + " " if p.isalpha() and len(p) > 2 and k % 4 else p for p, k in zip(pref, keys)], dtype=object)  # "USD 5,000"
    # Guarantee coverage of every prefix and word marker (when there are enough rows).
    _ensure_markers(ref, cur_v, pref, word)

    v_txt, v_point = _amount_texts(rng, m, lcu, prefixes=pref, words=word, allow_scale=True,
                                   scale_p=0.6, range_p=0.12, qual_p=0.25)
    per_form = _pick(rng, ["per", "a", "/", " / "], m, p=[0.55, 0.2, 0.15, 0.1])
    per_txt = np.array([
        ("" if not p else f"/{s}" if f == "/" else f" / {s}" if f == " / " else
         f" {'an' if s[0].lower() in 'aeiou' else 'a'} {s}" if f == "a" else f" per {s}")
        for p, f, s in zip(is_price, per_form, per_spelling)], dtype=object)
    value[vi] = v_txt + per_txt

    # The source's own USD figure / exchange rate (consistent with the FX table).
    non_usd = cur_v != "USD"
    stated_idx = np.flatnonzero(non_usd & (rng.random(m) < 0.12))
    usd_forms = ["US${}", "${}", "{} U.S. dollars", "about US${}", "USD {}", "{} dollars"]
    usd_form = _pick(rng, usd_forms, len(stated_idx))
    usd_num = _numbers(v_point[stated_idx] / rate[vi][stated_idx], np.ones(len(stated_idx), bool), sig=6)
    usd_stated[vi[stated_idx]] = [f.format(x) for f, x in zip(usd_form, usd_num)]
    rate_idx = np.flatnonzero(non_usd & (rng.random(m) < 0.06))
    rate_num = _numbers(rate[vi][rate_idx], np.ones(len(rate_idx), bool), sig=6)
    rate_form = _pick(rng, ["US$1={}{}", "$1 = {}{}", "USD 1 = {}{}"], len(rate_idx))
    stated_rate[vi[rate_idx]] = [f.format(p, x) for f, p, x in zip(rate_form, pref[rate_idx], rate_num)]

    currency_col = np.where(has_value, currency, "")

    # Incidents: about two reports per incident; some totals; a few curator overrides.
    n_inc = max(1, int(n / 1.6))
    inc = rng.integers(0, n_inc, n)
    inc_ids = np.array([f"SYNTHETIC-{seed}-i{i:07d}" for i in range(n_inc)], dtype=object)
    report_ids = np.array([f"SYNTHETIC-{seed}-r{i:07d}" for i in range(n)], dtype=object)

    notes = _pick(rng, [
        SYNTHETIC_NOTE,
        SYNTHETIC_NOTE + " Figures, dates and places are random draws.",
        SYNTHETIC_NOTE + ' It says "about", as reporters do, and uses commas, too.',
        SYNTHETIC_NOTE + "\nA second line, as curators sometimes write.",
        "- " + SYNTHETIC_NOTE + " (starts like a spreadsheet formula)",
    ], n, p=[0.6, 0.2, 0.15, 0.04, 0.01])
    arrests = np.where(rng.random(n) < 0.3, rng.integers(0, 40, n).astype(str), "")

    reports = pd.DataFrame({
        "report_id": report_ids,
        "incident_id": inc_ids[inc],
        "source_id": src_ids[src],
        "kind": kind,
        "event_date": event_date,
        "country": place[:, 0],
        "place": place[:, 1],
        "drug": _cover(rng, ref["drugs"], n),
        "quantity": qty,
        "value": value,
        "currency": currency_col,
        "usd_stated": usd_stated,
        "stated_rate": stated_rate,
        "nk_link": _cover(rng, ref["nk_links"], n),
        "arrests": arrests,
        "notes": notes,
    })[REPORT_COLUMNS]

    used = np.unique(inc)
    scope = np.full(n_inc, "single", dtype=object)
    parts = np.full(n_inc, "", dtype=object)
    representative = np.full(n_inc, "", dtype=object)
    n_total = max(1, n_inc // 400) if n_inc >= 10 else 0
    total_ids = rng.choice(n_inc, size=n_total, replace=False) if n_total else np.array([], int)
    scope[total_ids] = "total"
    singles = np.setdiff1d(np.arange(n_inc), total_ids)
    for t in total_ids:
        k = int(rng.integers(2, 6))
        parts[t] = " ".join(inc_ids[rng.choice(singles, size=min(k, len(singles)), replace=False)])
    n_override = max(1, n_inc // 2000)
    first_report = pd.Series(np.arange(n)).groupby(inc).last()  # a member report of each used incident
    override = rng.choice(used, size=min(n_override, len(used)), replace=False)
    representative[override] = report_ids[first_report.loc[override].to_numpy()]
    incidents = pd.DataFrame({
        "incident_id": inc_ids,
        "scope": scope,
        "parts": parts,
        "representative": representative,
        "notes": np.where(scope == "total", "SYNTHETIC total of other synthetic incidents", "SYNTHETIC incident"),
    })[INCIDENT_COLUMNS]
    return {"reports.csv": reports, "sources.csv": sources, "incidents.csv": incidents}


def _norm(weights) -> list[float]:
    total = float(sum(weights))
    return [w / total for w in weights]


def _ensure_markers(ref: dict, cur: np.ndarray, pref: np.ndarray, word: np.ndarray) -> None:
    """Overwrite a few rows so every prefix and word marker of each currency appears."""
    for c in ref["currencies"]:
        rows = np.flatnonzero(cur == c)
        want = [("p", p) for p in ref["prefixes"][c]] + [("w", w) for w in ref["words"][c]]
        for row, (what, marker) in zip(rows, want):
            if what == "p":
                pref[row], word[row] = marker, ""
            else:
                pref[row], word[row] = "", marker


# --------------------------------------------------------------------------- writing


def refuse_data_dir(out: Path) -> None:
    """Raise SynthError when `out` is the repository's data/ folder or inside it (or ./data)."""
    target = out.resolve()
    for data in {(REPO / "data").resolve(), (Path.cwd() / "data").resolve()}:
        if target == data or data in target.parents:
            raise SynthError(f"refusing to write synthetic data into {out} (under {data}): "
                             "choose a folder outside data/, e.g. /tmp/synth")


def write(out: Path, tables: dict[str, pd.DataFrame]) -> list[Path]:
    refuse_data_dir(out)
    existing = out / "sources.csv"
    if existing.exists() and "SYNTHETIC" not in existing.read_text("utf-8", errors="replace")[:4000]:
        raise SynthError(f"{existing} exists and is not synthetic; refusing to overwrite it")
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in tables.items():
        fd, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=out)
        os.close(fd)
        text = pl.from_pandas(frame.astype(str) if len(frame) else frame.astype(object)).with_columns(
            pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in frame.columns)
        text.write_csv(temp, line_terminator="\n")
        os.replace(temp, out / name)
        paths.append(out / name)
    return paths


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, default=10_000, metavar="N", help="number of reports (default 10,000)")
    parser.add_argument("--out", type=Path, required=True, metavar="PATH",
                        help="folder to write reports.csv, sources.csv and incidents.csv into (not under data/)")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    parser.add_argument("--no-incidents", action="store_true", help="do not write incidents.csv")
    parser.add_argument("--reference", type=Path, default=REFERENCE, metavar="DIR",
                        help="reference tables to draw units, currencies and places from (default: data/reference)")


def run(args) -> int:
    try:
        refuse_data_dir(args.out)
        tables = generate(args.rows, args.seed, args.reference)
        if args.no_incidents:
            del tables["incidents.csv"]
        paths = write(args.out, tables)
    except SynthError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {len(tables['reports.csv']):,} SYNTHETIC reports: " + ", ".join(str(p) for p in paths))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.synth", description=DESCRIPTION)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
