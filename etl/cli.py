"""Command line: a thin layer that parses arguments and calls the library.

Exit codes: 0 success, 1 a data problem (or `check` found a difference),
2 bad command-line usage.
"""
from __future__ import annotations

import argparse
import io
import itertools
import signal
import sys
import threading
from pathlib import Path

from etl.build import DATAPACKAGE_NAME, OUTPUT_NAME, OUTPUT_NAMES, PARQUET_NAME, build, run, write
from etl.errors import EtlError, InputProblems


def _paths(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--raw", type=Path, default=Path("data/raw"), metavar="DIR",
                        help="folder with reports.csv and sources.csv (default: data/raw)")
    parser.add_argument("--reference", type=Path, default=Path("data/reference"), metavar="DIR",
                        help="folder with the reference tables (default: data/reference)")
    parser.add_argument("--out", type=Path, default=Path("data"), metavar="DIR",
                        help=f"folder for {OUTPUT_NAME}, {PARQUET_NAME} and {DATAPACKAGE_NAME} (default: data)")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m etl",
        description="Build and check the dataset of reported drug seizures and prices linked to North Korea.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("build", help=f"normalise the raw reports into {OUTPUT_NAME}, {PARQUET_NAME} and {DATAPACKAGE_NAME}",
                       description="Read the raw reports and reference tables, check every row, and write "
                                   f"{OUTPUT_NAME}, {PARQUET_NAME} and {DATAPACKAGE_NAME}, all three or none. Every "
                                   "problem is listed as FILE:LINE: COLUMN: message; nothing is written unless the build succeeds.")
    _paths(p)
    p.add_argument("--keep-going", action="store_true",
                   help="write the valid rows and put rows with errors in a rejects file instead of failing")
    p.add_argument("--rejects", type=Path, metavar="PATH",
                   help="where --keep-going writes rejected rows (default: OUT/seizures.rejects.csv)")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("check", help="exit 0 only if the outputs are byte-identical to a fresh build",
                       description=f"Rebuild in memory and compare with {OUTPUT_NAME}, {PARQUET_NAME} and {DATAPACKAGE_NAME} "
                                   "on disk (writes nothing). Exit 1 and say what differs when they are stale.")
    _paths(p)
    p.set_defaults(func=cmd_check)

    return parser


class Interrupted(BaseException):
    """SIGTERM, raised like Ctrl-C's KeyboardInterrupt so the outputs are left as they were."""


def _on_sigterm(signum, frame):
    raise Interrupted()


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            # installed again so that Ctrl-C also interrupts a blocking system call (opening a pipe, a slow disk)
            signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return args.func(args)
    except InputProblems as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        errors = sum(p.severity == "error" for p in err.problems)
        print(f"{errors} error(s); nothing was written.", file=sys.stderr)
        return 1
    except UsageError as err:
        print(f"python -m etl {args.command}: error: {err}", file=sys.stderr)
        return 2
    except EtlError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"error: cannot write the outputs ({err}); the previous files are unchanged", file=sys.stderr)
        return 1
    except KeyboardInterrupt as err:
        if str(err) == "SIGTERM":  # etl.commit raises it for SIGTERM while the outputs are staged
            print("terminated (SIGTERM); nothing was written, the previous files are unchanged", file=sys.stderr)
            return 143
        print("interrupted (Ctrl-C); nothing was written, the previous files are unchanged", file=sys.stderr)
        return 130
    except Interrupted:
        print("terminated (SIGTERM); nothing was written, the previous files are unchanged", file=sys.stderr)
        return 143
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


class UsageError(EtlError):
    """A command-line value the build refuses (exit code 2)."""


def _check_rejects_path(args) -> None:
    """--rejects may not name an input file or an output of the build."""
    if args.rejects is None:
        return
    target = args.rejects.resolve()
    inputs = [p.resolve() for folder in (args.raw, args.reference) if folder.is_dir() for p in folder.iterdir()]
    if target in inputs or target.parent in (args.raw.resolve(), args.reference.resolve()):
        raise UsageError(f"--rejects {args.rejects} is in an input folder ({args.raw} or {args.reference}); choose another path")
    if target in [(args.out / name).resolve() for name in OUTPUT_NAMES]:
        raise UsageError(f"--rejects {args.rejects} would overwrite an output of the build; choose another path")


def cmd_build(args) -> int:
    _check_rejects_path(args)
    result = run(args.raw, args.reference, args.out, keep_going=args.keep_going, rejects=args.rejects)
    write(result)
    for problem in result.errors + result.warnings:
        print(problem, file=sys.stderr)
    print(f"wrote {args.out / OUTPUT_NAME} ({result.written_rows} rows), {args.out / PARQUET_NAME} and {args.out / DATAPACKAGE_NAME}")
    if args.keep_going:
        print(f"wrote {result.rejects_path} ({result.rejected_rows} rejected rows)")
        balanced = result.input_rows == result.written_rows + result.rejected_rows
        print(f"input rows {result.input_rows} = written {result.written_rows} + rejected {result.rejected_rows}"
              + ("" if balanced else "  MISMATCH"))
        if not balanced:
            return 1
    return 0


def cmd_check(args) -> int:
    """Rebuild in memory and compare with the files on disk; writes nothing, creates nothing."""
    result = build(args.raw, args.reference, args.out)
    stale = []
    for name in OUTPUT_NAMES:
        path = args.out / name
        fresh = result.files[path]
        if not path.exists():
            stale.append(f"{path}: missing (run `python -m etl build`)")
            continue
        on_disk = path.read_bytes()
        if on_disk == fresh:
            continue
        if name == PARQUET_NAME:
            stale.append(f"{path}: differs from a fresh build (the Parquet file is not the one this build writes)")
        else:
            stale.append(f"{path}: differs from a fresh build ({_first_difference(on_disk, fresh)})")
    if stale:
        for line in stale:
            print(line, file=sys.stderr)
        print("outputs are stale: run `make data` (python -m etl build) and commit the result", file=sys.stderr)
        return 1
    print(f"{args.out / OUTPUT_NAME}, {args.out / PARQUET_NAME} and {args.out / DATAPACKAGE_NAME} are up to date "
          f"({result.written_rows} rows)")
    return 0


def _first_difference(actual: bytes, expected: bytes) -> str:
    """The first line where the file on disk and the fresh build differ."""
    a = io.StringIO(actual.decode("utf-8", errors="replace"), newline="")
    e = io.StringIO(expected.decode("utf-8", errors="replace"), newline="")
    for i, (x, y) in enumerate(itertools.zip_longest(a, e), start=1):
        if x != y:
            if x is None or y is None:
                longer, shorter = ("on disk", "fresh build") if y is None else ("fresh build", "on disk")
                return f"{shorter} ends after line {i - 1}; {longer} goes on with {(x or y).rstrip(chr(10))[:120]!r}"
            return f"first difference on line {i}: on disk {x.rstrip(chr(10))[:120]!r}, fresh build {y.rstrip(chr(10))[:120]!r}"
    return "same lines, different bytes"
