"""Speed of the dashboard in headless Chromium (Debian's /usr/bin/chromium), against its targets.

    python devtools/bench_dashboard.py [--rows 1000000] [--repeat 3]

1. Time to the first chart: a fresh browser context opens the page and waits until
   the first Plotly chart has drawn its marks. The dashboard on the project's data
   against a minimal Streamlit page with one Plotly chart. Target: <= 1.5x.
2. Growth: the dashboard on synthetic Parquet files of 1,000 and of --rows rows
   (the real rows repeated, with their ids made unique per copy and masses jittered).
   First load (a new server, so the file is read) and a rerun after a filter change
   (a drug chosen in the sidebar once the page has finished its first run and drawn every chart, until the
   headline changes; a click half a second after the first chart is timed too and printed, not judged). Target: each <= 1.5x
   the same at 1,000 rows.
3. Points: no Plotly figure on the page holds more than 50,000 points.
Prints one line per measure and a verdict per target; exits 1 if any target is missed.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

import polars as pl
from browser_helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    streamlit_server,
    wait_for_first_chart,
)

MAX_POINTS = 50_000
MINIMAL = '''import plotly.graph_objects as go
import streamlit as st
st.title("Minimal page")
st.plotly_chart(go.Figure(go.Scatter(x=[1, 2, 3], y=[3, 1, 2], mode="markers")))
'''
POINTS_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd =>
    (gd.calcdata || []).reduce((n, trace) => n + trace.length, 0))"""  # points plotly.js computed, per figure


def synthesise(rows: int, out: Path, seed: int = 0) -> Path:
    """A Parquet file of `rows` rows made from the real ones: each copy gets its own report and incident ids
    (a total's parts follow its copy), masses are jittered by up to +-50%."""
    from app import queries as q

    real = q.read_csv(q.DEFAULT_CSV)
    size = len(real)
    frame = pl.concat([real] * -(-rows // size)).head(rows)
    copy = (pl.int_range(pl.len()) // size).cast(pl.String)
    jitter = 0.5 + ((pl.int_range(pl.len()) * 7919 + seed) % 1000) / 1000
    base = real["incident_parts"].to_list()
    parts = [None if not base[i % size] else " ".join(f"{p}-{i // size}" for p in base[i % size].split())
             for i in range(len(frame))]
    frame = frame.with_columns(
        report_id=pl.col("report_id") + "-" + copy,
        incident_id=pl.col("incident_id") + "-" + copy,
        incident_parts=pl.Series(parts, dtype=pl.String),
        quantity_kg=pl.col("quantity_kg") * jitter,
    )
    out.mkdir(parents=True, exist_ok=True)
    path = out / "seizures.parquet"
    frame.write_parquet(path)
    shutil.copy(REPO / "data" / "datapackage.json", out / "datapackage.json")
    return path


def first_chart_s(browser, url: str) -> float:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        t0 = time.perf_counter()
        page.goto(url)
        wait_for_first_chart(page)
        return time.perf_counter() - t0
    finally:
        context.close()


SETTLED_JS = """() => !document.querySelector('[data-testid="stStatusWidget"]')
    && Array.from(document.querySelectorAll('.js-plotly-plot')).length > 0
    && Array.from(document.querySelectorAll('.js-plotly-plot')).every(p =>
        p.querySelectorAll('.point, .trace path, .bars path').length > 0)"""  # script done, every chart drawn


def rerun_after_filter_s(browser, url: str, settle: bool = True) -> tuple[float, list[int]]:
    """Open the page, choose a drug in the sidebar, time until the headline changes; also the points per figure.

    With `settle` the click comes once the page has finished its first run and drawn every chart (what is
    timed is the rerun alone); without it, half a second after the first chart appears, while the rest of
    the page may still be drawing (a reader who clicks at once)."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        page.goto(url)
        wait_for_first_chart(page)
        if settle:
            page.wait_for_function(SETTLED_JS)
        page.wait_for_timeout(500)
        points = page.evaluate(POINTS_JS)
        before = page.locator(".st-key-headline").inner_text()
        page.get_by_test_id("stSidebarUserContent").get_by_test_id("stMultiSelect").first.click()
        option = page.get_by_role("option").nth(1)  # the first is "Select all"
        t0 = time.perf_counter()
        option.click()
        page.wait_for_function("(before) => { const el = document.querySelector('.st-key-headline');"
                               " return el && el.innerText !== before; }", arg=before)
        wait_for_first_chart(page)
        return time.perf_counter() - t0, points
    finally:
        context.close()


def run_server(script: Path, args: list[str], log: Path, env: dict):
    command = [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
               "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false",
               "--server.address", "127.0.0.1", *(["--", *args] if args else [])]
    return streamlit_server(log, command=command, cwd=script.parent, env=env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"no Chromium at {CHROMIUM}", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    env = dict(os.environ, SEIZURES_CACHE_DIR=str(tmp / "cache"))
    checks = []
    try:
        (tmp / "minimal").mkdir()
        (tmp / "minimal" / "app.py").write_text(MINIMAL)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            # 1. time to first chart, warm server, fresh browser context each time
            times = {}
            for name, script, extra in (("minimal page", tmp / "minimal" / "app.py", []),
                                        ("dashboard", REPO / "dashboard.py", [])):
                with run_server(script, extra, tmp / f"{name}.log", env) as url:
                    first_chart_s(browser, url)  # warm-up: the server's first session
                    runs = [first_chart_s(browser, url) for _ in range(args.repeat)]
                times[name] = statistics.median(runs)
                print(f"time to first chart, {name:12s}: {times[name]:.2f} s (median of {args.repeat}: "
                      f"{', '.join(f'{r:.2f}' for r in runs)})", flush=True)
            ratio = times["dashboard"] / times["minimal page"]
            checks.append((f"dashboard first chart <= 1.5x a minimal page ({ratio:.2f}x)", ratio <= 1.5))

            # 2. growth from 1,000 rows to --rows rows
            measured = {}
            for rows in (1_000, args.rows):
                t0 = time.perf_counter()
                data = synthesise(rows, tmp / f"rows-{rows}")
                print(f"synthesised {rows:,} rows ({data.stat().st_size / 1e6:.1f} MB Parquet) in "
                      f"{time.perf_counter() - t0:.1f} s", flush=True)
                with run_server(REPO / "dashboard.py", ["--data", str(data)], tmp / f"dash-{rows}.log", env) as url:
                    first = first_chart_s(browser, url)  # the server's first session reads the file
                    warm = statistics.median(first_chart_s(browser, url) for _ in range(args.repeat))
                    reruns, early, points = [], [], []
                    for _ in range(args.repeat):
                        r, p = rerun_after_filter_s(browser, url)
                        reruns.append(r)
                        points = p
                        early.append(rerun_after_filter_s(browser, url, settle=False)[0])
                rerun = statistics.median(reruns)
                measured[rows] = (first, warm, rerun)
                print(f"{rows:>9,} rows: first load {first:.2f} s, later visits {warm:.2f} s, rerun after a filter "
                      f"change {rerun:.2f} s (median of {args.repeat}); points per figure {points}", flush=True)
                print(f"{'':>9}       (not judged) a click half a second after the first chart, the page perhaps "
                      f"still drawing: {statistics.median(early):.2f} s", flush=True)
                checks.append((f"no figure holds more than {MAX_POINTS:,} points at {rows:,} rows (max "
                               f"{max(points, default=0):,})", max(points, default=0) <= MAX_POINTS))
            small, large = measured[1_000], measured[args.rows]
            for i, what in ((0, "first load"), (1, "later visit"), (2, "rerun after a filter change")):
                growth = large[i] / small[i]
                checks.append((f"{what} at {args.rows:,} rows <= 1.5x at 1,000 rows ({large[i]:.2f} s vs "
                               f"{small[i]:.2f} s: {growth:.2f}x)", growth <= 1.5))
            browser.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    failed = False
    for text, ok in checks:
        print(("PASS  " if ok else "FAIL  ") + text)
        failed |= not ok
    print(json.dumps({"ok": not failed}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
