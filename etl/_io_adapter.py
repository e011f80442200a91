"""TEMPORARY stand-in for the `io` branch's etl.csvio / etl.commit API, until that branch is merged.

Delete this module once `git merge io` brings `etl.csvio.CsvTable`, `read_csv`,
`csv_bytes`, `write_csv` and `etl.commit.staged_outputs`.
"""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pandas as pd
import polars as pl

from etl import csvio as _old
from etl.errors import Problem

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class CsvTable:
    path: Path
    display: str
    sha256: str
    header: list[str]
    original: pl.DataFrame
    frame: pl.DataFrame
    lines: pl.Series


def read_csv(path: Path, display: str, expected, optional=()) -> tuple[CsvTable | None, list[Problem]]:
    table, problems = _old.read_csv(path, display, list(expected), tuple(optional))
    if table is None:
        return None, problems
    original = pl.DataFrame({c: pl.Series(c, table.original[c].tolist(), dtype=pl.String) for c in table.original.columns})
    original = original.with_columns(pl.all().fill_null(""))
    frame = original.with_columns(pl.all().str.strip_chars())
    table.line_of(0)
    lines = pl.Series("line", table.line_of._lines, dtype=pl.UInt32)
    return CsvTable(path, display, table.sha256, list(original.columns), original, frame, lines), []


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    starts = "^[" + "".join("\\" + p if p in "-+" else p for p in FORMULA_PREFIXES) + "]"
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(starts)).then("'" + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c, t in frame.schema.items() if t == pl.String
    )


def csv_bytes(frame) -> bytes:
    if isinstance(frame, pd.DataFrame):
        return _old.csv_bytes(frame)
    return neutralise_formulas(frame).write_csv(quote_style="necessary", line_terminator="\n").encode("utf-8")


def write_csv(frame: pl.DataFrame, path: Path) -> None:
    neutralise_formulas(frame).write_csv(path, quote_style="necessary", line_terminator="\n")


@contextmanager
def staged_outputs(out: Path, names: list[str]) -> Iterator[dict[str, Path]]:
    out.mkdir(parents=True, exist_ok=True)
    temps = {}
    try:
        for name in names:
            fd, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=out)
            os.close(fd)
            temps[name] = Path(temp)
        yield dict(temps)
        for name, temp in temps.items():
            os.replace(temp, out / name)
    finally:
        for temp in temps.values():
            if temp.exists():
                temp.unlink()
