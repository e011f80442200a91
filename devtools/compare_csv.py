"""`python -m devtools.compare_csv OLD NEW`: are two builds of seizures.csv the same table, value for value?

For re-baselining the committed CSV when only the spelling of numbers changes
(for example `1e-05` against `0.00001`): both files are read as text with
Python's csv module, the headers and row counts must match, and every cell must
be equal as text, or, where both cells read as numbers, equal as numbers
(exactly, after parsing). Prints one line per differing cell (the first 50) and
a summary; exit code 0 when every value is equal, 1 otherwise.
"""
from __future__ import annotations

import argparse
import csv
import math
import sys
from pathlib import Path


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def compare(old: Path, new: Path, limit: int = 50) -> tuple[list[str], dict[str, int]]:
    """The differing cells (as messages) and counts of cells equal as text and equal only as numbers."""
    with open(old, newline="", encoding="utf-8") as a, open(new, newline="", encoding="utf-8") as b:
        old_rows, new_rows = list(csv.reader(a)), list(csv.reader(b))
    if not old_rows or not new_rows:
        return ["one of the files is empty"], {}
    header = old_rows[0]
    if new_rows[0] != header:
        return [f"headers differ: {header} against {new_rows[0]}"], {}
    if len(old_rows) != len(new_rows):
        return [f"{len(old_rows) - 1} rows against {len(new_rows) - 1} rows"], {}
    differences: list[str] = []
    counts = {"cells": 0, "same_text": 0, "same_number": 0, "different": 0}
    for line, (x, y) in enumerate(zip(old_rows[1:], new_rows[1:]), start=2):
        for column, p, q in zip(header, x, y):
            counts["cells"] += 1
            if p == q:
                counts["same_text"] += 1
                continue
            a_num, b_num = _number(p), _number(q)
            if a_num is not None and b_num is not None and a_num == b_num:
                counts["same_number"] += 1
                continue
            counts["different"] += 1
            if len(differences) < limit:
                differences.append(f"line {line}, {column}: {p!r} against {q!r}")
    return differences, counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.compare_csv", description=__doc__.split("\n\n")[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    args = parser.parse_args(argv)
    differences, counts = compare(args.old, args.new)
    for line in differences:
        print(line)
    if counts:
        print(f"{counts['cells']:,} cells: {counts['same_text']:,} identical, {counts['same_number']:,} equal as numbers "
              f"but spelled differently, {counts['different']:,} different")
    equal = not differences
    print("EQUAL: every value is the same" if equal else "DIFFERENT")
    return 0 if equal else 1


if __name__ == "__main__":
    sys.exit(main())
