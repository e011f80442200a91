"""Time the parsers that read user text on adversarial input of growing length (issue 15, item 1).

    python -m devtools.time_parsers [--quick]

Prints one table per parser: the input length, the seconds taken and the seconds per 1,000
characters. Linear time shows as time per character that does not grow; the old grammar grew about n^5 on the first
amount input and the old drafter quadratically on "5 kg " repeated. This is a measurement, not a test.
"""
from __future__ import annotations

import argparse
import time
import timeit
from pathlib import Path

import pandas as pd

from etl.amounts import MAX_CHARS, parse_amounts

ROOT = Path(__file__).resolve().parent.parent

AMOUNT_INPUTS = {
    "5, blanks, x\\ny": lambda n: "5" + " " * (n - 4) + "x\ny",
    "5 a a a ... x": lambda n: ("5 " + "a " * n)[: n - 1] + "x",
    "1만만만...": lambda n: "1" + "만" * (n - 1),
    "5 kg 가량 가량 ...": lambda n: ("5 kg" + " 가량" * n)[:n],
    "about $5 per per ...": lambda n: ("about $5" + " per" * n)[:n],
    "2억 7천 7천 ...": lambda n: ("2억" + " 7천" * n)[:n],
}
ARTICLE_INPUTS = {
    "'5 kg ' repeated": lambda n: ("5 kg " * (n // 5 + 1))[:n],
    "'5 kg. ' sentences": lambda n: ("Police seized 5 kg. " * (n // 20 + 1))[:n],
    "rates 'US$1=W1,117 '": lambda n: ("US$1=W1,117 " * (n // 12 + 1))[:n],
    "'Mr. ' abbreviations": lambda n: ("Mr. " * (n // 4 + 1))[:n],
    "Korean '70㎏ 가량 필로폰 압수. '": lambda n: ("지난달 17일 70㎏ 가량 필로폰을 압수했다. " * (n // 25 + 1))[:n],
    "digits and blanks": lambda n: ("5 " * (n // 2 + 1))[:n],
    "'1,' repeated (one long number)": lambda n: ("1," * (n // 2 + 1))[:n],
    "'US$1=' repeated": lambda n: ("US$1=" * (n // 5 + 1))[:n],
    "'5 (' brackets": lambda n: ("5 (" * (n // 3 + 1))[:n],
}


def _time(fn, *args) -> float:
    t = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t


# The grammar before it was made possessive (issue 15): kept here only to show what it cost.
OLD_PATTERN = (
    r"(?i)^\s*(?:(?P<qual>about|some)\s+)?(?P<cur1>\$)?\s*(?P<n1>[0-9]+(?:\.[0-9]+)?)\s*(?:(?P<s1>million)\b)?\s*"
    r"(?:(?P<sep>-|to)\s*(?P<cur2>\$)?\s*(?P<n2>[0-9]+(?:\.[0-9]+)?)\s*(?:(?P<s2>million)\b)?)?"
    r"\s*(?P<unit>.*?)\s*(?:(?:\b(?:per|a|an)\s+|/\s*)(?P<per>[^\s0-9].*?))?\s*$"
)


def amount_table(lengths) -> list[str]:
    import re

    from etl.amounts import DEFAULT_GRAMMAR

    regex = re.compile(DEFAULT_GRAMMAR.pattern)
    lines = [f"parse_amounts: the grammar's regex on one text (limit {MAX_CHARS} characters; longer texts are refused unread)",
             f"{'input':<24}" + "".join(f"{n:>10}" for n in lengths) + "   (microseconds per text)"]
    parse_amounts(pd.Series(["5 kg"]))  # compile once
    for name, make in AMOUNT_INPUTS.items():
        cells = []
        for n in lengths:
            text = make(n)
            best = min(timeit.repeat(lambda text=text: regex.match(text), number=50, repeat=7)) / 50  # least noisy
            cells.append(f"{best * 1e6:>10.1f}")
        lines.append(f"{name:<24}" + "".join(cells))
    old = re.compile(OLD_PATTERN)
    first = next(iter(AMOUNT_INPUTS.values()))
    cells = []
    for n in lengths:
        if n > 50:
            cells.append(f"{'(hours)':>10}")
            continue
        secs = _time(old.match, first(n))
        cells.append(f"{secs * 1e6:>10.0f}")
    lines.append(f"{'old grammar, 1st input':<24}" + "".join(cells))
    whole = []
    for n in lengths:
        texts = pd.Series([AMOUNT_INPUTS["5 a a a ... x"](n)[:-1] + chr(0x41 + i % 26) + str(i) for i in range(1000)]).str.slice(0, n)
        whole.append(f"{_time(parse_amounts, texts) / 1000 * 1e6:>10.1f}")
    lines.append(f"{'parse_amounts, 1,000':<24}" + "".join(whole) + "   (whole call incl. pandas, per text)")
    import polars as pl

    from etl.amount_table import amount_columns

    for name, make in AMOUNT_INPUTS.items():  # the build's column reader (Polars' regex engine, linear by construction)
        cells = []
        for n in lengths:
            texts = pl.Series([make(n)[: n - 3] + str(i % 1000).zfill(3) for i in range(10_000)])
            cells.append(f"{_time(amount_columns, texts) / 10_000 * 1e6:>10.1f}")
        lines.append(f"{'columns: ' + name:<24}" + "".join(cells))
    lines.append(f"{'':<24}   (etl.amount_table.amount_columns on 10,000 such texts, microseconds per text)")
    return lines


def article_table(lengths) -> list[str]:
    from draft.extract import extract
    from etl.reference import load_reference

    ref = load_reference(ROOT / "data" / "reference")
    extract("Police seized 5 kg of meth.", ref)  # build the lexicon once
    lines = ["draft.extract.extract, one article (the page's limit is 200,000 characters)",
             f"{'input':<34}" + "".join(f"{n:>10}" for n in lengths) + "   (seconds; then per 1,000 characters)"]
    for name, make in ARTICLE_INPUTS.items():
        secs = [_time(extract, make(n), ref) for n in lengths]
        lines.append(f"{name:<34}" + "".join(f"{s:>10.2f}" for s in secs))
        lines.append(f"{'':<34}" + "".join(f"{s / n * 1000:>10.4f}" for s, n in zip(secs, lengths)))
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller articles (up to 50,000 characters)")
    args = parser.parse_args(argv)
    print("\n".join(amount_table([25, 50, 100, 200, 300])))
    print()
    lengths = [12_500, 25_000, 50_000] if args.quick else [25_000, 50_000, 100_000, 200_000]
    print("\n".join(article_table(lengths)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
