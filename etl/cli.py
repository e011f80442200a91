"""Command line: a thin layer that parses arguments and calls the library.

Exit codes: 0 success, 1 a data problem (or `check` found a difference),
2 bad command-line usage.
"""
from __future__ import annotations

import argparse
import filecmp
import itertools
import importlib
import sys
from pathlib import Path

from etl.build import DATAPACKAGE_NAME, OUTPUT_NAME, build_files
from etl.errors import EtlError, InputProblems
from etl.progress import run, stage


def _paths(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--raw", type=Path, default=Path("data/raw"), metavar="DIR",
                        help="folder with reports.csv and sources.csv (default: data/raw)")
    parser.add_argument("--reference", type=Path, default=Path("data/reference"), metavar="DIR",
                        help="folder with the reference tables (default: data/reference)")
    parser.add_argument("--out", type=Path, default=Path("data"), metavar="DIR",
                        help=f"folder for {OUTPUT_NAME} and {DATAPACKAGE_NAME} (default: data)")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m etl",
        description="Build and check the dataset of reported drug seizures and prices linked to North Korea.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("build", help="normalise the raw reports into seizures.csv and datapackage.json",
                       description="Read the raw reports and reference tables, check every row, and write "
                                   f"{OUTPUT_NAME} and {DATAPACKAGE_NAME}. Every problem is listed as "
                                   "FILE:LINE: COLUMN: message; nothing is written unless the build succeeds.")
    _paths(p)
    p.add_argument("--keep-going", action="store_true",
                   help="write the valid rows and put rows with errors in a rejects file instead of failing")
    p.add_argument("--rejects", type=Path, metavar="PATH",
                   help="where --keep-going writes rejected rows (default: OUT/seizures.rejects.csv)")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("check", help="exit 0 only if the outputs are byte-identical to a fresh build",
                       description=f"Rebuild into temporary files and compare with {OUTPUT_NAME} and {DATAPACKAGE_NAME} on disk. "
                                   "Exit 1 and say what differs when they are stale.")
    _paths(p)
    p.set_defaults(func=cmd_check)

    # Commands that live in modules of their own: each module has HELP,
    # DESCRIPTION, add_arguments(parser) and run(args) -> exit code.
    for name, module_name in PLUGINS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name != module_name:
                raise
            continue
        p = sub.add_parser(name, help=module.HELP, description=module.DESCRIPTION)
        module.add_arguments(p)
        p.set_defaults(func=module.run)
    return parser


PLUGINS = {"extract": "etl.extract", "synth": "etl.synth", "bench": "etl.bench"}


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        return args.func(args)
    except InputProblems as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        errors = sum(p.severity == "error" for p in err.problems)
        print(f"{errors} error(s); nothing was written.", file=sys.stderr)
        return 1
    except EtlError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"error: cannot write the outputs ({err}); the previous files are unchanged", file=sys.stderr)
        return 1


def cmd_build(args) -> int:
    with run("build"):  # progress on stderr for long runs in a terminal; silent otherwise
        result = build_files(args.raw, args.reference, args.out, keep_going=args.keep_going, rejects=args.rejects)
        try:
            with stage("moving the outputs into place"):
                result.commit()
        finally:
            result.discard()
    for problem in result.errors + result.warnings:
        print(problem, file=sys.stderr)
    print(f"wrote {args.out / OUTPUT_NAME} ({result.written_rows} rows) and {args.out / DATAPACKAGE_NAME}")
    if args.keep_going:
        print(f"wrote {result.rejects_path} ({result.rejected_rows} rejected rows)")
        balanced = result.input_rows == result.written_rows + result.rejected_rows
        print(f"input rows {result.input_rows} = written {result.written_rows} + rejected {result.rejected_rows}"
              + ("" if balanced else "  MISMATCH"))
        if not balanced:
            return 1
    return 0


def cmd_check(args) -> int:
    result = build_files(args.raw, args.reference, args.out)
    stale = []
    try:
        for path, fresh in result.staged.items():
            if not path.exists():
                stale.append(f"{path}: missing (run `python -m etl build`)")
            elif not filecmp.cmp(path, fresh, shallow=False):
                stale.append(f"{path}: differs from a fresh build ({_first_difference(path, fresh)})")
    finally:
        result.discard()
    if stale:
        for line in stale:
            print(line, file=sys.stderr)
        print("outputs are stale: run `make data` (python -m etl build) and commit the result", file=sys.stderr)
        return 1
    print(f"{args.out / OUTPUT_NAME} and {args.out / DATAPACKAGE_NAME} are up to date ({result.written_rows} rows)")
    return 0


def _first_difference(actual: Path, expected: Path) -> str:
    """The first line where the file on disk and the fresh build differ (both read line by line)."""
    with open(actual, encoding="utf-8", errors="replace", newline="") as a, \
            open(expected, encoding="utf-8", errors="replace", newline="") as e:
        for i, (x, y) in enumerate(itertools.zip_longest(a, e), start=1):
            if x != y:
                if x is None or y is None:
                    longer, shorter = ("on disk", "fresh build") if y is None else ("fresh build", "on disk")
                    return f"{shorter} ends after line {i - 1}; {longer} goes on with {(x or y).rstrip(chr(10))[:120]!r}"
                return f"first difference on line {i}: on disk {x.rstrip(chr(10))[:120]!r}, fresh build {y.rstrip(chr(10))[:120]!r}"
    return "same lines, different bytes"
