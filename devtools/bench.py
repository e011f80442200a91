"""`python -m devtools.bench`: how far the build is from the I/O floors, and how it scales.

For N rows (default 1,000,000) and N/10, in a temporary folder that is removed
afterwards:

1. `python -m devtools.synth` writes N synthetic reports (a separate process, not timed);
2. the *Polars floor* and the *pandas floor*, each in a fresh process: read
   reports.csv, sources.csv and incidents.csv (all text, as the build reads
   them) and write a CSV of the output's shape (N rows, one column per column
   of seizures.csv, each with the output column's type) to disk;
3. the *build*, in a fresh process: `etl.build.run(...)` plus `etl.build.write(...)`,
   exactly what `python -m etl build --keep-going` does (CSV, Parquet, datapackage).

Times exclude interpreter start-up and imports. Peak memory is the peak
resident set size of the build process (`os.wait4` rusage of that one child,
so it is the whole process, not just Python objects).

Targets (PASS/FAIL): at the largest N the build takes at most 2.5x the Polars
floor; the build's peak RSS is at most 1.0 GB; 10x the rows cost at most 10.5x
the time.

`--dashboard` instead builds a cleaned seizures.csv of N rows and times
dashboard.py under `streamlit.testing.v1.AppTest`: the first run, a rerun after
changing a filter widget, and the points each plotly figure sends.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HELP = "time the build against the Polars and pandas I/O floors (or the dashboard with --dashboard)"
DESCRIPTION = (
    "Generate synthetic reports (python -m devtools.synth), then time (a) Polars and (b) pandas reading them and "
    "writing a CSV of the output's shape -- the I/O floors -- and (c) the build, at N and N/10 rows, with peak "
    "memory; print PASS/FAIL against the targets. With --dashboard, time dashboard.py on N cleaned rows with AppTest."
)

REPO = Path(__file__).resolve().parent.parent
GB = 1e9

# Targets (issue 12)
MAX_BUILD_OVER_FLOOR = 2.5  # times the Polars floor
MAX_PEAK_RSS = 1.0 * GB
MAX_TIME_GROWTH_FOR_10X = 10.5
MAX_FIRST_LOAD_S = 5.0
MAX_RERUN_S = 0.3
MAX_POINTS_PER_FIGURE = 50_000
RERUNS = 3  # filter changes timed in the dashboard bench (the median is judged)


# --------------------------------------------------------------------------- child processes


@dataclass
class ChildRun:
    result: dict
    wall_s: float  # the whole child process, start-up and imports included
    max_rss: int  # bytes, peak resident set size of that child alone
    returncode: int


def run_child(args: list[str], cwd: Path = REPO, env: dict | None = None) -> ChildRun:
    """Run `python -m devtools.bench --child ...`; return its JSON result, wall time and peak RSS.

    `os.wait4` gives the rusage of exactly this child (RUSAGE_CHILDREN would
    be the maximum over every child this process has waited for).
    """
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)  # any cwd
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "devtools.bench", "--child", *args], cwd=cwd, env=env,
                                stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    result = json.loads(lines[-1]) if lines else {}
    if proc.returncode != 0 or not lines:
        result.setdefault("error", (stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1])
        result["stderr"] = stderr[-4000:]
    return ChildRun(result, wall, usage.ru_maxrss * 1024, proc.returncode)


def synth(rows: int, out: Path, seed: int) -> None:
    subprocess.run([sys.executable, "-m", "devtools.synth", "--rows", str(rows), "--out", str(out), "--seed", str(seed)],
                   cwd=REPO, check=True, stdout=subprocess.DEVNULL)


def _output_shaped(reports, n: int, frame_of):
    """Columns of the output's shape and types, filled from the input's text and random numbers (not timed)."""
    import numpy as np

    from etl.columns import COLUMNS

    rng = np.random.default_rng(0)
    text_cols = list(reports.columns)
    data = {}
    for i, col in enumerate(COLUMNS):
        if col.type == "string":
            data[col.name] = reports[text_cols[i % len(text_cols)]]
        elif col.type == "number":
            values = np.round(np.exp(rng.uniform(-3, 20, n)), 2)
            values[rng.random(n) < 0.5] = np.nan  # many number cells of the output are empty
            data[col.name] = values
        elif col.type == "integer":
            data[col.name] = rng.integers(1970, 2026, n)
        else:
            data[col.name] = rng.random(n) < 0.5
    return frame_of(data)


def _child_floor(engine: str, raw: Path, out: Path) -> dict:
    """Read the inputs as text (as the build does) and write an output-shaped CSV, with Polars or pandas."""
    names = [name for name in ("reports.csv", "sources.csv", "incidents.csv") if (raw / name).exists()]
    if engine == "polars":
        import polars as pl

        t0, c0 = time.perf_counter(), time.process_time()
        frames = {name: pl.read_csv(raw / name, infer_schema=False) for name in names}
        t_read, c_read = time.perf_counter() - t0, time.process_time() - c0
        reports = frames["reports.csv"]
        frame = _output_shaped(reports, reports.height, lambda d: pl.DataFrame(d).fill_nan(None))
        t1, c1 = time.perf_counter(), time.process_time()
        frame.write_csv(out)
    else:
        import pandas as pd

        t0, c0 = time.perf_counter(), time.process_time()
        frames = {name: pd.read_csv(raw / name, dtype="string", keep_default_na=False, na_filter=False) for name in names}
        t_read, c_read = time.perf_counter() - t0, time.process_time() - c0
        reports = frames["reports.csv"]
        frame = _output_shaped(reports, len(reports), pd.DataFrame)
        t1, c1 = time.perf_counter(), time.process_time()
        frame.to_csv(out, index=False, lineterminator="\n")
    with open(out, "rb+") as fh:
        os.fsync(fh.fileno())
    t_write, c_write = time.perf_counter() - t1, time.process_time() - c1
    return {"read_s": t_read, "write_s": t_write, "seconds": t_read + t_write, "cpu_s": c_read + c_write,
            "rows": len(reports), "columns": frame.shape[1], "bytes": out.stat().st_size}


def _child_build(raw: Path, out: Path) -> dict:
    """What `python -m etl build --keep-going` does: run the build, publish the outputs."""
    import etl.build as build_module
    from etl.errors import InputProblems

    t0, c0 = time.perf_counter(), time.process_time()
    try:
        result = build_module.run(raw, REPO / "data" / "reference", out, keep_going=True)
    except InputProblems as err:
        return {"error": f"build failed with {len(err.problems)} problem(s)", "problems": [str(p) for p in err.problems[:10]]}
    t_build = time.perf_counter() - t0
    build_module.write(result)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"build_s": t_build, "write_s": seconds - t_build, "seconds": seconds, "cpu_s": cpu, "rows": result.input_rows,
            "written": result.written_rows, "rejected": result.rejected_rows, "columns": len(build_module.NAMES),
            "bytes": (out / build_module.OUTPUT_NAME).stat().st_size, "warnings": len(result.warnings),
            "problems": [str(p) for p in (result.errors + result.warnings)[:10]]}


# --------------------------------------------------------------------------- dashboard


def count_points(figure: dict) -> int:
    """Data points a plotly figure (its JSON) sends to the browser: per trace, its longest data array.

    A point is one element along the first axis (one row of a 2-D `customdata`
    is one point's extra fields), except for grids (`z` of heatmaps, contours,
    surfaces), where every cell is a point. Plotly 7 encodes typed arrays as
    {"dtype": "f8", "bdata": base64, "shape": "rows, cols"}; they are decoded.
    """
    total = 0
    for trace in figure.get("data", []) or []:
        total += max((_array_len(v, key) for key, v in _arrays(trace)), default=0)
    return total


_SKIP_KEYS = {"name", "type", "uid", "hovertemplate", "texttemplate", "legendgroup", "mode", "orientation"}
GRID_KEYS = {"z"}


def _arrays(obj, key: str = "", depth: int = 0):
    """(key, array) for every array-like value in a trace (nested into marker/line/... dicts)."""
    if isinstance(obj, dict):
        if "bdata" in obj and "dtype" in obj:
            yield key, obj
            return
        for k, value in obj.items():
            if k not in _SKIP_KEYS and depth < 4:
                yield from _arrays(value, k, depth + 1)
    elif isinstance(obj, list):
        yield key, obj


def _array_len(value, key: str = "") -> int:
    grid = key in GRID_KEYS
    if isinstance(value, dict):  # typed array
        import numpy as np

        elements = len(base64.b64decode(value["bdata"])) // np.dtype(value["dtype"]).itemsize
        dims = [int(x) for x in str(value.get("shape") or "").split(",") if x.strip()]
        if len(dims) > 1 and not grid:
            return dims[0]
        return elements
    if value and all(isinstance(v, (list, dict)) for v in value):  # rows of a 2-D array
        return sum(_array_len(v) for v in value) if grid else len(value)
    return len(value)


def _figures(at) -> list[dict]:
    figs = []
    for el in at.get("plotly_chart"):
        proto = getattr(el, "proto", None)
        spec = getattr(proto, "spec", "") if proto is not None else ""
        if spec:
            figs.append(json.loads(spec))
    return figs


def _change_a_filter(at) -> str | None:
    """Change the first filter widget found (sidebar first); return what was changed."""
    import datetime as dt

    roots = [at.sidebar, at.main] if hasattr(at, "sidebar") else [at]
    for root in roots:
        for ms in root.multiselect:
            options = list(ms.options)
            current = list(ms.value)
            if len(current) > 1:
                ms.set_value(current[:1])
            elif options:
                ms.set_value([o for o in options if o not in current][:1] or options[:1])
            else:
                continue
            return f"multiselect {ms.label!r}"
        for sb in root.selectbox:
            options = list(sb.options)
            others = [o for o in options if o != sb.value]
            if others:
                sb.set_value(others[0])
                return f"selectbox {sb.label!r}"
        for sl in root.slider:
            v = sl.value
            if isinstance(v, (tuple, list)) and len(v) == 2 and v[0] != v[1]:
                lo, hi = v
                if isinstance(lo, (int, float)) and not isinstance(lo, bool):
                    step = (hi - lo) / 4
                    new_lo = type(lo)(lo + step) if isinstance(lo, int) else lo + step
                    sl.set_range(new_lo, hi)
                elif isinstance(lo, dt.date):
                    sl.set_range(lo + (hi - lo) / 4, hi)
                else:
                    continue
                return f"slider {sl.label!r}"
        for rd in root.radio:
            others = [o for o in rd.options if o != rd.value]
            if others:
                rd.set_value(others[0])
                return f"radio {rd.label!r}"
        for cb in root.checkbox:
            cb.set_value(not cb.value)
            return f"checkbox {cb.label!r}"
    return None


def _exception_text(e) -> str:
    return str(getattr(e, "message", None) or getattr(e, "value", e))[:500]


def _child_dashboard(app: Path, data: Path) -> dict:
    os.environ["SEIZURES_CSV"] = str(data)
    sys.argv = [str(app), "--data", str(data)]
    sys.path.insert(0, str(app.parent))
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(app), default_timeout=600)
    t0 = time.perf_counter()
    at.run()
    first = time.perf_counter() - t0
    result = {"first_s": first, "exceptions": [_exception_text(e) for e in at.exception]}
    points_first = [count_points(f) for f in _figures(at)]
    changed = _change_a_filter(at)
    result["changed"] = changed
    if changed:
        reruns = []
        for i in range(RERUNS):
            if i:
                _change_a_filter(at)  # a different value each time
            t1 = time.perf_counter()
            at.run()
            reruns.append(time.perf_counter() - t1)
            result["exceptions"] += [_exception_text(e) for e in at.exception]
        result["reruns_s"] = reruns
        result["rerun_s"] = sorted(reruns)[len(reruns) // 2]  # the median: one rerun is a noisy measure
    points_rerun = [count_points(f) for f in _figures(at)]
    result["figures_first"] = points_first
    result["figures_rerun"] = points_rerun
    titles = []
    for f in _figures(at):
        title = (f.get("layout", {}) or {}).get("title", "")
        titles.append(title.get("text", "") if isinstance(title, dict) else str(title))
    result["titles"] = titles
    return result


# --------------------------------------------------------------------------- reporting


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _fmt_bytes(n: float) -> str:
    return f"{n / GB:.2f} GB" if n >= 0.1 * GB else f"{n / 1e6:.0f} MB"


def evaluate(runs: dict[int, dict]) -> list[tuple[str, bool]]:
    """Targets from the measurements {rows: {"polars": s, "pandas": s, "build": s, "rss": bytes}}."""
    sizes = sorted(runs)
    big = runs[sizes[-1]]
    checks = [
        (f"build <= {MAX_BUILD_OVER_FLOOR:g}x the Polars floor at {sizes[-1]:,} rows "
         f"({big['build'] / big['polars']:.2f}x)", big["build"] <= MAX_BUILD_OVER_FLOOR * big["polars"]),
        (f"peak RSS of the build <= {_fmt_bytes(MAX_PEAK_RSS)} at {sizes[-1]:,} rows ({_fmt_bytes(big['rss'])})",
         big["rss"] <= MAX_PEAK_RSS),
    ]
    if len(sizes) > 1:
        small = runs[sizes[0]]
        growth = big["build"] / small["build"]
        factor = sizes[-1] / sizes[0]
        checks.append((f"{factor:g}x the rows costs <= {MAX_TIME_GROWTH_FOR_10X * factor / 10:g}x the time ({growth:.2f}x)",
                       growth <= MAX_TIME_GROWTH_FOR_10X * factor / 10))
    return checks


def bench_build(rows: int, seed: int, keep: Path | None) -> int:
    sizes = sorted({max(1, rows // 10), rows})
    tmp = Path(tempfile.mkdtemp(prefix="etl-bench-"))
    runs: dict[int, dict] = {}
    failed = False
    try:
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; temporary folder {tmp}", flush=True)
        for n in sizes:
            raw = tmp / f"raw-{n}"
            t0 = time.perf_counter()
            synth(n, raw, seed)
            input_bytes = sum(p.stat().st_size for p in raw.glob("*.csv"))
            print(f"\n{n:,} rows: synthetic input {input_bytes / 1e6:.0f} MB (made in {time.perf_counter() - t0:.1f} s)", flush=True)
            floors = {}
            for engine in ("polars", "pandas"):
                floor = run_child(["floor", engine, str(raw), str(tmp / f"floor-{engine}-{n}.csv")])
                if "error" in floor.result:
                    print(f"  {engine} floor failed: {floor.result['error']}\n{floor.result.get('stderr', '')}")
                    return 1
                f = floors[engine] = floor.result
                print(f"  {engine + ' floor':13s} {f['seconds']:7.2f} s  (CPU {f['cpu_s']:.2f} s; read {f['read_s']:.2f} s, "
                      f"write {f['write_s']:.2f} s; {f['rows']:,} x {f['columns']} -> {f['bytes'] / 1e6:.0f} MB; "
                      f"peak RSS {_fmt_bytes(floor.max_rss)})", flush=True)
                (tmp / f"floor-{engine}-{n}.csv").unlink(missing_ok=True)
            out = tmp / f"out-{n}"
            build = run_child(["build", str(raw), str(out)])
            b = build.result
            if "error" in b:
                print(f"  build FAILED: {b['error']}")
                for line in b.get("problems", []):
                    print(f"    {line}")
                if b.get("stderr"):
                    print(b["stderr"])
                return 1
            print(f"  {'build':13s} {b['seconds']:7.2f} s  (CPU {b['cpu_s']:.2f} s; read+normalise+validate {b['build_s']:.2f} s, "
                  f"write {b['write_s']:.2f} s; {b['written']:,} x {b['columns']} -> {b['bytes'] / 1e6:.0f} MB; "
                  f"peak RSS {_fmt_bytes(build.max_rss)}; process {build.wall_s:.2f} s incl. start-up)", flush=True)
            p, d = floors["polars"], floors["pandas"]
            print(f"  ratio         {b['seconds'] / p['seconds']:7.2f} x the Polars floor, {b['seconds'] / d['seconds']:.2f} x the "
                  f"pandas floor;  {n / b['seconds']:,.0f} rows/s", flush=True)
            if b["rejected"] or b["warnings"]:
                failed = True
                print(f"  rejected rows: {b['rejected']:,}, warnings: {b['warnings']:,} (synthetic rows should all be valid)")
                for line in b["problems"]:
                    print(f"    {line}")
            runs[n] = {"polars": p["seconds"], "pandas": d["seconds"], "build": b["seconds"], "rss": build.max_rss}
            if keep is None:
                shutil.rmtree(raw, ignore_errors=True)
                shutil.rmtree(out, ignore_errors=True)
        print()
        for text, ok in evaluate(runs):
            print(f"{verdict(ok)}  {text}")
            failed |= not ok
    finally:
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            for p in tmp.iterdir():
                shutil.move(str(p), keep / p.name)
            print(f"kept the files in {keep}")
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


def bench_dashboard(rows: int, seed: int, app: Path, data: Path | None = None, keep: Path | None = None) -> int:
    app = app.resolve()  # AppTest resolves relative paths against the calling file, not the cwd
    data = data.resolve() if data is not None else None
    if not app.exists():
        print(f"dashboard.py not found ({app}): nothing to measure yet", file=sys.stderr)
        print(f"dashboard.py not found ({app})")
        return 1
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
    tmp = keep.resolve() if keep is not None else Path(tempfile.mkdtemp(prefix="etl-bench-dash-"))
    try:
        if data is None:
            raw, out = tmp / "raw", tmp / "out"
            synth(rows, raw, seed)
            build = run_child(["build", str(raw), str(out)])
            if "error" in build.result:
                print(f"build failed: {build.result['error']}")
                return 1
            data = out / "seizures.csv"
            rows = build.result["written"]
            shutil.rmtree(raw, ignore_errors=True)
        else:
            import csv

            with open(data, newline="", encoding="utf-8") as fh:
                rows = sum(1 for _ in csv.reader(fh)) - 1
        print(f"cleaned data: {data} ({rows:,} rows, {data.stat().st_size / 1e6:.0f} MB)", flush=True)
        env = dict(os.environ, SEIZURES_CSV=str(data))
        dash = run_child(["dashboard", str(app), str(data)], cwd=app.parent, env=env)
        d = dash.result
        if "first_s" not in d:
            print(f"dashboard run failed: {d.get('error')}\n{d.get('stderr', '')}")
            return 1
        failed = False
        for e in d.get("exceptions", []):
            print(f"  exception in the app: {e}")
            failed = True
        print(f"first run     {d['first_s']:.2f} s (AppTest, {rows:,} rows; process peak RSS {_fmt_bytes(dash.max_rss)})")
        checks = [(f"first load <= {MAX_FIRST_LOAD_S:g} s ({d['first_s']:.2f} s)", d["first_s"] <= MAX_FIRST_LOAD_S)]
        if d.get("changed"):
            print(f"rerun         {d['rerun_s']:.3f} s median of {len(d['reruns_s'])} reruns after changing {d['changed']} "
                  f"({', '.join(f'{x:.3f}' for x in d['reruns_s'])} s)")
            checks.append((f"rerun after a filter change <= {MAX_RERUN_S:g} s ({d['rerun_s']:.3f} s)", d["rerun_s"] <= MAX_RERUN_S))
        else:
            print("rerun         no filter widget found to change")
            checks.append(("rerun after a filter change: no filter widget found", False))
        figs = d["figures_first"] + d["figures_rerun"]
        for label, counts in (("first run", d["figures_first"]), ("rerun", d["figures_rerun"])):
            print(f"plotly figures ({label}): {len(counts)}; points per figure: {counts}")
        if d.get("titles"):
            print(f"figure titles: {d['titles']}")
        most = max(figs, default=0)
        checks.append((f"no figure sends more than {MAX_POINTS_PER_FIGURE:,} points (max {most:,} in {len(figs)} figure renders)",
                       most <= MAX_POINTS_PER_FIGURE))
        print()
        for text, ok in checks:
            print(f"{verdict(ok)}  {text}")
            failed |= not ok
        return 1 if failed else 0
    finally:
        if keep is None:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept the cleaned data in {tmp} (reuse it with --data {tmp / 'out' / 'seizures.csv'})")


# --------------------------------------------------------------------------- command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, default=1_000_000, metavar="N",
                        help="rows of the large run (default 1,000,000; N/10 is run too)")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the synthetic input (default 0)")
    parser.add_argument("--dashboard", action="store_true",
                        help="time dashboard.py (first run, rerun after a filter change, points per figure) instead")
    parser.add_argument("--app", type=Path, default=REPO / "dashboard.py", metavar="PATH",
                        help="the Streamlit app for --dashboard (default: dashboard.py)")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep the synthetic inputs and outputs in DIR")
    parser.add_argument("--data", type=Path, metavar="CSV",
                        help="with --dashboard: an existing cleaned seizures.csv to use instead of synth + build")


def run(args) -> int:
    if args.rows < 10:
        print("error: --rows must be at least 10", file=sys.stderr)
        return 2
    if args.dashboard:
        return bench_dashboard(args.rows, args.seed, args.app, args.data, args.keep)
    return bench_build(args.rows, args.seed, args.keep)


def _child_main(argv: list[str]) -> int:
    what, *rest = argv
    if what == "floor":
        result = _child_floor(rest[0], Path(rest[1]), Path(rest[2]))
    elif what == "build":
        result = _child_build(Path(rest[0]), Path(rest[1]))
    elif what == "dashboard":
        result = _child_dashboard(Path(rest[0]), Path(rest[1]))
    else:
        raise SystemExit(f"unknown child {what!r}")
    print(json.dumps(result), flush=True)
    return 0 if "error" not in result else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench", description=DESCRIPTION)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        sys.exit(_child_main(sys.argv[2:]))
    sys.exit(main())
