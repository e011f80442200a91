"""Command line of the article drafter: `python -m draft ARTICLE.txt`, `python -m draft --evaluate`."""
from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

from draft.evaluate import evaluate, evaluate_texts, format_report
from draft.extract import extract, guess_published
from etl.csvio import csv_bytes
from etl.reference import load_reference

EVAL_TEXTS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "eval"

HELP = "draft reports.csv rows from the text of a news article, for a curator to confirm"
DESCRIPTION = (
    "Read an article (a file, or standard input) and print draft rows in the reports.csv columns, plus "
    "import (yes/no), char_start, char_end, sentence and confidence, as CSV on standard output. Quantities "
    "and values are written so that the ETL parser reads them; every guess is said in notes. Nothing in "
    "data/ is changed. With --evaluate, run on the seed documents and print recall and precision against "
    "data/raw/reports.csv."
)


# ---------------------------------------------------------------------------
def add_arguments(parser) -> None:
    parser.add_argument("article", nargs="?", type=Path, help="text file of the article (default: standard input)")
    parser.add_argument("--published", metavar="YYYY-MM-DD", help="publication date, to resolve 'last year', 'last Wednesday'")
    parser.add_argument("--outlet-country", metavar="CC", help="ISO country of the outlet (a bare $ in an AU paper is AUD)")
    parser.add_argument("--source-id", default="", metavar="ID", help="source_id to put in every row")
    parser.add_argument("--posts", action="store_true",
                        help="the text is a blog archive page: split it on the post date lines and date each post")
    parser.add_argument("--reference", type=Path, default=Path("data/reference"), metavar="DIR",
                        help="folder with the reference tables (default: data/reference)")
    parser.add_argument("--evaluate", action="store_true",
                        help="run on the seed documents and print recall and precision against data/raw/reports.csv")
    parser.add_argument("--seeds", type=Path, default=Path("../shared/seeds"), metavar="DIR",
                        help="seed documents for --evaluate (default: ../shared/seeds)")
    parser.add_argument("--texts", type=Path, default=EVAL_TEXTS, metavar="DIR",
                        help="our own evaluation texts with their expected figures (default: tests/fixtures/eval)")
    parser.add_argument("--raw", type=Path, default=Path("data/raw"), metavar="DIR",
                        help="curated reports.csv and sources.csv for --evaluate (default: data/raw)")


def run(args) -> int:
    if args.evaluate:
        results = evaluate(args.seeds, args.raw, args.reference) if args.seeds.is_dir() else []
        if results:
            print(format_report(results, f"seed documents ({args.seeds})"))
        else:
            print(f"note: no seed documents (000_*.txt ... 004_*.txt) in {args.seeds}; scoring the evaluation texts only",
                  file=sys.stderr)
        own = evaluate_texts(args.texts, args.reference)
        print()
        print(format_report(own, f"evaluation texts ({args.texts}), by language"))
        return 0
    try:
        published = dt.date.fromisoformat(args.published) if args.published else None
    except ValueError:
        print(f"error: --published {args.published!r} is not a date (use YYYY-MM-DD)", file=sys.stderr)
        return 2
    if args.outlet_country and not re.fullmatch(r"[A-Za-z]{2}", args.outlet_country):
        print(f"error: --outlet-country {args.outlet_country!r} is not a two-letter country code", file=sys.stderr)
        return 2
    try:
        text = args.article.read_text(encoding="utf-8") if args.article else sys.stdin.read()
    except FileNotFoundError:
        print(f"error: {args.article}: file not found", file=sys.stderr)
        return 2
    except UnicodeDecodeError as err:
        print(f"error: {args.article}: not UTF-8 text (byte {err.start}); save the article as UTF-8", file=sys.stderr)
        return 1
    if published is None and not args.posts:
        published, line = guess_published(text)
        if published:
            print(f"note: publication date {published.isoformat()} taken from the line {line!r}; "
                  "pass --published to override", file=sys.stderr)
        else:
            print("note: no publication date given: relative dates ('last year') are left empty", file=sys.stderr)
    ref = load_reference(args.reference)
    frame = extract(text, ref, published=published, outlet_country=args.outlet_country, source_id=args.source_id,
                    posts=args.posts)
    sys.stdout.write(csv_bytes(frame).decode("utf-8"))  # formula-safe, like every CSV the product writes
    importable = int((frame["import"] == "yes").sum())
    print(f"{len(frame)} figure(s) found, {importable} to import after review; nothing in data/ was changed",
          file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m draft", description=DESCRIPTION)
    add_arguments(parser)
    return run(parser.parse_args(argv))
